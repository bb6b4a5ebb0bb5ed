"""Received coordinates checked on arrival (issue 18): a direct-line message's geometry run
through the engine for each party, the receiver warned of what it may see (shared objects,
its own hidden ones) with names and distances, the sender told nothing of the receiver's
hidden objects, and the check recorded as one commitment per party of one size whatever it
found (DECISIONS 2), each opened to its party only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from accord.center.event_store import events_for
from accord.cli import app
from accord.record.canonical import decode_base64, loads_canonical
from accord.record.commitments import verify_opening
from accord.record.entries import open_envelope
from support.disclosure import export_entries
from support.failures import assert_problem
from support.load import declaring, made
from support.service import Service, center_of

SCHOOL = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.872, 24.936]},
    "properties": {"kind": "protected_site", "name": "School No. 12", "category": "school"},
}
# Red's battalion, hidden from everyone but red and the center, 1.2 km south of the target.
RED_HIDDEN = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.8744, 24.9252]},
    "properties": {
        "kind": "position",
        "party": "red",
        "name": "Red 3rd battalion CP",
        "disclosure": "center",
        "valid_from": "2026-09-21T00:00:00Z",
        "valid_to": "2026-09-23T00:00:00Z",
    },
}
# 240 m east of School No. 12: the coordinates blue passes red.
TARGET = {"type": "Point", "coordinates": [21.87438, 24.936]}
FAR = {"type": "Point", "coordinates": [21.2, 25.6]}
_TS = re.compile(rb'"ts":"[^"]*"')
_SEQ = re.compile(rb'"(?:index|i)":\d+')


def _declare(service: Service, user: str, feature: dict[str, Any]) -> str:
    path, body = declaring(feature)  # a hidden one: POST /v1/declarations/hidden
    answer = service.post(path, user, json=body)
    declared = made(answer)
    assert declared is not None, answer.text
    return str(declared["id"])


def _send(service: Service, geometry: dict[str, Any] | None, **more: Any) -> dict[str, Any]:
    body = {"to": ["red"], "subject": "target", "text": "Grid follows.", "ack_within": "PT10M"}
    sent = service.post("/v1/messages", "blue-officer", json={**body, "geometry": geometry, **more})
    assert sent.status_code == 201, sent.text
    return sent.json()  # type: ignore[no-any-return]


def _seed(service: Service) -> tuple[str, str]:
    return _declare(service, "hnc-notifier", SCHOOL), _declare(service, "red-officer", RED_HIDDEN)


def _entries(service: Service) -> list[bytes]:
    with center_of(service).reading() as session:
        return [data for _, data in center_of(service).log(session).entries()]


def test_the_receiver_is_warned_by_name_and_distance_the_sender_learns_nothing_hidden(
    signed_service: Service,
) -> None:
    service = signed_service
    school, hidden = _seed(service)
    sent = _send(service, TARGET)
    received = service.get(f"/v1/messages/{sent['id']}", "red-officer").json()
    check = received["check"]
    assert check["party"] == "red" and check["checked"] is True and check["geometry"] is True
    by_id = {w["with"]: w for w in check["warnings"]}
    assert set(by_id) == {school, hidden}
    warned = by_id[school]
    assert warned["name"] == "School No. 12" and warned["blocking"] is True
    assert abs(warned["distance_m"] - 240) < 2, warned
    assert warned["text"].startswith("240 m from School No. 12 (protected site of hnc")
    own = by_id[hidden]  # red's own hidden battalion, exact, named
    assert own["name"] == "Red 3rd battalion CP" and own["disclosure"] == "center"
    assert 1150 < own["distance_m"] < 1250
    assert check["blocking"] == 2

    # The sender: the school (shared), nothing of red's hidden battalion — not its id, its
    # name, its kind, nor a count.
    mine = sent["check"]
    assert mine["party"] == "blue" and [w["with"] for w in mine["warnings"]] == [school]
    assert mine["blocking"] == 1
    seen_by_blue = json.dumps(service.get(f"/v1/messages/{sent['id']}", "blue-officer").json())
    for secret in (hidden, "Red 3rd battalion", "position"):
        assert secret not in seen_by_blue
    assert service.get(f"/v1/messages/{sent['id']}", "blue-officer").json()["check"] == mine

    # Live events: each party's own check; the monitors' none.
    center = center_of(service)
    with center.reading() as session:
        events = {
            member: [
                e
                for e in events_for(session, member, after=0, limit=1000)
                if e.kind == "message.sent"
            ]
            for member in ("blue", "red", "observers")
        }
    (to_red,) = events["red"]
    assert {w["with"] for w in to_red.payload["check"]["warnings"]} == {school, hidden}
    (to_blue,) = events["blue"]
    assert hidden not in json.dumps(to_blue.payload) and "position" not in json.dumps(
        to_blue.payload
    )
    (to_monitor,) = events["observers"]
    assert "check" not in to_monitor.payload


def test_the_recorded_check_has_one_shape_whatever_it_found(signed_service: Service) -> None:
    """Near red's hidden battalion, near nothing, with no geometry at all: the record's
    ``message.checked`` entries differ only in their commitments (DECISIONS 2)."""
    service = signed_service
    _seed(service)
    before = len(_entries(service))
    for geometry in (TARGET, FAR, None, RED_HIDDEN["geometry"]):
        _send(service, geometry)
    written = [loads_canonical(open_envelope(raw)[2]) for raw in _entries(service)[before:]]
    checked = [
        raw
        for raw, entry in zip(_entries(service)[before:], written, strict=True)
        if entry["event"]["kind"] == "message.checked"
    ]
    assert len(checked) == 4
    shapes = set()
    for raw in checked:
        event = loads_canonical(open_envelope(raw)[2])["event"]
        assert set(event) == {"kind", "id", "checks"} and set(event["checks"]) == {"blue", "red"}
        blanked = re.sub(rb'"[A-Za-z0-9+/]{43}="', b'"C"', raw)  # each 32-byte commitment
        shapes.add(len(_TS.sub(b"", _SEQ.sub(b"", raw))))
        assert b'"C"' in blanked
    assert len(shapes) == 1, shapes


def test_each_party_opens_its_own_check_against_the_record(
    signed_service: Service, tmp_path: Path
) -> None:
    service = signed_service
    _school, hidden = _seed(service)
    sent = _send(service, TARGET)
    entries = [loads_canonical(open_envelope(raw)[2]) for raw in _entries(service)]
    (checked,) = [e for e in entries if e["event"]["kind"] == "message.checked"]
    openings = {}
    for user, party in (("red-approver", "red"), ("blue-officer", "blue")):
        opening = service.get(f"/v1/messages/{sent['id']}/check", user).json()
        assert opening["party"] == party and opening["entry"] == sent["check"]["entry"]
        committed = decode_base64(checked["event"]["checks"][party], what="commitment", size=32)
        salt = decode_base64(opening["salt"], what="salt", size=32)
        verify_opening(commitment=committed, content=opening["content"], salt=salt)
        assert opening["content"]["content_hash"] == sent["content_hash"]
        openings[party] = opening
    assert hidden in json.dumps(openings["red"]) and hidden not in json.dumps(openings["blue"])
    # Nobody else: the monitor and the notifier are refused the route; an outsider's id 404.
    assert_problem(service.get(f"/v1/messages/{sent['id']}/check", "observer"), 403)
    assert_problem(service.get("/v1/messages/m-0123456789abcdef/check", "red-officer"), 404)

    # In a dispute, red proves with the record alone what it was warned of, and blue what
    # it sent: `accord record open` over red's export and red's two openings.
    export = tmp_path / "red.jsonl"
    export_entries(service, "red-officer", export)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(service.get("/v1/keys", "red-officer").json()), encoding="utf-8")
    message_opening = service.get(f"/v1/messages/{sent['id']}/opening", "red-officer").json()
    given = tmp_path / "openings.json"
    given.write_text(json.dumps([message_opening, openings["red"]]), encoding="utf-8")
    base = ["record", "open", str(export), "--keys", str(keys), "--workers", "1"]
    opened = CliRunner().invoke(app, [*base, "--openings", str(given)])
    assert opened.exit_code == 0, opened.output
    assert f"message {sent['id']} from blue to red" in opened.output
    assert f"content hash {sent['content_hash']}" in opened.output
    assert "showed red: 240 m from School No. 12" in opened.output
    assert "OPENED 2 of 2" in opened.output
    # Blue's opening does not open red's commitment.
    given.write_text(json.dumps([{**openings["blue"], "party": "red"}]), encoding="utf-8")
    refused = CliRunner().invoke(app, [*base, "--openings", str(given)])
    assert refused.exit_code == 1 and "NOT OPENED" in refused.output


def test_a_geometry_the_engine_cannot_check_is_sent_marked_unchecked(
    signed_service: Service,
) -> None:
    long_line = {"type": "LineString", "coordinates": [[10.0, 20.0], [16.0, 20.0]]}
    sent = _send(signed_service, long_line)
    check = sent["check"]
    assert check["checked"] is False and check["geometry"] is True
    assert "km from its centre" in check["unchecked"] and check["warnings"] == []
    none = _send(signed_service, None)["check"]
    assert none["geometry"] is False and none["checked"] is False and none["unchecked"] is None


def test_a_line_and_points_are_checked_along_their_length(signed_service: Service) -> None:
    service = signed_service
    school, _ = _seed(service)
    # A line 240 m north of the school along its parallel, its vertices 7 km away on both
    # sides: the geodesic between them bows 2-3 m poleward at the school.
    line = {"type": "LineString", "coordinates": [[21.80, 24.93817], [21.95, 24.93817]]}
    (warned,) = [w for w in _send(service, line)["check"]["warnings"] if w["with"] == school]
    assert 240 < warned["distance_m"] < 244, warned
    points = {"type": "MultiPoint", "coordinates": [[21.2, 25.6], [21.87438, 24.936]]}
    (warned,) = _send(service, points)["check"]["warnings"]
    assert warned["with"] == school and abs(warned["distance_m"] - 240) < 2


def test_an_invalid_polygon_is_refused_naming_the_field(signed_service: Service) -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[21.0, 25.0], [21.1, 25.1], [21.1, 25.0], [21.0, 25.1], [21.0, 25.0]]],
    }
    body = {"to": ["red"], "subject": "s", "text": "t", "geometry": bow_tie}
    problem = assert_problem(signed_service.post("/v1/messages", "blue-officer", json=body), 422)
    assert problem["errors"][0]["field"] == "geometry.coordinates"
    assert "Self-intersection" in problem["errors"][0]["message"]


def test_an_amended_area_is_checked_for_every_party_as_received_coordinates_are(
    signed_service: Service,
) -> None:
    """Blue moves its operation beside the school and red's hidden battalion: red is shown
    both by name (its own, exact), blue the school only; the record's operation.checked
    entry has one commitment per party, of the proposal's shape whatever it found."""
    from support.desk import operation

    service = signed_service
    confirm = {"condition": "aid-delivered-east-city"}
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=confirm).status_code == 201
    school, hidden = _seed(service)
    proposed = service.post("/v1/operations", "blue-officer", json=operation(21.2, 25.6))
    assert proposed.status_code == 201, proposed.text
    op_id = proposed.json()["id"]
    assert_problem(service.get(f"/v1/operations/{op_id}/check", "red-officer"), 404)
    moved = operation(21.87438, 24.936, radius_m=1)
    amended = service.put(f"/v1/operations/{op_id}", "blue-officer", json=moved)
    assert amended.status_code == 200, amended.text
    red = service.get(f"/v1/operations/{op_id}/check", "red-approver").json()
    assert red["party"] == "red" and red["content"]["version"] == 2
    assert {w["with"] for w in red["content"]["warnings"]} == {school, hidden}
    blue = service.get(f"/v1/operations/{op_id}/check", "blue-officer").json()["content"]
    assert [w["with"] for w in blue["warnings"]] == [school]
    assert hidden not in json.dumps(blue)
    assert_problem(service.get(f"/v1/operations/{op_id}/check", "observer"), 403)
    entries = [loads_canonical(open_envelope(raw)[2]) for raw in _entries(service)]
    (checked,) = [e for e in entries if e["event"]["kind"] == "operation.checked"]
    assert set(checked["event"]["checks"]) == {"blue", "red"} and checked["event"]["version"] == 2
    committed = decode_base64(checked["event"]["checks"]["red"], what="commitment", size=32)
    verify_opening(
        commitment=committed,
        content=red["content"],
        salt=decode_base64(red["salt"], what="salt", size=32),
    )
    # Red's live event names its battalion; blue's does not.
    with center_of(service).reading() as session:
        seen = {
            member: [
                e.payload
                for e in events_for(session, member, after=0, limit=1000)
                if e.kind == "operation.checked"
            ]
            for member in ("blue", "red")
        }
    assert hidden in json.dumps(seen["red"]) and hidden not in json.dumps(seen["blue"])


