"""Redo of the operations' entries (:mod:`accord.center.recovery.redo`): the rows
:mod:`accord.center.operations.service` wrote for each — the ``operations`` row, the
``probe_touches`` of a proposal, amendment or report (:mod:`accord.center.disclosure.
probing`), an objection's evidence opening, the ``check_openings`` of the center's checks.

**State.** A row's state is never read from the entry: the rules run again as the service
ran them (:func:`~accord.rules.operations.propose`, ``report_imminent``, ``update_conflicts``
and each step, :func:`~accord.center.operations.service.judge_step`), with the entry's author
as the actor, its ``ts`` as the instant and the reasons and evidence its event holds, on the
state the row holds; what they decide must be what the entry says (its status, the steps it
added to the history, its reasons, breaches), else the entry does not fit the tables and
the restore is refused.

**Conflicts.** The record holds an operation's conflicts only as a reader who owns nothing
sees them: of a hidden (``center``) object no id, distance or threshold. The row keeps them
whole, so redo runs the deconfliction check the service ran (the same
:class:`~accord.center.operations.world_cache.WorldCache`, over the tables as redone so
far: the world the service checked against) and pairs each conflict of the entry with a
conflict found again whose public form is the same, keeping the one found again. With
shared objects only, every conflict is found again exactly, and any difference refuses the
restore. A hidden object's answer comes from its shadow, a secret drawn anew by the
declarations' redo: a *margin* conflict (the shadow hit, not the object) may then be found
where the service found none, or not found where it did. Such a conflict of the entry is
kept as the record has it (redacted: no id, no distance) and noted, one found only again is
dropped, and ``conflicts_seen`` is left NULL (the center's next re-check looks again); a
conflict with a shared object or one's own that is not found again still refuses. A list
continued over the center's ``operation.conflicts_continued`` entries is applied whole at
its last part (the parts are appended in one transaction, right after the first).

**Checks.** ``operation.checked`` and ``operation.evidence_checked`` write each party's
``check_openings`` row with what the record holds — the commitment — and neither salt nor
content: what the check showed each party is in no entry (a party's own copy opens it).
The operation's check route answers such a row 404, "not kept"; the picture's verified
read leaves it out (it opens nothing). Each such entry is noted.

**Evidence.** An objection's evidence coordinates are committed to in its entry: the
opening is written again when the objector hands it back
(:meth:`~accord.center.recovery.redo.Redoing.opened`), else noted.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from accord.agreement import ObjectKind
from accord.center.db.models_checks import CheckOpening
from accord.center.disclosure import probing
from accord.center.operations.entries import (
    ACTIONS,
    AMENDED,
    CENTER,
    CHECKED,
    CONFLICTS_CONTINUED,
    CONFLICTS_UPDATED,
    EVIDENCE_CHECKED,
    PROPOSED,
    REPORTED,
    public,
    transitions_added,
)
from accord.center.operations.queries import load_row
from accord.center.operations.service import (
    amendable,
    breaches_json,
    conflicts_json,
    insert_row,
    judge_step,
    keeps_fixed,
    new_row,
    stored_feature,
    update_row,
)
from accord.center.operations.state import decode_state, encode_state
from accord.center.operations.world_cache import WorldCache, parse_features
from accord.center.phases.service import confirmations
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.chrono import parse_instant
from accord.deconfliction import Conflict
from accord.errors import AccordError
from accord.record.canonical import decode_base64
from accord.rules import operations as rules
from accord.rules.operations import OperationState
from accord.world import Disclosure, Operation

__all__ = ["REDO"]

_WORLDS: WeakKeyDictionary[Session, WorldCache] = WeakKeyDictionary()
"""The world cache of each restore's session (caught up by the counters, as the service's)."""


@dataclass(slots=True)
class _Split:
    """A conflict list continued over several entries, as far as it came: the entry that
    began it, the parts in all, the next part due, the conflicts so far and in all."""

    first: Redone
    parts: int
    next: int
    total: int
    conflicts: list[dict[str, Any]] = field(default_factory=list)


_SPLITS: WeakKeyDictionary[Session, dict[str, _Split]] = WeakKeyDictionary()


def _refusing(redo: Redo) -> Redo:
    """A redo whose rules' refusal (an :class:`~accord.errors.AccordError`: the rules or
    the service would have refused the step) is an entry that does not fit the tables."""

    @functools.wraps(redo)
    def wrapped(context: Redoing, entry: Redone) -> None:
        try:
            redo(context, entry)
        except AccordError as error:
            raise ValueError(f"the service would have refused it: {error}") from error

    return wrapped


def _world(context: Redoing) -> WorldCache:
    found = _WORLDS.get(context.session)
    if found is None:
        found = _WORLDS[context.session] = WorldCache(context.agreement, background=False)
    return found


def _operation(context: Redoing, feature: Mapping[str, Any]) -> Operation:
    (obj,) = parse_features(context.agreement, [copy.deepcopy(dict(feature))], limits=False)
    if not isinstance(obj, Operation):
        raise ValueError(f"the feature of {obj.id} is no operation")
    return obj


def _row(context: Redoing, op_id: str) -> Any:
    row = load_row(context.session, op_id)
    if row is None:
        raise KeyError(f"operation {op_id} is in no earlier entry")
    return row


def _agrees(entry: Redone, before: OperationState | None, state: OperationState) -> None:
    """The entry says what the rules decided: its operation, status and history's steps."""
    event = entry.event
    expected = {
        "operation": state.id,
        "status": state.status.value,
        "transitions": transitions_added(before, state),
    }
    for name, value in expected.items():
        if event.get(name) != value:
            raise ValueError(f"the entry's {name} is {event.get(name)!r}, the rules say {value!r}")


