"""The stored form of an operation's state gives back an equal state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.agreement import RuleKind
from accord.center.operations.state import decode_state, encode_state
from accord.rules.operations import (
    Breach,
    Objection,
    OperationState,
    OperationStatus,
    Override,
    Transition,
)

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
texts = st.text(max_size=30)
names = st.sampled_from(["blue", "red", "clock", "observers"])
statuses = st.sampled_from(list(OperationStatus))
optional = st.none() | instants

states = st.builds(
    OperationState,
    id=texts,
    category=texts,
    rule=st.sampled_from(list(RuleKind)),
    proposed_by=names,
    executors=st.lists(names, max_size=3).map(tuple),
    window_start=instants,
    window_end=instants,
    status=statuses,
    proposed_at=instants,
    approvals=st.frozensets(names),
    vetoed_by=st.none() | names,
    veto_reason=st.none() | texts,
    objections=st.lists(st.builds(Objection, names, instants, texts, optional), max_size=3).map(
        tuple
    ),
    overrides=st.lists(st.builds(Override, names, instants, texts), max_size=2).map(tuple),
    blocking_conflicts=st.integers(0, 50),
    executed_at=optional,
    executed_by=st.none() | names,
    completed_at=optional,
    notified_at=optional,
    cancel_reason=st.none() | texts,
    history=st.lists(
        st.builds(Transition, instants, names, texts, st.none() | statuses, statuses, texts),
        max_size=4,
    ).map(tuple),
    breaches=st.lists(st.builds(Breach, texts, names, instants, texts), max_size=2).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(states)
def test_a_stored_state_reads_back_equal(state: OperationState) -> None:
    assert decode_state(encode_state(state)) == state


def test_an_unknown_stored_form_is_refused() -> None:
    t = datetime(2026, 9, 21, tzinfo=UTC)
    state = OperationState(
        id="op-1",
        category="coordinated",
        rule=RuleKind.COORDINATED,
        proposed_by="blue",
        executors=("blue",),
        window_start=t,
        window_end=t + timedelta(hours=1),
        status=OperationStatus.PROPOSED,
        proposed_at=t,
    )
    text = encode_state(state).replace('"format":1', '"format":99')
    with pytest.raises(ValueError, match="format"):
        decode_state(text)
