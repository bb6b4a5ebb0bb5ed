"""The writer process: one process runs every request's unit of work, for the HTTP processes
in front of it (``accord serve --writer-process``).

A state change spends most of its CPU inside its unit of work (the deconfliction check, the
signed entry, the Merkle tree, the rows), and units run one after the other (the record is
a chain). In one process the HTTP side — parsing, authentication, validation, rendering —
takes its turns at the same interpreter lock, so one core does everything and a second sits
idle. With a writer process, the HTTP processes hand each unit of work over a Unix socket
and wait on their event loop; the writer process runs the units in groups exactly as
:meth:`~accord.center.runtime.Center.write` does in one process (same savepoints, same group
commit, same answers), and nothing else competes for its interpreter.

The protocol, on a Unix stream socket in a folder only the service's user can enter:

* each message is one frame: the length of its pickle (4 bytes, big-endian), the job's
  number (8 bytes, big-endian; each front process numbers its own), then a :mod:`pickle`;
* a front process sends the work: a module function or a :func:`functools.partial` of one
  over plain values (see :class:`~accord.center.http.writes.Answering`);
* the writer answers ``(True, result)`` once the unit is durable, or ``(False, error)``
  when it raised (rolled back), its group did not commit or the work could not be read.
  Errors travel as their class and attributes (:func:`portable`), whatever their
  ``__init__`` takes.

Pickles are read only from a peer running as the service's own user (``SO_PEERCRED``), on a
socket of mode 0600 in a folder of mode 0700: nobody else can send one. A work sent runs
even if the request that sent it is given up meanwhile (as a unit already taken by the
writer thread does in one process); an ``Idempotency-Key`` makes the retry safe. When the
writer process is gone, each waiting and later write raises
:class:`~accord.errors.WriterUnavailable` (answered 503: the change may or may not be stored,
retry with the same key), and ``accord serve`` stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import signal
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

from accord.center.bootstrap import Parts, settings_from_environment
from accord.center.http.problems import ProblemError
from accord.center.logs import LOG_FORMAT_ENV, configure, log_format_of
from accord.center.runtime import Center, Then, Unit
from accord.errors import AccordError, WriterUnavailable

__all__ = [
    "SOCKET_ENV",
    "Loopback",
    "RemoteLine",
    "RemoteWriter",
    "WriterSocket",
    "crossed",
    "main",
    "portable",
    "serve_socket",
    "serve_writes",
]

SOCKET_ENV = "ACCORD_WRITER_SOCKET"
"""The writer process's socket, for the HTTP processes (set by ``accord serve``)."""

_log = logging.getLogger("accord.center.writer")

_HEAD = struct.Struct(">IQ")  # the pickle's length, the job's number
_MAX_FRAME = 1 << 28
_PROTOCOL = pickle.HIGHEST_PROTOCOL

Work = Callable[[Unit], Any] | Then[Any]


