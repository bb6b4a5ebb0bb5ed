"""Snapshots of the picture's folded state: the picture at any instant replays only the entries
after the nearest snapshot, not the whole record (issue 24: a picture of "day 4, 03:00" in a
week of a million entries).

**What a snapshot is.** Every :data:`~accord.center.picture.verified.MARK_EVERY` entries
(where the verified record keeps the root of the prefix), the state the record's prefix folds to
(:class:`~accord.center.picture.replay.Replay`: every part its features' folds keep, the
anomalies and their reasons), written with :mod:`accord.center.picture.codec`. The state
depends on whose hidden declarations are opened (a picture opens only its caller's
member's), so there is one snapshot per *class*: :data:`NO_ONE` (none opened), and one for
each member who had written a hidden declaration's entry by then. A member without one
reads the :data:`NO_ONE` snapshot: with none of its entries hidden, its fold is the same.
All of one size are written in one transaction, so a member's absence at a size where
:data:`NO_ONE` is present means just that.

**What is checked before use** (DECISIONS 13: snapshots are the server's; ``accord verify``,
the monitor and the witness never read one). Each row is signed by the center's key over
:func:`message`: the log's origin, the class, the size, the root of that prefix, the form
of the state (:func:`~accord.center.picture.codec.fingerprint` of every part's type) and the
SHA-256 of the body. Before a snapshot is read, its signature must verify and its root must
be the one the service's :class:`~accord.center.picture.verified.VerifiedRecord` holds for
that size (kept as it verified: :meth:`~accord.center.picture.verified.VerifiedRecord.root_at`),
so a snapshot of another history — a restored or rewritten log — is never folded on. One that
does not check means someone changed the database under the center: the verified record is
then refused (every read 503 ``record-damaged``), as for a verification checkpoint that does
not check (:mod:`accord.center.picture.checkpoints`); at start-up the newest ones are checked
(:func:`check`). A snapshot of another form (written by another version) is not read, and
dropped by the next :func:`keep`.

**Written** by the serving process's :func:`keeper` (every minute, :func:`keep`): from the
newest snapshots, the entries verified since are folded in steps of that many, each
step's snapshots written once the step is folded. Several nodes writing the same size write
the same rows.

**The body**: ``marshal`` (format 4) of plain lists, dicts, text and numbers, zlib-compressed;
read back only once its signature verifies, and with the cyclic collector paused
(:func:`accord.center.heap.paused`). The parts a picture selects from — declarations and
operations (:data:`~accord.center.picture.views.PARKED`) — are written an object at a time,
each beside what the picture's selection needs of it (in force, owner, disclosure, kind,
extent; an operation's times and category). A picture parks them
(:meth:`~accord.center.picture.replay.Replay.park`): the tail's entries read only the
objects they name, the selection runs on the index, and only the objects of the page asked
for are read — not the 17,000 declarations and 10,000 operations of a week's snapshot.
The objects the replay set aside as done
(:mod:`accord.center.picture.replay`) are not in it: it names each by the SHA-256 of its
bytes, stored once in ``picture_aside`` however many snapshots name it, and read back (its
digest checked again; one missing or changed refuses the record) only when a later entry
names the object. So a snapshot holds the live objects and the names of the others, and the
history is stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import marshal
import threading
import zlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

import anyio.to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from accord.center import heap
from accord.center.db.models import PictureAside, PictureSnapshot
from accord.center.declarations.entries import HIDDEN
from accord.center.entry_kinds import Part, Recorded, part_named, parts
from accord.center.picture.codec import codec, fingerprint
from accord.center.picture.replay import Replay
from accord.center.picture.verified import (
    VerifiedRecord,
    hidden_openings,
    opened_cache,
    refused,
    verified_log,
    verified_of,
    warm_record,
)
from accord.center.picture.views import PARKED
from accord.center.runtime import Center
from accord.errors import RecordDamaged
from accord.record.canonical import canonical_json, encode_base64
from accord.record.errors import SignatureError
from accord.record.log import MerkleLog

__all__ = [
    "DECODE_US",
    "DOMAIN",
    "FOLD_US",
    "NO_ONE",
    "READ_AGAIN_US",
    "Replayed",
    "check",
    "form",
    "keep",
    "keeper",
    "message",
    "replayed",
    "worth",
]

DOMAIN = b"accord picture-snapshot v1\n"
"""What a snapshot's signed message starts with: no other message the center signs does."""

