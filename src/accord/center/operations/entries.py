"""The record entries of operations: their kinds, who signs each step, and the entry a step
appends.

Every change is one entry signed by the acting party — or by the center, for its own
re-check (``operation.conflicts_updated``, actor :data:`CENTER`). An entry names the
operation, the user, the status after the step and the steps it added to the history
(:func:`transition_json`, as the picture spells them too); a proposal, a report and an
amendment carry the feature and the conflicts cut for a reader who owns nothing
(:func:`public`): the record is read by every party and monitor. How the picture folds
each kind: :mod:`accord.center.operations.fold`.

**Conflicts over several entries.** Every entry is at most 64 KiB (DECISIONS 12). An
operation that conflicts with hundreds of objects has a conflict list larger than that: its
entry carries the list's first run, ``continued`` (the number of parts in all) and
``conflicts_total``, and the center's ``operation.conflicts_continued`` entries right after
it, appended with it in one transaction, carry the rest — each naming the operation, the
entry it continues (``continues``), its ``part`` and the ``parts`` (the rule every verifier
checks: :mod:`accord.record.continued`). Where the list is cut depends only on the event as
every reader sees it (its conflicts cut for a reader who owns nothing, its feature and
steps), never on a hidden object: the number of parts says nothing the list does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.center import visibility
from accord.center.entry_kinds import EntryKind, Fold, Signer, entry_kind
from accord.center.identity import Caller
from accord.center.operations import fold
from accord.center.runtime import Unit
from accord.chrono import format_instant
from accord.deconfliction import Conflict
from accord.record.canonical import canonical_json
from accord.record.continued import CONTINUED, CONTINUES, runs
from accord.rules.operations import OperationState, Transition

__all__ = [
    "ACTIONS",
    "AMENDED",
    "CENTER",
    "CHECKED",
    "CONFLICTS_CONTINUED",
    "CONFLICTS_UPDATED",
    "EVENT_BUDGET",
    "EVIDENCE_CHECKED",
    "PROPOSED",
    "REPORTED",
    "Actor",
    "entry_of",
    "public",
    "record",
    "split",
    "transition_json",
    "transitions_added",
]

ACTIONS: dict[str, str] = {
    "approve": "operation.approved",
    "veto": "operation.vetoed",
    "object": "operation.objected",
    "withdraw_objection": "operation.objection_withdrawn",
    "execute": "operation.executed",
    "complete": "operation.completed",
    "cancel": "operation.cancelled",
}
"""Step → the kind of its record entry and live event."""

CHECKED = "operation.checked"
EVIDENCE_CHECKED = "operation.evidence_checked"
PROPOSED = "operation.proposed"
AMENDED = "operation.amended"
REPORTED = "operation.reported"
CONFLICTS_UPDATED = "operation.conflicts_updated"
CONFLICTS_CONTINUED = "operation.conflicts_continued"

_STEP = ("operation", "user", "status", "transitions")
_CHECKED = (*_STEP, "feature", "conflicts")
_SPLIT = (CONTINUED, "conflicts_total")
"""The fields of an entry whose conflicts continue in the entries after it."""
_ENTRIES: dict[str, EntryKind] = {}
_KINDS: list[tuple[str, tuple[str, ...], tuple[str, ...], Fold, str]] = [
    (PROPOSED, _CHECKED, _SPLIT, fold.proposed,
     "a party proposes an operation, its conflicts as all may see"),
    (AMENDED, (*_CHECKED, "version"), _SPLIT, fold.amended,
     "its proposer amends an operation, checked anew"),
    (REPORTED, (*_CHECKED, "executed_at", "breaches"), _SPLIT, fold.reported,
     "a party reports an operation after the fact (an imminent threat)"),
    (CONFLICTS_UPDATED, (*_STEP, "conflicts", "blocking_conflicts"), _SPLIT,
     fold.conflicts_updated, "the center re-checks an operation after the world changed"),
    (ACTIONS["approve"], _STEP, ("override_reason",), fold.step, "a party approves"),
    (ACTIONS["veto"], (*_STEP, "reason"), (), fold.step, "a party vetoes, with its reason"),
    (ACTIONS["object"], (*_STEP, "evidence"), ("evidence_geometry",), fold.objected,
     "a party objects, with its evidence"),
    (ACTIONS["withdraw_objection"], _STEP, (), fold.objection_withdrawn,
     "a party withdraws its objection"),
    (ACTIONS["execute"], _STEP, (), fold.executed, "the proposer starts the operation"),
    (ACTIONS["complete"], _STEP, (), fold.step, "the proposer completes it"),
    (ACTIONS["cancel"], (*_STEP, "reason"), (), fold.step,
     "the proposer cancels it, with its reason"),
]  # fmt: skip
_ONE = "/v1/operations/{operation}"
_ACTS: dict[str, tuple[str, ...]] = {
    PROPOSED: ("POST /v1/operations",),
    AMENDED: (f"PUT {_ONE}",),
    REPORTED: ("POST /v1/operations/report",),
    CONFLICTS_UPDATED: (),
    **{kind: (f"POST {_ONE}/{step.replace('_', '-')}",) for step, kind in ACTIONS.items()},
}
"""The requests whose act causes each kind (the center's re-check: none)."""
_ENTRIES[CHECKED] = entry_kind(
    CHECKED, signer=Signer.CENTER, required=("id", "checks", "version"), fold=fold.checked,
    summary="the center checks an amended operation's area for every party (a commitment "
    "per party to what it was shown, of one size whatever was found)",
)  # fmt: skip
_ENTRIES[EVIDENCE_CHECKED] = entry_kind(
    EVIDENCE_CHECKED, signer=Signer.CENTER, required=("id", "checks", "objection"),
    fold=fold.evidence_checked,
    summary="the center checks the coordinates an objection gave as evidence for every party "
    "(a commitment per party, of one size whatever was found)",
)  # fmt: skip
_ENTRIES[CONFLICTS_CONTINUED] = entry_kind(
    CONFLICTS_CONTINUED, signer=Signer.CENTER,
    required=("operation", CONTINUES, "part", "parts", "conflicts"),
    fold=fold.conflicts_continued,
    summary="the center continues an operation's conflicts, too many for the entry before it "
    "(written with it: part k of n, naming that entry)",
)  # fmt: skip
for _kind, _required, _optional, _fold, _summary in _KINDS:
    _ENTRIES[_kind] = entry_kind(
        _kind,
        signer=Signer.CENTER if _kind == CONFLICTS_UPDATED else Signer.MEMBER,
        required=_required,
        optional=_optional,
        fold=_fold,
        summary=_summary,
        acts=_ACTS[_kind],
    )


def entry_of(kind: str) -> EntryKind:
    """The entry kind named ``kind`` of the operations' kinds."""
    return _ENTRIES[kind]


def public(conflict: Conflict) -> Conflict:
    """The conflict as any party or monitor may see it (for the record)."""
    return conflict.visible_to(visibility.NOBODY)


def transitions_added(before: OperationState | None, after: OperationState) -> list[dict[str, Any]]:
    """The steps a change added to the history (clock steps it observed included)."""
    done = len(before.history) if before is not None else 0
    return [transition_json(t) for t in after.history[done:]]


def transition_json(t: Transition) -> dict[str, Any]:
    """A step of an operation's history as its record entries and the picture spell it."""
    return {
        "at": format_instant(t.at),
        "actor": t.actor,
        "action": t.action,
        "from": None if t.from_status is None else t.from_status.value,
        "to": t.to_status.value,
        "detail": t.detail,
    }


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes a step: the actor the rules and events name, the key that signs the record
    entry, and the user named in it."""

    member: str
    author: str
    user: str

    @classmethod
    def of(cls, caller: Caller) -> Actor:
        """The caller, acting and signing for its own member."""
        return cls(caller.member, caller.member, caller.name)


CENTER = "center"
"""The actor of the center's own steps (a re-check finding the world changed)."""


def record(
    unit: Unit,
    actor: Actor,
    at: datetime,
    kind: str,
    state: OperationState,
    before: OperationState | None,
    **fields: Any,
) -> int:
    """Append the entry of step ``kind`` (``before``: the state it started from; ``None``
    for a new operation), signed by ``actor``; its sequence number in the record."""
    event = _ENTRIES[kind].build(
        fields,
        operation=state.id,
        user=actor.user,
        status=state.status.value,
        transitions=transitions_added(before, state),
    )
    ledger = unit.ledger
    if "conflicts" not in event:
        return ledger.append(event, author=actor.author, at=at)
    encoded = canonical_json(event)  # weighed once, and signed as it is when it fits
    if len(encoded) <= EVENT_BUDGET:
        return ledger.append_encoded(encoded, author=actor.author, at=at)
    first, *rest = split(event, index=ledger.log.size)
    origin = unit.center.origin
    items = [(first, actor.author), *((part, origin) for part in rest)]
    indices = ledger.append_many(items, at=at)  # one transaction: all parts or none
    if rest and indices != [rest[0][CONTINUES] + k for k in range(len(indices))]:
        raise AssertionError(f"parts appended at {indices}, not after one another")
    return indices[0]


EVENT_BUDGET = 60_000
"""The most bytes of canonical JSON the event of one operation entry takes (DECISIONS 12:
an entry, its act, envelope and signature included, is at most 65,535 bytes; the rest is
for those, as :data:`accord.center.airspace.groups.ENTRY_BUDGET` leaves it)."""


def split(event: dict[str, Any], *, index: int, budget: int = EVENT_BUDGET) -> list[dict[str, Any]]:
    """The events of the entries that record ``event`` (whose ``conflicts`` are as every
    reader sees them), the first to be entry ``index``: ``[event]`` when it takes at most
    ``budget`` bytes of canonical JSON; else ``event`` with the first run of its conflicts,
    ``continued`` (the number of parts) and ``conflicts_total``, then an
    ``operation.conflicts_continued`` event per further run, each within ``budget``.

    Where the list is cut depends on the bytes of the event as it stands in the record, and
    nothing else (:func:`accord.record.continued.runs`)."""
    if len(canonical_json(event)) <= budget:
        return [event]
    conflicts = event["conflicts"]
    items = [canonical_json(c) for c in conflicts]
    total = len(items)
    # the fixed parts, their counts written as wide as they can be (parts <= total + 1)
    head = {**event, "conflicts": [], CONTINUED: total + 1, "conflicts_total": total}
    tail = _continuation(event["operation"], index, total + 1, total + 1, [])
    ends = runs(
        items,
        first=budget - len(canonical_json(head)) + 2,
        rest=budget - len(canonical_json(tail)) + 2,
    )
    parts = len(ends)
    starts = [0, *ends[:-1]]
    first = {**event, "conflicts": conflicts[: ends[0]], CONTINUED: parts, "conflicts_total": total}
    return [first] + [
        _continuation(event["operation"], index, k + 1, parts, conflicts[starts[k] : ends[k]])
        for k in range(1, parts)
    ]


def _continuation(
    operation: str, index: int, part: int, parts: int, conflicts: list[Any]
) -> dict[str, Any]:
    return _ENTRIES[CONFLICTS_CONTINUED].build(
        {CONTINUES: index},
        operation=operation,
        part=part,
        parts=parts,
        conflicts=conflicts,
    )
