"""An operation whose conflicts are too many for one record entry (DECISIONS 12: every entry
is at most 64 KiB; a larger group of findings is split into several entries, still O(N)).

Proposed against a world of a thousand shared objects it conflicts with, it is taken: its
entry carries the first run of its conflicts, and the center's
``operation.conflicts_continued`` entries right after it, written in the same transaction,
carry the rest, each within 64 KiB. Its answers, the center's recheck before approval, the
picture and compliance see the whole list; ``accord verify`` passes on the log a party
takes home (acts checked against their roots and requests), and names the entry when a
center that rewrites its own entries drops or swaps a part."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.agreement import ObjectKind
from accord.center.entry_kinds import Recorded
from accord.center.operations.entries import (
    CONFLICTS_CONTINUED,
    CONFLICTS_UPDATED,
    EVENT_BUDGET,
    PROPOSED,
    split,
)
from accord.center.operations.entries import entry_of as entry_kind_of
from accord.center.operations.entries import public as public_cut
from accord.center.picture.replay import Replay
from accord.center.signing.service import agreement_document
from accord.chrono import format_instant
from accord.cli_record import service_causes
from accord.deconfliction import Conflict
from accord.record.canonical import canonical_json, loads_canonical
from accord.record.entries import open_envelope
from accord.record.log import MerkleLog
from accord.record.recorder import Recorder
from accord.record.tiles import MAX_ENTRY_BYTES
from accord.record.verify import VerificationError, verify_log
from accord.world import Disclosure
from support.clock import Clock
from support.declared import declare
from support.desk import AID
from support.desk import operation as operation_at
from support.jig import AGREEMENT, NOW
from support.operations import WS, operation
from support.record import served_head
from support.service import Service, center_of, ring_of, rooted_service

OPS = "/v1/operations"
N = 1_000
"""Red's shared positions within 3 km of op-c1 (21.42, 25.12): each a blocking conflict."""


def position(i: int, *, party: str = "red", disclosure: str = "shared") -> dict[str, Any]:
    lon, lat = 21.42 + 0.0006 * (i % 40 - 20), 25.12 + 0.0006 * (i // 40 - 12)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "kind": "position", "id": f"pos-{party}-{disclosure}-{i:04d}", "party": party,
            "declared_by": party, "disclosure": disclosure, "uncertainty_m": 50,
            "valid_from": format_instant(NOW - timedelta(days=1)),
            "valid_to": format_instant(NOW + timedelta(days=2)),
        },
    }  # fmt: skip


