"""Operations through the API: the demo's story (coordinated approved and executed, a veto,
a synchronized operation over red's hidden forces flagged, objected and held, an imminent
threat reported late), blocking conflicts and overrides, disclosure of conflicts, roles,
idempotency and bad input."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.db.models_operations import OPERATION_STATUSES, OperationRow
from accord.center.event_store import events_for
from accord.center.migrations.versions import v0003_operations
from accord.center.operations.desk import Desk, desk
from accord.center.operations.world_cache import WorldCache
from accord.center.writer_process import Loopback
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from accord.record.verify import verify_log
from support.clock import Clock
from support.declared import declare
from support.failures import assert_problem
from support.jig import NOW
from support.operations import BY_ID, WE, WS, iso, operation, operation_rows
from support.record import served_head
from support.service import Service, TestClient, add_users, center_of, ring_of, settings_for

OPS = "/v1/operations"
DECLARED = (
    "site-hospital-east",
    "site-school-12",
    "pos-red-bn-3",
    "pos-red-obs-2",
    "pos-blue-coy-1",
)
# Red's hidden battalion: what blue must never learn of it.
RED_SECRETS = ("pos-red-bn-3", "21.262", "25.034", "3300.0")  # the threshold as JSON writes it


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> Iterator[Service]:
    settings = settings_for(tmp_path)
    tokens = add_users(settings.database_url)
    app = create_app(Parts(settings, clock=clock, writer=Loopback))
    with TestClient(app, raise_server_exceptions=False) as client:
        svc = Service(client, tokens, settings)
        with center_of(svc).writing() as unit:
            for object_id in DECLARED:
                declare(unit.session, BY_ID[object_id], at=NOW)
        confirmed = svc.post(
            "/v1/phases/confirm", "hnc-notifier", json={"condition": "aid-delivered-east-city"}
        )
        assert confirmed.status_code == 201, confirmed.text
        yield svc


def entries(service: Service, op_id: str) -> list[dict[str, Any]]:
    """The record entries about an operation: (author, event)."""
    out = []
    with center_of(service).reading() as session:
        log = center_of(service).log(session)
        for i in range(log.size):
            _, _, raw = open_envelope(log.entry(i))
            entry = loads_canonical(raw)
            if entry["event"].get("operation") == op_id:
                out.append(entry)
    return out


def record_text(service: Service) -> str:
    with center_of(service).reading() as session:
        log = center_of(service).log(session)
        return "\n".join(log.entry(i).decode("utf-8", "replace") for i in range(log.size))


def post(service: Service, path: str, user: str, body: Any = None, **kw: Any) -> Any:
    return service.post(path, user, json=body, **kw)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


# --- the story ------------------------------------------------------------------------------


def test_a_coordinated_operation_approved_by_both_and_executed_by_one(
    service: Service, clock: Clock
) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    assert op["id"].startswith("op-") and len(op["id"]) == 19
    assert op["status"] == "proposed" and op["approvals"] == ["blue"]
    assert op["waiting_for"] == ["red"] and op["objection_until"] is None
    assert op["proposed_by"] == "blue" and op["feature"]["properties"]["declared_by"] == "blue"
    assert op["blocking_conflicts"] == 0 and op["conflicts"] == []
    path = f"{OPS}/{op['id']}"
    approved = ok(post(service, f"{path}/approve", "red-approver", {}))
    assert approved["status"] == "approved" and approved["approvals"] == ["blue", "red"]
    clock.at = WS + timedelta(minutes=30)
    body = assert_problem(post(service, f"{path}/execute", "red-officer"), 403)
    assert "only 'blue' may execute" in body["detail"]
    assert ok(post(service, f"{path}/execute", "blue-officer"))["status"] == "executed"
    done = ok(post(service, f"{path}/complete", "blue-officer"))
    assert done["status"] == "completed"
    assert [h["action"] for h in done["history"]] == ["propose", "approve", "execute", "complete"]
    kinds = [(e["author"], e["event"]["kind"]) for e in entries(service, op["id"])]
    assert kinds == [
        ("blue", "operation.proposed"),
        ("red", "operation.approved"),
        ("blue", "operation.executed"),
        ("blue", "operation.completed"),
    ]
    # Every party and the monitors were told of each step; the notifier of none.
    with center_of(service).reading() as session:
        for member in ("blue", "red", "observers"):
            seen = [
                e.kind
                for e in events_for(session, member, after=0)
                if e.kind.startswith("operation.")
            ]
            assert seen == [k for _, k in kinds]
        assert [
            e for e in events_for(session, "hnc", after=0) if e.kind.startswith("operation.")
        ] == []


def test_a_veto_ends_an_operation_next_to_a_hospital(service: Service, clock: Clock) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-c2")), 201)
    first = op["conflicts"][0]
    assert (first["kind"], first["with"], first["blocking"]) == (
        "protected_site",
        "site-hospital-east",
        True,
    )
    path = f"{OPS}/{op['id']}"
    vetoed = ok(
        post(
            service,
            f"{path}/veto",
            "red-approver",
            {"reason": "the hospital is inside the standoff"},
        )
    )
    assert vetoed["status"] == "vetoed" and vetoed["vetoed_by"] == "red"
    clock.at = WS + timedelta(minutes=10)
    assert (
        "vetoed" in assert_problem(post(service, f"{path}/execute", "blue-officer"), 409)["detail"]
    )
    (veto,) = [e for e in entries(service, op["id"]) if e["event"]["kind"] == "operation.vetoed"]
    assert (
        veto["author"] == "red" and veto["event"]["reason"] == "the hospital is inside the standoff"
    )


def test_a_blocking_conflict_stops_approval_until_an_approver_overrides(
    service: Service, clock: Clock
) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-c2")), 201)
    assert op["blocking_conflicts"] >= 1
    path = f"{OPS}/{op['id']}"
    body = assert_problem(post(service, f"{path}/approve", "red-approver", {}), 409)
    assert "override reason" in body["detail"]
    reason = "strike confirmed on the north quarter only; hospital notified to shelter"
    approved = ok(post(service, f"{path}/approve", "red-approver", {"override_reason": reason}))
    assert approved["status"] == "approved"
    assert approved["overrides"] == [{"party": "red", "at": iso(NOW), "reason": reason}]
    clock.at = WS + timedelta(minutes=5)
    assert ok(post(service, f"{path}/execute", "blue-officer"))["status"] == "executed"
    (entry,) = [e for e in entries(service, op["id"]) if e["event"]["kind"] == "operation.approved"]
    assert entry["author"] == "red" and entry["event"]["override_reason"] == reason


def test_a_synchronized_operation_over_reds_hidden_forces_is_flagged_objected_and_held(
    service: Service, clock: Clock
) -> None:
    response = post(service, OPS, "blue-officer", operation("op-s1"))
    op = ok(response, 201)
    assert op["status"] == "notified"
    assert op["objection_until"] == iso(NOW + timedelta(hours=2))
    (conflict,) = [c for c in op["conflicts"] if c["party"] == "red"]
    assert conflict == {
        "kind": "position",
        "with": None,
        "party": "red",
        "distance_m": None,
        "blocking": True,
        "disclosure": None,
        "threshold_m": None,
        "stale": False,
        "margin": False,
    }
    path = f"{OPS}/{op['id']}"
    # Red's own officer learns which of its positions it is; blue and the monitor never do.
    red_view = ok(service.get(path, "red-officer"))
    assert [c["with"] for c in red_view["conflicts"] if c["party"] == "red"] == ["pos-red-bn-3"]
    assert red_view["conflicts"][0]["threshold_m"] == 3300.0
    for user in ("blue-officer", "blue-approver", "observer"):
        for text in (service.get(path, user).text, service.get(OPS, user).text):
            assert not [s for s in RED_SECRETS if s in text], user
    assert not [s for s in RED_SECRETS if s in response.text]
    held = ok(
        post(
            service, f"{path}/object", "red-officer", {"evidence": "our battalion holds ridge R-2"}
        )
    )
    assert held["status"] == "on_hold"
    assert held["objections"][0]["evidence"] == "our battalion holds ridge R-2"
    clock.at = NOW + timedelta(hours=3)  # the objection window closed; the hold stands
    assert ok(service.get(path, "blue-officer"))["status"] == "on_hold"
    clock.at = WS + timedelta(minutes=10)
    assert (
        "on hold" in assert_problem(post(service, f"{path}/execute", "blue-officer"), 409)["detail"]
    )
    # Neither the record (read by all) nor blue's or the monitors' events name red's object.
    assert not [s for s in RED_SECRETS[:3] if s in record_text(service)]
    with center_of(service).reading() as session:
        for member in ("blue", "observers"):
            text = json.dumps([e.payload for e in events_for(session, member, after=0)])
            assert not [s for s in RED_SECRETS if s in text], member
        red_text = json.dumps([e.payload for e in events_for(session, "red", after=0)])
        assert "pos-red-bn-3" in red_text


def test_an_imminent_threat_reported_late_is_a_breach(service: Service) -> None:
    body = operation("op-i1", executed_at=iso(NOW - timedelta(hours=2)))
    body["properties"]["window_start"] = iso(NOW - timedelta(hours=3))
    body["properties"]["window_end"] = iso(NOW - timedelta(hours=1))
    op = ok(post(service, f"{OPS}/report", "red-officer", body), 201)
    assert op["status"] == "notified_late" and op["proposed_by"] == "red"
    assert op["notify_by"] == iso(NOW - timedelta(hours=1))
    (breach,) = op["breaches"]
    assert breach["kind"] == "late_notification" and breach["party"] == "red"
    (entry,) = entries(service, op["id"])
    assert entry["author"] == "red" and entry["event"]["kind"] == "operation.reported"
    assert entry["event"]["breaches"][0]["kind"] == "late_notification"
    # An imminent-threat category is reported, never proposed.
    assert_problem(post(service, OPS, "red-officer", operation("op-i1")), 409)


# --- amendments ------------------------------------------------------------------------------


def test_the_proposer_amends_the_area_and_the_engine_runs_again(service: Service) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-s1")), 201)
    path = f"{OPS}/{op['id']}"
    moved = operation("op-s1")
    moved["geometry"] = {"type": "Point", "coordinates": [21.0, 24.3]}
    moved["properties"]["radius_m"] = 300
    assert_problem(service.client.put(path, json=moved, headers=service.auth("red-officer")), 403)
    amended = ok(service.client.put(path, json=moved, headers=service.auth("blue-officer")))
    assert amended["conflicts"] == [] and amended["blocking_conflicts"] == 0
    assert amended["version"] == 2 and amended["feature"]["geometry"]["coordinates"] == [21.0, 24.3]
    assert [e["event"]["kind"] for e in entries(service, op["id"])] == [
        "operation.proposed",
        "operation.amended",
    ]
    later = copy.deepcopy(moved)
    later["properties"]["window_start"] = iso(WS + timedelta(hours=1))
    body = assert_problem(
        service.client.put(path, json=later, headers=service.auth("blue-officer")), 422
    )
    assert [e["field"] for e in body["errors"]] == ["properties.window_start"]
    assert_problem(
        service.client.put(f"{OPS}/op-nosuch", json=moved, headers=service.auth("blue-officer")),
        404,
    )


# --- who sees what --------------------------------------------------------------------------


def test_notifiers_and_admins_see_nothing_of_operations(service: Service) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    for user in ("hnc-notifier", "admin"):
        assert_problem(service.get(OPS, user), 403)
        assert_problem(service.get(f"{OPS}/{op['id']}", user), 403)
        assert_problem(post(service, OPS, user, operation("op-c1")), 403)
    assert_problem(post(service, OPS, "blue-approver", operation("op-c1")), 403)
    assert_problem(post(service, f"{OPS}/{op['id']}/approve", "red-officer", {}), 403)
    assert_problem(service.get(f"{OPS}/op-0000000000000000", "observer"), 404)


def test_the_list_filters_by_settled_status_and_category_and_pages(
    service: Service, clock: Clock
) -> None:
    ids = []
    for minute in range(3):  # newest first: by the instant of the proposal
        clock.at = NOW + timedelta(minutes=minute)
        ids.append(ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)["id"])
    clock.at = NOW - timedelta(minutes=1) + timedelta(hours=1)
    sync = ok(
        post(
            service,
            OPS,
            "blue-officer",
            operation("op-s1", window_start=iso(WS + timedelta(hours=1))),
        ),
        201,
    )["id"]
    page = ok(service.get(OPS, "observer", params={"limit": 2}))
    assert [o["id"] for o in page["items"]] == [sync, ids[2]] and page["next_offset"] == 2
    rest = ok(service.get(OPS, "observer", params={"limit": 2, "offset": 2}))
    assert [o["id"] for o in rest["items"]] == [ids[1], ids[0]] and rest["next_offset"] is None
    coordinated = ok(service.get(OPS, "red-officer", params={"category": "coordinated"}))
    assert {o["id"] for o in coordinated["items"]} == set(ids)
    clock.at = WE + timedelta(minutes=1)  # every window closed: all four expired
    expired = ok(service.get(OPS, "red-approver", params={"status": "expired"}))
    assert len(expired["items"]) == 4
    assert ok(service.get(OPS, "red-approver", params={"status": "proposed"}))["items"] == []
    bad = assert_problem(service.get(OPS, "observer", params={"status": "nonsense"}), 422)
    assert bad["errors"][0]["field"] == "status"


# --- idempotency and bad input --------------------------------------------------------------


def test_a_retried_proposal_is_answered_once(service: Service) -> None:
    key = {"Idempotency-Key": "propose-c1"}
    first = post(service, OPS, "blue-officer", operation("op-c1"), headers=key)
    again = post(service, OPS, "blue-officer", operation("op-c1"), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert operation_rows(service) == 1 and len(entries(service, first.json()["id"])) == 1
    path = f"{OPS}/{first.json()['id']}/approve"
    approve_key = {"Idempotency-Key": "approve-1"}
    a = post(service, path, "red-approver", {}, headers=approve_key)
    b = post(service, path, "red-approver", {}, headers=approve_key)
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    assert len(entries(service, first.json()["id"])) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"disclosure": "center"}, "properties.disclosure"),
        ({"id": "op-mine"}, "properties.id"),
        ({"proposed_by": "red"}, "properties.proposed_by"),
        ({"window_end": None}, "properties.window_end"),
        ({"window_end": "2026-09-22T00:00:00"}, "properties.window_end"),
        ({"radius_m": None}, "properties.radius_m"),
        ({"category": "raid"}, "properties.category"),
        ({"executor": "green"}, "properties.executor"),
        ({"radius_m": 1e7}, "properties.radius_m"),
        ({"radius_m": -5}, "properties.radius_m"),
        ({"uncertainty_m": 1e9}, "properties.uncertainty_m"),
    ],
)
def test_bad_input_names_the_field(service: Service, change: dict[str, Any], field: str) -> None:
    body = operation("op-c1")
    for name, value in change.items():
        if value is None:
            body["properties"].pop(name)
        else:
            body["properties"][name] = value
    problem = assert_problem(post(service, OPS, "blue-officer", body), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert operation_rows(service) == 0


def test_the_stored_geometry_is_the_geometry_as_read(service: Service) -> None:
    body = operation("op-c1")
    body["geometry"]["coordinates"] = [21, 25.12, 10**20]  # a stray third value
    op = ok(post(service, OPS, "blue-officer", body), 201)
    assert op["feature"]["geometry"] == {"type": "Point", "coordinates": [21.0, 25.12]}
    (entry,) = entries(service, op["id"])
    assert entry["event"]["feature"]["geometry"]["coordinates"] == [21.0, 25.12]


def test_an_area_too_large_to_check_is_refused(service: Service) -> None:
    body = operation("op-s1")
    body["geometry"]["coordinates"] = [[[-89, -89], [89, -89], [89, 89], [-89, 89], [-89, -89]]]
    problem = assert_problem(post(service, OPS, "blue-officer", body), 422)
    assert problem["errors"][0]["field"] == "geometry.coordinates"
    assert "250 km" in problem["errors"][0]["message"]


def test_a_bad_geometry_names_the_field(service: Service) -> None:
    body = operation("op-c1")
    body["geometry"]["coordinates"] = [200.0, 24.0]
    problem = assert_problem(post(service, OPS, "blue-officer", body), 422)
    assert problem["errors"][0]["field"] == "geometry.coordinates"


def test_the_migration_knows_every_status() -> None:
    assert v0003_operations._STATUSES == OPERATION_STATUSES


def test_an_objection_withdrawn_once_the_area_moved_lets_the_operation_clear(
    service: Service, clock: Clock
) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-s1")), 201)
    path = f"{OPS}/{op['id']}"
    assert (
        ok(post(service, f"{path}/object", "red-officer", {"evidence": "our troops"}))["status"]
        == "on_hold"
    )
    moved = operation("op-s1")
    moved["geometry"] = {"type": "Point", "coordinates": [21.0, 24.3]}
    moved["properties"]["radius_m"] = 300
    clock.at = NOW + timedelta(minutes=20)
    amended = ok(service.client.put(path, json=moved, headers=service.auth("blue-officer")))
    assert amended["status"] == "on_hold" and amended["blocking_conflicts"] == 0
    clock.at = NOW + timedelta(minutes=40)
    withdrawn = ok(post(service, f"{path}/withdraw-objection", "red-officer"))
    assert withdrawn["status"] == "notified"
    assert withdrawn["objections"][0]["withdrawn_at"] == iso(clock.at)
    clock.at = WS + timedelta(minutes=1)
    assert ok(service.get(path, "red-approver"))["status"] == "cleared"
    executed = ok(post(service, f"{path}/execute", "blue-officer"))
    assert executed["status"] == "executed"
    assert [h["action"] for h in executed["history"]] == [
        "propose",
        "object",
        "update_conflicts",
        "withdraw_objection",
        "clear",
        "execute",
    ]
    # The clock's step was recorded when first observed, in the entry of the execution.
    (entry,) = [e for e in entries(service, op["id"]) if e["event"]["kind"] == "operation.executed"]
    assert [t["actor"] for t in entry["event"]["transitions"]] == ["clock", "blue"]


def test_a_synchronized_operation_with_blocking_conflicts_is_never_executed(
    service: Service, clock: Clock
) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-s1")), 201)
    clock.at = WS + timedelta(minutes=1)
    body = assert_problem(post(service, f"{OPS}/{op['id']}/execute", "blue-officer"), 409)
    assert "blocking conflict" in body["detail"]


def test_only_the_proposer_cancels(service: Service) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    path = f"{OPS}/{op['id']}/cancel"
    assert_problem(post(service, path, "red-officer", {"reason": "not yours"}), 403)
    assert_problem(post(service, path, "blue-approver", {"reason": ""}), 422)
    done = ok(post(service, path, "blue-approver", {"reason": "target moved"}))
    assert done["status"] == "cancelled" and done["cancel_reason"] == "target moved"
    (entry,) = [
        e for e in entries(service, op["id"]) if e["event"]["kind"] == "operation.cancelled"
    ]
    assert entry["author"] == "blue" and entry["event"]["reason"] == "target moved"
    # A cancelled operation leaves the world: the next proposal does not meet it.
    again = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    assert op["id"] not in {c["with"] for c in again["conflicts"]}


def test_operations_are_objects_of_the_world(service: Service) -> None:
    first = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    second = ok(post(service, OPS, "red-officer", operation("op-c1", executor="red")), 201)
    (conflict,) = second["conflicts"]
    assert (conflict["kind"], conflict["with"], conflict["party"]) == (
        "operation",
        first["id"],
        "blue",
    )
    assert conflict["blocking"] is False  # the agreement does not list operations as blocking


def test_executors_may_be_spelled_as_a_list(service: Service) -> None:
    body = operation("op-c1")
    body["properties"].pop("executor")
    body["properties"]["executors"] = ["blue"]
    assert ok(post(service, OPS, "blue-officer", body), 201)["executors"] == ["blue"]
    body["properties"]["executor"] = "blue"
    problem = assert_problem(post(service, OPS, "blue-officer", body), 422)
    assert problem["errors"][0]["field"] == "properties.executors"


def test_a_stored_world_that_does_not_read_refuses_checks(service: Service) -> None:
    bad = copy.deepcopy(BY_ID["pos-blue-coy-1"])
    bad["properties"]["id"] = "pos-damaged"
    bad["properties"]["valid_to"] = "not a time"
    with center_of(service).writing() as unit:
        declare(unit.session, bad, at=NOW)
    problem = assert_problem(post(service, OPS, "blue-officer", operation("op-c1")), 503)
    assert "pos-damaged" not in json.dumps(problem)
    assert operation_rows(service) == 0
    # A server started over such a database still starts, and still refuses to check.
    app = create_app(Parts(service.settings, clock=Clock(NOW), writer=Loopback))
    with TestClient(app, raise_server_exceptions=False) as client:
        again = Service(client, service.tokens, service.settings)
        assert_problem(post(again, OPS, "blue-officer", operation("op-c1")), 503)
        assert ok(again.get(OPS, "observer"))["items"] == []


def verified(service: Service, tmp_path: Path) -> int:
    """Export the served log and run the project's verifier over it; the entry count."""
    head = service.get("/v1/record/head", "observer").json()
    head = served_head(head)
    served = service.get("/v1/record/entries", "observer").json()["entries"]
    export = tmp_path / "export.jsonl"
    lines = [json.dumps({"i": e["index"], "data": e["data"]}) for e in served]
    lines.append(json.dumps({"head": head}))
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return verify_log(export, keys=ring_of(service), workers=1).entries


