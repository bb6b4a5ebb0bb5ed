"""The agreement's limits, held where the world is read: a geometry too heavy for the engine,
an uncertainty, corridor, standoff or radius beyond the agreement's maxima, an area too wide
— each refused naming the feature and the field, and a huge polygon told what is wrong with
it (not that it "crosses the antimeridian")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.agreement import load_agreement_text
from accord.deconfliction import DeconflictionIndex
from accord.deconfliction.engine import SEGMENT_M
from accord.errors import AgreementError, WorldError
from accord.examples import example_path
from accord.world import Movement, densified_vertices, parse_world
from support.features import DROP, collection, feature, refused, spikiest_star, star, where


def test_the_attack_star_of_30000_vertices_is_refused_naming_the_field(agreement):
    error = refused(
        agreement, feature("operation", "op-star", star(30_000), gtype="Polygon", radius_m=DROP)
    )
    assert where(error) == [("op-star", "geometry.coordinates")]
    message = error.issues[0].message
    assert "too many vertices" in message and "30000" in message
    assert "limits.operation_vertices" in message
    assert "antimeridian" not in message


def test_a_declaration_over_the_vertex_limit_is_refused(agreement):
    line = [[21.0 + i * 1e-5, 25.0] for i in range(agreement.limits.vertices_per_geometry + 1)]
    error = refused(agreement, feature("movement", "m-long", line))
    assert where(error) == [("m-long", "geometry.coordinates")]
    assert "limits.vertices_per_geometry" in error.issues[0].message


def test_few_positions_but_a_huge_perimeter_count_as_what_they_cost(agreement):
    # 499 positions (within operation_vertices) but spikes 240 km long: over 50,000 km of
    # boundary, which the engine would hold as one vertex every 2 km.
    ring = star(499, outer=2.1, inner=0.001)
    assert len(ring[0]) <= agreement.limits.operation_vertices
    error = refused(
        agreement, feature("operation", "op-spiky", ring, gtype="Polygon", radius_m=DROP)
    )
    assert where(error) == [("op-spiky", "geometry.coordinates")]
    assert "limits.operation_densified_vertices" in error.issues[0].message


def test_an_operation_area_is_held_tighter_than_a_route(agreement):
    """A boundary over ``operation_densified_vertices`` once densified but within
    ``densified_vertices_per_geometry``: refused as an operation's area, read as a route."""
    limits = agreement.limits
    ring = star(121, outer=0.5, inner=0.01)
    dense = densified_vertices(ring)
    assert limits.operation_densified_vertices < dense <= limits.densified_vertices_per_geometry
    error = refused(
        agreement, feature("operation", "op-spiky", ring, gtype="Polygon", radius_m=DROP)
    )
    assert where(error) == [("op-spiky", "geometry.coordinates")]
    assert "limits.operation_densified_vertices" in error.issues[0].message
    route = parse_world(collection(feature("movement", "m-spiky", ring[0])), agreement)
    assert len(route) == 1


def test_a_polygon_at_the_limits_is_accepted(agreement):
    """The worst operation the limits allow: as many positions as allowed, a perimeter just
    under the densified limit. It reads."""
    limits = agreement.limits
    ring = spikiest_star(limits.operation_vertices, limits.operation_densified_vertices)
    assert densified_vertices(ring) > limits.operation_densified_vertices * 0.9
    world = parse_world(
        collection(feature("operation", "op-worst", ring, gtype="Polygon", radius_m=DROP)),
        agreement,
    )
    assert len(world) == 1


@pytest.mark.parametrize(
    ("kind", "name", "value", "limit"),
    [
        ("position", "uncertainty_m", 1e300, "uncertainty_m"),
        ("position", "uncertainty_m", 50_001, "uncertainty_m"),
        ("operation", "uncertainty_m", 1e300, "uncertainty_m"),
        ("movement", "corridor_m", 1e9, "corridor_m"),
        ("protected_site", "standoff_m", 1e12, "standoff_m"),
        ("operation", "radius_m", 250_001, "operation_extent_m"),
    ],
)
def test_numbers_beyond_the_agreement_maxima_are_refused(agreement, kind, name, value, limit):
    error = refused(agreement, feature(kind, "f1", **{name: value}))
    assert where(error) == [("f1", f"properties.{name}")]
    assert f"limits.{limit}" in error.issues[0].message


