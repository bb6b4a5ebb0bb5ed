"""The running service's parts — the agreement, the database, the keys, the clock and the
process's caches (:class:`CenterCache`) — and the two ways to use the database:
:meth:`Center.reading` and :meth:`Center.writing`. A :class:`Center` is built, started and
closed by the composition root (:mod:`accord.center.bootstrap`), never here.

A write is one *unit of work*: a :class:`~sqlalchemy.orm.Session` in a transaction that
holds the database's write lock from its first statement (``BEGIN IMMEDIATE`` on SQLite,
after an exclusive ``flock`` that queues the writers of several server processes without
SQLite's sleeping busy handler; a transaction-scoped advisory lock on PostgreSQL) and a
:class:`~accord.center.ledger.Ledger` over the same connection. The unit's rows and their
record entries become durable together, and a unit that raises leaves neither. Writers are
serialised (the log is a chain: each leaf names the one before it).

**Group commit.** A durable commit costs a disk flush (``fsync``; a few milliseconds), and
writers are serialised, so one commit per unit would cap the service at a few hundred changes
a second whatever the CPU. Units that queue for the write lock therefore share a transaction:
each runs in its own SAVEPOINT inside the group's transaction (a unit that raises is rolled
back to its savepoint, alone); the unit that finds nobody else queued (or the group full, or
old: :data:`GROUP_MAX_UNITS`, :data:`GROUP_MAX_SECONDS`) commits the group, and every unit
of the group returns only once that commit is done. So :meth:`Center.writing` still returns
only when its unit is durable, and raises when it is not (:class:`CommitFailed`: then no
unit of the group was committed, and each of them raises). A lone writer commits at once,
as before.

**The writer thread.** The routes do not hold a thread each while they wait for the lock:
they hand their unit's work to :meth:`Center.write` and wait on the event loop. One thread
per service takes the works in turn, the ones queued behind the first in the same group,
commits the group when its queue is empty, and answers each work then. The queue is fair
between members by the writer time they take (:class:`_FairQueue`): each member's works in
order, the member that has taken the least writer time first, so one member's many costly
queued works never hold another's behind more than the one running. (A thread per
request cost a hand-off through the thread pool, and forty threads taking turns at the lock
and the interpreter, for every change.) The few writers outside a request (the escalation
tick, the exercise's feed, start-up) still use :meth:`Center.writing`; both queue on the same
lock.

**The writer process.** With :attr:`Center.remote` (``accord serve --writer-process``: the
composition root hands the center its line when it builds it), :meth:`Center.write` sends
each work to another process's writer thread instead (:mod:`accord.center.writer_process`),
so that the HTTP side and the units of work do not take turns at one interpreter lock. The
rest stays as it is: a unit in the writer process and one of :meth:`Center.writing` here
queue on the same database lock.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, SessionTransaction

from accord.agreement import Agreement
from accord.center.config import Settings
from accord.center.db.engine import writer
from accord.center.event_store import notify_pending
from accord.center.identity import Caller, find_caller, token_hash
from accord.center.keystore import KeyStore
from accord.center.ledger import Ledger, SequenceCache, open_log
from accord.errors import CommitFailed
from accord.record.keys import KeyRing
from accord.record.log import LogError, MerkleLog

__all__ = [
    "AUTH_CACHE_SECONDS",
    "GROUP_MAX_SECONDS",
    "GROUP_MAX_UNITS",
    "Center",
    "CenterCache",
    "Clock",
    "CommitFailed",
    "RemoteReads",
    "RemoteWrites",
    "Then",
    "Unit",
    "system_clock",
]

T = TypeVar("T")

Clock = Callable[[], datetime]
"""Returns the current instant, aware (UTC)."""

_log = logging.getLogger("accord.center")

_PG_WRITE_LOCK = 0x41434344  # "ACCD": the advisory lock that serialises record writers

AUTH_CACHE_SECONDS = 0.5
"""How long an authenticated token is remembered (see :meth:`Center.authenticate`): a token
removed, rotated or expired in any process is refused by every process within this (plus
one read). One read of the users table per token and process per this long is the whole
cost (``make bench``: ``auth``)."""

_AUTH_CACHE_MAX = 10_000

GROUP_MAX_UNITS = 32
"""The most units one commit makes durable."""

GROUP_MAX_SECONDS = 0.01
"""A group older than this commits at the end of its current unit, queue or not: no answer
waits for more than about this much of other units' work after its own. (When every request
in flight lands in one group, all answers leave at once and the writer then idles until the
next requests arrive; committing every ~10 ms lets the first answers go out, and their
clients' next requests come in, while the writer runs the rest. Measured under the load
bench: the writer's idle share fell from 14 % to under 1 %, for one more commit per three
units.)"""


class _FileLock:
    """The SQLite writers' lock across the server processes of one database file: an
    exclusive ``flock(2)`` on a file beside it, taken before ``BEGIN IMMEDIATE`` and given
    back after the commit. A process waiting for it is woken by the kernel the moment it is
    free, where SQLite's own busy handler would sleep and poll (up to 100 ms a turn)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _file_lock(engine: Engine) -> _FileLock | None:
    """The processes' write lock of an SQLite database file (None for PostgreSQL, whose
    writers queue on an advisory lock, and for an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return _FileLock(Path(database).with_name(Path(database).name + ".writer-lock"))


class _Group:
    """The transaction that units join while writers queue for the lock."""

    def __init__(self, session: Session, root: SessionTransaction) -> None:
        self.session = session
        self.root = root
        self.started = time.monotonic()
        self.units = 0
        self.broken = False  # a unit lost others' work: the group fails
        self.ended = False  # a unit ended the transaction itself
        self.done = threading.Event()
        self.error: BaseException | None = None


def system_clock() -> datetime:
    """The system's clock, in UTC."""
    return datetime.now(UTC)


