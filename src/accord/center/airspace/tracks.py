"""Tracks in: ``POST /v1/tracks``'s batch checked, stored and published, then the detection
run over it (:func:`~accord.center.airspace.detection.survey`); and the tracks a reader may
list.

``POST /v1/tracks`` takes a batch of state reports (the CSV's fields, see
:mod:`accord.airspace.tracks`, plus an optional ``disclosure``: ``shared``, the default, or
``center``) and the optional ``icao24``, ``callsign`` and ``squawk``. A party's officer
reports its own party's aircraft only (``party`` is its member; ``operator`` its member or a
non-party operator); the administrator is the center's own air-picture feed and reports any
operator's aircraft, non-party ones and ``unknown`` ones included; each of its reports is
matched to the flight plans in force (:mod:`~accord.center.airspace.identity`): a matched one
becomes the plan's aircraft with the plan's disclosure (DECISIONS 5). Any bad
report refuses the whole batch (:class:`~accord.errors.TrackError`, every issue naming
``tracks[k].field``; nothing is applied), and so does a report from more than
:data:`~accord.center.airspace.trackstore.FUTURE_SKEW` ahead of the center's clock, and an
officer's batch that packs its own party's aircraft past ``limits.own_track_conflicts``
(:func:`check_own_density`: a party's own pairs only, so no party can push another's
conflicts past a limit; the center's feed is not held to it). A report not newer than the
one kept for its aircraft is dropped and counted.

Tracks are rows, not record entries (a report per aircraft per second would flood the
record). What they cause is recorded.

What a batch did (:class:`Batch`) and the tracks listed are plain values; the routes answer
them as :mod:`~accord.center.airspace.views`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.airspace import Separation, States, TrackReport, detect_conflicts, report_from_fields
from accord.airspace.detect import candidate_bound
from accord.airspace.tracks import COLUMNS, OPTIONAL_COLUMNS, KnownIds
from accord.center import visibility
from accord.center.airspace.alerts import AlertView, alert_of, json_time
from accord.center.airspace.detection import survey
from accord.center.airspace.entries import TRACK_EVENT, TRACKS_EVENT
from accord.center.airspace.identity import delete_moved, identify, load_plans
from accord.center.airspace.store import Group
from accord.center.airspace.trackstore import (
    FUTURE_SKEW,
    STALE_AFTER,
    TRACKS,
    Track,
    check_reader,
    held_rows,
    owner_of,
    read_tracks,
    states_of,
)
from accord.center.db.fast import Prepared
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.errors import Issue, NotAuthorized, TrackError

__all__ = [
    "ANSWER_ALERTS_MAX",
    "MAX_BATCH",
    "TRACK_EVENTS_MAX",
    "Batch",
    "check_own_density",
    "list_tracks",
    "report_tracks",
    "track_json",
]

MAX_BATCH = 5000
"""The most reports one ``POST /v1/tracks`` carries (the body limit also applies: about
4,000 reports of typical length fit in 1 MiB)."""

TRACK_EVENTS_MAX = 200
"""Up to this many aircraft updated by a batch, each gets its own ``track.updated`` event
(the form the officers' page reads); beyond it, one ``tracks.updated`` event per audience
carries them as a list."""

MAX_ISSUES = 200


ANSWER_ALERTS_MAX = 200
"""The most alerts (raised, and ids cleared) a ``POST /v1/tracks`` answer lists; its
``raised_count`` and ``cleared_count`` say how many there were."""

_SHARED, _CENTER = "shared", "center"
_INSERT = Prepared(insert(TRACKS))
_UPDATE = Prepared(
    update(TRACKS).where(TRACKS.c.owner == bindparam("k_owner"), TRACKS.c.id == bindparam("k_id"))
)
"""The track writes, on the driver's cursor (:mod:`accord.center.db.fast`): through
SQLAlchemy's executemany, a round of 5,000 rows took 24 µs a row, most of it its
per-parameter work."""
_FIELDS = frozenset(COLUMNS) | frozenset(OPTIONAL_COLUMNS) | {"disclosure"}

# --- tracks in ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Report:
    report: TrackReport
    owner: str
    disclosure: str


def _checked(
    agreement: Agreement, caller: Caller, items: Sequence[Mapping[str, Any]], now: datetime
) -> list[_Report]:
    """Every report of the batch, or the :class:`~accord.errors.TrackError` naming each bad
    ``tracks[k].field``."""
    issues: list[Issue] = []
    out: list[_Report] = []

    def bad(k: int, name: str, message: str) -> None:
        where = f"tracks[{k}].{name}" if name else f"tracks[{k}]"
        issues.append(Issue(where, message))

    latest_allowed = now + FUTURE_SKEW
    known = KnownIds.of(agreement)
    for k, item in enumerate(items):
        if len(issues) >= MAX_ISSUES:
            issues.append(Issue("tracks", "too many problems"))
            break
        for name in sorted(set(item) - _FIELDS):
            bad(k, name, "is not a field of a track report")
        disclosure = item.get("disclosure", _SHARED)
        if disclosure not in (_SHARED, _CENTER):
            bad(k, "disclosure", "is 'shared' (the default) or 'center'")
        values = {name: item.get(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS)}
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
        found = report_from_fields(values, agreement=known, feature=f"tracks[{k}]")
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
            out.append(_Report(found, owner_of(found.party, found.operator), disclosure))
    if issues:
        raise TrackError("tracks", issues)
    return out


def _identified(session: Session, reports: list[_Report]) -> list[_Report]:
    """The feed's reports, each matched to the flight plan in force whose aircraft it is
    (:func:`~accord.center.airspace.identity.identify`): a matched one takes the plan's
    operator, party, mission and disclosure; the others stay as the feed sent them."""
    if not any(r.report.icao24 or r.report.callsign for r in reports):
        return reports
    plans = load_plans(session)
    if not plans.by_icao24 and not plans.by_callsign:
        return reports
    out: list[_Report] = []
    for item in reports:
        plan = identify(item.report, plans)
        if plan is None:
            out.append(item)
            continue
        r = replace(item.report, operator=plan.operator, party=plan.party, mission=plan.mission)
        out.append(_Report(r, plan.owner, plan.disclosure))
    return out


def track_json(row: Track) -> dict[str, Any]:
    """A track as JSON values: what ``TrackOut`` answers, as the live events carry it."""
    return {
        "id": row.id,
        "operator": row.operator,
        "party": row.party,
        "mission": row.mission,
        "time": json_time(row.time),
        "lat": float(row.lat),
        "lon": float(row.lon),
        "alt_ft": float(row.alt_ft),
        "gs_kt": float(row.gs_kt),
        "track_deg": float(row.track_deg),
        "vs_fpm": float(row.vs_fpm),
        "disclosure": row.disclosure,
        "icao24": row.icao24,
        "callsign": row.callsign,
        "squawk": row.squawk,
    }


@dataclass(frozen=True, slots=True)
class Batch:
    """What a batch did, as the caller may see it (the fields of
    :class:`~accord.center.airspace.views.TracksAnswer`, which documents them)."""

    accepted: int
    dropped: int
    fresh: int
    raised: list[AlertView]
    cleared: list[str]
    raised_count: int = 0
    cleared_count: int = 0


def report_tracks(
    unit: Unit,
    center: Center,
    caller: Caller,
    items: Sequence[Mapping[str, Any]],
    now: datetime,
    *,
    more: bool = False,
) -> Batch:
    """Store a batch of reports, publish the tracks and run the detection (see the module
    docstring); the answer as the caller may see it.

    ``more``: the center's feed says more batches of the same round follow, and the
    detection — which runs over every fresh track, whoever reported it — waits for the last
    (so a round of 5,000 aircraft in three batches runs it once, not three times). Only the
    administrator may defer it (:class:`~accord.errors.TrackError` naming ``more``
    otherwise); a batch that defers it answers no alerts."""
    if more and caller.role is not Role.ADMIN:
        raise TrackError("tracks", [Issue("more", "only the center's feed defers the detection")])
    if caller.role not in (Role.OFFICER, Role.ADMIN):
        raise NotAuthorized(f"a {caller.role.value} does not report tracks")
    agreement = center.agreement
    reports = _checked(agreement, caller, items, now)
    session = unit.session
    if caller.role is Role.ADMIN:
        reports = _identified(session, reports)
    rows_held = held_rows(session, (r.report.id for r in reports))
    stored = {key: at for key, (at, _) in rows_held.items()}
    dropped = 0
    updated: dict[tuple[str, str], Track] = {}
    for item in reports:
        r = item.report
        key = (item.owner, r.id)
        held = updated[key].time if key in updated else stored.get(key)
        if held is not None and held >= r.time:
            dropped += 1
            continue
        updated[key] = Track(
            item.owner, r.id, r.operator, r.party, r.mission, r.time, r.lat, r.lon,
            r.alt_ft, r.gs_kt, r.track_deg, r.vs_fpm, item.disclosure,
            r.icao24, r.callsign, r.squawk,
        )  # fmt: skip
    if caller.role is Role.OFFICER and updated:
        check_own_density(session, agreement, caller.member, updated, now)
    if caller.role is Role.ADMIN and updated:
        delete_moved(session, caller.user_id, updated, rows_held)
    extra = {"reported_by": caller.user_id, "received_at": now}
    rows = [{name: getattr(t, name) for name in Track.__slots__} | extra for t in updated.values()]
    made = [row for row in rows if (row["owner"], row["id"]) not in stored]
    connection = session.connection()
    _INSERT.execute(connection, made)
    old = [
        {f"k_{k}" if k in ("owner", "id") else k: v for k, v in row.items()}
        for row in rows
        if (row["owner"], row["id"]) in stored
    ]
    _UPDATE.execute(connection, old)
    _publish_tracks(session, agreement, list(updated.values()), now)
    if more:
        return Batch(accepted=len(updated), dropped=dropped, fresh=0, raised=[], cleared=[])
    fresh, outcome = survey(unit, now)
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
    return Batch(
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
may examine (see :func:`check_own_density`)."""


def _own_conflicts(states: States, separation: Separation, cap: int) -> int:
    """The conflicts among ``states`` as far as the limit ``cap`` needs them: at most ``cap``
    (then an upper bound) when the detector's pairs to examine say so at once; the number
    itself when it would examine at most ``_DENSE × cap`` pairs; else that bound, more than
    ``_DENSE × cap`` (they are not counted: that is the point)."""
    bound = candidate_bound(states, separation)
    if bound <= cap or bound > _DENSE * cap:
        return bound
    return len(detect_conflicts(states, separation))


def check_own_density(
    session: Session,
    agreement: Agreement,
    member: str,
    updated: Mapping[tuple[str, str], Track],
    now: datetime,
) -> None:
    """Refuse (:class:`~accord.errors.TrackError`, field ``tracks``) an officer's batch that
    brings its party's own fresh aircraft into more than ``limits.own_track_conflicts``
    predicted losses of separation with one another, or packs them so that the detector would
    examine more than ``_DENSE`` times as many of their pairs (counted in O(n log n) before any
    is listed: a batch of 5,000 in one spot is refused in milliseconds, not after 12.5 million
    pairs).

    Why the party's own pairs only: each is an alert to that party alone, and the party can
    always fly — and report — its aircraft apart; a limit on all pairs would let a party push
    another's real conflicts past it by packing aircraft near them (the rejected design). So
    no batch is refused for another party's aircraft, and the center's feed is not held to
    it. A batch that does not add to its party's own pairs (reports of aircraft already
    packed, by the feed say) passes."""
    cap = agreement.limits.own_track_conflicts
    c = TRACKS.c
    fresh = (c.time >= now - STALE_AFTER, c.time <= now + FUTURE_SKEW)
    before = read_tracks(session, c.owner == member, *fresh)
    low, high = now - STALE_AFTER, now + FUTURE_SKEW
    after = {(r.owner, r.id): r for r in before}
    for key, r in updated.items():
        if r.owner == member:
            after[key] = r
    rows = [r for r in after.values() if low <= r.time <= high]
    separation = Separation.from_rules(agreement.airspace)
    own = _own_conflicts(states_of(rows, now), separation, cap)
    if own <= cap:
        return
    if own <= _own_conflicts(states_of(before, now), separation, cap):
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
    raise TrackError("tracks", [Issue("tracks", message)])


def _publish_tracks(
    session: Session, agreement: Agreement, rows: Sequence[Track], now: datetime
) -> None:
    """``track.updated`` per aircraft (a shared one to every party and monitor, a ``center``
    one to its owner alone), or one ``tracks.updated`` list per audience for a large batch."""
    groups: dict[tuple[str, ...], list[Track]] = {}
    for row in rows:
        audience = visibility.track_audience(agreement, owner=row.owner, disclosure=row.disclosure)
        groups.setdefault(audience, []).append(row)
    many = len(rows) > TRACK_EVENTS_MAX
    for audience, members in groups.items():
        if many:
            tracks = [track_json(r) for r in members]
            payload = {"tracks": tracks, "count": len(tracks)}
            publish(session, kind=TRACKS_EVENT, at=now, audience=audience, payload=payload)
            continue
        for row in members:
            track = track_json(row)
            publish(session, kind=TRACK_EVENT, at=now, audience=audience, payload={"track": track})


def list_tracks(center: Center, caller: Caller, *, fresh_only: bool) -> list[Track]:
    """The tracks the caller may see: its own party's all, others' ``shared`` ones."""
    check_reader(caller)
    now = center.now()
    with center.reading() as session:
        c = TRACKS.c
        where = [visibility.tracks_where(caller, owner=c.owner, disclosure=c.disclosure)]
        if fresh_only:
            where.append(c.time >= now - STALE_AFTER)
        rows = read_tracks(session, *where)
    return rows
