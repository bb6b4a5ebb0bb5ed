"""ASTERIX CAT062 and CAT021 decoding (accord.feeds.asterix): records made by libasterix itself
decode to the states they were made from (within one LSB); a record built here byte by byte
from the specification decodes to the values the specification gives (so the tests do not
only trust the library); times of day land on the right day across midnight; and no datagram,
however broken or hostile, raises or yields an impossible sighting."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asterix.generated import Cat_021_2_7, Cat_062_1_21
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.airspace.tracks import ALT_MAX_FT, ALT_MIN_FT, MACH3_FPM, MACH3_KT
from accord.errors import TrackError
from accord.feeds import asterix as ax
from accord.feeds.asterix import (
    MAX_PROBLEMS,
    Decoded,
    SystemTrack,
    decode_datagram,
    encode_cat021,
    encode_cat062,
)
from accord.feeds.sighting import Sighting
from accord.units import KT

T0 = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
C062: Any = Cat_062_1_21
C021: Any = Cat_021_2_7


def state(key: str = "4ca7b1", **fields: Any) -> Sighting:
    values: dict[str, Any] = {
        "icao24": "4ca7b1",
        "callsign": "BLU01",
        "squawk": "2301",
        "lat": 25.0,
        "lon": 21.5,
        "alt_ft": 30000.0,
        "gs_kt": 420.0,
        "track_deg": 90.0,
        "vs_fpm": 0.0,
    }
    values.update(fields)
    return Sighting(key=key, source="cat062", time=values.pop("time", T0), **values)


def block062(items: dict[str, Any]) -> bytes:
    """One CAT062 record made with the library directly (no validation of ours)."""
    base: dict[str, Any] = {"010": 25 << 8 | 10, "040": 1234, "070": 36000 * 128}
    return bytes(C062.create([C062.cv_record.create({**base, **items})]).unparse().to_bytes())


def block021(items: dict[str, Any]) -> bytes:
    base: dict[str, Any] = {"010": 1 << 8 | 2, "040": (0,), "080": 0x4CA7B1, "071": 36000 * 128}
    merged = {key: value for key, value in {**base, **items}.items() if value is not None}
    return bytes(C021.create([C021.cv_record.create(merged)]).unparse().to_bytes())


# --- the specification, by hand -------------------------------------------------------------


def _lsb(spec: Any, *path: str) -> float:
    rule = spec.cv_record.spec(path[0]).cv_rule
    for name in path[1:]:
        rule = rule.cv_variation.spec(name)
        rule = getattr(rule, "cv_rule", rule)
    return float(rule.cv_variation.cv_rule.cv_content.cv_lsb)


@pytest.mark.parametrize(
    ("ours", "spec", "path"),
    [
        ("_LSB_TIME_S", C062, ("070",)),
        ("_LSB_062_LATLON_DEG", C062, ("105", "LAT")),
        ("_LSB_062_LATLON_DEG", C062, ("105", "LON")),
        ("_LSB_VXY_MS", C062, ("185", "VX")),
        ("_LSB_FL", C062, ("136",)),
        ("_LSB_GEOM_FT", C062, ("130",)),
        ("_LSB_RATE_FPM", C062, ("220",)),
        ("_LSB_TIME_S", C021, ("071",)),
        ("_LSB_TIME_S", C021, ("073",)),
        ("_LSB_021_LATLON_HI_DEG", C021, ("131", "LAT")),
        ("_LSB_021_LATLON_DEG", C021, ("130", "LON")),
        ("_LSB_FL", C021, ("145",)),
        ("_LSB_RATE_FPM", C021, ("155", "BVR")),
        ("_LSB_021_GS_NMS", C021, ("160", "GS")),
        ("_LSB_021_TA_DEG", C021, ("160", "TA")),
    ],
)
def test_our_lsbs_are_the_editions(ours: str, spec: Any, path: tuple[str, ...]) -> None:
    """The scale factors cited from the specification agree with the library's tables."""
    assert getattr(ax, ours) == _lsb(spec, *path)


