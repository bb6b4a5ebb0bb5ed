"""The airspace service: live tracks in, predicted losses of separation and designated-area
violations out, as alerts to the parties concerned — in time for them to act.

**Tracks.** ``POST /v1/tracks`` takes a batch of state reports (the CSV's fields, see
:mod:`accord.airspace.tracks`, plus an optional ``disclosure``: ``shared``, the default, or
``center``). A party's officer reports its own party's aircraft only (``party`` is its
member; ``operator`` its member or a non-party operator); the administrator is the center's
own air-picture feed and reports any operator's aircraft, non-party ones included. Any bad
report refuses the whole batch (422, every problem naming ``tracks[k].field``; nothing is
applied), and so does a report from more than :data:`FUTURE_SKEW` ahead of the center's
clock. A report not newer than the one kept for its aircraft is dropped and counted. An
aircraft is keyed by its *owner* (its party, or its operator when it has none) and its id, so
that an id another party uses — even for an aircraft hidden from the caller — never collides
with the caller's and so never tells it anything.

Tracks are rows, not record entries (a report per aircraft per second would flood the
record). What they cause is recorded.

**Detection**, after every batch and in the same unit of work: every *fresh* track (reported
within :data:`STALE_AFTER` of the center's clock) is extrapolated to now and run through the
detector with the agreement's minima and look-ahead
(:func:`accord.airspace.conflicts.track_conflicts`) and the designated-area check
(:func:`accord.airspace.areas.track_area_findings`). Each finding is keyed (the pair of
aircraft; the aircraft and the area): a new key raises an alert — a record entry signed by the
**center** (no party acted: the center's key, as for direct-line escalation steps), live
events to each party concerned and the monitors; a key that persists is not raised again
(its numbers are kept current in the alert); a key no longer found is cleared — an
``airspace.cleared`` entry and events with ``cleared: true``. Designated areas: an aircraft of
a restricted operator inside an area closed to it, or heading in within the look-ahead,
without an exempt mission is an ``airspace.violation`` alert to every party (third-party
operators are what areas are for) and a finding of ``GET /v1/compliance`` against the
aircraft's party; an exempt mission is recorded once (``airspace.exempt``) and alerts no one.

**Flight plans.** When a flight plan is declared or amended it is probed, leg by leg in 4D,
against every other flight plan in force whose times overlap it
(:func:`accord.airspace.probe.probe_flight_plan`); each conflict is an ``airspace.conflict``
alert (``source`` ``plan``) as above, cleared when an amendment or a withdrawal ends it.

**Alerts are not direct-line messages.** A direct-line message has a party as its sender and
a user who sent it (a foreign key), and every reader of the line assumes so; the center as a
sender would change that model throughout. So alerts have their own table and routes
(``GET /v1/alerts``, ``POST /v1/alerts/{id}/acknowledge``). A party acknowledges an alert by
naming its ``content_hash`` — the SHA-256 of the canonical JSON of the alert's record entry,
which every party holds — and the acknowledgement is an entry signed by that party.

**Escalation, as on the direct line.** Each *party* concerned by an alert (not a third-party
operator; not an ``exempt`` passage, which alerts no one) must acknowledge it within
:data:`ALERT_ACK_WITHIN` — two minutes: an alert is urgent, and the agreement has no setting
for it (the direct line's 15-minute default fits a message, not a loss of separation minutes
away). A party that has not acknowledged by then is escalated along its contact chain with
the direct line's pure core (:func:`accord.center.directline.next_step` on
:class:`~accord.center.directline.Pending`, its chains and heartbeat presence; each step runs
:func:`~accord.center.directline.step_length` of the window, a minute), and declared overdue
when no present contact is left. :func:`escalate_alerts_due` writes the steps — entries
``airspace.escalated`` / ``airspace.overdue`` signed by the **center**, events to the party
(with its contacts' names) and to the other parties concerned and the monitors (roles only)
— and runs from the direct line's background task. Acknowledging stops the party's
escalation; clearing the alert (the finding ended) stops everyone's. The escalation entries
and events name the alert, the party, the level, roles and deadlines — never an aircraft.

**Disclosure.** A ``center`` track is seen by its owner's party alone (lists and events);
others' ``shared`` tracks by every party and the monitors; notifiers and administrators see
no tracks and no alerts (403). An alert involving an aircraft hidden from a reader tells that
reader only the aircraft's owning party (or operator), the time to the closest approach, the
horizontal distance there, the vertical separation, when separation is lost — never the
hidden aircraft's id, mission or position; the place is given as the reader's own
aircraft's position at the closest approach, or not at all. The record, which every party
reads, carries only such non-revealing fields about a ``center`` aircraft, plus a salted
commitment (:mod:`accord.record.commitments`) to its id and state at the alert, whose opening
is served to its owner alone (``opening`` in the owner's view of the alert): the owner can
prove later what the center knew and when.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.airspace import (
    Separation,
    TrackReport,
    TrackSet,
    probe_flight_plan,
    report_from_fields,
    track_area_findings,
    track_conflicts,
)
from accord.airspace.detect import EARTH_RADIUS_M
from accord.airspace.tracks import COLUMNS, KT, epoch_seconds
from accord.center.db.models import Declaration
from accord.center.db.models_airspace import (
    AirspaceAck,
    AirspaceAlert,
    AirspaceAlertRecipient,
    TrackRow,
)
from accord.center.directline import (
    ESCALATION_BATCH,
    EscalationOut,
    Pending,
    Step,
    chains_of,
    next_step,
    step_payloads,
)
from accord.center.events import publish
from accord.center.identity import Caller
from accord.center.problems import FieldProblem, ProblemError, hash_mismatch
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.center.world_cache import parse_features
from accord.chrono import format_instant, parse_instant
from accord.errors import AccordError, IllegalTransition, NotAuthorized
from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import SALT_BYTES, commitment
from accord.rules import DesignatedAreaIndex
from accord.world import FlightPlan

__all__ = [
    "ACKNOWLEDGED_EVENT",
    "ALERT_ACK_WITHIN",
    "CLEARED_EVENT",
    "CONFLICT_EVENT",
    "ESCALATED_EVENT",
    "EXEMPT_EVENT",
    "FUTURE_SKEW",
    "MAX_BATCH",
    "OVERDUE_EVENT",
    "STALE_AFTER",
    "TRACKS_EVENT",
    "TRACK_EVENT",
    "TRACK_EVENTS_MAX",
    "VIOLATION_EVENT",
    "AlertOut",
    "AlertPartyOut",
    "PlanConflictOut",
    "TrackOut",
    "TracksAnswer",
    "acknowledge_alert",
    "alert_of",
    "escalate_alerts_due",
    "list_alerts",
    "list_tracks",
    "plan_changed",
    "report_tracks",
    "survey",
]

MAX_BATCH = 5000
"""The most reports one ``POST /v1/tracks`` carries (the body limit also applies: about
4,000 reports of typical length fit in 1 MiB)."""
STALE_AFTER = timedelta(seconds=60)
"""A track whose last report is older than this at the center's clock is not checked."""
FUTURE_SKEW = timedelta(seconds=5)
"""How far ahead of the center's clock a report may be (clocks drift; further is refused)."""
TRACK_EVENTS_MAX = 200
"""Up to this many aircraft updated by a batch, each gets its own ``track.updated`` event
(the form the officers' page reads); beyond it, one ``tracks.updated`` event per audience
carries them as a list."""
ALERT_ACK_WITHIN = timedelta(minutes=2)
"""How long a party concerned has to acknowledge an alert before it is escalated along its
contact chain (each escalation step: half of it, at least a minute)."""
MAX_ISSUES = 200

