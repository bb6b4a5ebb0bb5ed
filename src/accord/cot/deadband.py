"""The gateway's dead band: when a device's report is written to the record as its position.

A device reports every second or so; the record need not say so every second. What the
record says of a device's position is a promise — *the device is within ``uncertainty_m``
of this point until ``valid_to``* — and the gateway writes just often enough to keep it:

* a device seen for the first time is written;
* a report more than ``deadband_m`` from the point written is written (the gateway writes
  ``uncertainty_m = ce + deadband_m``, or ``deadband_m`` alone when ``ce`` is unknown, so
  every report inside the band is inside the written disk);
* a report whose motion changed materially is written: the course by more than
  ``turn_deg`` while moving faster than ``moving_mps``, or the speed by more than
  ``speed_change_mps``;
* a report made when the written ``valid_to`` lapses within ``refresh_before_s`` is written
  (else the record would say nothing of a device that sits still);
* never more often than once per ``min_interval_s`` per device: a significant report inside
  the interval is *held* (the latest held replaces an earlier one) and written when the
  interval ends (:func:`flush`), so the last report is never lost.

Pure: no clock (``now`` is passed in), no I/O. :func:`offer` takes a report and says what
to do with it; :func:`flush` gives the held report once its time has come.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from accord.geo import geodesic_distance

__all__ = [
    "Band",
    "Decision",
    "DeviceState",
    "Report",
    "Written",
    "flush",
    "offer",
    "reason",
    "uncertainty_m",
]


@dataclass(frozen=True, slots=True)
class Band:
    """The dead band's parameters (the gateway's ``--deadband-m``, ``--min-interval``,
    ``--refresh-before``; the motion thresholds are fixed)."""

    deadband_m: float = 50.0
    min_interval_s: float = 1.0
    refresh_before_s: float = 60.0
    turn_deg: float = 30.0
    moving_mps: float = 1.0
    speed_change_mps: float = 5.0

    def __post_init__(self) -> None:
        for name in ("deadband_m", "min_interval_s", "refresh_before_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} is a finite number, 0 or more, not {value!r}")


@dataclass(frozen=True, slots=True)
class Report:
    """A device's report as the dead band reads it: the point (degrees), ``ce`` (metres;
    ``None``: unknown), course (degrees) and speed (m/s) when the device sent a track, and
    the ``stale`` it gave (what ``valid_to`` would be)."""

    lat: float
    lon: float
    stale: datetime
    ce: float | None = None
    course: float | None = None
    speed: float | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """What the record holds of the device: the report written, and when (``at``)."""

    report: Report
    at: datetime


@dataclass(frozen=True, slots=True)
class DeviceState:
    """One device's dead band: the report last written (``None``: never) and the report
    held for the end of the interval (``None``: none)."""

    written: Written | None = None
    held: Report | None = None

    def due(self, band: Band) -> datetime | None:
        """When the held report may be written (``None``: nothing held)."""
        if self.held is None:
            return None
        if self.written is None:
            return None  # never the case: a first report is written at once
        return self.written.at + timedelta(seconds=band.min_interval_s)


class Decision(Enum):
    """What :func:`offer` decided: ``WRITE`` now, ``HOLD`` for :func:`flush`, ``SKIP``."""

    WRITE = "write"
    HOLD = "hold"
    SKIP = "skip"


def uncertainty_m(report: Report, band: Band) -> float:
    """The ``uncertainty_m`` written with ``report``: its ``ce`` plus the dead band."""
    return (report.ce or 0.0) + band.deadband_m


def _turn(a: float, b: float) -> float:
    """The smaller angle between two courses, degrees."""
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def reason(written: Written | None, report: Report, *, now: datetime, band: Band) -> str | None:
    """Why ``report`` must reach the record, given what it holds (``written``) at ``now``:
    ``"new"``, ``"moved"``, ``"turned"``, ``"speed"``, ``"refresh"``; ``None`` when it lies
    inside the dead band (what the record says still holds)."""
    if written is None:
        return "new"
    last = written.report
    if geodesic_distance(last.lon, last.lat, report.lon, report.lat) > band.deadband_m:
        return "moved"
    if last.speed is not None and report.speed is not None:
        if abs(last.speed - report.speed) > band.speed_change_mps:
            return "speed"
    elif (last.speed is None) != (report.speed is None):
        moving = report.speed if report.speed is not None else last.speed
        if moving is not None and moving > band.moving_mps:
            return "speed"
    if (
        last.course is not None
        and report.course is not None
        and max(last.speed or 0.0, report.speed or 0.0) > band.moving_mps
        and _turn(last.course, report.course) > band.turn_deg
    ):
        return "turned"
    if last.stale - now <= timedelta(seconds=band.refresh_before_s):
        return "refresh"
    return None


def offer(
    state: DeviceState, report: Report, *, now: datetime, band: Band
) -> tuple[DeviceState, Decision]:
    """``report`` offered at ``now``: the device's next state and what to do. ``WRITE``: the
    caller writes ``report`` and the state already says it was written at ``now``; ``HOLD``:
    it waits (the latest held wins) until :func:`flush` gives it; ``SKIP``: inside the band.

    A report that is not significant against what was written, but arrives while an
    earlier significant one is held, replaces the held one (it is newer: the held one's
    point would now be the wrong one to write)."""
    why = reason(state.written, report, now=now, band=band)
    if why is None and state.held is None:
        return state, Decision.SKIP
    if state.written is not None and now - state.written.at < timedelta(
        seconds=band.min_interval_s
    ):
        return replace(state, held=report), Decision.HOLD
    return DeviceState(written=Written(report, now), held=None), Decision.WRITE


def flush(state: DeviceState, *, now: datetime, band: Band) -> tuple[DeviceState, Report | None]:
    """The held report, to be written now, if its interval has ended at ``now``; the state
    that says it was written. ``(state, None)`` when nothing is due."""
    due = state.due(band)
    if state.held is None or due is None or now < due:
        return state, None
    return DeviceState(written=Written(state.held, now), held=None), state.held
