"""The picture at any time: what a caller could see at an instant, rebuilt from the record
alone, so that a dispute about "what did we know then" is settled by replay, not memory.

**Only the record.** :func:`read_record` reads the log's leaves in order and checks each one
as a verifier would: the envelope sits at its own index and names the hash of the leaf
before it, the entry is canonical JSON signed by its author's registered key for this log,
and every author's sequence numbers run 1, 2, 3, … A leaf that fails stops the replay with a
503 naming its index: a picture is never built from a record that does not verify. The
*prefix* used is the longest run of entries from the start whose signed time ``ts`` is at or
before the instant asked for (an entry written later, even one back-dated by the clock, was
not there yet). :class:`Replay` folds that prefix into declarations, operations, messages and
confirmations; the service's own tables (``declarations``, ``operations``, ``messages``) are
never read for state. The only other table read is ``openings``, and only to open a
commitment *the record holds*: the opening's content is used only when
:func:`~accord.record.commitments.verify_opening` accepts it against that commitment.
An entry about a hidden declaration (``declaration.hidden``) names no declaration: the
fold learns which one it changed, and how, from its opening alone, so one that does not
check is listed in ``unverified`` (its owner's picture) and changes nothing. An older
log's hidden entry (``declaration.created`` with a commitment to the feature) names its
declaration; one whose opening does not check is listed with ``feature`` null and
``verified`` false, never as verified.

**What each caller sees** (the same lines as the live resources):

* a party's officers and approvers: every ``shared`` declaration in force, their own
  member's ``center`` ones opened from the stored openings (other members' ``center``
  declarations do not appear at all, not even counted), every operation with its status at
  the instant and its conflicts as the record holds them (already cut for every reader),
  and the direct-line messages their party sent or received that were still open (not
  acknowledged by every recipient) with their content opened and checked;
* monitors: the ``shared`` declarations, every operation, and every open message's
  metadata (sender, recipients, times, acknowledgement and escalation state — what the
  record says), never content;
* notifiers: their own member's declarations and their acknowledgements only;
* administrators: nothing (403).

**Status at the instant.** Each operation entry records the status the step led to; time
alone (a window expiring, an objection window closing, a notification falling overdue)
moves an operation without an entry, so the folded state is settled to the instant with
:func:`accord.rules.operations.settle` — the same pure function the live resource uses.
``recorded_status`` is the status of the latest entry as written.

**Proof.** The answer names ``entries`` (the size of the prefix), the Merkle ``root`` of
that prefix, and a tree head signed by the center: the one stored at exactly that size when
there is one, else the latest (signed now if the log has grown). A party checks the root
against the head with a consistency proof (``GET /v1/record/proofs/consistency``) and can
replay the same prefix itself.
"""

from __future__ import annotations

import json
import logging
import threading
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement, RuleKind, phase_at
from accord.center import visibility
from accord.center.db.models import Opening
from accord.center.declarations.service import HIDDEN
from accord.center.entry_kinds import Signer, kind_named
from accord.center.http.problems import ProblemError
from accord.center.operations.service import transition_json
from accord.center.phases.views import PhaseOut
from accord.center.record.heads import latest_head
from accord.center.roles import Role
from accord.center.runtime import Center, CenterCache
from accord.center.users.identity import Caller
from accord.chrono import parse_instant
from accord.errors import AccordError
from accord.record.canonical import decode_base64, encode_base64
from accord.record.commitments import open_commitment, verify_opening
from accord.record.entries import SequenceTracker, open_envelope, verify_entry
from accord.record.errors import RecordError
from accord.record.keys import KeyRing
from accord.record.log import LogError, MerkleLog
from accord.record.merkle import leaf_hash
from accord.record.note import verify_checkpoint
from accord.rules import operations as rules
from accord.rules.operations import (
    Breach,
    Objection,
    OperationState,
    OperationStatus,
    Transition,
)
from accord.world import Disclosure

__all__ = [
    "OPENED",
    "VERIFIED",
    "HeadRef",
    "OpenedCache",
    "PictureOut",
    "Recorded",
    "Replay",
    "VerifiedRecord",
    "hidden_openings",
    "opened_cache",
    "picture",
    "proof",
    "read_record",
    "verified_of",
    "verified_opening",
    "verified_record",
    "warm_record",
]


