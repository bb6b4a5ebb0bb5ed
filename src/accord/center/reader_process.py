"""The reader process: the heavy reads run in a process of their own, beside the HTTP
process(es) (``accord serve --reader-process``), so that a monitor asking for pictures back
to back never takes the interpreter from another party's writes.

A picture at an instant folds the record's tail from a snapshot and selects from what it
folded: hundreds of milliseconds of pure Python. In the HTTP process it holds the
interpreter lock while other requests wait to be read, their acts checked and handed to the
writer; a waiting thread gets the lock back only at the switch interval, once for every
read or write on a socket it makes, so a write of a few milliseconds takes hundreds. Here
the read runs in another interpreter, and that process runs at a lower CPU priority
(:data:`READER_NICE`): when the cores are busy, the writes go first and the pictures wait;
when they are idle, a picture takes what it needs.

The line is the writer process's (:mod:`accord.center.writer_process`): frames on a Unix
socket of mode 0600 in a folder of mode 0700, pickles read only from a peer of the
service's own user. A front process sends a read, a module function or a
:func:`functools.partial` of one over plain values, taking the reader's
:class:`~accord.center.runtime.Center`; the reader runs it in one of :data:`READ_THREADS`
threads and answers its result, or the error it raised
(:func:`~accord.center.writer_process.portable`).
A read changes nothing, with one exception: a picture signs a tree head when the log has
grown since the last one (:func:`~accord.center.record.heads.latest_head`), in a short unit
of its own queued on the database's write lock, as the HTTP processes' own writers (the
escalation tick) do beside the writer process. When the reader
process is gone, each waiting and later read raises :class:`~accord.errors.ReaderUnavailable`
(503: ask again), and ``accord serve`` stops the service.

The reader's center verifies the record for itself (resumed from the checkpoint, as every
process of the service does), and reads the picture's snapshots the serving process keeps.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from accord.center import heap
from accord.center.bootstrap import Parts, settings_from_environment
from accord.center.logs import LOG_FORMAT_ENV, configure, log_format_of
from accord.center.runtime import Center
from accord.center.writer_process import RemoteLine, crossed, serve_socket
from accord.errors import ReaderUnavailable

__all__ = [
    "READER_NICE",
    "READER_SOCKET_ENV",
    "READ_THREADS",
    "LoopbackReader",
    "ReaderSocket",
    "RemoteReader",
    "main",
    "serve_reads",
]

T = TypeVar("T")

READER_SOCKET_ENV = "ACCORD_READER_SOCKET"
"""The reader process's socket, for the HTTP processes (set by ``accord serve``)."""

READ_THREADS = 2
"""How many reads the reader process runs at once: one slow picture does not hold another
party's behind it (they share the one interpreter, and each member's reads are limited by its
``read_share``)."""

READER_NICE = 10
"""How much lower the reader process's CPU priority is than the service's other processes
(:func:`os.nice`): under Linux's fair scheduler, about a tenth of a core's weight against
a busy process of the default priority, all of an idle machine."""

_log = logging.getLogger("accord.center.reader")


def _run(center: Center, pool: ThreadPoolExecutor, work: Callable[[Center], Any]) -> Future[Any]:
    return pool.submit(_read, center, work)


def _read(center: Center, work: Callable[[Center], Any]) -> Any:
    """``work`` on ``center``, and then the C heap's free memory given back
    (:func:`~accord.center.heap.trim`): a picture's passing objects (a snapshot decoded, a
    tail folded) are freed when it ends, but glibc keeps their pages. On the kept
    million-entry week, 60 pictures from two threads left the process at 530-560 MB, at
    435-466 MB with a trim after each; a trim took 2.5-5.4 ms."""
    try:
        return work(center)
    finally:
        heap.trim()


def serve_reads(center: Center, path: Path, stop: threading.Event) -> None:
    """Listen on a Unix socket at ``path`` (mode 0600) until ``stop`` is set; run the reads
    sent by processes of the same user on ``center``, :data:`READ_THREADS` at a time."""
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="accord-read") as pool:
        serve_socket(lambda work: _run(center, pool, work), path, stop, name="accord-reader-front")


def main() -> None:
    """The reader process (started by ``accord serve --reader-process``): its priority
    lowered by :data:`READER_NICE`, the service's parts from the environment (as
    :func:`accord.center.app.from_environment`), the record verified in the background
    (:meth:`Parts.reading <accord.center.bootstrap.Parts.reading>`), then the socket named
    by ``ACCORD_READER_SOCKET`` served until SIGTERM."""
    configure(
        log_format_of(os.environ.get(LOG_FORMAT_ENV)),
        text="%(levelname)s:     reader: %(message)s",
    )
    os.nice(READER_NICE)
    path = Path(os.environ[READER_SOCKET_ENV])
    settings, clock = settings_from_environment()
    stop = threading.Event()

    def stopping(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # `accord serve` stops it (SIGTERM)
    with Parts(settings, clock=clock).reading(stop) as center:
        _log.info("ready on %s", path)
        serve_reads(center, path, stop)


# --- the front's side --------------------------------------------------------------------


def _unavailable() -> ReaderUnavailable:
    return ReaderUnavailable("the service's reader is unavailable: ask again")


@dataclass(frozen=True, slots=True)
class ReaderSocket:
    """Makes a front process's center its line to the reader process listening at ``path``
    (a :data:`~accord.center.bootstrap.Reader`, for
    :attr:`Parts.reader <accord.center.bootstrap.Parts.reader>`)."""

    path: Path

    def __call__(self, center: Center) -> RemoteReader:
        return RemoteReader(self.path)


class RemoteReader(RemoteLine):
    """A front process's line to the reader process: :meth:`read` sends a read and waits on
    the event loop for its answer (:class:`~accord.errors.ReaderUnavailable` when the line is
    lost)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _unavailable)

    async def read(self, work: Callable[[Center], T]) -> T:
        """``work``'s result, once the reader has run it; raises what it raised."""
        result: T = await self.send(work)
        return result


class LoopbackReader:
    """The reader process's boundary without the process: each read and its answer are
    pickled and unpickled exactly as they would cross the socket
    (:func:`~accord.center.writer_process.crossed`), and the read runs on ``center`` in one
    of :data:`READ_THREADS` threads, as in the reader process. The API tests' applications
    read through it, so a read or an error that cannot cross to a reader process fails
    there."""

    def __init__(self, center: Center) -> None:
        self._center = center
        self._pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="accord-read")

    async def close(self) -> None:
        """Stop the threads (the reads still running are finished first)."""
        self._pool.shutdown()

    async def read(self, work: Callable[[Center], T]) -> T:
        result: T = await crossed(work, lambda sent: _run(self._center, self._pool, sent))
        return result
