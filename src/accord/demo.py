"""The scripted scenario of ``accord demo``: the brief's source story played through the core.

Every step goes through the real agreement, world, deconfliction engine and rules; a step the
rules refuse is shown as refused, with the rules' own message. Times come from the script,
never from the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.agreement import Agreement, phase_at
from accord.chrono import format_instant, parse_instant
from accord.deconfliction import DeconflictionIndex
from accord.errors import RuleError
from accord.rules import (
    DesignatedAreaIndex,
    OperationState,
    approve,
    complete,
    execute,
    object_to,
    propose,
    report_imminent,
    settle,
    veto,
)
from accord.world import FlightPlan, Operation, World

__all__ = ["Step", "run_demo"]


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the timeline."""

    at: datetime
    actor: str
    action: str
    outcome: str  # "ok", "refused", "flagged", "breach", "info"
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at),
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "detail": self.detail,
        }


def _t(text: str) -> datetime:
    return parse_instant(text)


class _Script:
    def __init__(self, agreement: Agreement, world: World) -> None:
        self.agreement = agreement
        self.world = world
        self.index = DeconflictionIndex(agreement, world)
        self.areas = DesignatedAreaIndex(agreement)
        self.confirmations: dict[str, datetime] = {}
        self.states: dict[str, OperationState] = {}
        self.steps: list[Step] = []

    def log(self, at: datetime, actor: str, action: str, outcome: str, detail: str) -> None:
        self.steps.append(Step(at, actor, action, outcome, detail))

    def op(self, op_id: str) -> Operation:
        obj = self.world[op_id]
        assert isinstance(obj, Operation)
        return obj

    def attempt(
        self,
        at: datetime,
        actor: str,
        action: str,
        step: Callable[[], OperationState],
        success: str,
    ) -> OperationState | None:
        try:
            state = step()
        except RuleError as error:
            self.log(at, actor, action, "refused", str(error))
            return None
        self.states[state.id] = state
        self.log(at, actor, action, "ok", f"{success} (status: {state.status.value})")
        return state

    def phase(self, at: datetime) -> None:
        status = phase_at(self.agreement, at, self.confirmations)
        name = "none" if status is None else f"{status.phase.id} ({status.phase.name})"
        since = "" if status is None else f", in force since {format_instant(status.started_at)}"
        self.log(at, "center", "phase", "info", f"phase in force: {name}{since}")

    def deconflict(self, at: datetime, op_id: str, viewer: str) -> int:
        result = self.index.check(self.op(op_id))
        if not result.conflicts:
            self.log(at, "center", f"deconflict {op_id}", "ok", "no conflicts")
            return 0
        for conflict in result.conflicts:
            seen = conflict.visible_to(viewer)
            what = seen.with_id if seen.with_id is not None else "(undisclosed)"
            far = "" if seen.distance_m is None else f" {seen.distance_m:,.0f} m from the area"
            verdict = "BLOCKING" if seen.blocking else "warning"
            self.log(
                at,
                "center",
                f"deconflict {op_id}",
                "flagged",
                f"{verdict}: {seen.kind.value} {what} of {seen.party}{far} (as {viewer} sees it)",
            )
        return sum(1 for c in result.conflicts if c.blocking)

    def flight(self, at: datetime, flight_id: str) -> None:
        plan = self.world[flight_id]
        assert isinstance(plan, FlightPlan)
        findings = self.areas.check(plan)
        if not findings:
            self.log(at, plan.operator, f"file {flight_id}", "ok", "no designated area entered")
        for finding in findings:
            if finding.verdict == "violation":
                self.log(
                    at,
                    plan.operator,
                    f"file {flight_id}",
                    "refused",
                    f"{plan.mission} flight of {plan.operator} enters designated area "
                    f"{finding.area_id}: a violation, the flight plan is refused",
                )
            else:
                self.log(
                    at,
                    plan.operator,
                    f"file {flight_id}",
                    "ok",
                    f"{plan.mission} flight enters designated area {finding.area_id}: "
                    "exempt mission, accepted and recorded as exempt",
                )


