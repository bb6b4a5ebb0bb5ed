"""Hidden objects answered from their shadows: what a proposal may learn of another party's
``center`` object.

A party that proposes operations learns, for each of another party's hidden objects, one bit
per proposal: it conflicts, or not. Answered against the true geometry, that bit lets a
patient prober bisect the object's place to the centimetre. So the center answers a
proposer about another party's hidden object against its **shadow** instead, and the
agreement's ``disclosure.hidden_precision_m`` (*P*) becomes a guarantee: however many
proposals a party makes and however it shapes them, it cannot narrow a hidden object's place
to less than *P* — while no true conflict is ever missed.

The shadow
----------
* Its **anchor** *A* is the object's geometry when the shadow was drawn.
* Its **offset** moves every vertex of *A* along the geodesic of one azimuth, drawn uniformly
  at random by the center and kept secret, by exactly ``2 P`` (:data:`OFFSET_FACTOR`).
* Its **reach** is the object's, widened by ``3 P`` (:data:`MARGIN_FACTOR`) and rounded up to
  a multiple of ``P / 4``, so that the widened uncertainty does not tell the object's own
  declared uncertainty either.
* It is kept while the object stays within *P* of its anchor (every point of the current
  geometry within *P* of *A*; for a flight plan, every vertex within *P* of its anchor
  vertex), and drawn anew (a fresh azimuth) only once the object has moved farther: an
  amendment that keeps a unit in place changes no answer, so averaging versions gains
  nothing.

Why nothing is missed: the object's geometry *G* lies within *P* of *A*, and *A* within
``2 P`` of the shadow, so an operation area within distance *T* of *G* lies within
``T + 3 P`` of the shadow.

Why nothing finer than *P* is learned: answers depend on the hidden object only through the
shadow, so an unlimited prober can learn the shadow exactly, and no more. The object lies
between ``2 P - P = P`` and ``3 P`` from where the shadow puts it, in an unknown direction:
the best estimate a prober can make (the shadow itself) is at least *P* off.

Every hit of a shadow answers for its object, to a proposer other than the owner, and the
true check answers the owner and every object that is not hidden from the proposer
(:func:`answer`). A shadow hit without a true conflict is a *margin* conflict: it blocks as a
true one does (the proposer cannot tell them apart); its owner and the center see that it is
the margin.

>>> from shapely.geometry import Point
>>> shadow = Shadow(anchor=Point(30.0, 10.0), azimuth_deg=90.0, precision_m=1000.0)
>>> round(shadow.margin_m), stays_within(shadow, Point(30.005, 10.0))
(3000, True)
>>> stays_within(shadow, Point(30.02, 10.0))
False
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from accord.agreement import ObjectKind
from accord.deconfliction.conflicts import Conflict
from accord.geo import GEOD, local_xy
from accord.world import Declared, Disclosure, FlightPlan

__all__ = [
    "MARGIN_FACTOR",
    "OFFSET_FACTOR",
    "SHADOW_PREFIX",
    "Shadow",
    "answer",
    "answer_order",
    "hidden_from",
    "shadow_object",
    "stays_within",
]

SHADOW_PREFIX = "\x1fshadow:"
"""What a shadow's id starts with (never a declared id: ids are printable)."""

OFFSET_FACTOR = 2.0
"""The shadow's displacement, in units of the precision bound."""

MARGIN_FACTOR = OFFSET_FACTOR + 1.0
"""How much a shadow's reach is widened, in units of the precision bound: the offset, and
the drift allowed before the shadow is drawn anew."""

_QUANTUM_FACTOR = 0.25
_SLACK_M = 0.01  # numerical slack of the containment test, far under any precision bound
_KIND_ORDER = {kind: i for i, kind in enumerate(ObjectKind)}
_ROUNDING_SLACK_M = 1.0  # so that no rounding of the engine's metres meets the margin's edge