@pytest.mark.parametrize("name", ["uncertainty_m", "corridor_m"])
def test_numbers_at_the_maxima_are_accepted(agreement, name):
    value = getattr(agreement.limits, name)
    world = parse_world(collection(feature("movement", "m1", **{name: value})), agreement)
    obj = world["m1"]
    assert getattr(obj, name) == value


def test_an_operation_area_too_wide_is_told_so(agreement):
    box = [[[20.0, 25.0], [26.0, 25.0], [26.0, 27.0], [20.0, 27.0], [20.0, 25.0]]]
    error = refused(agreement, feature("operation", "op-wide", box, gtype="Polygon", radius_m=DROP))
    assert where(error) == [("op-wide", "geometry.coordinates")]
    assert "too wide" in error.issues[0].message
    assert "limits.operation_extent_m" in error.issues[0].message


@pytest.mark.parametrize("kind", ["position", "operation"])
def test_a_huge_polygon_is_too_wide_not_across_the_antimeridian(agreement, kind):
    huge = [[[-100.0, -10.0], [100.0, -10.0], [100.0, 10.0], [-100.0, 10.0], [-100.0, -10.0]]]
    error = refused(agreement, feature(kind, "p-huge", huge, gtype="Polygon", radius_m=DROP))
    messages = [i.message for i in error.issues]
    assert "antimeridian" not in " ".join(messages)
    assert any("too wide" in m and "200.0°" in m for m in messages)


def test_a_line_really_across_the_antimeridian_still_says_so(agreement):
    error = refused(agreement, feature("movement", "m1", [[179.5, 10.0], [-179.5, 10.0]]))
    assert "antimeridian" in error.issues[0].message


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-0.8, 0.8), st.floats(-0.8, 0.8)), min_size=2, max_size=12).filter(
        lambda pts: len(set(pts)) == len(pts)
    )
)
def test_the_vertex_count_is_the_engines_on_random_lines(agreement, offsets):
    """What the limit counts is exactly what the engine holds (brute force: build it)."""
    coords = [(21.0 + dx, 25.0 + dy) for dx, dy in offsets]
    line = shapely.LineString(coords)
    from datetime import UTC, datetime

    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    route = Movement(id="m", declared_by="hnc", geometry=line, valid_from=epoch, valid_to=epoch)
    index = DeconflictionIndex(agreement, [route], grid=False)
    assert densified_vertices([coords]) == index._v_obj.size
    assert SEGMENT_M == 2000.0


def test_stored_features_are_read_whatever_the_limits_say_now(agreement):
    """A tightened limit must not make the world in force unreadable."""
    data = collection(feature("position", "p1", uncertainty_m=60_000))
    with pytest.raises(WorldError):
        parse_world(data, agreement)
    (obj,) = parse_world(data, agreement, limits=False)
    assert obj.uncertainty_m == 60_000


_BASE = """
id: demo
title: Demo
starts_at: 2026-05-01T00:00:00Z
parties: [{id: blue, name: Blue}, {id: red, name: Red}]
categories:
  coordinated: {rule: coordinated}
phases:
  - {id: joint, categories: [coordinated]}
"""


def test_the_agreement_sets_its_limits():
    agreement = load_agreement_text(
        _BASE + "limits: {uncertainty_m: 5000, operation_vertices: 50}\n"
    )
    assert agreement.limits.uncertainty_m == 5000
    assert agreement.limits.operation_vertices == 50
    error = refused(agreement, feature("position", "p1", uncertainty_m=5001))
    assert "limits.uncertainty_m" in error.issues[0].message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("limits: {uncertainty_m: -1}", "limits.uncertainty_m"),
        ("limits: {operation_extent_m: 1000000}", "limits.operation_extent_m"),
        ("limits: {vertices_per_geometry: 2.5}", "limits.vertices_per_geometry"),
        ("limits: {per_request: 3}", "limits.per_request"),
    ],
)
def test_bad_limits_are_named(text, field):
    with pytest.raises(AgreementError) as info:
        load_agreement_text(_BASE + text + "\n")
    assert field in [i.field for i in info.value.issues]


def test_the_examples_stay_within_the_defaults(agreement):
    world = parse_world(_example(), agreement)
    limits = agreement.limits
    assert max(o.uncertainty_m for o in world) <= limits.uncertainty_m
    assert np.isfinite([o.uncertainty_m for o in world]).all()


def _example() -> Any:
    import json

    return json.loads(example_path("world.geojson").read_text())