def _icao6(text: str) -> bytes:
    """Eight characters of the ICAO 6-bit set (A=1..Z=26, space=32, 0=48..9=57), by hand."""
    raw = 0
    for char in text.ljust(8):
        code = 32 if char == " " else 48 + int(char) if char.isdigit() else ord(char) - 64
        raw = raw << 6 | code
    return raw.to_bytes(6, "big")


def test_a_record_built_by_hand_from_the_specification() -> None:
    """CAT062 1.21: FSPEC, then the items in FRN order, each packed here from the spec."""
    fspec = bytes(
        [
            0b1001_1011,  # 010, (spare), 015 no, 070, 105, 100 no, 185, FX
            0b0101_1101,  # 210 no, 060, 245 no, 380, 040, 080, 290 no, FX
            0b0010_0100,  # 200 no, 295 no, 136, 130 no, 135 no, 220, 390 no, no FX
        ]
    )
    record = (
        fspec
        + bytes([25, 10])  # I062/010 SAC 25, SIC 10
        + (36000 * 128 + 64).to_bytes(3, "big")  # I062/070 10:00:00.5, LSB 1/128 s
        + struct.pack(">ii", 4_679_106, 4_005_789)  # I062/105 lat, lon, LSB 180/2**25 deg
        + struct.pack(">hh", -400, 300)  # I062/185 Vx -100 m/s, Vy 75 m/s, LSB 0.25 m/s
        + (0o7700).to_bytes(2, "big")  # I062/060 V=0 G=0 CH=0, code 7700
        + bytes([0b1100_0000])  # I062/380 subfields: ADR, ID
        + bytes.fromhex("4ca7b1")  # I062/380 ADR
        + _icao6("BLU01")  # I062/380 ID
        + (1234).to_bytes(2, "big")  # I062/040 track number
        + bytes([0b0000_0011, 0])  # I062/080: CNF (tentative), FX; then SIM 0, TSE 0
        + struct.pack(">h", 1401)  # I062/136 FL 350.25, LSB 1/4 FL
        + struct.pack(">h", -192)  # I062/220 -1,200 ft/min, LSB 6.25 ft/min
    )
    data = bytes([62]) + (3 + len(record)).to_bytes(2, "big") + record
    decoded = decode_datagram(data, received=T0)
    assert decoded.problems == ()
    assert decoded.records == 1
    (s,) = decoded.sightings
    assert s.key == "4ca7b1" and s.icao24 == "4ca7b1" and s.source == "cat062"
    assert s.time == T0 + timedelta(milliseconds=500)
    assert s.lat == 4_679_106 * 180 / 2**25 and s.lon == 4_005_789 * 180 / 2**25
    assert s.callsign == "BLU01"
    assert s.squawk == "7700"
    assert s.alt_ft == 35025.0
    assert s.vs_fpm == -1200.0
    assert s.gs_kt == pytest.approx(125.0 / KT)
    assert s.track_deg == pytest.approx(math.degrees(math.atan2(-100, 75)) + 360.0)
    assert s.on_ground is None  # I062/080's surface bit was not sent


