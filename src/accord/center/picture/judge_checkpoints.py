"""Checkpoints of the compliance judge: a restart folds only the entries after the newest one,
not the whole record (issue 24: at a million entries the judge folds afresh in 80–90 s, and
the first compliance report after a restart waited for it).

**When one is taken.** Whenever the service's judge
(:class:`~accord.center.picture.compliance.Judge`) is extended across a multiple of
:func:`every` entries (:data:`EVERY`, rounded to the verified record's marks, where it keeps
the prefix's root), it is folded up to that size first and pickled there
(:func:`capture`, in the thread that extends it, holding the judge's lock: about 3 s at a
million entries, once every :data:`EVERY` entries); the serving process's keeper
(:func:`keeper`) writes what was captured (:func:`write`). At start-up the judge is folded
from the newest checkpoint there is (:func:`restore`), then on to the top.

**What is written.** The pickled judge, cut into parts of :data:`PART_BYTES`, each written
in a transaction of its own (so that no write holds the database for the whole body, ~200 MB
at a million entries), under the SHA-256 of the whole body; then one row naming it, signed
by the center's key over :func:`message`: the log's origin, the size, the root of that
prefix, the code's form (:func:`form`: the SHA-256 of the package's source, so that another
version never reads a judge pickled by this one), the agreement's digest and the body's
digest. Older checkpoints are then dropped.

**What is checked before use** (DECISIONS 13: the server checks its snapshots against the
verified record). The newest row of this form and agreement at or below the prefix's size:
its signature must verify with the center's key and its root must be the one the verified
record holds for that size — else someone changed the database under the center, and the
verified record is refused (every read 503 ``record-damaged``), as for the picture's
snapshots. Only then are its parts read and hashed; parts that do not hash to the signed
digest (a write cut short, or another node's cleanup) make the checkpoint unusable, never
read: the judge is folded afresh. The body is unpickled only once all of that holds
(:func:`_unpickle_signed`): bytes the center itself signed, of this very code.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import logging
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol, TypeVar

import anyio.to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models import JudgeCheckpoint, JudgeCheckpointPart
from accord.center.picture.verified import VerifiedRecord, verified_of
from accord.center.runtime import Center
from accord.errors import RecordDamaged
from accord.record.canonical import canonical_json, encode_base64
from accord.record.errors import SignatureError

T = TypeVar("T")

__all__ = [
    "DOMAIN",
    "EVERY",
    "PART_BYTES",
    "Captured",
    "agreement_digest",
    "capture",
    "every",
    "form",
    "keeper",
    "message",
    "restore",
    "write",
]

DOMAIN = b"accord compliance-judge v1\n"
"""What a judge checkpoint's signed message starts with: no other message the center signs
does."""

EVERY = 50_000
"""Every how many entries the judge is checkpointed: a restart folds at most this many
entries (and those appended since the last), ~4 s at the week's mix."""

PART_BYTES = 8 << 20
"""The size of each part of a checkpoint's body, each written in a transaction of its own."""

_PICKLE_PROTOCOL = 5

_log = logging.getLogger("accord.center")


@cache
def form() -> str:
    """The SHA-256 of the ``accord`` package's Python source (every ``.py`` file, by path)
    and of the interpreter's version: a judge pickled by other code is never read."""
    digest = hashlib.sha256(f"{sys.version_info[:2]}\n".encode())
    root = importlib.resources.files("accord")
    files: list[tuple[str, bytes]] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for item in folder.iterdir():
            if item.is_dir() and item.name != "__pycache__":
                stack.append((item, f"{prefix}{item.name}/"))
            elif item.name.endswith(".py"):
                files.append((f"{prefix}{item.name}", item.read_bytes()))
    for name, text in sorted(files):
        digest.update(f"{name}\n{len(text)}\n".encode())
        digest.update(text)
    return digest.hexdigest()


def agreement_digest(agreement: Agreement) -> str:
    """The SHA-256 of the agreement's canonical JSON: a judge folded under another agreement
    is never read."""
    return hashlib.sha256(canonical_json(agreement.model_dump(mode="json"))).hexdigest()


