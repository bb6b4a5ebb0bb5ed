"""Flight-plan probes. When a flight plan is declared or amended it is probed, leg by leg
in 4D, against every other flight plan in force whose times overlap it
(:func:`accord.airspace.probe.probe_flight_plan`); each conflict is an ``airspace.conflict``
alert (``source`` ``plan``) raised as a track conflict is, cleared when an amendment or a
withdrawal ends it.

The probe's answer to the declaring caller (:class:`PlanConflictView`) is cut as an alert is:
against another party's hidden plan it says whose plan it is and when separation is lost,
nothing that measures the other (DECISIONS 1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from accord.agreement import Agreement
from accord.airspace import PlanConflict, Separation, probe_flight_plan
from accord.airspace.tracks import epoch_seconds
from accord.center.airspace.alerts import at_second
from accord.center.airspace.detection import reconcile
from accord.center.airspace.findings import CONFLICT, Found, found_of
from accord.center.airspace.store import FINDING, GROUPS, load_groups, micros
from accord.center.airspace.trackstore import may_see_track
from accord.center.db.models import Declaration
from accord.center.identity import Caller
from accord.center.operations.world_cache import parse_features
from accord.center.runtime import Unit
from accord.errors import AccordError
from accord.units import FT, NM
from accord.world import FlightPlan

__all__ = ["PlanConflictView", "conflict_places", "plan_changed", "plan_of"]


@dataclass(frozen=True, slots=True)
class PlanConflictView:
    """A conflict of a flight plan with another one, as the declaring caller may see it (the
    fields of :class:`~accord.center.airspace.views.PlanConflictOut`, which documents them)."""

    alert: str
    other: str | None
    party: str | None
    operator: str
    los_at: datetime
    los_until: datetime | None
    cpa_at: datetime | None
    dcpa_m: float | None


def plan_of(agreement: Agreement, row: Declaration) -> FlightPlan | None:
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


def conflict_places(plan: FlightPlan, other: FlightPlan, c: PlanConflict) -> tuple[float, ...]:
    """What the probe's conflict ``c`` of ``plan`` with ``other`` stores beside its times and
    numbers (its finding's ``vert``, ``x``, ``y``, ``xa``, ``ya``, ``xb``, ``yb``: NaN where
    a plan is not flying then): the vertical distance and the place between the two at the
    closest approach, and each one's place when separation is lost (the plans in the order
    of their ids). Redo computes them again from the plans the record holds."""
    nan = math.nan
    pair = {plan.id: plan, other.id: other}
    a_id, b_id = sorted(pair)
    pa, pb = (_position_at(pair[i], c.cpa_at) for i in (a_id, b_id))
    los = [_position_at(pair[i], c.los_at) for i in (a_id, b_id)]
    mid = (nan, nan)
    if pa is not None and pb is not None:
        mid = (round((pa[0] + pb[0]) / 2, 6), round((pa[1] + pb[1]) / 2, 6))
    la, lb = (p if p is not None else [nan, nan] for p in los)
    vert = abs(pa[2] - pb[2]) if pa is not None and pb is not None else nan
    return (vert, mid[0], mid[1], la[0], la[1], lb[0], lb[1])


def _plan_found(
    plan: FlightPlan,
    row: Declaration,
    others: Mapping[str, tuple[FlightPlan, Declaration]],
    conflicts: Sequence[PlanConflict],
    now: datetime,
) -> Found:
    """The conflicts of ``plan`` with ``others`` as findings."""
    aircraft = [_plan_aircraft(plan, row)] + [_plan_aircraft(p, r) for p, r in others.values()]
    row_of = {one["key"]: k for k, one in enumerate(aircraft)}
    f = np.zeros(len(conflicts), dtype=FINDING)
    sets: dict[tuple[str, ...], int] = {}
    for k, c in enumerate(conflicts):
        other, other_row = others[c.other_id]
        a_id, b_id = sorted((plan.id, other.id))
        concerned = tuple(dict.fromkeys((row.owner, other_row.owner)))
        f[k] = (
            row_of[a_id], row_of[b_id], sets.setdefault(concerned, len(sets)), False,
            _whole(c.los_at), _whole(c.los_until), _whole(c.cpa_at),
            round((c.cpa_at - now).total_seconds(), 1), round(c.dcpa_m / NM, 2),
            *conflict_places(plan, other, c),
        )  # fmt: skip
    n = len(conflicts)
    return found_of(
        "plan",
        aircraft,
        [],
        [list(s) for s in sets],
        np.full(n, CONFLICT, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        f,
    )


def plan_changed(
    unit: Unit, caller: Caller, declaration_id: str, now: datetime
) -> list[PlanConflictView] | None:
    """After a flight plan is declared, amended or withdrawn: probe it against every other
    flight plan in force overlapping it in time, raise the new conflicts, clear the ended
    ones. The conflicts as the caller may see them (``None`` when it is no flight plan)."""
    center = unit.center
    session = unit.session
    row = session.get(Declaration, declaration_id)
    if row is None or row.kind != "flight_plan":
        return None
    agreement = center.agreement
    plan = plan_of(agreement, row) if row.status == "active" else None
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
            other = plan_of(agreement, other_row)
            if other is None or not other.times:
                continue
            if max(other.times) <= start or min(other.times) >= end:
                continue  # no common time: nothing to probe
            others[other.id] = (other, other_row)
        separation = Separation.from_rules(agreement.airspace)
        conflicts = list(probe_flight_plan(plan, [o for o, _ in others.values()], separation))
    if plan is None:
        empty = np.zeros(0, dtype=np.int64)
        found = found_of("plan", [], [], [], empty, empty, np.zeros(0, dtype=FINDING))
    else:
        found = _plan_found(plan, row, others, conflicts, now)
    active = load_groups(session, GROUPS.c.source == "plan", GROUPS.c.open > 0)
    outcome = reconcile(unit, center, found, active, now, involves=row.id, want_ids=True)
    if plan is None:
        return None
    out: list[PlanConflictView] = []
    for k in sorted(range(len(found)), key=lambda k: int(found.f["t_los"][k])):
        f = found.f[k]
        other_one = found.aircraft[
            int(f["b"] if found.aircraft[int(f["a"])]["id"] == plan.id else f["a"])
        ]
        visible = may_see_track(
            caller.member, caller.role, other_one["owner"], other_one["disclosure"]
        )
        out.append(
            PlanConflictView(
                alert=outcome.ids[k],
                other=other_one["id"] if visible else None,
                party=other_one["party"],
                operator=other_one["operator"],
                los_at=at_second(f["t_los"]),
                los_until=at_second(f["t_until"]) if visible else None,
                cpa_at=at_second(f["t_cpa"]) if visible else None,
                dcpa_m=round(float(f["dcpa"]) * NM, 1) if visible else None,
            )
        )
    return out
