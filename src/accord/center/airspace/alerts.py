"""Alerts out: each alert cut for one reader (:func:`alert_of`), listed, looked up,
acknowledged by its group's hash, and announced in one live event per reader cut.

**Alerts are not direct-line messages.** A direct-line message has a party as its sender and
a user who sent it (a foreign key), and every reader of the line assumes so; the center as a
sender would change that model throughout. So alerts have their own table and routes
(``GET /v1/alerts``, ``POST /v1/alerts/{id}/acknowledge``). A party acknowledges an alert by
naming its ``content_hash`` — the SHA-256 of the canonical JSON of the alert's record entry,
which every party holds — and the acknowledgement is an entry signed by that party. A group
is acknowledged once per party (naming its entry's hash) and announced in one live event per
reader cut listing its alerts (the first :data:`EVENT_ALERTS_MAX`; past that ``truncated``,
and the page reads the list).

**The cut.** An alert involving an aircraft hidden from a reader tells that reader only the
aircraft's owning party (or operator), that separation is predicted to be lost and when
(DECISIONS 1) — no distance, no vertical separation, no time of closest approach (its gap to
the loss of separation, times the closing speed, measures the miss distance), never the
hidden aircraft's id, mission or position; the place is the reader's own aircraft's position
when separation is lost, or none.

The cut is a plain value (:class:`AlertView`; :func:`alert_json` is its JSON, as the live
events carry it); the routes answer it as :class:`~accord.center.airspace.views.AlertOut`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.aircraft import EMERGENCY_SQUAWKS
from accord.center import visibility
from accord.center.airspace.entries import ACKNOWLEDGED_EVENT, ENTRIES
from accord.center.airspace.findings import IntArray, squawk_of
from accord.center.airspace.store import (
    GROUPS,
    OPEN,
    Group,
    id_order,
    in_order,
    instant,
    load_groups,
    load_named,
    split_alert_id,
)
from accord.center.airspace.trackstore import check_reader, may_see_track
from accord.center.db.models_airspace import AirspaceAck, AirspaceAlertRecipient
from accord.center.db.models_escalation import EscalationStep
from accord.center.escalation.store import StepView, escalated, step_view, steps_of
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.chrono import format_instant
from accord.errors import HashMismatch, IllegalTransition, NotAuthorized, NotFound

__all__ = [
    "EVENT_ALERTS_MAX",
    "AlertView",
    "OtherView",
    "PartyView",
    "acknowledge_alert",
    "acks_of",
    "alert_json",
    "alert_of",
    "announce",
    "at_second",
    "audience",
    "escalations_of",
    "get_alert",
    "json_time",
    "list_alerts",
    "recipients_of",
    "store_ack",
]

EVENT_ALERTS_MAX = 100
"""The most alerts one live event of a group carries for one reader; beyond it the event
says ``truncated`` and the page reads ``GET /v1/alerts``."""


Escalations = Mapping[tuple[str, str], Sequence[EscalationStep]]
"""Each (group, party)'s escalation steps, as stored (:func:`escalations_of`)."""


# --- the cut: plain values (the routes answer them as views.AlertOut) -----------------------


@dataclass(frozen=True, slots=True)
class PartyView:
    """Where one party concerned stands with an alert's group (see
    :class:`~accord.center.airspace.views.AlertPartyOut`)."""

    party: str
    acknowledged: bool
    ack_deadline: datetime
    deadline: datetime | None
    level: int
    overdue_at: datetime | None
    escalations: list[StepView]


@dataclass(frozen=True, slots=True)
class OtherView:
    """An aircraft (or flight plan) hidden from the reader: whose it is, nothing else."""

    party: str | None
    operator: str


