"""``accord feed``: a live source read, joined per aircraft, posted to the center as the
center's feed user (the administrator's ``/v1/tracks``), once per interval.

::

    source ──lines/datagrams──▶ decoder ──Sighting──▶ Joiner ──latest whole states──▶ Poster
    (TCP SBS, UDP ASTERIX,       (accord.feeds.sbs,     (accord.feeds.join)          POST /v1/tracks
     a CSV replayed)              accord.feeds.asterix)                               every interval

* **Latest wins.** An aircraft heard many times between two posts is posted once, with its
  newest state; a batch the center did not take (a dropped connection, a 5xx, a 429) is not
  resent as it was: its aircraft are marked again and their newest states go in the next
  batch, after a backoff (or the ``Retry-After`` of the center's 429 or 503).
* **Both sides reconnect.** The source is reconnected with exponential backoff (0.5 s
  doubling to 30 s) when it drops or refuses; so is the center.
* **Bounded.** A batch holds at most :data:`BATCH_MAX` reports (the center's body limit is
  1 MiB); the joiner holds at most ``max_aircraft`` aircraft and forgets one not heard for
  :data:`FORGET_AFTER`; a line longer than :data:`~accord.feeds.sbs.MAX_LINE` is a problem,
  never a buffer that grows.
* **Identity.** A sighting becomes a report with the registry's operator, party and mission
  for its address, or ``unknown`` (:mod:`accord.feeds.registry`); the center matches it to
  the flight plans in force (:mod:`accord.center.airspace.identity`).
* A one-line status every ``status_every`` seconds: reports in, aircraft held, batches
  posted, refused, the last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from accord.airspace import TrackReport, report_from_fields
from accord.airspace.tracks import parse_tracks_csv
from accord.chrono import format_instant
from accord.feeds.join import Joiner
from accord.feeds.registry import Registry
from accord.feeds.sbs import MAX_LINE, SbsError, parse_line
from accord.feeds.sighting import Sighting

__all__ = [
    "BATCH_MAX",
    "CHUNK",
    "FORGET_AFTER",
    "Counts",
    "Feed",
    "Poster",
    "backoff",
    "listen_asterix",
    "read_sbs",
    "replay_csv",
]

BATCH_MAX = 2000
"""The most reports one ``POST /v1/tracks`` carries (about 450 KiB: under the 1 MiB body
limit with room for long ids)."""
FORGET_AFTER = timedelta(seconds=60)
"""An aircraft not heard for this long is forgotten (the center stops checking a track at
the same age)."""

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int) -> float:
    """Seconds to wait before reconnection ``attempt`` (0-based): 0.5 s doubling, at most 30.

    >>> [backoff(k) for k in (0, 1, 2, 10)]
    [0.5, 1.0, 2.0, 30.0]
    """
    return float(min(30.0, 0.5 * 2 ** min(attempt, 10)))


@dataclass(slots=True)
class Counts:
    """What the feed has done so far (the status line reads it)."""

    messages: int = 0
    problems: int = 0
    skewed: int = 0
    batches: int = 0
    posted: int = 0
    refused: int = 0
    connects: int = 0
    last_error: str = "none"

    def line(self, held: int) -> str:
        return (
            f"feed: {self.messages:,} messages in ({self.problems:,} bad, {self.skewed:,} "
            f"with the reception's time), {held:,} aircraft held, {self.batches:,} batches "
            f"posted ({self.posted:,} reports), {self.refused:,} refused; last error: "
            f"{self.last_error}"
        )


@dataclass(slots=True)
class Feed:
    """What the source side fills and the poster empties: the joiner of sightings, reports
    already whole (a CSV replay's), and the counts."""

    registry: Registry = field(default_factory=Registry)
    joiner: Joiner = field(default_factory=Joiner)
    whole: dict[str, TrackReport] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)

    def sighted(self, s: Sighting) -> None:
        if not self.joiner.add(s):
            self.counts.problems += 1
            self.counts.last_error = f"more than {self.joiner.max_aircraft:,} aircraft held"

    def reported(self, r: TrackReport) -> None:
        self.whole[r.id] = r

    def problem(self, reason: str) -> None:
        self.counts.problems += 1
        self.counts.last_error = reason

    def take(self) -> list[dict[str, Any]]:
        """The reports to post now: each changed aircraft's newest whole state (checked as
        the center checks it; one that fails is a problem, not a batch the center refuses)."""
        out: list[dict[str, Any]] = []
        for s in self.joiner.take():
            operator, party, mission = self.registry.identity(s.icao24)
            values = {
                "id": s.key,
                "operator": operator,
                "party": party,
                "mission": mission,
                "time": format_instant(s.time),
                "lat": s.lat,
                "lon": s.lon,
                "alt_ft": s.alt_ft,
                "gs_kt": s.gs_kt,
                "track_deg": s.track_deg,
                "vs_fpm": s.vs_fpm,
                "icao24": s.icao24,
                "callsign": s.callsign,
                "squawk": s.squawk,
            }
            found = report_from_fields(values)
            if isinstance(found, TrackReport):
                out.append(values)
            else:
                self.problem(f"aircraft {s.key}: {found[0]}")
        whole, self.whole = self.whole, {}
        out += [_json(r) for r in whole.values()]
        return out

    def again(self, reports: list[dict[str, Any]]) -> None:
        """Reports the center did not take: their aircraft go in the next batch (with their
        newest state, should a newer one have come meanwhile)."""
        for r in reports:
            key = str(r["id"])
            if key in self.joiner.states:
                self.joiner.again([key])
            else:
                self.whole.setdefault(key, _report(r))


