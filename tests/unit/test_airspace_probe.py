"""Probing a new flight plan against the others, leg by leg in 4D."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.agreement import load_agreement
from accord.airspace import Separation, probe_flight_plan
from accord.examples import example_path
from accord.rules.designated import FlightPlan
from accord.units import FT, NM
from accord.world import load_world

T0 = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
SEP = Separation(horizontal_m=5 * NM, vertical_ft=1000.0, lookahead_s=300.0)


def plan(
    plan_id: str,
    points: list[tuple[float, float, float]],
    minutes: list[float],
    operator: str = "blue",
) -> FlightPlan:
    return FlightPlan(
        id=plan_id,
        operator=operator,
        party=operator if operator in ("blue", "red") else None,
        mission="transport",
        coords=tuple((lon, lat, ft * FT) for lon, lat, ft in points),
        times=tuple(T0 + timedelta(minutes=m) for m in minutes),
    )


EAST = plan("fp-e", [(21.0, 25.0, 30000), (22.0, 25.0, 30000)], [0, 20])


def test_head_on_plans_conflict_at_the_meeting_time() -> None:
    west = plan("fp-w", [(22.0, 25.0, 30000), (21.0, 25.0, 30000)], [0, 20], operator="red")
    (c,) = probe_flight_plan(EAST, [west], SEP)
    assert (c.plan_id, c.other_id, c.other_party, c.leg, c.other_leg) == (
        "fp-e",
        "fp-w",
        "red",
        0,
        0,
    )
    assert c.cpa_at == T0 + timedelta(minutes=10)
    assert c.dcpa_m == pytest.approx(0.0, abs=1.0)
    # closing at 2 × 100.9 km / 20 min: the 9.26 km minimum is reached ~55 s before
    assert (c.cpa_at - c.los_at).total_seconds() == pytest.approx(55.0, abs=1.0)
    assert c.los_until - c.cpa_at == c.cpa_at - c.los_at


def test_same_route_ten_minutes_apart_is_clear() -> None:
    later = plan("fp-l", [(21.0, 25.0, 30000), (22.0, 25.0, 30000)], [10, 30])
    assert probe_flight_plan(EAST, [later], SEP) == ()


def test_crossing_at_different_times_is_clear_and_at_the_same_time_conflicts() -> None:
    # north-bound through (21.5, 25.0), there at minute 10 or minute 14
    north_on_time = plan("fp-n", [(21.5, 24.5, 30000), (21.5, 25.5, 30000)], [0, 20])
    north_late = plan("fp-n2", [(21.5, 24.5, 30000), (21.5, 25.5, 30000)], [4, 24])
    found = probe_flight_plan(EAST, [north_on_time, north_late], SEP)
    assert [c.other_id for c in found] == ["fp-n"]


def test_exactly_1000_ft_apart_level_is_clear() -> None:
    above = plan("fp-a", [(22.0, 25.0, 31000), (21.0, 25.0, 31000)], [0, 20])
    assert probe_flight_plan(EAST, [above], SEP) == ()
    nearly = plan("fp-b", [(22.0, 25.0, 30990), (21.0, 25.0, 30990)], [0, 20])
    assert [c.other_id for c in probe_flight_plan(EAST, [nearly], SEP)] == ["fp-b"]


def test_a_later_leg_climbing_into_the_other() -> None:
    # level at 20,000 ft, then a climb to 40,000 ft through 30,000 ft at minute 15
    climber = plan(
        "fp-c",
        [(21.0, 25.0, 20000), (21.5, 25.0, 20000), (22.0, 25.0, 40000)],
        [0, 10, 20],
    )
    (c,) = probe_flight_plan(EAST, [climber], SEP)
    assert (c.leg, c.other_leg) == (0, 1)
    # inside 1000 ft of 30,000 ft from minute 14.5 to 15.5 (2000 ft/min relative)
    assert c.los_at == T0 + timedelta(minutes=14, seconds=30)
    assert c.los_until == T0 + timedelta(minutes=15, seconds=30)


def test_the_plan_itself_and_plans_without_common_time_are_left_out() -> None:
    amended = plan("fp-e", [(21.0, 25.0, 30000), (22.0, 25.0, 30000)], [0, 20])
    tomorrow = plan("fp-t", [(22.0, 25.0, 30000), (21.0, 25.0, 30000)], [1440, 1460])
    assert probe_flight_plan(EAST, [amended, tomorrow], SEP) == ()


def test_the_example_world_plans() -> None:
    agreement = load_agreement(example_path("jig.yaml"))
    world = load_world(example_path("world.geojson"), agreement)
    plans = world.flight_plans
    sep = Separation.from_rules(agreement.airspace)
    for p in plans:
        assert probe_flight_plan(p, plans, sep) == ()
    # the same path as green's strike flight, 1000 ft lower minus one foot, same times
    (green,) = [p for p in plans if p.id == "fp-green-17"]
    shadow = FlightPlan(
        id="fp-shadow",
        operator="blue",
        party="blue",
        mission="transport",
        coords=tuple((x, y, z - 999 * FT) for x, y, z in green.coords),
        times=green.times,
    )
    (c,) = probe_flight_plan(shadow, plans, sep)
    assert c.other_id == "fp-green-17" and c.los_at == green.times[0]
