"""The composition root: the one place that builds, starts and stops a process of the service.

A :class:`Parts` says what a process is made of — the settings, the clock, where its units of
work run (:attr:`Parts.writer`), where its heavy reads run (:attr:`Parts.reader`) and the
background jobs it runs besides the center's own — and builds it these ways:

* :meth:`Parts.open` — the agreement loaded, the database migrated, the keys made or read,
  the :class:`~accord.center.runtime.Center` built with its caches (:data:`CACHES`) and its
  lines to a writer and a reader process (when there are), the record's origin recorded
  or checked.
  :meth:`Center.close <accord.center.runtime.Center.close>` releases it all. For commands
  and tests that need the parts and nothing running (``accord users``, the benchmarks).
* :meth:`Parts.running` — opened, the deconfliction desk loaded, closed at the end: the
  writer process (:func:`accord.center.writer_process.main`) and the exercise's seeding
  (``accord serve --demo``). With ``Settings.heap_upkeep`` (the processes ``accord
  serve`` starts), the garbage collector's upkeep runs too (:mod:`accord.center.heap`).
* :meth:`Parts.reading` — opened, the record verified in a thread, the heap's upkeep as
  above, closed at the end: the reader process (:func:`accord.center.reader_process.main`).
* :meth:`Parts.serving` — running, plus the background jobs (:meth:`Parts.background`:
  the escalation loop every ``Settings.escalation_interval_s`` seconds, the witnesses asked
  for cosignatures (:mod:`accord.center.record.witnesses`), then
  :attr:`Parts.jobs`, e.g. the exercise's track feed), the heap's upkeep as above, the
  record's verification warming up in a thread (the heap settled once it is done), and the
  live events' hub, then the TAK endpoint when :attr:`Parts.cot` asks for it
  (:mod:`accord.center.cot.listener`: it follows that hub); stopped in the reverse order
  (the endpoint's connections closed, the hub's streams
  ended, the warm-up stopped, the jobs cancelled, the lines to the writer and reader
  processes closed,
  then the center: its queued writes finished, its caches closed, its engine released). The
  HTTP application's lifespan (:func:`accord.center.app.create_app`).

**A new background job** is a coroutine function of the started center that runs until
cancelled: one every serving process runs goes in :meth:`Parts.background`; one only some
processes run (the exercise's feed) is passed in :attr:`Parts.jobs` by the command that
starts them (:mod:`accord.center.cli`). **A new per-process cache** is a
:class:`~accord.center.runtime.CenterCache` key declared by its module and listed in
:data:`CACHES`. Nothing here runs at import; the environment is read only by
:func:`settings_from_environment`, for the processes ``accord serve`` starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread

from accord.agreement import load_agreement
from accord.center import acts, heap
from accord.center.airspace.escalation import escalate_alerts_due
from accord.center.config import DEFAULT_KEYS_DIR, Settings, database_url
from accord.center.cot.listener import CotOptions, Endpoint
from accord.center.db.engine import make_engine
from accord.center.db.migrate import upgrade
from accord.center.directline import reading
from accord.center.directline.escalation import escalate_due
from accord.center.escalation.service import escalation_loop
from accord.center.events.live import Hub
from accord.center.http import admission
from accord.center.keystore import KeyStore
from accord.center.operations import desk as operations
from accord.center.picture import (
    checkpoints,
    compliance,
    judge_checkpoints,
    snapshots,
    verified,
)
from accord.center.picture import service as picture_service
from accord.center.record.witnesses import witness_loop
from accord.center.runtime import (
    Center,
    CenterCache,
    Clock,
    RemoteReads,
    RemoteWrites,
    system_clock,
)
from accord.center.signing import service as signing
from accord.errors import AgreementError, Issue
from accord.examples import example_path

__all__ = [
    "AGREEMENT_ENV",
    "BASEMAP_ENV",
    "CACHES",
    "CLOCK_ENV",
    "COT_ENV",
    "KEYS_DIR_ENV",
    "Job",
    "Parts",
    "Reader",
    "Serving",
    "Writer",
    "clock_from_environment",
    "cot_from_environment",
    "settings_from_environment",
]

AGREEMENT_ENV = "ACCORD_AGREEMENT"
"""The agreement file for :func:`settings_from_environment` (default: the embedded
example)."""

BASEMAP_ENV = "ACCORD_BASEMAP"
"""The operator's basemap archive for :func:`settings_from_environment` (unset: none)."""

KEYS_DIR_ENV = "ACCORD_KEYS_DIR"
"""The folder of the server-side keys for :func:`settings_from_environment` (default:
``var/keys``)."""

COT_ENV = "ACCORD_COT"
"""The TAK endpoint's options (:meth:`CotOptions.to_environment
<accord.center.cot.listener.CotOptions.to_environment>`) for the HTTP process ``accord serve``
starts beside its writer process; unset, no endpoint."""

CLOCK_ENV = "ACCORD_CLOCK"
"""An exercise clock shared by several server processes: ``START@ORIGIN``, the instant
(ISO 8601) the clock read at ``ORIGIN`` seconds of :func:`time.monotonic` (see
:func:`accord.center.exercise.exercise_clock`); unset, the system clock."""

