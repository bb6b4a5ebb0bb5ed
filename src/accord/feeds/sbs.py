"""BaseStation ("SBS") text, the feed an ADS-B receiver serves on TCP port 30003 (dump1090,
readsb): one line per message, CRLF-terminated, 22 comma-separated fields.

Only ``MSG`` lines carry aircraft; ``SEL``, ``ID``, ``AIR``, ``STA`` and ``CLK`` lines and
empty lines (some receivers send one as a heartbeat) are skipped. The fields, by position:

====  ======================  =====================================================
 #    field                   read as
====  ======================  =====================================================
 1    message type            ``MSG``
 2    transmission type       1–8 (below)
 5    hex ident               the ICAO address; a leading ``~`` marks a non-ICAO
                              (TIS-B) address, kept as the key but not as ``icao24``
 7–8  date, time generated    ``YYYY/MM/DD``, ``HH:MM:SS.sss``: **taken as UTC**
 11   callsign                spaces stripped
 12   altitude                feet (pressure altitude)
 13   ground speed            knots
 14   track                   degrees true
 15   latitude, 16 longitude  WGS84 degrees
 17   vertical rate           feet per minute
 18   squawk                  Mode 3/A code
 22   is on ground            ``-1`` or ``1`` true, ``0`` false
====  ======================  =====================================================

Transmission types: 1 identification (callsign), 2 surface position, 3 airborne position,
4 airborne velocity, 5 surveillance altitude, 6 surveillance identity (squawk), 7 air-to-air,
8 all-call reply. Each carries some fields; :class:`~accord.feeds.join.Joiner` joins them per
aircraft.

**Time.** The format carries no zone. readsb writes UTC; dump1090-fa writes the receiver's
local time. A message time further than :data:`CLOCK_TOLERANCE` from the time the line was
received is not believed: the received time is used instead and the line counted as
``skewed`` (so a receiver on local time still feeds a live picture, and the status line
says why its times are not its own).

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 9, 20, 10, 0, 1, tzinfo=UTC)
>>> stamp = "2026/09/20,10:00:00.500"
>>> line = f"MSG,3,1,1,4CA7B1,1,{stamp},{stamp},,30000,,,25.1,21.2,,,0,0,0,0"
>>> s, believed = parse_line(line, received=at)
>>> (believed, s.key, s.icao24, s.alt_ft, s.lat, s.lon, s.time.isoformat())
(True, '4ca7b1', '4ca7b1', 30000.0, 25.1, 21.2, '2026-09-20T10:00:00.500000+00:00')
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from accord.aircraft import valid_icao24, valid_squawk
from accord.errors import SbsError
from accord.feeds.sighting import Sighting

__all__ = [
    "CLOCK_TOLERANCE",
    "MAX_LINE",
    "SbsError",
    "parse_line",
]

MAX_LINE = 512
"""The longest line accepted, in characters (a full MSG line is about 120)."""

CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far a message's time may lie from its reception before the reception time is used."""

_FIELDS = 22