def _json(r: TrackReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "operator": r.operator,
        "party": r.party,
        "mission": r.mission,
        "time": format_instant(r.time),
        "lat": r.lat,
        "lon": r.lon,
        "alt_ft": r.alt_ft,
        "gs_kt": r.gs_kt,
        "track_deg": r.track_deg,
        "vs_fpm": r.vs_fpm,
        "icao24": r.icao24,
        "callsign": r.callsign,
        "squawk": r.squawk,
    }


@dataclass(slots=True)
class Poster:
    """Posts the feed's reports to ``/v1/tracks`` every ``interval`` seconds."""

    feed: Feed
    client: httpx.AsyncClient
    token: str
    interval: float = 1.0
    failures: int = 0
    clock: Clock = _utc_now
    retry_after: float | None = None
    """What the center's last 429 or 503 asked to wait (``Retry-After``, seconds)."""

    async def post_once(self) -> None:
        """One round: everything changed since the last, in batches of :data:`BATCH_MAX`.
        A batch that fails marks its aircraft again and raises the failure count (the next
        round waits :func:`backoff` of it)."""
        self.feed.joiner.forget(self.clock() - FORGET_AFTER)
        reports = self.feed.take()
        counts = self.feed.counts
        for start in range(0, len(reports), BATCH_MAX):
            batch = reports[start : start + BATCH_MAX]
            error = await self._post(batch, more=start + BATCH_MAX < len(reports))
            if error is None:
                counts.batches += 1
                counts.posted += len(batch)
                self.failures = 0
                continue
            counts.last_error = error
            if error.startswith("refused"):
                counts.refused += len(batch)
                continue  # the center named what is wrong: resending it changes nothing
            self.failures += 1
            self.feed.again(reports[start:])
            return

    async def _post(self, batch: list[dict[str, Any]], *, more: bool = False) -> str | None:
        """Post one batch; ``more``: batches of this round follow (the center's detection
        waits for the last, run once a round)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        body: dict[str, Any] = {"tracks": batch, "more": True} if more else {"tracks": batch}
        try:
            answer = await self.client.post("/v1/tracks", json=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"the center: {type(exc).__name__}: {exc}"[:200]
        if answer.status_code == 200:
            return None
        if answer.status_code in (400, 403, 422):
            detail = answer.text[:300].replace("\n", " ")
            return f"refused {answer.status_code}: {detail}"
        if answer.status_code in (429, 503):
            self.retry_after = _seconds(answer.headers.get("Retry-After"))
        return f"the center answered {answer.status_code}"

    def next_round(self, due: float, now: float) -> float:
        """When the next round starts, the last one having been due at ``due`` (seconds on
        the event loop's clock); see :meth:`run`."""
        if not self.failures:
            return max(due + self.interval, now)
        wait = backoff(self.failures - 1)
        if self.retry_after is not None:  # the center said when: no longer
            wait, self.retry_after = self.retry_after, None
        return now + wait

    async def run(self, stop: asyncio.Event) -> None:
        """Post every ``interval`` seconds on a steady beat (a round that took time is not
        added to the wait: a state waits at most an interval before its round starts); a
        round that overran starts the next at once; after a failure, :func:`backoff`, or
        the ``Retry-After`` of a 429 or 503 (the center slowing its feed says when it takes
        writes again: waiting longer only makes the picture older)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not stop.is_set():
            due = self.next_round(due, loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, due - loop.time()))
            await self.post_once()


def _seconds(text: str | None) -> float | None:
    """A ``Retry-After`` in seconds, at most 30 (an HTTP date or nonsense: ``None``).

    >>> [_seconds(t) for t in ("2", "0.5", "3600", "-1", "nan", "Fri, 31 Dec 1999", None)]
    [2.0, 0.5, 30.0, None, None, None, None]
    """
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return min(30.0, value) if math.isfinite(value) and value >= 0 else None


def _report(values: dict[str, Any]) -> TrackReport:
    found = report_from_fields(values)
    assert isinstance(found, TrackReport)
    return found


async def read_sbs(
    host: str, port: int, feed: Feed, stop: asyncio.Event, *, clock: Clock = _utc_now
) -> None:
    """Read BaseStation lines from ``host:port`` into ``feed`` until ``stop``, reconnecting
    with :func:`backoff` when the receiver drops or refuses."""
    attempt = 0
    counts = feed.counts
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=CHUNK)
        except OSError as exc:
            counts.last_error = f"the receiver {host}:{port}: {exc.strerror or exc}"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff(attempt))
            attempt += 1
            continue
        counts.connects += 1
        try:
            heard = await _lines(reader, feed, stop, clock)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        attempt = 0 if heard else attempt + 1
        if not stop.is_set():
            counts.last_error = f"the receiver {host}:{port} closed the connection"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff(attempt))


CHUNK = 1 << 16
"""Bytes read from the receiver at a time: lines are cut from the chunk, not read one by one
(25,000 lines a second through ``readuntil`` cost 15 µs a line in the event loop alone)."""


async def _lines(
    reader: asyncio.StreamReader, feed: Feed, stop: asyncio.Event, clock: Clock
) -> bool:
    """Read lines until EOF or ``stop``; whether any line came. A line longer than
    :data:`~accord.feeds.sbs.MAX_LINE` is a problem (once) and is dropped up to its end; a
    last line without its end of line when the receiver closes is dropped."""
    heard = False
    pending = b""
    skipping = False  # inside a line too long to keep, dropped up to its end
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            reading = asyncio.ensure_future(reader.read(CHUNK))
            done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stopping in done:
                reading.cancel()
                return heard
            chunk = reading.result()
            if not chunk:
                return heard
            heard = heard or b"\n" in chunk
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            if skipping and lines:
                lines, skipping = lines[1:], False
            if len(pending) > MAX_LINE + 1:
                if not skipping:
                    feed.problem(f"a line longer than {MAX_LINE} characters")
                pending, skipping = b"", True
            received = clock()
            for raw in lines:
                _line(raw, feed, received)
    except (ConnectionError, OSError) as exc:
        feed.counts.last_error = f"the receiver: {exc}"
        return heard
    finally:
        stopping.cancel()


def _line(raw: bytes, feed: Feed, received: datetime) -> None:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        feed.problem("a line that is not ASCII")
        return
    try:
        parsed = parse_line(text, received=received)
    except SbsError as exc:
        feed.problem(str(exc))
        return
    if parsed is None:
        return
    sighting, believed = parsed
    feed.counts.messages += 1
    if not believed:
        feed.counts.skewed += 1
    feed.sighted(sighting)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, feed: Feed, clock: Clock, allowed: frozenset[str] | None) -> None:
        # Imported here: libasterix's generated editions take over a second to import, which
        # every other command (``accord serve`` among them) would pay at its start.
        from accord.feeds.asterix import decode_datagram

        self.decode = decode_datagram
        self.feed, self.clock, self.allowed = feed, clock, allowed

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.allowed is not None and str(addr[0]) not in self.allowed:
            self.feed.problem(f"a datagram from {addr[0]}, not an allowed source")
            return
        decoded = self.decode(data, received=self.clock())
        self.feed.counts.messages += decoded.records
        for problem in decoded.problems:
            self.feed.problem(f"ASTERIX from {addr[0]}: {problem}")
        self.feed.joiner.end(decoded.ended)
        for s in decoded.sightings:
            self.feed.sighted(s)

    def error_received(self, exc: Exception) -> None:
        self.feed.counts.last_error = f"the UDP socket: {exc}"


async def listen_asterix(
    host: str,
    port: int,
    feed: Feed,
    stop: asyncio.Event,
    *,
    allowed: frozenset[str] | None = None,
    clock: Clock = _utc_now,
    bound: asyncio.Future[int] | None = None,
) -> None:
    """Read ASTERIX datagrams (CAT062, CAT021: :mod:`accord.feeds.asterix`) sent to
    ``host:port`` into ``feed`` until ``stop``. ``allowed``: the source addresses taken (UDP
    is spoofable on a shared network: name the radar data processors); others are counted as
    problems. ``bound`` is given the port bound (``port`` 0 picks one)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Datagrams(feed, clock, allowed), local_addr=(host, port)
    )
    try:
        if bound is not None:
            bound.set_result(int(transport.get_extra_info("sockname")[1]))
        feed.counts.connects += 1
        await stop.wait()
    finally:
        transport.close()


async def replay_csv(
    path: Path,
    feed: Feed,
    stop: asyncio.Event,
    *,
    speed: float = 1.0,
    clock: Clock = _utc_now,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Replay a CSV of track reports in time (``speed`` × real time), each report's time moved
    to the present: the first report is posted now, one 60 s later in the file is posted 60 s
    (at speed 1) later, stamped with the time it is posted — an exercise's recorded picture
    shown live. Raises :class:`~accord.errors.TrackError` for a bad file (nothing is
    posted)."""
    text = path.read_text(encoding="utf-8")
    reports = sorted(parse_tracks_csv(text, source=str(path)), key=lambda r: r.time)
    if not reports:
        return
    first = reports[0].time
    started, began = clock(), time.monotonic()
    for r in reports:
        due = (r.time - first).total_seconds() / speed
        wait = due - (time.monotonic() - began)
        if wait > 0:
            await sleep(wait)
        if stop.is_set():
            return
        at = started + timedelta(seconds=due)
        feed.counts.messages += 1
        feed.reported(replace(r, time=at))
