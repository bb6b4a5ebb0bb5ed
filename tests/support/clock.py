"""A clock the tests move."""

from __future__ import annotations

from datetime import datetime, timedelta

from support.jig import NOW


class Clock:
    """A clock the test moves: it reads ``at`` (the tests' NOW unless given); ``set`` moves
    it to NOW plus a delta (minutes, or any of timedelta's keywords)."""

    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, minutes: float = 0, **delta: float) -> datetime:
        self.at = NOW + timedelta(minutes=minutes, **delta)
        return self.at
