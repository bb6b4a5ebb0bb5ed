"""Placemarks read from KML or KMZ bytes, to be declared (``accord import``).

The XML is read by expat through ``defusedxml``'s parser with a DTD, any entity declaration
and any external reference refused outright (no billion laughs, no XXE); only UTF-8 is read.
The tree is walked here, by hand: every ``Placemark`` at any depth of ``Document`` and
``Folder`` nesting, in document order, each with

- its ``name`` and ``description`` (text);
- its ``ExtendedData``: ``<Data name="…"><value>…</value></Data>`` and
  ``<SchemaData><SimpleData name="…">…</SimpleData></SchemaData>``, as text by name (a name
  given twice is a problem);
- its ``TimeSpan`` (``begin``, ``end``) or ``TimeStamp`` (``when``), as text;
- its one geometry, as a GeoJSON geometry: ``Point``, ``LineString``, ``Polygon``
  (``outerBoundaryIs`` and every ring of each ``innerBoundaryIs``), and a ``MultiGeometry``
  holding exactly **one** of those, read as that one (QGIS writes a single shape so). A
  ``MultiGeometry`` of several is refused — a declaration has one geometry: split it into one
  placemark per shape — as are ``gx:Track``, ``gx:MultiTrack`` and ``Model``, and a
  ``NetworkLink`` (nothing is fetched: import the file it names).

Coordinates are ``lon,lat[,alt]`` tuples separated by whitespace, read strictly: a number
is decimal digits with an optional sign, point and exponent (no ``nan``, ``inf``, ``1_0``,
no space inside a tuple), longitude within ±180 and latitude within ±90; a ``Point`` has one
tuple, a ``LineString`` at least two, a ring at least four and **closed** (KML requires its
last tuple to repeat the first; an open ring is refused, not closed by guess). The altitude
is read and dropped, and ``altitudeMode`` is ignored: every declaration is on the ground
(WGS84 lon, lat).

Namespaces: KML 2.2 (``http://www.opengis.net/kml/2.2``, what Google Earth and QGIS write),
the older ``http://earth.google.com/kml/2.0``–``2.2`` and no namespace at all are read
alike; ``gx:`` (``http://www.google.com/kml/ext/2.2``) is known for what it refuses;
elements of any other namespace (``atom:``, …) are skipped.

A KMZ is a zip: the ``doc.kml`` at its root is read, else the first ``.kml`` at its root.
Its size, number of entries, the KML's size once inflated (read in bounded steps, whatever
the zip claims) and its inflation ratio are bounded (:data:`MAX_KMZ_BYTES`,
:data:`MAX_KMZ_ENTRIES`, :data:`MAX_KML_BYTES`, :data:`MAX_RATIO`): a zip bomb is refused.

Costs are bounded: the file (:data:`MAX_KML_BYTES`), placemarks (:data:`MAX_PLACEMARKS`),
positions per geometry (:data:`MAX_VERTICES`, the center's own per-declaration cap) and in
all (:data:`MAX_TOTAL_VERTICES`). Bad input is never half-read: :func:`read_kml` answers
every placemark it could read and every :class:`~accord.errors.Issue` of the others, each
naming the placemark (``#k name``), its line and the field; a document that is not KML at
all raises :class:`~accord.errors.InputError`.

>>> doc = b'''<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>
... <name>Well</name><Point><coordinates>21.5,25.1,0</coordinates></Point>
... </Placemark></Document></kml>'''
>>> read = read_kml(doc)
>>> read.placemarks[0].name, read.placemarks[0].geometry
('Well', {'type': 'Point', 'coordinates': [21.5, 25.1]})
>>> read_kml(doc.replace(b"25.1", b"95.1")).issues[0].message
'latitude 95.1 is outside ±90'
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from accord.errors import InputError, Issue

__all__ = [
    "GX",
    "KML_NAMESPACES",
    "MAX_KML_BYTES",
    "MAX_KMZ_BYTES",
    "MAX_KMZ_ENTRIES",
    "MAX_PLACEMARKS",
    "MAX_RATIO",
    "MAX_TOTAL_VERTICES",
    "MAX_VERTICES",
    "KmlRead",
    "Placemark",
    "is_kmz",
    "kml_of_kmz",
    "placemark_label",
    "read_kml",
]

KML_NAMESPACES = (
    "http://www.opengis.net/kml/2.2",
    "http://earth.google.com/kml/2.2",
    "http://earth.google.com/kml/2.1",
    "http://earth.google.com/kml/2.0",
    "",
)
"""The namespaces read as KML (the empty one: no namespace)."""
GX = "http://www.google.com/kml/ext/2.2"
"""Google's extension namespace (``gx:Track`` and the like: refused)."""