class RemoteWrites(Protocol):
    """Runs works elsewhere, as :meth:`Center.write` would here (the port of
    :class:`accord.center.writer_process.RemoteWriter`)."""

    async def write(self, work: Callable[[Unit], Any] | Then[Any]) -> Any: ...

    async def close(self) -> None:
        """End the line (the works still waiting are answered as the line decides)."""
        ...


class RemoteReads(Protocol):
    """Runs heavy reads elsewhere, as :meth:`Center.read` would here (the port of
    :class:`accord.center.reader_process.RemoteReader`)."""

    async def read(self, work: Callable[[Center], Any]) -> Any: ...

    async def close(self) -> None:
        """End the line (the reads still waiting are answered as the line decides)."""
        ...


class CenterCache(Generic[T]):
    """One of the process's caches that live as long as their :class:`Center` (the
    deconfliction desk, the verified record, the checked openings, the admission gate): the
    key its module declares. The composition root (:mod:`accord.center.bootstrap`) hands
    each center it builds the keys of the caches it is to have; the center makes each with
    ``make`` when it is built and closes it with ``close`` (when given) when it closes,
    after its last write, in the reverse order. :meth:`Center.cache` finds one."""

    __slots__ = ("close", "make", "name")

    def __init__(
        self,
        name: str,
        make: Callable[[Center], T],
        *,
        close: Callable[[T], None] | None = None,
    ) -> None:
        self.name = name
        self.make = make
        self.close = close

    def __repr__(self) -> str:
        return f"CenterCache({self.name!r})"


@dataclass(frozen=True, slots=True)
class Unit:
    """One write transaction: the session for the service's rows, the ledger for the
    record; both commit or roll back together. ``center`` is the service it runs in (a
    work shipped to a writer process finds that process's parts there)."""

    session: Session
    ledger: Ledger
    center: Center


