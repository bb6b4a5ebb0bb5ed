"""EUROCONTROL ASTERIX, as a radar data processor or an ADS-B ground station sends it over
UDP, turned into :class:`~accord.feeds.sighting.Sighting` values (and back, to exercise a
listener). Pure: no sockets; the feed process (:mod:`accord.feeds.run`) receives the
datagrams and hands each one to :func:`decode_datagram`.

Two categories are read, each in one pinned edition, the newest the library
(``libasterix``, pure Python, MIT) ships:

* **CAT062 edition 1.21** (:data:`CAT062_EDITION`): SDPS system tracks;
* **CAT021 edition 2.7** (:data:`CAT021_EDITION`): ADS-B target reports.

The library parses the records (FSPEC, items, extensions, compounds); its integer items are
raw counts of each item's least significant bit, so this module scales them itself, item by
item, as the specification states (each LSB is cited where it is used, and the tests hold the
constants to the library's own). What the library does not do, this module does:

* a datagram is cut into data blocks here (CAT: 1 byte, LEN: 2 bytes big-endian, LEN bounded
  by what is left), not by ``RawDatablock.parse``, which recurses once per block;
* every library answer is checked (it returns a ``ValueError`` rather than raising one), and
  anything it raises all the same is caught: a bad block or record becomes a problem with a
  reason, never an exception, and decoding goes on with the next block;
* a block whose records do not all parse is dropped whole: records have no length of their
  own, so once one fails, those before it may have been read out of step too;
* callsigns are decoded from their 6-bit ICAO characters here, so that a character outside
  the set is a problem rather than a character that silently vanishes;
* a decoded state is checked as :mod:`accord.airspace.tracks` checks a report (latitude,
  longitude, altitude, ground speed, vertical rate): an impossible record is a problem, not a
  sighting.

What a track's status says (I062/080, I021/040):

* a **simulated** track or report (SIM), a **test target** (TST) or a **field monitor**
  (RAB: a fixed transponder, not an aircraft) is not read, and is listed as a problem;
* a track's **last message** (I062/080 TSE) yields no sighting: its key is listed in
  :attr:`Decoded.ended`, so the feed can forget it (the center retires a track that stops
  reporting);
* **tentative** (CNF) and **coasting** (CST) tracks are read: the tracker's best estimate of
  an aircraft that is there is worth more to deconfliction than a gap;
* a **garbled** Mode 3/A code (I062/060 G) is not read as a squawk (the rest of the record is).

A sighting's key is its ICAO 24-bit address when the record gives one (I062/380 ADR; I021/080
when I021/040 ATP says it is an ICAO address), else the track's identity:
``"062-SAC-SIC-TRACKNUMBER"`` for CAT062 and ``"021-SAC-SIC-ADDRESS"`` (hexadecimal) for an
ADS-B report with a non-ICAO address. A time of day (seconds since midnight UTC) is put on the
day of ``received`` that brings it within 12 hours of it.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
>>> state = Sighting(key="4ca7b1", source="cat062", time=t, icao24="4ca7b1", callsign="BLU01",
...                  lat=25.0, lon=21.5, alt_ft=30000.0, gs_kt=420.0, track_deg=90.0)
>>> data = encode_cat062([SystemTrack(7, state)], sac=25, sic=10)
>>> decoded = decode_datagram(data, received=t)
>>> [(s.key, s.callsign, s.alt_ft, round(s.gs_kt), round(s.track_deg)) for s in decoded.sightings]
[('4ca7b1', 'BLU01', 30000.0, 420, 90)]
>>> decode_datagram(b"\\x30\\x00\\x03", received=t).problems
('block 1 (byte 0): CAT048 is not read (this feed reads CAT062 and CAT021)',)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asterix.base import Bits, ParsingMode
from asterix.generated import Cat_021_2_7, Cat_062_1_21

from accord.aircraft import valid_icao24, valid_squawk
from accord.airspace.tracks import ALT_MAX_FT, ALT_MIN_FT, MACH3_FPM, MACH3_KT
from accord.errors import Issue, TrackError
from accord.feeds.sighting import Sighting
from accord.units import KT

__all__ = [
    "CAT021_EDITION",
    "CAT062_EDITION",
    "MAX_DATAGRAM_BYTES",
    "MAX_PROBLEMS",
    "Decoded",
    "SystemTrack",
    "decode_datagram",
    "encode_cat021",
    "encode_cat062",
]

CAT062_EDITION = "1.21"
"""The CAT062 (SDPS track messages) edition read and written: libasterix ``Cat_062_1_21``."""

CAT021_EDITION = "2.7"
"""The CAT021 (ADS-B target reports) edition read and written: libasterix ``Cat_021_2_7``."""

MAX_DATAGRAM_BYTES = 65_535
"""The longest datagram read: no UDP datagram is longer; a longer input is refused whole."""

MAX_PROBLEMS = 64
"""At most this many problems are listed per datagram; the rest are counted in one line."""

# typed loosely: items are built from dictionaries made at run time
_CAT062: Any = Cat_062_1_21
_CAT021: Any = Cat_021_2_7
_SPEC: dict[int, Any] = {62: _CAT062, 21: _CAT021}
_DAY_S = 86_400
_HALF_DAY = timedelta(hours=12)
_BLOCK_MAX = 0xFFFF  # LEN is 2 bytes

# --- the items' least significant bits, as the specifications state them -------------------
_LSB_TIME_S = 1 / 128  # I062/070, I021/071, /073, /077: time of day, LSB 1/128 s
_LSB_062_LATLON_DEG = 180 / 2**25  # I062/105: WGS-84 lat/lon, 32 bits signed, LSB 180/2**25 deg
_LSB_021_LATLON_HI_DEG = 180 / 2**30  # I021/131: 32 bits signed, LSB 180/2**30 deg
_LSB_021_LATLON_DEG = 180 / 2**23  # I021/130: 24 bits signed, LSB 180/2**23 deg
_LSB_VXY_MS = 0.25  # I062/185: Vx, Vy, 16 bits signed, LSB 0.25 m/s
_LSB_FL = 0.25  # I062/136, I021/145: flight level, 16 bits signed, LSB 1/4 FL
_LSB_GEOM_FT = 6.25  # I062/130: geometric altitude, 16 bits signed, LSB 6.25 ft
_LSB_RATE_FPM = 6.25  # I062/220 (16 bits), I021/155 BVR (15 bits): signed, LSB 6.25 ft/min
_LSB_021_GS_NMS = 2**-14  # I021/160 GS: 15 bits unsigned, LSB 2**-14 NM/s
_LSB_021_TA_DEG = 360 / 2**16  # I021/160 TA: 16 bits unsigned, LSB 360/2**16 deg

# the 6-bit character set of an aircraft identification (ICAO Annex 10 Vol. IV, Mode S)
_ICAO_CHARS = {**{i: chr(64 + i) for i in range(1, 27)}, 32: " "}
_ICAO_CHARS.update({48 + d: str(d) for d in range(10)})
_ICAO_CODES = {c: i for i, c in _ICAO_CHARS.items()}


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one datagram said.

    ``sightings`` in the order their records came; ``ended`` the keys of tracks whose last
    message this was (I062/080 TSE); ``problems`` one line per block or record not read, each
    with its reason (at most :data:`MAX_PROBLEMS`, then a count); ``records`` how many records
    the datagram's readable blocks held.
    """

    sightings: tuple[Sighting, ...]
    ended: tuple[str, ...]
    problems: tuple[str, ...]
    records: int


