"""Live events for subscribers of ``GET /v1/events``: one :class:`Hub` per server process
wakes on new rows of the ``events`` table and hands each event to the subscribers whose
member is in its audience.

Changes write their events with :func:`accord.center.event_store.publish` in their own unit of
work; writers are serialised (the record is a chain), so event ids are committed in
increasing order and "every event with an id above N" is a complete answer. The hub keeps the
highest id it has seen and, when woken, reads what came after it — one query per wake-up for
the whole process, however many subscribers — then fans the events out to the subscribers'
in-memory queues. What wakes it:

* on PostgreSQL, ``LISTEN accord_events`` on a dedicated asynchronous psycopg connection
  (:func:`~accord.center.event_store.publish` sends ``NOTIFY`` in the writing transaction, so the
  notification arrives after the commit, in every server process); a lost connection is
  re-opened, followed by a read of anything missed meanwhile, and a slow poll
  (:data:`PG_FALLBACK_POLL`) backs it up;
* on SQLite (one machine, one file), a poll every :data:`SQLITE_POLL` seconds.

The hub starts with its first subscriber, so a process nobody subscribes to does no work.

A subscription (:func:`stream`) first reads the events after the subscriber's last id from
the table (the resume, paged, filtered for its member by
:func:`~accord.center.event_store.events_for`), then follows the hub, skipping anything it has
already sent. A subscriber that falls :data:`QUEUE_LIMIT` events behind loses its queue and
catches up from the table again: a slow client costs memory only up to a bound, and misses
nothing.

A stream ends when the client goes away (Starlette cancels it), when the hub closes (the
application's shutdown) and — because uvicorn waits for open responses to finish *before*
it runs the application's shutdown — as soon as the process is asked to stop: the hub
chains itself in front of the server's SIGINT/SIGTERM handlers while it runs in the main
thread, so ``Ctrl+C`` or a ``SIGTERM`` to a worker ends every stream at once instead of
leaving the shutdown waiting on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import anyio.to_thread
from sqlalchemy import func, make_url, select

from accord.center.db.models import Event
from accord.center.event_store import CHANNEL, LiveEvent, events_for
from accord.center.runtime import Center

__all__ = [
    "KEEPALIVE",
    "PG_FALLBACK_POLL",
    "QUEUE_LIMIT",
    "SQLITE_POLL",
    "Hub",
    "Subscriber",
    "format_event",
    "stream",
]

_log = logging.getLogger(__name__)

SQLITE_POLL = 0.25
"""Seconds between two reads of the events table on SQLite."""

PG_FALLBACK_POLL = 30.0
"""Seconds after which the hub reads the table on PostgreSQL even without a notification."""

KEEPALIVE = 15.0
"""Seconds of silence after which a stream sends a comment, so proxies keep it open."""

QUEUE_LIMIT = 1000
"""Events a subscriber may fall behind before it re-reads the table instead."""

RETRY_MS = 2000
"""The reconnection delay a stream asks ``EventSource`` clients for."""

_PAGE = 100  # events per read of the table when resuming
_FAN_OUT_PAGE = 500  # events per read of the table by the hub
_RECONNECT_DELAY = 1.0  # seconds before re-opening a lost LISTEN connection, doubling
_MAX_RECONNECT_DELAY = 30.0


def format_event(event: LiveEvent) -> str:
    """One Server-Sent Events message: the id, the kind, and the payload with ``at``.

    >>> from datetime import datetime, UTC
    >>> format_event(LiveEvent(7, datetime(2026, 9, 21, 16, tzinfo=UTC), "x.y", {"a": 1}))
    'id: 7\\nevent: x.y\\ndata: {"a":1,"at":"2026-09-21T16:00:00Z"}\\n\\n'
    """
    data = {**event.payload, "at": format_time(event.at)}
    body = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {body}\n\n"


def format_time(at: datetime) -> str:
    """An instant as the API writes it (UTC, ``Z``)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(eq=False)