_log = logging.getLogger("accord.center")


# --- reading the record ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recorded:
    """One verified entry: its index, author, signed time and event."""

    index: int
    author: str
    at: datetime
    event: Mapping[str, Any]


def _damaged(index: int, why: str) -> ProblemError:
    return ProblemError(
        503, f"the record does not verify at entry {index}: {why}", kind="record-damaged"
    )


class VerifiedRecord:
    """The record as this process has read and checked it, entry by entry, as
    :func:`read_record` does — but each entry once: a read verifies only the entries
    appended since the last one, after checking that the stored tree at the size already
    verified still has the root it had then (a rewritten log is a 503 on every read from
    then on). The entries are kept in memory, in log order: a picture or a compliance
    report at 100,000 entries reads its prefix in milliseconds instead of checking 100,000
    signatures each time (tens of seconds of one core, during which nothing else ran).

    What is served is always what was verified: the entries in memory, never the stored
    bytes read again. A party's own verifier (``accord verify``) still checks every entry.
    """

    def __init__(self, ring: KeyRing, origin: str) -> None:
        self._ring = ring
        self._origin = origin
        self._lock = threading.Lock()
        self._records: list[Recorded] = []
        self._latest: list[datetime] = []  # the latest signed time among entries 0..i
        self._tracker = SequenceTracker()
        self._prev = ""  # the hash (hex) of the last verified leaf
        self._root = b""  # the root of the verified prefix
        self._broken: tuple[int, str] | None = None  # the first entry that failed

    def read(self, log: MerkleLog, *, until: datetime | None = None) -> tuple[list[Recorded], int]:
        """What :func:`read_record` answers for ``log`` (read in the caller's transaction)."""
        with self._lock:
            self._extend(log, log.size)
            records = self._records
            cut = len(records) if until is None else bisect_right(self._latest, until)
            if cut == len(records) and self._broken is not None:
                raise _damaged(*self._broken)
            return records[:cut], cut

    @property
    def verified(self) -> int:
        """How many entries, from the first, have been verified."""
        return len(self._records)

    def extend(self, log: MerkleLog, *, most: int) -> bool:
        """Verify up to ``most`` more entries of ``log``; whether it is now all verified (or
        stopped at a bad entry, which every read will name)."""
        with self._lock:
            verified = len(self._records)
            self._extend(log, min(log.size, verified + most))
            return len(self._records) == log.size or self._broken is not None

    def _extend(self, log: MerkleLog, size: int) -> None:
        verified = len(self._records)
        if log.size < verified or (verified and log.root(verified) != self._root):
            raise ProblemError(
                503,
                f"the stored record changed: its first {verified} entries are not the ones "
                "this center verified",
                kind="record-damaged",
            )
        self._broken = None
        if size == verified:
            return
        try:
            self._verify(log.entries(verified, size))
        except LogError as error:  # a leaf missing from the store
            self._broken = (len(self._records), str(error))
        self._root = log.root(len(self._records))

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
            self._records.append(Recorded(i, entry.author, entry.ts, entry.event))
            latest = entry.ts if latest is None or entry.ts > latest else latest
            self._latest.append(latest)
            self._prev = leaf_hash(data).hex()


VERIFIED: CenterCache[VerifiedRecord] = CenterCache(
    "the verified record", lambda center: VerifiedRecord(center.ring, center.origin)
)
"""The key of each center's :class:`VerifiedRecord` (made with the center: see
:mod:`accord.center.bootstrap`)."""


def verified_of(center: Center) -> VerifiedRecord:
    """The service's :class:`VerifiedRecord` (one per service)."""
    return center.cache(VERIFIED)


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
                if cache.extend(center.log(session), most=step):
                    return
    except ProblemError as error:
        _log.error("the record does not verify: %s", error.detail)


def read_record(
    log: MerkleLog, ring: KeyRing, origin: str, *, until: datetime | None = None
) -> tuple[list[Recorded], int]:
    """The verified entries of the log's longest prefix whose entries were all signed at or
    before ``until`` (the whole log when None), and that prefix's size: the whole log read
    and checked at once, by a :class:`VerifiedRecord` of its own.

    Raises :class:`~accord.center.http.problems.ProblemError` (503, ``record-damaged``) naming
    the first leaf that is not chained, signed or sequenced as it must be.
    """
    return VerifiedRecord(ring, origin).read(log, until=until)


