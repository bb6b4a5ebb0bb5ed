"""The page's basemap, made ready to draw: world-atlas's TopoJSON countries decoded, projected
to Web Mercator and packed into one small binary the page reads without converting anything.

The page used to fetch ``countries-50m.json`` and convert it in the browser (topojson-client
in a worker, then a projection of every vertex): some hundreds of milliseconds of the
browser's CPU at every load, competing with the page itself for the machine's cores. The
server does it once per process instead, from the same file, and serves the result from
memory (:mod:`accord.center.http.web`).

The binary (little-endian, every item 4 bytes, so that the page reads it through typed-array
views of the one buffer, copying nothing)::

    uint32  countries, polygons, rings, points
    uint32  polygon_start[countries + 1]   country c: polygons polygon_start[c] .. [c + 1]
    uint32  ring_start[polygons + 1]       polygon p: rings ring_start[p] .. [p + 1]
    uint32  point_start[rings + 1]         ring r: points point_start[r] .. [r + 1]
    float32 bbox[countries * 4]            x0, y0, x1, y1 of each country
    float32 xy[points * 2]                 x, y of each point

where x and y are world pixels at zoom 0 (``[0, 256]``, the page's ``project()``). Countries
without a polygon are left out. Rings are those topojson-client's ``feature()`` gives: arcs
delta-decoded and transformed, joined end to start (each arc's last point replaced by the
next arc's first), a reversed arc (``~i``) read backwards.

A pure function of the parsed TopoJSON: no I/O here.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LIMIT_LAT", "TILE", "pack_countries", "project"]

TILE = 256.0
"""World pixels at zoom 0 (the page's map.js)."""

LIMIT_LAT = 85.05
"""Latitudes are clamped to ±this before projecting (as the page does)."""

_HEADER = struct.Struct("<4I")

Floats = npt.NDArray[np.float64]


def project(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Web Mercator world pixels at zoom 0 of ``lon``, ``lat`` (degrees), as map.js."""
    s = np.sin(np.radians(np.clip(lat, -LIMIT_LAT, LIMIT_LAT)))
    x = (lon + 180.0) / 360.0 * TILE
    y = (0.5 - np.log((1.0 + s) / (1.0 - s)) / (4.0 * np.pi)) * TILE
    return x, y


def _arcs(topology: Mapping[str, Any]) -> list[Floats]:
    """Every arc of ``topology`` as an (n, 2) array of projected points."""
    arcs: Sequence[Sequence[Sequence[float]]] = topology["arcs"]
    if not arcs:
        return []
    lengths = np.fromiter((len(a) for a in arcs), dtype=np.int64, count=len(arcs))
    flat = np.array([p[:2] for a in arcs for p in a], dtype=np.float64).reshape(-1, 2)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    transform = topology.get("transform")
    if transform:
        # Quantized: each arc's first point absolute, the others deltas from the previous.
        total = np.cumsum(flat, axis=0)
        before = np.zeros((len(arcs), 2))
        inner = starts > 0
        before[inner] = total[starts[inner] - 1]
        flat = total - np.repeat(before, lengths, axis=0)
        flat = flat * np.asarray(transform["scale"], dtype=np.float64) + np.asarray(
            transform["translate"], dtype=np.float64
        )
    x, y = project(flat[:, 0], flat[:, 1])
    xy = np.column_stack((x, y))
    return [xy[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def _ring(arcs: Sequence[Floats], indexes: Sequence[int]) -> Floats:
    """One ring from its arc indexes, as topojson-client joins them."""
    parts = [arcs[~i][::-1] if i < 0 else arcs[i] for i in indexes]
    if not parts:
        return np.zeros((0, 2))
    joined = np.concatenate([p[:-1] for p in parts[:-1]] + [parts[-1]])
    if 0 < len(joined) < 4:  # a degenerate ring is closed, as topojson-client does
        joined = np.concatenate([joined, joined[:1]])
    return joined


def _polygons(geometry: Mapping[str, Any]) -> list[Sequence[Sequence[int]]]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return [geometry["arcs"]]
    if kind == "MultiPolygon":
        return list(geometry["arcs"])
    return []


def pack_countries(topology: Mapping[str, Any], name: str = "countries") -> bytes:
    """The binary of the module docstring for the object ``name`` of ``topology`` (parsed
    TopoJSON, e.g. world-atlas's ``countries-50m.json``).

    Raises
    ------
    KeyError, TypeError, ValueError
        ``topology`` is not TopoJSON of that shape.
    """
    arcs = _arcs(topology)
    polygon_start = [0]
    ring_start = [0]
    point_start = [0]
    boxes: list[tuple[float, float, float, float]] = []
    rings: list[Floats] = []
    for geometry in topology["objects"][name]["geometries"]:
        polygons = _polygons(geometry)
        if not polygons:
            continue
        own: list[Floats] = []
        for polygon in polygons:
            for indexes in polygon:
                ring = _ring(arcs, indexes)
                own.append(ring)
                point_start.append(point_start[-1] + len(ring))
            ring_start.append(ring_start[-1] + len(polygon))
        polygon_start.append(polygon_start[-1] + len(polygons))
        points = np.concatenate(own) if own else np.zeros((0, 2))
        if len(points):
            low, high = points.min(axis=0), points.max(axis=0)
            boxes.append((float(low[0]), float(low[1]), float(high[0]), float(high[1])))
        else:
            boxes.append((0.0, 0.0, 0.0, 0.0))
        rings.extend(own)
    xy = np.concatenate(rings) if rings else np.zeros((0, 2))
    header = _HEADER.pack(len(boxes), len(ring_start) - 1, len(point_start) - 1, len(xy))
    return b"".join(
        (
            header,
            np.asarray(polygon_start, dtype="<u4").tobytes(),
            np.asarray(ring_start, dtype="<u4").tobytes(),
            np.asarray(point_start, dtype="<u4").tobytes(),
            np.asarray(boxes, dtype="<f4").reshape(-1, 4).tobytes(),
            xy.astype("<f4").tobytes(),
        )
    )
