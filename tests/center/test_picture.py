"""The picture at any time, replayed from the record alone: what each caller could see at an
instant — declarations in force, operations and their states, open messages, the phase —
settled by the record, with the proof of the prefix it came from."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update

import accord.center.picture.replay as replay_module
import accord.center.picture.verified as verified_module
from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.db.models import Opening
from accord.center.entry_kinds import Recorded
from accord.center.operations.fold import OPERATIONS
from accord.center.picture.compliance import JUDGE
from accord.center.picture.replay import Replay, replay_until
from accord.center.picture.verified import (
    OpenedCache,
    verified_log,
    verified_of,
    verified_record,
)
from accord.center.reader_process import LoopbackReader
from accord.center.runtime import Center
from accord.center.writer_process import Loopback
from accord.errors import RecordDamaged
from accord.record.canonical import canonical_json, decode_base64, encode_base64
from accord.record.entries import SequenceTracker, make_envelope, open_envelope, verify_entry
from accord.record.log import MerkleLog
from accord.record.merkle import leaf_hash, verify_consistency
from support.clock import Clock
from support.desk import AID, HIDDEN, PICTURE, Desk, by_id, named, operation, start
from support.failures import assert_problem
from support.history import SITE, actions, history
from support.jig import AGREEMENT, NOW
from support.record import count_verified
from support.service import TestClient


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


# --- declarations ---------------------------------------------------------------------------


def test_declarations_before_after_an_amendment_and_a_withdrawal(desk: Desk) -> None:
    desk.clock.set(10)
    site = desk.ok(desk.post("/v1/declarations", "blue-officer", json=SITE))
    desk.clock.set(20)
    desk.ok(desk.put(f"/v1/declarations/{site['id']}", "blue-officer", json=named(SITE, "B")), 200)
    desk.clock.set(30)
    withdraw = {"reason": "moved"}
    desk.ok(
        desk.post(f"/v1/declarations/{site['id']}/withdraw", "blue-officer", json=withdraw), 200
    )
    desk.clock.set(40)
    for user in ("blue-officer", "red-approver", "observer"):
        assert site["id"] not in ids(desk.picture(user, 5)["declarations"])
        first = by_id(desk.picture(user, 15)["declarations"])[site["id"]]
        assert first["version"] == 1 and first["verified"] is True
        assert first["feature"] == site["feature"] and first["entry"] == site["entry"]
        second = by_id(desk.picture(user, 25)["declarations"])[site["id"]]
        assert second["version"] == 2 and second["feature"]["properties"]["name"] == "B"
        assert site["id"] not in ids(desk.picture(user, 35)["declarations"])
    # Exactly at the instant of a change, the change is in the picture.
    assert by_id(desk.picture("red-officer", 20)["declarations"])[site["id"]]["version"] == 2


def test_a_center_position_is_in_its_owners_picture_only_and_opens_to_what_was_declared(
    desk: Desk,
) -> None:
    desk.clock.set(10)
    hidden = desk.ok(desk.post("/v1/declarations", "blue-officer", json=HIDDEN))
    desk.clock.set(11)
    for user in ("blue-officer", "blue-approver"):
        (seen,) = desk.picture(user, 11)["declarations"]
        assert seen["id"] == hidden["id"] and seen["verified"] is True
        assert seen["feature"] == hidden["feature"]  # exactly what blue declared
        assert seen["disclosure"] == "center" and seen["commitment"]
    for user in ("red-officer", "red-approver", "observer", "hnc-notifier"):
        response = desk.get(PICTURE, user, params={"at": desk.clock.at.isoformat()})
        assert response.status_code == 200, response.text
        assert response.json()["declarations"] == []
        for marker in ("HIDDEN-BATTALION-7", "21.234567", "25.012345", hidden["id"]):
            assert marker not in response.text, (user, marker)


def test_a_tampered_opening_is_never_used(desk: Desk) -> None:
    desk.clock.set(10)
    hidden = desk.ok(desk.post("/v1/declarations", "blue-officer", json=HIDDEN))
    desk.clock.set(11)
    amended = desk.ok(
        desk.put(f"/v1/declarations/{hidden['id']}", "blue-officer", json=named(HIDDEN, "B")), 200
    )
    with desk.center.reading() as session:
        kept = session.get(Opening, amended["entry"])
        assert kept is not None
        salt, kept_text = bytes(kept.salt), kept.content
    with desk.center.writing() as unit:
        unit.session.execute(
            update(Opening).where(Opening.entry == amended["entry"]).values(salt=b"\x00" * 32)
        )
    # The hidden entry names no declaration: what the amendment changed is unknown without
    # an opening that checks. The picture says so, and never shows the forged content.
    seen = desk.picture("blue-officer", 11)
    assert seen["unverified"] == [amended["entry"]]
    (stale,) = seen["declarations"]
    assert stale["version"] == 1 and stale["feature"] == hidden["feature"]
    for user in ("red-officer", "observer"):
        assert desk.picture(user, 11)["unverified"] == []
    # A tampered content is refused just the same: the content says "version 2, renamed".
    forged = json.loads(kept_text)
    forged["content"]["properties"]["name"] = "something else"
    for content in (json.dumps(forged), canonical_json(forged).decode()):
        with desk.center.writing() as unit:
            unit.session.execute(
                update(Opening)
                .where(Opening.entry == amended["entry"])
                .values(salt=salt, content=content)
            )
        seen = desk.picture("blue-officer", 11)
        assert seen["unverified"] == [amended["entry"]]
        assert [d["version"] for d in seen["declarations"]] == [1]
    # An opening kept under another owner's name is not the author's.
    with desk.center.writing() as unit:
        unit.session.execute(
            update(Opening)
            .where(Opening.entry == amended["entry"])
            .values(content=kept_text, owner="red")
        )
    assert desk.picture("blue-officer", 11)["unverified"] == [amended["entry"]]
    with desk.center.writing() as unit:
        unit.session.execute(
            update(Opening).where(Opening.entry == amended["entry"]).values(owner="blue")
        )
    seen = desk.picture("blue-officer", 11)
    assert seen["unverified"] == []
    (current,) = seen["declarations"]
    assert current["version"] == 2 and current["feature"] == amended["feature"]
    assert current["verified"] is True


def test_a_notifier_sees_only_its_own_declarations(desk: Desk) -> None:
    desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
    desk.clock.set(5)
    mine = desk.ok(desk.post("/v1/declarations", "hnc-notifier", json=SITE))
    desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, "Blue's")))
    desk.ok(desk.post("/v1/operations", "blue-officer", json=operation(21.3, 25.9)))
    desk.clock.set(6)
    seen = desk.picture("hnc-notifier", 6)
    assert ids(seen["declarations"]) == {mine["id"]}
    assert seen["operations"] == [] and seen["messages"] == [] and seen["view"] == "own"
    assert len(desk.picture("observer", 6)["declarations"]) == 2


# --- operations -----------------------------------------------------------------------------


def test_an_operations_status_at_each_step(desk: Desk) -> None:
    desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
    desk.clock.set(10)
    op = desk.ok(desk.post("/v1/operations", "blue-officer", json=operation(21.3, 25.9)))
    late = desk.ok(desk.post("/v1/operations", "red-officer", json=operation(21.4, 25.9, "red")))
    desk.clock.set(20)
    desk.ok(desk.post(f"/v1/operations/{op['id']}/approve", "red-approver", json={}), 200)
    desk.clock.set(9 * 60)
    desk.ok(desk.post(f"/v1/operations/{op['id']}/execute", "blue-officer"), 200)
    desk.clock.set(9 * 60 + 30)
    desk.ok(desk.post(f"/v1/operations/{op['id']}/complete", "blue-officer"), 200)
    desk.clock.set(11 * 60)

    def status(minutes: float, op_id: str = op["id"]) -> tuple[str, str] | None:
        found = by_id(desk.picture("observer", minutes)["operations"]).get(op_id)
        return None if found is None else (found["status"], found["recorded_status"])

    assert status(5) is None
    assert status(10) == ("proposed", "proposed")
    assert status(25) == ("approved", "approved")
    assert status(9 * 60 + 1) == ("executed", "executed")
    assert status(10 * 60 + 30) == ("completed", "completed")
    # Time alone moves an operation: the unapproved one expired when its window closed,
    # although no entry says so.
    assert status(9 * 60, late["id"]) == ("proposed", "proposed")
    assert status(10 * 60 + 1, late["id"]) == ("expired", "proposed")
    seen = by_id(desk.picture("red-officer", 10 * 60 + 30)["operations"])[op["id"]]
    assert [h["action"] for h in seen["history"]] == ["propose", "approve", "execute", "complete"]
    assert len(seen["entries"]) == 4 and seen["entry"] == seen["entries"][-1]
    # The phase in force followed the confirmation in the record.
    assert desk.picture("observer", 0)["phase"]["id"] == "joint-center"


def test_an_operation_ended_a_day_before_is_history_and_set_aside(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_module, "SWEEP_EVERY", 1)  # set aside at every entry
    desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
    desk.clock.set(10)
    cancelled = desk.ok(
        desk.post("/v1/operations", "red-officer", json=operation(21.4, 25.9, "red"))
    )
    lapsed = desk.ok(desk.post("/v1/operations", "blue-officer", json=operation(21.3, 25.9)))
    desk.clock.set(20)
    path = f"/v1/operations/{cancelled['id']}/cancel"
    desk.ok(desk.post(path, "red-officer", json={"reason": "x"}), 200)
    desk.clock.set(36 * 60)
    desk.ok(desk.post("/v1/declarations", "blue-officer", json=SITE))  # an entry a day on

    def shown(minutes: float) -> dict[str, str]:
        seen = desk.picture("observer", minutes)["operations"]
        return {o["id"]: o["status"] for o in seen}

    day = 24 * 60
    # Shown for a day after it ended (by a step, or by time alone: its window closed at 10 h)
    assert shown(20 + day - 1) == {cancelled["id"]: "cancelled", lapsed["id"]: "expired"}
    assert shown(20 + day + 1) == {lapsed["id"]: "expired"}
    assert shown(10 * 60 + day + 1) == {}
    # ... and no longer held by a replay folded past that: set aside, read back when named.
    replay = replay_until(desk.center, NOW + timedelta(minutes=36 * 60))
    assert replay.operations == {}
    assert replay.known(OPERATIONS, cancelled["id"]) and replay.known(OPERATIONS, lapsed["id"])
    found = replay.find(OPERATIONS, cancelled["id"])
    assert found is not None and found.status == "cancelled"
    assert set(replay.operations) == {cancelled["id"]}


# --- messages -------------------------------------------------------------------------------


def test_a_message_is_open_until_acknowledged_and_its_content_opens_for_its_parties(
    desk: Desk,
) -> None:
    desk.clock.set(10)
    body = {"to": ["red"], "subject": "Grid", "text": "SECRET-GRID-4471", "ack_within": "PT15M"}
    sent = desk.ok(desk.post("/v1/messages", "blue-officer", json=body))
    desk.clock.set(40)  # past the deadline: reading escalates it (no chain: overdue)
    listed = desk.ok(desk.get("/v1/messages", "red-officer"), 200)
    digest = desk.ok(desk.get(f"/v1/messages/{sent['id']}", "red-officer"), 200)["content_hash"]
    assert listed
    desk.clock.set(50)
    desk.ok(
        desk.post(
            f"/v1/messages/{sent['id']}/acknowledge", "red-officer", json={"content_hash": digest}
        )
    )
    desk.clock.set(60)
    for user in ("blue-officer", "red-approver"):
        (open_,) = desk.picture(user, 20)["messages"]
        assert open_["id"] == sent["id"] and open_["verified"] is True
        assert open_["content"] == sent["content"]
        (recipient,) = open_["recipients"]
        assert recipient["acknowledged_at"] is None and recipient["level"] == 0
        (later,) = desk.picture(user, 45)["messages"]
        assert later["recipients"][0]["overdue"] is True
        assert later["recipients"][0]["escalations"]
        assert desk.picture(user, 55)["messages"] == []
        assert desk.picture(user, 5)["messages"] == []
    monitor = desk.get(
        PICTURE, "observer", params={"at": (NOW + timedelta(minutes=20)).isoformat()}
    )
    (meta,) = monitor.json()["messages"]
    assert meta["content"] is None and meta["verified"] is None and meta["from"] == "blue"
    assert "SECRET-GRID-4471" not in monitor.text
    assert desk.picture("hnc-notifier", 20)["messages"] == []


# --- the request and the proof --------------------------------------------------------------


def test_the_instant_is_required_with_an_offset_and_not_in_the_future(desk: Desk) -> None:
    body = assert_problem(desk.get(PICTURE, "blue-officer"), 422)
    assert "at" in json.dumps(body["errors"])
    for bad in ("2026-09-21T16:00:00", "2026-09-21", "yesterday"):
        body = assert_problem(desk.get(PICTURE, "blue-officer", params={"at": bad}), 422)
        assert [e["field"] for e in body["errors"]] == ["at"], body
    # An offset's "+" left unescaped in the query string arrives as a space: still read.
    plus = desk.client.get(f"{PICTURE}?at=2026-09-21T19:00:00+03:00", headers=desk.auth("observer"))
    assert plus.status_code == 200, plus.text
    assert plus.json()["at"] == "2026-09-21T16:00:00Z"
    future = (NOW + timedelta(minutes=1)).isoformat()
    assert_problem(desk.get(PICTURE, "blue-officer", params={"at": future}), 422)
    assert_problem(desk.get(PICTURE, "admin", params={"at": NOW.isoformat()}), 403)


def test_the_picture_names_the_prefix_and_a_signed_head_to_check_it_against(desk: Desk) -> None:
    desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
    desk.clock.set(10)
    desk.ok(desk.post("/v1/declarations", "blue-officer", json=SITE))
    desk.ok(desk.post("/v1/declarations", "red-officer", json=named(SITE, "red's")))
    desk.clock.set(20)
    early = desk.picture("red-officer", 5)["proof"]
    assert early["entries"] == 1
    late = desk.picture("red-officer", 20)["proof"]
    assert late["entries"] == 3 and late["head_size"] == 3
    assert late["root"] == late["head_root"] and f"\n3\n{late['root']}\n" in late["note"]
    # The early prefix is proved against the head by a consistency proof.
    assert early["head_size"] >= 3
    proof = desk.ok(
        desk.get(
            "/v1/record/proofs/consistency",
            "red-officer",
            params={"from": early["entries"], "size": early["head_size"]},
        ),
        200,
    )
    assert proof["old_root"] == early["root"] and proof["root"] == early["head_root"]
    verify_consistency(
        old_size=1,
        new_size=early["head_size"],
        old_root=decode_base64(early["root"], what="root"),
        new_root=decode_base64(early["head_root"], what="root"),
        proof=[decode_base64(p, what="proof") for p in proof["proof"]],
    )
    # The log grows: a prefix a stored head covers is proved against it, none signed anew (a
    # monitor's pictures back to back do not each sign one); a prefix none covers signs one.
    desk.clock.set(30)
    desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, "another")))
    again = desk.picture("red-officer", 5)["proof"]
    assert (again["entries"], again["head_size"]) == (1, 3)
    now = desk.picture("red-officer", 30)["proof"]
    assert (now["entries"], now["head_size"]) == (4, 4) and now["root"] == now["head_root"]


# --- the oracle: the replay at "now" is the live state --------------------------------------

ACTIONS = actions()


def _checked_afresh(
    log: MerkleLog, center: Center, until: datetime | None
) -> tuple[list[Recorded], int]:
    """The oracle: every leaf from the first read and checked as a verifier does (chained,
    signed, in sequence), up to the first entry signed after ``until``."""
    found: list[Recorded] = []
    tracker = SequenceTracker()
    prev = ""
    for i, data in log.entries(0, log.size):
        index, chained, raw = open_envelope(data)
        assert (index, chained) == (i, prev)
        entry = verify_entry(raw, keys=center.ring, log=center.origin)
        tracker.check(entry)
        if until is not None and entry.ts > until:
            break
        found.append(Recorded(i, entry.author, entry.ts, entry.event))
        prev = leaf_hash(data).hex()
    return found, len(found)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_the_replay_at_now_is_the_live_state(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, actions: list[str]
) -> None:
    tmp = tmp_path_factory.mktemp("oracle")
    for desk in start(tmp, f"sqlite:///{tmp / 'accord.sqlite'}"):
        for _ in history(desk, actions):
            pass
        desk.clock.set(len(actions) + 1)
        for user in ("blue-officer", "red-officer", "observer"):
            seen = desk.picture(user, len(actions) + 1)
            live = desk.ok(desk.get("/v1/declarations", user, params={"status": "active"}), 200)
            assert {d["id"]: (d["version"], d["feature"]) for d in live["items"]} == {
                d["id"]: (d["version"], d["feature"]) for d in seen["declarations"]
            }
            ops = desk.ok(desk.get("/v1/operations", user), 200)["items"]
            assert {o["id"]: o["status"] for o in ops} == {
                o["id"]: o["status"] for o in seen["operations"]
            }
            messages = desk.ok(desk.get("/v1/messages", user, params={"open": "true"}), 200)
            open_ids = {m["id"] for m in messages if m["open"]}
            assert open_ids == ids(seen["messages"]), user
            me = desk.ok(desk.get("/v1/me", user), 200)
            assert me["phase"]["id"] == seen["phase"]["id"]
            assert seen["anomalies"] == []  # every entry written is of a kind it folds


# --- the verified record: each entry checked once, what was checked served ------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS, data=st.data())
@pytest.mark.parametrize("window", [None, 2])
def test_the_verified_record_reads_as_a_fresh_check_at_every_step(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    window: int | None,
    actions: list[str],
    data: st.DataObject,
) -> None:
    """The service's record, extended entry by entry as it grows, answers every prefix
    exactly as reading and checking the whole log afresh does — also when it keeps only the
    latest two entries read and reads the older ones again from the store (``window``)."""
    if window is not None:
        monkeypatch.setattr(verified_module, "WINDOW", window)
    tmp = tmp_path_factory.mktemp("verified")
    for desk in start(tmp, f"sqlite:///{tmp / 'accord.sqlite'}"):
        center = desk.center
        for i in history(desk, actions):
            for minutes in data.draw(st.lists(st.floats(0, i + 2), max_size=3)):
                until = NOW + timedelta(minutes=minutes)
                with center.reading() as session:
                    log = center.log(session)
                    fresh = _checked_afresh(log, center, until)
                    assert verified_record(center, log, until=until) == fresh
        with center.reading() as session:
            log = center.log(session)
            assert verified_record(center, log) == _checked_afresh(log, center, None)


def _leaf(center: Center, index: int) -> bytes:
    with center.engine.connect() as connection:
        return bytes(
            connection.execute(
                text("SELECT data FROM record_leaves WHERE idx = :i"), {"i": index}
            ).scalar_one()
        )


def _set_leaf(center: Center, index: int, data: bytes | None) -> None:
    with center.engine.begin() as connection:
        if data is None:
            connection.execute(text("DELETE FROM record_leaves WHERE idx = :i"), {"i": index})
        else:
            connection.execute(
                text("UPDATE record_leaves SET data = :d WHERE idx = :i"), {"d": data, "i": index}
            )


def test_a_damaged_entry_stops_every_prefix_that_reaches_it(desk: Desk) -> None:
    for minutes in (1, 2, 3):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    with desk.center.reading() as session:
        last = desk.center.log(session).size - 1
    _set_leaf(desk.center, last, _leaf(desk.center, last - 1))
    # A prefix that ends before an entry signed later, ahead of the damaged one, stops
    # there; any longer one needs the damaged entry's time, hence the entry.
    assert len(desk.picture("blue-officer", 1)["declarations"]) == 1
    for user, minutes in (("blue-officer", 2), ("observer", 3)):
        at = (NOW + timedelta(minutes=minutes)).isoformat()
        body = assert_problem(desk.get(PICTURE, user, params={"at": at}), 503)
        assert body["detail"] == (
            f"the record does not verify at entry {last}: "
            "the envelope is not chained to the leaf before it"
        )
    assert_problem(desk.get("/v1/compliance", "observer"), 503)


def test_a_log_rewritten_after_it_was_verified_is_refused(desk: Desk) -> None:
    for minutes in (1, 2):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    assert len(desk.picture("blue-officer", 2)["declarations"]) == 2
    with desk.center.reading() as session:
        last = desk.center.log(session).size - 1
    _set_leaf(desk.center, last, None)  # the last entry taken away
    for path, params in (
        (PICTURE, {"at": (NOW + timedelta(minutes=1)).isoformat()}),
        ("/v1/compliance", {}),
    ):
        body = assert_problem(desk.get(path, "observer", params=params), 503)
        assert body["detail"] == (
            f"the stored record changed: its first {last + 1} entries are not the ones this "
            "center verified"
        )


def test_an_entry_rewritten_after_it_was_verified_is_refused_when_read_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry no longer kept read (past the window) is read again from the store, and
    served only if its leaf hashes as it did when verified: one rewritten since — even as
    another well-signed leaf, the tree's stored hashes untouched — names itself."""
    record = verified_of(desk.center)
    monkeypatch.setattr(record, "_window", 1)
    for minutes in (1, 2, 3):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    assert len(desk.picture("observer", 3)["declarations"]) == 3  # read again, as verified
    with desk.center.reading() as session:
        last = desk.center.log(session).size - 1
    first = last - 2  # the first declaration's entry, long out of the window
    _set_leaf(desk.center, first, _leaf(desk.center, last))
    for path, params in (
        (PICTURE, {"at": (NOW + timedelta(minutes=3)).isoformat()}),
        ("/v1/compliance", {}),
    ):
        desk.center.cache(JUDGE).judge = None  # a report folds afresh: it reads them all
        body = assert_problem(desk.get(path, "observer", params=params), 503)
        assert body["detail"] == (
            f"the stored record changed: entry {first} is not the one this center verified"
        )


