"""The record read and checked once, and the openings of its commitments checked against
it: what the picture's replay (:mod:`accord.center.picture.replay`) and the compliance
report (:mod:`accord.center.picture.compliance`) are built from.

**Reading.** :func:`read_record` reads the log's leaves in order and checks each one as a
verifier would: the envelope sits at its own index and names the hash of the leaf before
it, the entry is canonical JSON signed by its author's registered key for this log, and
every author's sequence numbers run 1, 2, 3, … A leaf that fails stops the read
(:class:`~accord.errors.RecordDamaged`, naming its index): nothing is built from a record
that does not verify. The *prefix* used is
the longest run of entries from the start whose signed time ``ts`` is at or before the
instant asked for (an entry written later, even one back-dated by the clock, was not there
yet). :class:`VerifiedRecord` keeps what was checked, so each entry is checked once per
process (:data:`VERIFIED`, warmed at start-up by :func:`warm_record`).

**Openings.** The only table read besides the log is ``openings``, and only to open a
commitment *the record holds*: an opening's content is used only when
:func:`~accord.record.commitments.verify_opening` (or
:func:`~accord.record.commitments.open_commitment`) accepts it against that commitment —
:func:`hidden_openings` for ``declaration.hidden`` entries (kept once checked in
:class:`OpenedCache`), :func:`verified_opening` for any other commitment.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center.db.models import Opening
from accord.center.db.models_checks import CheckOpening
from accord.center.declarations.entries import HIDDEN
from accord.center.entry_kinds import Recorded
from accord.center.runtime import Center, CenterCache
from accord.chrono import micros, parse_instant
from accord.errors import RecordDamaged
from accord.record.canonical import decode_base64, loads_checked_unsafe
from accord.record.commitments import open_commitment, verify_opening
from accord.record.entries import SequenceTracker, open_envelope, verify_entry
from accord.record.errors import RecordError
from accord.record.keys import KeyRing
from accord.record.log import LogError, MerkleLog
from accord.record.merkle import CompactRange, leaf_hash, node_hash

__all__ = [
    "MARK_EVERY",
    "OPENED",
    "VERIFIED",
    "WINDOW",
    "Checkpoint",
    "OpenedCache",
    "Resumed",
    "Subtree",
    "VerifiedRecord",
    "hidden_openings",
    "opened_cache",
    "read_record",
    "refused",
    "verified_checks",
    "verified_log",
    "verified_of",
    "verified_opening",
    "verified_openings",
    "verified_record",
    "warm_record",
]


_log = logging.getLogger("accord.center")


# --- reading the record ---------------------------------------------------------------------


def _damaged(index: int, why: str) -> RecordDamaged:
    return RecordDamaged(f"the record does not verify at entry {index}: {why}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a :class:`VerifiedRecord` verified: ``size`` entries whose tree has ``root``,
    the last one's leaf hash (hex, ``prev``), each author's last sequence number, and the
    latest signed time up to each entry (``latest``: int64 microseconds, machine order)."""

    size: int
    root: bytes
    prev: str
    sequences: dict[str, int]
    latest: bytes


@dataclass(frozen=True, slots=True)
class Subtree:
    """A perfect subtree of the verified tree: the leaves ``start`` to ``start + size``
    (``size`` a power of two) and its root."""

    start: int
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Resumed:
    """A checkpoint's tree as taken up from stored subtree roots
    (:func:`~accord.center.picture.checkpoints.resumed_tree`): its right edge (``tree``), its
    roots at every so many entries (``marks``), and the subtrees (``unread``, in order)
    whose leaf hashes are read from the store only when first needed."""

    tree: CompactRange
    marks: dict[int, bytes]
    unread: tuple[Subtree, ...]