def test_the_center_checks_again_before_execution(
    service: Service, clock: Clock, tmp_path: Path
) -> None:
    op = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    path = f"{OPS}/{op['id']}"
    assert ok(post(service, f"{path}/approve", "red-approver", {}))["status"] == "approved"
    # Red then declares hidden forces right where blue will strike.
    hidden = copy.deepcopy(BY_ID["pos-red-obs-2"])
    hidden["properties"]["id"] = "pos-red-new"
    hidden["geometry"]["coordinates"] = [21.4211, 25.1209]
    with center_of(service).writing() as unit:
        declare(unit.session, hidden, at=NOW)
    clock.at = WS - timedelta(hours=1)  # too early to execute: still, the center looks
    assert_problem(post(service, f"{path}/execute", "blue-officer"), 409)
    seen = ok(service.get(path, "blue-officer"))
    assert seen["status"] == "proposed" and seen["approvals"] == ["blue"]
    assert seen["blocking_conflicts"] == 1
    assert [(c["kind"], c["with"], c["party"]) for c in seen["conflicts"]] == [
        ("position", None, "red")
    ]
    assert "pos-red-new" not in json.dumps(seen) and "21.4211" not in json.dumps(seen)
    (update,) = [
        e for e in entries(service, op["id"]) if e["event"]["kind"] == "operation.conflicts_updated"
    ]
    assert update["author"] == center_of(service).origin
    assert update["event"]["transitions"][0]["actor"] == "center"
    assert "pos-red-new" not in record_text(service)
    # Red's approval was given for a world without those troops: it must be given again,
    # and now only with an override reason.
    body = assert_problem(post(service, f"{path}/approve", "red-approver", {}), 409)
    assert "override" in body["detail"]
    # A second attempt finds nothing new: no second center entry.
    kinds = [e["event"]["kind"] for e in entries(service, op["id"])]
    assert kinds.count("operation.conflicts_updated") == 1
    clock.at = WS + timedelta(minutes=5)
    refused = assert_problem(post(service, f"{path}/execute", "blue-officer"), 409)
    assert "waiting for approval by 'red'" in refused["detail"]
    # The center's own entry verifies with the rest, under the center's published key.
    assert verified(service, tmp_path) == 1 + 3


