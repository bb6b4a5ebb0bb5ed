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
import io
import itertools
import json
import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from accord.center.event_store import events_for
from accord.center.roles import Role
from accord.cli import app
from accord.kml.write import KMZ_MEDIA_TYPE
from accord.record.canonical import decode_base64
from accord.record.entries import open_envelope
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from support.disclosure import (
    DRAFT_MARKERS,
    HIDDEN_OBJECT_MARKERS,
    MESSAGE_MARKERS,
    OUTSIDERS,
    POSITION,
    ROUTES,
    SITE,
    TRACK_MARKERS,
    World,
    call_route,
    export_entries,
    schema_routes,
)
from support.service import Service, center_of

MISSING = "0123456789abcdef"
OWN_KEYS = {("PUT", "/v1/drafts/{key}"): {200, 201}, ("DELETE", "/v1/drafts/{key}"): {204, 404}}
"""Routes whose key names the caller's member's own thing, and the answers they give: another
member's key is the caller's own, answered as a key nobody else used is — by the caller's own
state (a save: 201 new, 200 its own again; a deletion: 204 its own, 404 none), the same body
but the entry each save took and when the caller first saved it. That blue's draft answers
red exactly as a missing key does is tested head-on in ``test_drafts.py``."""
"""The hex part of ids that nobody holds (every resource uses prefix + 16 hex digits)."""


def test_every_route_is_in_the_table(service: Service) -> None:
    routes = schema_routes(service)
    assert routes - ROUTES.keys() == set(), "new routes: add them to ROUTES"
    assert ROUTES.keys() - routes == set(), "routes that no longer exist: remove them"


def _missing_like(object_id: str) -> str:
    prefix = object_id.rsplit("-", 1)[0]
    return f"{prefix}-{MISSING}"


_fresh = itertools.count(1 << 60)


def _fresh_like(object_id: str) -> str:
    """A key nobody used yet, shaped as ``object_id`` (a key of the caller's own, new each
    time, as another member's key is to the caller)."""
    prefix = object_id.rsplit("-", 1)[0]
    return f"{prefix}-{next(_fresh):016x}"


def _texts(response: Any) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "date")
    return f"{response.status_code}\n{headers}\n{response.text}{_kml_leg(response)}"


def _kml_leg(response: Any) -> str:
    """The KML leg: a KMZ's ``doc.kml``, unzipped (what Google Earth reads of it)."""
    if not response.headers.get("content-type", "").startswith(KMZ_MEDIA_TYPE):
        return ""
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return "\n" + "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())


_COORDINATES = re.compile(r"<coordinates>([^<]*)</coordinates>")
HIDDEN_VERTICES = [
    tuple(POSITION["geometry"]["coordinates"]),
    *(tuple(v) for v in SITE["geometry"]["coordinates"][0]),
]


def _near_hidden(text: str) -> list[tuple[float, float]]:
    """Every position drawn in KML ``text`` within about 10 m of a vertex of blue's hidden
    objects, however its numbers are written: a place without a marker's digits."""
    found = []
    for block in _COORDINATES.findall(text):
        for position in block.split():
            lon, lat = (float(v) for v in position.split(",")[:2])
            for x, y in HIDDEN_VERTICES:
                if abs(lon - x) < 1e-4 and abs(lat - y) < 1e-4:
                    found.append((lon, lat))
    return found


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
        response = call_route(service, user, method, path, body)
        calls += 1
        text = _texts(response)
        assert response.status_code < 500, (user, method, path, text)
        for marker in _forbidden(world, user):
            assert marker not in text, (user, method, path, marker)
        assert list(_numbers_about_hidden(_json(response))) == [], (user, method, path)
        if "<kml" in text and member != "blue":
            assert _near_hidden(text) == [], (user, method, path)
            for secret in world.secrets[:2]:
                assert secret.id not in text, (user, method, path)
        if object_id is not None and member not in known.get(object_id, {member}):
            # Existence: the answer for a hidden id is the answer for a missing one.
            own = (method, template) in OWN_KEYS
            missing = _fresh_like(object_id) if own else _missing_like(object_id)
            twin = call_route(service, user, method, path.replace(object_id, missing), body)
            if own:  # the caller's own key: new (201) or its own again (200), whoever else has it
                statuses = {response.status_code, twin.status_code}
                assert len(statuses) == 1 or statuses <= OWN_KEYS[(method, template)], path
                if len(statuses) > 1:
                    continue
                mine, other = _json(response), _json(twin)
                for answer in (mine, other):
                    if isinstance(answer, dict) and "entry" in answer:
                        answer |= {"entry": None, "created": None, "created_at": None}
                assert json.dumps(mine).replace(object_id, missing) == json.dumps(other), path
                continue
            assert response.status_code == twin.status_code, (user, method, path)
            assert response.text.replace(object_id, missing) == twin.text, (user, method, path)
    assert calls > 100


def test_the_kml_leg_reads_what_google_earth_reads(world: World) -> None:
    """Blue's own KML and KMZ draw its hidden site and position (so the walk's KML leg, which
    finds none of it for anyone else, is not blind): the markers, the places, the ids."""
    for path in ("/v1/world.kml", "/v1/world.kmz"):
        answer = call_route(world.service, "blue-officer", "GET", path, None)
        assert answer.status_code == 200, answer.text
        text = _texts(answer)
        for marker in ("MARKER-QZX-POSITION", "MARKER-QZX-SITE", "21.765432", "21.812345"):
            assert marker in text, (path, marker)
        assert len(_near_hidden(text)) >= len(HIDDEN_VERTICES), path
        for secret in world.secrets[:2]:
            assert secret.id in text, path
        for user in OUTSIDERS:
            other = _texts(call_route(world.service, user, "GET", path, None))
            assert _near_hidden(other) == [] and "MARKER-QZX" not in other, (user, path)


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
    for marker in HIDDEN_OBJECT_MARKERS + MESSAGE_MARKERS + TRACK_MARKERS + DRAFT_MARKERS:
        assert marker not in raw, marker
    decoded = [json.loads(base64.b64decode(e["data"])) for e in entries["entries"]]
    assert any("conflicts" in json.dumps(d) for d in decoded)  # the check is not vacuous
    assert list(_numbers_about_hidden(decoded)) == []
    # Nor the ids of blue's hidden declarations (the first two seeded), nor what they are.
    for secret in world.secrets[:2]:
        assert secret.id not in raw, secret.id
    assert '"depot"' not in raw


def test_a_monitors_report_and_the_answer_are_public_to_every_member(world: World) -> None:
    """Reports are not secrets: the monitor's report against blue and blue's answer reach
    every member's users (the administrator reads none), in answers and live events alike."""
    service = world.service
    report = world.visible_ids[-1]
    assert report.startswith("r-")
    center = center_of(service)
    for user, (member, role) in OUTSIDERS.items():
        answer = call_route(service, user, "GET", f"/v1/reports/{report}", None)
        if role is Role.ADMIN:
            assert answer.status_code == 403, answer.text
            continue
        assert answer.status_code == 200, (user, answer.text)
        assert answer.json()["filer"] == "observers" and answer.json()["answer"] is not None
        with center.reading() as session:
            kinds = {e.kind for e in events_for(session, member, after=0, limit=10_000)}
        assert {"report.filed", "report.answered"} <= kinds, user


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
    entries = export_entries(service, "red-officer", export)
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
