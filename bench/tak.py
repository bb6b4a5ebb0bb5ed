"""``python -m bench --only tak``: issue 21's TAK workload — a party's devices reporting
through its gateway, the center's TAK endpoint sending the picture on.

On loopback, against a real ``accord serve --cot-plain-port`` (SQLite, signing on: every
member's root and key as in the load bench) and blue's ``accord cot gateway --plain-port``:

- ``devices`` lean TAK clients (raw sockets, CoT XML as ATAK writes it) report once a
  second each for ``seconds`` to blue's gateway, five devices to a user; two in five stand
  still (a few metres of GPS jitter), the others move at 1–15 m/s and turn now and then;
- ``receivers`` blue users' clients on the center's TAK endpoint read the picture, and two
  red clients read theirs (red must receive nothing of blue's devices: the positions are
  blue's default disclosure, ``center``);
- a blue client reads ``GET /v1/world`` once a second.

**A report is reflected** once a receiver shows the device within the gateway's dead band
(50 m) of the report's point, or shows a later report of it: what the record promises
(``uncertainty_m`` = ce + dead band, :mod:`accord.cot.deadband`). Its delay is the time from
the device's send to the first receiver event that does so — zero when the receiver already
shows the device that close. A report never reflected is **lost**. ``/v1/world`` is held to
the same rule a second late: at each read, each device's point must lie within the dead band
of a report at least as new as the one it sent a second before the read.

The **baseline**, in the same run: the same reports, at the same times, each an amendment
of its own (``POST /v1/declarations/hidden``, how a hidden position is amended) signed by a
blue officer's key (lean keep-alive clients, one per device): what a client without the
gateway's dead band would do. Its delay is the request's, from the report's time to the
answer (a 2xx answer is a commit, reflected in ``/v1/world``).

The server's CPU (user + system, its processes) per report is read from ``/proc`` over
each phase; the gateway's (the party's own machine) beside it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from accord.chrono import format_instant
from accord.office import SignedActs
from accord.record.canonical import encode_base64
from bench.live import ACCORD, LiveServer, free_port
from bench.load import Client, _load_agreement, _origin, process_cpu
from bench.offices import BenchOffices, members_of, parties_of

__all__ = ["run"]

DEADBAND_M = 50.0
"""The gateway's dead band (its default ``--deadband-m``)."""
TOLERANCE_M = 0.5
"""What the coordinates' round trip through JSON and CoT may move a point."""
CE_M = 10.0
STALE = timedelta(minutes=2)
HIDDEN = "/v1/declarations/hidden"
"""How a hidden position is changed (its signed request line names nothing)."""
"""How long each report is valid (ATAK's own reports say a few minutes)."""
PER_USER = 5
"""Devices per blue user (a user may hold several devices)."""
CENTRE = (21.95, 24.95)
"""The middle of the devices' synthetic area (the example agreement's theatre)."""
SPREAD_DEG = 0.1
EARTH_M = 6_371_008.8
SETTLE_S = 3.0
"""How long after the last report the run waits for the last writes and events."""

_CALLSIGN = re.compile(rb'callsign="(BENCH-[0-9]+)"')
_POINT = re.compile(rb'<point [^>]*?lat="([-0-9.eE+]+)" lon="([-0-9.eE+]+)"')

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class Report:
    sent: float
    """``time.monotonic()`` when the report's last byte was handed to the socket."""
    lat: float
    lon: float
    course: float
    speed: float
    at: datetime


@dataclass
class Device:
    index: int
    user: str
    lat: float
    lon: float
    speed: float
    course: float
    base: tuple[float, float]
    reports: list[Report] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return f"BENCH-{self.index:04d}"

    def step(self, rng: random.Random) -> None:
        """One second of movement (or of a standing device's GPS jitter)."""
        if self.speed == 0.0:
            north, east = rng.uniform(-3, 3), rng.uniform(-3, 3)
            self.lat = self.base[0] + math.degrees(north / EARTH_M)
            self.lon = self.base[1] + math.degrees(
                east / (EARTH_M * math.cos(math.radians(self.lat)))
            )
            return
        if rng.random() < 0.05:
            self.course = (self.course + rng.uniform(-60, 60)) % 360
        d = self.speed
        rad = math.radians(self.course)
        self.lat += math.degrees(d * math.cos(rad) / EARTH_M)
        self.lon += math.degrees(d * math.sin(rad) / (EARTH_M * math.cos(math.radians(self.lat))))

    def event(self, at: datetime) -> bytes:
        t, stale = format_instant(at), format_instant(at + STALE)
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<event version="2.0" uid="{self.uid}" type="a-f-G-U-C" how="m-g" time="{t}" '
            f'start="{t}" stale="{stale}"><point lat="{self.lat:.7f}" lon="{self.lon:.7f}" '
            f'hae="120.0" ce="{CE_M}" le="9999999.0"/><detail><contact callsign="{self.uid}"/>'
            f'<track course="{self.course:.1f}" speed="{self.speed:.2f}"/></detail></event>'
        ).encode()


