"""The record folded into state: :class:`Replay` applies verified entries
(:mod:`accord.center.picture.verified`) in order, dispatching each registered kind it folds
(:mod:`accord.center.entry_kinds`, ``folded=True``) through :data:`FOLDS`, into
declarations, operations, direct-line messages and condition confirmations. The service's
own tables (``declarations``, ``operations``, ``messages``) are never read for state.

An entry about a hidden declaration (``declaration.hidden``) names no declaration: the fold
learns which one it changed, and how, from its opening alone (checked against the entry's
commitment before the fold reads it), so one that does not check is kept in
:attr:`Replay.unopened` and changes nothing. An older log's hidden entry
(``declaration.created`` with a commitment to the feature) names its declaration; its
opening is checked where it is shown. An entry that does not fit (an unknown kind, fields
its kind does not have, the wrong signer, a step that does not follow from the entries
before it) is an anomaly, with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accord.agreement import Agreement, RuleKind
from accord.center.declarations.entries import HIDDEN
from accord.center.entry_kinds import Recorded, Signer, kind_named
from accord.center.picture.verified import hidden_openings, opened_cache, verified_record
from accord.center.runtime import Center
from accord.chrono import parse_instant
from accord.errors import AccordError
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
    "FOLDS",
    "Ack",
    "DeclarationState",
    "MessageRecord",
    "OperationRecord",
    "Receipt",
    "Replay",
    "Step",
    "replay_until",
]


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
    (:func:`~accord.center.picture.verified.hidden_openings`); a hidden entry without one
    is kept in ``unopened`` and changes nothing (the fold cannot tell what it changed)."""

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


def replay_until(center: Center, until: datetime | None) -> Replay:
    """The record (its prefix up to ``until``) read, checked and folded."""
    with center.reading() as session:
        records, _ = verified_record(center, center.log(session), until=until)
        opened = hidden_openings(session, records, cache=opened_cache(center))
    return Replay(center.agreement, center.origin, opened).fold(records)
