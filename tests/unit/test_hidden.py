"""Shadows (``accord.deconfliction.hidden``): never a missed conflict, never a place closer
than the bound, and an answer whose order betrays no hidden distance."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from bench.prober import Probe, probe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from accord.agreement import ObjectKind
from accord.deconfliction import Conflict, DeconflictionIndex
from accord.deconfliction.hidden import (
    SHADOW_PREFIX,
    Shadow,
    answer,
    answer_order,
    hidden_from,
    shadow_object,
    stays_within,
)
from accord.geo import GEOD, geodesic_distance
from accord.world import Declared, Disclosure, Operation, Position
from support.jig import AGREEMENT
from support.worlds import T0, random_world

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def moved(obj: Declared, distance: float, azimuth: float) -> Declared:
    """``obj`` with every vertex moved ``distance`` metres along ``azimuth``."""
    carried = Shadow(anchor=obj.geometry, azimuth_deg=azimuth, precision_m=distance / 2)
    return replace(obj, geometry=carried.geometry() if distance > 0 else obj.geometry)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=seeds,
    precision=st.floats(min_value=50, max_value=4000),
    azimuth=st.floats(min_value=0, max_value=360),
    drift=st.floats(min_value=0, max_value=0.99),
    drift_azimuth=st.floats(min_value=0, max_value=360),
)
def test_a_shadow_never_misses_a_true_conflict(
    seed: int, precision: float, azimuth: float, drift: float, drift_azimuth: float
) -> None:
    """Every object hidden; each shadow drawn where the object was, the object then moved
    anywhere within the bound: every true conflict of every operation with another party's
    hidden object is a conflict with its shadow."""
    world = random_world(seed, n=14)
    anchors = [
        replace(o, disclosure=Disclosure.CENTER)
        for o in world
        if o.kind is not ObjectKind.OPERATION
    ]
    now = [moved(o, drift * precision, drift_azimuth) for o in anchors]
    shadows = []
    for anchor, current in zip(anchors, now, strict=True):
        drawn = Shadow(anchor=anchor.geometry, azimuth_deg=azimuth, precision_m=precision)
        assert stays_within(drawn, current.geometry)
        shadows.append(shadow_object(current, drawn))
    true_index = DeconflictionIndex(AGREEMENT, [*now, *world.operations])
    shadow_index = DeconflictionIndex(AGREEMENT, shadows)
    for op in world.operations:
        hits = {c.with_id for c in shadow_index.check(op).conflicts}
        for c in true_index.check(op).conflicts:
            if hidden_from(c, op.proposed_by):
                assert SHADOW_PREFIX + str(c.with_id) in hits, (op.id, c)


@given(
    distance=st.floats(min_value=0, max_value=5000),
    azimuth=st.floats(min_value=0, max_value=360),
    lat=st.floats(min_value=-70, max_value=70),
)
def test_a_point_stays_within_its_bound_exactly_when_it_moved_no_farther(
    distance: float, azimuth: float, lat: float
) -> None:
    drawn = Shadow(anchor=Point(30.0, lat), azimuth_deg=0.0, precision_m=1000.0)
    lon2, lat2, _ = GEOD.fwd(30.0, lat, azimuth, distance)
    stays = stays_within(drawn, Point(float(lon2), float(lat2)))
    if distance <= 995.0:  # the buffer's polygon is inside the true disk, by under 0.2 %
        assert stays
    elif distance > 1000.0:
        assert not stays


def _op(geometry: dict[str, Any], radius: float, proposer: str = "red") -> Operation:
    return Operation(
        id="op-probe",
        declared_by=proposer,
        geometry=shape(geometry),
        radius_m=radius,
        category="coordinated",
        proposed_by=proposer,
        executors=(proposer,),
        window_start=T0,
        window_end=T0 + timedelta(hours=2),
    )


HIDDEN = Position(
    id="pos-hidden",
    declared_by="blue",
    party="blue",
    disclosure=Disclosure.CENTER,
    uncertainty_m=120.0,
    geometry=Point(36.25, 12.5),
    valid_from=T0 - timedelta(days=1),
    valid_to=T0 + timedelta(days=1),
)


def _oracle(obj: Declared) -> Any:
    index = DeconflictionIndex(AGREEMENT, [obj])
    return lambda geometry, radius: bool(index.check(_op(geometry, radius)).conflicts)


def test_without_a_shadow_the_prober_finds_the_position_to_metres() -> None:
    """The attack of the issue, against true answers: why shadows are needed."""
    result = probe(Probe(lon=36.3, lat=12.46, budget=70), _oracle(HIDDEN))
    assert geodesic_distance(result.lon, result.lat, 36.25, 12.5) < 5.0


@pytest.mark.parametrize("budget", [10, 50, 200])
@pytest.mark.parametrize("azimuth", [0.0, 137.5, 271.0])
def test_with_a_shadow_the_prober_gets_no_closer_than_the_bound(
    budget: int, azimuth: float
) -> None:
    drawn = Shadow(anchor=HIDDEN.geometry, azimuth_deg=azimuth, precision_m=1000.0)
    result = probe(Probe(lon=36.3, lat=12.46, budget=budget), _oracle(shadow_object(HIDDEN, drawn)))
    assert geodesic_distance(result.lon, result.lat, 36.25, 12.5) >= 1000.0


kinds = st.sampled_from([ObjectKind.POSITION, ObjectKind.PROTECTED_SITE, ObjectKind.FLIGHT_PLAN])


@given(
    found=st.lists(
        st.tuples(
            kinds,
            st.sampled_from(["blue", "red", "hnc"]),
            st.booleans(),
            st.booleans(),
            st.floats(min_value=0, max_value=9000),
        ),
        max_size=8,
    ),
    shuffle=st.randoms(use_true_random=False),
    new_distances=st.lists(st.floats(min_value=0, max_value=9000), min_size=8, max_size=8),
)
def test_the_order_of_an_answer_betrays_no_hidden_distance(
    found: list[tuple[ObjectKind, str, bool, bool, float]], shuffle: Any, new_distances: list[float]
) -> None:
    """Red's answer, cut for red: changing the distances of blue's hidden objects (what red
    may not learn) changes nothing red sees, the order included."""
    conflicts = [
        Conflict(
            "op",
            kind,
            f"o{i}",
            party,
            distance,
            3000.0,
            blocking,
            Disclosure.CENTER if hidden else Disclosure.SHARED,
        )
        for i, (kind, party, blocking, hidden, distance) in enumerate(found)
    ]

    def seen(items: list[Conflict]) -> list[Conflict]:
        shuffle.shuffle(items)
        return [
            c.visible_to("red")
            for c in sorted(answer(items, proposer="red"), key=answer_order("red"))
        ]

    other = [
        c._replace(distance_m=new_distances[i]) if hidden_from(c, "red") else c
        for i, c in enumerate(conflicts)
    ]
    assert seen(list(conflicts)) == seen(other)
