"""The exercise behind ``make run``: the demo world declared by its owners through the
service's own code, tokens that work, and a clock on the scenario's day."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from accord.center.bootstrap import Parts
from accord.center.exercise import DEMO_START, DEMO_USERS, exercise_clock, seed_demo
from accord.examples import example_path
from support.service import settings_for


def test_the_exercise_clock_starts_where_it_is_told_and_runs() -> None:
    clock = exercise_clock(DEMO_START)
    first = clock()
    assert timedelta(0) <= first - DEMO_START < timedelta(seconds=5)
    assert clock() >= first


def test_the_demo_world_is_declared_by_its_owners(tmp_path: Path) -> None:
    from accord.center.declarations.queries import page
    from accord.center.identity import find_caller

    center = Parts(settings_for(tmp_path), clock=exercise_clock(DEMO_START)).open()
    try:
        seeded = seed_demo(center, example_path("world.geojson"))
        world = json.loads(example_path("world.geojson").read_text(encoding="utf-8"))
        expected = {
            f["properties"]["id"]: f["properties"]
            for f in world["features"]
            if f["properties"]["kind"] != "operation"
        }
        assert set(seeded.declared) == set(expected)
        assert set(seeded.tokens) == set(DEMO_USERS)
        assert set(seeded.proposed) == {"op-c1", "op-c2", "op-s1"}
        with center.reading() as session:
            red = find_caller(session, seeded.tokens["red-officer"])
            blue = find_caller(session, seeded.tokens["blue-officer"])
            assert red is not None and blue is not None
            red_sees = {v.id for v in page(session, red, limit=500)[0]}
            blue_sees = {v.id for v in page(session, blue, limit=500)[0]}
        for world_id, props in expected.items():
            hidden = props["disclosure"] == "center"
            assert (seeded.declared[world_id] in red_sees) == (
                not hidden or props["declared_by"] == "red"
            )
            assert (seeded.declared[world_id] in blue_sees) == (
                not hidden or props["declared_by"] == "blue"
            )
        # The engine ran on each proposal: op-s1 lies over red's centre-only battalion.
        from accord.center.operations.desk import desk
        from accord.center.operations.queries import get

        with center.reading() as session:
            s1 = get(session, desk(center), "blue", seeded.proposed["op-s1"], center.now())
        hidden = [c for c in s1.conflicts if c.party == "red" and c.kind == "position"]
        assert hidden and all(c.with_id is None for c in hidden)
    finally:
        center.close()


def test_the_demo_alerts_both_parties_to_a_loss_of_separation(tmp_path: Path) -> None:
    from accord.center.airspace.alerts import list_alerts
    from accord.center.identity import find_caller

    center = Parts(settings_for(tmp_path), clock=exercise_clock(DEMO_START)).open()
    try:
        seeded = seed_demo(center, example_path("world.geojson"))
        assert seeded.alerts
        seen = {}
        for user in ("blue-officer", "red-officer"):
            with center.reading() as session:
                caller = find_caller(session, seeded.tokens[user])
            assert caller is not None
            seen[user] = list_alerts(center, caller, include_cleared=False, limit=100)
        both = {a.id for a in seen["blue-officer"]} & {a.id for a in seen["red-officer"]}
        conflicts = [
            a
            for a in seen["red-officer"]
            if a.id in both and a.kind == "conflict" and set(a.parties) == {"blue", "red"}
        ]
        assert [a.tracks for a in conflicts] == [["blue-c130-11", "red-il76-4"]]
        areas = [a for a in seen["blue-officer"] if a.kind == "area"]
        assert [a.tracks for a in areas] == [["green-f16-17"]]
    finally:
        center.close()


def test_the_demo_feed_moves_the_aircraft() -> None:
    from accord.center.exercise import demo_tracks

    first = {r.id: r for r in demo_tracks(DEMO_START)}
    later = {r.id: r for r in demo_tracks(DEMO_START, DEMO_START + timedelta(seconds=10))}
    assert first.keys() == later.keys()
    moved = later["blue-c130-11"]
    assert moved.lon > first["blue-c130-11"].lon and moved.time > first["blue-c130-11"].time