class _LeafHashes:
    """The leaf hashes of the verified entries, 32 bytes each. After a resume, those of the
    checkpoint's entries are read from the store when first asked for, a subtree at a time,
    and kept only once they fold to the subtree's root as the checkpoint verified it."""

    def __init__(self, size: int = 0, unread: Sequence[Subtree] = ()) -> None:
        self.data = bytearray(32 * size)
        self._unread = list(unread)
        self._starts = [subtree.start for subtree in unread]

    def missing(self, start: int, end: int) -> list[Subtree]:
        """The subtrees not read yet that hold some of the entries ``start`` to ``end``."""
        first = max(bisect_right(self._starts, start) - 1, 0)
        last = bisect_left(self._starts, end)
        return [s for s in self._unread[first:last] if s.start + s.size > start]

    def install(self, read: Sequence[tuple[Subtree, bytes]]) -> None:
        """Keep the leaf hashes of subtrees read (:func:`_read_subtrees`)."""
        for subtree, hashes in read:
            self.data[32 * subtree.start : 32 * (subtree.start + subtree.size)] = hashes
        done = {subtree.start for subtree, _ in read}
        self._unread = [s for s in self._unread if s.start not in done]
        self._starts = [s.start for s in self._unread]

    def slice(self, start: int, end: int) -> bytes:
        return bytes(self.data[32 * start : 32 * end])


@dataclass(frozen=True, slots=True)
class _Unread:
    """Subtrees of ``hashes`` whose leaf hashes a read needs and that are not read yet."""

    hashes: _LeafHashes
    subtrees: list[Subtree]


def _read_subtrees(log: MerkleLog, subtrees: Sequence[Subtree]) -> list[tuple[Subtree, bytes]]:
    """The stored leaf hashes of each of ``subtrees`` (in order), once they fold to its root;
    else :class:`~accord.errors.RecordDamaged`."""
    if not subtrees:
        return []
    low, high = subtrees[0].start, subtrees[-1].start + subtrees[-1].size
    got = {i: h for i, h in log.storage.read_nodes(0, low, high) if len(h) == 32}
    read = []
    for subtree in subtrees:
        leaves = [got.get(i, b"") for i in range(subtree.start, subtree.start + subtree.size)]
        if _perfect_root(leaves) != subtree.root:
            raise RecordDamaged(
                f"the stored record changed: the leaf hashes of entries {subtree.start} "
                f"to {subtree.start + subtree.size - 1} are not those this center verified"
            )
        read.append((subtree, b"".join(leaves)))
    return read


