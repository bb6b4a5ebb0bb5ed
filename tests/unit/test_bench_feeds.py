"""The feeds benchmark's own parts, at a small scale (the run itself is ``make bench``'s):
its SBS emitter's lines are BaseStation text at 5 lines per aircraft per second; its CAT062
emitter's records, encoded once and patched each round, decode to the time and position it
wrote; its lag is the time since the first update the center does not show."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from bench import feeds
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.feeds.asterix import decode_datagram
from accord.feeds.sbs import parse_line

AT = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
PLANES = feeds.fleet(50)
_rounds: list[object] = []


def _cat062_rounds() -> list:  # type: ignore[type-arg]
    """Encoded once (libasterix takes a quarter of a millisecond a record)."""
    if not _rounds:
        _rounds.append(feeds.cat062_rounds(PLANES, 2))
    return _rounds[0]  # type: ignore[return-value]


def test_sbs_lines_are_five_a_second_per_aircraft_and_all_read() -> None:
    planes = feeds.fleet(40)
    kinds: Counter[tuple[str, str]] = Counter()
    for k in range(20):  # two seconds of ticks
        at = AT + timedelta(seconds=k * feeds.SBS_TICK_S)
        for line in feeds.sbs_lines(planes, k, at, AT.timestamp()):
            parsed = parse_line(line, received=at)
            assert parsed is not None and parsed[1], line
            kinds[(parsed[0].key, line.split(",")[1])] += 1
    for a in planes:
        mine = {kind: n for (key, kind), n in kinds.items() if key == a.icao24}
        assert mine["3"] == mine["4"] == 4  # twice a second each
        assert mine.get("1", 0) + mine.get("5", 0) + mine.get("6", 0) == 2


@settings(max_examples=40, deadline=None)
@given(
    offset=st.floats(0, 86_000),
    since=st.floats(0, 3600),
)
def test_patched_cat062_records_decode_to_what_was_written(offset: float, since: float) -> None:
    at = (AT + timedelta(seconds=offset)).replace(microsecond=0)
    epoch = at.timestamp() - since
    for sector in _cat062_rounds():
        for data, part, starts in sector:
            feeds.stamp_datagram(data, part, starts, at, epoch)
            decoded = decode_datagram(bytes(data), received=at)
            assert not decoded.problems
            assert [s.key for s in decoded.sightings] == [t.aircraft.icao24 for t in part]
            for s, t in zip(decoded.sightings, part, strict=True):
                lat, lon = t.aircraft.at(since)
                assert abs((s.time - at).total_seconds()) <= 1 / 256
                assert abs(s.lat - lat) < 1e-5 and abs(s.lon - lon) < 1e-5  # type: ignore[operator]
                assert s.alt_ft == t.aircraft.alt_ft


def test_lag_counts_from_the_first_update_not_shown() -> None:
    planes = feeds.fleet(3)
    ticks = feeds.Ticks(slots=1, times={0: [100.0, 104.0, 108.0]}, first=100.0)
    reads: list[feeds.Read] = [
        (103.0, 0.1, {planes[0].icao24: 100.0, planes[1].icao24: 100.0}),  # all current
        (105.5, 0.1, {planes[0].icao24: 104.0, planes[1].icao24: 100.0}),  # one 1.5 s behind
    ]
    judged = feeds.judge(planes, ticks, reads, warmup_s=0.0)
    assert judged.lags == [0.0, 0.0, 0.0, 1.5]
    assert judged.ages == [3.0, 3.0, 1.5, 5.5]
    assert judged.missing == 2  # the third aircraft, sent at 100, at both reads
