"""Operation life cycles: every transition and every refusal of accord.rules.operations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.agreement import Agreement, RuleKind, load_agreement, load_agreement_text
from accord.chrono import format_instant
from accord.errors import (
    BlockingConflict,
    DeadlineError,
    IllegalTransition,
    NotAuthorized,
    PhaseError,
    RuleError,
)
from accord.examples import example_path
from accord.rules import (
    CLOCK,
    Approve,
    Breach,
    Cancel,
    Complete,
    Event,
    Execute,
    Notify,
    Object,
    Objection,
    OperationState,
    OperationStatus,
    Override,
    Propose,
    RecordExecution,
    Report,
    Tick,
    UpdateConflicts,
    Veto,
    WithdrawObjection,
    apply,
    approve,
    cancel,
    complete,
    execute,
    next_settled,
    notification_deadline,
    notify,
    object_to,
    objection_deadline,
    overdue,
    propose,
    record_unilateral_execution,
    report_imminent,
    settle,
    update_conflicts,
    veto,
    withdraw_objection,
)

JIG = load_agreement(example_path("jig.yaml"))
START = JIG.starts_at
AID = {"aid-delivered-east-city": START + timedelta(days=3)}
T = START + timedelta(days=8)  # joint-center phase in force (from day 7, aid confirmed day 3)
H = timedelta(hours=1)
M = timedelta(minutes=1)
S = OperationStatus


@dataclass(frozen=True)
class Op:
    id: str = "op-1"
    category: str = "coordinated"
    proposed_by: str = "blue"
    executors: tuple[str, ...] = ("blue",)
    window_start: datetime = T + 2 * H
    window_end: datetime = T + 4 * H


def sync_op(**kw: Any) -> Op:
    base = Op(id="op-s", category="synchronized", window_start=T + 7 * H, window_end=T + 9 * H)
    return dataclasses.replace(base, **kw)


def imminent_op(**kw: Any) -> Op:
    base = Op(
        id="op-i",
        category="imminent_threat",
        window_start=START + 24 * H,
        window_end=START + 25 * H,
    )
    return dataclasses.replace(base, **kw)


def proposed(blocking: int = 0, **kw: Any) -> OperationState:
    op = dataclasses.replace(Op(), **kw)
    return propose(JIG, op, at=T, confirmations=AID, blocking_conflicts=blocking)


def approved() -> OperationState:
    return approve(JIG, proposed(), actor="red", at=T + H)


def notified(agreement: Agreement = JIG, **kw: Any) -> OperationState:
    return propose(agreement, sync_op(**kw), at=T, confirmations=AID)


def three_party(extra: str = "") -> Agreement:
    return load_agreement_text(
        f"""
id: three
title: Three parties
starts_at: {format_instant(START)}
parties: [{{id: blue, name: Blue}}, {{id: red, name: Red}}, {{id: gold, name: Gold}}]
monitors: [{{id: observers, name: Observers}}]
categories:
  coordinated: {{rule: coordinated, max_executors: 2}}
  synchronized: {{rule: synchronized, notice: PT1H, objection_window: PT3H{extra}}}
  imminent_threat: {{rule: imminent_threat, notify_within: PT1H}}
phases:
  - {{id: joint, categories: [coordinated, synchronized, imminent_threat]}}
