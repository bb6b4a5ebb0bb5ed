"""The SBS feed cuts lines from the chunks it reads (:func:`accord.feed_process._lines`):
whatever the chunk boundaries, every complete line is read once, as ``parse_line`` reads it
alone; a line longer than ``MAX_LINE`` is one problem and the next line is read whole; a last
line without its end when the receiver closes is dropped. The poster keeps its beat, and when
the center slows it waits the ``Retry-After`` it was told, then posts the newest states."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.feed_process import CHUNK, Feed, Poster, _lines
from accord.feeds.sbs import MAX_LINE, parse_line

AT = datetime(2026, 9, 20, 10, 0, 0, tzinfo=UTC)


def _position(n: int) -> bytes:
    stamp = "2026/09/20,10:00:00.250"
    return (
        f"MSG,3,1,1,{0x400000 + n:06X},1,{stamp},{stamp},,30000,,,25.{n:04d},21.5,,,0,0,0,0\r\n"
    ).encode()


async def _read(chunks: list[bytes]) -> Feed:
    reader = asyncio.StreamReader(limit=CHUNK)
    feed = Feed()

    async def send() -> None:
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0)  # the reader takes each chunk as it comes
        reader.feed_eof()

    sending = asyncio.ensure_future(send())
    heard = await _lines(reader, feed, asyncio.Event(), lambda: AT)
    await sending
    assert heard == any(b"\n" in c for c in chunks)
    return feed


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(0, 60),
    long_at=st.one_of(st.none(), st.integers(0, 60)),
    long_size=st.sampled_from([MAX_LINE + 1, MAX_LINE + 2, 3000, CHUNK + 10, 3 * CHUNK]),
    cuts=st.lists(st.integers(0, 10**6), max_size=20),
    tail=st.booleans(),
)
def test_every_line_is_read_once_whatever_the_chunks(
    count: int, long_at: int | None, long_size: int, cuts: list[int], tail: bool
) -> None:
    lines = [_position(n) for n in range(count)]
    if long_at is not None:
        lines.insert(min(long_at, len(lines)), b"MSG," + b"x" * long_size + b"\r\n")
    data = b"".join(lines) + (_position(9999)[:-2] if tail else b"")
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points) if b > a]
    feed = asyncio.run(_read(chunks))
    assert feed.counts.messages == count
    assert sorted(feed.joiner.states) == sorted(f"{0x400000 + n:06x}" for n in range(count))
    assert feed.counts.problems == (0 if long_at is None else 1)
    if long_at is not None:
        assert "longer than" in feed.counts.last_error or "characters" in feed.counts.last_error


def _sighted(feed: Feed, n: int) -> None:
    for k in range(n):
        parsed = parse_line(_position(k).decode(), received=AT)
        assert parsed is not None
        feed.sighted(parsed[0])
    for s in list(feed.joiner.states.values()):  # whole: a velocity heard too
        s.gs_kt, s.track_deg = 400.0, 90.0
        feed.joiner.changed.setdefault(s.key)


def test_a_slowed_poster_waits_what_the_center_says_then_posts_the_newest() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(503),  # no Retry-After: the growing backoff
        httpx.Response(200, json={}),
    ]
    bodies: list[dict[str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return answers.pop(0)

    feed = Feed()
    _sighted(feed, 3)

    async def go() -> list[float]:
        transport = httpx.MockTransport(answer)
        async with httpx.AsyncClient(base_url="http://center", transport=transport) as client:
            poster = Poster(feed, client, "token", interval=1.0, clock=lambda: AT)
            rounds = [poster.next_round(100.0, 100.2)]  # on the beat
            await poster.post_once()  # 429, Retry-After 2
            assert poster.failures == 1 and sorted(feed.joiner.changed) == sorted(
                feed.joiner.states
            )
            rounds.append(poster.next_round(101.0, 101.3))
            await poster.post_once()  # 503: backoff(1) = 1 s
            rounds.append(poster.next_round(103.3, 103.4))
            await poster.post_once()
            rounds.append(poster.next_round(104.4, 106.0))  # overran: at once
            return rounds

    rounds = asyncio.run(go())
    assert rounds == [101.0, 103.3, 104.4, 106.0]
    assert [len(b["tracks"]) for b in bodies] == [3, 3, 3]  # type: ignore[arg-type]
    assert feed.counts.posted == 3 and not feed.joiner.changed