TRACK_EVENT = "track.updated"
TRACKS_EVENT = "tracks.updated"
CONFLICT_EVENT = "airspace.conflict"
VIOLATION_EVENT = "airspace.violation"
EXEMPT_EVENT = "airspace.exempt"
CLEARED_EVENT = "airspace.cleared"
ACKNOWLEDGED_EVENT = "airspace.acknowledged"
ESCALATED_EVENT = "airspace.escalated"
OVERDUE_EVENT = "airspace.overdue"

_SHARED, _CENTER = "shared", "center"
_NM = 1852.0
_FIELDS = frozenset(COLUMNS) | {"disclosure"}
_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR)
_RAISE_EVENTS = {"conflict": CONFLICT_EVENT, "area": VIOLATION_EVENT, "exempt": EXEMPT_EVENT}


# --- answers --------------------------------------------------------------------------------


class TrackOut(BaseModel):
    """A track as a reader may see it (the last report of the aircraft)."""

    id: str
    operator: str
    party: str | None
    mission: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    track_deg: float
    vs_fpm: float
    disclosure: str


class OtherOut(BaseModel):
    """An aircraft (or flight plan) hidden from the reader: whose it is, nothing else."""

    party: str | None
    operator: str


class AlertPartyOut(BaseModel):
    """Where one party concerned stands with an alert: acknowledged or not, the deadline
    (``ack_deadline``: raised + the window; ``deadline``: the one running now, null once
    acknowledged, cleared or overdue), the escalation ``level`` reached, when it was declared
    ``overdue``, and its escalation steps (contact names for the party itself only)."""

    party: str
    acknowledged: bool
    ack_deadline: datetime
    deadline: datetime | None
    level: int
    overdue_at: datetime | None
    escalations: list[EscalationOut]


class AlertOut(BaseModel):
    """An airspace alert as one reader may see it.

    ``tracks``: the two aircraft (or flight plans) of a conflict, one of an area finding —
    ``null`` where it is hidden from the reader (then ``others`` says whose it is).
    ``at``: when it was raised; ``predicted_at``: when separation is lost (a conflict) or the
    aircraft enters the area; ``lat`` / ``lon``: the place, when the reader may see it;
    ``horizontal_nm`` / ``vertical_ft``: the separation at the closest approach;
    ``content_hash``: what an acknowledgement names (the SHA-256 of the record entry's
    canonical JSON); ``opening``: for the owner of a hidden aircraft, what opens the
    commitment the entry holds for it; ``recipients``: each party concerned's
    acknowledgement deadline and escalation (:class:`AlertPartyOut`)."""

    id: str
    kind: str
    source: str
    parties: list[str]
    tracks: list[str | None]
    others: list[OtherOut]
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
    recipients: list[AlertPartyOut] = []
    opening: dict[str, Any] | None = None


class PlanConflictOut(BaseModel):
    """A conflict of a flight plan with another one, as the declaring caller may see it:
    ``other`` is null when the other plan is hidden from it."""

    alert: str
    other: str | None
    party: str | None
    operator: str
    los_at: datetime
    los_until: datetime
    cpa_at: datetime
    dcpa_m: float


class TracksAnswer(BaseModel):
    """What a batch did: reports ``accepted`` (stored) and ``dropped`` (not newer than the
    one kept), the alerts it ``raised`` and the ids of those it ``cleared``, as the caller may
    see them; ``fresh``: the aircraft checked."""

    accepted: int
    dropped: int
    fresh: int
    raised: list[AlertOut]
    cleared: list[str]


# --- who sees what --------------------------------------------------------------------------


def _owner(party: str | None, operator: str) -> str:
    return party if party is not None else operator


def may_see_track(member: str, role: Role, owner: str, disclosure: str) -> bool:
    """Whether a reader (``member``, ``role``) may see an aircraft of ``owner``.

    >>> may_see_track("red", Role.OFFICER, "blue", "center"), may_see_track(
    ...     "observers", Role.MONITOR, "blue", "shared")
    (False, True)
    """
    if role not in _READERS:
        return False
    return owner == member or disclosure == _SHARED


def _readers(agreement: Agreement) -> list[str]:
    return sorted(agreement.party_ids | agreement.monitor_ids)


def _is_reader(caller: Caller) -> None:
    if caller.role not in _READERS:
        raise ProblemError(
            403, f"a {caller.role.value} does not read the air picture", kind="forbidden"
        )


# --- tracks in ------------------------------------------------------------------------------


def _refuse(problems: list[FieldProblem]) -> ProblemError:
    names = ", ".join(dict.fromkeys(p.field for p in problems[:20]))
    return ProblemError(422, f"invalid track reports: {names}", kind="validation", errors=problems)


@dataclass(frozen=True, slots=True)
class _Report:
    report: TrackReport
    owner: str
    disclosure: str


