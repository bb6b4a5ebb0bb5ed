"""Positions that carry a TAK device (issue 21, contract items 1–3): the new properties
stored, listed, served and amended like any other; a device uid that stays with the first
party to declare it, answered the same whether that party's position is shared or hidden;
one position in force per uid within a party; and the ``device-reports`` key purpose, which
signs its devices' reports and nothing else."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from accord.center.cot.picture import UID_PREFIX, picture
from accord.center.db.models_declarations import DeviceUid
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.record.canonical import encode_base64
from accord.record.keys import PrivateKey
from accord.record.registry import DEVICE_REPORTS
from support.devices import by_key, device_position, gateway_key
from support.failures import assert_problem
from support.load import declaring, made
from support.offices import root_of
from support.operations import operation
from support.service import Service, center_of
from support.tracks import BLUE

PATH = "/v1/declarations"
TAKEN = "this device uid belongs to another party"


def declared(service: Service, user: str, feature: dict[str, Any]) -> dict[str, Any]:
    """``feature`` declared (a hidden one through ``POST /v1/declarations/hidden``)."""
    path, body = declaring(feature)
    answer = service.post(path, user, json=body)
    declaration = made(answer)
    assert declaration is not None, answer.text
    return declaration


@contextmanager
def statements(service: Service) -> Iterator[list[str]]:
    """The SQL statements the center runs meanwhile (the shape of its work)."""
    seen: list[str] = []
    engine = center_of(service).engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


# --- the properties ---------------------------------------------------------------------------


def test_the_device_and_motion_round_trip_everywhere_a_position_goes(
    signed_service: Service,
) -> None:
    service = signed_service
    feature = device_position("ANDROID-0a1b2c3d")
    body = declared(service, "blue-officer", feature)
    props = body["feature"]["properties"]
    for name in ("device", "course_deg", "speed_mps", "reported_at"):
        assert props[name] == feature["properties"][name]
    read = service.get(f"{PATH}/{body['id']}", "blue-officer").json()
    assert read["feature"] == body["feature"]
    (listed,) = service.get(PATH, "red-officer", params={"kind": "position"}).json()["items"]
    assert listed["feature"]["properties"]["device"] == {"uid": "ANDROID-0a1b2c3d",
                                                         "callsign": "ALPHA-1"}  # fmt: skip
    world = service.get("/v1/world", "red-officer").json()
    (served,) = [f for f in world["features"] if f["properties"]["id"] == body["id"]]
    assert served["properties"]["speed_mps"] == 3.25
    moved = copy.deepcopy(body["feature"])
    moved["properties"].update(course_deg=12.0, speed_mps=0.0)
    moved["properties"]["device"]["callsign"] = None
    amended = service.put(f"{PATH}/{body['id']}", "blue-officer", json=moved)
    assert amended.status_code == 200, amended.text
    again = amended.json()["feature"]["properties"]
    assert (again["course_deg"], again["speed_mps"], again["device"]["callsign"]) == (12, 0, None)


def test_a_hidden_positions_device_is_as_hidden_as_its_point(signed_service: Service) -> None:
    service = signed_service
    body = declared(service, "blue-officer", device_position("ANDROID-h1", disclosure="center"))
    for user in ("red-officer", "red-approver", "hnc-notifier"):
        assert "ANDROID-h1" not in service.get(PATH, user).text
        assert "ANDROID-h1" not in service.get("/v1/world", user).text
        assert_problem(service.get(f"{PATH}/{body['id']}", user), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"device": {"uid": "has space"}}, "properties.device.uid"),
        ({"device": {"uid": "x" * 101}}, "properties.device.uid"),
        ({"device": {"uid": "ok", "callsign": 7}}, "properties.device.callsign"),
        ({"device": {"uid": "ok", "serial": "1"}}, "properties.device.serial"),
        ({"device": "ANDROID-1"}, "properties.device"),
        ({"course_deg": 360}, "properties.course_deg"),
        ({"course_deg": -1}, "properties.course_deg"),
        ({"speed_mps": 1000.5}, "properties.speed_mps"),
        ({"reported_at": "2026-09-21T15:59:30"}, "properties.reported_at"),
    ],
)
def test_a_bad_device_property_is_named(
    signed_service: Service, change: dict[str, Any], field: str
) -> None:
    feature = device_position("ANDROID-bad")
    feature["properties"].update(change)
    problem = assert_problem(signed_service.post(PATH, "blue-officer", json=feature), 422)
    assert [e["field"] for e in problem["errors"]] == [field]


# --- device uids stay with their party --------------------------------------------------------


def test_a_device_uid_stays_with_the_first_party_the_same_answer_shared_or_hidden(
    signed_service: Service,
) -> None:
    service = signed_service
    declared(service, "blue-officer", device_position("ANDROID-shared"))
    declared(service, "blue-officer", device_position("ANDROID-hidden", disclosure="center"))
    gone = declared(service, "blue-officer", device_position("ANDROID-gone", disclosure="center"))
    change = {"change": "withdraw", "id": gone["id"], "reason": "x"}
    withdrawn = service.post(f"{PATH}/hidden", "blue-officer", json={"changes": [change]})
    assert withdrawn.status_code == 200, withdrawn.text
    answers = []
    shapes: dict[str, list[list[str]]] = {"shared": [], "center": []}  # by the spoof's request
    for uid in ("ANDROID-shared", "ANDROID-hidden", "ANDROID-gone"):
        for disclosure in ("shared", "center"):
            path, spoof = declaring(device_position(uid, party="red", disclosure=disclosure))
            with statements(service) as seen:
                answer = service.post(path, "red-officer", json=spoof)
            problem = assert_problem(answer, 409)
            answers.append((problem, dict(answer.headers)))
            shapes[disclosure].append([s.split()[0] + " " + s.split("FROM")[-1][:40] for s in seen])
    (problem, _headers), *_ = answers
    assert problem["detail"] == TAKEN
    assert problem["errors"] == [{"field": "device.uid", "location": "body", "message": TAKEN}]
    # the same answer, the same work, whoever holds the uid and however they hold it
    assert all(a[0] == problem for a in answers)
    assert all(
        {k: v for k, v in a[1].items() if k not in ("date", "content-length")}
        == {k: v for k, v in answers[0][1].items() if k not in ("date", "content-length")}
        for a in answers
    )
    assert all(shape == alike[0] for alike in shapes.values() for shape in alike), shapes
    # an amendment onto another party's uid is refused alike
    red = declared(service, "red-officer", device_position("ANDROID-red", party="red"))
    onto = copy.deepcopy(red["feature"])
    onto["properties"]["device"]["uid"] = "ANDROID-hidden"
    refused = assert_problem(service.put(f"{PATH}/{red['id']}", "red-officer", json=onto), 409)
    assert (refused["detail"], refused["errors"]) == (TAKEN, problem["errors"])
    with center_of(service).reading() as session:
        owners = {row.uid: row.member for row in session.query(DeviceUid)}
    assert owners == {
        "ANDROID-shared": "blue",
        "ANDROID-hidden": "blue",
        "ANDROID-gone": "blue",
        "ANDROID-red": "red",
    }


def test_within_a_party_one_uid_names_one_position_in_force(signed_service: Service) -> None:
    service = signed_service
    first = declared(service, "blue-officer", device_position("ANDROID-twice"))
    second = assert_problem(
        service.post(PATH, "blue-officer", json=device_position("ANDROID-twice")), 409
    )
    assert second["errors"][0]["field"] == "device.uid"
    assert first["id"] in second["detail"]
    other = declared(service, "blue-officer", device_position("ANDROID-other"))
    onto = copy.deepcopy(other["feature"])
    onto["properties"]["device"]["uid"] = "ANDROID-twice"
    assert (
        first["id"]
        in assert_problem(service.put(f"{PATH}/{other['id']}", "blue-officer", json=onto), 409)[
            "detail"
        ]
    )
    # once the first is withdrawn (or carries another uid), the uid may name another position
    service.post(f"{PATH}/{first['id']}/withdraw", "blue-officer", json={"reason": "relieved"})
    assert service.put(f"{PATH}/{other['id']}", "blue-officer", json=onto).status_code == 200


# --- the device-reports key --------------------------------------------------------------------


def test_a_device_reports_key_signs_device_reports_and_nothing_else(
    signed_service: Service,
) -> None:
    service = signed_service
    key = gateway_key(service)
    made = by_key(service, key, "POST", PATH, device_position("ANDROID-gw"))
    assert made.status_code == 201, made.text
    object_id = made.json()["id"]
    moved = copy.deepcopy(made.json()["feature"])
    moved["geometry"]["coordinates"] = [21.26, 25.03]
    assert by_key(service, key, "PUT", f"{PATH}/{object_id}", moved).status_code == 200
    tracks = by_key(service, key, "POST", "/v1/tracks", {"tracks": [BLUE]})
    assert tracks.status_code == 200, tracks.text

    plain = declared(service, "blue-officer", device_position("ANDROID-x"))
    plain_feature = copy.deepcopy(plain["feature"])
    del plain_feature["properties"]["device"]
    plain = service.put(f"{PATH}/{plain['id']}", "blue-officer", json=plain_feature).json()
    site = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.9, 24.9]},
        "properties": {"kind": "protected_site", "category": "hospital"},
    }
    no_device = device_position("ANDROID-y")
    del no_device["properties"]["device"]
    refused = [
        by_key(service, key, "POST", PATH, site),
        by_key(service, key, "POST", PATH, no_device),
        by_key(service, key, "PUT", f"{PATH}/{plain['id']}", device_position("ANDROID-x")),
        by_key(service, key, "POST", f"{PATH}/{plain['id']}/withdraw", {"reason": "x"}),
        by_key(service, key, "PUT", f"{PATH}/{object_id}", plain_feature),
        by_key(service, key, "PUT", f"{PATH}/d-0123456789abcdef", moved),
        by_key(service, key, "POST", "/v1/operations", operation("op-c1")),
        by_key(service, key, "POST", f"{PATH}/batch", {"features": [device_position("GW-b")]}),
        by_key(service, key, "POST", "/v1/messages", {"to": ["red"], "subject": "s", "text": "t"}),
    ]
    for answer in refused:
        problem = assert_problem(answer, 403)
        assert problem.get("errors", [{}])[0].get("field") == "Accord-Act-Key", problem
        assert DEVICE_REPORTS in problem["detail"], problem
    gone = by_key(service, key, "POST", f"{PATH}/{object_id}/withdraw", {"reason": "off"})
    assert gone.status_code == 200, gone.text


def test_a_device_reports_key_is_that_alone(signed_service: Service) -> None:
    service = signed_service
    assert service.offices is not None
    key = PrivateKey.from_seed("blue", bytes([43] * 32))
    path = "/v1/keys/registrations"
    for purposes in ([DEVICE_REPORTS, "act"], [DEVICE_REPORTS, "certify"]):
        body = {"user": "blue-officer", "public_key": encode_base64(key.public.raw),
                "purposes": purposes}  # fmt: skip
        headers = service.offices.headers("blue-officer", "POST", path, body, key=root_of("blue"))
        problem = assert_problem(
            service.post(path, "blue-officer", json=body, headers=headers), 422
        )
        assert problem["errors"][0]["field"] == "body.purposes"


def test_a_devices_motion_goes_out_over_cot_as_its_track(signed_service: Service) -> None:
    service = signed_service
    body = declared(service, "blue-officer", device_position("ANDROID-out"))
    red = Caller(user_id=0, name="red-officer", member="red", role=Role.OFFICER)
    center = center_of(service)
    sent = picture(center, red, center.now(), parts=("declarations",))["declarations"]
    event = sent[f"{UID_PREFIX}{body['id']}"]
    assert event.detail.track is not None
    assert (event.detail.track.course, event.detail.track.speed) == (271.5, 3.25)
