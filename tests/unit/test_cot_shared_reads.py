"""The TAK endpoint's shared reads (:mod:`accord.center.cot.reads`): a change that wakes
many connections of one view is read once for all of them, never reused for a connection
that needs a later event than the read reflects, never shared between views, and never
for the direct-line messages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from accord.center.cot import reads as shared
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.cot import Detail, Event, Point

AT = datetime(2026, 9, 20, 10, tzinfo=UTC)


def _caller(member: str, role: Role = Role.OFFICER, name: str = "u") -> Caller:
    return Caller(user_id=hash((member, name)) % 1000, name=name, member=member, role=role)


class FakePicture:
    """Counts the reads; each part holds one event naming the reader's member and the
    last event id at the time of the read."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.last = 0

    def __call__(
        self, center: Any, caller: Caller, at: datetime, parts: Any
    ) -> dict[str, dict[str, Event]]:
        parts = tuple(parts)
        self.calls.append((caller.member, parts))
        return {
            part: {
                f"{part}.{caller.member}.{self.last}": Event(
                    uid=f"{part}.{caller.member}.{self.last}",
                    type="a-f-G",
                    time=at,
                    start=at,
                    stale=at,
                    point=Point(lat=0, lon=0),
                    detail=Detail(),
                )
            }
            for part in parts
        }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePicture:
    picture = FakePicture()
    monkeypatch.setattr(shared, "picture", picture)
    return picture


def _reads(fake: FakePicture) -> shared.SharedReads:
    return shared.SharedReads(cast(Center, None), lambda: fake.last)


def test_twenty_connections_of_one_view_woken_together_read_once(fake: FakePicture) -> None:
    async def run() -> list[dict[str, shared.Read]]:
        reads = _reads(fake)
        fake.last = 7
        callers = [_caller("blue", name=f"dev-{i}") for i in range(20)]
        return await asyncio.gather(
            *(reads.read(c, ["declarations", "operations"], need=7, at=AT) for c in callers)
        )

    answers = asyncio.run(run())
    assert fake.calls == [("blue", ("declarations", "operations"))]
    assert all(a == answers[0] for a in answers)


def test_a_read_is_never_reused_for_a_later_event_nor_by_another_view(
    fake: FakePicture,
) -> None:
    async def run() -> None:
        reads = _reads(fake)
        fake.last = 7
        await reads.read(_caller("blue"), ["declarations"], need=7, at=AT)
        await reads.read(_caller("blue", name="other"), ["declarations"], need=7, at=AT)
        assert len(fake.calls) == 1  # reused: it reflects event 7
        fake.last = 8
        got = await reads.read(_caller("blue"), ["declarations"], need=8, at=AT)
        assert len(fake.calls) == 2 and "declarations.blue.8" in got["declarations"]
        await reads.read(_caller("red"), ["declarations"], need=8, at=AT)
        await reads.read(_caller("blue", Role.APPROVER), ["declarations"], need=8, at=AT)
        assert [m for m, _ in fake.calls] == ["blue", "blue", "red", "blue"]

    asyncio.run(run())


def test_messages_are_read_for_each_connection_and_old_reads_expire(
    fake: FakePicture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        reads = _reads(fake)
        for name in ("a", "b"):
            await reads.read(_caller("blue", name=name), ["messages"], need=0, at=AT)
        assert len(fake.calls) == 2
        monkeypatch.setattr(shared, "MAX_AGE_S", 0.0)
        await reads.read(_caller("blue"), ["areas"], need=0, at=AT)
        await asyncio.sleep(0.01)
        await reads.read(_caller("blue", name="b"), ["areas"], need=0, at=AT)
        assert len(fake.calls) == 4  # too old to reuse: rebuilt (the events carry times)

    asyncio.run(run())


def test_a_failed_read_leaves_its_waiters_to_read_for_themselves(
    fake: FakePicture, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}

    def failing_once(center: Any, caller: Caller, at: datetime, parts: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database is away")
        return fake(center, caller, at, parts)

    monkeypatch.setattr(shared, "picture", failing_once)

    async def run() -> list[Any]:
        reads = _reads(fake)
        return await asyncio.gather(
            reads.read(_caller("blue", name="a"), ["declarations"], need=0, at=AT),
            reads.read(_caller("blue", name="b"), ["declarations"], need=0, at=AT),
            return_exceptions=True,
        )

    first, second = asyncio.run(run())
    assert isinstance(first, RuntimeError)
    assert "declarations.blue.0" in second["declarations"]
