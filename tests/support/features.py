"""Features of the declared world as the world's tests write them: a valid feature of each kind
(any property or the geometry replaced), a collection of them, the refusal of a collection
and where it points; a star-shaped ring of many vertices."""

from __future__ import annotations

import math
from typing import Any

import pytest

from accord.agreement import Agreement
from accord.errors import WorldError
from accord.world import densified_vertices, parse_world

DROP: Any = object()
"""Pass as a property value to :func:`feature` to leave that property out."""

_GEOMETRY: dict[str, dict[str, Any]] = {
    "protected_site": {"type": "Point", "coordinates": [21.0, 25.0]},
    "movement": {"type": "LineString", "coordinates": [[21.0, 25.0], [21.1, 25.1]]},
    "position": {"type": "Point", "coordinates": [21.0, 25.0]},
    "flight_plan": {
        "type": "LineString",
        "coordinates": [[21.0, 25.0, 5000.0], [21.1, 25.1, 5000.0]],
    },
    "operation": {"type": "Point", "coordinates": [21.0, 25.0]},
}


_PROPS: dict[str, dict[str, Any]] = {
    "protected_site": {"declared_by": "hnc", "category": "hospital"},
    "movement": {
        "declared_by": "hnc",
        "valid_from": "2026-09-20T05:00:00Z",
        "valid_to": "2026-09-20T15:00:00Z",
    },
    "position": {
        "declared_by": "blue",
        "party": "blue",
        "valid_from": "2026-09-20T05:00:00Z",
        "valid_to": "2026-09-20T15:00:00Z",
    },
    "flight_plan": {
        "declared_by": "blue",
        "operator": "blue",
        "party": "blue",
        "mission": "reconnaissance",
        "times": ["2026-09-20T07:00:00Z", "2026-09-20T07:20:00Z"],
    },
    "operation": {
        "declared_by": "blue",
        "category": "coordinated",
        "proposed_by": "blue",
        "executor": "blue",
        "radius_m": 300,
        "window_start": "2026-09-21T02:00:00Z",
        "window_end": "2026-09-21T04:00:00Z",
    },
}


def feature(
    kind: str, fid: str, coordinates: Any = DROP, /, *, gtype: str | None = None, **props: Any
) -> dict[str, Any]:
    """A valid feature of ``kind`` with id ``fid``; ``coordinates``/``gtype`` replace the
    geometry, keyword arguments replace properties (``DROP`` removes one)."""
    geometry = dict(_GEOMETRY[kind])
    if coordinates is not DROP:
        geometry["coordinates"] = coordinates
    if gtype is not None:
        geometry["type"] = gtype
    properties: dict[str, Any] = {"kind": kind, "id": fid, **_PROPS[kind]}
    for name, value in props.items():
        if value is DROP:
            properties.pop(name, None)
        else:
            properties[name] = value
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def refused(agreement: Agreement, *features: Any) -> WorldError:
    with pytest.raises(WorldError) as info:
        parse_world(collection(*features), agreement, source="test.geojson")
    return info.value


def where(error: WorldError) -> list[tuple[str | None, str]]:
    return [(issue.feature, issue.field) for issue in error.issues]


def star(
    n: int,
    *,
    outer: float = 2.2,
    inner: float = 0.01,
    lon: float = 21.0,
    lat: float = 25.0,
    digits: int | None = None,
) -> list[list[list[float]]]:
    """A closed star ring of ``n`` positions (``n - 1`` distinct) around (lon, lat), as a
    polygon's coordinates; each coordinate rounded to ``digits`` decimals when given."""
    ring = []
    for i in range(n - 1):
        r = outer if i % 2 == 0 else inner
        a = 2 * math.pi * i / (n - 1)
        x, y = lon + r * math.cos(a), lat + r * math.sin(a)
        ring.append([x, y] if digits is None else [round(x, digits), round(y, digits)])
    ring.append(ring[0])
    return [ring]


def spikiest_star(
    n: int, most: int, *, outer: float = 0.5, lon: float = 21.0, lat: float = 25.0
) -> list[list[list[float]]]:
    """The spikiest :func:`star` of ``n`` positions whose boundary, densified as the engine
    counts it, stays within ``most`` vertices: the worst operation area a limit allows."""

    def ring(inner: float) -> list[list[list[float]]]:
        return star(n, outer=outer, inner=inner, lon=lon, lat=lat, digits=9)

    inner = outer - 0.01
    while inner > 0.02 and densified_vertices(ring(inner - 0.01)) <= most:
        inner -= 0.01  # deeper spikes, while one more step stays within the limit
    return ring(inner)