def _checked(
    agreement: Agreement, caller: Caller, items: Sequence[Mapping[str, Any]], now: datetime
) -> list[_Report]:
    """Every report of the batch, or the 422 naming each bad ``tracks[k].field``."""
    problems: list[FieldProblem] = []
    out: list[_Report] = []

    def bad(k: int, name: str, message: str) -> None:
        where = f"tracks[{k}].{name}" if name else f"tracks[{k}]"
        problems.append(FieldProblem(field=where, location="body", message=message))

    latest_allowed = now + FUTURE_SKEW
    for k, item in enumerate(items):
        if len(problems) >= MAX_ISSUES:
            problems.append(
                FieldProblem(field="tracks", location="body", message="too many problems")
            )
            break
        for name in sorted(set(item) - _FIELDS):
            bad(k, name, "is not a field of a track report")
        disclosure = item.get("disclosure", _SHARED)
        if disclosure not in (_SHARED, _CENTER):
            bad(k, "disclosure", "is 'shared' (the default) or 'center'")
        values = {name: item.get(name) for name in COLUMNS}
        for name in ("lat", "lon", "alt_ft", "gs_kt", "track_deg", "vs_fpm"):
            value = values[name]
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**15:
                bad(k, name, "is out of range")
                values[name] = 0
        for name in ("id", "operator", "mission"):
            value = values[name]
            if isinstance(value, str) and (len(value) > 64 or not value.isprintable()):
                bad(k, name, "is 1 to 64 printable characters")
                values[name] = "x"
        found = report_from_fields(values, agreement=agreement, feature=f"tracks[{k}]")
        if not isinstance(found, TrackReport):
            for issue in found:
                bad(k, issue.field, issue.message)
            continue
        if caller.role is Role.OFFICER:
            if found.party != caller.member:
                bad(k, "party", f"an officer of {caller.member} reports its own aircraft only")
            elif found.operator in agreement.party_ids and found.operator != caller.member:
                bad(k, "operator", "a party does not report another party's aircraft")
        if found.time > latest_allowed:
            bad(k, "time", "is ahead of the center's clock: a report says where an aircraft was")
        if isinstance(disclosure, str) and disclosure in (_SHARED, _CENTER):
            out.append(_Report(found, _owner(found.party, found.operator), disclosure))
    if problems:
        raise _refuse(problems)
    return out


@dataclass(frozen=True, slots=True)
class _Track:
    """An aircraft's stored latest report, read with one Core statement (no ORM objects: a
    batch touches thousands)."""

    owner: str
    id: str
    operator: str
    party: str | None
    mission: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    track_deg: float
    vs_fpm: float
    disclosure: str


_TRACKS = cast(Table, TrackRow.__table__)
_TRACK_COLUMNS = tuple(_TRACKS.c[name] for name in _Track.__slots__)


def _tracks(session: Session, *where: Any) -> list[_Track]:
    """The stored tracks matching ``where``, ordered by owner and id."""
    query = select(*_TRACK_COLUMNS).where(*where).order_by(_TRACKS.c.owner, _TRACKS.c.id)
    return [_Track(*row) for row in session.execute(query)]


