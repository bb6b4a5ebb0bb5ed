"""The exercise behind ``make run``: the demo world declared by its owners through the
service's own code, tokens that work, and a clock on the scenario's day."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from accord.center.bootstrap import Parts
from accord.center.exercise import (
    DEMO_START,
    DEMO_USERS,
    NIGHT_START,
    STORY_USERS,
    exercise_clock,
    seed_demo,
)
from accord.examples import example_path
from support.service import Service, settings_for


def test_the_exercise_clock_starts_where_it_is_told_and_runs() -> None:
    clock = exercise_clock(DEMO_START)
    first = clock()
    assert timedelta(0) <= first - DEMO_START < timedelta(seconds=5)
    assert clock() >= first


def test_the_demo_world_is_declared_by_its_owners(tmp_path: Path) -> None:
    from accord.center.declarations.queries import page
    from accord.center.identity import find_caller

    center = Parts(
        settings_for(tmp_path), clock=exercise_clock(DEMO_START, held=NIGHT_START)
    ).open()
    try:
        seeded = seed_demo(center, example_path("world.geojson"))
        world = json.loads(example_path("world.geojson").read_text(encoding="utf-8"))
        expected = {
            f["properties"]["id"]: f["properties"]
            for f in world["features"]
            if f["properties"]["kind"] != "operation"
        }
        assert set(seeded.declared) == set(expected)
        assert set(seeded.tokens) == set(DEMO_USERS) | set(STORY_USERS)
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

    center = Parts(
        settings_for(tmp_path), clock=exercise_clock(DEMO_START, held=NIGHT_START)
    ).open()
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


def test_the_exercise_plays_the_offices_and_the_center_holds_its_key_alone(
    tmp_path: Path,
) -> None:
    """Under the exercise's rooted agreement, every seeded change is its user's act signed
    at its office (outside the server's folders), the roots signed the agreement, and a key
    a demo user's device offers is certified by the demo's office clerk."""
    from accord.center.acts import REGISTRY
    from accord.center.exercise import DemoOffices, certify_offers
    from accord.center.identity import find_caller
    from accord.center.signing.service import offer
    from accord.office import with_roots
    from accord.record.entries import open_envelope
    from accord.record.keys import generate

    base = example_path("jig.yaml")
    members = ["blue", "red", "hnc", "observers"]
    offices = DemoOffices.create(tmp_path / "offices", members)
    agreement = tmp_path / "server" / "agreement.yaml"
    agreement.parent.mkdir(mode=0o700)
    agreement.write_text(
        with_roots(base.read_text(encoding="utf-8"), offices.roots(members)), encoding="utf-8"
    )
    settings = settings_for(
        tmp_path / "server", agreement_path=agreement, keys_dir=tmp_path / "server" / "keys"
    )
    center = Parts(settings, clock=exercise_clock(DEMO_START, held=NIGHT_START)).open()
    try:
        seeded = seed_demo(center, example_path("world.geojson"), offices)
        assert set(seeded.proposed) == {"op-c1", "op-c2", "op-s1"}
        with center.reading() as session:
            registry = center.cache(REGISTRY).get(session)
            log = center.log(session)
            entries = [json.loads(open_envelope(log.entry(i))[2]) for i in range(log.size)]
        assert set(registry.signed) == {"blue", "red"} and registry.in_force_at is not None
        members_entries = [e for e in entries if e["author"] in members]
        assert members_entries and all(e["v"] == 2 and "act" in e for e in members_entries)
        keys = sorted(p.name for p in settings.keys_dir.iterdir())
        assert keys == [f"{center.origin}.key"]
        # A browser's key, offered by the red officer, certified by red's root in the office.
        device = generate("red")
        with center.reading() as session:
            red = find_caller(session, seeded.tokens["red-officer"])
        assert red is not None
        from accord.record.canonical import encode_base64

        with center.writing() as unit:
            offer(unit, red, encode_base64(device.public.raw), center.now())
        assert certify_offers(center, offices) == 1
        with center.reading() as session:
            registry = center.cache(REGISTRY).get(session)
        found = registry.get(device.public.key_id)
        assert found is not None and found.user == "red-officer"
        assert certify_offers(center, offices) == 0  # an offer is certified once
    finally:
        center.close()


def test_me_says_whether_the_clock_is_an_exercise_clock(tmp_path: Path, service: Service) -> None:
    """``GET /v1/me`` says ``exercise: true`` under an exercise clock (``now`` its time), and
    ``false`` under any other clock (the tests' fixed one here, the system's in life)."""
    from accord.center.app import create_app
    from accord.chrono import parse_instant
    from support.service import TestClient, add_users

    assert service.get("/v1/me", "observer").json()["exercise"] is False
    settings = settings_for(tmp_path / "exercise")
    tokens = add_users(settings.database_url)
    app = create_app(Parts(settings, clock=exercise_clock(DEMO_START)))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['observer']}"})
    assert answer.status_code == 200, answer.text
    me = answer.json()
    assert me["exercise"] is True
    assert timedelta(0) <= parse_instant(me["now"]) - DEMO_START < timedelta(minutes=1)
