"""What a token's check costs on the hot path (every request under ``/v1``, ``GET /v1/me``
the cheapest): a remembered token (no I/O, on the event loop) and one read from the users
table (a miss: a token not remembered, or remembered longer than
:data:`~accord.center.runtime.AUTH_CACHE_SECONDS`).

The cache now holds a token 0.5 s (was 5 s), so that a token rotated or removed in any
process is refused by every process within a second. The figure is the cost that adds per
request for a client at the load bench's pace (about 12 requests a second each: 300/s from
24 clients): one miss per client per 0.5 s instead of per 5 s, i.e. a miss every 6 requests
instead of every 60. Measured in this process over an SQLite file with 100 users; then end
to end, ``GET /v1/me`` against ``accord serve`` on loopback: back to back, and after an idle
pause just within and just beyond the cache (the same pause either way, so that the
difference is the read, not the idle connection). Bounded: a few thousand checks, 320
requests (about 11 s).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.offices import rooted_example

if TYPE_CHECKING:
    from accord.agreement import Agreement

PER_CLIENT_RATE = 12.0
"""Requests a second of one load-bench client."""


def _per_call(calls: int, check: object) -> float:
    assert callable(check)
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(calls):
            check()
        samples.append((time.perf_counter() - t) / calls)
    return statistics.median(samples)


def run() -> list[tuple[str, ...]]:
    """The hit and miss costs, and what the shorter cache adds per request."""
    from sqlalchemy.orm import Session

    from accord.agreement import load_agreement
    from accord.center import runtime
    from accord.center.bootstrap import Parts
    from accord.center.config import Settings
    from accord.center.db import writer
    from accord.center.identity import add_user
    from accord.center.roles import Role
    from accord.examples import example_path

    agreement = load_agreement(example_path("jig.yaml"))
    with tempfile.TemporaryDirectory(prefix="accord-bench-auth-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'accord.sqlite'}",
            keys_dir=Path(tmp) / "keys",
            agreement_path=rooted_example(Path(tmp)),
        )
        center = Parts(settings).open()
        try:
            now = datetime.now(UTC)
            with Session(writer(center.engine)) as session, session.begin():
                tokens = [
                    add_user(
                        session, agreement, name=f"u{i}", member="blue", role=Role.OFFICER, at=now
                    )
                    for i in range(100)
                ]
            token = tokens[0]
            center.authenticate(token)
            hit = _per_call(20_000, lambda: center.remembered(token))

            def miss() -> None:
                center.forget_tokens()
                center.authenticate(token)

            read = _per_call(500, miss)
        finally:
            center.close()
    ttl = runtime.AUTH_CACHE_SECONDS
    added = (read - hit) / (PER_CLIENT_RATE * ttl) - (read - hit) / (PER_CLIENT_RATE * 5.0)
    back_to_back, remembered, reread = _served_me(agreement, ttl)
    return [
        (
            f"auth: token check, cache {ttl:g} s",
            f"{hit * 1e6:.1f} µs hit",
            f"{read * 1e6:.0f} µs a read (miss)",
            "",
        ),
        (
            f"auth: added per request vs 5 s (at {PER_CLIENT_RATE:g}/s a client)",
            f"{added * 1e6:.1f} µs",
            f"a miss every {PER_CLIENT_RATE * ttl:g} requests, was {PER_CLIENT_RATE * 5:g}",
            "",
        ),
        (
            "auth: GET /v1/me on a live server, median",
            f"{back_to_back * 1e3:.2f} ms back to back",
            "",
            "",
        ),
        (
            f"auth: GET /v1/me after {ttl * 0.8:g} s / {ttl + 0.1:g} s idle",
            f"{remembered * 1e3:.2f} ms remembered",
            f"{reread * 1e3:.2f} ms token read again",
            f"{reread / remembered:.2f}x",
        ),
    ]


def _served_me(agreement: Agreement, ttl: float) -> tuple[float, float, float]:
    """``GET /v1/me`` over loopback against ``accord serve``: the median of 300 back to
    back, of 10 spaced just within the cache (remembered) and of 10 spaced just beyond it
    (each reads the token again)."""
    from sqlalchemy.orm import Session

    from accord.center.db import make_engine, upgrade, writer
    from accord.center.identity import add_user
    from accord.center.roles import Role
    from bench.live import LiveServer

    with tempfile.TemporaryDirectory(prefix="accord-bench-auth-") as tmp:
        root = Path(tmp)
        server = LiveServer(
            f"sqlite:///{root / 'accord.sqlite'}", root / "keys", root / "log",
            agreement_path=rooted_example(root),
        )  # fmt: skip
        engine = make_engine(server.database_url)
        try:
            upgrade(engine)
            with Session(writer(engine)) as session, session.begin():
                token = add_user(
                    session,
                    agreement,
                    name="o",
                    member="blue",
                    role=Role.OFFICER,
                    at=datetime.now(UTC),
                )
        finally:
            engine.dispose()
        server.start(extra=("--no-access-log",))
        try:
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:

                def timed() -> float:
                    t = time.perf_counter()
                    assert client.get("/v1/me").status_code == 200
                    return time.perf_counter() - t

                for _ in range(20):
                    timed()
                back_to_back = statistics.median(timed() for _ in range(300))

                def spaced(pause: float) -> float:
                    times = []
                    for _ in range(10):
                        time.sleep(pause)
                        times.append(timed())
                    return statistics.median(times)

                # Idle as long either way, remembered or not: the difference is the read.
                remembered, reread = spaced(ttl * 0.8), spaced(ttl + 0.1)
                return back_to_back, remembered, reread
        finally:
            server.stop()
