"""The picture selected and paged: ``bbox``, ``kinds``, ``limit`` and ``after`` answer exactly
the objects of the whole picture that they select, in its order, page after page, for every
reader — and select among what that reader sees only, so that no box, kind or page count
tells anything of what it may not see."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.desk import AID, HIDDEN, PICTURE, Desk, operation, start
from support.failures import assert_problem, fields
from support.jig import NOW

READERS = ("blue-officer", "red-officer", "observer", "hnc-notifier")
WEST, SOUTH, EAST, NORTH = 21.0, 24.6, 22.4, 25.9
KINDS = ("protected_site", "position", "coordinated", "message", "unknown-kind")
AT = NOW + timedelta(minutes=30)


def _site(rng: random.Random, i: int) -> dict[str, Any]:
    lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
    if i % 3:
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat]}
    else:
        geometry = {
            "type": "Polygon",
            "coordinates": [
                [[lon, lat], [lon + 0.05, lat], [lon + 0.05, lat + 0.04], [lon, lat], [lon, lat]]
            ],
        }
        geometry["coordinates"][0][3] = [lon, lat + 0.04]
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"kind": "protected_site", "name": f"Depot {i}", "category": "depot"},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A world of shared sites, blue's hidden position, operations and open messages."""
    tmp: Path = tmp_path_factory.mktemp("pages")
    rng = random.Random(5)
    for desk in start(tmp, f"sqlite:///{tmp / 'accord.sqlite'}"):
        desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        desk.clock.set(1)
        for i in range(14):
            owner = ("blue-officer", "red-officer")[i % 2]
            desk.ok(desk.post("/v1/declarations", owner, json=_site(rng, i)))
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=HIDDEN))
        hidden = copy.deepcopy(HIDDEN)
        hidden["geometry"]["coordinates"] = [22.1, 25.7]
        hidden["properties"]["name"] = "HIDDEN-BATTALION-8"
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=hidden))
        desk.clock.set(2)
        for _ in range(6):
            lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
            desk.ok(desk.post("/v1/operations", "red-officer", json=operation(lon, lat, "red")))
        for i in range(3):
            sender, to = (("red-officer", "blue"), ("blue-officer", "red"))[i % 2]
            body = {"to": [to], "subject": f"s{i}", "text": "t"}
            desk.ok(desk.post("/v1/messages", sender, json=body))
        desk.clock.set(40)
        yield desk


def _picture(desk: Desk, user: str, **params: Any) -> dict[str, Any]:
    return desk.ok(desk.get(PICTURE, user, params={"at": AT.isoformat(), **params}), 200)


def _objects(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        *(("declaration", d["id"]) for d in answer["declarations"]),
        *(("operation", o["id"]) for o in answer["operations"]),
        *(("message", m["id"]) for m in answer["messages"]),
    ]


def _expected(
    whole: dict[str, Any], box: tuple[float, float, float, float] | None, kinds: set[str] | None
) -> list[tuple[str, str]]:
    """The oracle: the whole picture's objects, filtered by shapely's bounds of each feature."""
    area = None if box is None else shapely.box(*box)

    def inside(feature: dict[str, Any] | None) -> bool:
        if area is None:
            return True
        if feature is None:
            return False
        return area.intersects(shapely.box(*shapely.geometry.shape(feature["geometry"]).bounds))

    return [
        *(
            ("declaration", d["id"])
            for d in whole["declarations"]
            if (kinds is None or d["kind"] in kinds) and inside(d["feature"])
        ),
        *(
            ("operation", o["id"])
            for o in whole["operations"]
            if (kinds is None or o["category"] in kinds) and inside(o["feature"])
        ),
        *(("message", m["id"]) for m in whole["messages"] if kinds is None or "message" in kinds),
    ]


