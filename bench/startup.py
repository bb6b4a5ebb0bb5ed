"""Start-up to serving over a 100,000-object world (issue 24): ``accord serve`` restarted over
the same database until ``/readyz`` answers ready (the database answers and this process has
verified the record up to its top), and the process's resident memory then.

Accord: the restart resumes from the center's signed verification checkpoint (kept by the
first start once it had verified everything: :mod:`accord.center.picture.checkpoints`),
checking that the stored leaf hashes fold to its root, and verifies only what is newer.
Baseline, same run, same database: the same restart with the checkpoints removed — every
entry's signature checked again, as every start did before.

Bounded: two restarts each, loopback only.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.live import LiveServer
from bench.load import SERVE_ARGS, served


def rss_mb(pid: int) -> int:
    """The resident memory of process ``pid`` and of the processes it started (a writer or
    reader process), in MB (``VmRSS``, summed)."""
    return sum(rss_each(pid)) // 1024


def rss_each(pid: int) -> list[int]:
    """The resident memory (kB) of process ``pid``, then of each process it started."""
    found = []
    for one in (pid, *_children(pid)):
        status = Path(f"/proc/{one}/status").read_text()
        found.append(next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS")))
    return found


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def restarted_ready(
    server: LiveServer, extra: tuple[str, ...], token: str
) -> tuple[float, int, float]:
    """Seconds from the command to ``/readyz`` ready, the process's RSS (MB) then, and the
    seconds the first compliance report then takes (the judge folded in the background)."""
    server.stop()
    t = time.perf_counter()
    server.start(timeout=600.0, extra=extra)
    server.wait_for("/readyz", timeout=600.0, every=0.05)
    spent = time.perf_counter() - t
    assert server.process is not None
    rss = rss_mb(server.process.pid)
    t = time.perf_counter()
    report = httpx.get(
        f"{server.url}/v1/compliance", headers={"Authorization": f"Bearer {token}"}, timeout=600
    )
    assert report.status_code == 200, report.text[:300]
    return spent, rss, time.perf_counter() - t


def run(*, objects: int, cache: Path | None = None) -> list[tuple[str, ...]]:
    """Restart the server with and without its checkpoint; time each to ready."""
    from accord.chrono import format_instant
    from bench.seed import T0

    extra = ("--clock-start", format_instant(T0), *SERVE_ARGS)
    with served(objects, cache=cache) as (server, users, _):
        token = users.tokens["blue-officer"]
        engine = create_engine(server.database_url)
        try:
            with engine.connect() as connection:
                size = connection.execute(text("SELECT count(*) FROM record_leaves")).scalar()
            deadline = time.monotonic() + 300  # the first start keeps its checkpoint
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    kept = connection.execute(text("SELECT max(size) FROM verified_checkpoints"))
                    if kept.scalar() == size:
                        break
                time.sleep(0.2)
            resumed = [restarted_ready(server, extra, token) for _ in range(2)]
            afresh = []
            for _ in range(2):
                with engine.begin() as connection:
                    connection.execute(text("DELETE FROM verified_checkpoints"))
                afresh.append(restarted_ready(server, extra, token))
        finally:
            engine.dispose()
    seconds = statistics.median(s for s, _, _ in resumed)
    baseline = statistics.median(s for s, _, _ in afresh)
    rss, rss_afresh = max(r for _, r, _ in resumed), max(r for _, r, _ in afresh)
    first = statistics.median(f for _, _, f in resumed)
    print(f"startup: {size:,} entries; resumed {resumed}, afresh {afresh}", flush=True)
    return [
        (
            f"accord serve to /readyz ready, {size:,}-entry record (RSS then)",
            f"{seconds:.1f} s ({rss} MB)",
            f"verifying every entry again {baseline:.1f} s ({rss_afresh} MB)",
            f"{baseline / seconds:.1f}×",
        ),
        (
            f"first GET /v1/compliance once ready, resumed, {size:,}-entry record",
            f"{first:.2f} s",
            "",
            "",
        ),
    ]
