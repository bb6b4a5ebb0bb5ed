"""``python -m bench --only week``: a week-long exercise's record (issue 24), and every read
over it.

The world: :func:`bench.week.seed_week` writes a week of exercise — declarations, amendments
and withdrawals, operations through their life cycles, direct-line messages and escalations,
airspace alerts from a track feed — through the service's own code, to ``entries`` entries,
seeded once and kept (``--keep-world``) like the load's world. Once written, the kept world
is settled in process as a first serving process would leave it: the record verified, the
center's verification checkpoint and the picture's snapshots kept (what a restart then
resumes from). With a PostgreSQL server named (``ACCORD_BENCH_PG_URL``, or under
``scripts/pg-test-server run``), the same again on PostgreSQL at a tenth of the entries, in
a fresh database seeded at every run (a million would take over an hour to write).

Over a server started on it (its clock a day after the week's end):

* ``GET /v1/compliance`` (blue's officer): the median of :data:`ASKED` requests. Baseline,
  same database: the report folded from every entry in this process (``findings``), and a
  fresh check of every entry (``read_record``, what ``accord verify`` does to each).
* ``GET /v1/picture?at=T&bbox=…&limit=1000`` for :data:`ASKED` instants drawn in the week, a
  fifth of the theatre's width and height (:func:`bench.world.theatre_box`), blue's officer
  and red's approver in turn: the median. Baseline: the same requests answered in this
  process with no snapshot to start from (the whole prefix read and folded), for three of
  the instants.
* ``accord serve --reader-process`` (:data:`READS`) to ``/readyz`` ready, resumed from the
  checkpoint, and the RSS of the server's processes (the HTTP process and the reader) then
  and at the end; and its first compliance report, the judge folded on from the checkpoint
  the first server's keeper wrote (waited for before the restart).
* Other parties' writes while a monitor asks for pictures back to back: red's
  :data:`REDS` clients write (direct-line messages and positions, as in the hostage bench,
  each client one every :data:`RED_EVERY` seconds) for :data:`PHASE_SECONDS`, first alone,
  then while blue's approver asks from :data:`bench.hostage.PICTURE_CLIENTS` clients for
  the boxed picture at a random instant of the week, back to back: the p99 of red's writes
  in each (issue 24's third target).

Bounded: the requests counted above and the phases' seconds; loopback only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.hostage import PICTURE_CLIENTS, pictures, red_writes
from bench.load import SERVE_ARGS, Tally, Users, Window, served, server_clock
from bench.reads import fold_afresh, timed_get
from bench.startup import restarted_ready, rss_each, rss_mb
from bench.world import theatre_box

ASKED = 15
"""How many of each request are timed."""

READS = ("--reader-process",)
"""How the week's server runs once restarted: the pictures folded in the reader process (as
a center serving a week-long exercise would run), its memory counted with the server's."""

WEEK_DAYS = 7

REDS = 6
"""Red's clients writing in the write phases (the hostage bench's number)."""

RED_EVERY = 0.125
"""Seconds between the starts of each red client's writes: 48 writes a second in all, about
30 times the week's own rate and within red's share of the writer (back to back, red's six
clients spend it and are answered 429: the hostage bench's concern, not this one's)."""

PHASE_SECONDS = 20.0
"""How long each write phase runs (after a warm-up of a quarter of it)."""


def _writes_under_pictures(
    users: Users, box: str, start: datetime, now: datetime
) -> tuple[Tally, Tally, Tally]:
    """Red's writes alone, red's writes while blue's approver pulls pictures of instants in
    the week from ``start``, and those pictures: three tallies."""
    from accord.chrono import format_instant

    valid = (format_instant(now), format_instant(now + timedelta(days=3)))
    drawn = random.Random(25)

    def instant() -> datetime:
        return start + timedelta(seconds=drawn.uniform(0, WEEK_DAYS * 86400))

    def phase(seconds: float, pulled: int) -> tuple[Tally, Tally]:
        red, monitor = Tally(), Tally()
        t0 = time.perf_counter()

        def stop() -> bool:
            return time.perf_counter() - t0 > seconds

        async def main() -> None:
            jobs = [red_writes(users, red, stop, i, valid, every=RED_EVERY) for i in range(REDS)]
            jobs += [pictures(users, monitor, stop, box, instant) for _ in range(pulled)]
            await asyncio.gather(*jobs)

        asyncio.run(main())
        return red, monitor

    phase(PHASE_SECONDS / 4, 0)  # warm-up
    alone, _ = phase(PHASE_SECONDS, 0)
    watched, monitor = phase(PHASE_SECONDS, PICTURE_CLIENTS)
    return alone, watched, monitor


