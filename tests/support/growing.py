"""A center's log grown to a size, by turns of the members (the tiles' and monitor's tests)."""

from __future__ import annotations

from typing import Any

from accord.center.runtime import Center
from support.jig import NOW


def grow(center: Center, size: int) -> None:
    """Append entries by turns of the members until the log holds ``size``."""
    authors = ["blue", "red", "hnc", "observers"]
    with center.writing() as unit:
        start = unit.ledger.log.size
        items: list[tuple[Any, str]] = [
            ({"kind": "test.event", "n": i}, authors[i % 4]) for i in range(start, size)
        ]
        unit.ledger.append_many(items, at=NOW)
