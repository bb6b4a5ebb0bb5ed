"""The declared world: protected sites, movements, positions, flight plans and operations.

A world is read from a GeoJSON FeatureCollection (RFC 7946: lon, lat order, WGS84). Every
feature has ``properties.kind``, a unique ``properties.id``, ``declared_by``, ``disclosure``
(``shared`` or ``center``), an optional ``uncertainty_m`` and the fields of its kind.
:func:`load_world` checks everything against the agreement and raises
:class:`~accord.errors.WorldError` naming the feature id and field of *every* problem;
nothing is half-loaded.

>>> from accord.agreement import load_agreement
>>> from accord.examples import example_path
>>> agreement = load_agreement(example_path("jig.yaml"))
>>> world = load_world(example_path("world.geojson"), agreement)
>>> len(world.operations) > 0
True
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from accord.agreement import Agreement, Limits, ObjectKind
from accord.aircraft import identity_problem, normal_identity
from accord.chrono import parse_instant
from accord.coordinates import parse_point
from accord.errors import InputError, Issue, WorldError
from accord.geo import GEOD
from accord.jsontext import TWICE, DuplicateKey
from accord.jsontext import loads as strict_loads

__all__ = [
    "Declared",
    "Device",
    "Disclosure",
    "FlightPlan",
    "Movement",
    "Operation",
    "Position",
    "ProtectedSite",
    "World",
    "load_world",
    "parse_world",
    "resolve_mgrs",
]

MAX_ISSUES = 200

_NO_LIMIT: dict[str, Any] = {
    name: (math.inf if info.annotation is float else 1 << 62)
    for name, info in Limits.model_fields.items()
}
_UNLIMITED = Limits.model_construct(None, **_NO_LIMIT)
"""No limits: what is already stored is read as it was accepted, whatever the agreement's
limits say now (a tightened limit must not make the world in force unreadable)."""

_SEGMENT_M = 2000.0
"""The engine's longest leg (:data:`accord.deconfliction.engine.SEGMENT_M`): the vertex
limits count a geometry as the engine will hold it."""


class Disclosure(StrEnum):
    """Who may see a declared object: every party, or only the center's checks."""

    SHARED = "shared"
    CENTER = "center"


@dataclass(frozen=True, slots=True, kw_only=True)
class Declared:
    """What every declared object has."""

    id: str
    declared_by: str
    disclosure: Disclosure = Disclosure.SHARED
    uncertainty_m: float = 0.0
    geometry: BaseGeometry
    name: str = ""

    @property
    def kind(self) -> ObjectKind:
        raise NotImplementedError

    @property
    def owner(self) -> str:
        """The party (or notifier) whose object this is."""
        return self.declared_by


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectedSite(Declared):
    """A hospital, school, aid warehouse… (Point or Polygon). Always protected, even stale."""

    category: str
    standoff_m: float | None = None
    confirmed_at: datetime | None = None

    @property
    def kind(self) -> ObjectKind:
        return ObjectKind.PROTECTED_SITE


@dataclass(frozen=True, slots=True, kw_only=True)
class Movement(Declared):
    """A convoy or evacuation along a route (LineString) between two instants."""

    valid_from: datetime
    valid_to: datetime
    corridor_m: float = 0.0

    @property
    def kind(self) -> ObjectKind:
        return ObjectKind.MOVEMENT


@dataclass(frozen=True, slots=True)
class Device:
    """The TAK device a position reports: its CoT ``uid`` (1–100 of ``[A-Za-z0-9._:@-]``,
    unique to one party at the center) and its ``callsign``, if it has one."""

    uid: str
    callsign: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"uid": self.uid, "callsign": self.callsign}