NO_ONE = ""
"""The class of a fold with no member's hidden declarations opened."""

_MARSHAL_VERSION = 4

_LAYOUT = 4
"""The body's layout (3: the done objects set aside, named by their SHA-256; 4: the parts a
picture selects from written an object at a time, with their index)."""

_log = logging.getLogger("accord.center")


@cache
def form() -> str:
    """The fingerprint of the state's form: every part's name and type, as the features
    declare them."""
    text = "\n".join(f"{p.name}: {fingerprint(p.shape)}" for p in parts())
    return hashlib.sha256(f"{_LAYOUT}\n{text}".encode()).hexdigest()


def message(
    origin: str, member: str, size: int, root: bytes, shape: str, objects: int, body: bytes
) -> bytes:
    """The bytes the center signs for the snapshot of ``member``'s class at ``size``:
    :data:`DOMAIN`, then the canonical JSON of the log's origin, the class, the size, the
    prefix's root, the state's form, how many objects it holds and the SHA-256 of the body."""
    signed = {
        "body": hashlib.sha256(body).hexdigest(),
        "form": shape,
        "member": member,
        "objects": objects,
        "origin": origin,
        "root": encode_base64(root),
        "size": size,
    }
    return DOMAIN + canonical_json(signed)


# --- the state written and read -------------------------------------------------------------


def _encode(replay: Replay, authors: dict[int, str], store: dict[str, bytes]) -> bytes:
    """The body of ``replay``'s snapshot; the objects it set aside are named by their
    SHA-256, each put in ``store`` (to be written to ``picture_aside`` with the snapshot).
    The parts a picture selects from (:data:`~accord.center.picture.views.PARKED`) are
    written an object at a time, each with what the selection needs of it, so that a
    picture reads only the objects it returns (:meth:`Replay.park`)."""
    parts: dict[str, Any] = {}
    parked: dict[str, tuple[dict[str, bytes], dict[str, Any]]] = {}
    for key, value in replay.made().items():
        index = PARKED.get(key)
        if index is None:
            parts[key.name] = codec(key.shape)[0](value)
            continue
        encode = codec(key.shape.__args__[1])[0]
        parked[key.name] = (
            {i: marshal.dumps(encode(o), _MARSHAL_VERSION) for i, o in value.items()},
            {i: index(o) for i, o in value.items()},
        )
    unopened_by = {i: authors[i] for i in replay.unopened if i in authors}

    def stored(kept: bytes) -> str:
        digest = hashlib.sha256(kept).hexdigest()
        store[digest] = kept
        return digest

    aside = {key.name: objects for key, objects in replay.name_aside(stored).items()}
    body = [replay.entries, list(replay.anomalies), dict(replay.reasons), parts, unopened_by]
    return zlib.compress(marshal.dumps([*body, aside, parked], _MARSHAL_VERSION), 1)


def _loader(center: Center, pending: dict[str, bytes]) -> Callable[[str], bytes]:
    """How a replay folded on from a snapshot reads back an object it set aside: from
    ``pending`` (written with the snapshots being made) or ``picture_aside``, its SHA-256
    checked; one missing or changed refuses the record."""

    def load(digest: str) -> bytes:
        body = pending.get(digest)
        if body is None:
            with center.reading() as session:
                row = session.get(PictureAside, digest)
                body = None if row is None else bytes(row.body)
        if body is None or hashlib.sha256(body).hexdigest() != digest:
            why = "is missing" if body is None else "does not match its digest"
            raise refused(center, f"an object the picture's snapshots set aside {why}")
        return body

    return load


