"""The gateway's dead band (:mod:`accord.cot.deadband`) against a brute-force replay: every
report either reaches the record or lies inside the band of what the record says, a
significant one reaches it within the interval, writes never come closer than the interval,
and the last report of a burst is never lost."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.cot.deadband import (
    Band,
    Decision,
    DeviceState,
    Report,
    flush,
    offer,
    reason,
    uncertainty_m,
)

T0 = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
BAND = Band()
METRE_LAT = 1 / 111_000  # about a metre of latitude, in degrees


def _haversine(a: Report, b: Report) -> float:
    """An independent distance (a sphere): the oracle's, not the module's geodesic."""
    r = 6_371_008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, h)))


def _report(lat: float, *, at: datetime, **kw: float | None) -> Report:
    return Report(lat=lat, lon=21.0, stale=at + timedelta(minutes=5), **kw)


def test_a_new_device_is_written_then_a_small_move_skipped_a_large_one_written() -> None:
    state, decision = offer(DeviceState(), _report(25.0, at=T0), now=T0, band=BAND)
    assert decision is Decision.WRITE
    later = T0 + timedelta(seconds=5)
    state, decision = offer(state, _report(25.0 + 30 * METRE_LAT, at=later), now=later, band=BAND)
    assert decision is Decision.SKIP
    far = _report(25.0 + 60 * METRE_LAT, at=later)
    assert reason(state.written, far, now=later, band=BAND) == "moved"
    assert offer(state, far, now=later, band=BAND)[1] is Decision.WRITE


def test_a_turn_while_moving_a_speed_change_and_a_lapse_are_written() -> None:
    state, _ = offer(DeviceState(), _report(25.0, at=T0, course=0, speed=5), now=T0, band=BAND)
    at = T0 + timedelta(seconds=2)
    turned = _report(25.0, at=at, course=45, speed=5)
    assert reason(state.written, turned, now=at, band=BAND) == "turned"
    slow_turn = _report(25.0, at=at, course=350, speed=5)  # 10°: no
    assert reason(state.written, slow_turn, now=at, band=BAND) is None
    faster = _report(25.0, at=at, course=0, speed=11)
    assert reason(state.written, faster, now=at, band=BAND) == "speed"
    # standing still, a turn means nothing
    still, _ = offer(DeviceState(), _report(25.0, at=T0, course=0, speed=0), now=T0, band=BAND)
    spun = _report(25.0, at=at, course=180, speed=0.5)
    assert reason(still.written, spun, now=at, band=BAND) is None
    # the written valid_to lapses within refresh_before: written again
    late = T0 + timedelta(minutes=4, seconds=1)
    assert reason(still.written, _report(25.0, at=late), now=late, band=BAND) == "refresh"


def test_a_report_inside_the_interval_is_held_and_the_latest_held_written_at_its_end() -> None:
    state, _ = offer(DeviceState(), _report(25.0, at=T0), now=T0, band=BAND)
    at = T0 + timedelta(milliseconds=300)
    state, decision = offer(state, _report(25.001, at=at), now=at, band=BAND)
    assert decision is Decision.HOLD
    at2 = T0 + timedelta(milliseconds=600)
    state, decision = offer(state, _report(25.002, at=at2), now=at2, band=BAND)
    assert decision is Decision.HOLD
    assert flush(state, now=at2, band=BAND)[1] is None  # not yet
    state, written = flush(state, now=T0 + timedelta(seconds=1), band=BAND)
    assert written is not None and written.lat == 25.002
    assert state.held is None and state.written is not None


def test_the_written_uncertainty_is_ce_plus_the_band() -> None:
    assert uncertainty_m(_report(25.0, at=T0, ce=12.5), BAND) == 62.5
    assert uncertainty_m(_report(25.0, at=T0), BAND) == 50.0


@pytest.mark.parametrize("field", ["deadband_m", "min_interval_s", "refresh_before_s"])
def test_a_bad_band_is_refused_naming_the_parameter(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Band(**{field: math.nan})
    with pytest.raises(ValueError, match=field):
        Band(**{field: -1.0})


steps = st.lists(
    st.tuples(
        st.integers(0, 3000),  # milliseconds since the last report
        st.floats(-80, 80),  # metres moved north
        st.floats(-80, 80),  # metres moved east
        st.none() | st.floats(0, 100),  # ce
        st.none() | st.tuples(st.floats(0, 359.9), st.floats(0, 20)),  # course, speed
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps, band_m=st.sampled_from([10.0, 50.0]), interval=st.sampled_from([0.5, 1.0]))
def test_replayed_against_brute_force(
    steps: list[tuple[int, float, float, float | None, tuple[float, float] | None]],
    band_m: float,
    interval: float,
) -> None:
    band = Band(deadband_m=band_m, min_interval_s=interval)
    state = DeviceState()
    now = T0
    lat, lon = 25.0, 21.0
    reports: list[tuple[datetime, Report]] = []
    writes: list[tuple[datetime, Report]] = []
    for ms, north, east, ce, motion in steps:
        now += timedelta(milliseconds=ms)
        when = state.due(band)  # the gateway's timer fires at the end of the interval
        if when is not None and when <= now:
            state, due = flush(state, now=when, band=band)
            assert due is not None
            writes.append((when, due))
        lat += north * METRE_LAT
        lon += east * METRE_LAT / math.cos(math.radians(lat))
        course, speed = motion if motion is not None else (None, None)
        report = Report(lat, lon, now + timedelta(minutes=5), ce, course, speed)
        reports.append((now, report))
        state, decision = offer(state, report, now=now, band=band)
        if decision is Decision.WRITE:
            writes.append((now, report))
    # the timer runs on after the last report until nothing is held
    end = state.due(band)
    if end is not None:
        state, due = flush(state, now=end, band=band)
        assert due is not None
        writes.append((end, due))
    assert state.held is None

    # never more often than once per interval
    for (a, _), (b, _) in itertools.pairwise(writes):
        assert b - a >= timedelta(seconds=interval)
    # the first report is written at once
    assert writes[0] == reports[0]
    window = timedelta(seconds=interval)
    for at, report in reports:
        before = [w for t, w in writes if t <= at]
        soon = [t for t, _ in writes if at <= t <= at + window]
        if any(w is report for _, w in writes):
            continue
        # not written: inside the band of what the record said then, or a write came soon
        inside = bool(before) and _haversine(before[-1], report) <= band.deadband_m * 1.01
        assert inside or soon, (at, report)
    # the last report is never lost: written, or inside the band of the last write
    last = reports[-1][1]
    final = writes[-1][1]
    assert final is last or _haversine(final, last) <= band.deadband_m * 1.01
