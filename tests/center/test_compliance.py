"""Compliance, computed from the record: each kind of finding provoked and found with the
entry that proves it, none on a clean history, and a ``center`` flight plan's violation shown
in full to its owner only."""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

import accord.center.operations.fold as operations_fold
import accord.center.picture.compliance as compliance_module
import accord.center.picture.replay as replay_module
import accord.center.picture.verified as verified_module
from accord.center.db.models import Opening
from accord.center.identity import Caller
from accord.center.picture import judge_checkpoints
from accord.center.picture.compliance import JUDGE, compliance, compliance_json, party_json
from accord.center.picture.replay import replay_until
from accord.center.runtime import Center, Unit
from accord.chrono import format_instant
from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import SALT_BYTES, commitment
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from support.desk import AID, HIDDEN, Desk, by_id, named, operation, start
from support.disclosure import export_entries
from support.failures import assert_problem
from support.jig import NOW

COMPLIANCE = "/v1/compliance"


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    for made in start(tmp_path, database_url):
        made.ok(made.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        yield made


FLIGHT: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "LineString", "coordinates": [[21.0, 25.2, 3000], [21.7, 25.2, 3000]]},
    "properties": {
        "kind": "flight_plan",
        "operator": "green-af",
        "mission": "strike",
        "name": "FLIGHT-MARKER-9",
        "times": ["2026-09-22T08:00:00Z", "2026-09-22T09:10:00Z"],
    },
}


def report(desk: Desk, user: str) -> dict[str, Any]:
    """Every party's report as ``user`` sees it, by party."""
    body = desk.ok(desk.get(COMPLIANCE, user), 200)
    return {p["party"]: p for p in body["parties"]}


def findings(desk: Desk, user: str, party: str, kind: str) -> list[dict[str, Any]]:
    return [f for f in report(desk, user)[party]["findings"] if f["kind"] == kind]


def imminent(executed_minutes_ago: float, desk: Desk) -> dict[str, Any]:
    body = operation(21.9, 25.1, "red", category="imminent_threat")
    executed = desk.clock.at - timedelta(minutes=executed_minutes_ago)
    body["properties"] |= {
        "executed_at": format_instant(executed),
        "window_start": format_instant(executed - timedelta(minutes=10)),
        "window_end": format_instant(executed + timedelta(minutes=10)),
    }
    return body


def test_a_clean_history_has_no_findings(desk: Desk) -> None:
    desk.clock.set(10)
    op = desk.ok(desk.post("/v1/operations", "blue-officer", json=operation(21.3, 25.9)))
    desk.ok(desk.post(f"/v1/operations/{op['id']}/approve", "red-approver", json={}), 200)
    desk.ok(desk.post("/v1/operations/report", "red-officer", json=imminent(20, desk)))
    allowed = copy.deepcopy(FLIGHT)
    allowed["properties"]["mission"] = "medevac"  # exempt in the designated area
    desk.ok(desk.post("/v1/declarations", "blue-officer", json=allowed))
    sent = desk.ok(
        desk.post("/v1/messages", "blue-officer", json={"to": ["red"], "subject": "s", "text": "t"})
    )
    path = f"/v1/messages/{sent['id']}/acknowledge"
    desk.ok(desk.post(path, "red-officer", json={"content_hash": sent["content_hash"]}))
    desk.clock.set(9 * 60)
    desk.ok(desk.post(f"/v1/operations/{op['id']}/execute", "blue-officer"), 200)
    for user in ("blue-officer", "red-approver", "observer"):
        for party, seen in report(desk, user).items():
            assert seen["findings"] == [], (user, party, seen)
            assert set(seen["counts"].values()) == {0}
    body = desk.ok(desk.get(COMPLIANCE, "observer"), 200)
    assert body["proof"]["entries"] > 0 and body["proof"]["note"]


def test_a_late_notice_is_found_with_its_entry(desk: Desk) -> None:
    desk.clock.set(10)
    made = desk.ok(desk.post("/v1/operations/report", "red-officer", json=imminent(120, desk)))
    assert made["status"] == "notified_late"
    for user in ("blue-officer", "red-officer", "observer"):
        (found,) = findings(desk, user, "red", "late_notification")
        assert found["entries"] == [made["entry"]] and found["subject"] == made["id"]
        assert found["at"] == format_instant(desk.clock.at)
        assert "after the deadline" in found["detail"]
        assert report(desk, user)["blue"]["findings"] == []
    one = desk.ok(desk.get(f"{COMPLIANCE}/red", "blue-approver"), 200)
    assert one["party"] == "red" and one["counts"]["late_notification"] == 1


