"""Operation life cycles under the agreement's rules, as a pure state machine.

Every function here takes the :class:`~accord.agreement.Agreement`, the current
:class:`OperationState` (or the operation being proposed), the acting party and the instant of
the step, and returns a **new** state with one more :class:`Transition` in its history; it
never mutates, never reads a clock and never does I/O. A step the rules refuse raises one of
the typed errors of :mod:`accord.errors`, whose message names the operation, the actor and the
reason.

Status diagram (``*`` marks a terminal status; "clock" steps come from :func:`settle`)::

    coordinated
      propose ─► proposed ─approve (last party)─► approved ─execute─► executed
      executed ─complete─► completed*
      proposed | approved ─veto (any party)──────────► vetoed*
      proposed | approved ─cancel (proposer)─────────► cancelled*
      proposed | approved ─clock: window_end passed──► expired*
      proposed | approved ─update_conflicts (more blocking conflicts)─► proposed, approvals
                           other than the proposer's withdrawn

    synchronized
      propose ─► notified ─clock: objection window closed─► cleared ─execute─► executed
      notified ─object (hold_while_objected)─► on_hold
      on_hold ─withdraw (no objection left; window open)─► notified
      on_hold ─withdraw (no objection left; window closed)─► cleared
      notified | on_hold | cleared ─cancel (proposer)─► cancelled*
      notified | on_hold | cleared ─clock: window_end passed─► expired*
      executed ─complete─► completed*

    imminent threat
      report_imminent ─► notified_in_time* | notified_late* (+ late_notification breach)
      record_unilateral_execution ─► executed_unilaterally
      executed_unilaterally ─notify─► notified_in_time* | notified_late* (+ late_notification)
      executed_unilaterally ─clock: deadline passed─► (same status) + missing_notification,
                           recorded once (a later notice then adds no second breach)

Time moves only when a caller says so: :func:`settle` applies the passage of time up to an
instant (objection windows closing, windows expiring, notifications falling overdue), and every
step except :func:`notify` settles the state up to its own instant before judging it.
Transitions caused by time alone carry the actor :data:`CLOCK`.

>>> from datetime import timedelta
>>> from accord.agreement import load_agreement
>>> from accord.examples import example_path
>>> from accord.rules.operations import Proposal, approve, execute, propose
>>> jig = load_agreement(example_path("jig.yaml"))
>>> day8 = jig.starts_at + timedelta(days=8)
>>> aid = {"aid-delivered-east-city": jig.starts_at + timedelta(days=3)}
>>> op = Proposal(id="op-1", category="coordinated", proposed_by="blue", executors=("blue",),
...               window_start=day8 + timedelta(hours=2), window_end=day8 + timedelta(hours=4))
>>> state = propose(jig, op, at=day8, confirmations=aid)
>>> state.status, sorted(state.approvals)
(<OperationStatus.PROPOSED: 'proposed'>, ['blue'])
>>> state = approve(jig, state, actor="red", at=day8 + timedelta(hours=1))
>>> state = execute(jig, state, actor="blue", at=day8 + timedelta(hours=3))
>>> [t.action for t in state.history]
['propose', 'approve', 'execute']
>>> execute(jig, state, actor="red", at=day8 + timedelta(hours=3))
Traceback (most recent call last):
...
accord.errors.NotAuthorized: 'red' cannot execute operation 'op-1': only 'blue' may execute it
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from accord.agreement import (
    Agreement,
    CoordinatedRule,
    ImminentThreatRule,
    RuleKind,
    SynchronizedRule,
    phase_at,
    phase_starts,
)
from accord.chrono import format_instant
from accord.errors import (
    BlockingConflict,
    DeadlineError,
    IllegalTransition,
    NotAuthorized,
    PhaseError,
    RuleError,
)

__all__ = [
    "CLOCK",
    "PENDING",
    "TERMINAL",
    "Approve",
    "Breach",
    "Cancel",
    "Complete",
    "Event",
    "Execute",
    "Notify",
    "Object",
    "Objection",
    "OperationLike",
    "OperationState",
    "OperationStatus",
    "Override",
    "Proposal",
    "Propose",
    "RecordExecution",
    "Report",
    "Tick",
    "Transition",
    "UpdateConflicts",
    "Veto",
    "WithdrawObjection",
    "apply",
    "approve",
    "cancel",
    "complete",
    "execute",
    "next_settled",
    "notification_deadline",
    "notify",
    "object_to",
    "objection_deadline",
    "overdue",
    "propose",
    "record_unilateral_execution",
    "report_imminent",
    "settle",
    "update_conflicts",
    "veto",
    "withdraw_objection",
]

CLOCK = "clock"
"""The actor of transitions caused by the passage of time alone (see :func:`settle`)."""

Rule = CoordinatedRule | SynchronizedRule | ImminentThreatRule

_NO_CONFIRMATIONS: Mapping[str, datetime] = MappingProxyType({})


# --- values ---------------------------------------------------------------------------------


class OperationLike(Protocol):
    """What the rules need to know of an operation (``accord.world.Operation`` has it).

    Times are aware UTC datetimes.
    """

    @property
    def id(self) -> str: ...

    @property
    def category(self) -> str: ...

    @property
    def proposed_by(self) -> str: ...

    @property
    def executors(self) -> tuple[str, ...]: ...

    @property
    def window_start(self) -> datetime: ...

    @property
    def window_end(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Proposal:
    """A plain :class:`OperationLike`, for scripts, tests and examples."""

    id: str
    category: str
    proposed_by: str
    executors: tuple[str, ...]
    window_start: datetime
    window_end: datetime


class OperationStatus(StrEnum):
    """Where an operation stands.

    - ``proposed``: a coordinated operation waiting for every party's approval.
    - ``approved``: every party approved a coordinated operation; it may be executed in its
      window.
    - ``vetoed``: a party vetoed a coordinated operation (terminal).
    - ``notified``: a synchronized operation was notified; its objection window is open.
    - ``on_hold``: a synchronized operation is held while an objection stands.
    - ``cleared``: a synchronized operation's objection window closed with no standing
      objection; it may be executed in its window.
    - ``executed``: a coordinated or synchronized operation was carried out.
    - ``completed``: the executor reported the executed operation finished (terminal).
    - ``cancelled``: the proposer withdrew the operation before execution (terminal).
    - ``expired``: the window closed before the operation was executed (terminal).
    - ``executed_unilaterally``: an imminent-threat operation is known to have been carried
      out and its executor has not notified it yet.
    - ``notified_in_time``: an imminent-threat operation was notified within the deadline
      (terminal).
    - ``notified_late``: an imminent-threat operation was notified after the deadline; a
      compliance breach is recorded (terminal).
    """

    PROPOSED = "proposed"
    APPROVED = "approved"
    VETOED = "vetoed"
    NOTIFIED = "notified"
    ON_HOLD = "on_hold"
    CLEARED = "cleared"
    EXECUTED = "executed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    EXECUTED_UNILATERALLY = "executed_unilaterally"
    NOTIFIED_IN_TIME = "notified_in_time"
    NOTIFIED_LATE = "notified_late"


_S = OperationStatus

PENDING: frozenset[OperationStatus] = frozenset(
    {_S.PROPOSED, _S.APPROVED, _S.NOTIFIED, _S.ON_HOLD, _S.CLEARED}
)
"""Statuses before execution: they can still be cancelled, and they expire with the window."""

TERMINAL: frozenset[OperationStatus] = frozenset(
    {_S.VETOED, _S.COMPLETED, _S.CANCELLED, _S.EXPIRED, _S.NOTIFIED_IN_TIME, _S.NOTIFIED_LATE}
)
"""Statuses no step leaves."""


@dataclass(frozen=True, slots=True)
class Objection:
    """A party's objection to a synchronized operation, with its evidence."""

    party: str
    at: datetime
    evidence: str
    withdrawn_at: datetime | None = None

    @property
    def standing(self) -> bool:
        """Whether the objection has not been withdrawn."""
        return self.withdrawn_at is None


