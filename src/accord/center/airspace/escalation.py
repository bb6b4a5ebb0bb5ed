"""Escalating alert groups, as on the direct line.

Each *party* concerned by an alert (not a third-party operator; not an ``exempt`` passage,
which alerts no one) must acknowledge its group within :data:`ALERT_ACK_WITHIN` — two
minutes: an alert is urgent, and the agreement has no setting for it (the direct line's
15-minute default fits a message, not a loss of separation minutes away). A party that has
not acknowledged by then is escalated along its contact chain with the direct line's pure
core (:func:`accord.center.directline.escalation.next_step` on
:class:`~accord.center.directline.escalation.Pending`, its chains and heartbeat presence; each
step runs :func:`~accord.center.directline.escalation.step_length` of the window, a minute),
and declared overdue when no present contact is left. :func:`escalate_alerts_due` writes
the steps — entries ``airspace.escalated`` / ``airspace.overdue`` signed by the **center**,
events to the party (with its contacts' names) and to the other parties concerned and the
monitors (roles only) — and runs from the direct line's background task. A group is
escalated once per party. Acknowledging stops the party's escalation; clearing the alert
(the finding ended) stops everyone's. The escalation entries and events name the alert, the
party, the level, roles and deadlines — never an aircraft.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from accord.center.airspace.alerts import audience
from accord.center.airspace.entries import ENTRIES, ESCALATED_EVENT, OVERDUE_EVENT
from accord.center.airspace.store import Group, load_named
from accord.center.db.models_airspace import AirspaceAlertRecipient
from accord.center.directline.escalation import (
    ESCALATION_BATCH,
    Pending,
    Step,
    chains_of,
    next_step,
    step_payloads,
)
from accord.center.events.store import publish
from accord.center.runtime import Center, Unit
from accord.chrono import format_instant

__all__ = ["ALERT_ACK_WITHIN", "escalate_alerts_due"]

ALERT_ACK_WITHIN = timedelta(minutes=2)
"""How long a party concerned has to acknowledge an alert before it is escalated along its
contact chain (each escalation step: half of it, at least a minute)."""


def _apply_step(
    unit: Unit, center: Center, g: Group, r: AirspaceAlertRecipient, step: Step
) -> None:
    """Write one escalation step of party ``r.party`` on the group ``g``: the entry by the
    center (naming the group), the row's new state, the events (contact names to the party
    alone)."""
    agreement = center.agreement
    event: dict[str, Any] = {"kind": ESCALATED_EVENT if step.kind == "escalated" else OVERDUE_EVENT}
    event["group" if g.grouped else "alert"] = g.id
    event |= {
        "party": r.party,
        "level": step.level,
        "due": format_instant(step.due),
        "skipped": [c.role for c in step.skipped],
    }
    if step.kind == "escalated":
        assert step.contact is not None and step.deadline is not None
        event["role"] = step.contact.role
        event["deadline"] = format_instant(step.deadline)
    else:
        deadline = g.raised_at + timedelta(seconds=r.ack_within_s)
        event["ack_deadline"] = format_instant(deadline)
    ENTRIES[str(event["kind"])].check(event)
    entry = unit.ledger.append(event, author=center.origin, at=step.at)
    steps = json.loads(r.steps)
    steps.append(
        {
            "level": step.level,
            "kind": step.kind,
            "at": format_instant(step.at),
            "due": format_instant(step.due),
            "deadline": None if step.deadline is None else format_instant(step.deadline),
            "role": step.contact.role if step.contact else None,
            "contact": step.contact.user if step.contact else None,
            "skipped": [[c.role, c.user] for c in step.skipped],
            "entry": entry,
        }
    )
    r.steps = json.dumps(steps)
    r.level = step.level
    r.position = step.position
    r.due_at = step.deadline
    if step.kind == "overdue":
        r.overdue_at = step.at
    kind = str(event["kind"])
    own, public = step_payloads(event, step, entry=entry)
    session = unit.session
    publish(session, kind=kind, at=step.at, audience=[r.party], payload=own)
    concerned = unit.session.scalars(
        select(AirspaceAlertRecipient.party).where(AirspaceAlertRecipient.alert_id == g.id)
    ).all()
    others = set(audience(agreement, [*concerned, *g.parties])) - {r.party}
    publish(session, kind=kind, at=step.at, audience=sorted(others), payload=public)


def escalate_alerts_due(center: Center, now: datetime, *, limit: int = ESCALATION_BATCH) -> int:
    """Write every alert escalation step due at ``now`` (at most ``limit``); their number.

    Cheap when nothing is due: one indexed read, no write lock."""
    due_at = AirspaceAlertRecipient.due_at
    with center.reading() as session:
        due = session.scalar(select(AirspaceAlertRecipient.alert_id).where(due_at <= now).limit(1))
    if due is None:
        return 0
    done = 0
    with center.writing() as unit:
        session = unit.session
        rows = session.scalars(
            select(AirspaceAlertRecipient)
            .where(due_at <= now)
            .order_by(due_at, AirspaceAlertRecipient.alert_id, AirspaceAlertRecipient.party)
            .limit(limit)
        ).all()
        chains = chains_of(session, (r.party for r in rows))
        groups = load_named(session, (r.alert_id for r in rows), blobs=False)
        for r in rows:
            assert r.due_at is not None
            pending = Pending(
                due=r.due_at,
                level=r.level,
                position=r.position,
                ack_within=timedelta(seconds=r.ack_within_s),
            )
            step = next_step(pending, chains[r.party], now)
            if step is not None:
                _apply_step(unit, center, groups[r.alert_id], r, step)
                done += 1
        session.flush()
    return done
