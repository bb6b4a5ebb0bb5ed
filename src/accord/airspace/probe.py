"""Probe a new flight plan against every other plan: predicted losses of separation in 4D.

A flight plan is a path of (lon, lat, altitude metres) vertices with one time per vertex;
between two vertices the aircraft moves linearly in longitude, latitude and altitude (for
legs of a few hundred kilometres within a metre or so of the geodesic at these latitudes;
altitudes are taken in whole feet, so two level legs exactly 1,000 ft apart compare exactly).

For each leg of the new plan and each leg of another plan whose times overlap, the two legs
are a pair of straight-line motions over the common window ``[w0, w1]``: the same
state-based test as for live tracks (:func:`accord.airspace.detect.relative_test`: per-pair
flat frame at ``w0``, horizontal and vertical minima, the overlap of the two intervals) with
the window as the look-ahead. Legs far apart (their boxes widened by the horizontal minimum
do not meet) or with no common time are skipped before the exact test.

The answer names, for every other plan that comes within the minima, the first such loss:
when it starts and ends, the legs concerned, and the closest approach in that window.

>>> from datetime import datetime, timedelta, UTC
>>> from accord.rules.designated import FlightPlan
>>> t0 = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
>>> east = FlightPlan(id="fp-e", operator="blue", party="blue", mission="transport",
...                   coords=((21.0, 25.0, 9144.0), (22.0, 25.0, 9144.0)),
...                   times=(t0, t0 + timedelta(minutes=20)))
>>> west = FlightPlan(id="fp-w", operator="red", party="red", mission="patrol",
...                   coords=((22.0, 25.0, 9144.0), (21.0, 25.0, 9144.0)),
...                   times=(t0, t0 + timedelta(minutes=20)))
>>> sep = Separation(horizontal_m=9260.0, vertical_ft=1000.0, lookahead_s=300.0)
>>> (c,) = probe_flight_plan(east, [west], sep)
>>> c.other_id, c.cpa_at.time().isoformat(), round(c.dcpa_m)
('fp-w', '08:10:00', 0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from accord.airspace.detect import EARTH_RADIUS_M, Separation, relative_test
from accord.chrono import format_instant
from accord.rules.designated import FlightLike
from accord.units import FT

__all__ = ["PlanConflict", "probe_flight_plan"]

Array = npt.NDArray[np.float64]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEG = math.pi / 180.0


@dataclass(frozen=True, slots=True)
class PlanConflict:
    """The first predicted loss of separation between the probed plan and another.

    ``leg`` and ``other_leg`` are the legs (0 from the first vertex) in which it starts;
    separation is lost from ``los_at`` to ``los_until`` (within the legs' common window);
    ``cpa_at`` and ``dcpa_m`` are the closest horizontal approach in that window.
    """

    plan_id: str
    other_id: str
    other_operator: str
    other_party: str | None
    leg: int
    other_leg: int
    los_at: datetime
    los_until: datetime
    cpa_at: datetime
    dcpa_m: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "plan": self.plan_id,
            "other": self.other_id,
            "other_operator": self.other_operator,
            "other_party": self.other_party,
            "leg": self.leg,
            "other_leg": self.other_leg,
            "los_at": format_instant(self.los_at.replace(microsecond=0)),
            "los_until": format_instant(self.los_until.replace(microsecond=0)),
            "cpa_at": format_instant(self.cpa_at.replace(microsecond=0)),
            "dcpa_m": round(self.dcpa_m, 1),
        }


@dataclass(frozen=True, slots=True)
class _Legs:
    owner: npt.NDArray[np.int64]
    leg: npt.NDArray[np.int64]
    t0: Array
    t1: Array
    lon0: Array
    lat0: Array
    z0: Array
    dlon: Array  # wrapped to ±180
    dlat: Array
    dz: Array


def _wrap(d: Array) -> Array:
    return np.where(d > 180.0, d - 360.0, np.where(d < -180.0, d + 360.0, d))


def _legs(plans: Sequence[FlightLike]) -> _Legs:
    owner: list[int] = []
    leg: list[int] = []
    t: list[tuple[float, float]] = []
    a: list[tuple[float, float, float]] = []
    b: list[tuple[float, float, float]] = []
    for k, plan in enumerate(plans):
        coords, times = plan.coords, plan.times
        for n in range(min(len(coords), len(times)) - 1):
            start, end = (
                (times[n] - _EPOCH).total_seconds(),
                (times[n + 1] - _EPOCH).total_seconds(),
            )
            if end <= start:
                continue
            owner.append(k)
            leg.append(n)
            t.append((start, end))
            a.append(coords[n])
            b.append(coords[n + 1])
    tt = np.array(t, dtype=np.float64).reshape(-1, 2)
    pa = np.array(a, dtype=np.float64).reshape(-1, 3)
    pb = np.array(b, dtype=np.float64).reshape(-1, 3)
    # altitudes in whole feet (metres in the plan)
    za = np.floor(pa[:, 2] / FT + 0.5)
    zb = np.floor(pb[:, 2] / FT + 0.5)
    return _Legs(
        owner=np.array(owner, dtype=np.int64),
        leg=np.array(leg, dtype=np.int64),
        t0=tt[:, 0],
        t1=tt[:, 1],
        lon0=pa[:, 0],
        lat0=pa[:, 1],
        z0=za,
        dlon=_wrap(pb[:, 0] - pa[:, 0]),
        dlat=pb[:, 1] - pa[:, 1],
        dz=zb - za,
    )


def _at(when: float) -> datetime:
    return _EPOCH + timedelta(seconds=when)


def probe_flight_plan(
    plan: FlightLike, others: Iterable[FlightLike], separation: Separation
) -> tuple[PlanConflict, ...]:
    """Every other plan that the probed plan comes within the minima of, with the first loss
    of separation, soonest first. Plans with the probed plan's id are left out (an amended
    plan is not compared with its previous version). ``separation.lookahead_s`` is not used:
    plans are compared over their whole common time."""
    rest = [p for p in others if p.id != plan.id]
    mine = _legs([plan])
    theirs = _legs(rest)
    if mine.t0.size == 0 or theirs.t0.size == 0:
        return ()
    pad_deg = (separation.horizontal_m + 1.0) / (EARTH_RADIUS_M * _DEG)
    # their legs' boxes: centre and half-size in degrees
    q_lat_c = theirs.lat0 + theirs.dlat / 2.0
    q_lat_h = np.abs(theirs.dlat) / 2.0
    q_lon_c = theirs.lon0 + theirs.dlon / 2.0
    q_lon_h = np.abs(theirs.dlon) / 2.0
    q_lat_max = np.abs(q_lat_c) + q_lat_h
    best: dict[int, tuple[float, int, PlanConflict]] = {}
    for p in range(mine.t0.size):
        w0 = np.maximum(theirs.t0, mine.t0[p])
        w1 = np.minimum(theirs.t1, mine.t1[p])
        p_lat_c = mine.lat0[p] + mine.dlat[p] / 2.0
        p_lat_h = abs(mine.dlat[p]) / 2.0
        p_lon_c = mine.lon0[p] + mine.dlon[p] / 2.0
        p_lon_h = abs(mine.dlon[p]) / 2.0
        lat_max = np.minimum(np.maximum(abs(p_lat_c) + p_lat_h, q_lat_max) + pad_deg, 89.9)
        lon_pad = pad_deg / np.cos(lat_max * _DEG)
        near = (w1 > w0) & (np.abs(q_lat_c - p_lat_c) <= q_lat_h + p_lat_h + pad_deg)
        near &= np.abs(_wrap(q_lon_c - p_lon_c)) <= q_lon_h + p_lon_h + lon_pad
        q = np.flatnonzero(near)
        if q.size == 0:
            continue
        w0, w1 = w0[q], w1[q]
        span_p = mine.t1[p] - mine.t0[p]
        span_q = theirs.t1[q] - theirs.t0[q]
        fp = (w0 - mine.t0[p]) / span_p
        fq = (w0 - theirs.t0[q]) / span_q
        lat_p = mine.lat0[p] + mine.dlat[p] * fp
        lon_p = mine.lon0[p] + mine.dlon[p] * fp
        z_p = mine.z0[p] + mine.dz[p] * fp
        lat_q = theirs.lat0[q] + theirs.dlat[q] * fq
        lon_q = theirs.lon0[q] + theirs.dlon[q] * fq
        z_q = theirs.z0[q] + theirs.dz[q] * fq
        scale = np.cos((lat_p + lat_q) * (_DEG / 2.0)) * (EARTH_RADIUS_M * _DEG)
        north = EARTH_RADIUS_M * _DEG
        dx = scale * _wrap(lon_q - lon_p)
        dy = north * (lat_q - lat_p)
        du = scale * (theirs.dlon[q] / span_q - mine.dlon[p] / span_p)
        dv = north * (theirs.dlat[q] / span_q - mine.dlat[p] / span_p)
        dvs = (theirs.dz[q] / span_q - mine.dz[p] / span_p) * 60.0
        window = w1 - w0
        hits, tcpa, _, tin, tout = relative_test(
            dx=dx,
            dy=dy,
            du=du,
            dv=dv,
            dz_ft=z_q - z_p,
            dvs_fpm=dvs,
            separation=separation,
            lookahead_s=window,
        )
        for n, k in enumerate(hits.tolist()):
            start = w0[k] + max(float(tin[n]), 0.0)
            until = w0[k] + min(float(tout[n]), float(window[k]))
            tc = min(max(float(tcpa[n]), 0.0), float(window[k]))
            dcpa = math.hypot(dx[k] + du[k] * tc, dy[k] + dv[k] * tc)
            other = int(theirs.owner[q[k]])
            found = PlanConflict(
                plan_id=plan.id,
                other_id=rest[other].id,
                other_operator=rest[other].operator,
                other_party=rest[other].party,
                leg=int(mine.leg[p]),
                other_leg=int(theirs.leg[q[k]]),
                los_at=_at(start),
                los_until=_at(until),
                cpa_at=_at(float(w0[k]) + tc),
                dcpa_m=dcpa,
            )
            held = best.get(other)
            if held is None or (start, found.leg) < (held[0], held[1]):
                best[other] = (start, found.leg, found)
    return tuple(sorted((c for _, _, c in best.values()), key=lambda c: (c.los_at, c.other_id)))
