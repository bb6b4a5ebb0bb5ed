"""One read of the picture per view, shared by the TAK connections that see alike.

What a connection is sent depends on its user's member and role alone: the visibility
policy (:mod:`accord.center.visibility`) decides by those two, and
:func:`~accord.center.cot.picture.picture` asks nothing else of the caller — except the
direct-line messages, read per connection (:data:`PER_CONNECTION`). So when a change
wakes twenty devices of one party, the part it may have changed is read once for all of
them, not twenty times: a read is reused by every connection of the same view that needs
no event later than the ones the read already reflects, and for at most
:data:`MAX_AGE_S` (the events carry the instant they were built: a refresh must rebuild
them). Each connection still keeps its own memory of what it sent and sends what changed.

**Which read reflects an event.** The live events' hub hands out events in the order of
their ids, and an event is committed before the hub reads it; a read started when the hub
had read up to id ``L`` sees every change of an event up to ``L``. A connection woken by
events up to ``need`` takes a read whose ``L`` ≥ ``need`` — finished, or still running (it
waits for it) — or starts its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import anyio.to_thread

from accord.center.cot.picture import picture
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.cot import Event

__all__ = ["MAX_AGE_S", "PER_CONNECTION", "Read", "SharedReads", "content_of"]

MAX_AGE_S = 1.0
"""How long a finished read may be reused (well under the coalescing of changes a
connection waits anyway, and far under the events' stale time)."""

PER_CONNECTION = frozenset({"messages"})
"""Parts read for each connection on its own."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def content_of(event: Event) -> Event:
    """``event`` without its times: what tells whether it changed."""
    return replace(event, time=_EPOCH, start=_EPOCH, stale=_EPOCH)


Read = dict[str, tuple[Event, Event]]
"""One part as read: uid → (the event, its content without times)."""


@dataclass
class _Done:
    reflects: int
    started: float
    part: Read


class SharedReads:
    """The reads of one serving process's TAK connections, shared per (member, role, part).

    ``last_id`` answers the highest live event id the hub has read (what a read started now
    reflects at least)."""

    def __init__(self, center: Center, last_id: Callable[[], int]) -> None:
        self._center = center
        self._last_id = last_id
        self._done: dict[tuple[str, Role, str], _Done] = {}
        self._running: dict[tuple[str, Role, str], tuple[int, asyncio.Future[Read | None]]] = {}
        self.reads = 0
        """Parts read from the database so far (tests and the bench count them)."""

    def last_id(self) -> int:
        return self._last_id()

    async def read(
        self, caller: Caller, parts: Iterable[str], *, need: int, at: datetime
    ) -> dict[str, Read]:
        """Each of ``parts`` as ``caller`` may see it, reflecting every event up to
        ``need``."""
        now = time.monotonic()
        out: dict[str, Read] = {}
        todo: list[str] = []
        waits: list[tuple[str, asyncio.Future[Read | None]]] = []
        for part in dict.fromkeys(parts):
            key = (caller.member, caller.role, part)
            done = self._done.get(key)
            if (
                part not in PER_CONNECTION
                and done is not None
                and done.reflects >= need
                and now - done.started <= MAX_AGE_S
            ):
                out[part] = done.part
                continue
            running = self._running.get(key)
            if part not in PER_CONNECTION and running is not None and running[0] >= need:
                waits.append((part, running[1]))
                continue
            todo.append(part)
        if todo:
            out.update(await self._read(caller, todo, at=at, started=now))
        for part, future in waits:
            found = await asyncio.shield(future)
            if found is None:  # that read failed: read it here
                found = (await self._read(caller, [part], at=at, started=time.monotonic()))[part]
            out[part] = found
        return out

    async def _read(
        self, caller: Caller, parts: list[str], *, at: datetime, started: float
    ) -> dict[str, Read]:
        reflects = self._last_id()
        loop = asyncio.get_running_loop()
        mine: dict[str, asyncio.Future[Read | None]] = {}
        for part in parts:
            if part not in PER_CONNECTION:
                mine[part] = future = loop.create_future()
                self._running[(caller.member, caller.role, part)] = (reflects, future)
        found: dict[str, Read] | None = None
        try:
            events = await anyio.to_thread.run_sync(picture, self._center, caller, at, parts)
            self.reads += len(parts)
            found = {
                part: {uid: (e, content_of(e)) for uid, e in seen.items()}
                for part, seen in events.items()
            }
            return found
        finally:
            for part, future in mine.items():
                key = (caller.member, caller.role, part)
                if self._running.get(key, (0, None))[1] is future:
                    del self._running[key]
                result = None if found is None else found[part]
                future.set_result(result)
                if result is not None:
                    done = self._done.get(key)
                    if done is None or done.reflects <= reflects:
                        self._done[key] = _Done(reflects, started, result)
