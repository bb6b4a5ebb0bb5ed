"""Exact coordinates one party passes another — a direct-line message's geometry, an
objection's evidence, a report's place — read as given and checked: a GeoJSON geometry
(RFC 7946) of type ``Point``, ``MultiPoint``, ``LineString`` or ``Polygon``, longitude
±180, latitude ±90, at most :data:`MAX_POSITIONS` positions, a polygon's rings closed and
the polygon valid. Every digit given is kept."""

from __future__ import annotations

import math
from typing import Any

import shapely

from accord.errors import InputError, Issue

__all__ = ["MAX_POSITIONS", "check_geometry"]

MAX_POSITIONS = 2000
"""The most positions a received geometry may hold."""

_GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "Polygon")


class _Bad(Exception):
    """A bad field of a geometry being read: its :class:`~accord.errors.Issue`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.issue = Issue(field, message)


def _position(field: str, value: Any) -> list[float | int]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise _Bad(field, "a position is [longitude, latitude] or [longitude, latitude, altitude]")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise _Bad(field, "coordinates must be finite numbers")
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180:
        raise _Bad(field, "the longitude is outside ±180 degrees")
    if not -90 <= lat <= 90:
        raise _Bad(field, "the latitude is outside ±90 degrees")
    if len(value) == 3 and not -1e6 <= value[2] <= 1e6:
        raise _Bad(field, "the altitude is outside ±1,000,000 metres")
    return list(value)


def _positions(field: str, value: Any, *, minimum: int) -> list[list[float | int]]:
    if not isinstance(value, list):
        raise _Bad(field, "must be an array of positions")
    if len(value) < minimum:
        raise _Bad(field, f"needs at least {minimum} position{'s' if minimum > 1 else ''}")
    if len(value) > MAX_POSITIONS:
        raise _Bad(field, f"holds more than {MAX_POSITIONS} positions")
    return [_position(f"{field}[{i}]", p) for i, p in enumerate(value)]


def check_geometry(value: Any, *, source: str = "message") -> dict[str, Any]:
    """A GeoJSON geometry (RFC 7946) with exact coordinates, as given: ``Point``,
    ``MultiPoint``, ``LineString`` or ``Polygon`` (closed rings); longitude ±180, latitude
    ±90, at most :data:`MAX_POSITIONS` positions. Raises
    :class:`~accord.errors.InputError` of ``source`` naming the field
    (``geometry.coordinates[1]``).

    >>> check_geometry({"type": "Point", "coordinates": [36.29, 33.51]})
    {'type': 'Point', 'coordinates': [36.29, 33.51]}
    >>> check_geometry({"type": "Point", "coordinates": [36.29, 93.5]})
    Traceback (most recent call last):
    ...
    accord.errors.InputError: message: 1 problem
      field 'geometry.coordinates': the latitude is outside ±90 degrees
    """
    try:
        return _read(value)
    except _Bad as bad:
        raise InputError(source, [bad.issue]) from None


def _read(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("geometry", "must be a GeoJSON geometry object")
    extra = sorted(set(value) - {"type", "coordinates"})
    if extra:
        raise _Bad(f"geometry.{extra[0]}" if extra[0].isprintable() else "geometry", "unknown")
    kind = value.get("type")
    if kind not in _GEOMETRY_TYPES:
        raise _Bad("geometry.type", f"must be one of {', '.join(_GEOMETRY_TYPES)}")
    where = "geometry.coordinates"
    coordinates = value.get("coordinates")
    checked: Any
    if kind == "Point":
        checked = _position(where, coordinates)
    elif kind == "MultiPoint":
        checked = _positions(where, coordinates, minimum=1)
    elif kind == "LineString":
        checked = _positions(where, coordinates, minimum=2)
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise _Bad(where, "a Polygon is a non-empty array of linear rings")
        checked, count = [], 0
        for r, ring in enumerate(coordinates):
            points = _positions(f"{where}[{r}]", ring, minimum=4)
            if points[0] != points[-1]:
                raise _Bad(f"{where}[{r}]", "a ring is closed: its last position is its first")
            count += len(points)
            if count > MAX_POSITIONS:
                raise _Bad(where, f"holds more than {MAX_POSITIONS} positions")
            checked.append(points)
        polygon = shapely.Polygon(
            [p[:2] for p in checked[0]], [[p[:2] for p in ring] for ring in checked[1:]]
        )
        if not shapely.is_valid(polygon):
            raise _Bad(where, f"not a valid polygon: {shapely.is_valid_reason(polygon)}")
    return {"type": kind, "coordinates": checked}
