"""The verifier: everything a party or monitor checks on its own machine, trusting nothing.

It reads only the leaf data and the signed tree heads (never the log's stored hashes or
subtree nodes) from a log file (the SQLite file, opened read-only) or from an export
(JSON lines), and checks, in this order:

1. every leaf is an envelope at its own index, chained to the hash of the leaf before it —
   a dropped, inserted or reordered leaf is named by its index;
2. every entry is canonical JSON signed by its author's registered key, for this log;
3. every author's sequence numbers run 1, 2, 3, … with no gap or repeat — a replayed entry
   is named;
4. every tree head kept with the log is signed by the center and commits to the root of the
   leaves at its size (the tree is rebuilt from the leaf data, RFC 9162); the plain fields
   kept beside a head's note (``size``, ``root``, ``timestamp``, ``origin`` of an export's
   head line, or of a log file's ``heads`` table) say what its signed note says, or the log
   is refused naming them — a reader of those fields would otherwise be told what the center
   never signed;
5. given an older trusted head, the log is consistent with it (RFC 9162 §2.1.4 proof);
6. which parties co-signed the latest head (C2SP tlog-cosignature).

:func:`verify_log` returns a :class:`VerificationReport` or raises
:class:`VerificationError` naming the first bad entry and why. Where a log has several
faults, a leaf that is no valid signed entry (2) is named before one out of its place or off
the chain (1), and that before a break in a sequence (3).

Steps 1 to 3 take all but the time of the signature checks themselves, so they run where
those do: in worker processes, a chunk of consecutive leaves each, every leaf checked
whole where it is read (each worker reads its own chunks from a SQLite file). A worker
sends back the chunk's leaf hashes, its authors' sequence numbers and its first fault;
this process joins the chunks at their edges (the first leaf's chain link, the sequences
running on) and rebuilds the tree from the hashes as the chunks come in.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from accord.chrono import format_instant
from accord.errors import RecordError, VerificationError
from accord.jsontext import loads as strict_loads
from accord.jsontext import shown
from accord.record.entries import LeafReader
from accord.record.keys import KeyRing
from accord.record.merkle import (
    CompactRange,
    ProofError,
    consistency_proof,
    verify_consistency,
)
from accord.record.note import SignedHead, verify_checkpoint, verify_cosignatures

__all__ = ["VerificationError", "VerificationReport", "read_log", "verify_log"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK = 2048


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What was checked, for a person to read."""

    origin: str
    entries: int
    authors: dict[str, int]
    head_size: int
    head_timestamp: int
    heads_checked: int
    trusted_size: int | None
    cosigners: dict[str, int]
    workers: int
    uncovered: int = field(default=0)

    def lines(self) -> list[str]:
        out = [
            f"log {self.origin}: {self.entries} entries, every envelope in place and chained",
            f"signatures: {self.entries} verified against registered keys "
            f"({self.workers} worker{'s' if self.workers != 1 else ''}); sequences unbroken for "
            + ", ".join(f"{a} ({n})" for a, n in sorted(self.authors.items())),
            f"tree heads: {self.heads_checked} signed by the center, each matching the tree "
            f"rebuilt from the entries; latest covers {self.head_size} entries, signed at "
            f"{format_instant(datetime.fromtimestamp(self.head_timestamp, UTC))}",
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
    """

    def __init__(self, keys: KeyRing, origin: str, path: Path | None) -> None:
        self.reader = LeafReader(keys, origin)
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
        read, failure = self.reader.read_all(leaves)
        if failure is not None:
            return _failed(start, start + len(read), str(failure))
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
        return _Checked(start, b"".join(hashes), subtree, read[0][1], authored, moved, None)


def _unchained(i: int) -> str:
    return (
        f"the leaf is not chained to entry {i - 1}: that entry was changed, or an entry "
        "was removed or inserted before this one"
    )


_WORKER: _Checker | None = None


def _init_worker(keys: KeyRing, origin: str, path: Path | None) -> None:
    global _WORKER
    _WORKER = _Checker(keys, origin, path)


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


# --- the whole check --------------------------------------------------------------------------


def verify_log(
    path: str | os.PathLike[str],
    *,
    keys: KeyRing,
    trusted_head: SignedHead | None = None,
    workers: int | None = None,
) -> VerificationReport:
    """Verify a log file or export against the registered keys; see the module docstring.

    The log's origin is the center's key name (C2SP tlog-checkpoint: the log's key name
    should match the origin line); a file claiming another origin is refused.
    """
    origin = keys.center.name
    log = _open_log(Path(path))
    if log.origin is not None and log.origin != origin:
        raise VerificationError(None, f"the log's origin is {log.origin!r}, not {origin!r}")
    n = log.size

    # 1-3 run on every core, a chunk of leaves at a time; this process puts the chunks
    # together as they come back, in log order, and rebuilds the tree at every size a
    # stored head names meanwhile (the heads themselves are checked below, in order).
    # A leaf that does not open or verify (2) is named first, then one out of its place or
    # off the chain (1), then a break in an author's sequence (3).
    count = workers if workers is not None else (os.cpu_count() or 1)
    db_path = log.path if log.leaves is None else None
    pool = (
        ProcessPoolExecutor(
            max_workers=count, initializer=_init_worker, initargs=(keys, origin, db_path)
        )
        if count > 1 and n > _CHUNK
        else None
    )
    checker = _Checker(keys, origin, db_path) if pool is None else None
    if pool is None:
        count = 1
    hashes: list[bytes] = []
    tree = _GrowingTree(_claimed_sizes(log.notes, n))
    last_seq: dict[str, int] = {}
    moved: tuple[int, str] | None = None
    unordered: tuple[int, str] | None = None
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
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if checker is not None:
            checker.close()
    if moved is not None:
        raise VerificationError(*moved)
    if unordered is not None:
        raise VerificationError(*unordered)
    roots = tree.roots

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
    missing = [h.checkpoint.size for h in heads if h.checkpoint.size not in roots]
    if missing:
        roots.update(_roots_at(hashes, missing))
    for head in heads:
        if roots[head.checkpoint.size] != head.checkpoint.root:
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
    )


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
