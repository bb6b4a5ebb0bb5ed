"""Instants and durations: UTC with an explicit offset, ISO 8601, never a guess.

A time without an offset is an error (the brief: "a time without an offset is an error, not a
guess"). Durations are ISO 8601 (``PT1H``, ``P7D``).

>>> parse_instant("2026-05-01T12:00:00+02:00").isoformat()
'2026-05-01T10:00:00+00:00'
>>> parse_duration("PT1H30M").total_seconds()
5400.0
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "format_duration",
    "format_instant",
    "micros",
    "parse_duration",
    "parse_instant",
    "to_epoch",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant that carries an offset; return it in UTC.

    Raises ``ValueError`` with a plain message when the text is no instant or has no offset.
    """
    if not isinstance(text, str):
        raise ValueError("expected an ISO 8601 time string")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        if "T" not in text and " " not in text:
            raise ValueError(f"{text!r} is a date; a time is e.g. {text}T00:00:00Z")
        raise ValueError(f"{text!r} has no UTC offset; write it as e.g. {text}Z or {text}+00:00")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range once converted to UTC") from None


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Years and months have no fixed length and are refused.
    """
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT30M, PT1H or P7D")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def micros(at: datetime) -> int:
    """Microseconds since 1970 of an aware instant (exactly).

    >>> micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_duration(value: timedelta) -> str:
    """Format a non-negative duration as ISO 8601 days, hours, minutes and whole seconds
    (what :func:`parse_duration` reads back).

    >>> format_duration(timedelta(hours=24)), format_duration(timedelta(days=1, minutes=90))
    ('P1D', 'P1DT1H30M')
    >>> format_duration(timedelta(0))
    'PT0S'
    """
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError("a duration is not negative")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return "PT0S" if text == "P" else text


def format_instant(value: datetime) -> str:
    """Format an aware instant as ISO 8601 in UTC with a ``Z`` suffix."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def to_epoch(value: datetime) -> float:
    """Seconds since 1970-01-01T00:00:00Z of an aware instant."""
    return value.timestamp()
