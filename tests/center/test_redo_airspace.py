"""Redo of the airspace entries (:mod:`accord.center.airspace.redo`), against its oracle
(:mod:`support.redo`): alert groups raised from tracks and from flight plans, acknowledged,
escalated, declared overdue and cleared after the backup are rebuilt on the backup's tables
as the service wrote them, on SQLite and PostgreSQL, under a legacy agreement and a rooted
one — but for what the record does not hold (each left out below, with why)."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import support.redo
from accord.center.airspace.alerts import acks_of, alert_of, escalations_of, recipients_of
from accord.center.airspace.escalation import ALERT_ACK_WITHIN, escalate_alerts_due
from accord.center.airspace.store import FINDING, STATE, load_groups
from accord.center.airspace.views import alert_out
from accord.center.db import make_engine
from accord.center.db.models import Base
from accord.center.roles import Role
from accord.chrono import format_instant
from support.clock import Clock
from support.jig import NOW
from support.redo import LEGACY_USERS, Serve, check_redo
from support.service import Service, center_of, rooted_service
from support.tracks import BLUE, RED, airspace_entries, entries, plan, post, report

BACKENDS = ("sqlite", "postgresql")
DUE = NOW + ALERT_ACK_WITHIN

PLACES = ("x", "y", "xa", "ya", "xb", "yb")
"""A track conflict's places: the center's extrapolation of the tracks, which no entry holds
(the event has no place for a conflict, and the tracks are not recorded)."""

UNRECORDED_USERS: dict[str, set[str]] = {
    # the users of the party's contact chain (the contact alerted, the users skipped): the
    # entry names roles only, by design; the roles skipped are compared (_details)
    "escalation_steps": {"contact", "skipped"},
}

TRACK_GROUPS: dict[str, set[str]] = {
    # a track conflict's places are in no entry: the findings are compared but for them
    # (_details)
    "airspace_alert_groups": {"findings"},
}

HIDDEN_GROUPS: dict[str, set[str]] = {
    # a hidden aircraft's key, id and mission, and the openings of the owners' commitments
    # (salts included), are the center's alone: the record holds its owner and operator
    # only, and no number about a pair it is in (DECISIONS 1)
    "airspace_alert_groups": {"aircraft", "findings", "sealed"},
}


def _ignoring(*parts: dict[str, set[str]], legacy: bool = True) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {k: set(v) for k, v in LEGACY_USERS.items()} if legacy else {}
    for part in parts:
        for table, columns in part.items():
            out.setdefault(table, set()).update(columns)
    return out


KNOWN = ("owner", "operator", "party", "disclosure")
"""What the record says of a hidden aircraft (its owner: the owner of a commitment)."""

NUMBERS = (*PLACES, "tcpa", "dcpa", "vert", "t_until", "t_cpa")
"""What the record says of no pair with a hidden aircraft (DECISIONS 1), places included."""


def _plain(value: Any) -> Any:
    """A number as compared (NaN as None: NaN equals nothing)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _details(url: str, left_out: tuple[str, ...]) -> dict[str, Any]:
    """What the comparisons above leave out but the record holds: each group's findings but
    for ``left_out`` and its state, and each escalation step's roles skipped."""
    tables = Base.metadata.tables
    groups, steps = tables["airspace_alert_groups"], tables["escalation_steps"]
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            out: dict[str, Any] = {}
            for row in connection.execute(select(groups)):
                findings = np.frombuffer(row.findings, dtype=FINDING)
                state = np.frombuffer(row.state, dtype=STATE)
                names = [n for n in FINDING.names or () if n not in left_out]
                aircraft = [
                    {k: v for k, v in one.items() if one["disclosure"] == "shared" or k in KNOWN}
                    for one in json.loads(row.aircraft)
                ]
                out[row.id] = (
                    [tuple(_plain(f[n].item()) for n in names) for f in findings],
                    state.tolist(),
                    aircraft,
                )
            for row in connection.execute(select(steps)):
                roles = [role for role, _ in json.loads(row.skipped)]
                out[f"step {row.subject_id} {row.party} {row.level} {row.kind}"] = roles
            return out
    finally:
        engine.dispose()