@dataclass(frozen=True, slots=True)
class AlertView:
    """An airspace alert as one reader may see it (the fields of
    :class:`~accord.center.airspace.views.AlertOut`, which documents them, in its order)."""

    id: str
    kind: str
    source: str
    parties: list[str]
    tracks: list[str | None]
    others: list[OtherView]
    label: str
    at: datetime
    last_seen: datetime
    predicted_at: datetime | None
    tcpa_s: float | None
    lost: bool | None
    lat: float | None
    lon: float | None
    horizontal_nm: float | None
    vertical_ft: float | None
    area: str | None
    inside: bool | None
    detail: str
    cleared: bool
    cleared_at: datetime | None
    entry: int
    content_hash: str
    acknowledged: list[str]
    group: str | None = None
    recipients: list[PartyView] = field(default_factory=list)
    opening: dict[str, Any] | None = None
    squawk: str | None = None


def json_time(value: datetime) -> str:
    """An instant as the answers' JSON writes it (ISO 8601; ``Z`` for UTC, as pydantic)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return json_time(value)
    if isinstance(value, AlertView | PartyView | StepView | OtherView):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def alert_json(view: AlertView) -> dict[str, Any]:
    """``view`` as JSON values: what ``AlertOut`` answers, as the live events carry it."""
    out: dict[str, Any] = _plain(view)
    return out


def audience(agreement: Agreement, parties: Iterable[str]) -> list[str]:
    return visibility.alert_audience(agreement, parties)


def announce(
    session: Session,
    agreement: Agreement,
    items: Sequence[tuple[Group, IntArray]],
    kind: str,
    now: datetime,
    *,
    acks: Mapping[str, Sequence[str]],
    recipients: Mapping[str, Sequence[AirspaceAlertRecipient]],
    escalations: Escalations,
) -> None:
    """One event per distinct cut of the alerts ``items`` (groups and their alerts, in
    order: those of one pass, or of one group; members who see the same get one event):
    ``{"groups", "count", "truncated", "alerts"}`` — ``alerts`` the first
    :data:`EVENT_ALERTS_MAX` of the alerts the member may read, each as :func:`alert_of`,
    ``groups`` the groups of all of them. ``acks``, ``recipients``: each group's
    acknowledgements and recipients, by its id; ``escalations``: their escalation steps."""
    everyone: set[str] = set()
    for g, ns in items:
        if g.kind != "exempt":
            for k in np.unique(g.findings["p"][ns]).tolist():
                everyone |= set(g.party_sets[k])
    cuts: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for member in audience(agreement, everyone):
        role = visibility.alert_reader(agreement, member).role
        count = 0
        views: list[dict[str, Any]] = []
        groups: list[str] = []
        for g, ns in items:
            mine = ns[g.readable(member, role)[ns]]
            if not mine.size:
                continue
            count += int(mine.size)
            groups.append(g.id)
            for n in mine[: max(0, EVENT_ALERTS_MAX - len(views))].tolist():
                view = alert_of(
                    g, n, member, role,
                    acknowledged=acks.get(g.id, ()), recipients=recipients.get(g.id, ()),
                    escalations=escalations,
                )  # fmt: skip
                views.append(alert_json(view))
        if not count:
            continue
        payload = {
            "groups": sorted(set(groups)),
            "count": count,
            "truncated": count > len(views),
            "alerts": views,
        }
        text = json.dumps(payload, sort_keys=True)
        cuts.setdefault(text, ([], payload))[0].append(member)
    for members, payload in cuts.values():
        publish(session, kind=kind, at=now, audience=members, payload=payload)


# --- alerts out -----------------------------------------------------------------------------


def acks_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """The parties that acknowledged each of the groups ``ids``."""
    out: dict[str, list[str]] = {i: [] for i in ids}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(AirspaceAck.alert_id, AirspaceAck.party).where(
            AirspaceAck.alert_id.in_(chunk)
        )
        for alert_id, party in session.execute(query.order_by(AirspaceAck.party)):
            out[alert_id].append(party)
    return out


def recipients_of(session: Session, ids: Sequence[str]) -> dict[str, list[AirspaceAlertRecipient]]:
    """Each group's recipients (the parties concerned), by party."""
    out: dict[str, list[AirspaceAlertRecipient]] = {i: [] for i in ids}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for r in session.scalars(
            select(AirspaceAlertRecipient)
            .where(AirspaceAlertRecipient.alert_id.in_(chunk))
            .order_by(AirspaceAlertRecipient.party)
            .execution_options(populate_existing=True)  # clearing updates them in bulk
        ):
            out[r.alert_id].append(r)
    return out