MAX_KML_BYTES = 20 * 1024 * 1024
"""The largest KML document read (a KMZ's, once inflated, too)."""
MAX_KMZ_BYTES = 20 * 1024 * 1024
"""The largest KMZ file read."""
MAX_KMZ_ENTRIES = 1000
"""The most entries a KMZ may hold (its images and models are not read)."""
MAX_RATIO = 200
"""The most a KMZ's KML may inflate (its size over its compressed size): XML compresses about
ten times; a bomb a thousand and more."""
MAX_PLACEMARKS = 10_000
"""The most placemarks one file may hold."""
MAX_VERTICES = 10_000
"""The most positions one placemark's geometry may hold (every ring counted): the center's
own cap on a declaration (``accord.center.declarations.service.MAX_POSITIONS``); the
agreement's ``limits`` are applied when the placemarks are checked as declarations."""
MAX_TOTAL_VERTICES = 1_000_000
"""The most positions in all."""

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_TUPLE = re.compile(rf"({_NUMBER}),({_NUMBER})(?:,({_NUMBER}))?\Z")
_GEOMETRIES = ("Point", "LineString", "Polygon", "MultiGeometry", "LinearRing")
_REFUSED = {
    "Track": "a gx:Track (a timed path) is not a declaration: export it as a LineString",
    "MultiTrack": "a gx:MultiTrack is not a declaration: export each track as a LineString",
    "Model": "a 3D Model is not a declaration: give a Point or a Polygon",
    "LinearRing": "a bare LinearRing is not read: give a Polygon",
}
_XML_HEAD = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*\?>")
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_MAX_TEXT = 100_000
"""The longest name, description or ExtendedData value read (the center holds a name to 200
characters; a description is not declared)."""
_MAX_DATA = 200
"""The most ExtendedData values one placemark may carry."""


@dataclass(frozen=True, slots=True)
class Placemark:
    """One placemark read: its ordinal (1-based, in document order), line, name, description,
    geometry (a GeoJSON geometry: lon, lat), ExtendedData by name, and time (``TimeSpan``
    ``begin``/``end`` or ``TimeStamp`` ``when``, as written; ``None`` when absent)."""

    ordinal: int
    line: int | None
    name: str
    geometry: dict[str, Any]
    data: dict[str, str]
    description: str = ""
    begin: str | None = None
    end: str | None = None
    when: str | None = None

    @property
    def label(self) -> str:
        """How problems name it: ``#3 East City General Hospital``."""
        return placemark_label(self.ordinal, self.name)


@dataclass(frozen=True, slots=True)
class KmlRead:
    """What a file held: the placemarks read whole, and a problem for every other."""

    placemarks: tuple[Placemark, ...]
    issues: tuple[Issue, ...]


def placemark_label(ordinal: int, name: str) -> str:
    """``#k name`` (``#k`` alone for a placemark without a name), the name cut to 60.

    >>> placemark_label(2, "Bridge"), placemark_label(7, "")
    ('#2 Bridge', '#7')
    """
    name = " ".join(name.split())
    return f"#{ordinal} {name[:59] + '…' if len(name) > 60 else name}".rstrip()


# --- KMZ -----------------------------------------------------------------------------------


def is_kmz(data: bytes) -> bool:
    """Whether ``data`` is a zip (a KMZ) rather than KML text."""
    return data[:4] == b"PK\x03\x04"