def _number(text: str, name: str, low: float, high: float) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SbsError(f"{name} {text[:20]!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise SbsError(f"{name} {value:g} is outside [{low:g}, {high:g}]")
    return value


def _flag(text: str) -> bool | None:
    text = text.strip()
    if text in ("-1", "1"):
        return True
    if text == "0":
        return False
    return None


_STAMP = re.compile(
    r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?"
)
"""The form receivers write (``2026/09/20 10:00:00.250``), read without ``strptime``: at
25,000 lines a second its 10 µs a line were a third of the feed's time."""


def _stamp(text: str) -> datetime | None:
    """A message time as ``strptime`` reads it (``%Y/%m/%d %H:%M:%S`` and an optional
    ``.%f``), naive; ``None`` if it does not.

    >>> _stamp("2026/09/20 10:00:00.25"), _stamp("2026/02/30 10:00:00")
    (datetime.datetime(2026, 9, 20, 10, 0, 0, 250000), None)
    """
    found = _STAMP.fullmatch(text)
    if found is not None:  # the usual form, read directly
        y, mo, d, h, mi, s, fraction = found.groups()
        try:
            return datetime(
                int(y),
                int(mo),
                int(d),
                int(h),
                int(mi),
                int(s),
                int((fraction or "").ljust(6, "0")),
            )
        except ValueError:
            return None
    for form in ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S"):  # anything else strptime takes
        try:
            return datetime.strptime(text, form)
        except ValueError:
            pass
    return None


def _time(date: str, clock: str, received: datetime) -> tuple[datetime, bool]:
    """The message's time (UTC) and whether it was believed."""
    naive = _stamp(f"{date.strip()} {clock.strip()}")
    if naive is None:
        return received, False
    at = naive.replace(tzinfo=UTC)
    if abs(at - received) > CLOCK_TOLERANCE:
        return received, False
    return at, True


def parse_line(line: str, *, received: datetime) -> tuple[Sighting, bool] | None:
    """The sighting of one BaseStation line and whether its time is the message's own,
    ``None`` for a line that carries no aircraft (not ``MSG``, or empty); :class:`SbsError`
    naming what is wrong otherwise.

    ``received`` (UTC) stands in for a message time that is missing or not believed (see the
    module docstring).
    """
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if len(text) > MAX_LINE:
        raise SbsError(f"a line of {len(text)} characters (at most {MAX_LINE})")
    if not text.isprintable():
        raise SbsError("a line with control characters")
    parts = text.split(",")
    if parts[0] != "MSG":
        if parts[0] in ("SEL", "ID", "AIR", "STA", "CLK"):
            return None
        raise SbsError(f"message type {parts[0][:8]!r} is not BaseStation's")
    if len(parts) != _FIELDS:
        raise SbsError(f"{len(parts)} fields where a MSG line has {_FIELDS}")
    kind = parts[1].strip()
    if kind not in ("1", "2", "3", "4", "5", "6", "7", "8"):
        raise SbsError(f"transmission type {kind[:4]!r} is not 1 to 8")
    hex_ident = parts[4].strip().lower()
    synthetic = hex_ident.startswith("~")
    address = hex_ident[1:] if synthetic else hex_ident
    if len(address) != 6 or any(c not in "0123456789abcdef" for c in address):
        raise SbsError(f"hex ident {parts[4][:10]!r} is not a 24-bit address")
    if not synthetic and not valid_icao24(address):
        raise SbsError(f"hex ident {parts[4][:10]!r} is not a 24-bit address")
    at, believed = _time(parts[6], parts[7], received)
    callsign = "".join(parts[10].split()).upper() or None
    if callsign is not None and (len(callsign) > 8 or not callsign.isalnum()):
        raise SbsError(f"callsign {parts[10][:12]!r} is not 1 to 8 letters and digits")
    squawk = parts[17].strip() or None
    if squawk is not None and not valid_squawk(squawk):
        raise SbsError(f"squawk {squawk[:8]!r} is not four octal digits")
    sighting = Sighting(
        key=hex_ident,
        source="sbs",
        time=at,
        icao24=None if synthetic else address,
        callsign=callsign,
        squawk=squawk,
        alt_ft=_number(parts[11], "altitude", -1500.0, 100_000.0),
        gs_kt=_number(parts[12], "ground speed", 0.0, 2000.0),
        track_deg=_number(parts[13], "track", 0.0, 360.0),
        lat=_number(parts[14], "latitude", -90.0, 90.0),
        lon=_number(parts[15], "longitude", -180.0, 180.0),
        vs_fpm=_number(parts[16], "vertical rate", -120_000.0, 120_000.0),
        on_ground=_flag(parts[21]),
    )
    if (sighting.lat is None) != (sighting.lon is None):
        raise SbsError("a position needs both latitude and longitude")
    return sighting, believed