@pytest.mark.parametrize(("owner", "proposer"), [("red", "blue"), ("blue", "red")])
def test_no_response_names_the_other_partys_hidden_object(
    service: Service, clock: Clock, owner: str, proposer: str
) -> None:
    hidden = copy.deepcopy(BY_ID["pos-red-obs-2"])
    hidden["properties"].update(
        id=f"pos-{owner}-hidden", declared_by=owner, party=owner, uncertainty_m=123
    )
    hidden["geometry"]["coordinates"] = [21.0123, 24.4567]
    # The threshold as JSON writes it: a bare "3123" also turns up in base64 signatures.
    secrets = (f"pos-{owner}-hidden", "21.0123", "24.4567", "3123.0")
    with center_of(service).writing() as unit:
        declare(unit.session, hidden, at=NOW)
    body = operation("op-c1", executor=proposer)
    body["geometry"]["coordinates"] = [21.02, 24.46]
    proposed = post(service, OPS, f"{proposer}-officer", body)
    op = ok(proposed, 201)
    path = f"{OPS}/{op['id']}"
    approved = post(service, f"{path}/approve", f"{owner}-approver", {"override_reason": "seen"})
    assert f"pos-{owner}-hidden" in approved.text  # the owner's own answer names it
    texts = [proposed.text]
    for user in (f"{proposer}-officer", f"{proposer}-approver", "observer"):
        texts += [service.get(path, user).text, service.get(OPS, user).text]
    with center_of(service).reading() as session:
        for member in (proposer, "observers"):
            texts.append(json.dumps([e.payload for e in events_for(session, member, after=0)]))
    texts.append(record_text(service))
    leaks = [(s, t[:80]) for t in texts for s in secrets if s in t]
    assert leaks == []
    (conflict,) = ok(service.get(path, f"{proposer}-officer"))["conflicts"]
    assert (conflict["kind"], conflict["party"], conflict["blocking"]) == ("position", owner, True)
    own = ok(service.get(path, f"{owner}-officer"))["conflicts"][0]
    assert own["with"] == f"pos-{owner}-hidden" and own["threshold_m"] == 3123.0


