"""``python -m bench --only feeds``: issue 22's air-picture feeds into a live center.

On loopback, against a real ``accord serve`` (SQLite, ``--writer-process``, the example
agreement) and a real ``accord feed`` process:

- **the fleet**: ``aircraft`` synthetic aircraft over a theatre-sized box around the
  example's theatre (lon 19–25, lat 22–28), in level flight at 250–480 kt on any track, at
  flight levels by the semicircular rule (eastbound FL110–FL390 odd, westbound FL100–FL400
  even, in 1,000 ft steps): about 1,200 predicted losses of separation among 5,000 (the
  count is printed), not a degenerate pile-up. Each aircraft flies a straight line from a
  common epoch, so every phase shows the same aircraft where they are. One in five is
  blue's and one in five red's in the feed's aircraft registry; the rest are ``unknown``.
- **SBS**: an emitter subprocess (its CPU is not the feed's) serves BaseStation text on a
  loopback TCP port: every aircraft, each second, sends two MSG 3 (position and altitude)
  and two MSG 4 (velocity), and one of MSG 1, 5 or 6 in turn — 5 lines a second, 25,000
  lines/s for 5,000 — in ten ticks a second, every message stamped with the time it is made
  (UTC). ``accord feed sbs --interval 1`` reads it and posts to the center.
- **CAT062**: an emitter subprocess sends every track every ``period`` (4 s) as CAT062
  datagrams of 35 records to ``accord feed asterix --listen udp://… --allow 127.0.0.1``,
  in eight sectors half a second apart, as a radar's rotation spreads them. Each aircraft's
  record is encoded once by libasterix (:func:`~accord.feeds.asterix.encode_cat062`, 1.2 s
  for 5,000: too slow to run per round) and each round only its time of day (I062/070) and
  position (I062/105) are written into the bytes; the emitter checks its first datagram
  with the decoder.
- **the /v1/tracks path without a feed** (baseline): an emitter subprocess posts the same
  aircraft's states itself, as JSON batches of 2,000 (the feed's batch) every second, each
  stamped with the time it is made — what the feed does, without decoding anything.

**What is measured.** An observer (a monitor's token, in this process) reads ``GET
/v1/tracks`` once a second; ``R`` is when it sent the request. For each aircraft the center
shows with report time ``T`` (the message time of the position it holds):

- **lag** = ``R − u`` where ``u`` is the first update the emitter sent for that aircraft
  after ``T`` and before ``R``; 0 when there is none (the center holds the newest the sensor
  had sent). This is the issue's aim — "the state the center holds is the newest the sensor
  sent, within 2 s" — and does not count the sensor's own update period (4 s for CAT062).
  The emitters log every tick's time and which aircraft it carried.
- **age** = ``R − T``: how old the held position is, the sensor's period included.

Reads in each phase's first ``period + 2`` seconds are not judged (the feed starting). An
aircraft the emitter sent more than 2 s before ``R`` that the read does not show is
**missing**. CPU per message: the feed process's CPU and the center's (user + system, its
processes and their children, from ``/proc``) over the phase, divided by the messages the
emitter sent (SBS lines, CAT062 records, or reports posted); the emitter's CPU is not counted.

**Decoding baselines**, in this process on the same messages: SBS lines split with
``str.split`` and with the ``csv`` module (what splitting costs) against ``parse_line`` and
the joiner (what the feed does per line); a round's CAT062 datagrams parsed by libasterix
alone (``RawDatablock.parse`` and the UAP's records, no values read) against
:func:`~accord.feeds.asterix.decode_datagram` (µs per record).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from accord.chrono import format_instant
from bench.live import ACCORD, LiveServer
from bench.load import _origin, process_cpu
from bench.offices import BenchOffices, members_of, parties_of

__all__ = ["Aircraft", "fleet", "run"]

ROOT = Path(__file__).resolve().parents[1]
BOX = (19.0, 25.0, 22.0, 28.0)
"""lon min, lon max, lat min, lat max of the fleet (synthetic, around the example theatre)."""
EARTH_M = 6_371_008.8
KT_MS = 1852.0 / 3600.0
SBS_TICK_S = 0.1
SBS_POSITION_SLOTS = 5
"""An aircraft's position (MSG 3) and velocity (MSG 4) go in every fifth tick: twice a
second."""
CAT062_SECTORS = 8
PER_DATAGRAM = 35
"""CAT062 records per datagram (about 1,450 bytes: an Ethernet frame's)."""
DIRECT_BATCH = 2000
"""The feed's batch (:data:`accord.feed_process.BATCH_MAX`)."""
MISSING_AFTER_S = 2.0
EPSILON_S = 0.01
"""What the message formats' time resolution may move a time (SBS 1 ms, CAT062 1/128 s)."""
USERS = {
    "feed-admin": ("blue", "admin"),
    "observer": ("observers", "monitor"),
    "blue-officer": ("blue", "officer"),
    "red-officer": ("red", "officer"),
}


# --- the fleet ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Aircraft:
    """One synthetic aircraft: where it is at the fleet's epoch, and its straight flight."""

    index: int
    icao24: str
    callsign: str
    squawk: str
    party: str | None
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    track_deg: float

    def at(self, seconds: float) -> tuple[float, float]:
        """(lat, lon) ``seconds`` after the epoch (flat earth: a minute is 15 km)."""
        d = self.gs_kt * KT_MS * seconds
        rad = math.radians(self.track_deg)
        lat = self.lat + math.degrees(d * math.cos(rad) / EARTH_M)
        lon = self.lon + math.degrees(
            d * math.sin(rad) / (EARTH_M * math.cos(math.radians(self.lat)))
        )
        return lat, lon


def fleet(count: int, seed: int = 22) -> list[Aircraft]:
    """``count`` aircraft (see the module docstring); the same for the same ``seed``.

    >>> [a.party for a in fleet(10)][:3], fleet(3)[0].icao24
    (['blue', 'blue', 'red'], '700000')
    """
    rng = random.Random(seed)
    out = []
    for i in range(count):
        track = rng.uniform(0.0, 360.0)
        # semicircular rule: eastbound odd levels, westbound even
        level = 110 + 20 * rng.randrange(15) if track < 180.0 else 100 + 20 * rng.randrange(16)
        party = ("blue", "blue", "red", "red", None, None, None, None, None, None)[i % 10]
        out.append(
            Aircraft(
                index=i,
                icao24=f"{0x700000 + i:06x}",
                callsign=f"{(party or 'unk')[:3].upper()}{i:05d}",
                squawk=f"{(i * 7) % 0o7000 + 0o1000:04o}",
                party=party,
                lat=rng.uniform(BOX[2], BOX[3]),
                lon=rng.uniform(BOX[0], BOX[1]),
                alt_ft=level * 100.0,
                gs_kt=rng.uniform(250.0, 480.0),
                track_deg=track,
            )
        )
    return out


def registry_csv(aircraft: list[Aircraft]) -> str:
    """The feed's aircraft registry: the parties' aircraft (the others are ``unknown``)."""
    lines = ["icao24,operator,party,mission"]
    lines += [f"{a.icao24},{a.party},{a.party},transport" for a in aircraft if a.party]
    return "\n".join(lines) + "\n"


def conflicts_at_epoch(aircraft: list[Aircraft]) -> int:
    """The predicted losses of separation among the fleet at its epoch (the agreement's
    minima)."""
    from accord.agreement import load_agreement
    from accord.airspace import Separation, States, detect_conflicts
    from accord.examples import example_path

    rules = load_agreement(example_path("jig.yaml")).airspace
    states = States.from_motion(
        lat=[a.lat for a in aircraft],
        lon=[a.lon for a in aircraft],
        alt_ft=[a.alt_ft for a in aircraft],
        gs_ms=[a.gs_kt * KT_MS for a in aircraft],
        track_deg=[a.track_deg for a in aircraft],
        vs_fpm=[0.0] * len(aircraft),
    )
    return len(detect_conflicts(states, Separation.from_rules(rules)))


# --- emitters (each its own process: ``python -m bench.feeds emit KIND ...``) -----------------


def _stamp(at: datetime) -> str:
    return at.strftime("%Y/%m/%d,%H:%M:%S.") + f"{at.microsecond // 1000:03d}"


def sbs_lines(aircraft: list[Aircraft], tick: int, at: datetime, epoch: float) -> list[str]:
    """The BaseStation lines of one tick (see the module docstring): the position slot's
    aircraft send MSG 3 and MSG 4, and every other tick of theirs one of MSG 1, 5, 6.

    >>> at = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
    >>> lines = sbs_lines(fleet(10), 0, at, at.timestamp())
    >>> len(lines), lines[0][:40], [len(x.split(",")) for x in lines] == [22] * len(lines)
    (5, 'MSG,3,1,1,700000,1,2026/09/20,10:00:00.0', True)
    """
    stamp = _stamp(at)
    since = at.timestamp() - epoch
    slot = tick % SBS_POSITION_SLOTS
    out = []
    for a in aircraft[slot::SBS_POSITION_SLOTS]:
        head = f"MSG,{{}},1,1,{a.icao24.upper()},1,{stamp},{stamp}"
        lat, lon = a.at(since)
        out.append(head.format(3) + f",,{a.alt_ft:.0f},,,{lat:.5f},{lon:.5f},,,0,0,0,0")
        out.append(head.format(4) + f",,,{a.gs_kt:.0f},{a.track_deg:.1f},,,0,,0,0,0,0")
        if (tick // SBS_POSITION_SLOTS + a.index) % 2 == 0:
            kind = (1, 5, 6)[(tick // (2 * SBS_POSITION_SLOTS) + a.index) % 3]
            if kind == 1:
                out.append(head.format(1) + f",{a.callsign},,,,,,,,,,,0")
            elif kind == 5:
                out.append(head.format(5) + f",,{a.alt_ft:.0f},,,,,,,0,0,0,0")
            else:
                out.append(head.format(6) + f",,,,,,,,{a.squawk},0,0,0,0")
    return out


class _TickLog:
    """The emitter's log: one line per tick, ``tick slot slots time sent late`` (``time``
    the UNIX time every message of the tick carries, ``sent`` its messages, ``late`` how far
    behind its schedule the tick started)."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("w", encoding="utf-8")

    def tick(self, k: int, slot: int, slots: int, at: float, sent: int, late: float) -> None:
        self.file.write(f"{k} {slot} {slots} {at:.6f} {sent} {late:.4f}\n")

    def close(self) -> None:
        self.file.close()


def _schedule(seconds: float, tick_s: float) -> Iterator[tuple[int, float]]:
    """(tick, how late it starts) at ``tick_s`` intervals for ``seconds``."""
    start = time.monotonic() + 0.2
    for k in range(round(seconds / tick_s)):
        due = start + k * tick_s
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        yield k, max(0.0, time.monotonic() - due)


def _emit_sbs(args: argparse.Namespace) -> None:
    aircraft = fleet(args.aircraft, args.seed)
    server = socket.create_server(("127.0.0.1", 0))
    print(server.getsockname()[1], flush=True)
    server.settimeout(120)
    conn, _ = server.accept()
    log = _TickLog(Path(args.log))
    try:
        for k, late in _schedule(args.seconds, SBS_TICK_S):
            now = datetime.now(UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            lines = sbs_lines(aircraft, k, now, args.epoch)
            conn.sendall(("\r\n".join(lines) + "\r\n").encode("ascii"))
            log.tick(k, k % SBS_POSITION_SLOTS, SBS_POSITION_SLOTS, now.timestamp(), len(lines),
                     late)  # fmt: skip
    finally:
        log.close()
        conn.close()
        server.close()


_LSB_062_LATLON = 180.0 / 2**25  # I062/105 WGS-84 latitude and longitude, LSB 180/2^25 degrees
_LSB_TOD = 1 / 128  # I062/070 time of day


def _tod(at: datetime) -> bytes:
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    raw = round((at - midnight).total_seconds() / _LSB_TOD) % (86_400 * 128)
    return raw.to_bytes(3, "big")


def _record(a: Aircraft, at: datetime, lat: float, lon: float) -> bytes:
    from accord.feeds.asterix import SystemTrack, encode_cat062
    from accord.feeds.sighting import Sighting

    state = Sighting(
        key=a.icao24, source="cat062", time=at, icao24=a.icao24, callsign=a.callsign,
        squawk=a.squawk, lat=lat, lon=lon, alt_ft=a.alt_ft, gs_kt=a.gs_kt,
        track_deg=a.track_deg, vs_fpm=0.0,
    )  # fmt: skip
    return encode_cat062([SystemTrack(a.index, state)], sac=25, sic=10)[3:]


def _offset(one: bytes, other: bytes, width: int) -> int:
    """Where the ``width`` bytes that differ between two encodings start."""
    differ = [i for i, (x, y) in enumerate(zip(one, other, strict=True)) if x != y]
    assert differ and differ[-1] - differ[0] < width, differ
    return differ[0]


@dataclass
class _Template:
    """An aircraft's CAT062 record, made once; the offsets of its time and position."""

    aircraft: Aircraft
    record: bytes
    tod_at: int
    lat_at: int


def _template(a: Aircraft, at: datetime) -> _Template:
    base = _record(a, at, a.lat, a.lon)
    later = _record(a, at + timedelta(seconds=0x010101 * _LSB_TOD), a.lat, a.lon)
    tod_at = _offset(base, later, 3)
    # I062/105 follows I062/070 in the UAP (I062/100 is not sent)
    lat_at = tod_at + 3
    position = round(a.lat / _LSB_062_LATLON).to_bytes(4, "big", signed=True)
    position += round(a.lon / _LSB_062_LATLON).to_bytes(4, "big", signed=True)
    assert base[lat_at : lat_at + 8] == position, (base.hex(), position.hex())
    return _Template(a, base, tod_at, lat_at)


def cat062_rounds(
    aircraft: list[Aircraft], sectors: int
) -> list[list[tuple[bytearray, list[_Template], list[int]]]]:
    """For each sector, its datagrams: the bytes (header and records), the records'
    templates and where each record starts in the datagram."""
    at = datetime.now(UTC)
    out = []
    for sector in range(sectors):
        mine = [_template(a, at) for a in aircraft[sector::sectors]]
        datagrams = []
        for start in range(0, len(mine), PER_DATAGRAM):
            part = mine[start : start + PER_DATAGRAM]
            body = b"".join(t.record for t in part)
            data = bytearray(bytes([62]) + (len(body) + 3).to_bytes(2, "big") + body)
            starts, here = [], 3
            for t in part:
                starts.append(here)
                here += len(t.record)
            datagrams.append((data, part, starts))
        out.append(datagrams)
    return out


def stamp_datagram(
    data: bytearray, part: list[_Template], starts: list[int], at: datetime, epoch: float
) -> None:
    """Write ``at``'s time of day and each aircraft's position then into the datagram."""
    tod = _tod(at)
    since = at.timestamp() - epoch
    for t, base in zip(part, starts, strict=True):
        lat, lon = t.aircraft.at(since)
        data[base + t.tod_at : base + t.tod_at + 3] = tod
        position = round(lat / _LSB_062_LATLON).to_bytes(4, "big", signed=True)
        position += round(lon / _LSB_062_LATLON).to_bytes(4, "big", signed=True)
        data[base + t.lat_at : base + t.lat_at + 8] = position


def _emit_cat062(args: argparse.Namespace) -> None:
    from accord.feeds.asterix import decode_datagram

    aircraft = fleet(args.aircraft, args.seed)
    rounds = cat062_rounds(aircraft, CAT062_SECTORS)
    # the patched bytes decode to what they say (checked once, before the run)
    probe = datetime.now(UTC)
    data, part, starts = rounds[0][0]
    stamp_datagram(data, part, starts, probe, args.epoch)
    decoded = decode_datagram(bytes(data), received=probe)
    lat, lon = part[0].aircraft.at(probe.timestamp() - args.epoch)
    first = decoded.sightings[0]
    assert not decoded.problems and len(decoded.sightings) == len(part), decoded.problems
    assert abs(first.time.timestamp() - probe.timestamp()) < EPSILON_S, (first.time, probe)
    assert abs(first.lat - lat) < 1e-5 and abs(first.lon - lon) < 1e-5, (first, lat, lon)  # type: ignore[operator]
    host, _, port = args.target.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, int(port)))
    print("ready", flush=True)
    log = _TickLog(Path(args.log))
    tick_s = args.period / CAT062_SECTORS
    try:
        for k, late in _schedule(args.seconds, tick_s):
            sector = k % CAT062_SECTORS
            now = datetime.now(UTC)
            now = now.replace(microsecond=now.microsecond // 7813 * 7813)
            records = 0
            for data, part, starts in rounds[sector]:
                stamp_datagram(data, part, starts, now, args.epoch)
                sock.send(data)
                records += len(part)
            log.tick(k, sector, CAT062_SECTORS, now.timestamp(), records, late)
    finally:
        log.close()
        sock.close()


def direct_reports(aircraft: list[Aircraft], at: datetime, epoch: float) -> list[dict[str, Any]]:
    """Every aircraft's state at ``at`` as the feed posts it."""
    since = at.timestamp() - epoch
    stamp = format_instant(at)
    out = []
    for a in aircraft:
        lat, lon = a.at(since)
        out.append(
            {
                "id": a.icao24, "operator": a.party or "unknown", "party": a.party,
                "mission": "transport" if a.party else "unknown", "time": stamp, "lat": lat,
                "lon": lon, "alt_ft": a.alt_ft, "gs_kt": a.gs_kt, "track_deg": a.track_deg,
                "vs_fpm": 0.0, "icao24": a.icao24, "callsign": a.callsign, "squawk": a.squawk,
            }
        )  # fmt: skip
    return out


def _emit_direct(args: argparse.Namespace) -> None:
    aircraft = fleet(args.aircraft, args.seed)
    token = os.environ["ACCORD_TOKEN"]
    log = _TickLog(Path(args.log))
    failures: dict[str, int] = {}
    posted = 0
    print("ready", flush=True)
    with httpx.Client(
        base_url=args.center, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        try:
            for k, late in _schedule(args.seconds, 1.0):
                now = datetime.now(UTC)
                now = now.replace(microsecond=now.microsecond // 1000 * 1000)
                reports = direct_reports(aircraft, now, args.epoch)
                for start in range(0, len(reports), DIRECT_BATCH):
                    answer = client.post(
                        "/v1/tracks", json={"tracks": reports[start : start + DIRECT_BATCH]}
                    )
                    if answer.status_code != 200:
                        key = f"{answer.status_code} {answer.text[:120]}"
                        failures[key] = failures.get(key, 0) + 1
                    else:
                        posted += len(reports[start : start + DIRECT_BATCH])
                log.tick(k, 0, 1, now.timestamp(), len(reports), late)
        finally:
            log.close()
            sys.stderr.write(json.dumps({"posted": posted, **failures}) + "\n")


def _emitter_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds emit")
    parser.add_argument("kind", choices=("sbs", "cat062", "direct"))
    parser.add_argument("--aircraft", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--epoch", type=float, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--target", default="")
    parser.add_argument("--center", default="")
    parser.add_argument("--period", type=float, default=4.0)
    args = parser.parse_args(argv)
    {"sbs": _emit_sbs, "cat062": _emit_cat062, "direct": _emit_direct}[args.kind](args)


# --- the observer -----------------------------------------------------------------------------

Read = tuple[float, float, dict[str, float]]
"""(when the request was sent, how long it took, track id → report time), UNIX seconds."""


def _observe(url: str, token: str, reads: list[Read], stop: threading.Event) -> None:
    """``GET /v1/tracks`` once a second until ``stop``."""
    with httpx.Client(
        base_url=url, timeout=60.0, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        next_at = time.monotonic()
        while not stop.is_set():
            sent = time.time()
            took = time.monotonic()
            try:
                answer = client.get("/v1/tracks")
            except httpx.HTTPError:
                answer = None
            took = time.monotonic() - took
            if answer is not None and answer.status_code == 200:
                held = {
                    t["id"]: datetime.fromisoformat(t["time"]).timestamp()
                    for t in answer.json()["items"]
                }
                reads.append((sent, took, held))
            next_at += 1.0
            stop.wait(max(0.0, next_at - time.monotonic()))


@dataclass
class Ticks:
    """The emitter's log read back: per slot, the times of its ticks."""

    slots: int = 1
    times: dict[int, list[float]] = field(default_factory=dict)
    messages: int = 0
    late_max: float = 0.0
    first: float = math.inf

    @classmethod
    def read(cls, path: Path) -> Ticks:
        out = cls()
        for line in path.read_text(encoding="utf-8").splitlines():
            _, slot, slots, at, sent, late = line.split()
            out.slots = int(slots)
            out.times.setdefault(int(slot), []).append(float(at))
            out.messages += int(sent)
            out.late_max = max(out.late_max, float(late))
            out.first = min(out.first, float(at))
        return out

    def next_after(self, index: int, held: float, before: float) -> float | None:
        """The first update of aircraft ``index`` after ``held`` and sent before ``before``."""
        times = self.times.get(index % self.slots, [])
        k = bisect.bisect_right(times, held + EPSILON_S)
        if k < len(times) and times[k] <= before:
            return times[k]
        return None

    def sent_by(self, index: int, when: float) -> bool:
        times = self.times.get(index % self.slots, [])
        return bool(times) and times[0] <= when


@dataclass
class Judged:
    lags: list[float] = field(default_factory=list)
    ages: list[float] = field(default_factory=list)
    missing: int = 0
    reads: int = 0
    read_s: list[float] = field(default_factory=list)


def judge(aircraft: list[Aircraft], ticks: Ticks, reads: list[Read], warmup_s: float) -> Judged:
    """Lag, age and missing aircraft of every read after the warm-up (module docstring).

    >>> a = fleet(2)
    >>> t = Ticks(slots=1, times={0: [100.0, 101.0, 102.0]}, first=100.0)
    >>> j = judge(a, t, [(102.5, 0.1, {a[0].icao24: 101.0})], warmup_s=0.0)
    >>> [round(x, 2) for x in j.lags], [round(x, 2) for x in j.ages], j.missing
    ([0.5], [1.5], 1)
    """
    out = Judged()
    by_id = {a.icao24: a for a in aircraft}
    for sent, took, held in reads:
        if sent < ticks.first + warmup_s:
            continue
        out.reads += 1
        out.read_s.append(took)
        for a in by_id.values():
            t = held.get(a.icao24)
            if t is None:
                if ticks.sent_by(a.index, sent - MISSING_AFTER_S):
                    out.missing += 1
                continue
            u = ticks.next_after(a.index, t, sent)
            out.lags.append(0.0 if u is None else sent - u)
            out.ages.append(sent - t)
    return out


def quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    judged: Judged
    messages: int
    seconds: float
    feed_cpu: float
    center_cpu: float
    late_max: float
    status: str
    posted: int
    """Reports the center took (the feed's count; the direct poster's, less those refused)."""
    errors: dict[str, int]
    """The feed's or the poster's errors, as its status lines named them, and how often."""

    def row(self) -> str:
        j = self.judged
        return (
            f"lag p50/p99/max {quantile(j.lags, 0.5):.2f}/{quantile(j.lags, 0.99):.2f}/"
            f"{max(j.lags, default=math.nan):.2f} s, missing {j.missing}"
        )

    def say(self) -> None:
        j = self.judged
        print(
            f"feeds {self.name}: {self.messages:,} messages in {self.seconds:.0f} s "
            f"({self.messages / max(self.seconds, 1e-9):,.0f}/s, emitter late by at most "
            f"{self.late_max:.3f} s); {j.reads} reads judged, {len(j.lags):,} aircraft-reads; "
            f"{self.row()}; age p50/p99/max {quantile(j.ages, 0.5):.2f}/"
            f"{quantile(j.ages, 0.99):.2f}/{max(j.ages, default=math.nan):.2f} s; a read took "
            f"p50/max {quantile(j.read_s, 0.5):.3f}/{max(j.read_s, default=math.nan):.3f} s "
            f"({sum(j.read_s):.1f} s in all, part of the center's CPU); "
            f"CPU feed {self.feed_cpu:.1f} s, center {self.center_cpu:.1f} s "
            f"({self.per_message(self.center_cpu):.1f} µs/message, "
            f"{self.center_cpu / max(1, self.posted) * 1e6:.0f} µs per report posted); "
            f"{self.posted:,} reports posted; errors {self.errors}; {self.status}",
            flush=True,
        )

    def per_message(self, cpu: float) -> float:
        return cpu / max(1, self.messages) * 1e6


@dataclass
class _Center:
    server: LiveServer
    tokens: dict[str, str]
    folder: Path


@contextmanager
def _served(folder: Path, limits: str = "") -> Iterator[_Center]:
    """The center over the example agreement naming its members' roots (as in
    :mod:`bench.tak`), the parties' signatures of it given, the feed's and the observer's
    tokens made."""
    from accord.examples import example_path

    text = Path(example_path("jig.yaml")).read_text(encoding="utf-8") + limits
    offices = BenchOffices(folder / "offices", members_of(text), USERS)
    agreement = folder / "agreement.yaml"
    agreement.write_text(offices.rooted(text), encoding="utf-8")
    server = LiveServer(
        f"sqlite:///{folder / 'accord.sqlite'}", folder / "keys", folder / "server.log",
        agreement_path=agreement,
    )  # fmt: skip
    tokens = {name: server.add_user(name, *mr) for name, mr in USERS.items()}
    server.start(extra=("--no-access-log", "--writer-process"))
    try:
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            signers = {u: tokens[u] for u in ("blue-officer", "red-officer")}
            offices.start(
                client, signers, origin=_origin(agreement), clock=lambda: datetime.now(UTC),
                parties=parties_of(text),
            )  # fmt: skip
        yield _Center(server, tokens, folder)
    finally:
        server.stop()


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def _emitter(kind: str, folder: Path, aircraft: int, seconds: float, epoch: float,
             *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:  # fmt: skip
    return subprocess.Popen(
        [
            sys.executable, "-m", "bench.feeds", "emit", kind, "--aircraft", str(aircraft),
            "--seconds", str(seconds), "--epoch", repr(epoch),
            "--log", str(folder / f"{kind}.ticks"), *extra,
        ],
        cwd=ROOT, env=env or _env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def _feed(center: _Center, *args: str) -> subprocess.Popen[str]:
    env = {**_env(), "ACCORD_TOKEN": center.tokens["feed-admin"]}
    log = (center.folder / f"feed-{args[0]}.log").open("w")
    return subprocess.Popen(
        [*ACCORD, "feed", *args, "--center", center.server.url,
         "--aircraft", str(center.folder / "aircraft.csv"), "--interval", "1",
         "--status-every", "5"],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[str] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _phase(
    name: str, center: _Center, aircraft: list[Aircraft], emitter: subprocess.Popen[str],
    feed: subprocess.Popen[str] | None, warmup_s: float, kind: str, length: float,
) -> Phase:  # fmt: skip
    """Observe while the emitter runs; judge the reads against its ticks."""
    server_pid = center.server.process.pid if center.server.process else 0
    cpu0 = process_cpu(server_pid)
    feed0 = process_cpu(feed.pid) if feed else 0.0
    reads: list[Read] = []
    stop = threading.Event()
    observer = threading.Thread(
        target=_observe, args=(center.server.url, center.tokens["observer"], reads, stop)
    )
    observer.start()
    try:
        _, errors = emitter.communicate(timeout=3600)
    finally:
        cpu1 = process_cpu(server_pid)
        feed1 = process_cpu(feed.pid) if feed else 0.0
        time.sleep(1.5)  # the last post lands; then one more read is taken
        stop.set()
        observer.join()
    if emitter.returncode != 0:
        raise RuntimeError(f"the {kind} emitter failed: {errors[-2000:]}")
    ticks = Ticks.read(center.folder / f"{kind}.ticks")
    errors_seen: dict[str, int] = {}
    if feed is None:
        refused = json.loads(errors.strip().splitlines()[-1])
        errors_seen = {k: v for k, v in refused.items() if k != "posted"}
        posted, status = int(refused["posted"]), ""
    else:
        _stop(feed)
        log = (center.folder / f"feed-{'sbs' if kind == 'sbs' else 'asterix'}.log").read_text()
        lines = [x for x in log.splitlines() if x.startswith("feed:")]
        for line in lines:
            last = line.rpartition("last error: ")[2]
            if last != "none":
                key = re.sub(r"[0-9]+", "N", last)[:100]
                errors_seen[key] = errors_seen.get(key, 0) + 1
        status = lines[-1] if lines else "no status line"
        found = re.search(r"\(([0-9,]+) reports\)", status)
        posted = int(found.group(1).replace(",", "")) if found else 0
    return Phase(
        name, judge(aircraft, ticks, reads, warmup_s), ticks.messages, length,
        feed1 - feed0, cpu1 - cpu0, ticks.late_max, status, posted, errors_seen,
    )  # fmt: skip


def _sbs_phase(center: _Center, aircraft: list[Aircraft], seconds: float, epoch: float) -> Phase:
    emitter = _emitter("sbs", center.folder, len(aircraft), seconds, epoch)
    assert emitter.stdout is not None
    port = int(emitter.stdout.readline())
    feed = _feed(center, "sbs", "--connect", f"127.0.0.1:{port}")
    try:
        return _phase("SBS", center, aircraft, emitter, feed, 3.0, "sbs", seconds)
    finally:
        _stop(emitter)
        _stop(feed)


def _cat062_phase(
    center: _Center, aircraft: list[Aircraft], seconds: float, epoch: float, period: float
) -> Phase:
    port = free_port_udp()
    feed = _feed(center, "asterix", "--listen", f"udp://127.0.0.1:{port}", "--allow", "127.0.0.1")
    emitter = _emitter("cat062", center.folder, len(aircraft), seconds, epoch,
                       "--target", f"127.0.0.1:{port}", "--period", str(period))  # fmt: skip
    assert emitter.stdout is not None
    try:
        ready = emitter.stdout.readline().strip()
        assert ready == "ready", ready
        return _phase("CAT062", center, aircraft, emitter, feed, period + 2.0, "cat062", seconds)
    finally:
        _stop(emitter)
        _stop(feed)


def _direct_phase(center: _Center, aircraft: list[Aircraft], seconds: float, epoch: float) -> Phase:
    env = {**_env(), "ACCORD_TOKEN": center.tokens["feed-admin"]}
    emitter = _emitter("direct", center.folder, len(aircraft), seconds, epoch,
                       "--center", center.server.url, env=env)  # fmt: skip
    assert emitter.stdout is not None
    try:
        ready = emitter.stdout.readline().strip()
        assert ready == "ready", ready
        return _phase(
            "/v1/tracks without a feed",
            center,
            aircraft,
            emitter,
            None,
            3.0,
            "direct",
            seconds,
        )
    finally:
        _stop(emitter)


def free_port_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- decoding baselines -----------------------------------------------------------------------


def _per(seconds: float, count: int) -> float:
    return seconds / max(1, count) * 1e6


def decode_sbs(aircraft: list[Aircraft]) -> tuple[float, float, float, int]:
    """µs per line: ``str.split``, the ``csv`` module, and ``parse_line`` + the joiner, over
    one second of the emitter's lines; and how many lines."""
    from accord.feeds.join import Joiner
    from accord.feeds.sbs import parse_line

    now = datetime.now(UTC).replace(microsecond=0)
    lines = [
        line
        for k in range(round(1 / SBS_TICK_S))
        for line in sbs_lines(aircraft, k, now + timedelta(seconds=k * SBS_TICK_S), now.timestamp())
    ]
    best = [math.inf, math.inf, math.inf]
    for _ in range(3):
        t = time.perf_counter()
        for line in lines:
            line.split(",")
        best[0] = min(best[0], time.perf_counter() - t)
        t = time.perf_counter()
        for _row in csv.reader(io.StringIO("\n".join(lines))):
            pass
        best[1] = min(best[1], time.perf_counter() - t)
        joiner = Joiner()
        t = time.perf_counter()
        for line in lines:
            parsed = parse_line(line, received=now)
            if parsed is not None:
                joiner.add(parsed[0])
        best[2] = min(best[2], time.perf_counter() - t)
    return (*(_per(b, len(lines)) for b in best), len(lines))  # type: ignore[return-value]


def decode_cat062(aircraft: list[Aircraft]) -> tuple[float, float, float, int]:
    """µs per record over one round's datagrams: libasterix's own decode as its README shows
    it (``RawDatablock.parse``, then the UAP's records), libasterix's record parser over each
    block's bytes (what :func:`~accord.feeds.asterix.decode_datagram` calls), and
    ``decode_datagram`` itself (the parser, the values read, scaled and checked); alternated,
    best of three."""
    from asterix.base import Bits, ParsingMode, RawDatablock
    from asterix.generated import Cat_062_1_21

    from accord.feeds.asterix import decode_datagram

    now = datetime.now(UTC)
    datagrams = []
    for sector in cat062_rounds(aircraft, CAT062_SECTORS):
        for data, part, starts in sector:
            stamp_datagram(data, part, starts, now, now.timestamp())
            datagrams.append(bytes(data))
    records = len(aircraft)
    spec: Any = Cat_062_1_21
    best = [math.inf, math.inf, math.inf]
    for _ in range(3):
        t = time.perf_counter()
        documented = 0
        for data in datagrams:
            blocks = RawDatablock.parse(Bits.from_bytes(data))
            assert not isinstance(blocks, ValueError)
            for block in blocks:
                result = spec.cv_uap._parse(block.get_raw_records())
                assert not isinstance(result, ValueError)
                documented += len(result)
        best[0] = min(best[0], time.perf_counter() - t)
        t = time.perf_counter()
        parsed = 0
        for data in datagrams:
            bits = Bits.from_bytes(data[3:])
            while len(bits):
                found = spec.cv_record.parse(ParsingMode.StrictParsing, bits)
                assert not isinstance(found, ValueError)
                bits = found[1]
                parsed += 1
        best[1] = min(best[1], time.perf_counter() - t)
        t = time.perf_counter()
        read = 0
        for data in datagrams:
            read += len(decode_datagram(data, received=now).sightings)
        best[2] = min(best[2], time.perf_counter() - t)
        assert documented == parsed == read == records, (documented, parsed, read, records)
    return (*(_per(b, records) for b in best), records)  # type: ignore[return-value]


# --- the bench --------------------------------------------------------------------------------


def run(
    *,
    aircraft: int = 5000,
    seconds: float = 60.0,
    period: float = 4.0,
    seed: int = 22,
    writer_share: float | None = None,
) -> list[tuple[str, str, str, str]]:
    """Both feeds and the baselines (module docstring); the harness's rows. ``writer_share``
    sets the agreement's ``limits.writer_share`` (default: the agreement's, 0.5)."""
    planes = fleet(aircraft, seed)
    print(f"feeds: {aircraft:,} aircraft, {conflicts_at_epoch(planes):,} predicted losses of "
          f"separation among them; load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    split_us, csv_us, sbs_us, lines = decode_sbs(planes)
    readme_us, lib_us, ours_us, records = decode_cat062(planes)
    print(f"feeds decoding: SBS {lines:,} lines: str.split {split_us:.2f} µs, csv {csv_us:.2f} "
          f"µs, parse_line + joiner {sbs_us:.2f} µs per line; CAT062 {records:,} records: "
          f"libasterix as its README decodes {readme_us:.1f} µs, its record parser alone "
          f"{lib_us:.1f} µs, decode_datagram {ours_us:.1f} µs per record",
          flush=True)  # fmt: skip
    epoch = time.time()
    limits = "" if writer_share is None else f"\nlimits:\n  writer_share: {writer_share}\n"
    with (
        tempfile.TemporaryDirectory(prefix="accord-feeds-") as tmp,
        _served(Path(tmp), limits) as center,
    ):
        (center.folder / "aircraft.csv").write_text(registry_csv(planes), encoding="utf-8")
        sbs = _sbs_phase(center, planes, seconds, epoch)
        sbs.say()
        cat = _cat062_phase(center, planes, seconds, epoch, period)
        cat.say()
        direct = _direct_phase(center, planes, seconds, epoch)
        direct.say()
        print(f"feeds: load average {os.getloadavg()[0]:.1f} at the end", flush=True)
    label = f"feeds (`--only feeds`): {aircraft:,} aircraft, {seconds:.0f} s"
    if writer_share is not None:
        label += f", writer_share {writer_share:g}"
    base = f"/v1/tracks without a feed {direct.row()}"
    return [
        (f"{label}: SBS {sbs.messages / seconds:,.0f} lines/s, lag", sbs.row(), base, ""),
        (f"{label}: CAT062 every {period:g} s, lag", cat.row(), base, ""),
        (
            f"{label}: SBS CPU per line, feed / center",
            f"{sbs.per_message(sbs.feed_cpu):.1f} / {sbs.per_message(sbs.center_cpu):.1f} µs",
            f"decode alone: split {split_us:.2f} µs, csv {csv_us:.2f} µs",
            f"{sbs.per_message(sbs.feed_cpu) / split_us:.0f}× split" if split_us else "",
        ),
        (
            f"{label}: CAT062 CPU per record, feed / center",
            f"{cat.per_message(cat.feed_cpu):.1f} / {cat.per_message(cat.center_cpu):.1f} µs",
            f"decode alone: libasterix's record parser {lib_us:.1f} µs (its README's way "
            f"{readme_us:.0f} µs); decode_datagram {ours_us:.1f} µs",
            f"{cat.per_message(cat.feed_cpu) / lib_us:.2f}×" if lib_us else "",
        ),
        (
            f"{label}: center CPU per report it took",
            f"SBS {sbs.center_cpu / max(1, sbs.posted) * 1e6:.0f} µs, CAT062 "
            f"{cat.center_cpu / max(1, cat.posted) * 1e6:.0f} µs",
            f"/v1/tracks without a feed {direct.center_cpu / max(1, direct.posted) * 1e6:.0f} µs",
            "",
        ),
        (
            f"{label}: reports the center took, of those offered",
            f"SBS {sbs.posted:,}, CAT062 {cat.posted:,} of {cat.messages:,}",
            f"/v1/tracks without a feed {direct.posted:,} of {direct.messages:,}",
            "",
        ),
    ]


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:2] == ["emit"]:
        _emitter_main(sys.argv[2:])
    else:
        for row in run(aircraft=int(os.environ.get("AIRCRAFT", "500")), seconds=15.0):
            print(json.dumps(row))