def escalations_of(
    session: Session, recipients: Mapping[str, Sequence[AirspaceAlertRecipient]]
) -> dict[tuple[str, str], list[EscalationStep]]:
    """The escalation steps of the groups' parties concerned ``recipients`` (read only for
    the groups where one was escalated)."""
    ids = [i for i, rows in recipients.items() if any(escalated(r) for r in rows)]
    return steps_of(session, "alert", ids) if ids else {}


def _party_out(
    g: Group,
    r: AirspaceAlertRecipient,
    member: str,
    role: Role,
    acknowledged: Sequence[str],
    steps: Sequence[EscalationStep],
) -> PartyView:
    """Party ``r.party``'s standing with the group ``g`` for a reader: contact names on its
    own party's steps only."""
    own = r.party == member and role in (Role.OFFICER, Role.APPROVER)
    return PartyView(
        party=r.party,
        acknowledged=r.party in acknowledged,
        ack_deadline=g.raised_at + timedelta(seconds=r.ack_within_s),
        deadline=r.due_at,
        level=r.level,
        overdue_at=r.overdue_at,
        escalations=[step_view(step, own=own) for step in steps],
    )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def at_second(seconds: int) -> datetime:
    return instant(int(seconds) * 1_000_000)


def alert_of(
    g: Group,
    n: int,
    member: str,
    role: Role,
    *,
    acknowledged: Sequence[str] = (),
    recipients: Sequence[AirspaceAlertRecipient] = (),
    escalations: Mapping[tuple[str, str], Sequence[EscalationStep]] = {},
) -> AlertView:
    """Alert ``n`` of group ``g`` cut for a reader of ``member`` with ``role`` (see the module
    docstring); ``acknowledged``, ``recipients`` and ``escalations``: its group's
    acknowledgements, its parties' acknowledgement and escalation state, and their steps
    (those of any group, by group and party)."""
    f, state = g.findings[n], g.state[n]
    conflict = g.kind == "conflict"
    aircraft = [g.aircraft[int(f["a"])]] + ([g.aircraft[int(f["b"])]] if conflict else [])
    # an aircraft whose id the center no longer knows (a hidden one rebuilt from the record:
    # :mod:`~accord.center.airspace.redo`) is told as whose it is, to its owner too
    seen = [
        a["id"] is not None and may_see_track(member, role, a["owner"], a["disclosure"])
        for a in aircraft
    ]
    tracks = [a["id"] if ok else None for a, ok in zip(aircraft, seen, strict=True)]
    others = [
        OtherView(party=a["party"], operator=a["operator"])
        for a, ok in zip(aircraft, seen, strict=True)
        if not ok
    ]
    names = [
        a["id"] if ok else f"an aircraft of {a['party'] or a['operator']}"
        for a, ok in zip(aircraft, seen, strict=True)
    ]
    if g.source == "plan":
        names = [
            f"flight plan {a['id']}" if ok else f"a flight plan of {a['party'] or a['operator']}"
            for a, ok in zip(aircraft, seen, strict=True)
        ]
    lat = lon = None
    tcpa: float | None = None
    horizontal: float | None = None
    vertical: int | None = None
    predicted = at_second(f["t_los"])
    when_text = format_instant(predicted)
    flag = bool(f["flag"])
    code: str | None = None
    if conflict:
        label = f"conflict: {' / '.join(names)}"
        when = "lost now" if flag else f"from {when_text}"
        if all(seen):
            if not math.isnan(f["x"]):
                lon, lat = float(f["x"]), float(f["y"])
            horizontal, tcpa = _number(f["dcpa"]), _number(f["tcpa"])
            vertical = None if math.isnan(f["vert"]) else int(f["vert"])
            detail = (
                f"predicted loss of separation between {' and '.join(names)}: {when}"
                + f"; closest approach {horizontal} NM, {vertical} ft apart"
                + (f", in {tcpa:.0f} s" if tcpa is not None else "")
            )
        else:
            # DECISIONS 1: of a pair with an aircraft hidden from the reader, only that
            # separation is lost and when; the place is the reader's own aircraft's when it
            # is lost (no closest approach: its time, against the loss's, measures the miss)
            places = ((f["xa"], f["ya"]), (f["xb"], f["yb"]))
            own = [
                place
                for a, place in zip(aircraft, places, strict=True)
                if a["owner"] == member and not math.isnan(place[0])
            ]
            if own and role in (Role.OFFICER, Role.APPROVER):
                lon, lat = float(own[0][0]), float(own[0][1])
            detail = f"predicted loss of separation between {' and '.join(names)}: {when}"
    elif (code := squawk_of(g.area)) is not None:
        if all(seen):
            lon, lat = float(f["x"]), float(f["y"])
        meaning = EMERGENCY_SQUAWKS.get(code, "emergency")
        label = f"squawk {code} ({meaning}): {names[0]}"
        detail = (
            f"{names[0]} (operator {aircraft[0]['operator']}) squawks {code}, {meaning}, "
            f"since {when_text}"
        )
    else:
        if all(seen):
            lon, lat = float(f["x"]), float(f["y"])
        where = "is inside" if flag else f"is predicted to enter at {when_text}"
        label = f"designated area {g.area}: {names[0]}"
        detail = (
            f"{names[0]} (operator {aircraft[0]['operator']}) {where} designated area "
            f"{g.area}, closed to its operator"
        )
    opening = None
    sealed = json.loads(g.sealed)
    if member in sealed and role in (Role.OFFICER, Role.APPROVER):
        opening = sealed[member]
    cleared = int(state["cleared"])
    return AlertView(
        id=g.alert_id(n),
        kind="squawk" if code is not None else g.kind,
        source=g.source,
        parties=list(g.party_sets[int(f["p"])]),
        tracks=tracks,
        others=others,
        label=label,
        at=g.raised_at,
        last_seen=instant(int(state["seen"])),
        predicted_at=predicted,
        tcpa_s=tcpa,
        lost=flag if conflict else None,
        lat=None if lat is None else round(lat, 6),
        lon=None if lon is None else round(lon, 6),
        horizontal_nm=horizontal,
        vertical_ft=None if vertical is None else float(vertical),
        area=None if conflict or code is not None else g.area,
        inside=None if conflict or code is not None else flag,
        detail=detail,
        cleared=cleared != OPEN,
        cleared_at=None if cleared == OPEN else instant(cleared),
        entry=g.entry,
        content_hash=g.content_hash,
        group=g.id,
        acknowledged=list(acknowledged),
        recipients=[
            _party_out(g, r, member, role, acknowledged, escalations.get((g.id, r.party), ()))
            for r in recipients
        ],
        opening=opening,
        squawk=code,
    )


