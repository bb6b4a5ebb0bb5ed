"""The disclosure walk's world and table: what blue hides (markers nobody outside its audience
may read), every route of the API with the body it is called with, and the world the walk
runs in (seeded by :func:`seed_world`, the ``world`` fixture of the center's conftest)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accord.center.db import writer
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.cli_fetch import fetch_export
from accord.record.canonical import decode_base64
from accord.record.entries import open_envelope
from support.jig import AGREEMENT, NOW
from support.load import declaring, made
from support.service import Service, center_of

POSITION = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.7654321, 25.3456789]},
    "properties": {
        "kind": "position",
        "party": "blue",
        "name": "MARKER-QZX-POSITION",
        "disclosure": "center",
        "uncertainty_m": 432.125,
        "valid_from": "2026-09-21T00:00:00Z",
        "valid_to": "2026-09-23T00:00:00Z",
    },
}
SITE = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [21.8123457, 25.2123457],
                [21.8223457, 25.2123457],
                [21.8223457, 25.2223457],
                [21.8123457, 25.2123457],
            ]
        ],
    },
    "properties": {
        "kind": "protected_site",
        "category": "depot",
        "name": "MARKER-QZX-SITE",
        "disclosure": "center",
    },
}
MESSAGE = {
    "to": ["red"],
    "subject": "MARKER-QZX-SUBJECT",
    "text": "MARKER-QZX-TEXT grid reference follows",
    "geometry": {"type": "Point", "coordinates": [21.6543219, 25.4567891]},
    "ack_within": "PT15M",
}
HIDDEN_OBJECT_MARKERS = (
    "MARKER-QZX-POSITION",
    "MARKER-QZX-SITE",
    "21.765432",
    "25.345678",
    "432.125",
    "21.812345",
    "25.212345",
)
# Red passes blue coordinates 500 m from blue's hidden position: blue's check names it (its
# own), red's (the sender's) must say nothing of it, nor may anything else red reads.
NEAR_HIDDEN = {
    "to": ["blue"],
    "subject": "grid",
    "text": "MARKER-QZX-NEAR your unit?",
    "geometry": {"type": "Point", "coordinates": [21.7703, 25.3493]},
}
DRAFT_KEY = "u-d-f-9f8e7d6c5b4a3921"
"""Blue's draft's key: the walk's ids are a prefix and 16 hex digits (a missing one's too)."""
DRAFT = {
    "name": "MARKER-QZX-DRAFT",
    "shape": "rectangle",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [21.4123451, 25.6123451],
                [21.4223451, 25.6123451],
                [21.4223451, 25.6223451],
                [21.4123451, 25.6123451],
            ]
        ],
    },
    "device": {"uid": "ANDROID-MARKER-QZX-DEVICE", "callsign": "MARKER-QZX-CALLSIGN"},
    "drawn_at": "2026-09-21T15:50:00Z",
}
DRAFT_MARKERS = ("MARKER-QZX-DRAFT", "MARKER-QZX-DEVICE", "MARKER-QZX-CALLSIGN", "21.412345")
PROBE_DRAFT = {
    "name": "probe",
    "shape": "freehand",
    "geometry": {"type": "LineString", "coordinates": [[21.0, 25.0], [21.1, 25.1]]},
    "device": {"uid": "red-probe", "callsign": None},
    "drawn_at": "2026-09-21T15:00:00Z",
}
MESSAGE_MARKERS = ("MARKER-QZX-SUBJECT", "MARKER-QZX-TEXT", "21.654321", "25.456789")
TRACK_MARKERS = ("MARKER-QZX-AIRCRAFT", "MARKER-QZX-SORTIE", "24.987654", "20.987654")


def _track(track_id: str, party: str, lat: float, lon: float, **over: Any) -> dict[str, Any]:
    return {
        "id": track_id,
        "operator": party,
        "party": party,
        "mission": "patrol",
        "time": NOW.isoformat(),
        "lat": lat,
        "lon": lon,
        "alt_ft": 30000,
        "gs_kt": 400,
        "track_deg": 90,
        "vs_fpm": 0,
    } | over


# Blue's centre-only aircraft head-on with red's shared one: red is alerted, and learns only
# that an aircraft of blue's is predicted to come within D of its own, when and how high.
HIDDEN_TRACK = _track(
    "MARKER-QZX-AIRCRAFT",
    "blue",
    24.987654,
    20.987654,
    mission="MARKER-QZX-SORTIE",
    disclosure="center",
)
RED_TRACK = _track("red-probe-1", "red", 24.987, 21.487, track_deg=270)


SHARED_POSITION = {
    **POSITION,
    "geometry": {"type": "Point", "coordinates": [21.5, 25.5]},
    "properties": {
        **POSITION["properties"],
        "name": "shared",
        "disclosure": "shared",
        "uncertainty_m": 0,
    },
}


# --- the table: every route, and the body it is called with -------------------------------

HASH = "0" * 64
ROUTES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/v1/me"): None,
    ("GET", "/v1/agreement"): None,
    ("GET", "/v1/keys"): None,
    ("GET", "/v1/keys/registry"): None,
    ("GET", "/v1/keys/offers"): None,
    ("POST", "/v1/keys/offers"): {"public_key": "A" * 43 + "="},
    ("POST", "/v1/keys/registrations"): {"user": "red-officer", "public_key": "A" * 43 + "="},
    ("POST", "/v1/keys/revocations"): {"key": "0123456789abcdef", "reason": "probe"},
    ("POST", "/v1/agreement/signatures"): {"digest": "0" * 64},
    ("POST", "/v1/phases/confirm"): {"condition": "aid-delivered-east-city"},
    ("POST", "/v1/declarations"): SHARED_POSITION,
    ("POST", "/v1/declarations/batch"): {"features": [SHARED_POSITION]},
    ("POST", "/v1/declarations/hidden"): {
        "changes": [{"change": "withdraw", "id": "d-0123456789abcdef", "reason": "probe"}]
    },
    ("GET", "/v1/declarations"): None,
    ("GET", "/v1/declarations/{declaration_id}"): None,
    ("PUT", "/v1/declarations/{declaration_id}"): SHARED_POSITION,
    ("POST", "/v1/declarations/{declaration_id}/withdraw"): {"reason": "probe"},
    ("POST", "/v1/declarations/{declaration_id}/acknowledge"): {"content_hash": HASH},
    ("GET", "/v1/declarations/{declaration_id}/openings"): None,
    ("GET", "/v1/world"): None,
    ("GET", "/v1/world.kml"): None,
    ("GET", "/v1/world.kmz"): None,
    ("POST", "/v1/messages"): {"to": ["blue"], "subject": "probe", "text": "probe"},
    ("GET", "/v1/messages"): None,
    ("GET", "/v1/messages/{message_id}"): None,
    ("GET", "/v1/messages/{message_id}/opening"): None,
    ("GET", "/v1/messages/{message_id}/check"): None,
    ("POST", "/v1/messages/{message_id}/acknowledge"): {"content_hash": HASH},
    ("GET", "/v1/contacts"): None,
    ("PUT", "/v1/contacts"): {"primary": "red-officer"},
    ("POST", "/v1/presence"): None,
    ("POST", "/v1/operations"): None,  # filled in below: OPERATION
    ("GET", "/v1/operations"): None,
    ("POST", "/v1/operations/report"): None,  # REPORT
    ("PUT", "/v1/operations/{op_id}"): None,  # OPERATION
    ("GET", "/v1/operations/{op_id}"): None,
    ("GET", "/v1/operations/{op_id}/check"): None,
    ("POST", "/v1/operations/{op_id}/approve"): {"override_reason": "probe"},
    ("POST", "/v1/operations/{op_id}/veto"): {"reason": "probe"},
    ("POST", "/v1/operations/{op_id}/object"): {"evidence": "probe"},
    ("POST", "/v1/operations/{op_id}/withdraw-objection"): None,
    ("POST", "/v1/operations/{op_id}/execute"): None,
    ("POST", "/v1/operations/{op_id}/complete"): None,
    ("POST", "/v1/operations/{op_id}/cancel"): {"reason": "probe"},
    ("GET", "/v1/events"): None,
    ("GET", "/v1/record/head"): None,
    ("GET", "/v1/record/entries"): None,
    ("GET", "/v1/record/proofs/inclusion"): None,
    ("GET", "/v1/record/proofs/consistency"): None,
    ("POST", "/v1/record/cosign"): {"note": "probe"},
    ("GET", "/tlog/checkpoint"): None,
    ("GET", "/tlog/tile/{tile}"): None,
    ("POST", "/v1/tracks"): {"tracks": [RED_TRACK]},
    ("GET", "/v1/tracks"): None,
    ("GET", "/v1/alerts"): None,
    ("GET", "/v1/alerts/{alert_id}"): None,
    ("GET", "/v1/probing"): None,
    ("POST", "/v1/probing/{prober}/lift"): None,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): {"content_hash": HASH},
    ("POST", "/v1/reports"): {
        "accused": "blue",
        "what": "probe",
        "when": {"start": "2026-09-21T15:00:00Z", "end": None},
    },
    ("GET", "/v1/reports"): None,
    ("GET", "/v1/reports/{report_id}"): None,
    ("POST", "/v1/reports/{report_id}/answer"): {"text": "probe"},
    ("GET", "/v1/users"): None,
    ("POST", "/v1/users"): {"name": "walk-probe", "member": "red", "role": "officer"},
    ("POST", "/v1/users/{name}/rotate"): {"expires": "PT1H"},
    ("DELETE", "/v1/users/{name}"): None,
    ("GET", "/v1/cot/certificates"): None,
    ("POST", "/v1/cot/certificates"): {
        "name": "walk-probe",
        "member": "red",
        "role": "officer",
        "csr": "-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n",
    },
    ("DELETE", "/v1/cot/certificates/{name}"): None,
    ("GET", "/v1/cot/devices"): None,
    ("GET", "/v1/drafts"): None,
    ("GET", "/v1/drafts/openings"): None,
    ("PUT", "/v1/drafts/{key}"): PROBE_DRAFT,
    ("DELETE", "/v1/drafts/{key}"): None,
}
"""(method, path) → the JSON body to send (None: no body)."""


def _operation(lon: float, lat: float, category: str = "coordinated") -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "operation",
            "category": category,
            "executors": ["red"],
            "radius_m": 500,
            "window_start": "2026-09-21T18:00:00Z",
            "window_end": "2026-09-21T20:00:00Z",
        },
    }


# Red's operation next to blue's centre-only position: red learns of a conflict with
# *something* of blue's and that it blocks — never what, where, how far or how wide.
OPERATION = _operation(21.77, 25.35)
REPORT = _operation(21.9, 25.1, "imminent_threat")
REPORT["properties"] |= {
    "executed_at": "2026-09-21T15:40:00Z",
    "window_start": "2026-09-21T15:30:00Z",
    "window_end": "2026-09-21T15:50:00Z",
}
ROUTES[("POST", "/v1/operations")] = OPERATION
ROUTES[("PUT", "/v1/operations/{op_id}")] = OPERATION
ROUTES[("POST", "/v1/operations/report")] = REPORT

QUERIES: dict[str, dict[str, Any]] = {
    "/v1/events": {"after": 0, "limit": 1000},
    "/v1/record/proofs/inclusion": {"index": 0},
    "/v1/record/proofs/consistency": {"from": 1},
}


# The picture and compliance (replayed from the record): the picture at the walk's instant.
ROUTES |= {
    ("GET", "/v1/picture"): None,
    ("GET", "/v1/compliance"): None,
    ("GET", "/v1/compliance/{party}"): None,
}
QUERIES["/v1/picture"] = {"at": NOW.isoformat()}

# A point typed (the text alone decides the answer; nothing of the world is read).
ROUTES[("GET", "/v1/coordinates")] = None

# The operator's basemap (none in the walk's service: the answer is the same for everyone).
ROUTES[("GET", "/v1/basemap")] = None
ROUTES[("GET", "/v1/basemap/archive.pmtiles")] = None
QUERIES["/v1/coordinates"] = {"text": "34R EP 7748 0392"}

REPORT_OF_BLUE = {
    "accused": "blue",
    "what": "Fire from blue's side of the line at the northern crossing.",
    "when": {"start": "2026-09-21T14:00:00Z", "end": "2026-09-21T14:20:00Z"},
    "where": {"type": "Point", "coordinates": [21.3, 25.9]},
    "cites": [1],
    "evidence": [{"sha256": "ab" * 32, "name": "observer-log.txt"}],
}
"""A monitor's report against blue (the walk's world: blue answers it)."""

OUTSIDERS = {
    # user → (member, role): everyone who is not blue
    "red-officer": ("red", Role.OFFICER),
    "red-approver": ("red", Role.APPROVER),
    "red-admin": ("red", Role.ADMIN),
    "hnc-notifier": ("hnc", Role.NOTIFIER),
    "observer": ("observers", Role.MONITOR),
}


@dataclass
class Secret:
    """What was seeded: an id, the markers nobody outside ``audience`` may read, and the
    members who may know that it exists (a monitor sees that a message exists and when it
    was acknowledged, never what it says)."""

    id: str
    markers: tuple[str, ...]
    audience: frozenset[str]
    known_to: frozenset[str] = frozenset()


@dataclass
class World:
    service: Service
    secrets: list[Secret]
    visible_ids: list[str]


def schema_routes(service: Service) -> set[tuple[str, str]]:
    schema = service.client.get("/openapi.json").json()
    return {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}


def seed_world(service: Service) -> World:
    """The outsiders as users, the aid condition confirmed, blue's secrets (two hidden
    declarations, a message to red, a hidden aircraft red is alerted to) and the objects
    everyone may see (a shared position, two operations) — the disclosure walk's world."""
    center = center_of(service)
    with Session(writer(center.engine)) as session, session.begin():
        for name, (member, role) in OUTSIDERS.items():
            if name not in service.tokens:
                service.tokens[name] = add_user(
                    session, AGREEMENT, name=name, member=member, role=role, at=NOW
                )
    confirm = {"condition": "aid-delivered-east-city"}
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=confirm).status_code == 201
    secrets: list[Secret] = []
    blue = frozenset({"blue"})
    for feature in (POSITION, SITE):
        path, body = declaring(feature)  # hidden: POST /v1/declarations/hidden
        answer = service.post(path, "blue-officer", json=body)
        declared = made(answer)
        assert declared is not None, answer.text
        secrets.append(Secret(declared["id"], HIDDEN_OBJECT_MARKERS, blue))
    sent = service.post("/v1/messages", "blue-officer", json=MESSAGE)
    assert sent.status_code == 201, sent.text
    line = frozenset({"blue", "red"})
    secrets.append(Secret(sent.json()["id"], MESSAGE_MARKERS, line, line | {"observers"}))
    near = service.post("/v1/messages", "red-officer", json=NEAR_HIDDEN)
    assert near.status_code == 201, near.text
    warned = near.json()["check"]
    assert warned["checked"] is True and warned["warnings"] == [], warned
    own = service.get(f"/v1/messages/{near.json()['id']}", "blue-officer").json()["check"]
    assert [w["name"] for w in own["warnings"]] == ["MARKER-QZX-POSITION"], own
    secrets.append(Secret(near.json()["id"], ("MARKER-QZX-NEAR",), line, line | {"observers"}))
    hidden = service.post("/v1/tracks", "blue-officer", json={"tracks": [HIDDEN_TRACK]})
    assert hidden.status_code == 200, hidden.text
    seen = service.post("/v1/tracks", "red-officer", json={"tracks": [RED_TRACK]})
    (alert,) = seen.json()["raised"]
    assert alert["tracks"] == [None, "red-probe-1"], alert
    secrets.append(Secret(alert["id"], TRACK_MARKERS, blue, frozenset({"red", "observers"})))
    drawn = service.put(f"/v1/drafts/{DRAFT_KEY}", "blue-officer", json=DRAFT)
    assert drawn.status_code == 201, drawn.text
    secrets.append(Secret(DRAFT_KEY, DRAFT_MARKERS, blue))
    shared = service.post("/v1/declarations", "blue-officer", json=SHARED_POSITION)
    assert shared.status_code == 201, shared.text
    visible = [shared.json()["id"]]
    for user, feature in (("red-officer", OPERATION), ("blue-officer", _operation(21.3, 25.9))):
        proposed = service.post("/v1/operations", user, json=feature)
        assert proposed.status_code == 201, proposed.text
        visible.append(proposed.json()["id"])
    conflicts = service.get(f"/v1/operations/{visible[1]}", "red-officer").json()["conflicts"]
    assert any(c["party"] == "blue" and c["blocking"] for c in conflicts), conflicts
    # Red amends its operation beside blue's hidden objects: the center's check names them to
    # blue (its own), never to red or anyone else.
    amended = service.put(f"/v1/operations/{visible[1]}", "red-officer", json=OPERATION)
    assert amended.status_code == 200, amended.text
    own = service.get(f"/v1/operations/{visible[1]}/check", "blue-officer").json()["content"]
    assert "MARKER-QZX-POSITION" in {w["name"] for w in own["warnings"]}, own
    # The monitor reports blue, citing red's operation's entry; blue answers. Reports are
    # public to every member: the walk reads them as everyone, and nothing hidden is in them.
    filed = service.post("/v1/reports", "observer", json=REPORT_OF_BLUE)
    assert filed.status_code == 201, filed.text
    report = filed.json()["id"]
    answer = {"text": "Our unit held its position; see our declaration.", "cites": [0]}
    answered = service.post(f"/v1/reports/{report}/answer", "blue-officer", json=answer)
    assert answered.status_code == 201, answered.text
    visible.append(report)
    return World(service, secrets, visible)


def call_route(
    service: Service, user: str, method: str, path: str, body: dict[str, Any] | None
) -> Any:
    params = QUERIES.get(path.split("?")[0])
    headers = service.auth(user)
    return service.client.request(method, path, headers=headers, json=body, params=params)


def export_entries(service: Service, user: str, out: Path) -> list[bytes]:
    """``accord record fetch``'s export as ``user`` takes it home; the entries in it."""
    client = service.client
    saved = client.headers.get("Authorization")
    client.headers["Authorization"] = service.auth(user)["Authorization"]
    try:
        fetch_export(client, out)
    finally:
        if saved is None:
            del client.headers["Authorization"]
        else:
            client.headers["Authorization"] = saved
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [open_envelope(decode_base64(x["data"], what="leaf"))[2] for x in lines if "i" in x]