def _rebuilt(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def portable(error: BaseException) -> object:
    """A value that pickles as ``error`` and comes back as itself in another process (built
    from its class, ``args`` and attributes, not through its ``__init__``, which may take
    other arguments); when ``error`` cannot make the trip, one that comes back as a
    :class:`RuntimeError` naming its class (the writer's log keeps the original).

    >>> from accord.errors import InputError, Issue
    >>> sent = portable(InputError("request", [Issue("properties.radius_m", "too large")]))
    >>> back = pickle.loads(pickle.dumps(sent))
    >>> type(back).__name__, back.issues[0].field
    ('InputError', 'properties.radius_m')
    """
    wrapped = _Portable(error)
    try:
        pickle.loads(pickle.dumps(wrapped, protocol=_PROTOCOL))
    except Exception:
        _log.error("an error of the writer cannot be sent back", exc_info=error)
        return _Portable(RuntimeError(f"the writer failed: {type(error).__name__}"))
    return wrapped


class _Portable:
    """Pickles as the error it wraps, rebuilt from class, ``args`` and ``__dict__``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __reduce__(self) -> tuple[Any, ...]:
        error = self.error
        state = dict(getattr(error, "__dict__", {}))
        return (_rebuilt, (type(error), error.args, state))


def _frame(job: int, value: Any) -> bytes:
    data = pickle.dumps(value, protocol=_PROTOCOL)
    return _HEAD.pack(len(data), job) + data


def _answer(job: int, future: Future[Any]) -> bytes:
    """The frame answering ``job`` from its settled ``future``."""
    error = future.exception()
    if error is None:
        try:
            return _frame(job, (True, future.result()))
        except Exception as failed:  # a result that does not pickle: a bug, answered 500
            error = failed
    if not isinstance(error, AccordError | ProblemError):
        # A bug, answered 500 by the HTTP process, which cannot see where it happened. (A
        # ProblemError is no bug: the HTTP layer's own part of a work raises it, a reused
        # Idempotency-Key: see accord.center.http.writes.Answering.)
        _log.error("a unit of work failed", exc_info=error)
    return _frame(job, (False, portable(error)))


def _read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    head = stream.read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    size, job = _HEAD.unpack(head)
    if size > _MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes")
    data = stream.read(size)
    return (job, data) if len(data) == size else None


def _failed(error: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(error)
    return future


# --- the writer's side -------------------------------------------------------------------


def _same_user(connection: socket.socket) -> bool:
    creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid) == os.getuid()


Submit = Callable[[Any], "Future[Any]"]
"""Starts a work received (unpickled) where it runs: a future of its answer."""


def _serve_connection(submit: Submit, connection: socket.socket) -> None:
    """Run every work the front process sends on ``connection`` (``submit``); answer each
    when settled."""
    sending = threading.Lock()

    def send(job: int, future: Future[Any]) -> None:
        frame = _answer(job, future)
        with sending, contextlib.suppress(OSError):
            connection.sendall(frame)

    try:
        with connection, connection.makefile("rb") as stream:
            while (frame := _read_frame(stream)) is not None:
                job, data = frame
                try:
                    future = submit(pickle.loads(data))
                except Exception as refused:  # a work it cannot read; shutting down
                    future = _failed(refused)
                future.add_done_callback(partial(send, job))
    except Exception:
        _log.exception("a front process's connection failed")


def serve_writes(center: Center, path: Path, stop: threading.Event) -> None:
    """Listen on a Unix socket at ``path`` (mode 0600) until ``stop`` is set; run the works
    sent by processes of the same user on ``center``'s writer thread."""
    serve_socket(center.submit, path, stop, name="accord-writer-front")


def serve_socket(submit: Submit, path: Path, stop: threading.Event, *, name: str) -> None:
    """Listen on a Unix socket at ``path`` (mode 0600) until ``stop`` is set; start each
    work sent by a process of the same user with ``submit`` and answer it when settled (a
    thread named ``name`` per connection)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with listener:
        mask = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(mask)
        listener.listen(64)
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(None)
            if not _same_user(connection):
                _log.warning("refused a connection from another user")
                connection.close()
                continue
            threading.Thread(
                target=_serve_connection,
                args=(submit, connection),
                name=name,
                daemon=True,
            ).start()


def main() -> None:
    """The writer process (started by ``accord serve --writer-process``): the service's
    parts from the environment (as :func:`accord.center.app.from_environment`), running
    (:meth:`Parts.running <accord.center.bootstrap.Parts.running>`: the deconfliction desk
    loaded), then the socket named by ``ACCORD_WRITER_SOCKET`` served until SIGTERM; the
    queued works are finished before it exits."""
    configure(
        log_format_of(os.environ.get(LOG_FORMAT_ENV)),
        text="%(levelname)s:     writer: %(message)s",
    )
    path = Path(os.environ[SOCKET_ENV])
    settings, clock = settings_from_environment()
    stop = threading.Event()

    def stopping(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    # Ctrl+C reaches the whole terminal's process group: the HTTP processes finish their
    # requests first, then `accord serve` stops this one (SIGTERM).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with Parts(settings, clock=clock).running() as center:
        _log.info("ready on %s", path)
        serve_writes(center, path, stop)


# --- the front's side --------------------------------------------------------------------


def _unavailable() -> WriterUnavailable:
    return WriterUnavailable(
        "the service's writer is unavailable; the change may or may not be stored: retry "
        "with the same Idempotency-Key"
    )


@dataclass(frozen=True, slots=True)
class WriterSocket:
    """Makes a front process's center its line to the writer process listening at ``path``
    (a :data:`~accord.center.bootstrap.Writer`, for
    :attr:`Parts.writer <accord.center.bootstrap.Parts.writer>`)."""

    path: Path

    def __call__(self, center: Center) -> RemoteWriter:
        return RemoteWriter(self.path)


class RemoteLine:
    """A front process's line to a process that runs its works (the writer process, or the
    reader process: :mod:`accord.center.reader_process`): :meth:`send` sends a work and waits
    on the event loop for its answer. One connection per event loop, opened on first use;
    every frame goes out whole, in the order written. When the line is lost, each waiting and
    later work raises what ``unavailable`` makes."""

    def __init__(self, path: Path, unavailable: Callable[[], AccordError]) -> None:
        self._path = path
        self._unavailable = unavailable
        self._jobs = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._opening: asyncio.Lock | None = None

    async def send(self, work: Any) -> Any:
        """``work``'s result, once the other process has run it; raises what it raised."""
        job = next(self._jobs)
        frame = _frame(job, work)  # before anything is sent: a work that cannot go fails alone
        writer = await self._connect()
        future = asyncio.get_running_loop().create_future()
        self._pending[job] = future
        try:
            writer.write(frame)
            await writer.drain()
        except OSError:
            self._pending.pop(job, None)
            self._lost()
            raise self._unavailable() from None
        try:
            return await future
        finally:
            self._pending.pop(job, None)

    async def _connect(self) -> asyncio.StreamWriter:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._writer, self._opening = loop, None, asyncio.Lock()
            self._pending = {}
        assert self._opening is not None
        async with self._opening:
            if self._writer is None or self._writer.is_closing():
                try:
                    reader, self._writer = await asyncio.open_unix_connection(str(self._path))
                except OSError:
                    raise self._unavailable() from None
                self._reader_task = asyncio.create_task(self._read(reader))
            return self._writer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size, job = _HEAD.unpack(await reader.readexactly(_HEAD.size))
                ok, value = pickle.loads(await reader.readexactly(size))
                future = self._pending.pop(job, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (asyncio.IncompleteReadError, OSError):
            pass
        except Exception:
            _log.exception("an answer of the writer could not be read")
        finally:
            self._lost()

    def _lost(self) -> None:
        """The connection ended: every waiting work raises what ``unavailable`` makes."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(self._unavailable())

    async def close(self) -> None:
        """Close the connection (waiting works raise what ``unavailable`` makes)."""
        task = self._reader_task
        self._lost()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class RemoteWriter(RemoteLine):
    """A front process's line to the writer process: :meth:`write` sends a work and waits
    on the event loop for its answer (:class:`~accord.errors.WriterUnavailable` when the
    line is lost)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _unavailable)

    async def write(self, work: Work) -> Any:
        """``work``'s result, once its unit is durable; raises what it raised."""
        return await self.send(work)


