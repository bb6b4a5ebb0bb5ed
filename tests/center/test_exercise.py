"""The exercise behind ``make run``: the demo world declared by its owners through the
service's own code, tokens that work, and a clock on the scenario's day."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from accord.center.exercise import DEMO_START, DEMO_USERS, exercise_clock, seed_demo
from accord.center.runtime import Center
from accord.examples import example_path
from center.conftest import settings_for


def test_the_exercise_clock_starts_where_it_is_told_and_runs() -> None:
    clock = exercise_clock(DEMO_START)
    first = clock()
    assert timedelta(0) <= first - DEMO_START < timedelta(seconds=5)
    assert clock() >= first


def test_the_demo_world_is_declared_by_its_owners(tmp_path: Path) -> None:
    from accord.center.declarations import page
    from accord.center.identity import find_caller

    center = Center.start(settings_for(tmp_path), clock=exercise_clock(DEMO_START))
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
        from accord.center.operations import desk, get

        with center.reading() as session:
            s1 = get(session, desk(center), "blue", seeded.proposed["op-s1"], center.now())
        hidden = [c for c in s1.conflicts if c.party == "red" and c.kind == "position"]
        assert hidden and all(c.with_id is None for c in hidden)
    finally:
        center.close()