def _settle(url: str, keys_dir: Path, agreement: Path) -> None:
    """Verify the kept world's record, keep its checkpoint and the picture's snapshots."""
    from accord.center.bootstrap import Parts
    from accord.center.config import Settings
    from accord.center.picture import checkpoints, snapshots
    from accord.center.picture.verified import verified_of, warm_record
    from bench.seed import T0

    settings = Settings(database_url=url, keys_dir=keys_dir, agreement_path=agreement)
    center = Parts(settings, clock=lambda: T0 + timedelta(days=WEEK_DAYS + 1)).open()
    try:
        t = time.perf_counter()
        warm_record(center, threading.Event())
        checkpoints.save(center, verified_of(center))
        verified = time.perf_counter() - t
        t = time.perf_counter()
        written = snapshots.keep(center)
        print(
            f"week: verified in {verified:.0f} s; {written} sizes of snapshots in "
            f"{time.perf_counter() - t:.0f} s",
            flush=True,
        )
    finally:
        center.close()


def _judge_kept(url: str, *, timeout: float = 600.0) -> int:
    """Wait until the first server's keeper has written the compliance judge it folded at
    its first report (a checkpoint, :mod:`accord.center.picture.judge_checkpoints`), as a
    server running through the week would have; its size (0 for a record shorter than the
    checkpoints' spacing: none is taken)."""
    from sqlalchemy import create_engine, text

    from accord.center.picture import judge_checkpoints

    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as connection:
            entries = connection.execute(text("SELECT count(*) FROM record_leaves")).scalar()
        if int(entries or 0) < judge_checkpoints.EVERY:
            return 0
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                size = connection.execute(text("SELECT max(size) FROM judge_checkpoints"))
                kept = size.scalar()
            if kept:
                return int(kept)
            time.sleep(1.0)
    finally:
        engine.dispose()
    raise RuntimeError("no checkpoint of the compliance judge was written")


def _rss(on: str, when: str, pid: int) -> None:
    """Print the RSS of the server's processes (the HTTP process, then the reader)."""
    each = ", ".join(f"{kb // 1024} MB" for kb in rss_each(pid))
    print(f"week{on}: RSS {when}, the HTTP process then the reader: {each}", flush=True)


def week_seeder(entries: int) -> Any:
    """The week's world for :func:`bench.load.served`: written, then settled."""

    def seed(url: str, keys_dir: Path, agreement: Path, keys: dict[str, Any]) -> Window:
        from accord.chrono import format_instant
        from bench.seed import T0
        from bench.week import seed_week

        week = seed_week(
            url, keys_dir, entries=entries, agreement_path=agreement, keys=keys, start=T0
        )
        print(
            f"week: {week.entries:,} entries in {week.seconds:.0f} s ({week.rate:.0f}/s): "
            + ", ".join(f"{k} {n:,}" for k, n in sorted(week.families.items())),
            flush=True,
        )
        _settle(url, keys_dir, agreement)
        end = T0 + timedelta(days=WEEK_DAYS)
        return format_instant(T0), format_instant(end)

    return seed