def test_an_objections_coordinates_are_checked_for_every_party_and_kept_out_of_the_record(
    signed_service: Service,
) -> None:
    """Red objects to blue's synchronized operation, pointing at where its battalion holds:
    blue is shown red's coordinates and the school beside them, never the hidden battalion
    itself; red is shown its battalion; the record holds a commitment, not the point."""
    from support.desk import operation

    service = signed_service
    confirm = {"condition": "aid-delivered-east-city"}
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=confirm).status_code == 201
    school, hidden = _seed(service)
    notified = service.post(
        "/v1/operations", "blue-officer", json=operation(21.2, 25.6, category="synchronized")
    )
    assert notified.status_code == 201, notified.text
    op_id = notified.json()["id"]
    evidence = {"evidence": "our battalion holds here", "geometry": TARGET}
    objected = service.post(f"/v1/operations/{op_id}/object", "red-officer", json=evidence)
    assert objected.status_code == 200, objected.text
    blue = service.get(f"/v1/operations/{op_id}/check", "blue-approver").json()["content"]
    assert blue["check"] == "objection" and blue["by"] == "red" and blue["coordinates"] == TARGET
    assert [w["with"] for w in blue["warnings"]] == [school] and hidden not in json.dumps(blue)
    red = service.get(f"/v1/operations/{op_id}/check", "red-officer").json()["content"]
    assert {w["with"] for w in red["warnings"]} == {school, hidden}
    raw = b"".join(_entries(service))
    assert b"21.87438" not in raw
    entries = [loads_canonical(open_envelope(r)[2]) for r in _entries(service)]
    (objection,) = [e for e in entries if e["event"]["kind"] == "operation.objected"]
    assert set(objection["event"]) >= {"evidence", "evidence_geometry"}
    (checked,) = [e for e in entries if e["event"]["kind"] == "operation.evidence_checked"]
    assert set(checked["event"]["checks"]) == {"blue", "red"}
    assert checked["event"]["objection"] == entries.index(objection)
    # Bad coordinates are named and nothing is written.
    size = len(entries)
    bad = {"evidence": "x", "geometry": {"type": "Point", "coordinates": [21.0, 95.0]}}
    refused = service.post(f"/v1/operations/{op_id}/object", "red-officer", json=bad)
    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["field"] == "geometry.coordinates"
    assert len(_entries(service)) == size