def kml_of_kmz(data: bytes, *, source: str = "KMZ") -> bytes:
    """The KML inside a KMZ: its root's ``doc.kml``, else the first ``.kml`` at its root.

    Raises :class:`~accord.errors.InputError` for a file that is not a zip, too large, with
    too many entries, no KML at its root, or a KML inflating past :data:`MAX_KML_BYTES` or
    :data:`MAX_RATIO` times its compressed size (a zip bomb)."""
    if len(data) > MAX_KMZ_BYTES:
        raise InputError(source, [Issue("", f"is {len(data)} bytes; at most {MAX_KMZ_BYTES}")])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as kmz:
            infos = kmz.infolist()
            if len(infos) > MAX_KMZ_ENTRIES:
                raise InputError(
                    source,
                    [Issue("", f"holds {len(infos)} entries; at most {MAX_KMZ_ENTRIES}")],
                )
            root = [
                i for i in infos
                if "/" not in i.filename and i.filename.lower().endswith(".kml")
            ]  # fmt: skip
            if not root:
                raise InputError(source, [Issue("", "holds no .kml file at its root")])
            info = next((i for i in root if i.filename.lower() == "doc.kml"), root[0])
            where = info.filename[:100]
            if info.file_size > MAX_KML_BYTES:
                raise InputError(
                    source,
                    [Issue(where, f"inflates to {info.file_size} bytes; at most {MAX_KML_BYTES}")],
                )
            limit = min(MAX_KML_BYTES, MAX_RATIO * max(info.compress_size, 1024))
            out = bytearray()
            with kmz.open(info) as stream:
                while chunk := stream.read(64 * 1024):
                    out += chunk
                    if len(out) > limit:
                        raise InputError(
                            source,
                            [
                                Issue(
                                    where,
                                    f"inflates past {limit} bytes (at most {MAX_KML_BYTES}, and"
                                    f" at most {MAX_RATIO} times its compressed size): refused"
                                    " as a zip bomb",
                                )
                            ],
                        )
            return bytes(out)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as bad:
        raise InputError(source, [Issue("", f"not a readable KMZ (zip): {bad}")]) from None
    except RuntimeError as bad:  # an encrypted entry
        raise InputError(source, [Issue("", f"not a readable KMZ (zip): {bad}")]) from None


# --- XML -----------------------------------------------------------------------------------


class _Builder(ET.TreeBuilder):
    """A tree builder that notes each Placemark's line (expat's, as it starts)."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: Any = None
        self.lines: dict[int, int] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        if tag.endswith("}Placemark") or tag == "Placemark":
            expat = getattr(self.parser, "parser", None)
            line = getattr(expat, "CurrentLineNumber", None)
            if isinstance(line, int):
                self.lines[id(element)] = line
        return element


def _parse(data: bytes, source: str) -> tuple[ET.Element, dict[int, int]]:
    if len(data) > MAX_KML_BYTES:
        raise InputError(source, [Issue("", f"is {len(data)} bytes; at most {MAX_KML_BYTES}")])
    head = _XML_HEAD.match(data)
    if head is not None:
        encoding = _ENCODING.search(head.group(0))
        if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            raise InputError(source, [Issue("", "only UTF-8 KML is read")])
    builder = _Builder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(data)
        root: ET.Element = parser.close()
    except DefusedXmlException as refused:
        name = type(refused).__name__
        message = f"a DTD, entity or external reference is refused ({name})"
        raise InputError(source, [Issue("", message)]) from None
    except ET.ParseError as bad:
        raise InputError(source, [Issue("", f"not well-formed XML ({bad})")]) from None
    return root, builder.lines


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _kml(element: ET.Element, local: str | None = None) -> bool:
    ns, name = _split(element.tag) if isinstance(element.tag, str) else ("?", "")
    return ns in KML_NAMESPACES and (local is None or name == local)


def _children(element: ET.Element, local: str) -> list[ET.Element]:
    return [c for c in element if _kml(c, local)]


def _text(element: ET.Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


class _Bad(Exception):
    """One problem in the placemark being read (internal)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _Counter:
    def __init__(self) -> None:
        self.total = 0