@dataclass(frozen=True, slots=True)
class Shadow:
    """Where a hidden object is answered from (see the module docstring).

    Parameters
    ----------
    anchor
        The object's geometry (lon, lat[, altitude]) when the shadow was drawn.
    azimuth_deg
        The secret direction of the offset, degrees clockwise from north.
    precision_m
        The precision bound *P* the shadow was drawn for (> 0).
    """

    anchor: BaseGeometry
    azimuth_deg: float
    precision_m: float

    @property
    def offset_m(self) -> float:
        return OFFSET_FACTOR * self.precision_m

    @property
    def margin_m(self) -> float:
        return MARGIN_FACTOR * self.precision_m

    def geometry(self) -> BaseGeometry:
        """The anchor moved by the offset (altitudes kept)."""
        offset, azimuth = self.offset_m, self.azimuth_deg

        def move(coords: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            lon, lat = coords[:, 0], coords[:, 1]
            n = len(lon)
            lon2, lat2, _ = GEOD.fwd(lon, lat, np.full(n, azimuth), np.full(n, offset))
            out = coords.copy()
            out[:, 0] = lon2
            out[:, 1] = lat2
            return out

        return shapely.transform(self.anchor, move, include_z=self.anchor.has_z)

    def to_json(self) -> dict[str, Any]:
        """The stored form: ``anchor`` (GeoJSON geometry), ``azimuth_deg``, ``precision_m``."""
        return {
            "anchor": mapping(self.anchor),
            "azimuth_deg": self.azimuth_deg,
            "precision_m": self.precision_m,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, precision_m: float) -> Shadow:
        """Read the form :meth:`to_json` writes; a null ``precision_m`` is ``precision_m``
        (the bound in force). Raises ``KeyError``, ``ValueError``, ``TypeError`` on anything
        else."""
        stored = data["precision_m"]
        precision = precision_m if stored is None else float(stored)
        azimuth = float(data["azimuth_deg"])
        if not (precision > 0 and math.isfinite(precision) and math.isfinite(azimuth)):
            raise ValueError("a shadow has a positive precision and a finite azimuth")
        return cls(anchor=shape(data["anchor"]), azimuth_deg=azimuth, precision_m=precision)


def stays_within(shadow: Shadow, geometry: BaseGeometry) -> bool:
    """Whether ``geometry`` lies within the shadow's precision of its anchor, so that the
    shadow still answers for it without missing anything.

    Every point of ``geometry`` must lie within *P* of the anchor, measured in an
    azimuthal-equidistant frame about the anchor's centre (a flight path vertex by vertex,
    its times being the object's own). Geometries of another type never stay."""
    anchor = shadow.anchor
    if geometry.geom_type != anchor.geom_type:
        return False
    reach = shadow.precision_m - _SLACK_M
    a = shapely.get_coordinates(anchor)
    g = shapely.get_coordinates(geometry)
    centre = anchor.centroid
    lon0, lat0 = float(centre.x), float(centre.y)
    ax, ay = local_xy(lon0, lat0, a[:, 0], a[:, 1])
    gx, gy = local_xy(lon0, lat0, g[:, 0], g[:, 1])
    if geometry.geom_type == "LineString" and anchor.has_z:  # a flight path: vertex by vertex
        if len(a) != len(g):
            return False
        return bool(np.all(np.hypot(ax - gx, ay - gy) <= reach))
    local_anchor = shapely.set_coordinates(anchor, np.column_stack([ax, ay]))
    local_geometry = shapely.set_coordinates(geometry, np.column_stack([gx, gy]))
    # A buffer's polygon lies inside the true neighbourhood: "within" is never too generous.
    return bool(local_geometry.within(local_anchor.buffer(reach, quad_segs=16)))


def shadow_object(obj: Declared, shadow: Shadow) -> Declared:
    """The object the engine checks in place of ``obj`` for proposers it is hidden from:
    ``obj`` with the shadow's geometry, its uncertainty widened by the margin (rounded up to
    a quarter of the precision), and the id ``SHADOW_PREFIX + obj.id``."""
    quantum = _QUANTUM_FACTOR * shadow.precision_m
    reach = obj.uncertainty_m + shadow.margin_m + _ROUNDING_SLACK_M
    widened = math.ceil(reach / quantum) * quantum
    geometry = shadow.geometry()
    if isinstance(obj, FlightPlan) and len(obj.times) != len(shapely.get_coordinates(geometry)):
        raise ValueError("a flight plan's shadow has one vertex per time")
    return replace(obj, id=SHADOW_PREFIX + obj.id, geometry=geometry, uncertainty_m=widened)


def hidden_from(conflict: Conflict, proposer: str) -> bool:
    """Whether ``conflict``'s object is another party's ``center`` object, as ``proposer``
    sees it: answered from its shadow, its distance never shown nor used to order."""
    return conflict.disclosure is Disclosure.CENTER and conflict.party != proposer


def answer_order(proposer: str) -> Any:
    """The sort key of the answer to ``proposer``: blocking first; then what the proposer
    may measure, nearest first; then its hidden conflicts by kind, party and id — never by a
    distance it may not learn, which the order would otherwise betray."""
    kinds = _KIND_ORDER

    def key(c: Conflict) -> tuple[bool, bool, float, int, str, str]:
        hidden = hidden_from(c, proposer)
        distance = 0.0 if hidden or c.distance_m is None else c.distance_m
        return (not c.blocking, hidden, distance, kinds[c.kind], c.party, c.with_id or "")

    return key


def answer(conflicts: Iterable[Conflict], *, proposer: str) -> list[Conflict]:
    """The conflicts of an operation of ``proposer``, from the engine's findings over the
    objects and their shadows.

    Parameters
    ----------
    conflicts
        What the engine found: hits of true objects and of shadows (ids starting with
        :data:`SHADOW_PREFIX`).
    proposer
        The party whose operation it is.

    Returns
    -------
    list of Conflict
        The true conflicts with what ``proposer`` may measure, and one conflict per shadow
        hit of another party's object, carrying the true distance and threshold when there is
        a true conflict too (for the owner and the center; :meth:`Conflict.visible_to` cuts
        them for everyone else), or none and ``margin=True`` when only the shadow is hit. A
        true conflict with a hidden object whose shadow was not hit (an object without a
        shadow: the agreement sets no precision bound) is answered as found.

    Examples
    --------
    >>> from accord.agreement import ObjectKind
    >>> true = Conflict("op", ObjectKind.POSITION, "p1", "red", 10.0, 3000.0, True,
    ...                 Disclosure.CENTER)
    >>> hit = true._replace(with_id=SHADOW_PREFIX + "p1", distance_m=2500.0, threshold_m=6000.0)
    >>> [(c.with_id, c.distance_m, c.margin) for c in answer([true, hit], proposer="blue")]
    [('p1', 10.0, False)]
    >>> [(c.with_id, c.distance_m, c.margin) for c in answer([hit], proposer="blue")]
    [('p1', None, True)]
    >>> [c.with_id for c in answer([true, hit], proposer="red")]
    ['p1']
    """
    out: list[Conflict] = []
    true_hidden: dict[str, Conflict] = {}
    shadow_hits: list[Conflict] = []
    for c in conflicts:
        if c.with_id is not None and c.with_id.startswith(SHADOW_PREFIX):
            if c.party != proposer:
                shadow_hits.append(c)
        elif hidden_from(c, proposer) and c.with_id is not None:
            true_hidden[c.with_id] = c
        else:
            out.append(c)
    for hit in shadow_hits:
        real = hit.with_id[len(SHADOW_PREFIX) :] if hit.with_id else ""
        true = true_hidden.pop(real, None)
        if true is not None:
            out.append(true)
        else:
            out.append(hit._replace(with_id=real, distance_m=None, threshold_m=None, margin=True))
    # Without a shadow, or (by construction never) with a shadow that was not hit: the
    # true conflict is kept, for a missed conflict is worse than any leak.
    out.extend(true_hidden.values())
    return out
