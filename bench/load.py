"""Load workload: a live server on loopback, many concurrent clients of two parties.

The world holds ``objects`` declared objects (sites, positions, movements, flight plans),
seeded through the service's own code before the server starts. Then, for ``seconds`` (and
at most ``max_changes`` state changes), ``clients`` concurrent clients work as the two
parties would: blue's officers propose coordinated operations (each proposal runs the
deconfliction engine over the whole world and writes a signed record entry), red's approvers
approve them, red's officers send direct-line messages to blue and blue's officers
acknowledge them naming the content hash. Every request is timed from send to answer.

Signing is on (issue 17): the server serves an agreement naming its members' roots, each
party's root signed it and every bench user's key is registered (:mod:`bench.offices`), and
every write carries its user's act, signed by the user's own key with a fresh nonce and salt
(:class:`bench.offices.Signer`) — signed before the request is timed, as a device signs
before it sends; the clients' CPU, printed, includes it.

Baseline, same run, same clients: ``GET /v1/me`` (authentication, one read, no change):
what the HTTP stack answers when there is nothing to do.

Bounded in count and time; loopback only.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from accord.office import ACT_METHODS, SignedActs
from bench.live import LiveServer
from bench.offices import (
    BenchOffices,
    Sealed,
    Signer,
    assert_center_keys_only,
    members_of,
    parties_of,
)

USERS = {
    "blue-officer": ("blue", "officer"),
    "blue-approver": ("blue", "approver"),
    "red-officer": ("red", "officer"),
    "red-approver": ("red", "approver"),
    "hnc-notifier": ("hnc", "notifier"),
}


Window = tuple[str, str]

SERVE_ARGS = tuple(os.environ.get("ACCORD_BENCH_SERVE_ARGS", "--no-access-log").split())
"""Extra ``accord serve`` options of every run: no access log line per request (as a busy
deployment would run it)."""

WRITER_PROCESS = ("--writer-process",)
"""The runs' own option: the units of work in a process of their own (two cores used)."""


@dataclass
class Tally:
    """Latencies (seconds) of the answered requests, the failures, and the CPU time the
    server and the clients spent meanwhile."""

    latencies: list[float] = field(default_factory=list)
    changes: int = 0
    requests: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1

    def p(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


class Client:
    """One keep-alive HTTP/1.1 connection speaking JSON, as lean as a client gets (the load
    generator shares the machine with the server: it must not eat the CPU it measures).
    With a ``signer`` every write carries its user's act (:class:`bench.offices.Signer`):
    signed in :meth:`prepare`, before the request is timed, as a user's device signs before
    it sends."""

    def __init__(self, host: str, port: int, token: str, signer: Signer | None = None) -> None:
        self._host, self._port = host, port
        self._auth = f"Authorization: Bearer {token}\r\n".encode("latin-1")
        self._host_line = f"Host: {host}:{port}\r\n".encode("latin-1")
        self._signer = signer
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    def prepare(self, method: str, path: str, body: Any = None) -> bytes:
        """The request's bytes (a write signed, when the client signs)."""
        if isinstance(body, Sealed):
            data = body.text
        else:
            data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        act = b""
        if self._signer is not None and method in ACT_METHODS:
            act = self._signer.header_lines(method, path, body)
        head = (
            f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
            + self._host_line
            + self._auth
            + act
            + (b"Content-Type: application/json\r\n" if body is not None else b"")
            + f"Content-Length: {len(data)}\r\n\r\n".encode("latin-1")
        )
        return head + data

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, parsed JSON body or None)."""
        return await self.send(self.prepare(method, path, body))

    async def send(self, request: bytes, *, parse: bool = True) -> tuple[int, Any]:
        """Send a request :meth:`prepare` made: (status, parsed JSON body or None). Without
        ``parse``, the body is read whole but not parsed (None)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(request)
        try:
            status_line = await self._reader.readuntil(b"\r\n")
            headers = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        for line in headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            lowered = name.lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await self._reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, json.loads(payload) if payload and parse else None


async def _timed(
    tally: Tally, client: Client, what: str, method: str, path: str, body: Any = None
) -> Any:
    """The answer's JSON body, or ``None`` (a failure, counted). Timed from send to answer
    (the client's signing before it is not the server's time)."""
    request = client.prepare(method, path, body)
    t = time.perf_counter()
    tally.requests += 1
    try:
        status, answer = await client.send(request)
    except (OSError, asyncio.IncompleteReadError):
        tally.fail(f"{what}: transport")
        return None
    tally.latencies.append(time.perf_counter() - t)
    if status >= 300:
        tally.fail(f"{what}: {status}")
        return None
    return answer if answer is not None else {}


