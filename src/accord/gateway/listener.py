"""The gateway's listener: the party's own devices connect here as to a second TAK server.

**TLS** (``--listen``): the gateway's certificate (its own tiny CA's, :mod:`accord.gateway.
state`), a client certificate required and its chain checked against the center's CoT CA
(``--ca ca.pem``) in the handshake; then the certificate's state is asked of the center —
the member's certificates as ``GET /v1/cot/certificates`` lists them to the gateway's
officer, checked by :func:`accord.cotpki.check.check_client_certificate` (issued, this
fingerprint, not revoked, not expired) — and its user must be of the gateway's member.
Every ``recheck_s`` the list is read again and every live connection checked again: a
revoked certificate closes its connections.

**Plain** (``--plain-port``, 127.0.0.1 only): the ``<auth>`` message first
(:mod:`accord.cotpki.plain`), its token checked with the center (``GET /v1/me`` with it: a
user of the gateway's member, the name the message gives), again every ``recheck_s``.

Per connection: the TAK protocol announced (XML only) and a request answered, pings
answered; the stream cut by :class:`~accord.cot.EventSplitter` (64 KiB an event), a token
bucket, a bad event logged with its reason and dropped — the connection lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from accord.cot import (
    Event,
    control_answer,
    protocol_support,
    write_event,
)
from accord.cot.drafts import DRAFT_KEY
from accord.cotpki.check import Holder, Lookup, check_client_certificate
from accord.cotstream import READ, Inbound, read_auth, reason
from accord.errors import AccordError, CertificateRefused
from accord.gateway.center import certificate_lookup
from accord.gateway.core import Gateway

__all__ = ["ListenOptions", "Listener", "server_context"]

_log = logging.getLogger("accord.gateway")

_AUTH_TIMEOUT = 10.0
FRESH_S = 1.0
"""How old the certificates' list may be when a new connection is checked against it."""
_HANDSHAKE_TIMEOUT = 10.0
_PONG_STALE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ListenOptions:
    """Where and how the gateway listens."""

    host: str = "127.0.0.1"
    port: int | None = None
    plain_port: int | None = None
    recheck_s: float = 10.0
    rate: float = 5.0
    burst: int = 20


def server_context(cert: Path, key: Path, ca: Path) -> ssl.SSLContext:
    """TLS 1.2+, the gateway's certificate, a client certificate of the CA in ``ca`` required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class _Closed(Exception):
    """The connection's credential no longer holds."""