@dataclass(frozen=True, slots=True)
class SystemTrack:
    """A CAT062 system track to encode: its track number (I062/040, 0 to 65,535), its state,
    and whether this is its last message (I062/080 TSE)."""

    number: int
    state: Sighting
    ending: bool = False


class _Skip(Exception):
    """A record not read: the message says why."""


_Reader = Callable[[Any, datetime], "tuple[Sighting | None, str | None]"]
"""Reads one parsed record: a sighting and/or the key of a track that ends; raises _Skip."""


class _Problems:
    """The problems of one datagram, capped at :data:`MAX_PROBLEMS`."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.more = 0

    def add(self, line: str) -> None:
        if len(self.lines) < MAX_PROBLEMS:
            self.lines.append(line)
        else:
            self.more += 1

    def merge(self, other: _Problems) -> None:
        for line in other.lines:
            self.add(line)
        self.more += other.more

    def result(self) -> tuple[str, ...]:
        if self.more:
            return (*self.lines, f"… and {self.more} more problems")
        return tuple(self.lines)


# --- decoding ---------------------------------------------------------------------------------


def decode_datagram(data: bytes, *, received: datetime) -> Decoded:
    """Decode one datagram of ASTERIX data blocks into sightings, never raising on its bytes.

    ``received`` (timezone-aware) is when it arrived: each record's time of day is put on the
    day that brings it within 12 hours of ``received``. A naive ``received`` is the caller's
    mistake and raises ``ValueError``.

    >>> from datetime import UTC, datetime
    >>> decode_datagram(b"\\x3e\\x00\\x09\\x00", received=datetime.now(UTC)).problems
    ('block 1 (byte 0): LEN 9 runs past the end of the datagram (4 bytes left)',)
    """
    if received.tzinfo is None or received.utcoffset() is None:
        raise ValueError("received has no UTC offset")
    received = received.astimezone(UTC)
    problems = _Problems()
    sightings: list[Sighting] = []
    ended: list[str] = []
    records = 0
    data = bytes(data)
    if len(data) > MAX_DATAGRAM_BYTES:
        problems.add(
            f"datagram of {len(data):,} bytes is longer than any UDP datagram "
            f"({MAX_DATAGRAM_BYTES:,}); not read"
        )
        return Decoded((), (), problems.result(), 0)
    offset = 0
    number = 0
    while offset < len(data):
        number += 1
        where = f"block {number} (byte {offset})"
        left = len(data) - offset
        if left < 3:
            problems.add(f"{where}: {left} bytes left, a data block's header needs 3")
            break
        cat = data[offset]
        length = int.from_bytes(data[offset + 1 : offset + 3], "big")
        if length < 3:
            problems.add(f"{where}: LEN {length} is shorter than the block's 3-byte header")
            break
        if length > left:
            problems.add(
                f"{where}: LEN {length} runs past the end of the datagram ({left} bytes left)"
            )
            break
        body = data[offset + 3 : offset + length]
        offset += length
        spec = _SPEC.get(cat)
        if spec is None:
            problems.add(f"{where}: CAT{cat:03d} is not read (this feed reads CAT062 and CAT021)")
            continue
        where = f"block {number} (CAT{cat:03d}, byte {offset - length})"
        read = _read_062 if cat == 62 else _read_021
        block = _decode_block(spec, read, body, received, where)
        if isinstance(block, str):
            problems.add(f"{where}: {block}; the block is dropped")
            continue
        records += block.records
        sightings.extend(block.sightings)
        ended.extend(block.ended)
        problems.merge(block.problems)
    return Decoded(tuple(sightings), tuple(ended), problems.result(), records)


@dataclass(slots=True)
class _Block:
    """What one block's records said, kept aside until the whole block has parsed."""

    records: int = 0
    sightings: list[Sighting] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    problems: _Problems = field(default_factory=lambda: _Problems())


