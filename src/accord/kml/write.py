"""KML and KMZ out: what one reader may see, drawn for Google Earth and QGIS.

This module decides nothing about who sees what: it is given the features a reader may see
(the rows of ``GET /v1/world``, the operations of ``GET /v1/operations`` with their state,
the agreement's designated areas — or a world file already cut by ``accord export --as``)
and only draws them. Each placemark carries the Accord id, kind, owner, disclosure and
record index in its ``ExtendedData``, a ``TimeSpan`` of its valid times (Google Earth's time
slider), a style per kind (an operation's per state) and a label with its name.

* A protected site with a standoff gets a second placemark (kind ``standoff``, the site's
  id): the standoff circle as a polygon computed on the WGS84 ellipsoid
  (:func:`circle`); an operation on a point is drawn as the circle of its radius.
* Names and every text are user text: ElementTree escapes them for XML; characters XML 1.0
  does not allow (C0 controls but tab and newline, lone surrogates, U+FFFE, U+FFFF) are
  removed and a carriage return becomes a newline (:func:`clean`). A balloon shows only the
  description written here, in which every piece of user text is HTML-escaped too (Google
  Earth renders a description as HTML); no style or placemark refers to anything outside
  the file (no icon, no link): opening it fetches nothing.
* The document is deterministic: the same input gives the same bytes (the KMZ too: its one
  member, ``doc.kml``, is dated 1980-01-01).

>>> site = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.9, 25.1]},
...         "properties": {"id": "s-1", "kind": "protected_site", "name": "Clinic <A&B>",
...                        "declared_by": "hnc", "disclosure": "shared", "standoff_m": 500}}
>>> marks = feature_placemarks(site, reader="blue", index=7)
>>> [(m.kind, m.id, m.index) for m in marks]
[('protected_site', 's-1', 7), ('standoff', 's-1', 7)]
>>> text = write_kml(Document("World", marks)).decode()
>>> "Clinic &lt;A&amp;B&gt;" in text, text.count("<Placemark>")
(True, 2)
"""

from __future__ import annotations

import html
import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from accord.errors import InputError, Issue
from accord.geo import GEOD

__all__ = [
    "CIRCLE_VERTICES",
    "KML_MEDIA_TYPE",
    "KMZ_MEDIA_TYPE",
    "STYLES",
    "Document",
    "Placemark",
    "Shape",
    "area_placemark",
    "circle",
    "clean",
    "feature_placemarks",
    "shape_of",
    "vertices",
    "write_kml",
    "write_kmz",
]

KML_MEDIA_TYPE = "application/vnd.google-earth.kml+xml"
KMZ_MEDIA_TYPE = "application/vnd.google-earth.kmz"
KML_NS = "http://www.opengis.net/kml/2.2"
CIRCLE_VERTICES = 72
"""Vertices of a drawn circle (a standoff, an operation's radius): one every 5°."""

_KMZ_DATE = (1980, 1, 1, 0, 0, 0)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SOURCE = "kml"

Kind = Literal[
    "protected_site",
    "standoff",
    "movement",
    "position",
    "flight_plan",
    "operation",
    "designated_area",
]

# KML colours are aabbggrr.
_STYLE_COLOURS: dict[str, tuple[str, str]] = {
    # style id: (line and icon colour, fill colour)
    "protected_site": ("ff00c000", "4000c000"),
    "standoff": ("ff00c000", "3300c000"),
    "movement": ("ffffa000", "00000000"),
    "position_own": ("ffff6000", "40ff6000"),
    "position": ("ff00a5ff", "4000a5ff"),
    "flight_plan": ("ffffff00", "00000000"),
    "designated_area": ("ff0080ff", "260080ff"),
    "operation": ("ff00ffff", "4000ffff"),
    "operation_proposed": ("ff00ffff", "4000ffff"),
    "operation_approved": ("ff00ff80", "4000ff80"),
    "operation_notified": ("ff00d7ff", "4000d7ff"),
    "operation_on_hold": ("ff0000ff", "400000ff"),
    "operation_cleared": ("ff00ff80", "4000ff80"),
    "operation_executed": ("ffff00ff", "40ff00ff"),
    "operation_executed_unilaterally": ("ffff00ff", "40ff00ff"),
    "operation_vetoed": ("ff808080", "20808080"),
    "operation_completed": ("ff808080", "20808080"),
    "operation_cancelled": ("ff808080", "20808080"),
    "operation_expired": ("ff808080", "20808080"),
    "operation_notified_in_time": ("ff808080", "20808080"),
    "operation_notified_late": ("ff8000ff", "208000ff"),
}
STYLES: tuple[str, ...] = tuple(_STYLE_COLOURS)
"""Every style (``#<id>``): one per kind, own positions apart, one per operation state
(``operation`` alone: an operation from a file, which has no state). A document defines the
ones its placemarks use."""