def _nonces(url: str) -> set[tuple[str, int]]:
    nonces = Base.metadata.tables["act_nonces"]
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {(r.nonce, r.entry) for r in connection.execute(select(nonces))}
    finally:
        engine.dispose()


READERS = (("blue", Role.OFFICER), ("red", Role.OFFICER), ("observers", Role.MONITOR))


def _views(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every alert as each of :data:`READERS` reads it (the readers cope with the rows)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            groups = load_groups(session)
            ids = [g.id for g in groups]
            recipients = recipients_of(session, ids)
            acks, steps = acks_of(session, ids), escalations_of(session, recipients)
            out: dict[str, list[dict[str, Any]]] = {}
            for member, role in READERS:
                out[member] = [
                    alert_out(
                        alert_of(
                            g, n, member, role, acknowledged=acks[g.id],
                            recipients=recipients[g.id], escalations=steps,
                        )
                    ).model_dump(mode="json")
                    for g in groups
                    for n in np.flatnonzero(g.readable(member, role)).tolist()
                ]  # fmt: skip
            return out
    finally:
        engine.dispose()


@pytest.fixture
def details(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Any, Any]]:
    """Once the oracle compared the tables, what it cannot compare, of the original and of
    the restored database: ``details`` (the findings but for a track conflict's places,
    the state, the roles skipped: :func:`_details`), ``nonces`` and ``views``
    (:func:`_views`)."""
    compare = support.redo.assert_same_tables
    seen: dict[str, tuple[Any, Any]] = {}

    def compared(original: str, restored: str, **kwargs: Any) -> None:
        compare(original, restored, **kwargs)
        seen["details"] = (_details(original, PLACES), _details(restored, PLACES))
        seen["hidden"] = (_details(original, NUMBERS), _details(restored, NUMBERS))
        seen["nonces"] = (_nonces(original), _nonces(restored))
        seen["views"] = (_views(original), _views(restored))

    monkeypatch.setattr(support.redo, "assert_same_tables", compared)
    return seen


def rooted_clocked(clock: Clock) -> Serve:
    """A rooted service (members sign their acts) whose clock the scenario moves."""

    @contextlib.contextmanager
    def serve(tmp_path: Path, database_url: str) -> Iterator[Service]:
        tmp_path.mkdir(parents=True, exist_ok=True)
        with rooted_service(tmp_path, database_url, now=clock) as service:
            yield service

    return serve


def chain(service: Service, party: str) -> None:
    """``party``'s chain: its officer first (absent), its approver as backup (present)."""
    body = {"primary": f"{party}-officer", "backup": f"{party}-approver"}
    assert service.put("/v1/contacts", f"{party}-officer", json=body).status_code == 200
    assert service.post("/v1/presence", f"{party}-approver").status_code == 201


def acknowledge(service: Service, user: str, alert: dict[str, Any]) -> None:
    ack = {"content_hash": alert["content_hash"]}
    answer = service.post(f"/v1/alerts/{alert['id']}/acknowledge", user, json=ack)
    assert answer.status_code == 201, answer.text


def conflict_story(service: Service, clock: Clock, backup: Any, backup_at: str) -> None:
    """BLUE and RED in conflict; red acknowledges; blue, which does not, is escalated to its
    backup, then declared overdue; BLUE turns away and the alert is cleared."""
    chain(service, "blue")
    if backup_at == "raise":
        backup()
    assert post(service, "blue-officer", BLUE).status_code == 200
    (alert,) = post(service, "red-officer", RED).json()["raised"]
    if backup_at == "ack":
        backup()
    acknowledge(service, "red-officer", alert)
    center = center_of(service)
    assert escalate_alerts_due(center, DUE) == 1  # blue: to its backup
    assert escalate_alerts_due(center, DUE + timedelta(minutes=1)) == 1  # blue: overdue
    at = clock.set(4)
    away = dict(BLUE, time=format_instant(at), track_deg=270, alt_ft=36000)
    assert post(service, "blue-officer", away).json()["cleared"] == [alert["id"]]
    kinds = [e["kind"] for _, e in airspace_entries(service)]
    assert kinds == [
        "airspace.conflict", "airspace.acknowledged", "airspace.escalated", "airspace.overdue",
        "airspace.cleared",
    ]  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("backup_at", ["raise", "ack"])
