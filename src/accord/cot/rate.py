"""A token bucket for one connection's events a second; time passed in (monotonic seconds).

Each event takes one token; tokens come back at ``rate`` a second up to ``burst``. An event
that finds no token is dropped by the caller (the connection stays): a device reporting
once a second never meets the limit, a flood does at once.
"""

from __future__ import annotations

import math

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` events a second on average, ``burst`` at once; starts full.

    >>> bucket = TokenBucket(rate=1.0, burst=2, now=0.0)
    >>> [bucket.take(0.0), bucket.take(0.0), bucket.take(0.0), bucket.take(1.0)]
    [True, True, False, True]
    """

    __slots__ = ("_at", "_burst", "_rate", "_tokens")

    def __init__(self, *, rate: float, burst: int, now: float) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError("rate is a positive number of events a second")
        if burst < 1:
            raise ValueError("burst is at least 1")
        if not math.isfinite(now):
            raise ValueError("now is a finite time")
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:  # a clock that went back gives nothing and takes nothing
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now

    def take(self, now: float) -> bool:
        """True, and one token taken, if an event may pass at ``now``."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait(self, now: float) -> float:
        """Seconds until the next event may pass (0 when one may now)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate
