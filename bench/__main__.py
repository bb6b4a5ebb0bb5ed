"""``python -m bench``: every workload, Accord's figure beside the baseline's, and the ratio.

``--scale`` shrinks the worlds for a quick look (1.0 is the issue's workload). The service
under load runs on SQLite, and on PostgreSQL too when ``--pg-url`` (or
``ACCORD_BENCH_PG_URL``, or ``ACCORD_TEST_PG_URL`` as ``scripts/pg-test-server run`` sets
it) names a server where the bench may create a database.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from accord.agreement import load_agreement
from accord.examples import example_path
from bench import (
    airspace,
    alerts,
    auth,
    checks,
    deconfliction,
    feeds,
    hidden,
    hostage,
    load,
    monitor,
    nodes,
    reads,
    record,
    restore,
    startup,
    tak,
    tiles,
    web,
    weekly,
    witness,
)
from bench.world import make_world


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--only",
        choices=(
            "airspace",
            "alerts",
            "deconfliction",
            "record",
            "record-verify",
            "tiles",
            "load",
            "load-cpu",
            "monitor",
            "reads",
            "startup",
            "hidden",
            "auth",
            "checks",
            "hostage",
            "web",
            "witness",
            "tak",
            "feeds",
            "nodes",
            "restore",
            "week",
        ),
        default=None,
    )
    parser.add_argument(
        "--airspace-oracle-max",
        type=int,
        default=20_000,
        help="largest airspace scene checked against the all-pairs oracle",
    )
    parser.add_argument("--pg-url", default=None, help="PostgreSQL server for the load run")
    parser.add_argument(
        "--objects", type=int, default=None, help="declared objects of the load's world"
    )
    parser.add_argument("--seconds", type=float, default=None, help="length of the load run")
    parser.add_argument(
        "--keep-world",
        type=Path,
        default=None,
        metavar="DIR",
        help="seed the load's SQLite world once into DIR (e.g. var/bench) and reuse it",
    )
    args = parser.parse_args(argv)
    s = args.scale
    print(f"machine: {_machine()}", flush=True)
    rows: list[tuple[str, ...]] = []
    if args.only in (None, "airspace"):
        rows += _airspace(s, args.airspace_oracle_max)
    if args.only in (None, "alerts"):
        rows += alerts.run(max(50, int(500 * min(s, 1.0))), pg_url=_pg_url(args))
    if args.only in (None, "deconfliction"):
        rows += _deconfliction(s)
    if args.only == "record-verify":
        with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
            rows.append(record.verify(max(5000, int(100_000 * s)), tmpdir=Path(tmp)))
    if args.only in (None, "record"):
        rows += record.run(
            appends=int(1_000_000 * s),
            singles=max(200, int(5_000 * min(s, 1.0))),
            verify_entries=max(5000, int(100_000 * s)),
            proofs=max(50, int(2000 * min(s, 1.0))),
        )
    if args.only in (None, "tiles"):
        rows += tiles.run(entries=max(5000, int(100_000 * s)))
    if args.only in (None, "monitor"):
        rows += monitor.run(entries=max(5000, int(100_000 * s)))
    if args.only in (None, "hidden"):
        rows += hidden.run()
    if args.only in (None, "load"):
        rows += _load(s, args)
    if args.only in (None, "reads"):
        rows += reads.run(
            objects=args.objects or max(1000, int(100_000 * s)), cache=args.keep_world
        )
    if args.only in (None, "week"):
        rows += weekly.run(entries=max(5000, int(1_000_000 * s)), cache=args.keep_world)
        if pg_url := _pg_url(args):  # a tenth of the entries: seeded afresh at every run
            rows += weekly.run(entries=max(5000, int(100_000 * s)), pg_url=pg_url)
    if args.only in (None, "startup"):
        rows += startup.run(
            objects=args.objects or max(1000, int(100_000 * s)), cache=args.keep_world
        )
    if args.only in (None, "auth"):
        rows += auth.run()
    if args.only in (None, "checks"):
        rows += checks.run()
    if args.only in (None, "hostage"):
        rows += hostage.run(
            objects=args.objects or max(1000, int(20_000 * s)),
            seconds=args.seconds or max(5.0, 20.0 * min(s, 1.0)),
            cache=args.keep_world,
        )
    if args.only in (None, "web"):
        rows += web.run(objects=args.objects or max(1000, int(100_000 * s)), cache=args.keep_world)
    if args.only in (None, "witness"):
        rows += witness.run(seconds=args.seconds or 10.0)
    if args.only in (None, "tak"):
        rows += tak.run(
            devices=max(20, int(500 * s)),
            seconds=int(args.seconds) if args.seconds else max(10, int(60 * min(s, 1.0))),
        )
    if args.only in (None, "feeds"):
        rows += feeds.run(
            aircraft=max(100, int(5000 * s)),
            seconds=args.seconds or max(15.0, 60.0 * min(s, 1.0)),
            writer_share=_float_env("ACCORD_BENCH_FEEDS_WRITER_SHARE"),
        )
    if args.only in (None, "restore"):
        rows += restore.run(entries=max(2000, int(20_000 * s)))
    if args.only in (None, "nodes"):
        rows += nodes.run(_pg_url(args), seconds=args.seconds or max(5.0, 15.0 * min(s, 1.0)))
    if args.only == "load-cpu":
        objects = args.objects or max(1000, int(100_000 * s))
        rows += load.cpu(objects=objects, cache=args.keep_world)
        pg = _pg_url(args)
        if pg:
            rows += load.cpu(objects=objects, database_url=pg, label="PostgreSQL")
    width = max(len(r[0]) for r in rows)
    print(f"{'workload':<{width}}  {'accord':>20}  {'baseline':>40}  {'ratio':>12}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:<{width}}  {ours:>20}  {theirs:>40}  {ratio:>12}")
    sys.stdout.flush()
    return 0


def _deconfliction(s: float) -> list[tuple[str, ...]]:
    agreement = load_agreement(example_path("jig.yaml"))
    t = time.perf_counter()
    world = make_world(
        sites=int(1_000_000 * s),
        positions=int(100_000 * s),
        flights=int(10_000 * s),
        operations=int(10_000 * s),
    )
    print(
        f"deconfliction world: {len(world.protected_sites):,} sites, "
        f"{len(world.positions):,} positions, {len(world.flight_plans):,} flight plans, "
        f"{len(world.operations):,} operations (generated in {time.perf_counter() - t:.1f} s)",
        flush=True,
    )
    return deconfliction.run(
        agreement,
        world,
        brute_sample=max(3, int(20 * min(s, 1.0))),
        scan_sample=max(10, int(1000 * min(s, 1.0))),
        strtree_sample=max(10, int(2000 * min(s, 1.0))),
    )


def _airspace(s: float, oracle_max: int) -> list[tuple[str, ...]]:
    """Conflict detection at 1,000–20,000 aircraft in the issue's square and 100,000 in a
    continent (same density as 10,000) and in the square; --scale shrinks every size."""
    sizes = tuple(max(100, int(n * s)) for n in (1000, 5000, 10_000, 20_000))
    big = max(1000, int(100_000 * s))
    large = ((big, 1000.0 * (big / 10_000) ** 0.5), (big, 1000.0))
    return list(airspace.run(sizes=sizes, large=large, oracle_max=oracle_max))


def _float_env(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def _pg_url(args: argparse.Namespace) -> str | None:
    return (
        args.pg_url or os.environ.get("ACCORD_BENCH_PG_URL") or os.environ.get("ACCORD_TEST_PG_URL")
    )


def _load(s: float, args: argparse.Namespace) -> list[tuple[str, ...]]:
    """The service under load, with its writer process (``accord serve --writer-process``):
    SQLite always, and in one process for comparison; PostgreSQL too when a server is
    named."""
    objects = args.objects or max(1000, int(100_000 * s))
    seconds = args.seconds or max(5.0, 30.0 * min(s, 1.0))
    rows = load.run(objects=objects, seconds=seconds, label="SQLite", cache=args.keep_world)
    rows += load.run(
        objects=objects,
        seconds=seconds,
        label="SQLite, one process",
        cache=args.keep_world,
        serve_args=(),
    )
    pg = _pg_url(args)
    if pg:
        rows += load.run(objects=objects, seconds=seconds, database_url=pg, label="PostgreSQL")
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
