"""Verification checkpoints: how far the center verified its record, kept in the database and
signed with the center's key, so that a restarted service resumes there instead of checking
every entry's signature again (issue 24: start-up to serving in seconds at a million entries).

**Saving** (:func:`save`): once the start-up verification is done
(:func:`~accord.center.picture.verified.warm_record`), the service's
:class:`~accord.center.picture.verified.VerifiedRecord` is written as a
:class:`~accord.center.db.models.VerifiedCheckpoint`: the size, the root of that prefix, the
last leaf's hash, each author's last sequence number and the latest signed times, signed over
:func:`message` by the center's key. Only the newest is kept; several nodes saving the same
size write the same row (Ed25519 signatures are deterministic).

**Resuming** (:func:`resume`), before anything is verified at start-up: the newest checkpoint
is used only if the stored log still holds its entries (a log shorter than what the center
verified was rolled back: refused), its signature verifies with the center's public key for
this log, and the stored leaf hashes of its entries fold (RFC 9162 §2.1.1) to its root.
The record verified is then taken up with those hashes: an entry read again later is served
only if it hashes to one of them (:mod:`accord.center.picture.verified`), and the entries
after the checkpoint are verified as before. So a prefix rewritten since — its leaves, its
hashes or its tree — is still caught: the hashes no longer fold to the signed root, or an
entry no longer hashes as kept. A checkpoint whose signature does not verify, or whose root
the stored hashes do not reach, means someone changed the database under the center: the
service then serves no record at all (every read 503 ``record-damaged``, the log naming why)
until the operator has looked (removing the ``verified_checkpoints`` rows makes the next start
verify every entry again). A checkpoint is the server's own: ``accord verify``, the monitor and
the witness never read one (DECISIONS 13).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
import threading
import zlib
from array import array
from functools import partial

import anyio.to_thread
from sqlalchemy import delete, func, select

from accord.center.db.models import VerifiedCheckpoint
from accord.center.picture.verified import (
    Checkpoint,
    VerifiedRecord,
    verified_log,
    verified_of,
    warm_record,
)
from accord.center.runtime import Center
from accord.errors import RecordDamaged
from accord.record.canonical import canonical_json, encode_base64
from accord.record.errors import SignatureError
from accord.record.log import MerkleLog
from accord.record.merkle import CompactRange

__all__ = ["CHECKPOINT_EVERY", "DOMAIN", "keep", "keeper", "message", "resume", "save", "warm"]

DOMAIN = b"accord verified-checkpoint v1\n"
"""What a checkpoint's signed message starts with: no other message the center signs does."""

_CHUNK = 50_000  # leaf hashes read per query at resume

CHECKPOINT_EVERY = 10_000
"""How many more entries than the newest checkpoint a serving process verifies before it keeps
a new one (:func:`keeper`): a restart then verifies at most about that many again."""

_log = logging.getLogger("accord.center")


def _latest_le(latest: bytes) -> bytes:
    """The latest times as little-endian int64 (stored so whatever the machine)."""
    if sys.byteorder == "little":
        return latest
    swapped = array("q")
    swapped.frombytes(latest)
    swapped.byteswap()
    return swapped.tobytes()


def message(origin: str, checkpoint: Checkpoint) -> bytes:
    """The bytes the center signs for ``checkpoint`` of the log ``origin``: :data:`DOMAIN`,
    then the canonical JSON of the log's origin, the size, the root, the last leaf's hash,
    the sequence numbers and the SHA-256 of the latest times (little-endian int64)."""
    body = {
        "latest": hashlib.sha256(_latest_le(checkpoint.latest)).hexdigest(),
        "origin": origin,
        "prev": checkpoint.prev,
        "root": encode_base64(checkpoint.root),
        "sequences": checkpoint.sequences,
        "size": checkpoint.size,
    }
    return DOMAIN + canonical_json(body)


def save(center: Center, record: VerifiedRecord) -> int | None:
    """Keep what ``record`` verified as the newest checkpoint (signed with the center's key);
    its size, or None when there is nothing to keep (nothing verified, or an entry failed)."""
    checkpoint = record.checkpoint()
    if checkpoint is None:
        return None
    signature = center.keys.center().sign(message(center.origin, checkpoint))
    row = VerifiedCheckpoint(
        size=checkpoint.size,
        root=checkpoint.root,
        prev=checkpoint.prev,
        sequences=json.dumps(checkpoint.sequences, sort_keys=True),
        latest=zlib.compress(_latest_le(checkpoint.latest), 6),
        signature=signature,
    )
    with center.writing() as unit:  # the same size from another node: the same row
        unit.session.merge(row)
        unit.session.execute(
            delete(VerifiedCheckpoint).where(VerifiedCheckpoint.size < checkpoint.size)
        )
    return checkpoint.size