Job = Callable[[Center], Coroutine[Any, Any, None]]
"""A background job: runs on the started center until cancelled (see :meth:`Parts.serving`)."""

Writer = Callable[[Center], RemoteWrites]
"""Makes a center's line to where its units of work run instead of its own writer thread:
:class:`accord.center.writer_process.WriterSocket` (the writer process), or
:class:`accord.center.writer_process.Loopback` (the tests: the same boundary, in process)."""

Reader = Callable[[Center], RemoteReads]
"""Makes a center's line to where its heavy reads run instead of its own worker threads:
:class:`accord.center.reader_process.ReaderSocket` (the reader process), or
:class:`accord.center.reader_process.LoopbackReader` (the tests: the same boundary, in
process)."""

CACHES: tuple[CenterCache[Any], ...] = (
    operations.DESK,
    verified.VERIFIED,
    verified.OPENED,
    compliance.JUDGE,
    picture_service.EXTENTS,
    admission.GATE,
    reading.NAMES,
    acts.REGISTRY,
    acts.RESTORED,
)
"""The caches every center has, made in this order when it is built and closed in the
reverse order when it closes."""


@dataclass(frozen=True, slots=True)
class Serving:
    """A serving process's started parts: the center and the live events' hub."""

    center: Center
    hub: Hub
    cot: Endpoint | None = None


@dataclass(frozen=True, slots=True)
class Parts:
    """What one process of the service is made of (see the module's description):
    ``settings``; ``clock``, which gives the current instant (UTC); ``writer``, where its
    units of work run when not on its own writer thread; ``reader``, where its heavy reads
    run when not in its own worker threads; ``jobs``, background jobs it runs
    while it serves, besides the center's own (:meth:`background`); ``cot``, the TAK
    endpoint's ports and limits (``None`` or no port: none)."""

    settings: Settings
    clock: Clock = system_clock
    writer: Writer | None = None
    reader: Reader | None = None
    jobs: tuple[Job, ...] = ()
    cot: CotOptions | None = None

    def open(self) -> Center:
        """The center, built: the agreement loaded, the database migrated, the missing keys
        created, the caches made, the line to the writer process (if any) made, and the
        record in the database checked to be this agreement's (its origin). Close it with
        :meth:`~accord.center.runtime.Center.close`."""
        settings = self.settings
        agreement = load_agreement(settings.agreement_path)
        if not agreement.rooted and not settings.unsafe_center_holds_member_keys:
            raise AgreementError(
                str(settings.agreement_path),
                [
                    Issue(
                        "parties",
                        "the agreement names no trust roots: each party, notifier and monitor "
                        "makes its root at its office (`accord office init`) and the agreement "
                        "names it (root_key); the center never holds a member's key",
                    )
                ],
            )
        engine = make_engine(settings.database_url)
        center: Center | None = None
        try:
            upgrade(engine)
            center = Center(
                settings,
                agreement,
                engine,
                KeyStore(settings.keys_dir, agreement),
                self.clock,
                caches=CACHES,
                remote=self.writer,
                reads=self.reader,
            )
            center.ring  # noqa: B018 - reading the keys creates the missing ones
            with center.writing() as unit:
                unit.ledger.log  # noqa: B018 - opening it records or checks the origin
                if agreement.rooted:  # the agreement is the record's first entry
                    signing.adopt(unit, agreement, center.now())
        except BaseException:
            if center is None:
                engine.dispose()
            else:
                center.close()
            raise
        return center

    @contextmanager
    def running(self) -> Iterator[Center]:
        """The center, opened and its deconfliction desk loaded; closed when the block ends
        (its queued writes finished). For a process that runs its own units of work (no
        :attr:`writer`)."""
        center = self.open()
        try:
            operations.prepare(center)
            with _heap_kept(self.settings):
                yield center
        finally:
            center.close()

    @contextmanager
    def reading(self, stop: threading.Event) -> Iterator[Center]:
        """The center, opened, its record verified in a thread of its own (resumed from the
        checkpoint, the newest snapshots checked: reads before it ends verify what they
        need; then the heap settled) until ``stop`` is set; closed when the block ends. For
        the reader process (:mod:`accord.center.reader_process`), which runs no unit of work
        and no job."""
        center = self.open()
        warming = threading.Thread(
            target=self._warm,
            args=(center, stop),
            kwargs={"judge": False},
            name="accord-reader-warm",
            daemon=True,
        )
        try:
            warming.start()
            with _heap_kept(self.settings):
                yield center
        finally:
            stop.set()
            warming.join()
            center.close()

    def background(self) -> tuple[Job, ...]:
        """The jobs a serving process runs: the escalation of unacknowledged direct-line
        messages and airspace alerts (unless ``Settings.escalation_interval_s`` is 0), the
        asking of the parties' witnesses for cosignatures (unless
        ``Settings.witness_interval_s`` is 0; it ends at once when the agreement names no
        witness), the keeping of the record's verification checkpoint
        (:func:`~accord.center.picture.checkpoints.keeper`), of the picture's snapshots
        (:func:`~accord.center.picture.snapshots.keeper`) and of the compliance judge's
        checkpoints (:func:`~accord.center.picture.judge_checkpoints.keeper`), then
        :attr:`jobs`."""
        interval = self.settings.escalation_interval_s
        own: tuple[Job, ...] = ()
        if interval > 0:
            own = (partial(_escalation, interval=interval),)
        if self.settings.witness_interval_s > 0:
            own = (*own, partial(witness_loop, interval=self.settings.witness_interval_s))
        judge = partial(judge_checkpoints.keeper, take=compliance.captured)
        own = (*own, checkpoints.keeper, snapshots.keeper, judge)
        return (*own, *self.jobs)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Serving]:
        """The parts of a serving process, started (in worker threads where they block);
        stopped in the reverse order when the block ends, each stop tried whatever the
        others did (see the module's description)."""
        async with contextlib.AsyncExitStack() as stack:
            center = await anyio.to_thread.run_sync(self.open)
            stack.callback(center.close)
            if center.remote is not None:
                stack.push_async_callback(center.remote.close)
            if center.remote_reads is not None:
                stack.push_async_callback(center.remote_reads.close)
            for job in self.background():
                stack.push_async_callback(_cancel, asyncio.create_task(job(center)))
            await anyio.to_thread.run_sync(operations.prepare, center)
            stack.enter_context(_heap_kept(self.settings))
            stop_warming = threading.Event()
            warming = asyncio.create_task(
                anyio.to_thread.run_sync(self._warm, center, stop_warming)
            )
            stack.push_async_callback(_stop, stop_warming, warming)
            hub = Hub(center)
            stack.push_async_callback(hub.close)
            endpoint = None
            if self.cot is not None and self.cot.on:
                endpoint = Endpoint(center, hub, self.cot)
                stack.push_async_callback(endpoint.close)
                await endpoint.start()
            yield Serving(center, hub, endpoint)

    def _warm(self, center: Center, stop: threading.Event, *, judge: bool = True) -> None:
        """The record verified into its cache (resumed from its checkpoint), the newest
        snapshots of the picture checked against it, and, with ``judge`` (not in the reader
        process), the compliance judge folded; then, with the heap kept, what that loaded
        settled at once rather than at the upkeep's next turn."""
        checkpoints.warm(center, stop)
        if not stop.is_set():
            snapshots.check(center)
        if judge:
            compliance.warm(center, stop)
        if self.settings.heap_upkeep and not stop.is_set():
            heap.settle()


