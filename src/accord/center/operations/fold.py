"""How the picture's replay folds the record entries of operations
(:mod:`accord.center.operations.entries` declares each kind with its fold here): every
operation as the record tells it (:data:`OPERATIONS`) — the latest feature and conflicts,
the status each entry recorded and every step of its history.

A proposal or a report starts an operation; every other kind is a step of one already
started (:func:`step`, and the folds that add what their kind carries besides).

Conflicts too many for one entry continue in the center's ``operation.conflicts_continued``
entries right after it (:mod:`accord.record.continued`): the entry that carries the first
run says how many parts there are and how many conflicts in all, the operation awaits the
rest (:attr:`OperationRecord.awaiting`), and each part must be the next, of that entry, at
its place; the last must bring the count to the total. Until then no other step of the
operation fits, so the picture shows the whole list or says that the record is broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accord.agreement import Agreement, RuleKind
from accord.center.entry_kinds import Part, Recorded, Replaying
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

__all__ = [
    "ENDED_SHOWN",
    "OPERATIONS",
    "OperationRecord",
    "amended",
    "checked",
    "conflicts_continued",
    "conflicts_updated",
    "evidence_checked",
    "executed",
    "objected",
    "objection_withdrawn",
    "proposed",
    "reported",
    "shown_at",
    "step",
]


@dataclass(slots=True)
class Awaiting:
    """A conflict list continued over several entries, as far as it came: the entry that
    began it, the parts in all, the next part due and the number of conflicts in all."""

    entry: int
    parts: int
    next: int
    total: int


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
    checks: dict[str, str] = field(default_factory=dict)
    """Each party's commitment to what the center's check of the latest amendment showed it
    (``operation.checked``)."""
    checked_entry: int | None = None
    awaiting: Awaiting | None = None
    """The parts still due of a conflict list that continues over several entries."""

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

    def settles_next(self, agreement: Agreement, at: datetime) -> datetime | None:
        """The earliest instant from ``at`` on at which :meth:`settled` may answer otherwise
        than at ``at``; None when the passage of time changes nothing more."""
        state = self.state(agreement)
        if state is None:
            return None
        try:
            return rules.next_settled(agreement, state, at=at)
        except (ValueError, AccordError):
            return at  # nothing known of later: judged again at every instant


def _transition(t: Mapping[str, Any]) -> Transition:
    return Transition(
        parse_instant(t["at"]),
        t["actor"],
        t["action"],
        None if t.get("from") is None else OperationStatus(t["from"]),
        OperationStatus(t["to"]),
        t.get("detail") or "",
    )


CONTINUED, CONTINUES = "continued", "continues"
"""The members of a list continued across entries (:mod:`accord.record.continued`, named
here so that a fold stays state and functions: ``center-folds-plain``)."""

ENDED_SHOWN = timedelta(days=1)
"""How long an operation that ended stays in the picture: a day after it ended and after
the record last told of it. Older ones are the history, in the record and the operations'
own list; a picture at an instant of a week shows what was in course then."""


def shown_at(op: OperationRecord, agreement: Agreement, at: datetime) -> bool:
    """Whether a picture at ``at`` shows ``op``: unless a day has passed since the record
    last told of it (``updated_at``) and since it ended (reached a terminal status, by an
    entry or by time alone: :func:`accord.rules.operations.settle`). Once False it stays
    False at every later instant until another entry names it."""
    if at - op.updated_at <= ENDED_SHOWN:
        return True
    state = op.settled(agreement, at)
    if state is None or state.status not in rules.TERMINAL:
        return True
    end = state.history[-1].at if state.history else op.updated_at
    return at - end <= ENDED_SHOWN


def _ended(agreement: Agreement, op: OperationRecord, at: datetime) -> bool:
    return not shown_at(op, agreement, at)


OPERATIONS: Part[dict[str, OperationRecord]] = Part(
    "operations", dict, shape=dict[str, OperationRecord], done=_ended
)
"""Every operation the record tells of, by id (those :func:`shown_at` no more set aside:
:attr:`~accord.center.entry_kinds.Part.done`)."""


def _started(replay: Replaying, record: Recorded) -> OperationRecord | None:
    """A new operation from a proposal or a report, not yet kept (None: the id is taken)."""
    event = record.event
    op_id = str(event["operation"])
    if replay.known(OPERATIONS, op_id):
        return None
    feature = dict(event["feature"])
    return OperationRecord(
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
        history=list(event.get("transitions") or []),
        awaiting=_awaiting(record),
    )


def proposed(replay: Replaying, record: Recorded) -> bool:
    """``operation.proposed``: a new operation."""
    found = _started(replay, record)
    if found is None:
        return False
    replay.part(OPERATIONS)[found.id] = found
    return True


def reported(replay: Replaying, record: Recorded) -> bool:
    """``operation.reported``: a new operation, already executed (an imminent threat)."""
    event = record.event
    found = _started(replay, record)
    if found is None:
        return False
    found.executed_at = parse_instant(event["executed_at"])
    found.executed_by = record.author
    # A report notifies, unless it records an execution not yet notified.
    unnotified = found.status == OperationStatus.EXECUTED_UNILATERALLY.value
    found.notified_at = None if unnotified else record.at
    found.breaches = list(event.get("breaches") or [])
    replay.part(OPERATIONS)[found.id] = found
    return True


def _awaiting(record: Recorded) -> Awaiting | None:
    """The parts an entry's conflict list awaits (None: it is whole)."""
    event = record.event
    if CONTINUED not in event:
        return None
    parts, total = event[CONTINUED], event["conflicts_total"]
    if not (_count(parts) and parts >= 2 and _count(total) and total >= 0):
        raise ValueError(f"a list continued over {parts!r} parts, {total!r} in all")
    return Awaiting(record.index, parts, 2, total)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _stepped(replay: Replaying, record: Recorded) -> OperationRecord | None:
    """The operation ``record`` names, with the entry's status and steps applied (None:
    no such operation, or one whose conflicts still await parts)."""
    event = record.event
    found = replay.find(OPERATIONS, str(event["operation"]))
    if found is None or found.awaiting is not None:
        return None
    transitions = list(event.get("transitions") or [])
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
    return found


