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
this log, and the stored tree folds (RFC 9162 §2.1.1) to its root — not from every leaf
hash, but from the roots of its whole groups of :data:`GROUP` leaves and the subtrees of the
last one (:func:`resumed_tree`). The record verified is then taken up with that tree: a
group's leaf hashes are read when one of its entries is first read again, kept only once
they fold to the group's root, and an entry is served only if it hashes to its own
(:mod:`accord.center.picture.verified`); the entries after the checkpoint are verified as
before. So a prefix rewritten since — its leaves, its hashes or its tree — is still caught:
the stored subtrees no longer fold to the signed root, a group's leaf hashes no longer fold
to its root, or an entry no longer hashes as kept. A checkpoint whose signature does not
verify, or whose root the stored tree does not reach, means someone changed the database
under the center: the service then serves no record at all (every read 503
``record-damaged``, the log naming why) until the operator has looked (removing the
``verified_checkpoints`` rows makes the next start verify every entry again). A checkpoint is
the server's own: ``accord verify``, the monitor and the witness never read one
(DECISIONS 13).
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
from collections.abc import Mapping, Sequence
from functools import partial

import anyio.to_thread
from sqlalchemy import delete, func, select

from accord.center.db.models import VerifiedCheckpoint
from accord.center.picture.verified import (
    Checkpoint,
    Resumed,
    Subtree,
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
from accord.record.merkle import CompactRange, aligned_subtrees

__all__ = [
    "CHECKPOINT_EVERY",
    "DOMAIN",
    "GROUP",
    "keep",
    "keeper",
    "message",
    "resume",
    "resumed_tree",
    "save",
    "subtrees_needed",
    "warm",
]

DOMAIN = b"accord verified-checkpoint v1\n"
"""What a checkpoint's signed message starts with: no other message the center signs does."""

GROUP = 1024
"""How many leaves a resume takes up by one stored subtree root (a power of two): at a million
entries, 977 roots are read and folded instead of a million leaf hashes; each group's leaf
hashes are read, and checked against its root, when one of its entries is first read."""

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
        checked, resumed = _checked(center, row, log, every=record.marks_every)
        record.resume(checked, resumed, log=log)
    except RecordDamaged as error:
        _log.error("the record does not verify: %s", error)
        record.refuse(str(error))
        return 0
    return checked.size


def _checked(
    center: Center, row: VerifiedCheckpoint, log: MerkleLog, *, every: int
) -> tuple[Checkpoint, Resumed]:
    """The checkpoint of ``row`` and its tree taken up from the stored subtree roots
    (:func:`resumed_tree`), once its signature verifies and they fold to its root; else
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
    group = GROUP
    level = group.bit_length() - 1
    stored = log.storage
    whole = size // group
    roots = stored.read_nodes(level, 0, whole) if level else stored.read_nodes(0, 0, whole)
    keys = subtrees_needed(size, group=group, every=every)
    if size and (0, size - 1) not in keys:
        keys.append((0, size - 1))  # the last leaf's hash: the checkpoint's prev
    nodes = stored.nodes(keys)
    if [index for index, _ in roots] != list(range(whole)) or len(nodes) != len(keys):
        raise damaged
    try:
        resumed = resumed_tree(
            size, group=group, every=every, roots=[h for _, h in roots], nodes=nodes
        )
    except ValueError:
        raise damaged from None
    # RFC 9162 §2.1.1: the tree of the stored subtrees must have the signed root.
    if resumed.tree.root() != checkpoint.root or (
        size and nodes[0, size - 1].hex() != checkpoint.prev
    ):
        raise damaged
    return checkpoint, resumed


def subtrees_needed(size: int, *, group: int, every: int) -> list[tuple[int, int]]:
    """The stored subtrees (``(level, index)``) that :func:`resumed_tree` needs besides the
    roots of the whole groups of ``group`` leaves: those of the last, partial group, and
    around each multiple of ``every`` inside a group."""
    whole = size // group * group
    keys = aligned_subtrees(whole, size)
    for mark in range(every, size + 1, every):
        if mark % group:
            low = mark // group * group
            keys += aligned_subtrees(low, mark) + aligned_subtrees(mark, min(low + group, size))
    return sorted(set(keys))


def resumed_tree(
    size: int,
    *,
    group: int,
    every: int,
    roots: Sequence[bytes],
    nodes: Mapping[tuple[int, int], bytes],
) -> Resumed:
    """The tree of ``size`` leaves folded from stored subtree roots, not from every leaf: the
    roots of its whole groups of ``group`` leaves (``roots``, a power of two each) and the
    subtrees of the last, partial group (``nodes``, as :func:`subtrees_needed` names them).
    The roots at every multiple of ``every`` are folded on the way; one that falls inside a
    group is folded from the subtrees on either side of it, which must fold to that group's
    root (else ``ValueError``). Every subtree used is one the returned tree's root stands
    for: the caller checks that root against a signed one before trusting any of it.

    Examples
    --------
    >>> from accord.record.merkle import leaf_hash, root_hash
    >>> leaves = [leaf_hash(bytes([i])) for i in range(11)]
    >>> def node(level, index):
    ...     return root_hash(leaves[index << level : (index + 1) << level])
    >>> keys = subtrees_needed(11, group=4, every=5)
    >>> resumed = resumed_tree(
    ...     11, group=4, every=5, roots=[node(2, 0), node(2, 1)],
    ...     nodes={key: node(*key) for key in keys},
    ... )
    >>> resumed.tree.root() == root_hash(leaves), resumed.marks == {
    ...     5: root_hash(leaves[:5]), 10: root_hash(leaves[:10])}
    (True, True)
    >>> [(s.start, s.size) for s in resumed.unread]
    [(0, 4), (4, 4), (8, 2), (10, 1)]
    """
    whole = size // group
    if group < 1 or group & (group - 1) or len(roots) != whole:
        raise ValueError("one root per whole group of a power of two leaves")
    unread: list[Subtree] = []
    marks: dict[int, bytes] = {}

    def fold(tree: CompactRange, start: int, end: int) -> CompactRange:
        for level, index in aligned_subtrees(start, end):
            tree.append_subtree(nodes[level, index], 1 << level)
        return tree

    def within(tree: CompactRange, low: int, high: int, after: bytes) -> None:
        """The marks inside the group ``low``..``high``: each folded from the subtrees on
        its two sides, which together must give ``after`` (the root once the group is in)."""
        for mark in range((low // every + 1) * every, high, every):
            around = fold(tree.copy(), low, mark)
            marks[mark] = around.root()
            if fold(around, mark, high).root() != after:
                raise ValueError(f"the subtrees around {mark} do not fold to their group's")

    tree = CompactRange()
    try:
        for g, root in enumerate(roots):
            low = g * group
            grown = tree.copy()
            grown.append_subtree(root, group)
            within(tree, low, low + group, grown.root())
            tree = grown
            unread.append(Subtree(low, group, root))
            if tree.size % every == 0:
                marks[tree.size] = tree.root()
        low = whole * group
        base = tree.copy()
        for level, index in aligned_subtrees(low, size):
            tree.append_subtree(nodes[level, index], 1 << level)
            unread.append(Subtree(index << level, 1 << level, nodes[level, index]))
        within(base, low, size, tree.root())
    except KeyError as missing:
        raise ValueError(f"the stored subtree {missing} is missing") from None
    if size and size % every == 0:
        marks[size] = tree.root()
    return Resumed(tree=tree, marks=marks, unread=tuple(unread))


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