"""
    )


def names_everyone(err: pytest.ExceptionInfo[RuleError], op_id: str, actor: str) -> None:
    text = str(err.value)
    assert repr(op_id) in text
    assert repr(actor) in text


# --- propose --------------------------------------------------------------------------------


def test_propose_coordinated_counts_the_proposers_approval() -> None:
    state = proposed()
    assert state.status is S.PROPOSED
    assert state.rule is RuleKind.COORDINATED
    assert state.approvals == frozenset({"blue"})
    assert state.proposed_at == T
    assert len(state.history) == 1
    first = state.history[0]
    assert (first.actor, first.action, first.from_status, first.to_status) == (
        "blue",
        "propose",
        None,
        S.PROPOSED,
    )


def test_propose_synchronized_is_a_notice() -> None:
    state = notified()
    assert state.status is S.NOTIFIED
    assert state.rule is RuleKind.SYNCHRONIZED
    assert state.approvals == frozenset()
    assert objection_deadline(JIG, state) == T + 2 * H


def test_propose_unknown_category_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="no category 'airstrike'") as err:
        propose(JIG, Op(category="airstrike"), at=T, confirmations=AID)
    names_everyone(err, "op-1", "blue")


def test_imminent_threat_cannot_be_proposed() -> None:
    with pytest.raises(IllegalTransition, match="reported after the fact"):
        propose(JIG, Op(category="imminent_threat"), at=T, confirmations=AID)


@pytest.mark.parametrize("who", ["green-af", "hnc", "observers", "nobody"])
def test_propose_by_non_party_is_refused(who: str) -> None:
    with pytest.raises(NotAuthorized, match="not a party") as err:
        propose(JIG, Op(proposed_by=who), at=T, confirmations=AID)
    names_everyone(err, "op-1", who)


def test_executor_must_be_a_party() -> None:
    with pytest.raises(NotAuthorized, match="executor 'green-af'"):
        propose(JIG, Op(executors=("green-af",)), at=T, confirmations=AID)


def test_executors_must_not_be_empty_or_repeated() -> None:
    with pytest.raises(IllegalTransition, match="no executing party"):
        propose(JIG, Op(executors=()), at=T, confirmations=AID)
    with pytest.raises(IllegalTransition, match="twice"):
        propose(JIG, sync_op(executors=("blue", "blue")), at=T, confirmations=AID)


def test_coordinated_allows_at_most_max_executors() -> None:
    with pytest.raises(IllegalTransition, match="at most 1 executing party"):
        propose(JIG, Op(executors=("blue", "red")), at=T, confirmations=AID)
    # synchronized operations have no such limit
    state = propose(JIG, sync_op(executors=("blue", "red")), at=T, confirmations=AID)
    assert state.executors == ("blue", "red")
    # and a category may allow integrated operations
    state = propose(three_party(), Op(executors=("blue", "red")), at=T, confirmations={})
    assert state.executors == ("blue", "red")


def test_window_must_end_after_it_starts() -> None:
    with pytest.raises(DeadlineError, match="window ends"):
        propose(JIG, Op(window_end=T + 2 * H), at=T, confirmations=AID)


def test_coordinated_window_must_start_after_the_proposal() -> None:
    with pytest.raises(DeadlineError, match="every party must approve before"):
        propose(JIG, Op(window_start=T, window_end=T + H), at=T, confirmations=AID)


def test_synchronized_notice_too_late_names_the_earliest_start() -> None:
    late = sync_op(window_start=T + 5 * H)
    with pytest.raises(DeadlineError, match="notice of at least") as err:
        propose(JIG, late, at=T, confirmations=AID)
    assert format_instant(T + 6 * H) in str(err.value)
    names_everyone(err, "op-s", "blue")
    # exactly the notice period is enough
    state = propose(JIG, sync_op(window_start=T + 6 * H), at=T, confirmations=AID)
    assert state.status is S.NOTIFIED


def test_coordinated_during_the_truce_is_refused() -> None:
    day1 = START + timedelta(days=1)
    op = Op(window_start=day1 + H, window_end=day1 + 2 * H)
    with pytest.raises(PhaseError) as err:
        propose(JIG, op, at=day1, confirmations=AID)
    text = str(err.value)
    assert "'truce'" in text
    assert "'joint-center'" in text
    assert format_instant(START + timedelta(days=7)) in text
    names_everyone(err, "op-1", "blue")


def test_coordinated_after_day_seven_waits_for_the_aid_condition() -> None:
    with pytest.raises(PhaseError, match="aid-delivered-east-city"):
        propose(JIG, Op(), at=T, confirmations={})
    # a confirmation dated after the proposal is not yet known
    with pytest.raises(PhaseError, match="aid-delivered-east-city"):
        propose(JIG, Op(), at=T, confirmations={"aid-delivered-east-city": T + H})


def test_phase_error_names_when_a_known_later_phase_starts() -> None:
    day5 = START + timedelta(days=5)
    op = Op(window_start=day5 + H, window_end=day5 + 2 * H)
    with pytest.raises(PhaseError, match="first permitted in phase 'joint-center', from") as err:
        propose(JIG, op, at=day5, confirmations=AID)
    assert format_instant(START + timedelta(days=7)) in str(err.value)


def test_phase_error_skips_phases_and_says_when_none_permits() -> None:
    staged = load_agreement_text(
        f"""
id: staged
title: Staged
starts_at: {format_instant(START)}
parties: [{{id: blue, name: Blue}}, {{id: red, name: Red}}]
categories:
  coordinated: {{rule: coordinated}}
  synchronized: {{rule: synchronized, notice: PT1H, objection_window: PT1H}}
  imminent_threat: {{rule: imminent_threat, notify_within: PT1H}}
phases:
  - {{id: one, categories: [imminent_threat]}}
  - {{id: two, starts: {{after: P1D}}, categories: [imminent_threat]}}
  - {{id: three, starts: {{after: P2D}}, categories: [coordinated]}}