_FOLDERS: dict[str, str] = {
    "designated_area": "Designated areas",
    "protected_site": "Protected sites",
    "standoff": "Standoff circles",
    "movement": "Movements",
    "position": "Positions",
    "flight_plan": "Flight plans",
    "operation": "Operations",
}


@dataclass(frozen=True, slots=True)
class Shape:
    """A geometry in GeoJSON's terms: ``Point`` (one part of one position), ``LineString``
    (one part) or ``Polygon`` (its rings, the first the outer one, each closed); positions
    are (lon, lat) or (lon, lat, altitude in metres)."""

    type: Literal["Point", "LineString", "Polygon"]
    parts: tuple[tuple[tuple[float, ...], ...], ...]


@dataclass(frozen=True, slots=True)
class Placemark:
    """One placemark: an object (or a site's standoff circle) as a reader may see it."""

    id: str
    kind: Kind
    name: str
    owner: str
    disclosure: str
    shape: Shape
    style: str
    index: int | None = None
    begin: datetime | None = None
    end: datetime | None = None
    lines: tuple[str, ...] = ()
    """What the balloon says, line by line (plain text: escaped when written)."""
    data: tuple[tuple[str, str], ...] = ()
    """More ``ExtendedData`` (name, value) after the Accord id, kind, owner, disclosure and
    record index."""

    def __post_init__(self) -> None:
        if self.kind not in _FOLDERS:
            raise ValueError(f"placemark {self.id!r}: no kind {self.kind!r}")
        if self.style not in _STYLE_COLOURS:
            raise ValueError(f"placemark {self.id!r}: no style {self.style!r}")


@dataclass(frozen=True, slots=True)
class Document:
    """A document: its name, its placemarks (written in folders by kind, in the order
    given) and what its description says (who it is drawn for, as of when)."""

    name: str
    placemarks: Sequence[Placemark]
    lines: tuple[str, ...] = field(default=())


# --- text -----------------------------------------------------------------------------------


def clean(text: str) -> str:
    """``text`` as XML 1.0 may carry it: characters it does not allow removed, a carriage
    return (alone or before a newline) made a newline (a parser would do so anyway).

    >>> clean("a\\x00b\\r\\nc\\rd\\ufffe")
    'ab\\nc\\nd'
    """
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: float) -> str:
    """A coordinate with 7 decimals at most (about a centimetre), no exponent.

    >>> _number(21.0), _number(-0.00000001), _number(25.123456789)
    ('21', '0', '25.1234568')
    """
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- from GeoJSON ---------------------------------------------------------------------------


def _bad(where: str | None, field_: str, message: str) -> InputError:
    """A refusal naming the field and the feature (``where``: its id) it is in."""
    return InputError(_SOURCE, [Issue(field_, message, feature=where)])


def _position(value: Any, where: str | None) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) not in (2, 3):
        raise _bad(where, "geometry.coordinates", "a position is [lon, lat] or [lon, lat, alt]")
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise _bad(where, "geometry.coordinates", "a position holds numbers") from None
    lon, lat = numbers[0], numbers[1]
    if not all(math.isfinite(v) for v in numbers) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _bad(where, "geometry.coordinates", "a position is out of range")
    return numbers


def _positions(value: Any, where: str | None, least: int) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, (list, tuple)) or len(value) < least:
        raise _bad(where, "geometry.coordinates", f"needs at least {least} positions")
    return tuple(_position(v, where) for v in value)


def shape_of(geometry: Any, where: str | None = None) -> Shape:
    """The :class:`Shape` of a GeoJSON ``geometry`` (a Point, LineString or Polygon; a
    polygon's rings closed if they were not); an :class:`~accord.errors.InputError` naming
    ``where`` (a feature) and the field otherwise."""
    if not isinstance(geometry, Mapping):
        raise _bad(where, "geometry", "must be a GeoJSON geometry")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return Shape("Point", ((_position(coordinates, where),),))
    if kind == "LineString":
        return Shape("LineString", (_positions(coordinates, where, 2),))
    if kind == "Polygon":
        if not isinstance(coordinates, (list, tuple)) or not coordinates:
            raise _bad(where, "geometry.coordinates", "a Polygon needs an outer ring")
        rings = []
        for ring in coordinates:
            points = _positions(ring, where, 3)
            rings.append(points if points[0] == points[-1] else (*points, points[0]))
        return Shape("Polygon", tuple(rings))
    raise _bad(where, "geometry.type", f"{kind!r} is not drawn (Point, LineString, Polygon)")


