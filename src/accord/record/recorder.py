"""The recorder: signed entries into the log, and the center's signed tree heads.

The one place that ties the formats (:mod:`~accord.record.entries`,
:mod:`~accord.record.note`) to the storage (:mod:`~accord.record.log`): it numbers each
author's entries, wraps each entry in the envelope that chains it to the leaf before it, and
signs checkpoints. Appends are not thread-safe; a caller that appends from several threads
serialises them (the service does, in its transaction).

>>> from datetime import UTC, datetime
>>> from accord.record.keys import PrivateKey
>>> from accord.record.log import MerkleLog, SQLiteStorage
>>> center = PrivateKey.from_seed("accord.example/jcc", bytes(32))
>>> blue = PrivateKey.from_seed("blue", bytes(range(32)))
>>> recorder = Recorder(MerkleLog(SQLiteStorage(":memory:"), "accord.example/jcc"))
>>> recorder.append({"kind": "position.declared"}, key=blue, at=datetime(2026, 5, 1, tzinfo=UTC))
0
>>> head = recorder.sign_head(key=center, timestamp=1_777_593_600)
>>> head.checkpoint.size
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from accord.errors import InputError, Issue
from accord.record.canonical import canonical_json, loads_canonical
from accord.record.entries import make_envelope, open_envelope, sign_encoded_entry, sign_entry
from accord.record.errors import FormatError
from accord.record.keys import PrivateKey
from accord.record.log import MerkleLog
from accord.record.merkle import leaf_hash
from accord.record.note import (
    Checkpoint,
    SignedHead,
    sign_checkpoint,
    verify_checkpoint,
)
from accord.record.tiles import MAX_ENTRY_BYTES

__all__ = ["Recorder", "ScannedSequences", "Sequences"]


class Sequences(Protocol):
    """Where each author's last sequence number is kept."""

    def last(self, author: str) -> int:
        """The sequence number of ``author``'s last entry (0: none yet)."""
        ...

    def advance(self, last: Mapping[str, int]) -> None:
        """Record new last sequence numbers, once their entries are appended."""
        ...


class ScannedSequences:
    """Sequence numbers learned once from the log itself, then kept in memory: a reopened
    log continues every author's count."""

    def __init__(self, log: MerkleLog) -> None:
        self._log = log
        self._seq: dict[str, int] | None = None

    def _known(self) -> dict[str, int]:
        if self._seq is None:
            seq: dict[str, int] = {}
            for _, data in self._log.entries(0, self._log.size):
                _, _, entry = open_envelope(data)
                obj = loads_canonical(entry)
                seq[obj["author"]] = max(seq.get(obj["author"], 0), int(obj["seq"]))
            self._seq = seq
        return self._seq

    def last(self, author: str) -> int:
        return self._known().get(author, 0)

    def advance(self, last: Mapping[str, int]) -> None:
        self._known().update(last)