def _decode_block(
    spec: Any, read: _Reader, body: bytes, received: datetime, where: str
) -> _Block | str:
    """One block's records, each read as soon as it is parsed (a block may hold thousands:
    the library's record objects are not kept), or why a record does not parse."""
    block = _Block()
    bits = Bits.from_bytes(body)
    while len(bits):
        index = block.records + 1
        try:
            result = spec.cv_record.parse(ParsingMode.StrictParsing, bits)
        except Exception as error:  # a library fault on odd input is a problem too
            return f"record {index} cannot be parsed ({error!r})"
        if isinstance(result, ValueError):
            return f"record {index} does not parse ({result})"
        record, bits = result
        block.records = index
        try:
            sighting, end = read(record, received)
        except _Skip as skip:
            block.problems.add(f"{where}, record {index}: {skip}")
            continue
        except Exception as error:
            block.problems.add(f"{where}, record {index}: cannot be read ({error!r})")
            continue
        if end is not None:
            block.ended.append(end)
        if sighting is not None:
            block.sightings.append(sighting)
    return block


def _signed(raw: int, bits: int) -> int:
    """A two's complement ``bits``-bit field's value."""
    return raw - (1 << bits) if raw >> (bits - 1) else raw


def _sub(item: Any, name: str) -> int | None:
    """The raw value of a subitem of a group, extended or compound item; ``None`` if absent
    (an extension or compound subfield not sent)."""
    sub = item.variation.get_item(name)
    return None if sub is None else int(sub.as_uint())


def _time(raw: int, received: datetime, item: str) -> datetime:
    """A time of day (LSB 1/128 s) on the day that brings it within 12 h of ``received``."""
    seconds = raw * _LSB_TIME_S
    if seconds >= _DAY_S:
        raise _Skip(f"{item} time of day {seconds:g} s is past midnight (86,400 s)")
    midnight = received.replace(hour=0, minute=0, second=0, microsecond=0)
    time = midnight + timedelta(seconds=seconds)
    if time - received > _HALF_DAY:
        time -= timedelta(days=1)
    elif received - time > _HALF_DAY:
        time += timedelta(days=1)
    return time