def _coordinates(element: ET.Element | None, where: str, counter: _Counter) -> list[list[float]]:
    if element is None:
        raise _Bad(where, "is required (a coordinates element)")
    parts = _text(element).split()
    if len(parts) > MAX_VERTICES:
        raise _Bad(where, f"holds {len(parts)} positions; at most {MAX_VERTICES}")
    counter.total += len(parts)
    if counter.total > MAX_TOTAL_VERTICES:
        raise _Bad(where, f"the file holds over {MAX_TOTAL_VERTICES} positions in all")
    out: list[list[float]] = []
    for i, part in enumerate(parts):
        match = _TUPLE.match(part)
        if match is None:
            shown = part if len(part) <= 40 else part[:39] + "…"
            raise _Bad(
                f"{where}[{i}]",
                f"{shown!r} is not lon,lat[,alt] (decimal numbers, commas, no spaces)",
            )
        lon, lat = float(match.group(1)), float(match.group(2))
        if not -180.0 <= lon <= 180.0:
            raise _Bad(f"{where}[{i}]", f"longitude {lon:g} is outside ±180")
        if not -90.0 <= lat <= 90.0:
            raise _Bad(f"{where}[{i}]", f"latitude {lat:g} is outside ±90")
        out.append([lon, lat])
    return out


def _ring(boundary: ET.Element, where: str, counter: _Counter) -> list[list[float]]:
    rings = _children(boundary, "LinearRing")
    if len(rings) != 1:
        raise _Bad(where, f"holds {len(rings)} LinearRing elements; one is read here")
    ring = _coordinates(_one(rings[0], "coordinates"), f"{where}.coordinates", counter)
    if len(ring) < 4:
        raise _Bad(where, "a ring needs at least 4 positions (closed: the last repeats the first)")
    if ring[0] != ring[-1]:
        raise _Bad(where, "the ring is not closed (its last position must repeat its first)")
    return ring


def _one(element: ET.Element, local: str) -> ET.Element | None:
    found = _children(element, local)
    return found[0] if found else None


def _geometry(element: ET.Element, counter: _Counter) -> dict[str, Any]:
    _, local = _split(element.tag)
    if local == "Point":
        coords = _coordinates(_one(element, "coordinates"), "Point.coordinates", counter)
        if len(coords) != 1:
            raise _Bad("Point.coordinates", f"a Point has one position, not {len(coords)}")
        return {"type": "Point", "coordinates": coords[0]}
    if local == "LineString":
        coords = _coordinates(_one(element, "coordinates"), "LineString.coordinates", counter)
        if len(coords) < 2:
            raise _Bad("LineString.coordinates", "a LineString needs at least 2 positions")
        return {"type": "LineString", "coordinates": coords}
    if local == "Polygon":
        outer = _children(element, "outerBoundaryIs")
        if len(outer) != 1:
            raise _Bad("Polygon.outerBoundaryIs", "a Polygon has exactly one outer boundary")
        rings = [_ring(outer[0], "Polygon.outerBoundaryIs", counter)]
        for k, inner in enumerate(_children(element, "innerBoundaryIs")):
            for ring in _children(inner, "LinearRing"):
                where = f"Polygon.innerBoundaryIs[{k}]"
                coords = _coordinates(_one(ring, "coordinates"), f"{where}.coordinates", counter)
                if len(coords) < 4:
                    raise _Bad(where, "a ring needs at least 4 positions (closed)")
                if coords[0] != coords[-1]:
                    raise _Bad(
                        where, "the ring is not closed (its last position must repeat its first)"
                    )
                rings.append(coords)
        if sum(len(r) for r in rings) > MAX_VERTICES:
            raise _Bad("Polygon", f"holds over {MAX_VERTICES} positions")
        return {"type": "Polygon", "coordinates": rings}
    # MultiGeometry
    parts = [c for c in element if _geometry_tag(c) is not None]
    if len(parts) != 1:
        raise _Bad(
            "MultiGeometry",
            f"holds {len(parts)} geometries; a declaration has one: split it into one "
            "placemark per shape",
        )
    return _geometry(parts[0], counter)


def _geometry_tag(element: ET.Element) -> str | None:
    """The geometry (or refused geometry) ``element`` is, if any."""
    if not isinstance(element.tag, str):
        return None
    ns, local = _split(element.tag)
    if ns == GX and local in ("Track", "MultiTrack"):
        return local
    if ns in KML_NAMESPACES and (local in _GEOMETRIES or local == "Model"):
        return local
    return None