def run_demo(agreement: Agreement, world: World) -> list[Step]:
    """Play the scenario over the example agreement and world; return the timeline."""
    s = _Script(agreement, world)
    a = agreement
    cfm = s.confirmations

    t = a.starts_at
    s.phase(t)
    s.log(t, "center", "truce", "info", "cessation of hostilities begins; the center waits")

    t = _t("2026-09-14T09:00:00Z")
    s.attempt(
        t,
        "blue",
        "propose op-c1 (coordinated)",
        lambda: propose(a, s.op("op-c1"), at=t, confirmations=cfm),
        "proposed",
    )

    t = _t("2026-09-17T10:00:00Z")
    cfm["aid-delivered-east-city"] = t
    s.log(
        t,
        "hnc",
        "confirm aid-delivered-east-city",
        "ok",
        "humanitarian delivery to East City confirmed",
    )
    s.phase(t)

    t = _t("2026-09-19T16:00:00Z")
    s.phase(t)

    # The flight-safety memorandum: designated areas and their exemptions.
    t = _t("2026-09-20T08:00:00Z")
    s.flight(t, "fp-green-17")
    s.flight(t, "fp-green-medevac-2")

    # A coordinated operation: approved by both, executed by one.
    t = _t("2026-09-20T12:00:00Z")
    blocking = s.deconflict(t, "op-c1", viewer="blue")
    s.attempt(
        t,
        "blue",
        "propose op-c1 (coordinated)",
        lambda: propose(a, s.op("op-c1"), at=t, confirmations=cfm, blocking_conflicts=blocking),
        "proposed; blue's proposal counts as its approval",
    )
    t = _t("2026-09-20T14:00:00Z")
    s.attempt(
        t,
        "red",
        "approve op-c1",
        lambda: approve(a, s.states["op-c1"], actor="red", at=t),
        "approved by red",
    )
    t = _t("2026-09-21T02:30:00Z")
    s.attempt(
        t,
        "red",
        "execute op-c1",
        lambda: execute(a, s.states["op-c1"], actor="red", at=t),
        "executed",
    )
    s.attempt(
        t,
        "blue",
        "execute op-c1",
        lambda: execute(a, s.states["op-c1"], actor="blue", at=t),
        "executed by blue",
    )
    t = _t("2026-09-21T03:20:00Z")
    s.attempt(
        t,
        "blue",
        "complete op-c1",
        lambda: complete(a, s.states["op-c1"], actor="blue", at=t),
        "completed",
    )

    # A coordinated operation next to a hospital: flagged, vetoed.
    t = _t("2026-09-20T13:00:00Z")
    blocking = s.deconflict(t, "op-c2", viewer="blue")
    s.attempt(
        t,
        "blue",
        "propose op-c2 (coordinated)",
        lambda: propose(a, s.op("op-c2"), at=t, confirmations=cfm, blocking_conflicts=blocking),
        "proposed",
    )
    t = _t("2026-09-20T13:40:00Z")
    s.attempt(
        t,
        "red",
        "veto op-c2",
        lambda: veto(
            a,
            s.states["op-c2"],
            actor="red",
            at=t,
            reason="East City General Hospital lies inside the standoff",
        ),
        "vetoed",
    )
    t = _t("2026-09-21T03:10:00Z")
    s.attempt(
        t,
        "blue",
        "execute op-c2",
        lambda: execute(a, s.states["op-c2"], actor="blue", at=t),
        "executed",
    )

    # An imminent threat: acted on without notice; the notification comes late.
    t = _t("2026-09-20T19:40:00Z")
    state = s.attempt(
        t,
        "red",
        "report op-i1 (imminent threat, executed 18:05)",
        lambda: report_imminent(
            a, s.op("op-i1"), executed_at=_t("2026-09-20T18:05:00Z"), at=t, confirmations=cfm
        ),
        "reported after the fact",
    )
    if state is not None:
        for breach in state.breaches:
            s.log(
                breach.at,
                "center",
                "compliance",
                "breach",
                f"{breach.kind} by {breach.party}: {breach.detail}",
            )

    # A synchronized operation over the other side's hidden forces: flagged, objected, held.
    t = _t("2026-09-21T04:00:00Z")
    blocking = s.deconflict(t, "op-s1", viewer="blue")
    s.attempt(
        t,
        "blue",
        "notify op-s1 (synchronized)",
        lambda: propose(a, s.op("op-s1"), at=t, confirmations=cfm, blocking_conflicts=blocking),
        "notice given; objection window open",
    )
    t = _t("2026-09-21T04:45:00Z")
    s.attempt(
        t,
        "red",
        "object to op-s1",
        lambda: object_to(
            a,
            s.states["op-s1"],
            actor="red",
            at=t,
            evidence="our 3rd battalion holds the ridge south of the target area",
        ),
        "objection stands",
    )
    t = _t("2026-09-21T12:10:00Z")
    s.attempt(
        t,
        "blue",
        "execute op-s1",
        lambda: execute(a, s.states["op-s1"], actor="blue", at=t),
        "executed",
    )
    if "op-s1" in s.states:
        held = settle(a, s.states["op-s1"], at=t)
        s.log(t, "center", "status op-s1", "info", f"status: {held.status.value}")

    s.steps.sort(key=lambda step: step.at)
    return s.steps
