"""The CoT stream splitter: events back to back, cut after ``</event>``, whatever the chunks;
an event over the cap dropped and the stream resynchronised; never more held than the cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.cot import Dropped, EventSplitter, Point, point_event, write_event
from accord.cot.framing import MAX_EVENT_BYTES
from support.cot import T0, events


def _chunked(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    return [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]


def _split(chunks: list[bytes], cap: int = MAX_EVENT_BYTES) -> list[bytes | Dropped]:
    splitter = EventSplitter(max_event_bytes=cap)
    out: list[bytes | Dropped] = []
    for chunk in chunks:
        out += splitter.feed(chunk)
        assert splitter.pending <= cap
    return out


SEPARATORS = st.sampled_from([b"", b"\n", b" \r\n\t", b"\n\n"])


@given(
    st.lists(st.tuples(events(), st.booleans(), SEPARATORS), min_size=1, max_size=5),
    st.lists(st.integers(0, 10**6), max_size=30),
)
def test_any_chunking_gives_the_same_events(items, cuts) -> None:
    stream = b"".join(write_event(e, declaration=d) + sep for e, d, sep in items)
    expected = [write_event(e, declaration=False) for e, _, _ in items]
    assert _split([stream]) == expected
    assert _split(_chunked(stream, cuts)) == expected
    assert _split([stream[i : i + 1] for i in range(len(stream))]) == expected


JUNK = st.sampled_from([b"junk", b"</event>", b"<event", b"<event ", b"x" * 300, b"<?xml?>"])


@given(
    st.lists(st.one_of(events().map(write_event), JUNK), min_size=1, max_size=8),
    st.lists(st.integers(0, 10**6), max_size=30),
)
def test_what_is_cut_depends_on_the_bytes_alone(parts, cuts) -> None:
    """Junk, stray tokens and events over a small cap: the same items whatever the chunks."""
    stream = b"".join(parts)
    whole = _split([stream], cap=256)
    assert _split(_chunked(stream, cuts), cap=256) == whole
    assert _split([stream[i : i + 1] for i in range(len(stream))], cap=256) == whole


def _report(uid: str, remarks: str = "") -> bytes:
    return write_event(
        point_event(
            uid=uid,
            cot_type="a-f-G",
            point=Point(lat=33.5, lon=36.3),
            at=T0,
            stale=timedelta(minutes=2),
            mark=None,
            remarks=remarks,
        )
    )


def test_an_event_over_the_cap_is_dropped_and_the_next_one_kept() -> None:
    big = _report("big", remarks="x" * (MAX_EVENT_BYTES + 10))
    after = _report("after")
    out = _split([_report("before"), big[:1000], big[1000:], after])
    assert out[0] == _report("before").split(b"\n", 1)[1]
    assert isinstance(out[1], Dropped) and "65536" in out[1].reason
    assert isinstance(out[2], Dropped) and out[1].size + out[2].size >= len(big)
    assert out[3:] == [after.split(b"\n", 1)[1]]


def test_an_endless_event_is_never_buffered() -> None:
    """A hostile client sends megabytes that never close: the splitter holds at most the cap,
    reports the drop, and takes the next event once one comes."""
    splitter = EventSplitter()
    out: list[bytes | Dropped] = splitter.feed(b"<event uid='x'>")
    for _ in range(256):
        out += splitter.feed(b"A" * 4096)
        assert splitter.pending <= MAX_EVENT_BYTES
    assert splitter.pending < 10  # resynchronising: only a possible '<event' start is kept
    out += splitter.feed(_report("next"))
    assert [type(item) for item in out] == [Dropped, Dropped, bytes]
    assert out[-1] == _report("next").split(b"\n", 1)[1]


def test_junk_between_events_is_reported_and_the_event_kept() -> None:
    out = _split([b"hello <event uid='a'><point/></event>"])
    assert out == [
        Dropped("bytes before <event> that are no XML declaration", 6),
        b"<event uid='a'><point/></event>",
    ]
    out = _split([b"</detail></event>"])
    assert isinstance(out[0], Dropped) and "no <event>" in out[0].reason


def test_a_tiny_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 64"):
        EventSplitter(max_event_bytes=10)
