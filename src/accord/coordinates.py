"""Coordinates people type: MGRS, decimal degrees, degrees-minutes-seconds, read strictly.

An officer types a point; :func:`parse_point` reads it, or refuses it with an
:class:`~accord.errors.InputError` naming the field and saying what is wrong — never a
guess. Three forms are read:

* **MGRS** (``34R EN 50455 65040``, spaces between the groups optional; UPS near the poles,
  bands A, B, Y and Z, too). Decoded with the ``mgrs`` library (GEOTRANS), which reads some
  wrong strings silently (a latitude band that does not hold the square is only a
  warning), so every string is *re-encoded*: the point read, or a point of the square
  named, encoded at the same precision must give back exactly the zone, band, square and
  digits typed. The point returned is the **centre** of the square the reference names
  (an MGRS reference names the square, truncated, not a point in it), and
  :attr:`Point.uncertainty_m` the square's half-diagonal: whoever declares it widens the
  declaration's uncertainty by that, so the whole square is covered.
* **Decimal degrees**, **latitude first**: ``25.3456, 21.7654`` (comma or spaces between),
  signed, or with hemisphere letters ``N25.3456 E21.7654`` / ``25.3456N 21.7654E`` (with
  letters either order is read).
* **Degrees, minutes, seconds**: ``25°20'44.4"N 21°45'55.4"E`` (also ``′ ″``, spaces, or
  ``25 20 44.4 N``), degrees and decimal minutes ``25°20.74'N``, and the compact
  ``252044.4N 0214555.4E`` / ``2520N 02145E``. Minutes and seconds are below 60.

A decimal or DMS point is taken as typed (``precision_m`` None, ``uncertainty_m`` 0).

>>> p = parse_point("34R EN 5045 6504")
>>> p.kind, p.text, p.precision_m, round(p.uncertainty_m, 2)
('mgrs', '34R EN 5045 6504', 10, 7.07)
>>> round(p.lat, 5), round(p.lon, 5)
(25.00004, 21.5)
>>> p = parse_point("25.3456, 21.7654")
>>> p.lon, p.lat, p.kind
(21.7654, 25.3456, 'decimal')
>>> format_mgrs(21.5, 25.0, precision_m=100)
'34R EN 504 650'
>>> try:
...     parse_point("34R FH 12345 67890")
... except InputError as error:
...     print(error.issues[0].message)  # doctest: +ELLIPSIS
34R FH 12345 67890 does not lie in latitude band R (the square FH of zone 34 there is in ...
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from dataclasses import dataclass
from typing import Literal

import mgrs
import pyproj

from accord.errors import InputError, Issue, shown

__all__ = [
    "MAX_TEXT",
    "Point",
    "format_decimal",
    "format_dms",
    "format_mgrs",
    "parse_point",
]

MAX_TEXT = 100
"""The longest text read as a point (a coordinate is a few dozen characters)."""

Kind = Literal["mgrs", "decimal", "dms"]

_PRECISIONS = (100_000, 10_000, 1000, 100, 10, 1)
"""A square's side in metres by the digits of each of easting and northing (0 to 5)."""

_BANDS = "CDEFGHJKLMNPQRSTUVWX"
"""UTM latitude bands, south to north, 8° each (X: 12°); I and O are not letters of MGRS."""


@dataclass(frozen=True, slots=True)
class Point:
    """A point a person typed, read.

    ``lon``, ``lat``: WGS84 degrees (for MGRS, the centre of the square named); ``kind``:
    which form was typed; ``text``: the input, normalised (MGRS: ``34R EN 50455 65040``;
    decimal: ``lat, lon``; DMS: as read, in one spelling); ``precision_m``: an MGRS
    square's side (1 to 100,000 m), None otherwise; ``uncertainty_m``: how far the true
    point may lie from ``lon, lat`` (an MGRS square's half-diagonal, on the ground; 0 for
    decimal and DMS).
    """

    lon: float
    lat: float
    kind: Kind
    text: str
    precision_m: int | None = None
    uncertainty_m: float = 0.0

    def geometry(self) -> dict[str, object]:
        """The GeoJSON Point (``[lon, lat]``)."""
        return {"type": "Point", "coordinates": [self.lon, self.lat]}

    def forms(self) -> dict[str, str]:
        """The point in each form: ``mgrs`` to the metre, ``decimal`` (5 decimals), ``dms``
        (tenths of a second).

        >>> parse_point("25.35, 21.77").forms()["mgrs"]
        '34R EP 77480 03926'
        """
        return {
            "mgrs": format_mgrs(self.lon, self.lat),
            "decimal": format_decimal(self.lon, self.lat),
            "dms": format_dms(self.lon, self.lat),
        }