def _devices(count: int, rng: random.Random) -> list[Device]:
    out = []
    for i in range(count):
        lat = CENTRE[1] + rng.uniform(-SPREAD_DEG, SPREAD_DEG)
        lon = CENTRE[0] + rng.uniform(-SPREAD_DEG, SPREAD_DEG)
        speed = 0.0 if rng.random() < 0.4 else rng.uniform(1.0, 15.0)
        out.append(
            Device(
                i, f"blue-dev-{i // PER_USER:03d}", lat, lon, speed, rng.uniform(0, 360), (lat, lon)
            )
        )
    return out


def _auth(user: str, token: str, uid: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<auth><cot username="{user}" password="{token}" uid="{uid}"/>'
        "</auth>"
    ).encode()


async def _drain(reader: asyncio.StreamReader) -> None:
    with suppress(OSError, asyncio.IncompleteReadError):
        while await reader.read(65536):
            pass


async def _connect(
    device: Device, port: int, token: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A device's connection, authenticated: the gateway announces its protocol once it has
    checked the token (the device waits for that before it reports, as connecting is not
    reporting)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_auth(device.user, token, device.uid))
    first = await asyncio.wait_for(reader.read(65536), timeout=120.0)
    assert first, f"{device.uid}: the gateway closed the connection"
    return reader, writer


async def _report(
    device: Device,
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    start: float,
    seconds: int,
    rng: random.Random,
) -> None:
    """One device: a report each second on its own phase."""
    reader, writer = connection
    drain = asyncio.create_task(_drain(reader))
    phase = rng.random()
    try:
        for k in range(seconds):
            delay = start + k + phase - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if k:
                device.step(rng)
            at = _now()
            writer.write(device.event(at))
            await writer.drain()
            device.reports.append(
                Report(time.monotonic(), device.lat, device.lon, device.course, device.speed, at)
            )
    finally:
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
        drain.cancel()


Seen = dict[str, list[tuple[float, float, float]]]
"""device uid → (arrival, lat, lon) in the order a receiver read them."""


async def _receive(port: int, user: str, token: str, seen: Seen, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_auth(user, token, f"RECEIVER-{user}"))
    buffer = b""
    try:
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(reader.read(1 << 16), timeout=0.5)
            except TimeoutError:
                continue
            if not chunk:
                break
            now = time.monotonic()
            buffer += chunk
            *events, buffer = buffer.split(b"</event>")
            for event in events:
                name = _CALLSIGN.search(event)
                point = _POINT.search(event)
                if name is None or point is None:
                    continue
                seen.setdefault(name.group(1).decode(), []).append(
                    (now, float(point.group(1)), float(point.group(2)))
                )
    finally:
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()


async def _lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late the bench's own event loop wakes (a receiver's clock is its reading time:
    a late loop would be counted against the server)."""
    while not stop.is_set():
        asked = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append(time.monotonic() - asked - 0.05)


WorldReads = list[tuple[float, dict[str, tuple[float, float]]]]


async def _world(client: Client, reads: WorldReads, stop: asyncio.Event) -> None:
    """``GET /v1/world`` once a second: (when asked, device uid → point)."""
    while not stop.is_set():
        asked = time.monotonic()
        status, body = await client.request("GET", "/v1/world")
        if status == 200:
            points = {}
            for feature in body["features"]:
                name = feature["properties"].get("name", "")
                if name.startswith("BENCH-") and feature["geometry"]["type"] == "Point":
                    lon, lat = feature["geometry"]["coordinates"][:2]
                    points[name] = (lat, lon)
            reads.append((asked, points))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, asked + 1.0 - time.monotonic()))
    await client.close()


def _delays(device: Device, seen: list[tuple[float, float, float]]) -> list[float | None]:
    """Each report's delay to the receiver (None: never reflected)."""
    reports = device.reports
    sent_at = {(round(r.lat, 6), round(r.lon, 6)): k for k, r in enumerate(reports)}
    out: list[float | None] = []
    j = 0  # the first event at or after the report's time
    for k, r in enumerate(reports):
        while j < len(seen) and seen[j][0] < r.sent:
            j += 1
        if j and _metres(seen[j - 1][1], seen[j - 1][2], r.lat, r.lon) <= DEADBAND_M + TOLERANCE_M:
            out.append(0.0)
            continue
        found = None
        for arrival, lat, lon in seen[j:]:
            if (
                _metres(lat, lon, r.lat, r.lon) <= DEADBAND_M + TOLERANCE_M
                or sent_at.get((round(lat, 6), round(lon, 6)), -1) >= k
            ):
                found = arrival - r.sent
                break
        out.append(found)
    return out


