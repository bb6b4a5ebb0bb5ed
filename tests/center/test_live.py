"""The process's hub of live events (:mod:`accord.center.events.live`), driven directly on both
backends: one read of the table per wake-up for all subscribers, a keep-alive in silence, a
subscriber that falls behind catches up from the table, and streams end when they should."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio.to_thread
import pytest

from accord.center.events import live
from accord.center.events.live import Hub, stream
from accord.center.runtime import Center
from support.events import note


async def publish_async(center: Center, audience: list[str], n: int) -> None:
    await anyio.to_thread.run_sync(note, center, audience, n)


async def next_message(messages: AsyncIterator[str], timeout: float = 10) -> str:
    return await asyncio.wait_for(anext(messages), timeout)


async def next_event(messages: AsyncIterator[str], timeout: float = 10) -> str:
    while (message := await next_message(messages, timeout)).startswith((":", "retry")):
        continue
    return message


def test_one_read_serves_every_subscriber(center: Center) -> None:
    async def main() -> None:
        hub = Hub(center, poll=0.05)
        reads: list[int] = []
        real = hub._read_after

        def counted(after: int) -> list:  # type: ignore[type-arg]
            batch = real(after)
            if batch:
                reads.append(len(batch))
            return batch

        hub._read_after = counted  # type: ignore[method-assign]
        streams = [stream(hub, center, member, after=0) for member in ["blue"] * 4 + ["red"]]
        for s in streams:
            await next_message(s)  # subscribed
        waiting = [asyncio.create_task(next_event(s)) for s in streams[:4]]
        await asyncio.sleep(0.3)  # each has read the table (nothing yet) and waits for the hub
        await publish_async(center, ["blue"], 1)
        for task in waiting:
            assert '"n":1' in await task
        assert reads == [1]  # one read of one row for the four of them
        assert hub.subscribers == 5
        for s in streams:
            await s.aclose()  # type: ignore[attr-defined]
        assert hub.subscribers == 0
        await hub.close()

    asyncio.run(main())


def test_the_first_message_names_where_the_stream_starts(center: Center) -> None:
    """A client that connected "from now" and drops before any event resumes from the id the
    stream started after (the first message sets it and dispatches nothing)."""

    async def main() -> None:
        hub = Hub(center, poll=0.05)
        messages = stream(hub, center, "blue", after=41)
        first = await next_message(messages)
        lines = first.splitlines()
        assert "id: 41" in lines
        assert not any(line.startswith("data:") for line in lines)
        await messages.aclose()  # type: ignore[attr-defined]
        await hub.close()

    asyncio.run(main())


def test_silence_gets_a_keep_alive(center: Center) -> None:
    async def main() -> None:
        hub = Hub(center, poll=0.05)
        messages = stream(hub, center, "blue", after=0, keepalive=0.2)
        assert (await next_message(messages)).startswith("retry: ")
        assert await next_message(messages, timeout=5) == ": keep-alive\n\n"
        await hub.close()

    asyncio.run(main())


def test_a_subscriber_that_falls_behind_misses_nothing(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "QUEUE_LIMIT", 3)

    pages: list[int] = []
    real_page = live._page

    def page(*args: object) -> list:  # type: ignore[type-arg]
        events = real_page(*args)  # type: ignore[arg-type]
        pages.append(len(events))
        return events

    monkeypatch.setattr(live, "_page", page)

    async def main() -> None:
        hub = Hub(center, poll=0.05)
        messages = stream(hub, center, "red", after=0)
        await next_message(messages)
        first = asyncio.create_task(next_event(messages))
        await asyncio.sleep(0.3)
        await publish_async(center, ["red"], -1)
        assert '"n":-1' in await first  # handed over by the hub: the stream is live
        assert pages == [0]
        for n in range(12):  # the subscriber reads nothing meanwhile
            await publish_async(center, ["red"] if n % 2 else ["blue"], n)
        await asyncio.sleep(0.5)  # the hub hands them over (and drops them: too many)
        got = [await next_event(messages) for _ in range(6)]
        assert [f'"n":{n}' in m for n, m in zip(range(1, 12, 2), got, strict=True)] == [True] * 6
        assert pages == [0, 6]  # it fell behind, and read the six from the table
        await publish_async(center, ["red"], 99)
        assert '"n":99' in await next_event(messages)
        await hub.close()

    asyncio.run(main())


def test_closing_the_hub_ends_every_stream(center: Center) -> None:
    async def main() -> None:
        hub = Hub(center, poll=0.05)
        streams = [stream(hub, center, m, after=0) for m in ("blue", "red", "hnc")]
        for s in streams:
            await next_message(s)
        await hub.close()
        for s in streams:
            with pytest.raises(StopAsyncIteration):
                await next_message(s)
        assert hub.subscribers == 0
        # A stream opened after the end ends at once.
        late = stream(hub, center, "blue", after=0)
        await next_message(late)
        with pytest.raises(StopAsyncIteration):
            await next_message(late)

    asyncio.run(main())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_wakes_by_notify_and_survives_a_lost_connection(center: Center) -> None:
    from sqlalchemy import text

    def kill_listeners() -> int:
        with center.engine.connect() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            ).scalar()
            connection.commit()
        return int(killed or 0)

    async def main() -> None:
        hub = Hub(center, poll=3600)  # nothing but NOTIFY wakes it
        messages = stream(hub, center, "blue", after=0)
        await next_message(messages)
        for n in range(2):
            waiting = asyncio.create_task(next_event(messages, timeout=8))
            await asyncio.sleep(0.5)
            await publish_async(center, ["blue"], n)
            assert f'"n":{n}' in await waiting
            assert await anyio.to_thread.run_sync(kill_listeners) == 1
        await hub.close()

    asyncio.run(main())