@dataclass(frozen=True, slots=True)
class Override:
    """An approver's written reason to approve despite blocking conflicts."""

    party: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Transition:
    """One accepted step: who did what when, and the status before and after."""

    at: datetime
    actor: str
    action: str
    from_status: OperationStatus | None
    to_status: OperationStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Breach:
    """A compliance breach: ``late_notification`` or ``missing_notification``."""

    kind: str
    party: str
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class OperationState:
    """An operation as the rules see it, with every accepted step in ``history``."""

    id: str
    category: str
    rule: RuleKind
    proposed_by: str
    executors: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    status: OperationStatus
    proposed_at: datetime
    approvals: frozenset[str] = frozenset()
    vetoed_by: str | None = None
    veto_reason: str | None = None
    objections: tuple[Objection, ...] = ()
    overrides: tuple[Override, ...] = ()
    blocking_conflicts: int = 0
    executed_at: datetime | None = None
    executed_by: str | None = None
    completed_at: datetime | None = None
    notified_at: datetime | None = None
    cancel_reason: str | None = None
    history: tuple[Transition, ...] = ()
    breaches: tuple[Breach, ...] = ()

    @property
    def override_reason(self) -> str | None:
        """The latest override reason an approver gave (None: none was given)."""
        return self.overrides[-1].reason if self.overrides else None

    @property
    def standing_objections(self) -> tuple[Objection, ...]:
        """The objections not withdrawn."""
        return tuple(o for o in self.objections if o.standing)

    @property
    def terminal(self) -> bool:
        """Whether no step can leave the current status."""
        return self.status in TERMINAL


# --- events for apply() ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Propose:
    """Propose a coordinated or synchronized operation (see :func:`propose`)."""

    operation: OperationLike
    at: datetime
    blocking_conflicts: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """The executor reports an imminent-threat operation (see :func:`report_imminent`)."""

    operation: OperationLike
    executed_at: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class RecordExecution:
    """Someone other than the executor reports an imminent-threat execution."""

    operation: OperationLike
    executed_at: datetime
    at: datetime
    reported_by: str


@dataclass(frozen=True, slots=True)
class Approve:
    """See :func:`approve`."""

    actor: str
    at: datetime
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Veto:
    """See :func:`veto`."""

    actor: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Object:
    """See :func:`object_to`."""

    actor: str
    at: datetime
    evidence: str


@dataclass(frozen=True, slots=True)
class WithdrawObjection:
    """See :func:`withdraw_objection`."""

    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Execute:
    """See :func:`execute`."""

    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Complete:
    """See :func:`complete`."""

    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Cancel:
    """See :func:`cancel`."""

    actor: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Notify:
    """See :func:`notify`."""

    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class UpdateConflicts:
    """See :func:`update_conflicts`."""

    actor: str
    at: datetime
    blocking_conflicts: int


@dataclass(frozen=True, slots=True)
class Tick:
    """Let time pass up to ``at`` (see :func:`settle`)."""

    at: datetime
    actor: str = CLOCK


Event = (
    Propose
    | Report
    | RecordExecution
    | Approve
    | Veto
    | Object
    | WithdrawObjection
    | Execute
    | Complete
    | Cancel
    | Notify
    | UpdateConflicts
    | Tick
)


# --- helpers --------------------------------------------------------------------------------


def _t(value: datetime) -> str:
    return format_instant(value)


def _names(ids: Sequence[str] | frozenset[str]) -> str:
    items = sorted(ids) if isinstance(ids, frozenset) else list(ids)
    return ", ".join(repr(i) for i in items) if items else "nobody"


@dataclass(frozen=True, slots=True)
class _Ask:
    """Who asks for which step on which operation: what every refusal names."""

    op_id: str
    actor: str
    verb: str

    def refuse(self, cls: type[RuleError], reason: str) -> RuleError:
        return cls(f"{self.actor!r} cannot {self.verb} operation {self.op_id!r}: {reason}")

    def aware(self, **instants: datetime) -> None:
        for name, value in instants.items():
            if value.tzinfo is None or value.utcoffset() is None:
                raise self.refuse(DeadlineError, f"the time {name}={value} has no UTC offset")

    def party(self, agreement: Agreement, who: str) -> None:
        if who not in agreement.party_ids:
            parties = _names(agreement.party_ids)
            raise self.refuse(
                NotAuthorized, f"{who!r} is not a party to the agreement (parties: {parties})"
            )

    def text(self, text: str | None, what: str) -> str:
        value = (text or "").strip()
        if not value:
            raise self.refuse(IllegalTransition, f"{what} must not be empty")
        return value

    def rule(self, agreement: Agreement, category: str) -> Rule:
        try:
            return agreement.category(category)
        except KeyError:
            known = ", ".join(sorted(agreement.categories))
            raise self.refuse(
                IllegalTransition,
                f"the agreement defines no category {category!r} (known: {known})",
            ) from None