class Center:
    """The service's parts, built by the composition root (:mod:`accord.center.bootstrap`)
    over an engine whose database is migrated and keys that are loaded: ``caches``, the keys
    of the caches it makes now (see :class:`CenterCache`); ``remote``, what makes its line
    to a writer process (see :meth:`write`), when its works run there. :meth:`close`
    releases all of it."""

    def __init__(
        self,
        settings: Settings,
        agreement: Agreement,
        engine: Engine,
        keys: KeyStore,
        clock: Clock,
        *,
        caches: Iterable[CenterCache[Any]] = (),
        remote: Callable[[Center], RemoteWrites] | None = None,
        reads: Callable[[Center], RemoteReads] | None = None,
    ) -> None:
        self.settings = settings
        self.agreement = agreement
        self.engine = engine
        self.keys = keys
        self.clock = clock
        self._writer = writer(engine)
        # Readers see one snapshot for their whole transaction (SQLite's transactions always
        # do). Writers stay READ COMMITTED on PostgreSQL: each of their statements sees what
        # committed before it, which includes everything before the write lock was granted.
        self._reader = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._write_lock = threading.Lock()
        self._file_lock = _file_lock(engine)  # SQLite: taken by the process's open group
        self._queue_lock = threading.Lock()
        self._queued = 0  # threads waiting for the write lock
        self._group: _Group | None = None  # the open transaction, between units
        self._log: MerkleLog | None = None  # the record, kept in step across units
        self._seqs: SequenceCache | None = None  # its authors' numbers, kept with it
        self._ring: KeyRing | None = None
        self._callers: dict[str, tuple[Caller, float]] = {}  # token hash -> caller, until
        self._writer_thread: _Writer | None = None  # started by the first write()
        self._closed = False
        self._caches: dict[CenterCache[Any], Any] = {}
        for cache in caches:
            self._caches[cache] = cache.make(self)
        self.remote: RemoteWrites | None = None if remote is None else remote(self)
        """Where :meth:`write` sends its works instead (a writer process), when set."""
        self.remote_reads: RemoteReads | None = None if reads is None else reads(self)
        """Where :meth:`read` sends its reads instead (a reader process), when set."""

    def cache(self, key: CenterCache[T]) -> T:
        """This center's cache of ``key`` (made when the center was built)."""
        try:
            found: T = self._caches[key]
        except KeyError:
            raise RuntimeError(
                f"{key.name}: this center has none (it is closed, or was not built by "
                "accord.center.bootstrap)"
            ) from None
        return found

    def close(self) -> None:
        """Finish the queued writes, close the caches (in the reverse order of their
        making), then release the database connections."""
        with self._queue_lock:
            self._closed = True
            writer_thread, self._writer_thread = self._writer_thread, None
        try:
            if writer_thread is not None:
                writer_thread.close()
            caches, self._caches = self._caches, {}
            for key, value in reversed(caches.items()):
                if key.close is not None:
                    key.close(value)
        finally:
            self.engine.dispose()
            if self._file_lock is not None:
                self._file_lock.close()

    @property
    def origin(self) -> str:
        """The record's origin line."""
        return self.keys.origin

    @property
    def ring(self) -> KeyRing:
        """The public keys every verifier starts from."""
        if self._ring is None:
            self._ring = self.keys.ring()
        return self._ring

    def now(self) -> datetime:
        """The current instant (the service's only reading of the clock)."""
        return self.clock()

    @property
    def exercise_clock(self) -> bool:
        """Whether the clock is an exercise's (it says so: ``exercise = True``, as
        :class:`accord.center.exercise.ExerciseClock` does), not the real time."""
        return getattr(self.clock, "exercise", False) is True

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session in a read transaction (a consistent snapshot on SQLite and PostgreSQL)."""
        with Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Unit]:
        """A unit of work holding the write lock. When the block ends normally, returns once
        the unit is durable (see the module docstring: group commit) or raises
        :class:`CommitFailed`; when it raises, the unit is rolled back."""
        with self._queue_lock:
            self._queued += 1
        self._write_lock.acquire()
        with self._queue_lock:
            self._queued -= 1
        group: _Group | None = None
        try:
            group = self._join()
            with self._unit(group) as unit:
                yield unit
        finally:
            self._leave(group)
        group.done.wait()
        if group.error is not None:
            raise CommitFailed("the write was not committed") from group.error

    async def write(self, work: Callable[[Unit], T] | Then[T]) -> T:
        """Run ``work`` in a unit of work on the service's writer thread; its result, once
        the unit is durable. Raises what ``work`` raised (the unit rolled back), or
        :class:`CommitFailed`.

        The writer takes the queued works in turn, each in its own unit, and commits them
        as one group when the queue is empty (or the group full or old): a request's
        handler waits on the event loop, and no thread per request is held. ``work`` runs
        on the writer thread, which holds the write lock: it must not wait for the event
        loop, nor open a unit of its own (:meth:`writing`).

        With :attr:`remote` set (``accord serve --writer-process``), the work is sent to
        the writer process and runs there, with that process's parts in ``unit.center``:
        a work that may be sent is a module function or a :func:`functools.partial` of one
        over plain values."""
        if self.remote is not None:
            result: T = await self.remote.write(work)
            return result
        return await asyncio.wrap_future(self._write_queue().submit(work))

    async def read(self, work: Callable[[Center], T]) -> T:
        """``work(center)``, a heavy read (one that folds the record, as the picture at an
        instant does), run in a worker thread; raises what it raised.

        With :attr:`remote_reads` set (``accord serve --reader-process``), it is sent to the
        reader process and runs there with that process's center, so that its interpreter
        time is not taken from the requests this process serves: a read that may be sent
        is a module function or a :func:`functools.partial` of one over plain values, and
        writes nothing but in a unit of its own (:meth:`writing`)."""
        if self.remote_reads is not None:
            result: T = await self.remote_reads.read(work)
            return result
        return await anyio.to_thread.run_sync(work, self)

    def submit(self, work: Callable[[Unit], T] | Then[T]) -> Future[T]:
        """Queue ``work`` for the service's writer thread (:meth:`write` without the event
        loop): a future of its result, settled once the unit is durable."""
        return self._write_queue().submit(work)

    def _write_queue(self) -> _Writer:
        with self._queue_lock:
            if self._closed:
                raise RuntimeError("the service is shutting down")
            if self._writer_thread is None:
                self._writer_thread = _Writer(self)
            return self._writer_thread

    @contextmanager
    def _unit(self, group: _Group) -> Iterator[Unit]:
        """One unit in the open ``group`` (the caller holds the write lock): its own
        savepoint and ledger. A unit that raises is rolled back to its savepoint, alone (or
        breaks the group, when it cannot be)."""
        try:
            # Units write some rows with Core statements, behind the identity map of the
            # session they share: each unit reads afresh what the ones before it left.
            group.session.expire_all()
            savepoint = group.session.begin_nested()
        except BaseException:
            group.broken = True
            raise
        ok = False
        log = self._log
        size = log.size if log is not None else -1
        seqs = self._seqs
        assert seqs is not None  # set with the group
        sequences = seqs.unit(group.session.connection)
        try:
            yield Unit(
                group.session,
                Ledger(
                    group.session.connection,
                    self.keys,
                    log=log,
                    sequences=sequences,
                    exclusive=True,
                ),
                self,
            )
            if not group.root.is_active:
                # The unit rolled the whole transaction back itself: nothing of it stays (and
                # nothing of the group's earlier units, which then fail).
                self._ended(group)
            elif savepoint.is_active:
                savepoint.commit()
                seqs.keep(sequences)
                group.units += 1
            else:
                raise CommitFailed("the unit's own changes were rolled back")
            ok = True
        finally:
            if not ok:
                try:
                    if log is not None and log.size != size:
                        self._log = None  # it holds entries the rollback takes away
                    if not group.root.is_active:
                        self._ended(group)
                    elif savepoint.is_active:
                        savepoint.rollback()
                except BaseException:
                    group.broken = True
                    raise

    def _ended(self, group: _Group) -> None:
        """The group's transaction was rolled back from inside a unit."""
        self._log = self._seqs = None
        group.broken = group.broken or group.units > 0
        group.ended = True

    def _join(self) -> _Group:
        """The open group, or a new one that holds the database's write lock."""
        if self._group is not None:
            return self._group
        if self._file_lock is not None:
            self._file_lock.acquire()
        session = Session(self._writer, expire_on_commit=False)
        try:
            root = session.begin()
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITE_LOCK})
        except BaseException:
            session.close()
            self._release_file_lock()
            raise
        group = self._group = _Group(session, root)
        try:
            self._log = self._current_log(session)
        except BaseException:
            self._group = self._log = self._seqs = None
            session.rollback()
            session.close()
            self._release_file_lock()
            raise
        return group

    def _release_file_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()

    def _current_log(self, session: Session) -> MerkleLog:
        """The log kept across units, if it is in step with the database (another process
        may have appended since: then, and after any failure, it is read afresh, and the
        authors' sequence numbers with it). Its storage reads through the connection of
        whichever group is open; it appends without checking the size again (this process
        holds the write lock, and has just checked it)."""
        log = self._log
        if log is not None and self._seqs is not None:
            size = log.storage.size()  # through the group's connection
            if size == log.size:
                return log
            if size > log.size:
                # Another process appended (and committed, with its authors' numbers):
                # fold its leaves in rather than reading the log afresh.
                with contextlib.suppress(LogError):
                    if log.follow() == size:
                        self._seqs = SequenceCache()
                        return log

        def connection() -> Connection:
            group = self._group
            if group is None:
                raise RuntimeError("the record is written only inside a unit of work")
            return group.session.connection()

        self._seqs = SequenceCache()
        return open_log(connection, self.origin, exclusive=True)

    def _leave(self, group: _Group | None, *, commit: bool = False) -> None:
        """Commit the group when ``commit`` says so, or nobody queues behind it (or it is
        full, old or broken); then let the next writer in."""
        try:
            if group is not None and (
                commit
                or group.broken
                or group.ended
                or self._queued == 0
                or group.units >= GROUP_MAX_UNITS
                or time.monotonic() - group.started >= GROUP_MAX_SECONDS
            ):
                self._group = None
                try:
                    if group.broken or group.ended:
                        self._log = self._seqs = None
                        group.session.rollback()
                        if group.broken:
                            group.error = CommitFailed("a unit of this group broke its transaction")
                    else:
                        if self._seqs is not None:
                            self._seqs.write(group.session.connection())
                        notify_pending(group.session)
                        group.session.commit()
                except BaseException as error:
                    self._log = self._seqs = None
                    group.error = error
                finally:
                    group.session.close()
                    self._release_file_lock()
                    group.done.set()
        finally:
            self._write_lock.release()

    def log(self, session: Session) -> MerkleLog:
        """The record, read in ``session``'s transaction."""
        return open_log(session.connection, self.origin)

    def authenticate(self, token: str) -> Caller | None:
        """The user a bearer token belongs to, or ``None``.

        A token found is remembered (by its hash) for :data:`AUTH_CACHE_SECONDS`, so that
        a client's burst of requests costs one read; unknown tokens are never remembered.
        A user removed or rotated elsewhere (another server process, the writer process,
        ``accord users``) is therefore refused here within that time; a change made in
        this process also clears the cache at once (:meth:`forget_tokens`). An expired
        token is refused at once, remembered or not (the expiry is checked against the
        center's clock on every request)."""
        found = self.remembered(token)
        if found is not None:
            return found
        digest = token_hash(token)
        now = time.monotonic()
        with self.reading() as session:
            caller = find_caller(session, token, at=self.now())
        if caller is not None:
            if len(self._callers) >= _AUTH_CACHE_MAX:
                self._callers.clear()
            self._callers[digest] = (caller, now + AUTH_CACHE_SECONDS)
        return caller

    def remembered(self, token: str) -> Caller | None:
        """The caller :meth:`authenticate` remembers for ``token``, if any (no database read:
        cheap enough for the event loop)."""
        found = self._callers.get(token_hash(token))
        if found is not None and found[1] > time.monotonic():
            caller = found[0]
            if caller.expires_at is None or self.clock() < caller.expires_at:
                return caller
        return None

    def forget_tokens(self) -> None:
        """Forget every remembered token: the next request of each reads the database."""
        self._callers.clear()


