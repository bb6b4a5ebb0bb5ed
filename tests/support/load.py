"""What the end-to-end tests' clients declare under load."""

from __future__ import annotations

from typing import Any


def position(client: int, i: int) -> dict[str, Any]:
    """Client ``client``'s ``i``-th position: a point of its own grid, blue's, shared and
    centre-only in turn."""
    lon = 21.0 + client * 0.05 + (i % 50) * 0.001
    lat = 25.0 + (i // 50) * 0.001
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "position",
            "party": "blue",
            "disclosure": "shared" if i % 2 else "center",
            "valid_from": "2026-09-21T00:00:00Z",
            "valid_to": "2026-09-22T00:00:00Z",
        },
    }
