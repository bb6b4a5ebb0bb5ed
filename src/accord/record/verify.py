"""The verifier: everything a party or monitor checks on its own machine, trusting nothing.

It reads only the leaf data and the signed tree heads (never the log's stored hashes or
subtree nodes) from a log file (the SQLite file, opened read-only) or from an export
(JSON lines), and checks, in this order:

1. every leaf is an envelope at its own index, chained to the hash of the leaf before it —
   a dropped, inserted or reordered leaf is named by its index;
2. every entry is canonical JSON signed by its author's registered key, for this log;
3. every author's sequence numbers run 1, 2, 3, … with no gap or repeat — a replayed entry
   is named; a list continued across entries (:mod:`accord.record.continued`) has each of
   its parts right after the entry it continues, in order, each the center's — a part
   removed, moved or forged is named;
4. every tree head kept with the log is signed by the center and commits to the root of the
   leaves at its size (the tree is rebuilt from the leaf data, RFC 9162); the plain fields
   kept beside a head's note (``size``, ``root``, ``timestamp``, ``origin`` of an export's
   head line, or of a log file's ``heads`` table) say what its signed note says, or the log
   is refused naming them — a reader of those fields would otherwise be told what the center
   never signed;
5. given an older trusted head, the log is consistent with it (RFC 9162 §2.1.4 proof);
6. which parties co-signed the latest head (C2SP tlog-cosignature).

A log whose entry 0 adopts an agreement that names the parties' roots (a **rooted log**,
:mod:`accord.record.rooted`) is read against those roots, not against the members' keys of
the key ring, which prove nothing against a center that could have held them: in step 2
every party entry must carry its act, signed with a key the party's root certified for the
acting user and valid at that entry, and an entry by a party that the center signed alone is
named **forged**; the registry entries must say what their acts ask, no act may come twice
or before the agreement is in force. The caller may pin the agreement (its own copy of the
document, or its roots): entry 0 must adopt that one. Any other log (its entry 0 adopts no
agreement, or one that names no root) is a **legacy log** (DECISIONS 9): verified as
before, and reported for what it is — its party entries were signed with keys the center
held, so they prove nothing against the center.

:func:`verify_log` returns a :class:`VerificationReport` or raises
:class:`VerificationError` naming the first bad entry and why. Where a log has several
faults, a leaf that is no valid signed entry (2) is named before one out of its place or off
the chain (1), and that before a break in a sequence (3).

Steps 1 to 3 take all but the time of the signature checks themselves, so they run where
those do: in worker processes, a chunk of consecutive leaves each, every leaf checked
whole where it is read (each worker reads its own chunks from a SQLite file). A worker
sends back the chunk's leaf hashes, its authors' sequence numbers and its first fault;
this process joins the chunks at their edges (the first leaf's chain link, the sequences
running on) and rebuilds the tree from the hashes as the chunks come in. In a rooted log a
worker also checks each act where it stands (its signature with the key beside it) and sends
back a compact summary of the chunk's acts (:class:`~accord.record.rooted.ChunkActs`), which
this process folds against the key registry once every chunk is in.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from accord.chrono import format_instant
from accord.errors import RecordError, VerificationError
from accord.jsontext import loads as strict_loads
from accord.jsontext import shown
from accord.record import continued
from accord.record.canonical import loads_canonical
from accord.record.entries import Entry, LeafReader, open_envelope, verify_entry
from accord.record.keys import KeyRing, PublicKey
from accord.record.merkle import (
    CompactRange,
    ProofError,
    consistency_proof,
    verify_consistency,
)
from accord.record.note import SignedHead, verify_checkpoint, verify_cosignatures
from accord.record.rooted import (
    ADOPTED,
    ActFold,
    Adopted,
    ChunkActs,
    adopted,
    check_pinned,
    forged_entry,
    scan_chunk,
)

__all__ = ["EntryStream", "VerificationError", "VerificationReport", "read_log", "verify_log"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK = 2048


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What was checked, for a person to read."""

    origin: str
    entries: int
    authors: dict[str, int]
    head_size: int
    head_timestamp: int | None
    heads_checked: int
    trusted_size: int | None
    cosigners: dict[str, int]
    workers: int
    uncovered: int = field(default=0)
    rooted: bool = field(default=False)
    """Whether entry 0 adopts an agreement that names the parties' roots."""
    roots_pinned: bool = field(default=False)
    """Whether the roots were checked against the caller's own (else taken from the log)."""
    agreement_digest: str = field(default="")
    in_force_at: int | None = field(default=None)
    registry_entries: int = field(default=0)
    acts: tuple[tuple[str, str, str, int], ...] = field(default=())
    """(member, key id, user, count) of the parties' acts, each checked against that key."""
    device_reports: tuple[tuple[str, str, str, int], ...] = field(default=())
    """(member, key id, user, count) of the acts signed by ``device-reports`` keys (a party's
    gateway's), each of a request such a key may sign."""
    legacy_entries: int = field(default=0)
    """In a legacy log, the entries by members: signed with keys the center held."""

    def lines(self) -> list[str]:
        workers = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        sequences = ", ".join(f"{a} ({n})" for a, n in sorted(self.authors.items()))
        if self.rooted:
            signatures = (
                f"signatures: {self.entries} entries signed by the center ({workers}), "
                f"{sum(a[3] for a in self.acts) + self.registry_entries} of them carrying a "
                f"party's act; sequences unbroken for {sequences}"
            )
        else:
            signatures = (
                f"signatures: {self.entries} verified against registered keys ({workers}); "
                f"sequences unbroken for {sequences}"
            )
        signed = (
            "its time not signed (the center's log signature alone)"
            if self.head_timestamp is None
            else "signed at " + format_instant(datetime.fromtimestamp(self.head_timestamp, UTC))
        )
        out = [
            f"log {self.origin}: {self.entries} entries, every envelope in place and chained",
            signatures,
            *self._acts_lines(),
            f"tree heads: {self.heads_checked} signed by the center, each matching the tree "
            f"rebuilt from the entries; latest covers {self.head_size} entries, {signed}",
        ]
        if self.uncovered:
            out.append(f"note: the last {self.uncovered} entries are not yet under a signed head")
        if self.trusted_size is not None:
            out.append(f"consistency: the log extends the trusted head of size {self.trusted_size}")
        if self.cosigners:
            out.append(
                "co-signed by: "
                + ", ".join(
                    f"{n} (at {format_instant(datetime.fromtimestamp(t, UTC))})"
                    for n, t in sorted(self.cosigners.items())
                )
            )
        else:
            out.append("co-signed by: nobody yet")
        return out

    def _acts_lines(self) -> list[str]:
        if not self.rooted:
            return [
                f"legacy log: {self.legacy_entries} entries were signed with keys the center "
                "held; they prove nothing against the center"
            ]
        out = [
            f"agreement: entry 0 adopts the agreement of digest {self.agreement_digest}; "
            + (
                "its roots match those you pinned"
                if self.roots_pinned
                else "its roots were taken from the log itself, unpinned (pin your own copy "
                "of the agreement to check them)"
            ),
            f"in force from entry {self.in_force_at}: every party's root signed it"
            if self.in_force_at is not None
            else "not yet in force: not every party's root has signed it",
            f"registry: {self.registry_entries} entries (agreement signatures, key "
            "registrations and revocations), each signed by a party's root or a key it "
            "certified, each event saying what its act asks",
        ]
        by_member: dict[str, list[tuple[str, str, int]]] = {}
        for member, key_id, user, count in self.acts:
            by_member.setdefault(member, []).append((key_id, user, count))
        for member, keys in sorted(by_member.items()):
            out.append(
                f"acts of {member}: {sum(k[2] for k in keys)} checked: "
                + ", ".join(f"{n} by user {user} with key {key_id}" for key_id, user, n in keys)
            )
        if not by_member:
            out.append("acts: none yet")
        if self.device_reports:
            out.append(
                f"device reports: {sum(d[3] for d in self.device_reports)} acts signed by "
                "device-reports keys (a party's gateway), each a device's position, track or "
                "draft: "
                + ", ".join(
                    f"{member}'s key {key_id} (user {user}) {n}"
                    for member, key_id, user, n in self.device_reports
                )
            )
        out.append(
            "acts: each signature verified over the act's canonical bytes with a key the "
            "party's root certified for its user, valid at its entry; no act taken in twice"
        )
        return out