def _ask(state: OperationState, actor: str, verb: str, at: datetime) -> _Ask:
    """The refusal context of a step on an existing operation; checks the step's instant."""
    ask = _Ask(state.id, actor, verb)
    ask.aware(at=at)
    if state.history and at < state.history[-1].at:
        last = state.history[-1]
        raise ask.refuse(
            DeadlineError,
            f"the step is dated {_t(at)}, before the last recorded step "
            f"({last.action} by {last.actor!r} at {_t(last.at)})",
        )
    return ask


def _kind(ask: _Ask, state: OperationState, kind: RuleKind) -> None:
    if state.rule is not kind:
        raise ask.refuse(
            IllegalTransition,
            f"this step applies only to {kind.value.replace('_', '-')} operations; this one "
            f"is {state.rule.value.replace('_', '-')} (category {state.category!r})",
        )


def _sync_rule(agreement: Agreement, state: OperationState) -> SynchronizedRule:
    rule = _Ask(state.id, CLOCK, "settle").rule(agreement, state.category)
    if not isinstance(rule, SynchronizedRule):  # pragma: no cover - guarded by state.rule
        raise _Ask(state.id, CLOCK, "settle").refuse(IllegalTransition, "it is not synchronized")
    return rule


def _status(state: OperationState) -> str:
    """Why the current status refuses a step, for a person."""
    s = state.status
    if s is _S.VETOED:
        return f"it was vetoed by {state.vetoed_by!r} ({state.veto_reason})"
    if s is _S.CANCELLED:
        return f"it was cancelled ({state.cancel_reason})"
    if s is _S.EXPIRED:
        return f"it expired when its window closed at {_t(state.window_end)}"
    if s is _S.ON_HOLD:
        objectors = _names([o.party for o in state.standing_objections])
        return f"it is on hold: objection by {objectors} stands"
    if s is _S.EXECUTED_UNILATERALLY and state.executed_at is not None:
        return (
            f"it was executed at {_t(state.executed_at)} without notice and its notification "
            "is outstanding"
        )
    if s is _S.EXECUTED and state.executed_at is not None:
        return f"it was already executed at {_t(state.executed_at)}"
    return f"it is {s.value.replace('_', ' ')}"


def _step(
    state: OperationState,
    *,
    at: datetime,
    actor: str,
    action: str,
    to: OperationStatus,
    detail: str = "",
    **changes: Any,
) -> OperationState:
    transition = Transition(
        at=at, actor=actor, action=action, from_status=state.status, to_status=to, detail=detail
    )
    return replace(state, status=to, history=(*state.history, transition), **changes)


def _check_operation(ask: _Ask, agreement: Agreement, operation: OperationLike, rule: Rule) -> None:
    ask.aware(window_start=operation.window_start, window_end=operation.window_end)
    executors = tuple(operation.executors)
    if not executors:
        raise ask.refuse(IllegalTransition, "it names no executing party")
    if len(set(executors)) != len(executors):
        raise ask.refuse(IllegalTransition, f"it names an executor twice ({_names(executors)})")
    for executor in executors:
        if executor not in agreement.party_ids:
            raise ask.refuse(
                NotAuthorized,
                f"executor {executor!r} is not a party to the agreement "
                f"(parties: {_names(agreement.party_ids)})",
            )
    if isinstance(rule, CoordinatedRule) and len(executors) > rule.max_executors:
        most = rule.max_executors
        raise ask.refuse(
            IllegalTransition,
            f"category {operation.category!r} allows at most {most} executing "
            f"part{'y' if most == 1 else 'ies'}; it names {len(executors)} ({_names(executors)})",
        )
    if operation.window_end <= operation.window_start:
        raise ask.refuse(
            DeadlineError,
            f"its window ends ({_t(operation.window_end)}) no later than it starts "
            f"({_t(operation.window_start)})",
        )


def _check_phase(
    ask: _Ask,
    agreement: Agreement,
    category: str,
    at: datetime,
    confirmations: Mapping[str, datetime],
) -> None:
    status = phase_at(agreement, at, confirmations)
    if status is None:
        raise ask.refuse(
            PhaseError,
            f"no phase of the agreement is in force at {_t(at)}; "
            f"the agreement starts at {_t(agreement.starts_at)}",
        )
    if category in status.phase.categories:
        return
    known = {k: v for k, v in confirmations.items() if v <= at}
    starts = phase_starts(agreement, known)
    current = [p.id for p in agreement.phases].index(status.phase.id)
    reason = (
        f"category {category!r} is not permitted in phase {status.phase.id!r} "
        f"(in force since {_t(status.started_at)})"
    )
    waiting: list[str] = []
    later = zip(agreement.phases[current + 1 :], starts[current + 1 :], strict=True)
    for phase, start in later:
        waiting.extend(c for c in phase.starts.confirmed if c not in known and c not in waiting)
        if category not in phase.categories:
            continue
        if start is not None:
            reason += f"; it is first permitted in phase {phase.id!r}, from {_t(start)}"
        else:
            earliest = agreement.starts_at + phase.starts.after
            conditions = ", ".join(repr(c) for c in waiting)
            reason += (
                f"; it is first permitted in phase {phase.id!r}, which has not started: it "
                f"waits for condition {conditions} to be confirmed and starts no earlier "
                f"than {_t(earliest)}"
            )
        break
    else:
        reason += "; no later phase permits it"
    raise ask.refuse(PhaseError, reason)


def _objection_open(agreement: Agreement, state: OperationState, at: datetime) -> bool:
    rule = _sync_rule(agreement, state)
    return (
        state.proposed_at <= at <= state.proposed_at + rule.objection_window
        and at < state.window_start
    )


def objection_deadline(agreement: Agreement, state: OperationState) -> datetime:
    """When a synchronized operation's objection window closes.

    Objections are accepted from the notice up to and including ``proposed_at +
    objection_window``, and strictly before the window opens, whichever comes first.
    """
    rule = _sync_rule(agreement, state)
    return min(state.proposed_at + rule.objection_window, state.window_start)


