"""Small PMTiles basemaps the tests write themselves (issue 23 item 2): vector tiles in the
Protomaps basemap's schema (layers ``earth``, ``water``, ``roads``, ``places``), encoded by
``mapbox-vector-tile`` and packed by the ``pmtiles`` package — neither of them Accord's code,
so the page's decoder (``pmtiles`` and ``protomaps-leaflet`` in JavaScript) reads what
independent writers made.

The theater is synthetic: a lake, a road and a town near the example agreement's areas.
"""

from __future__ import annotations

import gzip
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mapbox_vector_tile
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

__all__ = ["Theater", "tiles_of", "write_basemap"]

_HALF = 20037508.342789244  # EPSG:3857: half the world's width in metres


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 metres of a WGS 84 point."""
    x = math.radians(lon) * 6378137.0
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137.0
    return x, y


@dataclass(frozen=True)
class Theater:
    """What the archive holds: a box of land, a lake, a road and a town (lon, lat)."""

    bounds: tuple[float, float, float, float] = (20.9, 24.9, 21.8, 25.6)
    lake: tuple[tuple[float, float], ...] = (
        (21.20, 25.20),
        (21.40, 25.20),
        (21.40, 25.35),
        (21.20, 25.35),
    )
    road: tuple[tuple[float, float], ...] = ((20.95, 25.10), (21.75, 25.50))
    town: tuple[float, float, str] = (21.50, 25.15, "Eastmere")
    attribution: str = '<a href="https://example.org/">Synthetic</a> &copy; test'
    layers: tuple[str, ...] = ("earth", "water", "roads", "places")
    extra: dict[str, Any] = field(default_factory=dict)

    def features(self) -> dict[str, list[tuple[BaseGeometry, dict[str, Any]]]]:
        """Each layer's features in EPSG:3857 metres."""
        west, south, east, north = self.bounds
        land = box(*mercator(west, south), *mercator(east, north))
        return {
            "earth": [(land, {"kind": "earth"})],
            "water": [(Polygon([mercator(*p) for p in self.lake]), {"kind": "lake"})],
            "roads": [
                (
                    LineString([mercator(*p) for p in self.road]),
                    {"kind": "major_road", "name": "Route 7", "min_zoom": 6},
                )
            ],
            "places": [
                (
                    Point(mercator(self.town[0], self.town[1])),
                    {
                        "kind": "locality",
                        "name": self.town[2],
                        "min_zoom": 5,
                        "population_rank": 10,
                    },
                )
            ],
        }


def tiles_of(bounds: tuple[float, float, float, float], zoom: int) -> Iterator[tuple[int, int]]:
    """The (x, y) of the XYZ tiles of ``zoom`` that cover ``bounds``."""
    west, south, east, north = bounds
    n = 1 << zoom

    def tile(lon: float, lat: float) -> tuple[int, int]:
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return min(x, n - 1), min(y, n - 1)

    x0, y0 = tile(west, north)
    x1, y1 = tile(east, south)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            yield x, y


def _tile_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * _HALF / (1 << z)
    west = -_HALF + x * size
    north = _HALF - y * size
    return west, north - size, west + size, north


def _encode(
    features: dict[str, list[tuple[BaseGeometry, dict[str, Any]]]], z: int, x: int, y: int
) -> bytes:
    bounds = _tile_box(z, x, y)
    pad = (bounds[2] - bounds[0]) / 16
    clip = box(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    layers = []
    for name, items in features.items():
        kept = []
        for geometry, properties in items:
            part = geometry.intersection(clip)
            if not part.is_empty:
                kept.append({"geometry": part, "properties": properties})
        if kept:
            layers.append({"name": name, "features": kept})
    with warnings.catch_warnings():  # its use of shapely.ops.transform, deprecated in 2.1
        warnings.simplefilter("ignore", DeprecationWarning)
        tile = mapbox_vector_tile.encode(
            layers, default_options={"quantize_bounds": bounds, "extents": 4096}
        )
    return gzip.compress(tile, mtime=0)


def write_basemap(
    path: Path,
    theater: Theater | None = None,
    *,
    zooms: range = range(0, 13),
) -> Path:
    """Write ``theater`` (default: :class:`Theater`) as a PMTiles archive at ``path``, every
    tile of ``zooms`` that covers its bounds; return ``path``."""
    theater = theater or Theater()
    features = {k: v for k, v in theater.features().items() if k in theater.layers}
    tiles = sorted(
        (zxy_to_tileid(z, x, y), z, x, y) for z in zooms for x, y in tiles_of(theater.bounds, z)
    )
    west, south, east, north = theater.bounds
    with path.open("wb") as file:
        writer = Writer(file)
        for tile_id, z, x, y in tiles:
            writer.write_tile(tile_id, _encode(features, z, x, y))
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": 10,
                "center_lon_e7": int((west + east) / 2 * 1e7),
                "center_lat_e7": int((south + north) / 2 * 1e7),
            },
            {
                "attribution": theater.attribution,
                "vector_layers": [{"id": name, "fields": {}} for name in theater.layers],
                **theater.extra,
            },
        )
    return path