def circle(lon: float, lat: float, radius_m: float, vertices: int = CIRCLE_VERTICES) -> Shape:
    """The circle of ``radius_m`` around (lon, lat) on the WGS84 ellipsoid, as a closed
    polygon of ``vertices`` positions (each exactly ``radius_m`` away, geodesically).

    >>> ring = circle(21.9, 25.1, 2000.0).parts[0]
    >>> len(ring), ring[0] == ring[-1]
    (73, True)
    """
    azimuths = [360.0 * k / vertices for k in range(vertices)]
    lons, lats, _ = GEOD.fwd(
        [lon] * vertices, [lat] * vertices, azimuths, [radius_m] * vertices, radians=False
    )
    ring = tuple((float(x), float(y)) for x, y in zip(lons, lats, strict=True))
    return Shape("Polygon", ((*ring, ring[0]),))


def _time(props: Mapping[str, Any], key: str, where: str | None) -> datetime | None:
    value = props.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _bad(where, f"properties.{key}", "not an instant") from None
    if at.tzinfo is None:
        raise _bad(where, f"properties.{key}", "an instant needs an offset")
    return at


def _radius(props: Mapping[str, Any], key: str, where: str | None) -> float | None:
    value = props.get(key)
    if value is None:
        return None
    try:
        radius = float(value)
    except (TypeError, ValueError):
        raise _bad(where, f"properties.{key}", "must be a number of metres") from None
    if not math.isfinite(radius) or radius < 0:
        raise _bad(where, f"properties.{key}", "must be a number of metres, at least 0")
    return radius or None


def _text(props: Mapping[str, Any], key: str) -> str:
    value = props.get(key)
    return "" if value is None else str(value)


def _span(props: Mapping[str, Any], where: str | None) -> tuple[datetime | None, datetime | None]:
    kind = props.get("kind")
    if kind == "flight_plan":
        times = props.get("times")
        if isinstance(times, list) and times:
            return _time({"times": times[0]}, "times", where), _time(
                {"times": times[-1]}, "times", where
            )
        return None, None
    if kind == "operation":
        return _time(props, "window_start", where), _time(props, "window_end", where)
    return _time(props, "valid_from", where), _time(props, "valid_to", where)


_EXTRA = (
    "category",
    "standoff_m",
    "corridor_m",
    "uncertainty_m",
    "party",
    "operator",
    "mission",
    "confirmed_at",
    "reported_at",
    "course_deg",
    "speed_mps",
)