"""
    )
    at = START + H
    op = Op(window_start=at + 2 * H, window_end=at + 3 * H)
    with pytest.raises(PhaseError, match="first permitted in phase 'three'"):
        propose(staged, op, at=at, confirmations={})
    with pytest.raises(PhaseError, match="no later phase permits it"):
        propose(staged, dataclasses.replace(op, category="synchronized"), at=at, confirmations={})


def test_no_phase_before_the_agreement_starts() -> None:
    before = START - timedelta(days=1)
    with pytest.raises(PhaseError, match="no phase"):
        propose(JIG, Op(window_start=START, window_end=START + H), at=before, confirmations=AID)


def test_negative_conflict_count_and_naive_times_are_refused() -> None:
    with pytest.raises(IllegalTransition, match="negative"):
        proposed(blocking=-1)
    with pytest.raises(DeadlineError, match="no UTC offset"):
        propose(JIG, Op(), at=T.replace(tzinfo=None), confirmations=AID)


# --- approve --------------------------------------------------------------------------------


def test_last_approval_makes_it_approved() -> None:
    state = approved()
    assert state.status is S.APPROVED
    assert state.approvals == frozenset({"blue", "red"})
    assert [t.action for t in state.history] == ["propose", "approve"]
    assert state.history[-1].from_status is S.PROPOSED
    assert state.history[-1].to_status is S.APPROVED


def test_approval_waits_for_every_party() -> None:
    three = three_party()
    state = propose(three, Op(), at=T, confirmations={})
    state = approve(three, state, actor="red", at=T + M)
    assert state.status is S.PROPOSED
    assert "waiting for 'gold'" in state.history[-1].detail
    state = approve(three, state, actor="gold", at=T + 2 * M)
    assert state.status is S.APPROVED


@pytest.mark.parametrize("who", ["green-af", "observers", "hnc"])
def test_approval_by_non_party_is_refused(who: str) -> None:
    with pytest.raises(NotAuthorized) as err:
        approve(JIG, proposed(), actor=who, at=T + H)
    names_everyone(err, "op-1", who)


def test_double_approval_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already approved"):
        approve(JIG, proposed(), actor="blue", at=T + H)
    with pytest.raises(IllegalTransition, match="already approved"):
        approve(JIG, approved(), actor="red", at=T + H)


def test_approval_after_veto_is_refused() -> None:
    state = veto(JIG, proposed(), actor="red", at=T + H, reason="our unit is there")
    with pytest.raises(IllegalTransition, match="vetoed by 'red'") as err:
        approve(JIG, state, actor="red", at=T + H)
    names_everyone(err, "op-1", "red")


def test_approval_after_the_window_opened_is_refused() -> None:
    with pytest.raises(DeadlineError, match="approvals are due before"):
        approve(JIG, proposed(), actor="red", at=T + 2 * H + M)
    # after the window closed the operation has expired
    with pytest.raises(IllegalTransition, match="expired"):
        approve(JIG, proposed(), actor="red", at=T + 5 * H)


def test_only_coordinated_operations_are_approved() -> None:
    with pytest.raises(IllegalTransition, match="only to coordinated"):
        approve(JIG, notified(), actor="red", at=T + H)


def test_blocking_conflicts_need_an_override_reason() -> None:
    state = proposed(blocking=2)
    with pytest.raises(BlockingConflict, match="2 blocking conflict") as err:
        approve(JIG, state, actor="red", at=T + H)
    names_everyone(err, "op-1", "red")
    with pytest.raises(BlockingConflict):
        approve(JIG, state, actor="red", at=T + H, override_reason="   ")


def test_override_reason_is_recorded_with_who_gave_it() -> None:
    state = approve(
        JIG, proposed(blocking=1), actor="red", at=T + H, override_reason="our unit withdrew"
    )
    assert state.status is S.APPROVED
    assert state.overrides == (Override(party="red", at=T + H, reason="our unit withdrew"),)
    assert state.override_reason == "our unit withdrew"
    assert "override by 'red': our unit withdrew" in state.history[-1].detail
    assert proposed().override_reason is None


# --- veto -----------------------------------------------------------------------------------


def test_veto_of_a_proposed_operation() -> None:
    state = veto(JIG, proposed(), actor="red", at=T + H, reason="our troops are there")
    assert state.status is S.VETOED
    assert (state.vetoed_by, state.veto_reason) == ("red", "our troops are there")
    assert state.terminal


def test_veto_of_an_approved_operation_even_by_its_proposer() -> None:
    state = veto(JIG, approved(), actor="blue", at=T + 3 * H, reason="target moved")
    assert state.status is S.VETOED
    assert state.history[-1].from_status is S.APPROVED


def test_veto_refusals() -> None:
    with pytest.raises(NotAuthorized):
        veto(JIG, proposed(), actor="observers", at=T + H, reason="x")
    with pytest.raises(IllegalTransition, match="must not be empty"):
        veto(JIG, proposed(), actor="red", at=T + H, reason=" ")
    with pytest.raises(IllegalTransition, match="only to coordinated"):
        veto(JIG, notified(), actor="red", at=T + H, reason="x")
    vetoed = veto(JIG, proposed(), actor="red", at=T + H, reason="x")
    with pytest.raises(IllegalTransition, match="vetoed"):
        veto(JIG, vetoed, actor="blue", at=T + H, reason="y")
    executed = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    with pytest.raises(IllegalTransition, match="already executed"):
        veto(JIG, executed, actor="red", at=T + 3 * H, reason="too late")


# --- execute --------------------------------------------------------------------------------


def test_execution_of_an_approved_operation() -> None:
    state = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    assert state.status is S.EXECUTED
    assert (state.executed_at, state.executed_by) == (T + 3 * H, "blue")
    # the window's bounds are inside it
    assert execute(JIG, approved(), actor="blue", at=T + 2 * H).status is S.EXECUTED
    assert execute(JIG, approved(), actor="blue", at=T + 4 * H).status is S.EXECUTED


def test_execution_by_non_executor_is_refused() -> None:
    with pytest.raises(NotAuthorized, match="only 'blue' may execute") as err:
        execute(JIG, approved(), actor="red", at=T + 3 * H)
    names_everyone(err, "op-1", "red")


def test_execution_of_a_vetoed_operation_is_refused() -> None:
    state = veto(JIG, approved(), actor="red", at=T + H, reason="no")
    with pytest.raises(IllegalTransition, match="vetoed by 'red'"):
        execute(JIG, state, actor="blue", at=T + 3 * H)


def test_execution_of_an_unapproved_operation_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="waiting for approval by 'red'"):
        execute(JIG, proposed(), actor="blue", at=T + 3 * H)


def test_execution_outside_the_window_is_refused() -> None:
    with pytest.raises(DeadlineError, match="its window is"):
        execute(JIG, approved(), actor="blue", at=T + 2 * H - M)
    with pytest.raises(DeadlineError, match="its window is"):
        execute(JIG, approved(), actor="blue", at=T + 4 * H + M)


def test_execution_twice_and_after_cancel_is_refused() -> None:
    state = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    with pytest.raises(IllegalTransition, match="already executed"):
        execute(JIG, state, actor="blue", at=T + 3 * H)
    cancelled = cancel(JIG, approved(), actor="blue", at=T + H, reason="no longer needed")
    with pytest.raises(IllegalTransition, match="cancelled"):
        execute(JIG, cancelled, actor="blue", at=T + 3 * H)


def test_execution_with_overridden_blocking_conflicts() -> None:
    state = approve(JIG, proposed(blocking=1), actor="red", at=T + H, override_reason="accepted")
    assert execute(JIG, state, actor="blue", at=T + 3 * H).status is S.EXECUTED


def test_execution_with_blocking_conflicts_and_no_override_is_refused() -> None:
    # a state whose conflicts were never overridden (e.g. rebuilt from an older record)
    state = dataclasses.replace(approved(), blocking_conflicts=1)
    with pytest.raises(BlockingConflict, match="no approver recorded an override"):
        execute(JIG, state, actor="blue", at=T + 3 * H)


# --- new conflicts after approval -----------------------------------------------------------


def test_new_blocking_conflicts_withdraw_approvals() -> None:
    state = update_conflicts(JIG, approved(), actor="center", at=T + H, blocking_conflicts=1)
    assert state.status is S.PROPOSED
    assert state.approvals == frozenset({"blue"})
    assert state.blocking_conflicts == 1
    assert "withdrawn" in state.history[-1].detail
    with pytest.raises(IllegalTransition, match="waiting for approval by 'red'"):
        execute(JIG, state, actor="blue", at=T + 3 * H)
    with pytest.raises(BlockingConflict):
        approve(JIG, state, actor="red", at=T + H)
    state = approve(JIG, state, actor="red", at=T + H, override_reason="checked")
    assert execute(JIG, state, actor="blue", at=T + 3 * H).status is S.EXECUTED


def test_fewer_conflicts_keep_approvals() -> None:
    state = approve(JIG, proposed(blocking=2), actor="red", at=T + H, override_reason="ok")
    state = update_conflicts(JIG, state, actor="center", at=T + H, blocking_conflicts=0)
    assert state.status is S.APPROVED
    assert state.blocking_conflicts == 0


def test_update_conflicts_refusals() -> None:
    with pytest.raises(IllegalTransition, match="negative"):
        update_conflicts(JIG, proposed(), actor="center", at=T, blocking_conflicts=-1)
    executed = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    with pytest.raises(IllegalTransition):
        update_conflicts(JIG, executed, actor="center", at=T + 3 * H, blocking_conflicts=1)


# --- synchronized: objections ---------------------------------------------------------------


def test_objection_puts_the_operation_on_hold() -> None:
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="our patrol, grid 123")
    assert state.status is S.ON_HOLD
    assert state.objections == (Objection("red", T + H, "our patrol, grid 123"),)
    assert state.standing_objections == state.objections


def test_objection_by_the_proposer_is_refused() -> None:
    with pytest.raises(NotAuthorized, match="proposer cannot object") as err:
        object_to(JIG, notified(), actor="blue", at=T + H, evidence="x")
    names_everyone(err, "op-s", "blue")


def test_objection_by_non_party_is_refused() -> None:
    with pytest.raises(NotAuthorized, match="not a party"):
        object_to(JIG, notified(), actor="observers", at=T + H, evidence="x")


def test_objection_after_the_window_is_refused() -> None:
    # the objection window (PT2H) includes its last instant
    on_hold = object_to(JIG, notified(), actor="red", at=T + 2 * H, evidence="x")
    assert on_hold.status is S.ON_HOLD
    with pytest.raises(DeadlineError, match="objections are accepted") as err:
        object_to(JIG, notified(), actor="red", at=T + 2 * H + M, evidence="x")
    names_everyone(err, "op-s", "red")


def test_objection_closes_when_the_window_opens() -> None:
    three = three_party()  # notice PT1H, objection window PT3H
    state = propose(three, sync_op(window_start=T + H), at=T, confirmations={})
    assert objection_deadline(three, state) == T + H
    with pytest.raises(DeadlineError):
        object_to(three, state, actor="red", at=T + H, evidence="x")
    assert object_to(three, state, actor="red", at=T + H - M, evidence="x").status is S.ON_HOLD


def test_objection_refusals() -> None:
    with pytest.raises(IllegalTransition, match="must not be empty"):
        object_to(JIG, notified(), actor="red", at=T + H, evidence="")
    with pytest.raises(IllegalTransition, match="only to synchronized"):
        object_to(JIG, proposed(), actor="red", at=T + H, evidence="x")
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="x")
    with pytest.raises(IllegalTransition, match="already stands"):
        object_to(JIG, state, actor="red", at=T + H, evidence="y")
    cancelled = cancel(JIG, notified(), actor="blue", at=T + H, reason="called off")
    with pytest.raises(IllegalTransition, match="cancelled"):
        object_to(JIG, cancelled, actor="red", at=T + H, evidence="x")


def test_withdrawal_inside_the_window_returns_to_notified() -> None:
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="x")
    state = withdraw_objection(JIG, state, actor="red", at=T + H + M)
    assert state.status is S.NOTIFIED
    assert state.objections[0].withdrawn_at == T + H + M
    assert state.standing_objections == ()
    # and a new objection may be raised in the window
    again = object_to(JIG, state, actor="red", at=T + H + 2 * M, evidence="y")
    assert again.status is S.ON_HOLD
    assert len(again.objections) == 2


def test_on_hold_stays_on_hold_after_the_window_until_withdrawn() -> None:
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="x")
    assert settle(JIG, state, at=T + 3 * H).status is S.ON_HOLD
    state = withdraw_objection(JIG, state, actor="red", at=T + 3 * H)
    assert state.status is S.CLEARED
    assert state.history[-1].action == "withdraw_objection"


def test_withdrawal_by_someone_else_is_refused() -> None:
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="x")
    with pytest.raises(NotAuthorized, match="only the objector") as err:
        withdraw_objection(JIG, state, actor="blue", at=T + H)
    names_everyone(err, "op-s", "blue")
    with pytest.raises(NotAuthorized):
        withdraw_objection(JIG, notified(), actor="red", at=T + H)


def test_withdrawal_keeps_the_hold_while_another_objection_stands() -> None:
    three = three_party()
    state = propose(three, sync_op(), at=T, confirmations={})
    state = object_to(three, state, actor="red", at=T + M, evidence="x")
    state = object_to(three, state, actor="gold", at=T + 2 * M, evidence="y")
    state = withdraw_objection(three, state, actor="red", at=T + 3 * M)
    assert state.status is S.ON_HOLD
    assert [o.party for o in state.standing_objections] == ["gold"]


def test_withdrawal_after_the_operation_ended_is_refused() -> None:
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="x")
    with pytest.raises(IllegalTransition, match="expired"):
        withdraw_objection(JIG, state, actor="red", at=T + 10 * H)


def test_objections_do_not_hold_when_the_agreement_says_so() -> None:
    three = three_party(", hold_while_objected: false")
    state = propose(three, sync_op(), at=T, confirmations={})
    state = object_to(three, state, actor="red", at=T + M, evidence="x")
    assert state.status is S.NOTIFIED
    assert len(state.standing_objections) == 1
    state = settle(three, state, at=T + 3 * H + M)
    assert state.status is S.CLEARED
    state = withdraw_objection(three, state, actor="red", at=T + 4 * H)
    assert state.status is S.CLEARED


# --- synchronized: clearing and execution ---------------------------------------------------


def test_settle_clears_when_the_objection_window_closes() -> None:
    state = notified()
    assert settle(JIG, state, at=T + 2 * H) is state  # the last instant is still open
    cleared = settle(JIG, state, at=T + 2 * H + M)
    assert cleared.status is S.CLEARED
    last = cleared.history[-1]
    assert (last.actor, last.action, last.at) == (CLOCK, "clear", T + 2 * H)
    assert settle(JIG, cleared, at=T + 2 * H + M) is cleared  # idempotent


def test_execution_of_a_synchronized_operation_settles_first() -> None:
    state = execute(JIG, notified(), actor="blue", at=T + 8 * H)
    assert state.status is S.EXECUTED
    assert [t.action for t in state.history] == ["propose", "clear", "execute"]


def test_execution_while_on_hold_is_refused() -> None:
    state = object_to(JIG, notified(), actor="red", at=T + H, evidence="our patrol")
    with pytest.raises(IllegalTransition, match="on hold: objection by 'red'") as err:
        execute(JIG, state, actor="blue", at=T + 8 * H)
    names_everyone(err, "op-s", "blue")


def test_synchronized_execution_with_blocking_conflicts_is_refused() -> None:
    state = propose(JIG, sync_op(), at=T, confirmations=AID, blocking_conflicts=1)
    with pytest.raises(BlockingConflict, match="no approver"):
        execute(JIG, state, actor="blue", at=T + 8 * H)
    state = update_conflicts(JIG, state, actor="center", at=T + H, blocking_conflicts=0)
    assert execute(JIG, state, actor="blue", at=T + 8 * H).status is S.EXECUTED


# --- expiry, completion, cancellation -------------------------------------------------------


@pytest.mark.parametrize(
    "make", [proposed, approved, notified], ids=["proposed", "approved", "notified"]
)
def test_expiry_after_the_window(make: Callable[[], OperationState]) -> None:
    state = make()
    assert settle(JIG, state, at=state.window_end).status is not S.EXPIRED
    expired = settle(JIG, state, at=state.window_end + M)
    assert expired.status is S.EXPIRED
    assert expired.history[-1].at == state.window_end
    assert expired.history[-1].actor == CLOCK
    assert settle(JIG, expired, at=state.window_end + 10 * H) is expired


def test_executed_and_terminal_operations_do_not_expire() -> None:
    executed = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    assert settle(JIG, executed, at=T + 100 * H) is executed
    vetoed = veto(JIG, proposed(), actor="red", at=T + H, reason="x")
    assert settle(JIG, vetoed, at=T + 100 * H) is vetoed


def test_complete_an_executed_operation() -> None:
    state = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    done = complete(JIG, state, actor="blue", at=T + 5 * H)
    assert done.status is S.COMPLETED
    assert done.completed_at == T + 5 * H
    with pytest.raises(NotAuthorized, match="only 'blue' may complete"):
        complete(JIG, state, actor="red", at=T + 5 * H)
    with pytest.raises(IllegalTransition, match="only an executed operation"):
        complete(JIG, approved(), actor="blue", at=T + 3 * H)
    with pytest.raises(IllegalTransition):
        complete(JIG, done, actor="blue", at=T + 6 * H)


@pytest.mark.parametrize(
    "make", [proposed, approved, notified], ids=["proposed", "approved", "notified"]
)
def test_cancel_before_execution(make: Callable[[], OperationState]) -> None:
    state = make()
    cancelled = cancel(JIG, state, actor="blue", at=T + H, reason="target gone")
    assert cancelled.status is S.CANCELLED
    assert cancelled.cancel_reason == "target gone"


def test_cancel_refusals() -> None:
    with pytest.raises(NotAuthorized, match="only its proposer 'blue'") as err:
        cancel(JIG, proposed(), actor="red", at=T + H, reason="x")
    names_everyone(err, "op-1", "red")
    with pytest.raises(IllegalTransition, match="must not be empty"):
        cancel(JIG, proposed(), actor="blue", at=T + H, reason="")
    executed = execute(JIG, approved(), actor="blue", at=T + 3 * H)
    with pytest.raises(IllegalTransition, match="already executed"):
        cancel(JIG, executed, actor="blue", at=T + 3 * H, reason="x")
    vetoed = veto(JIG, proposed(), actor="red", at=T + H, reason="x")
    with pytest.raises(IllegalTransition, match="vetoed"):
        cancel(JIG, vetoed, actor="blue", at=T + H, reason="x")
    with pytest.raises(IllegalTransition, match="expired"):
        cancel(JIG, proposed(), actor="blue", at=T + 5 * H, reason="x")


def test_a_step_dated_before_the_last_one_is_refused() -> None:
    state = approved()  # last step at T + 1h
    with pytest.raises(DeadlineError, match="before the last recorded step") as err:
        veto(JIG, state, actor="red", at=T + 30 * M, reason="x")
    names_everyone(err, "op-1", "red")


# --- imminent threat ------------------------------------------------------------------------

DAY1 = START + timedelta(days=1)


def test_imminent_threat_reported_in_time_during_the_truce() -> None:
    state = report_imminent(JIG, imminent_op(), executed_at=DAY1, at=DAY1 + H, confirmations={})
    assert state.status is S.NOTIFIED_IN_TIME
    assert state.breaches == ()
    assert (state.executed_at, state.executed_by, state.notified_at) == (DAY1, "blue", DAY1 + H)
    assert state.terminal
    assert [t.action for t in state.history] == ["report"]


def test_imminent_threat_reported_late_is_a_breach() -> None:
    state = report_imminent(JIG, imminent_op(), executed_at=DAY1, at=DAY1 + H + M, confirmations={})
    assert state.status is S.NOTIFIED_LATE
    assert len(state.breaches) == 1
    breach = state.breaches[0]
    assert (breach.kind, breach.party, breach.at) == ("late_notification", "blue", DAY1 + H + M)
    assert "op-i" in breach.detail


def test_report_refusals() -> None:
    with pytest.raises(NotAuthorized, match="not among its executors") as err:
        report_imminent(
            JIG, imminent_op(executors=("red",)), executed_at=DAY1, at=DAY1, confirmations={}
        )
    names_everyone(err, "op-i", "blue")
    with pytest.raises(NotAuthorized, match="not a party"):
        report_imminent(
            JIG,
            imminent_op(proposed_by="green-af", executors=("green-af",)),
            executed_at=DAY1,
            at=DAY1,
            confirmations={},
        )
    with pytest.raises(DeadlineError, match="after the report"):
        report_imminent(JIG, imminent_op(), executed_at=DAY1 + H, at=DAY1, confirmations={})
    before = START - H
    with pytest.raises(PhaseError, match="no phase"):
        report_imminent(JIG, imminent_op(), executed_at=before, at=START, confirmations={})
    with pytest.raises(IllegalTransition, match="proposed beforehand"):
        report_imminent(JIG, Op(), executed_at=T, at=T, confirmations=AID)


def recorded(at: datetime = DAY1 + 10 * M, by: str = "red") -> OperationState:
    return record_unilateral_execution(
        JIG, imminent_op(), executed_at=DAY1, at=at, reported_by=by, confirmations={}
    )


def test_unilateral_execution_then_notice_in_time() -> None:
    state = recorded()
    assert state.status is S.EXECUTED_UNILATERALLY
    assert state.history[0].actor == "red"
    assert notification_deadline(JIG, state) == DAY1 + H
    assert not overdue(JIG, state, at=DAY1 + H)
    state = notify(JIG, state, actor="blue", at=DAY1 + H)
    assert state.status is S.NOTIFIED_IN_TIME
    assert state.notified_at == DAY1 + H
    assert state.breaches == ()


def test_unilateral_execution_then_late_notice() -> None:
    state = notify(JIG, recorded(), actor="blue", at=DAY1 + H + M)
    assert state.status is S.NOTIFIED_LATE
    assert [b.kind for b in state.breaches] == ["late_notification"]


def test_missing_notification_is_recorded_once() -> None:
    state = recorded()
    assert overdue(JIG, state, at=DAY1 + H + M)
    once = settle(JIG, state, at=DAY1 + 2 * H)
    assert once.status is S.EXECUTED_UNILATERALLY
    assert once.breaches == (
        Breach(
            "missing_notification",
            "blue",
            DAY1 + H,
            once.breaches[0].detail,
        ),
    )
    assert once.history[-1].action == "breach"
    assert once.history[-1].actor == CLOCK
    twice = settle(JIG, once, at=DAY1 + 5 * H)
    assert twice.breaches == once.breaches
    assert len(twice.history) == len(once.history)
    # the late notice arrives: no second breach for the same failure
    late = notify(JIG, twice, actor="blue", at=DAY1 + 6 * H)
    assert late.status is S.NOTIFIED_LATE
    assert [b.kind for b in late.breaches] == ["missing_notification"]
    assert not overdue(JIG, late, at=DAY1 + 7 * H)


def test_missing_notification_learned_after_the_deadline_keeps_history_in_order() -> None:
    state = recorded(at=DAY1 + 3 * H)
    settled = settle(JIG, state, at=DAY1 + 3 * H)
    assert settled.breaches[0].at == DAY1 + H
    times = [t.at for t in settled.history]
    assert times == sorted(times)


def test_record_and_notify_refusals() -> None:
    assert recorded(by="observers").status is S.EXECUTED_UNILATERALLY
    with pytest.raises(NotAuthorized, match="neither a party nor a monitor"):
        recorded(by="hnc")
    with pytest.raises(IllegalTransition, match="with a report"):
        recorded(by="blue")
    with pytest.raises(NotAuthorized, match="only 'blue' may notify") as err:
        notify(JIG, recorded(), actor="red", at=DAY1 + H)
    names_everyone(err, "op-i", "red")
    done = notify(JIG, recorded(), actor="blue", at=DAY1 + H)
    with pytest.raises(IllegalTransition, match="notified in time"):
        notify(JIG, done, actor="blue", at=DAY1 + H)
    with pytest.raises(IllegalTransition, match="only to imminent-threat"):
        notify(JIG, proposed(), actor="blue", at=T + H)
    with pytest.raises(IllegalTransition, match="reported after the fact"):
        execute(JIG, recorded(), actor="blue", at=DAY1 + H)
    with pytest.raises(IllegalTransition, match="reported, not completed"):
        complete(JIG, recorded(), actor="blue", at=DAY1 + H)
    with pytest.raises(IllegalTransition, match="notification is outstanding"):
        cancel(JIG, recorded(), actor="blue", at=DAY1 + H, reason="x")


def test_deadline_helpers_for_other_categories() -> None:
    assert notification_deadline(JIG, proposed()) is None
    assert not overdue(JIG, proposed(), at=T + 100 * H)


# --- apply ----------------------------------------------------------------------------------


def test_apply_plays_a_script() -> None:
    script: list[Event] = [
        Propose(Op(), at=T),
        Approve("red", at=T + H),
        Tick(at=T + 2 * H),
        Execute("blue", at=T + 3 * H),
        Complete("blue", at=T + 4 * H),
    ]
    state: OperationState | None = None
    for event in script:
        state = apply(JIG, state, event, confirmations=AID)
    assert state is not None
    assert state.status is S.COMPLETED
    assert [t.action for t in state.history] == ["propose", "approve", "execute", "complete"]


def test_apply_dispatches_every_event() -> None:
    s = apply(JIG, None, Propose(sync_op(), at=T), confirmations=AID)
    s = apply(JIG, s, Object("red", at=T + M, evidence="x"))
    s = apply(JIG, s, WithdrawObjection("red", at=T + 2 * M))
    s = apply(JIG, s, UpdateConflicts("center", at=T + 3 * M, blocking_conflicts=0))
    s = apply(JIG, s, Cancel("blue", at=T + 4 * M, reason="called off"))
    assert [t.action for t in s.history] == [
        "propose",
        "object",
        "withdraw_objection",
        "update_conflicts",
        "cancel",
    ]
    v = apply(JIG, None, Propose(Op(), at=T, blocking_conflicts=0), confirmations=AID)
    v = apply(JIG, v, Veto("red", at=T + M, reason="x"))
    assert v.status is S.VETOED
    r = apply(JIG, None, Report(imminent_op(), executed_at=DAY1, at=DAY1))
    assert r.status is S.NOTIFIED_IN_TIME
    u = apply(JIG, None, RecordExecution(imminent_op(), DAY1, DAY1, reported_by="red"))
    u = apply(JIG, u, Notify("blue", at=DAY1 + M))
    assert u.status is S.NOTIFIED_IN_TIME


def test_apply_refuses_mismatched_events() -> None:
    with pytest.raises(IllegalTransition, match="no operation yet"):
        apply(JIG, None, Approve("red", at=T))
    with pytest.raises(IllegalTransition, match="already exists"):
        apply(JIG, proposed(), Propose(Op(), at=T), confirmations=AID)


# --- properties -----------------------------------------------------------------------------

ACTORS = ["blue", "red", "blue", "red", "green-af", "observers"]
KINDS = [
    *["approve"] * 4,
    *["execute"] * 4,
    *["complete"] * 2,
    "override",
    "tick",
    "object",
    "withdraw",
    "veto",
    "cancel",
    "conflicts",
    "notify",
]


EXECUTORS = ["blue", "blue", "blue", "red"]
OFFSETS = [0, 10, 60, 110, 120, 121, 200, 419, 420, 450, 480, 540, 541, 600]


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """Scripts of events whose times mostly move forward through the window (T+7h to T+9h)."""
    out: list[Event] = []
    # minutes after the proposal: inside and around the objection window (until 120) and the
    # operation window (420 to 540); mostly in order, sometimes out of order
    offsets = draw(st.lists(st.sampled_from(OFFSETS), max_size=14))
    if not draw(st.booleans()):
        offsets.sort()
    if draw(st.booleans()):  # often start with the other party's approval
        out.append(Approve("red", T + M))
    for minutes in offsets:
        at = T + minutes * M
        actor = draw(st.sampled_from(ACTORS))
        kind = draw(st.sampled_from(KINDS))
        match kind:
            case "approve":
                out.append(Approve(actor, at))
            case "override":
                out.append(Approve(actor, at, override_reason="checked"))
            case "veto":
                out.append(Veto(actor, at, reason="no"))
            case "object":
                out.append(Object(actor, at, evidence="ours"))
            case "withdraw":
                out.append(WithdrawObjection(actor, at))
            case "execute":
                out.append(Execute(draw(st.sampled_from(EXECUTORS)), at))
            case "complete":
                out.append(Complete(draw(st.sampled_from(EXECUTORS)), at))
            case "cancel":
                out.append(Cancel(actor, at, reason="off"))
            case "tick":
                out.append(Tick(at))
            case "conflicts":
                out.append(UpdateConflicts("center", at, draw(st.integers(0, 2))))
            case _:
                out.append(Notify(actor, at))
    return out


@settings(max_examples=300, deadline=None)
@given(
    category=st.sampled_from(["coordinated", "synchronized"]),
    blocking=st.sampled_from([0, 0, 0, 1, 2]),
    script=events(),
)
def test_random_scripts_respect_the_rules(
    category: str, blocking: int, script: list[Event]
) -> None:
    op = Op(category=category, window_start=T + 7 * H, window_end=T + 9 * H)
    state = propose(JIG, op, at=T, confirmations=AID, blocking_conflicts=blocking)
    accepted = 0
    ever_vetoed = False
    for event in script:
        try:
            state = apply(JIG, state, event)
        except RuleError:
            continue
        if not isinstance(event, Tick):
            accepted += 1
        ever_vetoed = ever_vetoed or state.status is S.VETOED
        # a vetoed operation is never executed
        assert not (ever_vetoed and state.executed_at is not None)
        # nobody but a party ever approves
        assert state.approvals <= JIG.party_ids
        if state.status in (S.EXECUTED, S.COMPLETED):
            assert state.executed_by in op.executors
            assert op.window_start <= (state.executed_at or T) <= op.window_end
            if category == "coordinated":
                assert state.approvals == JIG.party_ids
                assert state.blocking_conflicts == 0 or state.overrides
            else:
                assert not state.standing_objections
                assert state.blocking_conflicts == 0
    steps = [t for t in state.history if t.actor != CLOCK]
    assert len(steps) == accepted + 1
    times = [t.at for t in state.history]
    assert times == sorted(times)
    for earlier, later in zip(state.history, state.history[1:], strict=False):
        assert later.from_status is earlier.to_status


MICRO = timedelta(microseconds=1)


@settings(max_examples=300, deadline=None)
@given(
    category=st.sampled_from(["coordinated", "synchronized", "imminent"]),
    blocking=st.sampled_from([0, 0, 1]),
    script=events(),
    after=st.sampled_from([*OFFSETS, 61, 700, 3000]),
    probes=st.lists(st.integers(0, 5000 * 60), max_size=6),
)
def test_settle_answers_the_same_until_next_settled(
    category: str, blocking: int, script: list[Event], after: int, probes: list[int]
) -> None:
    """What :func:`next_settled` says holds until then does: :func:`settle` answers the same
    at every instant from ``at`` to just before it (the compliance report keeps its
    judgement that long); and after nothing more is due, forever."""
    if category == "imminent":
        state = record_unilateral_execution(
            JIG,
            imminent_op(window_start=T, window_end=T + 2 * H),
            executed_at=T,
            at=T + 10 * M,
            reported_by="red",
            confirmations=AID,
        )
    else:
        op = Op(category=category, window_start=T + 7 * H, window_end=T + 9 * H)
        state = propose(JIG, op, at=T, confirmations=AID, blocking_conflicts=blocking)
    for event in script:
        try:
            state = apply(JIG, state, event)
        except RuleError:
            continue
    at = max(T + after * M, state.history[-1].at)
    until = next_settled(JIG, state, at=at)
    assert until is None or until >= at
    settled = settle(JIG, state, at=at)
    end = at + timedelta(days=30) if until is None else until
    for t in [at, end - MICRO, *(at + seconds * timedelta(seconds=1) for seconds in probes)]:
        if at <= t < end:
            assert settle(JIG, state, at=t) == settled, (t, until)
