"""Load workload: a live server on loopback, many concurrent clients of two parties.

The world holds ``objects`` declared objects (sites, positions, movements, flight plans),
seeded through the service's own code before the server starts. Then, for ``seconds`` (and
at most ``max_changes`` state changes), ``clients`` concurrent clients work as the two
parties would: blue's officers propose coordinated operations (each proposal runs the
deconfliction engine over the whole world and writes a signed record entry), red's approvers
approve them, red's officers send direct-line messages to blue and blue's officers
acknowledge them naming the content hash. Every request is timed from send to answer.

Baseline, same run, same clients: ``GET /v1/me`` (authentication, one read, no change):
what the HTTP stack answers when there is nothing to do.

Bounded in count and time; loopback only.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.live import LiveServer

USERS = {
    "blue-officer": ("blue", "officer"),
    "blue-approver": ("blue", "approver"),
    "red-officer": ("red", "officer"),
    "red-approver": ("red", "approver"),
    "hnc-notifier": ("hnc", "notifier"),
}


@dataclass
class Tally:
    """Latencies (seconds) of the answered requests, and the failures."""

    latencies: list[float] = field(default_factory=list)
    changes: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1

    def p(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


async def _timed(tally: Tally, call: Awaitable[httpx.Response], what: str) -> httpx.Response | None:
    t = time.perf_counter()
    try:
        response = await call
    except httpx.HTTPError:
        tally.fail(f"{what}: transport")
        return None
    tally.latencies.append(time.perf_counter() - t)
    if response.status_code >= 300:
        tally.fail(f"{what}: {response.status_code}")
        return None
    return response


def _operation(rng: random.Random, window: tuple[str, str]) -> dict[str, Any]:
    lon, lat = 21.0 + rng.random() * 9.0, 25.0 + rng.random() * 9.0
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "kind": "operation",
            "category": "coordinated",
            "executors": ["blue"],
            "radius_m": rng.choice([200, 500, 1000, 3000]),
            "disclosure": "shared",
            "window_start": window[0],
            "window_end": window[1],
        },
    }


async def _party_pair(
    base: str,
    tokens: dict[str, str],
    tally: Tally,
    stop: Callable[[], bool],
    seed: int,
    window: tuple[str, str],
) -> None:
    """Three clients (blue's officer, red's approver, red's officer) in a cycle, repeated:
    blue proposes, red approves (with an override reason only when blocking conflicts
    stand), red sends a message to blue, blue acknowledges it."""
    rng = random.Random(seed)

    def client(user: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {tokens[user]}"}, timeout=30.0
        )

    async with (
        client("blue-officer") as blue,
        client("red-approver") as red_approver,
        client("red-officer") as red,
    ):
        while not stop():
            proposed = await _timed(
                tally, blue.post("/v1/operations", json=_operation(rng, window)), "propose"
            )
            if proposed is not None:
                tally.changes += 1
                answer = proposed.json()
                blocking = answer.get("blocking_conflicts", 0) > 0
                approval = {"override_reason": "bench: the conflicts are accepted"}
                if await _timed(
                    tally,
                    red_approver.post(
                        f"/v1/operations/{answer['id']}/approve",
                        json=approval if blocking else {},
                    ),
                    "approve",
                ):
                    tally.changes += 1
            sent = await _timed(
                tally,
                red.post(
                    "/v1/messages",
                    json={
                        "to": ["blue"],
                        "subject": "bench",
                        "text": "position report",
                        "ack_within": "PT15M",
                    },
                ),
                "message",
            )
            if sent is not None:
                tally.changes += 1
                body = sent.json()
                if await _timed(
                    tally,
                    blue.post(
                        f"/v1/messages/{body['id']}/acknowledge",
                        json={"content_hash": body["content_hash"]},
                    ),
                    "acknowledge",
                ):
                    tally.changes += 1


async def _reads(base: str, token: str, tally: Tally, stop: Callable[[], bool]) -> None:
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
    ) as c:
        while not stop():
            if await _timed(tally, c.get("/v1/me"), "me"):
                tally.changes += 1


def _drive(
    server: LiveServer,
    tokens: dict[str, str],
    *,
    pairs: int,
    seconds: float,
    max_changes: int,
    baseline: bool,
    window: tuple[str, str],
) -> tuple[Tally, float]:
    tally = Tally()
    t0 = time.perf_counter()

    def stop() -> bool:
        return time.perf_counter() - t0 > seconds or tally.changes >= max_changes

    async def main() -> None:
        if baseline:
            jobs = [
                _reads(server.url, tokens["blue-officer"], tally, stop) for _ in range(3 * pairs)
            ]
        else:
            jobs = [
                _party_pair(server.url, tokens, tally, stop, seed, window) for seed in range(pairs)
            ]
        await asyncio.gather(*jobs)

    asyncio.run(main())
    return tally, time.perf_counter() - t0


@contextmanager
def _database(server_url: str | None) -> Iterator[str | None]:
    """A fresh database on the PostgreSQL server at ``server_url`` (dropped afterwards), or
    ``None`` without a server."""
    if not server_url:
        yield None
        return
    from sqlalchemy import create_engine, make_url, text

    base = make_url(server_url)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"accord_load_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def run(
    *,
    objects: int,
    pairs: int = 8,
    seconds: float = 20.0,
    max_changes: int = 20_000,
    database_url: str | None = None,
    label: str = "SQLite",
) -> list[tuple[str, ...]]:
    """Seed, serve, load; the bench rows."""
    from accord.chrono import format_instant
    from bench.seed import T0, seed_world  # the service's own code, imported late

    with (
        tempfile.TemporaryDirectory(prefix="accord-load-") as tmp,
        _database(database_url) as pg_url,
    ):
        root = Path(tmp)
        url = pg_url or f"sqlite:///{root / 'accord.sqlite'}"
        server = LiveServer(url, root / "keys", root / "server.log")
        tokens = {name: server.add_user(name, *mr) for name, mr in USERS.items()}
        t = time.perf_counter()
        window = seed_world(url, root / "keys", objects=objects)
        print(
            f"load: {objects:,} declared objects seeded in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        server.start(timeout=180.0, extra=("--clock-start", format_instant(T0)))
        try:
            confirm = httpx.post(
                f"{server.url}/v1/phases/confirm",
                json={"condition": "aid-delivered-east-city"},
                headers={"Authorization": f"Bearer {tokens['hnc-notifier']}"},
                timeout=30.0,
            )
            assert confirm.status_code in (201, 409), confirm.text
            _drive(  # warm-up, not counted: connections, worker threads, caches
                server,
                tokens,
                pairs=pairs,
                seconds=2.0,
                max_changes=max_changes,
                baseline=True,
                window=window,
            )
            base, base_s = _drive(
                server,
                tokens,
                pairs=pairs,
                seconds=max(5.0, seconds / 4),
                max_changes=max_changes,
                baseline=True,
                window=window,
            )
            load, load_s = _drive(
                server,
                tokens,
                pairs=pairs,
                seconds=seconds,
                max_changes=max_changes,
                baseline=False,
                window=window,
            )
        finally:
            server.stop()
    if load.failures:
        print(f"load failures: {load.failures}", flush=True)
    rate, base_rate = load.changes / load_s, base.changes / base_s
    return [
        (
            f"load, {label}: state changes/s ({3 * pairs} clients)",
            f"{rate:,.0f}/s",
            f"GET /v1/me {base_rate:,.0f}/s",
            f"{rate / base_rate:.2f}×",
        ),
        (
            f"load, {label}: latency p50 / p99",
            f"{load.p(0.5) * 1e3:.1f} / {load.p(0.99) * 1e3:.1f} ms",
            f"{base.p(0.5) * 1e3:.1f} / {base.p(0.99) * 1e3:.1f} ms",
            f"{load.p(0.99) / base.p(0.99):.1f}×",
        ),
    ]