def notification_deadline(agreement: Agreement, state: OperationState) -> datetime | None:
    """When an imminent-threat operation's notification is due (None for other categories)."""
    if state.rule is not RuleKind.IMMINENT_THREAT or state.executed_at is None:
        return None
    rule = _Ask(state.id, CLOCK, "settle").rule(agreement, state.category)
    if not isinstance(rule, ImminentThreatRule):  # pragma: no cover - guarded by state.rule
        return None
    return state.executed_at + rule.notify_within


def _stamp(state: OperationState, effective: datetime) -> datetime:
    """The instant to record a time-driven step at: when it took effect, but never before the
    last recorded step (history stays in time order)."""
    if state.history and state.history[-1].at > effective:
        return state.history[-1].at
    return effective


# --- time -----------------------------------------------------------------------------------


def settle(agreement: Agreement, state: OperationState, *, at: datetime) -> OperationState:
    """Apply the passage of time up to ``at``; return the state unchanged if nothing is due.

    - a synchronized ``notified`` operation whose objection window has closed with no standing
      objection becomes ``cleared`` (with ``hold_while_objected: false`` objections never hold
      it, so it clears regardless);
    - an operation not executed by the end of its window becomes ``expired``;
    - an ``executed_unilaterally`` operation past its notification deadline gets one
      ``missing_notification`` breach (recorded once; the status stays until notified).

    Transitions are recorded at the instant they took effect (never before the last recorded
    step), with the actor :data:`CLOCK`. Settling is idempotent.
    """
    _Ask(state.id, CLOCK, "settle").aware(at=at)
    if state.rule is RuleKind.SYNCHRONIZED and state.status is _S.NOTIFIED:
        rule = _sync_rule(agreement, state)
        held = rule.hold_while_objected and bool(state.standing_objections)
        if not held and at >= state.proposed_at and not _objection_open(agreement, state, at):
            closed = objection_deadline(agreement, state)
            state = _step(
                state,
                at=_stamp(state, closed),
                actor=CLOCK,
                action="clear",
                to=_S.CLEARED,
                detail=f"objection window closed at {_t(closed)} with no objection holding it",
            )
    if state.status in PENDING and at > state.window_end:
        state = _step(
            state,
            at=_stamp(state, state.window_end),
            actor=CLOCK,
            action="expire",
            to=_S.EXPIRED,
            detail=f"window closed at {_t(state.window_end)} before execution",
        )
    deadline = notification_deadline(agreement, state)
    if (
        deadline is not None
        and at > deadline
        and state.status is _S.EXECUTED_UNILATERALLY
        and state.notified_at is None
        and not any(b.kind == "missing_notification" for b in state.breaches)
    ):
        executed = _t(state.executed_at or deadline)
        breach = Breach(
            kind="missing_notification",
            party=state.proposed_by,
            at=deadline,
            detail=(
                f"operation {state.id!r} executed at {executed} was not notified by "
                f"{state.proposed_by!r} by the deadline {_t(deadline)}"
            ),
        )
        state = _step(
            state,
            at=_stamp(state, deadline),
            actor=CLOCK,
            action="breach",
            to=state.status,
            detail=breach.detail,
            breaches=(*state.breaches, breach),
        )
    return state


def next_settled(agreement: Agreement, state: OperationState, *, at: datetime) -> datetime | None:
    """The earliest instant from ``at`` on at which :func:`settle` may answer otherwise than
    at ``at`` (it answers the same at every instant before it); None when nothing more is due
    by the passage of time. What is judged of ``state`` at ``at`` holds until then.
    """
    state = settle(agreement, state, at=at)  # what is due by ``at`` is applied
    due: list[datetime] = []
    if state.rule is RuleKind.SYNCHRONIZED and state.status is _S.NOTIFIED:
        rule = _sync_rule(agreement, state)
        due += [state.proposed_at, state.proposed_at + rule.objection_window, state.window_start]
    if state.status in PENDING:
        due.append(state.window_end)
    deadline = notification_deadline(agreement, state)
    if (
        deadline is not None
        and state.status is _S.EXECUTED_UNILATERALLY
        and state.notified_at is None
        and not any(b.kind == "missing_notification" for b in state.breaches)
    ):
        due.append(deadline)
    return min((t for t in due if t >= at), default=None)


def overdue(agreement: Agreement, state: OperationState, *, at: datetime) -> bool:
    """Whether an imminent-threat operation's notification is overdue at ``at``."""
    deadline = notification_deadline(agreement, state)
    return (
        deadline is not None
        and state.status is _S.EXECUTED_UNILATERALLY
        and state.notified_at is None
        and at > deadline
    )


# --- proposing ------------------------------------------------------------------------------