def resume(center: Center, record: VerifiedRecord, log: MerkleLog) -> int:
    """Take ``record`` up from the newest checkpoint, once it checks; the size resumed from
    (0 when there is none). A checkpoint that does not check, or that ``log`` no longer
    reaches, makes ``record`` refuse every read (:meth:`VerifiedRecord.refuse`); raises
    nothing."""
    with center.reading() as session:
        row = session.scalars(
            select(VerifiedCheckpoint).order_by(VerifiedCheckpoint.size.desc()).limit(1)
        ).first()
    if row is None:
        return 0
    try:
        if row.size > log.size:
            raise RecordDamaged(
                f"the stored record changed: it holds {log.size} entries, fewer than the "
                f"{row.size} this center verified"
            )
        hashes, checked, tree, marks = _checked(center, row, log, every=record.marks_every)
        record.resume(checked, hashes, tree=tree, marks=marks)
    except RecordDamaged as error:
        _log.error("the record does not verify: %s", error)
        record.refuse(str(error))
        return 0
    return checked.size


def _checked(
    center: Center, row: VerifiedCheckpoint, log: MerkleLog, *, every: int
) -> tuple[bytes, Checkpoint, CompactRange, dict[int, bytes]]:
    """The checkpoint of ``row``, its entries' stored leaf hashes, their tree and its roots
    at every multiple of ``every``, once its
    signature verifies and the hashes fold to its root; else
    :class:`~accord.errors.RecordDamaged`."""
    size = int(row.size)
    damaged = RecordDamaged(
        f"the stored record changed: the center's checkpoint of its first {size} entries "
        "does not check"
    )
    try:
        latest = zlib.decompressobj().decompress(bytes(row.latest), 8 * size + 1)
        sequences = json.loads(row.sequences)
    except (zlib.error, ValueError):
        raise damaged from None
    if (
        len(latest) != 8 * size
        or not isinstance(sequences, dict)
        or not all(isinstance(k, str) and type(v) is int for k, v in sequences.items())
    ):
        raise damaged
    if sys.byteorder != "little":
        latest = _latest_le(latest)
    checkpoint = Checkpoint(
        size=size, root=bytes(row.root), prev=str(row.prev), sequences=sequences, latest=latest
    )
    try:
        center.ring.center.verify(bytes(row.signature), message(center.origin, checkpoint))
    except SignatureError:
        raise damaged from None
    # RFC 9162 §2.1.1: the tree of the stored leaf hashes must have the signed root.
    tree = CompactRange()
    hashes = bytearray()
    marks: dict[int, bytes] = {}
    for start in range(0, size, _CHUNK):
        rows = log.storage.read_nodes(0, start, min(size, start + _CHUNK))
        for i, (index, digest) in enumerate(rows):
            if index != start + i or len(digest) != 32:
                raise damaged
            tree.append(digest)
            hashes += digest
            if tree.size % every == 0:
                marks[tree.size] = tree.root()
    if tree.size != size or tree.root() != checkpoint.root or hashes[-32:].hex() != checkpoint.prev:
        raise damaged
    return bytes(hashes), checkpoint, tree, marks


def warm(center: Center, stop: threading.Event) -> None:
    """At start-up: resume the service's verified record from the newest checkpoint that
    checks, verify the entries after it (:func:`~accord.center.picture.verified.warm_record`),
    then keep the result as the newest checkpoint — unless ``stop`` was set first."""
    record = verified_of(center)
    with center.reading() as session:
        resumed = resume(center, record, center.log(session))
    if resumed:
        _log.info("the record: resumed from the checkpoint of its first %d entries", resumed)
    warm_record(center, stop)
    if not stop.is_set() and record.verified > resumed:
        save(center, record)


def keep(center: Center, *, every: int = CHECKPOINT_EVERY, step: int = 2000) -> int | None:
    """Verify what was appended since (``step`` entries a transaction) and keep a new
    checkpoint once ``every`` more entries are verified than the newest kept; its size, or
    None when none was kept (too few new, or the record refused)."""
    record = verified_of(center)
    if record.refused is not None:
        return None
    try:
        while True:
            with center.reading() as session:
                log = verified_log(center, session, most=step)
                if record.verified >= log.size or record.broken:
                    break
    except RecordDamaged as error:
        _log.error("the record does not verify: %s", error)
        return None
    with center.reading() as session:
        kept = session.scalar(select(func.max(VerifiedCheckpoint.size))) or 0
    if record.verified - kept < every:
        return None
    return save(center, record)


async def keeper(center: Center, *, interval: float = 60.0) -> None:
    """A serving process's job: every ``interval`` seconds, :func:`keep`."""
    while True:
        await asyncio.sleep(interval)
        await anyio.to_thread.run_sync(partial(keep, center))