def _extra(props: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((key, _text(props, key)) for key in _EXTRA if props.get(key) is not None)


def _count(value: Any, depth: int = 0) -> int:
    if not isinstance(value, (list, tuple)) or depth > 3:
        return 0
    if value and not isinstance(value[0], (list, tuple)):
        return 1  # a position
    return sum(_count(v, depth + 1) for v in value)


def vertices(feature: Mapping[str, Any]) -> int:
    """The positions :func:`feature_placemarks` draws for ``feature`` — its geometry's, and
    a circle's (a site's standoff, an operation's radius) — read without checking anything:
    the cost of drawing it, for a document to be cut by its cost.

    >>> vertices({"geometry": {"type": "Point", "coordinates": [21, 25]},
    ...           "properties": {"standoff_m": 100}})
    74
    """
    geometry = feature.get("geometry")
    props = feature.get("properties")
    count = _count(geometry.get("coordinates")) if isinstance(geometry, Mapping) else 0
    if isinstance(props, Mapping) and (props.get("standoff_m") or props.get("radius_m")):
        count += CIRCLE_VERTICES + 1
    return max(count, 1)


def feature_placemarks(
    feature: Mapping[str, Any],
    *,
    reader: str | None,
    index: int | None = None,
    lines: Sequence[str] = (),
    status: str | None = None,
) -> list[Placemark]:
    """The placemark(s) of one GeoJSON feature of a world (its properties name its ``id``,
    ``kind``, ``declared_by`` and ``disclosure``): a protected site with a standoff has a
    second, its circle; an operation on a point is its circle. ``reader`` is the member the
    document is drawn for (its own positions are styled apart; None: the center's).
    ``status`` is an operation's state (its style; None: one from a file, without state),
    ``lines`` what its balloon says besides."""
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise _bad(None, "properties", "a feature needs its properties")
    object_id = _text(props, "id")
    where = object_id
    kind = _text(props, "kind")
    if kind not in _FOLDERS or kind in ("standoff", "designated_area"):
        raise _bad(where, "properties.kind", f"{kind!r} is no declared kind")
    owner = _text(props, "declared_by")
    if kind == "operation":
        owner = _text(props, "proposed_by") or owner
    disclosure = _text(props, "disclosure") or "shared"
    name = clean(_text(props, "name")).strip() or object_id
    shape = shape_of(feature.get("geometry"), where)
    begin, end = _span(props, where)
    style = kind
    if kind == "position" and reader is not None and owner == reader:
        style = "position_own"
    if kind == "operation":
        style = f"operation_{status}" if f"operation_{status}" in _STYLE_COLOURS else "operation"
        radius = _radius(props, "radius_m", where)
        if shape.type == "Point" and radius:
            lon, lat = shape.parts[0][0][:2]
            shape = circle(lon, lat, radius)
    label = kind.replace("_", " ")
    about = f"{label} of {owner} ({disclosure})"
    if kind == "operation":
        about = f"operation ({_text(props, 'category')}) of {owner}" + (
            f": {status}" if status else ""
        )
    data = _extra(props)
    if status is not None:
        data = (("status", status), *data)
    mark = Placemark(
        id=object_id,
        kind=kind,  # type: ignore[arg-type]  # checked against _FOLDERS above
        name=name,
        owner=owner,
        disclosure=disclosure,
        shape=shape,
        style=style,
        index=index,
        begin=begin,
        end=end,
        lines=(about, *lines),
        data=data,
    )
    marks = [mark]
    standoff = _radius(props, "standoff_m", where) if kind == "protected_site" else None
    if standoff and shape.type == "Point":
        lon, lat = shape.parts[0][0][:2]
        marks.append(
            Placemark(
                id=object_id,
                kind="standoff",
                name=f"{name} standoff {standoff:g} m",
                owner=owner,
                disclosure=disclosure,
                shape=circle(lon, lat, standoff),
                style="standoff",
                index=index,
                begin=begin,
                end=end,
                lines=(f"standoff of {standoff:g} m around {label} {name}",),
                data=(("standoff_m", f"{standoff:g}"),),
            )
        )
    return marks


def area_placemark(
    area_id: str,
    name: str,
    polygon: Iterable[tuple[float, float]],
    restricted: Iterable[str],
    exempt: Iterable[str],
) -> Placemark:
    """An agreement's designated area: the polygon, who may not fly in it, which missions
    are exempt (the agreement's, read by every member: owner ``agreement``, ``shared``)."""
    ring = tuple((float(lon), float(lat)) for lon, lat in polygon)
    shape = shape_of({"type": "Polygon", "coordinates": [list(ring)]}, area_id)
    closed_to = ", ".join(restricted)
    exempts = ", ".join(exempt) or "none"
    return Placemark(
        id=area_id,
        kind="designated_area",
        name=clean(name).strip() or area_id,
        owner="agreement",
        disclosure="shared",
        shape=shape,
        style="designated_area",
        lines=(f"designated area closed to {closed_to}", f"exempt missions: {exempts}"),
        data=(("restricted_operators", closed_to), ("exempt_missions", exempts)),
    )


# --- writing --------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrib)
    if text is not None:
        child.text = clean(text)
    return child


def _style(parent: ET.Element, style_id: str) -> None:
    line, fill = _STYLE_COLOURS[style_id]
    style = _sub(parent, "Style", id=style_id)
    icon = _sub(style, "IconStyle")
    _sub(icon, "color", line)
    _sub(icon, "scale", "1.1")
    label = _sub(style, "LabelStyle")
    _sub(label, "scale", "0.9")
    line_style = _sub(style, "LineStyle")
    _sub(line_style, "color", line)
    _sub(line_style, "width", "3" if style_id in ("movement", "flight_plan") else "2")
    poly = _sub(style, "PolyStyle")
    _sub(poly, "color", fill)
    balloon = _sub(style, "BalloonStyle")
    _sub(balloon, "text", "$[description]")


def _coordinates(points: Iterable[tuple[float, ...]]) -> str:
    return " ".join(",".join(_number(v) for v in point) for point in points)


def _geometry(parent: ET.Element, shape: Shape) -> None:
    three_d = any(len(p) == 3 for part in shape.parts for p in part)
    mode = "absolute" if three_d else "clampToGround"
    if shape.type == "Point":
        point = _sub(parent, "Point")
        _sub(point, "altitudeMode", mode)
        _sub(point, "coordinates", _coordinates(shape.parts[0]))
    elif shape.type == "LineString":
        line = _sub(parent, "LineString")
        _sub(line, "tessellate", "1")
        _sub(line, "altitudeMode", mode)
        _sub(line, "coordinates", _coordinates(shape.parts[0]))
    else:
        polygon = _sub(parent, "Polygon")
        _sub(polygon, "tessellate", "1")
        _sub(polygon, "altitudeMode", mode)
        for n, ring in enumerate(shape.parts):
            boundary = _sub(polygon, "outerBoundaryIs" if n == 0 else "innerBoundaryIs")
            linear = _sub(boundary, "LinearRing")
            _sub(linear, "coordinates", _coordinates(ring))


def _balloon(mark: Placemark) -> str:
    """The description: every piece HTML-escaped (Google Earth renders it as HTML)."""
    lines = [f"<b>{html.escape(clean(mark.name))}</b>"]
    lines += [html.escape(clean(line)) for line in mark.lines]
    index = "" if mark.index is None else f", record entry {mark.index}"
    lines.append(html.escape(f"Accord id {clean(mark.id)}{index}"))
    if mark.begin is not None or mark.end is not None:
        begin = _instant(mark.begin) if mark.begin else "…"
        end = _instant(mark.end) if mark.end else "…"
        lines.append(html.escape(f"valid {begin} to {end}"))
    return "<br/>".join(lines)


def _placemark(parent: ET.Element, mark: Placemark) -> None:
    element = _sub(parent, "Placemark")
    _sub(element, "name", mark.name)
    _sub(element, "description", _balloon(mark))
    if mark.begin is not None or mark.end is not None:
        span = _sub(element, "TimeSpan")
        if mark.begin is not None:
            _sub(span, "begin", _instant(mark.begin))
        if mark.end is not None:
            _sub(span, "end", _instant(mark.end))
    _sub(element, "styleUrl", f"#{mark.style}")
    extended = _sub(element, "ExtendedData")
    fields = [
        ("accord_id", mark.id),
        ("kind", mark.kind),
        ("owner", mark.owner),
        ("disclosure", mark.disclosure),
    ]
    if mark.index is not None:
        fields.append(("record_index", str(mark.index)))
    if mark.begin is not None:
        fields.append(("valid_from", _instant(mark.begin)))
    if mark.end is not None:
        fields.append(("valid_to", _instant(mark.end)))
    for name, value in (*fields, *mark.data):
        data = _sub(extended, "Data", name=clean(name))
        _sub(data, "value", value)
    _geometry(element, mark.shape)


def write_kml(document: Document) -> bytes:
    """The KML 2.2 text (UTF-8) of ``document``: the styles it uses, then a folder per kind (in the
    order designated areas, sites, standoff circles, movements, positions, flight plans,
    operations) holding its placemarks in the order given."""
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = _sub(root, "Document")
    _sub(doc, "name", document.name)
    if document.lines:
        _sub(doc, "description", "<br/>".join(html.escape(clean(x)) for x in document.lines))
    used = {mark.style for mark in document.placemarks}
    for style_id in STYLES:
        if style_id in used:
            _style(doc, style_id)
    by_kind: dict[str, list[Placemark]] = {kind: [] for kind in _FOLDERS}
    for mark in document.placemarks:
        by_kind[mark.kind].append(mark)
    for kind, title in _FOLDERS.items():
        if not by_kind[kind]:
            continue
        folder = _sub(doc, "Folder")
        _sub(folder, "name", title)
        for mark in by_kind[kind]:
            _placemark(folder, mark)
    ET.indent(root, space=" ")
    out = io.BytesIO()
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out.getvalue() + b"\n"


def write_kmz(kml: bytes) -> bytes:
    """A KMZ: a zip holding ``kml`` as ``doc.kml`` (deflated; dated 1980-01-01, so the same
    KML always gives the same bytes).

    >>> import zipfile, io
    >>> kmz = write_kmz(b"<kml/>")
    >>> zipfile.ZipFile(io.BytesIO(kmz)).read("doc.kml"), kmz == write_kmz(b"<kml/>")
    (b'<kml/>', True)
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("doc.kml", date_time=_KMZ_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, kml)
    return out.getvalue()
