"""An independent, slow geodesic oracle for the deconfliction engine.

It shares no code with the engine's distance kernel: distances from a point to a geodesic
leg are found by sampling the leg with ``Geod.npts`` and refining the best sample with a
bounded scalar minimisation along the leg (``Geod.fwd``), all on the WGS84 ellipsoid. It
makes its own ``pyproj.Geod`` rather than borrow ``accord.geo.GEOD``, so that it takes
nothing from the package it checks.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import shapely
from pyproj import Geod
from scipy.optimize import minimize_scalar

from accord.agreement import Agreement
from accord.world import Declared, FlightPlan, Movement, Operation, Position, ProtectedSite

G = Geod(ellps="WGS84")


def point_leg_distance(
    lon: float, lat: float, a: tuple[float, float], b: tuple[float, float]
) -> float:
    """Minimum geodesic distance from a point to the geodesic leg a→b."""
    az, _, length = G.inv(a[0], a[1], b[0], b[1])
    if length == 0:
        return float(G.inv(lon, lat, a[0], a[1])[2])
    n = max(2, int(length / 25.0))

    def at(s: float) -> float:
        plon, plat, _ = G.fwd(a[0], a[1], az, s)
        return float(G.inv(lon, lat, plon, plat)[2])

    samples = np.linspace(0.0, length, n + 1)
    dists = [at(float(s)) for s in samples]
    k = int(np.argmin(dists))
    lo = samples[max(k - 1, 0)]
    hi = samples[min(k + 1, n)]
    res = minimize_scalar(
        at, bounds=(float(lo), float(hi)), method="bounded", options={"xatol": 1e-3}
    )
    return min(float(res.fun), dists[k])


def point_lines_distance(lon: float, lat: float, lines: list[list[tuple[float, float]]]) -> float:
    best = math.inf
    for line in lines:
        for a, b in itertools.pairwise(line):
            best = min(best, point_leg_distance(lon, lat, a, b))
    return best


def _boundary(geom: shapely.Geometry) -> list[list[tuple[float, float]]]:
    if geom.geom_type == "Polygon":
        return [list(geom.exterior.coords), *[list(r.coords) for r in geom.interiors]]
    return [[(float(c[0]), float(c[1])) for c in geom.coords]]


def _at_time(
    coords: list[tuple[float, float]], times: list[float], t: float
) -> tuple[float, float]:
    for i in range(len(times) - 1):
        if times[i] <= t <= times[i + 1]:
            f = (t - times[i]) / (times[i + 1] - times[i])
            az, _, length = G.inv(*coords[i], *coords[i + 1])
            lon, lat, _ = G.fwd(coords[i][0], coords[i][1], az, f * length)
            return float(lon), float(lat)
    raise ValueError("time outside path")


def clipped_flight(plan: FlightPlan, t0: float, t1: float) -> list[tuple[float, float]] | None:
    """The part of a flight path flown in [t0, t1] (None if none)."""
    coords = [(float(c[0]), float(c[1])) for c in plan.geometry.coords]
    times = [t.timestamp() for t in plan.times]
    lo, hi = max(t0, times[0]), min(t1, times[-1])
    if lo > hi:
        return None
    pts = [_at_time(coords, times, lo)]
    pts += [c for c, t in zip(coords, times, strict=True) if lo < t < hi]
    pts.append(_at_time(coords, times, hi))
    if len(pts) == 2 and pts[0] == pts[1]:
        return [pts[0], pts[0]]
    return pts


def area_distance(op: Operation, obj_geom: shapely.Geometry | list[tuple[float, float]]) -> float:
    """Geodesic distance between an operation's area and an object's geometry (0 on overlap)."""
    op_geom = op.geometry
    if isinstance(obj_geom, list):
        obj_lines = [obj_geom]
        obj_shape = (
            shapely.LineString(obj_geom) if len(set(obj_geom)) > 1 else shapely.Point(obj_geom[0])
        )
        obj_points = obj_geom
    elif obj_geom.geom_type == "Point":
        obj_lines = []
        obj_shape = obj_geom
        obj_points = [(obj_geom.x, obj_geom.y)]
    else:
        obj_lines = _boundary(obj_geom)
        obj_shape = obj_geom
        obj_points = [p for ring in obj_lines for p in ring]
    if op_geom.geom_type == "Point":
        c = (op_geom.x, op_geom.y)
        if obj_shape.geom_type == "Polygon" and obj_shape.contains(op_geom):
            return 0.0
        if obj_lines:
            d = point_lines_distance(c[0], c[1], obj_lines)
        else:
            d = float(G.inv(c[0], c[1], obj_points[0][0], obj_points[0][1])[2])
        return max(0.0, d - op.radius_m)
    # Polygon operation.
    if op_geom.intersects(obj_shape):
        return 0.0
    op_lines = _boundary(op_geom)
    best = min(point_lines_distance(p[0], p[1], op_lines) for p in obj_points)
    if obj_lines:
        for q in op_lines[0]:
            best = min(best, point_lines_distance(q[0], q[1], obj_lines))
    return best


def expected(agreement: Agreement, op: Operation, obj: Declared) -> tuple[float, float] | None:
    """(distance_m, threshold_m) of ``obj`` seen from ``op``, or None if not in time."""
    t0, t1 = op.window_start.timestamp(), op.window_end.timestamp()
    threshold = agreement.buffer_m(obj.kind) + obj.uncertainty_m + op.uncertainty_m
    radius = 0.0
    geom: shapely.Geometry | list[tuple[float, float]] = obj.geometry
    if isinstance(obj, ProtectedSite) and obj.standoff_m is not None:
        threshold = (
            max(agreement.buffer_m(obj.kind), obj.standoff_m) + obj.uncertainty_m + op.uncertainty_m
        )
    elif isinstance(obj, Movement | Position):
        if obj.valid_from.timestamp() > t1 or obj.valid_to.timestamp() < t0:
            return None
        if isinstance(obj, Movement):
            radius = obj.corridor_m
    elif isinstance(obj, FlightPlan):
        clipped = clipped_flight(obj, t0, t1)
        if clipped is None:
            return None
        geom = clipped
    elif isinstance(obj, Operation):
        if obj.window_start.timestamp() > t1 or obj.window_end.timestamp() < t0:
            return None
        radius = obj.radius_m
    d = area_distance(op, geom)
    return max(0.0, d - radius), threshold