def test_a_cat021_record_built_by_hand_from_the_specification() -> None:
    """CAT021 2.7: FSPEC, then the items in FRN order, each packed here from the spec."""
    fspec = bytes(
        [
            0b1100_1011,  # 010, 040, 161 no, 015 no, 071, 130 no, 131, FX
            0b0001_0001,  # 072, 150, 151 no, 080, 073, 074, 075 no, FX
            0b0000_1011,  # 076, 140, 090, 210 no, 070, 230 no, 145, FX
            0b0010_1001,  # 152, 200 no, 155, 157 no, 160, 165, 077 no, FX
            0b1000_0000,  # 170, the rest no, no FX
        ]
    )
    record = (
        fspec
        + bytes([1, 2])  # I021/010 SAC 1, SIC 2
        + bytes([0b0000_0001, 0b0100_0000])  # I021/040 ATP 0 (ICAO), FX; then GBS set
        + (36000 * 128 - 128).to_bytes(3, "big")  # I021/071 09:59:59, LSB 1/128 s
        + struct.pack(">ii", 134_755_315, 115_964_112)  # I021/131, LSB 180/2**30 deg
        + bytes.fromhex("aa0042")  # I021/080 target address
        + (0o1234).to_bytes(2, "big")  # I021/070 spare 4 bits, Mode 3/A 1234
        + struct.pack(">h", -20)  # I021/145 FL -5, LSB 1/4 FL
        + ((-192) & 0x7FFF).to_bytes(2, "big")  # I021/155 RE 0, BVR -1,200 ft/min (15 bits)
        + (1138).to_bytes(2, "big")  # I021/160 RE 0, GS 15 bits, LSB 2**-14 NM/s
        + (0x4000).to_bytes(2, "big")  # I021/160 TA 90 deg, LSB 360/2**16
        + _icao6("RED7")  # I021/170
    )
    data = bytes([21]) + (3 + len(record)).to_bytes(2, "big") + record
    decoded = decode_datagram(data, received=T0)
    assert decoded.problems == ()
    (s,) = decoded.sightings
    assert (s.key, s.icao24, s.source, s.callsign, s.squawk) == (
        "aa0042",
        "aa0042",
        "cat021",
        "RED7",
        "1234",
    )
    assert s.time == T0 - timedelta(seconds=1)
    assert s.lat == 134_755_315 * 180 / 2**30 and s.lon == 115_964_112 * 180 / 2**30
    assert s.alt_ft == -500.0 and s.vs_fpm == -1200.0
    assert s.gs_kt == 1138 * 2**-14 * 3600 and s.track_deg == 90.0
    assert s.on_ground is True


# --- round trips through the library -------------------------------------------------------

ICAO24 = st.integers(1, 0xFFFFFF).map(lambda x: f"{x:06x}")
CALLSIGN = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
SQUAWK = st.integers(0, 0o7777).map(lambda x: f"{x:04o}")
RECEIVED = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)
# inside the limits by more than an LSB, so that rounding cannot carry a value over one
SPEED = st.floats(0.0, MACH3_KT - 2.0)
RATE = st.floats(-(MACH3_FPM - 10.0), MACH3_FPM - 10.0)
ALT = st.floats(ALT_MIN_FT + 25.0, ALT_MAX_FT - 25.0)


@st.composite
def states(draw: st.DrawFn, received: datetime) -> Sighting:
    ahead = draw(st.floats(-43_199.0, 43_199.0))  # within 12 h of received, either way
    return Sighting(
        key="x",
        source="cat062",
        time=received + timedelta(seconds=ahead),
        icao24=draw(st.none() | ICAO24),
        callsign=draw(st.none() | CALLSIGN),
        squawk=draw(st.none() | SQUAWK),
        lat=draw(st.floats(-90.0, 90.0)),
        lon=draw(st.floats(-180.0, 180.0)),
        alt_ft=draw(ALT),
        gs_kt=draw(SPEED),
        track_deg=draw(st.floats(0.0, 360.0)),
        vs_fpm=draw(RATE),
        on_ground=draw(st.none() | st.booleans()),
    )


def _velocity(s: Sighting) -> tuple[float, float]:
    assert s.gs_kt is not None and s.track_deg is not None
    angle = math.radians(s.track_deg)
    return s.gs_kt * KT * math.sin(angle), s.gs_kt * KT * math.cos(angle)