def _operation(rng: random.Random, window: Window) -> dict[str, Any]:
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


_MESSAGE = {"to": ["blue"], "subject": "bench", "text": "position report", "ack_within": "PT15M"}
_OVERRIDE = {"override_reason": "bench: the conflicts are accepted"}


async def _party_pair(
    users: Users,
    tally: Tally,
    stop: Callable[[], bool],
    seed: int,
    window: Window,
) -> None:
    """Three clients (blue's officer, red's approver, red's officer) in a cycle, repeated:
    blue proposes, red approves (with an override reason only when blocking conflicts
    stand), red sends a message to blue, blue acknowledges it."""
    rng = random.Random(seed)
    blue, red_approver, red = (
        users.client(user) for user in ("blue-officer", "red-approver", "red-officer")
    )
    try:
        while not stop():
            proposed = await _timed(
                tally, blue, "propose", "POST", "/v1/operations", _operation(rng, window)
            )
            if proposed is not None:
                tally.changes += 1
                blocking = proposed.get("blocking_conflicts", 0) > 0
                if (
                    await _timed(
                        tally,
                        red_approver,
                        "approve",
                        "POST",
                        f"/v1/operations/{proposed['id']}/approve",
                        _OVERRIDE if blocking else {},
                    )
                    is not None
                ):
                    tally.changes += 1
            sent = await _timed(tally, red, "message", "POST", "/v1/messages", _MESSAGE)
            if sent is not None:
                tally.changes += 1
                if (
                    await _timed(
                        tally,
                        blue,
                        "acknowledge",
                        "POST",
                        f"/v1/messages/{sent['id']}/acknowledge",
                        {"content_hash": sent["content_hash"]},
                    )
                    is not None
                ):
                    tally.changes += 1
    finally:
        for c in (blue, red_approver, red):
            await c.close()


