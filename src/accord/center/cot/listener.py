"""The center's TAK endpoint: ``accord serve --cot-port`` (TLS, a client certificate of the
CoT CA required) and ``--cot-plain-port`` (127.0.0.1 only, a token first), asyncio streams in
the serving process (started and stopped with the live events' hub by
:meth:`accord.center.bootstrap.Parts.serving`).

A connection acts as one user: the user its client certificate names
(:func:`accord.cotpki.check.check_client_certificate` against the database, at the handshake
and every ``recheck_s`` seconds after: a revoked or expired certificate or a removed user
closes it), or on the plain port the user whose bearer token its ``<auth>`` message carries
(checked as the HTTP layer checks tokens, :meth:`Center.authenticate`, again every
``recheck_s``: a removed user or a rotated token closes it).

Per connection: the TAK protocol announced (version 0, XML) and a ``t-x-takp-q`` answered;
the stream cut by :class:`~accord.cot.EventSplitter` (64 KiB an event); a token bucket of
``rate`` events a second (``burst`` at once) — events over it are dropped and logged, the
connection stays; a bad event is logged with its reason and answered with nothing. Out: the
picture the user may see (:func:`accord.center.cot.picture.picture`) on connect, then, each
time the live events' hub hands the connection's member an event (the stream the page
follows, ``GET /v1/events``), the parts of the picture that kind of event may change
(:func:`~accord.center.cot.picture.parts_for`) read again and what changed sent (a removed
object as ``t-x-d-d``); every ``refresh_s`` everything is read and sent again, before its
``stale``.
Each live connection is a row of :attr:`Endpoint.devices` (:mod:`accord.center.cot.devices`:
who, the device, its last event and last report; in this process only), what
``GET /v1/cot/devices`` lists.
In: a device's reports are parsed and rate-limited, and acted on by nothing yet — a report
becomes its party's act only through the party's gateway (README, "From ATAK").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from accord.center import visibility
from accord.center.certificates.service import lookup
from accord.center.cot.devices import Devices, Transport
from accord.center.cot.picture import PARTS, STALE, parts_for
from accord.center.cot.reads import SharedReads
from accord.center.db.models import User
from accord.center.events.live import Hub, Subscriber
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.cot import (
    Event,
    control_answer,
    delete_event,
    protocol_support,
    write_event,
)
from accord.cotpki.ca import Authority
from accord.cotpki.check import Holder, check_client_certificate
from accord.cotpki.files import load_or_create_server
from accord.cotstream import READ, Inbound, read_auth, reason
from accord.errors import AccordError, CertificateRefused, TlsError

__all__ = ["CotOptions", "Endpoint", "check_options", "server_context"]

_log = logging.getLogger("accord.cot")

_SEND_TIMEOUT = 30.0  # seconds a device may take to take what it is sent
_AUTH_TIMEOUT = 10.0  # seconds a plain connection has to send <auth>
_HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class CotOptions:
    """The TAK endpoint's options: ``host`` and ``port`` (TLS; ``None``: off),
    ``plain_port`` (127.0.0.1 only; ``None``: off), how often a live connection's credential
    is checked again (``recheck_s``), how often everything is sent again (``refresh_s``,
    under the events' :data:`~accord.center.cot.picture.STALE`), each connection's events a
    second (``rate``, ``burst``), the least time between two reads of a connection's
    picture after changes (``coalesce_s``: changes that come together are read once), and
    the most connections one user may hold open at once (``max_per_user``)."""

    host: str = "127.0.0.1"
    port: int | None = None
    plain_port: int | None = None
    recheck_s: float = 10.0
    refresh_s: float = 120.0
    rate: float = 5.0
    burst: int = 20
    coalesce_s: float = 0.25
    max_per_user: int = 8

    def __post_init__(self) -> None:
        if not 0 < self.refresh_s < STALE.total_seconds():
            raise ValueError("refresh_s is under the events' stale time")
        if not self.recheck_s > 0:
            raise ValueError("recheck_s is a positive number of seconds")

    def to_environment(self) -> str:
        """These options as :data:`accord.center.bootstrap.COT_ENV` carries them to the
        processes ``accord serve`` starts (:meth:`from_environment` reads them back)."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_environment(cls, text: str) -> CotOptions:
        """The options :meth:`to_environment` wrote."""
        return cls(**json.loads(text))

    @property
    def on(self) -> bool:
        """Whether any port is asked for."""
        return self.port is not None or self.plain_port is not None


def _free(option: str, host: str, port: int) -> None:
    """Refuse (naming ``option``) a port that cannot be bound now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise TlsError(f"{option}: cannot listen on {host}:{port}: {error.strerror}") from None


def server_context(
    keys_dir: Path, *, authority: Authority, hosts: list[str], now: datetime
) -> ssl.SSLContext:
    """The TLS context of the endpoint: its certificate (``cot-server.pem`` in ``keys_dir``,
    made on first use by :func:`~accord.cotpki.files.load_or_create_server`, issued by the CoT
    CA ``authority``), TLS 1.2 or later, a client certificate of that CA required. Raises
    :class:`~accord.errors.TlsError` naming ``--cot-port`` (a key file others may read, files
    that do not load)."""
    try:
        key, cert = load_or_create_server(keys_dir, authority=authority, hosts=hosts, now=now)
    except AccordError as error:
        raise TlsError(f"--cot-port: {error}") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=lambda: b"")
        context.load_verify_locations(
            cadata=authority.certificate.public_bytes(Encoding.PEM).decode("ascii")
        )
    except (ssl.SSLError, ValueError) as error:
        raise TlsError(f"--cot-port: the endpoint's certificate does not load: {error}") from None
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def check_options(
    options: CotOptions, keys_dir: Path, *, authority: Callable[[], Authority], now: datetime
) -> None:
    """Everything ``accord serve`` can check before anything listens: each port free, the
    CA's and the endpoint's key files safe and loading (``authority`` reads or makes the CA);
    :class:`~accord.errors.TlsError` naming the option."""
    if options.port is not None:
        _free("--cot-port", options.host, options.port)
        try:
            made = authority()
        except AccordError as error:
            raise TlsError(f"--cot-port: {error}") from None
        server_context(keys_dir, authority=made, hosts=_hosts(options), now=now)
    if options.plain_port is not None:
        _free("--cot-plain-port", "127.0.0.1", options.plain_port)


def _hosts(options: CotOptions) -> list[str]:
    return sorted({options.host, "localhost", "127.0.0.1"} - {"0.0.0.0", "::", ""})


_Still = Callable[[Caller], Awaitable[None]]
"""``await still(caller)`` raises :class:`_Closed` once the connection's credential no longer
holds."""


class _Closed(Exception):
    """The connection is to end (its credential no longer holds, or the device is gone)."""


class Endpoint:
    """The listening sockets of one serving process and their connections."""

    def __init__(self, center: Center, hub: Hub, options: CotOptions) -> None:
        self.center = center
        self.hub = hub
        self.options = options
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[Any]] = set()
        self.devices = Devices()
        """The live connections of this process (what ``GET /v1/cot/devices`` lists)."""
        self.reads = SharedReads(center, lambda: hub.last_id)
        """The picture's reads, one per view for the connections that see alike."""
        self._ca = center.keys.cot_authority(center.now()).certificate

    @property
    def connections(self) -> int:
        """How many connections are open."""
        return len(self._connections)

    @property
    def ports(self) -> list[int]:
        """The ports listened on (the TLS one first), as bound."""
        return [s.sockets[0].getsockname()[1] for s in self._servers]

    async def start(self) -> None:
        options = self.options
        if options.port is not None:
            now = self.center.now()
            context = await anyio.to_thread.run_sync(
                lambda: server_context(
                    self.center.settings.keys_dir,
                    authority=self.center.keys.cot_authority(now),
                    hosts=_hosts(options),
                    now=now,
                )
            )
            self._servers.append(
                await asyncio.start_server(
                    self._tls,
                    options.host,
                    options.port,
                    ssl=context,
                    ssl_handshake_timeout=_HANDSHAKE_TIMEOUT,
                    limit=READ,
                )
            )
            _log.info("cot: TLS endpoint on %s:%s", options.host, self.ports[-1])
        if options.plain_port is not None:
            self._servers.append(
                await asyncio.start_server(self._plain, "127.0.0.1", options.plain_port, limit=READ)
            )
            _log.info("cot: plain endpoint on 127.0.0.1:%s (loopback only)", self.ports[-1])

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)
        self._servers.clear()

    # --- connections ------------------------------------------------------------------------

    def _track(self) -> asyncio.Task[Any] | None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        return task

    def _holder(self, der: bytes) -> Holder:
        with self.center.reading() as session:
            return check_client_certificate(
                der, ca=self._ca, now=self.center.now(), lookup=lookup(session)
            )

    def _caller_of(self, holder: Holder) -> Caller:
        with self.center.reading() as session:
            user_id = session.scalar(select(User.id).where(User.name == holder.name))
        return Caller(int(user_id or 0), holder.name, holder.member, Role(holder.role))

    async def _tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._guarded(self._tls_connection, reader, writer)

    async def _plain(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._guarded(self._plain_connection, reader, writer)

    async def _guarded(
        self,
        handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        """One connection, whatever happens in it: ended on one log line, never a traceback,
        never the server."""
        task = self._track()
        try:
            await handle(reader, writer)
        except (ConnectionError, TimeoutError, ssl.SSLError) as error:
            _log.info("cot: %s gone (%s)", writer.get_extra_info("peername"), type(error).__name__)
        except Exception as error:
            _log.error("cot: %s ended by %r", writer.get_extra_info("peername"), error)
        finally:
            await _close(writer)
            if task is not None:
                self._connections.discard(task)

    async def _tls_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        tls = writer.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if der is None:
            _log.warning("cot: %s presented no certificate; closed", peer)
            return
        try:
            holder = await anyio.to_thread.run_sync(self._holder, der)
        except CertificateRefused as refused:
            _log.warning("cot: %s refused: %s", peer, refused)
            return
        caller = await anyio.to_thread.run_sync(self._caller_of, holder)

        async def still(_caller: Caller) -> None:
            try:
                await anyio.to_thread.run_sync(self._holder, der)
            except CertificateRefused as refused:
                raise _Closed(str(refused)) from None

        await self._serve(
            reader, writer, caller, still, b"", f"{holder.name}@{peer}", _Via("tls", peer)
        )

    async def _plain_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        try:
            found = await read_auth(reader, timeout=_AUTH_TIMEOUT)
        except TimeoutError:
            _log.warning("cot: %s sent no <auth> in time; closed", peer)
            return
        except AccordError as error:
            _log.warning("cot: %s refused: %s", peer, reason(error))
            return
        if found is None:
            return
        auth, rest = found
        token = auth.token
        caller = await anyio.to_thread.run_sync(self.center.authenticate, token)
        if caller is None or caller.name != auth.username:
            _log.warning("cot: %s refused: not a token of %r", peer, auth.username[:64])
            return

        async def still(was: Caller) -> None:
            now = await anyio.to_thread.run_sync(self.center.authenticate, token)
            if now is None or (now.member, now.role) != (was.member, was.role):
                raise _Closed("the user's token no longer holds")

        via = _Via("plain", peer, auth.uid, auth.callsign)
        await self._serve(reader, writer, caller, still, rest, f"{caller.name}@{peer}", via)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        caller: Caller,
        still: _Still,
        first: bytes,
        who: str,
        via: _Via,
    ) -> None:
        # the check and the connect below run with no await between: one step of the loop
        held = self.devices.held(caller.name)
        if held >= self.options.max_per_user:
            _log.warning("cot: %s refused: %d connections of this user already open", who, held)
            return
        key = self.devices.connect(
            user=caller.name,
            member=caller.member,
            role=caller.role.value,
            transport=via.transport,
            remote=_address(via.peer),
            at=self.center.now(),
            uid=via.uid,
            callsign=via.callsign,
        )
        try:
            await self._connected(reader, writer, caller, still, first, who, key)
        finally:
            self.devices.disconnect(key)

    async def _connected(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        caller: Caller,
        still: _Still,
        first: bytes,
        who: str,
        key: int,
    ) -> None:
        connection = _Connection(self, reader, writer, caller, who, key)
        _log.info("cot: %s connected as %s of %s", who, caller.role.value, caller.member)
        # the TAK protocol announced first, before anything is read or sent
        now = self.center.now()
        await connection.write([protocol_support(uid=f"accord-takp-{uuid.uuid4()}", at=now)])
        subscriber = await self.hub.subscribe(visibility.events_member(caller))
        tasks = [
            asyncio.create_task(connection.receive(first)),
            asyncio.create_task(connection.send(subscriber)),
            asyncio.create_task(self._recheck(caller, still)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if isinstance(error, _Closed):
                    _log.warning("cot: %s closed: %s", who, error)
                elif isinstance(error, (ConnectionError, TimeoutError)):
                    _log.info("cot: %s gone (%s)", who, type(error).__name__)
                elif error is not None:
                    _log.error("cot: %s ended by %r", who, error)
        finally:
            self.hub.unsubscribe(subscriber)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            _log.info("cot: %s disconnected", who)

    async def _recheck(self, caller: Caller, still: _Still) -> None:
        while True:
            await asyncio.sleep(self.options.recheck_s)
            await still(caller)


@dataclass(frozen=True, slots=True)
class _Via:
    """How a connection came: its transport, the peer's address, and on the plain port the
    device's uid and callsign its ``<auth>`` gave."""

    transport: Transport
    peer: object
    uid: str | None = None
    callsign: str | None = None


def on_device_clock(event: Event, now: datetime) -> Event:
    """``event`` stamped at ``now``, its ``stale`` as far after as it was.

    An event's ``time``, ``start`` and ``stale`` tell a device when it was made and how long
    to show it — by the device's own clock, the real time. A center playing an exercise on a
    clock of its own (``--clock-start``) builds its picture at the exercise's instant; sent
    as built, every event would be long stale to a device, which drops it. So on an exercise
    clock the endpoint stamps what it sends at the real time (what is in force is still
    decided at the exercise's instant)."""
    return replace(event, time=now, start=now, stale=now + (event.stale - event.time))


def _address(peer: object) -> str:
    """``host:port`` of a peer name as asyncio gives it (a tuple), else its text."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = str(peer[0])
        return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"
    return str(peer)[:128]


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 5)


class _Connection:
    def __init__(
        self,
        endpoint: Endpoint,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        caller: Caller,
        who: str,
        key: int,
    ) -> None:
        self.endpoint = endpoint
        self.key = key
        self.center = endpoint.center
        self.reader = reader
        self.writer = writer
        self.caller = caller
        self.who = who
        options = endpoint.options
        self.inbound = Inbound(who, options.rate, options.burst, _log, "cot")
        self.sent: dict[str, dict[str, Event]] = {}  # by part and uid, without times
        self.next_read = 0.0
        self.lock = asyncio.Lock()

    async def write(self, events: list[Event]) -> None:
        if not events:
            return
        if self.center.exercise_clock:
            events = [on_device_clock(e, datetime.now(UTC)) for e in events]
        async with self.lock:
            self.writer.write(b"".join(write_event(e) for e in events))
            await asyncio.wait_for(self.writer.drain(), _SEND_TIMEOUT)

    # --- in ---------------------------------------------------------------------------------

    async def receive(self, first: bytes) -> None:
        await self.inbound.read(self.reader, first, self._event)

    async def _event(self, event: Event) -> None:
        now = self.center.now()
        self.endpoint.devices.event(self.key, event, at=now)
        answer = control_answer(event, at=now, pong_stale=STALE)
        if answer is not None:
            await self.write([answer])
        else:
            # A report becomes its party's act only through the party's gateway (README).
            _log.info("cot: %s: %s %s received; not acted on", self.who, event.type, event.uid)

    # --- out --------------------------------------------------------------------------------

    async def send(self, subscriber: Subscriber) -> None:
        refresh = self.endpoint.options.refresh_s
        await self._update(resend=True)
        deadline = time.monotonic() + refresh
        while not subscriber.closed:
            subscriber.wake.clear()
            if subscriber.pending or subscriber.lagged:
                # changes that come together are read once: at most one read a `coalesce_s`
                await asyncio.sleep(max(0.0, self.next_read - time.monotonic()))
                parts: set[str] = set(PARTS) if subscriber.lagged else set()
                need = self.endpoint.reads.last_id() if subscriber.lagged else 0
                for live in subscriber.pending:
                    parts.update(parts_for(live.kind))
                    need = max(need, live.id)
                subscriber.pending.clear()
                subscriber.lagged = False
                await self._update(resend=False, parts=parts, need=need)
                self.next_read = time.monotonic() + self.endpoint.options.coalesce_s
                continue
            try:
                await asyncio.wait_for(
                    subscriber.wake.wait(), max(0.0, deadline - time.monotonic())
                )
            except TimeoutError:
                await self._update(resend=True)
                deadline = time.monotonic() + refresh
        raise _Closed("the server is stopping")

    async def _update(
        self, *, resend: bool, parts: Iterable[str] = PARTS, need: int | None = None
    ) -> None:
        """Read ``parts`` of the picture again and send what changed (everything when
        ``resend``), and a delete for what left them. The read reflects every live event up
        to ``need`` (default: every one the hub has read), and is shared with the
        connections that see alike (:mod:`accord.center.cot.reads`)."""
        at = self.center.now()
        reads = self.endpoint.reads
        read = await reads.read(
            self.caller, parts, need=reads.last_id() if need is None else need, at=at
        )
        out: list[Event] = []
        for part, seen in read.items():
            sent = self.sent.setdefault(part, {})
            for uid, (event, content) in seen.items():
                before = sent.get(uid)
                if resend or (before is not content and before != content):
                    out.append(event)
                sent[uid] = content
            for uid in [u for u in sent if u not in seen]:
                gone = sent.pop(uid)
                out.append(delete_event(uid=uid, deleted_type=gone.type, at=at, stale=STALE))
        await self.write(out)