def forged_unilateral(desk: Desk, op_id: str, *, executed_minutes_ago: float) -> int:
    """Red's report of an imminent-threat operation executed unilaterally and not notified,
    signed into the record as red could (the service records none without its notice); its
    entry's index."""
    body = imminent(executed_minutes_ago, desk)
    props = {**body["properties"], "id": op_id, "proposed_by": "red"}
    props["executor"] = props.pop("executors")
    with desk.center.writing() as unit:
        return unit.ledger.append(
            {
                "kind": "operation.reported",
                "operation": op_id,
                "user": "red-officer",
                "status": "executed_unilaterally",
                "transitions": [],
                "feature": {**body, "properties": props},
                "conflicts": [],
                "executed_at": props["executed_at"],
                "breaches": [],
            },
            author="red",
            at=desk.clock.at,
        )


def test_a_missing_notice_becomes_due_when_its_deadline_passes(desk: Desk) -> None:
    # The service records no unilateral execution without its notice today; the record
    # could hold one (signed by the executor), and compliance judges it from the record.
    desk.clock.set(10)
    entry = forged_unilateral(desk, "op-0123456789abcdef", executed_minutes_ago=30)
    assert findings(desk, "observer", "red", "missing_notification") == []
    desk.clock.set(60)  # the hour to notify ran out at minute 40
    (found,) = findings(desk, "observer", "red", "missing_notification")
    assert found["entries"] == [entry] and found["subject"] == "op-0123456789abcdef"
    assert found["at"] == format_instant(NOW + timedelta(minutes=40))


def test_an_execution_without_approval_in_the_record_is_found(desk: Desk) -> None:
    desk.clock.set(10)
    op = desk.ok(desk.post("/v1/operations", "blue-officer", json=operation(21.3, 25.9)))
    # Through the API blue cannot execute before red approves: refused, nothing recorded.
    desk.clock.set(9 * 60)
    assert_problem(desk.post(f"/v1/operations/{op['id']}/execute", "blue-officer"), 409)
    assert findings(desk, "observer", "blue", "execution_without_approval") == []
    # A record holding such an entry (signed by blue) is caught.
    with desk.center.writing() as unit:
        forged = unit.ledger.append(
            {
                "kind": "operation.executed",
                "operation": op["id"],
                "user": "blue-officer",
                "status": "executed",
                "transitions": [],
            },
            author="blue",
            at=desk.clock.at,
        )
    for user in ("red-officer", "observer"):
        (found,) = findings(desk, user, "blue", "execution_without_approval")
        assert found["entries"] == [forged, op["entry"]] and found["subject"] == op["id"]
        assert "while it was proposed" in found["detail"]


def test_a_designated_area_violation_shared_in_full_center_as_a_count(desk: Desk) -> None:
    desk.clock.set(10)
    shared = desk.ok(desk.post("/v1/declarations", "blue-officer", json=FLIGHT))
    hidden_body = copy.deepcopy(FLIGHT)
    hidden_body["properties"]["disclosure"] = "center"
    hidden = desk.ok(desk.post("/v1/declarations", "blue-officer", json=hidden_body))
    for user in ("red-officer", "observer", "blue-approver"):
        found = findings(desk, user, "blue", "designated_area")
        full = [f for f in found if f["subject"] == shared["id"]]
        assert len(full) == 1 and full[0]["entries"] == [shared["entry"]]
        assert "da-north" in full[0]["detail"] and "green-af" in full[0]["detail"]
    (own,) = [
        f
        for f in findings(desk, "blue-officer", "blue", "designated_area")
        if f["subject"] == hidden["id"]
    ]
    assert own["entries"] == [hidden["entry"]] and own["count"] == 1
    for user in ("red-officer", "red-approver", "observer"):
        response = desk.get(COMPLIANCE, user)
        assert hidden["id"] not in response.text
        (count,) = [
            f for f in findings(desk, user, "blue", "designated_area") if f["subject"] is None
        ]
        assert count["count"] == 1 and count["entries"] == [] and count["at"] is None
        assert report(desk, user)["blue"]["counts"]["designated_area"] == 2
    # Withdrawn, a flight plan is no longer in force.
    withdraw = f"/v1/declarations/{shared['id']}/withdraw"
    desk.ok(desk.post(withdraw, "blue-officer", json={"reason": "cancelled"}), 200)
    assert report(desk, "observer")["blue"]["counts"]["designated_area"] == 1


