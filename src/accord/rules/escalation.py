"""The pure rule of escalation (the direct line's and airspace alerts'): the next step of a
party that has not acknowledged, given its contact chain and the instant (no database, no
clock: time is an argument). The center applies it (:mod:`accord.center.escalation`);
``accord demo`` plays it through the core.

A party that has not acknowledged by its deadline is escalated along its chain — primary,
backup, duty officers in order — to the next contact *present* (a heartbeat within
:data:`PRESENCE_WINDOW`); absent contacts are skipped and named as skipped. Each step runs a
new deadline of :func:`step_length`. When no present contact is left, the party is declared
overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "PRESENCE_WINDOW",
    "STEP_MIN",
    "Contact",
    "Pending",
    "Step",
    "next_step",
    "step_length",
]

STEP_MIN = timedelta(minutes=1)
"""The shortest deadline of an escalation step."""
PRESENCE_WINDOW = timedelta(minutes=5)
"""A contact without a heartbeat in this long is absent, and escalation skips it."""


@dataclass(frozen=True, slots=True)
class Contact:
    """One link of a party's chain: its role there, the user, and their last heartbeat."""

    role: Literal["primary", "backup", "duty"]
    user: str
    last_seen: datetime | None

    def present(self, at: datetime) -> bool:
        """Whether the contact sent a heartbeat within :data:`PRESENCE_WINDOW` before ``at``."""
        return self.last_seen is not None and self.last_seen > at - PRESENCE_WINDOW


@dataclass(frozen=True, slots=True)
class Pending:
    """A party that has not acknowledged: the deadline running (``due``), the level reached
    (0: delivered to the party), the chain position of the last contact alerted (-1: none)
    and the window it had to acknowledge in (``ack_within``)."""

    due: datetime
    level: int
    position: int
    ack_within: timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """What happens to a pending party at ``at``: ``escalated`` to ``contact`` (chain index
    ``position``) with a new ``deadline``, or declared ``overdue``; ``skipped`` are the absent
    contacts passed over; ``due`` is the deadline that was missed."""

    kind: Literal["escalated", "overdue"]
    level: int
    due: datetime
    at: datetime
    position: int
    contact: Contact | None
    skipped: tuple[Contact, ...]
    deadline: datetime | None


def step_length(ack_within: timedelta) -> timedelta:
    """The deadline of each escalation step: half of ``ack_within`` (whole seconds), at
    least :data:`STEP_MIN`.

    >>> step_length(timedelta(minutes=10)), step_length(timedelta(seconds=90))
    (datetime.timedelta(seconds=300), datetime.timedelta(seconds=60))
    """
    half = timedelta(seconds=int(ack_within.total_seconds()) // 2)
    return max(half, STEP_MIN)


def next_step(pending: Pending, chain: Sequence[Contact], now: datetime) -> Step | None:
    """The step due for ``pending`` at ``now`` given its party's ``chain``, or ``None`` while
    its deadline runs.

    The next contact is the first one after the last alerted that is present at ``now``;
    with none left, the party is overdue. At most one step per call: each step's deadline
    lies after ``now``.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 9, 21, 16, tzinfo=UTC)
    >>> chain = [Contact("primary", "ann", None), Contact("backup", "bob", t)]
    >>> pending = Pending(due=t, level=0, position=-1, ack_within=timedelta(minutes=10))
    >>> next_step(pending, chain, t - timedelta(seconds=1)) is None
    True
    >>> step = next_step(pending, chain, t)
    >>> step.kind, step.level, step.contact.user, [c.user for c in step.skipped]
    ('escalated', 1, 'bob', ['ann'])
    >>> step.deadline - t
    datetime.timedelta(seconds=300)
    >>> later = Pending(step.deadline, step.level, step.position, pending.ack_within)
    >>> next_step(later, chain, step.deadline).kind
    'overdue'
    """
    if now < pending.due:
        return None
    skipped: list[Contact] = []
    for position in range(max(pending.position + 1, 0), len(chain)):
        contact = chain[position]
        if contact.present(now):
            return Step(
                kind="escalated",
                level=pending.level + 1,
                due=pending.due,
                at=now,
                position=position,
                contact=contact,
                skipped=tuple(skipped),
                deadline=now + step_length(pending.ack_within),
            )
        skipped.append(contact)
    return Step(
        kind="overdue",
        level=pending.level,
        due=pending.due,
        at=now,
        position=pending.position,
        contact=None,
        skipped=tuple(skipped),
        deadline=None,
    )
