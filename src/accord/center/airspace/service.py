"""The airspace service: live tracks in, predicted losses of separation and designated-area
violations out, as alerts to the parties concerned — in time for them to act.

**Tracks.** ``POST /v1/tracks`` takes a batch of state reports (the CSV's fields, see
:mod:`accord.airspace.tracks`, plus an optional ``disclosure``: ``shared``, the default, or
``center``). A party's officer reports its own party's aircraft only (``party`` is its
member; ``operator`` its member or a non-party operator); the administrator is the center's
own air-picture feed and reports any operator's aircraft, non-party ones included. Any bad
report refuses the whole batch (422, every problem naming ``tracks[k].field``; nothing is
applied), and so does a report from more than :data:`FUTURE_SKEW` ahead of the center's
clock, and an officer's batch that packs its own party's aircraft past
``limits.own_track_conflicts`` (:func:`_check_own_density`: a party's own pairs only, so no
party can push another's conflicts past a limit; the center's feed is not held to it). A
report not newer than the one kept for its aircraft is dropped and counted. An aircraft is
keyed by its *owner* (its party, or its operator when it has none) and its id, so that an id
another party uses — even for an aircraft hidden from the caller — never collides with the
caller's and so never tells it anything.

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
raised before groups (one entry each) read as groups of one.

**The writer's time grows with the aircraft and the pairs' bytes, not with a Python object
per pair.** A pass holds its findings as columns (:class:`_Found`: numpy arrays over the
detector's pairs, no object per pair), groups them with array operations (connected
components by hooking roots), encodes each entry once (its bytes are hashed, then signed as
they are: :meth:`~accord.center.record.ledger.Ledger.append_encoded`), and stores each group as ONE
row whose alerts are fixed-size records in packed arrays (:mod:`accord.center.airspace.store`);
the alert routes derive each alert from its group's row on read. Reconciling a pass with
the open alerts compares integer codes of (kind, aircraft, aircraft or area), keeping
current and clearing rewrite only the groups they touch. 500 aircraft in one spot: 0.6 s in
the writer (it was 10–12 s with a row and a JSON payload per pair).

Designated areas: an aircraft of
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
the direct line's pure core (:func:`accord.center.directline.service.next_step` on
:class:`~accord.center.directline.service.Pending`, its chains and heartbeat presence; each
step runs :func:`~accord.center.directline.service.step_length` of the window, a minute), and
declared overdue when no present contact is left. :func:`escalate_alerts_due` writes the
steps — entries ``airspace.escalated`` / ``airspace.overdue`` signed by the **center**,
events to the party (with its contacts' names) and to the other parties concerned and the
monitors (roles only) — and runs from the direct line's background task. Acknowledging stops
the party's escalation; clearing the alert (the finding ended) stops everyone's. The
escalation entries and events name the alert, the party, the level, roles and deadlines —
never an aircraft.

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
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.airspace import (
    Conflicts,
    PlanConflict,
    Separation,
    States,
    TrackReport,
    TrackSet,
    detect_conflicts,
    probe_flight_plan,
    report_from_fields,
    track_area_findings,
)
from accord.airspace.detect import EARTH_RADIUS_M, candidate_bound
from accord.airspace.tracks import COLUMNS, epoch_seconds
from accord.center import visibility
from accord.center.airspace.store import (
    FINDING,
    NO_ENTRY,
    NUMBERS,
    OPEN,
    STATE,
    Group,
    group_values,
    id_order,
    in_order,
    instant,
    load_groups,
    load_named,
    micros,
    pack,
    split_alert_id,
)
from accord.center.db.models import Declaration
from accord.center.db.models_airspace import (
    AirspaceAck,
    AirspaceAlertGroup,
    AirspaceAlertRecipient,
    TrackRow,
)
from accord.center.directline.escalation import (
    ESCALATION_BATCH,
    Pending,
    Step,
    chains_of,
    next_step,
    step_payloads,
)
from accord.center.directline.views import EscalationOut
from accord.center.entry_kinds import EntryKind, Signer, entry_kind
from accord.center.events.store import publish
from accord.center.http.problems import FieldProblem, ProblemError, hash_mismatch
from accord.center.operations.world_cache import parse_features
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.center.users.identity import Caller
from accord.chrono import format_instant, parse_instant
from accord.errors import AccordError, IllegalTransition, NotAuthorized
from accord.record.canonical import (
    canonical_join,
    canonical_json,
    canonical_rows,
    encode_base64,
)
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

_ENTRIES: dict[str, EntryKind] = {}
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
    # a step names its group ("group"), or an alert raised before groups ("alert")
    (ESCALATED_EVENT, ("party", "level", "role", "due", "deadline", "skipped"),
     ("group", "alert"),
     "the center escalates an unacknowledged alert group along a party's chain"),
    (OVERDUE_EVENT, ("party", "level", "due", "ack_deadline", "skipped"), ("group", "alert"),
     "the center declares a party overdue on an alert group"),
]:  # fmt: skip
    _ENTRIES[_kind] = entry_kind(
        _kind, signer=Signer.CENTER, required=_required, optional=_optional, folded=False,
        summary=_summary,
    )  # fmt: skip
_ENTRIES[ACKNOWLEDGED_EVENT] = entry_kind(
    ACKNOWLEDGED_EVENT, signer=Signer.MEMBER, required=("content_hash",),
    optional=("group", "alert"), folded=False,
    summary="a party acknowledges an alert group (or an alert raised before groups), by hash",
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
    if caller.role is Role.OFFICER and updated:
        _check_own_density(session, agreement, caller.member, updated, now)
    extra = {"reported_by": caller.user_id, "received_at": now}
    rows = [{name: getattr(t, name) for name in _Track.__slots__} | extra for t in updated.values()]
    made = [row for row in rows if (row["owner"], row["id"]) not in stored]
    if made:
        session.execute(insert(_TRACKS), made)
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
    fresh, outcome = survey(unit, center, now)
    member, role = caller.member, caller.role
    raised: list[tuple[Group, int]] = []
    raised_count = 0
    for new in outcome.raised:
        mine = np.flatnonzero(new.group.readable(member, role))
        raised_count += int(mine.size)
        raised += [(new.group, n) for n in mine[: ANSWER_ALERTS_MAX - len(raised)].tolist()]
    told = {new.group.id: new.recipients for new in outcome.raised}
    gone: list[str] = []
    cleared_count = 0
    for g, ns in outcome.cleared:
        mine = ns[g.readable(member, role)[ns]]
        cleared_count += int(mine.size)
        gone += [g.alert_id(n) for n in mine[: ANSWER_ALERTS_MAX - len(gone)].tolist()]
    return TracksAnswer(
        accepted=len(updated),
        dropped=dropped,
        fresh=fresh,
        raised=[alert_of(g, n, member, role, recipients=told[g.id]) for g, n in raised],
        cleared=gone,
        raised_count=raised_count,
        cleared_count=cleared_count,
    )


_DENSE = 40
"""How many times ``limits.own_track_conflicts`` pairs of a party's own aircraft the detector
may examine (see :func:`_check_own_density`)."""


def _reports(rows: Sequence[_Track], keys: Sequence[str]) -> list[TrackReport]:
    return [
        TrackReport(
            id=key, operator=r.operator, party=r.party, mission=r.mission, time=r.time,
            lat=r.lat, lon=r.lon, alt_ft=r.alt_ft, gs_kt=r.gs_kt, track_deg=r.track_deg,
            vs_fpm=r.vs_fpm,
        )
        for key, r in zip(keys, rows, strict=True)
    ]  # fmt: skip


def _states(rows: Sequence[_Track], now: datetime) -> States:
    """The detector's states of ``rows`` at ``now``."""
    return TrackSet.from_reports(_reports(rows, [_key_of(r) for r in rows])).states_at(now)


