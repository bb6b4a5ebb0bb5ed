"""Streaming CoT over TCP or TLS: events back to back, each split after ``</event>``.

TAK's "Traditional Protocol" (protocol version 0, ``protocol.txt`` of TAK's commoncommo, as
shipped in ``takproto``): a stream is one ``<event>`` after another, "delimited and broken
apart by searching for the token ``</event>`` and breaking apart immediately after that
token"; a sender prefaces each with an XML declaration and a newline. Clients in the field
also put whitespace between events; this splitter takes all of it.

The splitter is fed whatever the socket gave, at any boundary, and gives back what it can
cut: each event's bytes (from ``<event`` to ``</event>``, without the declaration: the
parser reads UTF-8 only), or a :class:`Dropped` saying what was thrown away and why. It never
holds more than the cap (``max_event_bytes``, 64 KiB by default) of one event plus the
chunk being fed: an event that does not end within the cap is dropped, and the stream
resynchronises at the next ``<event`` after it. What it cuts depends on the bytes alone,
never on where the chunks fell (a property test holds it to that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_EVENT_BYTES", "Dropped", "EventSplitter"]

MAX_EVENT_BYTES = 64 * 1024
"""The largest event taken (bytes, the XML declaration and whitespace before it counted)."""

_END = b"</event>"
_START = re.compile(rb"<event[\s>/]")
_PREFIX = re.compile(rb"^\s*(?:<\?xml[^<>]{0,200}\?>\s*)?$")
_KEEP = len(b"<event") + 1  # bytes kept across chunks while looking for a start


@dataclass(frozen=True, slots=True)
class Dropped:
    """Bytes of the stream thrown away: ``size`` of them, for ``reason``."""

    reason: str
    size: int


class EventSplitter:
    """Cuts one connection's stream into events. Not thread-safe; one per connection.

    >>> s = EventSplitter()
    >>> s.feed(b'<?xml version="1.0"?>\\n<event uid="a"><point/></ev')
    []
    >>> s.feed(b'ent> \\n<event uid="b"/></event>')
    [b'<event uid="a"><point/></event>', b'<event uid="b"/></event>']
    """

    __slots__ = ("_buffer", "_max", "_resyncing", "_scanned", "_skipped")

    def __init__(self, *, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        if max_event_bytes < 64:
            raise ValueError("max_event_bytes is at least 64")
        self._max = max_event_bytes
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already searched for the end token
        self._resyncing = False
        self._skipped = 0  # bytes thrown away while resynchronising

    @property
    def pending(self) -> int:
        """Bytes held, waiting for the rest of an event (at most the cap)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | Dropped]:
        """Take ``data`` (any part of the stream) and return what can be cut from it."""
        out: list[bytes | Dropped] = []
        self._buffer += data
        while True:
            if self._resyncing:
                if not self._resync(out):
                    return out
                continue
            window = min(len(self._buffer), self._max)
            end = self._buffer.find(_END, max(0, self._scanned - len(_END) + 1), window)
            if end >= 0:
                cut = end + len(_END)
                self._frame(bytes(self._buffer[:cut]), out)
                del self._buffer[:cut]
                self._scanned = 0
                continue
            if len(self._buffer) < self._max:
                self._scanned = len(self._buffer)
                return out
            # no end within the cap: drop it and look for the next start after the window
            thrown = self._max - _KEEP + 1
            out.append(Dropped(f"no </event> within {self._max} bytes", thrown))
            del self._buffer[:thrown]
            self._scanned = 0
            self._resyncing = True
            self._skipped = 0

    def _resync(self, out: list[bytes | Dropped]) -> bool:
        """Throw bytes away up to the next ``<event``; True once found."""
        found = _START.search(self._buffer)
        if found is None:
            keep = min(len(self._buffer), _KEEP - 1)
            self._skipped += len(self._buffer) - keep
            del self._buffer[: len(self._buffer) - keep]
            return False
        self._skipped += found.start()
        del self._buffer[: found.start()]
        self._resyncing = False
        if self._skipped:
            out.append(Dropped("the rest of an event over the cap", self._skipped))
        return True

    @staticmethod
    def _frame(frame: bytes, out: list[bytes | Dropped]) -> None:
        """One frame (everything up to an ``</event>``) to its event, and junk before it."""
        found = _START.search(frame)
        if found is None:
            out.append(Dropped("bytes ending in </event> with no <event> start", len(frame)))
            return
        if not _PREFIX.match(frame[: found.start()]):
            out.append(Dropped("bytes before <event> that are no XML declaration", found.start()))
        out.append(frame[found.start() :])