def _callsign(raw: int, item: str) -> str | None:
    """Eight 6-bit ICAO characters, spaces stripped; ``None`` when all are spaces."""
    chars = []
    for shift in range(42, -1, -6):
        code = (raw >> shift) & 0x3F
        char = _ICAO_CHARS.get(code)
        if char is None:
            raise _Skip(f"{item} callsign holds code {code:#04x}, outside the ICAO character set")
        chars.append(char)
    text = "".join(chars).strip()
    return text or None


def _squawk(raw: int) -> str:
    """A Mode 3/A code's 12 bits as four octal digits."""
    return f"{raw & 0o7777:04o}"


def _check(key: str, sighting: Sighting, items: dict[str, str]) -> Sighting:
    """The sighting, if its state is possible (the checks of :mod:`accord.airspace.tracks`)."""
    bad: list[str] = []
    if sighting.lat is not None and not -90.0 <= sighting.lat <= 90.0:
        bad.append(f"{items['pos']} latitude {sighting.lat:.6f} is outside ±90")
    if sighting.lon is not None and not -180.0 <= sighting.lon <= 180.0:
        bad.append(f"{items['pos']} longitude {sighting.lon:.6f} is outside ±180")
    if sighting.alt_ft is not None and not ALT_MIN_FT <= sighting.alt_ft <= ALT_MAX_FT:
        bad.append(
            f"{items['alt']} altitude {sighting.alt_ft:g} ft is impossible "
            f"(from {ALT_MIN_FT:,.0f} to {ALT_MAX_FT:,.0f} ft)"
        )
    if sighting.gs_kt is not None and sighting.gs_kt > MACH3_KT:
        bad.append(
            f"{items['gs']} ground speed {sighting.gs_kt:,.0f} kt is over Mach 3 "
            f"({MACH3_KT:,.0f} kt)"
        )
    if sighting.vs_fpm is not None and abs(sighting.vs_fpm) > MACH3_FPM:
        bad.append(f"{items['vs']} vertical rate {sighting.vs_fpm:,.0f} ft/min is over Mach 3")
    if bad:
        raise _Skip(f"track {key}: " + "; ".join(bad))
    return sighting


_ITEMS_062 = {"pos": "I062/105", "alt": "I062/136", "gs": "I062/185", "vs": "I062/220"}
_ITEMS_062_GEOM = {**_ITEMS_062, "alt": "I062/130"}
_ITEMS_021 = {"pos": "I021/131", "alt": "I021/145", "gs": "I021/160", "vs": "I021/155"}
_ITEMS_021_LOW = {**_ITEMS_021, "pos": "I021/130"}


