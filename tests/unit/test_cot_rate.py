"""The per-connection token bucket, against its definition: in any window of time no more
events pass than the burst plus the rate times the window; a steady reporter always passes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.cot import TokenBucket


@given(
    st.floats(0.1, 50),
    st.integers(1, 20),
    st.lists(st.floats(0, 5), min_size=1, max_size=200),
)
def test_never_more_than_the_burst_and_the_rate(rate: float, burst: int, gaps: list[float]) -> None:
    bucket = TokenBucket(rate=rate, burst=burst, now=0.0)
    now, passed = 0.0, []
    for gap in gaps:
        now += gap
        if bucket.take(now):
            passed.append(now)
    for i, start in enumerate(passed):
        for j in range(i, len(passed)):
            assert j - i + 1 <= burst + rate * (passed[j] - start) + 1e-9


def test_a_steady_reporter_passes_and_a_flood_does_not() -> None:
    bucket = TokenBucket(rate=2.0, burst=4, now=0.0)
    assert all(bucket.take(float(t)) for t in range(100))
    flood = TokenBucket(rate=2.0, burst=4, now=0.0)
    assert sum(flood.take(0.0) for _ in range(1000)) == 4
    assert flood.wait(0.0) == pytest.approx(0.5)
    assert flood.take(0.5) and not flood.take(0.5)
    assert not flood.take(0.1)  # a clock that went back gives nothing


@pytest.mark.parametrize(
    "args",
    [{"rate": 0.0, "burst": 1}, {"rate": float("inf"), "burst": 1}, {"rate": 1.0, "burst": 0}],
)
def test_bad_settings_are_refused(args) -> None:
    with pytest.raises(ValueError, match=r"rate|burst"):
        TokenBucket(now=0.0, **args)