def _world_held(devices: list[Device], reads: WorldReads) -> tuple[int, int]:
    """(device reads that hold the rule a second late, device reads judged)."""
    held = judged = 0
    for asked, points in reads:
        for device in devices:
            due = [r for r in device.reports if r.sent <= asked - 1.0]
            if not due:
                continue
            judged += 1
            shown = points.get(device.uid)
            if shown is None:
                continue
            newer = [r for r in device.reports if r.sent >= due[-1].sent and r.sent <= asked]
            if any(
                _metres(shown[0], shown[1], r.lat, r.lon) <= DEADBAND_M + TOLERANCE_M for r in newer
            ):
                held += 1
    return held, judged


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _feature(device: Device, r: Report) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
        "properties": {
            "kind": "position",
            "party": "blue",
            "disclosure": "center",
            "name": device.uid,
            "valid_from": format_instant(r.at),
            "valid_to": format_instant(r.at + STALE),
            "uncertainty_m": CE_M,
            "device": {"uid": device.uid, "callsign": device.uid},
            "course_deg": r.course,
            "speed_mps": r.speed,
            "reported_at": format_instant(r.at),
        },
    }


async def _replay(
    device: Device, again: Device, declaration: str, client: Client, start: float,
    first: float, latencies: list[float], failures: list[str],
) -> None:  # fmt: skip
    """The device's reports again, at the same offsets, each one amendment of its hidden
    position (recorded in ``again`` as they are sent)."""
    try:
        for r in device.reports:
            delay = start + (r.sent - first) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            change = {"change": "amend", "id": declaration, "feature": _feature(device, r)}
            request = client.prepare("POST", HIDDEN, {"changes": [change]})
            due = time.monotonic()
            again.reports.append(replace(r, sent=due))
            try:
                status, answer = await client.send(request)
            except (OSError, asyncio.IncompleteReadError) as e:
                failures.append(f"transport: {e!r}")
                continue
            if status >= 300:
                failures.append(f"{status}: {str(answer)[:200]}")
                continue
            latencies.append(time.monotonic() - due)
    finally:
        await client.close()


@dataclass
class _Run:
    server: LiveServer
    gateway: subprocess.Popen[bytes]
    gateway_port: int
    cot_port: int
    tokens: dict[str, str]
    offices: BenchOffices
    origin: str
    folder: Path


USERS = {
    "blue-admin": ("blue", "admin"),
    "blue-gateway": ("blue", "officer"),
    "blue-officer": ("blue", "officer"),
    "red-officer": ("red", "officer"),
}


def _register(
    client: httpx.Client, offices: BenchOffices, tokens: dict[str, str], user: str,
    purposes: list[str], origin: str,
) -> None:  # fmt: skip
    member = offices.members[user]
    auth = SignedActs(
        token=tokens[user], key=offices.root(member), origin=origin, member=member, user=user,
        clock=_now,
    )  # fmt: skip
    body = {
        "user": user,
        "public_key": encode_base64(offices.key(user).public.raw),
        "purposes": purposes,
    }
    answer = client.post("/v1/keys/registrations", json=body, auth=auth)
    assert answer.status_code == 201, answer.text


