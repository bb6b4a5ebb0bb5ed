"""A blue battalion's centre-only position, as the tests declare it to the service."""

from __future__ import annotations

from typing import Any

POSITION: dict[str, Any] = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [21.237, 25.011],
                [21.262, 25.011],
                [21.262, 25.034],
                [21.237, 25.034],
                [21.237, 25.011],
            ]
        ],
    },
    "properties": {
        "kind": "position",
        "name": "Blue 2nd battalion",
        "disclosure": "center",
        "party": "blue",
        "uncertainty_m": 300,
        "valid_from": "2026-09-21T00:00:00Z",
        "valid_to": "2026-09-25T00:00:00Z",
    },
}
