"""Who a sensor's aircraft is (issue 22 item 2; DECISIONS 5).

The center's air-picture feed (the administrator's feed user posting ``/v1/tracks``: an
ADS-B receiver, a radar data processor) sees aircraft, not parties. A report it posts may
carry the aircraft's ICAO 24-bit address (``icao24``) and callsign; the feed may have filled
``operator``, ``party`` and ``mission`` from its aircraft registry, or left the operator
:data:`~accord.agreement.UNKNOWN`.

:func:`identify` matches each such report to the flight plans in force: a plan naming the
report's ``icao24`` first, else one naming its callsign; a plan matches a report whose time
lies within its times widened by :data:`PLAN_MARGIN` (an aircraft early or late is still the
plan's aircraft) and whose position lies within :data:`PLAN_TOLERANCE_M` of where the plan
puts it then (plus what it could fly in the time outside the plan's times).

**A plan cannot steal an aircraft.** A party could declare a hidden plan naming an aircraft
that is not its own — another party's, an airliner's — to take it off everyone else's
picture. So a plan claims only an aircraft where its plan says it would be, and never one the
feed's registry names as another operator's or party's: the registry, which the center's
operator keeps, wins. A matched report becomes the plan's aircraft — its operator, party and
mission — and takes the plan's disclosure: a ``center`` plan's aircraft is its party's alone,
exactly as the plan is (DECISIONS 5: a party that hides a flight does not have it shown by the
center's own sensors). Several plans matching: the one whose times hold the report, else the
nearest; ties by declaration id, so the answer does not depend on the order of rows.

A report matched to nothing keeps what the feed said: a registry's non-party operator, or
``unknown``; it is shown to every party (the center's own sensor picture), checked against
everyone, and a designated area may restrict ``unknown``. The feed never sends ``center``
disclosure for these: it has no declaration to hide behind.

An aircraft keeps one key (:func:`~accord.center.airspace.trackstore.key_of`, its owner and
id) per owner: when a report moves an aircraft from one owner to another (a plan declared or
withdrawn while it flies), :func:`moved_rows` names the feed's row under the old owner, which
the batch deletes, so one aircraft is never two tracks (and so never in conflict with itself).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, select, tuple_
from sqlalchemy.orm import Session

from accord.agreement import UNKNOWN
from accord.airspace import TrackReport
from accord.airspace.tracks import epoch_seconds
from accord.center.airspace.trackstore import TRACKS
from accord.center.db.models import Declaration
from accord.chrono import parse_instant
from accord.geo import GEOD

__all__ = [
    "PLAN_MARGIN",
    "PLAN_TOLERANCE_M",
    "PlanIdentity",
    "Plans",
    "delete_moved",
    "identify",
    "load_plans",
]

PLAN_MARGIN = timedelta(minutes=30)
"""How far before its first time and after its last a flight plan still claims its aircraft."""
PLAN_TOLERANCE_M = 20_000.0
"""How far from where its plan puts it an aircraft is still the plan's (weather, vectoring)."""
_CLIMB_AWAY_MPS = 300.0
"""How fast an aircraft may be taken to have flown from its plan outside the plan's times."""


@dataclass(frozen=True, slots=True)
class PlanIdentity:
    """What a flight plan in force says of its aircraft (``start``, ``end``: its times)."""

    declaration: str
    owner: str
    operator: str
    party: str | None
    mission: str
    disclosure: str
    start: datetime
    end: datetime
    path: tuple[tuple[float, float, float], ...] = ()
    """(seconds since the epoch, lon, lat) of each vertex."""

    def distance(self, at: datetime) -> timedelta:
        """How far ``at`` lies outside the plan's times (zero within them)."""
        if at < self.start:
            return self.start - at
        if at > self.end:
            return at - self.end
        return timedelta(0)

    def claims(self, at: datetime, lon: float, lat: float) -> bool:
        """Whether an aircraft at (``lon``, ``lat``) at ``at`` may be this plan's: within
        :data:`PLAN_TOLERANCE_M` of where the plan puts it (its first or last vertex outside
        its times, widened by what it could fly meanwhile)."""
        if not self.path:
            return False
        t = epoch_seconds(at)
        times = [p[0] for p in self.path]
        lons = [p[1] for p in self.path]
        lats = [p[2] for p in self.path]
        x = float(np.interp(t, times, lons))
        y = float(np.interp(t, times, lats))
        outside = self.distance(at).total_seconds()
        _, _, metres = GEOD.inv(lon, lat, x, y)
        return bool(metres <= PLAN_TOLERANCE_M + _CLIMB_AWAY_MPS * outside)


@dataclass(frozen=True, slots=True)
class Plans:
    """The flight plans in force that name an aircraft, by ``icao24`` and by callsign."""

    by_icao24: dict[str, list[PlanIdentity]]
    by_callsign: dict[str, list[PlanIdentity]]


