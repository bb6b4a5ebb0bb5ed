"""The deconfliction engine against brute force and an independent geodesic oracle."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.agreement import ObjectKind
from accord.deconfliction import DeconflictionIndex
from accord.world import Disclosure, FlightPlan, Movement, Operation, Position, ProtectedSite, World
from support.jig import AGREEMENT
from support.oracle import G, expected
from support.worlds import T0, Box, random_world

TOLERANCE_M = 1.0

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds)
def test_index_equals_brute_force_scan(seed: int) -> None:
    world = random_world(seed, n=25)
    index = DeconflictionIndex(AGREEMENT, world)
    no_grid = DeconflictionIndex(AGREEMENT, world, grid=False)
    for op in world.operations:
        fast = index.check(op).conflicts
        slow = index.check(op, use_index=False).conflicts
        assert [(c.with_id, c.kind, c.blocking) for c in fast] == [
            (c.with_id, c.kind, c.blocking) for c in slow
        ]
        # An index built without its grid scans, and answers the same.
        assert [(c.with_id, c.kind, c.blocking) for c in no_grid.check(op).conflicts] == [
            (c.with_id, c.kind, c.blocking) for c in slow
        ]
        # The same arithmetic on differently sized arrays may differ in the last bit.
        for a, b in zip(fast, slow, strict=True):
            assert a.distance_m == pytest.approx(b.distance_m, abs=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds)
def test_conflicts_match_independent_geodesic_oracle(seed: int) -> None:
    world = random_world(seed, n=6)
    index = DeconflictionIndex(AGREEMENT, world)
    for op in world.operations:
        found = {c.with_id: c for c in index.check(op).conflicts}
        for obj in world:
            if obj.id == op.id:
                continue
            truth = expected(AGREEMENT, op, obj)
            if truth is None:
                assert obj.id not in found, f"{op.id}: {obj.id} is out of time but reported"
                continue
            distance, threshold = truth
            if distance <= threshold - TOLERANCE_M:
                assert obj.id in found, (
                    f"{op.id}: missed {obj.id} at {distance:.1f} m <= {threshold}"
                )
            elif distance > threshold + TOLERANCE_M:
                assert obj.id not in found, f"{op.id}: {obj.id} at {distance:.1f} m > {threshold}"
            if obj.id in found:
                got = found[obj.id]
                assert abs(got.distance_m - distance) <= TOLERANCE_M, (op.id, obj.id, got, distance)
                assert got.threshold_m == pytest.approx(threshold)
                assert got.kind is obj.kind
                assert got.blocking is AGREEMENT.blocks(obj.kind)


def _op(geom, radius=1000.0, hours=(0.0, 2.0), oid="op-x", uncertainty=0.0):
    return Operation(
        id=oid,
        declared_by="blue",
        geometry=geom,
        radius_m=radius,
        uncertainty_m=uncertainty,
        category="coordinated",
        proposed_by="blue",
        executors=("blue",),
        window_start=T0 + timedelta(hours=hours[0]),
        window_end=T0 + timedelta(hours=hours[1]),
    )


def _offset(lon, lat, az, dist):
    x, y, _ = G.fwd(lon, lat, az, dist)
    return float(x), float(y)


@pytest.mark.parametrize("lat", [0.0, 35.0, 60.0, -45.0, 80.0])
@pytest.mark.parametrize("dist", [10.0, 1_000.0, 50_000.0, 499_000.0])
def test_point_distance_is_geodesic(lat: float, dist: float) -> None:
    lon = 20.0
    target = _offset(lon, lat, 63.0, dist)
    site = ProtectedSite(
        id="s",
        declared_by="hnc",
        geometry=shapely.Point(target),
        category="school",
        standoff_m=600_000.0,
        confirmed_at=T0,
    )
    index = DeconflictionIndex(AGREEMENT, World(protected_sites=(site,)))
    (conflict,) = index.check(_op(shapely.Point(lon, lat), radius=5.0)).conflicts
    # Millimetres near the operation; the bound (1 m) out to 500 km.
    assert conflict.distance_m == pytest.approx(dist - 5.0, abs=1e-3 if dist <= 100_000 else 0.5)


def test_line_far_away_is_within_a_metre_of_the_oracle() -> None:
    lon, lat = 30.0, 40.0
    a = _offset(lon, lat, 0.0, 300_000.0)
    b = _offset(lon, lat, 90.0, 300_000.0)
    route = Movement(
        id="m",
        declared_by="hnc",
        geometry=shapely.LineString([a, b]),
        valid_from=T0,
        valid_to=T0 + timedelta(days=1),
    )
    agreement = AGREEMENT.model_copy(
        update={
            "deconfliction": AGREEMENT.deconfliction.model_copy(
                update={
                    "buffers_m": {
                        **AGREEMENT.deconfliction.buffers_m,
                        ObjectKind.MOVEMENT: 400_000.0,
                    }
                }
            )
        }
    )
    index = DeconflictionIndex(agreement, World(movements=(route,)))
    op = _op(shapely.Point(lon, lat), radius=10.0)
    (conflict,) = index.check(op).conflicts
    truth, _ = expected(agreement, op, route)
    assert conflict.distance_m == pytest.approx(truth, abs=TOLERANCE_M)


def test_touching_areas_have_zero_distance_and_containment_counts() -> None:
    box = Box(__import__("numpy").random.default_rng(1), 10.0, 10.0, 1000.0)
    big = shapely.Polygon(
        [
            box.at(-20_000, -20_000),
            box.at(20_000, -20_000),
            box.at(20_000, 20_000),
            box.at(-20_000, 20_000),
        ]
    )
    pos = Position(
        id="p",
        declared_by="red",
        party="red",
        geometry=big,
        disclosure=Disclosure.CENTER,
        valid_from=T0,
        valid_to=T0 + timedelta(days=1),
    )
    index = DeconflictionIndex(AGREEMENT, World(positions=(pos,)))
    # An operation deep inside a large position polygon, far from its boundary.
    (conflict,) = index.check(_op(shapely.Point(box.at(0, 0)), radius=100.0)).conflicts
    assert conflict.distance_m == 0.0
    assert conflict.with_id == "p" and conflict.party == "red" and conflict.blocking


def test_times_must_overlap() -> None:
    lon, lat = 5.0, 5.0
    pos = Position(
        id="p",
        declared_by="red",
        party="red",
        geometry=shapely.Point(lon, lat),
        valid_from=T0 + timedelta(hours=3),
        valid_to=T0 + timedelta(hours=5),
    )
    index = DeconflictionIndex(AGREEMENT, World(positions=(pos,)))
    assert index.check(_op(shapely.Point(lon, lat), hours=(0, 2))).conflicts == ()
    assert len(index.check(_op(shapely.Point(lon, lat), hours=(2, 3))).conflicts) == 1


def test_flight_plan_only_counts_while_airborne_in_the_window() -> None:
    lon, lat = 5.0, 5.0
    west, east = _offset(lon, lat, 270.0, 60_000.0), _offset(lon, lat, 90.0, 60_000.0)
    plan = FlightPlan(
        id="f",
        declared_by="red",
        geometry=shapely.LineString([(*west, 3000), (*east, 3000)]),
        times=(T0, T0 + timedelta(hours=1)),
        operator="red",
        party="red",
        mission="transport",
    )
    index = DeconflictionIndex(AGREEMENT, World(flight_plans=(plan,)))
    # Over the operation at T0+30 min; a window in the first 10 minutes sees it 40+ km away.
    assert index.check(_op(shapely.Point(lon, lat), hours=(0.0, 1 / 6))).conflicts == ()
    (hit,) = index.check(_op(shapely.Point(lon, lat), hours=(0.4, 0.6))).conflicts
    assert hit.distance_m == 0.0


def test_stale_site_is_reported_and_still_protected() -> None:
    lon, lat = 5.0, 5.0
    site = ProtectedSite(
        id="s",
        declared_by="hnc",
        geometry=shapely.Point(lon, lat),
        category="school",
        confirmed_at=T0 - timedelta(days=30),
    )
    index = DeconflictionIndex(AGREEMENT, World(protected_sites=(site,)))
    (conflict,) = index.check(_op(shapely.Point(lon, lat))).conflicts
    assert conflict.stale and conflict.blocking
    fresh = replace(site, confirmed_at=T0 - timedelta(days=1))
    (conflict,) = (
        DeconflictionIndex(AGREEMENT, World(protected_sites=(fresh,)))
        .check(_op(shapely.Point(lon, lat)))
        .conflicts
    )
    assert not conflict.stale


def test_uncertainty_widens_the_buffer() -> None:
    lon, lat = 5.0, 5.0
    target = _offset(lon, lat, 10.0, 1000.0 + 1500.0 + 200.0)  # op radius + site buffer + 200 m
    site = ProtectedSite(
        id="s",
        declared_by="hnc",
        geometry=shapely.Point(target),
        category="school",
        confirmed_at=T0,
    )
    index = DeconflictionIndex(AGREEMENT, World(protected_sites=(site,)))
    assert index.check(_op(shapely.Point(lon, lat))).conflicts == ()
    wide = DeconflictionIndex(
        AGREEMENT, World(protected_sites=(replace(site, uncertainty_m=250.0),))
    )
    (conflict,) = wide.check(_op(shapely.Point(lon, lat))).conflicts
    assert conflict.threshold_m == pytest.approx(1750.0)
    (conflict,) = index.check(_op(shapely.Point(lon, lat), uncertainty=250.0)).conflicts
    assert conflict.threshold_m == pytest.approx(1750.0)


def test_operations_overlapping_in_space_and_time_warn_and_skip_themselves() -> None:
    lon, lat = 5.0, 5.0
    near = _offset(lon, lat, 0.0, 2500.0)
    a = _op(shapely.Point(lon, lat), oid="a")
    b = _op(shapely.Point(near), oid="b")
    index = DeconflictionIndex(AGREEMENT, World(operations=(a, b)))
    (conflict,) = index.check(a).conflicts
    assert conflict.with_id == "b" and conflict.kind is ObjectKind.OPERATION
    assert conflict.distance_m == pytest.approx(500.0, abs=1e-3)
    assert conflict.blocking is False  # the example agreement makes operations warn


def test_center_object_redacted_for_other_parties() -> None:
    lon, lat = 5.0, 5.0
    pos = Position(
        id="secret",
        declared_by="red",
        party="red",
        geometry=shapely.Point(lon, lat),
        disclosure=Disclosure.CENTER,
        valid_from=T0,
        valid_to=T0 + timedelta(days=1),
    )
    index = DeconflictionIndex(AGREEMENT, World(positions=(pos,)))
    (conflict,) = index.check(_op(shapely.Point(lon, lat))).conflicts
    blue_view = conflict.visible_to("blue")
    assert blue_view.with_id is None and blue_view.party == "red" and blue_view.blocking
    assert "secret" not in repr(blue_view.as_dict())
    assert conflict.visible_to("red").with_id == "secret"
    assert conflict.visible_to(None).with_id == "secret"