# --- folding --------------------------------------------------------------------------------


@dataclass(slots=True)
class Ack:
    """A party's receipt of one version of a notifier's declaration."""

    member: str
    version: int
    content_hash: str
    at: datetime
    entry: int


@dataclass(slots=True)
class DeclarationState:
    """A declaration as the record tells it: ``content`` for a ``shared`` one, only
    ``commitment`` (and the entry that holds it) for a ``center`` one; and ``opened``, a
    ``center`` one's feature as its ``declaration.hidden`` entry's opening holds it (the
    center's copy, checked against the entry's commitment before the fold read it). A
    ``center`` declaration of an older log (``declaration.created`` with a commitment to
    the feature alone) has ``opened`` None: its opening is checked where it is shown."""

    id: str
    kind: str
    owner: str
    disclosure: str
    version: int
    content: dict[str, Any] | None
    commitment: str | None
    entry: int
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None = None
    acks: list[Ack] = field(default_factory=list)
    opened: dict[str, Any] | None = None

    @property
    def in_force(self) -> bool:
        """Whether it has not been withdrawn."""
        return self.withdrawn_at is None


@dataclass(slots=True)
class OperationRecord:
    """An operation as the record tells it: the latest feature and conflicts, every step."""

    id: str
    category: str
    proposed_by: str
    feature: dict[str, Any]
    conflicts: list[dict[str, Any]]
    status: str
    version: int
    proposed_at: datetime
    updated_at: datetime
    entry: int
    entries: list[int]
    history: list[dict[str, Any]]
    objections: list[Objection] = field(default_factory=list)
    executed_at: datetime | None = None
    executed_by: str | None = None
    notified_at: datetime | None = None
    breaches: list[dict[str, Any]] = field(default_factory=list)

    def state(self, agreement: Agreement) -> OperationState | None:
        """The rules' state the record implies (None for a category the agreement does not
        know, or a record too damaged to read one)."""
        try:
            rule = RuleKind(agreement.category(self.category).rule)
            props = self.feature["properties"]
            executors = props.get("executor") or [self.proposed_by]
            return OperationState(
                id=self.id,
                category=self.category,
                rule=rule,
                proposed_by=self.proposed_by,
                executors=tuple(executors),
                window_start=parse_instant(props["window_start"]),
                window_end=parse_instant(props["window_end"]),
                status=OperationStatus(self.status),
                proposed_at=self.proposed_at,
                objections=tuple(self.objections),
                executed_at=self.executed_at,
                executed_by=self.executed_by,
                notified_at=self.notified_at,
                history=tuple(_transition(t) for t in self.history),
                breaches=tuple(
                    Breach(b["kind"], b["party"], parse_instant(b["at"]), b["detail"])
                    for b in self.breaches
                ),
            )
        except (KeyError, ValueError, TypeError):
            return None

    def settled(self, agreement: Agreement, at: datetime) -> OperationState | None:
        """:meth:`state` with the passage of time applied up to ``at``."""
        state = self.state(agreement)
        if state is None:
            return None
        try:
            return rules.settle(agreement, state, at=at)
        except (ValueError, AccordError):
            return state


def _transition(t: Mapping[str, Any]) -> Transition:
    return Transition(
        parse_instant(t["at"]),
        t["actor"],
        t["action"],
        None if t.get("from") is None else OperationStatus(t["from"]),
        OperationStatus(t["to"]),
        t.get("detail") or "",
    )


@dataclass(slots=True)
class Step:
    """An escalation step of one recipient, as the center recorded it."""

    kind: str
    level: int
    at: datetime
    role: str | None
    entry: int


@dataclass(slots=True)
class Receipt:
    """A recipient's acknowledgement: when, the hash it named, its entry."""

    at: datetime
    content_hash: str
    entry: int


@dataclass(slots=True)
class MessageRecord:
    """A direct-line message as the record tells it (a commitment, never the content)."""

    id: str
    sender: str
    to: list[str]
    sent_at: datetime
    ack_deadline: datetime
    entry: int
    commitment: str
    receipts: dict[str, Receipt] = field(default_factory=dict)
    steps: dict[str, list[Step]] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        """Whether some recipient has not acknowledged it."""
        return any(party not in self.receipts for party in self.to)