def _from_public(op_id: str, form: Mapping[str, Any]) -> Conflict:
    """A conflict as the record holds it (a hidden object's: no id, no numbers)."""
    with_id = form["with"]
    disclosure = form.get("disclosure", Disclosure.CENTER.value if with_id is None else "")
    distance = form["distance_m"]
    return Conflict(
        op_id,
        ObjectKind(form["kind"]),
        with_id,
        str(form["party"]),
        None if distance is None else float(distance),
        form.get("threshold_m"),
        bool(form["blocking"]),
        Disclosure(disclosure),
        bool(form.get("stale", False)),
        bool(form.get("margin", False)),
    )


def _paired(
    op_id: str, recorded: Sequence[Mapping[str, Any]], found: Sequence[Conflict]
) -> tuple[list[Conflict], int]:
    """The conflicts to store: each of the entry's (``recorded``, public forms) paired with
    a conflict ``found`` again of the same public form; how many hidden ones were not (see
    the module docstring). Raises ``ValueError`` when a conflict with a shared object or
    one's own is in one and not the other."""
    forms = [public(c).as_dict() for c in found]
    used = [False] * len(found)
    out: list[Conflict] = []
    unpaired = 0
    for form in recorded:
        at = next((i for i, f in enumerate(forms) if not used[i] and f == dict(form)), None)
        if at is not None:
            used[at] = True
            out.append(found[at])
            continue
        if form.get("with") is not None:
            raise ValueError(f"the conflict {dict(form)} is not found again")
        out.append(_from_public(op_id, form))
        unpaired += 1
    for i, conflict in enumerate(found):
        if used[i]:
            continue
        if forms[i].get("with") is not None:
            raise ValueError(f"a conflict with {conflict.with_id} is found again, not recorded")
        unpaired += 1
    return out, unpaired


def _conflicts(
    context: Redoing, entry: Redone, operation: Operation, recorded: Sequence[Mapping[str, Any]]
) -> tuple[list[Conflict], int | None]:
    """The conflicts of ``operation`` to store for the entry (found again against the
    tables as redone so far, paired with ``recorded``), and the declarations' counter they
    stand at (None when a hidden conflict was not found again: check again)."""
    found, seen = _world(context).check_seen(context.session, operation)
    conflicts, unpaired = _paired(operation.id, recorded, found)
    if unpaired:
        context.note(
            entry,
            f"{unpaired} conflict(s) with hidden objects answered from their shadows, drawn "
            "anew, are not found again as recorded: kept as the record has them (no id, no "
            "distance)",
        )
        return conflicts, None
    return conflicts, seen


def _blocking(recorded: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for c in recorded if c["blocking"])


def _touched(
    context: Redoing,
    entry: Redone,
    operation: Operation,
    conflicts: Sequence[Conflict],
    *,
    may_refuse: bool,
) -> None:
    """The probe touches the service counted (:func:`~accord.center.disclosure.probing.
    counted`); every owner it then alerted was alerted by the center's entries just before
    (redone by :mod:`accord.center.disclosure.redo`)."""
    alerts = probing.counted(
        context.session,
        context.agreement,
        prober=entry.author,
        operation=operation,
        conflicts=conflicts,
        at=entry.at,
        may_refuse=may_refuse,
    )
    if alerts:
        raise ValueError(f"the service alerted {alerts} of probing: no entry before says so")