def _own_conflicts(states: States, separation: Separation, cap: int) -> int:
    """The conflicts among ``states`` as far as the limit ``cap`` needs them: at most ``cap``
    (then an upper bound) when the detector's pairs to examine say so at once; the number
    itself when it would examine at most ``_DENSE × cap`` pairs; else that bound, more than
    ``_DENSE × cap`` (they are not counted: that is the point)."""
    bound = candidate_bound(states, separation)
    if bound <= cap or bound > _DENSE * cap:
        return bound
    return len(detect_conflicts(states, separation))


def _check_own_density(
    session: Session,
    agreement: Agreement,
    member: str,
    updated: Mapping[tuple[str, str], _Track],
    now: datetime,
) -> None:
    """Refuse (422, ``tracks``) an officer's batch that brings its party's own fresh aircraft
    into more than ``limits.own_track_conflicts`` predicted losses of separation with one
    another, or packs them so that the detector would examine more than ``_DENSE`` times as
    many of their pairs (counted in O(n log n) before any is listed: a batch of 5,000 in one
    spot is refused in milliseconds, not after 12.5 million pairs).

    Why the party's own pairs only: each is an alert to that party alone, and the party can
    always fly — and report — its aircraft apart; a limit on all pairs would let a party push
    another's real conflicts past it by packing aircraft near them (the rejected design). So
    no batch is refused for another party's aircraft, and the center's feed is not held to
    it. A batch that does not add to its party's own pairs (reports of aircraft already
    packed, by the feed say) passes."""
    cap = agreement.limits.own_track_conflicts
    c = _TRACKS.c
    fresh = (c.time >= now - STALE_AFTER, c.time <= now + FUTURE_SKEW)
    before = _tracks(session, c.owner == member, *fresh)
    low, high = now - STALE_AFTER, now + FUTURE_SKEW
    after = {(r.owner, r.id): r for r in before}
    for key, r in updated.items():
        if r.owner == member:
            after[key] = r
    rows = [r for r in after.values() if low <= r.time <= high]
    separation = Separation.from_rules(agreement.airspace)
    own = _own_conflicts(_states(rows, now), separation, cap)
    if own <= cap:
        return
    if own <= _own_conflicts(_states(before, now), separation, cap):
        return
    if own > _DENSE * cap:
        message = (
            f"packs {member}'s own aircraft so densely that the conflict detector would examine "
            f"more than {_DENSE * cap} of their pairs (the agreement's "
            f"limits.own_track_conflicts × {_DENSE}): a party keeps its own aircraft apart"
        )
    else:
        message = (
            f"puts {member}'s own aircraft in {own} predicted losses of separation with one "
            f"another; at most {cap} (the agreement's limits.own_track_conflicts): a party "
            "keeps its own aircraft apart"
        )
    raise _refuse([FieldProblem(field="tracks", location="body", message=message)])


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

_KINDS = ("area", "conflict", "exempt")
"""A finding's kind by its code (new groups are raised in this order)."""
_AREA, _CONFLICT, _EXEMPT = 0, 1, 2

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
Findings = npt.NDArray[Any]


@dataclass(slots=True, eq=False)
class _Found:
    """What one detection pass found, before any cut, as columns: no Python object per
    finding (a cluster of N aircraft is N²/2 of them).

    ``aircraft``: each aircraft (or flight plan) a finding may name, as the center knows it
    (``key``, ``id``, ``owner``, ``operator``, ``party``, ``mission``, ``disclosure``; a
    track's ``reported_at`` and ``state`` too, which a commitment holds); ``rank``: each
    one's place in the order of the keys; ``shared``: whether it is ``shared``; ``owner``:
    its owner's index in ``owners`` (sorted). Per finding: ``kind`` (an index of
    :data:`_KINDS`), ``area`` (an index of ``areas``; -1 for a conflict) and ``f``
    (:data:`~accord.center.airspace.store.FINDING`, whose ``a``, ``b`` index ``aircraft`` and
    ``p`` indexes ``party_sets``, the parties concerned)."""

    source: str
    aircraft: list[dict[str, Any]]
    rank: IntArray
    shared: BoolArray
    owner: IntArray
    owners: list[str]
    areas: list[str]
    party_sets: list[list[str]]
    kind: IntArray
    area: IntArray
    f: Findings
    fill: Callable[[Findings, IntArray], None] | None = None
    filled: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.f.shape[0])

    def complete(self, k: IntArray) -> None:
        """Fill in the numbers of findings ``k`` (the first ``len(filled)`` are filled on
        demand, by ``fill``; the others were made whole)."""
        if self.fill is None or self.filled is None:
            return
        k = k[k < self.filled.shape[0]]
        k = k[~self.filled[k]]
        if k.size:
            self.fill(self.f, k)
            self.filled[k] = True

    def codes(self) -> IntArray:
        """Each finding's identity within the pass (kind, aircraft, other aircraft or area)."""
        other = np.where(self.kind == _CONFLICT, self.f["b"], self.area)
        return _code(self.kind, self.f["a"], other)


def _code(kind: npt.NDArray[Any], x: npt.NDArray[Any], y: npt.NDArray[Any]) -> IntArray:
    return ((kind.astype(np.int64) << 60) | (x.astype(np.int64) << 30) | y.astype(np.int64)).astype(
        np.int64
    )


def _ranks(keys: Sequence[str]) -> IntArray:
    """Each key's place in the sorted keys."""
    rank = np.empty(len(keys), dtype=np.int64)
    rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return rank


def _found(
    source: str,
    aircraft: list[dict[str, Any]],
    areas: list[str],
    party_sets: list[list[str]],
    kind: IntArray,
    area: IntArray,
    f: Findings,
    fill: Callable[[Findings, IntArray], None] | None = None,
    lazy: int = 0,
) -> _Found:
    """A pass's findings (see :class:`_Found`); ``fill`` fills in the numbers of the first
    ``lazy`` findings when asked."""
    owners = sorted({str(one["owner"]) for one in aircraft})
    index = {o: k for k, o in enumerate(owners)}
    return _Found(
        source=source,
        aircraft=aircraft,
        rank=_ranks([str(one["key"]) for one in aircraft]),
        shared=np.array([visibility.in_clear(one["disclosure"]) for one in aircraft], dtype=bool),
        owner=np.array([index[str(one["owner"])] for one in aircraft], dtype=np.int64),
        owners=owners,
        areas=areas,
        party_sets=party_sets,
        kind=kind.astype(np.int64),
        area=area.astype(np.int64),
        f=f,
        fill=fill,
        filled=np.zeros(lazy, dtype=np.bool_) if fill is not None else None,
    )


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


