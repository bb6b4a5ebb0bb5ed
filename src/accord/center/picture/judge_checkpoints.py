"""Checkpoints of the compliance judge: a restart folds only the entries after the newest one,
not the whole record (issue 24: at a million entries the judge folds afresh in 80–90 s, and
the first compliance report after a restart waited for it).

**When one is taken.** Whenever the service's judge
(:class:`~accord.center.picture.compliance.Judge`) is extended across a multiple of
:func:`every` entries (:data:`EVERY`, rounded to the verified record's marks, where it keeps
the prefix's root), it is folded up to that size first and pickled there
(:func:`capture`, in the thread that extends it, holding the judge's lock: 2.4 s at a
million entries, once every :data:`EVERY` entries, written a frame at a time so that the
other threads get the interpreter between frames — the longest it was held, 0.36 s); the
serving process's keeper (:func:`keeper`) writes what was captured (:func:`write`). At
start-up the judge is folded from the newest checkpoint there is (:func:`restore`: 2.0 s at
a million entries, the interpreter held at most 0.3 s at a time), then on to the top.

**What is written.** The pickled judge, cut into parts of :data:`PART_BYTES`, each written
in a transaction of its own (so that no write holds the database for the whole body, ~200 MB
at a million entries), named by the SHA-256 of the parts' SHA-256s in order; then one row
holding those and naming it, signed by the center's key over :func:`message`: the log's
origin, the size, the root of that prefix, the code's form (:func:`form`: the SHA-256 of the
package's source, so that another version never reads a judge pickled by this one), the
agreement's digest and that name. Older checkpoints are then dropped, with every part
written for a smaller size: parts another node wrote for the same size under another name
(its pickle need not be byte for byte this one's) go with the next checkpoint, so they never
pile up.

**What is checked before use** (DECISIONS 13: the server checks its snapshots against the
verified record). The newest row of this form and agreement at or below the prefix's size:
its signature must verify with the center's key and its root must be the one the verified
record holds for that size — else someone changed the database under the center, and the
verified record is refused (every read 503 ``record-damaged``), as for the picture's
snapshots; and the parts' digests it holds must hash to the name signed. Only then is the
body unpickled (:func:`_unpickle_signed`), as a stream (:class:`CheckedParts`): each part
read and hashed against its signed digest before any byte of it is handed on, so that the
unpickler never reads a byte the center did not sign, of this very code, and the body is
never held whole. A part missing or changed (a write cut short, another node's cleanup)
stops it: the checkpoint is not read and the judge is folded afresh.
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
from accord.center import heap
from accord.center.db.models import JudgeCheckpoint, JudgeCheckpointPart
from accord.center.picture.verified import VerifiedRecord, refused, verified_of
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
    "CheckedParts",
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
    form, the agreement's digest, the body's name (``digest``: the SHA-256 of its parts'
    SHA-256s, in order) and how many parts hold it."""
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
    """The judge pickled at ``size`` entries, its body cut into ``parts`` of
    :data:`PART_BYTES` (the last shorter), waiting for the keeper."""

    size: int
    parts: tuple[bytes, ...]


