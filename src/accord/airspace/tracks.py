"""Live tracks: one state report per aircraft, validated, the latest kept.

A report says where an aircraft was at an instant and how it moved: ``id``, ``operator``,
``party`` (empty for a non-party operator), ``mission``, ``time`` (ISO 8601 with offset),
``lat``, ``lon`` (WGS84 degrees), ``alt_ft`` (feet), ``gs_kt`` (ground speed, knots),
``track_deg`` (true track, degrees clockwise from north) and ``vs_fpm`` (vertical rate, feet
per minute, positive up). Three optional fields say who the aircraft is, as a sensor reads
it: ``icao24`` (the ICAO 24-bit address, six hexadecimal digits, kept lowercase),
``callsign`` (1 to 8 letters and digits, kept uppercase) and ``squawk`` (the Mode 3/A code,
four octal digits); empty means not known.

Reports are read from CSV (those columns, a header line first) or from a GeoJSON
FeatureCollection of Points (``[lon, lat]``; the other fields in ``properties``, ``id`` as the
feature's id or ``properties.id``). An impossible report is refused with a message naming the
field and the line or feature id, and nothing is half-loaded:

* coordinates outside ±90 / ±180 or not finite;
* altitude below −1,500 ft or above 100,000 ft;
* ground speed, or vertical rate, over Mach 3 (3 × 661.48 kt, the speed of sound of the ISA
  at sea level: the most lenient reading) or negative ground speed;
* a track angle outside [0, 360] (360 is read as 0).

Altitudes are kept in **whole feet** and vertical rates in **whole feet per minute** (a
report is rounded to the nearest foot and foot per minute on reading), so that two level
aircraft exactly 1,000 ft apart compare exactly, never by the accident of a rounding error.

:func:`latest` keeps the newest report per aircraft: a report no newer than the one kept for
its aircraft is dropped (and listed), so a batch sent twice changes nothing.
:class:`TrackSet` holds the kept states as columns (numpy arrays), the form the conflict
detector reads.

>>> text = '''id,operator,party,mission,time,lat,lon,alt_ft,gs_kt,track_deg,vs_fpm
... b1,blue,blue,transport,2026-09-20T10:00:00Z,25.0,21.5,30000,420,90,0
... b1,blue,blue,transport,2026-09-20T09:59:00Z,25.0,21.4,30000,420,90,0
... '''
>>> result = latest(parse_tracks_csv(text))
>>> len(result.tracks), [r.time.isoformat() for r in result.stale]
(1, ['2026-09-20T09:59:00+00:00'])
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from accord.agreement import UNKNOWN, Agreement
from accord.aircraft import IDENTITIES, identity_problem, normal_identity
from accord.airspace.detect import EARTH_RADIUS_M, States
from accord.chrono import parse_instant
from accord.errors import Issue, TrackError
from accord.jsontext import TWICE, DuplicateKey
from accord.jsontext import loads as strict_loads
from accord.units import FT, KT, NM

__all__ = [
    "ALT_MAX_FT",
    "ALT_MIN_FT",
    "COLUMNS",
    "MACH3_KT",
    "OPTIONAL_COLUMNS",
    "KnownIds",
    "Latest",
    "TrackReport",
    "TrackSet",
    "check_report",
    "epoch_seconds",
    "latest",
    "load_tracks",
    "parse_tracks_csv",
    "parse_tracks_geojson",
    "report_from_fields",
]

Array = npt.NDArray[np.float64]

COLUMNS = (
    "id",
    "operator",
    "party",
    "mission",
    "time",
    "lat",
    "lon",
    "alt_ft",
    "gs_kt",
    "track_deg",
    "vs_fpm",
)
"""The CSV columns (any order; every one required)."""

OPTIONAL_COLUMNS = IDENTITIES
"""Columns a CSV may add (and a JSON report may carry): who the aircraft is, as a sensor
reads it (empty or absent: not known)."""

SPEED_OF_SOUND_KT = 661.4788
"""Speed of sound of the ISA at sea level (340.294 m/s) in knots."""
MACH3_KT = 3.0 * SPEED_OF_SOUND_KT
"""The fastest ground speed (and vertical rate) accepted, knots: Mach 3 at sea level."""
MACH3_FPM = MACH3_KT * NM / FT / 60.0
ALT_MIN_FT = -1500.0
ALT_MAX_FT = 100_000.0
MAX_ISSUES = 200

_NUMBERS = ("lat", "lon", "alt_ft", "gs_kt", "track_deg", "vs_fpm")
_TEXTS = ("id", "operator", "mission")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TrackReport:
    """One state report of one aircraft (see the module docstring for the units)."""

    id: str
    operator: str
    party: str | None
    mission: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    track_deg: float
    vs_fpm: float
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None


def _whole(value: float) -> float:
    """Nearest whole number, halves away from zero (as a float)."""
    return float(math.copysign(math.floor(abs(value) + 0.5), value))


@dataclass(frozen=True, slots=True)
class KnownIds:
    """The operators and parties an agreement names, as sets: what a report's ``operator``
    and ``party`` are checked against. Made once for a batch (:meth:`of`): the agreement's
    properties build the sets anew on every call, which was a tenth of checking a report."""

    operators: frozenset[str]
    parties: frozenset[str]

    @classmethod
    def of(cls, agreement: Agreement) -> KnownIds:
        return cls(agreement.operator_ids, agreement.party_ids)


def _known(agreement: Agreement | KnownIds | None) -> KnownIds | None:
    return KnownIds.of(agreement) if isinstance(agreement, Agreement) else agreement


def check_report(report: TrackReport, agreement: Agreement | KnownIds | None = None) -> list[Issue]:
    """Every problem of one report: impossible values, and (given the agreement, or its
    :class:`KnownIds`) an unknown operator or party. The issues carry the field name and the
    report's id as ``feature``; an edge that knows the line sets it."""
    issues: list[Issue] = []
    fid = report.id or None

    def bad(name: str, message: str) -> None:
        issues.append(Issue(name, message, feature=fid))

    for name in _TEXTS:
        if not getattr(report, name).strip():
            bad(name, "is required (a non-empty string)")
    if report.party is not None and not report.party.strip():
        bad("party", "must be a non-empty string or absent")
    if report.time.tzinfo is None:
        bad("time", "has no UTC offset")
    for name in _NUMBERS:
        value = getattr(report, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            bad(name, "must be a number")
        elif not math.isfinite(value):
            bad(name, "must be a finite number")
    if issues:
        return issues
    return _value_issues(report, _known(agreement), fid)


def _value_issues(report: TrackReport, known: KnownIds | None, fid: str | None) -> list[Issue]:
    """The problems of a report whose fields have their types (texts non-empty, numbers
    finite, the time aware): values out of range, and an operator or party not ``known``."""
    issues: list[Issue] = []

    def bad(name: str, message: str) -> None:
        issues.append(Issue(name, message, feature=fid))

    if not -90.0 <= report.lat <= 90.0:
        bad("lat", f"latitude {report.lat:g} is outside ±90")
    if not -180.0 <= report.lon <= 180.0:
        bad("lon", f"longitude {report.lon:g} is outside ±180")
    if not ALT_MIN_FT <= report.alt_ft <= ALT_MAX_FT:
        bad(
            "alt_ft",
            f"altitude {report.alt_ft:g} ft is impossible (from {ALT_MIN_FT:,.0f} to "
            f"{ALT_MAX_FT:,.0f} ft)",
        )
    if report.gs_kt < 0:
        bad("gs_kt", f"ground speed {report.gs_kt:g} kt is negative")
    elif report.gs_kt > MACH3_KT:
        bad("gs_kt", f"ground speed {report.gs_kt:g} kt is over Mach 3 ({MACH3_KT:,.0f} kt)")
    if not 0.0 <= report.track_deg <= 360.0:
        bad("track_deg", f"track {report.track_deg:g}° is outside [0, 360]")
    if abs(report.vs_fpm) > MACH3_FPM:
        bad("vs_fpm", f"vertical rate {report.vs_fpm:g} ft/min is over Mach 3")
    if report.operator == UNKNOWN and report.party is not None:
        bad("party", f"an aircraft of operator {UNKNOWN!r} has no party")
    if known is not None:
        if report.operator not in known.operators and report.operator != UNKNOWN:
            bad("operator", f"unknown operator {report.operator!r} ({UNKNOWN!r}: not identified)")
        if report.party is not None and report.party not in known.parties:
            bad("party", f"unknown party {report.party!r}")
    return issues


def report_from_fields(
    values: Mapping[str, Any],
    *,
    agreement: Agreement | KnownIds | None = None,
    line: int | None = None,
    feature: str | None = None,
) -> TrackReport | list[Issue]:
    """A validated report from named fields (text as read from CSV, or JSON values), or every
    problem found, each naming the field (and ``line`` / the feature id where given).

    Numbers may be JSON numbers or decimal text; ``party`` may be absent, null or empty (a
    non-party operator). Altitude and vertical rate are rounded to whole feet (per minute).
    """
    fid = feature
    raw_id = values.get("id")
    if fid is None and isinstance(raw_id, str) and raw_id.strip():
        fid = raw_id.strip()
    issues: list[Issue] = []

    def bad(name: str, message: str) -> None:
        issues.append(Issue(name, message, feature=fid, line=line))

    texts: dict[str, str] = {}
    for name in _TEXTS:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            bad(name, "is required (a non-empty string)")
        elif not isinstance(value, str):
            bad(name, "must be a string")
        else:
            texts[name] = value.strip()
    party_raw = values.get("party")
    party: str | None = None
    if party_raw is not None and not isinstance(party_raw, str):
        bad("party", "must be a string (empty or absent for a non-party operator)")
    elif isinstance(party_raw, str) and party_raw.strip():
        party = party_raw.strip()
    time: datetime | None = None
    raw_time = values.get("time")
    if raw_time is None or raw_time == "":
        bad("time", "is required (ISO 8601 with a UTC offset)")
    else:
        try:
            time = parse_instant(raw_time)
        except ValueError as exc:
            bad("time", str(exc))
    numbers: dict[str, float] = {}
    for name in _NUMBERS:
        value = values.get(name)
        number: float | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and value.strip():
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if value is None or (isinstance(value, str) and not value.strip()):
            bad(name, "is required (a number)")
        elif number is None:
            bad(name, f"must be a number, not {value!r}")
        elif not math.isfinite(number):
            bad(name, "must be a finite number")
        else:
            numbers[name] = number
    idents: dict[str, str | None] = {}
    for name in OPTIONAL_COLUMNS:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            idents[name] = None
        elif not isinstance(value, str):
            bad(name, "must be a string (empty or absent when not known)")
        else:
            normal = normal_identity(name, value)
            if normal is None:
                bad(name, identity_problem(name))
            idents[name] = normal
    if issues or time is None:
        return issues
    report = TrackReport(
        id=texts["id"],
        operator=texts["operator"],
        party=party,
        mission=texts["mission"],
        time=time,
        lat=numbers["lat"],
        lon=numbers["lon"],
        alt_ft=_whole(numbers["alt_ft"]),
        gs_kt=numbers["gs_kt"],
        track_deg=0.0 if numbers["track_deg"] == 360.0 else numbers["track_deg"],
        vs_fpm=_whole(numbers["vs_fpm"]),
        icao24=idents["icao24"],
        callsign=idents["callsign"],
        squawk=idents["squawk"],
    )
    # The types are the ones just read: only the values are left to check.
    found = _value_issues(report, _known(agreement), fid)
    if found:
        return [Issue(i.field, i.message, feature=fid, line=line) for i in found]
    return report


def parse_tracks_csv(
    text: str, *, agreement: Agreement | None = None, source: str = "<tracks>"
) -> tuple[TrackReport, ...]:
    """Every report of a CSV text (header line first), in file order.

    Raises
    ------
    TrackError
        Naming the line and field of every problem (up to 200); nothing is returned then.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise TrackError(
            source, [Issue("", "empty file: expected a header line", line=1)]
        ) from None
    except csv.Error as exc:
        raise TrackError(source, [Issue("", f"not valid CSV: {exc}", line=1)]) from None
    names = [h.strip() for h in header]
    head_issues = [
        Issue(name, "is a required column", line=1) for name in COLUMNS if name not in names
    ]
    head_issues += [
        Issue(name or f"column {k + 1}", "is not a column of a track report", line=1)
        for k, name in enumerate(names)
        if name not in COLUMNS and name not in OPTIONAL_COLUMNS
    ]
    head_issues += [
        Issue(name, "column is named twice", line=1)
        for k, name in enumerate(names)
        if name in names[:k]
    ]
    if head_issues:
        raise TrackError(source, head_issues)
    reports: list[TrackReport] = []
    issues: list[Issue] = []
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                issues.append(
                    Issue("", f"{len(row)} fields where the header has {len(names)}", line=line)
                )
            else:
                found = report_from_fields(
                    dict(zip(names, row, strict=True)), agreement=agreement, line=line
                )
                if isinstance(found, TrackReport):
                    reports.append(found)
                else:
                    issues.extend(found)
            if len(issues) >= MAX_ISSUES:
                issues.append(Issue("", f"stopped after {MAX_ISSUES} problems", line=line))
                break
    except csv.Error as exc:
        issues.append(Issue("", f"not valid CSV: {exc}", line=reader.line_num or line))
    if issues:
        raise TrackError(source, issues)
    return tuple(reports)


def parse_tracks_geojson(
    data: Any, *, agreement: Agreement | None = None, source: str = "<tracks>"
) -> tuple[TrackReport, ...]:
    """Every report of a GeoJSON FeatureCollection of Points (``[lon, lat]``), in order.

    The fields other than ``lat`` / ``lon`` are the feature's ``properties``; the id is the
    feature's ``id`` or ``properties.id``. Altitude is ``properties.alt_ft`` (feet): a third
    coordinate is refused rather than guessed at.

    Raises
    ------
    TrackError
        Naming the feature (id, or ``#index``) and field of every problem.
    """
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise TrackError(source, [Issue("type", "must be a GeoJSON FeatureCollection")])
    features = data.get("features")
    if not isinstance(features, list):
        raise TrackError(source, [Issue("features", "must be an array of features")])
    reports: list[TrackReport] = []
    issues: list[Issue] = []
    for index, feature in enumerate(features):
        found = _feature_report(index, feature, agreement)
        if isinstance(found, TrackReport):
            reports.append(found)
        else:
            issues.extend(found)
        if len(issues) >= MAX_ISSUES:
            issues.append(Issue("features", f"stopped after {MAX_ISSUES} problems"))
            break
    if issues:
        raise TrackError(source, issues)
    return tuple(reports)


def _feature_report(
    index: int, feature: Any, agreement: Agreement | None
) -> TrackReport | list[Issue]:
    label = f"#{index}"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        return [Issue("type", "must be a GeoJSON Feature", feature=label)]
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        return [Issue("properties", "must be an object", feature=label)]
    raw_id = props.get("id", feature.get("id"))
    if isinstance(raw_id, str) and raw_id.strip():
        label = raw_id.strip()
    issues: list[Issue] = []
    known = (*COLUMNS, *OPTIONAL_COLUMNS)
    unknown = sorted(k for k in props if k not in known or k in ("lat", "lon"))
    for name in unknown:
        where = "geometry.coordinates" if name in ("lat", "lon") else ""
        message = f"is not a field of a track report{'; position is ' + where if where else ''}"
        issues.append(Issue(f"properties.{name}", message, feature=label))
    geometry = feature.get("geometry")
    lon: Any = None
    lat: Any = None
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        issues.append(Issue("geometry", "must be a GeoJSON Point [lon, lat]", feature=label))
    else:
        coords = geometry.get("coordinates")
        if not isinstance(coords, list | tuple) or len(coords) < 2:
            issues.append(
                Issue("geometry.coordinates", "a position is [longitude, latitude]", feature=label)
            )
        elif len(coords) > 2:
            issues.append(
                Issue(
                    "geometry.coordinates",
                    "a track position is [longitude, latitude]; altitude goes in "
                    "properties.alt_ft (feet)",
                    feature=label,
                )
            )
        else:
            lon, lat = coords[0], coords[1]
    values = {k: v for k, v in props.items() if k in known}
    values.setdefault("id", raw_id)
    values["lat"], values["lon"] = lat, lon
    if lat is None or lon is None:
        values["lat"] = values["lon"] = 0.0  # reported above; check the rest
    found = report_from_fields(values, agreement=agreement, feature=label)
    if isinstance(found, TrackReport):
        return issues or found
    for issue in found:
        name = issue.field
        if name in ("lat", "lon"):
            name = "geometry.coordinates"
        elif name:
            name = f"properties.{name}"
        issues.append(Issue(name, issue.message, feature=label))
    return issues


def load_tracks(path: str | Path, *, agreement: Agreement | None = None) -> tuple[TrackReport, ...]:
    """Read a track file: ``.csv``, or GeoJSON (``.geojson`` / ``.json``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrackError(str(path), [Issue("", f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise TrackError(str(path), [Issue("", "the file is not UTF-8 text")]) from None
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            data = strict_loads(text, allow_nan=True)  # validation names the field
        except RecursionError:
            raise TrackError(str(path), [Issue("", "not valid JSON: nested too deeply")]) from None
        except DuplicateKey as exc:
            raise TrackError(str(path), [Issue(exc.path, TWICE)]) from None
        except json.JSONDecodeError as exc:
            raise TrackError(
                str(path), [Issue("", f"not valid JSON: {exc.msg}", line=exc.lineno)]
            ) from None
        return parse_tracks_geojson(data, agreement=agreement, source=str(path))
    return parse_tracks_csv(text, agreement=agreement, source=str(path))


def _readonly(values: npt.ArrayLike) -> Array:
    array: Array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def _floats(values: Iterable[float]) -> Array:
    return np.fromiter(values, dtype=np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class TrackSet:
    """The latest state of each aircraft, as columns; row ``k`` is one aircraft.

    ``time_s`` is the report's instant in seconds since 1970-01-01 UTC; the other arrays are
    in the report's units (altitude in whole feet, vertical rate in whole feet per minute).
    The arrays are read-only.
    """

    ids: tuple[str, ...]
    operators: tuple[str, ...]
    parties: tuple[str | None, ...]
    missions: tuple[str, ...]
    time_s: Array
    lat: Array
    lon: Array
    alt_ft: Array
    gs_kt: Array
    track_deg: Array
    vs_fpm: Array
    _rows: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in ("operators", "parties", "missions"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"TrackSet.{name} has {len(getattr(self, name))} rows, not {n}")
        for name in ("time_s", "lat", "lon", "alt_ft", "gs_kt", "track_deg", "vs_fpm"):
            array = _readonly(getattr(self, name))
            if array.shape != (n,):
                raise ValueError(f"TrackSet.{name} has shape {array.shape}, not ({n},)")
            object.__setattr__(self, name, array)
        rows = {track_id: k for k, track_id in enumerate(self.ids)}
        if len(rows) != n:
            raise ValueError("TrackSet ids must be unique")
        object.__setattr__(self, "_rows", rows)

    @classmethod
    def empty(cls) -> TrackSet:
        """No aircraft."""
        return cls.from_reports(())

    @classmethod
    def from_reports(cls, reports: Iterable[TrackReport]) -> TrackSet:
        """Columns from reports (one per aircraft id; see :func:`latest` to merge)."""
        rows = list(reports)
        return cls(
            ids=tuple(r.id for r in rows),
            operators=tuple(r.operator for r in rows),
            parties=tuple(r.party for r in rows),
            missions=tuple(r.mission for r in rows),
            time_s=_floats((r.time - _EPOCH).total_seconds() for r in rows),
            lat=_floats(r.lat for r in rows),
            lon=_floats(r.lon for r in rows),
            alt_ft=_floats(r.alt_ft for r in rows),
            gs_kt=_floats(r.gs_kt for r in rows),
            track_deg=_floats(r.track_deg for r in rows),
            vs_fpm=_floats(r.vs_fpm for r in rows),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[TrackReport]:
        return (self.report(k) for k in range(len(self.ids)))

    def row(self, track_id: str) -> int:
        """The row of an aircraft; ``KeyError`` if it has no track."""
        return self._rows[track_id]

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._rows

    def time(self, k: int) -> datetime:
        """The instant of row ``k``'s report."""
        return _EPOCH + timedelta(seconds=float(self.time_s[k]))

    def report(self, k: int) -> TrackReport:
        """Row ``k`` as a report."""
        return TrackReport(
            id=self.ids[k],
            operator=self.operators[k],
            party=self.parties[k],
            mission=self.missions[k],
            time=self.time(k),
            lat=float(self.lat[k]),
            lon=float(self.lon[k]),
            alt_ft=float(self.alt_ft[k]),
            gs_kt=float(self.gs_kt[k]),
            track_deg=float(self.track_deg[k]),
            vs_fpm=float(self.vs_fpm[k]),
        )

    def states_at(self, now: datetime) -> States:
        """Every aircraft's state extrapolated in a straight line to ``now``.

        Each moves from its report at its ground velocity on a local flat earth
        (``Δφ = v·Δt/R``, ``Δλ = u·Δt/(R·cos φ)``) and at its vertical rate. A report made at
        ``now`` is taken as it is, bit for bit (so whole-foot altitudes stay whole); a level
        aircraft keeps its altitude exactly whatever ``Δt``.
        """
        dt = epoch_seconds(now) - self.time_s
        trk = np.radians(self.track_deg)
        gs = self.gs_kt * KT
        u = gs * np.sin(trk)
        v = gs * np.cos(trk)
        moved = dt != 0.0
        lat = np.where(
            moved, np.clip(self.lat + np.degrees(v * dt / EARTH_RADIUS_M), -90, 90), self.lat
        )
        scale = np.maximum(np.cos(np.radians(self.lat)), 1e-9)
        lon = np.where(moved, self.lon + np.degrees(u * dt / (EARTH_RADIUS_M * scale)), self.lon)
        lon = np.where(lon > 180.0, lon - 360.0, np.where(lon < -180.0, lon + 360.0, lon))
        alt = np.where(
            moved & (self.vs_fpm != 0.0), self.alt_ft + self.vs_fpm * dt / 60.0, self.alt_ft
        )
        return States(lat=lat, lon=lon, alt_ft=alt, u=u, v=v, vs_fpm=self.vs_fpm)

    @property
    def latest_time(self) -> datetime | None:
        """The newest report's instant (None when empty)."""
        if not self.ids:
            return None
        return self.time(int(np.argmax(self.time_s)))


@dataclass(frozen=True, slots=True)
class Latest:
    """What merging reports did: the kept states and the reports dropped as not newer than
    the one kept for their aircraft (in the order given)."""

    tracks: TrackSet
    stale: tuple[TrackReport, ...]
    updated: tuple[str, ...]


def latest(reports: Iterable[TrackReport], current: TrackSet | None = None) -> Latest:
    """Merge reports into the latest state per aircraft.

    A report replaces the one kept for its aircraft only if it is strictly newer; one at the
    same instant or older is dropped (``stale``), so replaying a batch changes nothing.
    ``updated`` lists the aircraft whose state changed, in first-seen order. Aircraft of
    ``current`` keep their rows; new aircraft follow in order of first report.
    """
    kept: dict[str, TrackReport] = {}
    if current is not None:
        kept = {r.id: r for r in current}
    stale: list[TrackReport] = []
    updated: dict[str, None] = {}
    for report in reports:
        old = kept.get(report.id)
        if old is not None and report.time <= old.time:
            stale.append(report)
            continue
        kept[report.id] = report
        updated[report.id] = None
    return Latest(
        tracks=TrackSet.from_reports(kept.values()),
        stale=tuple(stale),
        updated=tuple(updated),
    )


def epoch_seconds(instant: datetime) -> float:
    """Seconds since 1970-01-01 UTC of an aware instant (the clock of ``TrackSet.time_s``)."""
    return (instant - _EPOCH).total_seconds()
