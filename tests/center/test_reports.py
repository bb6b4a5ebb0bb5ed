"""Incident and violation reports (DECISIONS 16): a monitor or a party files one against a
party or the center, signed by the filer; every member sees it, live and in the list; the
accused party answers once, signed by itself (nobody, for the center); the compliance
report lists both, replayed from the record, and the record verifies act by act. Bad input
names its field and changes nothing; the worst case the caps allow fits one 64 KiB entry."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.center.db import Event, Report, User, writer
from accord.center.entry_kinds import Recorded
from accord.center.event_store import events_for
from accord.center.identity import Caller, add_user
from accord.center.picture.replay import Replay
from accord.center.reports.fold import REPORTS
from accord.center.reports.service import (
    CITES_MAX,
    EVIDENCE_MAX,
    NAME_MAX,
    TEXT_MAX,
    WHERE_MAX_BYTES,
    answer_report,
    file_report,
)
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.center.signing.service import agreement_document
from accord.chrono import format_instant, parse_instant
from accord.cli_record import service_causes
from accord.errors import IllegalTransition, InputError, NotAuthorized
from accord.record.canonical import canonical_json
from accord.record.entries import open_envelope
from accord.record.verify import verify_log
from support.disclosure import export_entries
from support.failures import assert_problem, fields
from support.jig import AGREEMENT, NOW
from support.service import Service, ring_of

REPORTS_URL = "/v1/reports"
ENTRY_LIMIT = 64 * 1024
"""DECISIONS 12: every entry, envelope and signatures included, is at most 64 KiB."""
POINT = {"type": "Point", "coordinates": [21.623456789, 25.312345678]}
DAWN = format_instant(NOW - timedelta(hours=11))
LATER = format_instant(NOW - timedelta(hours=10))
EVIDENCE = [{"sha256": "ab" * 32, "name": "crater-photo-1.jpg"}, {"sha256": "cd" * 32}]
EVERYONE = ("blue-officer", "blue-approver", "red-officer", "red-approver", "hnc-notifier",
            "observer")  # fmt: skip


@pytest.fixture
def service(signed_service: Service) -> Service:
    """The rooted service: every write is signed by its user's own key."""
    return signed_service


def body(**over: Any) -> dict[str, Any]:
    """A good report against blue, with ``over`` replacing its fields."""
    return {
        "accused": "blue",
        "what": "Artillery fire on the northern crossing at dawn.",
        "when": {"start": DAWN, "end": LATER},
        "where": POINT,
        "cites": [0],
        "evidence": EVIDENCE,
    } | over


def file(service: Service, user: str = "observer", **over: Any) -> dict[str, Any]:
    answer = service.post(REPORTS_URL, user, json=body(**over))
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def size_of(service: Service) -> int:
    with service.center.reading() as session:
        return service.center.log(session).size


def leaf(service: Service, index: int) -> bytes:
    with service.center.reading() as session:
        return service.center.log(session).entry(index)


def entry_of(service: Service, index: int) -> dict[str, Any]:
    return json.loads(open_envelope(leaf(service, index))[2])  # type: ignore[no-any-return]


# --- filing, seeing, answering --------------------------------------------------------------