def every(record: VerifiedRecord) -> int:
    """:data:`EVERY`, rounded up to a multiple of the sizes ``record`` keeps the root of."""
    marks = record.marks_every
    return max(marks, -(-EVERY // marks) * marks)


def message(
    origin: str, size: int, root: bytes, shape: str, agreement: str, digest: str, parts: int
) -> bytes:
    """The bytes the center signs for the judge's checkpoint at ``size``: :data:`DOMAIN`,
    then the canonical JSON of the log's origin, the size, the prefix's root, the code's
    form, the agreement's digest, the body's SHA-256 and how many parts hold it."""
    signed = {
        "agreement": agreement,
        "body": digest,
        "form": shape,
        "origin": origin,
        "parts": parts,
        "root": encode_base64(root),
        "size": size,
    }
    return DOMAIN + canonical_json(signed)


class Folded(Protocol):
    """What is checkpointed: a judge, and how many entries it folded."""

    @property
    def size(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Captured:
    """The judge pickled at ``size`` entries (``body``), waiting for the keeper."""

    size: int
    body: bytes


def capture(judge: Folded) -> Captured:
    """``judge`` pickled as it stands (its :attr:`~Judge.size` entries folded)."""
    return Captured(judge.size, pickle.dumps(judge, protocol=_PICKLE_PROTOCOL))


def _unpickle_signed(body: bytes, kind: type[T]) -> T:
    """Unpickle a checkpoint's body — only ever called once the center's signature over its
    digest, of this very code's form, has verified (:func:`restore`)."""
    judge = pickle.loads(body)  # the center's own signed bytes, checked first
    if not isinstance(judge, kind):
        raise TypeError(f"a judge checkpoint holds a {type(judge).__name__}")
    return judge


def _refused(center: Center, size: int, why: str) -> RecordDamaged:
    text = f"the compliance judge's checkpoint at {size} entries {why}"
    verified_of(center).refuse(text)
    _log.error("the record is refused: %s", text)
    return RecordDamaged(text)


def restore(center: Center, session: Session, size: int, *, kind: type[T]) -> T | None:
    """The judge (a ``kind``) of the newest checkpoint of this code and agreement at or below
    ``size`` entries, checked (see the module's description); None when there is none, or
    its parts do not hash to what was signed. A checkpoint whose signature or root does not check
    refuses the record: :class:`~accord.errors.RecordDamaged`."""
    record = verified_of(center)
    row = session.scalars(
        select(JudgeCheckpoint)
        .where(
            JudgeCheckpoint.size <= size,
            JudgeCheckpoint.form == form(),
            JudgeCheckpoint.agreement == agreement_digest(center.agreement),
        )
        .order_by(JudgeCheckpoint.size.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    at = int(row.size)
    signed = message(
        center.origin, at, bytes(row.root), row.form, row.agreement, row.digest, int(row.parts)
    )
    try:
        center.ring.center.verify(bytes(row.signature), signed)
    except SignatureError:
        raise _refused(center, at, "does not carry the center's signature") from None
    root = record.root_at(at)
    if root is None:
        return None  # a size this process keeps no root of: fold afresh
    if root != bytes(row.root):
        raise _refused(center, at, "is not of the record this center verified")
    parts = session.scalars(
        select(JudgeCheckpointPart.body)
        .where(JudgeCheckpointPart.digest == row.digest)
        .order_by(JudgeCheckpointPart.part)
    ).all()
    body = b"".join(bytes(part) for part in parts)
    if len(parts) != int(row.parts) or hashlib.sha256(body).hexdigest() != row.digest:
        _log.warning("the compliance judge's checkpoint at %d entries is incomplete: not read", at)
        return None
    judge = _unpickle_signed(body, kind)
    folded = getattr(judge, "size", None)
    if folded != at:
        raise _refused(center, at, f"holds a judge of {folded} entries")
    return judge


def write(center: Center, captured: Captured | None) -> int | None:
    """Write ``captured`` (see the module's description), then drop the older checkpoints;
    the size written, or None (nothing captured, or a size whose root is not kept)."""
    if captured is None:
        return None
    record = verified_of(center)
    root = record.root_at(captured.size)
    if root is None:
        return None
    digest = hashlib.sha256(captured.body).hexdigest()
    body = memoryview(captured.body)
    parts = max(1, -(-len(body) // PART_BYTES))
    shape, agreement = form(), agreement_digest(center.agreement)
    for part in range(parts):
        with center.writing() as unit:
            unit.session.merge(
                JudgeCheckpointPart(
                    digest=digest,
                    part=part,
                    body=bytes(body[part * PART_BYTES : (part + 1) * PART_BYTES]),
                )
            )
    signed = message(center.origin, captured.size, root, shape, agreement, digest, parts)
    with center.writing() as unit:
        unit.session.merge(
            JudgeCheckpoint(
                size=captured.size,
                root=root,
                form=shape,
                agreement=agreement,
                digest=digest,
                parts=parts,
                signature=center.keys.center().sign(signed),
            )
        )
    with center.writing() as unit:
        older = unit.session.scalars(
            select(JudgeCheckpoint.digest).where(JudgeCheckpoint.size < captured.size)
        ).all()
        unit.session.execute(delete(JudgeCheckpoint).where(JudgeCheckpoint.size < captured.size))
        dropped = [d for d in older if d != digest]
        if dropped:
            unit.session.execute(
                delete(JudgeCheckpointPart).where(JudgeCheckpointPart.digest.in_(dropped))
            )
    return captured.size


async def keeper(
    center: Center, *, take: Callable[[Center], Captured | None], interval: float = 60.0
) -> None:
    """A serving process's job: every ``interval`` seconds, :func:`write` what ``take``
    hands over (the judge captured since; a database away for a while is logged, and that
    capture left for the next)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(lambda: write(center, take(center)))
        except SQLAlchemyError as error:
            _log.warning("the compliance judge's checkpoint was not kept this time: %s", error)
