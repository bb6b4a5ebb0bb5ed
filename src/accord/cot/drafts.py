"""A shape drawn on a device as a member's *draft* (``PUT /v1/drafts/{key}``): never a
declaration or an operation by itself — an officer finds it on the page and may turn it
into a proposal.

* ``u-d-f`` (a free shape): its ``link`` vertices; closed (the last vertex the first, at
  least four) a Polygon, else a LineString;
* ``u-d-r`` (a rectangle): its four corners, closed into a Polygon;
* ``u-d-c-c`` (a circle): the event's point and its ``shape/ellipse`` radius, as a
  :data:`CIRCLE_VERTICES`-vertex Polygon on the WGS84 ellipsoid (an ellipse by its axes
  and angle, the same way).

The draft's key is the drawing's uid (what a later ``t-x-d-d`` names); the device and its
callsign are the connection's (who drew it), never what the event claims. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from accord.chrono import format_instant
from accord.cot.model import Event, is_delete, is_drawn_shape
from accord.errors import CotError
from accord.geo import GEOD

__all__ = [
    "CIRCLE_VERTICES",
    "DRAFT_KEY",
    "MAX_VERTICES",
    "deleted_key",
    "draft_body",
    "draft_key",
]

CIRCLE_VERTICES = 64
MAX_VERTICES = 1000
"""The most vertices a drawn shape may give (more: refused, naming ``detail/link``)."""
MAX_NAME = 200
DRAFT_KEY = re.compile(r"^[A-Za-z0-9._:@-]{1,100}$")
"""A draft's key (the drawing's CoT uid): 1–100 characters of ``[A-Za-z0-9._:@-]``."""

_SHAPES = {"u-d-f": "freehand", "u-d-r": "rectangle", "u-d-c-c": "circle"}


def draft_key(uid: str, *, field: str = "event@uid") -> str:
    """``uid`` if it can key a draft, else :class:`~accord.errors.CotError` naming ``field``."""
    if not DRAFT_KEY.match(uid):
        raise CotError(field, "a drawing's uid is 1 to 100 characters of [A-Za-z0-9._:@-]")
    return uid


def deleted_key(event: Event) -> str | None:
    """The draft a ``t-x-d-d`` deletes (its link's uid, when it keys a draft); ``None`` for
    any other event or a delete naming nothing a draft can be."""
    if not is_delete(event.type):
        return None
    for link in event.detail.links:
        if link.uid is not None and DRAFT_KEY.match(link.uid):
            return link.uid
    return None


def _ring(coords: list[list[float]]) -> list[list[float]]:
    return coords if coords[0] == coords[-1] else [*coords, coords[0]]


def _vertices(event: Event) -> list[list[float]]:
    points = [link.point for link in event.detail.links if link.point is not None]
    if len(points) > MAX_VERTICES:
        raise CotError("detail/link", f"a drawn shape has at most {MAX_VERTICES} vertices")
    return [[p.lon, p.lat] for p in points]


def _ellipse(event: Event) -> list[list[float]]:
    ellipse = event.detail.ellipse
    if ellipse is None:
        raise CotError("detail/shape/ellipse", "a circle needs its ellipse (its radius)")
    if not ellipse.major > 0 or not ellipse.minor > 0:
        raise CotError("detail/shape/ellipse@major", "a circle's radius is more than 0 metres")
    # the ellipse's radius along each bearing from its centre (angle: the major axis)
    theta = np.linspace(0.0, 2 * math.pi, CIRCLE_VERTICES, endpoint=False)
    a, b = ellipse.major, ellipse.minor
    radius = a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)
    azimuth = np.degrees(theta) + ellipse.angle
    n = CIRCLE_VERTICES
    lons, lats, _ = GEOD.fwd(
        np.full(n, event.point.lon), np.full(n, event.point.lat), azimuth, radius
    )
    ring = [[float(x), float(y)] for x, y in zip(lons, lats, strict=True)]
    return [*ring, ring[0]]


def _geometry(event: Event) -> dict[str, Any]:
    if event.type == "u-d-c-c":
        return {"type": "Polygon", "coordinates": [_ellipse(event)]}
    coords = _vertices(event)
    if event.type == "u-d-r":
        if len(coords) != 4:
            raise CotError("detail/link", f"a rectangle has 4 corners, not {len(coords)}")
        return {"type": "Polygon", "coordinates": [_ring(coords)]}
    if len(coords) >= 4 and coords[0] == coords[-1]:
        return {"type": "Polygon", "coordinates": [coords]}
    if len(coords) < 2:
        raise CotError("detail/link", "a drawn shape has at least 2 vertices")
    return {"type": "LineString", "coordinates": coords}


def draft_body(event: Event, *, device_uid: str, callsign: str | None) -> dict[str, Any]:
    """The body of ``PUT /v1/drafts/{key}`` for a drawn shape (``u-d-f``, ``u-d-r``,
    ``u-d-c-c``) drawn on the device ``device_uid`` (``callsign``: the device's); raises
    :class:`~accord.errors.CotError` naming the element for any other event or a shape that
    cannot be drawn (too few or too many vertices, no radius, a uid that keys no draft)."""
    if not is_drawn_shape(event.type):
        raise CotError("event@type", f"{event.type!r} is no drawn shape", uid=event.uid)
    draft_key(event.uid)
    name = (event.detail.callsign or "").strip()[:MAX_NAME] or event.uid
    return {
        "name": name,
        "shape": _SHAPES[event.type],
        "geometry": _geometry(event),
        "device": {"uid": device_uid, "callsign": callsign},
        "drawn_at": format_instant(event.time),
    }