def _decode(center: Center, body: bytes, *, parked: bool = False) -> tuple[Replay, dict[int, str]]:
    """The replay a checked snapshot's ``body`` holds, and the authors of its unopened
    hidden entries; :class:`ValueError` for a body not of the form written. ``parked``: the
    objects written one at a time are parked (:meth:`Replay.park`: each read when named),
    not all read now."""
    with heap.paused():
        try:
            entries, anomalies, reasons, parts, unopened_by, kept, one_by_one = marshal.loads(
                zlib.decompress(body)
            )
            made: dict[Part[Any], Any] = {}
            for name, value in parts.items():
                key = _named(name)
                made[key] = codec(key.shape)[1](value)
            aside = {_named(name): dict(objects) for name, objects in kept.items()}
            held = {
                _named(name): (dict(objects), dict(index))
                for name, (objects, index) in one_by_one.items()
            }
            if not parked:
                for key, (objects, _) in held.items():
                    decode = codec(key.shape.__args__[1])[1]
                    made[key] = {i: decode(marshal.loads(o)) for i, o in objects.items()}
        except (
            EOFError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
            ValueError,
            zlib.error,
        ) as error:
            raise ValueError(f"a snapshot not of the form written: {error}") from None
    replay = Replay.resumed(
        center.agreement,
        center.origin,
        entries=int(entries),
        anomalies=list(anomalies),
        reasons=dict(reasons),
        parts=made,
        aside=aside,
    )
    if parked:
        for key, (objects, index) in held.items():
            replay.park(key, objects, index)
    return replay, dict(unopened_by)


def _named(name: str) -> Part[Any]:
    key = part_named(name)
    if key is None:
        raise ValueError(f"a part no feature declares, {name!r}")
    return key


def _damaged(center: Center, row: PictureSnapshot, why: str) -> RecordDamaged:
    return refused(
        center,
        f"the center's snapshot of the picture at {row.size} entries "
        f"({row.member or 'no member'}) {why}",
    )


def _checked(center: Center, row: PictureSnapshot, record: VerifiedRecord) -> None:
    """Nothing, once ``row``'s signature verifies and its root is the one the verified
    record holds for its size; else the record refused and
    :class:`~accord.errors.RecordDamaged`."""
    signed = message(
        center.origin,
        row.member,
        int(row.size),
        bytes(row.root),
        row.form,
        int(row.objects),
        bytes(row.body),
    )
    try:
        center.ring.center.verify(bytes(row.signature), signed)
    except SignatureError:
        raise _damaged(center, row, "does not carry the center's signature") from None
    if record.root_at(int(row.size)) != bytes(row.root):
        raise _damaged(center, row, "is not of the record this center verified")


# --- read: the replay at an instant ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replayed:
    """The record's prefix of ``size`` entries folded for one member (``replay``), from the
    snapshot at ``start`` entries (0: from the first entry); ``tail``: the entries folded
    after it; ``unopened_by``: the author of each unopened hidden entry of the snapshot's."""

    replay: Replay
    size: int
    start: int
    tail: list[Recorded]
    unopened_by: dict[int, str]

    def author(self, index: int) -> str | None:
        """The author of entry ``index`` among the unopened hidden ones and the tail."""
        if index >= self.start:
            return self.tail[index - self.start].author
        return self.unopened_by.get(index)


FOLD_US = 9.0
"""About how long folding one entry kept read takes (µs; 100,000 in 0.9 s on the bench's
2 cores)."""
READ_AGAIN_US = 33.0
"""About how much longer an entry read again from the store takes (µs; 3.3 s for 100,000)."""
DECODE_US = 10.0
"""About how long reading one object of a snapshot back takes (µs; 100,000 declarations in
0.8 s with the collector paused)."""
PARKED_US = 2.5
"""About how long reading one object of a snapshot back as parked takes (µs: its index only,
:meth:`~accord.center.picture.replay.Replay.park`; 2.4–2.8 at the week's snapshots)."""


