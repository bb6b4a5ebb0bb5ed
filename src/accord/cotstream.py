"""A TAK connection's incoming stream, read alike by the center's endpoint
(:mod:`accord.center.cot.listener`) and a party's gateway (:mod:`accord.gateway.listener`).

* :func:`read_auth` — a plain-port connection's first message, ``<auth>``
  (:func:`accord.cotpki.plain.split_auth`), within a time limit;
* :class:`Inbound` — then the events: cut by :class:`~accord.cot.EventSplitter` (64 KiB an
  event), every frame taking a token of the connection's bucket — junk included, so its log
  lines are bounded too (one line a second while a flood lasts) — and a frame too big or not
  a well-formed event logged with its reason and dropped, the connection living on. What
  parses is handed on.

No rule of its own: what an event does is the caller's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from accord.cot import Dropped, Event, EventSplitter, TokenBucket, parse_event
from accord.cotpki.plain import PlainAuth, split_auth
from accord.errors import AccordError, CotError, InputError

__all__ = ["READ", "Inbound", "read_auth", "reason"]

READ = 64 * 1024
"""Bytes read from a connection at a time."""


async def read_auth(
    reader: asyncio.StreamReader, *, timeout: float
) -> tuple[PlainAuth, bytes] | None:
    """Read a plain connection's ``<auth>`` message and the bytes after it; ``None`` when
    the peer closed first. :class:`TimeoutError` after ``timeout`` seconds without it, and
    :func:`~accord.cotpki.plain.split_auth`'s refusals."""
    buffer = b""
    async with asyncio.timeout(timeout):
        while True:
            chunk = await reader.read(1024)
            if not chunk:
                return None
            buffer += chunk
            found = split_auth(buffer)
            if found is not None:
                return found


def reason(error: AccordError) -> str:
    """An error as one log line: its source and issues, or its message."""
    if isinstance(error, InputError) and error.issues:
        return f"{error.source}: " + "; ".join(str(i) for i in error.issues)
    return str(error)


def _nothing() -> None:
    return None


@dataclass
class Inbound:
    """One connection's events in (see the module), logged as ``<prefix>: <who>: …``."""

    who: str
    rate: float
    """Events a second the connection may send on average (``burst`` at once)."""
    burst: int
    log: logging.Logger
    prefix: str
    bad: Callable[[], None] = _nothing
    """Called for each frame dropped as too big or malformed (a counter)."""
    dropped: int = 0
    """Frames over the rate since the last line logged."""
    quiet_until: float = 0.0
    bucket: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(rate=self.rate, burst=self.burst, now=time.monotonic())

    async def read(
        self,
        reader: asyncio.StreamReader,
        first: bytes,
        handle: Callable[[Event], Awaitable[None]],
    ) -> None:
        """Hand each event of the stream (``first``, then what ``reader`` reads) to
        ``handle``, until the peer closes."""
        splitter = EventSplitter()
        chunk = first
        while True:
            for frame in splitter.feed(chunk):
                event = self._event(frame)
                if event is not None:
                    await handle(event)
            chunk = await reader.read(READ)
            if not chunk:
                return

    def _event(self, frame: bytes | Dropped) -> Event | None:
        now = time.monotonic()
        if not self.bucket.take(now):
            self.dropped += 1
            if now >= self.quiet_until:
                self.log.warning(
                    "%s: %s: over %s events a second: %d dropped",
                    self.prefix, self.who, self.rate, self.dropped,
                )  # fmt: skip
                self.dropped = 0
                self.quiet_until = now + 1.0
            return None
        if isinstance(frame, Dropped):
            self.bad()
            self.log.warning(
                "%s: %s: dropped %d bytes: %s", self.prefix, self.who, frame.size, frame.reason
            )
            return None
        try:
            return parse_event(frame)
        except CotError as error:
            self.bad()
            self.log.warning("%s: %s: bad event: %s", self.prefix, self.who, reason(error))
            return None