@dataclass(frozen=True, slots=True)
class Then(Generic[T]):
    """A work of two works for :meth:`Center.write`: ``first`` in a unit of its own, then
    ``second`` in another, one right after the other in the same group. The answer is
    ``second``'s; ``first`` stands even when ``second`` raises (when ``first`` raises,
    ``second`` does not run). One hand-over to the writer where two would wait for two
    commits in turn: the center's own re-check of an operation, then the caller's step."""

    first: Callable[[Unit], object]
    second: Callable[[Unit], T]


def _works(work: Callable[[Unit], Any] | Then[Any]) -> tuple[Callable[[Unit], Any], ...]:
    return (work.first, work.second) if isinstance(work, Then) else (work,)


@dataclass(frozen=True, slots=True)
class _Job:
    work: Callable[[Unit], Any] | Then[Any]
    future: Future[Any]


def _member_of(work: Callable[[Unit], Any] | Then[Any]) -> str:
    """The member a work is done for (its ``member`` attribute, as
    :class:`accord.center.http.admission.Timed` carries it); "" for the center's own."""
    last = work.second if isinstance(work, Then) else work
    member = getattr(last, "member", "")
    return member if isinstance(member, str) else ""


class _FairQueue:
    """The writer's queue, fair between members by the writer time they take: each
    member's jobs in their order; the next job is the waiting member's that has taken the
    least writer time (:meth:`charge`) since it last had nothing queued, ties in turn. A
    member sending costly units back to back waits behind another's cheap ones: the other
    waits behind at most the one unit running, whatever either has queued."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._queues: dict[str, collections.deque[_Job]] = {}
        self._used: dict[str, float] = {}  # writer seconds, per member, on one clock
        self._served: dict[str, int] = {}  # when each member was last served (ties)
        self._last: dict[str, float] = {}  # each member's last unit, seconds
        self._now = 0.0  # the writer time of the member served last
        self._count = 0
        self._closed = False

    def put(self, job: _Job | None) -> None:
        with self._ready:
            if job is None:
                self._closed = True
            else:
                member = _member_of(job.work)
                waiting = self._queues.get(member)
                if waiting is None:
                    waiting = self._queues[member] = collections.deque()
                    # Idle time earns no credit: a member coming back starts level.
                    self._used[member] = max(self._used.get(member, 0.0), self._now)
                waiting.append(job)
            self._ready.notify()

    def charge(self, work: Callable[[Unit], Any] | Then[Any], seconds: float) -> None:
        """The writer spent ``seconds`` on ``work``."""
        with self._ready:
            member = _member_of(work)
            self._used[member] = self._used.get(member, 0.0) + max(0.0, seconds)
            self._last[member] = seconds

    def _next(self) -> str:
        return min(self._queues, key=lambda m: (self._used.get(m, 0.0), self._served.get(m, -1)))

    def _take(self, member: str) -> _Job:
        waiting = self._queues[member]
        job = waiting.popleft()
        if not waiting:
            del self._queues[member]
        self._now = self._used.get(member, 0.0)
        self._served[member] = self._count
        self._count += 1
        return job

    def get(self) -> _Job | None:
        """The next job, waiting for one; None once closed and empty."""
        with self._ready:
            while not self._queues and not self._closed:
                self._ready.wait()
            return self._take(self._next()) if self._queues else None

    def get_nowait(self, within: float = math.inf) -> _Job | None:
        """The next job; None once closed and empty; :class:`queue.Empty` if none yet, or
        if its member's last unit took longer than ``within`` seconds (the group commits
        first, so that the answers before it do not wait for it)."""
        with self._ready:
            if self._queues:
                member = self._next()
                if self._last.get(member, 0.0) > within:
                    raise queue.Empty
                return self._take(member)
            if self._closed:
                return None
            raise queue.Empty


class _Writer:
    """The service's writer thread (see :meth:`Center.write`): takes the queued jobs in
    turn, each in its own unit, the ones queued behind the first in the same group; commits
    the group when the queue is empty (or the group full, old or broken); then answers each
    job's future."""

    def __init__(self, center: Center) -> None:
        self._center = center
        self._jobs = _FairQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="accord-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Unit], T] | Then[T]) -> Future[T]:
        if self._closed:
            raise RuntimeError("the service is shutting down")
        future: Future[T] = Future()
        self._jobs.put(_Job(work, future))
        return future

    def close(self) -> None:
        """Run what is queued, then stop the thread."""
        self._closed = True
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                going = self._batch(job)
            except Exception:  # every job taken is answered; the writer goes on
                _log.exception("the writer thread's group failed")
                going = True
            if not going:
                return

    def _batch(self, job: _Job) -> bool:
        """Run ``job`` and the jobs queued behind it in one group, commit it, answer them;
        whether to go on (``False``: the queue ended)."""
        center = self._center
        answers: list[tuple[Future[Any], Any, BaseException | None]] = []
        going = True
        center._write_lock.acquire()
        try:
            group = center._join()
        except BaseException as error:
            center._leave(None)
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(error)
            return going
        try:
            while True:
                if job.future.set_running_or_notify_cancel():
                    started = time.perf_counter()
                    try:
                        for work in _works(job.work):
                            with center._unit(group) as unit:
                                result = work(unit)
                    except BaseException as error:
                        answers.append((job.future, None, error))
                    else:
                        answers.append((job.future, result, None))
                    finally:
                        self._jobs.charge(job.work, time.perf_counter() - started)
                if (
                    group.broken
                    or group.ended
                    or group.units >= GROUP_MAX_UNITS
                    or time.monotonic() - group.started >= GROUP_MAX_SECONDS
                ):
                    break
                try:
                    queued = self._jobs.get_nowait(within=GROUP_MAX_SECONDS)
                except queue.Empty:
                    break
                if queued is None:
                    going = False
                    break
                job = queued
        finally:
            try:
                center._leave(group, commit=True)
            finally:
                # Answered even if ending the group raised after its commit (closing the
                # session): what the commit decided is in group.error.
                for future, result, raised in answers:
                    if raised is None and group.error is not None:
                        raised = CommitFailed("the write was not committed")
                        raised.__cause__ = group.error
                    if raised is None:
                        future.set_result(result)
                    else:
                        future.set_exception(raised)
        return going
