"""Designated areas: which flight plans enter an area closed to their operator."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.agreement import Agreement, load_agreement, load_agreement_text
from accord.errors import WorldError
from accord.examples import example_path
from accord.rules import AreaFinding, DesignatedAreaIndex, check_designated_areas

JIG = load_agreement(example_path("jig.yaml"))  # da-north: lon 21.05-21.60, lat 25.05-25.45
T0 = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Flight:
    coords: tuple[tuple[float, float, float], ...]
    times: tuple[datetime, ...]
    id: str = "fp-1"
    operator: str = "green-af"
    party: str | None = None
    mission: str = "strike"


def flight(*points: tuple[float, float], minutes: float = 60.0, **kw: Any) -> Flight:
    """A flight through ``points`` at 3000 m, ``minutes`` per leg from T0."""
    coords = tuple((lon, lat, 3000.0) for lon, lat in points)
    times = tuple(T0 + i * minutes * MIN for i in range(len(points)))
    return dataclasses.replace(Flight(coords=coords, times=times), **kw)


def two_areas() -> Agreement:
    return load_agreement_text(
        """
id: areas
title: Two areas
starts_at: 2026-09-12T16:00:00Z
parties: [{id: blue, name: Blue}, {id: red, name: Red}]
operators: [{id: green-af, name: Green}, {id: grey-af, name: Grey}]
categories: {coordinated: {rule: coordinated}}
phases: [{id: p, categories: [coordinated]}]
designated_areas:
  - id: west
    polygon: [[10.0, 10.0], [11.0, 10.0], [11.0, 11.0], [10.0, 11.0]]
    restricted_operators: [green-af]
  - id: east
    polygon: [[12.0, 10.0], [13.0, 10.0], [13.0, 11.0], [12.0, 11.0]]
    restricted_operators: [green-af, grey-af]
    exempt_missions: [medevac]
  - id: north
    polygon: [[19.0, 61.0], [21.0, 61.0], [21.0, 62.0], [19.0, 62.0]]
    restricted_operators: [green-af]