def _refuse(field: str, message: str) -> InputError:
    return InputError(field, [Issue(field, message)])


# --- MGRS -----------------------------------------------------------------------------------

_MGRS = re.compile(
    r"(?P<zone>\d{1,2})?(?P<band>[A-Z]) ?(?P<square>[A-Z]{2})"
    r"(?: ?(?P<digits>\d+)(?: (?P<northing>\d+))?)?"
)
_MGRS_LIKE = re.compile(r"\d{0,3}[A-Z] ?[A-Z]{2}(?:[ \d]*)")


@functools.cache
def _converter() -> mgrs.MGRS:
    return mgrs.MGRS()


@functools.cache
def _projection(zone: int, north: bool) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """Geographic → grid and back, for a UTM zone (1–60) or UPS (zone 0)."""
    code = (32661 if north else 32761) if zone == 0 else (32600 if north else 32700) + zone
    return (
        pyproj.Transformer.from_crs(4326, code, always_xy=True),
        pyproj.Transformer.from_crs(code, 4326, always_xy=True),
    )


@dataclass(frozen=True, slots=True)
class _Reference:
    zone: int  # 0: UPS
    band: str
    square: str
    easting: str
    northing: str

    def __str__(self) -> str:
        head = f"{self.zone}{self.band}" if self.zone else self.band
        return " ".join(part for part in (head, self.square, self.easting, self.northing) if part)

    @property
    def compact(self) -> str:
        head = f"{self.zone:02d}{self.band}" if self.zone else self.band
        return head + self.square + self.easting + self.northing

    @property
    def precision_m(self) -> int:
        return _PRECISIONS[len(self.easting)]


def _reference(field: str, text: str) -> _Reference:
    """The parts of an MGRS reference typed (syntax and letters only)."""
    match = _MGRS.fullmatch(text)
    if match is None:
        raise _refuse(
            field,
            f"{shown(text)} is not an MGRS reference: zone (1-60), band letter, two square "
            "letters, then easting and northing of equal length (34R EN 50455 65040)",
        )
    zone_text, band, square = match["zone"], match["band"], match["square"]
    digits, northing = match["digits"] or "", match["northing"]
    if zone_text is None:
        if band not in "ABYZ":
            raise _refuse(
                field,
                f"{shown(text)} has no zone number: a UTM reference starts with its zone "
                "(1-60); only the polar bands A, B, Y and Z (UPS) have none",
            )
        zone = 0
    else:
        zone = int(zone_text)
        if band in "ABYZ":
            raise _refuse(
                field,
                f"band {band} is polar (UPS) and takes no zone number: write it as {band}{square}…",
            )
        if not 1 <= zone <= 60:
            raise _refuse(field, f"zone {zone} does not exist: UTM zones are 1 to 60")
        if band not in _BANDS:
            raise _refuse(
                field, f"{band} is not a latitude band: C to X, without I and O (polar: A B Y Z)"
            )
    if "I" in square or "O" in square:
        raise _refuse(field, f"square {square}: MGRS letters never include I or O")
    if northing is None:
        if len(digits) % 2:
            raise _refuse(
                field,
                f"{len(digits)} digits cannot be split into easting and northing: give an "
                "even number, half each (e.g. 5045 6504)",
            )
        half = len(digits) // 2
        easting, northing = digits[:half], digits[half:]
    else:
        easting = digits
        if len(easting) != len(northing):
            raise _refuse(
                field,
                f"the easting has {len(easting)} digits and the northing {len(northing)}: "
                "both have the same number",
            )
    if len(easting) > 5:
        raise _refuse(field, f"{len(easting)} digits each is finer than MGRS goes: at most 5 (1 m)")
    return _Reference(zone, band, square, easting, northing)


def _encode(lon: float, lat: float, digits: int) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(_converter().toMGRS(lat, lon, MGRSPrecision=digits))


def _square_points(ref: _Reference, lon: float, lat: float) -> list[tuple[float, float]]:
    """Points just inside the four corners of the square whose centre is ``lon, lat``."""
    forward, back = _projection(ref.zone, ref.band >= "N" or ref.band in "YZ")
    x, y = forward.transform(lon, lat)
    half = ref.precision_m / 2 * 0.999
    xs = [x - half, x + half, x - half, x + half]
    ys = [y - half, y - half, y + half, y + half]
    lons, lats = back.transform(xs, ys)
    return list(zip(lons, lats, strict=True))


