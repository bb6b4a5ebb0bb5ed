"""Hostage workload: one party sends the worst requests the limits allow, back to back;
does the other party's writing still go through?

A live server (``accord serve --writer-process --reader-process``) over a seeded world.
First, alone, the worst requests within the agreement's default limits, one at a time,
timed from send to answer (the writer's time plus the HTTP hop): an operation polygon of
``limits.operation_vertices`` positions shaped as a star whose densified boundary is just
under ``limits.operation_densified_vertices``, over the area where the attacker stacks
its earlier stars (operations check against one another), and a movement of
``limits.vertices_per_geometry`` positions. Then, for ``seconds`` each:

* **baseline**: red's clients alone write (direct-line messages to blue and new positions,
  hidden and shared) — the p99 of red's writes with nobody attacking;
* **under attack**: the same red traffic while blue's ``attackers`` clients send worst
  operations back to back (answered 201, or 429 once blue has spent its share of the
  writer) — the p99 of red's writes;
* **pictures**: the same red traffic while blue's approver asks, from
  :data:`PICTURE_CLIENTS` clients back to back, for the first page of the picture of
  :data:`BOX` five seconds ago — the p99 of red's writes (the pictures are read whole, not
  parsed: the bench's one client process is red's too).

Signing is on (issue 17, :func:`bench.load.served`): every write is signed by its user's own
key, before its timer starts. The attacker draws its operations from 256 stars made before
the phases, each with its JSON and JCS forms computed once (:class:`bench.offices.Sealed`):
each request is still signed afresh (nonce, salt, seal), but the attacker's client does not
spend ~2 ms of the shared cores canonicalising 500 positions per request.

Bounded in count and time; loopback only. The figures and what they leave open are in the
README's *Limits*.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from accord.agreement import load_agreement
from accord.chrono import format_instant
from accord.examples import example_path
from accord.world import densified_vertices
from bench.load import WRITER_PROCESS, Client, Tally, Users, Window, served
from bench.offices import Sealed
from bench.seed import T0
from bench.world import LAT0, LAT1, LON0, LON1, theatre_box

CENTRE = (25.0, 30.0)
"""Where the attacker stacks its stars (the middle of the bench theatre)."""


PICTURE_CLIENTS = 2
"""How many of blue's clients ask for pictures back to back in the pictures' phase."""

SERVE_ARGS = (*WRITER_PROCESS, "--reader-process")
"""How the server runs: the units of work in the writer process, the pictures in the reader
process (at a lower CPU priority: :mod:`accord.center.reader_process`)."""

FIVE_SECONDS = timedelta(seconds=5)
"""How long ago the instant of blue's pictures is (the picture of "now", as a live monitor's)."""

BOX = theatre_box()
"""The box blue's pictures ask for: a fifth of the bench theatre's width and of its height,
in its middle."""


def _star(n: int, outer: float, inner: float, rng: random.Random) -> list[list[list[float]]]:
    lon0 = CENTRE[0] + rng.uniform(-0.05, 0.05)
    lat0 = CENTRE[1] + rng.uniform(-0.05, 0.05)
    ring = []
    for i in range(n - 1):
        r = outer if i % 2 == 0 else inner
        a = 2 * math.pi * i / (n - 1)
        ring.append([round(lon0 + r * math.cos(a), 6), round(lat0 + r * math.sin(a), 6)])
    ring.append(ring[0])
    return [ring]


_WORST: list[list[list[float]]] = []


def worst_star(rng: random.Random) -> list[list[list[float]]]:
    """The spikiest star of the most positions an operation may give, its densified
    boundary just within the limit (found once), moved by up to ~5 km each time."""
    if not _WORST:
        limits = load_agreement(example_path("jig.yaml")).limits
        n = limits.operation_vertices
        most = min(limits.densified_vertices_per_geometry, limits.operation_densified_vertices)
        fixed = random.Random(0)
        outer, inner = 0.5, 0.45
        while (
            inner > 0.01 and densified_vertices([_star(n, outer, inner - 0.01, fixed)[0]]) <= most
        ):
            inner -= 0.01  # deeper spikes, while one more step stays within the limit
        _WORST.extend(_star(n, outer, inner, fixed))
    dx, dy = rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)
    return [[[round(x + dx, 6), round(y + dy, 6)] for x, y in ring] for ring in _WORST]


def _operation(window: Window, geometry: list[list[list[float]]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": geometry},
        "properties": {
            "kind": "operation",
            "category": "coordinated",
            "executors": ["blue"],
            "disclosure": "shared",
            "window_start": window[0],
            "window_end": window[1],
        },
    }


def _long_route() -> dict[str, Any]:
    limits = load_agreement(example_path("jig.yaml")).limits
    n = limits.vertices_per_geometry
    step = 0.0002  # about 20 m: the positions, not the length, are the cost here
    coords = [
        [round(CENTRE[0] - 1.0 + step * i, 6), round(CENTRE[1] + (0.01 if i % 2 else 0.0), 6)]
        for i in range(n)
    ]
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "kind": "movement",
            "disclosure": "shared",
            "corridor_m": 500,
            "valid_from": format_instant(T0),
            "valid_to": format_instant(T0 + timedelta(days=3)),
        },
    }


def _position(rng: random.Random, valid: Window) -> dict[str, Any]:
    # Anywhere in the theatre: red's routine positions, not a cloud under blue's stars (an
    # operation's conflicts, each recorded and announced per audience, grow with the
    # objects under it; see the README's Limits).
    lon, lat = rng.uniform(LON0, LON1), rng.uniform(LAT0, LAT1)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "kind": "position",
            "party": "red",
            "disclosure": rng.choice(["center", "shared"]),
            "uncertainty_m": 200,
            "valid_from": valid[0],
            "valid_to": valid[1],
        },
    }


def _declaring(feature: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The request declaring ``feature``: a hidden one through ``POST
    /v1/declarations/hidden`` (its signed request line names nothing)."""
    if feature["properties"]["disclosure"] == "center":
        return "POST", "/v1/declarations/hidden", {"changes": [
            {"change": "declare", "feature": feature}]}  # fmt: skip
    return "POST", "/v1/declarations", feature


