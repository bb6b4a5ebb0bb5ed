"""Redo of the confirmations (:mod:`accord.center.recovery.redo`): the ``confirmations``
row :func:`accord.center.phases.service.confirm` wrote for a ``condition.confirmed`` entry —
the condition, the member who signed it, its user (the event names it), at the entry's
time. Everything is in the entry.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from accord.center.db.models import Confirmation
from accord.center.phases.service import CONFIRMED_EVENT
from accord.center.recovery.redo import Redo, Redoing, Redone

__all__ = ["REDO"]


def _confirmed(context: Redoing, entry: Redone) -> None:
    event, session = entry.event, context.session
    condition, member = str(event["condition"]), entry.author
    if condition not in {c.id for c in context.agreement.conditions}:
        raise ValueError(f"the agreement has no condition {condition!r}")
    user_id = context.user_id(str(event["user"]))
    if user_id is None:
        raise KeyError(f"user {event['user']!r} is in no earlier entry")
    done = session.scalar(
        select(Confirmation.id).where(
            Confirmation.condition == condition, Confirmation.member == member
        )
    )
    if done is not None:
        raise ValueError(f"{member} has already confirmed {condition!r}")
    session.add(
        Confirmation(
            condition=condition, member=member, user_id=user_id, confirmed_at=entry.at,
            entry=entry.index,
        )
    )  # fmt: skip


REDO: Mapping[str, Redo] = {CONFIRMED_EVENT: _confirmed}