@pytest.fixture
def service(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[Service]:
    """A rooted center (every write a party's signed act) over a world of N shared red
    positions, written straight into its table (no entry each: only the operation's matter
    here), its phase started."""
    with rooted_service(tmp_path, database_url, now=clock) as svc:
        with center_of(svc).writing() as unit:
            for i in range(N):
                declare(unit.session, position(i), at=NOW)
        confirmed = svc.post("/v1/phases/confirm", "hnc-notifier", json=AID)
        assert confirmed.status_code == 201, confirmed.text
        yield svc


def answered(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def leaves(service: Service, start: int = 0) -> list[bytes]:
    with center_of(service).reading() as session:
        log = center_of(service).log(session)
        return [log.entry(i) for i in range(start, log.size)]


def entry_of(leaf: bytes) -> dict[str, Any]:
    return loads_canonical(open_envelope(leaf)[2])  # type: ignore[no-any-return]


def export(service: Service, path: Path) -> Path:
    """The record as a party takes it home: its entries and the latest signed head."""
    head = served_head(service.get("/v1/record/head", "observer").json())
    served = service.get("/v1/record/entries", "observer").json()["entries"]
    lines = [json.dumps({"i": e["index"], "data": e["data"]}) for e in served]
    path.write_text("\n".join([*lines, json.dumps({"head": head})]) + "\n", encoding="utf-8")
    return path


def verify(service: Service, path: Path) -> None:
    mine = agreement_document(center_of(service).agreement)
    verify_log(path, keys=ring_of(service), workers=1, agreement=mine, causes=service_causes())


def retold(service: Service, path: Path, kept: list[bytes], tail: list[dict[str, Any]]) -> Path:
    """The log as a center that rewrites its own entries would serve it: ``kept`` as they
    were, then the center's ``tail`` events signed anew (numbered on, chained on), and a
    head it signs over them — every signature, link and number holds."""
    center = center_of(service)
    key = center.keys.center()
    log = MerkleLog.open(path, center.origin)
    log.append_many(kept)
    recorder = Recorder(log)
    for event in tail:
        recorder.append(event, key=key, at=NOW)
    recorder.sign_head(key=key, timestamp=int(NOW.timestamp()) + 60)
    log.close()
    return path


def public(conflicts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(c["kind"], c["with"], c["party"], c["blocking"]) for c in conflicts]


def test_an_operation_against_a_thousand_objects_is_recorded_in_parts(
    service: Service, clock: Clock, tmp_path: Path
) -> None:
    start = len(leaves(service))
    op = answered(service.post(OPS, "blue-officer", json=operation("op-c1")), 201)
    assert len(op["conflicts"]) == N and op["blocking_conflicts"] == N
    written = leaves(service, start)
    made = [entry_of(leaf) for leaf in written]
    first, rest = made[0]["event"], [m["event"] for m in made[1:]]
    # the party's act, then the center's parts: each within 64 KiB, as few as the bytes need
    assert made[0]["author"] == "blue" and "act" in made[0]
    assert {m["author"] for m in made[1:]} == {center_of(service).origin}
    assert max(len(leaf) for leaf in written) <= MAX_ENTRY_BYTES
    parts = len(written)
    assert first["continued"] == parts and first["conflicts_total"] == N
    assert [(e["kind"], e["continues"], e["part"], e["parts"]) for e in rest] == [
        (CONFLICTS_CONTINUED, op["entry"], k, parts) for k in range(2, parts + 1)
    ]
    listed = first["conflicts"] + [c for e in rest for c in e["conflicts"]]
    size = len(canonical_json(listed)) + len(canonical_json(first["feature"]))
    assert 2 <= parts <= size // EVENT_BUDGET + 2, (parts, size)  # O(N): ceil(bytes / limit)
    for user in ("blue-officer", "red-officer", "observer"):
        seen = answered(service.get(f"{OPS}/{op['id']}", user))
        assert public(seen["conflicts"]) == public(listed) and len(listed) == N
    # A party's verifier passes the log, and names the entry where a part is missing or out
    # of its order.
    verify(service, export(service, tmp_path / "record.jsonl"))
    kept = written[:-2]
    cases = [
        ("dropped", rest[-2:-1], start + parts - 1, "the log ends before it"),
        ("swapped", [rest[-1], rest[-2]], start + parts - 2, f"it says it is part {parts} of"),
    ]
    for name, tail, index, words in cases:
        path = retold(service, tmp_path / f"{name}.sqlite", leaves(service)[:start] + kept, tail)
        with pytest.raises(VerificationError) as caught:
            verify(service, path)
        assert caught.value.index == index and words in caught.value.reason, caught.value

    # Blue amends it (a new name): the amendment is recorded in parts as well, then the
    # center's check of the amended area for every party.
    before = len(leaves(service))
    renamed = operation("op-c1", name="Strike on depot D-14, west gate")
    path = f"{OPS}/{op['id']}"
    amended = answered(service.client.put(path, json=renamed, headers=service.auth("blue-officer")))
    assert amended["version"] == 2 and len(amended["conflicts"]) == N
    written = leaves(service, before)
    kinds = [entry_of(leaf)["event"]["kind"] for leaf in written]
    assert kinds == ["operation.amended", *[CONFLICTS_CONTINUED] * (parts - 1), "operation.checked"]
    assert max(len(leaf) for leaf in written) <= MAX_ENTRY_BYTES

    # Red declares a hidden position in the area: before red's approval, the center's
    # recheck records the N + 1 conflicts in parts too, and the approval (with its
    # override) and the execution go ahead.
    with center_of(service).writing() as unit:
        declare(unit.session, position(0, disclosure="center"), at=NOW)
    before = len(leaves(service))
    reason = "the positions were pulled back this morning"
    approved = service.post(f"{path}/approve", "red-approver", json={"override_reason": reason})
    approved = answered(approved)
    assert approved["status"] == "approved" and approved["blocking_conflicts"] == N + 1
    recheck = [entry_of(leaf)["event"] for leaf in leaves(service, before)]
    kinds = [e["kind"] for e in recheck]
    assert kinds[0] == "operation.conflicts_updated" and kinds[-1] == "operation.approved"
    assert set(kinds[1:-1]) == {CONFLICTS_CONTINUED} and recheck[0]["continued"] == len(kinds) - 1
    clock.at = WS + timedelta(minutes=5)
    assert answered(service.post(f"{path}/execute", "blue-officer"))["status"] == "executed"
    verify(service, export(service, tmp_path / "after.jsonl"))

    # The picture, replayed from the record, has the whole list and nothing it cannot fold.
    picture = answered(service.get("/v1/picture", "observer", params={"at": clock.at.isoformat()}))
    assert picture["anomalies"] == []
    (pictured,) = [o for o in picture["operations"] if o["id"] == op["id"]]
    assert pictured["status"] == "executed"
    assert public(pictured["conflicts"]) == public(
        answered(service.get(path, "observer"))["conflicts"]
    )
    assert len(pictured["conflicts"]) == N + 1

    # Compliance finds nothing wrong with the execution (approved, after the center's
    # recheck), and in a late report with N conflicts exactly what it finds in one with none.
    blue = answered(service.get("/v1/compliance/blue", "observer"))
    assert blue["findings"] == [], blue
    found = []
    for lon, lat in ((21.42, 25.12), (21.9, 24.2)):
        body = operation_at(lon, lat, "blue", category="imminent_threat")
        executed = clock.at - timedelta(minutes=120)
        body["properties"] |= {
            "executed_at": format_instant(executed),
            "window_start": format_instant(executed - timedelta(minutes=10)),
            "window_end": format_instant(executed + timedelta(minutes=10)),
        }
        reported = answered(service.post(f"{OPS}/report", "blue-officer", json=body), 201)
        report = answered(service.get("/v1/compliance/blue", "observer"))
        (late,) = [f for f in report["findings"] if f["subject"] == reported["id"]]
        assert late["entries"] == [reported["entry"]]
        detail = late["detail"].replace(reported["id"], "op")
        found.append(
            ({**late, "subject": 0, "entries": 0, "detail": detail}, reported["conflicts"])
        )
    assert found[0][0] == found[1][0] and [len(c) for _, c in found] == [N + 1, 0]
    verify(service, export(service, tmp_path / "last.jsonl"))


# --- split and folded: as if one entry (no database) ------------------------------------------

ORIGIN = "jig-example.accord"
KINDS = list(ObjectKind)
APPROVE = (
    "red",
    {"kind": "operation.approved", "operation": "op-1", "user": "red-approver",
     "status": "approved", "transitions": []},
)  # fmt: skip


def conflict_lists(size: int = 60) -> st.SearchStrategy[list[Conflict]]:
    one = st.builds(
        Conflict,
        operation=st.just("op-1"),
        kind=st.sampled_from(KINDS),
        with_id=st.text("abcdef-0123456789", min_size=1, max_size=24),
        party=st.sampled_from(["blue", "red", "hnc"]),
        distance_m=st.floats(0, 50_000),
        threshold_m=st.floats(0, 50_000),
        blocking=st.booleans(),
        disclosure=st.sampled_from(list(Disclosure)),
        stale=st.booleans(),
        margin=st.booleans(),
    )
    return st.lists(one, max_size=size)


def proposal(conflicts: list[Conflict]) -> dict[str, Any]:
    feature = operation("op-c1")
    feature["properties"] |= {"id": "op-1", "proposed_by": "blue", "executor": ["blue"]}
    return entry_kind_of(PROPOSED).build(
        operation="op-1", user="blue-officer", status="proposed",
        transitions=[{"at": format_instant(NOW), "actor": "blue", "action": "propose",
                      "from": None, "to": "proposed", "detail": ""}],
        feature=feature, conflicts=[public_cut(c).as_dict() for c in conflicts],
    )  # fmt: skip


def recorded(events: list[tuple[str, dict[str, Any]]]) -> list[Recorded]:
    return [Recorded(i, author, NOW, event) for i, (author, event) in enumerate(events)]


def parts_of(
    author: str, event: dict[str, Any], index: int, budget: int
) -> list[tuple[str, dict[str, Any]]]:
    made = split(event, index=index, budget=budget)
    return [(author, made[0]), *((ORIGIN, e) for e in made[1:])]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conflict_lists(), conflict_lists(), st.integers(600, 1_500))
def test_split_and_folded_is_the_one_entry(
    proposed: list[Conflict], updated: list[Conflict], budget: int
) -> None:
    """A proposal and the center's update, each split at a random budget and folded, leave
    the operation exactly as each whole entry does (their entries' indices aside)."""
    first = proposal(proposed)
    update = entry_kind_of(CONFLICTS_UPDATED).build(
        operation="op-1", user="center", status="proposed", transitions=[],
        blocking_conflicts=sum(c.blocking for c in updated),
        conflicts=[public_cut(c).as_dict() for c in updated],
    )  # fmt: skip
    whole = Replay(AGREEMENT, ORIGIN).fold(recorded([("blue", first), (ORIGIN, update), APPROVE]))
    events = parts_of("blue", first, 0, budget)
    events += parts_of(ORIGIN, update, len(events), budget)
    events.append(APPROVE)
    for _, event in events:
        assert len(canonical_json(event)) <= budget
    split_ = Replay(AGREEMENT, ORIGIN).fold(recorded(events))
    assert whole.anomalies == split_.anomalies == []
    one, other = whole.operations["op-1"], split_.operations["op-1"]
    assert other.conflicts == one.conflicts == update["conflicts"]
    assert other.awaiting is None
    assert dataclasses.replace(other, entry=one.entry, entries=one.entries) == one


@settings(max_examples=100, deadline=None)
@given(conflict_lists(), st.randoms(use_true_random=False), st.integers(600, 1_500))
def test_where_the_list_is_cut_depends_on_nothing_hidden(
    conflicts: list[Conflict], rnd: Any, budget: int
) -> None:
    """DECISIONS 2: the number of parts (and every byte of every part) must tell a reader
    nothing about another party's hidden objects. It holds because the center splits the
    entry's event — whose conflicts are already cut for a reader who owns nothing
    (``public``: a hidden object's conflict is its kind, owner and blocking flag, the same
    shape whatever it is) — by its bytes alone. Here every hidden conflict's content (which
    object, how far, its threshold, stale, margin) is redrawn: the parts are the same."""
    redrawn = [
        c._replace(
            with_id=f"pos-{rnd.randrange(10**9)}", distance_m=rnd.uniform(0, 9e4),
            threshold_m=rnd.uniform(0, 9e4), stale=rnd.random() < 0.5,
            margin=rnd.random() < 0.5,
        )
        if c.disclosure is not Disclosure.SHARED
        else c
        for c in conflicts
    ]  # fmt: skip
    one = split(proposal(conflicts), index=7, budget=budget)
    other = split(proposal(redrawn), index=7, budget=budget)
    assert [canonical_json(e) for e in one] == [canonical_json(e) for e in other]


def test_a_part_missing_or_out_of_order_does_not_fold() -> None:
    many = [Conflict("op-1", KINDS[0], f"s-{i}", "hnc", 10.0, 1500.0, True) for i in range(40)]
    events = parts_of("blue", proposal(many), 0, 1_500)
    assert len(events) >= 3
    cases = {
        "a part missing": [events[0], *events[2:], APPROVE],
        "parts swapped": [events[0], events[2], events[1], *events[3:], APPROVE],
        "the last part missing": [*events[:-1], APPROVE],
    }
    for name, case in cases.items():
        folded = Replay(AGREEMENT, ORIGIN).fold(recorded(case))
        assert folded.anomalies, name
        reason = folded.reasons[folded.anomalies[0]]
        assert "does not fit the entries before it" in reason, (name, reason)
        assert folded.operations["op-1"].status == "proposed", name  # the approval did not fold


def test_the_fold_names_the_members_the_record_names() -> None:
    """The fold spells the members itself (a fold imports no more than state and functions:
    ``center-folds-plain``); they are the record's."""
    from accord.center.operations import fold
    from accord.record import continued

    assert (fold.CONTINUED, fold.CONTINUES) == (continued.CONTINUED, continued.CONTINUES)
