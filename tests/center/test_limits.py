"""Bounded cost per request, and the writer never held hostage: the attack's 30,000-vertex
star and an ``uncertainty_m`` of 1e300 refused naming the field; the worst request the
limits allow accepted and bounded by its work; one party's worst requests back to back do
not queue another party's write behind more than the bounded work; a member over its share
of the writer's time gets 429 with ``Retry-After`` while others do not; a user's live event
streams are capped (a real server, real sockets)."""

from __future__ import annotations

import copy
import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.agreement import load_agreement
from accord.center.http.admission import admission
from accord.center.operations.world_cache import parse_features
from accord.center.runtime import Unit
from accord.examples import example_path
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from accord.world import Operation
from support.declarations import POSITION
from support.events import SSE, prepare, server
from support.failures import assert_problem
from support.features import spikiest_star, star
from support.jig import AGREEMENT_TEXT
from support.offices import rooted
from support.operations import operation
from support.service import (
    Service,
    center_of,
    started_with_limits,
)

OPS = "/v1/operations"
DECLARATIONS = "/v1/declarations"
EVENTS = "/v1/events"
IN_FLIGHT = 2


def star_operation(n: int, *, outer: float = 0.5, inner: float | None = None) -> dict[str, Any]:
    """An operation over a star of ``n`` positions (``inner`` None: the spikiest the
    agreement's limits allow)."""
    body = operation("op-c1")
    if inner is None:
        most = load_agreement(example_path("jig.yaml")).limits.operation_densified_vertices
        ring = spikiest_star(n, most, outer=outer, lon=21.42, lat=25.12)
    else:
        ring = star(n, outer=outer, inner=inner, lon=21.42, lat=25.12, digits=9)
    body["geometry"] = {"type": "Polygon", "coordinates": ring}
    body["properties"].pop("radius_m")
    return body


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service whose members hold at most two places in the writer's queue."""
    yield from started_with_limits(
        tmp_path_factory.mktemp("limited"), f"{{writes_in_flight: {IN_FLIGHT}}}"
    )


def entries(service: Service) -> list[dict[str, Any]]:
    center = center_of(service)
    with center.reading() as session:
        log = center.log(session)
        return [loads_canonical(open_envelope(data)[2]) for _, data in log.entries()]


# --- one request: refused naming the field, or bounded --------------------------------------


def test_the_30000_vertex_star_is_refused_naming_the_field(limited: Service) -> None:
    before = len(entries(limited))
    body = star_operation(30_000, outer=2.2, inner=0.01)
    assert len(json.dumps(body)) > 600_000  # the attack's 700 KB star
    problem = assert_problem(limited.post(OPS, "blue-officer", json=body), 422)
    (error,) = problem["errors"]
    assert error["field"] == "geometry.coordinates"
    assert "too many vertices" in error["message"] and "antimeridian" not in error["message"]
    assert len(entries(limited)) == before  # nothing half-applied


def test_an_uncertainty_of_1e300_is_refused_naming_the_field(limited: Service) -> None:
    body = copy.deepcopy(POSITION)
    body["properties"]["uncertainty_m"] = 1e300
    problem = assert_problem(limited.post(DECLARATIONS, "blue-officer", json=body), 422)
    assert [e["field"] for e in problem["errors"]] == ["properties.uncertainty_m"]
    assert "limits.uncertainty_m" in problem["errors"][0]["message"]


def test_a_huge_operation_area_is_told_what_is_wrong(limited: Service) -> None:
    body = operation("op-c1")
    body["properties"].pop("radius_m")
    body["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[-100.0, -10.0], [100.0, -10.0], [100.0, 10.0], [-100.0, 10.0],
                         [-100.0, -10.0]]],
    }  # fmt: skip
    problem = assert_problem(limited.post(OPS, "blue-officer", json=body), 422)
    messages = " ".join(e["message"] for e in problem["errors"])
    assert "too wide" in messages and "antimeridian" not in messages


def test_the_worst_operation_the_limits_allow_is_accepted_and_held_at_its_work(
    limited: Service,
) -> None:
    limits = load_agreement(example_path("jig.yaml")).limits
    body = star_operation(limits.operation_vertices)
    response = limited.post(OPS, "blue-officer", json=body)
    assert response.status_code == 201, response.text
    from accord.center.operations.desk import desk

    center = center_of(limited)
    world = desk(center).world
    op_id = response.json()["id"]
    probe = star_operation(5)
    probe["properties"] |= {"id": "op-probe", "declared_by": "red", "proposed_by": "red"}
    (probe_op,) = parse_features(center.agreement, [probe])
    assert isinstance(probe_op, Operation)
    with center.reading() as session:  # the next check reads the stored row into the cache
        world.check(session, probe_op)
    with world._lock:
        held = [
            c
            for layer in (world._tail, *(run.changes for run in world._runs))
            for c in layer.values()
            if c.obj is not None and c.obj.id == op_id
        ]
    assert len(held) == 1  # in the tail, or folded into a run: its weight is its work
    assert limits.operation_densified_vertices * 0.9 < held[0].vertices
    assert held[0].vertices <= limits.operation_densified_vertices


