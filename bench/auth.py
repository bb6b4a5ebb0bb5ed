"""What a token's check costs on the hot path (every request under ``/v1``, ``GET /v1/me``
the cheapest): a remembered token (no I/O, on the event loop) and one read from the users
table (a miss: a token not remembered, or remembered longer than
:data:`~accord.center.runtime.AUTH_CACHE_SECONDS`).

The cache now holds a token 0.5 s (was 5 s), so that a token rotated or removed in any
process is refused by every process within a second. The figure is the cost that adds per
request for a client at the load bench's pace (about 12 requests a second each: 300/s from
24 clients): one miss per client per 0.5 s instead of per 5 s, i.e. a miss every 6 requests
instead of every 60. Measured in this process over an SQLite file with 100 users.
Bounded: a few thousand checks.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

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
    from accord.center.config import Settings
    from accord.center.db import writer
    from accord.center.identity import add_user
    from accord.center.roles import Role
    from accord.examples import example_path

    agreement = load_agreement(example_path("jig.yaml"))
    with tempfile.TemporaryDirectory(prefix="accord-bench-auth-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'accord.sqlite'}", keys_dir=Path(tmp) / "keys"
        )
        center = runtime.Center.start(settings)
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
    ]