async def _reads(users: Users, tally: Tally, stop: Callable[[], bool]) -> None:
    client = users.client("blue-officer")
    try:
        while not stop():
            if await _timed(tally, client, "me", "GET", "/v1/me") is not None:
                tally.changes += 1
    finally:
        await client.close()


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` and the processes it started (the HTTP
    workers, the writer process) have spent so far, as they run (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with suppress(OSError):
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with suppress(OSError):
            fields = _stat(current)
            total += int(fields[11]) + int(fields[12])
        todo.extend(children.get(current, ()))
    return total / os.sysconf("SC_CLK_TCK")


def _drive(
    server: LiveServer,
    users: Users,
    *,
    pairs: int,
    seconds: float,
    max_changes: int,
    baseline: bool,
    window: Window,
) -> tuple[Tally, float]:
    tally = Tally()
    assert server.process is not None
    pid = server.process.pid
    t0 = time.perf_counter()

    def stop() -> bool:
        return time.perf_counter() - t0 > seconds or tally.changes >= max_changes

    async def main() -> None:
        if baseline:
            jobs = [_reads(users, tally, stop) for _ in range(3 * pairs)]
        else:
            jobs = [_party_pair(users, tally, stop, seed, window) for seed in range(pairs)]
        await asyncio.gather(*jobs)

    server0, client0 = process_cpu(pid), time.process_time()
    asyncio.run(main())
    tally.server_cpu = process_cpu(pid) - server0
    tally.client_cpu = time.process_time() - client0
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


@dataclass
class Users:
    """The bench's users on a served center: their tokens, and the offices that sign their
    acts with each user's own key at the server's clock."""

    tokens: dict[str, str]
    offices: BenchOffices
    origin: str
    clock: Callable[[], datetime]
    port: int = 0

    def signer(self, user: str) -> Signer:
        return self.offices.signer(user, self.origin, self.clock)

    def client(self, user: str) -> Client:
        """A lean client of ``user``: its token, and every write signed with its key."""
        return Client("127.0.0.1", self.port, self.tokens[user], self.signer(user))

    def auth(self, user: str) -> SignedActs:
        """``user``'s httpx auth: its token, and every write signed with its key."""
        return self.offices.auth(user, self.tokens[user], self.origin, self.clock)


def server_clock(start: datetime, since: float) -> Callable[[], datetime]:
    """The clock of a server started with ``--clock-start start`` at about ``since``
    (:func:`time.monotonic`, one clock for every process of the machine): the acts' time.
    It runs a little ahead of the server's (the server reads its origin once it has
    imported), far within the ±5 minutes an act may lie from the center's clock."""
    return lambda: start + timedelta(seconds=time.monotonic() - since)


SIGNED_AT_BEFORE = timedelta(minutes=10)
"""How long before the bench's day the members' roots sign the agreement and register their
users' keys (on a server of its own, before the world is seeded at ``T0``)."""


Seeder = Callable[[str, Path, Path, dict[str, Any]], Window]
"""What writes a world into a database whose users are registered and whose agreement the
members' roots signed: ``(database URL, keys folder, agreement file, each user's own key)``
→ the operation window the load should use."""


def world_seeder(objects: int) -> Seeder:
    """The load's world: ``objects`` declared objects (:func:`bench.seed.seed_world`)."""

    def seed(url: str, keys_dir: Path, agreement: Path, keys: dict[str, Any]) -> Window:
        from bench.seed import seed_world  # the service's own code, imported late

        window = seed_world(url, keys_dir, objects=objects, agreement_path=agreement, keys=keys)
        print(f"load: {objects:,} declared objects seeded", flush=True)
        return window

    return seed


def _seed(
    url: str, keys: Path, server: LiveServer, offices: BenchOffices, seeder: Seeder
) -> tuple[dict[str, str], Window]:
    """Add the users, have the members' offices sign the agreement and register the users'
    keys (over HTTP, as they would), then seed the world with the users' acts."""
    from accord.chrono import format_instant
    from bench.seed import T0

    assert server.agreement_path is not None
    signed_at = T0 - SIGNED_AT_BEFORE
    since = time.monotonic()
    # the center's first entries (its adoption of the agreement, the users) on the bench's
    # clock too, so that the record's prefix at any of the bench day's instants holds them
    clock = f"{format_instant(signed_at - timedelta(minutes=1))}@{since}"
    tokens = {name: server.add_user(name, *mr, clock=clock) for name, mr in USERS.items()}
    server.start(extra=("--clock-start", format_instant(signed_at), *SERVE_ARGS))
    try:
        text = server.agreement_path.read_text(encoding="utf-8")
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            offices.start(
                client, tokens, origin=_origin(server.agreement_path),
                clock=server_clock(signed_at, since), parties=parties_of(text),
            )  # fmt: skip
    finally:
        server.stop()
    t = time.perf_counter()
    window = seeder(url, keys, server.agreement_path, {user: offices.key(user) for user in tokens})
    print(f"load: the world seeded in {time.perf_counter() - t:.1f} s", flush=True)
    return tokens, window


def _origin(agreement_path: Path) -> str:
    from accord.agreement import load_agreement
    from accord.center.keystore import log_origin

    return log_origin(load_agreement(agreement_path))


def _seed_cached(
    root: Path, server: LiveServer, cache: Path, offices: BenchOffices, seeder: Seeder, name: str
) -> tuple[dict[str, str], Window]:
    """Seed an SQLite world once into ``cache/name`` (database, the center's key, the
    agreement its members' roots signed, tokens; the offices beside it, in ``cache``), then
    copy it to ``root`` for each run: the seeded world, not the run, is kept."""
    assert server.agreement_path is not None
    agreement = server.agreement_path.read_text(encoding="utf-8")
    kept = cache / name
    meta = kept / "world.json"
    if not meta.exists() or (kept / "agreement.yaml").read_text(encoding="utf-8") != agreement:
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True, mode=0o700)
        (kept / "agreement.yaml").write_text(agreement, encoding="utf-8")
        seeding = LiveServer(
            f"sqlite:///{kept / 'accord.sqlite'}", kept / "keys", kept / "log",
            agreement_path=kept / "agreement.yaml",
        )  # fmt: skip
        tokens, window = _seed(seeding.database_url, kept / "keys", seeding, offices, seeder)
        meta.write_text(json.dumps({"tokens": tokens, "window": list(window)}))
    else:
        print(f"load: the world kept in {kept}", flush=True)
    for path in kept.iterdir():
        if path.name.startswith("accord.sqlite"):
            shutil.copy2(path, root / path.name)
    shutil.copytree(kept / "keys", root / "keys")
    data = json.loads(meta.read_text())
    return dict(data["tokens"]), (data["window"][0], data["window"][1])


def _load_agreement() -> str:
    """The example agreement with the probe limit off. Blue's clients propose hundreds of
    operations a second all over a theatre where half of red's positions are hidden: by the
    agreement's rule that is probing (more than 5 distinct areas touching red's hidden
    objects in a day), and the 6th proposal would be slowed. The load measures throughput;
    the precision bound, which does not depend on the limit, still answers every proposal.
    (Served with its members' roots named: :meth:`BenchOffices.rooted`.)"""
    from accord.examples import example_path

    text = Path(example_path("jig.yaml")).read_text(encoding="utf-8")
    return text + "\ndisclosure:\n  probe_limit: null\n"


@contextmanager
def served(
    objects: int,
    database_url: str | None = None,
    cache: Path | None = None,
    serve_args: tuple[str, ...] = (),
    *,
    seeder: Seeder | None = None,
    name: str | None = None,
    clock_start: datetime | None = None,
) -> Iterator[tuple[LiveServer, Users, Window]]:
    """A running server (``accord serve`` with ``serve_args`` and :data:`SERVE_ARGS`) over a
    seeded world (in a temporary folder, removed after) under an agreement that names its
    members' roots, signed by the parties' roots, every user's key registered; the users
    (tokens, and the offices that sign their writes) and the operation window.

    The members' offices (root keys, users' keys) are made in a folder of their own, outside
    the server's data and keys folders (for a kept world, beside it in ``cache``); once the
    server has started its keys folder is checked to hold the center's key alone.

    ``seeder`` writes another world than the load's ``objects`` declared objects, kept (with
    ``cache``) under ``name``; the server's clock starts at ``clock_start`` (default: the
    bench's day, ``T0``)."""
    from accord.chrono import format_instant
    from bench.seed import T0

    with (
        tempfile.TemporaryDirectory(prefix="accord-load-") as tmp,
        tempfile.TemporaryDirectory(prefix="accord-offices-") as office_tmp,
        _database(database_url) as pg_url,
    ):
        root = Path(tmp)
        kept = pg_url is None and cache is not None
        text = _load_agreement()
        named = name or f"sqlite-{objects}-rooted-v2"  # v2: the center's first entries at T0
        offices_name = f"offices-{objects}" if name is None else f"offices-{name}"
        folder = (cache / offices_name) if kept and cache else Path(office_tmp)
        seed = seeder or world_seeder(objects)
        offices = BenchOffices(folder, members_of(text), USERS)
        agreement = root / "agreement.yaml"
        agreement.write_text(offices.rooted(text), encoding="utf-8")
        url = pg_url or f"sqlite:///{root / 'accord.sqlite'}"
        server = LiveServer(url, root / "keys", root / "server.log", agreement_path=agreement)
        if kept and cache is not None:
            tokens, window = _seed_cached(root, server, cache, offices, seed, named)
        else:
            tokens, window = _seed(url, root / "keys", server, offices, seed)
        since = time.monotonic()
        start = T0 if clock_start is None else clock_start
        server.start(
            timeout=300.0,
            extra=("--clock-start", format_instant(start), *serve_args, *SERVE_ARGS),
        )
        origin = _origin(agreement)
        users = Users(tokens, offices, origin, server_clock(start, since), server.port)
        try:
            assert_center_keys_only(server.keys_dir, origin, offices)
            confirm = httpx.post(
                f"{server.url}/v1/phases/confirm",
                json={"condition": "aid-delivered-east-city"},
                auth=users.auth("hnc-notifier"),
                timeout=30.0,
            )
            assert confirm.status_code in (201, 409), confirm.text
            # The start-up work done before anything is measured: a compliance report waits
            # for the background verification of the record.
            report = httpx.get(
                f"{server.url}/v1/compliance",
                headers={"Authorization": f"Bearer {tokens['blue-officer']}"},
                timeout=600.0,
            )
            assert report.status_code == 200, report.text[:500]
            # The clients' own collector pauses are not the server's: what seeding left in
            # this process is frozen out of its full collections while the clients measure.
            gc.collect()
            gc.freeze()
            yield server, users, window
        finally:
            gc.unfreeze()
            server.stop()


def run(
    *,
    objects: int,
    pairs: int = 8,
    seconds: float = 20.0,
    max_changes: int = 20_000,
    database_url: str | None = None,
    label: str = "SQLite",
    cache: Path | None = None,
    serve_args: tuple[str, ...] = WRITER_PROCESS,
) -> list[tuple[str, ...]]:
    """Seed, serve (with ``serve_args``), load; the bench rows (and the CPU each side
    spent, printed)."""
    with served(objects, database_url, cache, serve_args) as (server, users, window):

        def drive(seconds: float, *, baseline: bool) -> tuple[Tally, float]:
            return _drive(
                server,
                users,
                pairs=pairs,
                seconds=seconds,
                max_changes=max_changes,
                baseline=baseline,
                window=window,
            )

        drive(2.0, baseline=True)  # warm-up, not counted: connections, threads, caches
        base, base_s = drive(max(5.0, seconds / 4), baseline=True)
        load, load_s = drive(seconds, baseline=False)
    for name, tally, spent in (("GET /v1/me", base, base_s), ("state changes", load, load_s)):
        n = max(1, tally.requests)
        print(
            f"load, {label}, {name}: {tally.requests:,} requests in {spent:.1f} s; server CPU "
            f"{tally.server_cpu:.1f} s ({1e3 * tally.server_cpu / n:.2f} ms/request), client "
            f"CPU {tally.client_cpu:.1f} s ({1e3 * tally.client_cpu / n:.2f} ms/request)",
            flush=True,
        )
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


async def _each(
    clients: list[Client], tally: Tally, what: str, calls: list[tuple[str, str, Any]]
) -> list[Any]:
    """Make ``calls`` with the clients concurrently (one call at a time on each); the
    answers, in order."""
    answers: list[Any] = [None] * len(calls)
    queue = list(range(len(calls)))[::-1]

    async def worker(client: Client) -> None:
        while queue:
            i = queue.pop()
            answers[i] = await _timed(tally, client, what, *calls[i])

    await asyncio.gather(*(worker(c) for c in clients))
    return answers


def cpu(
    *,
    objects: int,
    count: int = 400,
    concurrency: int = 8,
    database_url: str | None = None,
    label: str = "SQLite",
    cache: Path | None = None,
    serve_args: tuple[str, ...] = (),
) -> list[tuple[str, ...]]:
    """Server CPU per request of each kind: ``count`` requests of one kind at a time from
    ``concurrency`` clients (proposals, then their approvals, messages, their
    acknowledgements, ``GET /v1/me``), the server's CPU time read from ``/proc`` before and
    after each batch."""
    rows: list[tuple[str, ...]] = []
    rng = random.Random(5)
    with served(objects, database_url, cache, serve_args) as (server, users, window):
        assert server.process is not None
        pid = server.process.pid

        async def batch(user: str, what: str, calls: list[tuple[str, str, Any]]) -> list[Any]:
            clients = [users.client(user) for _ in range(concurrency)]
            tally = Tally()
            await _each(clients, tally, "warm-up", [("GET", "/v1/me", None)] * concurrency)
            tally = Tally()
            server0, client0, t0 = process_cpu(pid), time.process_time(), time.perf_counter()
            answers = await _each(clients, tally, what, calls)
            spent = time.perf_counter() - t0
            server_cpu, client_cpu = process_cpu(pid) - server0, time.process_time() - client0
            for c in clients:
                await c.close()
            n = len(calls)
            print(
                f"cpu, {label}, {what}: {n} in {spent:.1f} s ({n / spent:,.0f}/s), "
                f"p50 {tally.p(0.5) * 1e3:.1f} ms, p99 {tally.p(0.99) * 1e3:.1f} ms, "
                f"failures {tally.failures or 0}; server {1e3 * server_cpu / n:.2f} ms CPU "
                f"per request, client {1e3 * client_cpu / n:.2f} ms",
                flush=True,
            )
            rows.append(
                (
                    f"server CPU per request, {label}: {what}",
                    f"{1e3 * server_cpu / n:.2f} ms",
                    f"{n / spent:,.0f}/s, p99 {tally.p(0.99) * 1e3:.0f} ms",
                    "",
                )
            )
            return answers

        async def main() -> None:
            proposed = await batch(
                "blue-officer",
                "propose",
                [("POST", "/v1/operations", _operation(rng, window)) for _ in range(count)],
            )
            await batch(
                "red-approver",
                "approve",
                [
                    (
                        "POST",
                        f"/v1/operations/{p['id']}/approve",
                        _OVERRIDE if p.get("blocking_conflicts", 0) else {},
                    )
                    for p in proposed
                    if p is not None
                ],
            )
            sent = await batch(
                "red-officer", "message", [("POST", "/v1/messages", _MESSAGE)] * count
            )
            await batch(
                "blue-officer",
                "acknowledge",
                [
                    (
                        "POST",
                        f"/v1/messages/{m['id']}/acknowledge",
                        {"content_hash": m["content_hash"]},
                    )
                    for m in sent
                    if m is not None
                ],
            )
            await batch("blue-officer", "GET /v1/me", [("GET", "/v1/me", None)] * count)

        asyncio.run(main())
    return rows
