"""``accord feed sbs`` over a real socket: a BaseStation emitter on loopback replays two
aircraft converging head-on at the same level, in the separate messages a receiver sends
(identification, airborne position, airborne velocity); the feed joins them per address,
names them from its aircraft registry (one blue's, one red's) and posts them to the center,
where the loss of separation is alerted to both parties. The feed survives the emitter
dropping the connection (it reconnects), and a bad line is counted, not fatal."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.feed_process import Feed, Poster, read_sbs
from accord.feeds.registry import parse_registry
from support.inprocess import Bridge, RunningClock
from support.service import Service, rooted_service

REGISTRY = "icao24,operator,party,mission\n4ca7b1,blue,blue,transport\n3c6dd2,red,red,patrol\n"


def _stamp(at: datetime) -> str:
    return at.strftime("%Y/%m/%d,%H:%M:%S.") + f"{at.microsecond // 1000:03d}"


def messages(clock: RunningClock, k: int) -> list[str]:
    """Round ``k`` of the two aircraft's messages: 400 kt head-on at FL300, 0.5° apart at
    the start, each moving 400 kt × 0.2 s between rounds."""
    at = clock()
    stamp = _stamp(at)
    step = 400 * 1852 / 3600 * 0.2 / 111_320 * k
    out = []
    for hex_ident, callsign, lon, track in (
        ("4CA7B1", "BLU101", 21.0 + step, 90),
        ("3C6DD2", "RED202", 21.5 - step, 270),
    ):
        head = f"MSG,{{}},1,1,{hex_ident},1,{stamp},{stamp}"
        out.append(head.format(1) + f",{callsign},,,,,,,,,,,0")
        out.append(head.format(3) + f",,30000,,,25.000000,{lon:.6f},,,0,0,0,0")
        out.append(head.format(4) + f",,,400,{track},,,0,,,,,0")
    return out


class Emitter:
    """A BaseStation port on loopback: each connection gets rounds of messages, every 0.2 s;
    the first connection is dropped after two rounds (the feed must reconnect)."""

    def __init__(self, clock: RunningClock) -> None:
        self.clock = clock
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.handlers: list[asyncio.Task[Any]] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self.handlers.append(task)
        first = self.connections == 1
        try:
            writer.write(b"MSG,this is not basestation\r\n\r\n")
            for k in range(200):
                lines = messages(self.clock, k)
                writer.write(("\r\n".join(lines) + "\r\n").encode("ascii"))
                await writer.drain()
                if first and k == 1:
                    return
                await asyncio.sleep(0.2)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Service, RunningClock]]:
    clock = RunningClock()
    with rooted_service(tmp_path, None, now=clock) as service:
        yield service, clock


def test_two_converging_aircraft_from_a_basestation_feed_alert_both_parties(
    running: tuple[Service, RunningClock],
) -> None:
    service, clock = running
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stop = asyncio.Event()
    feed = Feed(registry=parse_registry(REGISTRY))

    async def start() -> tuple[Emitter, list[asyncio.Future[Any]]]:
        emitter = Emitter(clock)
        port = await emitter.start()
        client = httpx.AsyncClient(base_url="http://testserver", transport=Bridge(service.client))
        poster = Poster(feed, client, service.tokens["admin"], interval=0.3, clock=clock)
        tasks = [
            asyncio.ensure_future(read_sbs("127.0.0.1", port, feed, stop, clock=clock)),
            asyncio.ensure_future(poster.run(stop)),
        ]
        return emitter, tasks

    emitter, tasks = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        deadline = time.monotonic() + 30
        alerts: list[dict[str, Any]] = []
        while not alerts:
            assert time.monotonic() < deadline, feed.counts.line(len(feed.joiner.states))
            alerts = service.get("/v1/alerts", "blue-officer").json()["items"]
            time.sleep(0.1)
        (alert,) = alerts
        assert alert["kind"] == "conflict" and alert["parties"] == ["blue", "red"]
        assert sorted(alert["tracks"]) == ["3c6dd2", "4ca7b1"]
        (seen,) = service.get("/v1/alerts", "red-officer").json()["items"]
        assert seen["id"] == alert["id"]
        tracks = {t["id"]: t for t in service.get("/v1/tracks", "red-officer").json()["items"]}
        assert tracks["4ca7b1"]["callsign"] == "BLU101" and tracks["4ca7b1"]["party"] == "blue"
        assert tracks["3c6dd2"]["icao24"] == "3c6dd2" and tracks["3c6dd2"]["alt_ft"] == 30000
        while feed.counts.connects < 2:  # the emitter dropped the first connection
            assert time.monotonic() < deadline, feed.counts.line(len(feed.joiner.states))
            time.sleep(0.05)
        assert emitter.connections >= 2
        assert feed.counts.problems >= 2  # the bad line, once per connection
    finally:
        loop.call_soon_threadsafe(stop.set)

        async def finish() -> None:
            await asyncio.gather(*tasks, return_exceptions=True)
            if emitter.server is not None:
                emitter.server.close()
            for handler in emitter.handlers:
                handler.cancel()
            await asyncio.gather(*emitter.handlers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(finish(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