ROLES: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/operations"): {"officer"},
    ("POST", "/v1/operations/report"): {"officer"},
    ("PUT", "/v1/operations/{op_id}"): {"officer"},
    ("POST", "/v1/operations/{op_id}/approve"): {"approver"},
    ("POST", "/v1/operations/{op_id}/veto"): {"approver"},
    ("POST", "/v1/operations/{op_id}/object"): {"officer"},
    ("POST", "/v1/operations/{op_id}/withdraw-objection"): {"officer"},
    ("POST", "/v1/operations/{op_id}/execute"): {"officer"},
    ("POST", "/v1/operations/{op_id}/complete"): {"officer"},
    ("POST", "/v1/operations/{op_id}/cancel"): {"officer", "approver"},
    ("GET", "/v1/operations"): {"officer", "approver", "monitor"},
    ("GET", "/v1/operations/{op_id}"): {"officer", "approver", "monitor"},
    ("GET", "/v1/operations/{op_id}/check"): {"officer", "approver"},
}


def test_every_operations_route_lets_in_only_its_roles(service: Service) -> None:
    schema = service.client.app.openapi()  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith(OPS)
        for method in item
    }
    assert routes == set(ROLES)  # a new route must say who may call it
    op = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)
    for (method, template), allowed in ROLES.items():
        path = template.replace("{op_id}", op["id"])
        for user in ("blue-officer", "red-approver", "hnc-notifier", "observer", "admin"):
            role = {"blue-officer": "officer", "red-approver": "approver"}.get(
                user, {"hnc-notifier": "notifier", "observer": "monitor"}.get(user, "admin")
            )
            response = service.client.request(method, path, headers=service.auth(user), json={})
            if role in allowed:
                assert response.status_code != 403 or "role" not in response.text, (path, user)
            else:
                body = assert_problem(response, 403)
                assert f"the role {role} may not do this" == body["detail"], (path, user)
                assert op["id"] not in response.text


