"""Coordinates people type (:mod:`accord.coordinates`): MGRS held to an independent oracle —
pyproj's UTM/UPS eastings and northings and the MGRS lettering computed here from the
standard — at every precision; malformed references and the ``mgrs`` library's silent
misreads refused, each for its reason; decimal degrees and DMS against their arithmetic."""

from __future__ import annotations

import math
import warnings
from functools import cache

import mgrs
import pyproj
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from accord.coordinates import (
    MAX_TEXT,
    format_decimal,
    format_dms,
    format_mgrs,
    parse_point,
)
from accord.errors import InputError
from accord.geo import GEOD

PRECISIONS = (1, 10, 100, 1000, 10_000, 100_000)
BANDS = "CDEFGHJKLMNPQRSTUVWX"
COLUMNS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
ROWS = "ABCDEFGHJKLMNPQRSTUV"


# --- the oracle: MGRS from pyproj and the standard's lettering --------------------------------


@cache
def to_grid(code: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(4326, code, always_xy=True)


def utm_zone(lon: float, lat: float) -> int:
    """The UTM zone of a point, with the Norway (32V) and Svalbard (31X–37X) exceptions."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    if 56 <= lat < 64 and 3 <= lon < 12:
        return 32
    if lat >= 72:
        for lo, hi, z in ((0, 9, 31), (9, 21, 33), (21, 33, 35), (33, 42, 37)):
            if lo <= lon < hi:
                return z
    return zone


def oracle(lon: float, lat: float, precision: int) -> tuple[str, float, float]:
    """The reference of the square of side ``precision`` holding the point (UTM only), and
    the point's easting and northing."""
    zone = utm_zone(lon, lat)
    code = (32600 if lat >= 0 else 32700) + zone
    e, n = to_grid(code).transform(lon, lat)
    band = BANDS[min(int((lat + 80) // 8), 19)]
    column = COLUMNS[(zone - 1) % 3][int(e // 100_000) - 1]
    row = ROWS[(int(n // 100_000) + (5 if zone % 2 == 0 else 0)) % 20]
    digits = 5 - round(math.log10(precision))
    text = f"{zone}{band} {column}{row}"
    if digits:  # the easting and northing within the 100 km square, truncated
        text += f" {int(e % 100_000 / precision):0{digits}d}"
        text += f" {int(n % 100_000 / precision):0{digits}d}"
    return text, e, n


def near_edge(value: float, step: float) -> bool:
    """Within a millimetre of a multiple of ``step``: the libraries may round either way."""
    r = value % step
    return r < 1e-3 or step - r < 1e-3


lons = st.floats(-180, 180, allow_nan=False, exclude_max=True)
utm_lats = st.floats(-79.999, 83.999, allow_nan=False)
precisions = st.sampled_from(PRECISIONS)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@settings(max_examples=300, deadline=None)
@given(lons, utm_lats, precisions)
@example(4.5, 60.0, 1)  # 32V, west of the usual zone 32
@example(2.9, 56.5, 100)  # 31V: what is left of it
@example(20.0, 78.0, 1)  # 33X, Svalbard
@example(41.9, 83.9, 10)  # 37X
@example(21.5, 25.0, 100_000)  # the exercise's square, 34R EN
@example(-177.0, -79.9, 1000)
def test_format_and_parse_hold_to_utm(lon: float, lat: float, precision: int) -> None:
    expected, e, n = oracle(lon, lat, precision)
    assume(not near_edge(e, precision) and not near_edge(n, precision))
    # Not on a band's or a zone's edge (every one is a multiple of 8° or of 3°).
    assume(abs(lat - round(lat / 8) * 8) > 1e-6 and abs(lon - round(lon / 3) * 3) > 1e-6)
    text = format_mgrs(lon, lat, precision)
    assert text == expected
    point = parse_point(text)
    assert (point.kind, point.text, point.precision_m) == ("mgrs", text, precision)
    assert point.uncertainty_m == pytest.approx(precision / math.sqrt(2) / 0.9996)
    # The point read is the centre of the square, in the zone's own grid…
    ce, cn = to_grid((32600 if lat >= 0 else 32700) + utm_zone(lon, lat)).transform(
        point.lon, point.lat
    )
    assert ce == pytest.approx((e // precision + 0.5) * precision, abs=1e-3)
    assert cn == pytest.approx((n // precision + 0.5) * precision, abs=1e-3)
    # …so the true point is within the half-diagonal: within 1 m at 1 m precision.
    assert distance(lon, lat, point.lon, point.lat) <= point.uncertainty_m + 1e-3
    if precision == 1:
        assert distance(lon, lat, point.lon, point.lat) < 1.0


@settings(max_examples=60, deadline=None)
@given(lons, st.one_of(st.floats(84.01, 89.999), st.floats(-89.999, -80.01)), precisions)
def test_polar_references_round_trip_through_ups(lon: float, lat: float, precision: int) -> None:
    code = 32661 if lat > 0 else 32761
    e, n = to_grid(code).transform(lon, lat)
    assume(not near_edge(e, precision) and not near_edge(n, precision))
    text = format_mgrs(lon, lat, precision)
    assert text[0] in ("YZ" if lat > 0 else "AB") and text[1] == " "
    digits = text.split()[2:]
    if precision < 100_000:
        assert digits == [
            f"{int(e % 100_000 / precision):0{len(digits[0])}d}",
            f"{int(n % 100_000 / precision):0{len(digits[0])}d}",
        ]
    point = parse_point(text)
    assert point.text == text
    assert distance(lon, lat, point.lon, point.lat) <= point.uncertainty_m + 1e-3


@settings(max_examples=60, deadline=None)
@given(lons, utm_lats, precisions)
def test_any_spelling_of_a_reference_reads_alike(lon: float, lat: float, precision: int) -> None:
    text = format_mgrs(lon, lat, precision)
    zone_band, square, *digits = text.split()
    point = parse_point(text)
    for spelling in (
        "".join(text.split()),
        f"  {text.lower()}  ",
        f"{zone_band}{square} {''.join(digits)}",
        f"0{text}" if zone_band[1].isalpha() else text,
    ):
        assert parse_point(spelling) == point


# --- refused ----------------------------------------------------------------------------------

REFUSED = {
    "": "is empty",
    "   ": "is empty",
    "34R EN 5045 650": "same number",
    "34REN504565040": "cannot be split",
    "34REN123456123456": "finer than MGRS goes",
    "0REN5045565040": "zone 0 does not exist",
    "61REN5045565040": "zone 61 does not exist",
    "99REN": "zone 99 does not exist",
    "034REN5045565040": "is not an MGRS reference",
    "34IEN5045565040": "is not a latitude band",
    "34OEN5045565040": "is not a latitude band",
    "34ZEN5045565040": "polar (UPS) and takes no zone",
    "REN5045565040": "has no zone number",
    "34REI5045565040": "never include I or O",
    "34R": "is not a coordinate",
    "34RE": "is not a coordinate",
    "34RZZ1234567890": "is not a square of zone 34",
    "31VEK1234512345": "is not a square of zone 31",
    "34XFH1234567890": "is not a square of zone 34",
    "34REN\n5045565040": "one line of text",
    "34REN\t5045565040": "one line of text",
    "34REN5045565040\x00": "one line of text",
    "34REN5045565040;": "';' is not part of any coordinate form",
    "34REN５０４５": "is not part of any coordinate form",
    "x" * (MAX_TEXT + 1): "at most 100",
    "95.0, 21.0": "outside ±90",
    "121.3, 25.3": "the first number is the latitude",
    "25.3, 181": "longitude 181 is outside ±180",
    "N25.3 N21.7": "one latitude (N/S) and one longitude",
    "N25.3 21.7": "to both numbers, or to neither",
    "N-25.3 E21.7": "takes no sign",
    "N25N 21E": "is not a coordinate",
    "25°60'00\"N 21°45'55\"E": "minutes are below 60",
    "25°20'60\"N 21°45'55\"E": "seconds are below 60",
    "25°20.5'10\"N 21°45'55\"E": "decimal minutes take no seconds",
    "252044.4N 02145559E": "packed as DDDMM or DDDMMSS",
    "256044N 0214555E": "minutes are below 60",
    "91°00'00\"N 21°00'00\"E": "outside ±90",
    "25.3456": "is not a coordinate",
    "25.3, 21.7, 3": "is not a coordinate",
    "hospital": "is not a coordinate",
}


@pytest.mark.parametrize(("text", "reason"), REFUSED.items(), ids=range(len(REFUSED)))
def test_malformed_input_is_refused_for_its_reason(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_point(text, field="properties.mgrs")
    (issue,) = caught.value.issues
    assert issue.field == "properties.mgrs"
    assert reason in issue.message
    assert "\n" not in issue.message and "\x00" not in issue.message


MISREADS = {
    # The library decodes each of these to a point, with at most a warning.
    "34RFH1234567890": "does not lie in latitude band R",  # FH is in band S at zone 34
    "34SEN5045565040": "does not lie in latitude band S",  # read as band T, 43°N
    "34CEN5045565040": "does not lie in latitude band C",  # read as 65°S
}


@pytest.mark.parametrize("text", MISREADS)
def test_references_the_library_misreads_are_refused(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mgrs.MGRS().toLatLon(text)  # no error: the library reads it, somewhere
    with pytest.raises(InputError) as caught:
        parse_point(text)
    assert MISREADS[text] in caught.value.issues[0].message


def test_a_square_cut_by_a_band_boundary_reads_from_either_side() -> None:
    # 10 km squares straddling 24°N: the centre lies in one band, the reference in the other.
    for lon in (21.01, 21.5, 22.3, 23.9):
        for lat in (23.96, 24.04):
            text = format_mgrs(lon, lat, 10_000)
            point = parse_point(text)
            assert distance(lon, lat, point.lon, point.lat) <= point.uncertainty_m


def test_format_mgrs_refuses_what_it_cannot_name() -> None:
    with pytest.raises(ValueError, match="precision_m"):
        format_mgrs(21.5, 25.0, 5)
    with pytest.raises(ValueError, match="within"):
        format_mgrs(21.5, 95.0)
    with pytest.raises(ValueError, match="within"):
        format_mgrs(math.nan, 25.0)


# --- decimal degrees and DMS ------------------------------------------------------------------

lats = st.floats(-90, 90, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(lats, st.floats(-180, 180, allow_nan=False), st.integers(0, 3))
def test_decimal_degrees_latitude_first_or_lettered(lat: float, lon: float, form: int) -> None:
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    text = [
        f"{lat!r}, {lon!r}",
        f"{lat!r} {lon!r}",
        f"{ns}{abs(lat)!r} {ew}{abs(lon)!r}",
        f"{abs(lon)!r}°{ew}, {abs(lat)!r}° {ns.lower()}",
    ][form]
    assume("e" not in repr(lat) + repr(lon))  # 1e-05 is no way to type a coordinate
    point = parse_point(text)
    assert point.kind == "decimal"
    assert (point.lon, point.lat) == (lon + 0.0, lat + 0.0) or (
        abs(point.lon) == abs(lon) and abs(point.lat) == abs(lat)  # -0.0 read as 0.0
    )
    assert point.precision_m is None and point.uncertainty_m == 0.0
    assert parse_point(point.text) == point


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 89),
    st.integers(0, 59),
    st.integers(0, 599),
    st.integers(0, 179),
    st.integers(0, 59),
    st.integers(0, 599),
    st.booleans(),
    st.booleans(),
    st.integers(0, 3),
)
def test_dms_in_each_spelling(
    d1: int, m1: int, s1: int, d2: int, m2: int, s2: int, south: bool, west: bool, form: int
) -> None:
    ns, ew = "SN"[not south], "WE"[not west]
    sec1, sec2 = f"{s1 / 10:04.1f}", f"{s2 / 10:04.1f}"
    text = [
        f"{d1}°{m1:02d}'{sec1}\"{ns} {d2}°{m2:02d}'{sec2}\"{ew}",
        f"{ns}{d1}° {m1}′ {sec1}″ , {ew}{d2}° {m2}′ {sec2}″",
        f"{d1} {m1} {sec1} {ns} {d2} {m2} {sec2} {ew}",
        f"{d1:02d}{m1:02d}{sec1}{ns} {d2:03d}{m2:02d}{sec2}{ew}",
    ][form]
    lat = (d1 + m1 / 60 + s1 / 36_000) * (-1 if south else 1)
    lon = (d2 + m2 / 60 + s2 / 36_000) * (-1 if west else 1)
    point = parse_point(text)
    assert point.kind == "dms"
    assert point.lat == pytest.approx(lat, abs=1e-12)
    assert point.lon == pytest.approx(lon, abs=1e-12)
    again = parse_point(point.text)  # the normalised text reads back to the same point
    assert again.lat == pytest.approx(lat, abs=1e-7) and again.lon == pytest.approx(lon, abs=1e-7)


def test_degrees_and_decimal_minutes_and_packed_minutes() -> None:
    point = parse_point("25°20.5'N 21°45.25'E")
    assert (point.lat, point.lon) == (pytest.approx(25 + 20.5 / 60), pytest.approx(21 + 45.25 / 60))
    packed = parse_point("2520N 02145E")
    assert (packed.lat, packed.lon) == (pytest.approx(25 + 20 / 60), pytest.approx(21.75))


def test_the_forms_shown() -> None:
    assert format_decimal(21.76543, 25.34567) == "25.34567° N, 21.76543° E"
    assert format_dms(-21.5, -25.0) == "25°00'00.0\"S 21°30'00.0\"W"
    assert format_dms(21.999999, 25.0) == "25°00'00.0\"N 22°00'00.0\"E"  # 59.99… carried


# --- anything typed ---------------------------------------------------------------------------

TYPED_ALPHABET = "0123456789 .,+-°′″'\"NSEWZABYXRQCDHIOnsew\n\t\x00é５"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(TYPED_ALPHABET, max_size=120),
        st.text(max_size=40),
        st.builds(
            lambda lon, lat, p, cut: format_mgrs(lon, lat, p)[:cut],
            lons,
            utm_lats,
            precisions,
            st.integers(0, 20),
        ),
    )
)
def test_anything_typed_is_a_point_or_a_refusal_naming_the_field(text: str) -> None:
    try:
        point = parse_point(text, field="f")
    except InputError as error:
        (issue,) = error.issues
        assert issue.field == "f" and issue.message
        assert len(issue.message) < 400  # the input is never echoed whole
        return
    assert -180 <= point.lon <= 180 and -90 <= point.lat <= 90
    assert "\n" not in text and len(text) <= MAX_TEXT
    assert parse_point(point.text).kind == point.kind  # its normal form reads again