_MESSAGE = {
    "to": ["blue"],
    "subject": "bench",
    "text": "hold fire on grid 7",
    "ack_within": "PT15M",
}


async def timed(tally: Tally, client: Client, method: str, path: str, body: Any) -> int:
    request = client.prepare(method, path, body)  # signed before the clock starts
    t = time.perf_counter()
    tally.requests += 1
    try:
        # Read whole, never parsed: parsing a 1.1 MB picture would hold this event loop,
        # which red's clients share, for ~10 ms (the bench client's cost, not the server's).
        status, _ = await client.send(request, parse=False)
    except (OSError, asyncio.IncompleteReadError):
        tally.fail("transport")
        return 0
    if status < 300:
        tally.latencies.append(time.perf_counter() - t)
        tally.changes += 1
    else:
        tally.fail(str(status))
    return status


async def red_writes(
    users: Users,
    tally: Tally,
    stop: Callable[[], bool],
    seed: int,
    valid: Window,
    *,
    every: float = 0.0,
) -> None:
    """Red's officer writes until ``stop``: direct-line messages to blue and new positions
    (hidden and shared, valid over ``valid``), half and half; back to back, or one starting
    every ``every`` seconds (a late one is sent at once, the next kept to the schedule)."""
    rng = random.Random(seed)
    client = users.client("red-officer")
    loop = asyncio.get_running_loop()
    due = loop.time()
    try:
        while not stop():
            due += every
            if rng.random() < 0.5:
                await timed(tally, client, "POST", "/v1/messages", _MESSAGE)
            else:
                await timed(tally, client, *_declaring(_position(rng, valid)))
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
    finally:
        await client.close()


async def _blue(
    users: Users, tally: Tally, stop: Callable[[], bool], stars: list[Sealed], seed: int
) -> None:
    rng = random.Random(seed)
    client = users.client("blue-officer")
    try:
        while not stop():
            status = await timed(tally, client, "POST", "/v1/operations", rng.choice(stars))
            if status == 429:
                await asyncio.sleep(0.05)  # a patient attacker retries at once, nearly
    finally:
        await client.close()


async def pictures(
    users: Users,
    tally: Tally,
    stop: Callable[[], bool],
    box: str,
    instant: Callable[[], datetime],
) -> None:
    """Blue's approver asks for the picture of ``box`` (its first page of 1,000) at
    ``instant()``, back to back until ``stop``."""
    client = users.client("blue-approver")
    try:
        while not stop():
            at = format_instant(instant())
            path = f"/v1/picture?at={at.replace('+', '%2B')}&bbox={box}&limit=1000"
            if await timed(tally, client, "GET", path, None) == 429:
                await asyncio.sleep(0.05)
    finally:
        await client.close()