class Loopback:
    """The writer process's boundary without the process: each work and its answer are
    pickled and unpickled exactly as they would cross the socket, then run on ``center``'s
    own writer thread. The API tests run every route through it (their parts'
    ``writer=Loopback``), so a work or an error that cannot cross to a writer process fails
    there."""

    def __init__(self, center: Center) -> None:
        self._center = center

    async def close(self) -> None:
        """Nothing to close: the works ran on the center's own writer thread."""

    async def write(self, work: Work) -> Any:
        return await crossed(work, self._center.submit)


async def crossed(work: Any, submit: Submit) -> Any:
    """``work`` started with ``submit`` as if it had crossed the socket: pickled there, and
    its answer or error pickled back, exactly as the frames carry them (what the loopbacks
    of the writer and reader processes do in process)."""
    sent = pickle.loads(_frame(0, work)[_HEAD.size :])
    future = submit(sent)
    await asyncio.wrap_future(_settled(future))
    ok, value = pickle.loads(_answer(0, future)[_HEAD.size :])
    if ok:
        return value
    raise value


def _settled(future: Future[Any]) -> Future[None]:
    """A future settled (with None) when ``future`` is, whatever its outcome."""
    done: Future[None] = Future()
    future.add_done_callback(lambda _f: done.set_result(None))
    return done