def test_a_recheck_reads_once_only_while_nothing_it_depends_on_changed(
    service: Service, clock: Clock
) -> None:
    """An approval re-checks the operation (:func:`accord.center.operations.service.recheck`); it
    may skip the engine only while no declaration changed since the operation's blocking
    conflicts were last found to stand, as stored with them: any server process, and one
    started afresh, knows as much."""
    center = center_of(service)
    op = ok(post(service, OPS, "blue-officer", operation("op-c1")), 201)

    def unchanged(desk_: Desk) -> bool:
        with center.reading() as session:
            return desk_.unchanged(session.connection(), op["id"])

    def stored_seen() -> int | None:
        with center.reading() as session:
            row = session.get(OperationRow, op["id"])
            assert row is not None
            return row.conflicts_seen

    desk_ = desk(center)
    assert unchanged(desk_)
    assert unchanged(Desk(center.agreement, WorldCache(center.agreement)))  # a new process
    hidden = copy.deepcopy(BY_ID["pos-red-obs-2"])
    hidden["properties"]["id"] = "pos-red-elsewhere"
    seen = stored_seen()
    with center.writing() as unit:
        declare(unit.session, hidden, at=NOW)
    assert not unchanged(desk_)  # a declaration since: the engine runs again
    assert ok(post(service, f"{OPS}/{op['id']}/approve", "red-approver", {}))["status"]
    assert unchanged(desk_)  # the full re-check found the same blocking conflicts, and stored so
    assert seen is not None and stored_seen() == seen + 1
    kinds = [e["event"]["kind"] for e in entries(service, op["id"])]
    assert "operation.conflicts_updated" not in kinds  # nothing to record: nothing changed
    with center.writing() as unit:  # stored before the counter was kept: unknown
        unit.session.execute(
            update(OperationRow).where(OperationRow.id == op["id"]).values(conflicts_seen=None)
        )
    assert not unchanged(desk_)
