"""The operator's basemap: a PMTiles archive (spec v3) of vector tiles, opened once and checked
before the service serves it (``accord serve --basemap FILE.pmtiles``).

The page draws it (``protomaps-leaflet``, reading the archive by HTTP range requests through
:mod:`accord.center.basemap.routes`); the server only checks that it is an archive the page can
draw and serves its bytes. What is checked, each refused with a :class:`~accord.errors.
BasemapError` naming the file and what is wrong, so that a wrong file fails ``accord serve``
at once rather than leaving officers with an empty map:

* the header (PMTiles v3 §3: 127 bytes, magic ``PMTiles``, version 3) and that every section
  it names lies inside the file;
* the tiles are Mapbox Vector Tiles (§3.13 tile type 1), compressed as the page can read them
  (none or gzip: the browser's ``DecompressionStream``);
* the bounds are longitudes and latitudes, in order, and the zooms in order;
* the root directory lies in the first 16,384 bytes (§3.2) and reads as a directory;
* the metadata (§5) is a JSON object of at most :data:`MAX_METADATA_BYTES`; if it lists its
  ``vector_layers``, they include the Protomaps basemap's (``earth``, ``water``, ``roads``,
  ``places``, …): an archive of another schema would draw nothing.

Nothing of the archive reaches a user but its bytes, its bounds, zooms and its attribution as
plain text (tags stripped).
"""

from __future__ import annotations

import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtiles.tile import (
    Compression,
    MagicNumberNotFound,
    SpecVersionUnsupported,
    TileType,
    deserialize_directory,
    deserialize_header,
)

from accord.errors import BasemapError

__all__ = [
    "BASEMAP_LAYERS",
    "HEADER_BYTES",
    "MAX_METADATA_BYTES",
    "Archive",
    "open_archive",
]

HEADER_BYTES = 127
"""PMTiles v3 §3: the header's length."""

_ROOT_WITHIN = 16_384
"""PMTiles v3 §3.2: the header and the root directory lie in the first 16 KiB."""

MAX_METADATA_BYTES = 1 << 20
"""The largest metadata read, compressed or not (a published extract's is a few KiB)."""

BASEMAP_LAYERS = frozenset({"earth", "water", "landuse", "roads", "places", "boundaries"})
"""The Protomaps basemap's layers (its schema v4) that the page's style draws: an archive
whose metadata lists ``vector_layers`` must have at least one."""

_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Archive:
    """An opened, checked PMTiles archive: what the page is told of it.

    ``bounds`` is ``(west, south, east, north)`` in degrees; ``attribution`` plain text (the
    archive's own, tags stripped, or empty); ``etag`` changes whenever the file does (size and
    modification time), so that a reader of ranges notices a replaced file."""

    path: Path
    size: int
    bounds: tuple[float, float, float, float]
    min_zoom: int
    max_zoom: int
    center: tuple[float, float, int]
    attribution: str
    etag: str

    def manifest(self) -> dict[str, Any]:
        """The archive as ``GET /v1/basemap`` describes it."""
        west, south, east, north = self.bounds
        lon, lat, zoom = self.center
        return {
            "url": "/v1/basemap/archive.pmtiles",
            "bytes": self.size,
            "bounds": [west, south, east, north],
            "min_zoom": self.min_zoom,
            "max_zoom": self.max_zoom,
            "center": [lon, lat, zoom],
            "attribution": self.attribution,
        }


def _degrees(e7: int) -> float:
    return e7 / 10_000_000


def _bounded(data: bytes, compression: Compression, *, what: str, path: Path) -> bytes:
    if compression is Compression.NONE:
        return data
    if compression is not Compression.GZIP:
        raise BasemapError(f"{path}: its {what} is compressed with {compression.name}, not gzip")
    try:
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        out = inflate.decompress(data, MAX_METADATA_BYTES + 1)
    except zlib.error:
        raise BasemapError(f"{path}: its {what} is not gzip data") from None
    if len(out) > MAX_METADATA_BYTES:
        raise BasemapError(f"{path}: its {what} is larger than {MAX_METADATA_BYTES} bytes")
    return out


def open_archive(path: Path) -> Archive:
    """Open and check the PMTiles archive at ``path``.

    Raises
    ------
    BasemapError
        The file is missing or unreadable, or not an archive the page can draw; the message
        names the file and what is wrong.
    """
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            head = file.read(_ROOT_WITHIN)
            return _checked(path, file, head, info)
    except FileNotFoundError:
        raise BasemapError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BasemapError(f"{path}: a folder, not a PMTiles file") from None
    except PermissionError:
        raise BasemapError(f"{path}: not readable by this user") from None