def run(
    *,
    objects: int,
    seconds: float = 20.0,
    reds: int = 6,
    attackers: int = 16,
    cache: Path | None = None,
) -> list[tuple[str, ...]]:
    """The bench rows: the worst request alone, and red's p99 with and without the attack."""
    with served(objects, cache=cache, serve_args=SERVE_ARGS) as (_, users, window):
        rng = random.Random(7)
        # The attacker's operations, their JSON and JCS forms made once (each request is
        # still signed afresh: see the module docstring).
        pool = [Sealed.of(_operation(window, worst_star(random.Random(i)))) for i in range(256)]

        async def alone() -> tuple[list[float], list[float], int]:
            stars, routes = [], []
            blue, hnc = users.client("blue-officer"), users.client("hnc-notifier")
            tally = Tally()
            try:
                for _ in range(10):
                    t = time.perf_counter()
                    status = await timed(
                        tally, blue, "POST", "/v1/operations", _operation(window, worst_star(rng))
                    )
                    assert status == 201, status
                    stars.append(time.perf_counter() - t)
                for _ in range(3):
                    t = time.perf_counter()
                    status = await timed(tally, hnc, "POST", "/v1/declarations", _long_route())
                    assert status == 201, status
                    routes.append(time.perf_counter() - t)
            finally:
                await blue.close()
                await hnc.close()
            return stars, routes, densified_vertices([worst_star(rng)[0]])

        stars, routes, dense = asyncio.run(alone())
        print(
            f"hostage: worst operation ({dense:,} engine vertices) alone: "
            f"{', '.join(f'{1e3 * s:.0f}' for s in stars)} ms; "
            f"worst route alone: {', '.join(f'{1e3 * s:.0f}' for s in routes)} ms",
            flush=True,
        )

        valid = (format_instant(T0), format_instant(T0 + timedelta(days=3)))

        def phase(attack: bool, pulled: int = 0) -> tuple[Tally, Tally]:
            red, blue = Tally(), Tally()
            t0 = time.perf_counter()

            def stop() -> bool:
                return time.perf_counter() - t0 > seconds

            async def main() -> None:
                jobs = [red_writes(users, red, stop, i, valid) for i in range(reds)]
                if attack:
                    jobs += [_blue(users, blue, stop, pool, 100 + i) for i in range(attackers)]
                jobs += [
                    pictures(users, blue, stop, BOX, lambda: users.clock() - FIVE_SECONDS)
                    for _ in range(pulled)
                ]
                await asyncio.gather(*jobs)

            asyncio.run(main())
            return red, blue

        phase(False)  # warm-up
        quiet, _ = phase(False)
        loud, attacker = phase(True)
        watched, viewer = phase(False, pulled=PICTURE_CLIENTS)
    for name, tally in (
        ("red alone", quiet),
        ("red under attack", loud),
        ("blue", attacker),
        ("red while blue pulls pictures", watched),
        ("blue's pictures", viewer),
    ):
        print(
            f"hostage, {name}: {tally.changes:,} writes in {seconds:.0f} s, p50 "
            f"{1e3 * tally.p(0.5):.1f} ms, p99 {1e3 * tally.p(0.99):.1f} ms, "
            f"refused {tally.failures}",
            flush=True,
        )
    worst = max(stars)
    return [
        (
            "hostage: worst operation within the limits, alone (max of 10)",
            f"{1e3 * worst:.0f} ms",
            f"worst route {1e3 * max(routes):.0f} ms",
            "",
        ),
        (
            f"hostage: red's write p99 while blue attacks ({attackers} clients)",
            f"{1e3 * loud.p(0.99):.1f} ms",
            f"no attack {1e3 * quiet.p(0.99):.1f} ms",
            f"{loud.p(0.99) / quiet.p(0.99):.1f}×",
        ),
        (
            f"hostage: red's write p99 while blue pulls pictures ({PICTURE_CLIENTS} clients)",
            f"{1e3 * watched.p(0.99):.1f} ms",
            f"no pictures {1e3 * quiet.p(0.99):.1f} ms; {viewer.changes:,} pictures answered, "
            f"p50 {1e3 * viewer.p(0.5):.0f} ms, {viewer.failures.get('429', 0):,} slowed (429)",
            f"{watched.p(0.99) / quiet.p(0.99):.1f}×",
        ),
        (
            "hostage: blue's worst operations answered 201 / 429",
            f"{attacker.changes:,} / {attacker.failures.get('429', 0):,}",
            f"red's writes {quiet.changes:,} alone, {loud.changes:,} under attack",
            "",
        ),
    ]