def _extended(placemark: ET.Element) -> dict[str, str]:
    data: dict[str, str] = {}

    def put(name: str | None, value: str) -> None:
        if not name:
            raise _Bad("ExtendedData", "a Data or SimpleData without a name")
        if name in data:
            raise _Bad(f"ExtendedData.{name[:40]}", "is given twice")
        if len(value) > _MAX_TEXT:
            raise _Bad(f"ExtendedData.{name[:40]}", f"is over {_MAX_TEXT} characters")
        if len(data) >= _MAX_DATA:
            raise _Bad("ExtendedData", f"holds over {_MAX_DATA} values")
        data[name] = value

    for extended in _children(placemark, "ExtendedData"):
        for item in extended:
            if _kml(item, "Data"):
                put(item.get("name"), _text(_one(item, "value")))
            elif _kml(item, "SchemaData"):
                for simple in _children(item, "SimpleData"):
                    put(simple.get("name"), _text(simple))
    return data


def _placemark(element: ET.Element, ordinal: int, line: int | None, counter: _Counter) -> Placemark:
    name = _text(_one(element, "name"))
    if len(name) > _MAX_TEXT:
        raise _Bad("name", f"is over {_MAX_TEXT} characters")
    description = _text(_one(element, "description"))[:_MAX_TEXT]
    found = [(c, tag) for c in element if (tag := _geometry_tag(c)) is not None]
    if not found:
        raise _Bad("geometry", "the placemark has no geometry (Point, LineString or Polygon)")
    if len(found) > 1:
        raise _Bad("geometry", "the placemark has more than one geometry")
    child, tag = found[0]
    if tag in _REFUSED:
        raise _Bad(tag, _REFUSED[tag])
    geometry = _geometry(child, counter)
    data = _extended(element)
    begin = end = when = None
    span = _one(element, "TimeSpan")
    if span is not None:
        begin = _text(_one(span, "begin")) or None
        end = _text(_one(span, "end")) or None
    stamp = _one(element, "TimeStamp")
    if stamp is not None:
        when = _text(_one(stamp, "when")) or None
    return Placemark(
        ordinal=ordinal,
        line=line,
        name=name,
        geometry=geometry,
        data=data,
        description=description,
        begin=begin,
        end=end,
        when=when,
    )


def read_kml(data: bytes, *, source: str = "KML") -> KmlRead:
    """Every placemark of a KML or KMZ document (see the module docstring), and a problem
    naming the placemark and field for each one that does not read.

    Raises :class:`~accord.errors.InputError` for a document that is not KML at all: not
    well-formed, a DTD or entity, too large, a KMZ that is no zip or a zip bomb, no ``kml``
    root, more than :data:`MAX_PLACEMARKS` placemarks.
    """
    if is_kmz(data):
        data = kml_of_kmz(data, source=source)
    root, lines = _parse(data, source)
    if not _kml(root, "kml"):
        raise InputError(source, [Issue("", f"the root element is not <kml> ({root.tag!s:.80})")])
    placemarks: list[Placemark] = []
    issues: list[Issue] = []
    counter = _Counter()
    ordinal = 0
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if _kml(element, "NetworkLink"):
            issues.append(
                Issue(
                    "NetworkLink",
                    "a network link is not followed (nothing is fetched): import its file",
                    feature=placemark_label(0, _text(_one(element, "name"))).replace("#0", "link"),
                )
            )
            continue
        if not _kml(element, "Placemark"):
            continue
        ordinal += 1
        if ordinal > MAX_PLACEMARKS:
            raise InputError(
                source, [Issue("", f"holds over {MAX_PLACEMARKS} placemarks; split the file")]
            )
        line = lines.get(id(element))
        try:
            placemarks.append(_placemark(element, ordinal, line, counter))
        except _Bad as bad:
            label = placemark_label(ordinal, _text(_one(element, "name"))[:200])
            issues.append(Issue(bad.field, bad.message, feature=label, line=line))
    if ordinal == 0 and not issues:
        issues.append(Issue("", "the document holds no placemark"))
    return KmlRead(tuple(placemarks), tuple(issues))
