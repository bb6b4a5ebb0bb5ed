"""Placemarks and GeoJSON features turned into declarations, checked before any is sent
(``accord import``).

A file (KML, KMZ or a GeoJSON FeatureCollection) becomes a :class:`Plan`: one
:class:`Candidate` per placemark or feature — the GeoJSON feature ``POST /v1/declarations``
takes, for the member importing it — and every problem, each naming the placemark or feature
(``#k name``), its line where known, and the field. A plan is checked with the project's own
parser (:func:`accord.world.parse_world`, the one the center runs on every declaration,
against the agreement's limits), plus the center's own caps (a name's length, a shared
declaration's size in the record): what it passes, the center takes; what it refuses is named
before anything is sent. All or nothing: a plan with any problem declares nothing.

**What a declaration's fields come from** (``--kind`` names the kind for the whole file):

=================  ===================================================================
field              from, first found
=================  ===================================================================
geometry           the placemark's (``Point`` or ``Polygon`` for a protected site or a
                   position, ``LineString`` for a movement); a GeoJSON feature's, a
                   ``Multi*`` of one part read as that part
name               ``<name>`` (a GeoJSON ``properties.name``)
disclosure         the ``--disclosure`` option; default ``center`` for a party (nothing is
                   shared by accident) and ``shared`` for a notifier (its declarations are
                   always shared). A file's own ``disclosure`` that differs is a problem,
                   never a silent override
party              a position's: the importing member
valid_from/_to     ExtendedData (GeoJSON: properties), else the placemark's ``TimeSpan``
                   ``begin``/``end``, else ``--valid-from``/``--valid-to``
category           ExtendedData, else ``--category``
uncertainty_m      ExtendedData, else ``--uncertainty``
corridor_m         ExtendedData, else ``--corridor``
others             ExtendedData by the declaration's field name: ``standoff_m``,
                   ``confirmed_at`` (a site), ``course_deg``, ``speed_mps``,
                   ``reported_at`` (a position)
=================  ===================================================================

ExtendedData values are text: a number field must read as a decimal number. Any other name
(QGIS writes every attribute column) is not declared; :attr:`Candidate.ignored` lists them.
``id`` and ``declared_by`` are the center's to set and are never sent.

>>> from accord.agreement import load_agreement
>>> from accord.examples import example_path
>>> agreement = load_agreement(example_path("jig.yaml"))
>>> kml = b'''<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Clinic</name>
... <ExtendedData><Data name="category"><value>hospital</value></Data></ExtendedData>
... <Point><coordinates>21.5,25.1</coordinates></Point></Placemark></kml>'''
>>> plan = plan_file("sites.kml", kml, agreement, Options(kind="protected_site", member="blue"))
>>> plan.issues, plan.candidates[0].feature["properties"]["disclosure"]
((), 'center')
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.agreement import Agreement
from accord.errors import DuplicateKey, InputError, Issue, WorldError
from accord.jsontext import TWICE
from accord.jsontext import loads as strict_loads
from accord.kml.read import (
    MAX_KML_BYTES,
    MAX_PLACEMARKS,
    Placemark,
    is_kmz,
    placemark_label,
    read_kml,
)
from accord.record.canonical import canonical_json
from accord.record.errors import FormatError
from accord.world import parse_world

__all__ = [
    "CONTENT_MAX_BYTES",
    "KINDS",
    "MAX_NAME",
    "Candidate",
    "Options",
    "Plan",
    "plan_file",
    "plan_geojson",
    "plan_kml",
]

KINDS = ("protected_site", "movement", "position")
"""The kinds a file is imported as."""

MAX_NAME = 200
"""The longest name the center takes (``accord.center.declarations.service.MAX_NAME``)."""
CONTENT_MAX_BYTES = 60_000
"""The most bytes of canonical JSON a shared declaration takes in its record entry
(``accord.center.declarations.service.CONTENT_MAX_BYTES``; a test holds them equal)."""

_TEXT = ("category",)
_INSTANTS = ("valid_from", "valid_to", "confirmed_at", "reported_at")
_NUMBERS = ("uncertainty_m", "corridor_m", "standoff_m", "course_deg", "speed_mps")
_FIELDS: dict[str, tuple[str, ...]] = {
    "protected_site": ("category", "uncertainty_m", "standoff_m", "confirmed_at"),
    "movement": ("valid_from", "valid_to", "uncertainty_m", "corridor_m"),
    "position": (
        "valid_from", "valid_to", "uncertainty_m", "course_deg", "speed_mps", "reported_at",
    ),
}  # fmt: skip
_GEOMETRIES = {
    "protected_site": ("Point", "Polygon"),
    "movement": ("LineString",),
    "position": ("Point", "Polygon"),
}
_SET_HERE = ("kind", "name", "disclosure", "party", "id", "declared_by")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_MAX_FEATURES = MAX_PLACEMARKS


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """How a file is declared: the ``kind`` of every feature, the ``member`` declaring, its
    ``disclosure`` (``None``: ``center`` for a party, ``shared`` for a notifier) and the
    values of fields a feature does not carry itself."""

    kind: str
    member: str
    disclosure: str | None = None
    category: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    uncertainty_m: float | None = None
    corridor_m: float | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One declaration to make: where it came from (``label``: ``#k name``; ``line``) and
    the feature ``POST /v1/declarations`` takes; ``ignored``: names of the source's data
    that are no field of the declaration."""

    label: str
    line: int | None
    feature: dict[str, Any]
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """Every declaration a file makes, and every problem: nothing is declared unless
    ``issues`` is empty."""

    source: str
    candidates: tuple[Candidate, ...]
    issues: tuple[Issue, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.candidates)

    def error(self) -> InputError:
        """The problems as one error (the file, then each problem)."""
        return InputError(self.source, self.issues or (Issue("", "nothing to declare"),))