def _views(session: Session, shown: Sequence[tuple[Group, int]], caller: Caller) -> list[AlertView]:
    """The alerts ``shown`` as the caller may see them, with their groups' standing."""
    ids = sorted({g.id for g, _ in shown})
    recipients = recipients_of(session, ids)
    acks = acks_of(session, ids)
    steps = escalations_of(session, recipients)
    return [
        alert_of(
            g,
            n,
            caller.member,
            caller.role,
            acknowledged=acks[g.id],
            recipients=recipients[g.id],
            escalations=steps,
        )
        for g, n in shown
    ]


def list_alerts(
    center: Center, caller: Caller, *, include_cleared: bool, limit: int
) -> list[AlertView]:
    """The alerts the caller may see, newest first (then in the order of their ids): those
    of its party (monitors: all); open ones only unless ``include_cleared``. Reads the
    groups' arrays only as far as the page reaches."""
    check_reader(caller)
    member, role = caller.member, caller.role
    with center.reading() as session:
        where = [GROUPS.c.kind != "exempt"]
        if not include_cleared:
            where.append(GROUPS.c.open > 0)
        heads = [
            g for g in load_groups(session, *where, blobs=False) if g.may_read_any(member, role)
        ]
        ordered = in_order(heads)
        shown: list[tuple[Group, int]] = []
        k = 0
        while k < len(ordered) and len(shown) < limit:
            end = k + 1
            while end < len(ordered) and ordered[end].raised_at == ordered[k].raised_at:
                end += 1
            tier = ordered[k:end]
            loaded = load_named(session, (g.id for g in tier))
            for head in tier:
                g = loaded[head.id]
                mask = g.readable(member, role)
                if not include_cleared:
                    mask &= g.is_open()
                shown += [(g, n) for n in id_order(g.count) if mask[n]]
            k = end
        return _views(session, shown[:limit], caller)


