"""Instants and durations: an offset is required, ISO 8601 only, never a guess."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from accord.chrono import format_instant, parse_duration, parse_instant, to_epoch

# --- instants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T12:00:00Z", datetime(2026, 5, 1, 12, 0, tzinfo=UTC)),
        ("2026-05-01T12:00:00+00:00", datetime(2026, 5, 1, 12, 0, tzinfo=UTC)),
        ("2026-05-01T12:00:00+02:00", datetime(2026, 5, 1, 10, 0, tzinfo=UTC)),
        ("2026-05-01T12:00:00-05:30", datetime(2026, 5, 1, 17, 30, tzinfo=UTC)),
        ("2026-05-01T00:30:00+01:00", datetime(2026, 4, 30, 23, 30, tzinfo=UTC)),
        ("2026-05-01T12:00:00.250Z", datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)),
    ],
)
def test_parse_instant_converts_to_utc(text, expected):
    value = parse_instant(text)
    assert value == expected
    assert value.utcoffset() == timedelta(0)
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2026-05-01T12:00:00", "2026-05-01T12:00"],
)
def test_parse_instant_requires_an_offset(text):
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant(text)


def test_a_bare_date_is_not_an_instant_and_the_hint_is_valid():
    with pytest.raises(ValueError, match="is a date") as info:
        parse_instant("2026-05-01")
    hint = str(info.value).rsplit(" ", 1)[-1]
    assert parse_instant(hint).isoformat() == "2026-05-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "yesterday at noon",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-05-01T25:00:00Z",
        "2026-05-01T12:00:00+25:00",
        "1714564800",
    ],
)
def test_parse_instant_rejects_garbage(text):
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_instant(text)


@pytest.mark.parametrize("value", [None, 1714564800, 1.5, b"2026-05-01T12:00:00Z", ["x"]])
def test_parse_instant_rejects_non_strings(value):
    with pytest.raises(ValueError, match="expected an ISO 8601 time string"):
        parse_instant(value)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_parse_instant_out_of_range_is_a_value_error(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_instant(text)


def test_format_instant_round_trips_in_utc():
    value = parse_instant("2026-05-01T12:00:00+02:00")
    assert format_instant(value) == "2026-05-01T10:00:00Z"
    assert parse_instant(format_instant(value)) == value


def test_to_epoch():
    assert to_epoch(parse_instant("1970-01-01T01:00:00+01:00")) == 0.0
    assert to_epoch(parse_instant("1970-01-02T00:00:00Z")) == 86_400.0


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT30M", timedelta(minutes=30)),
        ("P7D", timedelta(days=7)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1W", timedelta(weeks=1)),
        ("PT1H", timedelta(hours=1)),
        ("PT45S", timedelta(seconds=45)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("PT1.5H", timedelta(minutes=90)),
        ("P0D", timedelta(0)),
        ("  PT6H  ", timedelta(hours=6)),
    ],
)
def test_parse_duration_accepts_iso_8601(text, expected):
    assert parse_duration(text) == expected


def test_p1w_equals_p7d():
    assert parse_duration("P1W") == parse_duration("P7D")


@pytest.mark.parametrize(
    "text",
    [
        "P1Y",  # years have no fixed length
        "P1M",  # a month, not a minute: no fixed length
        "P1Y2M",
        "P1MT1H",
        "P",
        "PT",
        "P1DT",  # a T with nothing after it
        "PT5",  # a number without a unit
        "",
        "30",
        "1800",
        "PT-5M",
        "-PT5M",
        "6 hours",
        "1h",
        "PT1H30",
        "PT30M1H",  # units out of order
        "P7DX",
    ],
)
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        parse_duration(text)


@pytest.mark.parametrize("value", [30, 1.5, None, timedelta(hours=1), b"PT1H"])
def test_parse_duration_refuses_non_strings(value):
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        parse_duration(value)


@pytest.mark.parametrize("text", ["P9999999999D", "PT" + "9" * 400 + "H"])
def test_parse_duration_too_long_is_a_value_error(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)
