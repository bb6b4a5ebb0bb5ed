"""Disclosure holds on every route: a table-driven walk over the OpenAPI schema.

Blue declares objects only the center may see, and sends red a direct-line message; each
carries *markers* (a name, coordinates, a text) that nobody outside its audience may ever
read. Then every route of ``/openapi.json`` is called by every user of every other member —
with every seeded id and a missing one in its path, and a sample body — and:

* no answer (status line, headers, body) carries a marker its caller may not see;
* for an object its caller may not see, the answer is the answer for an id that does not
  exist (same status, same body once the id itself is swapped): not even existence leaks;
* no live event and no record entry served to them carries such a marker either.

A route missing from :data:`ROUTES` fails the walk, so a new route cannot skip it.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.center.db import writer
from accord.center.events import events_for
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.cli import app
from accord.cli_fetch import fetch_export
from accord.record.canonical import decode_base64
from accord.record.entries import open_envelope
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from support.jig import AGREEMENT, NOW
from support.service import Service, center_of

MISSING = "0123456789abcdef"
"""The hex part of ids that nobody holds (every resource uses prefix + 16 hex digits)."""

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
    ("POST", "/v1/phases/confirm"): {"condition": "aid-delivered-east-city"},
    ("POST", "/v1/declarations"): SHARED_POSITION,
    ("GET", "/v1/declarations"): None,
    ("GET", "/v1/declarations/{declaration_id}"): None,
    ("PUT", "/v1/declarations/{declaration_id}"): SHARED_POSITION,
    ("POST", "/v1/declarations/{declaration_id}/withdraw"): {"reason": "probe"},
    ("POST", "/v1/declarations/{declaration_id}/acknowledge"): {"content_hash": HASH},
    ("GET", "/v1/declarations/{declaration_id}/openings"): None,
    ("GET", "/v1/world"): None,
    ("POST", "/v1/messages"): {"to": ["blue"], "subject": "probe", "text": "probe"},
    ("GET", "/v1/messages"): None,
    ("GET", "/v1/messages/{message_id}"): None,
    ("GET", "/v1/messages/{message_id}/opening"): None,
    ("POST", "/v1/messages/{message_id}/acknowledge"): {"content_hash": HASH},
    ("GET", "/v1/contacts"): None,
    ("PUT", "/v1/contacts"): {"primary": "red-officer"},
    ("POST", "/v1/presence"): None,
    ("POST", "/v1/operations"): None,  # filled in below: OPERATION
    ("GET", "/v1/operations"): None,
    ("POST", "/v1/operations/report"): None,  # REPORT
    ("PUT", "/v1/operations/{op_id}"): None,  # OPERATION
    ("GET", "/v1/operations/{op_id}"): None,
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
    ("POST", "/v1/tracks"): {"tracks": [RED_TRACK]},
    ("GET", "/v1/tracks"): None,
    ("GET", "/v1/alerts"): None,
    ("GET", "/v1/alerts/{alert_id}"): None,
    ("GET", "/v1/probing"): None,
    ("POST", "/v1/probing/{prober}/lift"): None,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): {"content_hash": HASH},
    ("GET", "/v1/users"): None,
    ("POST", "/v1/users"): {"name": "walk-probe", "member": "red", "role": "officer"},
    ("POST", "/v1/users/{name}/rotate"): {"expires": "PT1H"},
    ("DELETE", "/v1/users/{name}"): None,
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


def _schema_routes(service: Service) -> set[tuple[str, str]]:
    schema = service.client.get("/openapi.json").json()
    return {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}


@pytest.fixture
def world(service: Service) -> World:
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
        made = service.post("/v1/declarations", "blue-officer", json=feature)
        assert made.status_code == 201, made.text
        secrets.append(Secret(made.json()["id"], HIDDEN_OBJECT_MARKERS, blue))
    sent = service.post("/v1/messages", "blue-officer", json=MESSAGE)
    assert sent.status_code == 201, sent.text
    line = frozenset({"blue", "red"})
    secrets.append(Secret(sent.json()["id"], MESSAGE_MARKERS, line, line | {"observers"}))
    hidden = service.post("/v1/tracks", "blue-officer", json={"tracks": [HIDDEN_TRACK]})
    assert hidden.status_code == 200, hidden.text
    seen = service.post("/v1/tracks", "red-officer", json={"tracks": [RED_TRACK]})
    (alert,) = seen.json()["raised"]
    assert alert["tracks"] == [None, "red-probe-1"], alert
    secrets.append(Secret(alert["id"], TRACK_MARKERS, blue, frozenset({"red", "observers"})))
    shared = service.post("/v1/declarations", "blue-officer", json=SHARED_POSITION)
    assert shared.status_code == 201, shared.text
    visible = [shared.json()["id"]]
    for user, feature in (("red-officer", OPERATION), ("blue-officer", _operation(21.3, 25.9))):
        proposed = service.post("/v1/operations", user, json=feature)
        assert proposed.status_code == 201, proposed.text
        visible.append(proposed.json()["id"])
    conflicts = service.get(f"/v1/operations/{visible[1]}", "red-officer").json()["conflicts"]
    assert any(c["party"] == "blue" and c["blocking"] for c in conflicts), conflicts
    return World(service, secrets, visible)


def test_every_route_is_in_the_table(service: Service) -> None:
    routes = _schema_routes(service)
    assert routes - ROUTES.keys() == set(), "new routes: add them to ROUTES"
    assert ROUTES.keys() - routes == set(), "routes that no longer exist: remove them"


def _missing_like(object_id: str) -> str:
    prefix = object_id.rsplit("-", 1)[0]
    return f"{prefix}-{MISSING}"


def _texts(response: Any) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "date")
    return f"{response.status_code}\n{headers}\n{response.text}"


def _call(service: Service, user: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
    params = QUERIES.get(path.split("?")[0])
    headers = service.auth(user)
    return service.client.request(method, path, headers=headers, json=body, params=params)


def _walk(world: World) -> Iterator[tuple[str, str, str, str, str | None]]:
    """(user, method, template, concrete path, the seeded id in it or None)."""
    ids = [s.id for s in world.secrets] + world.visible_ids
    # Reads first, then writes: a probe that changes something changes it after the reads.
    for method in ("GET", "PUT", "POST", "DELETE"):
        for m, template in ROUTES:
            if m != method:
                continue
            for user in OUTSIDERS:
                if "{" not in template:
                    yield user, m, template, template, None
                    continue
                for object_id in ids:
                    yield user, m, template, re.sub(r"{\w+}", object_id, template), object_id


def _allowed(world: World, user: str) -> set[str]:
    """Markers ``user`` may read."""
    member = OUTSIDERS[user][0]
    return {m for s in world.secrets if member in s.audience for m in s.markers}


def _forbidden(world: World, user: str) -> list[str]:
    allowed = _allowed(world, user)
    return sorted({m for s in world.secrets for m in s.markers} - allowed)


def _numbers_about_hidden(value: Any, owner: str = "blue") -> Iterator[dict[str, Any]]:
    """Every conflict in ``value`` (any JSON) about a hidden object of ``owner`` (``with``
    null) that carries a number: a distance or a threshold. Of another party's hidden object
    a reader learns its kind, its owner and whether it blocks; any number lets proposals
    place it."""
    if isinstance(value, dict):
        hidden = value.get("party") == owner and "with" in value and value["with"] is None
        numbers = value.get("distance_m") is not None or value.get("threshold_m") is not None
        if hidden and numbers:
            yield value
        for item in value.values():
            yield from _numbers_about_hidden(item, owner)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers_about_hidden(item, owner)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def test_no_route_discloses_what_its_caller_may_not_see(world: World) -> None:
    service = world.service
    known = {s.id: s.audience | s.known_to for s in world.secrets}
    calls = 0
    for user, method, template, path, object_id in _walk(world):
        member = OUTSIDERS[user][0]
        body = ROUTES[(method, template)]
        response = _call(service, user, method, path, body)
        calls += 1
        text = _texts(response)
        assert response.status_code < 500, (user, method, path, text)
        for marker in _forbidden(world, user):
            assert marker not in text, (user, method, path, marker)
        assert list(_numbers_about_hidden(_json(response))) == [], (user, method, path)
        if object_id is not None and member not in known.get(object_id, {member}):
            # Existence: the answer for a hidden id is the answer for a missing one.
            missing = _missing_like(object_id)
            twin = _call(service, user, method, path.replace(object_id, missing), body)
            assert response.status_code == twin.status_code, (user, method, path)
            assert response.text.replace(object_id, missing) == twin.text, (user, method, path)
    assert calls > 100


def test_no_event_or_record_entry_discloses_it(world: World) -> None:
    import base64

    service = world.service
    center = center_of(service)
    for user in OUTSIDERS:
        member = OUTSIDERS[user][0]
        with center.reading() as session:
            events = events_for(session, member, after=0, limit=10_000)
        blob = repr([(e.kind, e.payload) for e in events])
        for marker in _forbidden(world, user):
            assert marker not in blob, (user, "event", marker)
        numbers = list(_numbers_about_hidden([e.payload for e in events]))
        assert numbers == [], (user, "event", numbers)
    # The record is read by every party and monitor: nothing hidden from anyone is in it.
    entries = service.get("/v1/record/entries", "observer", params={"end": 10_000}).json()
    raw = b"".join(base64.b64decode(e["data"]) for e in entries["entries"]).decode()
    for marker in HIDDEN_OBJECT_MARKERS + MESSAGE_MARKERS + TRACK_MARKERS:
        assert marker not in raw, marker
    decoded = [json.loads(base64.b64decode(e["data"])) for e in entries["entries"]]
    assert any("conflicts" in json.dumps(d) for d in decoded)  # the check is not vacuous
    assert list(_numbers_about_hidden(decoded)) == []
    # Nor the ids of blue's hidden declarations (the first two seeded), nor what they are.
    for secret in world.secrets[:2]:
        assert secret.id not in raw, secret.id
    assert '"depot"' not in raw


# --- the record: a hidden declaration's entries tell only that its owner changed one --------


def _ring(lon: float, lat: float, radius: float, vertices: int) -> list[list[float]]:
    ring = [
        [
            round(lon + radius * math.cos(2 * math.pi * k / vertices), 7),
            round(lat + radius * math.sin(2 * math.pi * k / vertices), 7),
        ]
        for k in range(vertices)
    ]
    return [*ring, ring[0]]


LARGE_SITE = {
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [_ring(21.9, 25.3, 0.05, 1999)]},
    "properties": {
        "kind": "protected_site",
        "category": "hospital",
        "name": "MARKER-QZX-LARGE-" + "x" * 150,
        "disclosure": "center",
    },
}
# What varies from entry to entry whatever they are about: the signed time, the author's
# sequence number and the random bytes (the salted commitment, the signature).
_VARYING = re.compile(
    rb'"commitment":"[A-Za-z0-9+/=]{44}"|"seq":[0-9]+|"sig":"[A-Za-z0-9+/=]{88}"|"ts":"[^"]+"'
)


_TS = re.compile(rb'"ts":"[^"]+"')
_SEQ = re.compile(rb'"seq":[0-9]+')


def _export(service: Service, user: str, out: Path) -> list[bytes]:
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


def test_the_record_shows_others_only_that_a_hidden_declaration_changed(
    service: Service, tmp_path: Path
) -> None:
    made = {}
    for feature in (POSITION, LARGE_SITE):
        answer = service.post("/v1/declarations", "blue-officer", json=feature)
        assert answer.status_code == 201, answer.text
        made[feature["properties"]["kind"]] = answer.json()
    point, site = made["position"], made["protected_site"]
    moved = copy.deepcopy(POSITION)
    moved["geometry"]["coordinates"] = [21.7754321, 25.3556789]
    changes = [
        service.client.put(
            f"/v1/declarations/{point['id']}", headers=service.auth("blue-officer"), json=moved
        ),
        service.post(
            f"/v1/declarations/{site['id']}/withdraw",
            "blue-officer",
            json={"reason": "MARKER-QZX-REASON " + "y" * 900},
        ),
        service.post(
            f"/v1/declarations/{point['id']}/withdraw", "blue-officer", json={"reason": "r"}
        ),
    ]
    for answer in changes:
        assert answer.status_code == 200, answer.text
    ring = KeyRing.from_json(service.get("/v1/keys", "red-officer").json())
    export = tmp_path / "red.jsonl"
    entries = _export(service, "red-officer", export)
    assert verify_log(export, keys=ring, workers=1).entries == len(entries) == 5
    # The same bytes for every reader, through the entries route and the export alike.
    for user in ("red-officer", "observer"):
        served = service.get("/v1/record/entries", user, params={"end": 100}).json()["entries"]
        leaves = [open_envelope(decode_base64(e["data"], what="leaf"))[2] for e in served]
        assert leaves == entries
    # Two kinds, 1 and 2,000 vertices (the most a geometry may give), created, amended and
    # withdrawn (a short and a long reason): five entries of one shape and one length, once
    # the time, the sequence number and the random bytes are set aside.
    shapes = {_VARYING.sub(lambda m: m[0].split(b":")[0] + b":0", raw) for raw in entries}
    assert len(shapes) == 1, shapes
    (shape,) = shapes
    assert json.loads(shape) == {
        "author": "blue",
        "event": {"commitment": 0, "kind": "declaration.hidden"},
        "key_id": ring.member("blue").key_id,
        "log": ring.center.name,
        "seq": 0,
        "sig": 0,
        "ts": 0,
        "v": 1,
    }
    sizes = {len(raw) - len(_TS.search(raw)[0]) - len(_SEQ.search(raw)[0]) for raw in entries}
    assert len(sizes) == 1, sizes
    text = b"".join(entries).decode()
    for secret in (point["id"], site["id"], "position", "protected_site", "version", "MARKER"):
        assert secret not in text
    # The owner's openings prove every change, with the project's own verifier.
    openings = []
    for declared in (point, site):
        answer = service.get(f"/v1/declarations/{declared['id']}/openings", "blue-officer")
        assert answer.status_code == 200, answer.text
        openings += [e["opening"] for e in answer.json()["entries"]]
    assert sorted(o["entry"] for o in openings) == [0, 1, 2, 3, 4]
    mine = tmp_path / "openings.json"
    mine.write_text(json.dumps(openings), encoding="utf-8")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(service.get("/v1/keys", "red-officer").json()), encoding="utf-8")
    base = ["record", "open", str(export), "--keys", str(keys), "--workers", "1"]
    opened = CliRunner().invoke(app, [*base, "--openings", str(mine), "--author", "blue"])
    assert opened.exit_code == 0, opened.output
    assert f"entry 0 by blue at {point['declared_at'].replace('+00:00', 'Z')}" in opened.output
    for line in (
        f"created position {point['id']} version 1",
        f"created protected_site {site['id']} version 1",
        f"amended position {point['id']} version 2",
        f"withdrawn protected_site {site['id']} version 1",
        f"withdrawn position {point['id']} version 2",
        "OPENED 5 of 5",
    ):
        assert line in opened.output
    # A tampered opening, one moved to another entry, or another author: refused.
    first = next(o for o in openings if o["entry"] == 0)
    forged_content = first["content"].replace("21.7654321", "21.7654322")
    for forged, author in (
        ({**first, "content": forged_content}, "blue"),
        ({**first, "entry": 1}, "blue"),
        ({**first, "salt": next(o for o in openings if o["entry"] == 1)["salt"]}, "blue"),
        (first, "red"),
    ):
        mine.write_text(json.dumps([forged]), encoding="utf-8")
        refused = CliRunner().invoke(app, [*base, "--openings", str(mine), "--author", author])
        assert refused.exit_code == 1, refused.output
        assert "NOT OPENED" in refused.output
    # Bad input is named, exit 2: no opening, not JSON, not an opening.
    for bad in ("[]", "{", '{"entries": "x"}', '[{"entry": 0}]'):
        mine.write_text(bad, encoding="utf-8")
        refused = CliRunner().invoke(app, [*base, "--openings", str(mine)])
        assert refused.exit_code == 2, (bad, refused.output)
        assert "accord:" in refused.output and "Traceback" not in refused.output
    # The live events of the changes went to blue alone.
    with center_of(service).reading() as session:
        for member in ("red", "hnc", "observers"):
            assert events_for(session, member, after=0, limit=1000) == []
        assert len(events_for(session, "blue", after=0, limit=1000)) == 5