def worth(*, objects: int, size: int, kept_from: int, reads: int | None = None) -> bool:
    """Whether folding on from a snapshot of ``objects`` objects at ``size`` entries is
    cheaper than folding those ``size`` entries afresh, of which those from ``kept_from`` on
    are kept read; ``reads``: about how many of the objects the picture reads whole (the
    others stay parked), None for all of them. A record whose entries are all kept read,
    and whose objects are about as many as its entries (the load bench's world: one
    declaration an entry), folds afresh for a picture of every object, and from the snapshot
    for a page of them; a week's record, most of it read again and a few objects for many
    entries, never folds afresh.

    >>> worth(objects=95_000, size=100_000, kept_from=0)
    False
    >>> worth(objects=95_000, size=100_000, kept_from=0, reads=1_000)
    True
    >>> worth(objects=20_000, size=600_000, kept_from=500_000)
    True
    """
    kept = max(0, size - kept_from)
    afresh = size * FOLD_US + (size - kept) * READ_AGAIN_US
    whole = objects if reads is None else min(objects, reads)
    return whole * DECODE_US + (objects - whole) * PARKED_US < afresh


def _objects(replay: Replay) -> int:
    """How many objects ``replay`` holds (what reading it back costs): those set aside
    are read back as they were kept, at about a tenth of the cost of one held."""
    held = len(replay.anomalies) + sum(len(kept) for kept in replay.aside().values()) // 10
    for value in replay.made().values():
        held += len(value) if isinstance(value, dict | list) else 1
    return held


def _nearest(session: Session, member: str, size: int) -> PictureSnapshot | None:
    """The newest snapshot of at most ``size`` entries that ``member``'s picture folds on."""
    rows = session.scalars(
        select(PictureSnapshot)
        .where(PictureSnapshot.size <= size, PictureSnapshot.member.in_((NO_ONE, member)))
        .order_by(PictureSnapshot.size.desc())
        .limit(2)
    ).all()
    if not rows:
        return None
    newest = [r for r in rows if r.size == rows[0].size]
    return next((r for r in newest if r.member == member), newest[-1])


def replayed(
    center: Center,
    session: Session,
    log: MerkleLog,
    *,
    member: str,
    until: Any,
    page: int | None = None,
) -> Replayed:
    """The record's prefix up to ``until`` folded with ``member``'s hidden declarations
    opened: from the nearest snapshot that checks, when that is :func:`worth` it, the
    entries after it folded on (every entry, with none). ``page``: the most objects the
    picture answers (None: all), which with the objects the tail names are about those read
    whole from the snapshot. Equal, part for part, to folding the whole prefix afresh
    (tested).

    Raises :class:`~accord.errors.RecordDamaged` when the record does not verify or the
    snapshot does not check."""
    record = verified_of(center)
    size = record.size_at(log, until=until)
    row = _nearest(session, member, size)
    start, unopened_by = 0, dict[int, str]()
    replay: Replay | None = None
    if row is not None and row.form == form():
        _checked(center, row, record)
        reads = None if page is None else page + (size - int(row.size))
        if not worth(
            objects=int(row.objects),
            size=int(row.size),
            kept_from=record.kept_from,
            reads=reads,
        ):
            row = None
    if row is not None:
        try:
            replay, unopened_by = _decode(center, bytes(row.body), parked=True)
            replay.load = _loader(center, {})
        except ValueError as error:
            raise _damaged(center, row, f"does not read: {error}") from None
        if row.member == NO_ONE and member in unopened_by.values():
            # No one's fold leaves every hidden entry unopened: the member wrote some, so its
            # own snapshot of this size was written with this one, and is gone.
            raise _damaged(center, row, f"is there without {member}'s own")
        start = int(row.size)
    tail, size = record.read(log, until=until, start=start)
    openings = hidden_openings(session, tail, owners={member}, cache=opened_cache(center))
    if replay is None:
        replay = Replay(center.agreement, center.origin, openings)
    else:
        replay.openings = openings
    replay.fold(tail)
    return Replayed(replay, size, start, tail, unopened_by)


# --- written: the keeper --------------------------------------------------------------------


def _classes(records: Collection[Recorded]) -> Iterator[tuple[int, str]]:
    for r in records:
        if r.event.get("kind") == HIDDEN:
            yield r.index, r.author