class _Cut:
    """What the pickler writes to: its frames (~64 KiB each) gathered into parts of
    :data:`PART_BYTES`. A write in Python between frames lets the interpreter hand the other
    threads their turn, where one ``pickle.dumps`` would hold it for the whole body."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self._open = bytearray()

    def write(self, data: bytes) -> int:
        self._open += data
        while len(self._open) >= PART_BYTES:
            self.parts.append(bytes(self._open[:PART_BYTES]))
            del self._open[:PART_BYTES]
        return len(data)

    def close(self) -> tuple[bytes, ...]:
        if self._open or not self.parts:
            self.parts.append(bytes(self._open))
        return tuple(self.parts)


def capture(judge: Folded) -> Captured:
    """``judge`` pickled as it stands (its :attr:`~Judge.size` entries folded), in parts."""
    cut = _Cut()
    pickle.Pickler(cut, protocol=_PICKLE_PROTOCOL).dump(judge)
    return Captured(judge.size, cut.close())


class _Unreadable(Exception):
    """A part of a checkpoint's body is missing or does not hash to the digest signed for it:
    the checkpoint is not read (the judge folds afresh)."""


class CheckedParts:
    """A checkpoint's body as a stream (what :func:`pickle.load` reads), a part at a time:
    each part fetched (``fetch(i)``: its bytes, or None) and hashed against ``digests[i]``
    before any byte of it is handed on, so that nothing read is not what the center signed,
    and the body is never held whole (~200 MB at a million entries).

    >>> import hashlib
    >>> parts = [b"abc", b"def"]
    >>> stream = CheckedParts(parts.__getitem__, [hashlib.sha256(p).digest() for p in parts])
    >>> stream.read(4), stream.readline(), stream.read()
    (b'abcd', b'ef', b'')
    """

    def __init__(self, fetch: Callable[[int], bytes | None], digests: list[bytes]) -> None:
        self._fetch = fetch
        self._digests = digests
        self._next = 0
        self._part = b""
        self._at = 0

    def _more(self) -> bool:
        if self._next == len(self._digests):
            return False
        body = self._fetch(self._next)
        if body is None or hashlib.sha256(body).digest() != self._digests[self._next]:
            raise _Unreadable(f"part {self._next} is missing or not the one signed")
        self._next += 1
        self._part, self._at = body, 0
        return True

    def read(self, n: int = -1) -> bytes:
        taken: list[bytes] = []
        while n != 0:
            if self._at == len(self._part) and not self._more():
                break
            end = len(self._part) if n < 0 else min(len(self._part), self._at + n)
            taken.append(self._part[self._at : end])
            n -= 0 if n < 0 else end - self._at
            self._at = end
        return b"".join(taken)

    def readline(self) -> bytes:
        taken: list[bytes] = []
        while True:
            if self._at == len(self._part) and not self._more():
                break
            newline = self._part.find(b"\n", self._at)
            end = len(self._part) if newline < 0 else newline + 1
            taken.append(self._part[self._at : end])
            self._at = end
            if newline >= 0:
                break
        return b"".join(taken)


def _unpickle_signed(stream: CheckedParts, kind: type[T]) -> T:
    """Unpickle a checkpoint's body — only ever called once the center's signature over its
    parts' digests, of this very code's form, has verified, each part checked as it is read
    (:func:`restore`)."""
    judge = pickle.load(stream)  # the center's own signed bytes, each part checked first
    if not isinstance(judge, kind):
        raise TypeError(f"a judge checkpoint holds a {type(judge).__name__}")
    return judge


def _refused(center: Center, size: int, why: str) -> RecordDamaged:
    return refused(center, f"the compliance judge's checkpoint at {size} entries {why}")


def restore(center: Center, session: Session, size: int, *, kind: type[T]) -> T | None:
    """The judge (a ``kind``) of the newest checkpoint of this code and agreement at or below
    ``size`` entries, checked (see the module's description); None when there is none, or
    a part does not hash to what was signed for it. A checkpoint whose signature or root
    does not check refuses the record: :class:`~accord.errors.RecordDamaged`."""
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
    digests = bytes(row.part_digests)
    if len(digests) != 32 * int(row.parts) or hashlib.sha256(digests).hexdigest() != row.digest:
        raise _refused(center, at, "names parts other than those signed")
    by_part = [digests[i : i + 32] for i in range(0, len(digests), 32)]

    def fetch(part: int) -> bytes | None:
        found = session.get(JudgeCheckpointPart, (row.digest, part))
        return None if found is None else bytes(found.body)

    try:
        with heap.paused():
            judge = _unpickle_signed(CheckedParts(fetch, by_part), kind)
    except _Unreadable as error:
        _log.warning("the compliance judge's checkpoint at %d entries is not read: %s", at, error)
        return None
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
    cut = captured.parts
    parts = len(cut)
    digests = b"".join(hashlib.sha256(part).digest() for part in cut)
    digest = hashlib.sha256(digests).hexdigest()
    shape, agreement = form(), agreement_digest(center.agreement)
    for number, part in enumerate(cut):
        with center.writing() as unit:
            unit.session.merge(
                JudgeCheckpointPart(digest=digest, part=number, size=captured.size, body=part)
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
                part_digests=digests,
                signature=center.keys.center().sign(signed),
            )
        )
    with center.writing() as unit:  # older ones dropped: their rows and every part of them
        older = JudgeCheckpoint.size < captured.size
        unit.session.execute(delete(JudgeCheckpoint).where(older))
        unit.session.execute(
            delete(JudgeCheckpointPart).where(JudgeCheckpointPart.size < captured.size)
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