def _checked_kind(context: Redoing, entry: Redone) -> None:
    """A proposal, report, amendment or re-check: applied now, or at the last part of a
    conflict list continued over the entries after it."""
    event = entry.event
    op_id = str(event["operation"])
    splits = _SPLITS.setdefault(context.session, {})
    if op_id in splits:
        raise ValueError(f"operation {op_id}'s conflicts continue, and another step comes first")
    parts = event.get("continued")
    if parts is None:
        _apply(context, entry, event["conflicts"])
        return
    if int(parts) < 2:
        raise ValueError(f"a conflict list continued in {parts} part(s)")
    splits[op_id] = _Split(
        entry, int(parts), 2, int(event["conflicts_total"]), list(event["conflicts"])
    )


def _continued(context: Redoing, entry: Redone) -> None:
    event = entry.event
    op_id = str(event["operation"])
    split = _SPLITS.setdefault(context.session, {}).get(op_id)
    if split is None or entry.author != context.origin:
        raise ValueError(f"no conflict list of operation {op_id} awaits a part")
    if (int(event["continues"]), int(event["part"]), int(event["parts"])) != (
        split.first.index,
        split.next,
        split.parts,
    ):
        raise ValueError(f"part {event['part']} of entry {event['continues']} is not due here")
    split.conflicts.extend(event["conflicts"])
    split.next += 1
    if split.next <= split.parts:
        return
    del _SPLITS[context.session][op_id]
    if len(split.conflicts) != split.total:
        raise ValueError(f"{len(split.conflicts)} conflicts of {split.total} recorded")
    _apply(context, split.first, split.conflicts)


def _apply(context: Redoing, entry: Redone, recorded: Sequence[Mapping[str, Any]]) -> None:
    """Apply a proposal, report, amendment or re-check with its whole conflict list."""
    kind = entry.kind
    if kind in (PROPOSED, REPORTED):
        _created(context, entry, recorded)
    elif kind == AMENDED:
        _amended(context, entry, recorded)
    else:
        _rechecked(context, entry, recorded)


def _created(context: Redoing, entry: Redone, recorded: Sequence[Mapping[str, Any]]) -> None:
    event, session, at = entry.event, context.session, entry.at
    feature = event["feature"]
    operation = _operation(context, feature)
    if operation.id != event["operation"] or operation.proposed_by != entry.author:
        raise ValueError(f"operation {operation.id} is not {entry.author}'s {event['operation']}")
    if load_row(session, operation.id) is not None:
        raise ValueError(f"operation {operation.id} exists already")
    conflicts, seen = _conflicts(context, entry, operation, recorded)
    _touched(context, entry, operation, conflicts, may_refuse=entry.kind == PROPOSED)
    if entry.kind == PROPOSED:
        state = rules.propose(
            context.agreement,
            operation,
            at=at,
            confirmations=confirmations(session),
            blocking_conflicts=_blocking(recorded),
        )
    else:
        state = rules.report_imminent(
            context.agreement,
            operation,
            executed_at=parse_instant(event["executed_at"]),
            at=at,
            confirmations=confirmations(session),
        )
        if event["breaches"] != breaches_json(state):
            raise ValueError(f"the entry's breaches are not the rules' {breaches_json(state)}")
    _agrees(entry, None, state)
    insert_row(
        session.connection(),
        new_row(operation, state, feature, conflicts, at=at, entry=entry.index, seen=seen),
    )


def _store(
    context: Redoing,
    entry: Redone,
    op_id: str,
    state: OperationState,
    changed: Mapping[str, Any] | None = None,
) -> None:
    """The row's UPDATE of :func:`~accord.center.operations.service._save`."""
    update_row(
        context.session.connection(),
        op_id,
        {
            **(changed or {}),
            "status": state.status.value,
            "state": encode_state(state),
            "blocking": state.blocking_conflicts,
            "updated_at": entry.at,
            "entry": entry.index,
        },
    )


def _amended(context: Redoing, entry: Redone, recorded: Sequence[Mapping[str, Any]]) -> None:
    event, at = entry.event, entry.at
    row = _row(context, str(event["operation"]))
    before = decode_state(row.state)
    amendable(context.agreement, row, before, entry.author, at)
    feature = event["feature"]
    operation = _operation(context, feature)
    if operation.id != row.id or operation.proposed_by != entry.author:
        raise ValueError(f"the amended feature is not {entry.author}'s {row.id}")
    keeps_fixed(row, feature)
    version = row.version + 1
    if int(event["version"]) != version:
        raise ValueError(f"operation {row.id} is at version {row.version}")
    conflicts, seen = _conflicts(context, entry, operation, recorded)
    _touched(context, entry, operation, conflicts, may_refuse=True)
    state = rules.update_conflicts(
        context.agreement, before, actor=entry.author, at=at, blocking_conflicts=_blocking(recorded)
    )
    _agrees(entry, before, state)
    changed = {
        "feature": stored_feature(feature),
        "conflicts": conflicts_json(conflicts),
        "conflicts_seen": seen,
        "version": version,
    }
    _store(context, entry, row.id, state, changed)