def _same_state(
    got: Sighting, sent: Sighting, *, pos: float, alt: float, vel: float, vs_range: float = 1e9
) -> None:
    assert got.icao24 == sent.icao24 and got.callsign == sent.callsign
    assert got.squawk == sent.squawk and got.on_ground == sent.on_ground
    assert abs(got.time - sent.time) <= timedelta(seconds=1 / 256, microseconds=2)
    assert got.lat is not None and sent.lat is not None
    assert abs(got.lat - sent.lat) <= pos and abs(got.lon - sent.lon) <= pos  # type: ignore[operator]
    assert abs(got.alt_ft - sent.alt_ft) <= alt  # type: ignore[operator]
    assert sent.vs_fpm is not None
    if abs(sent.vs_fpm) >= vs_range:  # beyond the item's range: RE set, read as unknown
        assert got.vs_fpm is None
    else:
        assert got.vs_fpm is not None and abs(got.vs_fpm - sent.vs_fpm) <= 6.25 / 2 + 1e-9
    (gx, gy), (sx, sy) = _velocity(got), _velocity(sent)
    assert abs(gx - sx) <= vel and abs(gy - sy) <= vel


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), received=RECEIVED, geometric=st.booleans())
def test_cat062_round_trip_within_an_lsb(
    data: st.DataObject, received: datetime, geometric: bool
) -> None:
    sent = [data.draw(states(received)) for _ in range(data.draw(st.integers(1, 4)))]
    numbers = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=len(sent), max_size=len(sent)))
    wire = encode_cat062(
        [SystemTrack(n, s) for n, s in zip(numbers, sent, strict=True)],
        sac=25,
        sic=10,
        geometric=geometric,
    )
    decoded = decode_datagram(wire, received=received)
    assert decoded.problems == () and decoded.records == len(sent)
    assert len(decoded.sightings) == len(sent)
    for got, s, number in zip(decoded.sightings, sent, numbers, strict=True):
        assert got.key == (s.icao24 or f"062-25-10-{number}")
        assert got.source == "cat062"
        _same_state(
            got,
            s,
            pos=90 / 2**25 + 1e-12,
            alt=(6.25 if geometric else 25.0) / 2 + 1e-9,
            vel=0.125 + 1e-9,
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), received=RECEIVED)
def test_cat021_round_trip_within_an_lsb(data: st.DataObject, received: datetime) -> None:
    sent = [
        s
        for s in (data.draw(states(received)) for _ in range(data.draw(st.integers(1, 4))))
        if s.icao24 is not None
    ] or [state(time=received)]
    decoded = decode_datagram(encode_cat021(sent, sac=1, sic=2), received=received)
    assert decoded.problems == () and len(decoded.sightings) == len(sent)
    for got, s in zip(decoded.sightings, sent, strict=True):
        assert got.key == s.icao24 and got.source == "cat021"
        # GS LSB 2**-14 NM/s and TA LSB 360/2**16 deg: the vector is off by at most both
        gs_err = 2**-15 * 1852.0
        ta_err = (s.gs_kt or 0.0) * KT * math.radians(360 / 2**17)
        _same_state(
            got,
            s,
            pos=90 / 2**30 + 1e-12,
            alt=12.5 + 1e-9,
            vel=gs_err + ta_err + 1e-9,
            vs_range=(2**14 - 0.5) * 6.25,  # I021/155 BVR: 15 bits signed
        )


# --- times of day ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "sent"),
    [
        (datetime(2026, 9, 21, 0, 0, 5, tzinfo=UTC), datetime(2026, 9, 20, 23, 59, 58, tzinfo=UTC)),
        (datetime(2026, 9, 20, 23, 59, 58, tzinfo=UTC), datetime(2026, 9, 21, 0, 0, 3, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), datetime(2027, 1, 1, 10, 0, tzinfo=UTC)),
        (datetime(2027, 1, 1, 11, 0, tzinfo=UTC), datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),
    ],
)
def test_midnight_rollover(received: datetime, sent: datetime) -> None:
    wire = encode_cat062([SystemTrack(1, state(time=sent))], sac=25, sic=10)
    (got,) = decode_datagram(wire, received=received).sightings
    assert got.time == sent