def _read_062(record: Any, received: datetime) -> tuple[Sighting | None, str | None]:
    """One CAT062 record: a sighting, or the key of a track that ends."""
    i010 = record.get_item("010")
    i040 = record.get_item("040")
    i070 = record.get_item("070")
    missing = [name for name, item in (("010", i010), ("040", i040), ("070", i070)) if item is None]
    if missing:
        raise _Skip("lacks " + ", ".join(f"I062/{name}" for name in missing) + " (mandatory)")
    sac, sic = _sub(i010, "SAC"), _sub(i010, "SIC")  # I062/010: SAC, SIC, 8 bits each
    number = int(i040.as_uint())  # I062/040: track number, 16 bits
    track_key = f"062-{sac}-{sic}-{number}"
    time = _time(int(i070.as_uint()), received, "I062/070")

    # I062/080 track status: SIM, TSE in the first extension, SFC in the fifth
    i080 = record.get_item("080")
    sim = tse = sfc = None
    if i080 is not None:
        sim, tse, sfc = _sub(i080, "SIM"), _sub(i080, "TSE"), _sub(i080, "SFC")
    if sim:
        raise _Skip(f"track {track_key} is simulated (I062/080 SIM): not read")

    icao24 = callsign = None
    i380 = record.get_item("380")
    if i380 is not None:
        adr = _sub(i380, "ADR")  # I062/380 ADR: 24-bit target address
        if adr is not None and valid_icao24(f"{adr:06x}"):
            icao24 = f"{adr:06x}"
        ident = _sub(i380, "ID")  # I062/380 ID: 8 characters of 6 bits
        if ident is not None:
            callsign = _callsign(ident, "I062/380 ID")
    key = icao24 or track_key
    if tse:
        return None, key

    lat = lon = alt_ft = gs_kt = track_deg = vs_fpm = None
    i105 = record.get_item("105")
    if i105 is not None:  # I062/105: WGS-84 lat/lon, 32 bits signed each, LSB 180/2**25 deg
        lat = _signed(_sub(i105, "LAT") or 0, 32) * _LSB_062_LATLON_DEG
        lon = _signed(_sub(i105, "LON") or 0, 32) * _LSB_062_LATLON_DEG
    i185 = record.get_item("185")
    if i185 is not None:  # I062/185: Vx (east), Vy (north), 16 bits signed, LSB 0.25 m/s
        vx = _signed(_sub(i185, "VX") or 0, 16) * _LSB_VXY_MS
        vy = _signed(_sub(i185, "VY") or 0, 16) * _LSB_VXY_MS
        gs_kt = math.hypot(vx, vy) / KT
        track_deg = math.degrees(math.atan2(vx, vy)) % 360.0
    items = _ITEMS_062
    i136 = record.get_item("136")
    i130 = record.get_item("130")
    if i136 is not None:  # I062/136: measured flight level, 16 bits signed, LSB 1/4 FL
        alt_ft = _signed(int(i136.as_uint()), 16) * _LSB_FL * 100.0
    elif i130 is not None:  # I062/130: geometric altitude, 16 bits signed, LSB 6.25 ft
        alt_ft = _signed(int(i130.as_uint()), 16) * _LSB_GEOM_FT
        items = _ITEMS_062_GEOM
    i220 = record.get_item("220")
    if i220 is not None:  # I062/220: rate of climb/descent, 16 bits signed, LSB 6.25 ft/min
        vs_fpm = _signed(int(i220.as_uint()), 16) * _LSB_RATE_FPM
    squawk = None
    i060 = record.get_item("060")
    if i060 is not None and not _sub(i060, "G"):  # I062/060: G (garbled), MODE3A 12 bits
        squawk = _squawk(_sub(i060, "MODE3A") or 0)
    sighting = Sighting(
        key=key,
        source="cat062",
        time=time,
        icao24=icao24,
        callsign=callsign,
        squawk=squawk,
        lat=lat,
        lon=lon,
        alt_ft=alt_ft,
        gs_kt=gs_kt,
        track_deg=track_deg,
        vs_fpm=vs_fpm,
        on_ground=None if sfc is None else bool(sfc),
    )
    return _check(key, sighting, items), None


