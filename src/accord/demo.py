"""The scripted scenario of ``accord demo``: the brief's source story played through the core.

Every step goes through the real agreement, world, deconfliction engine and rules; a step the
rules refuse is shown as refused, with the rules' own message. Times come from the script,
never from the clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accord.agreement import Agreement, phase_at
from accord.chrono import format_instant, parse_instant
from accord.deconfliction import DeconflictionIndex
from accord.deconfliction.received import areas_of, describe, merged, open_to
from accord.errors import RuleError
from accord.record.canonical import content_hash
from accord.record.commitments import commitment, verify_opening
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
from accord.rules.escalation import Contact, Pending, next_step
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


_TARGET = {"type": "Point", "coordinates": [21.87438, 24.936]}
"""The coordinates blue passes red: 240 m east of School No. 12."""


def _direct_line(s: _Script) -> None:
    """The direct line of the source story, through the core: blue passes red target
    coordinates; the center's check warns red (and blue) of the school beside them; red's
    usual contact is absent and the message escalates along red's chain; red acknowledges
    naming the content's hash; when blue later disputes having sent it, the commitment in
    blue's signed entry and the hash red acknowledged settle it."""
    sent = _t("2026-09-20T03:10:00Z")
    within = timedelta(minutes=10)
    content = {
        "id": "m-demo-1",
        "from": "blue",
        "to": ["red"],
        "subject": "Target coordinates",
        "text": "Grid of the mortar position engaging our patrol. Acknowledge.",
        "geometry": _TARGET,
        "refers_to": None,
        "sent_at": format_instant(sent),
        "ack_deadline": format_instant(sent + within),
        # A fixed nonce: the demo is a script (the center draws 128 random bits).
        "nonce": hashlib.sha256(b"accord demo m-demo-1").hexdigest()[:32],
    }
    digest = content_hash(content)
    salt = hashlib.sha256(b"accord demo m-demo-1 salt").digest()
    committed = commitment(content, salt=salt)
    s.log(
        sent,
        "blue",
        "send m-demo-1 to red",
        "ok",
        f"target coordinates over the direct line, 10 minutes to acknowledge; the signed "
        f"entry commits to the content ({committed.hex()[:16]}…), content hash {digest[:16]}…",
    )
    found = merged(
        c
        for area in areas_of(_TARGET, s.agreement, area_id="m-demo-1", party="red", at=sent)
        for c in s.index.check(area).conflicts
    )
    names = {obj.id: obj.name for obj in s.world}
    for party in ("red", "blue"):
        shown = open_to(found, party)
        text = "; ".join(describe(c, names.get(c.with_id or "")) for c in shown)
        s.log(sent, "center", f"check m-demo-1 for {party}", "flagged" if shown else "ok",
              text or "nothing within the agreement's distances")  # fmt: skip
    chain = [
        Contact("primary", "red-officer", None),  # the usual contact: absent
        Contact("backup", "red-backup-officer", _t("2026-09-20T03:18:00Z")),
        Contact("duty", "red-duty-officer", _t("2026-09-20T03:24:00Z")),
    ]
    pending = Pending(due=sent + within, level=0, position=-1, ack_within=within)
    for now in (_t("2026-09-20T03:20:00Z"), _t("2026-09-20T03:25:00Z")):
        step = next_step(pending, chain, now)
        assert step is not None and step.contact is not None and step.deadline is not None
        skipped = "".join(f", {c.role} absent" for c in step.skipped)
        s.log(now, "center", "escalate m-demo-1", "info",
              f"red has not acknowledged: level {step.level} to its {step.contact.role} "
              f"{step.contact.user}{skipped}; next deadline {step.deadline:%H:%M}")  # fmt: skip
        pending = Pending(step.deadline, step.level, step.position, within)
    acked = _t("2026-09-20T03:27:00Z")
    s.log(acked, "red", "acknowledge m-demo-1", "ok",
          f"by red-duty-officer, naming content hash {digest[:16]}… (17 minutes after "
          "sending, not 27)")  # fmt: skip
    s.log(acked, "red", "send m-demo-2 to blue", "ok",
          "answer over the line: the point lies 240 m from School No. 12, inside the 1,500 m "
          "the agreement keeps; do not fire; confirm or correct")  # fmt: skip
    # Later, blue disputes having sent those coordinates.
    disputed = _t("2026-09-20T09:00:00Z")
    verify_opening(commitment=committed, content=content, salt=salt)
    settled = content_hash(content) == digest
    s.log(disputed, "center", "dispute m-demo-1", "info" if settled else "breach",
          "blue says it never sent these coordinates: red's opening opens the commitment in "
          "blue's signed entry to exactly this content, and the hash red acknowledged at "
          "03:27 is its SHA-256 — settled: blue sent them at 03:10")  # fmt: skip


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

    _direct_line(s)

    s.steps.sort(key=lambda step: step.at)
    return s.steps
