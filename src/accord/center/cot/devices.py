"""The TAK devices connected to this serving process: one row per live connection of the
endpoint (:mod:`accord.center.cot.listener`), what ``GET /v1/cot/devices`` answers (cut
by :func:`accord.center.visibility.sees_device` and
:func:`~accord.center.visibility.sees_device_report`).

The registry lives in the serving process, not in the database: a connection is a node's
live state (a socket it holds), gone when the process ends, and a row written per report
would put a write on the database for every device every second. With several nodes each
node knows its own connections (README, "From ATAK", states the limit).

Bounded whatever a device sends: a row per connection (the endpoint bounds connections per
user), its uid and callsign set once (from ``<auth>``, else the first position atom the
device sends of itself), and of its reports the last one only — of the device's own uid.
No clock here: every instant is passed in.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from accord.cot import Event

__all__ = ["ConnectedDevice", "DeviceReport", "Devices", "Transport"]

Transport = Literal["tls", "plain"]


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """The last report a device sent of itself: its type, point and times (as sent)."""

    type: str
    lat: float
    lon: float
    hae: float | None
    ce: float | None
    time: datetime
    stale: datetime

    @classmethod
    def of(cls, event: Event) -> DeviceReport:
        """The report ``event`` carries."""
        p = event.point
        return cls(event.type, p.lat, p.lon, p.hae, p.ce, event.time, event.stale)


@dataclass(frozen=True, slots=True)
class ConnectedDevice:
    """One live connection: who (user, member, role), the device (uid, callsign), how
    (transport, remote address), since when, its last event and its last report."""

    connection: int
    user: str
    member: str
    role: str
    transport: Transport
    remote: str
    connected_at: datetime
    uid: str | None = None
    callsign: str | None = None
    last_event_at: datetime | None = None
    last_report: DeviceReport | None = None


def _is_position(event: Event) -> bool:
    """Whether ``event`` is a position atom (``a-…``): what a device sends of itself."""
    return event.type.startswith("a-")


class Devices:
    """The live connections of one serving process (thread-safe: read by the HTTP routes,
    written by the endpoint)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[int, ConnectedDevice] = {}
        self._ids = itertools.count(1)

    def connect(
        self,
        *,
        user: str,
        member: str,
        role: str,
        transport: Transport,
        remote: str,
        at: datetime,
        uid: str | None = None,
        callsign: str | None = None,
    ) -> int:
        """A connection opened; its id, for :meth:`event` and :meth:`disconnect`."""
        with self._lock:
            key = next(self._ids)
            self._rows[key] = ConnectedDevice(
                key, user, member, role, transport, remote, at, uid=uid, callsign=callsign
            )
            return key

    def event(self, key: int, event: Event, *, at: datetime) -> None:
        """``event`` received on connection ``key`` at ``at``: the last event's time, the
        device's uid and callsign if not yet known, and its last report if the event is the
        device's own position."""
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                return
            row = replace(row, last_event_at=at)
            if _is_position(event):
                if row.uid is None:
                    row = replace(row, uid=event.uid)
                if event.uid == row.uid:
                    row = replace(row, last_report=DeviceReport.of(event))
                    if row.callsign is None and event.detail.callsign:
                        row = replace(row, callsign=event.detail.callsign)
            self._rows[key] = row

    def disconnect(self, key: int) -> None:
        """Connection ``key`` closed."""
        with self._lock:
            self._rows.pop(key, None)

    def held(self, user: str) -> int:
        """How many connections ``user`` holds open."""
        with self._lock:
            return sum(1 for row in self._rows.values() if row.user == user)

    def all(self) -> list[ConnectedDevice]:
        """Every live connection, oldest first."""
        with self._lock:
            return sorted(self._rows.values(), key=lambda d: d.connection)