# --- many requests: the writer is never held hostage ----------------------------------------


def test_another_partys_write_does_not_queue_behind_one_partys_flood(limited: Service) -> None:
    """The writer is held (a unit waiting on an event) while blue sends eight of the worst
    operations the limits allow at once: two enter the writer's queue, six wait outside it.
    Red's direct-line message, sent then, enters the queue behind the two, and the writer
    takes members in turn; so the record shows at most one of blue's proposals before red's
    message, not eight."""
    center = center_of(limited)
    gate = admission(center)
    release = threading.Event()

    def plug(unit: Unit) -> None:
        release.wait(30)

    plugged = center.submit(plug)
    start = len(entries(limited))
    answers: dict[str, list[int]] = {"blue": [], "red": []}

    def blue() -> None:
        response = limited.post(OPS, "blue-officer", json=star_operation(499))
        answers["blue"].append(response.status_code)

    def red() -> None:
        body = {"to": ["blue"], "subject": "Hold fire", "text": "Our convoy is on route 7."}
        answers["red"].append(limited.post("/v1/messages", "red-officer", json=body).status_code)

    flood = [threading.Thread(target=blue) for _ in range(8)]
    for thread in flood:
        thread.start()
    try:
        _until(lambda: gate.in_flight("blue") == IN_FLIGHT and gate.waiting("blue") == 6)
        message = threading.Thread(target=red)
        message.start()
        _until(lambda: gate.in_flight("red") == 1)
    finally:
        release.set()
    plugged.result(30)
    message.join(30)
    for thread in flood:
        thread.join(60)
    assert answers == {"blue": [201] * 8, "red": [201]}
    kinds = [e["event"].get("kind") for e in entries(limited)[start:]]
    sent = kinds.index("message.sent")
    before = [k for k in kinds[:sent] if k == "operation.proposed"]
    # The writer takes members in turn: red's message goes right after the first of the two
    # blue units queued (the gate alone would bound it by two, the writer's turns by one).
    assert len(before) <= 1, kinds
    assert gate.stats.most_in_flight["blue"] == IN_FLIGHT


def _until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true"
        time.sleep(0.01)


# --- a member over its share ----------------------------------------------------------------


@pytest.fixture
def stingy(tmp_path: Path) -> Iterator[Service]:
    """A service whose members may take a millisecond of the writer's time, refilled at a
    ten-thousandth of a second per second."""
    yield from started_with_limits(tmp_path, "{writer_burst_s: 0.001, writer_share: 0.0001}")


def test_a_member_over_its_share_is_slowed_and_others_are_not(stingy: Service) -> None:
    first = stingy.post(OPS, "blue-officer", json=operation("op-c1"))
    assert first.status_code == 201, first.text
    again = stingy.post(OPS, "blue-officer", json=operation("op-c2"))
    problem = assert_problem(again, 429)
    assert problem["type"].endswith("rate-limited")
    assert int(again.headers["Retry-After"]) >= 1
    # Another party is not slowed by blue's spending.
    assert stingy.post(OPS, "red-officer", json=operation("op-s1")).status_code == 201
    # Standing down is never refused: blue may still cancel its own operation.
    cancel = stingy.post(f"{OPS}/{first.json()['id']}/cancel", "blue-officer", json={"reason": "x"})
    assert cancel.status_code != 429, cancel.text
    assert assert_problem(stingy.post(OPS, "blue-officer", json=operation("op-c2")), 429)


def test_the_centers_feed_spends_the_centers_share_not_a_partys(stingy: Service) -> None:
    """The administrator (the center's air-picture feed) belongs to blue in the tests' users,
    yet its writes are the center's own: they spend the center's share, so a feed over its
    share leaves blue's officers their own."""
    feed = [
        {"id": f"g{k}", "operator": "unknown", "party": None, "mission": "unknown",
         "time": "2026-09-20T10:00:00Z", "lat": 25.0, "lon": 21.0 + k / 100, "alt_ft": 30000,
         "gs_kt": 400, "track_deg": 90, "vs_fpm": 0}
        for k in range(3)
    ]  # fmt: skip
    assert stingy.post("/v1/tracks", "admin", json={"tracks": feed[:1]}).status_code == 200
    assert_problem(stingy.post("/v1/tracks", "admin", json={"tracks": feed[1:]}), 429)
    assert stingy.post(OPS, "blue-officer", json=operation("op-c1")).status_code == 201


@pytest.fixture
def stingy_reads(tmp_path: Path) -> Iterator[Service]:
    yield from started_with_limits(tmp_path, "{read_burst_s: 0.001, read_share: 0.0001}")