def test_the_record_is_verified_at_start_up_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted service verifies the record in the background, so that the first picture
    checks nothing again; entries appended later are checked once, when first read."""
    for first in start(tmp_path, database_url):
        for minutes in (1, 2, 3):
            first.clock.set(minutes)
            first.ok(
                first.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}"))
            )
    checked = count_verified(monkeypatch)
    clock = Clock()
    app = create_app(Parts(first.settings, clock=clock, writer=Loopback, reader=LoopbackReader))
    with TestClient(app, raise_server_exceptions=False) as client:
        desk = Desk(client, first.tokens, first.settings, clock=clock)
        with desk.center.reading() as session:
            size = desk.center.log(session).size
        deadline = time.monotonic() + 30
        while verified_of(desk.center).verified < size and time.monotonic() < deadline:
            time.sleep(0.01)
        assert verified_of(desk.center).verified == size == len(checked) == 3
        desk.clock.set(3)
        assert len(desk.picture("observer", 3)["declarations"]) == 3
        assert len(checked) == 3
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, "s4")))
        assert len(desk.picture("observer", 3)["declarations"]) == 4
        assert desk.ok(desk.get("/v1/compliance", "observer"), 200)["proof"]["entries"] == 4
        assert len(checked) == 4


def test_an_entry_chained_to_another_leaf_is_refused(desk: Desk) -> None:
    """A leaf at its own index, correctly signed, but naming another leaf before it."""
    for minutes in (1, 2):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    with desk.center.reading() as session:
        last = desk.center.log(session).size - 1
    index, _, raw = open_envelope(_leaf(desk.center, last))
    _set_leaf(desk.center, last, make_envelope(index, bytes(32), raw))
    body = assert_problem(desk.get("/v1/compliance", "observer"), 503)
    assert body["detail"] == (
        f"the record does not verify at entry {last}: "
        "the envelope is not chained to the leaf before it"
    )


# --- hidden entries fold as the older entries that named their declaration did --------------

_STEPS = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(["amended", "withdrawn"]), st.booleans()),
    max_size=24,
)


@given(steps=_STEPS, dropped=st.sets(st.integers(0, 30), max_size=4))
def test_a_hidden_history_folds_as_the_same_history_in_the_older_form(
    steps: list[tuple[int, str, bool]], dropped: set[int]
) -> None:
    """The same changes written both ways: ``declaration.hidden`` entries folded from their
    (checked) openings, and the older entries with the id, kind and version in clear, folded
    the way logs before hidden entries always were. Same declarations, same versions, same
    times, same anomalies; and a hidden entry whose opening is missing is ``unopened``."""
    versions: dict[str, int] = {}
    active: set[str] = set()
    legacy: list[Recorded] = []
    hidden: list[Recorded] = []
    openings: dict[int, dict[str, Any]] = {}
    for index, (slot, action, mine) in enumerate(steps):
        object_id, kind = f"d-{slot:016x}", ("position", "protected_site")[slot % 2]
        if object_id not in versions:
            action = "created"
        version = versions.get(object_id, 0) + (action != "withdrawn")
        author = "blue" if mine or action == "created" else "red"  # red's: not the owner
        if action == "created" or (author == "blue" and object_id in active):
            versions[object_id] = version  # a change the owner made to one in force
            if action == "withdrawn":
                active.discard(object_id)
            else:
                active.add(object_id)
        at = NOW + timedelta(minutes=index)
        content = {"reason": "r"} if action == "withdrawn" else {"v": version, "of": object_id}
        committed = encode_base64(bytes([index]) * 32)
        legacy.append(
            Recorded(
                index,
                author,
                at,
                {
                    "kind": f"declaration.{action}",
                    "id": object_id,
                    "object_kind": kind,
                    "disclosure": "center",
                    "version": version,
                    "commitment": committed,
                },
            )
        )
        hidden.append(
            Recorded(index, author, at, {"kind": "declaration.hidden", "commitment": committed})
        )
        openings[index] = {
            "action": action,
            "content": content,
            "id": object_id,
            "object_kind": kind,
            "version": version,
        }
    old = Replay(AGREEMENT, "o").fold(legacy)
    new = Replay(AGREEMENT, "o", openings).fold(hidden)
    assert new.anomalies == old.anomalies and new.unopened == []

    def seen(replay: Replay) -> dict[str, tuple[Any, ...]]:
        return {
            d.id: (d.kind, d.owner, d.version, d.entry, d.declared_at, d.updated_at, d.in_force)
            for d in replay.declarations.values()
        }

    assert seen(new) == seen(old)
    for d in new.declarations.values():
        assert (
            d.opened == openings[d.entry]["content"]
            and d.commitment == hidden[d.entry].event["commitment"]
        )
    # A log written partly before hidden entries (the older form for some changes, the
    # hidden form for others: an upgrade amends what was declared before it) folds the same.
    mixed = [legacy[i] if i in dropped else hidden[i] for i in range(len(steps))]
    both = Replay(AGREEMENT, "o", openings).fold(mixed)
    assert both.anomalies == old.anomalies and seen(both) == seen(old)
    # Without some openings, those entries change nothing and are named.
    partial = {i: o for i, o in openings.items() if i not in dropped}
    folded = Replay(AGREEMENT, "o", partial).fold(hidden)
    assert folded.unopened == sorted(dropped & set(openings))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # a snapshot per transaction
def test_a_view_opened_before_others_verified_more_reads_its_own_prefix(desk: Desk) -> None:
    """A request's view of the record is taken when it opens the log; a thread whose older
    view reads after another thread verified newer entries gets its own prefix — not a
    rolled-back log (each such request was a false 503 under writes) — while a log really
    rolled back under the service is still refused."""
    center = desk.center
    for minutes in (1, 2):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    with center.reading() as old_session:
        old = verified_log(center, old_session)
        before = old.size
        for minutes in (3, 4):
            desk.clock.set(minutes)
            desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
        with center.reading() as session:  # another request verifies the newer entries
            assert verified_record(center, verified_log(center, session))[1] == before + 2
        records, size = verified_record(center, old)
        assert size == before == len(records)
        assert verified_of(center).standing(old) == before
    # A log really rolled back under the service (the change undone with each transaction):
    # refused, whether opened by the verified record or not.
    cut = text("DELETE FROM record_leaves WHERE idx >= :n")
    with center.reading() as session:
        session.execute(cut, {"n": before})
        with pytest.raises(RecordDamaged, match="not the ones this center verified"):
            verified_log(center, session)
    with center.reading() as session:
        session.execute(cut, {"n": before})
        with pytest.raises(RecordDamaged, match="not the ones this center verified"):
            verified_of(center).read(center.log(session))


def test_the_checked_openings_kept_are_bounded_the_least_lately_used_dropped() -> None:
    cache = OpenedCache(most=2)
    for index in range(3):
        cache.put(index, f"c{index}", {"n": index})
    assert cache.get(0, "c0") is None  # dropped: read and checked again if asked for
    assert cache.get(1, "c1") == {"n": 1}  # used: now the latest
    cache.put(3, "c3", {"n": 3})
    assert cache.get(2, "c2") is None and cache.get(1, "c1") == {"n": 1}
    assert cache.get(3, "c3") == {"n": 3} and cache.get(3, "other") is None