"""
    )


def test_a_leg_crossing_the_area_is_a_violation_with_interpolated_entry() -> None:
    # both vertices outside; the leg crosses the whole area at lat 25.2
    findings = check_designated_areas(JIG, flight((21.0, 25.2), (21.7, 25.2), minutes=70))
    assert len(findings) == 1
    f = findings[0]
    assert (f.area_id, f.flight_id, f.operator, f.mission, f.verdict) == (
        "da-north",
        "fp-1",
        "green-af",
        "strike",
        "violation",
    )
    # the geodesic bows a little north of the parallel (about 12 m here)
    assert f.entry_point == pytest.approx((21.05, 25.2), abs=5e-4)
    assert f.entry_at is not None
    # 0.05 of 0.7 degrees along a 70-minute leg: about 5 minutes after T0
    assert abs((f.entry_at - (T0 + 5 * MIN)).total_seconds()) < 5


def test_a_leg_clipping_a_corner_is_caught() -> None:
    # from SW of the area to NE of it, cutting only the north-west corner
    path = ((20.95, 25.30), (21.25, 25.60))
    line = shapely.LineString(path)
    corner = shapely.Polygon([(21.05, 25.05), (21.60, 25.05), (21.60, 25.45), (21.05, 25.45)])
    assert not any(corner.covers(shapely.Point(p)) for p in path)
    (f,) = check_designated_areas(JIG, flight(*path, minutes=30))
    assert line.intersects(corner)
    assert f.verdict == "violation"
    assert f.entry_point == pytest.approx((21.05, 25.40), abs=2e-3)
    assert f.entry_at is not None
    assert abs((f.entry_at - (T0 + 10 * MIN)).total_seconds()) < 15


def test_a_flight_starting_inside_enters_at_its_first_vertex() -> None:
    (f,) = check_designated_areas(JIG, flight((21.3, 25.3), (22.0, 25.3)))
    assert f.entry_point == pytest.approx((21.3, 25.3))
    assert f.entry_at == T0


def test_entry_is_on_the_first_leg_that_enters() -> None:
    # first leg stays outside; the second enters from the south at lon 21.3
    (f,) = check_designated_areas(
        JIG, flight((20.0, 24.0), (21.3, 24.9), (21.3, 25.25), minutes=20)
    )
    assert f.entry_point == pytest.approx((21.3, 25.05), abs=1e-4)
    assert f.entry_at is not None
    # 0.15 of 0.35 degrees of latitude along the second 20-minute leg
    expected = T0 + 20 * MIN + (20 * MIN) * (0.15 / 0.35)
    assert abs((f.entry_at - expected).total_seconds()) < 5


def test_exempt_missions_pass_with_an_exempt_finding() -> None:
    for mission in ("medevac", "personnel_recovery", "humanitarian"):
        (f,) = check_designated_areas(JIG, flight((21.0, 25.2), (21.7, 25.2), mission=mission))
        assert f.verdict == "exempt"
        assert f.mission == mission


def test_unrestricted_operators_and_paths_outside_produce_nothing() -> None:
    through = ((21.0, 25.2), (21.7, 25.2))
    assert check_designated_areas(JIG, flight(*through, operator="blue", party="blue")) == ()
    assert check_designated_areas(JIG, flight((20.0, 24.0), (20.5, 24.5))) == ()
    # passing just north of the area
    assert check_designated_areas(JIG, flight((21.0, 25.46), (21.7, 25.46))) == ()


def test_touching_the_boundary_counts_as_entering() -> None:
    (f,) = check_designated_areas(JIG, flight((21.2, 25.0), (21.2, 25.05)))
    assert f.entry_point == pytest.approx((21.2, 25.05), abs=1e-6)


def test_a_single_position_inside_or_outside() -> None:
    (f,) = check_designated_areas(JIG, flight((21.3, 25.3)))
    assert (f.entry_point, f.entry_at) == ((21.3, 25.3), T0)
    assert check_designated_areas(JIG, flight((20.0, 25.3))) == ()


def test_one_finding_per_area_restricting_the_operator() -> None:
    index = DesignatedAreaIndex(two_areas())
    assert index.area_ids == ("west", "east", "north")
    # west keeps the default exemptions; east exempts medevac only
    across = flight((9.5, 10.5), (13.5, 10.5), mission="personnel_recovery")
    findings = index.check(across)
    assert [(f.area_id, f.verdict) for f in findings] == [("west", "exempt"), ("east", "violation")]
    assert findings[0].entry_at is not None
    assert findings[1].entry_at is not None
    assert findings[0].entry_at < findings[1].entry_at
    grey = index.check(flight((9.5, 10.5), (13.5, 10.5), operator="grey-af"))
    assert [f.area_id for f in grey] == ["east"]
    # re-entering an area still gives one finding, at the first entry
    zigzag = flight((9.5, 10.5), (10.5, 10.5), (10.5, 11.5), (10.6, 10.5))
    (f,) = (x for x in index.check(zigzag) if x.area_id == "west")
    assert f.entry_point == pytest.approx((10.0, 10.5), abs=1e-3)


def test_legs_follow_the_geodesic() -> None:
    # at 60N the great circle from 0E to 40E bows north to about 61.5N: it crosses the
    # "north" area (61-62N, 19-21E) although the straight lon/lat line stays at 60N
    path = ((0.0, 60.0), (40.0, 60.0))
    area = shapely.Polygon([(19.0, 61.0), (21.0, 61.0), (21.0, 62.0), (19.0, 62.0)])
    assert not shapely.LineString(path).intersects(area)
    findings = check_designated_areas(two_areas(), flight(*path, minutes=180))
    (f,) = (x for x in findings if x.area_id == "north")
    assert f.entry_point is not None
    assert 61.0 <= f.entry_point[1] <= 62.0
    assert 19.0 <= f.entry_point[0] <= 21.0
    assert f.entry_at is not None
    assert T0 + 60 * MIN < f.entry_at < T0 + 90 * MIN


def test_agreement_without_areas_finds_nothing() -> None:
    text = example_path("jig.yaml").read_text(encoding="utf-8")
    start = text.index("designated_areas:")
    end = text.index("conditions:")
    bare = load_agreement_text(text[:start] + text[end:])
    assert check_designated_areas(bare, flight((21.3, 25.3), (21.4, 25.3))) == ()


def test_malformed_flights_are_refused() -> None:
    with pytest.raises(WorldError, match="one time per vertex"):
        check_designated_areas(JIG, Flight(coords=((21.3, 25.3, 0.0),), times=()))
    with pytest.raises(WorldError, match="needs a vertex"):
        check_designated_areas(JIG, Flight(coords=(), times=()))


def test_findings_are_values() -> None:
    (f,) = check_designated_areas(JIG, flight((21.3, 25.3)))
    assert isinstance(f, AreaFinding)
    with pytest.raises(AttributeError):
        f.verdict = "exempt"  # type: ignore[misc]


coordinate = st.tuples(st.floats(20.5, 22.2), st.floats(24.6, 25.9))


@settings(max_examples=150, deadline=None)
@given(points=st.lists(coordinate, min_size=1, max_size=5))
@example(points=[(22.0, 25.44921875), (20.5, 25.44921875)])  # 0.0008° inside the north edge
def test_findings_agree_with_the_path_geometry(points: list[tuple[float, float]]) -> None:
    """Legs of at most ~200 km bow less than 0.005 degrees off the straight lon/lat line, so a
    finding comes exactly when the straight path clearly enters the area, and its entry lies
    on the area, near the path, between the path's first and last times."""
    area = shapely.Polygon([(21.05, 25.05), (21.60, 25.05), (21.60, 25.45), (21.05, 25.45)])
    path = shapely.Point(points[0]) if len(points) == 1 else shapely.LineString(points)
    findings = check_designated_areas(JIG, flight(*points))
    if path.distance(area) > 1e-2:
        assert findings == ()
    # Clearly inside means more than the bow (0.005 degrees) in from every edge: a path along
    # an edge just inside it may bow out along the geodesic and rightly not enter.
    if area.buffer(-1e-2).intersects(path):
        assert len(findings) == 1
    for f in findings:
        assert f.entry_point is not None
        assert f.entry_at is not None
        entry = shapely.Point(f.entry_point)
        assert area.distance(entry) < 1e-6
        assert path.distance(entry) < 5e-3
        assert T0 <= f.entry_at <= T0 + (len(points) - 1) * 60 * MIN
