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
aircraft; the aircraft and the area): a new key raises an alert; a key that persists is
not raised again (its numbers are kept current in the alert: up to
:data:`KEPT_CURRENT_MAX` per pass, the least recently kept first); a key no longer found is
cleared.

**Groups: entries grow with the aircraft, not with the pairs.** The new alerts of one pass
are raised in groups — the conflicts by connected component of the conflict graph (a cluster
of aircraft in conflict), the area findings by kind and area — and each group is ONE record
entry signed by the **center** (no party acted: the center's key, as for direct-line
escalation steps): its aircraft once each, one row per finding (alert ``<group>.<n>`` is row
``n``), at most :data:`ENTRY_BUDGET` bytes (DECISIONS 12: a larger group is split into
several entries, each a group). A group is acknowledged once per party (naming its entry's
hash), escalated once per party, and announced in one live event per reader cut listing its
alerts (the first :data:`EVENT_ALERTS_MAX`; past that ``truncated``, and the page reads the
list). Clearing is batched: one ``airspace.cleared`` entry names up to
:data:`CLEARED_IDS_MAX` alerts, and a group's escalation stops once none of its alerts is
open. So a batch of N aircraft in one spot — about N²/2 conflicts, one component — adds
about one entry per 1,600 pairs (a row is about 30 bytes; the pairs are ordered by tiles of
:data:`TILE` aircraft so that each entry lists few aircraft: 500 aircraft, 79 entries; see
``python -m bench --only alerts``), and its escalation one step per group and party. Alerts
raised before groups (one entry each) read as groups of one. Designated areas: an aircraft of
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
reader only the aircraft's owning party (or operator), that separation is predicted to be
lost and when (DECISIONS 1) — no distance, no vertical separation, no time of closest
approach (its gap to the loss of separation, times the closing speed, measures the miss
distance), never the hidden aircraft's id, mission or position; the place is the reader's own
aircraft's position when separation is lost, or none. A flight plan's probe answer against
another party's hidden plan is cut the same way (:class:`PlanConflictOut`). The record, which
every party reads, carries only such fields for a pair with a ``center`` aircraft, plus per
owner a salted commitment (:mod:`accord.record.commitments`) to its hidden aircraft in the
group (ids, missions, reported states), whose opening is served to its owner alone
(``opening`` in the owner's view of the alert): the owner can prove later what the center
knew and when.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.airspace import (
    Separation,
    TrackConflict,
    TrackReport,
    TrackSet,
    probe_flight_plan,
    report_from_fields,
    track_area_findings,
    track_conflicts,
)
from accord.airspace.detect import EARTH_RADIUS_M
from accord.airspace.tracks import COLUMNS, epoch_seconds
from accord.center import visibility
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
from accord.center.entry_kinds import Signer, entry_kind
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
from accord.units import FT, KT, NM
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

_GROUP_FIELDS: tuple[str, ...] = ("group", "part", "parts", "source", "parties", "raised_at")
_GROUP_FIELDS += ("fields", "aircraft", "findings")
for _kind, _required, _optional, _summary in [
    (CONFLICT_EVENT, _GROUP_FIELDS, ("commitments",),
     "the center finds a cluster of aircraft losing separation (one group, split at 64 KiB)"),
    (VIOLATION_EVENT, (*_GROUP_FIELDS, "area"), ("commitments",),
     "the center finds aircraft in a designated area closed to them"),
    (EXEMPT_EVENT, (*_GROUP_FIELDS, "area"), ("commitments",),
     "the center records an exempt mission's passage (alerts no one)"),
    (CLEARED_EVENT, ("alerts", "cleared_at"), (), "the center clears alerts whose finding ended"),
    (ESCALATED_EVENT, ("group", "party", "level", "role", "due", "deadline", "skipped"), (),
     "the center escalates an unacknowledged alert group along a party's chain"),
    (OVERDUE_EVENT, ("group", "party", "level", "due", "ack_deadline", "skipped"), (),
     "the center declares a party overdue on an alert group"),
]:  # fmt: skip
    entry_kind(
        _kind, signer=Signer.CENTER, required=_required, optional=_optional, folded=False,
        summary=_summary,
    )  # fmt: skip
entry_kind(
    ACKNOWLEDGED_EVENT, signer=Signer.MEMBER, required=("group", "content_hash"), folded=False,
    summary="a party acknowledges an alert group, naming its hash",
)  # fmt: skip

_SHARED, _CENTER = "shared", "center"
_FIELDS = frozenset(COLUMNS) | {"disclosure"}
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
    ``content_hash``: what an acknowledgement names (the SHA-256 of the canonical JSON of
    the record entry of the alert's ``group``: the findings of one detection pass raised
    together, acknowledged and escalated together); ``opening``: for the owner of a hidden
    aircraft, what opens the commitment the entry holds for it; ``recipients``: each party
    concerned's acknowledgement deadline and escalation (:class:`AlertPartyOut`), which are
    its group's. Of a conflict with an aircraft hidden from the reader: no ``tcpa_s``,
    ``horizontal_nm`` or ``vertical_ft``, and the place is the reader's own aircraft's when
    separation is lost (DECISIONS 1)."""

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
    group: str | None = None
    recipients: list[AlertPartyOut] = []
    opening: dict[str, Any] | None = None


class PlanConflictOut(BaseModel):
    """A conflict of a flight plan with another one, as the declaring caller may see it.
    When the other plan is hidden from it, ``other``, ``los_until``, ``cpa_at`` and
    ``dcpa_m`` are null: it learns whose plan it is and when separation is lost, nothing
    that measures the other (DECISIONS 1)."""

    alert: str
    other: str | None
    party: str | None
    operator: str
    los_at: datetime
    los_until: datetime | None
    cpa_at: datetime | None
    dcpa_m: float | None


class TracksAnswer(BaseModel):
    """What a batch did: reports ``accepted`` (stored) and ``dropped`` (not newer than the
    one kept), the alerts it ``raised`` and the ids of those it ``cleared``, as the caller may
    see them (the first :data:`ANSWER_ALERTS_MAX` of each; ``raised_count`` and
    ``cleared_count``: how many); ``fresh``: the aircraft checked."""

    accepted: int
    dropped: int
    fresh: int
    raised: list[AlertOut]
    cleared: list[str]
    raised_count: int = 0
    cleared_count: int = 0


# --- who sees what --------------------------------------------------------------------------


def _owner(party: str | None, operator: str) -> str:
    return party if party is not None else operator


def may_see_track(member: str, role: Role, owner: str, disclosure: str) -> bool:
    """Whether a reader (``member``, ``role``) may see an aircraft of ``owner``.

    >>> may_see_track("red", Role.OFFICER, "blue", "center"), may_see_track(
    ...     "observers", Role.MONITOR, "blue", "shared")
    (False, True)
    """
    reader = visibility.Viewer(member, role)
    return visibility.sees_track(reader, owner=owner, disclosure=disclosure)


def _is_reader(caller: Caller) -> None:
    if not visibility.reads_air_picture(caller.role):
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
    readable = [a for a in raised if _may_read(a["kind"], a["parties"], caller)]
    gone = [a.id for a in cleared if _may_read_alert(a, caller.member, caller.role)]
    shown = [_row(a) for a in readable[:ANSWER_ALERTS_MAX]]
    leads = _leads(session, shown)
    recipients = _recipients_of(session, list(leads))
    return TracksAnswer(
        accepted=len(updated),
        dropped=dropped,
        fresh=fresh,
        raised=[
            alert_of(
                a,
                caller.member,
                caller.role,
                recipients=recipients[_lead_of(a)],
                lead=leads[_lead_of(a)],
            )
            for a in shown
        ],
        cleared=gone[:ANSWER_ALERTS_MAX],
        raised_count=len(readable),
        cleared_count=len(gone),
    )


def _publish_tracks(
    session: Session, agreement: Agreement, rows: Sequence[_Track], now: datetime
) -> None:
    """``track.updated`` per aircraft (a shared one to every party and monitor, a ``center``
    one to its owner alone), or one ``tracks.updated`` list per audience for a large batch."""
    groups: dict[tuple[str, ...], list[_Track]] = {}
    for row in rows:
        audience = visibility.track_audience(agreement, owner=row.owner, disclosure=row.disclosure)
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
        where = [visibility.tracks_where(caller, owner=c.owner, disclosure=c.disclosure)]
        if fresh_only:
            where.append(c.time >= now - STALE_AFTER)
        rows = _tracks(session, *where)
    return [_track_out(r) for r in rows]


# --- detection ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Finding:
    """What the center found, before any cut: the alert's key, kind, source, the parties
    concerned and the full payload (``made``, or made when first asked for by ``make``: a
    pass finds every persisting conflict again, and builds the payload of few of them)."""

    key: str
    kind: str
    source: str
    concerned: list[str]
    made: dict[str, Any] | None = None
    make: Callable[[], dict[str, Any]] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        if self.made is None:
            assert self.make is not None
            self.made = self.make()
        return self.made


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
        "state": [row.lat, row.lon, row.alt_ft, row.gs_kt, row.track_deg, row.vs_fpm],
    }


def _key_of(row: _Track) -> str:
    return f"{row.owner}/{row.id}"


_Motion = tuple[float, float, float, float, float, float, float, float]


def _motions(tracks: TrackSet, now: datetime) -> list[_Motion]:
    """Each aircraft's state as plain floats, for :func:`_moved`: (seconds since its report
    at ``now``, lat, lon, cos lat, track (rad), ground speed (m/s), alt (ft), vs (ft/s))."""
    t = epoch_seconds(now)
    return [
        (
            t - float(tracks.time_s[k]),
            float(tracks.lat[k]),
            float(tracks.lon[k]),
            max(math.cos(math.radians(float(tracks.lat[k]))), 1e-9),
            math.radians(float(tracks.track_deg[k])),
            float(tracks.gs_kt[k]) * KT,
            float(tracks.alt_ft[k]),
            float(tracks.vs_fpm[k]) / 60.0,
        )
        for k in range(len(tracks))
    ]


def _moved(m: _Motion, seconds: float) -> tuple[float, float, float]:
    """An aircraft's (lat, lon, alt_ft) ``seconds`` after now, extrapolated in a straight
    line as :meth:`accord.airspace.TrackSet.states_at` does (a conflict's closest approach
    and loss of separation, shown on the map)."""
    since, lat0, lon0, scale, trk, gs, alt0, vs = m
    dt = since + seconds
    lat = min(90.0, max(-90.0, lat0 + math.degrees(gs * math.cos(trk) * dt / EARTH_RADIUS_M)))
    lon = lon0 + math.degrees(gs * math.sin(trk) * dt / (EARTH_RADIUS_M * scale))
    lon = lon - 360.0 if lon > 180.0 else lon + 360.0 if lon < -180.0 else lon
    return lat, lon, alt0 + vs * dt


def _conflict_payload(
    c: TrackConflict,
    keys: tuple[str, str],
    tracks: TrackSet,
    base: Mapping[str, dict[str, Any]],
    motion: Sequence[_Motion],
    now: datetime,
    at_text: str,
) -> dict[str, Any]:
    """The payload of conflict ``c`` between the aircraft ``keys`` (in key order)."""
    ka, kb = keys
    ia, ib = tracks.row(ka), tracks.row(kb)
    at = max(c.tcpa_s, 0.0)
    los = max((c.los_at - now).total_seconds(), 0.0)
    pa, pb = _moved(motion[ia], at), _moved(motion[ib], at)
    aircraft = []
    for key, k, pos in ((ka, ia, pa), (kb, ib, pb)):
        one = dict(base[key])
        one["cpa"] = [round(pos[1], 6), round(pos[0], 6), round(pos[2])]
        lost_at = _moved(motion[k], los)
        one["los"] = [round(lost_at[1], 6), round(lost_at[0], 6), round(lost_at[2])]
        aircraft.append(one)
    return {
        "aircraft": aircraft,
        "at": at_text,
        "tcpa_s": round(c.tcpa_s, 1),
        "dcpa_nm": round(c.dcpa_m / NM, 2),
        "vertical_ft": round(abs(pa[2] - pb[2])),
        "los_at": format_instant(c.los_at.replace(microsecond=0)),
        "lost": c.lost,
    }


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
    at_text = format_instant(now)
    base = {key: _aircraft(r, key) for key, r in by_key.items()}
    motion = _motions(tracks, now)
    for c in track_conflicts(tracks, separation, now):
        ka, kb = sorted((c.a, c.b))
        key = f"conflict:track:{ka}|{kb}"
        make = partial(_conflict_payload, c, (ka, kb), tracks, base, motion, now, at_text)
        found[key] = _Finding(key, "conflict", "track", list(c.concerned), make=make)
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


@dataclass(frozen=True, slots=True)
class _Active:
    """An open alert as reconciliation needs it (read with one Core statement)."""

    key: str
    id: str
    group_id: str | None
    last_seen: datetime


_ALERTS = cast(Table, AirspaceAlert.__table__)


def _active(session: Session, *where: Any) -> dict[str, _Active]:
    """The open alerts matching ``where``, by key."""
    c = _ALERTS.c
    query = select(c.key, c.id, c.group_id, c.last_seen).where(c.cleared_at.is_(None), *where)
    return {row[0]: _Active(*row) for row in session.execute(query)}


def survey(
    unit: Unit, center: Center, now: datetime
) -> tuple[int, list[dict[str, Any]], list[AirspaceAlert]]:
    """Run the detection over every fresh track at ``now``: raise the new alerts, keep the
    persisting ones current, clear those that ended. (The number of fresh aircraft, the
    alerts raised — as rows' columns —, the alerts cleared.)"""
    session = unit.session
    c = _TRACKS.c
    rows = _tracks(session, c.time >= now - STALE_AFTER, c.time <= now + FUTURE_SKEW)
    found = _track_findings(center.agreement, rows, now)
    active = _active(session, _ALERTS.c.source == "track")
    raised, cleared = _reconcile(unit, center, found, active, now)
    return len(rows), raised, cleared


_Raised = dict[str, Any]
"""A raised alert's row, as the columns of ``airspace_alerts`` (a pass can raise a hundred
thousand: rows are inserted with one Core statement, not as ORM objects)."""


def _row(x: AirspaceAlert | _Raised) -> AirspaceAlert:
    """An alert row as an ORM object (transient for a raised one: for reading only)."""
    return x if isinstance(x, AirspaceAlert) else AirspaceAlert(**x)


def _reconcile(
    unit: Unit,
    center: Center,
    found: Mapping[str, _Finding],
    active: Mapping[str, _Active],
    now: datetime,
) -> tuple[list[_Raised], list[AirspaceAlert]]:
    """Raise the findings not yet open (in groups: :func:`_groups`), keep the open ones
    current, clear the open ones no longer found (batched: :func:`_clear_many`); one live
    event per reader cut for what was raised (:func:`_announce`)."""
    session = unit.session
    persisting = sorted((k for k in found if k in active), key=lambda k: (active[k].last_seen, k))
    kept = [
        {"b_id": active[key].id, "last_seen": now, "payload": _stored(found[key].payload)}
        for key in persisting[:KEPT_CURRENT_MAX]
    ]
    if kept:
        session.execute(
            update(_ALERTS).where(_ALERTS.c.id == bindparam("b_id")),
            kept,
            execution_options={"synchronize_session": False},
        )
    new = [found[key] for key in sorted(found) if key not in active]
    raised: list[_Raised] = []
    recipients: dict[str, list[AirspaceAlertRecipient]] = {}
    for group in _groups(new):
        chunks = _chunks(group, now)
        for part, chunk in enumerate(chunks):
            rows, told = _raise_group(unit, center, chunk, now, part=part, parts=len(chunks))
            raised += rows
            recipients[rows[0]["id"]] = told
    if raised:
        leads = {lead: _row(r) for r in raised if (lead := r["id"]).endswith(".0")}
        for event_kind in sorted({_RAISE_EVENTS[r["kind"]] for r in raised} - {EXEMPT_EVENT}):
            these = [r for r in raised if _RAISE_EVENTS[r["kind"]] == event_kind]
            _announce(
                session, center.agreement, these, event_kind, now,
                leads=leads, acks={}, recipients=recipients,
            )  # fmt: skip
    ended = [active[key] for key in sorted(set(active) - set(found))]
    cleared = _clear_many(unit, center, ended, now)
    session.flush()
    return raised, cleared


# --- groups: one record entry per cluster of findings ----------------------------------------


def _groups(findings: Sequence[_Finding]) -> list[list[_Finding]]:
    """The new findings of one pass in groups: conflicts by connected component of the
    conflict graph, area findings by kind and area. The groups partition ``findings``.

    Why components: a cluster of N aircraft in one spot has about N²/2 conflicts and one
    component; two distant clusters are two components, each alerted to its own parties.
    Only ``shared`` aircraft join components: a pair with a hidden aircraft joins the
    component of its other aircraft, and pairs of two hidden aircraft one group per pair of
    owners — else two of a party's aircraft put in one group would tell it that one hidden
    aircraft (or a chain of them) conflicts with both, a second measurement of it. (So the
    groups are at most the shared components plus the pairs of owners: O(N).)"""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        top = x
        while parent.setdefault(top, top) != top:
            top = parent[top]
        while parent[x] != top:
            parent[x], x = top, parent[x]
        return top

    for f in findings:
        if f.kind == "conflict":
            a, b = f.payload["aircraft"]
            if a["disclosure"] == _SHARED and b["disclosure"] == _SHARED:
                ra, rb = root(a["key"]), root(b["key"])
                if ra != rb:
                    parent[ra] = rb
    out: dict[tuple[str, str, str], list[_Finding]] = {}
    for f in findings:
        if f.kind == "conflict":
            shown = [one["key"] for one in f.payload["aircraft"] if one["disclosure"] == _SHARED]
            owners = sorted(one["owner"] for one in f.payload["aircraft"])
            unit = "shared:" + root(shown[0]) if shown else "hidden:" + "|".join(owners)
        else:
            unit = str(f.payload["area"])
        out.setdefault((f.kind, f.source, unit), []).append(f)
    return [_tiled(group) if group[0].kind == "conflict" else group for group in out.values()]


TILE = 32
"""A dense cluster's conflicts are ordered by tiles of this many aircraft by this many, so
that each entry of a split cluster lists few aircraft for many pairs (about 2 × 32 aircraft
for 1,000 pairs, where pair order would list every aircraft of the cluster in each)."""


def _tiled(group: list[_Finding]) -> list[_Finding]:
    """``group``'s conflicts ordered by the tile of their two shared aircraft (in key
    order; a hidden aircraft, listed once per pair, counts as tile -1)."""
    keys = sorted(
        {one["key"] for f in group for one in f.payload["aircraft"] if one["disclosure"] == _SHARED}
    )
    rank = {key: k // TILE for k, key in enumerate(keys)}

    def tile(f: _Finding) -> tuple[int, int]:
        a, b = (rank.get(one["key"], -1) for one in f.payload["aircraft"])
        return (a, b) if a <= b else (b, a)

    return sorted(group, key=tile)


KEPT_CURRENT_MAX = 2_000
"""The most persisting alerts one pass keeps current (their numbers and ``last_seen``), the
least recently kept first: a pass finds a cluster's conflicts again on every batch, and
rewriting a hundred thousand of them each time would hold the writer for seconds."""
ENTRY_BUDGET = 60_000
"""The most bytes of canonical JSON the event of one alert group's record entry takes
(DECISIONS 12: an entry, envelope and signature included, is at most 64 KiB). A larger
group is split into several entries, each a group of its own."""
EVENT_ALERTS_MAX = 100
"""The most alerts one live event of a group carries for one reader; beyond it the event
says ``truncated`` and the page reads ``GET /v1/alerts``."""
ANSWER_ALERTS_MAX = 200
"""The most alerts (raised, and ids cleared) a ``POST /v1/tracks`` answer lists; its
``raised_count`` and ``cleared_count`` say how many there were."""
CLEARED_IDS_MAX = 2_500
"""The most alert ids one ``airspace.cleared`` entry names (about 52 KB)."""
_SKELETON = 1_000  # the event's fixed part: kind, group, parties, times, fields
_PER_OWNER = 80  # one commitment in ``commitments``

_CONFLICT_FIELDS = ["a", "b", "los_s", "lost", "tcpa_s", "dcpa_nm", "vertical_ft"]
_PLAN_FIELDS = [*_CONFLICT_FIELDS, "los_until_s", "cpa_s"]
_AREA_FIELDS = ["aircraft", "inside", "entry_s", "entry_point"]


def _public_aircraft(one: Mapping[str, Any]) -> dict[str, Any]:
    """What the record says of an aircraft: all of a shared one but its place; of a
    ``center`` one its owner and operator only."""
    out = {"party": one["party"], "operator": one["operator"], "disclosure": one["disclosure"]}
    if one["disclosure"] == _SHARED:
        out |= {"id": one["id"], "mission": one["mission"]}
    return out


def _seconds(text: str, since: datetime) -> float:
    return round((parse_instant(text) - since).total_seconds(), 1)


def _slot(one: Mapping[str, Any], n: int) -> str:
    """Where aircraft ``one`` of finding ``n`` is listed in a group entry's ``aircraft``: a
    shared one once for the group, a hidden one once per finding (nothing in the record
    links two findings of one hidden aircraft)."""
    return one["key"] if one["disclosure"] == _SHARED else f"{one['key']}#{n}"


def _finding_item(f: _Finding, index: Mapping[str, int], now: datetime, n: int = 0) -> list[Any]:
    """One finding as a row of the group entry's ``findings`` (columns: its ``fields``).

    A conflict with an aircraft hidden from some reader says only which aircraft, when
    separation is lost, and whether it is lost now (DECISIONS 1): no distance, no vertical
    separation, and no time of closest approach either — its gap to the loss of separation,
    times the closing speed, measures the miss distance."""
    p = f.payload
    if f.kind != "conflict":
        (one,) = p["aircraft"]
        shown = one["disclosure"] == _SHARED
        return [
            index[_slot(one, n)],
            bool(p["inside"]),
            _seconds(p["entry_at"], now),
            p["entry_point"] if shown else None,
        ]
    a, b = p["aircraft"]
    item: list[Any] = [
        index[_slot(a, n)],
        index[_slot(b, n)],
        _seconds(p["los_at"], now),
        p["lost"],
    ]
    shown = a["disclosure"] == _SHARED and b["disclosure"] == _SHARED
    item += [p["tcpa_s"], p["dcpa_nm"], p["vertical_ft"]] if shown else [None, None, None]
    if f.source == "plan":
        if shown:
            item += [_seconds(p["los_until"], now), _seconds(p["cpa_at"], now)]
        else:
            item += [None, None]
    return item


_UNSTORED = frozenset({"key", "reported_at", "state"})


def _stored(payload: Mapping[str, Any]) -> str:
    """A finding's payload as its alert row keeps it: compact JSON, its aircraft without what
    only grouping and the commitments use (a cluster's rows are a hundred thousand)."""
    aircraft = [{k: v for k, v in one.items() if k not in _UNSTORED} for one in payload["aircraft"]]
    return json.dumps({**payload, "aircraft": aircraft}, separators=(",", ":"))


def _base_aircraft(one: Mapping[str, Any]) -> dict[str, Any]:
    """An aircraft of a finding without its per-finding places (what a commitment holds)."""
    return {k: v for k, v in one.items() if k not in ("cpa", "los")}


def _chunks(group: Sequence[_Finding], now: datetime) -> list[list[_Finding]]:
    """``group`` cut greedily into runs whose entry stays within :data:`ENTRY_BUDGET` (each
    row and aircraft counted as its compact JSON, plus a margin; :func:`_raise_group` checks
    the exact size and halves a run that is still too large)."""
    out: list[list[_Finding]] = []
    chunk: list[_Finding] = []
    size = _SKELETON
    index: dict[str, int] = {}
    owners: set[str] = set()

    def cost_of(f: _Finding, n: int) -> int:
        local = dict(index)
        cost = 0
        for one in f.payload["aircraft"]:
            if _slot(one, n) not in local:
                local[_slot(one, n)] = len(local)
                cost += len(json.dumps(_public_aircraft(one), separators=(",", ":"))) + 2
                if one["disclosure"] != _SHARED and one["owner"] not in owners:
                    cost += _PER_OWNER
        item = _finding_item(f, local, now, n)
        return cost + len(json.dumps(item, separators=(",", ":"))) + 2

    for f in group:
        cost = cost_of(f, len(chunk))
        if chunk and size + cost > ENTRY_BUDGET:
            out.append(chunk)
            chunk, size, index, owners = [], _SKELETON, {}, set()
            cost = cost_of(f, 0)
        for one in f.payload["aircraft"]:
            index.setdefault(_slot(one, len(chunk)), len(index))
            if one["disclosure"] != _SHARED:
                owners.add(one["owner"])
        chunk.append(f)
        size += cost
    if chunk:
        out.append(chunk)
    return out


def _group_event(
    group_id: str, findings: Sequence[_Finding], now: datetime, *, part: int, parts: int
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The record event of a new group and the openings of its commitments, by owner.

    The event lists the group's shared aircraft once each and a hidden one once per finding
    (as :func:`_public_aircraft`; see :func:`_slot`), then one row per finding (columns:
    ``fields``; ``a``/``b``/``aircraft`` index ``aircraft``); the finding in row ``n`` is
    alert ``<group>.<n>``. Each owner of a ``center`` aircraft gets a salted commitment to its
    hidden aircraft in the group (ids, missions, reported states), whose opening the center
    keeps for it."""
    first = findings[0]
    aircraft: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for n, f in enumerate(findings):
        for one in f.payload["aircraft"]:
            if _slot(one, n) not in index:
                index[_slot(one, n)] = len(aircraft)
                aircraft.append(_base_aircraft(one))
    parties = sorted({p for f in findings for p in f.concerned})
    event: dict[str, Any] = {
        "kind": _RAISE_EVENTS[first.kind],
        "group": group_id,
        "part": part,
        "parts": parts,
        "source": first.source,
        "parties": parties,
        "raised_at": format_instant(now),
        "aircraft": [_public_aircraft(a) for a in aircraft],
    }
    if first.kind == "conflict":
        event["fields"] = _PLAN_FIELDS if first.source == "plan" else _CONFLICT_FIELDS
    else:
        event["area"] = first.payload["area"]
        event["fields"] = _AREA_FIELDS
    event["findings"] = [_finding_item(f, index, now, n) for n, f in enumerate(findings)]
    hidden: dict[str, dict[str, dict[str, Any]]] = {}
    for one in aircraft:
        if one["disclosure"] != _SHARED:
            hidden.setdefault(one["owner"], {}).setdefault(one["key"], one)
    sealed: dict[str, dict[str, str]] = {}
    commitments: dict[str, str] = {}
    for owner in sorted(hidden):
        content = {"group": group_id, "aircraft": list(hidden[owner].values())}
        salt = secrets.token_bytes(SALT_BYTES)
        committed = encode_base64(commitment(content, salt=salt))
        commitments[owner] = committed
        sealed[owner] = {
            "commitment": committed,
            "salt": encode_base64(salt),
            "content": canonical_json(content).decode("utf-8"),
        }
    if commitments:
        event["commitments"] = commitments
    return event, sealed


def _raise_group(
    unit: Unit,
    center: Center,
    findings: Sequence[_Finding],
    now: datetime,
    *,
    part: int = 0,
    parts: int = 1,
) -> tuple[list[_Raised], list[AirspaceAlertRecipient]]:
    """Raise ``findings`` as one group: one record entry signed by the center, one alert row
    per finding (``<group>.<n>``), the group's recipients on its first alert (one
    acknowledgement and one escalation per party and group). A group whose entry would
    exceed :data:`ENTRY_BUDGET` is halved. (The rows, the recipients of the first group.)"""
    group_id = "a-" + secrets.token_hex(5)
    event, sealed = _group_event(group_id, findings, now, part=part, parts=parts)
    body = canonical_json(event)
    if len(body) > ENTRY_BUDGET and len(findings) > 1:
        half = len(findings) // 2
        first, told = _raise_group(unit, center, findings[:half], now, part=part, parts=parts)
        second, _ = _raise_group(unit, center, findings[half:], now, part=part, parts=parts)
        return first + second, told
    entry = unit.ledger.append(event, author=center.origin, at=now)
    content_hash = hashlib.sha256(body).hexdigest()
    rows: list[_Raised] = [
        {
            "id": f"{group_id}.{n}",
            "kind": f.kind,
            "source": f.source,
            "key": f.key,
            "parties": json.dumps(f.concerned),
            "raised_at": now,
            "last_seen": now,
            "cleared_at": None,
            "payload": _stored(f.payload),
            "sealed": json.dumps(sealed) if n == 0 else "{}",
            "content_hash": content_hash,
            "entry": entry,
            "cleared_entry": None,
            "group_id": group_id,
        }
        for n, f in enumerate(findings)
    ]
    unit.session.execute(insert(_ALERTS), rows)
    if findings[0].kind == "exempt":  # recorded once; alerts no one
        return rows, []
    parties = sorted(set(event["parties"]) & center.agreement.party_ids)
    recipients = [
        AirspaceAlertRecipient(
            alert_id=rows[0]["id"],
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
    return rows, recipients


def _clear_many(
    unit: Unit, center: Center, ended: Sequence[_Active], now: datetime
) -> list[AirspaceAlert]:
    """Clear the alerts of ``ended``: ``airspace.cleared`` entries naming up to
    :data:`CLEARED_IDS_MAX` alerts each (an exempt passage's end is recorded nowhere), the
    escalation of each group none of whose alerts is open any more stopped, one event per
    group and reader cut."""
    if not ended:
        return []
    session = unit.session
    rows: list[AirspaceAlert] = []
    ids = [a.id for a in ended]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows += session.scalars(select(AirspaceAlert).where(AirspaceAlert.id.in_(chunk))).all()
    rows.sort(key=lambda r: r.id)
    for row in rows:
        row.cleared_at = now
    told = [r for r in rows if r.kind != "exempt"]
    for start in range(0, len(told), CLEARED_IDS_MAX):
        chunk_rows = told[start : start + CLEARED_IDS_MAX]
        event = {
            "kind": CLEARED_EVENT,
            "alerts": [r.id for r in chunk_rows],
            "cleared_at": format_instant(now),
        }
        entry = unit.ledger.append(event, author=center.origin, at=now)
        for r in chunk_rows:
            r.cleared_entry = entry
    session.flush()
    by_group: dict[str, list[AirspaceAlert]] = {}
    for r in told:
        by_group.setdefault(_group_of(r), []).append(r)
    grouped = [g for g in by_group if by_group[g][0].group_id is not None]
    still_open: set[str | None] = set()
    for start in range(0, len(grouped), 500):
        chunk = grouped[start : start + 500]
        still_open |= set(
            session.scalars(
                select(AirspaceAlert.group_id).where(
                    AirspaceAlert.group_id.in_(chunk), AirspaceAlert.cleared_at.is_(None)
                )
            ).all()
        )
    closed = [_lead_of(by_group[g][0]) for g in by_group if g not in still_open]
    for start in range(0, len(closed), 500):
        session.execute(
            update(AirspaceAlertRecipient)
            .where(AirspaceAlertRecipient.alert_id.in_(closed[start : start + 500]))
            .values(due_at=None)
            .execution_options(synchronize_session="fetch")
        )
    leads = _leads(session, told)
    acks = _acks_of(session, list(leads))
    recipients = _recipients_of(session, list(leads))
    _announce(
        session,
        center.agreement,
        told,
        CLEARED_EVENT,
        now,
        leads=leads,
        acks=acks,
        recipients=recipients,
    )
    return rows


def _group_of(row: AirspaceAlert) -> str:
    """The group an alert was raised in (an alert raised before groups: its own)."""
    return row.group_id if row.group_id is not None else row.id


def _group_id_of(x: AirspaceAlert | _Raised) -> str:
    """:func:`_group_of` of a row or a raised row's columns."""
    if isinstance(x, AirspaceAlert):
        return _group_of(x)
    return str(x["group_id"])


def _lead_of(row: AirspaceAlert) -> str:
    """The alert holding its group's recipients, acknowledgements and openings."""
    return f"{row.group_id}.0" if row.group_id is not None else row.id


def _leads(session: Session, rows: Sequence[AirspaceAlert]) -> dict[str, AirspaceAlert]:
    """The lead alert of each of ``rows``' groups, by id."""
    out = {r.id: r for r in rows if _lead_of(r) == r.id}
    wanted = sorted({_lead_of(r) for r in rows} - set(out))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for r in session.scalars(select(AirspaceAlert).where(AirspaceAlert.id.in_(chunk))):
            out[r.id] = r
    return out


def _audience(agreement: Agreement, parties: Iterable[str]) -> list[str]:
    return visibility.alert_audience(agreement, parties)


def _announce(
    session: Session,
    agreement: Agreement,
    rows: Sequence[AirspaceAlert | _Raised],
    kind: str,
    now: datetime,
    *,
    leads: Mapping[str, AirspaceAlert],
    acks: Mapping[str, Sequence[str]],
    recipients: Mapping[str, Sequence[AirspaceAlertRecipient]],
) -> None:
    """One event per distinct cut of ``rows`` (alerts of one pass, or of one group; members
    who see the same get one event): ``{"groups", "count", "truncated", "alerts"}`` —
    ``alerts`` the first :data:`EVENT_ALERTS_MAX` of the alerts the member may read, each as
    :func:`alert_of`, ``groups`` the groups of all of them. ``leads``, ``acks``,
    ``recipients``: each group's first alert, acknowledgements and recipients, by its id."""
    parties_of: list[frozenset[str]] = []
    kind_of_: list[str] = []
    for x in rows:
        kind_of = x.kind if isinstance(x, AirspaceAlert) else x["kind"]
        text = x.parties if isinstance(x, AirspaceAlert) else x["parties"]
        kind_of_.append(kind_of)
        parties_of.append(frozenset() if kind_of == "exempt" else frozenset(json.loads(text)))
    everyone: set[str] = set()
    for ps in set(parties_of):
        everyone |= ps
    made: dict[int, AirspaceAlert] = {}
    cuts: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for member in _audience(agreement, everyone):
        reader = visibility.alert_reader(agreement, member)
        role = reader.role
        mine = [
            k
            for k, ps in enumerate(parties_of)
            if ps and visibility.sees_alert(reader, kind=kind_of_[k], parties=ps)
        ]
        if not mine:
            continue
        views = []
        for k in mine[:EVENT_ALERTS_MAX]:
            row = made.get(k) or made.setdefault(k, _row(rows[k]))
            lead = _lead_of(row)
            view = alert_of(
                row,
                member,
                role,
                acknowledged=acks.get(lead, ()),
                recipients=recipients.get(lead, ()),
                lead=leads.get(lead),
            )
            views.append(view.model_dump(mode="json"))
        groups = sorted({_group_id_of(rows[k]) for k in mine})
        payload = {
            "groups": groups,
            "count": len(mine),
            "truncated": len(mine) > len(views),
            "alerts": views,
        }
        text = json.dumps(payload, sort_keys=True)
        cuts.setdefault(text, ([], payload))[0].append(member)
    for members, payload in cuts.values():
        publish(session, kind=kind, at=now, audience=members, payload=payload)


# --- alerts out -----------------------------------------------------------------------------


def _may_read_alert(row: AirspaceAlert, member: str, role: Role) -> bool:
    """The policy's :func:`~accord.center.visibility.sees_alert` of a stored alert."""
    return _may_read(row.kind, row.parties, visibility.Viewer(member, role))


def _may_read(kind: str, parties: str, reader: visibility.Reader) -> bool:
    """The policy's :func:`~accord.center.visibility.sees_alert` of a raised row's ``kind``
    and ``parties`` (JSON)."""
    if not visibility.reads_air_picture(reader.role):
        return False
    return visibility.sees_alert(reader, kind=kind, parties=json.loads(parties))


def _acks(session: Session | None, row: AirspaceAlert) -> list[str]:
    """The parties that acknowledged ``row``'s group."""
    if session is None:
        return []
    return _acks_of(session, [_lead_of(row)])[_lead_of(row)]


def _acks_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """The parties that acknowledged each of the lead alerts ``ids``."""
    out: dict[str, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        query = select(AirspaceAck.alert_id, AirspaceAck.party).where(
            AirspaceAck.alert_id.in_(chunk)
        )
        for alert_id, party in session.execute(query.order_by(AirspaceAck.party)):
            out[alert_id].append(party)
    return out


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
    lead: AirspaceAlert | None = None,
) -> AlertOut:
    """``row`` cut for a reader of ``member`` with ``role`` (see the module docstring);
    ``acknowledged`` and ``recipients``: its group's acknowledgements and its parties'
    acknowledgement and escalation state; ``lead``: its group's first alert, which holds the
    openings (``row`` itself when not given)."""
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
    tcpa: float | None = None
    if row.kind == "conflict":
        predicted = parse_instant(p["los_at"])
        label = f"conflict: {' / '.join(names)}"
        when = "lost now" if p["lost"] else f"from {p['los_at']}"
        if all(seen):
            places: list[list[float]] = [a["cpa"] for a in aircraft if a.get("cpa")]
            if len(places) == 2:
                lon, lat = (places[0][0] + places[1][0]) / 2, (places[0][1] + places[1][1]) / 2
            detail = (
                f"predicted loss of separation between {' and '.join(names)}: {when}"
                + f"; closest approach {p['dcpa_nm']} NM, {p['vertical_ft']} ft apart"
                + (f", in {p['tcpa_s']:.0f} s" if p.get("tcpa_s") is not None else "")
            )
            horizontal, vertical, tcpa = p["dcpa_nm"], p["vertical_ft"], p.get("tcpa_s")
        else:
            # DECISIONS 1: of a pair with an aircraft hidden from the reader, only that
            # separation is lost and when; the place is the reader's own aircraft's when it
            # is lost (no closest approach: its time, against the loss's, measures the miss)
            own = [a["los"] for a in aircraft if a["owner"] == member and a.get("los")]
            if own and role in (Role.OFFICER, Role.APPROVER):
                lon, lat = own[0][0], own[0][1]
            detail = f"predicted loss of separation between {' and '.join(names)}: {when}"
            horizontal = vertical = None
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
    sealed = json.loads((lead if lead is not None else row).sealed)
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
        tcpa_s=tcpa,
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
        group=_group_of(row),
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
        leads = _leads(session, shown)
        recipients = _recipients_of(session, list(leads))
        acks = _acks_of(session, list(leads))
        return [
            alert_of(
                row,
                caller.member,
                caller.role,
                acknowledged=acks[_lead_of(row)],
                recipients=recipients[_lead_of(row)],
                lead=leads[_lead_of(row)],
            )
            for row in shown
        ]


def _not_found() -> ProblemError:
    return ProblemError(404, "no such alert", kind="not-found")


def get_alert(center: Center, caller: Caller, alert_id: str) -> AlertOut:
    """One alert, for a reader who may see it; anyone else gets the 404 of a missing id."""
    _is_reader(caller)
    with center.reading() as session:
        row = _alert_named(session, alert_id, caller)
        if row is None:
            raise _not_found()
        lead = _leads(session, [row])[_lead_of(row)]
        return alert_of(
            row,
            caller.member,
            caller.role,
            acknowledged=_acks(session, row),
            recipients=_recipients_of(session, [lead.id])[lead.id],
            lead=lead,
        )


def _alert_named(session: Session, alert_id: str, caller: Caller) -> AirspaceAlert | None:
    """The alert ``alert_id`` names, if the caller may read it: an alert, or a group (then
    the first of its alerts the caller may read)."""
    row = session.get(AirspaceAlert, alert_id)
    if row is None and "." not in alert_id:
        query = select(AirspaceAlert).where(AirspaceAlert.group_id == alert_id)
        readable = [
            r for r in session.scalars(query) if _may_read_alert(r, caller.member, caller.role)
        ]
        readable.sort(key=lambda r: int(r.id.rsplit(".", 1)[1]))
        row = readable[0] if readable else None
    if row is None or not _may_read_alert(row, caller.member, caller.role):
        return None
    return row


def acknowledge_alert(
    unit: Unit, center: Center, caller: Caller, alert_id: str, named_hash: str, now: datetime
) -> AlertOut:
    """The caller's party acknowledges the group of an alert it is concerned by (naming the
    alert or the group), naming the group entry's ``content_hash``: an
    ``airspace.acknowledged`` entry signed by the party (naming the group), and events."""
    if caller.role not in (Role.OFFICER, Role.APPROVER):
        raise NotAuthorized(f"a {caller.role.value} does not acknowledge alerts")
    session = unit.session
    row = _alert_named(session, alert_id, caller)
    if row is None:
        raise _not_found()
    lead = _leads(session, [row])[_lead_of(row)]
    if session.get(AirspaceAck, (lead.id, caller.member)) is not None:
        raise IllegalTransition(f"{caller.member} has already acknowledged {_group_of(row)}")
    named = named_hash.lower()
    if named != row.content_hash:
        raise hash_mismatch("this alert's record entry")
    event: dict[str, Any] = {"kind": ACKNOWLEDGED_EVENT, "content_hash": named}
    if row.group_id is None:
        event["alert"] = row.id
    else:
        event["group"] = row.group_id
    entry = unit.ledger.append(event, author=caller.member, at=now)
    session.add(
        AirspaceAck(
            alert_id=lead.id,
            party=caller.member,
            user_id=caller.user_id,
            content_hash=named,
            acknowledged_at=now,
            entry=entry,
        )
    )
    mine = session.get(AirspaceAlertRecipient, (lead.id, caller.member))
    if mine is not None:  # its escalation stops (an overdue party acknowledges late)
        mine.due_at = None
    session.flush()
    acked = _acks(session, row)
    recipients = _recipients_of(session, [lead.id])[lead.id]
    _announce(
        session,
        center.agreement,
        _group_rows(session, row),
        ACKNOWLEDGED_EVENT,
        now,
        leads={lead.id: lead},
        acks={lead.id: acked},
        recipients={lead.id: recipients},
    )
    return alert_of(
        row, caller.member, caller.role, acknowledged=acked, recipients=recipients, lead=lead
    )


def _group_rows(session: Session, row: AirspaceAlert) -> list[AirspaceAlert]:
    """The alerts of ``row``'s group, in order."""
    if row.group_id is None:
        return [row]
    found = session.scalars(select(AirspaceAlert).where(AirspaceAlert.group_id == row.group_id))
    return sorted(found, key=lambda r: int(r.id.rsplit(".", 1)[1]))


# --- escalation -----------------------------------------------------------------------------


def _apply_step(
    unit: Unit, center: Center, alert: AirspaceAlert, r: AirspaceAlertRecipient, step: Step
) -> None:
    """Write one escalation step of party ``r.party`` on ``alert`` (its group's first): the
    entry by the center (naming the group), the row's new state, the events (contact names
    to the party alone)."""
    agreement = center.agreement
    event: dict[str, Any] = {"kind": ESCALATED_EVENT if step.kind == "escalated" else OVERDUE_EVENT}
    if alert.group_id is None:
        event["alert"] = alert.id
    else:
        event["group"] = alert.group_id
    event |= {
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
    concerned = unit.session.scalars(
        select(AirspaceAlertRecipient.party).where(AirspaceAlertRecipient.alert_id == alert.id)
    ).all()
    others = set(_audience(agreement, [*concerned, *json.loads(alert.parties)])) - {r.party}
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
                round((z0 + (z1 - z0) * f) / FT),
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
                one["los"] = _position_at(p, c.los_at)
                aircraft.append(one)
            pa, pb = aircraft[0]["cpa"], aircraft[1]["cpa"]
            vertical = abs(pa[2] - pb[2]) if pa is not None and pb is not None else None
            payload = {
                "aircraft": aircraft,
                "at": format_instant(now),
                "tcpa_s": round((c.cpa_at - now).total_seconds(), 1),
                "dcpa_nm": round(c.dcpa_m / NM, 2),
                "vertical_ft": vertical,
                "los_at": format_instant(c.los_at.replace(microsecond=0)),
                "los_until": format_instant(c.los_until.replace(microsecond=0)),
                "cpa_at": format_instant(c.cpa_at.replace(microsecond=0)),
                "lost": False,
            }
            concerned = list(dict.fromkeys((plan.owner, other.owner)))
            found[key] = _Finding(key, "conflict", "plan", concerned, payload)
    active = {
        key: a
        for key, a in _active(
            session, _ALERTS.c.source == "plan", _ALERTS.c.key.contains(row.id)
        ).items()
        if row.id in key.split(":", 2)[2].split("|")
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
                los_until=parse_instant(f.payload["los_until"]) if visible else None,
                cpa_at=parse_instant(f.payload["cpa_at"]) if visible else None,
                dcpa_m=round(f.payload["dcpa_nm"] * NM, 1) if visible else None,
            )
        )
    return out
