"""Escalating alert groups, as on the direct line: which parties are due, the entries of their
steps, who hears of them. The engine — the rule of the next step, contact chains and
presence, the stored steps, the live events — is :mod:`accord.center.escalation`'s.

Each *party* concerned by an alert (not a third-party operator; not an ``exempt`` passage,
which alerts no one) must acknowledge its group within :data:`ALERT_ACK_WITHIN` — two
minutes: an alert is urgent, and the agreement has no setting for it (the direct line's
15-minute default fits a message, not a loss of separation minutes away). A party that has
not acknowledged by then is escalated along its contact chain (each step runs
:func:`~accord.rules.escalation.step_length` of the window, a minute), and declared
overdue when no present contact is left. :func:`escalate_alerts_due` writes the steps —
entries ``airspace.escalated`` / ``airspace.overdue`` signed by the **center**, events to the
party (with its contacts' names) and to the other parties concerned and the monitors (roles
only) — and runs from the background loop. A group is escalated once per party.
Acknowledging stops the party's escalation; clearing the alert (the finding ended) stops
everyone's. The escalation entries and events name the alert, the party, the level, roles and
deadlines — never an aircraft.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.airspace.alerts import audience
from accord.center.airspace.entries import ENTRIES, ESCALATED_EVENT, OVERDUE_EVENT
from accord.center.airspace.store import Group, load_named
from accord.center.db.models_airspace import AirspaceAlertRecipient
from accord.center.escalation.service import ESCALATION_BATCH, Due, escalate, step_fields
from accord.center.escalation.store import SubjectKind
from accord.center.runtime import Center
from accord.chrono import format_instant
from accord.rules.escalation import Step

__all__ = ["ALERTS", "ALERT_ACK_WITHIN", "escalate_alerts_due"]

ALERT_ACK_WITHIN = timedelta(minutes=2)
"""How long a party concerned has to acknowledge an alert before it is escalated along its
contact chain (each escalation step: half of it, at least a minute)."""

_Recipient = AirspaceAlertRecipient


class _Alerts:
    """Alert groups, as the escalation engine asks about them (its
    :class:`~accord.center.escalation.service.Escalating`)."""

    kind: SubjectKind = "alert"

    def any_due(self, session: Session, now: datetime) -> bool:
        first = select(_Recipient.alert_id).where(_Recipient.due_at <= now).limit(1)
        return session.scalar(first) is not None

    def due(self, session: Session, now: datetime, limit: int) -> Sequence[Due[Group]]:
        rows = session.scalars(
            select(_Recipient)
            .where(_Recipient.due_at <= now)
            .order_by(_Recipient.due_at, _Recipient.alert_id, _Recipient.party)
            .limit(limit)
        ).all()
        groups = load_named(session, (r.alert_id for r in rows), blobs=False)
        return [
            Due(r.alert_id, r.party, r, timedelta(seconds=r.ack_within_s), groups[r.alert_id])
            for r in rows
        ]

    def entry(self, due: Due[Group], step: Step) -> dict[str, Any]:
        """The step's entry, naming the group (or the alert raised before groups)."""
        g = due.about
        fields = {"group" if g.grouped else "alert": g.id, "party": due.party}
        fields |= step_fields(step)
        if step.kind == "escalated":
            return ENTRIES[ESCALATED_EVENT].build(fields)
        return ENTRIES[OVERDUE_EVENT].build(
            fields, ack_deadline=format_instant(g.raised_at + due.ack_within)
        )

    def audience(self, session: Session, agreement: Agreement, due: Due[Group]) -> Iterable[str]:
        """The other parties concerned and the monitors."""
        concerned = session.scalars(
            select(_Recipient.party).where(_Recipient.alert_id == due.subject)
        ).all()
        return audience(agreement, [*concerned, *due.about.parties])

    def extra(self, due: Due[Group]) -> Mapping[str, Any]:
        return {}


ALERTS = _Alerts()
"""The airspace alert groups, escalating."""


def escalate_alerts_due(center: Center, now: datetime, *, limit: int = ESCALATION_BATCH) -> int:
    """Write every alert escalation step due at ``now`` (at most ``limit``); their number.

    Cheap when nothing is due: one indexed read, no write lock."""
    return escalate(center, now, ALERTS, limit=limit)
