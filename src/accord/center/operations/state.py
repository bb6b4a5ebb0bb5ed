"""A JSON codec for :class:`~accord.rules.operations.OperationState`: how the service keeps
an operation's state in its row.

Why the state and not the events: the rules judged each step against the agreement and the
instant of that step; storing what they decided (status, approvals, objections, overrides,
breaches and the whole history) keeps that judgement as it was made. Replaying stored events
would re-judge old steps with whatever rules and agreement the server runs today, and a
changed rule would silently rewrite the past. The events themselves are in the signed record
anyway (one entry per step), so nothing is lost by not storing them twice.

Instants are written with :func:`accord.chrono.format_instant` (UTC, ``Z``, microseconds
kept), so decoding gives back an equal state:

>>> from datetime import UTC, datetime
>>> from accord.agreement import RuleKind
>>> from accord.rules.operations import OperationStatus, Transition
>>> t = datetime(2026, 9, 21, 2, 0, tzinfo=UTC)
>>> state = OperationState(id="op-1", category="coordinated", rule=RuleKind.COORDINATED,
...     proposed_by="blue", executors=("blue",), window_start=t, window_end=t,
...     status=OperationStatus.PROPOSED, proposed_at=t, approvals=frozenset({"blue"}),
...     history=(Transition(t, "blue", "propose", None, OperationStatus.PROPOSED),))
>>> decode_state(encode_state(state)) == state
True
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from accord.agreement import RuleKind
from accord.chrono import format_instant, parse_instant
from accord.rules.operations import (
    Breach,
    Objection,
    OperationState,
    OperationStatus,
    Override,
    Transition,
)

__all__ = ["decode_state", "encode_state", "state_from_json", "state_to_json"]

FORMAT = 1
"""The version of the stored form; a reader refuses forms it does not know."""


def _t(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)


def _i(value: Any) -> datetime | None:
    return None if value is None else parse_instant(value)


def _need(value: Any) -> datetime:
    return parse_instant(value)


def state_to_json(state: OperationState) -> dict[str, Any]:
    """The state as a JSON-ready dict (lists in a fixed order, instants as text)."""
    return {
        "format": FORMAT,
        "id": state.id,
        "category": state.category,
        "rule": state.rule.value,
        "proposed_by": state.proposed_by,
        "executors": list(state.executors),
        "window_start": _t(state.window_start),
        "window_end": _t(state.window_end),
        "status": state.status.value,
        "proposed_at": _t(state.proposed_at),
        "approvals": sorted(state.approvals),
        "vetoed_by": state.vetoed_by,
        "veto_reason": state.veto_reason,
        "objections": [
            {
                "party": o.party,
                "at": _t(o.at),
                "evidence": o.evidence,
                "withdrawn_at": _t(o.withdrawn_at),
            }
            for o in state.objections
        ],
        "overrides": [
            {"party": o.party, "at": _t(o.at), "reason": o.reason} for o in state.overrides
        ],
        "blocking_conflicts": state.blocking_conflicts,
        "executed_at": _t(state.executed_at),
        "executed_by": state.executed_by,
        "completed_at": _t(state.completed_at),
        "notified_at": _t(state.notified_at),
        "cancel_reason": state.cancel_reason,
        "history": [
            {
                "at": _t(h.at),
                "actor": h.actor,
                "action": h.action,
                "from": None if h.from_status is None else h.from_status.value,
                "to": h.to_status.value,
                "detail": h.detail,
            }
            for h in state.history
        ],
        "breaches": [
            {"kind": b.kind, "party": b.party, "at": _t(b.at), "detail": b.detail}
            for b in state.breaches
        ],
    }


def state_from_json(data: dict[str, Any]) -> OperationState:
    """The state of :func:`state_to_json`'s dict.

    Raises ``ValueError`` for a stored form of another version (a ``KeyError`` or
    ``ValueError`` for a damaged one: stored states are written only by this module).
    """
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown stored operation state format {data.get('format')!r}")
    return OperationState(
        id=data["id"],
        category=data["category"],
        rule=RuleKind(data["rule"]),
        proposed_by=data["proposed_by"],
        executors=tuple(data["executors"]),
        window_start=_need(data["window_start"]),
        window_end=_need(data["window_end"]),
        status=OperationStatus(data["status"]),
        proposed_at=_need(data["proposed_at"]),
        approvals=frozenset(data["approvals"]),
        vetoed_by=data["vetoed_by"],
        veto_reason=data["veto_reason"],
        objections=tuple(
            Objection(o["party"], _need(o["at"]), o["evidence"], _i(o["withdrawn_at"]))
            for o in data["objections"]
        ),
        overrides=tuple(
            Override(o["party"], _need(o["at"]), o["reason"]) for o in data["overrides"]
        ),
        blocking_conflicts=int(data["blocking_conflicts"]),
        executed_at=_i(data["executed_at"]),
        executed_by=data["executed_by"],
        completed_at=_i(data["completed_at"]),
        notified_at=_i(data["notified_at"]),
        cancel_reason=data["cancel_reason"],
        history=tuple(
            Transition(
                _need(h["at"]),
                h["actor"],
                h["action"],
                None if h["from"] is None else OperationStatus(h["from"]),
                OperationStatus(h["to"]),
                h["detail"],
            )
            for h in data["history"]
        ),
        breaches=tuple(
            Breach(b["kind"], b["party"], _need(b["at"]), b["detail"]) for b in data["breaches"]
        ),
    )


def encode_state(state: OperationState) -> str:
    """The state as compact JSON text (what the ``operations.state`` column holds)."""
    return json.dumps(state_to_json(state), separators=(",", ":"), sort_keys=True)


def decode_state(text: str) -> OperationState:
    """The state of :func:`encode_state`'s text."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a stored operation state is a JSON object")
    return state_from_json(data)
