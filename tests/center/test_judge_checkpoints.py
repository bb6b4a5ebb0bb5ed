"""The compliance judge's checkpoints (issue 24): a restart folds on from the newest one, only
the entries after it, and answers every reader as a fold of the whole record; a checkpoint
someone changed is refused (its signature or root) or not read (its parts, its form)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update

import accord.center.picture.compliance as compliance_module
import accord.center.picture.verified as verified_module
from accord.center.db.models import JudgeCheckpoint, JudgeCheckpointPart
from accord.center.entry_kinds import Recorded
from accord.center.identity import Caller
from accord.center.picture import judge_checkpoints
from accord.center.picture.compliance import JUDGE, Judge, compliance
from accord.center.picture.verified import verified_of
from accord.center.runtime import Center
from accord.chrono import format_instant
from support.desk import AID, HIDDEN, Desk, operation, restarted, start
from support.failures import assert_problem
from support.history import RED_HIDDEN, SITE

READERS = ("blue-officer", "blue-approver", "red-officer", "observer")


def _late_report(desk: Desk) -> dict[str, Any]:
    """Red's imminent-threat operation reported two hours after it was executed: a late
    notice, which compliance finds."""
    body = operation(21.9, 25.1, "red", category="imminent_threat")
    executed = desk.clock.at - timedelta(minutes=120)
    body["properties"] |= {
        "executed_at": format_instant(executed),
        "window_start": format_instant(executed - timedelta(minutes=10)),
        "window_end": format_instant(executed + timedelta(minutes=10)),
    }
    return body


def _entries(desk: Desk) -> int:
    with desk.center.reading() as session:
        return int(session.scalar(text("SELECT count(*) FROM record_leaves")))


def _history(desk: Desk, steps: int, first: int = 1) -> None:
    """Declarations (blue's and red's hidden ones among them), messages never acknowledged
    and a late report: findings a judge keeps."""
    for i in range(first, first + steps):
        desk.clock.set(i)
        owner = ("blue-officer", "blue-officer", "red-officer")[i % 3]
        desk.ok(desk.post("/v1/declarations", owner, json=(SITE, HIDDEN, RED_HIDDEN)[i % 3]))
        if i % 4 == 0:
            body = {"to": ["red"], "subject": "s", "text": "t", "ack_within": "PT5M"}
            desk.ok(desk.post("/v1/messages", "blue-officer", json=body))
        if i % 5 == 0:
            desk.ok(desk.post("/v1/operations/report", "red-officer", json=_late_report(desk)))


def _newest(center: Center) -> JudgeCheckpoint | None:
    with center.reading() as session:
        return session.scalars(
            select(JudgeCheckpoint).order_by(JudgeCheckpoint.size.desc()).limit(1)
        ).first()


def _kept(center: Center) -> int | None:
    """Write what the judge captured (the keeper's turn)."""
    return judge_checkpoints.write(center, compliance_module.captured(center))


@pytest.fixture
def judged(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """A desk whose judge is checkpointed every 4 entries (a root kept every 2), its body in
    parts of 2,000 bytes, with a checkpoint written."""
    monkeypatch.setattr(verified_module, "MARK_EVERY", 2)
    monkeypatch.setattr(judge_checkpoints, "EVERY", 4)
    monkeypatch.setattr(judge_checkpoints, "PART_BYTES", 2000)
    for desk in start(tmp_path, database_url):
        desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        _history(desk, 9)
        desk.clock.set(12)
        desk.ok(desk.get("/v1/compliance", "observer"), 200)
        assert _kept(desk.center) is not None
        yield desk


def _afresh(center: Center, caller: Caller, patch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The report of a judge folded from the first entry, no checkpoint read."""
    judging = center.cache(JUDGE)
    held = judging.judge
    judging.judge = None
    with patch.context() as p:
        p.setattr(judge_checkpoints, "restore", lambda *args, **kwargs: None)
        report = compliance(center, caller).model_dump()
    judging.judge = held
    return report


def _folded_counted(patch: pytest.MonkeyPatch) -> list[int]:
    """Every entry a judge folds from now on, by index."""
    folded: list[int] = []
    extend = Judge.extend

    def counted(self: Judge, session: Any, records: list[Recorded], **kwargs: Any) -> None:
        folded.extend(r.index for r in records)
        extend(self, session, records, **kwargs)

    patch.setattr(Judge, "extend", counted)
    return folded


def test_a_restart_folds_on_from_the_newest_checkpoint_and_answers_as_a_whole_fold(
    judged: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _newest(judged.center)
    assert first is not None and first.size % 4 == 0 and first.parts > 1
    _history(judged, 6, first=20)  # more entries, and a second checkpoint, the first dropped
    judged.clock.set(30)
    judged.ok(judged.get("/v1/compliance", "observer"), 200)
    assert _kept(judged.center) is not None
    newest = _newest(judged.center)
    assert newest is not None and newest.size > first.size
    with judged.center.reading() as session:
        assert session.scalar(select(func.count()).select_from(JudgeCheckpoint)) == 1
        digests = set(session.scalars(select(JudgeCheckpointPart.digest)))
    assert digests == {newest.digest}
    total = _entries(judged)
    folded = _folded_counted(monkeypatch)
    with restarted(judged) as again:
        again.clock.set(30)
        callers = {user: again.center.authenticate(again.tokens[user]) for user in READERS}
        kept = {}
        for user, caller in callers.items():
            assert caller is not None
            kept[user] = compliance(again.center, caller).model_dump()
        # only the entries after the checkpoint were folded (the warm-up's or the first
        # report's), each once
        assert sorted(folded) == list(range(newest.size, total))
        for user, caller in callers.items():
            assert caller is not None
            assert kept[user] == _afresh(again.center, caller, monkeypatch), user
        assert any(p["findings"] for p in kept["observer"]["parties"])


def _resigned(center: Center, row: JudgeCheckpoint, root: bytes) -> bytes:
    """The center's signature over ``row`` with another ``root`` (as a checkpoint of another
    history of the same center would carry)."""
    signed = judge_checkpoints.message(
        center.origin, row.size, root, row.form, row.agreement, row.digest, row.parts
    )
    return center.keys.center().sign(signed)


@pytest.mark.parametrize("change", ["signature", "root"])
def test_a_checkpoint_someone_changed_refuses_the_record_at_start_up(
    judged: Desk, change: str
) -> None:
    row = _newest(judged.center)
    assert row is not None
    values = (
        {"signature": b"\x02" * 64}
        if change == "signature"
        else {"root": b"\x01" * 32, "signature": _resigned(judged.center, row, b"\x01" * 32)}
    )
    with judged.center.writing() as unit:
        unit.session.execute(
            update(JudgeCheckpoint).where(JudgeCheckpoint.size == row.size).values(values)
        )
    with restarted(judged) as again:
        body = assert_problem(again.get("/v1/compliance", "observer"), 503)
        assert body["type"].endswith("record-damaged")
        assert "compliance judge's checkpoint" in body["detail"]
        assert verified_of(again.center).refused is not None
        assert again.client.get("/readyz").status_code == 503


@pytest.mark.parametrize("change", ["part changed", "part removed", "other form", "agreement"])
def test_a_checkpoint_that_cannot_be_read_is_not_and_the_judge_folds_afresh(
    judged: Desk, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _newest(judged.center)
    assert row is not None
    with judged.center.writing() as unit:
        s = unit.session
        parts = JudgeCheckpointPart.digest == row.digest
        if change == "part changed":
            part = s.scalars(select(JudgeCheckpointPart).where(parts).limit(1)).one()
            part.body = bytes(part.body[:-1]) + bytes([part.body[-1] ^ 1])
        elif change == "part removed":
            s.execute(delete(JudgeCheckpointPart).where(parts, JudgeCheckpointPart.part == 1))
        else:
            column = "form" if change == "other form" else "agreement"
            s.execute(update(JudgeCheckpoint).values({column: "0" * 64}))
    folded = _folded_counted(monkeypatch)
    with restarted(judged) as again:
        again.clock.set(30)
        caller = again.center.authenticate(again.tokens["observer"])
        assert caller is not None
        report = compliance(again.center, caller).model_dump()
        assert folded[0] == 0  # from the first entry
        assert verified_of(again.center).refused is None
        assert report == _afresh(again.center, caller, monkeypatch)


def test_no_byte_of_a_part_that_does_not_hash_to_its_signed_digest_is_read() -> None:
    parts = [b"first part\n", b"second\npart", b"third"]
    digests = [hashlib.sha256(part).digest() for part in parts]
    whole = judge_checkpoints.CheckedParts(parts.__getitem__, digests)
    assert whole.readline() == b"first part\n"
    assert whole.read(3) == b"sec"
    assert whole.readline() == b"ond\n"
    assert whole.read() == b"partthird"
    assert whole.read(1) == b"" and whole.readline() == b""
    changed = [parts[0], b"second\nparT", parts[2]]
    stream = judge_checkpoints.CheckedParts(changed.__getitem__, digests)
    assert stream.read(len(parts[0])) == parts[0]
    with pytest.raises(judge_checkpoints._Unreadable, match="part 1"):
        stream.read(1)
    missing = judge_checkpoints.CheckedParts(lambda i: None if i else parts[0], digests)
    assert missing.readline() == parts[0]
    with pytest.raises(judge_checkpoints._Unreadable, match="part 1"):
        missing.readline()