def _read_021(record: Any, received: datetime) -> tuple[Sighting | None, str | None]:
    """One CAT021 record: a sighting."""
    i010 = record.get_item("010")
    i040 = record.get_item("040")
    i080 = record.get_item("080")
    missing = [name for name, item in (("010", i010), ("040", i040), ("080", i080)) if item is None]
    if missing:
        raise _Skip("lacks " + ", ".join(f"I021/{name}" for name in missing) + " (mandatory)")
    sac, sic = _sub(i010, "SAC"), _sub(i010, "SIC")  # I021/010: SAC, SIC, 8 bits each
    address = f"{int(i080.as_uint()):06x}"  # I021/080: 24-bit target address
    # I021/040: ATP (address type, 0 = 24-bit ICAO), RAB; GBS, SIM, TST in the first extension
    atp, rab = _sub(i040, "ATP"), _sub(i040, "RAB")
    gbs, sim, tst = _sub(i040, "GBS"), _sub(i040, "SIM"), _sub(i040, "TST")
    icao24 = address if atp == 0 and valid_icao24(address) else None
    key = icao24 or f"021-{sac}-{sic}-{address}"
    if sim or tst or rab:
        what = (
            "simulated (SIM)" if sim else "a test target (TST)" if tst else "a field monitor (RAB)"
        )
        raise _Skip(f"report {key} is {what} (I021/040): not read")
    for name in ("071", "073", "077"):  # time of applicability, of reception, of transmission
        item = record.get_item(name)
        if item is not None:
            time = _time(int(item.as_uint()), received, f"I021/{name}")
            break
    else:
        raise _Skip(f"report {key} lacks a time (I021/071, /073 or /077)")

    lat = lon = alt_ft = gs_kt = track_deg = vs_fpm = None
    items = _ITEMS_021
    i131 = record.get_item("131")
    i130 = record.get_item("130")
    if i131 is not None:  # I021/131: 32 bits signed each, LSB 180/2**30 deg
        lat = _signed(_sub(i131, "LAT") or 0, 32) * _LSB_021_LATLON_HI_DEG
        lon = _signed(_sub(i131, "LON") or 0, 32) * _LSB_021_LATLON_HI_DEG
    elif i130 is not None:  # I021/130: 24 bits signed each, LSB 180/2**23 deg
        lat = _signed(_sub(i130, "LAT") or 0, 24) * _LSB_021_LATLON_DEG
        lon = _signed(_sub(i130, "LON") or 0, 24) * _LSB_021_LATLON_DEG
        items = _ITEMS_021_LOW
    i145 = record.get_item("145")
    if i145 is not None:  # I021/145: flight level, 16 bits signed, LSB 1/4 FL
        alt_ft = _signed(int(i145.as_uint()), 16) * _LSB_FL * 100.0
    i160 = record.get_item("160")
    if i160 is not None:  # I021/160: RE, GS 15 bits (LSB 2**-14 NM/s), TA 16 bits (360/2**16)
        if _sub(i160, "RE"):
            raise _Skip(f"report {key}: I021/160 ground speed exceeds its range (over Mach 3)")
        gs_kt = (_sub(i160, "GS") or 0) * _LSB_021_GS_NMS * 3600.0
        track_deg = (_sub(i160, "TA") or 0) * _LSB_021_TA_DEG
    i155 = record.get_item("155")
    if i155 is not None and not _sub(i155, "RE"):  # I021/155: RE, BVR 15 bits signed, 6.25 fpm
        vs_fpm = _signed(_sub(i155, "BVR") or 0, 15) * _LSB_RATE_FPM
    callsign = None
    i170 = record.get_item("170")
    if i170 is not None:  # I021/170: 8 characters of 6 bits
        callsign = _callsign(int(i170.as_uint()), "I021/170")
    squawk = None
    i070 = record.get_item("070")
    if i070 is not None:  # I021/070: MODE3A, 12 bits
        squawk = _squawk(_sub(i070, "MODE3A") or 0)
    sighting = Sighting(
        key=key,
        source="cat021",
        time=time,
        icao24=icao24,
        callsign=callsign,
        squawk=squawk,
        lat=lat,
        lon=lon,
        alt_ft=alt_ft,
        gs_kt=gs_kt,
        track_deg=track_deg,
        vs_fpm=vs_fpm,
        on_ground=None if gbs is None else bool(gbs),
    )
    return _check(key, sighting, items), None


# --- encoding (to exercise a listener: tests, the benchmark's emitter) -----------------------


class _Issues:
    """An encoder's issues, all collected before anything is written."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, feature: str, field: str, message: str) -> None:
        self.issues.append(Issue(field=field, message=message, feature=feature))

    def raw(self, feature: str, field: str, value: float, lsb: float, bits: int) -> int:
        """``value`` in LSB counts, two's complement in ``bits`` bits; an issue if it does not
        fit (the library would wrap it silently)."""
        count = round(value / lsb)
        if not -(1 << (bits - 1)) <= count < (1 << (bits - 1)):
            self.add(feature, field, f"{value:g} does not fit the item's {bits} bits")
            return 0
        return count & ((1 << bits) - 1)


def _state_issues(issues: _Issues, key: str, s: Sighting) -> None:
    """The checks a decoder makes, made before encoding (nothing impossible is written)."""
    if s.time.tzinfo is None or s.time.utcoffset() is None:
        issues.add(key, "time", "has no UTC offset")
    if (s.lat is None) != (s.lon is None):
        issues.add(key, "lat", "lat and lon come together")
    if s.lat is not None and s.lon is not None:
        if not (math.isfinite(s.lat) and -90.0 <= s.lat <= 90.0):
            issues.add(key, "lat", f"latitude {s.lat:g} is outside ±90")
        if not (math.isfinite(s.lon) and -180.0 <= s.lon <= 180.0):
            issues.add(key, "lon", f"longitude {s.lon:g} is outside ±180")
    if s.alt_ft is not None and not ALT_MIN_FT <= s.alt_ft <= ALT_MAX_FT:
        issues.add(key, "alt_ft", f"altitude {s.alt_ft:g} ft is impossible")
    if (s.gs_kt is None) != (s.track_deg is None):
        issues.add(key, "gs_kt", "gs_kt and track_deg come together")
    if s.gs_kt is not None and not 0.0 <= s.gs_kt <= MACH3_KT:
        issues.add(key, "gs_kt", f"ground speed {s.gs_kt:g} kt is negative or over Mach 3")
    if s.track_deg is not None and not 0.0 <= s.track_deg <= 360.0:
        issues.add(key, "track_deg", f"track {s.track_deg:g}° is outside [0, 360]")
    if s.vs_fpm is not None and not abs(s.vs_fpm) <= MACH3_FPM:
        issues.add(key, "vs_fpm", f"vertical rate {s.vs_fpm:g} ft/min is over Mach 3")
    if s.squawk is not None and not valid_squawk(s.squawk):
        issues.add(key, "squawk", f"{s.squawk!r} is not four octal digits")
    if s.icao24 is not None and not valid_icao24(s.icao24):
        issues.add(key, "icao24", f"{s.icao24!r} is not six lowercase hexadecimal digits")
    if s.callsign is not None and not (
        1 <= len(s.callsign) <= 8 and all(c in _ICAO_CODES for c in s.callsign)
    ):
        issues.add(key, "callsign", f"{s.callsign!r} is not 1 to 8 of A-Z, 0-9 and space")


def _tod_raw(time: datetime) -> int:
    """A time's seconds since midnight UTC in 1/128 s, on a 24-hour wheel."""
    utc = time.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return round((utc - midnight).total_seconds() / _LSB_TIME_S) % (_DAY_S * 128)


