"""``python -m bench --only nodes``: 1, 2 and 3 nodes on one PostgreSQL (issue 23).

Three ``accord serve`` processes on loopback ports stand for three machines: they share the
database URL and a copy of the first one's keys folder, nothing else (DECISIONS 15). The
agreement names its members' roots; each party's root signed it and the officers' keys are
registered (:mod:`bench.offices`), so every write carries its user's signed act. ``clients``
lean clients (:class:`bench.load.Client`, keep-alive, signing before the request is timed)
spread round-robin over the nodes running declare blue's and red's positions — each a signed
record entry and a deconfliction check — for ``seconds`` with 1 node, then 2, then 3 (each
node added to the running ones). The figure is declarations acknowledged per second and
their latency; the baseline is the same run's one node. The world grows by each stage's
declarations (about 2,500 at 15 s), so a later stage checks each one against more. On one
2-core machine the nodes, PostgreSQL and the clients share the same cores: what it shows is
what a node costs the others, not what more machines would give.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.live import LiveServer
from bench.load import Client, Tally, _database, _origin, _timed
from bench.offices import BenchOffices, members_of, parties_of

__all__ = ["run"]

USERS = {"blue-officer": ("blue", "officer"), "red-officer": ("red", "officer")}


def _position(party: str, n: int) -> dict[str, Any]:
    """A party's ``n``-th position: a point of its own grid (synthetic), shared."""
    lon = (21.0 if party == "blue" else 23.0) + (n % 400) * 0.0005
    lat = 24.0 + (n // 400) * 0.0005
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "kind": "position", "party": party, "disclosure": "shared",
            "valid_from": "2026-09-21T00:00:00Z", "valid_to": "2026-09-23T00:00:00Z",
        },
    }  # fmt: skip


def _drive(
    ports: list[int], tokens: dict[str, str], offices: BenchOffices, origin: str,
    clients: int, seconds: float, start: int,
) -> tuple[Tally, float]:  # fmt: skip
    """``clients`` clients round-robin over ``ports`` declaring for ``seconds``."""
    tally = Tally()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    t0 = time.perf_counter()

    async def one(k: int) -> None:
        user = "blue-officer" if k % 2 == 0 else "red-officer"
        party = user.split("-")[0]
        client = Client(
            "127.0.0.1", ports[k % len(ports)], tokens[user], offices.signer(user, origin, clock)
        )
        n = start + k * 100_000
        try:
            while time.perf_counter() - t0 < seconds:
                body = _position(party, n)
                n += 1
                if await _timed(tally, client, "declare", "POST", "/v1/declarations", body):
                    tally.changes += 1
        finally:
            await client.close()

    async def main() -> None:
        await asyncio.gather(*(one(k) for k in range(clients)))

    asyncio.run(main())
    return tally, time.perf_counter() - t0


def run(
    pg_url: str | None, *, seconds: float = 15.0, clients: int = 12
) -> list[tuple[str, str, str, str]]:
    """The bench's rows (none without a PostgreSQL server, said so)."""
    if not pg_url:
        print("nodes: no PostgreSQL server (make bench starts one; --pg-url): skipped")
        return []
    from accord.examples import example_path

    text = Path(example_path("jig.yaml")).read_text(encoding="utf-8")
    rows: list[tuple[str, str, str, str]] = []
    with _database(pg_url) as url, tempfile.TemporaryDirectory(prefix="accord-nodes-") as tmp:
        assert url is not None
        root = Path(tmp)
        offices = BenchOffices(root / "offices", members_of(text), USERS)
        agreement = root / "agreement.yaml"
        agreement.write_text(offices.rooted(text), encoding="utf-8")
        origin = _origin(agreement)

        def node(name: str) -> LiveServer:
            folder = root / name
            folder.mkdir(mode=0o700)
            return LiveServer(url, folder / "keys", folder / "server.log", agreement_path=agreement)

        nodes = [node("a")]
        tokens = {name: nodes[0].add_user(name, *mr) for name, mr in USERS.items()}
        try:
            nodes[0].start()
            with httpx.Client(base_url=nodes[0].url, timeout=60.0) as client:
                offices.start(
                    client, tokens, origin=origin, clock=lambda: datetime.now(UTC),
                    parties=parties_of(text),
                )  # fmt: skip
            figures: dict[int, tuple[float, Tally]] = {}
            for count in (1, 2, 3):
                while len(nodes) < count:
                    added = node("abc"[len(nodes)])
                    shutil.copytree(nodes[0].keys_dir, added.keys_dir, dirs_exist_ok=True)
                    added.start()
                    nodes.append(added)
                ports = [n.port for n in nodes]
                _drive(ports, tokens, offices, origin, clients, 2.0, count * 1_000_000)  # warm
                tally, spent = _drive(
                    ports, tokens, offices, origin, clients, seconds, count * 1_000_000 + 500_000
                )
                figures[count] = (tally.changes / spent, tally)
                print(
                    f"nodes: {count} on one PostgreSQL: {tally.changes:,} declarations in "
                    f"{spent:.1f} s ({tally.changes / spent:,.0f}/s), p50/p99 "
                    f"{tally.p(0.5) * 1e3:.1f}/{tally.p(0.99) * 1e3:.1f} ms, failures "
                    f"{tally.failures or 'none'}",
                    flush=True,
                )
        finally:
            for n in nodes:
                n.stop()
    one_rate, one = figures[1]
    for count, (rate, tally) in figures.items():
        rows.append(
            (
                f"nodes (`--only nodes`): {count} on one PostgreSQL, declarations/s "
                f"({clients} clients round-robin)",
                f"{rate:,.0f}/s, p99 {tally.p(0.99) * 1e3:.0f} ms",
                f"1 node {one_rate:,.0f}/s, p99 {one.p(0.99) * 1e3:.0f} ms",
                f"{rate / one_rate:.2f}×",
            )
        )
    return rows
