"""A friendly position report (``a-f-*``) as the fields of an Accord position declaration.

The declaration is the GeoJSON feature ``POST /v1/declarations`` takes (and
:func:`accord.world.parse_world` checks): a ``position`` of the reporting member's party at
the report's point, ``uncertainty_m`` from ``ce`` (left out when CoT says unknown), held
from the report's ``start`` to its ``stale`` (``valid_from``/``valid_to``), named after the
device's callsign, with the disclosure the caller gives (the member's default; the center's
``center`` unless the agreement says otherwise). Its id is the center's to give (one stable
id per device uid), so the feature carries none.

The world's ``position`` has no course or speed: the report's ``track`` rides beside the
feature (``motion``), for the service to keep with the device's last report.
"""

from __future__ import annotations

from typing import Any

from accord.chrono import format_instant
from accord.cot.model import Event, is_friendly
from accord.errors import CotError

__all__ = ["MAX_NAME", "position_declaration"]

MAX_NAME = 200
"""The longest name a declaration takes (the callsign is cut to it)."""


def position_declaration(event: Event, *, party: str, disclosure: str) -> dict[str, Any]:
    """``{"device", "reported_at", "feature", "motion"}`` for a friendly position report;
    raises :class:`~accord.errors.CotError` (``event@type``) for any other event, or when
    the report holds no time (``stale`` at ``start``)."""
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
    if p.ce is not None:
        properties["uncertainty_m"] = p.ce
    callsign = (event.detail.callsign or "").strip()
    if callsign:
        properties["name"] = callsign[:MAX_NAME]
    track = event.detail.track
    return {
        "device": event.uid,
        "reported_at": format_instant(event.time),
        "feature": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": properties,
        },
        "motion": None if track is None else {"course_deg": track.course, "speed_mps": track.speed},
    }
