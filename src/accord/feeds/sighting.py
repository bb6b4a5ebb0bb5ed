"""What a sensor said about one aircraft at one instant (:class:`Sighting`), the value every
decoder of :mod:`accord.feeds` yields.

A sighting may be partial: a BaseStation line carries a position, or a velocity, or a
callsign, never all of them, so every state field may be ``None``; the feed joins sightings
per :attr:`Sighting.key` into a whole state before it posts one.

Units are the track reports' (:mod:`accord.airspace.tracks`): WGS84 degrees, feet, knots,
degrees true, feet per minute. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SOURCES", "Sighting"]

SOURCES = frozenset({"sbs", "cat062", "cat021", "csv"})
"""Where a sighting came from: a BaseStation line, an ASTERIX CAT062 system track, a CAT021
ADS-B report, or the CSV format replayed."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One decoded report of one aircraft (see the module docstring for units).

    ``key`` is the feed's identity of the aircraft: its ICAO address when the sensor gave one,
    otherwise the sensor's own track identity (a CAT062 track is ``"062-SAC-SIC-TRACKNUMBER"``);
    two sightings with one key are one aircraft.
    """

    key: str
    source: str
    time: datetime
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt_ft: float | None = None
    gs_kt: float | None = None
    track_deg: float | None = None
    vs_fpm: float | None = None
    on_ground: bool | None = None
