"""The writer thread (:meth:`Center.write`): the works queued while it is busy run one after
the other, each in its own unit, and are committed together; each caller gets its own result
or its own error only once the group is durable; a work that raises leaves nothing; a failed
commit fails every work of its group and stores none of them; a work cancelled before its
turn never runs; closing the service runs what is queued."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from accord.center import runtime
from accord.center.bootstrap import Parts
from accord.center.runtime import Center, CommitFailed, Then, Unit
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from support.jig import NOW
from support.service import clock, settings_for
from support.writes import Refused, commits_of, leaves


def _kinds(center: Center, start: int) -> list[str]:
    with center.reading() as session:
        log = center.log(session)
        return [
            str(loads_canonical(open_envelope(data)[2])["event"]["kind"])
            for _, data in log.entries(start, log.size)
        ]


def _append(kind: str, *, fail: bool = False) -> Any:
    def work(unit: Unit) -> int:
        index = unit.ledger.append({"kind": kind}, author="blue", at=NOW)
        if fail:
            raise Refused(kind)
        return index

    return work


def _while_locked(center: Center, queue: Any) -> Any:
    """Run the coroutine ``queue()`` while another writer holds the write lock, so that
    every work it submits waits in the writer's queue; release the lock once they are all
    queued; the coroutine's result."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with center.writing():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)

    async def main() -> Any:
        task = asyncio.ensure_future(queue())
        await asyncio.sleep(0.1)  # every work is queued behind the held lock
        release.set()
        return await task

    try:
        return asyncio.run(main())
    finally:
        release.set()
        holder.join(10)


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups commit when their queue is empty, not when they grow old: a slow test machine
    (a PostgreSQL under load) must not split a group these tests count the commits of."""
    monkeypatch.setattr(runtime, "GROUP_MAX_SECONDS", 60.0)


def test_queued_works_share_one_commit_and_a_refused_one_leaves_nothing(
    center: Center, patient: None
) -> None:
    before = leaves(center)
    commits = commits_of(center)

    async def queue() -> list[Any]:
        works = [_append("test.a"), _append("test.refused", fail=True), _append("test.b")]
        return await asyncio.gather(*(center.write(w) for w in works), return_exceptions=True)

    first, refused, second = _while_locked(center, queue)
    assert isinstance(refused, Refused)
    assert (first, second) == (before, before + 1)  # the refused one left no gap
    assert len(commits) == 2  # the holder's empty unit, then the three works together
    assert leaves(center) == before + 2
    assert _kinds(center, before) == ["test.a", "test.b"]
    with center.reading() as session:
        center.log(session).check_integrity()


def test_a_group_that_grew_old_commits_with_works_still_queued(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first answers do not wait for the whole queue: past ``GROUP_MAX_SECONDS`` the
    group commits after its current unit, and the works behind it start another."""
    monkeypatch.setattr(runtime, "GROUP_MAX_SECONDS", 0.0)
    before = leaves(center)
    commits = commits_of(center)

    async def queue() -> list[Any]:
        works = [_append("test.a"), _append("test.b"), _append("test.c")]
        return await asyncio.gather(*(center.write(w) for w in works))

    assert _while_locked(center, queue) == [before, before + 1, before + 2]
    assert len(commits) == 4  # the holder's empty unit, then each work alone
    assert _kinds(center, before) == ["test.a", "test.b", "test.c"]


def test_then_runs_two_units_in_turn_and_the_first_stands_alone(
    center: Center, patient: None
) -> None:
    """:class:`Then`: the second work's answer; the first's unit stands when the second
    raises; the second never runs when the first raises; one commit for all of it."""
    before = leaves(center)
    commits = commits_of(center)

    async def queue() -> list[Any]:
        return await asyncio.gather(
            center.write(Then(_append("test.check"), _append("test.step"))),
            center.write(Then(_append("test.check2"), _append("test.refused", fail=True))),
            center.write(Then(_append("test.broken", fail=True), _append("test.never"))),
            return_exceptions=True,
        )

    answered, refused, broken = _while_locked(center, queue)
    assert answered == before + 1  # the second's answer
    assert isinstance(refused, Refused) and isinstance(broken, Refused)
    assert len(commits) == 2  # the holder's empty unit, then every unit together
    assert _kinds(center, before) == ["test.check", "test.step", "test.check2"]


def test_a_failed_commit_fails_every_work_of_its_group_and_stores_none(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = leaves(center)
    doomed: list[str] = []

    def refuse(session: Any) -> None:  # the commit of a group that ran a doomed work
        if doomed:
            doomed.clear()
            raise RuntimeError("the disk is full")

    def work(kind: str) -> Any:
        def run(unit: Unit) -> int:
            doomed.append(kind)
            return int(_append(kind)(unit))

        return run

    async def queue() -> list[Any]:
        works = [work("test.a"), work("test.b")]
        return await asyncio.gather(*(center.write(w) for w in works), return_exceptions=True)

    monkeypatch.setattr(runtime, "notify_pending", refuse)  # the last step before COMMIT
    answers = _while_locked(center, queue)
    assert all(isinstance(a, CommitFailed) for a in answers), answers
    assert leaves(center) == before
    # The writer goes on, on a record read afresh.
    assert asyncio.run(center.write(_append("test.after"))) == before
    assert _kinds(center, before) == ["test.after"]


def test_a_work_cancelled_before_its_turn_never_runs(center: Center) -> None:
    before = leaves(center)
    ran: list[str] = []

    def work(unit: Unit) -> None:
        ran.append("cancelled")
        unit.ledger.append({"kind": "test.cancelled"}, author="blue", at=NOW)

    async def queue() -> int:
        doomed = asyncio.ensure_future(center.write(work))
        kept = asyncio.ensure_future(center.write(_append("test.kept")))
        await asyncio.sleep(0)  # both submitted
        doomed.cancel()
        return await kept

    assert _while_locked(center, queue) == before
    assert ran == []
    assert _kinds(center, before) == ["test.kept"]


def test_closing_runs_what_is_queued_then_refuses(tmp_path: Path, database_url: str) -> None:
    center = Parts(settings_for(tmp_path, database_url=database_url), clock=clock).open()
    holding, release = threading.Event(), threading.Event()

    def hold(unit: Unit) -> None:
        holding.set()
        release.wait(10)

    async def queue() -> list[Any]:
        busy = asyncio.ensure_future(center.write(hold))
        await asyncio.sleep(0)
        queued = asyncio.ensure_future(center.write(_append("test.queued")))
        await asyncio.sleep(0)
        assert holding.wait(10)
        closing = threading.Thread(target=center.close)
        closing.start()
        release.set()
        answers = await asyncio.gather(busy, queued)
        closing.join(10)
        return answers

    try:
        before = leaves(center)
        assert asyncio.run(queue()) == [None, before]
        with pytest.raises(RuntimeError, match="shutting down"):
            asyncio.run(center.write(_append("test.late")))
    finally:
        center.close()