@contextmanager
def _heap_kept(settings: Settings) -> Iterator[None]:
    """The garbage collector's upkeep (:mod:`accord.center.heap`) while the block runs, when
    ``settings.heap_upkeep`` asks for it: started once the start-up work is done, so that
    what it loaded is settled at once."""
    if not settings.heap_upkeep:
        yield
        return
    upkeep = heap.Upkeep()
    try:
        yield
    finally:
        upkeep.stop()


async def _escalation(center: Center, *, interval: float) -> None:
    await escalation_loop(center, interval, (escalate_due, escalate_alerts_due))


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _stop(stop: threading.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    with contextlib.suppress(Exception):
        await task


def settings_from_environment() -> tuple[Settings, Clock]:
    """The settings and the clock the environment describes: ``ACCORD_DATABASE_URL``,
    ``ACCORD_AGREEMENT``, ``ACCORD_KEYS_DIR``, ``ACCORD_BASEMAP`` and ``ACCORD_CLOCK`` (what
    ``accord serve`` hands to the processes it starts)."""
    agreement = os.environ.get(AGREEMENT_ENV)
    basemap = os.environ.get(BASEMAP_ENV)
    settings = Settings(
        database_url=database_url(None, os.environ),
        agreement_path=Path(agreement) if agreement else example_path("jig.yaml"),
        keys_dir=Path(os.environ.get(KEYS_DIR_ENV) or DEFAULT_KEYS_DIR),
        heap_upkeep=True,  # a process `accord serve` started: it owns its interpreter
        basemap=Path(basemap) if basemap else None,
    )
    return settings, clock_from_environment()


def clock_from_environment() -> Clock:
    """The exercise clock :data:`CLOCK_ENV` describes (what ``accord serve`` hands to the
    processes it starts, and what stamps an operator's commands on the exercise's time),
    else the system clock."""
    shared = os.environ.get(CLOCK_ENV)
    if not shared:
        return system_clock
    from accord.center.exercise import exercise_clock
    from accord.chrono import parse_instant

    start, _, origin = shared.partition("@")
    try:
        return exercise_clock(parse_instant(start), origin=float(origin))
    except ValueError:
        raise ValueError(f"{CLOCK_ENV}: expected START@ORIGIN, got {shared!r}") from None


def cot_from_environment() -> CotOptions | None:
    """The TAK endpoint's options from :data:`COT_ENV` (``None`` when unset)."""
    text = os.environ.get(COT_ENV)
    return CotOptions.from_environment(text) if text else None
