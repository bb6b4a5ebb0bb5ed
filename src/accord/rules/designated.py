"""Designated areas: which flight plans enter an area closed to their operator.

A designated area is a polygon (WGS84 lon/lat) in which the agreement's
``restricted_operators`` may not fly, unless the flight's mission is one of the area's
``exempt_missions``. :class:`DesignatedAreaIndex` builds the polygons once and checks flights
against them; :func:`check_designated_areas` is the one-shot form.

A flight's path is its vertices joined by legs that follow the WGS84 geodesic (what an
aircraft flies). Each leg is densified along the geodesic (:data:`DENSIFY_M` apart) and every
piece is intersected with the polygon, so a leg that only clips a corner, or whose great
circle bows into an area its end points are far from, is caught. The entry time is
interpolated linearly along the leg. Altitude is ignored: an area closes the airspace above
it at every height. Polygons and paths crossing the antimeridian are not supported.

>>> from datetime import datetime, timedelta, UTC
>>> from accord.agreement import load_agreement
>>> from accord.examples import example_path
>>> from accord.rules.designated import FlightPlan, check_designated_areas
>>> jig = load_agreement(example_path("jig.yaml"))
>>> t0 = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
>>> flight = FlightPlan(id="fp-1", operator="green-af", party=None, mission="strike",
...                     coords=((21.0, 25.2, 3000.0), (21.7, 25.2, 3000.0)),
...                     times=(t0, t0 + timedelta(minutes=70)))
>>> [(f.area_id, f.verdict) for f in check_designated_areas(jig, flight)]
[('da-north', 'violation')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Literal, Protocol

import numpy as np
import shapely

from accord.agreement import Agreement, DesignatedArea
from accord.errors import Issue, WorldError
from accord.geo import GEOD

__all__ = [
    "DENSIFY_M",
    "AreaFinding",
    "DesignatedAreaIndex",
    "FlightLike",
    "FlightPlan",
    "check_designated_areas",
]

DENSIFY_M = 1000.0
"""Largest distance in metres between two points of a densified leg."""

_MAX_PIECES = 5000


class FlightLike(Protocol):
    """What the check needs to know of a flight plan (``accord.world`` has one).

    ``coords`` are (lon, lat, altitude metres); ``times`` are aware UTC datetimes, one per
    vertex.
    """

    @property
    def id(self) -> str: ...

    @property
    def operator(self) -> str: ...

    @property
    def party(self) -> str | None: ...

    @property
    def mission(self) -> str: ...

    @property
    def coords(self) -> tuple[tuple[float, float, float], ...]: ...

    @property
    def times(self) -> tuple[datetime, ...]: ...


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """A plain :class:`FlightLike`, for scripts, tests and examples."""

    id: str
    operator: str
    party: str | None
    mission: str
    coords: tuple[tuple[float, float, float], ...]
    times: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class AreaFinding:
    """A flight entering a designated area closed to its operator.

    ``verdict`` is ``exempt`` when the mission is one of the area's exempt missions, else
    ``violation``. ``entry_at`` and ``entry_point`` (lon, lat) are where the path first
    enters the area (None where unknown).
    """

    area_id: str
    flight_id: str
    operator: str
    mission: str
    verdict: Literal["violation", "exempt"]
    entry_at: datetime | None
    entry_point: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class _Area:
    area: DesignatedArea
    polygon: shapely.Polygon
    restricted: frozenset[str]
    exempt: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Piece:
    """A straight (lon/lat) piece of a densified leg and where it lies along its leg."""

    leg: int
    start: tuple[float, float]
    end: tuple[float, float]
    f0: float
    f1: float


class DesignatedAreaIndex:
    """The agreement's designated areas as prepared polygons, built once.

    >>> from accord.agreement import load_agreement
    >>> from accord.examples import example_path
    >>> index = DesignatedAreaIndex(load_agreement(example_path("jig.yaml")))
    >>> index.area_ids
    ('da-north',)
    """

    __slots__ = ("_areas",)

    def __init__(self, agreement: Agreement) -> None:
        areas: list[_Area] = []
        for area in agreement.designated_areas:
            ring = list(area.polygon)
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            polygon = shapely.Polygon(ring)
            shapely.prepare(polygon)
            areas.append(
                _Area(
                    area=area,
                    polygon=polygon,
                    restricted=frozenset(area.restricted_operators),
                    exempt=frozenset(area.exempt_missions),
                )
            )
        self._areas: tuple[_Area, ...] = tuple(areas)

    @property
    def area_ids(self) -> tuple[str, ...]:
        """The ids of the designated areas, in the agreement's order."""
        return tuple(a.area.id for a in self._areas)

    @property
    def restricted_operators(self) -> frozenset[str]:
        """Every operator some designated area is closed to."""
        return frozenset().union(*(a.restricted for a in self._areas))

    def check(self, flight: FlightLike) -> tuple[AreaFinding, ...]:
        """One finding per designated area closed to the flight's operator that its path enters,
        in the agreement's order of areas.

        Raises
        ------
        WorldError
            The flight has no vertex, or not one time per vertex.
        """
        _validate(flight)
        areas = [a for a in self._areas if flight.operator in a.restricted]
        if not areas:
            return ()
        pieces = _densify(flight)
        geometries = np.array(
            [
                shapely.Point(p.start) if p.start == p.end else shapely.LineString([p.start, p.end])
                for p in pieces
            ],
            dtype=object,
        )
        findings: list[AreaFinding] = []
        for area in areas:
            hits = np.flatnonzero(shapely.intersects(area.polygon, geometries))
            if hits.size == 0:
                continue
            piece = pieces[int(hits[0])]
            fraction, point = _entry(area.polygon, piece, geometries[int(hits[0])])
            findings.append(
                AreaFinding(
                    area_id=area.area.id,
                    flight_id=flight.id,
                    operator=flight.operator,
                    mission=flight.mission,
                    verdict="exempt" if flight.mission in area.exempt else "violation",
                    entry_at=_time_at(flight, piece, fraction),
                    entry_point=point,
                )
            )
        return tuple(findings)


