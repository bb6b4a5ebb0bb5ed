"""Received geometry: coordinates one party passes another (a direct-line message, an
objection's evidence) checked against the world as if they were an operation's area, and
what each party may be shown of the answer.

A duty officer receiving coordinates at 3 a.m. needs to know at once whether they sit on a
school, a convoy or one of its own units — whatever the sender meant. The engine answers
for the area (:func:`areas_of`); :func:`merged` keeps one conflict per object (the nearest
piece of a multi-point geometry); :func:`open_to` cuts the answer for one party: every
conflict with a *shared* object (a protected site, a humanitarian movement, a notified
operation: what every party may measure anyway) and with the party's **own** objects,
hidden ones included — and **nothing** about another party's hidden objects, not even that
one is near (DECISIONS 1–2): the sender chose the coordinates, so an answer about the
receiver's hidden forces would be a probe that no probe limit counts.

The check looks at what stands there from the moment it is made for :data:`CHECK_WINDOW`
(a movement passing in the next day counts; one that ended yesterday does not).

>>> from datetime import datetime, timezone
>>> from accord.agreement import load_agreement
>>> from accord.examples import example_path
>>> from accord.world import load_world
>>> from accord.deconfliction import DeconflictionIndex
>>> agreement = load_agreement(example_path("jig.yaml"))
>>> index = DeconflictionIndex(agreement, load_world(example_path("world.geojson"), agreement))
>>> at = datetime(2026, 9, 20, 4, tzinfo=timezone.utc)
>>> point = {"type": "Point", "coordinates": [21.87438, 24.936]}
>>> (area,) = areas_of(point, agreement, area_id="m-1", party="red", at=at)
>>> found = merged(index.check(area).conflicts)
>>> [(c.with_id, round(c.distance_m)) for c in open_to(found, "red")]
[('site-school-12', 240), ('op-c2', 1393)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import shapely

from accord.agreement import Agreement
from accord.deconfliction.conflicts import Conflict
from accord.errors import Unchecked
from accord.world import Disclosure, Operation, densified_vertices, reach_m

__all__ = ["CHECK_WINDOW", "MAX_POINTS", "Unchecked", "areas_of", "describe", "merged", "open_to"]

CHECK_WINDOW = timedelta(hours=24)
"""How far ahead of the check the world is looked at."""

MAX_POINTS = 64
"""The most points of a multi-point checked at once: each is a check of its own (about
0.15 ms of the writer's time in a world of a thousand objects nearby), where a line or a
polygon of the agreement's most vertices is one (`python -m bench --only checks`)."""

_CATEGORY = "received"
"""The category of a received area (no rule reads it; the engine does not either)."""


def _area(geometry: shapely.Geometry, *, area_id: str, party: str, at: datetime) -> Operation:
    return Operation(
        id=area_id,
        declared_by=party,
        geometry=geometry,
        category=_CATEGORY,
        proposed_by=party,
        executors=(),
        window_start=at,
        window_end=at + CHECK_WINDOW,
    )


def _lines(
    agreement: Agreement, lines: Sequence[Sequence[Sequence[float]]]
) -> list[list[tuple[float, float]]]:
    """Rings or a line as (lon, lat) tuples, held to the limits of an operation's area."""
    limits = agreement.limits
    flat = [(float(p[0]), float(p[1])) for line in lines for p in line]
    if len(flat) > limits.operation_vertices:
        raise Unchecked(
            f"it gives {len(flat)} positions; the engine checks an area of at most "
            f"{limits.operation_vertices} (the agreement's limits.operation_vertices)"
        )
    out = [[(float(p[0]), float(p[1])) for p in line] for line in lines]
    dense = densified_vertices(out)
    if dense > limits.operation_densified_vertices:
        raise Unchecked(
            f"it is {dense} vertices long counting one every 2 km; the engine checks at most "
            f"{limits.operation_densified_vertices} (limits.operation_densified_vertices)"
        )
    lons = [p[0] for p in flat]
    if max(lons) - min(lons) > 180.0:
        raise Unchecked("it spans more than 180° of longitude or crosses the antimeridian")
    return out


def _within_reach(agreement: Agreement, geometry: shapely.Geometry) -> None:
    reach = reach_m(geometry)
    most = agreement.limits.operation_extent_m
    if reach > most:
        raise Unchecked(
            f"it reaches {reach / 1000:.0f} km from its centre; the engine checks areas "
            f"reaching at most {most / 1000:g} km (limits.operation_extent_m)"
        )


def areas_of(
    geometry: Mapping[str, Any],
    agreement: Agreement,
    *,
    area_id: str,
    party: str,
    at: datetime,
) -> list[Operation]:
    """The operation areas that check ``geometry`` (a GeoJSON ``Point``, ``MultiPoint``,
    ``LineString`` or ``Polygon`` already read: positions in range, rings closed, a polygon
    valid) from ``at`` for :data:`CHECK_WINDOW`.

    A point is checked as a point (radius 0), each point of a multi-point on its own, a
    polygon as an operation's polygon, and a line as a ring that runs along it and back:
    the engine measures the distance to every edge of a ring, so a ring of zero area
    answers exactly for the line (a polygon object it crosses contains a point of it).

    Raises
    ------
    Unchecked
        The geometry is beyond what the engine checks to its accuracy under the agreement's
        limits for an operation's area (``limits.operation_vertices``,
        ``operation_densified_vertices``, ``operation_extent_m``), or it crosses the
        antimeridian.
    """
    kind = geometry["type"]
    coordinates = geometry["coordinates"]
    if kind == "Point":
        return [_area(shapely.Point(coordinates[:2]), area_id=area_id, party=party, at=at)]
    if kind == "MultiPoint":
        points = sorted({(float(p[0]), float(p[1])) for p in coordinates})
        if len(points) > MAX_POINTS:
            raise Unchecked(
                f"it gives {len(points)} points; the engine checks at most {MAX_POINTS} "
                "points at once (send a line or a polygon, or several messages)"
            )
        return [_area(shapely.Point(p), area_id=area_id, party=party, at=at) for p in points]
    if kind == "LineString":
        (line,) = _lines(agreement, [coordinates])
        if len(set(line)) == 1:  # a line of zero length is a point
            return [_area(shapely.Point(line[0]), area_id=area_id, party=party, at=at)]
        ring = shapely.Polygon([*line, *line[-2::-1]])
        _within_reach(agreement, shapely.LineString(line))
        return [_area(ring, area_id=area_id, party=party, at=at)]
    if kind == "Polygon":
        rings = _lines(agreement, coordinates)
        polygon = shapely.Polygon(rings[0], rings[1:])
        _within_reach(agreement, polygon)
        return [_area(polygon, area_id=area_id, party=party, at=at)]
    raise Unchecked(f"a {kind} is not checked")


def merged(conflicts: Iterable[Conflict]) -> list[Conflict]:
    """One conflict per object: the nearest of its pieces' (blocking first, then nearest,
    then by kind and id)."""
    best: dict[tuple[str, str | None], Conflict] = {}
    for c in conflicts:
        key = (c.kind.value, c.with_id)
        held = best.get(key)
        if held is None or (c.distance_m or 0.0) < (held.distance_m or 0.0):
            best[key] = c
    return sorted(
        best.values(),
        key=lambda c: (not c.blocking, c.distance_m or 0.0, c.kind.value, c.with_id or ""),
    )


def open_to(conflicts: Iterable[Conflict], viewer: str) -> list[Conflict]:
    """What ``viewer`` is shown: conflicts with shared objects and with its own objects
    (hidden ones included); nothing of another party's hidden objects."""
    return [c for c in conflicts if c.disclosure is Disclosure.SHARED or c.party == viewer]


def describe(conflict: Conflict, name: str | None) -> str:
    """One line for a duty officer: how far, from what, and the distance the agreement
    keeps.

    >>> from accord.agreement import ObjectKind
    >>> c = Conflict("m-1", ObjectKind.PROTECTED_SITE, "site-school-12", "hnc", 240.4, 1500.0,
    ...              True)
    >>> describe(c, "School No. 12")
    '240 m from School No. 12 (protected site of hnc; the agreement keeps 1,500 m) — blocking'
    """
    what = name or conflict.with_id or conflict.kind.value
    distance = conflict.distance_m or 0.0
    where = f"{math.floor(distance + 0.5):,} m from"
    kind = conflict.kind.value.replace("_", " ")
    threshold = conflict.threshold_m
    keeps = "" if threshold is None else f"; the agreement keeps {threshold:,.0f} m"
    verdict = "blocking" if conflict.blocking else "warning"
    return f"{where} {what} ({kind} of {conflict.party}{keeps}) — {verdict}"