def test_overdue_acknowledgements_late_and_missing(desk: Desk) -> None:
    desk.clock.set(10)
    late = desk.ok(
        desk.post("/v1/messages", "blue-officer", json={"to": ["red"], "subject": "s", "text": "a"})
    )
    never = desk.ok(
        desk.post("/v1/messages", "red-officer", json={"to": ["blue"], "subject": "s", "text": "b"})
    )
    assert findings(desk, "observer", "red", "overdue_acknowledgement") == []
    desk.clock.set(40)  # both deadlines (15 minutes) passed; reading escalates red's
    desk.ok(desk.get(f"/v1/messages/{late['id']}", "red-officer"), 200)
    desk.clock.set(45)
    path = f"/v1/messages/{late['id']}/acknowledge"
    ack = desk.ok(desk.post(path, "red-officer", json={"content_hash": late["content_hash"]}))
    (found,) = findings(desk, "blue-officer", "red", "overdue_acknowledgement")
    assert found["subject"] == late["id"] and found["entries"][0] == late["entry"]
    assert found["entries"][-1] == ack["entry"] and len(found["entries"]) >= 3
    (missing,) = findings(desk, "red-officer", "blue", "overdue_acknowledgement")
    assert missing["subject"] == never["id"] and missing["entries"][0] == never["entry"]
    assert "not acknowledged" in missing["detail"]


def test_roles_and_parties(desk: Desk) -> None:
    assert_problem(desk.get(COMPLIANCE, "hnc-notifier"), 403)
    assert_problem(desk.get(COMPLIANCE, "admin"), 403)
    assert_problem(desk.get(f"{COMPLIANCE}/red", "hnc-notifier"), 403)
    assert_problem(desk.get(f"{COMPLIANCE}/green-af", "blue-officer"), 404)
    assert_problem(desk.get(f"{COMPLIANCE}/hnc", "observer"), 404)
    assert set(report(desk, "observer")) == {"blue", "red"}


# --- logs written before hidden entries ------------------------------------------------------


def _legacy(
    unit: Unit, change: str, feature: dict[str, Any], version: int, content: Any, at: datetime
) -> int:
    """Append an entry about a ``center`` declaration as the service wrote them before
    ``declaration.hidden`` (id, kind and version in clear, a commitment to the content
    alone), and keep its opening as it did."""
    salt = secrets.token_bytes(SALT_BYTES)
    committed = commitment(content, salt=salt)
    props = feature["properties"]
    entry = unit.ledger.append(
        {
            "kind": f"declaration.{change}",
            "id": props["id"],
            "object_kind": props["kind"],
            "disclosure": "center",
            "version": version,
            "commitment": encode_base64(committed),
        },
        author="blue",
        at=at,
    )
    unit.session.add(
        Opening(
            entry=entry,
            owner="blue",
            commitment=committed,
            salt=salt,
            content=canonical_json(content).decode("utf-8"),
        )
    )
    return entry


def _stored(feature: dict[str, Any], object_id: str) -> dict[str, Any]:
    stored = copy.deepcopy(feature)
    stored["properties"] |= {"id": object_id, "declared_by": "blue", "disclosure": "center"}
    return stored


