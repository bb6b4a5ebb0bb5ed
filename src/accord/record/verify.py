"""The verifier: everything a party or monitor checks on its own machine, trusting nothing.

It reads only the leaf data and the signed tree heads (never the log's stored hashes or
subtree nodes) from a log file (the SQLite file, opened read-only) or from an export
(JSON lines), and checks, in this order:

1. every leaf is an envelope at its own index, chained to the hash of the leaf before it —
   a dropped, inserted or reordered leaf is named by its index;
2. every entry is canonical JSON signed by its author's registered key, for this log
   (checked in parallel on every core);
3. every author's sequence numbers run 1, 2, 3, … with no gap or repeat — a replayed entry
   is named;
4. every tree head kept with the log is signed by the center and commits to the root of the
   leaves at its size (the tree is rebuilt from the leaf data, RFC 9162);
5. given an older trusted head, the log is consistent with it (RFC 9162 §2.1.4 proof);
6. which parties co-signed the latest head (C2SP tlog-cosignature).

:func:`verify_log` returns a :class:`VerificationReport` or raises
:class:`VerificationError` naming the first bad entry and why.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accord.chrono import format_instant
from accord.record.entries import open_envelope, verify_entry
from accord.record.errors import RecordError
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


class VerificationError(RecordError):
    """The log does not verify; ``index`` is the first bad entry (None: the log as a whole)."""

    def __init__(self, index: int | None, reason: str) -> None:
        self.index = index
        self.reason = reason
        where = f"entry {index}" if index is not None else "log"
        super().__init__(f"{where}: {reason}")


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


def _read_sqlite(path: Path) -> _LogFile:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise VerificationError(None, f"cannot open {path}: {exc}") from None
    try:
        origin_row = db.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()
        rows = db.execute("SELECT idx, data FROM leaves ORDER BY idx").fetchall()
        notes = [r[0] for r in db.execute("SELECT note FROM heads ORDER BY size")]
    except sqlite3.Error as exc:
        raise VerificationError(None, f"{path} is not an Accord log: {exc}") from None
    finally:
        db.close()
    leaves: list[bytes] = []
    for position, (idx, data) in enumerate(rows):
        if idx != position:
            raise VerificationError(position, f"the log has no entry {position} (next is {idx})")
        leaves.append(bytes(data))
    return _LogFile(origin_row[0] if origin_row else None, leaves, notes)


def _read_jsonl(path: Path) -> _LogFile:
    leaves: list[bytes] = []
    notes: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationError(None, f"cannot read {path}: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if "head" in obj:
                notes.append(str(obj["head"]["note"]))
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
    return _LogFile(None, leaves, notes)


# --- signature checks, in worker processes ---------------------------------------------------

_KEYS: KeyRing | None = None
_ORIGIN = ""


def _init_worker(keys_json: dict[str, Any], origin: str) -> None:
    global _KEYS, _ORIGIN
    _KEYS = KeyRing.from_json(keys_json)
    _ORIGIN = origin


def _check_chunk(
    start: int, chunk: Sequence[bytes]
) -> tuple[list[tuple[int, str, str, int]], int, str]:
    """For each leaf (index, prev, author, seq); the index of the first failure or -1, and
    its reason."""
    assert _KEYS is not None
    seen: list[tuple[int, str, str, int]] = []
    for offset, data in enumerate(chunk):
        try:
            index, prev, entry_bytes = open_envelope(data)
            entry = verify_entry(entry_bytes, keys=_KEYS, log=_ORIGIN)
        except RecordError as exc:
            return seen, start + offset, str(exc)
        seen.append((index, prev, entry.author, entry.seq))
    return seen, -1, ""


def _start_signatures(
    pool: ProcessPoolExecutor | None, leaves: list[bytes], keys: KeyRing, origin: str
) -> Iterator[tuple[list[tuple[int, str, str, int]], int, str]]:
    chunks = [(i, leaves[i : i + _CHUNK]) for i in range(0, len(leaves), _CHUNK)]
    if pool is None:
        _init_worker(keys.to_json(), origin)
        return iter([_check_chunk(i, c) for i, c in chunks])
    if not chunks:
        return iter([])
    return pool.map(_check_chunk, *zip(*chunks, strict=True))


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
    log = read_log(path)
    if log.origin is not None and log.origin != origin:
        raise VerificationError(None, f"the log's origin is {log.origin!r}, not {origin!r}")
    leaves = log.leaves
    n = len(leaves)

    # Signatures (2) run on every core while this process hashes the leaves (RFC 9162:
    # SHA-256(0x00 || leaf)).
    count = workers if workers is not None else (os.cpu_count() or 1)
    pool = (
        ProcessPoolExecutor(
            max_workers=count, initializer=_init_worker, initargs=(keys.to_json(), origin)
        )
        if count > 1 and n > _CHUNK
        else None
    )
    if pool is None:
        count = 1
    try:
        results = _start_signatures(pool, leaves, keys, origin)
        hashes = [hashlib.sha256(b"\x00" + data).digest() for data in leaves]
        # Rebuild the tree at every size a stored head names while the workers still run
        # (the heads themselves are checked below, in order).
        roots = _roots_at(hashes, _claimed_sizes(log.notes, n))
        authored: list[tuple[int, str, str, int]] = []
        for seen, bad, reason in results:
            authored.extend(seen)
            if bad >= 0:
                raise VerificationError(bad, reason)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    # 1. Every leaf at its own index, chained to the hash of the leaf before it.
    prev = ""
    for i, (index, chained, _, _) in enumerate(authored):
        if index != i:
            raise VerificationError(i, f"the leaf says it is entry {index}: entries were moved")
        if chained != prev:
            raise VerificationError(
                i,
                f"the leaf is not chained to entry {i - 1}: that entry was changed, or an entry "
                "was removed or inserted before this one",
            )
        prev = hashes[i].hex()

    # 3. Each author's sequence: 1, 2, 3, ...
    last_seq: dict[str, int] = {}
    for i, (_, _, author, seq) in enumerate(authored):
        expected = last_seq.get(author, 0) + 1
        if seq != expected:
            raise VerificationError(
                i,
                f"{author}'s entry has sequence {seq} where {expected} was due: "
                + ("a replayed or repeated entry" if seq < expected else "an entry is missing"),
            )
        last_seq[author] = seq

    # 4. Every head: signed by the center, committing to the rebuilt tree at its size.
    if not log.notes:
        raise VerificationError(None, "the log has no signed tree head")
    heads: list[SignedHead] = []
    for note in log.notes:
        try:
            heads.append(verify_checkpoint(note, origin=origin, center=keys.center))
        except RecordError as exc:
            raise VerificationError(None, f"a tree head: {exc}") from None
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
                old.size, latest.checkpoint.size, old.root, latest.checkpoint.root, proof
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

    authors: dict[str, int] = {}
    for _, _, author, _ in authored:
        authors[author] = authors.get(author, 0) + 1
    return VerificationReport(
        origin=origin,
        entries=n,
        authors=authors,
        head_size=latest.checkpoint.size,
        head_timestamp=latest.timestamp,
        heads_checked=len(heads),
        trusted_size=trusted_size,
        cosigners=cosigners,
        workers=count,
        uncovered=n - latest.checkpoint.size,
    )


def _claimed_sizes(notes: Sequence[str], n: int) -> list[int]:
    """The tree sizes the notes' second lines claim, within the log (unverified hints)."""
    sizes = []
    for note in notes:
        parts = note.split("\n", 2)
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) <= n:
            sizes.append(int(parts[1]))
    return sizes


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
