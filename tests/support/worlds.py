"""Random synthetic worlds for property tests and benchmarks (seeded numpy generators)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import shapely

from accord.geo import GEOD
from accord.world import (
    Disclosure,
    FlightPlan,
    Movement,
    Operation,
    Position,
    ProtectedSite,
    World,
)

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class Box:
    """Places points by (east, north) metre offsets from a centre, on the ellipsoid."""

    def __init__(self, rng: np.random.Generator, lon0: float, lat0: float, half_m: float) -> None:
        self.rng = rng
        self.lon0, self.lat0, self.half = lon0, lat0, half_m

    def at(self, east: float, north: float) -> tuple[float, float]:
        dist = float(np.hypot(east, north))
        az = float(np.degrees(np.arctan2(east, north)))
        lon, lat, _ = GEOD.fwd(self.lon0, self.lat0, az, dist)
        return float(lon), float(lat)

    def random_point(self) -> tuple[float, float]:
        e, n = self.rng.uniform(-self.half, self.half, 2)
        return self.at(float(e), float(n))

    def polygon_around(self, size_m: float) -> shapely.Polygon:
        e, n = self.rng.uniform(-self.half, self.half, 2)
        k = int(self.rng.integers(3, 7))
        angles = np.sort(self.rng.uniform(0, 2 * np.pi, k))
        radii = self.rng.uniform(0.3, 1.0, k) * size_m
        ring = [
            self.at(float(e + r * np.sin(a)), float(n + r * np.cos(a)))
            for a, r in zip(angles, radii, strict=True)
        ]
        poly = shapely.Polygon(ring)
        if not poly.is_valid or poly.area == 0:
            poly = shapely.convex_hull(shapely.MultiPoint(ring))
        return poly

    def line(self, k: int, step_m: float) -> list[tuple[float, float]]:
        e, n = self.rng.uniform(-self.half, self.half, 2)
        pts = [self.at(float(e), float(n))]
        heading = self.rng.uniform(0, 2 * np.pi)
        for _ in range(k - 1):
            heading += self.rng.uniform(-1.0, 1.0)
            e += step_m * np.sin(heading) * self.rng.uniform(0.3, 1.0)
            n += step_m * np.cos(heading) * self.rng.uniform(0.3, 1.0)
            pts.append(self.at(float(e), float(n)))
        return pts


def _window(rng: np.random.Generator) -> tuple[datetime, datetime]:
    start = T0 + timedelta(minutes=float(rng.uniform(-600, 600)))
    return start, start + timedelta(minutes=float(rng.uniform(5, 600)))


def random_world(seed: int, *, n: int = 12, half_m: float = 15_000.0) -> World:
    """A small world of every kind in a square of ``2*half_m`` somewhere on Earth."""
    rng = np.random.default_rng(seed)
    lat0 = float(rng.uniform(-70, 70))
    lon0 = float(rng.uniform(-170, 170))
    box = Box(rng, lon0, lat0, half_m)
    parties = ["blue", "red"]
    sites, movements, positions, flights, ops = [], [], [], [], []
    for i in range(n):
        disclosure = Disclosure.CENTER if rng.random() < 0.3 else Disclosure.SHARED
        unc = float(rng.choice([0.0, rng.uniform(0, 800)]))
        party = parties[int(rng.integers(0, 2))]
        geom = (
            shapely.Point(box.random_point())
            if rng.random() < 0.8
            else box.polygon_around(rng.uniform(300, 3000))
        )
        sites.append(
            ProtectedSite(
                id=f"site-{i}",
                declared_by="hnc",
                geometry=geom,
                uncertainty_m=unc,
                category="hospital",
                standoff_m=float(rng.uniform(0, 3000)) if rng.random() < 0.3 else None,
                confirmed_at=T0 - timedelta(days=float(rng.uniform(0, 14))),
            )
        )
        vf, vt = _window(rng)
        movements.append(
            Movement(
                id=f"mov-{i}",
                declared_by="hnc",
                geometry=shapely.LineString(box.line(int(rng.integers(2, 5)), 6000)),
                uncertainty_m=unc,
                valid_from=vf,
                valid_to=vt,
                corridor_m=float(rng.uniform(0, 600)),
            )
        )
        vf, vt = _window(rng)
        pgeom = (
            shapely.Point(box.random_point())
            if rng.random() < 0.6
            else box.polygon_around(rng.uniform(500, 6000))
        )
        positions.append(
            Position(
                id=f"pos-{i}",
                declared_by=party,
                party=party,
                disclosure=disclosure,
                geometry=pgeom,
                uncertainty_m=unc,
                valid_from=vf,
                valid_to=vt,
            )
        )
        k = int(rng.integers(2, 5))
        path = box.line(k, 9000)
        start = T0 + timedelta(minutes=float(rng.uniform(-400, 400)))
        times = [start + timedelta(minutes=float(m)) for m in np.cumsum(rng.uniform(2, 40, k)) - 0]
        flights.append(
            FlightPlan(
                id=f"fp-{i}",
                declared_by=party,
                geometry=shapely.LineString([(x, y, 3000.0) for x, y in path]),
                times=tuple(times),
                operator=party,
                party=party,
                mission="transport",
            )
        )
    for i in range(max(2, n // 3)):
        ws, we = _window(rng)
        party = parties[int(rng.integers(0, 2))]
        if rng.random() < 0.6:
            geom, radius = shapely.Point(box.random_point()), float(rng.uniform(100, 5000))
        else:
            geom, radius = box.polygon_around(rng.uniform(500, 8000)), 0.0
        ops.append(
            Operation(
                id=f"op-{i}",
                declared_by=party,
                geometry=geom,
                radius_m=radius,
                uncertainty_m=float(rng.choice([0.0, rng.uniform(0, 300)])),
                category="coordinated",
                proposed_by=party,
                executors=(party,),
                window_start=ws,
                window_end=we,
            )
        )
    return World(tuple(sites), tuple(movements), tuple(positions), tuple(flights), tuple(ops))