@dataclass(frozen=True, slots=True)
class _LogFile:
    origin: str | None
    leaves: list[bytes]
    notes: list[str]
    claims: list[dict[str, Any]] = field(default_factory=list)
    """Beside each note, the plain fields kept with it (unsigned: checked against it)."""


def read_log(path: str | os.PathLike[str]) -> _LogFile:
    """Read leaf data and head notes from a log file or a JSON-lines export."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            magic = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise VerificationError(None, f"cannot read {path}: {exc.strerror}") from None
    if magic == _SQLITE_MAGIC:
        return _read_sqlite(path)
    return _read_jsonl(path)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise VerificationError(None, f"cannot open {path}: {exc}") from None


def _read_sqlite(path: Path) -> _LogFile:
    db = _connect(path)
    try:
        origin_row = db.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()
        rows = db.execute("SELECT idx, data FROM leaves ORDER BY idx").fetchall()
        notes, claims = _heads(db)
    except sqlite3.Error as exc:
        raise VerificationError(None, f"{path} is not an Accord log: {exc}") from None
    finally:
        db.close()
    leaves: list[bytes] = []
    for position, (idx, data) in enumerate(rows):
        if idx != position:
            raise VerificationError(position, f"the log has no entry {position} (next is {idx})")
        leaves.append(bytes(data))
    return _LogFile(origin_row[0] if origin_row else None, leaves, notes, claims)


def _heads(db: sqlite3.Connection) -> tuple[list[str], list[dict[str, Any]]]:
    """The notes of a log file's heads, and the plain fields stored beside each."""
    rows = db.execute("SELECT size, root, timestamp, note FROM heads ORDER BY size").fetchall()
    claims = [
        {"size": size, "root": base64.b64encode(bytes(root)).decode("ascii"), "timestamp": at}
        for size, root, at, _ in rows
    ]
    return [row[3] for row in rows], claims


@dataclass(frozen=True, slots=True)
class _Opened:
    """A log about to be verified: its heads and size, and the leaves of an export (the
    leaves of a SQLite file are read from it chunk by chunk, where they are checked)."""

    path: Path
    origin: str | None
    notes: list[str]
    size: int
    leaves: list[bytes] | None
    claims: list[dict[str, Any]] = field(default_factory=list)