class Subscriber:
    """One open stream: its member, the events the hub handed it and not yet sent, and
    whether it fell behind or was closed."""

    member: str
    pending: deque[LiveEvent] = field(default_factory=deque)
    lagged: bool = False
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, event: LiveEvent) -> None:
        if len(self.pending) >= QUEUE_LIMIT:
            self.pending.clear()
            self.lagged = True
        elif not self.lagged:
            self.pending.append(event)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class Hub:
    """The process's fan-out of live events (see the module's description).

    Parameters
    ----------
    center
        The running service (its database and clock).
    poll
        Seconds between reads of the table when nothing else wakes the hub (default:
        :data:`SQLITE_POLL` on SQLite, :data:`PG_FALLBACK_POLL` on PostgreSQL).
    """

    def __init__(self, center: Center, *, poll: float | None = None) -> None:
        self._center = center
        self._postgres = center.engine.dialect.name == "postgresql"
        self._poll = (
            poll if poll is not None else PG_FALLBACK_POLL if self._postgres else SQLITE_POLL
        )
        self._subscribers: set[Subscriber] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._start_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._last = 0
        self._closed = False
        self._restore_signals: Callable[[], None] | None = None

    @property
    def subscribers(self) -> int:
        """How many streams are open in this process."""
        return len(self._subscribers)

    @property
    def last_id(self) -> int:
        """The highest event id the hub has read (every change up to it is committed)."""
        return self._last

    @property
    def closed(self) -> bool:
        """Whether the hub was closed (no stream may open)."""
        return self._closed

    async def subscribe(self, member: str) -> Subscriber:
        """Register a stream for ``member``; the hub starts with its first subscriber."""
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._tasks and not self._closed:
                await self._start()
        subscriber = Subscriber(member)
        if self._closed:
            subscriber.close()
        else:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a stream (it ended)."""
        self._subscribers.discard(subscriber)

    def end_streams(self) -> None:
        """End every open stream and refuse new ones (the process is stopping)."""
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.close()
        self._subscribers.clear()

    async def close(self) -> None:
        """End every stream and stop the hub's tasks."""
        self.end_streams()
        if self._restore_signals is not None:
            self._restore_signals()
            self._restore_signals = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except BaseException as error:  # cancelled, or failed: either way it is over
                if not isinstance(error, asyncio.CancelledError):
                    _log.warning("live events task ended with %r", error)

    # --- inside ---------------------------------------------------------------------------

    async def _start(self) -> None:
        self._wake = asyncio.Event()
        self._last = await anyio.to_thread.run_sync(self._max_id)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._fan_out(), name="accord-live-fan-out"))
        if self._postgres:
            self._tasks.append(loop.create_task(self._listen(), name="accord-live-listen"))
        self._chain_signals(loop)

    def _max_id(self) -> int:
        with self._center.reading() as session:
            return int(session.scalar(select(func.max(Event.id))) or 0)

    def _read_after(self, after: int) -> list[tuple[LiveEvent, frozenset[str]]]:
        with self._center.reading() as session:
            rows = session.scalars(
                select(Event).where(Event.id > after).order_by(Event.id).limit(_FAN_OUT_PAGE)
            ).all()
            return [
                (
                    LiveEvent(row.id, row.at, row.kind, json.loads(row.payload)),
                    frozenset(json.loads(row.audience)),
                )
                for row in rows
            ]

    async def _fan_out(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()
            if not self._subscribers:
                continue  # nobody listens; the next subscriber reads the table itself
            try:
                while True:
                    batch = await anyio.to_thread.run_sync(self._read_after, self._last)
                    by_member: dict[str, list[Subscriber]] = {}
                    for subscriber in self._subscribers:
                        by_member.setdefault(subscriber.member, []).append(subscriber)
                    for event, audience in batch:
                        self._last = event.id
                        for member in audience:
                            for subscriber in by_member.get(member, ()):
                                subscriber.offer(event)
                    if len(batch) < _FAN_OUT_PAGE:
                        break
            except Exception as error:  # the database is away: try again at the next wake-up
                _log.warning("cannot read live events: %s", type(error).__name__)

    async def _listen(self) -> None:
        import psycopg

        assert self._wake is not None
        url = make_url(self._center.settings.database_url)
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        delay = _RECONNECT_DELAY
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    delay = _RECONNECT_DELAY
                    self._wake.set()  # read whatever was committed while not listening
                    async for _ in connection.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError) as error:
                _log.warning(
                    "live events: no LISTEN connection (%s); trying again in %.0f s",
                    type(error).__name__,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RECONNECT_DELAY)

    def _chain_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        """End the streams first when the process is asked to stop (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return
        chained: dict[int, Any] = {}

        def handler(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self.end_streams)
            previous = chained.get(signum)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:  # what would have happened without the hub
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                chained[signum] = signal.signal(signum, handler)
            except (ValueError, OSError):  # pragma: no cover - not allowed here
                continue

        def restore() -> None:
            for signum, previous in chained.items():
                if signal.getsignal(signum) is handler:
                    signal.signal(signum, previous)

        self._restore_signals = restore


async def stream(
    hub: Hub, center: Center, member: str, *, after: int, keepalive: float = KEEPALIVE
) -> AsyncIterator[str]:
    """The Server-Sent Events text of ``member``'s events after id ``after``: first those
    already in the table, then each new one as the hub hands it over; a comment every
    ``keepalive`` seconds of silence. Ends when the hub closes or ends its streams.

    The first message carries ``id: after`` and no data: it dispatches no event, but sets
    the client's last event id to where the stream starts, so a client that connected "from
    now" and drops before any event of its own resumes from there and misses nothing."""
    subscriber = await hub.subscribe(member)
    try:
        yield f"retry: {RETRY_MS}\nid: {after}\n: accord live events for {member}\n\n"
        last = after
        catch_up = True
        while not subscriber.closed:
            if catch_up or subscriber.lagged:
                subscriber.lagged = False
                subscriber.pending.clear()
                while True:
                    page = await anyio.to_thread.run_sync(_page, center, member, last)
                    for event in page:
                        yield format_event(event)
                        last = event.id
                    if len(page) < _PAGE or subscriber.closed:
                        break
                catch_up = False
                continue
            while subscriber.pending:
                event = subscriber.pending.popleft()
                if event.id > last:
                    yield format_event(event)
                    last = event.id
            if subscriber.closed or subscriber.lagged:
                continue
            subscriber.wake.clear()
            if subscriber.pending or subscriber.closed or subscriber.lagged:
                continue
            try:
                await asyncio.wait_for(subscriber.wake.wait(), timeout=keepalive)
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        hub.unsubscribe(subscriber)


def _page(center: Center, member: str, after: int) -> list[LiveEvent]:
    with center.reading() as session:
        return events_for(session, member, after=after, limit=_PAGE)