def keep(center: Center) -> int:
    """Write the snapshots missing up to what the service has verified (once it has verified
    what was appended since), every
    :attr:`~accord.center.picture.verified.VerifiedRecord.marks_every` entries from the
    newest one there is (dropping those of another form first); how many sizes were written.
    A snapshot that does not check refuses the record and writes nothing."""
    record = verified_of(center)
    every = record.marks_every
    warm_record(center, threading.Event())  # what was appended since, verified first
    if record.refused is not None:
        return 0
    shape = form()
    with center.reading() as session:
        other = session.scalar(
            select(PictureSnapshot.size).where(PictureSnapshot.form != shape).limit(1)
        )
    if other is not None:  # written by another version: never read, dropped
        with center.writing() as unit:
            unit.session.execute(delete(PictureSnapshot).where(PictureSnapshot.form != shape))
    with center.reading() as session:
        newest = session.scalar(
            select(PictureSnapshot.size).order_by(PictureSnapshot.size.desc()).limit(1)
        )
        rows = (
            []
            if newest is None
            else session.scalars(
                select(PictureSnapshot).where(PictureSnapshot.size == newest)
            ).all()
        )
    start = 0 if newest is None else int(newest)
    last = (record.verified // every) * every
    if last <= start:
        return 0
    replays: dict[str, Replay] = {}
    authors: dict[int, str] = {}
    pending: dict[str, bytes] = {}  # objects set aside, written with the next snapshots
    load = _loader(center, pending)
    try:
        for row in rows:
            _checked(center, row, record)
            replays[row.member], kept = _decode(center, bytes(row.body))
            replays[row.member].load = load
            authors.update(kept)
    except (RecordDamaged, ValueError):
        return 0
    if NO_ONE not in replays:
        replays = {NO_ONE: Replay(center.agreement, center.origin)}
    written = 0
    for size in range(start + every, last + 1, every):
        with center.reading() as session:
            records, _ = record.read(verified_log(center, session), start=start, stop=size)
            if len(records) != size - start:
                return written
            for index, author in _classes(records):
                authors[index] = author
                if author not in replays:  # its first hidden entry: it folded as no one's
                    base = replays[NO_ONE]
                    replays[author], _ = _decode(center, _encode(base, authors, pending))
                    replays[author].load = load
            for member, replay in replays.items():
                owners = set() if member == NO_ONE else {member}
                replay.openings = hidden_openings(
                    session, records, owners=owners, cache=opened_cache(center)
                )
                replay.fold(records)
        root = record.root_at(size)
        if root is None:
            return written
        made = []
        for member, replay in replays.items():
            body = _encode(replay, authors, pending)
            objects = _objects(replay)
            signed = message(center.origin, member, size, root, shape, objects, body)
            made.append(
                PictureSnapshot(
                    size=size,
                    member=member,
                    root=root,
                    form=shape,
                    objects=objects,
                    body=body,
                    signature=center.keys.center().sign(signed),
                )
            )
        with center.writing() as unit:  # the same size from another node: the same rows
            for digest, stored in pending.items():
                unit.session.merge(PictureAside(digest=digest, body=stored))
            for row in made:
                unit.session.merge(row)
        pending.clear()
        start, written = size, written + 1
    return written


def check(center: Center) -> None:
    """At start-up: the newest snapshots checked (a tampered one refuses the record)."""
    record = verified_of(center)
    with center.reading() as session:
        newest = session.scalar(
            select(PictureSnapshot.size).order_by(PictureSnapshot.size.desc()).limit(1)
        )
        if newest is None:
            return
        rows = session.scalars(select(PictureSnapshot).where(PictureSnapshot.size == newest))
        for row in rows:
            if row.form == form():
                try:
                    _checked(center, row, record)
                except RecordDamaged:
                    return


async def keeper(center: Center, *, interval: float = 60.0) -> None:
    """A serving process's job: every ``interval`` seconds, :func:`keep` (a write another
    node made first, or a database away for a while, is logged and tried again next time)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(partial(keep, center))
        except SQLAlchemyError as error:
            _log.warning("the picture's snapshots were not kept this time: %s", error)