def test_a_conflict_acknowledged_escalated_and_cleared_is_rebuilt(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    backup_at: str,
    details: dict[str, tuple[Any, Any]],
) -> None:
    def scenario(desk: Any, backup: Any) -> None:
        conflict_story(desk, desk.clock, backup, backup_at)

    restored = check_redo(
        request, tmp_path, backend, scenario,
        ignore=_ignoring(TRACK_GROUPS, UNRECORDED_USERS),
    )  # fmt: skip
    assert restored.recovered > 0 and restored.notes == ()
    before, after = details["details"]
    assert after == before  # the findings but for the places, the roles skipped
    ((group, (findings, state, _)),) = [(k, v) for k, v in before.items() if k.startswith("a-")]
    assert len(findings) == 1 and state[0][1] != np.iinfo(np.int64).min  # cleared
    assert before[f"step {group} blue 1 escalated"] == ["primary"]
    _read_alike(details["views"])


def _read_alike(views: tuple[Any, Any]) -> None:
    """The readers read the same but the places a track conflict's alert shows and, to blue,
    the users of its own chain (an empty name for each user skipped)."""
    for member, _ in READERS:
        ((was,), (now,)) = (views[0][member], views[1][member])
        assert _but_unrecorded(now) == _but_unrecorded(was)
    ((blue,),) = [[r for r in a["recipients"] if r["party"] == "blue"] for a in views[1]["blue"]]
    assert [(s["contact"], s["skipped_users"]) for s in blue["escalations"]] == [
        (None, [""]),
        (None, []),
    ]


