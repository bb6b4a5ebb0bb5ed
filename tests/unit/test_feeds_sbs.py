"""BaseStation lines, the joiner and the aircraft registry: random whole states written as a
receiver writes them (identification, position and velocity in separate messages, in any
order) come back whole from the joiner; malformed lines are refused with the reason; the
registry names lines and fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.feeds.join import Joiner
from accord.feeds.registry import parse_registry
from accord.feeds.sbs import CLOCK_TOLERANCE, SbsError, parse_line
from accord.feeds.sighting import Sighting

AT = datetime(2026, 9, 20, 10, 0, 0, tzinfo=UTC)
STAMP = "2026/09/20,10:00:00.250"


def _msg(kind: int, hex_ident: str, **f: str) -> str:
    fields = [""] * 22
    fields[:10] = ["MSG", str(kind), "1", "1", hex_ident, "1", *STAMP.split(","), *STAMP.split(",")]
    for k, name in enumerate(
        (
            "callsign",
            "alt",
            "gs",
            "track",
            "lat",
            "lon",
            "vr",
            "squawk",
            "alert",
            "emerg",
            "spi",
            "gnd",
        ),
        start=10,
    ):
        fields[k] = f.get(name, "")
    return ",".join(fields) + "\r\n"


states = st.fixed_dictionaries(
    {
        "icao": st.integers(1, 2**24 - 1).map(lambda n: f"{n:06X}"),
        "callsign": st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8),
        "alt": st.integers(-1500, 60000),
        "gs": st.integers(0, 1200),
        "track": st.integers(0, 359),
        "lat": st.floats(-89.9, 89.9).map(lambda v: round(v, 6)),
        "lon": st.floats(-179.9, 179.9).map(lambda v: round(v, 6)),
        "vr": st.integers(-6000, 6000),
        "squawk": st.text("01234567", min_size=4, max_size=4),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(states, min_size=1, max_size=8, unique_by=lambda s: s["icao"]), st.randoms())
def test_partial_messages_join_into_whole_states(aircraft: list[dict], rnd) -> None:
    lines = []
    for a in aircraft:
        lines += [
            _msg(1, a["icao"], callsign=a["callsign"]),
            _msg(3, a["icao"], alt=str(a["alt"]), lat=str(a["lat"]), lon=str(a["lon"]), gnd="0"),
            _msg(4, a["icao"], gs=str(a["gs"]), track=str(a["track"]), vr=str(a["vr"])),
            _msg(6, a["icao"], alt=str(a["alt"]), squawk=a["squawk"]),
        ]
    rnd.shuffle(lines)
    joiner = Joiner()
    for line in lines:
        parsed = parse_line(line, received=AT)
        assert parsed is not None
        joiner.add(parsed[0])
    got = {s.key: s for s in joiner.take()}
    assert len(got) == len(aircraft)
    for a in aircraft:
        s = got[a["icao"].lower()]
        assert (s.icao24, s.callsign, s.squawk) == (a["icao"].lower(), a["callsign"], a["squawk"])
        assert (s.lat, s.lon, s.alt_ft) == (a["lat"], a["lon"], a["alt"])
        assert (s.gs_kt, s.track_deg, s.vs_fpm) == (a["gs"], a["track"], a["vr"])
        assert s.time == AT + timedelta(milliseconds=250)
    assert joiner.take() == []  # nothing changed since


def test_a_state_is_handed_out_only_when_whole_and_latest_wins() -> None:
    joiner = Joiner()
    for line in (
        _msg(3, "4CA7B1", alt="30000", lat="25.0", lon="21.0"),
        _msg(1, "4CA7B1", callsign="BLU1"),
    ):
        joiner.add(parse_line(line, received=AT)[0])  # type: ignore[index]
    assert joiner.take() == []  # no velocity yet
    joiner.add(parse_line(_msg(4, "4CA7B1", gs="400", track="90"), received=AT)[0])  # type: ignore[index]
    (whole,) = joiner.take()
    assert whole.vs_fpm == 0.0  # no vertical rate heard: level
    assert joiner.forget(AT + timedelta(seconds=61)) == 1 and joiner.states == {}


def test_a_message_time_far_from_reception_is_not_believed() -> None:
    received = AT + CLOCK_TOLERANCE + timedelta(seconds=1)
    sighting, believed = parse_line(_msg(1, "4CA7B1", callsign="X"), received=received)  # type: ignore[misc]
    assert not believed and sighting.time == received


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("MSG,3,1,1,4CA7B1\r\n", "fields"),
        (_msg(9, "4CA7B1"), "transmission type"),
        (_msg(3, "4CA7BZ"), "hex ident"),
        (_msg(3, "000000"), "hex ident"),
        (_msg(3, "4CA7B1", lat="95.0", lon="21.0"), "latitude"),
        (_msg(3, "4CA7B1", lat="25.0"), "both latitude and longitude"),
        (_msg(3, "4CA7B1", alt="nan"), "altitude"),
        (_msg(6, "4CA7B1", squawk="7800"), "squawk"),
        (_msg(1, "4CA7B1", callsign="BAD-ONE"), "callsign"),
        ("MSG," + "x" * 600 + "\r\n", "characters"),
        ("XYZ,1,2\r\n", "message type"),
        ("MSG,3\x00,1\r\n", "control"),
    ],
)
def test_malformed_lines_are_refused_with_the_reason(line: str, reason: str) -> None:
    with pytest.raises(SbsError, match=reason):
        parse_line(line, received=AT)


@pytest.mark.parametrize(
    "line", ["\r\n", "", "STA,,5,179,400AE7,10103,2026/09/20,10:00:00.000\r\n"]
)
def test_heartbeats_and_other_message_types_carry_no_aircraft(line: str) -> None:
    assert parse_line(line, received=AT) is None


def test_the_registry_names_the_line_and_field_of_every_problem() -> None:
    with pytest.raises(InputError) as caught:
        parse_registry(
            "icao24,operator,party,mission\n4ca7b1,blue,blue,transport\n4CA7B1,red,,x\n"
            "zzzzzz,,,\n123456,unknown,,x\n"
        )
    found = {(i.line, i.field) for i in caught.value.issues}
    assert found == {(3, "icao24"), (4, "icao24"), (4, "operator"), (4, "mission"), (5, "operator")}
    with pytest.raises(InputError, match="header"):
        parse_registry("hex,who\n")


def _strptime(text: str) -> datetime | None:
    """The oracle: what the module read with ``strptime`` alone before its fast path."""
    for form in ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S"):
        try:
            return datetime.strptime(text, form)
        except ValueError:
            pass
    return None


_digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
_odd = st.sampled_from(["", "0", "7", "001", "1234567", "99", "60", "61", "٣٣", " 1", "-1"])


@settings(max_examples=400, deadline=None)
@given(
    year=st.sampled_from(["2026", "1999", "0000", "0001", "9999", "202", "20261"]),
    month=st.one_of(_digits, _odd),
    day=st.one_of(_digits, _odd),
    hour=st.one_of(_digits, _odd),
    minute=st.one_of(_digits, _odd),
    second=st.one_of(_digits, _odd),
    fraction=st.one_of(st.none(), st.text("0123456789", min_size=0, max_size=8), _odd),
)
def test_message_times_read_as_strptime_reads_them(
    year: str, month: str, day: str, hour: str, minute: str, second: str, fraction: str | None
) -> None:
    """The fast reading of a message time gives what ``strptime`` gives, valid or not (days
    past the month's end, hour 24, second 60, missing or long fractions, non-ASCII digits)."""
    from accord.feeds.sbs import _stamp

    text = f"{year}/{month}/{day} {hour}:{minute}:{second}"
    if fraction is not None:
        text += f".{fraction}"
    assert _stamp(text) == _strptime(text)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_every_valid_instant_reads_back(at: datetime) -> None:
    from accord.feeds.sbs import _stamp

    text = at.strftime("%Y/%m/%d %H:%M:%S.%f")
    assert _stamp(text) == at == _strptime(text)


def _whole(key: str, at: datetime) -> list[Sighting]:
    return [
        Sighting(key, "sbs", at, lat=25.0, lon=21.0, alt_ft=30000.0),
        Sighting(key, "sbs", at, gs_kt=400.0, track_deg=90.0),
    ]


@settings(max_examples=50, deadline=None)
@given(aircraft=st.integers(1, 40), taken=st.integers(1, 15), rounds=st.integers(1, 12))
def test_a_center_taking_part_of_each_round_still_gets_every_aircraft_in_turn(
    aircraft: int, taken: int, rounds: int
) -> None:
    """Every aircraft is heard every round; the center takes only the first ``taken`` of
    each round and the rest are handed back (as the poster does after a 429): no aircraft
    waits more than ceil(aircraft / taken) rounds, and the order is the waiting time's."""
    joiner = Joiner()
    last: dict[str, int] = {}
    longest = 0
    for r in range(rounds + aircraft):
        for n in range(aircraft):
            for s in _whole(f"{n:06x}", AT + timedelta(seconds=r)):
                joiner.add(s)
        out = [s.key for s in joiner.take()]
        assert sorted(out) == sorted(f"{n:06x}" for n in range(aircraft))  # latest wins: once
        for key in out[:taken]:
            longest = max(longest, r - last.get(key, -1))
            last[key] = r
        joiner.again(out[taken:])
    assert longest <= -(-aircraft // taken)
    assert len(last) == aircraft