def run(
    *, entries: int, cache: Path | None = None, pg_url: str | None = None
) -> list[tuple[str, ...]]:
    """Seed (or take the kept) week, serve it, time the reads against their baselines; on
    the PostgreSQL server at ``pg_url`` when given (a fresh database, seeded, never kept)."""
    from accord.center.bootstrap import Parts
    from accord.center.config import Settings
    from accord.center.identity import Caller
    from accord.center.picture import snapshots
    from accord.center.picture.service import Selection, picture
    from accord.center.roles import Role
    from accord.chrono import format_instant
    from bench.seed import T0

    end = T0 + timedelta(days=WEEK_DAYS)
    rng = random.Random(24)
    instants = [T0 + timedelta(seconds=rng.uniform(0, WEEK_DAYS * 86400)) for _ in range(ASKED)]
    box = theatre_box()
    on = "" if pg_url is None else ", PostgreSQL"
    with served(
        0,
        pg_url,
        cache=cache,
        seeder=week_seeder(entries),
        name=f"week-{entries}-v1",
        clock_start=end + timedelta(days=1),
    ) as (server, users, _):
        assert server.process is not None and server.agreement_path is not None
        t = time.perf_counter()
        judged = _judge_kept(server.database_url)
        print(
            f"week{on}: the first server's judge kept at {judged:,} entries "
            f"({time.perf_counter() - t:.0f} s after its first report)",
            flush=True,
        )
        now = end + timedelta(days=1)
        since = time.monotonic()
        ready, rss_ready, first = restarted_ready(
            server,
            ("--clock-start", format_instant(now), *SERVE_ARGS, *READS),
            users.tokens["blue-officer"],
        )
        # the acts' clock is the restarted server's
        users = dataclasses.replace(users, clock=server_clock(now, since))
        readers = [
            httpx.Client(
                base_url=server.url,
                headers={"Authorization": f"Bearer {users.tokens[user]}"},
                timeout=600.0,
            )
            for user in ("blue-officer", "red-approver")
        ]
        pid = server.process.pid
        _rss(on, "at ready", pid)
        try:
            compliance = statistics.median(
                timed_get(readers[0], "/v1/compliance") for _ in range(ASKED)
            )
            _rss(on, "after the compliance reports", pid)
            pictures = [
                timed_get(
                    readers[i % 2],
                    "/v1/picture",
                    {"at": format_instant(at), "bbox": box, "limit": "1000"},
                )
                for i, at in enumerate(instants)
            ]
        finally:
            for client in readers:
                client.close()
        _rss(on, "after the pictures", pid)
        alone, watched, monitor = _writes_under_pictures(users, box, T0, now)
        rss_end = rss_mb(pid)
        _rss(on, "at the end (after the write phases)", pid)
        size, verified, folded = fold_afresh(server, end + timedelta(days=1))
        settings = Settings(
            database_url=server.database_url,
            keys_dir=server.keys_dir,
            agreement_path=server.agreement_path,
        )
        center = Parts(settings, clock=lambda: end + timedelta(days=1)).open()
        try:
            caller = Caller(user_id=0, name="blue-officer", member="blue", role=Role.OFFICER)
            west, south, east, north = (float(x) for x in box.split(","))
            selection = Selection(box=(west, south, east, north), limit=1000)
            afresh = []
            original = snapshots._nearest
            snapshots._nearest = lambda *args, **kwargs: None  # type: ignore[assignment]
            try:
                for at in instants[:3]:
                    t = time.perf_counter()
                    picture(center, caller, at, selection)
                    afresh.append(time.perf_counter() - t)
            finally:
                snapshots._nearest = original  # type: ignore[assignment]
        finally:
            center.close()
    median = statistics.median(pictures)
    print(
        f"week{on}: {size:,} entries; pictures {[round(p, 2) for p in pictures]} s; afresh "
        f"{[round(p, 1) for p in afresh]} s; verify {verified:.0f} s, fold {folded:.1f} s",
        flush=True,
    )
    for label, tally in (
        ("red alone", alone),
        ("red while a monitor pulls pictures", watched),
        ("the monitor's pictures", monitor),
    ):
        print(
            f"week{on}, {label}: {tally.changes:,} answered in {PHASE_SECONDS:.0f} s, p50 "
            f"{1e3 * tally.p(0.5):.1f} ms, p99 {1e3 * tally.p(0.99):.1f} ms, refused "
            f"{tally.failures}",
            flush=True,
        )
    return [
        (
            f"week{on}: GET /v1/compliance, {size:,}-entry record",
            f"{compliance * 1000:.1f} ms",
            f"fold every entry {folded:.1f} s (a fresh check of every entry {verified:.0f} s)",
            f"{folded / compliance:.0f}×",
        ),
        (
            f"week{on}: GET /v1/picture?at=T&bbox=…&limit=1000, T in the week, {size:,} entries "
            f"({' '.join(READS)})",
            f"{median * 1000:.0f} ms (max {max(pictures) * 1000:.0f})",
            f"the prefix folded afresh {statistics.median(afresh):.1f} s",
            f"{statistics.median(afresh) / median:.0f}×",
        ),
        (
            f"week{on}: accord serve {' '.join(READS)} to /readyz ready, {size:,} entries "
            "(RSS of its processes then; at the end)",
            f"{ready:.1f} s ({rss_ready} MB; {rss_end} MB)",
            f"a fresh check of every entry {verified:.0f} s; first compliance {first:.2f} s",
            f"{verified / ready:.0f}×",
        ),
        (
            f"week{on}: red's write p99 while a monitor pulls pictures of the week "
            f"({PICTURE_CLIENTS} clients), {size:,} entries",
            f"{1e3 * watched.p(0.99):.1f} ms",
            f"no pictures {1e3 * alone.p(0.99):.1f} ms; {monitor.changes:,} pictures answered, "
            f"p50 {1e3 * monitor.p(0.5):.0f} ms",
            f"{watched.p(0.99) / alone.p(0.99):.1f}×",
        ),
    ]