def test_a_monitors_report_reaches_the_accused_which_answers_and_compliance_lists_both(
    service: Service, tmp_path: Path
) -> None:
    before = size_of(service)
    report = file(service, "observer")
    assert re.fullmatch(r"r-[0-9a-f]{16}", report["id"])
    assert report["filer"] == "observers" and report["accused"] == "blue"
    assert report["where"] == POINT  # every digit kept
    assert report["when"] == {"start": DAWN, "end": LATER}
    assert report["cites"] == [0] and report["evidence"] == [
        {"sha256": "ab" * 32, "name": "crater-photo-1.jpg"},
        {"sha256": "cd" * 32, "name": None},
    ]
    assert report["open"] is True and report["answer"] is None
    assert report["entry"] == before and size_of(service) == before + 1

    # the entry: the monitor's own act, the report in clear
    entry = entry_of(service, report["entry"])
    assert entry["author"] == "observers" and entry["v"] == 2
    assert entry["act"]["signed"]["action"] == "POST /v1/reports"
    assert entry["act"]["signed"]["user"] == "observer"
    event = entry["event"]
    assert event["kind"] == "report.filed" and event["id"] == report["id"]
    assert event["what"] == report["what"] and event["where"] == POINT

    # every member sees it: the accused, the other party, the notifier, the monitor
    for user in EVERYONE:
        assert service.get(f"{REPORTS_URL}/{report['id']}", user).json() == report, user
        assert service.get(REPORTS_URL, user).json() == [report], user
    assert service.get(REPORTS_URL, "blue-officer", params={"open": "true"}).json() == [report]
    assert service.get(REPORTS_URL, "red-officer", params={"accused": "red"}).json() == []
    assert_problem(service.get(REPORTS_URL, "admin"), 403)
    # and is told, live
    with service.center.reading() as session:
        for member in ("blue", "red", "hnc", "observers"):
            (told,) = [e for e in events_for(session, member, after=0, limit=1000)
                       if e.kind == "report.filed"]  # fmt: skip
            assert told.payload == report, member

    # the accused answers, its approver signing for blue
    reply = {"text": "Counter-battery fire at a position that fired first.", "cites": [1],
             "evidence": [{"sha256": "ef" * 32, "name": "radar-log.csv"}]}  # fmt: skip
    answered = service.post(f"{REPORTS_URL}/{report['id']}/answer", "blue-approver", json=reply)
    assert answered.status_code == 201, answered.text
    done = answered.json()
    answer = done["answer"]
    assert done["open"] is False and answer["text"] == reply["text"]
    assert answer["cites"] == [1] and answer["evidence"] == reply["evidence"]
    assert answer["entry"] == report["entry"] + 1
    entry = entry_of(service, answer["entry"])
    assert entry["author"] == "blue" and entry["event"]["report"] == report["id"]
    assert entry["act"]["signed"]["action"] == f"POST /v1/reports/{report['id']}/answer"
    for user in EVERYONE:
        assert service.get(f"{REPORTS_URL}/{report['id']}", user).json() == done, user
    assert service.get(REPORTS_URL, "observer", params={"open": "true"}).json() == []
    with service.center.reading() as session:
        for member in ("blue", "red", "hnc", "observers"):
            (told,) = [e for e in events_for(session, member, after=0, limit=1000)
                       if e.kind == "report.answered"]  # fmt: skip
            assert told.payload == {"id": report["id"], "filer": "observers",
                                    "accused": "blue", "answer": answer}  # fmt: skip

    # the compliance report lists both, replayed from the record, beside the findings
    for user in ("red-officer", "blue-approver", "observer"):
        compliance = service.get("/v1/compliance", user)
        assert compliance.status_code == 200, compliance.text
        assert compliance.json()["reports"] == [done], user

    # the record verifies, act by act, with the project's verifier and the party's agreement
    record = tmp_path / "record.jsonl"
    export_entries(service, "observer", record)
    mine = agreement_document(service.center.agreement)
    verified = verify_log(
        record, keys=ring_of(service), workers=1, agreement=mine, causes=service_causes()
    )
    assert verified.rooted and verified.entries == size_of(service)
    acts = {(member, user) for member, _key, user, _n in verified.acts}
    assert {("observers", "observer"), ("blue", "blue-approver")} <= acts


def test_a_party_reports_another_party_and_never_itself(service: Service) -> None:
    made = file(service, "red-officer", accused="blue", where=None, cites=[], evidence=[])
    assert made["filer"] == "red" and made["where"] is None
    assert entry_of(service, made["entry"])["author"] == "red"
    before = size_of(service)
    for user, accused in (("red-officer", "red"), ("blue-approver", "blue")):
        problem = assert_problem(service.post(REPORTS_URL, user, json=body(accused=accused)), 422)
        assert fields(problem) == {"accused"}
        assert "does not accuse itself" in problem["detail"]
    problem = assert_problem(service.post(REPORTS_URL, "observer", json=body(accused="hnc")), 422)
    assert fields(problem) == {"accused"}  # a notifier is no party
    assert size_of(service) == before