LONS = st.floats(WEST - 0.3, EAST + 0.3, allow_nan=False)
LATS = st.floats(SOUTH - 0.3, NORTH + 0.3, allow_nan=False)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user=st.sampled_from(READERS),
    lons=st.lists(LONS, min_size=2, max_size=2).map(sorted),
    lats=st.lists(LATS, min_size=2, max_size=2).map(sorted),
    boxed=st.booleans(),
    kinds=st.none() | st.sets(st.sampled_from(KINDS), min_size=1),
    limit=st.none() | st.integers(1, 7),
)
def test_pages_answer_exactly_what_the_selection_picks_from_the_whole_picture(
    world: Desk,
    user: str,
    lons: list[float],
    lats: list[float],
    boxed: bool,
    kinds: set[str] | None,
    limit: int | None,
) -> None:
    whole = _picture(world, user)
    box = (lons[0], lats[0], lons[1], lats[1]) if boxed else None
    params: dict[str, Any] = {}
    if box is not None:
        params["bbox"] = ",".join(repr(x) for x in box)
    if kinds is not None:
        params["kinds"] = ",".join(sorted(kinds))
    if limit is not None:
        params["limit"] = limit
    got: list[tuple[str, str]] = []
    page = _picture(world, user, **params)
    assert page["anomalies"] == whole["anomalies"] and page["unverified"] == whole["unverified"]
    pages = 1
    while True:
        assert limit is None or len(_objects(page)) <= limit
        assert page["proof"] == whole["proof"] and page["phase"] == whole["phase"]
        got += _objects(page)
        if page["next"] is None:
            break
        page = _picture(world, user, **params, after=page["next"])
        assert page["anomalies"] == [] and page["unverified"] == []  # the first page's only
        pages += 1
        assert pages <= 40
    assert got == _expected(whole, box, kinds)
    # A page's objects are the whole picture's, to the byte.
    kinds_of = ("declaration", "operation", "message")
    every = {(k, o["id"]): o for k in kinds_of for o in whole[k + "s"]}
    last = _picture(world, user, **params) if limit is None else page
    for kind in kinds_of:
        for o in last[kind + "s"]:
            assert o == every[(kind, o["id"])]


def test_a_box_around_another_members_hidden_position_answers_as_an_empty_box(
    world: Desk,
) -> None:
    """Red and the monitor asking for a box around blue's hidden positions get what they get
    for a box where there is nothing at all: no declaration, no operation, the same pages."""
    x, y = HIDDEN["geometry"]["coordinates"]
    around = f"{x - 0.001},{y - 0.001},{x + 0.001},{y + 0.001}"
    empty = "10.0,10.0,10.002,10.002"
    for user in ("red-officer", "observer"):
        for params in ({}, {"limit": 1}, {"kinds": "position"}, {"kinds": "position,message"}):
            near = _picture(world, user, bbox=around, **params)
            far = _picture(world, user, bbox=empty, **params)
            assert near["declarations"] == near["operations"] == [], user
            assert near == far  # messages are not placed by a box: the same in both
    # Blue sees its own, opened, in the same box.
    mine = _picture(world, "blue-officer", bbox=around, kinds="position")
    assert [d["feature"]["properties"]["name"] for d in mine["declarations"]] == [
        "HIDDEN-BATTALION-7"
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "1,2,3,4,5"}, "bbox"),
        ({"bbox": "nan,1,2,3"}, "bbox"),
        ({"bbox": "-181,0,1,1"}, "bbox"),
        ({"bbox": "0,-91,1,1"}, "bbox"),
        ({"bbox": "170,0,-170,1"}, "bbox"),
        ({"bbox": "0,1,1,0"}, "bbox"),
        ({"kinds": ",, ,"}, "kinds"),
        ({"kinds": ",".join(f"k{i}" for i in range(65))}, "kinds"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"after": "12"}, "after"),
        ({"after": "x.y"}, "after"),
        ({"after": "-1.2"}, "after"),
    ],
)
def test_a_bad_selection_is_refused_naming_its_field(
    world: Desk, params: dict[str, Any], field: str
) -> None:
    response = world.get(PICTURE, "observer", params={"at": AT.isoformat(), **params})
    assert field in fields(assert_problem(response, 422))


def test_a_page_of_another_prefix_is_refused_and_the_first_page_answers(world: Desk) -> None:
    first = _picture(world, "observer", limit=2)
    entries, offset = first["next"].split(".")
    assert int(entries) == first["proof"]["entries"] and int(offset) == 2
    stale = world.get(
        PICTURE, "observer", params={"at": AT.isoformat(), "limit": 2, "after": f"3.{offset}"}
    )
    assert "after" in fields(assert_problem(stale, 409))
    past = world.get(PICTURE, "observer", params={"at": AT.isoformat(), "after": "999999.999"})
    assert "after" in fields(assert_problem(past, 409))
    beyond = _picture(world, "observer", after=f"{entries}.999999")
    assert _objects(beyond) == [] and beyond["next"] is None