def _checked(path: Path, file: Any, head: bytes, info: os.stat_result) -> Archive:
    size = info.st_size
    if len(head) < HEADER_BYTES:
        raise BasemapError(f"{path}: {size} bytes, shorter than a PMTiles header")
    try:
        header = deserialize_header(head[:HEADER_BYTES])
    except (MagicNumberNotFound, UnicodeDecodeError):
        raise BasemapError(f"{path}: not a PMTiles archive (no PMTiles magic)") from None
    except SpecVersionUnsupported:
        raise BasemapError(f"{path}: PMTiles version {head[7]}, not 3") from None
    except ValueError:  # an unknown compression or tile type byte
        raise BasemapError(
            f"{path}: unknown compression or tile type in the header (bytes 97-99: "
            f"{head[97]}, {head[98]}, {head[99]})"
        ) from None
    if header["tile_type"] is not TileType.MVT:
        raise BasemapError(
            f"{path}: its tiles are {header['tile_type'].name}, not vector tiles (MVT)"
        )
    if header["tile_compression"] not in (Compression.NONE, Compression.GZIP):
        raise BasemapError(
            f"{path}: its tiles are compressed with {header['tile_compression'].name}; the "
            "page reads gzip or none (pmtiles convert can recompress)"
        )
    for section in ("root", "metadata", "leaf_directory", "tile_data"):
        offset, length = header[f"{section}_offset"], header[f"{section}_length"]  # type: ignore[literal-required]
        if offset + length > size:
            raise BasemapError(
                f"{path}: its {section.replace('_', ' ')} ends at byte {offset + length}, "
                f"past the file's end ({size} bytes): truncated?"
            )
    west, south = _degrees(header["min_lon_e7"]), _degrees(header["min_lat_e7"])
    east, north = _degrees(header["max_lon_e7"]), _degrees(header["max_lat_e7"])
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BasemapError(
            f"{path}: its bounds (west {west}, south {south}, east {east}, north {north}) are "
            "not a box of longitudes and latitudes"
        )
    if not header["min_zoom"] <= header["max_zoom"] <= 30:
        raise BasemapError(
            f"{path}: its zooms run from {header['min_zoom']} to {header['max_zoom']}"
        )
    root_end = header["root_offset"] + header["root_length"]
    if header["root_offset"] < HEADER_BYTES or root_end > _ROOT_WITHIN or not header["root_length"]:
        raise BasemapError(f"{path}: its root directory is not within the first 16384 bytes")
    root = head[header["root_offset"] : root_end]
    if header["internal_compression"] is Compression.GZIP:
        try:
            entries = deserialize_directory(root)
        except (OSError, EOFError, IndexError, zlib.error):
            raise BasemapError(f"{path}: its root directory does not read as one") from None
        if not entries:
            raise BasemapError(f"{path}: its root directory is empty: no tiles")
    elif header["internal_compression"] is not Compression.NONE:
        raise BasemapError(
            f"{path}: its directories are compressed with "
            f"{header['internal_compression'].name}; the page reads gzip or none"
        )
    attribution = ""
    if header["metadata_length"]:
        if header["metadata_length"] > MAX_METADATA_BYTES:
            raise BasemapError(f"{path}: its metadata is larger than {MAX_METADATA_BYTES} bytes")
        file.seek(header["metadata_offset"])
        raw = file.read(header["metadata_length"])
        text = _bounded(raw, header["internal_compression"], what="metadata", path=path)
        try:
            metadata = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            raise BasemapError(f"{path}: its metadata is not JSON") from None
        if not isinstance(metadata, dict):
            raise BasemapError(f"{path}: its metadata is not a JSON object")
        attribution = _plain(metadata.get("attribution"))
        _check_layers(path, metadata.get("vector_layers"))
    center = (
        _degrees(header["center_lon_e7"]),
        _degrees(header["center_lat_e7"]),
        header["center_zoom"],
    )
    return Archive(
        path=path,
        size=size,
        bounds=(west, south, east, north),
        min_zoom=header["min_zoom"],
        max_zoom=header["max_zoom"],
        center=center,
        attribution=attribution,
        etag=f'"{info.st_size:x}-{info.st_mtime_ns:x}"',
    )


def _plain(value: object) -> str:
    """An attribution as text: tags stripped, entities left for the page to escape."""
    if not isinstance(value, str):
        return ""
    text = _TAG.sub("", value).replace("&copy;", "©").replace("&amp;", "&")
    return " ".join(text.split())[:200]


def _check_layers(path: Path, layers: object) -> None:
    if layers is None:
        return
    if not isinstance(layers, list):
        raise BasemapError(f"{path}: its metadata's vector_layers is not a list")
    ids = {layer.get("id") for layer in layers if isinstance(layer, dict)}
    if not ids & BASEMAP_LAYERS:
        named = ", ".join(sorted(str(i) for i in ids)[:8]) or "none"
        raise BasemapError(
            f"{path}: its layers ({named}) are not the Protomaps basemap's "
            f"({', '.join(sorted(BASEMAP_LAYERS))}): the page would draw nothing of it"
        )
