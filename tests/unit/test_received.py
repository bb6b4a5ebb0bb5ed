"""Received geometry checked by the engine (:mod:`accord.deconfliction.received`) against
the independent geodesic oracle: a line checked as a ring along it and back, a multi-point
point by point, and what each party is shown."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.deconfliction import DeconflictionIndex
from accord.deconfliction.received import MAX_POINTS, Unchecked, areas_of, merged, open_to
from accord.world import Disclosure, Operation, World
from support.jig import AGREEMENT
from support.oracle import expected
from support.worlds import T0, Box, random_world

TOLERANCE_M = 1.0
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _agree_with_oracle(
    index: DeconflictionIndex, world: World, geometry: dict[str, Any], oracle_areas: list[Operation]
) -> None:
    areas = areas_of(geometry, AGREEMENT, area_id="m-x", party="blue", at=T0)
    found = {c.with_id: c for c in merged(c for a in areas for c in index.check(a).conflicts)}
    for obj in world:
        truths = [t for a in oracle_areas if (t := expected(AGREEMENT, a, obj)) is not None]
        if not truths:
            assert obj.id not in found, f"{obj.id} is out of time but reported"
            continue
        distance = min(d for d, _ in truths)
        threshold = truths[0][1]
        if distance <= threshold - TOLERANCE_M:
            assert obj.id in found, f"missed {obj.id} at {distance:.1f} m <= {threshold}"
        elif distance > threshold + TOLERANCE_M:
            assert obj.id not in found, f"{obj.id} at {distance:.1f} m > {threshold}"
        if obj.id in found:
            assert found[obj.id].distance_m == pytest.approx(distance, abs=TOLERANCE_M)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, vertices=st.integers(min_value=2, max_value=5))
def test_a_line_is_checked_exactly_along_its_length(seed: int, vertices: int) -> None:
    world = random_world(seed, n=6)
    index = DeconflictionIndex(AGREEMENT, world)
    (op,) = world.operations[:1]
    rng = np.random.default_rng(seed)
    box = Box(rng, op.geometry.centroid.x, op.geometry.centroid.y, 15_000.0)
    line = box.line(vertices, 6000)
    geometry = {"type": "LineString", "coordinates": [list(p) for p in line]}
    # The oracle measures from the line itself (it shares no code with the engine).
    (area,) = areas_of(geometry, AGREEMENT, area_id="m-x", party="blue", at=T0)
    as_line = replace(
        op,
        id="m-x",
        geometry=shapely.LineString(line),
        radius_m=0.0,
        uncertainty_m=0.0,
        window_start=area.window_start,
        window_end=area.window_end,
    )
    _agree_with_oracle(index, world, geometry, [as_line])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds, count=st.integers(min_value=1, max_value=6))
def test_points_are_each_checked_and_the_nearest_kept(seed: int, count: int) -> None:
    world = random_world(seed, n=6)
    index = DeconflictionIndex(AGREEMENT, world)
    op = world.operations[0]
    rng = np.random.default_rng(seed + 1)
    box = Box(rng, op.geometry.centroid.x, op.geometry.centroid.y, 15_000.0)
    points = [box.random_point() for _ in range(count)]
    geometry = {"type": "MultiPoint", "coordinates": [list(p) for p in points]}
    areas = areas_of(geometry, AGREEMENT, area_id="m-x", party="blue", at=T0)
    oracle = [
        replace(
            op,
            id="m-x",
            geometry=shapely.Point(p),
            radius_m=0.0,
            uncertainty_m=0.0,
            window_start=areas[0].window_start,
            window_end=areas[0].window_end,
        )
        for p in points
    ]
    _agree_with_oracle(index, world, geometry, oracle)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=seeds)
def test_each_party_is_shown_shared_objects_and_its_own_only(seed: int) -> None:
    world = random_world(seed, n=10)
    index = DeconflictionIndex(AGREEMENT, world)
    op = world.operations[0]
    geometry = shapely.geometry.mapping(op.geometry)
    found = merged(
        c
        for a in areas_of(geometry, AGREEMENT, area_id="m-x", party="blue", at=T0)
        for c in index.check(a).conflicts
    )
    for viewer in ("blue", "red", "hnc"):
        shown = open_to(found, viewer)
        for c in found:
            hidden_other = c.disclosure is Disclosure.CENTER and c.party != viewer
            assert (c in shown) is not hidden_other


def test_what_the_engine_cannot_check_says_why() -> None:
    wide = {"type": "LineString", "coordinates": [[10.0, 20.0], [16.0, 20.0]]}
    with pytest.raises(Unchecked, match="km from its centre"):
        areas_of(wide, AGREEMENT, area_id="m-x", party="blue", at=T0)
    across = {"type": "LineString", "coordinates": [[179.9, 0.0], [-179.9, 0.0]]}
    with pytest.raises(Unchecked, match="antimeridian"):
        areas_of(across, AGREEMENT, area_id="m-x", party="blue", at=T0)
    many = [[20.0 + i * 1e-4, 20.0] for i in range(MAX_POINTS + 1)]
    with pytest.raises(Unchecked, match=f"at most {MAX_POINTS} points"):
        areas_of(
            {"type": "MultiPoint", "coordinates": many}, AGREEMENT, area_id="m", party="b", at=T0
        )
    assert (
        len(
            areas_of(
                {"type": "MultiPoint", "coordinates": many[:-1]},
                AGREEMENT,
                area_id="m",
                party="b",
                at=T0,
            )
        )
        == MAX_POINTS
    )
    vertices = AGREEMENT.limits.operation_vertices
    line = [[20.0 + i * 1e-4, 20.0 + (i % 2) * 1e-4] for i in range(vertices + 1)]
    with pytest.raises(Unchecked, match=r"limits\.operation_vertices"):
        areas_of(
            {"type": "LineString", "coordinates": line}, AGREEMENT, area_id="m", party="b", at=T0
        )
    point_line = {"type": "LineString", "coordinates": [[20.0, 20.0], [20.0, 20.0]]}
    (area,) = areas_of(point_line, AGREEMENT, area_id="m-x", party="blue", at=T0)
    assert area.geometry.geom_type == "Point"