def _perfect_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1: the root of a perfect subtree from its leaf hashes, level by level."""
    level = leaves
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0] if level and len(level[0]) == 32 else b""


WINDOW = 10_000
"""How many of the latest verified entries a :class:`VerifiedRecord` keeps read, as the folds
use them; older ones are read again from the store when asked for, each checked against the
hash kept when it was verified. Twice :data:`MARK_EVERY`: what the folds of the present read
(a picture's tail from the newest snapshot, the snapshots' keeper, the compliance judge's
entries since its last report). An entry of the week held read takes some 1.9 kB: at
100,000 the window alone held 190 MB in each process that reads the record (the HTTP
process and the reader), once a server had run through 100,000 entries."""

MARK_EVERY = 5_000
"""Every how many entries a :class:`VerifiedRecord` keeps the root of the prefix verified
(:meth:`VerifiedRecord.root_at`): the sizes a snapshot of the folded state is taken at
(:mod:`accord.center.picture.snapshots`). A picture at a random instant folds on half of it
on average, each entry read again from the store and folded (some 40 µs on the bench's
machine: 0.1 s for the 2,500 of 5,000, twice that at 10,000), each size of snapshots costing
the database what the live state compresses to."""


class VerifiedRecord:
    """The record as this process has read and checked it, entry by entry, as
    :func:`read_record` does — but each entry once: a read verifies only the entries appended
    since the last one, after checking that the stored tree at the size already verified still
    has the root it had then (a rewritten log is :class:`~accord.errors.RecordDamaged` on every
    read from then on). A picture or a compliance report at 100,000 entries reads its prefix
    in milliseconds instead of checking 100,000 signatures each time (tens of seconds of one
    core, during which nothing else ran).

    **What it keeps** (issue 24: memory bounded by what is live, not by the history): of every
    entry verified, its leaf hash (32 bytes) and the latest signed time up to it (8 bytes,
    for the prefix at an instant); the entries themselves, read, only for the latest
    ``window`` (:data:`WINDOW`). An older entry asked for is read again from the store and
    served only if its leaf hashes to the one kept when it was verified — a leaf rewritten
    since is :class:`~accord.errors.RecordDamaged`, naming it — so what is served is always
    what was verified, never the stored bytes trusted again. A party's own verifier
    (``accord verify``) still checks every entry.
    """

    def __init__(
        self, ring: KeyRing, origin: str, *, window: int | None = None, marks: int | None = None
    ) -> None:
        self._ring = ring
        self._origin = origin
        self._window = WINDOW if window is None else window
        self._every = MARK_EVERY if marks is None else marks
        self._lock = threading.Lock()
        self._count = 0  # how many entries, from the first, are verified
        self._hashes = _LeafHashes()  # their leaf hashes
        self._latest = array("q")  # the latest signed time among entries 0..i, in µs
        self._recent: list[Recorded] = []  # the latest entries read, from _recent_start
        self._recent_start = 0
        self._tracker = SequenceTracker()
        self._prev = ""  # the hash (hex) of the last verified leaf
        self._root = b""  # the root of the verified prefix
        self._tree = CompactRange()  # the verified prefix's tree, as its right edge
        self._marks: dict[int, bytes] = {}  # the root at every MARK_EVERY entries
        self._broken: tuple[int, str] | None = None  # the first entry that failed
        self._refused: str | None = None  # why nothing is served (refuse())
        # the logs whose view was taken holding the lock (opened): none older than verified
        self._admitted: weakref.WeakSet[MerkleLog] = weakref.WeakSet()

    def read(
        self,
        log: MerkleLog,
        *,
        until: datetime | None = None,
        start: int = 0,
        stop: int | None = None,
    ) -> tuple[list[Recorded], int]:
        """What :func:`read_record` answers for ``log`` (read in the caller's transaction):
        the entries of the prefix from index ``start`` on (none when the prefix is shorter),
        and the prefix's size; with ``stop``, a prefix of at most that many entries."""
        while True:
            answer = self._read(log, until=until, start=start, stop=stop)
            if not isinstance(answer, _Unread):
                return answer
            # leaf hashes not read since a resume: read and checked without the lock held
            read = _read_subtrees(log, answer.subtrees)
            with self._lock:
                if self._hashes is answer.hashes:
                    answer.hashes.install(read)

    def _read(
        self, log: MerkleLog, *, until: datetime | None, start: int, stop: int | None
    ) -> tuple[list[Recorded], int] | _Unread:
        """:meth:`read`'s answer, or the leaf hashes it needs read first."""
        with self._lock:
            self._extend(log, log.size)
            count = min(self._count, log.size)  # an opened view taken before others extended
            cut = count if until is None else bisect_right(self._latest, micros(until))
            cut = min(cut, count)
            if stop is not None and stop < cut:
                cut = max(stop, 0)
            if cut == self._count and self._broken is not None:  # a prefix reaching it
                raise _damaged(*self._broken)
            start = max(start, 0)
            if start >= cut:
                return [], cut
            kept_from = max(start, self._recent_start)
            kept = (
                self._recent[kept_from - self._recent_start : cut - self._recent_start]
                if cut > kept_from
                else []
            )
            older = min(cut, self._recent_start)
            hashes = b""
            if start < older:
                missing = self._hashes.missing(start, older)
                if missing:
                    return _Unread(self._hashes, missing)
                hashes = self._hashes.slice(start, older)
        if not hashes:
            return kept, cut
        return [*_read_again(log, start, hashes), *kept], cut

    def size_at(self, log: MerkleLog, *, until: datetime | None = None) -> int:
        """The size of the prefix :meth:`read` answers for ``until`` (its entries unread)."""
        return self.read(log, until=until, start=1 << 62)[1]

    @property
    def verified(self) -> int:
        """How many entries, from the first, have been verified."""
        return self._count

    @property
    def broken(self) -> bool:
        """Whether an entry failed (every read of a prefix reaching it names it)."""
        return self._broken is not None

    @property
    def refused(self) -> str | None:
        """Why nothing is served (:meth:`refuse`), or None."""
        return self._refused

    def checkpoint(self) -> Checkpoint | None:
        """What was verified, to resume from (:meth:`resume`); None before any entry or
        once an entry failed."""
        with self._lock:
            if not self._count or self._broken is not None or self._refused is not None:
                return None
            return Checkpoint(
                size=self._count,
                root=self._root,
                prev=self._prev,
                sequences=self._tracker.last(),
                latest=self._latest.tobytes(),
            )

    @property
    def kept_from(self) -> int:
        """The index of the first entry kept read (those before it are read again)."""
        return self._recent_start

    @property
    def marks_every(self) -> int:
        """Every how many entries the root of the prefix is kept (:meth:`root_at`):
        :data:`MARK_EVERY` unless made with another ``marks``."""
        return self._every

    def root_at(self, size: int) -> bytes | None:
        """The root of the first ``size`` entries as verified here: kept for every multiple
        of :attr:`marks_every` and for the whole verified prefix; None for another size."""
        with self._lock:
            if size and size == self._count and self._broken is None:
                return self._root
            return self._marks.get(size)

    def resume(self, checkpoint: Checkpoint, resumed: Resumed, *, log: MerkleLog) -> None:
        """Take up where ``checkpoint`` left off, with its tree as ``resumed`` (already folded
        to its root by the caller): the roots at every multiple of :attr:`marks_every` and
        the subtrees whose leaf hashes are read from ``log``'s store when first needed;
        unless as much was verified here already (a read at start-up may have begun to
        verify from the first entry: what it verified must be the checkpoint's first
        entries, else :class:`~accord.errors.RecordDamaged`). The entries are read again
        when first asked for."""
        size = checkpoint.size
        ends = [s.start + s.size for s in resumed.unread]
        if (
            len(checkpoint.latest) != 8 * size
            or resumed.tree.size != size
            or [s.start for s in resumed.unread] != [0, *ends[:-1]]
            or (ends[-1] if ends else 0) != size
        ):
            raise ValueError("the times, tree or subtrees do not match the checkpoint's size")
        with self._lock:
            if self._count >= size or self._broken is not None:
                return
            hashes = _LeafHashes(size, resumed.unread)
            if self._count:
                hashes.install(_read_subtrees(log, hashes.missing(0, self._count)))
            if self._count and hashes.slice(0, self._count) != self._hashes.data:
                raise RecordDamaged(
                    "the stored record changed: the entries verified at start-up are not the "
                    "first of the checkpoint's"
                )
            self._count = size
            self._hashes = hashes
            self._latest = array("q")
            self._latest.frombytes(checkpoint.latest)
            self._recent, self._recent_start = [], checkpoint.size
            self._tracker = SequenceTracker.resumed(checkpoint.sequences)
            self._prev = checkpoint.prev
            self._root = checkpoint.root
            self._tree = resumed.tree.copy()
            self._marks = dict(resumed.marks)

    def refuse(self, why: str) -> None:
        """Serve nothing from here on: every read raises
        :class:`~accord.errors.RecordDamaged` with ``why`` (a checkpoint that does not check)."""
        with self._lock:
            self._refused = why

    def standing(self, log: MerkleLog) -> int:
        """How many entries of ``log`` are verified, after checking that the stored tree
        still has the root verified at that size (no entry is verified here); raises
        :class:`~accord.errors.RecordDamaged` for a rewritten prefix or an entry that failed."""
        with self._lock:
            if self._refused is not None:
                raise RecordDamaged(self._refused)
            verified = self._count
            if log.size < verified and log in self._admitted:
                return log.size  # a view opened before other threads verified more
            if log.size < verified or (verified and log.root(verified) != self._root):
                raise RecordDamaged(
                    f"the stored record changed: its first {verified} entries are not the ones "
                    "this center verified"
                )
            if self._broken is not None:
                raise _damaged(*self._broken)
            return verified

    def opened(self, open_log: Callable[[], MerkleLog], *, most: int | None = None) -> MerkleLog:
        """The log ``open_log`` opens, opened while this record is held: a read transaction's
        view is taken at its first query, so one taken here is never older than what this
        record has verified (a shorter log is then a rollback: :class:`RecordDamaged`), and
        the entries appended since are verified at once (``most`` of them, when given).
        Later reads with it (and :meth:`extend`) answer its own prefix even once other
        threads, with newer views, have verified more; a log opened otherwise and shorter
        than what was verified is refused as rolled back."""
        with self._lock:
            log = open_log()
            size = log.size
            self._extend(log, size if most is None else min(size, self._count + most))
            self._admitted.add(log)
            return log

    def extend(self, log: MerkleLog, *, most: int) -> bool:
        """Verify up to ``most`` more entries of ``log``; whether it is now all verified (or
        stopped at a bad entry, which every read will name)."""
        with self._lock:
            self._extend(log, min(log.size, self._count + most))
            return self._count == log.size or self._broken is not None

    def _extend(self, log: MerkleLog, size: int) -> None:
        if self._refused is not None:
            raise RecordDamaged(self._refused)
        verified = self._count
        if log.size < verified and log in self._admitted:
            return  # a view opened before other threads verified more: its prefix is verified
        if log.size < verified or (verified and log.root(verified) != self._root):
            raise RecordDamaged(
                f"the stored record changed: its first {verified} entries are not the ones "
                "this center verified"
            )
        self._broken = None
        if size == verified:
            return
        try:
            self._verify(log.entries(verified, size))
        except LogError as error:  # a leaf missing from the store
            self._broken = (self._count, str(error))
        self._root = log.root(self._count)
        excess = len(self._recent) - self._window
        if excess > self._window // 4:  # dropped in slices, not one at a time
            del self._recent[:excess]
            self._recent_start += excess

    def _verify(self, leaves: Iterator[tuple[int, bytes]]) -> None:
        latest = self._latest[-1] if self._latest else None
        for i, data in leaves:
            try:
                index, chained, raw = open_envelope(data)
                if index != i or chained != self._prev:
                    self._broken = (i, "the envelope is not chained to the leaf before it")
                    break
                entry = verify_entry(raw, keys=self._ring, log=self._origin)
                self._tracker.check(entry)
            except RecordError as error:
                self._broken = (i, str(error))
                break
            self._recent.append(Recorded(i, entry.author, entry.ts, entry.event))
            signed = micros(entry.ts)
            latest = signed if latest is None or signed > latest else latest
            self._latest.append(latest)
            digest = leaf_hash(data)
            self._hashes.data += digest
            self._prev = digest.hex()
            self._count = i + 1
            self._tree.append(digest)
            if self._count % self._every == 0:
                self._marks[self._count] = self._tree.root()


def _read_again(log: MerkleLog, start: int, hashes: bytes) -> Iterator[Recorded]:
    """Entries ``start`` on, verified before, read again from the store: each served only if
    its leaf hashes to the one kept when it was verified (``hashes``, 32 bytes each), and read
    as it was then (canonical JSON whose signature was checked: parsed, not checked again)."""
    end = start + len(hashes) // 32
    try:
        for i, data in log.entries(start, end):
            at = (i - start) * 32
            if leaf_hash(data) != hashes[at : at + 32]:
                raise RecordDamaged(
                    f"the stored record changed: entry {i} is not the one this center verified"
                )
            _, _, raw = open_envelope(data)
            entry = loads_checked_unsafe(raw)  # the bytes verified: canonical, checked then
            yield Recorded(i, entry["author"], parse_instant(entry["ts"]), entry["event"])
    except (LogError, RecordError, ValueError) as error:
        raise RecordDamaged(f"the stored record changed: {error}") from None


VERIFIED: CenterCache[VerifiedRecord] = CenterCache(
    "the verified record", lambda center: VerifiedRecord(center.ring, center.origin)
)
"""The key of each center's :class:`VerifiedRecord` (made with the center: see
:mod:`accord.center.bootstrap`)."""


def refused(center: Center, what: str) -> RecordDamaged:
    """``center``'s verified record refused because ``what`` — something the center itself
    wrote and signed (a snapshot, a checkpoint) — does not check against it: logged, and the
    error every read then answers (503 ``record-damaged``), to raise."""
    error = RecordDamaged(f"the stored record changed: {what}")
    _log.error("the record does not verify: %s", error)
    verified_of(center).refuse(str(error))
    return error


def verified_of(center: Center) -> VerifiedRecord:
    """The service's :class:`VerifiedRecord` (one per service)."""
    return center.cache(VERIFIED)


def verified_log(center: Center, session: Session, *, most: int | None = None) -> MerkleLog:
    """The record read in ``session``'s transaction, opened by the service's
    :class:`VerifiedRecord` (:meth:`VerifiedRecord.opened`): call it before anything else is
    read in ``session``, so that its view is taken then. Every read of the verified record in
    a request or a job goes through a log opened so: two threads verifying what their own
    views hold never see each other's newer entries as a rolled-back log. ``most``: verify
    at most that many of the entries appended since (a job verifying in steps)."""
    return verified_of(center).opened(lambda: center.log(session), most=most)


def verified_record(
    center: Center, log: MerkleLog, *, until: datetime | None = None
) -> tuple[list[Recorded], int]:
    """:func:`read_record` through the service's :class:`VerifiedRecord` (one per service)."""
    return verified_of(center).read(log, until=until)


def warm_record(center: Center, stop: threading.Event, *, step: int = 2000) -> None:
    """At start-up: verify the record into the service's :class:`VerifiedRecord`, ``step``
    entries at a time (each in its own read transaction), so that the first picture or
    compliance report does not wait for it; until it is all verified or ``stop`` is set.
    A record that does not verify is left for the reads to report."""
    cache = verified_of(center)
    try:
        while not stop.is_set():
            with center.reading() as session:
                log = verified_log(center, session, most=step)
                if cache.verified >= log.size or cache.broken:
                    return
    except RecordDamaged as error:
        _log.error("the record does not verify: %s", error)


def read_record(
    log: MerkleLog, ring: KeyRing, origin: str, *, until: datetime | None = None
) -> tuple[list[Recorded], int]:
    """The verified entries of the log's longest prefix whose entries were all signed at or
    before ``until`` (the whole log when None), and that prefix's size: the whole log read
    and checked at once, by a :class:`VerifiedRecord` of its own.

    Raises :class:`~accord.errors.RecordDamaged` naming the first leaf that is not chained,
    signed or sequenced as it must be.
    """
    return VerifiedRecord(ring, origin).read(log, until=until)


# --- openings -------------------------------------------------------------------------------

_CHUNK = 500  # entries per read of openings (SQLite allows 32766 parameters)


class OpenedCache:
    """Openings already checked against their entry, by ``(index, commitment)``: an opening
    that opened a verified entry's commitment once opens it for good, so each is read and
    checked once while it is kept. Only checked openings are kept; one that did not check is
    read again next time (it may have been repaired). At most ``most`` are kept, the least
    lately used dropped first (read and checked again if asked for): what a process holds
    does not grow with every hidden entry the record ever held. By default
    :data:`MARK_EVERY`: as many as a tail folded on from the newest snapshot can hold, so a
    monitor's pictures of the present read each once; a week's opening held this way takes
    some 2.4 kB (at 20,000 they were 47 MB of each serving process)."""

    def __init__(self, *, most: int = MARK_EVERY) -> None:
        self._opened: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        self._most = most
        self._lock = threading.Lock()

    def get(self, index: int, committed: str) -> dict[str, Any] | None:
        """The checked opening of entry ``index`` with commitment ``committed``, if kept."""
        with self._lock:
            found = self._opened.get((index, committed))
            if found is not None:
                self._opened.move_to_end((index, committed))
            return found

    def put(self, index: int, committed: str, opened: dict[str, Any]) -> None:
        """Keep an opening that was checked against that entry's commitment."""
        with self._lock:
            self._opened[(index, committed)] = opened
            self._opened.move_to_end((index, committed))
            while len(self._opened) > self._most:
                self._opened.popitem(last=False)


OPENED: CenterCache[OpenedCache] = CenterCache("the checked openings", lambda _: OpenedCache())
"""The key of each center's :class:`OpenedCache` (made with the center: see
:mod:`accord.center.bootstrap`)."""


def opened_cache(center: Center) -> OpenedCache:
    """The service's :class:`OpenedCache` (one per service)."""
    return center.cache(OPENED)


def hidden_openings(
    session: Session,
    records: Sequence[Recorded],
    *,
    owners: Collection[str] | None = None,
    cache: OpenedCache | None = None,
) -> dict[int, dict[str, Any]]:
    """The openings the center keeps of the ``declaration.hidden`` entries among
    ``records`` (only those by ``owners``, when given), by entry index: each only when it
    opens the commitment *the entry holds* (:func:`~accord.record.commitments.open_commitment`),
    was kept for the entry's author, and has the form :func:`~accord.center.declarations.service.
    hidden_event` commits to. A tampered, missing or misshapen opening is left out, never
    trusted: :class:`~accord.center.picture.replay.Replay` then counts its entry as
    ``unopened``. ``cache``: openings checked before (and where those checked now are
    kept)."""
    found: dict[int, dict[str, Any]] = {}
    wanted: dict[int, Recorded] = {}
    for r in records:
        if r.event.get("kind") != HIDDEN or (owners is not None and r.author not in owners):
            continue
        kept = None if cache is None else cache.get(r.index, str(r.event.get("commitment")))
        if kept is not None:
            found[r.index] = kept
        else:
            wanted[r.index] = r
    indices = sorted(wanted)
    for at in range(0, len(indices), _CHUNK):
        query = select(Opening.entry, Opening.owner, Opening.salt, Opening.content).where(
            Opening.entry.in_(indices[at : at + _CHUNK])
        )
        for entry, owner, salt, content in session.execute(query):
            record = wanted[entry]
            if owner != record.author:
                continue
            try:
                opened = open_commitment(record.event, salt=bytes(salt), content=content)
            except RecordError:
                continue
            if _is_hidden_change(opened):
                found[entry] = opened
                if cache is not None:
                    cache.put(entry, str(record.event["commitment"]), opened)
    return found


def _is_hidden_change(opened: Any) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(opened, dict)
        and opened.keys() == {"action", "content", "id", "object_kind", "version"}
        and opened["action"] in ("created", "amended", "withdrawn")
        and isinstance(opened["id"], str)
        and isinstance(opened["object_kind"], str)
        and type(opened["version"]) is int
        and isinstance(opened["content"], dict)
    )


