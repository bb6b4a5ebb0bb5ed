"""``accord feed csv``: a CSV of track reports replayed in time — each report handed to the
poster when its time comes at the replay speed, stamped with that moment; a bad file refused
naming the line before anything is replayed; the poster's batches bounded and a failed batch's
aircraft resent with their newest state."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.errors import TrackError
from accord.feed_process import BATCH_MAX, Feed, Poster, replay_csv

HEAD = (
    "id,operator,party,mission,time,lat,lon,alt_ft,gs_kt,track_deg,vs_fpm,icao24,callsign,squawk\n"
)
START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _line(track_id: str, seconds: int, lon: float) -> str:
    at = (datetime(2026, 9, 20, 10, 0, tzinfo=UTC) + timedelta(seconds=seconds)).isoformat()
    return f"{track_id},blue,blue,patrol,{at},25.0,{lon},30000,400,90,0,4ca7b1,BLU1,\n"


def test_a_replay_stamps_each_report_with_the_moment_it_is_posted(tmp_path: Path) -> None:
    path = tmp_path / "tracks.csv"
    path.write_text(HEAD + _line("b1", 20, 21.1) + _line("b1", 0, 21.0) + _line("b2", 10, 22.0))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    feed = Feed()
    asyncio.run(replay_csv(path, feed, asyncio.Event(), speed=10, clock=lambda: START, sleep=sleep))
    assert feed.counts.messages == 3
    assert len(waits) == 2 and 0.9 < waits[0] <= 1.0  # b2 due 1 s in at speed 10
    held = feed.whole
    assert held["b1"].time == START + timedelta(seconds=2) and held["b1"].lon == 21.1
    assert held["b2"].time == START + timedelta(seconds=1) and held["b1"].icao24 == "4ca7b1"


def test_a_bad_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tracks.csv"
    path.write_text(HEAD + _line("b1", 0, 21.0) + _line("b2", 1, 200.0))
    feed = Feed()
    with pytest.raises(TrackError) as caught:
        asyncio.run(replay_csv(path, feed, asyncio.Event()))
    assert [(i.line, i.field) for i in caught.value.issues] == [(3, "lon")]
    assert feed.counts.messages == 0


def test_batches_are_bounded_and_a_failed_one_is_resent_with_the_newest_state(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tracks.csv"
    path.write_text(HEAD + "".join(_line(f"a{k}", 0, 21.0) for k in range(BATCH_MAX + 5)))
    feed = Feed()

    async def instant(seconds: float) -> None:
        return None

    asyncio.run(replay_csv(path, feed, asyncio.Event(), clock=lambda: START, sleep=instant))
    sizes: list[int] = []
    mores: list[bool] = []
    answers = iter([503, 200, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = json.loads(request.content)
        sizes.append(len(body["tracks"]))
        mores.append(body.get("more", False))
        return httpx.Response(next(answers), json={})

    async def rounds() -> None:
        client = httpx.AsyncClient(base_url="http://c", transport=httpx.MockTransport(handler))
        poster = Poster(feed, client, "token", clock=lambda: START)
        await poster.post_once()  # the first batch fails: everything waits for the next round
        assert poster.failures == 1 and len(feed.whole) == BATCH_MAX + 5
        await poster.post_once()
        assert poster.failures == 0 and feed.whole == {}

    asyncio.run(rounds())
    assert sizes == [BATCH_MAX, BATCH_MAX, 5]
    assert mores == [True, True, False]  # the center's detection runs on a round's last batch
    assert feed.counts.posted == BATCH_MAX + 5 and feed.counts.batches == 2