_DEVICE_UID = re.compile(r"[A-Za-z0-9._:@-]{1,100}\Z")
"""What a device's uid is (a CoT ``uid`` as TAK devices make them, bounded)."""
_MAX_CALLSIGN = 200
_MAX_SPEED_MPS = 1000.0
"""The fastest a position moves (a report of more is no ground unit's)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Position(Declared):
    """Where a party's forces are (Point or Polygon) between two instants; for a device's
    report also the ``device``, its ``course_deg`` (true, ``[0, 360)``) and ``speed_mps``,
    and when it reported (``reported_at``)."""

    party: str
    valid_from: datetime
    valid_to: datetime
    device: Device | None = None
    course_deg: float | None = None
    speed_mps: float | None = None
    reported_at: datetime | None = None

    @property
    def kind(self) -> ObjectKind:
        return ObjectKind.POSITION

    @property
    def owner(self) -> str:
        return self.party


@dataclass(frozen=True, slots=True, kw_only=True)
class FlightPlan(Declared):
    """A 4D path: LineString of (lon, lat, altitude metres) with one time per vertex."""

    times: tuple[datetime, ...]
    operator: str
    party: str | None
    mission: str
    icao24: str | None = None
    """The aircraft's ICAO 24-bit address (six hexadecimal digits, kept lowercase): a sensor
    track with it is this plan's aircraft and takes its disclosure (DECISIONS 5)."""
    callsign: str | None = None
    """The aircraft's callsign (1 to 8 letters and digits, kept uppercase): matched when a
    track carries no address this plan names."""

    @property
    def kind(self) -> ObjectKind:
        return ObjectKind.FLIGHT_PLAN

    @property
    def owner(self) -> str:
        return self.party if self.party is not None else self.operator

    @property
    def coords(self) -> tuple[tuple[float, float, float], ...]:
        return tuple((float(x), float(y), float(z)) for x, y, z in self.geometry.coords)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation(Declared):
    """A proposed operation: a Point with ``radius_m`` or a Polygon, in a time window."""

    category: str
    proposed_by: str
    executors: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    radius_m: float = 0.0

    @property
    def kind(self) -> ObjectKind:
        return ObjectKind.OPERATION

    @property
    def owner(self) -> str:
        return self.proposed_by


@dataclass(frozen=True, slots=True)
class World:
    """Every declared object, by kind, with ids unique across the whole world."""

    protected_sites: tuple[ProtectedSite, ...] = ()
    movements: tuple[Movement, ...] = ()
    positions: tuple[Position, ...] = ()
    flight_plans: tuple[FlightPlan, ...] = ()
    operations: tuple[Operation, ...] = ()
    _by_id: dict[str, Declared] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for obj in self:
            self._by_id[obj.id] = obj

    def __iter__(self) -> Iterator[Declared]:
        yield from self.protected_sites
        yield from self.movements
        yield from self.positions
        yield from self.flight_plans
        yield from self.operations

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, object_id: str) -> Declared | None:
        return self._by_id.get(object_id)

    def __getitem__(self, object_id: str) -> Declared:
        return self._by_id[object_id]


# --- parsing --------------------------------------------------------------------------------

_NOTIFIER_KINDS = frozenset({ObjectKind.PROTECTED_SITE, ObjectKind.MOVEMENT})
_COMMON = frozenset({"kind", "id", "declared_by", "disclosure", "uncertainty_m", "name"})
_FIELDS: dict[ObjectKind, frozenset[str]] = {
    ObjectKind.PROTECTED_SITE: _COMMON | {"category", "standoff_m", "confirmed_at"},
    ObjectKind.MOVEMENT: _COMMON | {"valid_from", "valid_to", "corridor_m"},
    ObjectKind.POSITION: _COMMON
    | {"party", "valid_from", "valid_to", "device", "course_deg", "speed_mps", "reported_at"},
    ObjectKind.FLIGHT_PLAN: _COMMON
    | {"times", "operator", "party", "mission", "icao24", "callsign"},
    ObjectKind.OPERATION: _COMMON
    | {"category", "proposed_by", "executor", "window_start", "window_end", "radius_m"},
}
_GEOMETRIES: dict[ObjectKind, tuple[str, ...]] = {
    ObjectKind.PROTECTED_SITE: ("Point", "Polygon"),
    ObjectKind.MOVEMENT: ("LineString",),
    ObjectKind.POSITION: ("Point", "Polygon"),
    ObjectKind.FLIGHT_PLAN: ("LineString",),
    ObjectKind.OPERATION: ("Point", "Polygon"),
}
_MGRS_KINDS = frozenset(k for k, allowed in _GEOMETRIES.items() if "Point" in allowed)
"""The kinds whose point may be typed as ``properties.mgrs`` in place of a geometry (read
first: another kind's ``mgrs`` is a field it does not have)."""