def test_received_in_another_zone_is_read_as_utc() -> None:
    from datetime import timezone

    received = datetime(2026, 9, 21, 2, 0, 5, tzinfo=timezone(timedelta(hours=2)))  # 00:00:05Z
    sent = datetime(2026, 9, 20, 23, 59, 58, tzinfo=UTC)
    wire = encode_cat062([SystemTrack(1, state(time=sent))], sac=25, sic=10)
    assert decode_datagram(wire, received=received).sightings[0].time == sent


def test_naive_received_is_the_callers_mistake() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        decode_datagram(b"", received=datetime(2026, 9, 20, 10, 0))


def test_a_time_of_day_past_midnight_is_a_problem() -> None:
    decoded = decode_datagram(block062({"070": 86_400 * 128}), received=T0)
    assert decoded.sightings == ()
    assert "I062/070 time of day 86400 s is past midnight" in decoded.problems[0]


# --- datagrams, blocks, records -----------------------------------------------------------


def test_several_blocks_and_several_records_in_one_datagram() -> None:
    first = encode_cat062(
        [SystemTrack(n, state(f"k{n}", icao24=None, callsign=f"T{n}")) for n in (1, 2, 3)],
        sac=25,
        sic=10,
    )
    adsb = encode_cat021(
        [state("aa0001", icao24="aa0001"), state("aa0002", icao24="aa0002")], sac=1, sic=2
    )
    last = encode_cat062([SystemTrack(9, state(icao24="bb0009"))], sac=25, sic=11)
    decoded = decode_datagram(first + adsb + last, received=T0)
    assert decoded.problems == () and decoded.records == 6
    assert [s.key for s in decoded.sightings] == [
        "062-25-10-1",
        "062-25-10-2",
        "062-25-10-3",
        "aa0001",
        "aa0002",
        "bb0009",
    ]
    assert [s.callsign for s in decoded.sightings[:3]] == ["T1", "T2", "T3"]
    assert [s.source for s in decoded.sightings] == ["cat062"] * 3 + ["cat021"] * 2 + ["cat062"]


def test_a_track_without_a_target_address_is_keyed_by_its_track_number() -> None:
    wire = encode_cat062([SystemTrack(1234, state(icao24=None))], sac=25, sic=10)
    (s,) = decode_datagram(wire, received=T0).sightings
    assert (s.key, s.icao24, s.callsign) == ("062-25-10-1234", None, "BLU01")
    # an all-zero address is no ICAO address either
    (s,) = decode_datagram(block062({"380": {"ADR": 0}}), received=T0).sightings
    assert (s.key, s.icao24) == ("062-25-10-1234", None)


def test_len_past_the_end_keeps_the_blocks_before_it() -> None:
    good = encode_cat062([SystemTrack(1, state())], sac=25, sic=10)
    bad = bytes([62, 0x01, 0x00]) + b"\x00" * 10  # LEN 256, 13 bytes there
    decoded = decode_datagram(good + bad, received=T0)
    assert [s.key for s in decoded.sightings] == ["4ca7b1"]
    assert decoded.problems == (
        f"block 2 (byte {len(good)}): LEN 256 runs past the end of the datagram (13 bytes left)",
    )


def test_len_shorter_than_a_header_stops_reading() -> None:
    decoded = decode_datagram(bytes([62, 0, 2, 0, 0, 0]), received=T0)
    assert decoded.problems == (
        "block 1 (byte 0): LEN 2 is shorter than the block's 3-byte header",
    )


def test_unknown_category_is_a_problem_and_the_next_block_is_read() -> None:
    good = encode_cat062([SystemTrack(1, state())], sac=25, sic=10)
    cat048 = bytes([48, 0, 6, 0x80, 1, 2])
    decoded = decode_datagram(cat048 + good, received=T0)
    assert decoded.problems == (
        "block 1 (byte 0): CAT048 is not read (this feed reads CAT062 and CAT021)",
    )
    assert len(decoded.sightings) == 1


