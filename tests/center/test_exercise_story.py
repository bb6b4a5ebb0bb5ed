"""The exercise plays the whole source story (issue 18): blue passes target coordinates to
red over the direct line; red's usual contact is absent, the message escalates to the backup
and then to the duty officer within minutes; the center's check shows red the point sits
240 m from School No. 12; red acknowledges naming the exact hash and answers — and when blue
later disputes having sent it, the record settles it, with nothing but the record and red's
openings: `accord verify`, `accord record open` and the picture replayed at that minute."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.exercise import (
    DEMO_START,
    DEMO_USERS,
    NIGHT_START,
    STORY_USERS,
    DemoOffices,
    Seeded,
    exercise_clock,
    seed_demo,
)
from accord.center.signing.service import agreement_document
from accord.center.writer_process import Loopback
from accord.cli import app
from accord.examples import example_path
from accord.office import with_roots
from accord.record.canonical import decode_base64, loads_canonical
from accord.record.entries import open_envelope
from accord.record.verify import verify_log
from support.record import served_head
from support.service import TestClient, settings_for

MEMBERS = ["blue", "red", "hnc", "observers"]


class Exercise:
    def __init__(self, client: TestClient, seeded: Seeded, agreement: dict[str, Any]) -> None:
        self.client, self.seeded, self.agreement = client, seeded, agreement

    def get(self, path: str, user: str, **params: str) -> Any:
        token = self.seeded.tokens[user]
        answer = self.client.get(path, headers={"Authorization": f"Bearer {token}"}, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exercise]:
    """``make run``'s exercise, seeded under its rooted agreement by its offices, then served."""
    tmp_path = tmp_path_factory.mktemp("exercise")
    offices = DemoOffices.create(tmp_path / "offices", MEMBERS)
    agreement = tmp_path / "server" / "agreement.yaml"
    agreement.parent.mkdir(mode=0o700)
    text = example_path("jig.yaml").read_text(encoding="utf-8")
    agreement.write_text(with_roots(text, offices.roots(MEMBERS)), encoding="utf-8")
    settings = settings_for(
        tmp_path / "server", agreement_path=agreement, keys_dir=tmp_path / "server" / "keys"
    )
    clock = exercise_clock(DEMO_START, held=NIGHT_START)
    center = Parts(settings, clock=clock).open()
    try:
        seeded = seed_demo(center, example_path("world.geojson"), offices)
        document = agreement_document(center.agreement)
    finally:
        center.close()
    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
        yield Exercise(client, seeded, document)


def test_every_user_of_the_story_has_a_token(exercise: Exercise) -> None:
    assert set(exercise.seeded.tokens) == set(DEMO_USERS) | set(STORY_USERS)


def test_the_record_tells_the_night_in_order(exercise: Exercise) -> None:
    night = exercise.seeded.night
    assert night is not None
    served = exercise.get("/v1/record/entries", "observer")["entries"]
    entries = [
        loads_canonical(open_envelope(decode_base64(e["data"], what="leaf"))[2]) for e in served
    ]
    told = [
        (e["ts"][11:16], e["author"], e["event"]["kind"])
        for e in entries
        if e["event"]["kind"].startswith(("message.", "operation.reported", "report."))
    ]
    center = next(e["author"] for e in entries if e["event"]["kind"] == "message.checked")
    assert center not in MEMBERS
    assert told[:11] == [
        ("02:40", "red", "operation.reported"),
        ("02:50", "observers", "report.filed"),
        ("03:00", "red", "report.answered"),
        ("03:10", "blue", "message.sent"),
        ("03:10", center, "message.checked"),
        ("03:20", center, "message.escalated"),
        ("03:25", center, "message.escalated"),
        ("03:27", "red", "message.acknowledged"),
        ("03:27", "red", "message.sent"),
        ("03:27", center, "message.checked"),
        ("03:31", "blue", "message.acknowledged"),
    ]
    by_kind = {(e["author"], e["event"]["kind"]): e["event"] for e in entries}
    reported = by_kind[("red", "operation.reported")]
    assert [b["kind"] for b in reported["breaches"]] == ["late_notification"]
    escalations = [e["event"] for e in entries if e["event"]["kind"] == "message.escalated"]
    assert [(s["level"], s["role"], s["skipped"]) for s in escalations] == [
        (1, "backup", ["primary"]),
        (2, "duty", []),
    ]
    assert by_kind[("red", "message.acknowledged")] == {
        "kind": "message.acknowledged",
        "id": night.message,
        "content_hash": night.content_hash,
    }
    # Minutes, not 27: from the deadline to the duty officer, five.
    assert night.escalated[-1][0] - night.sent_at == timedelta(minutes=15)
    assert night.acknowledged_at - night.sent_at == timedelta(minutes=17)
    assert night.warned[0].startswith("240 m from School No. 12")