def _identity(row_id: str, owner: str, disclosure: str, feature: dict[str, Any]) -> PlanIdentity:
    props = feature.get("properties") or {}
    times = [parse_instant(t) for t in props.get("times") or []]
    coords = (feature.get("geometry") or {}).get("coordinates") or []
    if not times or len(coords) != len(times):
        raise ValueError("a flight plan without one time per vertex")
    path = tuple(
        sorted(
            (epoch_seconds(t), float(c[0]), float(c[1])) for t, c in zip(times, coords, strict=True)
        )
    )
    party = props.get("party")
    return PlanIdentity(
        declaration=row_id,
        owner=owner,
        operator=str(props.get("operator", owner)),
        party=str(party) if isinstance(party, str) and party else None,
        mission=str(props.get("mission", "")),
        disclosure=disclosure,
        start=min(times),
        end=max(times),
        path=path,
    )


_READ: weakref.WeakKeyDictionary[Engine, tuple[int, Plans]] = weakref.WeakKeyDictionary()
"""The plans last read per database, with the declarations' ``rev`` they were read at."""


def load_plans(session: Session) -> Plans:
    """The active flight plans whose features name an ``icao24`` or a callsign (the text is
    searched first, so a center with many plans and few identities parses few). Read again
    only when a declaration changed since the last read (the declarations' ``rev``, which
    every create, amend and withdraw raises): a feed's batch each second costs one indexed
    query, however many plans a party declares."""
    rev = session.execute(select(func.max(Declaration.rev))).scalar() or 0
    engine = session.get_bind()
    held = _READ.get(engine) if isinstance(engine, Engine) else None
    if held is not None and held[0] == rev:
        return held[1]
    plans = _read_plans(session)
    if isinstance(engine, Engine):
        _READ[engine] = (rev, plans)
    return plans


def _read_plans(session: Session) -> Plans:
    query = select(Declaration.id, Declaration.owner, Declaration.disclosure, Declaration.feature)
    query = query.where(
        Declaration.kind == "flight_plan",
        Declaration.status == "active",
        Declaration.feature.contains('"icao24"') | Declaration.feature.contains('"callsign"'),
    )
    by_icao24: dict[str, list[PlanIdentity]] = {}
    by_callsign: dict[str, list[PlanIdentity]] = {}
    for row_id, owner, disclosure, feature in session.execute(query):
        parsed = json.loads(feature)
        props = parsed.get("properties") or {}
        try:
            plan = _identity(row_id, owner, disclosure, parsed)
        except (TypeError, ValueError, IndexError):
            continue  # validated when declared; a row that no longer parses names no one
        icao24, callsign = props.get("icao24"), props.get("callsign")
        if isinstance(icao24, str) and icao24.strip():
            by_icao24.setdefault(icao24.strip().lower(), []).append(plan)
        if isinstance(callsign, str) and callsign.strip():
            by_callsign.setdefault(callsign.strip().upper(), []).append(plan)
    return Plans(by_icao24, by_callsign)


def _best(plans: Sequence[PlanIdentity], report: TrackReport) -> PlanIdentity | None:
    at = report.time
    near = [
        p
        for p in plans
        if p.distance(at) <= PLAN_MARGIN
        and p.claims(at, report.lon, report.lat)
        and _registry_agrees(report, p)
    ]
    if not near:
        return None
    return min(near, key=lambda p: (p.distance(at), p.declaration))


def identify(report: TrackReport, plans: Plans) -> PlanIdentity | None:
    """The flight plan whose aircraft ``report`` is, or ``None`` (see the module docstring).

    An address names an aircraft exactly, so a report whose ``icao24`` some plan names is
    matched by address only; the callsign is tried when no plan names the address.
    """
    if report.icao24 is not None and report.icao24 in plans.by_icao24:
        return _best(plans.by_icao24[report.icao24], report)
    if report.callsign is not None and report.callsign in plans.by_callsign:
        return _best(plans.by_callsign[report.callsign], report)
    return None


def _registry_agrees(report: TrackReport, plan: PlanIdentity) -> bool:
    """Whether the feed's registry leaves the aircraft to the plan: it names no one
    (``unknown``), or the plan's own operator and party."""
    if report.operator == UNKNOWN:
        return True
    return report.operator == plan.operator and report.party == plan.party


def delete_moved(
    session: Session,
    reporter: int,
    placed: Iterable[tuple[str, str]],
    held: Mapping[tuple[str, str], tuple[datetime, int]],
) -> int:
    """Delete the rows ``reporter`` (the feed's user) holds for the aircraft ids of ``placed``
    (owner, id) under any other owner, ``held`` being every stored row of those ids
    (:func:`~accord.center.airspace.trackstore.held_rows`); how many were deleted."""
    by_id: dict[str, str] = dict((track_id, owner) for owner, track_id in placed)
    gone = [
        (owner, track_id)
        for (owner, track_id), (_, by) in held.items()
        if by == reporter and track_id in by_id and by_id[track_id] != owner
    ]
    c = TRACKS.c
    for start in range(0, len(gone), 500):
        chunk_keys = gone[start : start + 500]
        session.execute(delete(TRACKS).where(tuple_(c.owner, c.id).in_(chunk_keys)))
    return len(gone)