def propose(
    agreement: Agreement,
    operation: OperationLike,
    *,
    at: datetime,
    confirmations: Mapping[str, datetime],
    blocking_conflicts: int = 0,
) -> OperationState:
    """Propose a coordinated operation or notify a synchronized one.

    The proposer is ``operation.proposed_by``. ``confirmations`` says when each agreement
    condition was confirmed (for the phase in force at ``at``); ``blocking_conflicts`` is how
    many blocking conflicts the deconfliction engine found.

    A coordinated proposal counts as the proposer's approval. A synchronized one is a notice:
    the objection window opens at ``at``.

    Raises
    ------
    IllegalTransition
        The agreement has no such category; the category is imminent threat (those are
        reported after the fact with :func:`report_imminent`); no executor, a repeated
        executor, or more executors than a coordinated category allows; a negative conflict
        count.
    NotAuthorized
        The proposer or an executor is not a party.
    DeadlineError
        The window ends before it starts; a coordinated window does not start after ``at``; a
        synchronized notice comes less than the category's ``notice`` before the window (the
        message gives the earliest window start allowed).
    PhaseError
        No phase is in force yet, or the phase in force does not permit the category.
    """
    actor = operation.proposed_by
    ask = _Ask(operation.id, actor, "propose")
    ask.aware(at=at)
    rule = ask.rule(agreement, operation.category)
    if isinstance(rule, ImminentThreatRule):
        raise ask.refuse(
            IllegalTransition,
            f"category {operation.category!r} is for imminent threats: such operations are "
            "not proposed beforehand but reported after the fact",
        )
    ask.party(agreement, actor)
    _check_operation(ask, agreement, operation, rule)
    if blocking_conflicts < 0:
        raise ask.refuse(IllegalTransition, "a conflict count cannot be negative")
    _check_phase(ask, agreement, operation.category, at, confirmations)
    common: dict[str, Any] = {
        "id": operation.id,
        "category": operation.category,
        "proposed_by": actor,
        "executors": tuple(operation.executors),
        "window_start": operation.window_start,
        "window_end": operation.window_end,
        "proposed_at": at,
        "blocking_conflicts": blocking_conflicts,
    }
    conflicts = f"; {blocking_conflicts} blocking conflict(s) stand" if blocking_conflicts else ""
    if isinstance(rule, CoordinatedRule):
        if operation.window_start <= at:
            raise ask.refuse(
                DeadlineError,
                f"its window starts at {_t(operation.window_start)}, not after the proposal "
                f"at {_t(at)}; every party must approve before the window opens",
            )
        detail = f"proposed by {actor!r}, counted as its approval{conflicts}"
        return OperationState(
            rule=RuleKind.COORDINATED,
            status=_S.PROPOSED,
            approvals=frozenset({actor}),
            history=(Transition(at, actor, "propose", None, _S.PROPOSED, detail),),
            **common,
        )
    earliest = at + rule.notice
    if operation.window_start < earliest:
        raise ask.refuse(
            DeadlineError,
            f"category {operation.category!r} needs notice of at least {rule.notice} before "
            f"the window opens; notified at {_t(at)}, the window may start no earlier than "
            f"{_t(earliest)} (it starts at {_t(operation.window_start)})",
        )
    detail = f"notified by {actor!r}; objections until {_t(at + rule.objection_window)}{conflicts}"
    return OperationState(
        rule=RuleKind.SYNCHRONIZED,
        status=_S.NOTIFIED,
        history=(Transition(at, actor, "propose", None, _S.NOTIFIED, detail),),
        **common,
    )


# --- coordinated ----------------------------------------------------------------------------


def approve(
    agreement: Agreement,
    state: OperationState,
    *,
    actor: str,
    at: datetime,
    override_reason: str | None = None,
) -> OperationState:
    """A party approves a coordinated operation; the last approval makes it ``approved``.

    While blocking conflicts stand, an approval needs a written ``override_reason``; it is
    recorded in ``overrides`` (who, when, why) and in the transition's detail.

    Raises
    ------
    IllegalTransition
        Not coordinated; not ``proposed`` (e.g. vetoed, cancelled, expired); already approved
        by the actor.
    NotAuthorized
        The actor is not a party.
    DeadlineError
        After the window opened.
    BlockingConflict
        Blocking conflicts stand and no override reason was given.
    """
    ask = _ask(state, actor, "approve", at)
    _kind(ask, state, RuleKind.COORDINATED)
    ask.party(agreement, actor)
    state = settle(agreement, state, at=at)
    if state.status not in (_S.PROPOSED, _S.APPROVED):
        raise ask.refuse(IllegalTransition, _status(state))
    if actor in state.approvals:
        raise ask.refuse(IllegalTransition, f"{actor!r} has already approved it")
    if at > state.window_start:
        raise ask.refuse(
            DeadlineError,
            f"its window opened at {_t(state.window_start)}; approvals are due before",
        )
    reason = (override_reason or "").strip()
    if state.blocking_conflicts > 0 and not reason:
        raise ask.refuse(
            BlockingConflict,
            f"{state.blocking_conflicts} blocking conflict(s) stand; approving requires a "
            "written override reason",
        )
    approvals = state.approvals | {actor}
    waiting = agreement.party_ids - approvals
    detail = f"approved by {actor!r}"
    detail += f"; waiting for {_names(waiting)}" if waiting else "; every party approved"
    overrides = state.overrides
    if reason:
        overrides = (*overrides, Override(party=actor, at=at, reason=reason))
        detail += f"; override by {actor!r}: {reason}"
    return _step(
        state,
        at=at,
        actor=actor,
        action="approve",
        to=_S.PROPOSED if waiting else _S.APPROVED,
        detail=detail,
        approvals=approvals,
        overrides=overrides,
    )


def veto(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime, reason: str
) -> OperationState:
    """A party vetoes a coordinated operation before its execution (``vetoed``, terminal).

    Raises
    ------
    IllegalTransition
        Not coordinated; empty reason; not ``proposed`` or ``approved``.
    NotAuthorized
        The actor is not a party.
    """
    ask = _ask(state, actor, "veto", at)
    _kind(ask, state, RuleKind.COORDINATED)
    ask.party(agreement, actor)
    text = ask.text(reason, "a veto's reason")
    state = settle(agreement, state, at=at)
    if state.status not in (_S.PROPOSED, _S.APPROVED):
        raise ask.refuse(IllegalTransition, _status(state))
    return _step(
        state,
        at=at,
        actor=actor,
        action="veto",
        to=_S.VETOED,
        detail=f"vetoed by {actor!r}: {text}",
        vetoed_by=actor,
        veto_reason=text,
    )


def update_conflicts(
    agreement: Agreement,
    state: OperationState,
    *,
    actor: str,
    at: datetime,
    blocking_conflicts: int,
) -> OperationState:
    """Record a new count of blocking conflicts found by re-running the deconfliction engine.

    This is the center's step (``actor`` is typically ``"center"``). When the count of a
    coordinated operation rises, approvals other than the proposer's were given against fewer
    conflicts: they are withdrawn, the override reasons dropped, and the operation goes back to
    ``proposed`` for the parties to approve again (with an override reason). A synchronized
    operation cannot be executed while blocking conflicts stand.

    Raises
    ------
    IllegalTransition
        A negative count; the operation was already executed or has ended.
    """
    ask = _ask(state, actor, "update the conflicts of", at)
    if blocking_conflicts < 0:
        raise ask.refuse(IllegalTransition, "a conflict count cannot be negative")
    state = settle(agreement, state, at=at)
    if state.status not in PENDING:
        raise ask.refuse(IllegalTransition, _status(state))
    detail = f"blocking conflicts {state.blocking_conflicts} -> {blocking_conflicts}"
    changes: dict[str, Any] = {"blocking_conflicts": blocking_conflicts}
    to = state.status
    others = state.approvals - {state.proposed_by}
    if (
        state.rule is RuleKind.COORDINATED
        and blocking_conflicts > state.blocking_conflicts
        and (others or state.overrides)
    ):
        to = _S.PROPOSED
        changes["approvals"] = frozenset({state.proposed_by})
        changes["overrides"] = ()
        detail += f"; approvals by {_names(others)} withdrawn, to be given again"
    return _step(
        state, at=at, actor=actor, action="update_conflicts", to=to, detail=detail, **changes
    )