def test_a_block_with_a_bad_record_is_dropped_whole() -> None:
    """Records carry no length: once one does not parse, those before it are suspect too."""
    two = encode_cat062(
        [SystemTrack(1, state()), SystemTrack(2, state(icao24="aa0002"))], sac=25, sic=10
    )
    broken = bytes([62]) + (len(two) + 1).to_bytes(2, "big") + two[3:] + b"\xff"  # FSPEC, no end
    after = encode_cat062([SystemTrack(3, state(icao24="aa0003"))], sac=25, sic=10)
    decoded = decode_datagram(broken + after, received=T0)
    assert [s.key for s in decoded.sightings] == ["aa0003"]
    assert decoded.problems == (
        "block 1 (CAT062, byte 0): record 3 does not parse (insufficient data, fspec); "
        "the block is dropped",
    )


def test_every_truncation_of_a_datagram_is_a_problem() -> None:
    wire = encode_cat062(
        [SystemTrack(1, state()), SystemTrack(2, state(icao24=None))], sac=25, sic=10
    )
    boundary = len(wire)
    wire += encode_cat021([state()], sac=1, sic=2)
    for cut in range(1, len(wire)):
        if cut == boundary:  # a whole block: nothing is missing
            continue
        decoded = decode_datagram(wire[:cut], received=T0)
        assert decoded.problems, cut


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise(data: bytes) -> None:
    decoded = decode_datagram(data, received=T0)
    assert isinstance(decoded, Decoded)
    assert len(decoded.problems) <= MAX_PROBLEMS + 1
    for s in decoded.sightings:  # whatever garbage decodes is still a possible state
        assert s.lat is None or -90 <= s.lat <= 90
        assert s.alt_ft is None or ALT_MIN_FT <= s.alt_ft <= ALT_MAX_FT
        assert s.gs_kt is None or s.gs_kt <= MACH3_KT


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_valid_blocks_with_random_damage_never_raise(data: st.DataObject) -> None:
    wire = bytearray(
        encode_cat062([SystemTrack(1, state()), SystemTrack(2, state(icao24=None))], sac=25, sic=10)
        + encode_cat021([state(on_ground=True)], sac=1, sic=2)
    )
    for _ in range(data.draw(st.integers(1, 6))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    decoded = decode_datagram(bytes(wire), received=T0)
    for s in decoded.sightings:
        assert s.lat is None or -90 <= s.lat <= 90
        assert s.callsign is None or s.callsign.replace(" ", "").isalnum()


def test_many_empty_blocks_are_cut_without_recursion() -> None:
    """21,000 empty blocks in one datagram (the library's own splitter recurses per block)."""
    decoded = decode_datagram(bytes([62, 0, 3]) * 21_000, received=T0)
    assert decoded == Decoded((), (), (), 0)


def test_problems_are_capped() -> None:
    decoded = decode_datagram(bytes([48, 0, 3]) * 200, received=T0)
    assert len(decoded.problems) == MAX_PROBLEMS + 1
    assert decoded.problems[-1] == f"… and {200 - MAX_PROBLEMS} more problems"


def test_a_datagram_longer_than_udp_allows_is_refused_whole() -> None:
    decoded = decode_datagram(bytes([48, 0, 3]) * 30_000, received=T0)
    assert decoded.records == 0 and decoded.sightings == ()
    assert decoded.problems == (
        "datagram of 90,000 bytes is longer than any UDP datagram (65,535); not read",
    )


def test_a_full_block_of_tiny_records_costs_in_proportion() -> None:
    """A hostile sender's cheapest records (FSPEC + I062/010 only, 3 bytes) are each one
    problem, read once: the answer is bounded by the datagram, not multiplied."""
    body = bytes([0x80, 25, 10]) * 21_000
    decoded = decode_datagram(bytes([62]) + (len(body) + 3).to_bytes(2, "big") + body, received=T0)
    assert decoded.records == 21_000 and decoded.sightings == ()
    assert len(decoded.problems) == MAX_PROBLEMS + 1
    assert decoded.problems[0].endswith("record 1: lacks I062/040, I062/070 (mandatory)")


# --- what a track's status says ------------------------------------------------------------


def test_a_tracks_last_message_ends_it() -> None:
    wire = encode_cat062(
        [SystemTrack(1, state(), ending=True), SystemTrack(2, state(icao24=None), ending=True)],
        sac=25,
        sic=10,
    )
    decoded = decode_datagram(wire, received=T0)
    assert decoded.sightings == () and decoded.problems == ()
    assert decoded.ended == ("4ca7b1", "062-25-10-2")


def test_simulated_tracks_are_not_read() -> None:
    decoded = decode_datagram(block062({"080": (0, 0x40)}), received=T0)  # SIM
    assert decoded.sightings == ()
    assert decoded.problems[0].endswith(
        "track 062-25-10-1234 is simulated (I062/080 SIM): not read"
    )


def test_tentative_and_coasting_tracks_are_read() -> None:
    decoded = decode_datagram(block062({"080": (0x01, 0, 0, 0x40)}), received=T0)  # CNF, CST
    assert len(decoded.sightings) == 1 and decoded.problems == ()


def test_surface_bit_is_on_ground() -> None:
    for on_ground in (True, False):
        wire = encode_cat062([SystemTrack(1, state(on_ground=on_ground))], sac=25, sic=10)
        assert decode_datagram(wire, received=T0).sightings[0].on_ground is on_ground


def test_a_garbled_mode_3a_code_is_no_squawk() -> None:
    (s,) = decode_datagram(block062({"060": (0, 1, 0, 0, 0o7700)}), received=T0).sightings
    assert s.squawk is None
    (s,) = decode_datagram(block062({"060": (0, 0, 0, 0, 0o7700)}), received=T0).sightings
    assert s.squawk == "7700"


# --- impossible records ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"130": 120_000 * 4 // 25}, "I062/130 altitude 120000 ft is impossible"),
        ({"136": 4 * 1200}, "I062/136 altitude 120000 ft is impossible"),
        ({"136": (-2000 // 25) & 0xFFFF}, "I062/136 altitude -2000 ft is impossible"),
        ({"105": (round(95 * 2**25 / 180), 0)}, "I062/105 latitude 95.0000"),
        ({"185": (32767, 0)}, "I062/185 ground speed 15,923 kt is over Mach 3 (1,984 kt)"),
        ({"220": 32767}, "I062/220 vertical rate 204,794 ft/min is over Mach 3"),
        ({"380": {"ID": 0x3F << 42}}, "I062/380 ID callsign holds code 0x3f, outside the ICAO"),
        ({"380": {"ID": 0}}, "I062/380 ID callsign holds code 0x00"),
    ],
)
def test_an_impossible_record_is_a_problem(items: dict[str, Any], message: str) -> None:
    decoded = decode_datagram(block062(items), received=T0)
    assert decoded.sightings == ()
    (problem,) = decoded.problems
    assert problem.startswith("block 1 (CAT062, byte 0), record 1: ")
    assert message in problem


def test_a_record_without_mandatory_items_is_a_problem() -> None:
    record = C062.cv_record.create({"010": 25 << 8 | 10})
    wire = bytes(C062.create([record]).unparse().to_bytes())
    (problem,) = decode_datagram(wire, received=T0).problems
    assert problem.endswith("lacks I062/040, I062/070 (mandatory)")


# --- CAT021 -------------------------------------------------------------------------------


def test_cat021_non_icao_address_keys_by_station_and_address() -> None:
    (s,) = decode_datagram(block021({"040": (3 << 4,)}), received=T0).sightings  # anonymous
    assert (s.key, s.icao24) == ("021-1-2-4ca7b1", None)


@pytest.mark.parametrize(
    ("groups", "what"),
    [
        ((0, 0x10), "simulated (SIM)"),
        ((0, 0x08), "a test target (TST)"),
        ((1,), "a field monitor (RAB)"),
    ],
)
def test_cat021_simulated_test_and_monitor_reports_are_not_read(
    groups: tuple[int, ...], what: str
) -> None:
    decoded = decode_datagram(block021({"040": groups}), received=T0)
    assert decoded.sightings == ()
    assert decoded.problems[0].endswith(f"report 4ca7b1 is {what} (I021/040): not read")


def test_cat021_time_falls_back_to_reception_then_transmission() -> None:
    (s,) = decode_datagram(block021({"071": None, "073": 36001 * 128}), received=T0).sightings
    assert s.time == T0 + timedelta(seconds=1)
    (s,) = decode_datagram(block021({"071": None, "077": 36002 * 128}), received=T0).sightings
    assert s.time == T0 + timedelta(seconds=2)
    decoded = decode_datagram(block021({"071": None}), received=T0)
    assert decoded.problems[0].endswith("report 4ca7b1 lacks a time (I021/071, /073 or /077)")


def test_cat021_low_resolution_position_and_ranges() -> None:
    lat_raw, lon_raw = round(25.1 * 2**23 / 180), round(21.6 * 2**23 / 180)
    items = {
        "130": (lat_raw, lon_raw),  # I021/130, LSB 180/2**23 deg, by hand
        "155": (("RE", 1), ("BVR", 0)),  # vertical rate beyond its range: unknown
        "040": (0, 0x20),  # GBS
    }
    (s,) = decode_datagram(block021(items), received=T0).sightings
    assert s.lat == lat_raw * 180 / 2**23 and s.lon == lon_raw * 180 / 2**23
    assert s.vs_fpm is None and s.on_ground is True
    decoded = decode_datagram(block021({"160": (("RE", 1), ("GS", 0), ("TA", 0))}), received=T0)
    assert "I021/160 ground speed exceeds its range" in decoded.problems[0]


# --- the encoders refuse what they cannot write ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"callsign": "ab-c"}, "callsign"),
        ({"callsign": "ABCDEFGHI"}, "callsign"),
        ({"alt_ft": 150_000.0}, "alt_ft"),
        ({"gs_kt": MACH3_KT * 2}, "gs_kt"),
        ({"vs_fpm": 1e6}, "vs_fpm"),
        ({"squawk": "7800"}, "squawk"),
        ({"icao24": "XYZ"}, "icao24"),
        ({"lat": 91.0}, "lat"),
        ({"lat": float("nan")}, "lat"),
        ({"time": datetime(2026, 9, 20, 10, 0)}, "time"),
    ],
)
def test_encoders_refuse_what_would_wrap_or_vanish(fields: dict[str, Any], field: str) -> None:
    tracks = [SystemTrack(1, state("ok")), SystemTrack(2, state("bad", **fields))]
    with pytest.raises(TrackError) as caught:
        encode_cat062(tracks, sac=25, sic=10)
    assert [(i.feature, i.field) for i in caught.value.issues] == [("bad", field)]
    with pytest.raises(TrackError) as caught:
        encode_cat021([t.state for t in tracks], sac=1, sic=2)
    assert ("bad", field) in [(i.feature, i.field) for i in caught.value.issues]


def test_encoders_refuse_a_track_number_sac_or_block_out_of_range() -> None:
    with pytest.raises(TrackError, match="track number 65536"):
        encode_cat062([SystemTrack(65_536, state())], sac=25, sic=10)
    with pytest.raises(TrackError, match="SAC and SIC"):
        encode_cat062([], sac=256, sic=0)
    with pytest.raises(TrackError, match="an ICAO address"):
        encode_cat021([state(icao24=None)], sac=1, sic=2)
    many = [SystemTrack(n, state()) for n in range(1700)]
    with pytest.raises(TrackError, match="over a data block's 65,535"):
        encode_cat062(many, sac=25, sic=10)
