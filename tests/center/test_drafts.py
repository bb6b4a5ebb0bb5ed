"""Drafts: the shapes a member's devices drew, saved by the member's officers (or its
gateway's officer user) under the drawing's uid, read by the member's officers and approvers
alone, deleted; each save and deletion the member's signed act and one ``draft.changed``
entry holding a commitment only — one size whatever was drawn — whose opening the center
keeps for the member. Bad input names its field and changes nothing; another member's
draft answers exactly as a missing one."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accord.center.db import Draft, Opening
from accord.center.event_store import events_for
from accord.center.signing.service import agreement_document
from accord.cli_record import service_causes
from accord.record.commitments import verify_opening
from accord.record.entries import open_envelope
from accord.record.verify import verify_log
from support.disclosure import export_entries
from support.failures import assert_problem, fields
from support.jig import NOW
from support.service import Service, ring_of

URL = "/v1/drafts"
KEY = "u-d-f.4f6b9a2e-0c1d-4e5f-8a9b-0c1d2e3f4a5b"
LINE = {"type": "LineString", "coordinates": [[21.61, 25.31], [21.66, 25.31], [21.66, 25.36]]}


def circle(lon: float, lat: float, r_deg: float, n: int = 64) -> dict[str, Any]:
    ring = [
        [round(lon + r_deg * math.cos(2 * math.pi * k / n), 7),
         round(lat + r_deg * math.sin(2 * math.pi * k / n), 7)]
        for k in range(n)
    ]  # fmt: skip
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def draft(**over: Any) -> dict[str, Any]:
    """A good freehand draft, with ``over`` replacing its fields."""
    return {
        "name": "MARKER-QZX-DRAFT crossing",
        "shape": "freehand",
        "geometry": LINE,
        "device": {"uid": "ANDROID-MARKER-QZX-UID", "callsign": "MARKER-QZX-CALLSIGN"},
        "drawn_at": "2026-09-21T15:55:00Z",
    } | over


def delete(service: Service, key: str, user: str) -> Any:
    return service.client.request("DELETE", f"{URL}/{key}", headers=service.auth(user))


def leaf_event(service: Service, index: int) -> dict[str, Any]:
    with service.center.reading() as session:
        raw = service.center.log(session).entry(index)
    return json.loads(open_envelope(raw)[2])  # type: ignore[no-any-return]


def test_an_officer_saves_replaces_lists_and_deletes_its_members_drafts(
    signed_service: Service, tmp_path: Path
) -> None:
    service = signed_service
    made = service.put(f"{URL}/{KEY}", "blue-officer", json=draft())
    assert made.status_code == 201, made.text
    saved = made.json()
    assert saved["created"] is True and saved["key"] == KEY
    assert saved["geometry"] == LINE and saved["device"]["callsign"] == "MARKER-QZX-CALLSIGN"
    assert saved["drawn_at"] == "2026-09-21T15:55:00Z"
    # the approver reads it; so does the officer; nobody of another member, nor blue's admin
    listed = service.get(URL, "blue-approver").json()["items"]
    assert [d["key"] for d in listed] == [KEY]
    assert listed[0] == {k: v for k, v in saved.items() if k != "created"}
    for user in ("red-officer", "red-approver"):
        assert service.get(URL, user).json() == {"items": []}, user
    for user in ("admin", "hnc-notifier", "observer"):
        assert_problem(service.get(URL, user), 403)
        assert_problem(service.put(f"{URL}/{KEY}", user, json=draft()), 403)
        assert_problem(delete(service, KEY, user), 403)

    # saving the key again replaces it: 200, the same draft, its new version
    circled = draft(name="Drop zone", shape="circle", geometry=circle(21.7, 25.4, 0.01))
    again = service.put(f"{URL}/{KEY}", "blue-approver", json=circled)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False and again.json()["shape"] == "circle"
    assert again.json()["created_at"] == saved["created_at"]
    assert again.json()["entry"] == saved["entry"] + 1
    assert len(service.get(URL, "blue-officer").json()["items"]) == 1

    # red's draft of the same key is red's own: blue's is untouched
    reds = draft(name="red's", device={"uid": "red-1", "callsign": None})
    assert service.put(f"{URL}/{KEY}", "red-officer", json=reds).status_code == 201
    assert service.get(URL, "blue-officer").json()["items"][0]["name"] == "Drop zone"

    # deleted: 204, then gone (a second delete: 404, as any missing key)
    gone = delete(service, KEY, "blue-officer")
    assert gone.status_code == 204 and gone.content == b""
    assert service.get(URL, "blue-officer").json() == {"items": []}
    missing = assert_problem(delete(service, KEY, "blue-officer"), 404)
    assert [d["name"] for d in service.get(URL, "red-officer").json()["items"]] == ["red's"]

    # live: blue's officers and approvers were told, nobody else of blue's drafts
    with service.center.reading() as session:
        told = [(e.kind, e.payload) for e in events_for(session, "blue", after=0, limit=1000)
                if e.kind.startswith("draft.")]  # fmt: skip
        assert [k for k, _ in told] == ["draft.saved", "draft.saved", "draft.deleted"]
        assert told[0][1]["draft"]["name"] == "MARKER-QZX-DRAFT crossing"
        assert told[2][1]["key"] == KEY
        for member in ("red", "hnc", "observers"):
            blob = repr([e.payload for e in events_for(session, member, after=0, limit=1000)])
            assert "MARKER-QZX" not in blob and "Drop zone" not in blob, member
    assert missing["status"] == 404

    # the record verifies, act by act; each change of blue's is its own act
    record = tmp_path / "record.jsonl"
    export_entries(service, "observer", record)
    mine = agreement_document(service.center.agreement)
    verified = verify_log(
        record, keys=ring_of(service), workers=1, agreement=mine, causes=service_causes()
    )
    assert verified.rooted
    acts = {(member, user) for member, _key, user, _n in verified.acts}
    assert {("blue", "blue-officer"), ("blue", "blue-approver"), ("red", "red-officer")} <= acts


def test_the_record_holds_a_commitment_of_one_size_and_the_member_keeps_its_opening(
    signed_service: Service,
) -> None:
    """A tiny line, a 500-vertex polygon (the most an operation's area may have) and a
    deletion: the same event shape and length; nothing of the draft in any entry; each
    opening, kept for blue alone, opens its commitment."""
    service = signed_service
    big = circle(21.7, 25.4, 0.05, n=499)
    largest = draft(shape="circle", geometry=big, name="n" * 200)
    changes = [
        service.put(f"{URL}/k-0000000001", "blue-officer", json=draft(geometry=LINE)),
        service.put(f"{URL}/k-0000000002", "blue-officer", json=largest),
        delete(service, "k-0000000001", "blue-officer"),
    ]
    assert [c.status_code for c in changes] == [201, 201, 204], [c.text for c in changes]
    entries = [
        changes[0].json()["entry"],
        changes[1].json()["entry"],
        changes[1].json()["entry"] + 1,
    ]
    events = [leaf_event(service, i)["event"] for i in entries]
    assert {tuple(sorted(e)) for e in events} == {("commitment", "kind")}
    assert {e["kind"] for e in events} == {"draft.changed"}
    assert {len(json.dumps(e)) for e in events} == {len(json.dumps(events[0]))}
    with service.center.reading() as session:
        raw = b"".join(service.center.log(session).entry(i) for i in entries).decode()
        openings = {o.entry: o for o in session.scalars(select(Opening).where(
            Opening.entry.in_(entries))).all()}  # fmt: skip
    for marker in ("MARKER-QZX", "21.61", "ANDROID", "freehand", "circle", "nnnnn"):
        assert marker not in raw, marker
    assert {o.owner for o in openings.values()} == {"blue"}
    for index, event in zip(entries, events, strict=True):
        opening = openings[index]
        content = json.loads(opening.content)
        verify_opening(commitment=base64.b64decode(event["commitment"]), content=content,
                       salt=opening.salt)  # fmt: skip
        assert opening.commitment == base64.b64decode(event["commitment"])
    first, _, last = (json.loads(openings[i].content) for i in entries)
    assert first["action"] == "saved" and first["created"] is True
    # the member reads them (the monitor checks them), nobody else
    served = service.get(f"{URL}/openings", "blue-approver").json()
    assert served["next"] is None
    assert [(e["entry"], e["action"]) for e in served["entries"]] == [
        (entries[0], "saved"),
        (entries[1], "saved"),
        (entries[2], "deleted"),
    ]
    assert served["entries"][2]["opening"]["content"] == openings[entries[2]].content
    page = service.get(f"{URL}/openings", "blue-officer", params={"limit": 2}).json()
    assert len(page["entries"]) == 2 and page["next"] == entries[1]
    rest = service.get(f"{URL}/openings", "blue-officer", params={"after": page["next"]})
    assert [e["entry"] for e in rest.json()["entries"]] == [entries[2]]
    assert service.get(f"{URL}/openings", "red-officer").json()["entries"] == []
    assert_problem(service.get(f"{URL}/openings", "observer"), 403)
    assert first["draft"]["device"]["callsign"] == "MARKER-QZX-CALLSIGN"
    assert last == {"action": "deleted", "created": False, "draft": None, "key": "k-0000000001"}


BAD: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "tab\x00null"}, "name"),
    ({"name": 7}, "name"),
    ({"shape": "hexagon"}, "shape"),
    ({"shape": None}, "shape"),
    ({"geometry": {"type": "Point", "coordinates": [21.6, 25.3]}}, "geometry.type"),
    ({"geometry": "LINESTRING(0 0, 1 1)"}, "geometry.type"),
    (
        {"geometry": {"type": "LineString", "coordinates": [[21.6, 95.0], [21.7, 25.3]]}},
        "geometry.coordinates[0]",
    ),
    ({"geometry": {"type": "LineString", "coordinates": [[21.6, 25.3]]}}, "geometry.coordinates"),
    (
        {"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}},
        "geometry.coordinates[0]",
    ),
    ({"shape": "rectangle"}, "geometry.type"),  # a rectangle is a polygon, not a line
    ({"geometry": circle(21.7, 25.4, 0.05, n=500)}, "geometry.coordinates"),  # 501 > 500
    ({"device": {"uid": "two words", "callsign": None}}, "device.uid"),
    ({"device": {"uid": "u" * 101, "callsign": None}}, "device.uid"),
    ({"device": {"uid": "ok", "callsign": "c" * 201}}, "device.callsign"),
    ({"device": {"uid": "ok", "callsign": "bell\x07"}}, "device.callsign"),
    ({"device": {"uid": "ok", "callsign": None, "ip": "10.0.0.1"}}, "device.ip"),
    ({"device": ["ok"]}, "device"),
    ({"drawn_at": "2026-09-21T15:55:00"}, "drawn_at"),
    ({"drawn_at": "2026-09-21T17:00:00Z"}, "drawn_at"),  # an hour past the center's clock
    ({"drawn_at": 1758470100}, "drawn_at"),
]


def test_bad_input_is_refused_naming_its_field_and_writes_nothing(
    signed_service: Service,
) -> None:
    service = signed_service
    with service.center.reading() as session:
        before = service.center.log(session).size
    for over, field in BAD:
        answer = service.put(f"{URL}/{KEY}", "blue-officer", json=draft(**over))
        assert field in fields(assert_problem(answer, 422)), (over, answer.text)
    with service.center.reading() as session:
        assert service.center.log(session).size == before
        assert session.scalars(select(Draft)).all() == []


def test_a_hostile_body_is_bounded_and_named(signed_service: Service) -> None:
    """An unknown field, a key outside its characters or over 100, a geometry nested
    hundreds deep or of 100,000 positions: each a 422 naming it, the server standing."""
    service = signed_service
    problem = assert_problem(service.put(f"{URL}/{KEY}", "blue-officer",
                                         json=draft(extra="x")), 422)  # fmt: skip
    assert "extra" in fields(problem) or "body.extra" in fields(problem), problem
    for key in ("two%20words", "k" * 101, "..%2F..%2Fv1%2Fusers", "%3Cscript%3E"):
        answer = service.put(f"{URL}/{key}", "blue-officer", json=draft())
        assert answer.status_code in (404, 422), (key, answer.text)
        if answer.status_code == 422:
            assert "key" in fields(assert_problem(answer, 422)), key
    nested: Any = [21.6, 25.3]
    for _ in range(200):
        nested = [nested]
    deep = draft(geometry={"type": "LineString", "coordinates": nested})
    answer = service.put(f"{URL}/{KEY}", "blue-officer", json=deep)
    # no act can hold a body nested so deep: refused unsigned (403), or named (422)
    assert answer.status_code in (403, 422), answer.text
    huge = {"type": "LineString", "coordinates": [[21.6, 25.3 + i * 1e-6] for i in range(100_000)]}
    answer = service.put(f"{URL}/{KEY}", "blue-officer", json=draft(geometry=huge))
    assert answer.status_code in (413, 422), answer.text
    assert service.get(URL, "blue-officer").json() == {"items": []}


def test_a_member_keeps_at_most_max_drafts(
    signed_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = signed_service
    monkeypatch.setattr("accord.center.drafts.service.MAX_DRAFTS", 3)
    for n in range(3):
        assert service.put(f"{URL}/k{n}", "blue-officer", json=draft()).status_code == 201
    problem = assert_problem(service.put(f"{URL}/k3", "blue-officer", json=draft()), 409)
    assert "3 drafts" in problem["detail"] and "delete one" in problem["detail"]
    # replacing one still works, and so does red, whose drafts are its own
    assert service.put(f"{URL}/k0", "blue-officer", json=draft(name="b")).status_code == 200
    assert service.put(f"{URL}/k3", "red-officer", json=draft()).status_code == 201
    assert delete(service, "k1", "blue-officer").status_code == 204
    assert service.put(f"{URL}/k3", "blue-officer", json=draft()).status_code == 201


def test_another_members_draft_answers_exactly_as_a_missing_one(signed_service: Service) -> None:
    service = signed_service
    assert service.put(f"{URL}/{KEY}", "blue-officer", json=draft()).status_code == 201
    held = delete(service, KEY, "red-officer")
    missing = delete(service, "u-d-f.0000000000000000", "red-officer")
    assert held.status_code == missing.status_code == 404
    assert held.text == missing.text
    assert [d["key"] for d in service.get(URL, "blue-officer").json()["items"]] == [KEY]


def test_drafts_work_under_a_legacy_agreement_too(service: Service) -> None:
    """Without roots (no acts), the same routes answer the same."""
    legacy = service
    assert legacy.put(f"{URL}/{KEY}", "blue-officer", json=draft()).status_code == 201
    assert [d["key"] for d in legacy.get(URL, "blue-approver").json()["items"]] == [KEY]
    assert delete(legacy, KEY, "blue-officer").status_code == 204
    assert NOW.year == 2026
