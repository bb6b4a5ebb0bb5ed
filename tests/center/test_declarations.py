"""Declarations: each kind declared, amended, withdrawn, listed and read; every bad input
named by its field; another member's ``center`` declaration indistinguishable from a
missing id on every route; its record entry a commitment that only the owner can open;
humanitarian notifiers kept to their own; acknowledgements as receipts; idempotent retries."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.center.db.models import Declaration, Opening, RecordLeaf, User
from accord.center.db.models_declarations import Acknowledgement, DeclarationChange
from accord.center.declarations.queries import page
from accord.center.declarations.routes import MAX_PAGE, MAX_WORLD_PAGE, DeclarationOut, PageOut
from accord.center.declarations.service import MAX_POSITIONS
from accord.center.event_store import events_for
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.record.canonical import content_hash, decode_base64, loads_canonical
from accord.record.commitments import CommitmentError, verify_opening
from accord.record.entries import open_envelope
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from support.declarations import POSITION
from support.failures import assert_problem
from support.jig import NOW
from support.record import served_head
from support.service import Service, center_of

PATH = "/v1/declarations"

SITE: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.905, 24.912]},
    "properties": {
        "kind": "protected_site",
        "name": "East City General Hospital",
        "category": "hospital",
        "standoff_m": 2000,
    },
}
MOVEMENT: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "LineString", "coordinates": [[21.3, 24.6], [21.52, 24.7], [21.7, 24.8]]},
    "properties": {
        "kind": "movement",
        "name": "Aid convoy 7",
        "valid_from": "2026-09-22T05:00:00Z",
        "valid_to": "2026-09-22T15:00:00Z",
        "corridor_m": 500,
    },
}
FLIGHT: dict[str, Any] = {
    "type": "Feature",
    "geometry": {
        "type": "LineString",
        "coordinates": [[21.0, 25.25, 6000], [21.35, 25.25, 6000], [21.8, 25.25, 6000]],
    },
    "properties": {
        "kind": "flight_plan",
        "operator": "blue",
        "party": "blue",
        "mission": "reconnaissance",
        "times": ["2026-09-22T09:00:00Z", "2026-09-22T09:06:00Z", "2026-09-22T09:14:00Z"],
    },
}
KINDS = {"protected_site": SITE, "movement": MOVEMENT, "position": POSITION, "flight_plan": FLIGHT}
MISSING = "d-0123456789abcdef"


def with_props(feature: dict[str, Any], **props: Any) -> dict[str, Any]:
    out = copy.deepcopy(feature)
    for key, value in props.items():
        if value is None:
            out["properties"].pop(key, None)
        else:
            out["properties"][key] = value
    return out


def declare(service: Service, user: str, feature: dict[str, Any]) -> dict[str, Any]:
    response = service.post(PATH, user, json=feature)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def put(service: Service, path: str, user: str, **kwargs: Any):
    headers = {**service.auth(user), **kwargs.pop("headers", {})}
    return service.client.put(path, headers=headers, **kwargs)


def record_size(service: Service) -> int:
    with center_of(service).reading() as session:
        return int(session.scalar(select(func.count()).select_from(RecordLeaf)) or 0)


def entry_event(service: Service, index: int) -> dict[str, Any]:
    with center_of(service).reading() as session:
        _, _, raw = open_envelope(center_of(service).log(session).entry(index))
    entry: dict[str, Any] = loads_canonical(raw)
    return entry


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def revs(service: Service) -> dict[str, int]:
    with center_of(service).reading() as session:
        return {i: r for i, r in session.execute(select(Declaration.id, Declaration.rev))}


# --- the life of a declaration ----------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_is_declared_amended_withdrawn_listed_and_read(
    service: Service, kind: str
) -> None:
    feature = KINDS[kind]
    body = declare(service, "blue-officer", feature)
    assert re.fullmatch(r"d-[0-9a-f]{16}", body["id"])
    assert (body["kind"], body["owner"], body["status"], body["version"]) == (
        kind,
        "blue",
        "active",
        1,
    )
    props = body["feature"]["properties"]
    assert props["id"] == body["id"] and props["declared_by"] == "blue"
    assert (
        props["disclosure"]
        == body["disclosure"]
        == feature["properties"].get("disclosure", "shared")
    )
    assert body["feature"]["geometry"] == feature["geometry"]
    assert body["declared_at"] == body["updated_at"] == "2026-09-21T16:00:00Z"
    assert body["content_hash"] == content_hash(body["feature"])
    assert (body["opening"] is not None) == (body["disclosure"] == "center")

    detail = service.get(f"{PATH}/{body['id']}", "blue-officer")
    assert detail.status_code == 200 and detail.headers["ETag"] == '"1"'
    assert detail.json() == {**body, "opening": None, "airspace": None}  # the probe: in answers

    # An amendment may send the stored feature back with its id and declared_by.
    changed = copy.deepcopy(body["feature"])
    changed["properties"]["name"] = "renamed"
    amended = put(
        service, f"{PATH}/{body['id']}", "blue-officer", json=changed, headers={"If-Match": '"1"'}
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2
    assert amended.json()["feature"]["properties"]["name"] == "renamed"
    assert amended.json()["entry"] == body["entry"] + 1

    listed = service.get(PATH, "blue-officer", params={"kind": kind}).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["next"] is None

    gone = service.post(
        f"{PATH}/{body['id']}/withdraw", "blue-officer", json={"reason": "moved on", "version": 2}
    )
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "withdrawn" and gone.json()["withdrawn_reason"] == "moved on"
    assert gone.json()["withdrawn_at"] == "2026-09-21T16:00:00Z"
    assert service.get(PATH, "blue-officer", params={"status": "active"}).json()["items"] == []
    (kept,) = service.get(PATH, "blue-officer", params={"status": "withdrawn"}).json()["items"]
    assert kept["id"] == body["id"] and kept["version"] == 2
    # Out of force: no further change.
    assert_problem(put(service, f"{PATH}/{body['id']}", "blue-officer", json=changed), 409)
    again = service.post(f"{PATH}/{body['id']}/withdraw", "blue-officer", json={"reason": "x"})
    assert_problem(again, 409)
    assert record_size(service) == 3


def test_every_change_raises_rev_to_one_past_the_largest(service: Service) -> None:
    a = declare(service, "blue-officer", SITE)["id"]
    assert revs(service) == {a: 1}
    b = declare(service, "red-officer", with_props(SITE, name="Red school"))["id"]
    assert revs(service) == {a: 1, b: 2}
    assert put(service, f"{PATH}/{a}", "blue-officer", json=SITE).status_code == 200
    assert revs(service) == {a: 3, b: 2}
    service.post(f"{PATH}/{b}/withdraw", "red-officer", json={"reason": "closed"})
    assert revs(service) == {a: 3, b: 4}
    # An acknowledgement changes no declaration, so no rev.
    hnc = declare(service, "hnc-notifier", MOVEMENT)
    ack = {"content_hash": hnc["content_hash"]}
    assert (
        service.post(f"{PATH}/{hnc['id']}/acknowledge", "red-officer", json=ack).status_code == 201
    )
    assert revs(service) == {a: 3, b: 4, hnc["id"]: 5}


def test_pages_follow_the_id_order(service: Service) -> None:
    ids = sorted(declare(service, "blue-officer", SITE)["id"] for _ in range(5))
    first = service.get(PATH, "red-officer", params={"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == ids[:2] and first["next"] == ids[1]
    rest = service.get(PATH, "red-officer", params={"limit": 10, "after": first["next"]}).json()
    assert [i["id"] for i in rest["items"]] == ids[2:] and rest["next"] is None
    assert service.get(PATH, "red-officer", params={"owner": "red"}).json()["items"] == []
    too_many = {"limit": MAX_PAGE + 1}
    for params in ({"limit": 0}, too_many, {"kind": "operation"}, {"status": "gone"}):
        body = assert_problem(service.get(PATH, "red-officer", params=params), 422)
        assert fields(body) == set(params)


def test_a_list_answers_what_the_models_would(service: Service) -> None:
    """The list is written without building its models (the stored feature copied as it
    is, the content hash taken from that text): for every viewer, every filter and page
    size, it is the same JSON as the models of the same declarations — the same items,
    features, hashes, times, acknowledgements, withdrawal reasons and next cursor."""
    rng = random.Random(7)
    features = [SITE, MOVEMENT, POSITION, FLIGHT, with_props(POSITION, disclosure="shared")]
    made = [declare(service, "blue-officer", rng.choice(features)) for _ in range(12)]
    made += [
        declare(service, "red-officer", with_props(POSITION, party="red", name=f"R{i}"))
        for i in range(6)
    ]
    convoys = [declare(service, "hnc-notifier", rng.choice([SITE, MOVEMENT])) for _ in range(6)]
    for convoy in convoys[:4]:
        for user in rng.sample(["red-officer", "blue-officer"], rng.randint(1, 2)):
            path = f"{PATH}/{convoy['id']}/acknowledge"
            done = service.post(path, user, json={"content_hash": convoy["content_hash"]})
            assert done.status_code == 201, done.text
    for body in rng.sample(made, 5):
        path = f"{PATH}/{body['id']}/withdraw"
        user = f"{body['owner']}-officer"
        assert service.post(path, user, json={"reason": f"gone {body['id']}"}).status_code == 200
    amended = rng.choice(made[:12])
    if amended["status"] == "active":
        put(service, f"{PATH}/{amended['id']}", "blue-officer", json=amended["feature"])
    users = ["blue-officer", "red-officer", "red-approver", "hnc-notifier", "observer"]
    filters: list[dict[str, Any]] = [{}, {"status": "active"}, {"kind": "movement"}]
    filters += [{"owner": "red", "status": "withdrawn"}]
    with center_of(service).reading() as session:
        callers = {
            u.name: Caller(u.id, u.name, u.member, Role(u.role))
            for u in session.scalars(select(User))
        }
    for user in users:
        for where in filters:
            for limit in (1, 3, 7, 100):
                after = None
                while True:
                    params = {**where, "limit": limit, **({"after": after} if after else {})}
                    answer = service.get(PATH, user, params=params)
                    assert answer.status_code == 200, answer.text
                    with center_of(service).reading() as session:
                        views, following = page(
                            session, callers[user], limit=limit, after=after, **where
                        )
                    model = PageOut(items=[DeclarationOut.of(v) for v in views], next=following)
                    assert answer.json() == model.model_dump(mode="json"), (user, params)
                    after = following
                    if after is None:
                        break


def test_the_world_is_the_list_in_force_as_features(service: Service) -> None:
    """``GET /v1/world`` gives each viewer exactly the features of the declarations in force
    that the list gives it (its own ``center`` ones included, no one else's), in id order,
    page by page; each feature names its id, kind, owner and disclosure."""
    rng = random.Random(11)
    made = [declare(service, "blue-officer", rng.choice([SITE, MOVEMENT, POSITION, FLIGHT]))]
    made += [declare(service, "blue-officer", rng.choice([SITE, POSITION])) for _ in range(7)]
    made += [declare(service, "red-officer", with_props(POSITION, party="red")) for _ in range(4)]
    made += [declare(service, "hnc-notifier", MOVEMENT) for _ in range(3)]
    for body in rng.sample(made, 4):
        path = f"{PATH}/{body['id']}/withdraw"
        user = "hnc-notifier" if body["owner"] == "hnc" else f"{body['owner']}-officer"
        done = service.post(path, user, json={"reason": "r"})
        assert done.status_code == 200, done.text
    for user in ["blue-officer", "red-officer", "red-approver", "hnc-notifier", "observer"]:
        listed = service.get(PATH, user, params={"status": "active", "limit": 500}).json()
        expected = [item["feature"] for item in listed["items"]]
        assert expected, user
        for item, feature in zip(listed["items"], expected, strict=True):
            props = feature["properties"]
            assert (props["id"], props["kind"]) == (item["id"], item["kind"])
            assert (props["declared_by"], props["disclosure"]) == (
                item["owner"],
                item["disclosure"],
            )
        for limit in (1, 4, MAX_WORLD_PAGE):
            got: list[dict[str, Any]] = []
            address = f"/v1/world?limit={limit}"
            while True:
                # Each next page at the address its predecessor's Link header names.
                answer = service.get(address, user)
                assert answer.status_code == 200, answer.text
                world = answer.json()
                assert world["type"] == "FeatureCollection"
                got += world["features"]
                if world["next"] is None:
                    assert "link" not in answer.headers
                    break
                address = f"/v1/world?limit={limit}&after={world['next']}"
                assert answer.headers["link"] == f'<{address}>; rel="next"'
            assert got == expected, (user, limit)
    assert_problem(service.get("/v1/world", "admin"), 403)
    for params in ({"limit": 0}, {"limit": MAX_WORLD_PAGE + 1}):
        assert fields(
            assert_problem(service.get("/v1/world", "red-officer", params=params), 422)
        ) == {"limit"}


def test_the_world_names_the_events_after_which_nothing_is_missed(service: Service) -> None:
    """``Accord-Events-After`` on each page of ``GET /v1/world`` is the newest event id as of
    the page: what the page shows is there, and every change after it that the reader may
    see (another party's shared declaration, its own centre-only one) is announced after
    that id."""
    first = declare(service, "blue-officer", SITE)
    world = service.get("/v1/world", "red-officer")
    assert world.status_code == 200, world.text
    position = int(world.headers["accord-events-after"])
    center = center_of(service)
    with center.reading() as session:
        assert position == events_for(session, "blue", after=0, limit=1000)[-1].id
    assert first["id"] in [f["properties"]["id"] for f in world.json()["features"]]
    later = declare(service, "blue-officer", with_props(POSITION, disclosure="shared"))
    own = declare(service, "red-officer", with_props(POSITION, party="red"))
    events = service.get("/v1/events", "red-officer", params={"after": position}).json()
    announced = {e["payload"].get("id") for e in events["events"]}
    assert {later["id"], own["id"]} <= announced
    assert first["id"] not in announced
    again = service.get("/v1/world", "red-officer", params={"limit": 1})
    assert int(again.headers["accord-events-after"]) == events["last_id"]


# --- bad input ------------------------------------------------------------------------------

TOO_MANY = [[21.0 + i * 1e-5, 25.0] for i in range(MAX_POSITIONS + 1)]
BAD: list[tuple[str, str, dict[str, Any], str]] = [
    ("blue-officer", "no time", with_props(MOVEMENT, valid_from=None), "properties.valid_from"),
    (
        "blue-officer",
        "order",
        with_props(MOVEMENT, valid_to="2026-09-22T04:00:00Z"),
        "properties.valid_to",
    ),
    (
        "blue-officer",
        "offset",
        with_props(MOVEMENT, valid_from="2026-09-22T05:00:00"),
        "properties.valid_from",
    ),
    ("blue-officer", "operation", with_props(SITE, kind="operation"), "properties.kind"),
    ("blue-officer", "unknown kind", with_props(SITE, kind="tank"), "properties.kind"),
    ("blue-officer", "client id", with_props(SITE, id="d-0000000000000001"), "properties.id"),
    ("blue-officer", "declared_by", with_props(SITE, declared_by="red"), "properties.declared_by"),
    ("blue-officer", "their party", with_props(POSITION, party="red"), "properties.party"),
    ("blue-officer", "flight party", with_props(FLIGHT, party="red"), "properties.party"),
    (
        "blue-officer",
        "their aircraft",
        with_props(FLIGHT, operator="red", party=None),
        "properties.operator",
    ),
    ("blue-officer", "disclosure", with_props(SITE, disclosure="secret"), "properties.disclosure"),
    ("blue-officer", "unknown field", with_props(SITE, colour="red"), "properties.colour"),
    ("blue-officer", "big integer", with_props(SITE, standoff_m=2**60), "properties.standoff_m"),
    ("blue-officer", "negative", with_props(SITE, standoff_m=-1), "properties.standoff_m"),
    ("blue-officer", "long name", with_props(SITE, name="x" * 201), "properties.name"),
    (
        "blue-officer",
        "times",
        with_props(FLIGHT, times=["2026-09-22T09:00:00Z"]),
        "properties.times",
    ),
    (
        "blue-officer",
        "geometry type",
        {**SITE, "geometry": {"type": "LineString", "coordinates": [[21.0, 25.0], [21.1, 25.0]]}},
        "geometry.type",
    ),
    (
        "blue-officer",
        "latitude",
        {**SITE, "geometry": {"type": "Point", "coordinates": [21.0, 95.0]}},
        "geometry.coordinates",
    ),
    (
        "blue-officer",
        "too many",
        {**MOVEMENT, "geometry": {"type": "LineString", "coordinates": TOO_MANY}},
        "geometry.coordinates",
    ),
    ("blue-officer", "no geometry", {**SITE, "geometry": None}, "geometry"),
    ("blue-officer", "top-level id", {**SITE, "id": "mine"}, "id"),
    (
        "blue-officer",
        "no properties",
        {"type": "Feature", "geometry": SITE["geometry"]},
        "properties",
    ),
    (
        "hnc-notifier",
        "notifier center",
        with_props(SITE, disclosure="center"),
        "properties.disclosure",
    ),
    (
        "hnc-notifier",
        "notifier position",
        with_props(POSITION, disclosure=None, party="blue"),
        "properties.kind",
    ),
]


def test_bad_input_names_the_field_and_records_nothing(service: Service) -> None:
    for user, case, feature, field in BAD:
        body = assert_problem(service.post(PATH, user, json=feature), 422)
        assert field in fields(body), (case, body)
    assert record_size(service) == 0


def test_a_party_reports_a_third_party_aircraft(service: Service) -> None:
    green = declare(service, "red-officer", with_props(FLIGHT, operator="green-af", party=None))
    assert green["owner"] == "red"
    assert green["feature"]["properties"]["operator"] == "green-af"


def test_bad_amendments_and_stale_versions_name_the_field(service: Service) -> None:
    position = declare(service, "blue-officer", POSITION)
    path = f"{PATH}/{position['id']}"
    cases = [
        (with_props(SITE, disclosure="center"), "properties.kind"),
        (with_props(POSITION, disclosure="shared"), "properties.disclosure"),
        (with_props(POSITION, id="d-ffffffffffffffff"), "properties.id"),
    ]
    for feature, field in cases:
        assert field in fields(
            assert_problem(put(service, path, "blue-officer", json=feature), 422)
        )
    stale = assert_problem(put(service, path, "blue-officer", json={**POSITION, "version": 2}), 409)
    assert fields(stale) == {"version"}
    stale = assert_problem(
        put(service, path, "blue-officer", json=POSITION, headers={"If-Match": '"7"'}), 409
    )
    assert fields(stale) == {"If-Match"}
    bad = assert_problem(
        put(service, path, "blue-officer", json=POSITION, headers={"If-Match": "v1"}), 422
    )
    assert fields(bad) == {"If-Match"}
    stale = service.post(f"{path}/withdraw", "blue-officer", json={"reason": "r", "version": 3})
    assert fields(assert_problem(stale, 409)) == {"version"}
    empty = service.post(f"{path}/withdraw", "blue-officer", json={"reason": ""})
    assert fields(assert_problem(empty, 422)) == {"reason"}
    assert record_size(service) == 1


def test_only_officers_and_notifiers_declare(service: Service) -> None:
    for user in ("blue-approver", "observer", "admin"):
        assert_problem(service.post(PATH, user, json=SITE), 403)
    site = declare(service, "blue-officer", SITE)
    # The administrator sees no declaration, whatever the id.
    assert_problem(service.get(PATH, "admin"), 403)
    for path in (f"{PATH}/{site['id']}", f"{PATH}/{MISSING}"):
        assert_problem(service.get(path, "admin"), 403)
    # Another party may read a shared one, not change it.
    assert service.get(f"{PATH}/{site['id']}", "red-officer").status_code == 200
    assert_problem(put(service, f"{PATH}/{site['id']}", "red-officer", json=SITE), 403)
    withdraw = service.post(f"{PATH}/{site['id']}/withdraw", "red-officer", json={"reason": "no"})
    assert_problem(withdraw, 403)
    assert_problem(service.get(f"{PATH}/{site['id']}/openings", "red-officer"), 403)
    assert record_size(service) == 1


# --- disclosure -----------------------------------------------------------------------------


def same_answer(a: Any, b: Any) -> None:
    """Two responses no client can tell apart (but for the Date header)."""
    assert (a.status_code, a.content) == (b.status_code, b.content)
    strip = lambda r: {k: v for k, v in r.headers.items() if k.lower() != "date"}  # noqa: E731
    assert strip(a) == strip(b)


def test_another_members_center_declaration_is_a_missing_id_everywhere(service: Service) -> None:
    before = {u: service.get(PATH, u).content for u in ("red-officer", "hnc-notifier", "observer")}
    hidden = declare(service, "blue-officer", POSITION)
    assert hidden["disclosure"] == "center"
    hid = hidden["id"]
    for user in ("red-officer", "red-approver", "hnc-notifier", "observer"):
        # Lists: neither returned nor counted, with or without filters.
        for params in ({}, {"owner": "blue"}, {"kind": "position"}, {"after": "d-"}):
            assert hid not in service.get(PATH, user, params=params).text
        for path in ("", "/openings"):
            same_answer(
                service.get(f"{PATH}/{hid}{path}", user),
                service.get(f"{PATH}/{MISSING}{path}", user),
            )
        for target in (hid, MISSING):
            assert_problem(service.get(f"{PATH}/{target}", user), 404)
        same_answer(
            put(service, f"{PATH}/{hid}", user, json=POSITION),
            put(service, f"{PATH}/{MISSING}", user, json=POSITION),
        )
        same_answer(
            put(service, f"{PATH}/{hid}", user, json={**POSITION, "version": 9}),
            put(service, f"{PATH}/{MISSING}", user, json={**POSITION, "version": 9}),
        )
        for action, body in (
            ("withdraw", {"reason": "r"}),
            ("acknowledge", {"content_hash": hidden["content_hash"]}),
        ):
            same_answer(
                service.post(f"{PATH}/{hid}/{action}", user, json=body),
                service.post(f"{PATH}/{MISSING}/{action}", user, json=body),
            )
    after = {u: service.get(PATH, u).content for u in before}
    assert after == before
    # Live events: only blue is told.
    with center_of(service).reading() as session:
        assert [e.kind for e in events_for(session, "blue", after=0)] == ["declaration.created"]
        for member in ("red", "hnc", "observers"):
            assert events_for(session, member, after=0) == []
    assert record_size(service) == 1


def test_a_center_entry_is_a_commitment_only_the_owner_opens(
    service: Service, tmp_path: Path
) -> None:
    hidden = declare(service, "blue-officer", POSITION)
    moved = copy.deepcopy(POSITION)
    moved["geometry"]["coordinates"][0][0][0] = moved["geometry"]["coordinates"][0][-1][0] = 21.24
    amended = put(service, f"{PATH}/{hidden['id']}", "blue-officer", json=moved).json()
    service.post(f"{PATH}/{hidden['id']}/withdraw", "blue-officer", json={"reason": "Left 21.24"})
    for index in range(3):
        entry = entry_event(service, index)
        assert entry["author"] == "blue"
        event = entry["event"]
        # The same two members for a create, an amendment and a withdrawal: no id, kind,
        # version or change.
        assert set(event) == {"kind", "commitment"} and event["kind"] == "declaration.hidden"
        text = json.dumps(entry)
        for secret in (
            "21.2",
            "25.0",
            "battalion",
            "uncertainty_m",
            "2026-09-25",
            "Left 21",
            "position",
            hidden["id"],
        ):
            assert secret not in text
    # What every reader of the record holds: the served entries, verified on their own.
    served = service.get("/v1/record/entries", "red-officer").json()["entries"]
    head = service.get("/v1/record/head", "red-officer").json()
    head = served_head(head)
    export = tmp_path / "record.jsonl"
    lines = [json.dumps({"i": e["index"], "data": e["data"]}) for e in served]
    export.write_text("\n".join([*lines, json.dumps({"head": head})]) + "\n", encoding="utf-8")
    ring = KeyRing.from_json(service.get("/v1/keys", "red-officer").json())
    assert verify_log(export, keys=ring, workers=1).entries == 3
    public = [
        loads_canonical(open_envelope(decode_base64(e["data"], what="entry"))[2])["event"]
        for e in served
    ]
    openings = service.get(f"{PATH}/{hidden['id']}/openings", "blue-approver")
    assert openings.status_code == 200, openings.text
    listed = openings.json()["entries"]
    assert [(e["entry"], e["change"], e["version"]) for e in listed] == [
        (0, "created", 1),
        (1, "amended", 2),
        (2, "withdrawn", 2),
    ]
    assert listed[0]["opening"] == hidden["opening"]
    assert listed[1]["opening"] == amended["opening"]
    for item in listed:
        opening = item["opening"]
        recorded = decode_base64(public[item["entry"]]["commitment"], what="commitment")
        assert decode_base64(opening["commitment"], what="commitment") == recorded
        salt = decode_base64(opening["salt"], what="salt")
        content = loads_canonical(opening["content"].encode())
        verify_opening(commitment=recorded, content=content, salt=salt)
        assert content["id"] == hidden["id"] and content["object_kind"] == "position"
        assert (content["action"], content["version"]) == (item["change"], item["version"])
        tampered = json.loads(opening["content"].replace("21.2", "21.3").replace("Left", "Right"))
        with pytest.raises(CommitmentError):
            verify_opening(commitment=recorded, content=tampered, salt=salt)
        with pytest.raises(CommitmentError):
            verify_opening(commitment=recorded, content=content, salt=bytes(len(salt)))
    assert json.loads(listed[0]["opening"]["content"])["content"] == hidden["feature"]
    assert json.loads(listed[1]["opening"]["content"])["content"] == amended["feature"]
    assert json.loads(listed[2]["opening"]["content"])["content"] == {"reason": "Left 21.24"}


def test_a_shared_entry_carries_the_feature_and_reaches_every_party(service: Service) -> None:
    site = declare(service, "blue-officer", SITE)
    entry = entry_event(service, site["entry"])
    assert entry["event"] == {
        "kind": "declaration.created",
        "id": site["id"],
        "object_kind": "protected_site",
        "disclosure": "shared",
        "version": 1,
        "content": site["feature"],
    }
    with center_of(service).reading() as session:
        for member in ("blue", "red", "observers"):
            (event,) = events_for(session, member, after=0)
            assert event.payload["feature"] == site["feature"]
        assert events_for(session, "hnc", after=0) == []
    openings = service.get(f"{PATH}/{site['id']}/openings", "blue-officer").json()
    assert openings["entries"] == [
        {
            "entry": 0,
            "change": "created",
            "version": 1,
            "member": "blue",
            "at": "2026-09-21T16:00:00Z",
            "opening": None,
        }
    ]


# --- humanitarian notifiers and acknowledgements ----------------------------------------------


def test_a_notifier_sees_only_its_own(service: Service) -> None:
    mine = declare(service, "hnc-notifier", SITE)
    assert mine["owner"] == "hnc" and mine["disclosure"] == "shared"
    shared = declare(service, "blue-officer", with_props(SITE, name="Blue depot"))
    declare(service, "red-officer", with_props(POSITION, party="red"))
    listed = service.get(PATH, "hnc-notifier").json()["items"]
    assert [item["id"] for item in listed] == [mine["id"]]
    same_answer(
        service.get(f"{PATH}/{shared['id']}", "hnc-notifier"),
        service.get(f"{PATH}/{MISSING}", "hnc-notifier"),
    )
    # Parties and monitors see the notifier's sites.
    for user in ("blue-officer", "red-approver", "observer"):
        assert service.get(f"{PATH}/{mine['id']}", user).status_code == 200
    with center_of(service).reading() as session:
        assert [e.payload["id"] for e in events_for(session, "hnc", after=0)] == [mine["id"]]


def test_an_acknowledgement_is_a_receipt_of_one_version(service: Service) -> None:
    convoy = declare(service, "hnc-notifier", MOVEMENT)
    path = f"{PATH}/{convoy['id']}/acknowledge"
    ack = service.post(path, "red-officer", json={"content_hash": convoy["content_hash"]})
    assert ack.status_code == 201, ack.text
    receipt = ack.json()
    assert receipt["member"] == "red" and receipt["version"] == 1
    assert "not an approval" in receipt["meaning"]
    entry = entry_event(service, receipt["entry"])
    assert entry["author"] == "red"
    assert entry["event"]["kind"] == "declaration.acknowledged"
    assert entry["event"]["content_hash"] == convoy["content_hash"]
    assert entry["event"]["meaning"] == "receipt"
    # Once per version; only officers; only a notifier's declarations.
    again = service.post(path, "red-officer", json={"content_hash": convoy["content_hash"]})
    assert_problem(again, 409)
    for user in ("red-approver", "hnc-notifier", "observer", "admin"):
        assert_problem(service.post(path, user, json={"content_hash": convoy["content_hash"]}), 403)
    party_site = declare(service, "blue-officer", SITE)
    refused = service.post(
        f"{PATH}/{party_site['id']}/acknowledge",
        "red-officer",
        json={"content_hash": party_site["content_hash"]},
    )
    assert_problem(refused, 409)
    # The notifier amends: the old hash is stale, and the field is named.
    changed = with_props(MOVEMENT, corridor_m=800)
    v2 = put(service, f"{PATH}/{convoy['id']}", "hnc-notifier", json=changed).json()
    stale = service.post(path, "blue-officer", json={"content_hash": convoy["content_hash"]})
    assert fields(assert_problem(stale, 409)) == {"content_hash"}
    assert (
        service.post(path, "blue-officer", json={"content_hash": v2["content_hash"]}).status_code
        == 201
    )
    # The notifier sees who acknowledged which version and when; a party sees its own.
    seen = service.get(f"{PATH}/{convoy['id']}", "hnc-notifier").json()["acknowledgements"]
    assert [(a["member"], a["version"], a["content_hash"]) for a in seen] == [
        ("red", 1, convoy["content_hash"]),
        ("blue", 2, v2["content_hash"]),
    ]
    assert seen[0]["acknowledged_at"] == "2026-09-21T16:00:00Z"
    listed = service.get(PATH, "hnc-notifier").json()["items"][0]["acknowledgements"]
    assert listed == seen
    blue_view = service.get(f"{PATH}/{convoy['id']}", "blue-officer").json()["acknowledgements"]
    assert [a["member"] for a in blue_view] == ["blue"]
    with center_of(service).reading() as session:
        told = [e.kind for e in events_for(session, "hnc", after=0)]
        assert told.count("declaration.acknowledged") == 2
        assert [
            e.payload["member"]
            for e in events_for(session, "red", after=0)
            if e.kind == "declaration.acknowledged"
        ] == ["red"]
        assert session.scalar(select(func.count()).select_from(Acknowledgement)) == 2
    # Withdrawn: no more receipts.
    service.post(f"{PATH}/{convoy['id']}/withdraw", "hnc-notifier", json={"reason": "done"})
    late = service.post(path, "red-officer", json={"content_hash": v2["content_hash"]})
    assert_problem(late, 409)


# --- idempotency ----------------------------------------------------------------------------


def test_a_retried_declaration_creates_one_row_and_one_entry(service: Service) -> None:
    key = {"Idempotency-Key": "declare-bn-2"}
    first = service.post(PATH, "blue-officer", json=POSITION, headers=key)
    again = service.post(PATH, "blue-officer", json=POSITION, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    with center_of(service).reading() as session:
        for model in (Declaration, Opening, DeclarationChange, RecordLeaf):
            assert session.scalar(select(func.count()).select_from(model)) == 1
    changed = service.post(PATH, "blue-officer", json=SITE, headers=key)
    assert fields(assert_problem(changed, 422)) == {"Idempotency-Key"}
    assert NOW.isoformat().startswith(first.json()["declared_at"][:10])
