"""The tail a restored record lacks, recovered from the parties' monitors' copies.

A backup is the record up to the instant it was taken; the center wrote on after it, and
the witnesses may have cosigned heads past it. DECISIONS 14: a restored center serves
nothing until it holds every entry up to the largest head a witness cosigned, "fetched, if
needed, from a party's monitor". A monitor's state folder holds the party's own copy of the
record (:mod:`accord.monitor.state`: ``log.sqlite``, every leaf it verified and the
center's signed heads it verified them against) and the openings of the party's own
commitments it checked (``openings.jsonl``).

What :func:`recover` trusts of a copy, nothing it has not checked:

* its latest head must be signed by this center's key for this log
  (:func:`~accord.record.note.verify_checkpoint`) and be the root of the copy's leaves;
* its first leaves must be the backup's: the copy's root at the backup's size must be the
  backup's root (a copy that disagrees is a split view, and the restore stops: both are
  evidence);
* every copy given must agree with the others, on the shorter's length;
* the leaves taken from it (up to its latest signed head, never past it) are appended and
  verified as any record is (chained to the backup's last, signed, sequenced: the backup's
  verification carried on);
* an opening is used only if it opens its entry's commitment
  (:meth:`~accord.center.recovery.redo.Redoing.opened`).

Then each recovered entry is redone on the tables (:mod:`accord.center.recovery.redo`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.entry_kinds import Recorded
from accord.center.recovery.redo import Redoing, Redone, redo_entries
from accord.errors import BackupError, RecordDamaged, RecordError
from accord.monitor.state import LOG_FILE, OPENINGS_FILE, Opening, read_openings
from accord.record.entries import open_envelope
from accord.record.keys import KeyRing
from accord.record.log import LogHead, MerkleLog
from accord.record.note import verify_checkpoint

__all__ = ["Recovered", "recover"]


@dataclass(frozen=True, slots=True)
class Recovered:
    """What :func:`recover` did: how many entries it appended and redid, up to which signed
    head, and what it could not redo (:attr:`Redoing.notes`)."""

    entries: int
    size: int
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Copy:
    where: Path
    log: MerkleLog
    head: LogHead
    openings: tuple[Opening, ...]


def recover(
    connection: Connection,
    log: MerkleLog,
    *,
    ring: KeyRing,
    agreement: Agreement,
    copies: Sequence[Path],
    read: Callable[[MerkleLog, int], tuple[list[Recorded], int]],
    without_openings: Collection[str] = (),
) -> Recovered:
    """Append to ``log`` (the restored record, on ``connection``'s transaction) the entries
    the longest of the monitors' ``copies`` holds past it, checked as the module docstring
    says, and redo them on the tables. ``read(log, start)``: the record verified up to its
    top and its entries from ``start`` (a :class:`~accord.center.picture.verified.
    VerifiedRecord` that verified the backup already checks only what was appended).

    A hidden declaration changed, or a message sent, in the tail whose opening no copy
    holds refuses the recovery, naming its owner, unless the owner is in
    ``without_openings`` (the operator restores knowingly without: those declarations stay
    as the backup holds them, those messages are not restored, and their owner declares
    and sends them again). Raises :class:`BackupError` (the caller rolls back)."""
    origin, size = log.origin, log.size
    root = log.root(size) if size else b""
    opened: list[_Copy] = []
    try:
        for where in copies:
            opened.append(_open(Path(where), origin=origin, ring=ring))
        usable = [copy for copy in opened if _agrees(copy, log, size=size, root=root)]
        usable.sort(key=lambda copy: copy.head.size, reverse=True)
        for shorter in usable[1:]:
            at = shorter.head.size
            if at and usable[0].log.root(at) != shorter.log.root(at):
                raise BackupError(
                    f"{usable[0].where} and {shorter.where} disagree on the first {at:,} "
                    "entries: the center showed them different records (a split view); "
                    "keep both as evidence"
                )
        if not usable or usable[0].head.size <= size:
            return Recovered(0, size, ())
        longest = usable[0]
        leaves = [data for _, data in longest.log.entries(size, longest.head.size)]
        openings = {o.entry: o for copy in usable for o in copy.openings if o.entry >= size}
    finally:
        for copy in opened:
            copy.log.close()
    log.append_many(leaves)  # each leaf hashed afresh from its bytes (RFC 9162 §2.1.1)
    head = longest.head
    if log.root(head.size) != head.root:
        raise BackupError(
            f"{longest.where}: its leaves are not the ones its latest head signs (a leaf's "
            "bytes do not hash to the tree the center signed): the copy was altered"
        )
    log.add_head(head.size, head.root, head.timestamp, head.note)
    try:
        recorded, verified = read(log, size)
    except RecordDamaged as error:
        raise BackupError(
            f"the record with the monitor's entries does not verify: {error}"
        ) from error
    if verified != log.size:
        raise BackupError(f"the record with the monitor's entries verifies to {verified} only")
    with Session(bind=connection, autoflush=True, expire_on_commit=False) as session:
        context = Redoing(session, agreement, origin, openings)
        redone = redo_entries(context, _redone(leaves, recorded))
    missing = {o: ix for o, ix in context.unopened.items() if o not in without_openings}
    if missing:
        said = "; ".join(
            f"{owner}'s in {_entries(len(ix))} (the first: entry {ix[0]})"
            for owner, ix in sorted(missing.items())
        )
        raise BackupError(
            "hidden declarations or messages changed in the recovered entries, and no "
            f"opening of them was handed back: {said}. Give that party's monitor's state "
            "folder (--from-monitor), or restore knowingly without them (--without-openings "
            "PARTY: those declarations stay as the backup holds them and those messages are "
            "not restored; the party declares and sends them again)"
        )
    notes = list(context.notes)
    for owner, ix in sorted(context.unopened.items()):
        notes.append(
            f"{owner}'s hidden declarations or messages changed in {_entries(len(ix))} not "
            f"rebuilt (restored without their openings): {owner} declares or sends them again"
        )
    return Recovered(redone, log.size, tuple(notes))


def _entries(count: int) -> str:
    return f"{count:,} entr{'y' if count == 1 else 'ies'}"


def _open(where: Path, *, origin: str, ring: KeyRing) -> _Copy:
    file = where / LOG_FILE if where.is_dir() else where
    if not file.is_file():
        raise BackupError(f"{where}: no monitor's copy of the record ({LOG_FILE}) there")
    try:
        log = MerkleLog.open(file, origin, read_only=True)
    except (RecordError, OSError, ValueError) as error:
        raise BackupError(f"{file} is not a copy of this record: {error}") from error
    try:
        head = log.latest_head()
        if head is None:
            raise BackupError(f"{file} holds no head the center signed")
        try:
            signed = verify_checkpoint(head.note, origin=origin, center=ring.center)
        except RecordError as error:
            raise BackupError(f"{file}: its latest head is not this center's: {error}") from error
        if signed.size != head.size or signed.root != head.root:
            raise BackupError(f"{file}: its latest head's note is not its head")
        if head.size > log.size or log.root(head.size) != head.root:
            raise BackupError(f"{file}: its leaves are not the ones its latest head signs")
        try:
            openings = read_openings(where / OPENINGS_FILE) if where.is_dir() else ()
        except ValueError as error:
            raise BackupError(str(error)) from error
        return _Copy(where, log, head, openings)
    except BaseException:
        log.close()
        raise


def _agrees(copy: _Copy, log: MerkleLog, *, size: int, root: bytes) -> bool:
    """Whether ``copy`` reaches past the backup's ``size`` entries (False: it adds nothing);
    :class:`BackupError` when it disagrees with the backup (``log``) on the entries both
    hold."""
    if copy.head.size <= size:
        if copy.head.size and log.root(copy.head.size) != copy.head.root:
            raise BackupError(
                f"{copy.where} disagrees with the backup on its first {copy.head.size:,} "
                "entries: the center showed that monitor another record (a split view); keep "
                "both as evidence"
            )
        return False
    if size and copy.log.root(size) != root:
        raise BackupError(
            f"{copy.where} disagrees with the backup on its first {size:,} entries: the "
            "center showed that monitor another record (a split view); keep both as evidence"
        )
    return True


def _redone(leaves: Sequence[bytes], recorded: Sequence[Recorded]) -> list[Redone]:
    """The recovered entries as redo takes them: each verified entry with its sequence
    number and, for a member's act, the act (named by ``{"of": i}`` in all but its first)."""
    acts: dict[int, Mapping[str, Any]] = {}
    out = []
    for leaf, entry in zip(leaves, recorded, strict=True):
        index, _, data = open_envelope(leaf)
        if index != entry.index:
            raise BackupError(f"leaf {entry.index} says it is entry {index}")
        parsed = json.loads(data)
        act = parsed.get("act")
        holds = isinstance(act, Mapping) and "signed" in act
        if holds:
            acts[index] = act
        elif isinstance(act, Mapping):
            act = acts.get(int(act["of"]))
            if act is None:
                raise BackupError(f"entry {index} names the act of an entry not recovered")
        out.append(
            Redone(entry.index, entry.author, int(parsed["seq"]), entry.at, entry.event,
                   act, holds)
        )  # fmt: skip
    return out
