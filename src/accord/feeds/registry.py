"""The aircraft registry a feed is given (``--aircraft FILE``): CSV with the header
``icao24,operator,party,mission``, one aircraft per line, saying whose an ICAO address is
when no flight plan names it (a non-party operator's airliner, a party's aircraft flying
without a plan). ``party`` is empty for a non-party operator.

An aircraft the registry does not name is posted as operator ``unknown`` (no party, mission
``unknown``): the center matches it to the flight plans in force
(:mod:`accord.center.airspace.identity`) and shows what stays unmatched to every party.

>>> reg = parse_registry("icao24,operator,party,mission\\n4CA7B1,blue,blue,transport\\n")
>>> reg.identity("4ca7b1"), reg.identity("abcdef")
(('blue', 'blue', 'transport'), ('unknown', None, 'unknown'))
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from accord.agreement import UNKNOWN
from accord.aircraft import valid_icao24
from accord.errors import InputError, Issue

__all__ = ["HEADER", "MAX_AIRCRAFT", "Registry", "parse_registry"]

HEADER = ("icao24", "operator", "party", "mission")
MAX_AIRCRAFT = 100_000
"""The most aircraft one registry names."""


@dataclass(frozen=True, slots=True)
class Registry:
    """ICAO address → (operator, party or ``None``, mission)."""

    aircraft: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)

    def identity(self, icao24: str | None) -> tuple[str, str | None, str]:
        """Whose the aircraft is, as the registry says, else ``unknown``."""
        if icao24 is not None and icao24 in self.aircraft:
            return self.aircraft[icao24]
        return (UNKNOWN, None, UNKNOWN)


def _text(value: str, name: str, line: int, issues: list[Issue], *, required: bool) -> str:
    value = value.strip()
    if not value and required:
        issues.append(Issue(name, "is required", line=line))
    elif len(value) > 64 or not value.isprintable():
        issues.append(Issue(name, "is at most 64 printable characters", line=line))
    return value


def parse_registry(text: str, *, source: str = "aircraft registry") -> Registry:
    """The registry of a CSV text; :class:`~accord.errors.InputError` naming the line and
    field of every problem (nothing is loaded then)."""
    reader = csv.reader(io.StringIO(text))
    issues: list[Issue] = []
    header = [h.strip() for h in next(reader, [])]
    if tuple(header) != HEADER:
        raise InputError(source, [Issue("", f"the header is {','.join(HEADER)}", line=1)])
    aircraft: dict[str, tuple[str, str | None, str]] = {}
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            issues.append(Issue("", f"{len(row)} fields where the header has 4", line=line))
            continue
        icao24 = row[0].strip().lower()
        if not valid_icao24(icao24):
            issues.append(Issue("icao24", "is six hexadecimal digits, not all zero", line=line))
        elif icao24 in aircraft:
            issues.append(Issue("icao24", f"{icao24} is named twice", line=line))
        operator = _text(row[1], "operator", line, issues, required=True)
        party = _text(row[2], "party", line, issues, required=False)
        mission = _text(row[3], "mission", line, issues, required=True)
        if operator == UNKNOWN:
            message = f"{UNKNOWN!r} is what the registry leaves out"
            issues.append(Issue("operator", message, line=line))
        aircraft[icao24] = (operator, party or None, mission)
        if len(aircraft) > MAX_AIRCRAFT:
            issues.append(Issue("", f"more than {MAX_AIRCRAFT:,} aircraft", line=line))
            break
        if len(issues) >= 200:
            break
    if issues:
        raise InputError(source, issues)
    return Registry(aircraft)
