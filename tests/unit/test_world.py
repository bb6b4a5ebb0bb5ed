"""The declared world: the example loads, and every kind of bad feature is refused with a
:class:`WorldError` naming the feature id and the field; nothing is half-loaded."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from accord.agreement import ObjectKind
from accord.errors import WorldError
from accord.examples import example_path
from accord.world import (
    MAX_ISSUES,
    Disclosure,
    FlightPlan,
    Operation,
    Position,
    ProtectedSite,
    World,
    load_world,
    parse_world,
)
from support.features import DROP, collection, feature, refused, where

SQUARE = [[[21.0, 25.0], [21.01, 25.0], [21.01, 25.01], [21.0, 25.01], [21.0, 25.0]]]


# --- the example and good features ----------------------------------------------------------


def test_example_world_loads(agreement):
    world = load_world(example_path("world.geojson"), agreement)
    assert isinstance(world, World)
    assert len(world.protected_sites) == 4
    assert len(world.movements) == 1
    assert len(world.positions) == 3
    assert len(world.flight_plans) == 3
    assert len(world.operations) == 4
    assert len(world) == 15
    assert len(list(world)) == 15
    assert {op.id for op in world.operations} == {"op-c1", "op-c2", "op-s1", "op-i1"}


def test_example_world_objects(agreement):
    world = load_world(example_path("world.geojson"), agreement)
    hidden = world["pos-red-bn-3"]
    assert isinstance(hidden, Position)
    assert hidden.kind is ObjectKind.POSITION
    assert hidden.disclosure is Disclosure.CENTER
    assert hidden.owner == "red"
    assert hidden.uncertainty_m == 300.0
    assert hidden.geometry.geom_type == "Polygon"
    assert hidden.valid_from == datetime(2026, 9, 19, tzinfo=UTC)
    hospital = world["site-hospital-east"]
    assert isinstance(hospital, ProtectedSite)
    assert hospital.standoff_m == 2000.0
    assert hospital.owner == "hnc"
    plan = world["fp-green-17"]
    assert isinstance(plan, FlightPlan)
    assert plan.owner == "green-af"
    assert plan.party is None
    assert len(plan.times) == len(plan.coords) == 3
    assert plan.coords[0] == (21.0, 25.25, 6000.0)
    op = world["op-c2"]
    assert isinstance(op, Operation)
    assert op.radius_m == 600.0
    assert op.executors == ("blue",)
    assert op.window_end > op.window_start
    assert world.get("nope") is None
    with pytest.raises(KeyError):
        world["nope"]


def test_every_kind_of_good_feature_loads(agreement):
    world = parse_world(
        collection(
            feature("protected_site", "s"),
            feature("movement", "m"),
            feature("position", "p", SQUARE, gtype="Polygon"),
            feature("flight_plan", "f"),
            feature("operation", "o"),
            feature(
                "operation",
                "o-poly",
                SQUARE,
                gtype="Polygon",
                radius_m=DROP,
                executor=["blue", "red"],
            ),
        ),
        agreement,
    )
    assert len(world) == 6
    assert world["o-poly"].executors == ("blue", "red")
    assert world["o"].radius_m == 300.0


def test_times_with_offsets_are_stored_in_utc(agreement):
    world = parse_world(
        collection(
            feature(
                "position",
                "p",
                valid_from="2026-09-20T07:00:00+02:00",
                valid_to="2026-09-20T10:00:00-03:00",
            )
        ),
        agreement,
    )
    position = world["p"]
    assert position.valid_from == datetime(2026, 9, 20, 5, 0, tzinfo=UTC)
    assert position.valid_to == datetime(2026, 9, 20, 13, 0, tzinfo=UTC)
    assert position.valid_from.utcoffset().total_seconds() == 0


def test_empty_collection_is_an_empty_world(agreement):
    world = parse_world(collection(), agreement)
    assert len(world) == 0


# --- one bad feature: which feature, which field --------------------------------------------

BAD_FEATURES = [
    pytest.param(
        feature("position", "p1", [21.0, 90.5]),
        "p1",
        "geometry.coordinates",
        "latitude 90.5",
        id="latitude-over-90",
    ),
    pytest.param(
        feature("position", "p1", [21.0, -91.0]),
        "p1",
        "geometry.coordinates",
        "latitude -91",
        id="latitude-under-minus-90",
    ),
    pytest.param(
        feature("position", "p1", [180.5, 25.0]),
        "p1",
        "geometry.coordinates",
        "longitude 180.5",
        id="longitude-over-180",
    ),
    pytest.param(
        feature("movement", "m1", [[21.0, 25.0], [-181.0, 25.0]]),
        "m1",
        "geometry.coordinates[1]",
        "longitude -181",
        id="longitude-in-a-line",
    ),
    pytest.param(
        feature("position", "p1", [math.nan, 25.0]),
        "p1",
        "geometry.coordinates",
        "finite",
        id="nan-coordinate",
    ),
    pytest.param(
        feature("position", "p1", [21.0, math.inf]),
        "p1",
        "geometry.coordinates",
        "finite",
        id="infinite-coordinate",
    ),
    pytest.param(
        feature("flight_plan", "f1", [[21.0, 25.0, math.nan], [21.1, 25.1, 5000.0]]),
        "f1",
        "geometry.coordinates[0]",
        "finite",
        id="nan-altitude",
    ),
    pytest.param(
        feature("position", "p1", [True, 25.0]),
        "p1",
        "geometry.coordinates",
        "finite",
        id="boolean-coordinate",
    ),
    pytest.param(
        feature(
            "position",
            "p1",
            [[[21.0, 25.0], [21.1, 25.1], [21.1, 25.0], [21.0, 25.1], [21.0, 25.0]]],
            gtype="Polygon",
        ),
        "p1",
        "geometry.coordinates",
        "Self-intersection",
        id="bow-tie-polygon",
    ),
    pytest.param(
        feature(
            "protected_site",
            "s1",
            [SQUARE[0], [[22.0, 26.0], [22.001, 26.0], [22.001, 26.001], [22.0, 26.0]]],
            gtype="Polygon",
        ),
        "s1",
        "geometry.coordinates",
        "Hole lies outside shell",
        id="hole-outside-shell",
    ),
    pytest.param(
        feature(
            "position",
            "p1",
            [[[21.0, 25.0], [21.1, 25.0], [21.1, 25.1], [21.0, 25.1]]],
            gtype="Polygon",
        ),
        "p1",
        "geometry.coordinates[0]",
        "not closed",
        id="unclosed-ring",
    ),
    pytest.param(
        feature("position", "p1", [[[21.0, 25.0], [21.1, 25.0], [21.0, 25.0]]], gtype="Polygon"),
        "p1",
        "geometry.coordinates[0]",
        "at least 4 positions",
        id="ring-too-short",
    ),
    pytest.param(
        feature("movement", "m1", [[21.0, 25.0]]),
        "m1",
        "geometry.coordinates",
        "at least 2 positions",
        id="linestring-one-position",
    ),
    pytest.param(
        feature("movement", "m1", [[21.0, 25.0], [21.0, 25.0]]),
        "m1",
        "geometry.coordinates",
        "zero length",
        id="linestring-zero-length",
    ),
    pytest.param(
        feature("position", "p1", [[21.0, 25.0]], gtype="MultiPoint"),
        "p1",
        "geometry.type",
        "Point or Polygon",
        id="wrong-geometry-type",
    ),
    pytest.param(
        {**feature("position", "p1"), "geometry": None},
        "p1",
        "geometry",
        "required",
        id="no-geometry",
    ),
    pytest.param(
        feature("position", "p1", valid_from="2026-09-20T05:00:00"),
        "p1",
        "properties.valid_from",
        "no UTC offset",
        id="time-without-offset",
    ),
    pytest.param(
        feature("operation", "o1", window_start="soon"),
        "o1",
        "properties.window_start",
        "not an ISO 8601 time",
        id="time-garbage",
    ),
    pytest.param(
        feature("movement", "m1", valid_to=DROP),
        "m1",
        "properties.valid_to",
        "required",
        id="time-missing",
    ),
    pytest.param(
        feature("position", "p1", valid_to="2026-09-20T04:59:59Z"),
        "p1",
        "properties.valid_to",
        "ends at or before valid_from",
        id="ends-before-start",
    ),
    pytest.param(
        feature("operation", "o1", window_end="2026-09-21T02:00:00Z"),
        "o1",
        "properties.window_end",
        "ends at or before window_start",
        id="ends-at-start",
    ),
    pytest.param(
        feature("operation", "o1", window_end="2026-09-21T04:00:00+02:00"),
        "o1",
        "properties.window_end",
        "ends at or before window_start",
        id="ends-at-start-in-another-offset",
    ),
    pytest.param(
        feature("position", "p1", party="purple"),
        "p1",
        "properties.party",
        "unknown party 'purple'",
        id="position-unknown-party",
    ),
    pytest.param(
        feature("position", "p1", party="hnc"),
        "p1",
        "properties.party",
        "unknown party 'hnc'",
        id="position-party-is-a-notifier",
    ),
    pytest.param(
        feature("operation", "o1", proposed_by="purple"),
        "o1",
        "properties.proposed_by",
        "unknown party 'purple'",
        id="operation-unknown-proposer",
    ),
    pytest.param(
        feature("operation", "o1", executor="purple"),
        "o1",
        "properties.executor",
        "unknown party 'purple'",
        id="operation-unknown-executor",
    ),
    pytest.param(
        feature("operation", "o1", executor=["blue", "green-af"]),
        "o1",
        "properties.executor",
        "unknown party 'green-af'",
        id="operation-executor-not-a-party",
    ),
    pytest.param(
        feature("operation", "o1", executor=[]),
        "o1",
        "properties.executor",
        "required",
        id="operation-no-executor",
    ),
    pytest.param(
        feature("operation", "o1", executor=["blue", "blue"]),
        "o1",
        "properties.executor",
        "named twice",
        id="operation-executor-twice",
    ),
    pytest.param(
        feature("operation", "o1", category="integrated"),
        "o1",
        "properties.category",
        "unknown category 'integrated'",
        id="unknown-category",
    ),
    pytest.param(
        feature("position", "p1", declared_by="purple"),
        "p1",
        "properties.declared_by",
        "unknown party or notifier 'purple'",
        id="unknown-declared-by",
    ),
    pytest.param(
        feature("position", "p1", declared_by="observers"),
        "p1",
        "properties.declared_by",
        "unknown party or notifier 'observers'",
        id="monitor-cannot-declare",
    ),
    pytest.param(
        feature("flight_plan", "f1", operator="purple-af"),
        "f1",
        "properties.operator",
        "unknown operator 'purple-af'",
        id="flight-plan-unknown-operator",
    ),
    pytest.param(
        feature("position", "p1", kind="tank"),
        "p1",
        "properties.kind",
        "unknown kind 'tank'",
        id="unknown-kind",
    ),
    pytest.param(
        feature("position", "p1", kind=DROP),
        "p1",
        "properties.kind",
        "is required",
        id="no-kind",
    ),
    pytest.param(
        feature("position", "p1", colour="red"),
        "p1",
        "properties.colour",
        "not a field of a position",
        id="unknown-property",
    ),
    pytest.param(
        feature("position", "p1", radius_m=100),
        "p1",
        "properties.radius_m",
        "not a field of a position",
        id="field-of-another-kind",
    ),
    pytest.param(
        feature("position", "p1", disclosure="secret"),
        "p1",
        "properties.disclosure",
        "'shared' or 'center'",
        id="unknown-disclosure",
    ),
    pytest.param(
        feature("protected_site", "s1", disclosure="center"),
        "s1",
        "properties.disclosure",
        "notifier's declarations are shared",
        id="notifier-center-site",
    ),
    pytest.param(
        feature("position", "p1", declared_by="hnc"),
        "p1",
        "properties.kind",
        "only sites and movements",
        id="notifier-position",
    ),
    pytest.param(
        feature("flight_plan", "f1", times=["2026-09-20T07:00:00Z"]),
        "f1",
        "properties.times",
        "1 times for 2 vertices",
        id="flight-times-count",
    ),
    pytest.param(
        feature(
            "flight_plan",
            "f1",
            times=["2026-09-20T07:00:00Z", "2026-09-20T07:10:00Z", "2026-09-20T07:20:00Z"],
        ),
        "f1",
        "properties.times",
        "3 times for 2 vertices",
        id="flight-times-too-many",
    ),
    pytest.param(
        feature("flight_plan", "f1", times=["2026-09-20T07:20:00Z", "2026-09-20T07:00:00Z"]),
        "f1",
        "properties.times[1]",
        "strictly increase",
        id="flight-times-decreasing",
    ),
    pytest.param(
        feature("flight_plan", "f1", times=["2026-09-20T07:00:00Z", "2026-09-20T09:00:00+02:00"]),
        "f1",
        "properties.times[1]",
        "strictly increase",
        id="flight-times-equal-instants",
    ),
    pytest.param(
        feature("flight_plan", "f1", times=["2026-09-20T07:00:00Z", "2026-09-20T07:20:00"]),
        "f1",
        "properties.times[1]",
        "no UTC offset",
        id="flight-time-without-offset",
    ),
    pytest.param(
        feature("flight_plan", "f1", [[21.0, 25.0, 5000.0], [21.1, 25.1]]),
        "f1",
        "geometry.coordinates[1]",
        "altitude",
        id="flight-position-without-altitude",
    ),
    pytest.param(
        feature("operation", "o1", radius_m=DROP),
        "o1",
        "properties.radius_m",
        "required for an operation on a Point",
        id="point-operation-without-radius",
    ),
    pytest.param(
        feature("operation", "o1", radius_m=0),
        "o1",
        "properties.radius_m",
        "must be > 0",
        id="point-operation-zero-radius",
    ),
    pytest.param(
        feature("operation", "o1", SQUARE, gtype="Polygon"),
        "o1",
        "properties.radius_m",
        "only to an operation on a Point",
        id="polygon-operation-with-radius",
    ),
    pytest.param(
        feature("position", "p1", uncertainty_m=-5),
        "p1",
        "properties.uncertainty_m",
        "must be >= 0",
        id="negative-uncertainty",
    ),
    pytest.param(
        feature("position", "p1", uncertainty_m="5"),
        "p1",
        "properties.uncertainty_m",
        "finite number",
        id="uncertainty-as-text",
    ),
    pytest.param(
        feature("protected_site", "s1", standoff_m=-1),
        "s1",
        "properties.standoff_m",
        "must be >= 0",
        id="negative-standoff",
    ),
    pytest.param(
        feature("movement", "m1", [[179.5, 10.0], [-179.5, 10.0]]),
        "m1",
        "geometry.coordinates",
        "antimeridian",
        id="line-crossing-antimeridian",
    ),
    pytest.param(
        feature(
            "position",
            "p1",
            [[[179.5, 10.0], [-179.5, 10.0], [-179.5, 11.0], [179.5, 11.0], [179.5, 10.0]]],
            gtype="Polygon",
        ),
        "p1",
        "geometry.coordinates[0]",
        "antimeridian",
        id="polygon-crossing-antimeridian",
    ),
]


@pytest.mark.parametrize(("bad", "fid", "field", "message"), BAD_FEATURES)
def test_bad_feature_is_refused(agreement, bad, fid, field, message):
    error = refused(agreement, bad)
    assert where(error) == [(fid, field)]
    assert message in error.issues[0].message
    text = str(error)
    assert text.startswith("test.geojson: 1 problem\n")
    assert f"feature {fid!r}" in text
    assert f"field {field!r}" in text


@pytest.mark.parametrize(("bad", "fid", "field", "message"), BAD_FEATURES)
def test_bad_feature_among_good_ones_names_only_itself(agreement, bad, fid, field, message):
    good = [feature("protected_site", "good-s"), feature("operation", "good-o")]
    error = refused(agreement, good[0], bad, good[1])
    assert where(error) == [(fid, field)]


def test_point_operation_with_null_radius(agreement):
    error = refused(agreement, feature("operation", "o1", radius_m=None))
    assert where(error) == [("o1", "properties.radius_m")]


@pytest.mark.parametrize(
    "props",
    [
        {"valid_from": "0001-01-01T00:00:00+01:00"},
        {"valid_to": "9999-12-31T23:30:00-01:00"},
    ],
)
def test_time_out_of_range_is_a_world_error(agreement, props):
    error = refused(agreement, feature("position", "p1", **props))
    (name,) = props
    assert where(error) == [("p1", f"properties.{name}")]


def test_duplicate_id_names_the_first_feature(agreement):
    error = refused(
        agreement,
        feature("protected_site", "s0"),
        feature("position", "twin"),
        feature("movement", "m0"),
        feature("operation", "twin"),
    )
    assert where(error) == [("twin", "properties.id")]
    assert "duplicate id" in error.issues[0].message
    assert "#1" in error.issues[0].message


def test_id_may_come_from_the_feature(agreement):
    bare = feature("position", "ignored", id=DROP)
    bare["id"] = "from-feature"
    world = parse_world(collection(bare), agreement)
    assert world["from-feature"].id == "from-feature"


@pytest.mark.parametrize("fid", [DROP, "", "   ", 7])
def test_missing_id_is_named_by_index(agreement, fid):
    error = refused(agreement, feature("position", "ok"), feature("position", "x", id=fid))
    assert where(error) == [("#1", "properties.id")]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"type": "Point", "coordinates": [0, 0]}, "type"),
        ("not a feature", "type"),
        ({"type": "Feature", "geometry": None, "properties": ["x"]}, "properties"),
    ],
)
def test_non_feature_is_named_by_index(agreement, bad, field):
    error = refused(agreement, feature("position", "ok"), bad)
    assert where(error) == [("#1", field)]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "Feature"}, "type"),
        ([], "type"),
        ({"type": "FeatureCollection"}, "features"),
        ({"type": "FeatureCollection", "features": {}}, "features"),
    ],
)
def test_not_a_feature_collection(agreement, data, field):
    with pytest.raises(WorldError) as info:
        parse_world(data, agreement)
    assert [issue.field for issue in info.value.issues] == [field]


def test_one_feature_reports_all_its_problems(agreement):
    error = refused(
        agreement,
        feature(
            "operation",
            "o1",
            category="integrated",
            proposed_by="purple",
            window_start="2026-09-21T02:00:00",
            uncertainty_m=-1,
        ),
    )
    assert sorted(where(error)) == [
        ("o1", "properties.category"),
        ("o1", "properties.proposed_by"),
        ("o1", "properties.uncertainty_m"),
        ("o1", "properties.window_start"),
    ]


# --- nothing is half-loaded -----------------------------------------------------------------


def test_three_good_one_bad_returns_no_world(agreement):
    features = [
        feature("protected_site", "good-1"),
        feature("position", "good-2"),
        feature("operation", "good-3"),
        feature("position", "bad-1", party="purple"),
    ]
    with pytest.raises(WorldError) as info:
        parse_world(collection(*features), agreement)
    assert where(info.value) == [("bad-1", "properties.party")]
    # the same three good features alone do load
    assert len(parse_world(collection(*features[:3]), agreement)) == 3


def test_every_bad_feature_is_reported_at_once(agreement):
    error = refused(
        agreement,
        feature("position", "bad-a", [21.0, 95.0]),
        feature("protected_site", "good"),
        feature("operation", "bad-b", category="integrated", executor="purple"),
        feature("flight_plan", "bad-c", times=["2026-09-20T07:00:00Z"]),
        feature("movement", "good-2"),
    )
    assert where(error) == [
        ("bad-a", "geometry.coordinates"),
        ("bad-b", "properties.category"),
        ("bad-b", "properties.executor"),
        ("bad-c", "properties.times"),
    ]
    assert str(error).startswith("test.geojson: 4 problems\n")


def test_issues_are_capped(agreement):
    features = [feature("position", f"bad-{i}", party="purple") for i in range(MAX_ISSUES + 50)]
    error = refused(agreement, *features)
    assert len(error.issues) == MAX_ISSUES + 1
    assert error.issues[-1].field == "features"
    assert "stopped" in error.issues[-1].message
    assert {issue.feature for issue in error.issues[:-1]} == {f"bad-{i}" for i in range(MAX_ISSUES)}


# --- files ----------------------------------------------------------------------------------


def test_load_world_missing_file(agreement, tmp_path):
    path = tmp_path / "absent.geojson"
    with pytest.raises(WorldError) as info:
        load_world(path, agreement)
    assert info.value.source == str(path)
    assert "cannot read file" in str(info.value)


def test_load_world_non_utf8_file(agreement, tmp_path):
    path = tmp_path / "latin1.geojson"
    path.write_bytes(
        '{"type": "FeatureCollection", "features": [], "n": "\u00e9"}'.encode("latin-1")
    )
    with pytest.raises(WorldError, match="not UTF-8"):
        load_world(path, agreement)


def test_load_world_invalid_json_names_the_line(agreement, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{\n  "type": "FeatureCollection",\n  "features": [,]\n}\n', encoding="utf-8")
    with pytest.raises(WorldError) as info:
        load_world(path, agreement)
    ((issue),) = info.value.issues
    assert issue.line == 3
    assert "not valid JSON" in issue.message


def test_load_world_nan_literal_in_json(agreement, tmp_path):
    path = tmp_path / "nan.geojson"
    data = collection(feature("position", "p1", [21.0, 25.0]))
    text = json.dumps(data).replace("[21.0, 25.0]", "[NaN, 25.0]")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorldError) as info:
        load_world(path, agreement)
    assert where(info.value) == [("p1", "geometry.coordinates")]


def test_load_world_round_trip(agreement, tmp_path):
    path = tmp_path / "world.geojson"
    path.write_text(json.dumps(collection(feature("position", "p1"))), encoding="utf-8")
    assert load_world(path, agreement)["p1"].kind is ObjectKind.POSITION


def test_load_world_deeply_nested_json(agreement, tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(WorldError):
        load_world(path, agreement)