def _not_found() -> NotFound:
    return NotFound("no such alert")


def get_alert(center: Center, caller: Caller, alert_id: str) -> AlertView:
    """One alert, for a reader who may see it; anyone else gets the 404 of a missing id."""
    check_reader(caller)
    with center.reading() as session:
        named = _alert_named(session, alert_id, caller)
        if named is None:
            raise _not_found()
        (view,) = _views(session, [named], caller)
        return view


def _alert_named(session: Session, alert_id: str, caller: Caller) -> tuple[Group, int] | None:
    """The alert ``alert_id`` names, if the caller may read it: an alert, or a group (then
    the first of its alerts the caller may read)."""
    group_id, n = split_alert_id(alert_id)
    g = load_named(session, [group_id]).get(group_id)
    if g is None:
        return None
    readable = g.readable(caller.member, caller.role)
    if n is None:
        if not g.grouped:
            n = 0
        else:
            mine = np.flatnonzero(readable)
            n = int(mine[0]) if mine.size else None
    elif not g.grouped or not 0 <= n < g.count:
        return None
    if n is None or not readable[n]:
        return None
    return g, n


def store_ack(
    session: Session,
    group_id: str,
    party: str,
    user_id: int | None,
    content_hash: str,
    at: datetime,
    entry: int,
) -> None:
    """The rows of ``party``'s acknowledgement of the group ``group_id`` in entry ``entry``
    (by its user ``user_id``): the acknowledgement, and the party's escalation stopped."""
    session.add(
        AirspaceAck(
            alert_id=group_id,
            party=party,
            user_id=user_id,
            content_hash=content_hash,
            acknowledged_at=at,
            entry=entry,
        )
    )
    mine = session.get(AirspaceAlertRecipient, (group_id, party))
    if mine is not None:  # its escalation stops (an overdue party acknowledges late)
        mine.due_at = None
    session.flush()


def acknowledge_alert(
    unit: Unit, center: Center, caller: Caller, alert_id: str, named_hash: str, now: datetime
) -> AlertView:
    """The caller's party acknowledges the group of an alert it is concerned by (naming the
    alert or the group), naming the group entry's ``content_hash``: an
    ``airspace.acknowledged`` entry signed by the party (naming the group), and events."""
    if caller.role not in (Role.OFFICER, Role.APPROVER):
        raise NotAuthorized(f"a {caller.role.value} does not acknowledge alerts")
    session = unit.session
    named = _alert_named(session, alert_id, caller)
    if named is None:
        raise _not_found()
    g, n = named
    if session.get(AirspaceAck, (g.id, caller.member)) is not None:
        raise IllegalTransition(f"{caller.member} has already acknowledged {g.id}")
    content_hash = named_hash.lower()
    if content_hash != g.content_hash:
        raise HashMismatch("this alert's record entry")
    event = ENTRIES[ACKNOWLEDGED_EVENT].build(
        {"group" if g.grouped else "alert": g.id}, content_hash=content_hash
    )
    entry = unit.ledger.append(event, author=caller.member, at=now)
    store_ack(session, g.id, caller.member, caller.user_id, content_hash, now, entry)
    acked = acks_of(session, [g.id])[g.id]
    recipients = recipients_of(session, [g.id])[g.id]
    steps = escalations_of(session, {g.id: recipients})
    announce(
        session,
        center.agreement,
        [(g, np.arange(g.count))],
        ACKNOWLEDGED_EVENT,
        now,
        acks={g.id: acked},
        recipients={g.id: recipients},
        escalations=steps,
    )
    return alert_of(
        g, n, caller.member, caller.role,
        acknowledged=acked, recipients=recipients, escalations=steps,
    )  # fmt: skip