def test_notifiers_and_administrators_file_nothing(service: Service) -> None:
    for user in ("hnc-notifier", "admin"):
        assert_problem(service.post(REPORTS_URL, user, json=body()), 403)


def test_only_the_accused_party_answers_once(service: Service) -> None:
    report = file(service, "observer", accused="red")
    path = f"{REPORTS_URL}/{report['id']}/answer"
    reply = {"text": "Not ours."}
    for user in ("blue-officer", "blue-approver"):  # a party, but not the accused
        problem = assert_problem(service.post(path, user, json=reply), 403)
        assert "red" in problem["detail"]
    for user in ("observer", "hnc-notifier", "admin"):  # no party's officer or approver
        assert_problem(service.post(path, user, json=reply), 403)
    missing = f"{REPORTS_URL}/r-0123456789abcdef/answer"
    assert_problem(service.post(missing, "red-officer", json=reply), 404)
    assert_problem(service.get(f"{REPORTS_URL}/r-0123456789abcdef", "red-officer"), 404)
    assert_problem(service.get(f"{REPORTS_URL}/not-a-report", "red-officer"), 422)
    assert service.post(path, "red-officer", json=reply).status_code == 201
    before = size_of(service)
    problem = assert_problem(service.post(path, "red-approver", json={"text": "Again."}), 409)
    assert "already answered" in problem["detail"]
    assert size_of(service) == before


def test_any_filer_accuses_the_center_and_nobody_answers_for_it(
    service: Service, tmp_path: Path
) -> None:
    """A party's officer and a monitor each accuse the center itself (what ``accord
    monitor`` files): recorded as the filer's act, read by every member, listed by the
    compliance report; no one answers it through the API (403 saying why), so it stays
    open."""
    by_party = file(service, "blue-officer", accused="center", where=None)
    by_monitor = file(service, "observer", accused="center", cites=[], evidence=[])
    for made, author in ((by_party, "blue"), (by_monitor, "observers")):
        assert made["accused"] == "center" and made["filer"] == author and made["open"]
        entry = entry_of(service, made["entry"])
        assert entry["author"] == author and entry["event"]["accused"] == "center"
    both = [by_monitor, by_party]  # newest first
    for user in EVERYONE:
        assert service.get(REPORTS_URL, user).json() == both, user
        assert service.get(REPORTS_URL, user, params={"accused": "center"}).json() == both
    assert service.get(REPORTS_URL, "red-officer", params={"accused": "blue"}).json() == []
    assert_problem(service.post(REPORTS_URL, "hnc-notifier", json=body(accused="center")), 403)

    before = size_of(service)
    for made in both:
        path = f"{REPORTS_URL}/{made['id']}/answer"
        for user in ("blue-officer", "blue-approver", "red-officer"):
            problem = assert_problem(service.post(path, user, json={"text": "Not so."}), 403)
            assert "accuses the center" in problem["detail"], user
            assert "signed heads and the record" in problem["detail"]
        for user in ("observer", "hnc-notifier", "admin"):  # no party's officer or approver
            assert_problem(service.post(path, user, json={"text": "Not so."}), 403)
    assert size_of(service) == before
    assert service.get(REPORTS_URL, "observer", params={"open": "true"}).json() == both

    # the compliance report lists them, from the record's replay (its per-party reports
    # stay the parties': the center is none)
    for user in ("red-officer", "blue-approver", "observer"):
        compliance = service.get("/v1/compliance", user)
        assert compliance.status_code == 200, compliance.text
        assert compliance.json()["reports"] == both, user
    assert_problem(service.get("/v1/compliance/center", "observer"), 404)
    replay = _replayed(service)
    assert replay.anomalies == [] and set(replay.part(REPORTS)) == {r["id"] for r in both}

    # and the record verifies act by act
    record = tmp_path / "record.jsonl"
    export_entries(service, "observer", record)
    verified = verify_log(
        record,
        keys=ring_of(service),
        workers=1,
        agreement=agreement_document(service.center.agreement),
        causes=service_causes(),
    )
    assert verified.rooted and verified.entries == size_of(service)