def test_the_picture_opens_each_message_and_check_for_its_own_parties_only(
    service: Service,
) -> None:
    """A page of the picture reads its messages' openings and checks at once: each still
    shown only to whom it is, and one opening or check that does not open its commitment
    spoils that one alone."""
    from sqlalchemy import update

    from accord.center.db.models import Opening
    from accord.center.db.models_checks import CheckOpening
    from support.jig import NOW

    _seed(service)
    sent = [_send(service, TARGET), _send(service, FAR), _send(service, None)]
    at = {"at": NOW.isoformat()}

    def shown(user: str) -> dict[str, dict[str, Any]]:
        answer = service.get("/v1/picture", user, params=at)
        assert answer.status_code == 200, answer.text
        return {m["id"]: m for m in answer.json()["messages"]}

    live = {
        user: {m["id"]: service.get(f"/v1/messages/{m['id']}", user).json() for m in sent}
        for user in ("blue-officer", "red-officer")
    }
    for user in ("blue-officer", "red-officer"):
        seen = shown(user)
        assert set(seen) == {m["id"] for m in sent}
        for m in sent:
            assert seen[m["id"]]["content"] == m["content"] and seen[m["id"]]["verified"]
            assert _same_check(seen[m["id"]]["check"], live[user][m["id"]]["check"])
        party = user.split("-")[0]
        assert all(seen[m["id"]]["check"]["party"] == party for m in sent[:2])
    for m in shown("observer").values():
        assert m["content"] is None and m["verified"] is None and m["check"] is None

    center = center_of(service)
    with center.writing() as unit:  # the first's opening and red's check of the second changed
        unit.session.execute(
            update(Opening)
            .where(Opening.entry == sent[0]["entry"])
            .values(content=json.dumps({"subject": "forged"}))
        )
        unit.session.execute(
            update(CheckOpening)
            .where(CheckOpening.entry == sent[1]["check"]["entry"], CheckOpening.party == "red")
            .values(salt=b"\0" * 32)
        )
    for user in ("blue-officer", "red-officer"):
        seen = shown(user)
        first, second, third = (seen[m["id"]] for m in sent)
        assert first["content"] is None and first["verified"] is False
        assert second["verified"] and third["verified"]
        assert _same_check(first["check"], live[user][sent[0]["id"]]["check"])
        if user == "red-officer":
            assert second["check"] is None
        else:
            assert _same_check(second["check"], live[user][sent[1]["id"]]["check"])


def _same_check(opened: dict[str, Any] | None, live: dict[str, Any] | None) -> bool:
    """Whether the check a picture opened is the one the live message shows (the picture
    shows the opening itself, the live message its summary beside it)."""
    if opened is None or live is None:
        return opened is live
    shared = set(opened) & set(live)
    return {"party", "warnings"} <= shared and all(opened[k] == live[k] for k in shared)