@dataclass(frozen=True, slots=True)
class _Motion:
    """Each aircraft's motion as columns: seconds since its report at ``now``, lat, lon, the
    east-west scale (cos lat), track (rad), ground speed (m/s), altitude (ft), vertical rate
    (ft/s)."""

    since: FloatArray
    lat: FloatArray
    lon: FloatArray
    scale: FloatArray
    track: FloatArray
    gs: FloatArray
    alt: FloatArray
    vs: FloatArray

    @classmethod
    def of(cls, tracks: TrackSet, now: datetime) -> _Motion:
        return cls(
            since=epoch_seconds(now) - tracks.time_s,
            lat=tracks.lat,
            lon=tracks.lon,
            scale=np.maximum(np.cos(np.radians(tracks.lat)), 1e-9),
            track=np.radians(tracks.track_deg),
            gs=tracks.gs_kt * KT,
            alt=tracks.alt_ft,
            vs=tracks.vs_fpm / 60.0,
        )

    def moved(self, k: IntArray, seconds: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Aircraft ``k``'s (lat, lon, alt_ft) ``seconds`` after now, extrapolated in a straight
        line as :meth:`accord.airspace.TrackSet.states_at` does (a conflict's closest approach
        and loss of separation, shown on the map)."""
        dt = self.since[k] + seconds
        gs, track = self.gs[k], self.track[k]
        lat = np.clip(self.lat[k] + np.degrees(gs * np.cos(track) * dt / EARTH_RADIUS_M), -90, 90)
        lon = self.lon[k] + np.degrees(gs * np.sin(track) * dt / (EARTH_RADIUS_M * self.scale[k]))
        lon = np.where(lon > 180.0, lon - 360.0, np.where(lon < -180.0, lon + 360.0, lon))
        return lat, lon, self.alt[k] + self.vs[k] * dt


def _conflict_findings(
    found: Conflicts, tracks: TrackSet, rank: IntArray, now: datetime
) -> tuple[Findings, Callable[[Findings, IntArray], None]]:
    """The detector's conflicts as findings (``p`` left to the caller): the two aircraft in
    the order of their keys, whether separation is lost and when; and what fills in the rest
    of the numbers as the alerts show them, for the findings a pass raises or keeps current
    (a pass finds a cluster's every pair again, and needs the places of few)."""
    i, j = found.i, found.j
    swap = rank[i] > rank[j]
    a, b = np.where(swap, j, i), np.where(swap, i, j)
    f = np.zeros(i.shape[0], dtype=FINDING)
    f["a"], f["b"], f["flag"] = a, b, found.lost
    now_us = micros(now)
    los_us = now_us + np.rint(found.tlos_s * 1e6).astype(np.int64)
    f["t_los"] = los_us // 1_000_000
    motion = _Motion.of(tracks, now)

    def fill(into: Findings, k: IntArray) -> None:
        ka, kb = a[k], b[k]
        at = np.maximum(found.tcpa_s[k], 0.0)
        a_lat, a_lon, a_alt = motion.moved(ka, at)
        b_lat, b_lon, b_alt = motion.moved(kb, at)
        into["tcpa"][k] = np.round(found.tcpa_s[k], 1)
        into["dcpa"][k] = np.round(found.dcpa_m[k] / NM, 2)
        into["vert"][k] = np.round(np.abs(a_alt - b_alt))
        into["x"][k] = np.round((np.round(a_lon, 6) + np.round(b_lon, 6)) / 2, 6)
        into["y"][k] = np.round((np.round(a_lat, 6) + np.round(b_lat, 6)) / 2, 6)
        los = np.maximum((los_us[k] - now_us) / 1e6, 0.0)
        a_lat, a_lon, _ = motion.moved(ka, los)
        b_lat, b_lon, _ = motion.moved(kb, los)
        into["xa"][k], into["ya"][k] = np.round(a_lon, 6), np.round(a_lat, 6)
        into["xb"][k], into["yb"][k] = np.round(b_lon, 6), np.round(b_lat, 6)

    return f, fill


def _pair_sets(
    first: IntArray, second: IntArray, names: Sequence[str]
) -> tuple[list[list[str]], IntArray]:
    """The parties concerned by each pair of owners (``first``'s, then ``second``'s, once
    each) as distinct lists, and each pair's index among them."""
    size = max(len(names), 1)
    uniq, inverse = np.unique(first * size + second, return_inverse=True)
    sets = [list(dict.fromkeys((names[u // size], names[u % size]))) for u in uniq.tolist()]
    return sets, inverse.astype(np.int64).reshape(-1)


def _track_found(agreement: Agreement, rows: Sequence[_Track], now: datetime) -> _Found:
    """Every conflict and area finding among the fresh ``rows`` at ``now``."""
    keys = [_key_of(r) for r in rows]
    aircraft = [_aircraft(r, key) for r, key in zip(rows, keys, strict=True)]
    empty = np.zeros(0, dtype=np.int64)
    base = _found("track", aircraft, [], [], empty, empty, np.zeros(0, dtype=FINDING))
    if not rows:
        return base
    tracks = TrackSet.from_reports(_reports(rows, keys))
    detected = detect_conflicts(tracks.states_at(now), Separation.from_rules(agreement.airspace))
    conflicts, fill = _conflict_findings(detected, tracks, base.rank, now)
    party_sets, p = _pair_sets(base.owner[detected.i], base.owner[detected.j], base.owners)
    conflicts["p"] = p
    index = DesignatedAreaIndex(agreement)
    row_of = {key: k for k, key in enumerate(keys)}
    listed = list(track_area_findings(tracks, index, now, agreement.airspace.lookahead))
    areas = sorted({f.area_id for f in listed})
    area_of = {a: k for k, a in enumerate(areas)}
    found_areas = np.zeros(len(listed), dtype=FINDING)
    kinds, where = [], []
    sets: dict[tuple[str, ...], int] = {}
    for k, f in enumerate(listed):
        kinds.append(_AREA if f.verdict == "violation" else _EXEMPT)
        where.append(area_of[f.area_id])
        concerned = tuple(sorted(agreement.party_ids | {_owner(f.party, f.operator)}))
        found_areas[k] = (
            row_of[f.track_id], -1,
            sets.setdefault(concerned, len(party_sets) + len(sets)),
            f.inside, epoch_seconds(f.entry_at.replace(microsecond=0)), 0, 0,
            math.nan, math.nan, math.nan,
            round(f.entry_point[0], 6), round(f.entry_point[1], 6),
            math.nan, math.nan, math.nan, math.nan,
        )  # fmt: skip
    return _found(
        "track",
        aircraft,
        areas,
        party_sets + [list(s) for s in sets],
        np.concatenate([np.full(len(conflicts), _CONFLICT), np.array(kinds, dtype=np.int64)]),
        np.concatenate([np.full(len(conflicts), -1), np.array(where, dtype=np.int64)]),
        np.concatenate([conflicts, found_areas]),
        fill,
        len(conflicts),
    )


def survey(unit: Unit, center: Center, now: datetime) -> tuple[int, _Outcome]:
    """Run the detection over every fresh track at ``now``: raise the new alerts, keep the
    persisting ones current, clear those that ended. (The number of fresh aircraft, what
    the pass raised and cleared.)"""
    session = unit.session
    c = _TRACKS.c
    rows = _tracks(session, c.time >= now - STALE_AFTER, c.time <= now + FUTURE_SKEW)
    found = _track_found(center.agreement, rows, now)
    active = load_groups(session, _GROUPS.c.source == "track", _GROUPS.c.open > 0)
    return len(rows), _reconcile(unit, center, found, active, now)


# --- reconciliation: raise, keep current, clear ----------------------------------------------

_GROUPS = cast(Table, AirspaceAlertGroup.__table__)
_RECIPIENTS = cast(Table, AirspaceAlertRecipient.__table__)


@dataclass(slots=True)
class _Outcome:
    """What a pass did: the groups it ``raised`` (each with its recipients), the alerts it
    ``cleared`` (by group, in the order of their ids) and, when asked, each finding's alert
    id (``ids``, by the finding's index in the pass)."""

    raised: list[_Raised]
    cleared: list[tuple[Group, IntArray]]
    ids: dict[int, str]


@dataclass(frozen=True, slots=True)
class _Raised:
    """A group raised by a pass, its recipients, and each of its findings' index in the
    pass (``origin``)."""

    group: Group
    recipients: list[AirspaceAlertRecipient]
    origin: IntArray


def _active_codes(
    found: _Found, groups: Sequence[Group], involves: str | None
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The open alerts of ``groups`` (those naming ``involves``, when given) as the pass's
    identity codes (:meth:`_Found.codes`; an alert naming an aircraft the pass does not know
    gets a code no finding has), with each one's group (index in ``groups``), finding, and
    when it was last kept current."""
    key_of = {str(one["key"]): k for k, one in enumerate(found.aircraft)}
    area_of = {a: k for k, a in enumerate(found.areas)}
    codes, group, number, seen = [], [], [], []
    unknown = -1
    for gi, g in enumerate(groups):
        ns = np.flatnonzero(g.is_open())
        if not ns.size:
            continue
        f = g.findings[ns]
        mapped = np.array([key_of.get(str(one["key"]), -1) for one in g.aircraft], dtype=np.int64)
        a = mapped[f["a"]]
        if g.kind == "conflict":
            b = mapped[f["b"]]
        else:
            b = np.full(ns.shape, area_of.get(g.area or "", -1), dtype=np.int64)
        if involves is not None:
            keys = np.array([one["key"] == involves for one in g.aircraft], dtype=np.bool_)
            named = keys[f["a"]] | (keys[f["b"]] if g.kind == "conflict" else False)
            ns, a, b = ns[named], a[named], b[named]
        code = _code(np.full(ns.shape, _KINDS.index(g.kind)), a, b)
        missing = (a < 0) | (b < 0)
        code[missing] = unknown - np.arange(int(missing.sum()))
        unknown -= int(missing.sum())
        codes.append(code)
        group.append(np.full(ns.shape, gi, dtype=np.int64))
        number.append(ns.astype(np.int64))
        seen.append(g.state["seen"][ns])
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return (
        np.concatenate(codes),
        np.concatenate(group),
        np.concatenate(number),
        np.concatenate(seen).astype(np.int64),
    )


def _reconcile(
    unit: Unit,
    center: Center,
    found: _Found,
    active: Sequence[Group],
    now: datetime,
    *,
    involves: str | None = None,
    want_ids: bool = False,
) -> _Outcome:
    """Raise the findings not yet open (in groups: :func:`_raise_new`), keep the open ones
    current (:data:`KEPT_CURRENT_MAX` per pass, the least recently kept first), clear the
    open ones no longer found (:func:`_clear`); one live event per reader cut for what was
    raised and for what was cleared (:func:`_announce`). ``active``: the open groups of the
    pass's source (only their alerts naming ``involves``, when given, take part)."""
    session = unit.session
    codes = found.codes()
    act, act_group, act_n, act_seen = _active_codes(found, active, involves)
    hit = np.zeros(codes.shape, dtype=np.bool_)
    match = np.zeros(codes.shape, dtype=np.int64)
    if act.size and codes.size:
        order = np.argsort(act, kind="stable")
        at = np.minimum(np.searchsorted(act[order], codes), act.size - 1)
        hit = act[order][at] == codes
        match = order[at]
    ended = np.ones(act.shape, dtype=np.bool_)
    ended[match[hit]] = False
    changed: set[int] = set()
    persisting = np.flatnonzero(hit)
    if persisting.size:
        at = match[hit]
        changed |= _keep_current(
            found, persisting, active, act_group[at], act_n[at], act_seen[at], now
        )
    raised = _raise_new(unit, center, found, np.flatnonzero(~hit), now)
    cleared = _clear(unit, center, active, act_group[ended], act_n[ended], now)
    position = {id(g): gi for gi, g in enumerate(active)}
    changed |= {position[id(g)] for g, _ in cleared}
    if changed:
        session.execute(
            update(_GROUPS).where(_GROUPS.c.id == bindparam("g_id")),
            [
                {"g_id": active[gi].id, "findings": pack(active[gi].findings),
                 "state": pack(active[gi].state), "open": active[gi].open}
                for gi in sorted(changed)
            ],
            execution_options={"synchronize_session": False},
        )  # fmt: skip
    agreement = center.agreement
    if raised:
        recipients = {r.group.id: r.recipients for r in raised}
        items = [(r.group, np.arange(r.group.count)) for r in raised]
        for kind in ("area", "conflict"):
            these = [(g, ns) for g, ns in items if g.kind == kind]
            if these:
                _announce(
                    session,
                    agreement,
                    these,
                    _RAISE_EVENTS[kind],
                    now,
                    acks={},
                    recipients=recipients,
                )
    told = [(g, ns) for g, ns in cleared if g.kind != "exempt"]
    if told:
        ids = [g.id for g, _ in told]
        _announce(
            session, agreement, told, CLEARED_EVENT, now,
            acks=_acks_of(session, ids), recipients=_recipients_of(session, ids),
        )  # fmt: skip
    ids_of: dict[int, str] = {}
    if want_ids:
        for k in persisting.tolist():
            ids_of[k] = active[int(act_group[match[k]])].alert_id(int(act_n[match[k]]))
        for r in raised:
            for n, k in enumerate(r.origin.tolist()):
                ids_of[k] = r.group.alert_id(n)
    return _Outcome(raised, cleared, ids_of)


def _by_group(group: IntArray, values: IntArray) -> list[tuple[int, IntArray]]:
    """``values`` split by ``group`` (each group once, its values in their order)."""
    if not group.size:
        return []
    order = np.argsort(group, kind="stable")
    keys, starts = np.unique(group[order], return_index=True)
    parts = np.split(values[order], starts[1:])
    return list(zip(keys.tolist(), parts, strict=True))


def _keep_current(
    found: _Found,
    persisting: IntArray,
    active: Sequence[Group],
    group: IntArray,
    number: IntArray,
    seen: IntArray,
    now: datetime,
) -> set[int]:
    """Keep the numbers of up to :data:`KEPT_CURRENT_MAX` persisting alerts current, the
    least recently kept first (then by group and finding, so that a pass rewrites few
    groups); the indices of the groups changed."""
    rank = np.empty(len(active), dtype=np.int64)
    rank[sorted(range(len(active)), key=lambda k: active[k].id)] = np.arange(len(active))
    chosen = np.lexsort((number, rank[group], seen))[:KEPT_CURRENT_MAX]
    found.complete(persisting[chosen])
    now_us = micros(now)
    touched: set[int] = set()
    for gi, mine in _by_group(group[chosen], chosen):
        g, ns, ks = active[gi], number[mine], persisting[mine]
        for name in NUMBERS:
            g.findings[name][ns] = found.f[name][ks]
        g.state["seen"][ns] = now_us
        touched.add(gi)
    return touched


# --- groups: one record entry per cluster of findings ----------------------------------------


def _components(n: int, u: IntArray, v: IntArray) -> IntArray:
    """The connected components of the graph on ``0 … n-1`` with edges ``(u[k], v[k])``:
    each node's component as its smallest node (hooking each root under its smallest
    neighbouring root, then compressing, until no edge joins two roots; a few rounds).

    >>> _components(5, np.array([0, 3]), np.array([2, 4])).tolist()
    [0, 1, 0, 3, 3]
    """
    parent = np.arange(n, dtype=np.int64)
    while u.size:
        pu, pv = parent[u], parent[v]
        low, high = np.minimum(pu, pv), np.maximum(pu, pv)
        apart = low != high
        if not apart.any():
            break
        np.minimum.at(parent, high[apart], low[apart])
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
        u, v = u[apart], v[apart]
    return parent


def _groups(found: _Found, new: IntArray) -> list[IntArray]:
    """The new findings ``new`` (indices into the pass) in groups, each in its entry's order:
    conflicts by connected component of the conflict graph, area findings by kind and area.
    The groups partition ``new``.

    Why components: a cluster of N aircraft in one spot has about N²/2 conflicts and one
    component; two distant clusters are two components, each alerted to its own parties.
    Only ``shared`` aircraft join components: a pair with a hidden aircraft joins the
    component of its other aircraft, and pairs of two hidden aircraft one group per pair of
    owners — else two of a party's aircraft put in one group would tell it that one hidden
    aircraft (or a chain of them) conflicts with both, a second measurement of it. (So the
    groups are at most the shared components plus the pairs of owners: O(N).)"""
    if not new.size:
        return []
    kind, f = found.kind[new], found.f[new]
    a, b = f["a"].astype(np.int64), f["b"].astype(np.int64)
    second = np.where(kind == _CONFLICT, found.rank[np.maximum(b, 0)], found.area[new])
    order = np.lexsort((second, found.rank[a], kind))
    new, kind, a, b = new[order], kind[order], a[order], b[order]
    conflict = kind == _CONFLICT
    unit = found.area[new].copy()
    if conflict.any():
        ca, cb = a[conflict], b[conflict]
        sa, sb = found.shared[ca], found.shared[cb]
        both = sa & sb
        root = _components(len(found.aircraft), ca[both], cb[both])
        oa, ob = found.owner[ca], found.owner[cb]
        owners = np.minimum(oa, ob) * len(found.owners) + np.maximum(oa, ob)
        unit[conflict] = np.where(
            sa, root[ca], np.where(sb, root[cb], len(found.aircraft) + owners)
        )
    key = (kind << 50) | unit
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    members = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse))
    out = []
    for g in np.argsort(first).tolist():
        group = new[members[(bounds[g - 1] if g else 0) : bounds[g]]]
        out.append(_tiled(found, group) if found.kind[group[0]] == _CONFLICT else group)
    return out


TILE = 32
"""A dense cluster's conflicts are ordered by tiles of this many aircraft by this many, so
that each entry of a split cluster lists few aircraft for many pairs (about 2 × 32 aircraft
for 1,000 pairs, where pair order would list every aircraft of the cluster in each)."""


def _tiled(found: _Found, group: IntArray) -> IntArray:
    """``group``'s conflicts ordered by the tile of their two shared aircraft (their ranks
    among the group's shared aircraft in key order; a hidden aircraft, listed once per
    pair, counts as tile -1)."""
    f = found.f[group]
    a, b = f["a"].astype(np.int64), f["b"].astype(np.int64)
    sa, sb = found.shared[a], found.shared[b]
    ranks = np.unique(found.rank[np.concatenate([a[sa], b[sb]])])
    ta = np.where(sa, np.searchsorted(ranks, found.rank[a]) // TILE, -1)
    tb = np.where(sb, np.searchsorted(ranks, found.rank[b]) // TILE, -1)
    order = np.lexsort((np.arange(group.size), np.maximum(ta, tb), np.minimum(ta, tb)))
    return group[order]


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
_STORED = ("key", "id", "owner", "operator", "party", "mission", "disclosure")


def _public_aircraft(one: Mapping[str, Any]) -> dict[str, Any]:
    """What the record says of an aircraft: all of a shared one but its place; of a
    ``center`` one its owner and operator only."""
    out = {"party": one["party"], "operator": one["operator"], "disclosure": one["disclosure"]}
    if visibility.in_clear(one["disclosure"]):
        out |= {"id": one["id"], "mission": one["mission"]}
    return out


def _seconds(at_s: IntArray, now_us: int) -> FloatArray:
    """Whole-second instants ``at_s`` as seconds from ``now`` (µs), to 0.1 s."""
    return cast(FloatArray, np.round((at_s * 1_000_000 - now_us) / 1e6, 1))


def _digits(values: IntArray) -> IntArray:
    """The decimal digits of each non-negative integer."""
    out = np.ones(values.shape, dtype=np.int64)
    for power in range(1, 19):
        out += values >= 10**power
    return out


def _text_len(values: FloatArray, decimals: int) -> IntArray:
    """The length of each value's JSON text, rounded to ``decimals`` (0: an integer):
    Python's shortest form of such a number is its sign, integer digits and, for a float, a
    point and its decimals without trailing zeros (at least one). Exact from 1e-4 to 1e15,
    more below (an exponent), which is all a finding holds; :func:`_raise_group` checks the
    entry's size anyway."""
    scaled = np.rint(np.abs(values) * 10**decimals).astype(np.int64)
    sign = np.signbit(values) & ((scaled > 0) if decimals == 0 else True)
    size = sign.astype(np.int64) + _digits(scaled // 10**decimals)
    if decimals == 0:
        return size
    rest = scaled % 10**decimals
    places = np.full(values.shape, decimals, dtype=np.int64)
    for _ in range(decimals - 1):
        zero = (rest % 10 == 0) & (places > 1)
        places -= zero
        rest = np.where(zero, rest // 10, rest)
    return size + 1 + places


def _row_costs(found: _Found, group: IntArray, now_us: int) -> IntArray:
    """The bytes each finding of ``group`` adds to its entry's ``findings`` (its row and a
    comma) but for the indices of the aircraft it lists (counted by :func:`_chunks`)."""
    f = found.f[group]
    los = _text_len(_seconds(f["t_los"], now_us), 1)
    flag = np.where(f["flag"] != 0, 4, 5)
    if found.kind[group[0]] != _CONFLICT:
        point = 3 + _text_len(f["x"], 6) + _text_len(f["y"], 6)
        point = np.where(found.shared[f["a"]], point, 4)
        return cast(IntArray, 6 + flag + los + point)
    numbers = _text_len(f["tcpa"], 1) + _text_len(f["dcpa"], 2)
    numbers += np.where(np.isnan(f["vert"]), 4, _text_len(np.nan_to_num(f["vert"]), 0))
    fields = 7
    if found.source == "plan":
        numbers += _text_len(_seconds(f["t_until"], now_us), 1)
        numbers += _text_len(_seconds(f["t_cpa"], now_us), 1)
        fields = 9
    numbers = np.where(found.shared[f["a"]] & found.shared[f["b"]], numbers, 4 * (fields - 4))
    return cast(IntArray, fields + 2 + los + flag + numbers)


def _slots(found: _Found, group: IntArray) -> tuple[IntArray, IntArray]:
    """The aircraft each finding of ``group`` lists in its entry, in order (a conflict's two
    after each other), and each one's slot: a shared aircraft's slot is the aircraft, a
    hidden one's is its own (listed once per finding: see :func:`_group_event`)."""
    f = found.f[group]
    if found.kind[group[0]] == _CONFLICT:
        listed = np.stack([f["a"], f["b"]], axis=1).reshape(-1).astype(np.int64)
    else:
        listed = f["a"].astype(np.int64)
    slot = np.where(found.shared[listed], listed, -1 - np.arange(listed.size))
    return listed, slot


def _chunks(found: _Found, group: IntArray, now: datetime, costs: IntArray) -> list[IntArray]:
    """``group`` cut greedily into runs whose entry stays within :data:`ENTRY_BUDGET` (each
    row counted as its JSON, each aircraft as its public JSON the first time a run lists it,
    each owner's commitment once per group; :func:`_raise_group` checks the exact size and
    halves a run that is still too large). ``costs``: each aircraft's bytes in an entry's
    ``aircraft``."""
    rows = _row_costs(found, group, micros(now))
    listed, slot = _slots(found, group)
    per = listed.size // group.size
    hidden_owners = np.unique(found.owner[listed[~found.shared[listed]]]).size
    budget = ENTRY_BUDGET - _SKELETON - _PER_OWNER * hidden_owners
    window = max(1, budget // int(rows.min()) + 1)
    out = []
    start = 0
    while start < group.size:
        end = min(group.size, start + window)
        seg = slot[start * per : end * per]
        _, first, inverse = np.unique(seg, return_index=True, return_inverse=True)
        order = np.argsort(first)
        local = np.empty(order.size, dtype=np.int64)
        local[order] = np.arange(order.size)
        index = _digits(local[inverse.reshape(-1)]).reshape(-1, per).sum(axis=1)
        new = np.zeros(seg.size, dtype=np.int64)
        new[first] = costs[listed[start * per : end * per][first]]
        total = np.cumsum(rows[start:end] + index + new.reshape(-1, per).sum(axis=1))
        take = max(1, int(np.searchsorted(total, budget, side="right")))
        out.append(group[start : start + take])
        start += take
    return out


def _group_event(
    found: _Found, group: IntArray, group_id: str, now: datetime, *, part: int, parts: int
) -> tuple[bytes, dict[str, dict[str, str]], Group]:
    """The record event of a new group (its canonical JSON, the ``findings`` encoded as a
    table: :func:`~accord.record.canonical.canonical_rows`), the openings of its commitments
    (by owner), and the group as stored (its entry and hash still to fill).

    The event lists the group's shared aircraft once each and a hidden one once per finding
    (as :func:`_public_aircraft`), then one row per finding (columns: ``fields``;
    ``a``/``b``/``aircraft`` index ``aircraft``); the finding in row ``n`` is alert
    ``<group>.<n>``. A conflict with an aircraft hidden from some reader says only which
    aircraft, when separation is lost, and whether it is lost now (DECISIONS 1): no
    distance, no vertical separation, and no time of closest approach either — its gap to
    the loss of separation, times the closing speed, measures the miss distance. Each owner
    of a ``center`` aircraft gets a salted commitment to its hidden aircraft in the group
    (ids, missions, reported states), whose opening the center keeps for it."""
    kind = _KINDS[int(found.kind[group[0]])]
    f = found.f[group].copy()
    now_us = micros(now)
    listed, slot = _slots(found, group)
    _, first, inverse = np.unique(slot, return_index=True, return_inverse=True)
    order = np.argsort(first)
    local = np.empty(order.size, dtype=np.int64)
    local[order] = np.arange(order.size)
    at = local[inverse.reshape(-1)]
    slotted = listed[first[order]].tolist()
    aircraft = [found.aircraft[k] for k in slotted]
    used = np.unique(f["p"])
    parties = sorted({p for k in used.tolist() for p in found.party_sets[k]})
    event: dict[str, Any] = {
        "kind": _RAISE_EVENTS[kind],
        "group": group_id,
        "part": part,
        "parts": parts,
        "source": found.source,
        "parties": parties,
        "raised_at": format_instant(now),
        "aircraft": [_public_aircraft(one) for one in aircraft],
    }
    los = _seconds(f["t_los"], now_us).tolist()
    if kind == "conflict":
        event["fields"] = _PLAN_FIELDS if found.source == "plan" else _CONFLICT_FIELDS
        vert: list[Any] = np.nan_to_num(f["vert"]).astype(np.int64).tolist()
        for k in np.flatnonzero(np.isnan(f["vert"])).tolist():
            vert[k] = None
        columns = [at[0::2].tolist(), at[1::2].tolist(), los, f["flag"].astype(np.bool_).tolist(),
                   f["tcpa"].tolist(), f["dcpa"].tolist(), vert]  # fmt: skip
        if found.source == "plan":
            columns += [
                _seconds(f["t_until"], now_us).tolist(),
                _seconds(f["t_cpa"], now_us).tolist(),
            ]
        hidden = np.flatnonzero(~(found.shared[f["a"]] & found.shared[f["b"]])).tolist()
        for column in columns[4:]:
            for k in hidden:
                column[k] = None
        findings = canonical_rows(columns)
    else:
        event["area"] = found.areas[int(found.area[group[0]])]
        event["fields"] = _AREA_FIELDS
        points = np.stack([f["x"], f["y"]], axis=1).tolist()
        hidden = ~found.shared[f["a"]]
        inside = f["flag"].astype(np.bool_).tolist()
        findings = canonical_json(
            [
                [k, inside[n], los[n], None if hidden[n] else points[n]]
                for n, k in enumerate(at.tolist())
            ]
        )
    secret: dict[str, dict[str, dict[str, Any]]] = {}
    for one in aircraft:
        if not visibility.in_clear(one["disclosure"]):
            secret.setdefault(one["owner"], {}).setdefault(one["key"], one)
    sealed: dict[str, dict[str, str]] = {}
    commitments: dict[str, str] = {}
    for owner in sorted(secret):
        content = {"group": group_id, "aircraft": list(secret[owner].values())}
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
    _ENTRIES[str(event["kind"])].check(event | {"findings": None})
    members = {name: canonical_json(value) for name, value in event.items()}
    body = canonical_join(members | {"findings": findings})
    # the group as stored: its distinct aircraft, its parties' lists, its findings' numbers
    distinct, first_seen, which = np.unique(listed, return_index=True, return_inverse=True)
    keep = np.argsort(first_seen)
    position = np.empty(keep.size, dtype=np.int64)
    position[keep] = np.arange(keep.size)
    stored = position[which.reshape(-1)]
    if kind == "conflict":
        f["a"], f["b"] = stored[0::2], stored[1::2]
    else:
        f["a"] = stored
    sets, f["p"] = np.unique(f["p"], return_inverse=True)
    state = np.zeros(group.size, dtype=STATE)
    state["seen"], state["cleared"], state["cleared_entry"] = now_us, OPEN, NO_ENTRY
    stored_group = Group(
        id=group_id,
        kind=kind,
        source=found.source,
        grouped=True,
        area=event.get("area"),
        parties=parties,
        party_sets=[found.party_sets[k] for k in sets.tolist()],
        aircraft=[{k: found.aircraft[a][k] for k in _STORED} for a in distinct[keep].tolist()],
        count=int(group.size),
        open=int(group.size),
        raised_at=now,
        content_hash="",
        entry=-1,
        sealed=json.dumps(sealed),
        findings=f,
        state=state,
    )
    return body, sealed, stored_group


def _raise_new(
    unit: Unit, center: Center, found: _Found, new: IntArray, now: datetime
) -> list[_Raised]:
    """Raise the findings ``new`` of the pass in groups (:func:`_groups`), each cut into
    entries of at most :data:`ENTRY_BUDGET` (:func:`_chunks`); the groups, in order."""
    out: list[_Raised] = []
    if not new.size:
        return out
    found.complete(new)
    costs = np.array(
        [len(canonical_json(_public_aircraft(one))) + 1 for one in found.aircraft], dtype=np.int64
    )
    for group in _groups(found, new):
        chunks = _chunks(found, group, now, costs)
        for part, chunk in enumerate(chunks):
            out += _raise_group(unit, center, found, chunk, now, part=part, parts=len(chunks))
    groups = [r.group for r in out]
    unit.session.execute(insert(_GROUPS), [group_values(g) for g in groups])
    told = [_columns_of(r) for raised in out for r in raised.recipients]
    if told:
        unit.session.execute(insert(_RECIPIENTS), told)
    return out


def _columns_of(r: AirspaceAlertRecipient) -> dict[str, Any]:
    """A recipient's row, as columns."""
    return {c.name: getattr(r, c.name) for c in _RECIPIENTS.c}


def _raise_group(
    unit: Unit,
    center: Center,
    found: _Found,
    group: IntArray,
    now: datetime,
    *,
    part: int,
    parts: int,
) -> list[_Raised]:
    """Raise ``group`` (indices into the pass) as one group: one record entry signed by the
    center, alerts ``<group>.<n>``, its recipients (one acknowledgement and one escalation
    per party and group). A group whose entry would exceed :data:`ENTRY_BUDGET` is halved."""
    group_id = "a-" + secrets.token_hex(5)
    body, _sealed, stored = _group_event(found, group, group_id, now, part=part, parts=parts)
    if len(body) > ENTRY_BUDGET and group.size > 1:
        half = group.size // 2
        first = _raise_group(unit, center, found, group[:half], now, part=part, parts=parts)
        return first + _raise_group(unit, center, found, group[half:], now, part=part, parts=parts)
    stored.entry = unit.ledger.append_encoded(body, author=center.origin, at=now)
    stored.content_hash = hashlib.sha256(body).hexdigest()
    if stored.kind == "exempt":  # recorded once; alerts no one
        return [_Raised(stored, [], group)]
    parties = sorted(set(stored.parties) & center.agreement.party_ids)
    recipients = [
        AirspaceAlertRecipient(
            alert_id=group_id,
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
    return [_Raised(stored, recipients, group)]


def _clear(
    unit: Unit,
    center: Center,
    groups: Sequence[Group],
    group: IntArray,
    number: IntArray,
    now: datetime,
) -> list[tuple[Group, IntArray]]:
    """Clear the alerts (``groups[group[k]]``, ``number[k]``): ``airspace.cleared`` entries
    naming up to :data:`CLEARED_IDS_MAX` alerts each, in the order of their ids (an exempt
    passage's end is recorded nowhere), and the escalation of each group none of whose
    alerts is open any more stopped. The alerts cleared, by group, in the order of ids."""
    if not group.size:
        return []
    now_us = micros(now)
    out: list[tuple[Group, IntArray]] = []
    for gi, mine in sorted(_by_group(group, number), key=lambda item: groups[item[0]].sort_key):
        g, ns = groups[gi], mine
        g.state["cleared"][ns] = now_us
        g.open = int(g.is_open().sum())
        order = np.array(id_order(g.count), dtype=np.int64)
        out.append((g, order[np.isin(order, ns)]))
    told = [(g, ns) for g, ns in out if g.kind != "exempt"]
    ids = [(g, n) for g, ns in told for n in ns.tolist()]
    for start in range(0, len(ids), CLEARED_IDS_MAX):
        chunk = ids[start : start + CLEARED_IDS_MAX]
        event = _ENTRIES[CLEARED_EVENT].build(
            alerts=[g.alert_id(n) for g, n in chunk], cleared_at=format_instant(now)
        )
        entry = unit.ledger.append(event, author=center.origin, at=now)
        for g, n in chunk:
            g.state["cleared_entry"][n] = entry
    closed = [g.id for g, _ in told if g.open == 0]
    for start in range(0, len(closed), 500):
        unit.session.execute(
            update(_RECIPIENTS)
            .where(_RECIPIENTS.c.alert_id.in_(closed[start : start + 500]))
            .values(due_at=None)
        )
    return out


def _audience(agreement: Agreement, parties: Iterable[str]) -> list[str]:
    return visibility.alert_audience(agreement, parties)


def _announce(
    session: Session,
    agreement: Agreement,
    items: Sequence[tuple[Group, IntArray]],
    kind: str,
    now: datetime,
    *,
    acks: Mapping[str, Sequence[str]],
    recipients: Mapping[str, Sequence[AirspaceAlertRecipient]],
) -> None:
    """One event per distinct cut of the alerts ``items`` (groups and their alerts, in
    order: those of one pass, or of one group; members who see the same get one event):
    ``{"groups", "count", "truncated", "alerts"}`` — ``alerts`` the first
    :data:`EVENT_ALERTS_MAX` of the alerts the member may read, each as :func:`alert_of`,
    ``groups`` the groups of all of them. ``acks``, ``recipients``: each group's
    acknowledgements and recipients, by its id."""
    everyone: set[str] = set()
    for g, ns in items:
        if g.kind != "exempt":
            for k in np.unique(g.findings["p"][ns]).tolist():
                everyone |= set(g.party_sets[k])
    cuts: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for member in _audience(agreement, everyone):
        role = Role.MONITOR if member in agreement.monitor_ids else Role.OFFICER
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
                )  # fmt: skip
                views.append(view.model_dump(mode="json"))
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


def _acks_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
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


def _recipients_of(session: Session, ids: Sequence[str]) -> dict[str, list[AirspaceAlertRecipient]]:
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


def _party_out(
    g: Group,
    r: AirspaceAlertRecipient,
    member: str,
    role: Role,
    acknowledged: Sequence[str],
) -> AlertPartyOut:
    """Party ``r.party``'s standing with the group ``g`` for a reader: contact names on its
    own party's steps only."""
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
        ack_deadline=g.raised_at + timedelta(seconds=r.ack_within_s),
        deadline=r.due_at,
        level=r.level,
        overdue_at=r.overdue_at,
        escalations=steps,
    )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _at_second(seconds: int) -> datetime:
    return instant(int(seconds) * 1_000_000)


def alert_of(
    g: Group,
    n: int,
    member: str,
    role: Role,
    *,
    acknowledged: Sequence[str] = (),
    recipients: Sequence[AirspaceAlertRecipient] = (),
) -> AlertOut:
    """Alert ``n`` of group ``g`` cut for a reader of ``member`` with ``role`` (see the module
    docstring); ``acknowledged`` and ``recipients``: its group's acknowledgements and its
    parties' acknowledgement and escalation state."""
    f, state = g.findings[n], g.state[n]
    conflict = g.kind == "conflict"
    aircraft = [g.aircraft[int(f["a"])]] + ([g.aircraft[int(f["b"])]] if conflict else [])
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
    if g.source == "plan":
        names = [
            f"flight plan {a['id']}" if ok else f"a flight plan of {a['party'] or a['operator']}"
            for a, ok in zip(aircraft, seen, strict=True)
        ]
    lat = lon = None
    tcpa: float | None = None
    horizontal: float | None = None
    vertical: int | None = None
    predicted = _at_second(f["t_los"])
    when_text = format_instant(predicted)
    flag = bool(f["flag"])
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
    return AlertOut(
        id=g.alert_id(n),
        kind=g.kind,
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
        vertical_ft=vertical,
        area=None if conflict else g.area,
        inside=None if conflict else flag,
        detail=detail,
        cleared=cleared != OPEN,
        cleared_at=None if cleared == OPEN else instant(cleared),
        entry=g.entry,
        content_hash=g.content_hash,
        group=g.id,
        acknowledged=list(acknowledged),
        recipients=[_party_out(g, r, member, role, acknowledged) for r in recipients],
        opening=opening,
    )


def _views(session: Session, shown: Sequence[tuple[Group, int]], caller: Caller) -> list[AlertOut]:
    """The alerts ``shown`` as the caller may see them, with their groups' standing."""
    ids = sorted({g.id for g, _ in shown})
    recipients = _recipients_of(session, ids)
    acks = _acks_of(session, ids)
    return [
        alert_of(
            g, n, caller.member, caller.role, acknowledged=acks[g.id], recipients=recipients[g.id]
        )
        for g, n in shown
    ]


def list_alerts(
    center: Center, caller: Caller, *, include_cleared: bool, limit: int
) -> list[AlertOut]:
    """The alerts the caller may see, newest first (then in the order of their ids): those
    of its party (monitors: all); open ones only unless ``include_cleared``. Reads the
    groups' arrays only as far as the page reaches."""
    _is_reader(caller)
    member, role = caller.member, caller.role
    with center.reading() as session:
        where = [_GROUPS.c.kind != "exempt"]
        if not include_cleared:
            where.append(_GROUPS.c.open > 0)
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


def _not_found() -> ProblemError:
    return ProblemError(404, "no such alert", kind="not-found")


def get_alert(center: Center, caller: Caller, alert_id: str) -> AlertOut:
    """One alert, for a reader who may see it; anyone else gets the 404 of a missing id."""
    _is_reader(caller)
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


def acknowledge_alert(
    unit: Unit, center: Center, caller: Caller, alert_id: str, named_hash: str, now: datetime
) -> AlertOut:
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
        raise hash_mismatch("this alert's record entry")
    event = _ENTRIES[ACKNOWLEDGED_EVENT].build(
        {"group" if g.grouped else "alert": g.id}, content_hash=content_hash
    )
    entry = unit.ledger.append(event, author=caller.member, at=now)
    session.add(
        AirspaceAck(
            alert_id=g.id,
            party=caller.member,
            user_id=caller.user_id,
            content_hash=content_hash,
            acknowledged_at=now,
            entry=entry,
        )
    )
    mine = session.get(AirspaceAlertRecipient, (g.id, caller.member))
    if mine is not None:  # its escalation stops (an overdue party acknowledges late)
        mine.due_at = None
    session.flush()
    acked = _acks_of(session, [g.id])[g.id]
    recipients = _recipients_of(session, [g.id])[g.id]
    _announce(
        session,
        center.agreement,
        [(g, np.arange(g.count))],
        ACKNOWLEDGED_EVENT,
        now,
        acks={g.id: acked},
        recipients={g.id: recipients},
    )
    return alert_of(g, n, caller.member, caller.role, acknowledged=acked, recipients=recipients)


# --- escalation -----------------------------------------------------------------------------


def _apply_step(
    unit: Unit, center: Center, g: Group, r: AirspaceAlertRecipient, step: Step
) -> None:
    """Write one escalation step of party ``r.party`` on the group ``g``: the entry by the
    center (naming the group), the row's new state, the events (contact names to the party
    alone)."""
    agreement = center.agreement
    event: dict[str, Any] = {"kind": ESCALATED_EVENT if step.kind == "escalated" else OVERDUE_EVENT}
    event["group" if g.grouped else "alert"] = g.id
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
        deadline = g.raised_at + timedelta(seconds=r.ack_within_s)
        event["ack_deadline"] = format_instant(deadline)
    _ENTRIES[str(event["kind"])].check(event)
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
        select(AirspaceAlertRecipient.party).where(AirspaceAlertRecipient.alert_id == g.id)
    ).all()
    others = set(_audience(agreement, [*concerned, *g.parties])) - {r.party}
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
        groups = load_named(session, (r.alert_id for r in rows), blobs=False)
        for r in rows:
            assert r.due_at is not None
            pending = Pending(
                due=r.due_at,
                level=r.level,
                position=r.position,
                ack_within=timedelta(seconds=r.ack_within_s),
            )
            step = next_step(pending, chains[r.party], now)
            if step is not None:
                _apply_step(unit, center, groups[r.alert_id], r, step)
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


def _whole(at: datetime) -> int:
    """Whole seconds since 1970 of ``at`` (its microseconds dropped)."""
    return micros(at) // 1_000_000


def _plan_found(
    plan: FlightPlan,
    row: Declaration,
    others: Mapping[str, tuple[FlightPlan, Declaration]],
    conflicts: Sequence[PlanConflict],
    now: datetime,
) -> _Found:
    """The conflicts of ``plan`` with ``others`` as findings."""
    aircraft = [_plan_aircraft(plan, row)] + [_plan_aircraft(p, r) for p, r in others.values()]
    row_of = {one["key"]: k for k, one in enumerate(aircraft)}
    f = np.zeros(len(conflicts), dtype=FINDING)
    sets: dict[tuple[str, ...], int] = {}
    nan = math.nan
    for k, c in enumerate(conflicts):
        other, other_row = others[c.other_id]
        pair = {plan.id: plan, other.id: other}
        a_id, b_id = sorted(pair)
        cpa = [_position_at(pair[i], c.cpa_at) for i in (a_id, b_id)]
        los = [_position_at(pair[i], c.los_at) for i in (a_id, b_id)]
        pa, pb = cpa
        mid = (nan, nan)
        if pa is not None and pb is not None:
            mid = (round((pa[0] + pb[0]) / 2, 6), round((pa[1] + pb[1]) / 2, 6))
        la, lb = (p if p is not None else [nan, nan] for p in los)
        concerned = tuple(dict.fromkeys((row.owner, other_row.owner)))
        f[k] = (
            row_of[a_id], row_of[b_id], sets.setdefault(concerned, len(sets)), False,
            _whole(c.los_at), _whole(c.los_until), _whole(c.cpa_at),
            round((c.cpa_at - now).total_seconds(), 1), round(c.dcpa_m / NM, 2),
            abs(pa[2] - pb[2]) if pa is not None and pb is not None else nan,
            mid[0], mid[1], la[0], la[1], lb[0], lb[1],
        )  # fmt: skip
    n = len(conflicts)
    return _found(
        "plan",
        aircraft,
        [],
        [list(s) for s in sets],
        np.full(n, _CONFLICT, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        f,
    )


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
    others: dict[str, tuple[FlightPlan, Declaration]] = {}
    conflicts: list[PlanConflict] = []
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
        conflicts = list(probe_flight_plan(plan, [o for o, _ in others.values()], separation))
    if plan is None:
        empty = np.zeros(0, dtype=np.int64)
        found = _found("plan", [], [], [], empty, empty, np.zeros(0, dtype=FINDING))
    else:
        found = _plan_found(plan, row, others, conflicts, now)
    active = load_groups(session, _GROUPS.c.source == "plan", _GROUPS.c.open > 0)
    outcome = _reconcile(unit, center, found, active, now, involves=row.id, want_ids=True)
    if plan is None:
        return None
    out: list[PlanConflictOut] = []
    for k in sorted(range(len(found)), key=lambda k: int(found.f["t_los"][k])):
        f = found.f[k]
        other_one = found.aircraft[
            int(f["b"] if found.aircraft[int(f["a"])]["id"] == plan.id else f["a"])
        ]
        visible = may_see_track(
            caller.member, caller.role, other_one["owner"], other_one["disclosure"]
        )
        out.append(
            PlanConflictOut(
                alert=outcome.ids[k],
                other=other_one["id"] if visible else None,
                party=other_one["party"],
                operator=other_one["operator"],
                los_at=_at_second(f["t_los"]),
                los_until=_at_second(f["t_until"]) if visible else None,
                cpa_at=_at_second(f["t_cpa"]) if visible else None,
                dcpa_m=round(float(f["dcpa"]) * NM, 1) if visible else None,
            )
        )
    return out