def test_an_old_log_still_verifies_and_folds(desk: Desk, tmp_path: Path) -> None:
    position = _stored(HIDDEN, "d-00000000000000a1")
    renamed = _stored(named(HIDDEN, "HIDDEN-RENAMED"), "d-00000000000000a1")
    flight = _stored(FLIGHT, "d-00000000000000a2")
    desk.clock.set(10)
    with desk.center.writing() as unit:
        created = _legacy(unit, "created", position, 1, position, desk.clock.at)
        flown = _legacy(unit, "created", flight, 1, flight, desk.clock.at)
    desk.clock.set(20)
    with desk.center.writing() as unit:
        amended = _legacy(unit, "amended", renamed, 2, renamed, desk.clock.at)
    desk.clock.set(30)  # a change written today, among the old ones
    new = desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(HIDDEN, "NEW")))
    desk.clock.set(40)
    with desk.center.writing() as unit:
        gone = _legacy(unit, "withdrawn", renamed, 2, {"reason": "left"}, desk.clock.at)
    desk.clock.set(50)
    export = tmp_path / "old.jsonl"
    ring = KeyRing.from_json(desk.get("/v1/keys", "observer").json())
    served = export_entries(desk, "observer", export)
    assert (
        verify_log(export, keys=ring, workers=1).entries == len(served) == 6
    )  # the confirmation, then five
    replay = replay_until(desk.center, None)
    assert replay.anomalies == [] and replay.unopened == []
    for minutes, version, name in ((15, 1, "HIDDEN-BATTALION-7"), (25, 2, "HIDDEN-RENAMED")):
        seen = by_id(desk.picture("blue-officer", minutes)["declarations"])
        old = seen[position["properties"]["id"]]
        assert (old["version"], old["verified"], old["entry"]) == (
            version,
            True,
            created if version == 1 else amended,
        )
        assert old["feature"]["properties"]["name"] == name and old["kind"] == "position"
        assert seen[flight["properties"]["id"]]["verified"] is True
    latest = by_id(desk.picture("blue-officer", 45)["declarations"])
    assert set(latest) == {flight["properties"]["id"], new["id"]} and gone > new["entry"]
    assert latest[new["id"]]["feature"] == new["feature"] and latest[new["id"]]["verified"]
    for user in ("red-officer", "observer"):
        assert desk.picture(user, 45)["declarations"] == []
    # Compliance still judges the old hidden flight plan, and shows it to its owner only.
    (own,) = findings(desk, "blue-officer", "blue", "designated_area")
    assert own["subject"] == flight["properties"]["id"] and own["entries"] == [flown]
    (count,) = findings(desk, "red-officer", "blue", "designated_area")
    assert count["subject"] is None and count["count"] == 1
    # An old entry's opening, tampered, is still never shown as verified.
    with desk.center.writing() as unit:
        unit.session.execute(
            update(Opening).where(Opening.entry == amended).values(salt=bytes(SALT_BYTES))
        )
    old = by_id(desk.picture("blue-officer", 25)["declarations"])[position["properties"]["id"]]
    assert old["verified"] is False and old["feature"] is None


# --- the kept judge: incremental, always equal to a fold of the whole record ----------------

HISTORY = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "flight", "flight_hidden", "amend_flight", "withdraw_flight", "propose", "approve",
                "forge_execution", "report_late", "forge_unilateral", "send", "ack", "rewind",
            ]
        ),
        st.integers(0, 12),  # minutes before the next step: deadlines pass meanwhile
    ),
    min_size=1,
    max_size=10,
)  # fmt: skip

READERS = ("blue-officer", "blue-approver", "red-officer", "observer")