def _rechecked(context: Redoing, entry: Redone, recorded: Sequence[Mapping[str, Any]]) -> None:
    event = entry.event
    if entry.author != context.origin:
        raise ValueError(f"a re-check signed by {entry.author}, not the center")
    row = _row(context, str(event["operation"]))
    before = decode_state(row.state)
    (operation,) = parse_features(context.agreement, [json.loads(row.feature)], limits=False)
    operation = cast(Operation, operation)
    blocking = _blocking(recorded)
    if int(event["blocking_conflicts"]) != blocking:
        raise ValueError(f"{event['blocking_conflicts']} blocking conflicts, {blocking} listed")
    conflicts, seen = _conflicts(context, entry, operation, recorded)
    state = rules.update_conflicts(
        context.agreement, before, actor=CENTER, at=entry.at, blocking_conflicts=blocking
    )
    _agrees(entry, before, state)
    _store(
        context,
        entry,
        row.id,
        state,
        {"conflicts": conflicts_json(conflicts), "conflicts_seen": seen},
    )


_TEXT = {"approve": "override_reason", "veto": "reason", "object": "evidence", "cancel": "reason"}
"""The step's text, as its entry carries it."""


def _step(action: str) -> Redo:
    def redo(context: Redoing, entry: Redone) -> None:
        event = entry.event
        row = _row(context, str(event["operation"]))
        before = decode_state(row.state)
        name = _TEXT.get(action)
        text = None if name is None else event.get(name)
        state, fields = judge_step(
            context.agreement, before, action, actor=entry.author, at=entry.at, text=text
        )
        _agrees(entry, before, state)
        for each in sorted(set(_TEXT.values())):
            if event.get(each) != fields.get(each):
                raise ValueError(f"the entry's {each} is not the rules' {fields.get(each)!r}")
        _store(context, entry, row.id, state)
        if action == "object" and "evidence_geometry" in event:
            opened = context.opened(entry, owner=entry.author, commitment_field="evidence_geometry")
            if opened is not None and (
                opened.get("operation") != row.id or opened.get("party") != entry.author
            ):
                raise ValueError("the evidence opened is not of this objection")

    return redo


def _check_openings(about: str) -> Redo:
    """``operation.checked`` (``about``: ``version``) or ``operation.evidence_checked``
    (``objection``): each party's commitment, kept without its opening (not recorded)."""

    def redo(context: Redoing, entry: Redone) -> None:
        event = entry.event
        if entry.author != context.origin:
            raise ValueError(f"a check signed by {entry.author}, not the center")
        row = _row(context, str(event["id"]))
        if about == "version" and int(event["version"]) != row.version:
            raise ValueError(f"operation {row.id} is at version {row.version}")
        if about == "objection" and int(event["objection"]) != row.entry:
            raise ValueError(f"entry {event['objection']} is not {row.id}'s latest objection")
        checks: Mapping[str, str] = event["checks"]
        if sorted(checks) != sorted(context.agreement.party_ids):
            raise ValueError(f"a check for {sorted(checks)}, not every party")
        for party, committed in sorted(checks.items()):
            context.session.add(
                CheckOpening(
                    entry=entry.index,
                    party=party,
                    subject=row.id,
                    commitment=decode_base64(committed, what="commitment", size=32),
                    salt=b"",
                    content="",
                )
            )
        context.note(
            entry,
            "what the check showed each party is in no entry: its commitments are kept, "
            "not their openings (each party's own copy opens them)",
        )

    return redo


_CHECKED_KINDS: Callable[[Redoing, Redone], None] = _refusing(_checked_kind)

REDO: Mapping[str, Redo] = {
    PROPOSED: _CHECKED_KINDS,
    REPORTED: _CHECKED_KINDS,
    AMENDED: _CHECKED_KINDS,
    CONFLICTS_UPDATED: _CHECKED_KINDS,
    CONFLICTS_CONTINUED: _refusing(_continued),
    **{kind: _refusing(_step(action)) for action, kind in ACTIONS.items()},
    CHECKED: _check_openings("version"),
    EVIDENCE_CHECKED: _check_openings("objection"),
}
