"""``accord feed asterix`` over a real UDP socket: CAT062 system tracks encoded by libasterix
itself, sent to the feed's port on loopback, reach the center as tracks (an address the
registry names under its party, an address no one names as ``unknown``, a radar-only track
under its track number); a datagram from a source not allowed, and a damaged one, are
counted, not fatal; a track's last message ends it in the feed."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import replace
from typing import Any

import httpx

from accord.feed_process import Feed, Poster, listen_asterix
from accord.feeds.asterix import SystemTrack, encode_cat062
from accord.feeds.registry import parse_registry
from accord.feeds.sighting import Sighting
from support.inprocess import Bridge, RunningClock
from support.service import Service


def _tracks(clock: RunningClock) -> list[SystemTrack]:
    at = clock().replace(microsecond=0)
    base = Sighting(key="", source="cat062", time=at, alt_ft=25000.0, gs_kt=300.0,
                    track_deg=45.0, vs_fpm=0.0)  # fmt: skip
    return [
        SystemTrack(1, replace(base, key="4ca7b1", icao24="4ca7b1", callsign="BLU7",
                               squawk="4321", lat=25.1, lon=21.1)),
        SystemTrack(2, replace(base, key="aa0001", icao24="aa0001", lat=25.3, lon=21.6)),
        SystemTrack(3, replace(base, key="062-1-2-3", lat=25.5, lon=21.9)),
    ]  # fmt: skip


def test_cat062_records_made_by_the_library_reach_the_center_as_tracks(
    running_center: tuple[Service, RunningClock],
) -> None:
    service, clock = running_center
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stop = asyncio.Event()
    registry = parse_registry("icao24,operator,party,mission\n4ca7b1,blue,blue,patrol\n")
    feed = Feed(registry=registry)

    async def start() -> tuple[int, list[asyncio.Future[Any]]]:
        bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        client = httpx.AsyncClient(base_url="http://testserver", transport=Bridge(service.client))
        poster = Poster(feed, client, service.tokens["admin"], interval=0.2, clock=clock)
        tasks = [
            asyncio.ensure_future(
                listen_asterix("127.0.0.1", 0, feed, stop, allowed=frozenset({"127.0.0.1"}),
                               clock=clock, bound=bound)
            ),
            asyncio.ensure_future(poster.run(stop)),
        ]  # fmt: skip
        return await bound, tasks

    port, tasks = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.sendto(b"\x3e\x00\x09\x00", ("127.0.0.1", port))  # LEN past the end
        sender.sendto(encode_cat062(_tracks(clock), sac=1, sic=2), ("127.0.0.1", port))
        deadline = time.monotonic() + 20
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 3:
            assert time.monotonic() < deadline, feed.counts.line(len(feed.joiner.states))
            items = service.get("/v1/tracks", "red-officer").json()["items"]
            seen = {t["id"]: t for t in items}
            time.sleep(0.05)
        blue = seen["4ca7b1"]
        assert (blue["party"], blue["callsign"], blue["squawk"]) == ("blue", "BLU7", "4321")
        assert abs(blue["lat"] - 25.1) < 1e-5 and abs(blue["gs_kt"] - 300) < 1
        assert abs(blue["alt_ft"] - 25000) <= 25 and abs(blue["track_deg"] - 45) < 0.1
        assert (seen["aa0001"]["operator"], seen["aa0001"]["party"]) == ("unknown", None)
        assert seen["062-1-2-3"]["icao24"] is None
        assert feed.counts.problems >= 1  # the damaged datagram, counted
        # a track's last message ends it in the feed
        ending = [replace(t, ending=True) for t in _tracks(clock)[:1]]
        sender.sendto(encode_cat062(ending, sac=1, sic=2), ("127.0.0.1", port))
        while "4ca7b1" in feed.joiner.states:
            assert time.monotonic() < deadline, "the track did not end"
            time.sleep(0.02)
    finally:
        sender.close()
        loop.call_soon_threadsafe(stop.set)
        asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15), loop
        ).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