def test_a_dispute_is_settled_by_the_record_and_reds_openings(
    exercise: Exercise, tmp_path: Path
) -> None:
    """Blue says it never sent those coordinates. Red holds the record, its copy of the
    agreement and two openings; the project's verifier and `accord record open` settle it."""
    night = exercise.seeded.night
    assert night is not None
    head = exercise.get("/v1/record/head", "red-duty-officer")
    head = served_head(head)
    served = exercise.get("/v1/record/entries", "red-duty-officer")["entries"]
    record = tmp_path / "record.jsonl"
    lines = [json.dumps({"i": e["index"], "data": e["data"]}) for e in served]
    record.write_text("\n".join([*lines, json.dumps({"head": head})]) + "\n", encoding="utf-8")
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(exercise.get("/v1/keys", "red-officer")), encoding="utf-8")
    mine = tmp_path / "agreement.json"
    mine.write_text(json.dumps(exercise.agreement), encoding="utf-8")

    # The record verifies act by act under red's own copy of the agreement: blue's message
    # is blue's officer's act, signed by the key blue's root certified.
    from accord.record.keys import KeyRing

    report = verify_log(
        record,
        keys=KeyRing.from_json(json.loads(keys.read_text())),
        workers=1,
        agreement=exercise.agreement,
    )
    assert report.rooted and report.roots_pinned
    acted = {(member, user) for member, _key, user, _n in report.acts}
    assert {("blue", "blue-officer"), ("red", "red-duty-officer")} <= acted

    message = f"/v1/messages/{night.message}"
    openings = [
        exercise.get(f"{message}/opening", "red-duty-officer"),
        exercise.get(f"{message}/check", "red-duty-officer"),
    ]
    given = tmp_path / "openings.json"
    given.write_text(json.dumps(openings), encoding="utf-8")
    base = ["record", "open", str(record), "--keys", str(keys), "--workers", "1"]
    opened = CliRunner().invoke(app, [*base, "--openings", str(given)])
    assert opened.exit_code == 0, opened.output
    sent_at = night.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"by blue at {sent_at}: message {night.message} from blue to red" in opened.output
    assert f"content hash {night.content_hash}" in opened.output
    assert "showed red: 240 m from School No. 12" in opened.output
    assert "OPENED 2 of 2" in opened.output

    # The picture at 03:26, from the record alone: the message open, escalated twice,
    # blue's exact coordinates opened against blue's signed commitment, and what the check
    # showed red, checked against the center's commitment.
    at = (NIGHT_START.replace(hour=3, minute=26)).strftime("%Y-%m-%dT%H:%M:%SZ")
    picture = exercise.get("/v1/picture", "red-duty-officer", at=at)
    (seen,) = [m for m in picture["messages"] if m["id"] == night.message]
    assert seen["verified"] is True and seen["content"]["geometry"]["coordinates"] == [
        21.87438,
        24.936,
    ]
    (red,) = seen["recipients"]
    assert red["level"] == 2 and red["acknowledged_at"] is None
    assert seen["check"]["warnings"][0]["name"] == "School No. 12"
    # A minute later it is acknowledged, naming the hash: no longer open.
    later = (NIGHT_START.replace(hour=3, minute=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    picture = exercise.get("/v1/picture", "red-duty-officer", at=later)
    assert night.message not in {m["id"] for m in picture["messages"]}
    # Blue's own picture at 03:26 shows what blue was warned of: the same school.
    blue = exercise.get("/v1/picture", "blue-officer", at=at)
    (theirs,) = [m for m in blue["messages"] if m["id"] == night.message]
    assert [w["name"] for w in theirs["check"]["warnings"]] == ["School No. 12"]


def test_the_observers_report_of_the_late_notice_and_reds_answer_are_in_compliance(
    exercise: Exercise,
) -> None:
    night = exercise.seeded.night
    assert night is not None and night.report is not None
    compliance = exercise.get("/v1/compliance", "blue-officer")
    (report,) = [r for r in compliance["reports"] if r["id"] == night.report]
    assert report["accused"] == "red" and report["filer"] == "observers"
    assert "notified at 02:40" in report["what"]
    assert report["answer"] is not None and "loss of the line" in report["answer"]["text"]
    late = [
        (p["party"], f["subject"])
        for p in compliance["parties"]
        for f in p["findings"]
        if f["kind"] == "late_notification"
    ]
    assert late == [("red", night.imminent)]
    # The report cites the very entry that records the late notice.
    served = exercise.get("/v1/record/entries", "observer")["entries"]
    (cited,) = report["cites"]
    entry = loads_canonical(open_envelope(decode_base64(served[cited]["data"], what="leaf"))[2])
    assert entry["event"]["kind"] == "operation.reported" and entry["author"] == "red"