def _parse_mgrs(field: str, text: str) -> Point:
    ref = _reference(field, text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a band that does not hold the square: see below
            lat, lon = _converter().toLatLon(ref.compact)
    except mgrs.core.MGRSError:
        zone = f"zone {ref.zone}" if ref.zone else f"polar band {ref.band}"
        raise _refuse(
            field,
            f"{ref} is not a square of {zone}: the square letters {ref.square} are not used "
            "there, or the band does not hold them",
        ) from None
    lat, lon = float(lat), float(lon)
    # The round trip: a point of the square named, encoded again at the same precision,
    # gives back exactly what was typed (the centre first; a square cut by a band or zone
    # boundary has a corner on the right side of it).
    wanted = ref.compact
    digits = len(ref.easting)
    again = _encode(lon, lat, digits)
    if again != wanted and not any(
        _encode(x, y, digits) == wanted for x, y in _square_points(ref, lon, lat)
    ):
        raise _refuse(field, _misread(ref, again))
    # The square's half-diagonal on the ground: grid metres over the projection's least
    # scale (UTM 0.9996 on its central meridian, UPS 0.994 at the pole).
    half_diagonal = ref.precision_m * math.sqrt(2) / 2 / (0.994 if ref.zone == 0 else 0.9996)
    return Point(lon, lat, "mgrs", str(ref), ref.precision_m, half_diagonal)


def _misread(ref: _Reference, again: str) -> str:
    """Why a reference the library decoded does not encode back."""
    got = _parse_compact(again)
    if (
        got is not None
        and got.zone == ref.zone
        and got.square == ref.square
        and got.band != ref.band
    ):
        return (
            f"{ref} does not lie in latitude band {ref.band} (the square {ref.square} of zone "
            f"{ref.zone} there is in band {got.band}): check the band and square letters"
        )
    if got is not None and got.zone != ref.zone:
        return (
            f"{ref} lies outside zone {ref.zone} (it reads as {got}): check the zone, band "
            "and square letters"
        )
    return (
        f"{ref} does not read back as itself (it reads as {got or again}): check the zone, "
        "band and square letters"
    )


def _parse_compact(text: str) -> _Reference | None:
    match = re.fullmatch(r"(\d\d)?([A-Z])([A-Z]{2})(\d*)", text)
    if match is None:
        return None
    half = len(match[4]) // 2
    return _Reference(int(match[1] or 0), match[2], match[3], match[4][:half], match[4][half:])


def format_mgrs(lon: float, lat: float, precision_m: int = 1) -> str:
    """The MGRS reference of the square of side ``precision_m`` (1, 10, … 100,000 m)
    holding ``lon, lat``, spaced: ``34R EN 50455 65040``.

    >>> format_mgrs(21.5, 25.0)
    '34R EN 50455 65040'
    >>> format_mgrs(21.5, 85.0, precision_m=1000)
    'Z CB 03 83'
    """
    if precision_m not in _PRECISIONS:
        raise ValueError(f"precision_m is one of {', '.join(map(str, _PRECISIONS))}")
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("lon is within ±180 and lat within ±90")
    # A point within rounding of a band's edge (just south of the equator, whose southern
    # northing rounds to 10,000,000 m) is given a square the band does not hold; the library
    # says so of no reference, so each is read back, and such a point is moved 1 cm off the
    # edge (well inside any square's precision) to be written.
    for nudge in (0.0, 1e-7, -1e-7):
        y = min(90.0, max(-90.0, lat + nudge))
        ref = _parse_compact(_encode(lon, y, _PRECISIONS.index(precision_m)))
        assert ref is not None
        try:
            parse_point(str(ref))
        except InputError:
            continue
        return str(ref)
    raise ValueError(f"no MGRS reference reads back for {lon}, {lat}")  # pragma: no cover


# --- decimal degrees and DMS ----------------------------------------------------------------

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_HEMI = "NSEW"
_DECIMAL_PART = re.compile(rf"(?P<pre>[{_HEMI}])? ?(?P<value>{_NUMBER}) ?°? ?(?P<post>[{_HEMI}])?")
_SEP = re.compile(r" ?, ?| ")

_DMS_PART = re.compile(
    rf"(?P<pre>[{_HEMI}])? ?"
    r"(?P<deg>\d{1,3})(?: ?° ?| )(?P<min>\d{1,2}(?:\.\d+)?)(?: ?[′'] ?| )?"
    r"(?:(?P<sec>\d{1,2}(?:\.\d+)?) ?(?:[″\"]|'')?)?"
    rf" ?(?P<post>[{_HEMI}])?"
)
_COMPACT_PART = re.compile(
    rf"(?P<pre>[{_HEMI}])? ?(?P<digits>\d{{4,9}})(?P<frac>\.\d+)? ?(?P<post>[{_HEMI}])?"
)


@dataclass(frozen=True, slots=True)
class _Half:
    """One of the two numbers of a point: a value in degrees and its hemisphere letter."""

    degrees: float
    hemisphere: str | None
    signed: bool


def _split_two(text: str, part: re.Pattern[str]) -> tuple[re.Match[str], re.Match[str]] | None:
    """``text`` as two ``part``s with a separator between (every way of cutting it tried)."""
    for sep in _SEP.finditer(text):
        first = part.fullmatch(text, 0, sep.start())
        second = part.fullmatch(text, sep.end())
        if first is not None and second is not None and not _lettered_twice(first, second):
            return first, second
    return None


def _lettered_twice(*parts: re.Match[str]) -> bool:
    """A part with a hemisphere letter before and after (a cut in the wrong place)."""
    return any(part["pre"] and part["post"] for part in parts)


def _hemisphere(match: re.Match[str]) -> str | None:
    return match["pre"] or match["post"]


def _orient(field: str, text: str, first: _Half, second: _Half) -> tuple[float, float]:
    """``lon, lat`` from the two halves: latitude first unless the letters say otherwise."""
    h1, h2 = first.hemisphere, second.hemisphere
    if (h1 is None) != (h2 is None):
        raise _refuse(field, "give a hemisphere letter to both numbers, or to neither")
    for half in (first, second):
        if half.hemisphere and half.signed:
            raise _refuse(field, "a number with a hemisphere letter takes no sign")
    if h1 is not None and h2 is not None:
        if (h1 in "NS") == (h2 in "NS"):
            raise _refuse(field, f"{h1} and {h2}: one latitude (N/S) and one longitude (E/W)")
        lat_half, lon_half = (first, second) if h1 in "NS" else (second, first)
        lat = -lat_half.degrees if lat_half.hemisphere == "S" else lat_half.degrees
        lon = -lon_half.degrees if lon_half.hemisphere == "W" else lon_half.degrees
    else:
        lat, lon = first.degrees, second.degrees
        if abs(lat) > 90 >= abs(lon):
            raise _refuse(
                field,
                f"the first number is the latitude (latitude, longitude order) and {lat:g} is "
                "outside ±90; to give the longitude first, add letters: E21.7654 N25.3456",
            )
    if not -90 <= lat <= 90:
        raise _refuse(field, f"latitude {lat:g} is outside ±90")
    if not -180 <= lon <= 180:
        raise _refuse(field, f"longitude {lon:g} is outside ±180")
    return lon, lat


def _parse_decimal(field: str, text: str) -> Point | None:
    halves = _split_two(text, _DECIMAL_PART)
    if halves is None:
        return None
    read = [_Half(float(m["value"]), _hemisphere(m), m["value"][0] in "+-") for m in halves]
    lon, lat = _orient(field, text, read[0], read[1])
    return Point(lon, lat, "decimal", f"{lat!r}, {lon!r}")


def _dms_value(field: str, deg: str, minutes: str, seconds: str | None, whole: str) -> float:
    d, m = int(deg), float(minutes)
    s = float(seconds) if seconds is not None else 0.0
    if m >= 60:
        raise _refuse(field, f"{whole!r}: minutes are below 60")
    if s >= 60:
        raise _refuse(field, f"{whole!r}: seconds are below 60")
    if seconds is not None and "." in minutes:
        raise _refuse(field, f"{whole!r}: decimal minutes take no seconds")
    return d + m / 60 + s / 3600


def _parse_dms(field: str, text: str) -> Point | None:
    halves = _split_two(text, _DMS_PART)
    if halves is None:
        return None
    read = [
        _Half(_dms_value(field, m["deg"], m["min"], m["sec"], m[0]), _hemisphere(m), False)
        for m in halves
    ]
    lon, lat = _orient(field, text, read[0], read[1])
    return Point(lon, lat, "dms", format_dms(lon, lat))


def _parse_packed(field: str, text: str) -> Point | None:
    """Packed DMS (``252044.4N 0214555.4E``): tried before decimal degrees, which would
    read ``252044.4N`` as a latitude out of range."""
    halves = _split_two(text, _COMPACT_PART)
    if halves is None or any(m["pre"] is None and m["post"] is None for m in halves):
        return None
    read = [_compact_half(field, m) for m in halves]
    lon, lat = _orient(field, text, read[0], read[1])
    return Point(lon, lat, "dms", format_dms(lon, lat))


def _compact_half(field: str, match: re.Match[str]) -> _Half:
    """``252044.4N`` (DDMMSS.s), ``2520N`` (DDMM), ``0214555.4E`` (DDDMMSS.s), ``02145E``."""
    hemisphere = _hemisphere(match)
    digits, frac = match["digits"], match["frac"] or ""
    if hemisphere is None:
        raise _refuse(field, f"{match[0]!r}: packed degrees-minutes-seconds need N/S or E/W")
    width = 2 if hemisphere in "NS" else 3
    rest = len(digits) - width
    if rest not in (2, 4):
        form = "DDMM or DDMMSS" if width == 2 else "DDDMM or DDDMMSS"
        raise _refuse(field, f"{match[0]!r}: packed as {form} (with N/S or E/W)")
    deg, minutes = digits[:width], digits[width : width + 2]
    seconds = digits[width + 2 :] + frac if rest == 4 else None
    if rest == 2:
        minutes += frac
    return _Half(_dms_value(field, deg, minutes, seconds, match[0]), hemisphere, False)


# --- the one entry point --------------------------------------------------------------------

_ALLOWED = re.compile(r"[0-9A-Za-z .,+\-°′″'\"]*")


def parse_point(text: str, *, field: str = "coordinates") -> Point:
    """Read a point typed as MGRS, decimal degrees (latitude first) or DMS; raise
    :class:`~accord.errors.InputError` naming ``field`` with what is wrong.

    Spaces around the text are dropped and runs of spaces inside it count as one; a
    newline, tab or other control character, or a character no form uses, is refused.

    >>> parse_point("N25.3456 E21.7654").text
    '25.3456, 21.7654'
    >>> parse_point(' 25°20\\'44.4"N 21°45\\'55.4"E ').kind
    'dms'
    >>> try:
    ...     parse_point("25.3456\\n21.7654", field="properties.mgrs")
    ... except InputError as error:
    ...     print(error.issues[0])  # doctest: +ELLIPSIS
    field 'properties.mgrs': a coordinate is one line of text: no newline, tab or control ...
    """
    if not isinstance(text, str):
        raise _refuse(field, "must be a string")
    if len(text) > MAX_TEXT:
        raise _refuse(field, f"is {len(text)} characters long; a point takes at most {MAX_TEXT}")
    if any(not ch.isprintable() for ch in text):
        raise _refuse(
            field, "a coordinate is one line of text: no newline, tab or control character"
        )
    stripped = text.strip(" ")
    if not stripped:
        raise _refuse(field, "is empty: type MGRS, decimal degrees or DMS")
    if _ALLOWED.fullmatch(stripped) is None:
        bad = next(ch for ch in stripped if _ALLOWED.fullmatch(ch) is None)
        raise _refuse(
            field, f"{bad!r} is not part of any coordinate form (MGRS, decimal degrees, DMS)"
        )
    normal = re.sub(r" +", " ", stripped).upper()
    if _MGRS_LIKE.fullmatch(normal):
        return _parse_mgrs(field, normal)
    point = (
        _parse_packed(field, normal) or _parse_decimal(field, normal) or _parse_dms(field, normal)
    )
    if point is None:
        raise _refuse(
            field,
            f"{shown(stripped)!r} is not a coordinate: type MGRS (34R EN 50455 65040), "
            "decimal degrees, latitude first (25.3456, 21.7654), or DMS "
            "(25°20'44.4\"N 21°45'55.4\"E)",
        )
    return point


# --- the other forms, for showing -----------------------------------------------------------


def format_decimal(lon: float, lat: float) -> str:
    """``25.34567° N, 21.76543° E`` (5 decimals: about 1 m).

    >>> format_decimal(-21.7654321, 25.3456789)
    '25.34568° N, 21.76543° W'
    """
    return f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"


def _dms(value: float) -> tuple[int, int, float]:
    tenths = round(abs(value) * 36000)  # tenths of a second, carried whole
    d, rest = divmod(tenths, 36000)
    m, s = divmod(rest, 600)
    return d, m, s / 10


def format_dms(lon: float, lat: float) -> str:
    """``25°20'44.4"N 21°45'55.4"E`` (tenths of a second: about 3 m).

    >>> format_dms(21.7654, 25.3456)
    '25°20\\'44.2"N 21°45\\'55.4"E'
    """
    ld, lm, ls = _dms(lat)
    od, om, os_ = _dms(lon)
    return (
        f"{ld}°{lm:02d}'{ls:04.1f}\"{'N' if lat >= 0 else 'S'} "
        f"{od}°{om:02d}'{os_:04.1f}\"{'E' if lon >= 0 else 'W'}"
    )