# --- synchronized ---------------------------------------------------------------------------


def object_to(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime, evidence: str
) -> OperationState:
    """A party other than the proposer objects to a synchronized operation, with evidence.

    With ``hold_while_objected`` the operation goes ``on_hold`` until every objection is
    withdrawn; otherwise the objection is recorded and the operation is not held.

    Raises
    ------
    IllegalTransition
        Not synchronized; empty evidence; the actor's earlier objection still stands; the
        operation was cancelled, expired or executed.
    NotAuthorized
        The actor is not a party, or is the proposer.
    DeadlineError
        Outside the objection window (see :func:`objection_deadline`).
    """
    ask = _ask(state, actor, "object to", at)
    _kind(ask, state, RuleKind.SYNCHRONIZED)
    ask.party(agreement, actor)
    if actor == state.proposed_by:
        raise ask.refuse(NotAuthorized, "the proposer cannot object to its own operation")
    text = ask.text(evidence, "an objection's evidence")
    rule = _sync_rule(agreement, state)
    state = settle(agreement, state, at=at)
    if state.status not in (_S.NOTIFIED, _S.ON_HOLD, _S.CLEARED):
        raise ask.refuse(IllegalTransition, _status(state))
    if not _objection_open(agreement, state, at):
        raise ask.refuse(
            DeadlineError,
            f"objections are accepted from {_t(state.proposed_at)} until "
            f"{_t(objection_deadline(agreement, state))} (and before the window opens at "
            f"{_t(state.window_start)}); it is {_t(at)}",
        )
    if any(o.party == actor for o in state.standing_objections):
        raise ask.refuse(IllegalTransition, f"an objection by {actor!r} already stands")
    held = "; held while it stands" if rule.hold_while_objected else ""
    return _step(
        state,
        at=at,
        actor=actor,
        action="object",
        to=_S.ON_HOLD if rule.hold_while_objected else state.status,
        detail=f"objection by {actor!r}: {text}{held}",
        objections=(*state.objections, Objection(party=actor, at=at, evidence=text)),
    )


def withdraw_objection(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime
) -> OperationState:
    """The objector withdraws its standing objection.

    When no objection stands any longer the operation returns to ``notified`` if the objection
    window is still open, else it is ``cleared``.

    Raises
    ------
    IllegalTransition
        Not synchronized; the operation was cancelled, expired or executed.
    NotAuthorized
        The actor has no standing objection (only the objector can withdraw one).
    """
    ask = _ask(state, actor, "withdraw an objection to", at)
    _kind(ask, state, RuleKind.SYNCHRONIZED)
    rule = _sync_rule(agreement, state)
    state = settle(agreement, state, at=at)
    mine = {i for i, o in enumerate(state.objections) if o.party == actor and o.standing}
    if not mine:
        raise ask.refuse(
            NotAuthorized,
            f"{actor!r} has no standing objection to it; only the objector can withdraw one",
        )
    if state.status not in (_S.NOTIFIED, _S.ON_HOLD, _S.CLEARED):
        raise ask.refuse(IllegalTransition, _status(state))
    objections = tuple(
        replace(o, withdrawn_at=at) if i in mine else o for i, o in enumerate(state.objections)
    )
    still = [o.party for o in objections if o.standing]
    if still and rule.hold_while_objected:
        to = _S.ON_HOLD
    elif _objection_open(agreement, state, at):
        to = _S.NOTIFIED
    else:
        to = _S.CLEARED
    detail = f"objection by {actor!r} withdrawn"
    detail += f"; objection by {_names(still)} still stands" if still else ""
    return _step(
        state,
        at=at,
        actor=actor,
        action="withdraw_objection",
        to=to,
        detail=detail,
        objections=objections,
    )


# --- execution ------------------------------------------------------------------------------


def execute(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime
) -> OperationState:
    """An executor carries out an approved (coordinated) or cleared (synchronized) operation.

    The state is settled up to ``at`` first, so a synchronized operation whose objection
    window has closed is cleared here.

    Raises
    ------
    NotAuthorized
        The actor is not one of the executors.
    IllegalTransition
        An imminent-threat operation (reported, not executed through the center); vetoed,
        cancelled or already executed; a coordinated one not approved by every party; a
        synchronized one on hold.
    DeadlineError
        ``at`` outside the window (or the window has closed and the operation expired).
    BlockingConflict
        Blocking conflicts stand and no approver recorded an override reason (coordinated), or
        blocking conflicts stand at all (synchronized: there is no approver to override them).
    """
    ask = _ask(state, actor, "execute", at)
    if state.rule is RuleKind.IMMINENT_THREAT:
        raise ask.refuse(
            IllegalTransition,
            "imminent-threat operations are reported after the fact, not executed through "
            "the center",
        )
    if actor not in state.executors:
        raise ask.refuse(NotAuthorized, f"only {_names(state.executors)} may execute it")
    state = settle(agreement, state, at=at)
    if state.status in (_S.VETOED, _S.CANCELLED, _S.EXECUTED, _S.COMPLETED):
        raise ask.refuse(IllegalTransition, _status(state))
    if state.status is _S.EXPIRED or not state.window_start <= at <= state.window_end:
        raise ask.refuse(
            DeadlineError,
            f"its window is {_t(state.window_start)} to {_t(state.window_end)}; it is {_t(at)}",
        )
    if state.rule is RuleKind.COORDINATED:
        if state.status is not _S.APPROVED:
            waiting = _names(agreement.party_ids - state.approvals)
            raise ask.refuse(
                IllegalTransition, f"it is not approved: waiting for approval by {waiting}"
            )
        if state.blocking_conflicts > 0 and not state.overrides:
            raise ask.refuse(
                BlockingConflict,
                f"{state.blocking_conflicts} blocking conflict(s) stand and no approver "
                "recorded an override reason",
            )
    else:
        if state.status is not _S.CLEARED:
            raise ask.refuse(IllegalTransition, _status(state))
        if state.blocking_conflicts > 0:
            raise ask.refuse(
                BlockingConflict,
                f"{state.blocking_conflicts} blocking conflict(s) stand; a synchronized "
                "operation has no approver to override them",
            )
    return _step(
        state,
        at=at,
        actor=actor,
        action="execute",
        to=_S.EXECUTED,
        detail=f"executed by {actor!r}",
        executed_at=at,
        executed_by=actor,
    )