def step(replay: Replaying, record: Recorded) -> bool:
    """A step that carries nothing but the status and the history (an approval, a veto, a
    completion, a cancellation)."""
    return _stepped(replay, record) is not None


def amended(replay: Replaying, record: Recorded) -> bool:
    """``operation.amended``: a step, and the new feature, conflicts and version."""
    found = _stepped(replay, record)
    if found is None:
        return False
    event = record.event
    found.feature = dict(event["feature"])
    found.conflicts = list(event.get("conflicts") or [])
    found.awaiting = _awaiting(record)
    found.version = int(event.get("version", found.version + 1))
    return True


def conflicts_updated(replay: Replaying, record: Recorded) -> bool:
    """``operation.conflicts_updated``: a step, and the conflicts the center found anew."""
    found = _stepped(replay, record)
    if found is None:
        return False
    found.conflicts = list(record.event.get("conflicts") or [])
    found.awaiting = _awaiting(record)
    return True


def conflicts_continued(replay: Replaying, record: Recorded) -> bool:
    """``operation.conflicts_continued``: the next part of the conflicts of the operation's
    last entry — that entry's (``continues``), the part due (``part`` of ``parts``), at its
    place right after the parts before it; the last brings the list to its total."""
    event = record.event
    found = replay.find(OPERATIONS, str(event["operation"]))
    if found is None or found.awaiting is None:
        return False
    due = found.awaiting
    if (event[CONTINUES], event["part"], event["parts"]) != (due.entry, due.next, due.parts):
        return False
    if record.index != due.entry + due.next - 1 or not isinstance(event["conflicts"], list):
        return False
    found.conflicts.extend(event["conflicts"])
    due.next += 1
    if due.next > due.parts:
        found.awaiting = None
        return len(found.conflicts) == due.total
    return True


def objected(replay: Replaying, record: Recorded) -> bool:
    """``operation.objected``: a step, and the author's objection with its evidence."""
    found = _stepped(replay, record)
    if found is None:
        return False
    found.objections.append(
        Objection(record.author, record.at, str(record.event.get("evidence", "")))
    )
    return True


def objection_withdrawn(replay: Replaying, record: Recorded) -> bool:
    """``operation.objection_withdrawn``: a step, and the author's standing objection
    withdrawn."""
    found = _stepped(replay, record)
    if found is None:
        return False
    found.objections = [
        Objection(o.party, o.at, o.evidence, record.at)
        if o.party == record.author and o.standing
        else o
        for o in found.objections
    ]
    return True


def executed(replay: Replaying, record: Recorded) -> bool:
    """``operation.executed``: a step, and who executed it, when."""
    found = _stepped(replay, record)
    if found is None:
        return False
    found.executed_at = record.at
    found.executed_by = record.author
    return True


def _checked(replay: Replaying, record: Recorded) -> OperationRecord | None:
    """The known operation a center's check entry is about, when the center wrote it with a
    commitment for exactly every party of the agreement; else None."""
    event = record.event
    found = replay.find(OPERATIONS, str(event["id"]))
    commitments = event["checks"]
    if (
        found is None
        or record.author != replay.origin
        or not isinstance(commitments, dict)
        or set(commitments) != set(replay.agreement.party_ids)
    ):
        return None
    return found


def checked(replay: Replaying, record: Recorded) -> bool:
    """``operation.checked``: the center's check of an operation at its latest version, for
    every party of the agreement."""
    event = record.event
    found = _checked(replay, record)
    if found is None or event["version"] != found.version:
        return False
    found.checks = {str(k): str(v) for k, v in event["checks"].items()}
    found.checked_entry = record.index
    return True


def evidence_checked(replay: Replaying, record: Recorded) -> bool:
    """``operation.evidence_checked``: the center's check of the coordinates an objection
    to a known operation gave, for every party of the agreement, after that objection."""
    found = _checked(replay, record)
    objection = record.event["objection"]
    return found is not None and isinstance(objection, int) and objection in found.entries