class Replay:
    """The record folded entry by entry. Entries that do not fit (an amendment by someone
    other than the owner, a step about an unknown object) are kept in ``anomalies`` by index
    and change nothing.

    A ``declaration.hidden`` entry says only that its author changed a hidden declaration;
    which one, and how, is in its opening. ``openings`` maps an entry's index to the
    content of its opening, *already checked against that entry's commitment*
    (:func:`hidden_openings`); a hidden entry without one is kept in ``unopened`` and
    changes nothing (the fold cannot tell what it changed)."""

    def __init__(
        self,
        agreement: Agreement,
        origin: str,
        openings: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> None:
        self.agreement = agreement
        self.origin = origin
        self.openings: Mapping[int, Mapping[str, Any]] = openings or {}
        self.declarations: dict[str, DeclarationState] = {}
        self.operations: dict[str, OperationRecord] = {}
        self.messages: dict[str, MessageRecord] = {}
        self.confirmations: dict[str, datetime] = {}
        self.anomalies: list[int] = []
        self.reasons: dict[int, str] = {}
        self.unopened: list[int] = []
        self.entries = 0

    def fold(self, records: list[Recorded]) -> Replay:
        """Apply ``records`` in order; returns self."""
        for record in records:
            self.apply(record)
        return self

    def apply(self, record: Recorded) -> None:
        """Apply one entry: dispatched on its registered kind
        (:mod:`accord.center.entry_kinds`). An unknown kind, fields the kind does not have,
        the wrong signer (a member's act signed by the center, or the reverse) or a step
        that does not fit what came before is an anomaly (:attr:`anomalies`, with the reason
        in :attr:`reasons`); a registered kind the picture does not fold (alerts, users,
        probing) changes nothing."""
        self.entries = record.index + 1
        name = str(record.event.get("kind", ""))
        spec = kind_named(name)
        if spec is None:
            self._anomaly(record, f"an unknown kind of entry, {name[:64]!r}")
            return
        wrong = spec.problems(record.event)
        if wrong:
            self._anomaly(record, f"a {name} entry with {'; '.join(wrong)}")
            return
        by_center = record.author == self.origin
        if by_center != (spec.signer is Signer.CENTER):
            self._anomaly(record, f"a {name} entry signed by {record.author}")
            return
        if not spec.folded:
            return
        try:
            ok = FOLDS[name](self, record)
        except (KeyError, ValueError, TypeError, AttributeError):
            ok = False
        if not ok:
            self._anomaly(record, f"a {name} entry that does not fit the entries before it")

    def _anomaly(self, record: Recorded, reason: str) -> None:
        self.anomalies.append(record.index)
        self.reasons[record.index] = reason

    # declarations

    def _declaration(self, record: Recorded, change: str) -> bool:
        event = record.event
        object_id = str(event["id"])
        found = self.declarations.get(object_id)
        if change == "created":
            if found is not None:
                return False
            self.declarations[object_id] = DeclarationState(
                id=object_id,
                kind=str(event["object_kind"]),
                owner=record.author,
                disclosure=str(event["disclosure"]),
                version=int(event["version"]),
                content=event.get("content"),
                commitment=event.get("commitment"),
                entry=record.index,
                declared_at=record.at,
                updated_at=record.at,
            )
            return True
        if found is None:
            return False
        if change == "acknowledged":
            found.acks.append(
                Ack(
                    record.author,
                    int(event["version"]),
                    str(event["content_hash"]),
                    record.at,
                    record.index,
                )
            )
            return True
        if record.author != found.owner or not found.in_force:
            return False
        if change == "amended":
            found.version = int(event["version"])
            found.content = event.get("content")
            found.commitment = event.get("commitment")
            found.opened = None
            found.entry = record.index
            found.updated_at = record.at
            return True
        if change == "withdrawn":
            found.withdrawn_at = record.at
            found.updated_at = record.at
            return True
        return False

    def _hidden(self, record: Recorded) -> bool:
        """A ``declaration.hidden`` entry, folded from its checked opening."""
        opened = self.openings.get(record.index)
        if opened is None:
            self.unopened.append(record.index)
            return True
        action, object_id = str(opened["action"]), str(opened["id"])
        kind, version = str(opened["object_kind"]), int(opened["version"])
        content = opened["content"]
        if not isinstance(content, dict):
            return False
        found = self.declarations.get(object_id)
        committed = str(record.event["commitment"])
        if action == "created":
            if found is not None or version != 1:
                return False
            self.declarations[object_id] = DeclarationState(
                id=object_id,
                kind=kind,
                owner=record.author,
                disclosure=Disclosure.CENTER.value,
                version=version,
                content=None,
                commitment=committed,
                entry=record.index,
                declared_at=record.at,
                updated_at=record.at,
                opened=dict(content),
            )
            return True
        if (
            found is None
            or record.author != found.owner
            or not found.in_force
            or found.disclosure != Disclosure.CENTER.value
            or found.kind != kind
        ):
            return False
        if action == "amended" and version == found.version + 1:
            found.version = version
            found.commitment = committed
            found.opened = dict(content)
            found.entry = record.index
            found.updated_at = record.at
            return True
        if action == "withdrawn" and version == found.version:
            found.withdrawn_at = record.at
            found.updated_at = record.at
            return True
        return False

    # operations

    def _operation(self, record: Recorded, change: str) -> bool:
        event = record.event
        op_id = str(event["operation"])
        found = self.operations.get(op_id)
        transitions = list(event.get("transitions") or [])
        if change in ("proposed", "reported"):
            if found is not None:
                return False
            feature = dict(event["feature"])
            found = OperationRecord(
                id=op_id,
                category=str(feature["properties"]["category"]),
                proposed_by=record.author,
                feature=feature,
                conflicts=list(event.get("conflicts") or []),
                status=str(event["status"]),
                version=1,
                proposed_at=record.at,
                updated_at=record.at,
                entry=record.index,
                entries=[record.index],
                history=transitions,
            )
            if change == "reported":
                found.executed_at = parse_instant(event["executed_at"])
                found.executed_by = record.author
                # A report notifies, unless it records an execution not yet notified.
                unnotified = found.status == OperationStatus.EXECUTED_UNILATERALLY.value
                found.notified_at = None if unnotified else record.at
                found.breaches = list(event.get("breaches") or [])
            self.operations[op_id] = found
            return True
        if found is None:
            return False
        found.status = str(event["status"])
        found.updated_at = record.at
        found.entry = record.index
        found.entries.append(record.index)
        found.history.extend(transitions)
        for t in transitions:
            if t.get("action") == "breach":
                found.breaches.append(
                    {"kind": "missing_notification", "party": found.proposed_by}
                    | {"at": t["at"], "detail": t.get("detail") or ""}
                )
        if change == "amended":
            found.feature = dict(event["feature"])
            found.conflicts = list(event.get("conflicts") or [])
            found.version = int(event.get("version", found.version + 1))
        elif change == "conflicts_updated":
            found.conflicts = list(event.get("conflicts") or [])
        elif change == "objected":
            found.objections.append(
                Objection(record.author, record.at, str(event.get("evidence", "")))
            )
        elif change == "objection_withdrawn":
            found.objections = [
                Objection(o.party, o.at, o.evidence, record.at)
                if o.party == record.author and o.standing
                else o
                for o in found.objections
            ]
        elif change == "executed":
            found.executed_at = record.at
            found.executed_by = record.author
        return True

    # the direct line

    def _message(self, record: Recorded, change: str) -> bool:
        event = record.event
        message_id = str(event["id"])
        found = self.messages.get(message_id)
        if change == "sent":
            if found is not None or event["from"] != record.author:
                return False
            self.messages[message_id] = MessageRecord(
                id=message_id,
                sender=record.author,
                to=[str(p) for p in event["to"]],
                sent_at=parse_instant(event["sent_at"]),
                ack_deadline=parse_instant(event["ack_deadline"]),
                entry=record.index,
                commitment=str(event["commitment"]),
            )
            return True
        if found is None:
            return False
        if change == "acknowledged":
            if record.author not in found.to or record.author in found.receipts:
                return False
            found.receipts[record.author] = Receipt(
                record.at, str(event["content_hash"]), record.index
            )
            return True
        if change in ("escalated", "overdue") and record.author == self.origin:
            party = str(event["to"])
            found.steps.setdefault(party, []).append(
                Step(change, int(event["level"]), record.at, event.get("role"), record.index)
            )
            return True
        return False

    # phases

    def _confirmation(self, record: Recorded) -> bool:
        condition = str(record.event["condition"])
        spec = {c.id: c for c in self.agreement.conditions}.get(condition)
        if spec is None or record.author not in spec.confirmed_by:
            return False
        if condition not in self.confirmations or record.at < self.confirmations[condition]:
            self.confirmations[condition] = record.at
        return True


# --- openings -------------------------------------------------------------------------------

_CHUNK = 500  # entries per read of openings (SQLite allows 32766 parameters)


class OpenedCache:
    """Openings already checked against their entry, by ``(index, commitment)``: an opening
    that opened a verified entry's commitment once opens it for good, so each is read and
    checked once per process. Only checked openings are kept; one that did not check is
    read again next time (it may have been repaired)."""

    def __init__(self) -> None:
        self._opened: dict[tuple[int, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, index: int, committed: str) -> dict[str, Any] | None:
        """The checked opening of entry ``index`` with commitment ``committed``, if kept."""
        return self._opened.get((index, committed))

    def put(self, index: int, committed: str, opened: dict[str, Any]) -> None:
        """Keep an opening that was checked against that entry's commitment."""
        with self._lock:
            self._opened[(index, committed)] = opened


OPENED: CenterCache[OpenedCache] = CenterCache("the checked openings", lambda _: OpenedCache())
"""The key of each center's :class:`OpenedCache` (made with the center: see
:mod:`accord.center.bootstrap`)."""


def _fold(
    method: Callable[[Replay, Recorded, str], bool], change: str
) -> Callable[[Replay, Recorded], bool]:
    return lambda replay, record: method(replay, record, change)


FOLDS: dict[str, Callable[[Replay, Recorded], bool]] = {
    HIDDEN: Replay._hidden,
    "condition.confirmed": Replay._confirmation,
    **{
        f"declaration.{c}": _fold(Replay._declaration, c)
        for c in ("created", "amended", "withdrawn", "acknowledged")
    },
    **{
        f"operation.{c}": _fold(Replay._operation, c)
        for c in (
            "proposed",
            "amended",
            "reported",
            "conflicts_updated",
            "approved",
            "vetoed",
            "objected",
            "objection_withdrawn",
            "executed",
            "completed",
            "cancelled",
        )
    },
    **{
        f"message.{c}": _fold(Replay._message, c)
        for c in ("sent", "acknowledged", "escalated", "overdue")
    },
}
"""How the picture folds each registered kind it folds (``folded=True``); the tests hold
the two lists equal."""


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
    trusted: :class:`Replay` then counts its entry as ``unopened``. ``cache``: openings
    checked before (and where those checked now are kept)."""
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
    row = session.scalar(select(Opening).where(Opening.entry == entry, Opening.owner == owner))
    if row is None:
        return None
    try:
        content = json.loads(row.content)
        verify_opening(
            commitment=decode_base64(committed, what="commitment"),
            content=content,
            salt=bytes(row.salt),
        )
    except (RecordError, ValueError, TypeError):
        return None
    return content


# --- the answer -----------------------------------------------------------------------------


class HeadRef(BaseModel):
    """The prefix a picture was built from, and a tree head signed by the center to check
    it against: at exactly that size when one was signed, else the latest."""

    entries: int
    root: str
    head_size: int
    head_root: str
    head_timestamp: int
    note: str


class AckOut(BaseModel):
    """A party's receipt of one version of a notifier's declaration."""

    member: str
    version: int
    content_hash: str
    at: datetime
    entry: int


class DeclarationAt(BaseModel):
    """A declaration in force at the instant. ``verified``: the feature is the signed
    record's own (``shared``) or an opening that checks against the record's commitment
    (``center``); an opening that does not check gives ``feature`` null."""

    id: str
    kind: str
    owner: str
    disclosure: str
    version: int
    feature: dict[str, Any] | None
    verified: bool
    commitment: str | None
    declared_at: datetime
    updated_at: datetime
    entry: int
    acknowledgements: list[AckOut]


class OperationAt(BaseModel):
    """An operation at the instant: ``status`` settled to it, ``recorded_status`` as its
    latest entry wrote it; conflicts as the record holds them."""

    id: str
    category: str
    proposed_by: str
    status: str
    recorded_status: str
    version: int
    feature: dict[str, Any]
    conflicts: list[dict[str, Any]]
    proposed_at: datetime
    updated_at: datetime
    entry: int
    entries: list[int]
    history: list[dict[str, Any]]


class RecipientAt(BaseModel):
    """Where one recipient stood at the instant."""

    party: str
    acknowledged_at: datetime | None
    acknowledged_hash: str | None
    acknowledged_entry: int | None
    level: int
    overdue: bool
    escalations: list[int]


class MessageAt(BaseModel):
    """An open direct-line message at the instant. ``content`` (opened and checked against
    the record's commitment) for its sender and recipients; null for monitors, and null
    with ``verified`` false when the opening does not check."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    to: list[str]
    sent_at: datetime
    ack_deadline: datetime
    entry: int
    commitment: str
    content: dict[str, Any] | None
    verified: bool | None
    recipients: list[RecipientAt]


class AnomalyAt(BaseModel):
    """A record entry the picture could not fold, and why."""

    entry: int
    reason: str


class PictureOut(BaseModel):
    """What the caller could see at ``at``, rebuilt from the record alone."""

    at: datetime
    member: str
    view: str = Field(description="party, shared (monitors) or own (notifiers)")
    proof: HeadRef
    phase: PhaseOut | None
    confirmations: dict[str, datetime]
    declarations: list[DeclarationAt]
    unverified: list[int] = Field(
        description=(
            "record entries about the caller's member's own hidden declarations whose "
            "opening, as the center keeps it, does not check against the entry: the "
            "picture cannot say which declaration they changed, nor how"
        )
    )
    operations: list[OperationAt]
    messages: list[MessageAt]
    anomalies: list[AnomalyAt] = Field(
        description=(
            "record entries the picture could not fold, each with why: a kind no feature "
            "declares, fields its kind does not have, a member's act signed by the center "
            "(or the reverse), or a step that does not fit the entries before it"
        )
    )


def _view_of(caller: Caller) -> str:
    if caller.role in (Role.OFFICER, Role.APPROVER):
        return "party"
    if caller.role is Role.MONITOR:
        return "shared"
    if caller.role is Role.NOTIFIER:
        return "own"
    raise ProblemError(403, "an administrator registers people; it has no picture")


def proof(center: Center, size: int) -> HeadRef:
    """The root of the prefix of ``size`` entries and the signed head to check it against."""
    with center.reading() as session:
        log = center.log(session)
        root = log.root(size)
        stored = next((h for h in log.heads() if h.size == size), None)
    head = (
        latest_head(center)
        if stored is None
        else verify_checkpoint(stored.note, origin=center.origin, center=center.ring.center)
    )
    return HeadRef(
        entries=size,
        root=encode_base64(root),
        head_size=head.size,
        head_root=encode_base64(head.root),
        head_timestamp=head.timestamp,
        note=head.note,
    )


def _declarations(session: Session, replay: Replay, caller: Caller) -> Iterator[DeclarationAt]:
    for d in sorted(replay.declarations.values(), key=lambda d: d.id):
        if not d.in_force or not visibility.sees_object(
            caller, owner=d.owner, disclosure=d.disclosure
        ):
            continue
        feature: dict[str, Any] | None
        if visibility.in_clear(d.disclosure):
            feature, verified = d.content, d.content is not None
        elif d.opened is not None:  # checked against the record when folded
            feature, verified = d.opened, True
        else:
            opened = (
                None
                if d.commitment is None
                else verified_opening(session, d.owner, d.entry, d.commitment)
            )
            feature = opened if isinstance(opened, dict) else None
            verified = feature is not None
        acks = [
            a
            for a in d.acks
            if visibility.sees_acknowledgement(caller, owner=d.owner, acknowledger=a.member)
        ]
        yield DeclarationAt(
            id=d.id,
            kind=d.kind,
            owner=d.owner,
            disclosure=d.disclosure,
            version=d.version,
            feature=feature,
            verified=verified,
            commitment=d.commitment,
            declared_at=d.declared_at,
            updated_at=d.updated_at,
            entry=d.entry,
            acknowledgements=[
                AckOut(
                    member=a.member,
                    version=a.version,
                    content_hash=a.content_hash,
                    at=a.at,
                    entry=a.entry,
                )
                for a in acks
            ],
        )


def _operations(replay: Replay, at: datetime) -> Iterator[OperationAt]:
    for op in sorted(replay.operations.values(), key=lambda o: (o.proposed_at, o.id)):
        state = op.settled(replay.agreement, at)
        history = list(op.history)
        if state is not None and len(state.history) > len(history):
            history += [transition_json(t) for t in state.history[len(history) :]]
        yield OperationAt(
            id=op.id,
            category=op.category,
            proposed_by=op.proposed_by,
            status=op.status if state is None else state.status.value,
            recorded_status=op.status,
            version=op.version,
            feature=op.feature,
            conflicts=op.conflicts,
            proposed_at=op.proposed_at,
            updated_at=op.updated_at,
            entry=op.entry,
            entries=list(op.entries),
            history=history,
        )


def _messages(session: Session, replay: Replay, caller: Caller) -> Iterator[MessageAt]:
    for m in sorted(replay.messages.values(), key=lambda m: (m.sent_at, m.id)):
        if not m.open or not visibility.sees_message(caller, sender=m.sender, recipients=m.to):
            continue
        content: dict[str, Any] | None = None
        verified: bool | None = None
        if visibility.reads_message_content(caller, sender=m.sender, recipients=m.to):
            opened = verified_opening(session, m.sender, m.entry, m.commitment)
            content = opened if isinstance(opened, dict) else None
            verified = content is not None
        recipients = []
        for party in m.to:
            receipt = m.receipts.get(party)
            steps = m.steps.get(party, [])
            recipients.append(
                RecipientAt(
                    party=party,
                    acknowledged_at=None if receipt is None else receipt.at,
                    acknowledged_hash=None if receipt is None else receipt.content_hash,
                    acknowledged_entry=None if receipt is None else receipt.entry,
                    level=max((s.level for s in steps), default=0),
                    overdue=any(s.kind == "overdue" for s in steps),
                    escalations=[s.entry for s in steps],
                )
            )
        yield MessageAt(
            id=m.id,
            from_=m.sender,
            to=list(m.to),
            sent_at=m.sent_at,
            ack_deadline=m.ack_deadline,
            entry=m.entry,
            commitment=m.commitment,
            content=content,
            verified=verified,
            recipients=recipients,
        )


def replay_until(center: Center, until: datetime | None) -> Replay:
    """The record (its prefix up to ``until``) read, checked and folded."""
    with center.reading() as session:
        records, _ = verified_record(center, center.log(session), until=until)
        opened = hidden_openings(session, records, cache=opened_cache(center))
    return Replay(center.agreement, center.origin, opened).fold(records)


def picture(center: Center, caller: Caller, at: datetime) -> PictureOut:
    """What ``caller`` could see at ``at``, from the record's prefix up to ``at``.

    Raises :class:`~accord.center.http.problems.ProblemError` 403 for an administrator and 503
    when the record does not verify.
    """
    view = _view_of(caller)
    with center.reading() as session:
        records, size = verified_record(center, center.log(session), until=at)
        # Only the caller's member's hidden declarations are shown: only theirs are opened.
        owned = hidden_openings(
            session, records, owners={caller.member}, cache=opened_cache(center)
        )
        replay = Replay(center.agreement, center.origin, owned).fold(records)
        declarations = list(_declarations(session, replay, caller))
        messages = list(_messages(session, replay, caller))
    operations = [] if view == "own" else list(_operations(replay, at))
    return PictureOut(
        at=at,
        member=caller.member,
        view=view,
        proof=proof(center, size),
        phase=PhaseOut.of(phase_at(center.agreement, at, replay.confirmations)),
        confirmations=dict(replay.confirmations),
        declarations=declarations,
        unverified=[
            i for i in replay.unopened if view == "party" and records[i].author == caller.member
        ],
        operations=operations,
        messages=messages,
        anomalies=[AnomalyAt(entry=i, reason=replay.reasons[i]) for i in replay.anomalies],
    )