def _ident_raw(callsign: str) -> int:
    """Eight 6-bit ICAO characters, left-adjusted, padded with spaces."""
    raw = 0
    for char in callsign.ljust(8):
        raw = (raw << 6) | _ICAO_CODES[char]
    return raw


def _block(spec: Any, records: list[Any], what: str) -> bytes:
    data: bytes = spec.create(records).unparse().to_bytes()
    if len(data) > _BLOCK_MAX:
        raise TrackError(
            what,
            [
                Issue(
                    "records",
                    f"{len(records)} records take {len(data):,} bytes, over a data "
                    f"block's {_BLOCK_MAX:,}: encode fewer at a time",
                )
            ],
        )
    return data


def encode_cat062(
    tracks: Iterable[SystemTrack], *, sac: int, sic: int, geometric: bool = False
) -> bytes:
    """One CAT062 (edition 1.21) data block holding one record per track, made by libasterix.

    For exercising a listener (the tests, the benchmark's emitter), not for a center to send.
    Each record holds I062/010, /040, /070 (the state's time of day), /080 (TSE if ``ending``;
    its surface bit only when ``on_ground`` is known), and, when the state has them, /105, /185
    (from ground speed and track), /136 (or /130 if ``geometric``), /220, /060 and /380 (ADR,
    ID). A record takes about 40 bytes: about 35 fit an Ethernet frame's datagram.

    Raises :class:`~accord.errors.TrackError` naming each track and field that cannot be
    written (out of range, an impossible state, a callsign outside the ICAO characters), and
    writes nothing then.
    """
    issues = _Issues()
    what = f"CAT062 encoder (SAC {sac}, SIC {sic})"
    if not (0 <= sac <= 255 and 0 <= sic <= 255):
        raise TrackError(what, [Issue("sac", "SAC and SIC are 0 to 255")])
    spec = _CAT062
    i010 = spec.cv_record.spec("010").create(sac << 8 | sic)
    statuses: dict[tuple[bool, bool | None], Any] = {}
    records = []
    for track in tracks:
        s = track.state
        key = s.key
        if not 0 <= track.number <= 0xFFFF:
            issues.add(key, "number", f"track number {track.number} is not 0 to 65,535")
        _state_issues(issues, key, s)
        if issues.issues:
            continue
        status = (track.ending, s.on_ground)
        if status not in statuses:
            # I062/080: first part 0; first extension SIM=0, TSE; the fifth extension's SFC
            groups: tuple[int, ...] = (0, 0x20 if track.ending else 0)
            if s.on_ground is not None:
                groups = (*groups, 0, 0, 0, 0x08 if s.on_ground else 0)
            statuses[status] = spec.cv_record.spec("080").create(groups)
        items: dict[str, Any] = {
            "010": i010,
            "040": track.number,
            "070": _tod_raw(s.time),
            "080": statuses[status],
        }
        if s.lat is not None and s.lon is not None:
            items["105"] = (
                ("LAT", issues.raw(key, "lat", s.lat, _LSB_062_LATLON_DEG, 32)),
                ("LON", issues.raw(key, "lon", s.lon, _LSB_062_LATLON_DEG, 32)),
            )
        if s.gs_kt is not None and s.track_deg is not None:
            speed = s.gs_kt * KT
            angle = math.radians(s.track_deg)
            items["185"] = (
                ("VX", issues.raw(key, "gs_kt", speed * math.sin(angle), _LSB_VXY_MS, 16)),
                ("VY", issues.raw(key, "gs_kt", speed * math.cos(angle), _LSB_VXY_MS, 16)),
            )
        if s.alt_ft is not None:
            if geometric:
                items["130"] = issues.raw(key, "alt_ft", s.alt_ft, _LSB_GEOM_FT, 16)
            else:
                items["136"] = issues.raw(key, "alt_ft", s.alt_ft / 100.0, _LSB_FL, 16)
        if s.vs_fpm is not None:
            items["220"] = issues.raw(key, "vs_fpm", s.vs_fpm, _LSB_RATE_FPM, 16)
        if s.squawk is not None:
            items["060"] = (0, 0, 0, 0, ("MODE3A", int(s.squawk, 8)))
        derived: dict[str, int] = {}
        if s.icao24 is not None:
            derived["ADR"] = int(s.icao24, 16)
        if s.callsign is not None:
            derived["ID"] = _ident_raw(s.callsign)
        if derived:
            items["380"] = derived
        records.append(spec.cv_record.create(items))
    if issues.issues:
        raise TrackError(what, issues.issues)
    return _block(spec, records, what)