def complete(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime
) -> OperationState:
    """An executor reports an executed operation finished (``completed``, terminal).

    Raises
    ------
    NotAuthorized
        The actor is not one of the executors.
    IllegalTransition
        The operation is not ``executed`` (imminent-threat operations never are).
    """
    ask = _ask(state, actor, "complete", at)
    if state.rule is RuleKind.IMMINENT_THREAT:
        raise ask.refuse(
            IllegalTransition, "imminent-threat operations are reported, not completed"
        )
    if actor not in state.executors:
        raise ask.refuse(NotAuthorized, f"only {_names(state.executors)} may complete it")
    state = settle(agreement, state, at=at)
    if state.status is not _S.EXECUTED:
        raise ask.refuse(
            IllegalTransition, f"only an executed operation can be completed; {_status(state)}"
        )
    return _step(
        state,
        at=at,
        actor=actor,
        action="complete",
        to=_S.COMPLETED,
        detail=f"completed by {actor!r}",
        completed_at=at,
    )


def cancel(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime, reason: str
) -> OperationState:
    """The proposer withdraws its operation before execution (``cancelled``, terminal).

    Raises
    ------
    NotAuthorized
        The actor is not the proposer.
    IllegalTransition
        Empty reason; the operation was executed or has ended.
    """
    ask = _ask(state, actor, "cancel", at)
    if actor != state.proposed_by:
        raise ask.refuse(NotAuthorized, f"only its proposer {state.proposed_by!r} may cancel it")
    text = ask.text(reason, "a cancellation's reason")
    state = settle(agreement, state, at=at)
    if state.status not in PENDING:
        raise ask.refuse(IllegalTransition, _status(state))
    return _step(
        state,
        at=at,
        actor=actor,
        action="cancel",
        to=_S.CANCELLED,
        detail=f"cancelled by {actor!r}: {text}",
        cancel_reason=text,
    )


# --- imminent threat ------------------------------------------------------------------------


def _check_imminent(
    ask: _Ask,
    agreement: Agreement,
    operation: OperationLike,
    *,
    executed_at: datetime,
    at: datetime,
    confirmations: Mapping[str, datetime],
) -> ImminentThreatRule:
    ask.aware(at=at, executed_at=executed_at)
    rule = ask.rule(agreement, operation.category)
    if not isinstance(rule, ImminentThreatRule):
        raise ask.refuse(
            IllegalTransition,
            f"category {operation.category!r} is {rule.rule}: such operations are proposed "
            "beforehand, not reported after the fact",
        )
    executor = operation.proposed_by
    ask.party(agreement, executor)
    _check_operation(ask, agreement, operation, rule)
    if executor not in operation.executors:
        raise ask.refuse(
            NotAuthorized,
            f"the reporting party {executor!r} is not among its executors "
            f"({_names(operation.executors)})",
        )
    if executed_at > at:
        raise ask.refuse(
            DeadlineError, f"the execution at {_t(executed_at)} is after the report at {_t(at)}"
        )
    _check_phase(ask, agreement, operation.category, executed_at, confirmations)
    return rule


def report_imminent(
    agreement: Agreement,
    operation: OperationLike,
    *,
    executed_at: datetime,
    at: datetime,
    confirmations: Mapping[str, datetime],
) -> OperationState:
    """The executor reports an imminent-threat operation after the fact.

    The reporter is ``operation.proposed_by``. A report within the category's
    ``notify_within`` of ``executed_at`` is ``notified_in_time``; a later one is
    ``notified_late`` with a ``late_notification`` breach.

    Raises
    ------
    IllegalTransition
        The category is not imminent threat (or unknown); no executor or a repeated one.
    NotAuthorized
        The reporter is not a party or not among the executors; an executor is not a party.
    DeadlineError
        ``executed_at`` after ``at``; the window ends before it starts.
    PhaseError
        The phase in force at ``executed_at`` does not permit the category.
    """
    actor = operation.proposed_by
    ask = _Ask(operation.id, actor, "report")
    rule = _check_imminent(
        ask, agreement, operation, executed_at=executed_at, at=at, confirmations=confirmations
    )
    deadline = executed_at + rule.notify_within
    breaches: tuple[Breach, ...] = ()
    if at <= deadline:
        status = _S.NOTIFIED_IN_TIME
        detail = f"executed at {_t(executed_at)}, notified by {actor!r} in time"
    else:
        status = _S.NOTIFIED_LATE
        detail = (
            f"executed at {_t(executed_at)}, notified by {actor!r} at {_t(at)}, "
            f"after the deadline {_t(deadline)}"
        )
        breach = Breach("late_notification", actor, at, f"operation {operation.id!r}: {detail}")
        breaches = (breach,)
    return OperationState(
        id=operation.id,
        category=operation.category,
        rule=RuleKind.IMMINENT_THREAT,
        proposed_by=actor,
        executors=tuple(operation.executors),
        window_start=operation.window_start,
        window_end=operation.window_end,
        status=status,
        proposed_at=at,
        executed_at=executed_at,
        executed_by=actor,
        notified_at=at,
        history=(Transition(at, actor, "report", None, status, detail),),
        breaches=breaches,
    )