class _Bad(Exception):
    """One problem in the feature being turned (internal)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _disclosure(options: Options, agreement: Agreement) -> str:
    if options.disclosure is not None:
        return options.disclosure
    return "shared" if options.member in agreement.notifier_ids else "center"


def _number(where: str, value: Any) -> Any:
    """A number field's value: a number as given (JSON), or text that reads as one."""
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.match(text):
            shown = text if len(text) <= 40 else text[:39] + "…"
            raise _Bad(where, f"{shown!r} is not a decimal number")
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return value  # the world's parser names anything else


def _properties(
    kind: str,
    given: Mapping[str, Any],
    where: str,
    options: Options,
    time_span: tuple[str | None, str | None] = (None, None),
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The kind's fields from ``given`` (ExtendedData or GeoJSON properties), then the
    placemark's time span, then the options; and the names not taken."""
    out: dict[str, Any] = {}
    for name in _FIELDS[kind]:
        if name in given and given[name] is not None:
            value = given[name]
            out[name] = _number(f"{where}.{name}", value) if name in _NUMBERS else value
    begin, end = time_span
    defaults: dict[str, Any] = {
        "valid_from": begin if begin is not None else options.valid_from,
        "valid_to": end if end is not None else options.valid_to,
        "category": options.category,
        "uncertainty_m": options.uncertainty_m,
        "corridor_m": options.corridor_m,
    }
    for name in _FIELDS[kind]:
        if name not in out and defaults.get(name) is not None:
            out[name] = defaults[name]
    ignored = tuple(sorted(str(k)[:40] for k in given if k not in _FIELDS[kind]))
    return out, tuple(n for n in ignored if n not in _SET_HERE)


def _common(
    kind: str,
    given: Mapping[str, Any],
    where: str,
    options: Options,
    disclosure: str,
    name: str,
) -> dict[str, Any]:
    """What every declaration from this file carries: kind, name, disclosure (and the party
    of a position); a file's own ``kind``, ``disclosure`` or ``declared_by`` that says
    otherwise is a problem."""
    said = given.get("disclosure")
    if said is not None and said != disclosure:
        raise _Bad(
            f"{where}.disclosure",
            f"says {str(said)[:20]!r}, the import declares {disclosure!r} (--disclosure): "
            "not overridden by the file",
        )
    said_kind = given.get("kind")
    if said_kind is not None and said_kind != kind:
        raise _Bad(f"{where}.kind", f"says {str(said_kind)[:40]!r}, the import is of {kind!r}")
    by = given.get("declared_by")
    if by is not None and by != options.member:
        raise _Bad(
            f"{where}.declared_by", f"says {str(by)[:40]!r}, the import is by {options.member!r}"
        )
    party = given.get("party")
    if kind == "position" and party is not None and party != options.member:
        raise _Bad(f"{where}.party", f"says {str(party)[:40]!r}: a position is the declarer's own")
    if len(name) > MAX_NAME:
        raise _Bad("name", f"is at most {MAX_NAME} characters")
    props: dict[str, Any] = {"kind": kind, "disclosure": disclosure}
    if name:
        props["name"] = name
    if kind == "position":
        props["party"] = options.member
    return props


def _candidate_of_placemark(placemark: Placemark, options: Options, disclosure: str) -> Candidate:
    kind = options.kind
    if placemark.geometry["type"] not in _GEOMETRIES[kind]:
        allowed = " or ".join(_GEOMETRIES[kind])
        raise _Bad("geometry", f"a {kind} is a {allowed}, not a {placemark.geometry['type']}")
    props = _common(kind, placemark.data, "ExtendedData", options, disclosure, placemark.name)
    fields, ignored = _properties(
        kind, placemark.data, "ExtendedData", options, (placemark.begin, placemark.end)
    )
    feature = {"type": "Feature", "geometry": placemark.geometry, "properties": {**props, **fields}}
    return Candidate(placemark.label, placemark.line, feature, ignored)


def plan_kml(data: bytes, agreement: Agreement, options: Options, *, source: str = "KML") -> Plan:
    """The plan of a KML or KMZ file (see the module docstring). Raises
    :class:`~accord.errors.InputError` for a document that is not KML at all."""
    _check_options(options, agreement, source)
    read = read_kml(data, source=source)
    disclosure = _disclosure(options, agreement)
    candidates: list[Candidate] = []
    issues = list(read.issues)
    for placemark in read.placemarks:
        try:
            candidates.append(_candidate_of_placemark(placemark, options, disclosure))
        except _Bad as bad:
            issues.append(
                Issue(bad.field, bad.message, feature=placemark.label, line=placemark.line)
            )
    return _checked(source, candidates, issues, agreement, options)


def _single(geometry: Any) -> Any:
    """A ``Multi*`` geometry of one part read as that part; anything else as it is."""
    if isinstance(geometry, Mapping) and geometry.get("type") in (
        "MultiPoint", "MultiLineString", "MultiPolygon",
    ):  # fmt: skip
        parts = geometry.get("coordinates")
        if isinstance(parts, list) and len(parts) == 1:
            return {"type": str(geometry["type"])[5:], "coordinates": parts[0]}
        count = len(parts) if isinstance(parts, list) else 0
        raise _Bad(
            "geometry",
            f"a {geometry['type']} of {count} parts; a declaration has one geometry: split it "
            "into one feature per part",
        )
    if isinstance(geometry, Mapping) and geometry.get("type") == "GeometryCollection":
        raise _Bad("geometry", "a GeometryCollection is not a declaration's geometry")
    return geometry


def plan_geojson(
    data: bytes, agreement: Agreement, options: Options, *, source: str = "GeoJSON"
) -> Plan:
    """The plan of a GeoJSON FeatureCollection (or one Feature). Raises
    :class:`~accord.errors.InputError` for a file that is not one."""
    _check_options(options, agreement, source)
    if len(data) > MAX_KML_BYTES:
        raise InputError(source, [Issue("", f"is {len(data)} bytes; at most {MAX_KML_BYTES}")])
    try:
        document = strict_loads(data, allow_nan=True)
    except RecursionError:
        raise InputError(source, [Issue("", "not valid JSON: nested too deeply")]) from None
    except DuplicateKey as twice:
        raise InputError(source, [Issue(twice.path, TWICE)]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as bad:
        raise InputError(source, [Issue("", f"not valid JSON: {bad}")]) from None
    if isinstance(document, Mapping) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise InputError(source, [Issue("type", "must be a GeoJSON FeatureCollection")])
    features = document.get("features")
    if not isinstance(features, list):
        raise InputError(source, [Issue("features", "must be an array of features")])
    if len(features) > _MAX_FEATURES:
        raise InputError(
            source, [Issue("features", f"holds over {_MAX_FEATURES} features; split the file")]
        )
    disclosure = _disclosure(options, agreement)
    candidates: list[Candidate] = []
    issues: list[Issue] = []
    for k, feature in enumerate(features, 1):
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        name = props.get("name") if isinstance(props, Mapping) else None
        label = placemark_label(k, name if isinstance(name, str) else "")
        try:
            if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
                raise _Bad("type", "must be a GeoJSON Feature")
            if props is None:
                props = {}
            if not isinstance(props, Mapping):
                raise _Bad("properties", "must be an object")
            if name is not None and not isinstance(name, str):
                raise _Bad("properties.name", "must be a string")
            geometry = _single(feature.get("geometry"))
            common = _common(options.kind, props, "properties", options, disclosure, name or "")
            fields, ignored = _properties(options.kind, props, "properties", options)
            made = {
                "type": "Feature",
                "geometry": geometry,
                "properties": {**common, **fields},
            }
            candidates.append(Candidate(label, None, made, ignored))
        except _Bad as bad:
            issues.append(Issue(bad.field, bad.message, feature=label))
    return _checked(source, candidates, issues, agreement, options)


def plan_file(name: str, data: bytes, agreement: Agreement, options: Options) -> Plan:
    """The plan of a file by its name: ``.kml`` or ``.kmz`` (or a zip's bytes) as KML,
    ``.geojson`` or ``.json`` as GeoJSON; anything else is refused."""
    lower = name.lower()
    if lower.endswith((".kml", ".kmz")) or is_kmz(data):
        return plan_kml(data, agreement, options, source=name)
    if lower.endswith((".geojson", ".json")):
        return plan_geojson(data, agreement, options, source=name)
    raise InputError(name, [Issue("", "is neither .kml, .kmz, .geojson nor .json")])


def _check_options(options: Options, agreement: Agreement, source: str) -> None:
    issues: list[Issue] = []
    if options.kind not in KINDS:
        issues.append(Issue("--kind", f"must be one of {', '.join(KINDS)}, not {options.kind!r}"))
    if options.member not in agreement.declarant_ids:
        issues.append(Issue("--as", f"{options.member!r} is no party or notifier of the agreement"))
    if options.disclosure not in (None, "shared", "center"):
        issues.append(Issue("--disclosure", "must be 'shared' or 'center'"))
    if issues:
        raise InputError(source, issues)


def _checked(
    source: str,
    candidates: list[Candidate],
    issues: list[Issue],
    agreement: Agreement,
    options: Options,
) -> Plan:
    """Every candidate held to the world's parser and the center's caps; a problem each."""
    by_id: dict[str, Candidate] = {}
    features: list[dict[str, Any]] = []
    for i, candidate in enumerate(candidates):
        stored = {
            **candidate.feature,
            "properties": {
                **candidate.feature["properties"],
                "id": f"import-{i}",
                "declared_by": options.member,
            },
        }
        try:
            encoded = canonical_json(stored)
        except FormatError as error:
            issues.append(Issue("", str(error), feature=candidate.label, line=candidate.line))
            continue
        if len(encoded) > CONTENT_MAX_BYTES and stored["properties"]["disclosure"] == "shared":
            issues.append(
                Issue(
                    "geometry.coordinates",
                    f"the declaration takes {len(encoded)} bytes in the record, where a shared "
                    f"declaration takes at most {CONTENT_MAX_BYTES}: fewer positions",
                    feature=candidate.label,
                    line=candidate.line,
                )
            )
            continue
        by_id[f"import-{i}"] = candidate
        features.append(stored)
    try:
        parse_world({"type": "FeatureCollection", "features": features}, agreement, source=source)
    except WorldError as error:
        for issue in error.issues:
            found = by_id.get(issue.feature or "")
            issues.append(
                Issue(
                    issue.field,
                    issue.message,
                    feature=found.label if found else issue.feature,
                    line=found.line if found else None,
                )
            )
    return Plan(source, tuple(candidates), tuple(sorted(issues, key=_ordinal)))


def _ordinal(issue: Issue) -> int:
    """Where a problem's placemark is in the file (a problem of the file itself: first)."""
    label = issue.feature or ""
    head = label[1:].split(" ", 1)[0] if label.startswith("#") else ""
    return int(head) if head.isdigit() else 0