def encode_cat021(reports: Iterable[Sighting], *, sac: int, sic: int) -> bytes:
    """One CAT021 (edition 2.7) data block holding one ADS-B report per sighting, made by
    libasterix; for exercising a listener, like :func:`encode_cat062`.

    Each report needs an ``icao24`` (I021/080, ATP = ICAO address) and holds I021/010, /040
    (GBS when ``on_ground`` is known), /161 (its place in ``reports``), /071 (the time of
    day), and, when the sighting has them, /131, /145, /155 (a rate beyond its ±102,400 ft/min
    sets RE, and reads back as unknown), /160, /170 and /070. Raises
    :class:`~accord.errors.TrackError` like :func:`encode_cat062`.
    """
    issues = _Issues()
    what = f"CAT021 encoder (SAC {sac}, SIC {sic})"
    if not (0 <= sac <= 255 and 0 <= sic <= 255):
        raise TrackError(what, [Issue("sac", "SAC and SIC are 0 to 255")])
    spec = _CAT021
    i010 = spec.cv_record.spec("010").create(sac << 8 | sic)
    records = []
    for index, s in enumerate(reports):
        key = s.key
        if s.icao24 is None:
            issues.add(key, "icao24", "an ADS-B report needs an ICAO address")
        _state_issues(issues, key, s)
        if issues.issues or s.icao24 is None:
            continue
        # I021/040: ATP 0 (24-bit ICAO address), ARC 0 (25 ft); the extension's GBS if known
        i040 = (0,) if s.on_ground is None else (0, 0x20 if s.on_ground else 0)
        items: dict[str, Any] = {
            "010": i010,
            "040": i040,
            "161": (0, ("TRNUM", index & 0xFFF)),
            "071": _tod_raw(s.time),
            "080": int(s.icao24, 16),
        }
        if s.lat is not None and s.lon is not None:
            items["131"] = (
                ("LAT", issues.raw(key, "lat", s.lat, _LSB_021_LATLON_HI_DEG, 32)),
                ("LON", issues.raw(key, "lon", s.lon, _LSB_021_LATLON_HI_DEG, 32)),
            )
        if s.alt_ft is not None:
            items["145"] = issues.raw(key, "alt_ft", s.alt_ft / 100.0, _LSB_FL, 16)
        if s.vs_fpm is not None:  # beyond 15 bits: RE set, BVR at its limit (as the spec says)
            count = round(s.vs_fpm / _LSB_RATE_FPM)
            over = not -(1 << 14) <= count < (1 << 14)
            count = max(-(1 << 14), min((1 << 14) - 1, count))
            items["155"] = (("RE", int(over)), ("BVR", count & 0x7FFF))
        if s.gs_kt is not None and s.track_deg is not None:
            gs = issues.raw(key, "gs_kt", s.gs_kt / 3600.0, _LSB_021_GS_NMS, 16)  # 15 bits unsigned
            ta = round(s.track_deg / _LSB_021_TA_DEG) % (1 << 16)
            items["160"] = (("RE", 0), ("GS", gs), ("TA", ta))
        if s.callsign is not None:
            items["170"] = _ident_raw(s.callsign)
        if s.squawk is not None:
            items["070"] = (0, ("MODE3A", int(s.squawk, 8)))
        records.append(spec.cv_record.create(items))
    if issues.issues:
        raise TrackError(what, issues.issues)
    return _block(spec, records, what)