def _open_log(path: Path) -> _Opened:
    try:
        with path.open("rb") as f:
            magic = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise VerificationError(None, f"cannot read {path}: {exc.strerror}") from None
    if magic != _SQLITE_MAGIC:
        export = _read_jsonl(path)
        return _Opened(path, None, export.notes, len(export.leaves), export.leaves, export.claims)
    db = _connect(path)
    try:
        db.execute("BEGIN")  # the heads and the number of leaves from one snapshot
        origin_row = db.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()
        notes, claims = _heads(db)
        count, low, high = db.execute("SELECT count(*), min(idx), max(idx) FROM leaves").fetchone()
        if count and (low, high) != (0, count - 1):
            for position, (idx,) in enumerate(db.execute("SELECT idx FROM leaves ORDER BY idx")):
                if idx != position:
                    raise VerificationError(
                        position, f"the log has no entry {position} (next is {idx})"
                    )
    except sqlite3.Error as exc:
        raise VerificationError(None, f"{path} is not an Accord log: {exc}") from None
    finally:
        db.close()
    return _Opened(path, origin_row[0] if origin_row else None, notes, count, None, claims)


def _read_jsonl(path: Path) -> _LogFile:
    leaves: list[bytes] = []
    notes: list[str] = []
    claims: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationError(None, f"cannot read {path}: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = strict_loads(line)
            if "head" in obj:
                head = obj["head"]
                notes.append(str(head["note"]))
                claims.append({k: v for k, v in head.items() if k != "note"} | {"line": number})
                continue
            index = obj["i"]
            data = base64.b64decode(obj["data"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise VerificationError(
                None, f"{path} line {number}: not an export line ({exc})"
            ) from None
        if index != len(leaves):
            raise VerificationError(len(leaves), f"line {number} holds entry {index} instead")
        leaves.append(data)
    return _LogFile(None, leaves, notes, claims)


# --- the leaves, checked in chunks on every core ------------------------------------------------


class _Checked(NamedTuple):
    """What a chunk of leaves holds, for the process that puts the chunks together."""

    start: int
    hashes: bytes  # the leaf hashes, 32 bytes each
    subtree: bytes  # the root of a full chunk's perfect subtree (RFC 9162), else b""
    first_prev: str  # the "prev" of the first leaf, checked against the chunk before
    authored: list[tuple[str, int]]  # (author, seq) of each leaf
    moved: tuple[int, str] | None  # the first leaf out of its place or off the chain
    failure: tuple[int, str] | None  # the first leaf that is no valid signed entry
    acts: ChunkActs | None = None  # a rooted log's: what the chunk's acts leave for the fold
    chains: tuple[continued.Mark, ...] = ()  # the entries of lists continued across entries


def _failed(start: int, index: int, reason: str) -> _Checked:
    return _Checked(start, b"", b"", "", [], None, (index, reason))


class _Checker:
    """Checks chunks of leaves, in a worker process or in this one.

    Everything about one leaf is checked where the leaf is: its envelope, the canonical
    form and signature of its entry (:class:`~accord.record.entries.LeafReader`), its place and
    its chain link to the leaf before it in the chunk, and its leaf hash (RFC 9162:
    SHA-256(0x00 || leaf)). Only the hashes, the authors' sequence numbers and the first
    fault go back, so that the process putting the chunks together has little left to do.
    With the log in a SQLite file, each worker reads its own chunks from the file.

    In a rooted log (``roots`` given, ``keys`` the center's key and the members by their
    roots) it also checks each act where it stands (:func:`~accord.record.rooted.scan_chunk`).
    """

    def __init__(
        self,
        keys: KeyRing,
        origin: str,
        path: Path | None,
        roots: Mapping[str, PublicKey] | None = None,
        causes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.reader = LeafReader(keys, origin)
        self.origin = origin
        self.roots = roots
        self.causes = causes
        self.db = _connect(path) if path is not None else None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()

    def rows(self, start: int, end: int) -> _Checked:
        """Check leaves ``start`` to ``end - 1``, read from the log file."""
        assert self.db is not None
        try:
            rows = self.db.execute(
                "SELECT idx, data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx",
                (start, end),
            ).fetchall()
        except sqlite3.Error as exc:
            return _failed(start, start, f"cannot read the entry: {exc}")
        leaves = []
        for position, (idx, data) in enumerate(rows, start):
            if idx != position:
                return _failed(start, position, f"the log has no entry {position} (next is {idx})")
            leaves.append(data)
        if len(leaves) < end - start:
            return _failed(
                start, start + len(leaves), f"the log has no entry {start + len(leaves)}"
            )
        return self.leaves(start, leaves)

    def leaves(self, start: int, leaves: Sequence[bytes]) -> _Checked:
        """Check ``leaves``, the first of which is leaf ``start``."""
        acts: list[tuple[int, Entry]] = []
        read, failure = self.reader.read_all(leaves, acts=acts)
        summary, fault = scan_chunk(
            start, leaves, read, acts, origin=self.origin, roots=self.roots, causes=self.causes
        )
        if fault is not None:  # before the leaf that failed, if any
            return _failed(start, *fault)
        if failure is not None:
            reason = str(failure)
            if self.roots is not None:
                reason = (
                    forged_entry(leaves[len(read)], center=self.origin, roots=self.roots) or reason
                )
            return _failed(start, start + len(read), reason)
        sha256 = hashlib.sha256
        hashes = [sha256(b"\x00" + data).digest() for data in leaves]
        moved: tuple[int, str] | None = None
        for i, (index, prev, _, _) in enumerate(read, start):
            if index != i:
                moved = (i, f"the leaf says it is entry {index}: entries were moved")
                break
            if i > start and prev != hashes[i - start - 1].hex():
                moved = (i, _unchained(i))
                break
        authored = [(author, seq) for _, _, author, seq in read]
        subtree = b""
        if len(hashes) == _CHUNK:  # a full chunk is a node of the tree at any larger size
            level = hashes
            while len(level) > 1:
                level = [
                    sha256(b"\x01" + level[k] + level[k + 1]).digest()
                    for k in range(0, len(level), 2)
                ]
            subtree = level[0]
        marked = continued.marks(start, leaves, [author for author, _ in authored])
        return _Checked(
            start,
            b"".join(hashes),
            subtree,
            read[0][1],
            authored,
            moved,
            None,
            summary,
            tuple(marked),
        )


def _unchained(i: int) -> str:
    return (
        f"the leaf is not chained to entry {i - 1}: that entry was changed, or an entry "
        "was removed or inserted before this one"
    )


_WORKER: _Checker | None = None


def _init_worker(
    keys: KeyRing,
    origin: str,
    path: Path | None,
    roots: Mapping[str, PublicKey] | None,
    causes: Mapping[str, Sequence[str]] | None,
) -> None:
    global _WORKER
    _WORKER = _Checker(keys, origin, path, roots, causes)


def _check_rows(start: int, end: int) -> _Checked:
    assert _WORKER is not None
    return _WORKER.rows(start, end)


def _check_leaves(start: int, leaves: Sequence[bytes]) -> _Checked:
    assert _WORKER is not None
    return _WORKER.leaves(start, leaves)


def _check_all(
    pool: ProcessPoolExecutor | None, checker: _Checker | None, log: _Opened
) -> Iterator[_Checked]:
    """The chunks' results in log order: from the pool, or checked here one by one."""
    starts = range(0, log.size, _CHUNK)
    if log.leaves is None:
        ends = [min(s + _CHUNK, log.size) for s in starts]
        if pool is not None:
            return pool.map(_check_rows, starts, ends)
        assert checker is not None
        return map(checker.rows, starts, ends)
    chunks = [log.leaves[s : s + _CHUNK] for s in starts]
    if pool is not None:
        return pool.map(_check_leaves, starts, chunks)
    assert checker is not None
    return map(checker.leaves, starts, chunks)


# --- a log as it grows: the same checks, a part at a time --------------------------------------


class EntryStream:
    """Steps 1 to 3 (and a rooted log's acts) of :func:`verify_log`, over a log that grows:
    what a party's monitor runs on each new part of the log it follows.

    :meth:`extend` takes the leaves after the last ones it took, in batches, and checks them
    exactly as :func:`verify_log` checks a log file — the same checker on each chunk of
    leaves (:class:`_Checker`, on ``workers`` processes), the chain link across every edge,
    each author's sequence running on from the last number taken (:attr:`last_seq`), a
    rooted log's acts folded by the same :class:`~accord.record.rooted.ActFold`, the lists
    continued across entries held to :func:`~accord.record.continued.check` — whole at the
    end of each call, which ends where a head does, as verify_log holds them where the log
    ends (the center writes a list's parts in one transaction: no head falls between) — so that
    ``accord verify`` and the monitor agree on what a valid entry is. It keeps only what the
    next part needs: the last leaf's hash, the sequences, the fold's summaries and the
    compact range of the tree (:meth:`root`). Entry 0 says how the rest is read (a rooted
    log, against the roots it adopts, pinned by ``agreement`` or ``roots`` as in
    :func:`verify_log`; else a legacy log).

    A fault raises :class:`VerificationError` naming the entry, after which the stream is
    spent (its state is that of a log found bad); any other error (raised by the caller's
    ``batches``: a fetch that failed) leaves it after the last batch taken. Use it as a
    context manager, or :meth:`close` it (its worker processes).
    """

    def __init__(
        self,
        *,
        keys: KeyRing,
        agreement: Mapping[str, Any] | None = None,
        roots: Mapping[str, PublicKey] | None = None,
        causes: Mapping[str, Sequence[str]] | None = None,
        workers: int = 1,
    ) -> None:
        self._keys = keys
        self.origin = keys.center.name
        self._agreement = agreement
        self._roots = roots
        self._causes = causes
        self._workers = max(1, workers)
        self.size = 0
        """How many leaves were taken and found valid."""
        self.last_seq: dict[str, int] = {}
        """Each author's last sequence number (its number of entries)."""
        self.last_hash: bytes | None = None
        """The leaf hash of the last leaf taken (RFC 9162: SHA-256(0x00 || leaf))."""
        self.rooted: bool | None = None
        """Whether entry 0 adopts an agreement naming roots (None: no entry taken yet)."""
        self._range = CompactRange()
        self._fold: ActFold | None = None
        self._checker: _Checker | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._spent = False
        # The marks of lists continued across entries taken since the last call that ended
        # (a call ends on a head's size, where verify_log would check the lists whole).
        self._marks: list[continued.Mark] = []

    def __enter__(self) -> EntryStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._checker is not None:
            self._checker.close()
            self._checker = None

    def root(self) -> bytes:
        """The root of the tree of the leaves taken (RFC 9162 MTH)."""
        return self._range.root()

    def _begin(self, first: bytes) -> None:
        found, ring = _rooting(first, self._keys, agreement=self._agreement, roots=self._roots)
        self.rooted = found is not None
        self._fold = ActFold(found) if found is not None else None
        act_roots = found.roots if found is not None else None
        self._checker = _Checker(ring, self.origin, None, act_roots, self._causes)
        if self._workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                initializer=_init_worker,
                initargs=(ring, self.origin, None, act_roots, self._causes),
            )

    def extend(
        self,
        batches: Iterable[Sequence[bytes]],
        *,
        reread: Callable[[int, int], Sequence[bytes]] | None = None,
        taken: Callable[[int, Sequence[bytes], Sequence[bytes]], None] | None = None,
    ) -> None:
        """Check the leaves of ``batches`` (the first is leaf :attr:`size`), in order.

        The next batch is drawn (fetched, by a caller whose iterable fetches) while the
        workers check the one before. ``taken(start, leaves, hashes)`` is called with each
        batch once its leaves passed the checks that need nothing after them (a rooted
        log's acts are folded at the end of the call, over everything taken so far: a fault
        there is named once the call ends). ``reread(start, end)`` reads leaves taken by an
        earlier call again, for the fold to name the exact entry of a fault.
        Raises :class:`VerificationError` naming the first bad entry."""
        if self._spent:
            raise VerificationError(self.size, "the stream already found the log bad")
        before = self.size
        pending: dict[int, Sequence[bytes]] = {}
        queue: deque[tuple[int, Sequence[bytes], list[Future[_Checked]] | None]] = deque()
        at = self.size
        drawn = iter(batches)
        try:
            while True:
                try:
                    batch = next(drawn, None)
                except BaseException:
                    while queue:  # what was drawn before the caller's error is taken
                        self._take(*queue.popleft(), taken)
                    raise
                if batch is None:
                    break
                if not batch:
                    continue
                if self._checker is None:
                    self._begin(batch[0])
                queue.append((at, batch, self._submit(at, batch)))
                pending[at] = batch
                at += len(batch)
                while len(queue) > 1:
                    self._take(*queue.popleft(), taken)
            while queue:
                self._take(*queue.popleft(), taken)
            # verify_log's order: the continued lists after the sequences, before the acts;
            # a list still awaiting parts where the call ends is one the log ends before.
            broken = continued.check(self._marks, size=self.size, origin=self.origin)
            if broken is not None:
                raise VerificationError(*broken)
            self._marks = []
            if self._fold is not None and self.size > before:

                def again(start: int, end: int) -> list[bytes]:
                    out: list[bytes] = []
                    for first, batch in pending.items():
                        lo, hi = max(start, first), min(end, first + len(batch))
                        if lo < hi:
                            out.extend(batch[lo - first : hi - first])
                    if start < before:
                        if reread is None:
                            raise VerificationError(start, "cannot read the entry again")
                        out[:0] = reread(start, min(end, before))
                    return out

                fault = self._fold.finish(again)
                if fault is not None:
                    raise VerificationError(*fault)
        except BaseException as error:
            # A fault of the log spends the stream; an error of the caller's batches (a
            # fetch that failed) leaves it at the last batch taken, to be extended again.
            self._spent = isinstance(error, VerificationError)
            for _, _, futures in queue:
                for future in futures or ():
                    future.cancel()
            raise

    def _submit(self, start: int, batch: Sequence[bytes]) -> list[Future[_Checked]] | None:
        if self._pool is None or len(batch) <= _CHUNK:
            return None
        return [
            self._pool.submit(_check_leaves, start + k, list(batch[k : k + _CHUNK]))
            for k in range(0, len(batch), _CHUNK)
        ]

    def _take(
        self,
        start: int,
        batch: Sequence[bytes],
        futures: list[Future[_Checked]] | None,
        taken: Callable[[int, Sequence[bytes], Sequence[bytes]], None] | None,
    ) -> None:
        assert self._checker is not None
        if futures is None:
            checked = (
                self._checker.leaves(start + k, batch[k : k + _CHUNK])
                for k in range(0, len(batch), _CHUNK)
            )
        else:
            checked = (future.result() for future in futures)
        hashes: list[bytes] = []
        subtrees: list[bytes] = []
        moved: tuple[int, str] | None = None
        unordered: tuple[int, str] | None = None
        last_seq = dict(self.last_seq)
        last = self.last_hash
        marks: list[continued.Mark] = []
        for chunk in checked:
            # verify_log's order: a leaf that is no valid signed entry first, then one out of
            # its place or off the chain, then a break in an author's sequence.
            if chunk.failure is not None:
                raise VerificationError(*chunk.failure)
            if moved is None:
                at_start = chunk.moved is not None and chunk.moved[0] == chunk.start
                if (
                    chunk.start > 0
                    and not at_start
                    and (last is None or chunk.first_prev != last.hex())
                ):
                    moved = (chunk.start, _unchained(chunk.start))
                else:
                    moved = chunk.moved
            blob = chunk.hashes
            new = [blob[k : k + 32] for k in range(0, len(blob), 32)]
            hashes.extend(new)
            subtrees.append(chunk.subtree)
            last = new[-1]
            if unordered is None:
                unordered = _sequences(chunk.start, chunk.authored, last_seq)
            if self._fold is not None and chunk.acts is not None:
                self._fold.add(chunk.start, chunk.start + len(new), chunk.acts)
            marks.extend(chunk.chains)
        if moved is not None:
            raise VerificationError(*moved)
        if unordered is not None:
            raise VerificationError(*unordered)
        self._marks.extend(marks)
        compact = self._range
        for k in range(0, len(hashes), _CHUNK):
            part = hashes[k : k + _CHUNK]
            if len(part) == _CHUNK and compact.size % _CHUNK == 0:
                # A full chunk at a multiple of its size is one perfect subtree (RFC 9162),
                # its root computed by the worker that checked it.
                compact.append_subtree(subtrees[k // _CHUNK], _CHUNK)
                continue
            for h in part:
                compact.append(h)
        self.last_seq, self.last_hash = last_seq, last
        self.size = start + len(batch)
        if taken is not None:
            taken(start, batch, hashes)


# --- the whole check --------------------------------------------------------------------------


def verify_log(
    path: str | os.PathLike[str],
    *,
    keys: KeyRing,
    trusted_head: SignedHead | None = None,
    workers: int | None = None,
    agreement: Mapping[str, Any] | None = None,
    roots: Mapping[str, PublicKey] | None = None,
    causes: Mapping[str, Sequence[str]] | None = None,
) -> VerificationReport:
    """Verify a log file or export against the registered keys; see the module docstring.

    The log's origin is the center's key name (C2SP tlog-checkpoint: the log's key name
    should match the origin line); a file claiming another origin is refused.

    ``agreement`` (the caller's own copy of the agreement document, as JSON) or ``roots``
    (member → root key) pin what entry 0 of a rooted log must adopt; a log that adopts none
    is then refused, since the caller expects party-held keys. Without either, a rooted
    log's roots are taken from the log itself, and the report says so.

    ``causes`` (kind → the requests that may cause it, :mod:`accord.record.bindings`): each
    party act's entry must be of a kind its request may cause, its event's named fields the
    request's — an approval read as a veto, or as another operation's, is named forged.
    ``accord verify`` gives the service's own table.
    """
    origin = keys.center.name
    log = _open_log(Path(path))
    if log.origin is not None and log.origin != origin:
        raise VerificationError(None, f"the log's origin is {log.origin!r}, not {origin!r}")
    n = log.size
    first = _leaves_range(log, 0, 1) if log.size else []
    found, ring = _rooting(first[0] if first else None, keys, agreement=agreement, roots=roots)
    pinned = agreement is not None or roots is not None
    fold = ActFold(found) if found is not None else None

    # 1-3 run on every core, a chunk of leaves at a time; this process puts the chunks
    # together as they come back, in log order, and rebuilds the tree at every size a
    # stored head names meanwhile (the heads themselves are checked below, in order).
    # A leaf that does not open or verify (2) is named first, then one out of its place or
    # off the chain (1), then a break in an author's sequence (3).
    count = workers if workers is not None else (os.cpu_count() or 1)
    db_path = log.path if log.leaves is None else None
    act_roots = found.roots if found is not None else None
    pool = (
        ProcessPoolExecutor(
            max_workers=count,
            initializer=_init_worker,
            initargs=(ring, origin, db_path, act_roots, causes),
        )
        if count > 1 and n > _CHUNK
        else None
    )
    checker = _Checker(ring, origin, db_path, act_roots, causes) if pool is None else None
    if pool is None:
        count = 1
    hashes: list[bytes] = []
    tree = _GrowingTree(_claimed_sizes(log.notes, n))
    last_seq: dict[str, int] = {}
    moved: tuple[int, str] | None = None
    unordered: tuple[int, str] | None = None
    marks: list[continued.Mark] = []
    try:
        for chunk in _check_all(pool, checker, log):
            if chunk.failure is not None:
                raise VerificationError(*chunk.failure)
            start = chunk.start
            if moved is None:
                at_start = chunk.moved is not None and chunk.moved[0] == start
                if start > 0 and not at_start and chunk.first_prev != hashes[-1].hex():
                    moved = (start, _unchained(start))
                else:
                    moved = chunk.moved
            blob = chunk.hashes
            new = [blob[k : k + 32] for k in range(0, len(blob), 32)]
            hashes.extend(new)
            tree.extend(new, chunk.subtree)
            if unordered is None:
                unordered = _sequences(start, chunk.authored, last_seq)
            if fold is not None and chunk.acts is not None:
                fold.add(start, start + len(new), chunk.acts)
            marks.extend(chunk.chains)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if checker is not None:
            checker.close()
    if moved is not None:
        raise VerificationError(*moved)
    if unordered is not None:
        raise VerificationError(*unordered)
    broken = continued.check(marks, size=n, origin=origin)
    if broken is not None:
        raise VerificationError(*broken)
    if fold is not None:
        fault = fold.finish(lambda start, end: _leaves_range(log, start, end))
        if fault is not None:
            raise VerificationError(*fault)
    tree_roots = tree.roots

    # 4. Every head: signed by the center, committing to the rebuilt tree at its size.
    if not log.notes:
        raise VerificationError(None, "the log has no signed tree head")
    heads: list[SignedHead] = []
    for note in log.notes:
        try:
            heads.append(verify_checkpoint(note, origin=origin, center=keys.center))
        except RecordError as exc:
            raise VerificationError(None, f"a tree head: {exc}") from None
    claimed = list(zip(heads, log.claims or [{} for _ in heads], strict=True))
    heads.sort(key=lambda h: h.checkpoint.size)
    latest = heads[-1]
    if latest.checkpoint.size > n:
        raise VerificationError(
            n,
            f"the center signed a head of {latest.checkpoint.size} entries but the log holds "
            f"{n}: entries from {n} on are missing",
        )
    missing = [h.checkpoint.size for h in heads if h.checkpoint.size not in tree_roots]
    if missing:
        tree_roots.update(_roots_at(hashes, missing))
    for head in heads:
        if tree_roots[head.checkpoint.size] != head.checkpoint.root:
            raise VerificationError(
                None,
                f"the tree head of size {head.checkpoint.size} does not match the entries: "
                "the log is not the one the center signed",
            )
    # ... and the plain fields beside each say what it signs (a signed head that does not
    # match the entries is the graver finding, so it is named first)
    for head, claim in claimed:
        _check_claims(head, claim)

    # 5. Consistency with an older head the caller trusts.
    trusted_size = None
    if trusted_head is not None:
        old = trusted_head.checkpoint
        if old.origin != origin:
            raise VerificationError(None, f"the trusted head is for log {old.origin!r}")
        if old.size > latest.checkpoint.size:
            raise VerificationError(
                None,
                f"the trusted head covers {old.size} entries but the latest signed head only "
                f"{latest.checkpoint.size}: the log was rolled back",
            )
        proof = consistency_proof(hashes[: latest.checkpoint.size], old.size)
        try:
            verify_consistency(
                old_size=old.size,
                new_size=latest.checkpoint.size,
                old_root=old.root,
                new_root=latest.checkpoint.root,
                proof=proof,
            )
        except ProofError as exc:
            raise VerificationError(
                None, f"the log does not extend the trusted head of size {old.size}: {exc}"
            ) from None
        trusted_size = old.size

    # 6. Co-signatures of the latest head by the registered members.
    witnesses = [keys.member(m.name) for m in keys.members]
    try:
        cosigners = verify_cosignatures(latest.note, witnesses=witnesses)
    except RecordError as exc:
        raise VerificationError(None, f"a co-signature on the latest head: {exc}") from None

    return VerificationReport(
        origin=origin,
        entries=n,
        # Each author's sequence runs 1, 2, 3, ...: the last number is the count.
        authors=last_seq,
        head_size=latest.checkpoint.size,
        head_timestamp=latest.timestamp,
        heads_checked=len(heads),
        trusted_size=trusted_size,
        cosigners=cosigners,
        workers=count,
        uncovered=n - latest.checkpoint.size,
        **_acts_report(found, fold, pinned, last_seq, origin),
    )


def _acts_report(
    found: Adopted | None,
    fold: ActFold | None,
    pinned: bool,
    last_seq: Mapping[str, int],
    origin: str,
) -> dict[str, Any]:
    """The report's fields on the parties' acts (rooted) or the center-held keys (legacy)."""
    if found is None or fold is None:
        return {"legacy_entries": sum(n for a, n in last_seq.items() if a != origin)}
    return {
        "rooted": True,
        "roots_pinned": pinned,
        "agreement_digest": found.digest,
        "in_force_at": fold.registry.in_force_at,
        "registry_entries": fold.counted.registry_entries,
        "acts": _counts(fold.counted.acts),
        "device_reports": _counts(fold.counted.device_reports),
    }


def _counts(counted: Mapping[tuple[str, str, str], int]) -> tuple[tuple[str, str, str, int], ...]:
    """(member, key id, user, count), by member, user and key id."""
    return tuple(
        (member, key_id, user, count)
        for (member, key_id, user), count in sorted(
            counted.items(), key=lambda item: (item[0][0], item[0][2], item[0][1])
        )
    )


def _names_roots(agreement: Mapping[str, Any] | None) -> bool:
    """Whether an agreement document names any member's root key."""
    if agreement is None:
        return False
    return any(
        isinstance(member, Mapping) and member.get("root_key") is not None
        for group in ("parties", "notifiers", "monitors")
        for member in (agreement.get(group) or [])
    )


def _rooting(
    first: bytes | None,
    keys: KeyRing,
    *,
    agreement: Mapping[str, Any] | None,
    roots: Mapping[str, PublicKey] | None,
) -> tuple[Adopted | None, KeyRing]:
    """How to read a log whose entry 0 is ``first`` (None: an empty log): the agreement it
    adopts when it is a rooted log (else None, a legacy log) and the key ring its entries
    are checked against; refuses a log that does not adopt what the caller pinned."""
    found = _adoption(first, keys, keys.center.name)
    if found is not None:
        check_pinned(found, agreement=agreement, roots=roots)
        if not found.roots:  # an agreement that names no root: its log is a legacy log
            found = None
    if found is not None:
        try:
            return found, found.ring(keys.center)
        except RecordError as exc:
            raise VerificationError(0, f"the agreement's roots: {exc}") from None
    if _names_roots(agreement) or roots:
        raise VerificationError(
            0,
            "entry 0 adopts no agreement, yet you pinned one that names the parties' "
            "roots: a log of a center that holds no party's key begins by adopting it",
        )
    return None, keys


def _adoption(first: bytes | None, keys: KeyRing, origin: str) -> Adopted | None:
    """What entry 0 (``first``) adopts, if it adopts an agreement (a rooted log); None: a
    legacy log.

    Entry 0 is read here, before the workers, since it says how to read the rest; an entry
    0 that does not even parse is left for them to name."""
    if first is None:
        return None
    try:
        _, _, data = open_envelope(first)
        obj = loads_canonical(data)
    except RecordError:
        return None
    event = obj.get("event") if isinstance(obj, dict) else None
    if not isinstance(event, dict) or event.get("kind") != ADOPTED:
        return None
    if obj.get("v") != 1 or obj.get("author") != origin:
        raise VerificationError(
            0,
            f"entry 0 adopts the agreement, but is not the center's own entry (by {origin!r}, "
            "of version 1): it is the center that adopts it",
        )
    try:
        verify_entry(data, keys=keys, log=origin)
        return adopted(event)
    except RecordError as exc:
        raise VerificationError(0, str(exc)) from None
    except ValueError as exc:
        raise VerificationError(
            0, f"entry 0 adopts no agreement to verify against: {exc}"
        ) from None


def _leaves_range(log: _Opened, start: int, end: int) -> list[bytes]:
    """Leaves ``start`` to ``end - 1``, read again (from the export, or the log file)."""
    if log.leaves is not None:
        return log.leaves[start:end]
    db = _connect(log.path)
    try:
        rows = db.execute(
            "SELECT data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
        ).fetchall()
    except sqlite3.Error as exc:
        raise VerificationError(start, f"cannot read the entry: {exc}") from None
    finally:
        db.close()
    return [bytes(row[0]) for row in rows]


_CLAIMED = ("origin", "size", "root", "timestamp")
"""The plain fields kept beside a head's note, each a copy of what the note signs."""


def _check_claims(head: SignedHead, claim: dict[str, Any]) -> None:
    """Refuse a head whose plain fields (``claim``) say other than its signed note."""
    signed: dict[str, Any] = {
        "origin": head.origin,
        "size": head.size,
        "root": base64.b64encode(head.root).decode("ascii"),
        "timestamp": head.timestamp,
    }
    wrong = [
        name
        for name in _CLAIMED
        if name in claim
        and (claim[name] != signed[name] or type(claim[name]) is not type(signed[name]))
    ]
    if not wrong:
        return
    where = f"the head on line {claim['line']}" if "line" in claim else "a stored tree head"
    said = ", ".join(
        f"{name} {shown(repr(claim[name]))} (signed: {signed[name]!r})" for name in wrong
    )
    raise VerificationError(
        None,
        f"{where} contradicts its signed note in its unsigned fields {', '.join(wrong)}: {said}",
    )


def _claimed_sizes(notes: Sequence[str], n: int) -> list[int]:
    """The tree sizes the notes' second lines claim, within the log (unverified hints)."""
    sizes = []
    for note in notes:
        parts = note.split("\n", 2)
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) <= n:
            sizes.append(int(parts[1]))
    return sizes


def _sequences(
    start: int, authored: Sequence[tuple[str, int]], last_seq: dict[str, int]
) -> tuple[int, str] | None:
    """Carry each author's last sequence number over a chunk; the first break, if any."""
    for i, (author, seq) in enumerate(authored, start):
        expected = last_seq.get(author, 0) + 1
        if seq != expected:
            return (
                i,
                f"{author}'s entry has sequence {seq} where {expected} was due: "
                + ("a replayed or repeated entry" if seq < expected else "an entry is missing"),
            )
        last_seq[author] = seq
    return None


class _GrowingTree:
    """The roots of the tree at the sizes wanted, taken as the leaf hashes arrive in order."""

    def __init__(self, sizes: Sequence[int]) -> None:
        self._wanted = sorted(set(sizes))
        self._range = CompactRange()
        self.roots: dict[int, bytes] = {}
        self._take()

    def _take(self) -> None:
        wanted, size = self._wanted, self._range.size
        while wanted and wanted[0] == size:
            self.roots[size] = self._range.root()
            wanted.pop(0)

    def extend(self, hashes: Sequence[bytes], subtree: bytes = b"") -> None:
        """Take the next leaf hashes; ``subtree``, if given, is the root of their perfect
        subtree (a power of two of them, at a multiple of their number)."""
        if subtree and self._wanted and self._wanted[0] >= self._range.size + len(hashes):
            self._range.append_subtree(subtree, len(hashes))
            self._take()
            return
        at = 0
        while self._wanted and at < len(hashes):
            part = hashes[at : at + self._wanted[0] - self._range.size]
            append = self._range.append
            for h in part:
                append(h)
            at += len(part)
            self._take()


def _roots_at(hashes: Sequence[bytes], sizes: Sequence[int]) -> dict[int, bytes]:
    """Roots of the tree at each of ``sizes``, in one pass over the leaf hashes."""
    wanted = sorted(set(sizes))
    out: dict[int, bytes] = {}
    cr = CompactRange()
    k = 0
    while k < len(wanted) and wanted[k] == 0:
        out[0] = cr.root()
        k += 1
    for h in hashes:
        cr.append(h)
        while k < len(wanted) and wanted[k] == cr.size:
            out[cr.size] = cr.root()
            k += 1
        if k == len(wanted):
            break
    for size in wanted:
        out.setdefault(size, cr.root() if size == cr.size else b"")
    return out
