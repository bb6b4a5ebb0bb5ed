"""A synthetic theatre for the deconfliction benchmark (seeded; invented places only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import shapely

from accord.geo import GEOD
from accord.world import Disclosure, FlightPlan, Operation, Position, ProtectedSite, World

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SPAN_S = 7 * 86400.0
# A 1,000 x 1,000 km square: 9 degrees of latitude, about 11 of longitude at 30 degrees north.
LON0, LON1, LAT0, LAT1 = 20.0, 30.4, 25.5, 34.5


def theatre_box(share: float = 0.2) -> str:
    """A ``bbox`` (``west,south,east,north``) in the middle of the bench theatre, ``share``
    of its width and of its height: the part of it one officer's map shows."""
    lon, lat = (LON0 + LON1) / 2, (LAT0 + LAT1) / 2
    half_w, half_h = (LON1 - LON0) * share / 2, (LAT1 - LAT0) * share / 2
    return f"{lon - half_w:.4f},{lat - half_h:.4f},{lon + half_w:.4f},{lat + half_h:.4f}"


def _instants(seconds: np.ndarray) -> list[datetime]:
    return [T0 + timedelta(seconds=float(s)) for s in seconds]


def _polygons(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, size_m: np.ndarray):
    """Random convex-ish polygons (4-6 corners) around each centre."""
    out = []
    for x, y, s in zip(lon, lat, size_m, strict=True):
        k = int(rng.integers(4, 7))
        az = np.sort(rng.uniform(0, 360, k))
        d = s * rng.uniform(0.5, 1.0, k)
        px, py, _ = GEOD.fwd(np.full(k, x), np.full(k, y), az, d)
        ring = list(zip(px.tolist(), py.tolist(), strict=True))
        poly = shapely.Polygon(ring)
        out.append(poly if poly.is_valid else shapely.convex_hull(poly))
    return out


def make_world(
    *,
    sites: int = 1_000_000,
    positions: int = 100_000,
    flights: int = 10_000,
    operations: int = 10_000,
    seed: int = 7,
) -> World:
    rng = np.random.default_rng(seed)

    def points(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(LON0, LON1, n), rng.uniform(LAT0, LAT1, n)

    slon, slat = points(sites)
    site_geoms = shapely.points(slon, slat)
    standoff = np.where(rng.random(sites) < 0.2, rng.uniform(1000, 3000, sites), np.nan)
    unc = np.where(rng.random(sites) < 0.3, rng.uniform(0, 300, sites), 0.0)
    confirmed = _instants(rng.uniform(-10 * 86400, 0, sites))
    categories = ("hospital", "school", "aid_warehouse", "water", "shelter")
    cat_idx = rng.integers(0, len(categories), sites)
    site_objs = tuple(
        ProtectedSite(
            id=f"s{i}",
            declared_by="hnc",
            geometry=site_geoms[i],
            uncertainty_m=float(unc[i]),
            category=categories[cat_idx[i]],
            standoff_m=None if np.isnan(standoff[i]) else float(standoff[i]),
            confirmed_at=confirmed[i],
        )
        for i in range(sites)
    )

    plon, plat = points(positions)
    is_poly = rng.random(positions) < 0.1
    pos_geoms = list(shapely.points(plon, plat))
    poly_idx = np.flatnonzero(is_poly)
    for i, poly in zip(
        poly_idx,
        _polygons(rng, plon[poly_idx], plat[poly_idx], rng.uniform(500, 3000, poly_idx.size)),
        strict=True,
    ):
        pos_geoms[i] = poly
    pstart = rng.uniform(0, SPAN_S, positions)
    pend = pstart + rng.uniform(3600, 3 * 86400, positions)
    parties = ("blue", "red")
    pos_objs = tuple(
        Position(
            id=f"p{i}",
            declared_by=parties[i % 2],
            party=parties[i % 2],
            disclosure=Disclosure.CENTER if i % 3 == 0 else Disclosure.SHARED,
            geometry=pos_geoms[i],
            uncertainty_m=float(rng.uniform(0, 500)),
            valid_from=T0 + timedelta(seconds=float(pstart[i])),
            valid_to=T0 + timedelta(seconds=float(pend[i])),
        )
        for i in range(positions)
    )

    flight_objs = []
    for i in range(flights):
        k = int(rng.integers(5, 11))
        lon, lat = float(rng.uniform(LON0, LON1)), float(rng.uniform(LAT0, LAT1))
        heading = float(rng.uniform(0, 360))
        coords = [(lon, lat)]
        for _ in range(k - 1):
            heading += float(rng.uniform(-60, 60))
            lon, lat, _ = GEOD.fwd(lon, lat, heading, float(rng.uniform(30_000, 80_000)))
            coords.append((float(lon), float(lat)))
        speed = float(rng.uniform(100, 250))
        _, _, legs = GEOD.inv(
            [c[0] for c in coords[:-1]],
            [c[1] for c in coords[:-1]],
            [c[0] for c in coords[1:]],
            [c[1] for c in coords[1:]],
        )
        t = float(rng.uniform(0, SPAN_S)) + np.concatenate([[0.0], np.cumsum(legs) / speed])
        alt = float(rng.uniform(3000, 12000))
        flight_objs.append(
            FlightPlan(
                id=f"f{i}",
                declared_by=parties[i % 2],
                geometry=shapely.LineString([(x, y, alt) for x, y in coords]),
                times=tuple(_instants(t)),
                operator=parties[i % 2],
                party=parties[i % 2],
                mission="transport",
            )
        )

    olon, olat = points(operations)
    op_poly = rng.random(operations) < 0.2
    op_geoms: list[shapely.Geometry] = list(shapely.points(olon, olat))
    oidx = np.flatnonzero(op_poly)
    for i, poly in zip(
        oidx,
        _polygons(rng, olon[oidx], olat[oidx], rng.uniform(1000, 5000, oidx.size)),
        strict=True,
    ):
        op_geoms[i] = poly
    ostart = rng.uniform(0, SPAN_S, operations)
    oend = ostart + rng.uniform(1800, 6 * 3600, operations)
    op_objs = tuple(
        Operation(
            id=f"o{i}",
            declared_by=parties[i % 2],
            geometry=op_geoms[i],
            radius_m=0.0 if op_poly[i] else float(rng.uniform(200, 3000)),
            uncertainty_m=float(rng.uniform(0, 200)),
            category="coordinated",
            proposed_by=parties[i % 2],
            executors=(parties[i % 2],),
            window_start=T0 + timedelta(seconds=float(ostart[i])),
            window_end=T0 + timedelta(seconds=float(oend[i])),
        )
        for i in range(operations)
    )
    return World(site_objs, (), pos_objs, tuple(flight_objs), op_objs)