def record_unilateral_execution(
    agreement: Agreement,
    operation: OperationLike,
    *,
    executed_at: datetime,
    at: datetime,
    reported_by: str,
    confirmations: Mapping[str, datetime],
) -> OperationState:
    """Record an imminent-threat execution the center learns of before its notification.

    ``reported_by`` is another party or a monitor; the executing party
    (``operation.proposed_by``) still owes the notification (:func:`notify`), and
    :func:`settle` records a ``missing_notification`` breach once the deadline passes.

    Raises
    ------
    NotAuthorized
        ``reported_by`` is neither a party nor a monitor; the executing party is not a party
        or not among the executors.
    IllegalTransition
        ``reported_by`` is the executing party itself (it reports with
        :func:`report_imminent`); the category is not imminent threat.
    DeadlineError
        ``executed_at`` after ``at``.
    PhaseError
        The phase in force at ``executed_at`` does not permit the category.
    """
    ask = _Ask(operation.id, reported_by, "record the execution of")
    if reported_by not in agreement.party_ids | agreement.monitor_ids:
        raise ask.refuse(
            NotAuthorized, f"{reported_by!r} is neither a party nor a monitor of the agreement"
        )
    if reported_by == operation.proposed_by:
        raise ask.refuse(
            IllegalTransition,
            "the executing party notifies its own execution with a report, not a record",
        )
    _check_imminent(
        ask, agreement, operation, executed_at=executed_at, at=at, confirmations=confirmations
    )
    detail = (
        f"{reported_by!r} reports execution by {operation.proposed_by!r} at "
        f"{_t(executed_at)}; notification outstanding"
    )
    status = _S.EXECUTED_UNILATERALLY
    return OperationState(
        id=operation.id,
        category=operation.category,
        rule=RuleKind.IMMINENT_THREAT,
        proposed_by=operation.proposed_by,
        executors=tuple(operation.executors),
        window_start=operation.window_start,
        window_end=operation.window_end,
        status=status,
        proposed_at=at,
        executed_at=executed_at,
        executed_by=operation.proposed_by,
        history=(Transition(at, reported_by, "record_execution", None, status, detail),),
    )


def notify(
    agreement: Agreement, state: OperationState, *, actor: str, at: datetime
) -> OperationState:
    """The executor notifies an ``executed_unilaterally`` imminent-threat operation.

    In time gives ``notified_in_time``; late gives ``notified_late`` with a
    ``late_notification`` breach, unless :func:`settle` already recorded a
    ``missing_notification`` breach for it (one failure, one breach).

    Raises
    ------
    IllegalTransition
        Not imminent threat; not ``executed_unilaterally`` (e.g. already notified).
    NotAuthorized
        The actor is not one of the executors.
    """
    ask = _ask(state, actor, "notify", at)
    _kind(ask, state, RuleKind.IMMINENT_THREAT)
    if actor not in state.executors:
        raise ask.refuse(NotAuthorized, f"only {_names(state.executors)} may notify it")
    # No settle() here: a late notice is one late_notification breach; only a settle() between
    # the deadline and the notice observes the notice missing (and then it is not counted twice).
    deadline = notification_deadline(agreement, state)
    if state.status is not _S.EXECUTED_UNILATERALLY or deadline is None:
        raise ask.refuse(IllegalTransition, _status(state))
    if at <= deadline:
        return _step(
            state,
            at=at,
            actor=actor,
            action="notify",
            to=_S.NOTIFIED_IN_TIME,
            detail=f"notified by {actor!r} in time (deadline {_t(deadline)})",
            notified_at=at,
        )
    detail = f"notified by {actor!r} at {_t(at)}, after the deadline {_t(deadline)}"
    breaches = state.breaches
    if any(b.kind == "missing_notification" for b in breaches):
        detail += "; a missing-notification breach is already recorded"
    else:
        late = Breach(
            "late_notification", state.proposed_by, at, f"operation {state.id!r}: {detail}"
        )
        breaches = (*breaches, late)
    return _step(
        state,
        at=at,
        actor=actor,
        action="notify",
        to=_S.NOTIFIED_LATE,
        detail=detail,
        notified_at=at,
        breaches=breaches,
    )


# --- dispatcher -----------------------------------------------------------------------------


def apply(
    agreement: Agreement,
    state: OperationState | None,
    event: Event,
    *,
    confirmations: Mapping[str, datetime] = _NO_CONFIRMATIONS,
) -> OperationState:
    """Apply one event and return the new state.

    A creating event (:class:`Propose`, :class:`Report`, :class:`RecordExecution`) applies to
    ``None`` and uses ``confirmations`` for the phase in force; every other event applies to
    an existing state. :class:`Tick` settles the state (see :func:`settle`).
    """
    a = agreement
    if isinstance(event, Propose | Report | RecordExecution):
        if state is not None:
            actor = event.reported_by if isinstance(event, RecordExecution) else None
            ask = _Ask(state.id, actor or event.operation.proposed_by, "create")
            raise ask.refuse(IllegalTransition, "the operation already exists")
        if isinstance(event, Propose):
            return propose(
                a,
                event.operation,
                at=event.at,
                confirmations=confirmations,
                blocking_conflicts=event.blocking_conflicts,
            )
        if isinstance(event, Report):
            return report_imminent(
                a,
                event.operation,
                executed_at=event.executed_at,
                at=event.at,
                confirmations=confirmations,
            )
        return record_unilateral_execution(
            a,
            event.operation,
            executed_at=event.executed_at,
            at=event.at,
            reported_by=event.reported_by,
            confirmations=confirmations,
        )
    if state is None:
        raise IllegalTransition(
            f"{event.actor!r} cannot apply {type(event).__name__} at {_t(event.at)}: there is "
            "no operation yet (propose or report one first)"
        )
    s, who, at = state, event.actor, event.at
    match event:
        case Approve():
            return approve(a, s, actor=who, at=at, override_reason=event.override_reason)
        case Veto():
            return veto(a, s, actor=who, at=at, reason=event.reason)
        case Object():
            return object_to(a, s, actor=who, at=at, evidence=event.evidence)
        case WithdrawObjection():
            return withdraw_objection(a, s, actor=who, at=at)
        case Execute():
            return execute(a, s, actor=who, at=at)
        case Complete():
            return complete(a, s, actor=who, at=at)
        case Cancel():
            return cancel(a, s, actor=who, at=at, reason=event.reason)
        case Notify():
            return notify(a, s, actor=who, at=at)
        case UpdateConflicts():
            return update_conflicts(
                a, s, actor=who, at=at, blocking_conflicts=event.blocking_conflicts
            )
        case Tick():
            return settle(a, s, at=at)
