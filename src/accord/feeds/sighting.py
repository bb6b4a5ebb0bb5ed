"""What a sensor said about one aircraft at one instant (:class:`Sighting`), the value every
decoder of :mod:`accord.feeds` yields.

A sighting may be partial: a BaseStation line carries a position, or a velocity, or a
callsign, never all of them, so every state field may be ``None``; the feed joins sightings
per :attr:`Sighting.key` into a whole state before it posts one.

Units are the track reports' (:mod:`accord.airspace.tracks`): WGS84 degrees, feet, knots,
degrees true, feet per minute. Times are UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["EMERGENCY_SQUAWKS", "SOURCES", "Sighting", "valid_icao24", "valid_squawk"]

SOURCES = frozenset({"sbs", "cat062", "cat021", "csv"})
"""Where a sighting came from: a BaseStation line, an ASTERIX CAT062 system track, a CAT021
ADS-B report, or the CSV format replayed."""

EMERGENCY_SQUAWKS = {"7500": "unlawful interference", "7600": "radio failure", "7700": "emergency"}
"""The Mode 3/A codes that declare an emergency (ICAO Doc 8168, Vol. III, §1.1.5)."""

_ICAO24 = re.compile(r"[0-9a-f]{6}")
_SQUAWK = re.compile(r"[0-7]{4}")


def valid_icao24(text: str) -> bool:
    """Whether ``text`` is an ICAO 24-bit aircraft address as Accord keeps it: six lowercase
    hexadecimal digits, not all zero.

    >>> valid_icao24("4ca7b1"), valid_icao24("4CA7B1"), valid_icao24("000000")
    (True, False, False)
    """
    return _ICAO24.fullmatch(text) is not None and text != "000000"


def valid_squawk(text: str) -> bool:
    """Whether ``text`` is a Mode 3/A code: four octal digits.

    >>> valid_squawk("7700"), valid_squawk("7800")
    (True, False)
    """
    return _SQUAWK.fullmatch(text) is not None


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