@contextmanager
def _served(devices: int, folder: Path) -> Iterator[_Run]:
    text = _load_agreement()
    offices = BenchOffices(folder / "offices", members_of(text), USERS)
    agreement = folder / "agreement.yaml"
    agreement.write_text(offices.rooted(text), encoding="utf-8")
    server = LiveServer(
        f"sqlite:///{folder / 'accord.sqlite'}", folder / "keys", folder / "server.log",
        agreement_path=agreement,
    )  # fmt: skip
    tokens = {name: server.add_user(name, *mr) for name, mr in USERS.items()}
    cot_port = free_port()
    server.start(extra=("--no-access-log", "--writer-process", "--cot-plain-port", str(cot_port)))
    gateway: subprocess.Popen[bytes] | None = None
    try:
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            origin = _origin(agreement)
            signers = {u: tokens[u] for u in ("blue-officer", "red-officer")}
            offices.start(client, signers, origin=origin, clock=_now, parties=parties_of(text))
            _register(client, offices, tokens, "blue-gateway", ["device-reports"], origin)
            admin = {"Authorization": f"Bearer {tokens['blue-admin']}"}
            for n in range((devices + PER_USER - 1) // PER_USER):
                name = f"blue-dev-{n:03d}"
                made = client.post(
                    "/v1/users", json={"name": name, "member": "blue", "role": "officer"},
                    headers=admin,
                )  # fmt: skip
                assert made.status_code == 201, made.text
                tokens[name] = made.json()["token"]
        gateway_port = free_port()
        log = (folder / "gateway.log").open("ab")
        gateway = subprocess.Popen(
            [
                *ACCORD, "cot", "gateway", "--center", server.url, "--user", "blue-gateway",
                "--key", str(offices.folder / "blue" / "users" / "blue-gateway.key"),
                "--state", str(folder / "gateway"), "--plain-port", str(gateway_port),
                "--deadband-m", str(DEADBAND_M),
            ],
            env={**os.environ, "ACCORD_TOKEN": tokens["blue-gateway"]},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        _wait_port(gateway_port, gateway, folder / "gateway.log")
        yield _Run(server, gateway, gateway_port, cot_port, tokens, offices, origin, folder)
    finally:
        if gateway is not None and gateway.poll() is None:
            gateway.terminate()
            with suppress(subprocess.TimeoutExpired):
                gateway.wait(timeout=30)
            if gateway.poll() is None:
                gateway.kill()
        server.stop()


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the gateway did not listen: {log.read_text()[-2000:]}")


@dataclass
class _Phase:
    """What one way of bringing the reports in gave."""

    reports: int
    delays: list[float]
    firsts: list[float]
    """The delays of each device's first report (the gateway declares its position)."""
    lost: int
    leaked: int
    held: int
    judged: int
    last_shown: int
    red_sees: int
    entries: int
    server_cpu: float
    gateway_cpu: float
    requests: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def row(self) -> str:
        p50, p99 = _quantile(self.delays, 0.5), _quantile(self.delays, 0.99)
        return f"{p50:.3f} / {p99:.3f} s, lost {self.lost}"


async def _watched(
    run: _Run, receivers: int, drive: Callable[[], Awaitable[None]]
) -> tuple[list[Seen], list[Seen], WorldReads]:
    """``drive`` while ``receivers`` blue clients and two red ones read the center's TAK
    endpoint and a blue client reads ``/v1/world`` each second."""
    stop = asyncio.Event()
    blue_seen: list[Seen] = [{} for _ in range(receivers)]
    red_seen: list[Seen] = [{}, {}]
    users = [f"blue-dev-{i:03d}" for i in range(receivers)]
    readers = [
        asyncio.create_task(_receive(run.cot_port, u, run.tokens[u], seen, stop))
        for u, seen in zip(users, blue_seen, strict=True)
    ]
    readers += [
        asyncio.create_task(
            _receive(run.cot_port, "red-officer", run.tokens["red-officer"], seen, stop)
        )
        for seen in red_seen
    ]
    reads: WorldReads = []
    world = asyncio.create_task(
        _world(Client("127.0.0.1", run.server.port, run.tokens["blue-officer"]), reads, stop)
    )
    lags: list[float] = []
    lag = asyncio.create_task(_lag(lags, stop))
    await asyncio.sleep(1.0)  # the receivers have their first picture before anything moves
    await drive()
    await asyncio.sleep(SETTLE_S)
    stop.set()
    await asyncio.gather(*readers, world, lag)
    if lags:
        print(f"tak: the bench's own event loop late by p50 / p99 / max {_quantile(lags, 0.5):.3f}"
              f" / {_quantile(lags, 0.99):.3f} / {max(lags):.3f} s", flush=True)  # fmt: skip
    return blue_seen, red_seen, reads


def _phase(
    run: _Run, fleet: list[Device], receivers: int, drive: Callable[[], Awaitable[None]]
) -> _Phase:
    server_pid = run.server.process.pid if run.server.process else 0
    size0 = _size(run)
    cpu0, gw0 = process_cpu(server_pid), process_cpu(run.gateway.pid)
    blue_seen, red_seen, reads = asyncio.run(_watched(run, receivers, drive))
    cpu1, gw1 = process_cpu(server_pid), process_cpu(run.gateway.pid)
    entries = _size(run) - size0
    delays: list[float] = []
    firsts: list[float] = []
    lost = 0
    for seen in blue_seen:
        for d in fleet:
            for k, delay in enumerate(_delays(d, seen.get(d.uid, []))):
                if delay is None:
                    lost += 1
                else:
                    delays.append(delay)
                    if k == 0:
                        firsts.append(delay)
    unreflected: dict[str, int] = {}
    for seen in blue_seen:
        for d in fleet:
            missing = sum(1 for x in _delays(d, seen.get(d.uid, [])) if x is None)
            if missing:
                unreflected[d.uid] = unreflected.get(d.uid, 0) + missing
    for uid, count in sorted(unreflected.items())[:5]:
        d = next(x for x in fleet if x.uid == uid)
        shown = [len(seen.get(uid, [])) for seen in blue_seen]
        first_lost = [k for k, x in enumerate(_delays(d, blue_seen[0].get(uid, []))) if x is None][
            :5
        ]
        print(f"tak: {uid} ({d.user}, {d.speed:.1f} m/s): {count} receptions never reflected, "
              f"events received per receiver {shown}, first lost reports {first_lost}")  # fmt: skip
    if os.environ.get("ACCORD_BENCH_TAK_DEBUG"):
        buckets: dict[int, list[float]] = {}
        for seen in blue_seen[:3]:
            for d in fleet:
                for k, x in enumerate(_delays(d, seen.get(d.uid, []))):
                    if x is not None:
                        buckets.setdefault(k // 5, []).append(x)
        print("tak: p99 / max by 5 s of the run:", ", ".join(
            f"{b * 5}s {_quantile(v, 0.99):.2f}/{max(v):.2f}" for b, v in sorted(buckets.items())
        ))  # fmt: skip
    held, judged = _world_held(fleet, reads)
    world, red = _world_now(run, "blue-officer"), _world_now(run, "red-officer")
    last_shown = sum(
        1
        for d in fleet
        if d.uid in world
        and _metres(*world[d.uid], d.reports[-1].lat, d.reports[-1].lon) <= DEADBAND_M + TOLERANCE_M
    )
    return _Phase(
        reports=sum(len(d.reports) for d in fleet),
        delays=delays,
        firsts=firsts,
        lost=lost,
        leaked=sum(len(v) for seen in red_seen for v in seen.values()),
        held=held,
        judged=judged,
        last_shown=last_shown,
        red_sees=len(red),
        entries=entries,
        server_cpu=cpu1 - cpu0,
        gateway_cpu=gw1 - gw0,
    )


def _say(what: str, phase: _Phase, devices: int) -> None:
    print(
        f"tak {what}: {phase.reports:,} reports, {len(phase.delays) + phase.lost:,} "
        f"receptions judged, p50 / p99 {phase.row()} (each device's first report: p50 / max "
        f"{_quantile(phase.firsts, 0.5):.3f} / {max(phase.firsts, default=0.0):.3f} s); "
        f"/v1/world a second late {phase.held:,} of {phase.judged:,}; last reports shown "
        f"{phase.last_shown}/{devices}; red received "
        f"{phase.leaked} events and sees {phase.red_sees} of blue's devices; "
        f"{phase.entries:,} record entries; server CPU {phase.server_cpu:.1f} s, gateway "
        f"{phase.gateway_cpu:.1f} s; {len(phase.failures)} requests failed "
        f"{phase.failures[:3]}",
        flush=True,
    )
    assert phase.leaked == 0 and phase.red_sees == 0, "red received something of blue's devices"


def run(
    *, devices: int = 500, receivers: int = 20, seconds: int = 60, seed: int = 21
) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory(prefix="accord-tak-") as tmp,
        _served(devices, Path(tmp)) as run,
    ):
        fleet = _devices(devices, rng)
        receivers = min(receivers, len({d.user for d in fleet}))

        async def through_gateway() -> None:
            connections = await asyncio.gather(
                *(_connect(d, run.gateway_port, run.tokens[d.user]) for d in fleet)
            )
            start = time.monotonic() + 1.0
            await asyncio.gather(
                *(
                    _report(d, c, start, seconds, random.Random(rng.random()))
                    for d, c in zip(fleet, connections, strict=True)
                )
            )

        ours = _phase(run, fleet, receivers, through_gateway)
        _say("through the gateway", ours, devices)
        log = (run.folder / "gateway.log").read_text(encoding="utf-8").splitlines()
        status = [line for line in log if line.startswith("gateway: devices")]
        others = [line for line in log if line.strip() and not line.startswith("gateway: devices")]
        print(f"tak: the gateway's last status ({len(others)} other log lines):",
              *status[-1:], *others[:3], sep="\n  ", flush=True)  # fmt: skip

        # The baseline: the same reports at the same offsets, each an amendment of its own.
        ids = _ids(run)
        replayed = [replace(d, reports=[]) for d in fleet]
        first = min(r.sent for d in fleet for r in d.reports)
        latencies: list[float] = []
        failures: list[str] = []

        async def one_by_one() -> None:
            start = time.monotonic() + 1.0
            clients = [
                Client("127.0.0.1", run.server.port, run.tokens["blue-officer"],
                       run.offices.signer("blue-officer", run.origin, _now))
                for _ in fleet
            ]  # fmt: skip
            await asyncio.gather(
                *(
                    _replay(d, again, ids[d.uid], c, start, first, latencies, failures)
                    for d, again, c in zip(fleet, replayed, clients, strict=True)
                )
            )

        theirs = _phase(run, replayed, receivers, one_by_one)
        theirs.requests, theirs.failures = latencies, failures
        _say("one PUT per report", theirs, devices)
    p99, b99 = _quantile(ours.delays, 0.99), _quantile(theirs.delays, 0.99)
    per = ours.server_cpu / max(1, ours.reports) * 1e6
    base_per = theirs.server_cpu / max(1, theirs.reports) * 1e6
    label = f"TAK (`--only tak`): {devices} devices × 1/s, {seconds} s, {receivers} receivers"
    return [
        (
            f"{label}: report → receivers p50 / p99",
            ours.row(),
            f"one PUT per report {theirs.row()}, {len(failures)} failed",
            f"{p99 / b99:.2f}×" if b99 else "",
        ),
        (
            f"{label}: server CPU per report",
            f"{per:,.0f} µs (gateway {ours.gateway_cpu / max(1, ours.reports) * 1e6:,.0f} µs)",
            f"one PUT per report {base_per:,.0f} µs",
            f"{per / base_per:.2f}×" if base_per else "",
        ),
        (
            f"{label}: record entries per report",
            f"{ours.entries / max(1, ours.reports):.2f}",
            f"one PUT per report {theirs.entries / max(1, theirs.reports):.2f}",
            "",
        ),
        (
            f"{label}: /v1/world within the dead band of a report ≤ 1 s old",
            f"{ours.held:,} / {ours.judged:,}",
            f"one PUT per report {theirs.held:,} / {theirs.judged:,}",
            "",
        ),
    ]


def _ids(run: _Run) -> dict[str, str]:
    """Device uid → the id of the position the gateway declared for it."""
    headers = {"Authorization": f"Bearer {run.tokens['blue-officer']}"}
    features = httpx.get(f"{run.server.url}/v1/world", headers=headers, timeout=60.0).json()
    return {
        f["properties"]["name"]: f["properties"]["id"]
        for f in features["features"]
        if f["properties"].get("name", "").startswith("BENCH-")
    }


def _world_now(run: _Run, user: str) -> dict[str, tuple[float, float]]:
    """The bench's devices in ``user``'s ``/v1/world``: uid → (lat, lon)."""
    headers = {"Authorization": f"Bearer {run.tokens[user]}"}
    features = httpx.get(f"{run.server.url}/v1/world", headers=headers, timeout=60.0).json()
    out = {}
    for f in features["features"]:
        name = f["properties"].get("name", "")
        if name.startswith("BENCH-"):
            lon, lat = f["geometry"]["coordinates"][:2]
            out[name] = (lat, lon)
    return out


def _size(run: _Run) -> int:
    """The record's size (its latest signed head)."""
    head = httpx.get(
        f"{run.server.url}/v1/record/head",
        headers={"Authorization": f"Bearer {run.tokens['blue-officer']}"},
        timeout=60.0,
    )
    assert head.status_code == 200, head.text
    return int(head.json()["size"])


if __name__ == "__main__":  # pragma: no cover
    for row in run(devices=int(os.environ.get("DEVICES", "50")), seconds=10):
        print(json.dumps(row))