def test_a_member_over_its_read_share_is_slowed_and_cheap_reads_are_not(
    stingy_reads: Service,
) -> None:
    assert stingy_reads.get("/v1/world", "blue-officer").status_code == 200
    slowed = stingy_reads.get("/v1/world", "blue-officer")
    assert assert_problem(slowed, 429)["type"].endswith("rate-limited")
    assert int(slowed.headers["Retry-After"]) >= 1
    assert stingy_reads.get("/v1/me", "blue-officer").status_code == 200  # a look-up
    assert stingy_reads.get("/v1/world", "red-officer").status_code == 200  # another member
    # Writes are another budget.
    assert stingy_reads.post(OPS, "blue-officer", json=operation("op-c1")).status_code == 201


# --- live event streams ---------------------------------------------------------------------


def test_a_users_live_streams_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agreement.yaml"
    text = rooted(AGREEMENT_TEXT + "limits: {event_streams_per_user: 2}\n")
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ACCORD_AGREEMENT", str(path))
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    tokens = prepare(tmp_path, url)
    with server(tmp_path, url, tokens) as running:
        opened: list[httpx.Response] = []
        streams = []
        try:
            for _ in range(2):
                stream = httpx.stream(
                    "GET", running.base + EVENTS, headers={**running.auth("blue-officer"), **SSE},
                    timeout=httpx.Timeout(30),
                )  # fmt: skip
                streams.append(stream)
                opened.append(stream.__enter__())
            assert [r.status_code for r in opened] == [200, 200]
            third = httpx.get(
                running.base + EVENTS, headers={**running.auth("blue-officer"), **SSE}, timeout=10
            )
            assert_problem(third, 429)
            assert "Retry-After" in third.headers
            # Another user is not held to blue's streams.
            with httpx.stream(
                "GET", running.base + EVENTS, headers={**running.auth("red-officer"), **SSE},
                timeout=httpx.Timeout(30),
            ) as other:  # fmt: skip
                assert other.status_code == 200
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
        # A closed stream frees its place.
        deadline = time.monotonic() + 20
        while True:
            with httpx.stream(
                "GET", running.base + EVENTS, headers={**running.auth("blue-officer"), **SSE},
                timeout=httpx.Timeout(30),
            ) as again:  # fmt: skip
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "a closed stream kept its place"
            time.sleep(0.2)


def test_the_writer_takes_members_in_turn() -> None:
    """The writer's queue: each member's jobs in order, the members in turn; the center's
    own works ("" member) take their turn like any member's; closing ends it once empty."""
    from concurrent.futures import Future
    from functools import partial

    from accord.center.http.admission import Timed
    from accord.center.runtime import _FairQueue, _Job

    def job(member: str, n: int) -> _Job:
        return _Job(Timed(partial(int, n), member), Future())

    fair = _FairQueue()
    for n in range(5):
        fair.put(job("blue", n))
    fair.put(job("red", 100))
    fair.put(_Job(partial(int, 200), Future()))  # the center's own
    fair.put(job("red", 101))
    fair.put(None)
    order = []
    while (taken := fair.get()) is not None:
        work = taken.work
        member = work.member if isinstance(work, Timed) else ""
        order.append((member, work.work.args[0] if isinstance(work, Timed) else 200))
    assert order == [
        ("blue", 0), ("red", 100), ("", 200), ("blue", 1), ("red", 101),
        ("blue", 2), ("blue", 3), ("blue", 4),
    ]  # fmt: skip
    with pytest.raises(queue.Empty):
        _FairQueue().get_nowait()


def test_the_writer_serves_the_member_that_took_least_of_its_time() -> None:
    """Fair by cost, not by count: once blue's unit took 200 ms, red's four cheap units all
    go before blue's next one; and a member back from idle earns no credit for its idle
    time."""
    from concurrent.futures import Future
    from functools import partial

    from accord.center.http.admission import Timed
    from accord.center.runtime import _FairQueue, _Job

    def job(member: str, n: int) -> _Job:
        return _Job(Timed(partial(int, n), member), Future())

    fair = _FairQueue()
    for n in range(3):
        fair.put(job("blue", n))
    first = fair.get()
    assert first is not None
    fair.charge(first.work, 0.2)
    for n in range(4):
        fair.put(job("red", 100 + n))
    served = []
    for _ in range(6):
        taken = fair.get_nowait()
        assert taken is not None and isinstance(taken.work, Timed)
        served.append((taken.work.member, taken.work.work.args[0]))
        fair.charge(taken.work, 0.2 if taken.work.member == "blue" else 0.002)
    assert served == [
        ("red", 100), ("red", 101), ("red", 102), ("red", 103), ("blue", 1), ("blue", 2),
    ]  # fmt: skip
    # Green, idle all along, comes in level with the member served last (blue, at 0.4 s),
    # not 0.4 s ahead of everyone: it gets no run of the writer for having been away.
    fair.put(job("green", 7))
    assert fair._used["green"] == pytest.approx(0.4)
    # A unit expected to be long does not join a group already open: the group commits
    # first, so that the answers in it do not wait for that unit.
    fair = _FairQueue()
    fair.put(job("blue", 0))
    taken = fair.get()
    assert taken is not None
    fair.charge(taken.work, 0.2)
    fair.put(job("blue", 1))
    with pytest.raises(queue.Empty):
        fair.get_nowait(within=0.01)
    assert fair.get() is not None