def check_designated_areas(agreement: Agreement, flight: FlightLike) -> tuple[AreaFinding, ...]:
    """Check one flight against the agreement's designated areas (see
    :meth:`DesignatedAreaIndex.check`); build a :class:`DesignatedAreaIndex` to check many."""
    return DesignatedAreaIndex(agreement).check(flight)


def _validate(flight: FlightLike) -> None:
    coords, times = flight.coords, flight.times
    if not coords:
        raise WorldError(
            f"flight {flight.id!r}", [Issue("coords", "a flight needs a vertex", flight.id)]
        )
    if len(times) != len(coords):
        raise WorldError(
            f"flight {flight.id!r}",
            [
                Issue(
                    "times",
                    f"{len(times)} times for {len(coords)} vertices: one time per vertex",
                    flight.id,
                )
            ],
        )


def _densify(flight: FlightLike) -> list[_Piece]:
    coords = flight.coords
    if len(coords) == 1:
        lon, lat = float(coords[0][0]), float(coords[0][1])
        return [_Piece(0, (lon, lat), (lon, lat), 0.0, 0.0)]
    pieces: list[_Piece] = []
    for leg, (a, b) in enumerate(pairwise(coords)):
        start = (float(a[0]), float(a[1]))
        end = (float(b[0]), float(b[1]))
        _, _, distance = GEOD.inv(start[0], start[1], end[0], end[1])
        segments = min(_MAX_PIECES, max(1, math.ceil(float(distance) / DENSIFY_M)))
        points = [start]
        if segments > 1:
            middle = GEOD.npts(start[0], start[1], end[0], end[1], segments - 1)
            points.extend((float(lon), float(lat)) for lon, lat in middle)
        points.append(end)
        for k in range(segments):
            pieces.append(_Piece(leg, points[k], points[k + 1], k / segments, (k + 1) / segments))
    return pieces


def _entry(
    polygon: shapely.Polygon, piece: _Piece, geometry: shapely.Geometry
) -> tuple[float, tuple[float, float]]:
    """Where a piece known to touch the polygon first does so: the fraction along its leg and
    the point (lon, lat)."""
    if piece.start == piece.end:
        return piece.f0, piece.start
    inside = shapely.get_coordinates(shapely.intersection(geometry, polygon))
    if len(inside) == 0:  # pragma: no cover - the piece intersects the polygon
        return piece.f0, piece.start
    along = shapely.line_locate_point(geometry, shapely.points(inside), normalized=True)
    best = int(np.argmin(along))
    f = float(along[best])
    point = (float(inside[best][0]), float(inside[best][1]))
    return piece.f0 + (piece.f1 - piece.f0) * f, point


def _time_at(flight: FlightLike, piece: _Piece, fraction: float) -> datetime:
    t0 = flight.times[piece.leg]
    if len(flight.times) == 1:
        return t0
    t1 = flight.times[piece.leg + 1]
    return t0 + (t1 - t0) * fraction
