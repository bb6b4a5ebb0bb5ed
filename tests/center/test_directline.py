"""The direct line: exact geometry, acknowledgements naming the hash, what outsiders see,
escalation along the contact chain with presence, overdue, idempotency, openings."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.agreement import load_agreement
from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.db import EscalationStep, Message, RecordLeaf, make_engine, writer
from accord.center.directline.escalation import escalate_due
from accord.center.directline.messages import check_geometry
from accord.center.event_store import events_for
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.center.writer_process import Loopback
from accord.errors import InputError
from accord.record.canonical import canonical_json, decode_base64, loads_canonical
from accord.record.commitments import CommitmentError, verify_opening
from accord.record.entries import open_envelope
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from accord.rules.escalation import Contact, Pending, next_step, step_length
from support.clock import Clock
from support.failures import assert_problem
from support.jig import AGREEMENT_TEXT, NOW
from support.record import served_head
from support.service import Service, TestClient, add_users, settings_for

MESSAGES = "/v1/messages"
# Exact coordinates, to the ninth decimal (a millimetre): what a voice call got wrong.
POINT = {"type": "Point", "coordinates": [36.291234567, 33.512345678]}
EXTRA_USERS = {
    "red-primary": ("red", Role.OFFICER),
    "red-backup": ("red", Role.OFFICER),
    "red-duty": ("red", Role.APPROVER),
    "grey-officer": ("grey", Role.OFFICER),
}
# A third party, so that "neither sender nor recipient" is a party too.
THREE_PARTIES = AGREEMENT_TEXT.replace(
    "  - {id: red, name: Red Republic}\n",
    "  - {id: red, name: Red Republic}\n  - {id: grey, name: Grey Coalition}\n",
)
assert THREE_PARTIES != AGREEMENT_TEXT


class Line(Service):
    clock: Clock

    def send(self, user: str = "blue-officer", **fields: Any) -> dict[str, Any]:
        body = {"to": ["red"], "subject": "Coordinates", "text": "Grid as agreed.", **fields}
        response = self.post(MESSAGES, user, json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def entries(self) -> list[dict[str, Any]]:
        with self.center.reading() as session:
            log = self.center.log(session)
            return [loads_canonical(open_envelope(data)[2]) for _, data in log.entries()]


def start(tmp_path: Path, **settings: Any) -> Iterator[Line]:
    path = tmp_path / "agreement.yaml"
    path.write_text(THREE_PARTIES, encoding="utf-8")
    values: dict[str, Any] = {"agreement_path": path, "escalation_interval_s": 0, **settings}
    config = settings_for(tmp_path, **values)
    tokens = add_users(config.database_url)
    engine = make_engine(config.database_url)
    agreement = load_agreement(path)
    with Session(writer(engine)) as session, session.begin():
        for name, (member, role) in EXTRA_USERS.items():
            tokens[name] = add_user(session, agreement, name=name, member=member, role=role, at=NOW)
    engine.dispose()
    clock = Clock(NOW)
    with TestClient(
        create_app(Parts(config, clock=clock, writer=Loopback)), raise_server_exceptions=False
    ) as client:
        line = Line(client, tokens, config)
        line.clock = clock
        yield line


@pytest.fixture
def line(tmp_path: Path) -> Iterator[Line]:
    yield from start(tmp_path)


def recipient(message: dict[str, Any], party: str = "red") -> dict[str, Any]:
    (found,) = [r for r in message["recipients"] if r["party"] == party]
    return found  # type: ignore[no-any-return]


# --- sending and acknowledging --------------------------------------------------------------


def test_exact_geometry_is_sent_and_acknowledged_by_its_hash(line: Line) -> None:
    sent = line.send(geometry=POINT, ack_within="PT10M", refers_to="op-17")
    content = sent["content"]
    assert sent["id"].startswith("m-") and len(sent["id"]) == 18
    assert content["geometry"] == POINT  # every digit kept
    assert content["from"] == "blue" and content["to"] == ["red"]
    assert content["refers_to"] == "op-17"
    assert content["sent_at"] == "2026-09-21T16:00:00Z"
    assert content["ack_deadline"] == "2026-09-21T16:10:00Z"
    assert sent["content_hash"] == hashlib.sha256(canonical_json(content)).hexdigest()
    assert sent["sent_by"] == "blue-officer" and sent["open"] is True

    # The recipient gets exactly the same content and hash.
    received = line.get(f"{MESSAGES}/{sent['id']}", "red-officer").json()
    assert received["content"] == content and received["content_hash"] == sent["content_hash"]
    assert [m["id"] for m in line.get(f"{MESSAGES}?box=in", "red-officer").json()] == [sent["id"]]
    assert line.get(f"{MESSAGES}?box=out", "red-officer").json() == []

    line.clock.set(minutes=3)
    ack = line.post(
        f"{MESSAGES}/{sent['id']}/acknowledge",
        "red-officer",
        json={"content_hash": sent["content_hash"].upper()},  # hex in either case
    )
    assert ack.status_code == 201, ack.text
    body = ack.json()
    assert body["content_hash"] == sent["content_hash"] and body["party"] == "red"
    state = recipient(line.get(f"{MESSAGES}/{sent['id']}", "blue-officer").json())
    assert state["acknowledged"] is True
    assert state["acknowledged_by"] == "red-officer"
    assert state["acknowledged_hash"] == sent["content_hash"]
    assert state["acknowledged_at"] == "2026-09-21T16:03:00Z"
    assert state["late"] is False and state["overdue"] is False and state["deadline"] is None
    assert line.get(f"{MESSAGES}?open=true", "blue-officer").json() == []

    # The record: the sender's signed commitment, the recipient's signed hash; no content.
    sent_entry, checked_entry, ack_entry = line.entries()
    assert sent_entry["author"] == "blue"
    assert sent_entry["event"]["kind"] == "message.sent"
    assert set(sent_entry["event"]) == {
        "kind",
        "id",
        "from",
        "to",
        "sent_at",
        "ack_deadline",
        "commitment",
    }
    # The center's check: one commitment per party, whatever it found (DECISIONS 2).
    assert checked_entry["event"]["kind"] == "message.checked"
    assert set(checked_entry["event"]["checks"]) == {"blue", "red"}
    assert ack_entry["author"] == "red"
    assert ack_entry["event"] == {
        "kind": "message.acknowledged",
        "id": sent["id"],
        "content_hash": sent["content_hash"],
    }
    # Twice is refused, and records nothing.
    again = line.post(
        f"{MESSAGES}/{sent['id']}/acknowledge",
        "red-approver",
        json={"content_hash": sent["content_hash"]},
    )
    assert "already acknowledged" in assert_problem(again, 409)["detail"]
    assert len(line.entries()) == 3


def test_the_record_never_holds_the_text_or_the_coordinates(line: Line) -> None:
    line.send(geometry=POINT, text="Strike cell at the mill")
    with line.center.reading() as session:
        raw = b"".join(data for _, data in line.center.log(session).entries())
    assert b"36.291234567" not in raw and b"33.512345678" not in raw
    assert b"mill" not in raw and b"Coordinates" not in raw


def test_a_wrong_hash_is_refused_naming_the_field(line: Line) -> None:
    sent = line.send(geometry=POINT)
    path = f"{MESSAGES}/{sent['id']}/acknowledge"
    # The hash of slightly different coordinates: what the other side thinks it received.
    other = dict(sent["content"], geometry={"type": "Point", "coordinates": [36.29, 33.51]})
    wrong = hashlib.sha256(canonical_json(other)).hexdigest()
    body = assert_problem(line.post(path, "red-officer", json={"content_hash": wrong}), 409)
    assert body["errors"][0]["field"] == "content_hash"
    assert "exactly what you received" in body["detail"]
    body = assert_problem(line.post(path, "red-officer", json={"content_hash": "abc"}), 422)
    assert body["errors"][0]["field"] == "content_hash"
    assert len(line.entries()) == 2  # the message and its check
    assert (
        recipient(line.get(f"{MESSAGES}/{sent['id']}", "red-officer").json())["acknowledged"]
        is False
    )
    # The sender does not acknowledge its own message.
    right = {"content_hash": sent["content_hash"]}
    assert_problem(line.post(path, "blue-officer", json=right), 403)


# --- who sees what --------------------------------------------------------------------------


def test_outsiders_never_see_the_content(line: Line) -> None:
    sent = line.send(geometry=POINT)
    path = f"{MESSAGES}/{sent['id']}"
    missing = f"{MESSAGES}/m-{'0' * 16}"

    # Another party: the very same 404 as an id that does not exist, everywhere.
    for suffix, method in (("", "get"), ("/opening", "get"), ("/acknowledge", "post")):
        kwargs: dict[str, Any] = {"json": {"content_hash": sent["content_hash"]}}
        if method == "get":
            kwargs = {}
        theirs = getattr(line, method)(path + suffix, "grey-officer", **kwargs)
        none = getattr(line, method)(missing + suffix, "grey-officer", **kwargs)
        assert_problem(theirs, 404)
        assert theirs.json() == none.json()
    assert line.get(MESSAGES, "grey-officer").json() == []

    # A monitor sees that the message exists and its acknowledgement state, never content.
    seen = line.get(path, "observer").json()
    assert seen["content"] is None and seen["content_hash"] is None and seen["sent_by"] is None
    assert seen["from"] == "blue" and seen["to"] == ["red"]
    assert seen["ack_deadline"] == sent["ack_deadline"]
    assert [m["id"] for m in line.get(MESSAGES, "observer").json()] == [sent["id"]]
    assert_problem(line.get(path + "/opening", "observer"), 403)
    assert_problem(line.post(MESSAGES, "observer", json={}), 403)

    # A notifier and an administrator: nothing of the direct line.
    for user in ("hnc-notifier", "admin"):
        for url in (MESSAGES, path, path + "/opening", "/v1/contacts"):
            assert_problem(line.get(url, user), 403)
        assert_problem(line.post("/v1/presence", user), 403)

    # Live events: content to the recipient only; a receipt to the sender; metadata to monitors.
    with line.center.reading() as session:
        (to_red,) = events_for(session, "red", after=0)
        (to_blue,) = events_for(session, "blue", after=0)
        (to_monitor,) = events_for(session, "observers", after=0)
        assert events_for(session, "grey", after=0) == []
        assert events_for(session, "hnc", after=0) == []
    assert to_red.payload["content"] == sent["content"]
    assert "content" not in to_blue.payload
    assert to_blue.payload["content_hash"] == sent["content_hash"]
    assert "content" not in to_monitor.payload and "content_hash" not in to_monitor.payload
    assert "36.291234567" not in str(to_monitor.payload)


def test_the_opening_verifies_against_the_entrys_commitment(line: Line) -> None:
    sent = line.send(geometry=POINT)
    entry, _checked = line.entries()
    committed = decode_base64(entry["event"]["commitment"], what="commitment", size=32)
    for user in ("blue-officer", "red-approver"):
        opening = line.get(f"{MESSAGES}/{sent['id']}/opening", user).json()
        assert opening["entry"] == sent["entry"] == 0
        salt = decode_base64(opening["salt"], what="salt", size=32)
        verify_opening(commitment=committed, content=opening["content"], salt=salt)
        assert opening["content"] == sent["content"]
        assert (
            hashlib.sha256(canonical_json(opening["content"])).hexdigest() == sent["content_hash"]
        )
    # Other coordinates do not open it: the entry pins the content.
    forged = dict(opening["content"], geometry={"type": "Point", "coordinates": [36.2, 33.5]})
    with pytest.raises(CommitmentError):
        verify_opening(commitment=committed, content=forged, salt=salt)


# --- escalation -----------------------------------------------------------------------------


def test_escalation_follows_the_chain_skipping_the_absent(line: Line) -> None:
    chain = {"primary": "red-primary", "backup": "red-backup", "duty": ["red-duty"]}
    assert line.put("/v1/contacts", "red-officer", json=chain).status_code == 200
    sent = line.send(ack_within="PT10M")
    path = f"{MESSAGES}/{sent['id']}"

    # The primary sent no heartbeat; the backup and the duty officer are present.
    line.clock.set(minutes=8)
    for user in ("red-backup", "red-duty"):
        assert line.post("/v1/presence", user).status_code == 201
    contacts = line.get("/v1/contacts", "red-approver").json()
    assert [(c["user"], c["present"]) for c in contacts["chain"]] == [
        ("red-primary", False),
        ("red-backup", True),
        ("red-duty", True),
    ]

    line.clock.set(minutes=9, seconds=59)
    assert recipient(line.get(path, "blue-officer").json())["level"] == 0

    # At the deadline: past the absent primary to the backup; a new deadline of half of PT10M.
    line.clock.set(minutes=10)
    theirs = recipient(line.get(path, "blue-officer").json())
    assert theirs["level"] == 1 and theirs["overdue"] is True
    assert theirs["deadline"] == "2026-09-21T16:15:00Z"
    (step,) = theirs["escalations"]
    assert step["role"] == "backup" and step["contact"] is None and step["skipped"] == ["primary"]
    assert step["due"] == "2026-09-21T16:10:00Z" and step["deadline"] == "2026-09-21T16:15:00Z"
    own = recipient(line.get(path, "red-officer").json())
    assert own["escalations"][0]["contact"] == "red-backup"
    assert own["escalations"][0]["skipped_users"] == ["red-primary"]
    assert step["skipped_users"] is None

    # Both sides are told, each what it may see; the center signs the step, naming nobody.
    with line.center.reading() as session:
        red = [e for e in events_for(session, "red", after=0) if e.kind == "message.escalated"]
        blue = [e for e in events_for(session, "blue", after=0) if e.kind == "message.escalated"]
    assert red[0].payload["contact"] == "red-backup" and red[0].payload["level"] == 1
    assert "contact" not in blue[0].payload and blue[0].payload["role"] == "backup"
    entry = line.entries()[-1]
    assert entry["author"] == line.center.origin
    assert entry["event"] == {
        "kind": "message.escalated",
        "id": sent["id"],
        "to": "red",
        "level": 1,
        "role": "backup",
        "due": "2026-09-21T16:10:00Z",
        "deadline": "2026-09-21T16:15:00Z",
        "skipped": ["primary"],
    }

    # The duty officer keeps the heartbeat going; next step at the step's deadline.
    line.clock.set(minutes=12)
    assert line.post("/v1/presence", "red-duty").status_code == 201
    line.clock.set(minutes=15)
    theirs = recipient(line.get(f"{MESSAGES}?box=out", "blue-officer").json()[0])
    assert theirs["level"] == 2 and theirs["escalations"][1]["role"] == "duty"
    assert theirs["deadline"] == "2026-09-21T16:20:00Z"

    # Past the last level: overdue, for good, and said once.
    line.clock.set(minutes=20)
    theirs = recipient(line.get(path, "blue-officer").json())
    assert theirs["deadline"] is None and theirs["overdue"] is True
    assert theirs["overdue_declared_at"] == "2026-09-21T16:20:00Z"
    assert theirs["escalations"][-1]["kind"] == "overdue"
    assert line.entries()[-1]["event"]["kind"] == "message.overdue"
    line.clock.set(hours=2)
    assert escalate_due(line.center, line.clock()) == 0
    assert recipient(line.get(path, "red-officer").json())["level"] == 2
    assert [m["id"] for m in line.get(f"{MESSAGES}?open=true&box=in", "red-officer").json()] == [
        sent["id"]
    ]

    # A late acknowledgement is still taken, and is late.
    ack = line.post(
        f"{MESSAGES}/{sent['id']}/acknowledge",
        "red-duty",
        json={"content_hash": sent["content_hash"]},
    )
    assert ack.status_code == 201
    state = recipient(ack.json()["message"])
    assert state["late"] is True and state["overdue"] is False


def test_without_a_chain_a_missed_deadline_is_overdue_at_once(line: Line) -> None:
    sent = line.send(ack_within="PT2M")
    assert escalate_due(line.center, NOW + timedelta(minutes=1)) == 0
    assert escalate_due(line.center, NOW + timedelta(minutes=2)) == 1
    state = recipient(line.get(f"{MESSAGES}/{sent['id']}", "observer").json())
    assert state["level"] == 0 and state["escalations"][0]["kind"] == "overdue"
    assert state["escalations"][0]["contact"] is None


def test_the_background_task_escalates_without_any_read(tmp_path: Path) -> None:
    for line in start(tmp_path, escalation_interval_s=0.05):
        sent = line.send(ack_within="PT1M")
        line.clock.set(minutes=1)
        deadline = time.monotonic() + 5
        count = 0
        while time.monotonic() < deadline and not count:
            time.sleep(0.05)
            with line.center.reading() as session:
                steps = select(func.count()).where(EscalationStep.subject_kind == "message")
                count = session.scalar(steps) or 0
        assert count == 1
        with line.center.reading() as session:
            assert session.get(Message, sent["id"]) is not None


def test_the_step_deadline_and_the_choice_of_contact() -> None:
    assert step_length(timedelta(minutes=15)) == timedelta(seconds=450)
    assert step_length(timedelta(minutes=1)) == timedelta(minutes=1)  # never under a minute
    assert step_length(timedelta(seconds=61)) == timedelta(minutes=1)
    seen = NOW - timedelta(minutes=4, seconds=59)  # within the five minutes
    stale = NOW - timedelta(minutes=5)  # just out
    chain = [
        Contact("primary", "a", stale),
        Contact("backup", "b", None),
        Contact("duty", "c", seen),
        Contact("duty", "d", seen),
    ]
    pending = Pending(due=NOW, level=0, position=-1, ack_within=timedelta(minutes=10))
    step = next_step(pending, chain, NOW)
    assert step is not None and step.kind == "escalated"
    assert (step.level, step.position, step.contact.user) == (1, 2, "c")  # type: ignore[union-attr]
    assert [c.user for c in step.skipped] == ["a", "b"]
    # A late run escalates from when it runs: the contact gets the full step.
    late = NOW + timedelta(minutes=3)
    chain = [Contact(c.role, c.user, late) for c in chain]
    step = next_step(pending, chain, late)
    assert step is not None and step.contact.user == "a"  # type: ignore[union-attr]
    assert step.due == NOW and step.deadline == late + timedelta(minutes=5)
    last = Pending(due=NOW, level=4, position=3, ack_within=timedelta(minutes=10))
    final = next_step(last, chain, NOW)
    assert final is not None and final.kind == "overdue" and final.level == 4
    assert next_step(last, chain, NOW - timedelta(microseconds=1)) is None


# --- idempotency and bad input --------------------------------------------------------------


def test_a_retried_send_is_one_message_and_one_entry(line: Line) -> None:
    key = {"Idempotency-Key": "send-coordinates-1"}
    body = {"to": ["red"], "subject": "Grid", "text": "As agreed", "geometry": POINT}
    first = line.post(MESSAGES, "blue-officer", json=body, headers=key)
    again = line.post(MESSAGES, "blue-officer", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    with line.center.reading() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(RecordLeaf)) == 2  # + check
    ack_key = {"Idempotency-Key": "ack-1"}
    ack = {"content_hash": first.json()["content_hash"]}
    path = f"{MESSAGES}/{first.json()['id']}/acknowledge"
    assert line.post(path, "red-officer", json=ack, headers=ack_key).status_code == 201
    replay = line.post(path, "red-officer", json=ack, headers=ack_key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert len(line.entries()) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": []}, "to"),
        ({"to": ["blue"]}, "to"),
        ({"to": ["hnc"]}, "to"),
        ({"to": ["nobody"]}, "to"),
        ({"to": ["red", "red"]}, "to"),
        ({"subject": ""}, "subject"),
        ({"text": "x" * 10_001}, "text"),
        ({"ack_within": "ten minutes"}, "ack_within"),
        ({"ack_within": "PT30S"}, "ack_within"),
        ({"ack_within": "P2D"}, "ack_within"),
        ({"geometry": {"type": "Circle", "coordinates": [0, 0]}}, "geometry.type"),
        ({"geometry": {"type": "Point", "coordinates": [36.3, 95.0]}}, "geometry.coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [181, 0]}}, "geometry.coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [True, 0]}}, "geometry.coordinates"),
        (
            {"geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1, 1, 1]]}},
            "geometry.coordinates[1]",
        ),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}},
            "geometry.coordinates[0]",
        ),
        (
            {
                "geometry": {
                    "type": "MultiPoint",
                    "coordinates": [[0.001 * i, 0] for i in range(2001)],
                }
            },
            "geometry.coordinates",
        ),
        ({"geometry": {"type": "Point", "coordinates": [0, 0], "crs": "x"}}, "geometry.crs"),
        ({"priority": "flash"}, "priority"),
    ],
)
def test_bad_messages_are_refused_naming_the_field(
    line: Line, change: dict[str, Any], field: str
) -> None:
    body = {"to": ["red"], "subject": "s", "text": "t", **change}
    problem = assert_problem(line.post(MESSAGES, "blue-officer", json=body), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert line.entries() == []


def test_check_geometry_keeps_what_it_is_given() -> None:
    ring = [[36.1, 33.1], [36.2, 33.1], [36.2, 33.2], [36.1, 33.1]]
    assert check_geometry({"type": "Polygon", "coordinates": [ring]})["coordinates"] == [ring]
    with pytest.raises(InputError, match="geometry"):
        check_geometry([36.1, 33.1])


def test_the_chain_is_the_partys_own(line: Line) -> None:
    bad = {"primary": "blue-officer", "backup": "red-backup", "duty": ["red-duty", "ghost"]}
    problem = assert_problem(line.put("/v1/contacts", "red-officer", json=bad), 422)
    assert [e["field"] for e in problem["errors"]] == ["primary", "duty[1]"]
    # Another party's user and a missing one are refused in the same words.
    assert problem["errors"][0]["message"] == problem["errors"][1]["message"]
    twice = {"primary": "red-backup", "backup": "red-backup"}
    problem = assert_problem(line.put("/v1/contacts", "red-officer", json=twice), 422)
    assert problem["errors"][0]["field"] == "backup"
    assert_problem(line.put("/v1/contacts", "red-approver", json={"primary": "red-backup"}), 403)
    ok = line.put("/v1/contacts", "red-officer", json={"primary": "red-backup"})
    assert ok.status_code == 200 and ok.json()["chain"][0]["user"] == "red-backup"
    # Each party sees only its own chain.
    assert line.get("/v1/contacts", "blue-officer").json()["chain"] == []


def test_text_that_is_not_unicode_is_refused_not_a_500(line: Line) -> None:
    lone = '{"to": ["red"], "subject": "s", "text": "\\ud800", "geometry": null}'
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k"}
    response = line.post(MESSAGES, "blue-officer", content=lone, headers=headers)
    assert assert_problem(response, 422)["errors"][0]["field"] == "text"
    geometry = '{"to": ["red"], "subject": "s", "text": "t", "geometry": {"\\ud800": 1}}'
    response = line.post(MESSAGES, "blue-officer", content=geometry, headers=headers)
    assert assert_problem(response, 422)["errors"][0]["field"].startswith("geometry")
    chain = '{"primary": "\\ud800"}'
    response = line.client.put(
        "/v1/contacts", content=chain, headers={**line.auth("red-officer"), **headers}
    )
    assert assert_problem(response, 422)["errors"][0]["field"] == "primary"
    response = line.put("/v1/contacts", "red-officer", json={"primary": "red\u0000backup"})
    assert assert_problem(response, 422)["errors"][0]["field"] == "primary"


def test_the_record_of_a_conversation_verifies_with_the_projects_verifier(
    line: Line, tmp_path: Path
) -> None:
    line.put("/v1/contacts", "red-officer", json={"primary": "red-primary"})
    sent = line.send(geometry=POINT, ack_within="PT2M")
    line.clock.set(minutes=1)
    line.post("/v1/presence", "red-primary")
    line.clock.set(minutes=2)
    assert escalate_due(line.center, line.clock()) == 1  # to the primary
    line.clock.set(minutes=3)
    assert escalate_due(line.center, line.clock()) == 1  # nobody left: overdue
    line.clock.set(minutes=4)
    ack = {"content_hash": sent["content_hash"]}
    assert (
        line.post(f"{MESSAGES}/{sent['id']}/acknowledge", "red-primary", json=ack).status_code
        == 201
    )
    ring = KeyRing.from_json(line.get("/v1/keys", "observer").json())
    head = line.get("/v1/record/head", "observer").json()
    head = served_head(head)
    entries = line.get("/v1/record/entries", "observer").json()["entries"]
    export = tmp_path / "export.jsonl"
    rows = [json.dumps({"i": e["index"], "data": e["data"]}) for e in entries]
    export.write_text("\n".join([*rows, json.dumps({"head": head})]) + "\n", encoding="utf-8")
    report = verify_log(export, keys=ring, workers=1)
    assert report.entries == 5
    authors = [entry["author"] for entry in line.entries()]
    assert authors == ["blue", ring.center.name, ring.center.name, ring.center.name, "red"]
