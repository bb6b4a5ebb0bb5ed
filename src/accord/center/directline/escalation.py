"""The direct line's escalation: which recipients are due, the entries of their steps, who
hears of them. The engine — the rule of the next step, contact chains and presence, the
stored steps, the live events — is :mod:`accord.center.escalation`'s.

A recipient that has not acknowledged a message by its deadline (the message's
``ack_within``) is escalated along its contact chain; each step runs a new deadline of
:func:`~accord.rules.escalation.step_length` of ``ack_within``, and with no present
contact left the recipient is declared overdue (a compliance fact) and stays so until it
acknowledges (late). :func:`escalate_due` runs from the background loop and from reads of
messages.

Escalation steps are written by the **center**: no party acted, the clock did, so the entries
``message.escalated`` and ``message.overdue`` are signed with the center's own key (the one
that signs tree heads; its name is the log's origin and it is in every key ring, so the
project's verifier checks these entries like any other). Signing them with the recipient's
key would put words in its mouth. The escalated party's live events name its contacts; the
sender's and the monitors' name roles only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models_directline import Message, Recipient
from accord.center.directline import fold
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.escalation.service import ESCALATION_BATCH, Due, escalate, step_fields
from accord.center.escalation.store import SubjectKind
from accord.center.runtime import Center
from accord.chrono import format_instant
from accord.rules.escalation import Step

__all__ = ["ESCALATED_EVENT", "MESSAGES", "OVERDUE_EVENT", "escalate_due"]

ESCALATED_EVENT = "message.escalated"
OVERDUE_EVENT = "message.overdue"

_STEP_FIELDS = ("id", "to", "level", "due", "skipped")
ESCALATED_ENTRY = entry_kind(
    ESCALATED_EVENT, signer=Signer.CENTER, required=(*_STEP_FIELDS, "role", "deadline"),
    fold=fold.escalated, summary="the center escalates an unacknowledged message along the chain",
)  # fmt: skip
OVERDUE_ENTRY = entry_kind(
    OVERDUE_EVENT, signer=Signer.CENTER, required=(*_STEP_FIELDS, "ack_deadline"),
    fold=fold.overdue, summary="the center declares a recipient overdue: its chain is spent",
)  # fmt: skip


class _Messages:
    """Direct-line messages, as the escalation engine asks about them (its
    :class:`~accord.center.escalation.service.Escalating`)."""

    kind: SubjectKind = "message"

    def any_due(self, session: Session, now: datetime) -> bool:
        first = select(Recipient.message_id).where(Recipient.due_at <= now).limit(1)
        return session.scalar(first) is not None

    def due(self, session: Session, now: datetime, limit: int) -> Sequence[Due[Message]]:
        rows = session.scalars(
            select(Recipient)
            .where(Recipient.due_at <= now)
            .order_by(Recipient.due_at, Recipient.message_id, Recipient.recipient)
            .limit(limit)
        ).all()
        out = []
        for row in rows:
            message = session.get(Message, row.message_id)
            assert message is not None
            within = timedelta(seconds=message.ack_within_s)
            out.append(Due(row.message_id, row.recipient, row, within, message))
        return out

    def entry(self, due: Due[Message], step: Step) -> dict[str, Any]:
        fields = {"id": due.subject, "to": due.party} | step_fields(step)
        if step.kind == "escalated":
            return ESCALATED_ENTRY.build(fields)
        return OVERDUE_ENTRY.build(fields, ack_deadline=format_instant(due.about.ack_deadline))

    def audience(self, session: Session, agreement: Agreement, due: Due[Message]) -> Iterable[str]:
        """The sender and the monitors."""
        return {due.about.sender, *agreement.monitor_ids}

    def extra(self, due: Due[Message]) -> Mapping[str, Any]:
        return {"from": due.about.sender}


MESSAGES = _Messages()
"""The direct line's messages, escalating."""


def escalate_due(center: Center, now: datetime, *, limit: int = ESCALATION_BATCH) -> int:
    """Write every message's escalation step due at ``now`` (at most ``limit``); their number.

    Cheap when nothing is due: one indexed read, no write lock."""
    return escalate(center, now, MESSAGES, limit=limit)
