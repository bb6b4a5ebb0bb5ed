"""An adaptive prober: how close can a party place another party's hidden position?

The attack that located a hidden position to 0.01 m in 13 proposals, written out so that
the test suite and ``make bench`` can run it against the service. The prober sees one bit
per proposal — whether its operation conflicts with a hidden object of the other party —
and spends its budget of proposals in three phases:

1. **Strips**: bisect a 64 × 64 km box with half-box polygons, keeping the half that
   touches, alternating axes, down to a box of about 100 m; its centre is near the edge of
   the region where proposals touch (and a step of 500 m from it finds a point inside).
2. **Boundary search**: from that inside point, along rays spread by the golden angle,
   bisect with 1 m circles between the point and one 40 km out: points on the region's
   edge, to about a metre.
3. **Circle fitting**: a least-squares circle through the edge points (Kåsa's algebraic fit);
   its centre is the prober's estimate. With fewer than three edge points, the last point
   found.

Against true answers this finds a point object's place to within metres; against the
center's shadows it finds the shadow, which is the point of the bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accord.geo import GEOD

__all__ = ["Probe", "ProbeResult", "probe"]

Touches = Callable[[dict[str, Any], float], bool]
"""The oracle: (GeoJSON geometry, circle radius in metres or 0 for a polygon) → touches."""

_BOX_M = 32_000.0
_STRIP_STOP_M = 100.0
_RAY_OUT_M = 40_000.0
_RAY_STOP_M = 1.0
_POINT_RADIUS_M = 1.0
_STEP_M = 500.0


@dataclass
class Probe:
    """Where the prober starts (its prior guess of the area) and its budget."""

    lon: float
    lat: float
    budget: int


@dataclass
class ProbeResult:
    """The estimate (lon, lat), the proposals spent, and the edge points found."""

    lon: float
    lat: float
    spent: int
    edge: list[tuple[float, float]] = field(default_factory=list)


class _Out(Exception):
    pass


def _lonlat(lon0: float, lat0: float, x: float, y: float) -> tuple[float, float]:
    azimuth = math.degrees(math.atan2(x, y))
    lon, lat, _ = GEOD.fwd(lon0, lat0, azimuth, math.hypot(x, y))
    return float(lon), float(lat)


def probe(start: Probe, touches: Touches) -> ProbeResult:
    """Run the three phases against ``touches`` within ``start.budget`` proposals."""
    spent = 0
    lon0, lat0 = start.lon, start.lat

    def ask(geometry: dict[str, Any], radius: float) -> bool:
        nonlocal spent
        if spent >= start.budget:
            raise _Out
        spent += 1
        return touches(geometry, radius)

    def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        return {
            "type": "Polygon",
            "coordinates": [[list(_lonlat(lon0, lat0, x, y)) for x, y in corners]],
        }

    def point(x: float, y: float) -> dict[str, Any]:
        return {"type": "Point", "coordinates": list(_lonlat(lon0, lat0, x, y))}

    x0, y0, x1, y1 = -_BOX_M, -_BOX_M, _BOX_M, _BOX_M
    edge: list[tuple[float, float]] = []
    best = (0.0, 0.0)
    try:
        # 1. Strips.
        while max(x1 - x0, y1 - y0) > _STRIP_STOP_M:
            if x1 - x0 >= y1 - y0:
                mid = (x0 + x1) / 2
                if ask(box(x0, y0, mid, y1), 0.0):
                    x1 = mid
                else:
                    x0 = mid
            else:
                mid = (y0 + y1) / 2
                if ask(box(x0, y0, x1, mid), 0.0):
                    y1 = mid
                else:
                    y0 = mid
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        best = (cx, cy)
        # 2. An inside point: the box's centre, or a step from it in one of 8 directions
        #    (the region is wider than the step, and the box lies at its edge).
        if not ask(point(cx, cy), _POINT_RADIUS_M):
            for i in range(8):
                angle = i * math.pi / 4
                x, y = cx + _STEP_M * math.cos(angle), cy + _STEP_M * math.sin(angle)
                if ask(point(x, y), _POINT_RADIUS_M):
                    cx, cy = x, y
                    break
            else:
                raise _Out
        best = (cx, cy)
        # 3. The edge along rays from it, the directions spread by the golden angle.
        golden = math.pi * (3 - math.sqrt(5))
        for k in range(10_000):
            ux, uy = math.cos(k * golden), math.sin(k * golden)
            lo, hi = 0.0, _RAY_OUT_M
            while hi - lo > _RAY_STOP_M:
                mid = (lo + hi) / 2
                if ask(point(cx + mid * ux, cy + mid * uy), _POINT_RADIUS_M):
                    lo = mid
                else:
                    hi = mid
            t = (lo + hi) / 2
            edge.append((cx + t * ux, cy + t * uy))
    except _Out:
        pass
    # 3. Circle fitting.
    if len(edge) >= 3:
        xs = np.array([p[0] for p in edge])
        ys = np.array([p[1] for p in edge])
        design = np.column_stack([xs, ys, np.ones_like(xs)])
        d, e, _f = np.linalg.lstsq(design, -(xs**2 + ys**2), rcond=None)[0]
        best = (float(-d / 2), float(-e / 2))
    lon, lat = _lonlat(lon0, lat0, *best)
    return ProbeResult(lon=lon, lat=lat, spent=spent, edge=[_lonlat(lon0, lat0, *p) for p in edge])