class Recorder:
    """Appends signed entries to a :class:`MerkleLog` and signs its tree heads.

    ``sequences`` keeps each author's count (by default learned from the log); the service
    keeps it in a table of the same transaction as the log.
    """

    def __init__(self, log: MerkleLog, *, sequences: Sequences | None = None) -> None:
        self.log = log
        self._sequences = sequences if sequences is not None else ScannedSequences(log)

    def next_seq(self, author: str) -> int:
        """The sequence number ``author``'s next entry will carry."""
        return self._sequences.last(author) + 1

    def append(self, event: Mapping[str, Any], *, key: PrivateKey, at: datetime) -> int:
        """Sign ``event`` with ``key`` (its author) at ``at`` and append it; its index."""
        (index,) = self.append_many([(event, key, at)])
        return index

    def append_encoded(self, event_json: bytes, *, key: PrivateKey, at: datetime) -> int:
        """:meth:`append` of the event whose canonical JSON is ``event_json`` (see
        :func:`~accord.record.entries.sign_encoded_entry`)."""
        (index,) = self.append_many([(event_json, key, at)])
        return index

    def append_many(
        self,
        items: Sequence[
            tuple[Mapping[str, Any] | bytes, PrivateKey, datetime]
            | tuple[Mapping[str, Any] | bytes, PrivateKey, datetime, str, Mapping[str, Any]]
        ],
    ) -> list[int]:
        """Sign and append several entries in one durable transaction (an event given as
        bytes is its canonical JSON). An item of five, ``(event, key, at, author, act)``, is
        a member's act that ``key`` (the center's) takes in: a version 2 entry
        (:mod:`accord.record.entries`)."""
        size = self.log.size
        prev = self.log.range_hash(size - 1, size) if size else None
        counts: dict[str, int] = {}
        leaves: list[bytes] = []
        hashes: list[bytes] = []
        for offset, item in enumerate(items):
            event, key, at = item[0], item[1], item[2]
            author, act = (item[3], item[4]) if len(item) == 5 else (key.name, None)
            last = counts.get(author)
            if last is None:  # the store is asked once per author, not once per entry
                last = self._sequences.last(author)
            counts[author] = last + 1
            seq, origin = counts[author], self.log.origin
            if isinstance(event, bytes):
                entry = sign_encoded_entry(
                    event, key=key, log=origin, seq=seq, ts=at, author=author, act=act
                )
            else:
                entry = sign_entry(
                    event, key=key, log=origin, seq=seq, ts=at, author=author, act=act
                )
            leaf = make_envelope(size + offset, prev, entry)
            if len(leaf) > MAX_ENTRY_BYTES:
                raise _too_large(event, len(leaf))
            leaves.append(leaf)
            prev = leaf_hash(leaf)
            hashes.append(prev)
        indices = self.log.append_many(leaves, leaf_hashes=hashes)
        self._sequences.advance(counts)  # only once the entries are appended
        return indices

    def sign_head(self, *, key: PrivateKey, timestamp: int) -> SignedHead:
        """The center signs the tree head at the current size; it is kept with the log."""
        size = self.log.size
        root = self.log.root(size)
        note = sign_checkpoint(
            Checkpoint(origin=self.log.origin, size=size, root=root), key=key, timestamp=timestamp
        )
        self.log.add_head(size, root, timestamp, note)
        return verify_checkpoint(note, origin=self.log.origin, center=key.public)

    def add_cosignature(self, head: SignedHead, note_text: str) -> None:
        """Keep a party's co-signed version of ``head`` (its note gains signature lines)."""
        cp = head.checkpoint
        if head.timestamp is None:
            raise FormatError("the center's head carries no timestamped line to keep it by")
        self.log.add_head(cp.size, cp.root, head.timestamp, note_text)


def _too_large(event: Mapping[str, Any] | bytes, size: int) -> InputError:
    """The refusal of an entry over :data:`~accord.record.tiles.MAX_ENTRY_BYTES`, naming the
    event's field that makes it so (the member holding more than half of it, followed down
    as far as one does): nothing is appended. The sources that can grow check their own
    limits first, with their own fields' names; this is the limit that holds for all."""
    value: Any = loads_canonical(event) if isinstance(event, bytes) else event
    path = ""
    while isinstance(value, Mapping | list) and value:
        items = list(value.items()) if isinstance(value, Mapping) else list(enumerate(value))
        total = len(canonical_json(value))
        weight, key, child = max(((len(canonical_json(v)), k, v) for k, v in items), key=_first)
        if 2 * weight <= total:
            break
        path += f"[{key}]" if isinstance(key, int) else f".{key}" if path else str(key)
        value = child
    return InputError(
        "record entry",
        [
            Issue(
                path or "event",
                f"the entry would take {size} bytes; a record entry is at most "
                f"{MAX_ENTRY_BYTES} (DECISIONS 12, C2SP tlog-tiles)",
            )
        ],
    )


def _first(item: tuple[int, object, object]) -> int:
    return item[0]
