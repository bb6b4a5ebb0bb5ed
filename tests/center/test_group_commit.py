"""Group commit: writers that queue for the write lock share one transaction, each in its own
savepoint. Every unit that returns is committed (one commit for the group); a unit that
raises leaves nothing, not even the record entry it appended, and the units after it in the
same group chain their entries on as if it had never run; the record verifies."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from accord.center import runtime
from accord.center.db.models import RecordAuthor
from accord.center.runtime import Center
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from support.jig import NOW
from support.service import Service, center_of
from support.writes import Refused, commits_of, leaves


def _wait_for_queue(center: Center, n: int) -> None:
    deadline = time.monotonic() + 10
    while center._queued < n:  # the threads are blocked on the write lock
        assert time.monotonic() < deadline, "the writers never queued"
        time.sleep(0.005)


def test_queued_writers_share_one_commit_and_a_failed_one_leaves_nothing(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "GROUP_MAX_SECONDS", 60.0)  # this group is slow to gather
    center = center_of(service)
    before = leaves(center)
    commits = commits_of(center)
    release = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with center.writing() as unit:
            results["first"] = unit.ledger.append({"kind": "test.first"}, author="blue", at=NOW)
            release.wait(10)

    def good(name: str) -> None:
        with center.writing() as unit:
            results[name] = unit.ledger.append({"kind": f"test.{name}"}, author="red", at=NOW)

    def bad() -> None:
        try:
            with center.writing() as unit:
                unit.ledger.append({"kind": "test.refused"}, author="blue", at=NOW)
                raise Refused
        except Refused:
            results["bad"] = "refused"

    threads = [threading.Thread(target=first)]
    threads[0].start()
    _wait_for_queue(center, 0)
    time.sleep(0.05)  # first holds the lock
    for target, args in ((bad, ()), (good, ("second",)), (good, ("third",))):
        thread = threading.Thread(target=target, args=args)
        thread.start()
        threads.append(thread)
    _wait_for_queue(center, 3)
    release.set()
    for thread in threads:
        thread.join(20)
    assert results["bad"] == "refused"
    assert len(commits) == 1  # four units (one refused), one commit
    indices = sorted(int(str(results[k])) for k in ("first", "second", "third"))
    assert indices == [before, before + 1, before + 2]
    assert leaves(center) == before + 3
    with center.reading() as session:
        log = center.log(session)
        kinds = [open_envelope(data)[2] for _, data in log.entries(before, log.size)]
    assert not any(b"test.refused" in entry for entry in kinds)
    # The next lone writer continues the chain.
    with center.writing() as unit:
        assert unit.ledger.append({"kind": "test.after"}, author="blue", at=NOW) == before + 3


def test_a_lone_writer_commits_at_once(service: Service) -> None:
    center = center_of(service)
    with center.writing() as unit:
        index = unit.ledger.append({"kind": "test.alone"}, author="blue", at=NOW)
    assert leaves(center) == index + 1


def test_the_record_holds_together_after_concurrent_writers(service: Service) -> None:
    center = center_of(service)
    before = leaves(center)
    done: list[int] = []

    def work(i: int) -> None:
        for j in range(8):
            try:
                with center.writing() as unit:
                    unit.ledger.append({"kind": "test.load", "n": j}, author="blue", at=NOW)
                    if (i + j) % 4 == 0:
                        raise Refused
                done.append(1)
            except Refused:
                pass

    threads = [threading.Thread(target=work, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert leaves(center) == before + len(done) == before + 30
    with center.reading() as session:
        log = center.log(session)
        log.check_integrity()  # every stored node and leaf hash, recomputed
        entries = [loads_canonical(open_envelope(data)[2]) for _, data in log.entries(0, log.size)]
    seqs = [e["seq"] for e in entries if e["author"].endswith("blue")]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap left by a refused unit
    # The numbers the units kept in memory were stored with their group's commit: a process
    # that starts afresh reads each author's last one.
    last: dict[str, int] = {}
    for e in entries:
        last[e["author"]] = max(last.get(e["author"], 0), int(e["seq"]))
    with center.reading() as session:
        stored = dict(session.execute(select(RecordAuthor.author, RecordAuthor.seq)).all())
    assert stored == last