def verified_opening(session: Session, owner: str, entry: int, committed: str) -> Any | None:
    """The content behind the commitment ``committed`` (base64) of record entry ``entry``,
    from the opening ``owner`` keeps — only when it opens that commitment; else None."""
    return verified_openings(session, [(owner, entry, committed)]).get(entry)


def verified_openings(session: Session, wanted: Collection[tuple[str, int, str]]) -> dict[int, Any]:
    """:func:`verified_opening` for each ``(owner, entry, committed)`` of ``wanted``, read in
    one query per :data:`_CHUNK` entries (a page of a picture opens hundreds): by entry, the
    content of each that opens its commitment, from its owner's opening; the others left
    out."""
    by_entry = {entry: (owner, committed) for owner, entry, committed in wanted}
    found: dict[int, Any] = {}
    indices = sorted(by_entry)
    for at in range(0, len(indices), _CHUNK):
        query = select(Opening.entry, Opening.owner, Opening.salt, Opening.content).where(
            Opening.entry.in_(indices[at : at + _CHUNK])
        )
        for entry, owner, salt, content in session.execute(query):
            kept_for, committed = by_entry[entry]
            if owner != kept_for:
                continue
            opened = _opened_of(salt, content, committed)
            if opened is not None:
                found[entry] = opened
    return found