def _step(desk: Desk, action: str, made: dict[str, list[dict[str, Any]]]) -> None:
    """One step of a history compliance judges (a forged entry is what a record may hold)."""
    if action in ("flight", "flight_hidden"):
        body = copy.deepcopy(FLIGHT)
        if action == "flight_hidden":
            body["properties"]["disclosure"] = "center"
        made["flights"].append(desk.ok(desk.post("/v1/declarations", "blue-officer", json=body)))
    elif action == "amend_flight" and made["flights"]:
        flight = made["flights"].pop(0)
        body = copy.deepcopy(FLIGHT)
        body["properties"]["mission"] = "medevac"  # exempt: no longer a violation
        body["properties"]["disclosure"] = flight["disclosure"]
        path = f"/v1/declarations/{flight['id']}"
        made["flights"].append(desk.ok(desk.put(path, "blue-officer", json=body), 200))
    elif action == "withdraw_flight" and made["flights"]:
        path = f"/v1/declarations/{made['flights'].pop(0)['id']}/withdraw"
        desk.ok(desk.post(path, "blue-officer", json={"reason": "x"}), 200)
    elif action == "propose":
        lon = 21.3 + 0.01 * len(made["operations"])
        body = operation(lon, 25.9)
        made["operations"].append(desk.ok(desk.post("/v1/operations", "blue-officer", json=body)))
    elif action == "approve" and made["operations"]:
        op = made["operations"].pop(0)
        desk.post(f"/v1/operations/{op['id']}/approve", "red-approver", json={})
    elif action == "forge_execution" and made["operations"]:
        with desk.center.writing() as unit:
            unit.ledger.append(
                {
                    "kind": "operation.executed",
                    "operation": made["operations"][-1]["id"],
                    "user": "blue-officer",
                    "status": "executed",
                    "transitions": [],
                },
                author="blue",
                at=desk.clock.at,
            )
    elif action == "report_late":
        desk.ok(desk.post("/v1/operations/report", "red-officer", json=imminent(120, desk)))
    elif action == "forge_unilateral":  # not notified: missing once its deadline passes
        op_id = f"op-{len(made['forged']):016x}"
        made["forged"].append({"id": op_id})
        forged_unilateral(desk, op_id, executed_minutes_ago=55)  # the hour runs out in 5 min
    elif action == "send":
        body = {"to": ["red"], "subject": "s", "text": "t"}
        made["messages"].append(desk.ok(desk.post("/v1/messages", "blue-officer", json=body)))
    elif action == "ack" and made["messages"]:
        sent = made["messages"].pop(0)
        path = f"/v1/messages/{sent['id']}/acknowledge"
        desk.ok(desk.post(path, "red-officer", json={"content_hash": sent["content_hash"]}))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=HISTORY,
    sweep=st.sampled_from([1, 2, 1 << 62]),
    shown=st.sampled_from([0.5, 3.0, 24 * 60.0]),
)
@example(  # every step at least once: each kept part of the judge used and changed
    sweep=1,
    shown=0.5,
    history=[
        ("flight", 0), ("amend_flight", 1), ("flight_hidden", 2), ("propose", 1),
        ("forge_execution", 3), ("approve", 1), ("rewind", 4), ("report_late", 2),
        ("send", 15), ("send", 0), ("ack", 20), ("withdraw_flight", 1), ("amend_flight", 1),
        ("forge_unilateral", 8),
    ]
)  # fmt: skip
def test_the_kept_judge_answers_as_a_fold_of_the_whole_record_at_every_step(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    history: list[tuple[str, int]],
    sweep: int,
    shown: float,
) -> None:
    """The service's judge, extended with each entry once, answers every reader exactly as a
    judge folding the whole record afresh does — at every step, as deadlines pass, and when
    the clock is set back (then it judges a shorter prefix afresh and keeps its own) — with
    done objects set aside every ``sweep`` entries (an operation ``shown`` minutes after it
    ended), against a judge that sets none aside."""
    tmp = tmp_path_factory.mktemp("judge")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay_module, "SWEEP_EVERY", sweep)
        patch.setattr(operations_fold, "ENDED_SHOWN", timedelta(minutes=shown))
        patch.setattr(compliance_module, "FOLD_CHUNK", 2)  # folded a few entries at a time
        patch.setattr(verified_module, "MARK_EVERY", 2)  # a root kept every 2 entries,
        patch.setattr(judge_checkpoints, "EVERY", 2)  # and the judge checkpointed at each
        asked: list[int] = []  # the prefixes a judge was restored for
        restored: list[int] = []
        restore = judge_checkpoints.restore

        def counted(center: Center, session: Any, size: int, **kwargs: Any) -> Any:
            asked.append(size)
            judge = restore(center, session, size, **kwargs)
            if judge is not None:
                restored.append(judge.size)
            return judge

        patch.setattr(judge_checkpoints, "restore", counted)
        _judged_at_every_step(tmp, history)
        if max(asked) >= 2:  # a checkpoint's size reached: the restarts' judges used one
            assert restored