def test_a_retry_with_the_same_key_files_once(service: Service) -> None:
    headers = {"Idempotency-Key": "report-1"}
    first = service.post(REPORTS_URL, "observer", json=body(), headers=headers)
    again = service.post(REPORTS_URL, "observer", json=body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert len(service.get(REPORTS_URL, "observer").json()) == 1


# --- bad input ------------------------------------------------------------------------------


def test_every_bad_field_is_named_and_nothing_is_written(service: Service) -> None:
    before = size_of(service)
    size = before
    bad = body(
        what="line one\x07",
        when={"start": "2026-09-21T05:00:00", "end": LATER, "zone": "local"},
        where={"type": "LineString", "coordinates": [[21.6, 25.3], [21.7, 95.0]]},
        cites=[0, 0, -1, size, True],
        evidence=[
            {"sha256": "AB" * 31},
            {"sha256": "cd" * 32, "name": "a\nb"},
            {"sha256": "cd" * 32},
            "x",
        ],
    )
    problem = assert_problem(service.post(REPORTS_URL, "observer", json=bad), 422)
    assert fields(problem) == {
        "what", "when.start", "when.zone", "where.coordinates[1]", "cites[1]", "cites[2]",
        "cites[3]", "cites[4]", "evidence[0].sha256", "evidence[1].name",
        "evidence[2].sha256", "evidence[3]",
    }  # fmt: skip
    named = {e["field"]: e["message"] for e in problem["errors"]}
    assert "control character" in named["what"]
    assert "offset" in named["when.start"]
    assert "latitude" in named["where.coordinates[1]"]
    assert named["cites[1]"] == "each entry is cited once"
    assert named["cites[3]"] == f"no such entry: the record holds entries 0 to {size - 1}"
    # an unknown field, a future or reversed time, an empty text, too many of anything
    for over, field in (
        ({"extra": 1}, "extra"),
        ({"when": {"start": format_instant(NOW + timedelta(minutes=1))}}, "when.start"),
        ({"when": {"start": LATER, "end": DAWN}}, "when.end"),
        ({"when": "yesterday"}, "when"),
        ({"what": "   "}, "what"),
        ({"what": "x" * (TEXT_MAX + 1)}, "what"),
        ({"cites": list(range(CITES_MAX + 1))}, "cites"),
        ({"evidence": [{"sha256": f"{i:064x}"} for i in range(EVIDENCE_MAX + 1)]}, "evidence"),
        ({"evidence": [{"sha256": "ab" * 32, "name": "n" * (NAME_MAX + 1)}]}, "evidence[0].name"),
        ({"where": {"type": "Point", "coordinates": [21.6]}}, "where.coordinates"),
        ({"where": {"type": "Circle"}}, "where.type"),
        ({"accused": 7}, "accused"),
    ):
        problem = assert_problem(service.post(REPORTS_URL, "observer", json=body(**over)), 422)
        assert field in fields(problem), (over, problem)
    # nothing half-applied: no entry, no row, no event
    assert size_of(service) == before
    with service.center.reading() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0
        assert session.scalar(select(func.count()).where(Event.kind.like("report.%"))) == 0


def test_cites_beyond_the_record_are_refused(service: Service) -> None:
    size = size_of(service)
    problem = assert_problem(service.post(REPORTS_URL, "observer", json=body(cites=[size])), 422)
    assert fields(problem) == {"cites[0]"}
    # the entry a report will take is not in the record yet either
    report = file(service, "observer", cites=[size - 1])
    answer = service.post(
        f"{REPORTS_URL}/{report['id']}/answer", "blue-officer",
        json={"text": "No.", "cites": [report["entry"] + 1]},
    )  # fmt: skip
    assert fields(assert_problem(answer, 422)) == {"cites[0]"}


def test_a_geometry_over_its_byte_budget_is_refused_naming_where(service: Service) -> None:
    points = [[-179.12345678901234, -89.12345678901234, -999.1234567891]] * 300
    problem = assert_problem(
        service.post(
            REPORTS_URL, "observer", json=body(where={"type": "MultiPoint", "coordinates": points})
        ),
        422,
    )
    assert fields(problem) == {"where"}
    assert str(WHERE_MAX_BYTES) in problem["detail"]


# --- the worst case fits one entry (DECISIONS 12) -------------------------------------------

WIDE = "\U0001f600"  # four bytes of UTF-8: the widest a character of a text is in an entry


def _widest_where() -> dict[str, Any]:
    """A MultiPoint whose canonical JSON takes as close to WHERE_MAX_BYTES as it gets."""
    one = [-179.12345678901234, -89.12345678901234, -999999.1234567891]
    points: list[list[float]] = []
    while len(canonical_json({"type": "MultiPoint", "coordinates": [*points, one]})) <= (
        WHERE_MAX_BYTES
    ):
        points.append(one)
    return {"type": "MultiPoint", "coordinates": points}


def _widest_evidence() -> list[dict[str, Any]]:
    return [{"sha256": f"{i:064x}", "name": WIDE * NAME_MAX} for i in range(EVIDENCE_MAX)]


def test_the_worst_case_report_and_answer_fit_one_entry(service: Service) -> None:
    # enough entries to cite CITES_MAX of them
    while size_of(service) < CITES_MAX:
        file(service, "red-officer", where=None, evidence=[], what="filler")
    cites = list(range(size_of(service) - CITES_MAX, size_of(service)))
    where = _widest_where()
    assert WHERE_MAX_BYTES - 100 < len(canonical_json(where)) <= WHERE_MAX_BYTES
    worst = body(what=WIDE * TEXT_MAX, where=where, cites=cites, evidence=_widest_evidence())
    report = file(service, "observer", **worst)
    filed = leaf(service, report["entry"])
    reply = {"text": WIDE * TEXT_MAX, "cites": cites, "evidence": _widest_evidence()}
    path = f"{REPORTS_URL}/{report['id']}/answer"
    answered = service.post(path, "blue-approver", json=reply)
    assert answered.status_code == 201, answered.text
    answer = leaf(service, answered.json()["answer"]["entry"])
    # What grows beyond this test's case: every cited index (up to 2^53, 16 digits), the
    # leaf's index and the author's sequence number, the member and user names (64
    # characters at most; each appears at most twice).
    headroom = CITES_MAX * (16 - 2) + 2 * 14 + 2 * (64 - len("observers")) + 2 * 64
    for data in (filed, answer):
        assert len(data) + headroom <= ENTRY_LIMIT, len(data)
    assert len(filed) > 45_000  # the case is the worst the caps allow, not a small one
    # one character more anywhere is refused, naming the field
    over = {**worst, "what": WIDE * (TEXT_MAX + 1)}
    assert fields(assert_problem(service.post(REPORTS_URL, "observer", json=over), 422)) == {"what"}


# --- the record and its replay --------------------------------------------------------------


def _replayed(service: Service) -> Replay:
    records = []
    for index in range(size_of(service)):
        entry = entry_of(service, index)
        records.append(Recorded(index, entry["author"], parse_instant(entry["ts"]), entry["event"]))
    center = service.center
    return Replay(center.agreement, center.origin).fold(records)


def test_the_replay_folds_reports_and_answers_and_refuses_what_does_not_fit(
    service: Service,
) -> None:
    report = file(service, "observer")
    path = f"{REPORTS_URL}/{report['id']}/answer"
    assert service.post(path, "blue-officer", json={"text": "Denied."}).status_code == 201
    replay = _replayed(service)
    assert replay.anomalies == []
    (folded,) = replay.part(REPORTS).values()
    assert folded.id == report["id"] and folded.filer == "observers"
    assert folded.answer is not None and folded.answer.text == "Denied."

    # entries a center could write but that do not fit: each an anomaly, changing nothing
    at = NOW
    event = entry_of(service, report["entry"])["event"]
    answered = {"kind": "report.answered", "report": report["id"], "text": "t", "cites": [],
                "evidence": []}  # fmt: skip
    cases = [
        ("red", {**event, "id": "r-1", "accused": "red"}),  # a party accusing itself
        ("hnc", {**event, "id": "r-2"}),  # a notifier files nothing
        ("observers", {**event, "id": "r-3", "cites": [9]}),  # an entry not yet written
        ("observers", {**event, "id": "r-4", "when": {"start": format_instant(at), "end": None}}),
        ("red", {**answered, "report": "r-5"}),  # an answer by other than the accused
        ("blue", {**answered, "report": "r-unknown"}),
        ("center", {**event, "id": "r-7"}),  # "center" is no member: it files nothing
        # a report against the center has no answer, whoever's entry it is
        ("blue", {**answered, "report": "r-6"}),
        ("observers", {**answered, "report": "r-6"}),
        ("center", {**answered, "report": "r-6"}),
    ]
    base = Replay(AGREEMENT, "jig-example.accord")
    base.apply(Recorded(0, "observers", at, {**event, "id": "r-5", "cites": []}))
    against = {**event, "id": "r-6", "accused": "center", "cites": []}
    base.apply(Recorded(1, "red", at, against))  # a party accuses the center: it fits
    for n, (author, bad) in enumerate(cases, start=2):
        base.apply(Recorded(n, author, at - timedelta(hours=1), bad))
    assert base.anomalies == list(range(2, 2 + len(cases)))
    assert list(base.part(REPORTS)) == ["r-5", "r-6"]
    assert all(r.answer is None for r in base.part(REPORTS).values())
    assert base.part(REPORTS)["r-6"].open and base.part(REPORTS)["r-6"].filer == "red"


# --- the service functions, as the exercise calls them ---------------------------------------


def test_the_services_file_and_answer_inside_a_unit(center: Center) -> None:
    callers = {}
    with Session(writer(center.engine)) as session, session.begin():
        for name, member, role in (("obs", "observers", Role.MONITOR),
                                   ("red-1", "red", Role.OFFICER),
                                   ("hnc-1", "hnc", Role.NOTIFIER)):  # fmt: skip
            add_user(session, AGREEMENT, name=name, member=member, role=role, at=NOW)
    with center.reading() as session:
        for user in session.scalars(select(User)):
            callers[user.name] = Caller(user.id, user.name, user.member, Role(user.role))
    at = center.now()
    with center.writing() as unit:
        filed = file_report(unit, callers["obs"], body(accused="red", cites=[]), at)
    assert filed.accused == "red" and filed.open
    with pytest.raises(NotAuthorized), center.writing() as unit:
        file_report(unit, callers["hnc-1"], body(), at)
    with pytest.raises(InputError), center.writing() as unit:
        file_report(unit, callers["red-1"], body(accused="red"), at)
    with center.writing() as unit:
        done = answer_report(unit, callers["red-1"], filed.id, {"text": "No."}, at)
    assert done.answer is not None and done.answer.text == "No." and not done.open
    with pytest.raises(IllegalTransition), center.writing() as unit:
        answer_report(unit, callers["red-1"], filed.id, {"text": "Again."}, at)
    with center.reading() as session:
        row = session.get(Report, filed.id)
        assert row is not None and row.answer_entry == done.answer.entry


def test_entries_are_read_back_as_recorded(service: Service) -> None:
    """The row keeps the entry's event byte for byte: what the service lists is what the
    record says."""
    report = file(service, "observer")
    with service.center.reading() as session:
        row = session.get(Report, report["id"])
        assert row is not None
        event = entry_of(service, report["entry"])["event"]
        assert row.content.encode() == canonical_json(event)
    served = service.get("/v1/record/entries", "observer").json()["entries"]
    raw = base64.b64decode(served[report["entry"]]["data"])
    assert json.loads(open_envelope(raw)[2])["event"] == event