def verified_checks(
    session: Session, party: str, wanted: Collection[tuple[int, str]]
) -> dict[int, Any]:
    """What the center's checks in record entries showed ``party`` (its openings in
    ``check_openings``), for each ``(entry, committed)`` of ``wanted``, in one query per
    :data:`_CHUNK` entries: by entry, each only when it opens ``party``'s commitment
    ``committed`` (base64) there; the others left out."""
    by_entry = dict(wanted)
    found: dict[int, Any] = {}
    indices = sorted(by_entry)
    for at in range(0, len(indices), _CHUNK):
        query = select(CheckOpening.entry, CheckOpening.salt, CheckOpening.content).where(
            CheckOpening.party == party, CheckOpening.entry.in_(indices[at : at + _CHUNK])
        )
        for entry, salt, content in session.execute(query):
            opened = _opened_of(salt, content, by_entry[entry])
            if opened is not None:
                found[entry] = opened
    return found


def _opened_of(salt: bytes, content: str, committed: str) -> Any | None:
    """The content ``content`` (canonical JSON) when it opens ``committed`` with ``salt``;
    else None."""
    try:
        parsed = json.loads(content)
        verify_opening(
            commitment=decode_base64(committed, what="commitment"),
            content=parsed,
            salt=bytes(salt),
        )
    except (RecordError, ValueError, TypeError):
        return None
    return parsed
