"""Live track reports as the tests post them to the service (a head-on pair, BLUE and RED,
whose separation is lost in about 100 s), a flight plan to declare, and the airspace entries
the record holds."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from accord.chrono import format_instant
from accord.record.entries import open_envelope
from support.jig import NOW
from support.service import Service

T = format_instant(NOW)


def report(track_id: str, party: str | None, lat: float, lon: float, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": track_id,
        "operator": party or "green-af",
        "party": party,
        "mission": "patrol",
        "time": T,
        "lat": lat,
        "lon": lon,
        "alt_ft": 30000,
        "gs_kt": 400,
        "track_deg": 90,
        "vs_fpm": 0,
    }
    values.update(over)
    return values


# Head-on at the same level, 0.5° of longitude apart: separation lost in about 100 s.
BLUE = report("b1", "blue", 25.0, 21.0)
RED = report("r1", "red", 25.0, 21.5, track_deg=270)


def post(service: Service, user: str, *tracks: dict[str, Any], **kwargs: Any) -> Any:
    return service.post("/v1/tracks", user, json={"tracks": list(tracks)}, **kwargs)


def entries(service: Service) -> list[tuple[str, dict[str, Any]]]:
    got = service.get("/v1/record/entries", "observer", params={"end": 10_000}).json()
    out = []
    for e in got["entries"]:
        _index, _prev, body = open_envelope(base64.b64decode(e["data"]))
        raw = json.loads(body)
        out.append((raw["author"], raw["event"]))
    return out


def airspace_entries(service: Service) -> list[tuple[str, dict[str, Any]]]:
    return [(a, e) for a, e in entries(service) if str(e.get("kind", "")).startswith("airspace")]


def rows_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A group entry's findings, each as a dict of its ``fields``."""
    return [dict(zip(event["fields"], row, strict=True)) for row in event["findings"]]


def plan(lon0: float, lon1: float, party: str, disclosure: str = "shared") -> dict[str, Any]:
    start = NOW + timedelta(hours=1)
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[lon0, 24.5, 9144], [lon1, 24.5, 9144]]},
        "properties": {
            "kind": "flight_plan",
            "operator": party,
            "party": party,
            "mission": "transport",
            "disclosure": disclosure,
            "times": [format_instant(start), format_instant(start + timedelta(minutes=20))],
        },
    }
