"""A friendly position report (``a-f-*``) as the fields of an Accord position declaration.

The declaration is the GeoJSON feature ``POST /v1/declarations`` takes (and
:func:`accord.world.parse_world` checks): a ``position`` of the reporting member's party at
the report's point, ``uncertainty_m`` from ``ce`` (left out when CoT says unknown), held
from the report's ``start`` to its ``stale`` (``valid_from``/``valid_to``), named after the
device's callsign, with the disclosure the caller gives (the member's default; the center's
``center`` unless the agreement says otherwise). Its id is the center's to give (one stable
id per device uid), so the feature carries none.

The report's device rides in the feature's properties as the world's ``position`` has them
(:class:`accord.world.Position`): ``device`` (its ``uid`` and ``callsign``), the report's
``track`` as ``course_deg`` and ``speed_mps``, and its ``time`` as ``reported_at``. A uid
that is not one a declaration takes (1–100 of ``[A-Za-z0-9._:@-]``) is refused naming
``event@uid``; a speed beyond the world's bound (1,000 m/s: no ground unit's) is left out.
"""

from __future__ import annotations

import re
from typing import Any

from accord.chrono import format_instant
from accord.cot.model import Event, is_friendly
from accord.errors import CotError

__all__ = ["MAX_NAME", "position_declaration"]

MAX_NAME = 200
"""The longest name a declaration takes (the callsign is cut to it)."""

_UID = re.compile(r"[A-Za-z0-9._:@-]{1,100}\Z")  # as accord.world's device uid
_MAX_SPEED_MPS = 1000.0  # as accord.world's bound on a position's speed


def position_declaration(event: Event, *, party: str, disclosure: str) -> dict[str, Any]:
    """``{"device": <the uid>, "reported_at", "feature"}`` for a friendly position report
    (the feature's properties carry the device, the motion and the time too); raises
    :class:`~accord.errors.CotError` (``event@type``) for any other event, when the report
    holds no time (``stale`` at ``start``), or for a uid no declaration takes
    (``event@uid``)."""
    if not is_friendly(event.type):
        raise CotError(
            "event@type", f"{event.type!r} is no friendly position (a-f-…)", uid=event.uid
        )
    if event.stale <= event.start:
        raise CotError(
            "event@stale", "a position report must be valid for some time", uid=event.uid
        )
    p = event.point
    properties: dict[str, Any] = {
        "kind": "position",
        "party": party,
        "disclosure": disclosure,
        "valid_from": format_instant(event.start),
        "valid_to": format_instant(event.stale),
    }
    if not _UID.match(event.uid):
        raise CotError(
            "event@uid", "a device's uid is 1 to 100 of A-Z a-z 0-9 . _ : @ -", uid=event.uid
        )
    if p.ce is not None:
        properties["uncertainty_m"] = p.ce
    callsign = "".join(c if c.isprintable() else " " for c in event.detail.callsign or "")
    callsign = callsign.strip()[:MAX_NAME]
    if callsign:
        properties["name"] = callsign
    properties["device"] = {"uid": event.uid, "callsign": callsign or None}
    track = event.detail.track
    if track is not None:
        properties["course_deg"] = track.course % 360.0
        if track.speed <= _MAX_SPEED_MPS:
            properties["speed_mps"] = track.speed
    reported_at = format_instant(event.time)
    properties["reported_at"] = reported_at
    return {
        "device": event.uid,
        "reported_at": reported_at,
        "feature": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": properties,
        },
    }