def _times(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
    """The stored report time of each aircraft of ``keys`` that has one."""
    by_owner: dict[str, list[str]] = {}
    for owner, track_id in set(keys):
        by_owner.setdefault(owner, []).append(track_id)
    found: dict[tuple[str, str], datetime] = {}
    c = _TRACKS.c
    for owner, ids in by_owner.items():
        ids.sort()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(c.id, c.time).where(c.owner == owner, c.id.in_(chunk))
            for track_id, at in session.execute(query):
                found[(owner, track_id)] = at
    return found


def _track_out(row: _Track) -> TrackOut:
    return TrackOut(
        id=row.id,
        operator=row.operator,
        party=row.party,
        mission=row.mission,
        time=row.time,
        lat=row.lat,
        lon=row.lon,
        alt_ft=row.alt_ft,
        gs_kt=row.gs_kt,
        track_deg=row.track_deg,
        vs_fpm=row.vs_fpm,
        disclosure=row.disclosure,
    )


def report_tracks(
    unit: Unit,
    center: Center,
    caller: Caller,
    items: Sequence[Mapping[str, Any]],
    now: datetime,
) -> TracksAnswer:
    """Store a batch of reports, publish the tracks and run the detection (see the module
    docstring); the answer as the caller may see it."""
    if caller.role not in (Role.OFFICER, Role.ADMIN):
        raise NotAuthorized(f"a {caller.role.value} does not report tracks")
    agreement = center.agreement
    reports = _checked(agreement, caller, items, now)
    session = unit.session
    stored = _times(session, ((r.owner, r.report.id) for r in reports))
    dropped = 0
    updated: dict[tuple[str, str], _Track] = {}
    for item in reports:
        r = item.report
        key = (item.owner, r.id)
        held = updated[key].time if key in updated else stored.get(key)
        if held is not None and held >= r.time:
            dropped += 1
            continue
        updated[key] = _Track(
            item.owner, r.id, r.operator, r.party, r.mission, r.time, r.lat, r.lon,
            r.alt_ft, r.gs_kt, r.track_deg, r.vs_fpm, item.disclosure,
        )  # fmt: skip
    extra = {"reported_by": caller.user_id, "received_at": now}
    rows = [{name: getattr(t, name) for name in _Track.__slots__} | extra for t in updated.values()]
    new = [row for row in rows if (row["owner"], row["id"]) not in stored]
    if new:
        session.execute(insert(_TRACKS), new)
    old = [
        {f"k_{k}" if k in ("owner", "id") else k: v for k, v in row.items()}
        for row in rows
        if (row["owner"], row["id"]) in stored
    ]
    if old:
        c = _TRACKS.c
        changed = update(_TRACKS).where(c.owner == bindparam("k_owner"), c.id == bindparam("k_id"))
        session.execute(changed, old)
    _publish_tracks(session, agreement, list(updated.values()), now)
    fresh, raised, cleared = survey(unit, center, now)
    shown = [a for a in raised if _may_read_alert(a, caller.member, caller.role)]
    recipients = _recipients_of(session, [a.id for a in shown])
    return TracksAnswer(
        accepted=len(updated),
        dropped=dropped,
        fresh=fresh,
        raised=[
            alert_of(a, caller.member, caller.role, recipients=recipients[a.id]) for a in shown
        ],
        cleared=[a.id for a in cleared if _may_read_alert(a, caller.member, caller.role)],
    )


def _publish_tracks(
    session: Session, agreement: Agreement, rows: Sequence[_Track], now: datetime
) -> None:
    """``track.updated`` per aircraft (a shared one to every party and monitor, a ``center``
    one to its owner alone), or one ``tracks.updated`` list per audience for a large batch."""
    groups: dict[tuple[str, ...], list[_Track]] = {}
    everyone = tuple(_readers(agreement))
    for row in rows:
        audience = everyone if row.disclosure == _SHARED else (row.owner,)
        groups.setdefault(audience, []).append(row)
    many = len(rows) > TRACK_EVENTS_MAX
    for audience, members in groups.items():
        if many:
            tracks = [_track_out(r).model_dump(mode="json") for r in members]
            payload = {"tracks": tracks, "count": len(tracks)}
            publish(session, kind=TRACKS_EVENT, at=now, audience=audience, payload=payload)
            continue
        for row in members:
            track = _track_out(row).model_dump(mode="json")
            publish(session, kind=TRACK_EVENT, at=now, audience=audience, payload={"track": track})


def list_tracks(center: Center, caller: Caller, *, fresh_only: bool) -> list[TrackOut]:
    """The tracks the caller may see: its own party's all, others' ``shared`` ones."""
    _is_reader(caller)
    now = center.now()
    with center.reading() as session:
        c = _TRACKS.c
        where = [or_(c.owner == caller.member, c.disclosure == _SHARED)]
        if fresh_only:
            where.append(c.time >= now - STALE_AFTER)
        rows = _tracks(session, *where)
    return [_track_out(r) for r in rows]


# --- detection ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Finding:
    """What the center found, before any cut: the alert's key, kind, source, the parties
    concerned and the full payload."""

    key: str
    kind: str
    source: str
    concerned: list[str]
    payload: dict[str, Any]
    audience: list[str] = field(default_factory=list)


def _aircraft(row: _Track, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "id": row.id,
        "owner": row.owner,
        "operator": row.operator,
        "party": row.party,
        "mission": row.mission,
        "disclosure": row.disclosure,
        "reported_at": format_instant(row.time),
    }


def _key_of(row: _Track) -> str:
    return f"{row.owner}/{row.id}"


def _cpa_position(
    tracks: TrackSet, k: int, now: datetime, seconds: float
) -> tuple[float, float, float]:
    """Aircraft ``k``'s (lat, lon, alt_ft) ``seconds`` after ``now``, extrapolated in a
    straight line as :meth:`accord.airspace.TrackSet.states_at` does (for one aircraft: a
    conflict's closest approach, shown on the map)."""
    dt = epoch_seconds(now) + seconds - float(tracks.time_s[k])
    lat0, lon0 = float(tracks.lat[k]), float(tracks.lon[k])
    trk = math.radians(float(tracks.track_deg[k]))
    gs = float(tracks.gs_kt[k]) * KT
    lat = min(90.0, max(-90.0, lat0 + math.degrees(gs * math.cos(trk) * dt / EARTH_RADIUS_M)))
    scale = max(math.cos(math.radians(lat0)), 1e-9)
    lon = lon0 + math.degrees(gs * math.sin(trk) * dt / (EARTH_RADIUS_M * scale))
    lon = lon - 360.0 if lon > 180.0 else lon + 360.0 if lon < -180.0 else lon
    alt = float(tracks.alt_ft[k]) + float(tracks.vs_fpm[k]) * dt / 60.0
    return lat, lon, alt


def _track_findings(
    agreement: Agreement, rows: Sequence[_Track], now: datetime
) -> dict[str, _Finding]:
    """Every conflict and area finding among the fresh ``rows`` at ``now``, by key."""
    by_key = {_key_of(r): r for r in rows}
    reports = [
        TrackReport(
            id=key,
            operator=r.operator,
            party=r.party,
            mission=r.mission,
            time=r.time,
            lat=r.lat,
            lon=r.lon,
            alt_ft=r.alt_ft,
            gs_kt=r.gs_kt,
            track_deg=r.track_deg,
            vs_fpm=r.vs_fpm,
        )
        for key, r in by_key.items()
    ]
    tracks = TrackSet.from_reports(reports)
    found: dict[str, _Finding] = {}
    if not len(tracks):
        return found
    separation = Separation.from_rules(agreement.airspace)
    for c in track_conflicts(tracks, separation, now):
        ka, kb = sorted((c.a, c.b))
        ia, ib = tracks.row(ka), tracks.row(kb)
        at = max(c.tcpa_s, 0.0)
        pa = _cpa_position(tracks, ia, now, at)
        pb = _cpa_position(tracks, ib, now, at)
        aircraft = []
        for key, pos in ((ka, pa), (kb, pb)):
            one = _aircraft(by_key[key], key)
            one["cpa"] = [round(pos[1], 6), round(pos[0], 6), round(pos[2])]
            aircraft.append(one)
        payload = {
            "aircraft": aircraft,
            "at": format_instant(now),
            "tcpa_s": round(c.tcpa_s, 1),
            "dcpa_nm": round(c.dcpa_m / _NM, 2),
            "vertical_ft": round(abs(pa[2] - pb[2])),
            "los_at": format_instant(c.los_at.replace(microsecond=0)),
            "lost": c.lost,
        }
        concerned = [x for x in c.concerned]
        found[f"conflict:track:{ka}|{kb}"] = _Finding(
            f"conflict:track:{ka}|{kb}", "conflict", "track", concerned, payload
        )
    index = DesignatedAreaIndex(agreement)
    names = {a.id: a.name for a in agreement.designated_areas}
    for f in track_area_findings(tracks, index, now, agreement.airspace.lookahead):
        kind = "area" if f.verdict == "violation" else "exempt"
        key = f"{kind}:track:{f.track_id}@{f.area_id}"
        payload = {
            "aircraft": [_aircraft(by_key[f.track_id], f.track_id)],
            "at": format_instant(now),
            "area": f.area_id,
            "area_name": names.get(f.area_id, ""),
            "inside": f.inside,
            "entry_at": format_instant(f.entry_at.replace(microsecond=0)),
            "entry_point": [round(f.entry_point[0], 6), round(f.entry_point[1], 6)],
            "verdict": f.verdict,
        }
        concerned = sorted(agreement.party_ids | {_owner(f.party, f.operator)})
        found[key] = _Finding(key, kind, "track", concerned, payload)
    return found


def survey(
    unit: Unit, center: Center, now: datetime
) -> tuple[int, list[AirspaceAlert], list[AirspaceAlert]]:
    """Run the detection over every fresh track at ``now``: raise the new alerts, keep the
    persisting ones current, clear those that ended. (The number of fresh aircraft, the
    alerts raised, the alerts cleared.)"""
    session = unit.session
    c = _TRACKS.c
    rows = _tracks(session, c.time >= now - STALE_AFTER, c.time <= now + FUTURE_SKEW)
    found = _track_findings(center.agreement, rows, now)
    active = {
        a.key: a
        for a in session.scalars(
            select(AirspaceAlert).where(
                AirspaceAlert.source == "track", AirspaceAlert.cleared_at.is_(None)
            )
        )
    }
    raised, cleared = _reconcile(unit, center, found, active, now)
    return len(rows), raised, cleared


def _reconcile(
    unit: Unit,
    center: Center,
    found: Mapping[str, _Finding],
    active: Mapping[str, AirspaceAlert],
    now: datetime,
) -> tuple[list[AirspaceAlert], list[AirspaceAlert]]:
    raised: list[AirspaceAlert] = []
    cleared: list[AirspaceAlert] = []
    for key in sorted(found):
        held = active.get(key)
        if held is None:
            raised.append(_raise(unit, center, found[key], now))
        else:
            held.last_seen = now
            held.payload = json.dumps(found[key].payload)
    for key in sorted(set(active) - set(found)):
        cleared.append(_clear(unit, center, active[key], now))
    unit.session.flush()
    return raised, cleared


def _public_aircraft(one: Mapping[str, Any]) -> dict[str, Any]:
    """What the record says of an aircraft: all of a shared one but its place; of a
    ``center`` one its owner and operator only."""
    out = {"party": one["party"], "operator": one["operator"], "disclosure": one["disclosure"]}
    if one["disclosure"] == _SHARED:
        out |= {"id": one["id"], "mission": one["mission"]}
    return out


def _entry_event(
    alert_id: str, finding: _Finding, now: datetime
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The record event of a new alert and the openings of its commitments, by owner."""
    p = finding.payload
    aircraft = p["aircraft"]
    event: dict[str, Any] = {
        "kind": _RAISE_EVENTS[finding.kind],
        "alert": alert_id,
        "source": finding.source,
        "parties": finding.concerned,
        "raised_at": format_instant(now),
        "aircraft": [_public_aircraft(a) for a in aircraft],
    }
    hidden = any(a["disclosure"] != _SHARED for a in aircraft)
    if finding.kind == "conflict":
        event |= {k: p[k] for k in ("tcpa_s", "dcpa_nm", "vertical_ft", "los_at", "lost")}
        if finding.source == "plan":
            event |= {k: p[k] for k in ("los_until", "cpa_at")}
    else:
        event |= {"area": p["area"], "inside": p["inside"], "entry_at": p["entry_at"]}
        if not hidden:
            event["entry_point"] = p["entry_point"]
    sealed: dict[str, dict[str, str]] = {}
    commitments: dict[str, str] = {}
    for one in aircraft:
        if one["disclosure"] == _SHARED:
            continue
        content = {"alert": alert_id, "aircraft": one}
        salt = secrets.token_bytes(SALT_BYTES)
        committed = encode_base64(commitment(content, salt=salt))
        commitments[one["owner"]] = committed
        sealed[one["owner"]] = {
            "commitment": committed,
            "salt": encode_base64(salt),
            "content": canonical_json(content).decode("utf-8"),
        }
    if commitments:
        event["commitments"] = commitments
    return event, sealed


def _raise(unit: Unit, center: Center, finding: _Finding, now: datetime) -> AirspaceAlert:
    alert_id = "a-" + secrets.token_hex(8)
    event, sealed = _entry_event(alert_id, finding, now)
    entry = unit.ledger.append(event, author=center.origin, at=now)
    row = AirspaceAlert(
        id=alert_id,
        kind=finding.kind,
        source=finding.source,
        key=finding.key,
        parties=json.dumps(finding.concerned),
        raised_at=now,
        last_seen=now,
        cleared_at=None,
        payload=json.dumps(finding.payload),
        sealed=json.dumps(sealed),
        content_hash=hashlib.sha256(canonical_json(event)).hexdigest(),
        entry=entry,
        cleared_entry=None,
    )
    unit.session.add(row)
    if finding.kind != "exempt":
        parties = sorted(set(finding.concerned) & center.agreement.party_ids)
        recipients = [
            AirspaceAlertRecipient(
                alert_id=alert_id,
                party=party,
                ack_within_s=int(ALERT_ACK_WITHIN.total_seconds()),
                level=0,
                position=-1,
                due_at=now + ALERT_ACK_WITHIN,
                overdue_at=None,
                steps="[]",
            )
            for party in parties
        ]
        unit.session.add_all(recipients)
        _announce(
            unit.session, center.agreement, row, str(event["kind"]), now, recipients=recipients
        )
    return row


def _clear(unit: Unit, center: Center, row: AirspaceAlert, now: datetime) -> AirspaceAlert:
    row.cleared_at = now
    if row.kind == "exempt":  # recorded once when it began; its end alerts no one
        return row
    event = {"kind": CLEARED_EVENT, "alert": row.id, "cleared_at": format_instant(now)}
    row.cleared_entry = unit.ledger.append(event, author=center.origin, at=now)
    session = unit.session
    session.flush()
    session.execute(
        update(AirspaceAlertRecipient)
        .where(AirspaceAlertRecipient.alert_id == row.id)
        .values(due_at=None)
        .execution_options(synchronize_session="fetch")
    )
    _announce(
        session,
        center.agreement,
        row,
        CLEARED_EVENT,
        now,
        acknowledged=_acks(session, row),
        recipients=_recipients_of(session, [row.id])[row.id],
    )
    return row


def _audience(agreement: Agreement, row: AirspaceAlert) -> list[str]:
    parties = set(json.loads(row.parties)) & agreement.party_ids
    return sorted(parties | agreement.monitor_ids)


def _announce(
    session: Session,
    agreement: Agreement,
    row: AirspaceAlert,
    kind: str,
    now: datetime,
    *,
    acknowledged: Sequence[str] = (),
    recipients: Sequence[AirspaceAlertRecipient] = (),
) -> None:
    """One event per distinct cut of the alert (members who see the same get one event)."""
    groups: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for member in _audience(agreement, row):
        role = Role.MONITOR if member in agreement.monitor_ids else Role.OFFICER
        view = alert_of(
            row, member, role, acknowledged=acknowledged, recipients=recipients
        ).model_dump(mode="json")
        text = json.dumps(view, sort_keys=True)
        groups.setdefault(text, ([], view))[0].append(member)
    for members, view in groups.values():
        publish(session, kind=kind, at=now, audience=members, payload=view)


# --- alerts out -----------------------------------------------------------------------------


def _may_read_alert(row: AirspaceAlert, member: str, role: Role) -> bool:
    if row.kind == "exempt":
        return False
    if role is Role.MONITOR:
        return True
    return role in (Role.OFFICER, Role.APPROVER) and member in json.loads(row.parties)


def _acks(session: Session | None, row: AirspaceAlert) -> list[str]:
    if session is None:
        return []
    return sorted(
        session.scalars(select(AirspaceAck.party).where(AirspaceAck.alert_id == row.id)).all()
    )


def _recipients_of(session: Session, ids: Sequence[str]) -> dict[str, list[AirspaceAlertRecipient]]:
    """Each alert's recipients (the parties concerned), by party."""
    out: dict[str, list[AirspaceAlertRecipient]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for r in session.scalars(
            select(AirspaceAlertRecipient)
            .where(AirspaceAlertRecipient.alert_id.in_(chunk))
            .order_by(AirspaceAlertRecipient.party)
        ):
            out[r.alert_id].append(r)
    return out


def _party_out(
    row: AirspaceAlert,
    r: AirspaceAlertRecipient,
    member: str,
    role: Role,
    acknowledged: Sequence[str],
) -> AlertPartyOut:
    """Party ``r.party``'s standing with ``row`` for a reader: contact names on its own
    party's steps only."""
    own = r.party == member and role in (Role.OFFICER, Role.APPROVER)
    steps = [
        EscalationOut(
            level=s["level"],
            kind=s["kind"],
            at=parse_instant(s["at"]),
            due=parse_instant(s["due"]),
            deadline=None if s["deadline"] is None else parse_instant(s["deadline"]),
            role=s["role"],
            contact=s["contact"] if own else None,
            skipped=[c for c, _ in s["skipped"]],
            skipped_users=[u for _, u in s["skipped"]] if own else None,
            entry=s["entry"],
        )
        for s in json.loads(r.steps)
    ]
    return AlertPartyOut(
        party=r.party,
        acknowledged=r.party in acknowledged,
        ack_deadline=row.raised_at + timedelta(seconds=r.ack_within_s),
        deadline=r.due_at,
        level=r.level,
        overdue_at=r.overdue_at,
        escalations=steps,
    )


def alert_of(
    row: AirspaceAlert,
    member: str,
    role: Role,
    *,
    acknowledged: Sequence[str] = (),
    recipients: Sequence[AirspaceAlertRecipient] = (),
) -> AlertOut:
    """``row`` cut for a reader of ``member`` with ``role`` (see the module docstring);
    ``recipients``: the alert's parties' acknowledgement and escalation state."""
    p = json.loads(row.payload)
    aircraft: list[dict[str, Any]] = p["aircraft"]
    seen = [may_see_track(member, role, a["owner"], a["disclosure"]) for a in aircraft]
    tracks = [a["id"] if ok else None for a, ok in zip(aircraft, seen, strict=True)]
    others = [
        OtherOut(party=a["party"], operator=a["operator"])
        for a, ok in zip(aircraft, seen, strict=True)
        if not ok
    ]
    names = [
        a["id"] if ok else f"an aircraft of {a['party'] or a['operator']}"
        for a, ok in zip(aircraft, seen, strict=True)
    ]
    if row.source == "plan":
        names = [
            f"flight plan {a['id']}" if ok else f"a flight plan of {a['party'] or a['operator']}"
            for a, ok in zip(aircraft, seen, strict=True)
        ]
    lat = lon = None
    if row.kind == "conflict":
        places: list[list[float]] = [
            a["cpa"] for a, ok in zip(aircraft, seen, strict=True) if ok and a.get("cpa")
        ]
        if all(seen) and len(places) == 2:
            lon, lat = (places[0][0] + places[1][0]) / 2, (places[0][1] + places[1][1]) / 2
        elif places and any(a["owner"] == member and a.get("cpa") for a in aircraft):
            (own,) = [a["cpa"] for a in aircraft if a["owner"] == member and a.get("cpa")][:1]
            lon, lat = own[0], own[1]
        predicted = parse_instant(p["los_at"])
        label = f"conflict: {' / '.join(names)}"
        detail = (
            f"predicted loss of separation between {' and '.join(names)}: "
            + ("lost now" if p["lost"] else f"from {p['los_at']}")
            + f"; closest approach {p['dcpa_nm']} NM, {p['vertical_ft']} ft apart"
            + (f", in {p['tcpa_s']:.0f} s" if p.get("tcpa_s") is not None else "")
        )
        horizontal, vertical = p["dcpa_nm"], p["vertical_ft"]
    else:
        if all(seen):
            lon, lat = p["entry_point"][0], p["entry_point"][1]
        predicted = parse_instant(p["entry_at"])
        where = "is inside" if p["inside"] else f"is predicted to enter at {p['entry_at']}"
        label = f"designated area {p['area']}: {names[0]}"
        detail = (
            f"{names[0]} (operator {aircraft[0]['operator']}) {where} designated area "
            f"{p['area']}, closed to its operator"
        )
        horizontal = vertical = None
    opening = None
    sealed = json.loads(row.sealed)
    if member in sealed and role in (Role.OFFICER, Role.APPROVER):
        opening = sealed[member]
    return AlertOut(
        id=row.id,
        kind=row.kind,
        source=row.source,
        parties=json.loads(row.parties),
        tracks=tracks,
        others=others,
        label=label,
        at=row.raised_at,
        last_seen=row.last_seen,
        predicted_at=predicted,
        tcpa_s=p.get("tcpa_s"),
        lost=p.get("lost"),
        lat=None if lat is None else round(float(lat), 6),
        lon=None if lon is None else round(float(lon), 6),
        horizontal_nm=horizontal,
        vertical_ft=vertical,
        area=p.get("area"),
        inside=p.get("inside"),
        detail=detail,
        cleared=row.cleared_at is not None,
        cleared_at=row.cleared_at,
        entry=row.entry,
        content_hash=row.content_hash,
        acknowledged=list(acknowledged),
        recipients=[_party_out(row, r, member, role, acknowledged) for r in recipients],
        opening=opening,
    )


def list_alerts(
    center: Center, caller: Caller, *, include_cleared: bool, limit: int
) -> list[AlertOut]:
    """The alerts the caller may see, newest first: those of its party (monitors: all);
    open ones only unless ``include_cleared``."""
    _is_reader(caller)
    with center.reading() as session:
        query = select(AirspaceAlert).where(AirspaceAlert.kind != "exempt")
        if not include_cleared:
            query = query.where(AirspaceAlert.cleared_at.is_(None))
        rows = session.scalars(
            query.order_by(AirspaceAlert.raised_at.desc(), AirspaceAlert.id)
        ).all()
        shown = [r for r in rows if _may_read_alert(r, caller.member, caller.role)][:limit]
        recipients = _recipients_of(session, [r.id for r in shown])
        return [
            alert_of(
                row,
                caller.member,
                caller.role,
                acknowledged=_acks(session, row),
                recipients=recipients[row.id],
            )
            for row in shown
        ]


def _not_found() -> ProblemError:
    return ProblemError(404, "no such alert", kind="not-found")


def get_alert(center: Center, caller: Caller, alert_id: str) -> AlertOut:
    """One alert, for a reader who may see it; anyone else gets the 404 of a missing id."""
    _is_reader(caller)
    with center.reading() as session:
        row = session.get(AirspaceAlert, alert_id)
        if row is None or not _may_read_alert(row, caller.member, caller.role):
            raise _not_found()
        return alert_of(
            row,
            caller.member,
            caller.role,
            acknowledged=_acks(session, row),
            recipients=_recipients_of(session, [row.id])[row.id],
        )


def acknowledge_alert(
    unit: Unit, center: Center, caller: Caller, alert_id: str, named_hash: str, now: datetime
) -> AlertOut:
    """The caller's party acknowledges an alert it is concerned by, naming its
    ``content_hash``: an ``airspace.acknowledged`` entry signed by the party, and events."""
    if caller.role not in (Role.OFFICER, Role.APPROVER):
        raise NotAuthorized(f"a {caller.role.value} does not acknowledge alerts")
    session = unit.session
    row = session.get(AirspaceAlert, alert_id)
    if row is None or not _may_read_alert(row, caller.member, caller.role):
        raise _not_found()
    if session.get(AirspaceAck, (alert_id, caller.member)) is not None:
        raise IllegalTransition(f"{caller.member} has already acknowledged {alert_id}")
    named = named_hash.lower()
    if named != row.content_hash:
        raise hash_mismatch("this alert's record entry")
    entry = unit.ledger.append(
        {"kind": ACKNOWLEDGED_EVENT, "alert": alert_id, "content_hash": named},
        author=caller.member,
        at=now,
    )
    session.add(
        AirspaceAck(
            alert_id=alert_id,
            party=caller.member,
            user_id=caller.user_id,
            content_hash=named,
            acknowledged_at=now,
            entry=entry,
        )
    )
    mine = session.get(AirspaceAlertRecipient, (alert_id, caller.member))
    if mine is not None:  # its escalation stops (an overdue party acknowledges late)
        mine.due_at = None
    session.flush()
    acked = _acks(session, row)
    recipients = _recipients_of(session, [alert_id])[alert_id]
    _announce(
        session,
        center.agreement,
        row,
        ACKNOWLEDGED_EVENT,
        now,
        acknowledged=acked,
        recipients=recipients,
    )
    return alert_of(row, caller.member, caller.role, acknowledged=acked, recipients=recipients)


# --- escalation -----------------------------------------------------------------------------


def _apply_step(
    unit: Unit, center: Center, alert: AirspaceAlert, r: AirspaceAlertRecipient, step: Step
) -> None:
    """Write one escalation step of party ``r.party`` on ``alert``: the entry by the center,
    the row's new state, the events (contact names to the party alone)."""
    agreement = center.agreement
    event: dict[str, Any] = {
        "kind": ESCALATED_EVENT if step.kind == "escalated" else OVERDUE_EVENT,
        "alert": alert.id,
        "party": r.party,
        "level": step.level,
        "due": format_instant(step.due),
        "skipped": [c.role for c in step.skipped],
    }
    if step.kind == "escalated":
        assert step.contact is not None and step.deadline is not None
        event["role"] = step.contact.role
        event["deadline"] = format_instant(step.deadline)
    else:
        deadline = alert.raised_at + timedelta(seconds=r.ack_within_s)
        event["ack_deadline"] = format_instant(deadline)
    entry = unit.ledger.append(event, author=center.origin, at=step.at)
    steps = json.loads(r.steps)
    steps.append(
        {
            "level": step.level,
            "kind": step.kind,
            "at": format_instant(step.at),
            "due": format_instant(step.due),
            "deadline": None if step.deadline is None else format_instant(step.deadline),
            "role": step.contact.role if step.contact else None,
            "contact": step.contact.user if step.contact else None,
            "skipped": [[c.role, c.user] for c in step.skipped],
            "entry": entry,
        }
    )
    r.steps = json.dumps(steps)
    r.level = step.level
    r.position = step.position
    r.due_at = step.deadline
    if step.kind == "overdue":
        r.overdue_at = step.at
    kind = str(event["kind"])
    own, public = step_payloads(event, step, entry=entry)
    session = unit.session
    publish(session, kind=kind, at=step.at, audience=[r.party], payload=own)
    others = set(_audience(agreement, alert)) - {r.party}
    publish(session, kind=kind, at=step.at, audience=sorted(others), payload=public)


def escalate_alerts_due(center: Center, now: datetime, *, limit: int = ESCALATION_BATCH) -> int:
    """Write every alert escalation step due at ``now`` (at most ``limit``); their number.

    Cheap when nothing is due: one indexed read, no write lock."""
    due_at = AirspaceAlertRecipient.due_at
    with center.reading() as session:
        due = session.scalar(select(AirspaceAlertRecipient.alert_id).where(due_at <= now).limit(1))
    if due is None:
        return 0
    done = 0
    with center.writing() as unit:
        session = unit.session
        rows = session.scalars(
            select(AirspaceAlertRecipient)
            .where(due_at <= now)
            .order_by(due_at, AirspaceAlertRecipient.alert_id, AirspaceAlertRecipient.party)
            .limit(limit)
        ).all()
        chains = chains_of(session, (r.party for r in rows))
        for r in rows:
            alert = session.get(AirspaceAlert, r.alert_id)
            assert alert is not None and r.due_at is not None
            pending = Pending(
                due=r.due_at,
                level=r.level,
                position=r.position,
                ack_within=timedelta(seconds=r.ack_within_s),
            )
            step = next_step(pending, chains[r.party], now)
            if step is not None:
                _apply_step(unit, center, alert, r, step)
                done += 1
        session.flush()
    return done


# --- flight plans ---------------------------------------------------------------------------


def _plan_of(agreement: Agreement, row: Declaration) -> FlightPlan | None:
    try:
        (plan,) = parse_features(agreement, [json.loads(row.feature)], limits=False)
    except (AccordError, ValueError):
        return None
    return plan if isinstance(plan, FlightPlan) else None


def _plan_aircraft(plan: FlightPlan, row: Declaration) -> dict[str, Any]:
    return {
        "key": plan.id,
        "id": plan.id,
        "owner": row.owner,
        "operator": plan.operator,
        "party": plan.party,
        "mission": plan.mission,
        "disclosure": row.disclosure,
    }


def _position_at(plan: FlightPlan, at: datetime) -> list[float] | None:
    """(lon, lat, alt_ft) of a plan at ``at``, linear between vertices."""
    times = [epoch_seconds(t) for t in plan.times]
    coords = plan.coords
    t = epoch_seconds(at)
    for k in range(len(times) - 1):
        if times[k] <= t <= times[k + 1]:
            span = times[k + 1] - times[k]
            f = 0.0 if span <= 0 else (t - times[k]) / span
            (x0, y0, z0), (x1, y1, z1) = coords[k], coords[k + 1]
            return [
                round(x0 + (x1 - x0) * f, 6),
                round(y0 + (y1 - y0) * f, 6),
                round((z0 + (z1 - z0) * f) / 0.3048),
            ]
    return None


def plan_changed(
    unit: Unit, center: Center, caller: Caller, declaration_id: str, now: datetime
) -> list[PlanConflictOut] | None:
    """After a flight plan is declared, amended or withdrawn: probe it against every other
    flight plan in force overlapping it in time, raise the new conflicts, clear the ended
    ones. The conflicts as the caller may see them (``None`` when it is no flight plan)."""
    session = unit.session
    row = session.get(Declaration, declaration_id)
    if row is None or row.kind != "flight_plan":
        return None
    agreement = center.agreement
    plan = _plan_of(agreement, row) if row.status == "active" else None
    found: dict[str, _Finding] = {}
    others: dict[str, tuple[FlightPlan, Declaration]] = {}
    if plan is not None and plan.times:
        start, end = min(plan.times), max(plan.times)
        for other_row in session.scalars(
            select(Declaration).where(
                Declaration.kind == "flight_plan",
                Declaration.status == "active",
                Declaration.id != row.id,
            )
        ):
            other = _plan_of(agreement, other_row)
            if other is None or not other.times:
                continue
            if max(other.times) <= start or min(other.times) >= end:
                continue  # no common time: nothing to probe
            others[other.id] = (other, other_row)
        separation = Separation.from_rules(agreement.airspace)
        for c in probe_flight_plan(plan, [o for o, _ in others.values()], separation):
            other, other_row = others[c.other_id]
            ids = sorted((plan.id, other.id))
            key = f"conflict:plan:{ids[0]}|{ids[1]}"
            pair = {plan.id: (plan, row), other.id: (other, other_row)}
            aircraft = []
            for pid in ids:
                p, r = pair[pid]
                one = _plan_aircraft(p, r)
                one["cpa"] = _position_at(p, c.cpa_at)
                aircraft.append(one)
            pa, pb = aircraft[0]["cpa"], aircraft[1]["cpa"]
            vertical = abs(pa[2] - pb[2]) if pa is not None and pb is not None else None
            payload = {
                "aircraft": aircraft,
                "at": format_instant(now),
                "tcpa_s": round((c.cpa_at - now).total_seconds(), 1),
                "dcpa_nm": round(c.dcpa_m / _NM, 2),
                "vertical_ft": vertical,
                "los_at": format_instant(c.los_at.replace(microsecond=0)),
                "los_until": format_instant(c.los_until.replace(microsecond=0)),
                "cpa_at": format_instant(c.cpa_at.replace(microsecond=0)),
                "lost": False,
            }
            concerned = list(dict.fromkeys((plan.owner, other.owner)))
            found[key] = _Finding(key, "conflict", "plan", concerned, payload)
    active = {
        a.key: a
        for a in session.scalars(
            select(AirspaceAlert).where(
                AirspaceAlert.source == "plan",
                AirspaceAlert.cleared_at.is_(None),
                AirspaceAlert.key.contains(row.id),
            )
        )
        if row.id in a.key.split(":", 2)[2].split("|")
    }
    _reconcile(unit, center, found, active, now)
    if plan is None:
        return None
    alerts = {
        a.key: a
        for a in session.scalars(
            select(AirspaceAlert).where(
                AirspaceAlert.source == "plan",
                AirspaceAlert.cleared_at.is_(None),
                AirspaceAlert.key.in_(list(found)),
            )
        )
    }
    out: list[PlanConflictOut] = []
    for key in sorted(found, key=lambda k: found[k].payload["los_at"]):
        f = found[key]
        (other_one,) = [a for a in f.payload["aircraft"] if a["id"] != plan.id]
        visible = may_see_track(
            caller.member, caller.role, other_one["owner"], other_one["disclosure"]
        )
        out.append(
            PlanConflictOut(
                alert=alerts[key].id,
                other=other_one["id"] if visible else None,
                party=other_one["party"],
                operator=other_one["operator"],
                los_at=parse_instant(f.payload["los_at"]),
                los_until=parse_instant(f.payload["los_until"]),
                cpa_at=parse_instant(f.payload["cpa_at"]),
                dcpa_m=round(f.payload["dcpa_nm"] * _NM, 1),
            )
        )
    return out