class _Bad(Exception):
    """One problem in the feature being read (internal)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class _Reader:
    """Reads one feature's properties, collecting every problem rather than stopping."""

    def __init__(self, props: Mapping[str, Any], issues: list[Issue], fid: str | None) -> None:
        self.props = props
        self.issues = issues
        self.fid = fid

    def bad(self, name: str, message: str) -> None:
        self.issues.append(Issue(name, message, feature=self.fid))

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.props.get(name)
        if value is None:
            if required:
                self.bad(f"properties.{name}", "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            self.bad(f"properties.{name}", "must be a non-empty string")
            return default
        return value.strip()

    def number(
        self,
        name: str,
        *,
        default: float | None = None,
        minimum: float = 0.0,
        positive: bool = False,
        maximum: tuple[float, str] | None = None,
    ) -> float | None:
        value = self.props.get(name)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.bad(f"properties.{name}", "must be a finite number")
            return default
        if value < minimum or (positive and value <= 0):
            self.bad(f"properties.{name}", f"must be {'>' if positive else '>='} {minimum:g}")
            return default
        if maximum is not None and value > maximum[0]:
            whose = f" (the agreement's limits.{maximum[1]})" if maximum[1] else ""
            self.bad(f"properties.{name}", f"must be <= {maximum[0]:g}{whose}")
            return default
        return float(value)

    def instant(self, name: str, *, required: bool = True) -> datetime | None:
        value = self.props.get(name)
        if value is None:
            if required:
                self.bad(f"properties.{name}", "is required")
            return None
        try:
            return parse_instant(value)
        except ValueError as exc:
            self.bad(f"properties.{name}", str(exc))
            return None


def _check_position(field_name: str, pos: Any, dims: int) -> tuple[float, ...]:
    if not isinstance(pos, list | tuple) or len(pos) < 2:
        raise _Bad(field_name, "a position is [longitude, latitude]")
    if len(pos) < dims:
        raise _Bad(field_name, "a flight plan position is [longitude, latitude, altitude_m]")
    values = []
    for v in pos[:3]:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _Bad(field_name, "coordinates must be finite numbers")
        values.append(float(v))
    lon, lat = values[0], values[1]
    if not -180.0 <= lon <= 180.0:
        raise _Bad(field_name, f"longitude {lon:g} is outside ±180")
    if not -90.0 <= lat <= 90.0:
        raise _Bad(field_name, f"latitude {lat:g} is outside ±90")
    return tuple(values[:dims]) if dims == 3 else (lon, lat)


def _count_positions(coords: list[Any], polygon: bool) -> int:
    """Positions given (each ring of a polygon counted), without reading any of them."""
    if not polygon:
        return len(coords)
    return sum(len(ring) if isinstance(ring, list) else 0 for ring in coords)


def densified_vertices(lines: Sequence[Sequence[tuple[float, ...]]]) -> int:
    """The vertices the engine holds for these lines (or rings): every position, plus one
    every 2 km along each geodesic leg."""
    total = 0
    for line in lines:
        if len(line) < 2:
            total += len(line)
            continue
        xy = np.asarray([p[:2] for p in line], dtype=np.float64)
        _, _, length = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
        parts = np.maximum(np.ceil(np.asarray(length) / _SEGMENT_M), 1.0)
        total += int(parts.sum()) + 1
    return total


def _parse_geometry(
    geometry: Any,
    allowed: Sequence[str],
    *,
    three_d: bool,
    limits: Limits,
    max_positions: int,
    extent: bool = False,
) -> BaseGeometry:
    if not isinstance(geometry, Mapping):
        raise _Bad("geometry", "is required (a GeoJSON geometry object)")
    gtype = geometry.get("type")
    if gtype not in allowed:
        raise _Bad("geometry.type", f"must be {' or '.join(allowed)}, not {gtype!r}")
    coords = geometry.get("coordinates")
    where = "geometry.coordinates"
    if gtype == "Point":
        return shapely.Point(_check_position(where, coords, 2))
    if not isinstance(coords, list):
        raise _Bad(where, "must be an array")
    given = _count_positions(coords, gtype == "Polygon")
    if given > max_positions:
        which = (
            "limits.operation_vertices"
            if max_positions < limits.vertices_per_geometry
            else "limits.vertices_per_geometry"
        )
        raise _Bad(
            where,
            f"has too many vertices: {given} positions, at most {max_positions} "
            f"(the agreement's {which})",
        )
    if gtype == "LineString":
        dims = 3 if three_d else 2
        pts = [_check_position(f"{where}[{i}]", p, dims) for i, p in enumerate(coords)]
        if len(pts) < 2:
            raise _Bad(where, "a LineString needs at least 2 positions")
        _check_span(where, [p[0] for p in pts])
        _check_dense(where, [pts], limits)
        line = shapely.LineString(pts)
        if line.length == 0:
            raise _Bad(where, "the line has zero length")
        return line
    # Polygon: exterior ring then holes, each closed (RFC 7946 §3.1.6).
    if not coords:
        raise _Bad(where, "a Polygon needs an exterior ring")
    rings: list[list[tuple[float, ...]]] = []
    for r, ring in enumerate(coords):
        if not isinstance(ring, list):
            raise _Bad(f"{where}[{r}]", "a ring is an array of positions")
        pts = [_check_position(f"{where}[{r}][{i}]", p, 2) for i, p in enumerate(ring)]
        if len(pts) < 4:
            raise _Bad(f"{where}[{r}]", "a ring needs at least 4 positions (closed)")
        if pts[0] != pts[-1]:
            raise _Bad(f"{where}[{r}]", "the ring is not closed (first position must equal last)")
        _check_span(f"{where}[{r}]", [p[0] for p in pts])
        rings.append(pts)
    polygon = shapely.Polygon(rings[0], rings[1:])
    if extent:
        _check_extent(where, polygon, limits)  # too wide says more than too many vertices
    _check_dense(where, rings, limits, operation=extent)
    if not shapely.is_valid(polygon):
        raise _Bad(where, f"invalid polygon: {shapely.is_valid_reason(polygon)}")
    if polygon.area == 0:
        raise _Bad(where, "the polygon has zero area")
    return polygon


def _check_span(where: str, lons: Sequence[float]) -> None:
    """A geometry spans at most 180° of longitude. Over that, either it was meant to cross
    the antimeridian (its positions sit close to ±180° on both sides, a wide empty band
    between them: the short way round, under 90°, goes over ±180°) or it is simply too wide
    (a huge polygon); the message says which."""
    west, east = min(lons), max(lons)
    if east - west <= 180.0:
        return
    ordered = sorted(set(lons))
    widest_gap = max(b - a for a, b in itertools.pairwise(ordered))
    around = west + 360.0 - east  # the gap across ±180°
    if widest_gap > around and 360.0 - widest_gap <= 90.0:
        raise _Bad(where, "geometry crosses the antimeridian; split it in two features")
    raise _Bad(
        where,
        f"geometry is too wide: it spans {east - west:.1f}° of longitude ({west:g}° to "
        f"{east:g}°), and at least {360.0 - max(widest_gap, around):.1f}° whichever way "
        "round; a feature spans at most 180°",
    )


def _check_dense(
    where: str,
    lines: Sequence[Sequence[tuple[float, ...]]],
    limits: Limits,
    *,
    operation: bool = False,
) -> None:
    """At most ``limits.densified_vertices_per_geometry`` vertices once densified (an
    operation's area: at most ``limits.operation_densified_vertices`` too)."""
    if limits is _UNLIMITED:
        return
    most, which = limits.densified_vertices_per_geometry, "densified_vertices_per_geometry"
    if operation and limits.operation_densified_vertices < most:
        most, which = limits.operation_densified_vertices, "operation_densified_vertices"
    count = densified_vertices(lines)
    if count > most:
        raise _Bad(
            where,
            f"has too many vertices: {count} counting one every 2 km along its edges, at most "
            f"{most} (the agreement's limits.{which}); a line or boundary that long costs "
            "every check near it",
        )


def reach_m(geometry: BaseGeometry) -> float:
    """How far ``geometry`` reaches from its centroid: the longest geodesic from it to a
    vertex (a polygon's farthest point is a vertex of its outer ring; the engine's local
    frame is accurate over so much).

    >>> round(reach_m(shapely.LineString([(20.0, 10.0), (20.2, 10.0)])))
    10964
    """
    centre = geometry.centroid
    coords = shapely.get_coordinates(geometry)
    n = len(coords)
    _, _, dist = GEOD.inv([centre.x] * n, [centre.y] * n, coords[:, 0], coords[:, 1])
    return float(np.max(dist))


def _check_extent(where: str, geometry: BaseGeometry, limits: Limits) -> None:
    """An operation's polygon reaches at most ``limits.operation_extent_m`` from its centre."""
    if limits is _UNLIMITED:
        return
    reach = reach_m(geometry)
    if reach > limits.operation_extent_m:
        raise _Bad(
            where,
            f"the area is too wide: it reaches {reach / 1000:.0f} km from its centre, at most "
            f"{limits.operation_extent_m / 1000:g} km (the agreement's "
            "limits.operation_extent_m, the engine's accuracy); split it into several operations",
        )


def _mgrs_resolved(props: Mapping[str, Any], geometry: Any, limits: Limits) -> dict[str, Any]:
    """The properties with ``mgrs`` read: the square's centre as the Point geometry, the
    ``mgrs`` property gone and ``uncertainty_m`` widened by the square's half-diagonal (rounded
    up to the centimetre), so the declaration covers the whole square it names; raises
    :class:`_Bad` naming ``properties.mgrs``."""
    where = "properties.mgrs"
    if geometry is not None:
        raise _Bad(where, "give the point either as geometry or as properties.mgrs, not both")
    try:
        point = parse_point(props["mgrs"], field=where)
    except InputError as error:
        raise _Bad(where, error.issues[0].message) from None
    if point.kind != "mgrs":
        raise _Bad(where, f"is an MGRS reference (34R EN 50455 65040), not {point.kind} degrees")
    given = props.get("uncertainty_m")
    base = 0.0
    if given is not None:
        try:
            base = float(given) if not isinstance(given, bool | str) else math.nan
        except (TypeError, ValueError, OverflowError):
            base = math.nan
        if not (math.isfinite(base) and base >= 0):
            raise _Bad("properties.uncertainty_m", "must be a finite number >= 0")
    widened = math.ceil((base + point.uncertainty_m) * 100) / 100
    if widened > limits.uncertainty_m:
        raise _Bad(
            where,
            f"a {point.precision_m} m square reaches {point.uncertainty_m:.0f} m from its centre; "
            f"with uncertainty_m that is {widened:g} m, more than the agreement's "
            f"limits.uncertainty_m ({limits.uncertainty_m:g} m): give more digits",
        )
    out = {k: v for k, v in props.items() if k != "mgrs"}
    out["uncertainty_m"] = widened
    return {"geometry": point.geometry(), "properties": out}


def resolve_mgrs(feature: Any, agreement: Agreement, *, source: str = "feature") -> Any:
    """``feature`` with its point read from ``properties.mgrs``, as it is stored: the
    square's centre as a GeoJSON Point, ``mgrs`` dropped, ``uncertainty_m`` widened by the
    square's half-diagonal. A feature without ``properties.mgrs`` (or of a kind that has no
    point) comes back as it is; :func:`parse_world` reads ``mgrs`` itself, and says what
    is wrong with it. Raises :class:`~accord.errors.WorldError` naming ``properties.mgrs``.

    >>> from accord.agreement import load_agreement
    >>> from accord.examples import example_path
    >>> agreement = load_agreement(example_path("jig.yaml"))
    >>> typed = {"type": "Feature", "properties": {"kind": "position", "mgrs": "34REN5045565040"}}
    >>> stored = resolve_mgrs(typed, agreement)
    >>> stored["geometry"]["type"], stored["properties"]
    ('Point', {'kind': 'position', 'uncertainty_m': 0.71})
    """
    if not isinstance(feature, Mapping):
        return feature
    props = feature.get("properties")
    if not isinstance(props, Mapping) or "mgrs" not in props:
        return feature
    try:
        kind = ObjectKind(str(props.get("kind")))
    except ValueError:
        return feature
    if kind not in _MGRS_KINDS:
        return feature
    try:
        resolved = _mgrs_resolved(props, feature.get("geometry"), agreement.limits)
    except _Bad as bad:
        raw_id = props.get("id", feature.get("id"))
        label = raw_id if isinstance(raw_id, str) and raw_id.strip() else None
        raise WorldError(source, [Issue(bad.field, bad.message, feature=label)]) from None
    return {**feature, **resolved}


def _parse_feature(
    index: int,
    feature: Any,
    agreement: Agreement,
    issues: list[Issue],
    seen: dict[str, int],
    limits: Limits,
) -> Declared | None:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        issues.append(Issue("type", "must be a GeoJSON Feature", feature=f"#{index}"))
        return None
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        issues.append(Issue("properties", "must be an object", feature=f"#{index}"))
        return None
    raw_id = props.get("id", feature.get("id"))
    fid = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else None
    label = fid if fid is not None else f"#{index}"
    start = len(issues)
    r = _Reader(props, issues, label)
    if fid is None:
        r.bad("properties.id", "is required (a non-empty string)")
    elif fid in seen:
        r.bad("properties.id", f"duplicate id (first used by feature #{seen[fid]})")
    else:
        seen[fid] = index
    if props.get("kind") is None:
        r.bad("properties.kind", "is required")
        return None
    try:
        kind = ObjectKind(str(props.get("kind")))
    except ValueError:
        known = ", ".join(k.value for k in ObjectKind)
        r.bad("properties.kind", f"unknown kind {props.get('kind')!r} (known: {known})")
        return None
    geometry_given = feature.get("geometry")
    if kind in _MGRS_KINDS and "mgrs" in props:
        try:
            resolved = _mgrs_resolved(props, geometry_given, limits)
        except _Bad as bad:
            r.bad(bad.field, bad.message)
            return None
        props, geometry_given = resolved["properties"], resolved["geometry"]
        r.props = props
    unknown = sorted(set(props) - _FIELDS[kind])
    for name in unknown:
        r.bad(
            f"properties.{name}",
            f"is not a field of {'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value}",
        )

    declared_by = r.text("declared_by")
    if declared_by and declared_by not in agreement.declarant_ids:
        r.bad("properties.declared_by", f"unknown party or notifier {declared_by!r}")
    raw_disclosure = props.get("disclosure", "shared")
    try:
        disclosure = Disclosure(raw_disclosure)
    except ValueError:
        r.bad("properties.disclosure", f"must be 'shared' or 'center', not {raw_disclosure!r}")
        disclosure = Disclosure.SHARED
    if declared_by in agreement.notifier_ids:
        if kind not in _NOTIFIER_KINDS:
            r.bad("properties.kind", "a humanitarian notifier declares only sites and movements")
        if disclosure is not Disclosure.SHARED:
            r.bad("properties.disclosure", "a humanitarian notifier's declarations are shared")
    uncertainty = (
        r.number("uncertainty_m", default=0.0, maximum=(limits.uncertainty_m, "uncertainty_m"))
        or 0.0
    )
    name = props.get("name", "")
    if not isinstance(name, str):
        r.bad("properties.name", "must be a string")
        name = ""

    geometry: BaseGeometry | None = None
    try:
        geometry = _parse_geometry(
            geometry_given,
            _GEOMETRIES[kind],
            three_d=kind is ObjectKind.FLIGHT_PLAN,
            limits=limits,
            max_positions=(
                min(limits.vertices_per_geometry, limits.operation_vertices)
                if kind is ObjectKind.OPERATION
                else limits.vertices_per_geometry
            ),
            extent=kind is ObjectKind.OPERATION,
        )
    except _Bad as bad:
        r.bad(bad.field, bad.message)

    common: dict[str, Any] = {
        "id": fid or "",
        "declared_by": declared_by,
        "disclosure": disclosure,
        "uncertainty_m": uncertainty,
        "geometry": geometry,
        "name": name,
    }
    obj: Declared | None = None
    if kind is ObjectKind.PROTECTED_SITE:
        obj = ProtectedSite(
            **common,
            category=r.text("category"),
            standoff_m=r.number("standoff_m", maximum=(limits.standoff_m, "standoff_m")),
            confirmed_at=r.instant("confirmed_at", required=False),
        )
    elif kind is ObjectKind.MOVEMENT:
        valid_from, valid_to = r.instant("valid_from"), r.instant("valid_to")
        _check_order(r, "valid_from", valid_from, "valid_to", valid_to)
        obj = Movement(
            **common,
            valid_from=valid_from or datetime.min,
            valid_to=valid_to or datetime.min,
            corridor_m=r.number(
                "corridor_m", default=0.0, maximum=(limits.corridor_m, "corridor_m")
            )
            or 0.0,
        )
    elif kind is ObjectKind.POSITION:
        party = r.text("party")
        if party and party not in agreement.party_ids:
            r.bad("properties.party", f"unknown party {party!r}")
        valid_from, valid_to = r.instant("valid_from"), r.instant("valid_to")
        _check_order(r, "valid_from", valid_from, "valid_to", valid_to)
        course = r.number("course_deg")
        if course is not None and course >= 360.0:
            r.bad("properties.course_deg", "must be < 360 (degrees true)")
            course = None
        obj = Position(
            **common,
            party=party,
            valid_from=valid_from or datetime.min,
            valid_to=valid_to or datetime.min,
            device=_device(r),
            course_deg=course,
            speed_mps=r.number("speed_mps", maximum=(_MAX_SPEED_MPS, "")),
            reported_at=r.instant("reported_at", required=False),
        )
    elif kind is ObjectKind.FLIGHT_PLAN:
        operator = r.text("operator")
        if operator and operator not in agreement.operator_ids:
            r.bad("properties.operator", f"unknown operator {operator!r}")
        flight_party: str | None = None
        if props.get("party") is not None:
            flight_party = r.text("party")
            if flight_party and flight_party not in agreement.party_ids:
                r.bad("properties.party", f"unknown party {flight_party!r}")
        times = _flight_times(r, geometry)
        obj = FlightPlan(
            **common,
            times=times,
            operator=operator,
            party=flight_party or None,
            mission=r.text("mission"),
            icao24=_ident(r, "icao24"),
            callsign=_ident(r, "callsign"),
        )
    else:
        category = r.text("category")
        if category and category not in agreement.categories:
            known = ", ".join(sorted(agreement.categories))
            r.bad("properties.category", f"unknown category {category!r} (known: {known})")
        proposed_by = r.text("proposed_by")
        if proposed_by and proposed_by not in agreement.party_ids:
            r.bad("properties.proposed_by", f"unknown party {proposed_by!r}")
        executors = _executors(r, agreement)
        ws, we = r.instant("window_start"), r.instant("window_end")
        _check_order(r, "window_start", ws, "window_end", we)
        radius = r.number(
            "radius_m", positive=True, maximum=(limits.operation_extent_m, "operation_extent_m")
        )
        point = geometry is not None and geometry.geom_type == "Point"
        if point and props.get("radius_m") is None:
            r.bad("properties.radius_m", "is required for an operation on a Point")
        if geometry is not None and geometry.geom_type == "Polygon" and "radius_m" in props:
            r.bad("properties.radius_m", "applies only to an operation on a Point")
        obj = Operation(
            **common,
            category=category,
            proposed_by=proposed_by,
            executors=executors,
            window_start=ws or datetime.min,
            window_end=we or datetime.min,
            radius_m=radius or 0.0,
        )
    if len(issues) > start:
        return None
    return obj


def _device(r: _Reader) -> Device | None:
    """A position's ``device`` (``{"uid", "callsign"}``), each problem named."""
    value = r.props.get("device")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        r.bad("properties.device", 'must be an object {"uid": …, "callsign": …}')
        return None
    for name in sorted(set(value) - {"uid", "callsign"}, key=str)[:5]:
        r.bad(f"properties.device.{str(name)[:40]}", "is not a field of a device")
    uid = value.get("uid")
    if not isinstance(uid, str) or not _DEVICE_UID.match(uid):
        r.bad("properties.device.uid", "must be 1 to 100 characters of A-Z a-z 0-9 . _ : @ -")
        uid = None
    callsign = value.get("callsign")
    if callsign is not None and (
        not isinstance(callsign, str) or len(callsign) > _MAX_CALLSIGN or not callsign.isprintable()
    ):
        r.bad(
            "properties.device.callsign",
            f"must be null or printable text of at most {_MAX_CALLSIGN} characters",
        )
        callsign = None
    return None if uid is None else Device(uid, callsign)


def _check_order(r: _Reader, a: str, start: datetime | None, b: str, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        r.bad(
            f"properties.{b}", f"ends at or before {a} ({end.isoformat()} <= {start.isoformat()})"
        )


def _executors(r: _Reader, agreement: Agreement) -> tuple[str, ...]:
    raw = r.props.get("executor")
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values:
        r.bad("properties.executor", "is required: a party id or a list of party ids")
        return ()
    out: list[str] = []
    for v in values:
        if not isinstance(v, str) or v not in agreement.party_ids:
            r.bad("properties.executor", f"unknown party {v!r}")
        elif v in out:
            r.bad("properties.executor", f"party {v!r} is named twice")
        else:
            out.append(v)
    return tuple(out)


def _ident(r: _Reader, name: str) -> str | None:
    """An optional identity of a flight plan's aircraft (:mod:`accord.aircraft`), kept
    normalised, or ``None``."""
    text = r.text(name, required=False, default="")
    if not text:
        return None
    value = normal_identity(name, text)
    if value is None:
        r.bad(f"properties.{name}", identity_problem(name))
    return value


def _flight_times(r: _Reader, geometry: BaseGeometry | None) -> tuple[datetime, ...]:
    raw = r.props.get("times")
    if not isinstance(raw, list) or not raw:
        r.bad("properties.times", "is required: one ISO 8601 time per vertex")
        return ()
    times: list[datetime] = []
    for i, value in enumerate(raw):
        try:
            times.append(parse_instant(value))
        except ValueError as exc:
            r.bad(f"properties.times[{i}]", str(exc))
            return ()
    if geometry is not None and len(times) != len(geometry.coords):
        r.bad("properties.times", f"has {len(times)} times for {len(geometry.coords)} vertices")
        return ()
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            r.bad(f"properties.times[{i}]", "times must strictly increase along the path")
            return ()
    return tuple(times)


def parse_world(
    data: Any, agreement: Agreement, *, source: str = "<world>", limits: bool = True
) -> World:
    """Validate a parsed GeoJSON FeatureCollection against an agreement.

    Each feature is held to the agreement's ``limits`` (vertices, extent, uncertainty,
    corridor, standoff) unless ``limits`` is false: what is read back from storage was
    accepted under the limits of its day."""
    bounds = agreement.limits if limits else _UNLIMITED
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise WorldError(source, [Issue("type", "the world must be a GeoJSON FeatureCollection")])
    features = data.get("features")
    if not isinstance(features, list):
        raise WorldError(source, [Issue("features", "must be an array of features")])
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    buckets: dict[ObjectKind, list[Any]] = {k: [] for k in ObjectKind}
    for index, feature in enumerate(features):
        obj = _parse_feature(index, feature, agreement, issues, seen, bounds)
        if obj is not None:
            buckets[obj.kind].append(obj)
        if len(issues) >= MAX_ISSUES:
            issues.append(Issue("features", f"stopped after {MAX_ISSUES} problems"))
            break
    if issues:
        raise WorldError(source, issues)
    return World(
        protected_sites=tuple(buckets[ObjectKind.PROTECTED_SITE]),
        movements=tuple(buckets[ObjectKind.MOVEMENT]),
        positions=tuple(buckets[ObjectKind.POSITION]),
        flight_plans=tuple(buckets[ObjectKind.FLIGHT_PLAN]),
        operations=tuple(buckets[ObjectKind.OPERATION]),
    )


def load_world(path: str | Path, agreement: Agreement) -> World:
    """Read and validate a world file (GeoJSON FeatureCollection)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(str(path), [Issue("", f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise WorldError(str(path), [Issue("", "the file is not UTF-8 text")]) from None
    try:
        data = strict_loads(text, allow_nan=True)  # validation names the field
    except RecursionError:
        raise WorldError(str(path), [Issue("", "not valid JSON: nested too deeply")]) from None
    except DuplicateKey as exc:
        raise WorldError(str(path), [Issue(exc.path, TWICE)]) from None
    except json.JSONDecodeError as exc:
        raise WorldError(
            str(path), [Issue("", f"not valid JSON: {exc.msg}", line=exc.lineno)]
        ) from None
    return parse_world(data, agreement, source=str(path))
