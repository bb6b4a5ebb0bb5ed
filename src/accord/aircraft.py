"""Who an aircraft is, as its transponder and its flight plan say it: the ICAO 24-bit
address (``icao24``), the callsign and the Mode 3/A code (``squawk``). One rule for every
reader of them — track reports (:mod:`accord.airspace.tracks`), flight plans
(:mod:`accord.world`) and the sensor feeds (:mod:`accord.feeds`) — so that an address one
accepts another never refuses.

>>> normal_identity("icao24", " 4CA7B1 "), normal_identity("callsign", "blu12"), normal_identity(
...     "squawk", "7800")
('4ca7b1', 'BLU12', None)
>>> identity_problem("squawk")
'is four octal digits (a Mode 3/A code)'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "EMERGENCY_SQUAWKS",
    "IDENTITIES",
    "identity_problem",
    "normal_identity",
    "valid_icao24",
    "valid_squawk",
]

EMERGENCY_SQUAWKS = {"7500": "unlawful interference", "7600": "radio failure", "7700": "emergency"}
"""The Mode 3/A codes that declare an emergency (ICAO Doc 8168, Vol. III, §1.1.5)."""


@dataclass(frozen=True, slots=True)
class _Rule:
    normal: Callable[[str], str]
    pattern: re.Pattern[str]
    problem: str


_ADDRESS = "is six hexadecimal digits, not all zero"
_RULES = {
    "icao24": _Rule(str.lower, re.compile(r"[0-9a-f]{6}"), _ADDRESS),
    "callsign": _Rule(str.upper, re.compile(r"[A-Z0-9]{1,8}"), "is 1 to 8 letters and digits"),
    "squawk": _Rule(str, re.compile(r"[0-7]{4}"), "is four octal digits (a Mode 3/A code)"),
}
IDENTITIES = tuple(_RULES)
"""The names of an aircraft's identities: ``icao24``, ``callsign``, ``squawk``."""


def normal_identity(name: str, text: str) -> str | None:
    """``text`` as the identity ``name`` is kept (stripped; an address lowercase, a callsign
    uppercase), or ``None`` when it is not one (an all-zero address is none)."""
    rule = _RULES[name]
    value = rule.normal(text.strip())
    if rule.pattern.fullmatch(value) is None or value == "000000":
        return None
    return value


def identity_problem(name: str) -> str:
    """What an identity ``name`` must be, as an issue's message says it."""
    return _RULES[name].problem


def valid_icao24(text: str) -> bool:
    """Whether ``text`` is an ICAO 24-bit aircraft address as Accord keeps it: six lowercase
    hexadecimal digits, not all zero.

    >>> valid_icao24("4ca7b1"), valid_icao24("4CA7B1"), valid_icao24("000000")
    (True, False, False)
    """
    return normal_identity("icao24", text) == text


def valid_squawk(text: str) -> bool:
    """Whether ``text`` is a Mode 3/A code: four octal digits.

    >>> valid_squawk("7700"), valid_squawk("7800")
    (True, False)
    """
    return normal_identity("squawk", text) == text