def _but_unrecorded(view: dict[str, Any]) -> dict[str, Any]:
    """An alert's view but for what is in no entry: a track conflict's place, the users of
    the escalation steps."""
    out = {k: v for k, v in view.items() if k not in ("lat", "lon")}
    out["recipients"] = [
        r | {"escalations": [
            {k: v for k, v in s.items() if k not in ("contact", "skipped_users")}
            for s in r["escalations"]
        ]}
        for r in view["recipients"]
    ]  # fmt: skip
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_under_a_rooted_agreement_the_acknowledging_user_is_rebuilt(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    details: dict[str, tuple[Any, Any]],
) -> None:
    clock = Clock()

    acked: list[int] = []

    def scenario(service: Service, backup: Any) -> None:
        conflict_story(service, clock, backup, "raise")
        kinds = [e["kind"] for _, e in entries(service)]
        acked.append(kinds.index("airspace.acknowledged"))

    restored = check_redo(
        request, tmp_path, backend, scenario, serve=rooted_clocked(clock),
        ignore=_ignoring(TRACK_GROUPS, UNRECORDED_USERS, legacy=False),
        # a track report is a signed act that writes no entry: its nonce is in no entry (the
        # acknowledgement's is, and is compared below)
        skip=("act_nonces",),
    )  # fmt: skip
    assert restored.recovered > 0 and restored.notes == ()
    before, after = details["details"]
    assert after == before
    original, rebuilt = details["nonces"]
    assert rebuilt < original and len(original - rebuilt) == 3  # the three track reports
    assert acked[0] in {e for _, e in rebuilt}  # the acknowledgement's
    _read_alike(details["views"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_flight_plan_conflict_of_shared_plans_is_rebuilt_exactly(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    def scenario(desk: Any, backup: Any) -> None:
        backup()
        blue = desk.ok(desk.post("/v1/declarations", "blue-officer", json=plan(21.0, 22.0, "blue")))
        red = desk.ok(desk.post("/v1/declarations", "red-officer", json=plan(22.0, 21.0, "red")))
        (found,) = red["airspace"]
        (alert,) = desk.get("/v1/alerts", "blue-officer").json()["items"]
        assert alert["id"] == found["alert"] and alert["lat"] is not None
        acknowledge(desk, "blue-approver", alert)
        path = f"/v1/declarations/{blue['id']}/withdraw"
        desk.ok(desk.post(path, "blue-officer", json={"reason": "x"}), 200)
        kinds = [e["kind"] for _, e in airspace_entries(desk)]
        assert kinds == ["airspace.conflict", "airspace.acknowledged", "airspace.cleared"]

    # every column: the plans are in the record, so the places are computed again
    restored = check_redo(request, tmp_path, backend, scenario)
    assert restored.recovered > 0 and restored.notes == ()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_emergency_and_an_area_violation_are_rebuilt_exactly(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    def scenario(desk: Any, backup: Any) -> None:
        backup()
        strike = report("g-f16", None, 25.2, 20.98, mission="strike", alt_ft=20000)
        medevac = report("g-uh1", None, 25.15, 21.30, mission="medevac", gs_kt=110, alt_ft=2500)
        calling = report("r7", "red", 24.0, 22.0, squawk="7700")
        assert post(desk, "admin", strike, medevac).status_code == 200
        assert post(desk, "red-officer", calling).status_code == 200
        kinds = sorted(e["kind"] for _, e in airspace_entries(desk))
        assert kinds == ["airspace.emergency", "airspace.exempt", "airspace.violation"]

    # every column: an area finding's and an emergency's numbers are all in the event
    restored = check_redo(request, tmp_path, backend, scenario)
    assert restored.recovered > 0 and restored.notes == ()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conflict_with_a_hidden_aircraft_is_rebuilt_but_for_what_only_the_center_knew(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    details: dict[str, tuple[Any, Any]],
) -> None:
    def scenario(desk: Any, backup: Any) -> None:
        backup()
        hidden = dict(BLUE, id="MARKER-HIDDEN-AC", disclosure="center")
        assert post(desk, "blue-officer", hidden).status_code == 200
        (alert,) = post(desk, "red-officer", RED).json()["raised"]
        acknowledge(desk, "blue-officer", alert)
        acknowledge(desk, "red-officer", alert)

    restored = check_redo(request, tmp_path, backend, scenario, ignore=_ignoring(HIDDEN_GROUPS))
    assert restored.recovered > 0 and restored.notes == ()
    # the findings but for the numbers about the pair, the state, the aircraft but for the
    # hidden one's key, id and mission
    assert details["hidden"][1] == details["hidden"][0]
    before, after = details["views"]
    # the monitors are told what the record holds, and no more: the same
    assert after["observers"] == before["observers"]
    # red is told the same but the place of its own aircraft (the center's extrapolation)
    ((red_before,), (red_after,)) = before["red"], after["red"]
    assert red_before["lat"] is not None and red_after["lat"] is None
    place = ("lat", "lon")
    assert {k: v for k, v in red_after.items() if k not in place} == {
        k: v for k, v in red_before.items() if k not in place
    }
    # blue's own hidden aircraft: its id is in no entry, so blue is told whose it is (its
    # own), as red is, and the opening of its commitment is gone with the salt
    ((blue_before,), (blue_after,)) = before["blue"], after["blue"]
    assert blue_before["tracks"] == ["MARKER-HIDDEN-AC", "r1"] and blue_before["opening"]
    assert blue_after["tracks"] == [None, "r1"] and blue_after["opening"] is None
    assert blue_after["others"] == [{"party": "blue", "operator": "blue"}]
    assert blue_after["label"] == "conflict: an aircraft of blue / r1"
