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

The **baseline**, in the same run: the same reports, at the same times, each its own
``PUT /v1/declarations/{id}`` signed by a blue officer's key (lean keep-alive clients, one
per device): what a client without the gateway's dead band would do. Its delay is the
request's, from the report's time to the answer (a 2xx answer is a commit, reflected in
``/v1/world``).

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
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


async def _report(
    device: Device, port: int, token: str, start: float, seconds: int, rng: random.Random
) -> None:
    """One device: connect, authenticate, then a report each second on its own phase."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    drain = asyncio.create_task(_drain(reader))
    writer.write(_auth(device.user, token, device.uid))
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
    device: Device, declaration: str, client: Client, start: float, first: float,
    latencies: list[float], failures: list[str],
) -> None:  # fmt: skip
    """The device's reports again, at the same offsets, each one PUT of its position."""
    try:
        for r in device.reports:
            delay = start + (r.sent - first) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            due = time.monotonic()
            request = client.prepare("PUT", f"/v1/declarations/{declaration}", _feature(device, r))
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
        yield _Run(server, gateway, gateway_port, cot_port, tokens, offices, origin)
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


async def _gateway_phase(
    run: _Run, devices: list[Device], receivers: int, seconds: int, rng: random.Random
) -> tuple[list[Seen], list[Seen], WorldReads, float]:
    stop = asyncio.Event()
    blue_seen: list[Seen] = [{} for _ in range(receivers)]
    red_seen: list[Seen] = [{}, {}]
    readers = [
        asyncio.create_task(
            _receive(
                run.cot_port,
                f"blue-dev-{i:03d}",
                run.tokens[f"blue-dev-{i:03d}"],
                blue_seen[i],
                stop,
            )
        )
        for i in range(receivers)
    ]
    readers += [
        asyncio.create_task(
            _receive(run.cot_port, "red-officer", run.tokens["red-officer"], red_seen[i], stop)
        )
        for i in range(2)
    ]
    reads: WorldReads = []
    world = asyncio.create_task(
        _world(Client("127.0.0.1", run.server.port, run.tokens["blue-officer"]), reads, stop)
    )
    await asyncio.sleep(1.0)  # the receivers have their first picture before anything moves
    start = time.monotonic() + 1.0
    await asyncio.gather(
        *(
            _report(
                d, run.gateway_port, run.tokens[d.user], start, seconds, random.Random(rng.random())
            )
            for d in devices
        )
    )
    ended = time.monotonic()
    await asyncio.sleep(SETTLE_S)
    stop.set()
    await asyncio.gather(*readers, world)
    return blue_seen, red_seen, reads, ended - start


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
        server_pid = run.server.process.pid if run.server.process else 0
        size0 = _size(run)
        cpu0, gw0 = process_cpu(server_pid), process_cpu(run.gateway.pid)
        blue_seen, red_seen, reads, took = asyncio.run(
            _gateway_phase(run, fleet, receivers, seconds, rng)
        )
        cpu1, gw1 = process_cpu(server_pid), process_cpu(run.gateway.pid)
        sent = sum(len(d.reports) for d in fleet)
        delays: list[float] = []
        lost = 0
        for seen in blue_seen:
            for d in fleet:
                for delay in _delays(d, seen.get(d.uid, [])):
                    if delay is None:
                        lost += 1
                    else:
                        delays.append(delay)
        leaked = sum(len(v) for seen in red_seen for v in seen.values())
        held, judged = _world_held(fleet, reads)
        headers = {"Authorization": f"Bearer {run.tokens['blue-officer']}"}
        with httpx.Client(base_url=run.server.url, timeout=60.0) as client:
            world = client.get("/v1/world", headers=headers).json()["features"]
            red = client.get(
                "/v1/world", headers={"Authorization": f"Bearer {run.tokens['red-officer']}"}
            ).json()["features"]
        ids = {
            f["properties"]["name"]: f["properties"]["id"]
            for f in world
            if f["properties"].get("name", "").startswith("BENCH-")
        }
        last_held = sum(
            1
            for d in fleet
            if d.uid in ids
            and _metres(*_point(world, d.uid), d.reports[-1].lat, d.reports[-1].lon)
            <= DEADBAND_M + TOLERANCE_M
        )
        red_sees = sum(1 for f in red if f["properties"].get("name", "").startswith("BENCH-"))
        writes = _size(run) - size0
        print(
            f"tak: {devices} devices × {seconds} s through the gateway in {took:.1f} s: "
            f"{sent:,} reports, {len(delays) + lost:,} receptions judged at {receivers} "
            f"receivers, lost {lost}; red received {leaked} events and sees {red_sees} of "
            f"blue's devices; /v1/world held a second late {held:,} of {judged:,}; last "
            f"reports shown {last_held}/{devices}; {writes:,} record entries written; server CPU "
            f"{cpu1 - cpu0:.1f} s, gateway {gw1 - gw0:.1f} s",
            flush=True,
        )
        assert leaked == 0 and red_sees == 0, "red received something of blue's devices"

        # The baseline: the same reports, each a PUT of its own.
        clients = [
            Client("127.0.0.1", run.server.port, run.tokens["blue-officer"],
                   run.offices.signer("blue-officer", run.origin, _now))
            for _ in fleet
        ]  # fmt: skip
        latencies: list[float] = []
        failures: list[str] = []
        first = min(r.sent for d in fleet for r in d.reports)
        b0 = process_cpu(server_pid)

        async def baseline() -> float:
            start = time.monotonic() + 1.0
            await asyncio.gather(
                *(
                    _replay(d, ids[d.uid], c, start, first, latencies, failures)
                    for d, c in zip(fleet, clients, strict=True)
                    if d.uid in ids
                )
            )
            return time.monotonic() - start

        base_took = asyncio.run(baseline())
        b1 = process_cpu(server_pid)
        print(
            f"tak baseline: {len(latencies):,} PUTs answered 2xx in {base_took:.1f} s, "
            f"{len(failures)} failed {failures[:3]}; server CPU {b1 - b0:.1f} s",
            flush=True,
        )
    p99 = _quantile(delays, 0.99) if delays else math.inf
    b99 = _quantile(latencies, 0.99) if latencies else math.inf
    per = (cpu1 - cpu0) / max(1, sent) * 1e6
    base_per = (b1 - b0) / max(1, len(latencies)) * 1e6
    label = f"TAK (`--only tak`): {devices} devices × 1/s, {seconds} s, {receivers} receivers"
    return [
        (
            f"{label}: report → receivers p50 / p99",
            f"{_quantile(delays, 0.5):.3f} / {p99:.3f} s, lost {lost}",
            f"PUT one by one p50 / p99 {_quantile(latencies, 0.5):.3f} / {b99:.3f} s, "
            f"{len(failures)} failed",
            f"{p99 / b99:.2f}×" if b99 else "",
        ),
        (
            f"{label}: server CPU per report",
            f"{per:,.0f} µs (gateway {(gw1 - gw0) / max(1, sent) * 1e6:,.0f} µs)",
            f"PUT one by one {base_per:,.0f} µs",
            f"{per / base_per:.2f}×" if base_per else "",
        ),
        (
            f"{label}: /v1/world within the dead band of a report ≤ 1 s old",
            f"{held:,} / {judged:,}",
            "",
            "",
        ),
    ]


def _size(run: _Run) -> int:
    """The record's size (its latest signed head)."""
    head = httpx.get(
        f"{run.server.url}/v1/record/head",
        headers={"Authorization": f"Bearer {run.tokens['blue-officer']}"},
        timeout=60.0,
    )
    assert head.status_code == 200, head.text
    return int(head.json()["size"])


def _point(features: list[dict[str, Any]], name: str) -> tuple[float, float]:
    for f in features:
        if f["properties"].get("name") == name:
            lon, lat = f["geometry"]["coordinates"][:2]
            return lat, lon
    raise KeyError(name)


if __name__ == "__main__":  # pragma: no cover
    for row in run(devices=int(os.environ.get("DEVICES", "50")), seconds=10):
        print(json.dumps(row))