def _judged_at_every_step(tmp: Path, history: list[tuple[str, int]]) -> None:
    for desk in start(tmp, f"sqlite:///{tmp / 'accord.sqlite'}"):
        desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        center = desk.center
        callers = {user: center.authenticate(desk.tokens[user]) for user in READERS}
        made: dict[str, list[dict[str, Any]]] = {
            "flights": [], "operations": [], "messages": [], "forged": []
        }  # fmt: skip
        minute = 1.0
        for action, wait in history:
            desk.clock.set(minute)
            _step(desk, action, made)
            # halfway through the wait (no entry since: a judgement kept while no deadline
            # passed), then at its end
            instants = [minute + wait / 2, minute + wait]
            minute += wait
            if action == "rewind":
                instants = [minute - 5]
            for instant in instants:
                desk.clock.set(instant)
                for user, caller in callers.items():
                    assert caller is not None
                    _kept_as_afresh(center, caller, action, user)


def _held_once(judge: Any) -> None:
    """The judge's two replays hold each done object they set aside alike once, not twice
    (:attr:`~accord.center.picture.replay.Replay.twin`)."""
    replay, before = judge.replay, judge._before
    for key, objects in replay.aside().items():
        theirs = before.aside().get(key, {})
        for object_id, body in objects.items():
            other = theirs.get(object_id)
            if isinstance(other, bytes) and other == body:
                assert other is body, (key.name, object_id)


def _kept_as_afresh(center: Center, caller: Caller, action: str, user: str) -> None:
    """The kept judge's report, its JSON as the route writes it (reused while nothing was
    folded and no deadline passed), and the report of a judge folded on from the newest
    checkpoint (as after a restart), against a judge folded afresh that sets nothing aside."""
    judging = center.cache(JUDGE)
    before = judging.judge
    kept = compliance(center, caller).model_dump()
    if action != "rewind" and before is not None:
        assert judging.judge is before  # extended, not folded again
    written = compliance_json(center, caller)
    one = party_json(center, caller, "blue")
    held = judging.judge
    assert held is not None
    _held_once(held)
    judge_checkpoints.write(center, compliance_module.captured(center))
    judging.judge = None
    restarted = compliance(center, caller).model_dump()
    if judging.judge is not None:
        _held_once(judging.judge)  # restored from a checkpoint: still held once
    judging.judge = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay_module, "SWEEP_EVERY", 1 << 62)  # none set aside
        patch.setattr(judge_checkpoints, "restore", lambda *args, **kwargs: None)
        afresh = compliance(center, caller)
    judging.judge = held
    assert kept == afresh.model_dump(), (user, action)
    assert restarted == afresh.model_dump(), (user, action)
    assert written == afresh.model_dump_json().encode(), (user, action)
    (blue,) = (p for p in afresh.parties if p.party == "blue")
    assert one == blue.model_dump_json().encode(), (user, action)


def test_a_warm_up_stopped_mid_fold_keeps_a_prefix_and_the_report_goes_on_from_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM while the start-up folds the judge (a minute at a million entries without a
    checkpoint): the fold ends at its next chunk, and the first report folds on from the
    prefix it kept, answering as a judge folded afresh."""
    for k in range(4):
        desk.ok(desk.post("/v1/operations", "blue-officer", json=operation(21.3 + k / 100, 25.9)))
    center = desk.center
    caller = center.authenticate(desk.tokens["observer"])
    assert caller is not None
    expected = compliance(center, caller).model_dump()
    judging = center.cache(JUDGE)
    judging.judge = None
    monkeypatch.setattr(judge_checkpoints, "restore", lambda *args, **kwargs: None)
    monkeypatch.setattr(compliance_module, "FOLD_CHUNK", 2)
    stop = threading.Event()
    extend = compliance_module.Judge.extend
    chunks: list[int] = []

    def extended(self: Any, *args: Any, **kwargs: Any) -> Any:
        chunks.append(len(args[1]))
        stop.set()  # the server is told to stop while the first chunk folds
        return extend(self, *args, **kwargs)

    monkeypatch.setattr(compliance_module.Judge, "extend", extended)
    compliance_module.warm(center, stop)
    with center.reading() as session:
        size = center.log(session).size
    kept = judging.judge
    assert kept is not None and chunks == [2] and kept.size == 2 < size
    monkeypatch.setattr(compliance_module.Judge, "extend", extend)
    assert compliance(center, caller).model_dump() == expected
    assert judging.judge is kept and kept.size == size  # folded on from the prefix