class Listener:
    """The gateway's sockets and their connections."""

    def __init__(
        self,
        gateway: Gateway,
        options: ListenOptions,
        *,
        ca: x509.Certificate | None = None,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.gateway = gateway
        self.options = options
        self.ca = ca
        self.context = context
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lookup: Lookup = lambda _serial: None
        self._lookup_at = -1e18
        self._lock = asyncio.Lock()
        self.connections = 0

    @property
    def ports(self) -> list[int]:
        return [s.sockets[0].getsockname()[1] for s in self._servers]

    async def start(self) -> None:
        o = self.options
        if o.port is not None:
            if self.context is None or self.ca is None:
                raise ValueError("a TLS port needs the context and the CA")
            self._servers.append(
                await asyncio.start_server(
                    self._tls, o.host, o.port, ssl=self.context,
                    ssl_handshake_timeout=_HANDSHAKE_TIMEOUT, limit=READ,
                )
            )  # fmt: skip
        if o.plain_port is not None:
            self._servers.append(
                await asyncio.start_server(self._plain, "127.0.0.1", o.plain_port, limit=READ)
            )

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        self._servers.clear()

    # --- credentials ---------------------------------------------------------------------

    async def _certificates(self, *, fresh: bool = False) -> Lookup:
        """The member's certificates as the center lists them: read again when older than
        half the recheck period, or than :data:`FRESH_S` when ``fresh`` (a new connection).
        Connections that come together share one read, and a peer reconnecting in a loop
        (any holder of a certificate of the center's CA reaches this, another party's
        included) makes the gateway ask the center at most once per :data:`FRESH_S`."""
        async with self._lock:
            now = time.monotonic()
            limit = self.options.recheck_s / 2
            if now - self._lookup_at >= (min(limit, FRESH_S) if fresh else limit):
                items = await self.gateway.api.certificates()
                if items is None:
                    raise CertificateRefused("unknown", "the center did not list the certificates")
                self._lookup = certificate_lookup(items)
                self._lookup_at = now
            return self._lookup

    async def _holder(self, der: bytes, *, fresh: bool) -> Holder:
        assert self.ca is not None
        lookup = await self._certificates(fresh=fresh)
        holder = check_client_certificate(der, ca=self.ca, now=self.gateway.clock(), lookup=lookup)
        if holder.member != self.gateway.member:
            raise CertificateRefused(
                "unknown", f"{holder.name} is no user of this gateway's member"
            )
        return holder

    # --- connections ---------------------------------------------------------------------

    async def _guarded(
        self, handle: Callable[[], Awaitable[None]], writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await handle()
        except (ConnectionError, TimeoutError, ssl.SSLError) as error:
            _log.info("gateway: %s gone (%s)", peer, type(error).__name__)
        except Exception as error:
            _log.error("gateway: %s ended by %r", peer, error)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 5)
            if task is not None:
                self._tasks.discard(task)

    async def _tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def handle() -> None:
            peer = writer.get_extra_info("peername")
            tls = writer.get_extra_info("ssl_object")
            der = tls.getpeercert(binary_form=True) if tls is not None else None
            if der is None:
                _log.warning("gateway: %s presented no certificate; closed", peer)
                return
            try:
                holder = await self._holder(der, fresh=True)
            except CertificateRefused as refused:
                _log.warning("gateway: %s refused: %s", peer, refused)
                return

            async def still() -> None:
                try:
                    await self._holder(der, fresh=False)
                except CertificateRefused as refused:
                    raise _Closed(str(refused)) from None

            await self._serve(reader, writer, holder.name, still, b"", None, None)

        await self._guarded(handle, writer)

    async def _plain(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def handle() -> None:
            peer = writer.get_extra_info("peername")
            try:
                found = await read_auth(reader, timeout=_AUTH_TIMEOUT)
            except TimeoutError:
                _log.warning("gateway: %s sent no <auth> in time; closed", peer)
                return
            except AccordError as error:
                _log.warning("gateway: %s refused: %s", peer, reason(error))
                return
            if found is None:
                return
            auth, rest = found
            token = auth.token
            me = await self.gateway.api.me(token)
            if me is None or me.name != auth.username or me.member != self.gateway.member:
                _log.warning("gateway: %s refused: no token of a user of this member", peer)
                return

            async def still() -> None:
                now = await self.gateway.api.me(token)
                if now is None or now.member != self.gateway.member:
                    raise _Closed("the user's token no longer holds")

            await self._serve(reader, writer, me.name, still, rest, auth.uid, auth.callsign)

        await self._guarded(handle, writer)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        user: str,
        still: Callable[[], Awaitable[None]],
        first: bytes,
        uid: str | None,
        callsign: str | None,
    ) -> None:
        self.connections += 1
        connection = _Connection(self, reader, writer, user, uid, callsign)
        _log.info("gateway: %s connected", user)
        try:
            now = self.gateway.clock()
            await connection.write(protocol_support(uid=f"accord-gw-{uuid.uuid4()}", at=now))
            tasks = [
                asyncio.create_task(connection.receive(first)),
                asyncio.create_task(self._recheck(still)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    error = task.exception()
                    if isinstance(error, _Closed):
                        _log.warning("gateway: %s closed: %s", user, error)
                    elif error is not None and not isinstance(error, ConnectionError):
                        _log.error("gateway: %s ended by %r", user, error)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(BaseException):
                        await task
        finally:
            self.connections -= 1

    async def _recheck(self, still: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(self.options.recheck_s)
            await still()


class _Connection:
    def __init__(
        self,
        listener: Listener,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        user: str,
        uid: str | None,
        callsign: str | None,
    ) -> None:
        self.listener = listener
        self.gateway = listener.gateway
        self.reader = reader
        self.writer = writer
        self.user = user
        self.uid = uid  # the device's own uid: <auth uid>, else its first position report's
        self.callsign = callsign
        o = listener.options
        self.inbound = Inbound(user, o.rate, o.burst, _log, "gateway", bad=self._bad)

    def _bad(self) -> None:
        self.gateway.counts.bad += 1

    async def write(self, *events: Any) -> None:
        self.writer.write(b"".join(write_event(e) for e in events))
        await asyncio.wait_for(self.writer.drain(), 30)

    async def receive(self, first: bytes) -> None:
        await self.inbound.read(self.reader, first, self._event)

    async def _event(self, event: Event) -> None:
        answer = control_answer(event, at=self.gateway.clock(), pong_stale=_PONG_STALE)
        if answer is not None:
            await self.write(answer)
            return
        if self.uid is None and event.type.startswith("a-"):
            self.uid = event.uid
        if self.callsign is None and event.uid == self.uid:
            self.callsign = event.detail.callsign
        device_uid = (
            self.uid if self.uid and DRAFT_KEY.match(self.uid) else f"user:{self.user}"[:100]
        )
        await self.gateway.event(
            event, user=self.user, device_uid=device_uid, callsign=self.callsign
        )
