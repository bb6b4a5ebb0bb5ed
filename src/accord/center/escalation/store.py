"""The escalation steps as stored: every subject's in one table (``escalation_steps``, see
:mod:`accord.center.db.models_escalation`), written by one function and read by one.

* :func:`record_step` — one step: its record entry (signed by the center), its row, and the
  party's standing moved on (level, chain position, the deadline now running, overdue);
* :func:`steps_of` — the steps of a set of subjects, by (subject, party), in order (worth
  reading only where a party was :func:`escalated`);
* :func:`step_view` — a stored step as a reader sees it: the contacts' names for the party
  escalated only, roles for everyone else.

Steps are rare (at most one per party and subject a minute), so they go through the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center.db.models_escalation import EscalationStep
from accord.center.runtime import Unit
from accord.rules.escalation import Step

__all__ = [
    "Standing",
    "StepView",
    "StoredStep",
    "SubjectKind",
    "escalated",
    "record_step",
    "step_view",
    "steps_of",
    "store_step",
]

SubjectKind = Literal["message", "alert"]
"""What escalates: a direct-line message, an airspace alert group."""

_CHUNK = 500
"""The most subjects one read names (a list of alerts may name thousands of groups)."""


class Standing(Protocol):
    """Where one party's escalation on one subject stands — a row its feature keeps (a
    message's recipient, an alert group's party concerned) and each step moves on: the level
    reached, the chain position last alerted (-1: none), the deadline running (``None``
    once acknowledged, cleared or overdue), when it was declared overdue."""

    level: int
    position: int
    due_at: datetime | None
    overdue_at: datetime | None


def escalated(standing: Standing) -> bool:
    """Whether any step of the party was recorded: it was escalated, or declared overdue."""
    return standing.level > 0 or standing.overdue_at is not None


@dataclass(frozen=True, slots=True)
class StepView:
    """One escalation step of a party as a reader sees it (see :func:`step_view`)."""

    level: int
    kind: str
    at: datetime
    due: datetime
    deadline: datetime | None
    role: str | None
    contact: str | None
    skipped: list[str]
    skipped_users: list[str] | None
    entry: int


def record_step(
    unit: Unit,
    *,
    origin: str,
    kind: SubjectKind,
    subject: str,
    party: str,
    standing: Standing,
    step: Step,
    event: Mapping[str, Any],
) -> int:
    """Record ``step`` of ``party`` on the subject ``subject`` (of ``kind``): the entry
    ``event`` signed by the center (``origin``, the log's), the stored step, and the party's
    ``standing`` moved on. The entry's index."""
    entry = unit.ledger.append(event, author=origin, at=step.at)
    store_step(
        unit.session, kind=kind, subject=subject, party=party, standing=standing,
        step=StoredStep(
            step.kind, step.level, step.position, step.at, step.due, step.deadline,
            role=step.contact.role if step.contact else None,
            contact=step.contact.user if step.contact else None,
            skipped=tuple((c.role, c.user) for c in step.skipped),
        ),
        entry=entry,
    )  # fmt: skip
    return entry


@dataclass(frozen=True, slots=True)
class StoredStep:
    """A step as stored: its kind, the level and chain position it moves the party to, when,
    the deadline it answered and the one it sets; the role and user alerted and the
    ``(role, user)`` pairs skipped. A step redone from its entry
    (:mod:`accord.center.recovery.redo`) knows the roles only: the users are ``None`` and
    ``""`` (a party's contact chain is its own rows, never recorded)."""

    kind: str
    level: int
    position: int
    at: datetime
    due: datetime
    deadline: datetime | None
    role: str | None
    contact: str | None
    skipped: tuple[tuple[str, str], ...]


def store_step(
    session: Session,
    *,
    kind: SubjectKind,
    subject: str,
    party: str,
    standing: Standing,
    step: StoredStep,
    entry: int,
) -> None:
    """Store ``step`` of ``party`` on ``subject`` (of ``kind``), the step entry ``entry``
    records, and move the party's ``standing`` on: :func:`record_step`'s rows, and redo's."""
    session.add(
        EscalationStep(
            subject_kind=kind, subject_id=subject, party=party, level=step.level,
            kind=step.kind, at=step.at, due=step.due, deadline=step.deadline,
            role=step.role, contact=step.contact,
            skipped=json.dumps([list(pair) for pair in step.skipped]), entry=entry,
        )
    )  # fmt: skip
    standing.level = step.level
    standing.position = step.position
    standing.due_at = step.deadline
    if step.kind == "overdue":
        standing.overdue_at = step.at


def steps_of(
    session: Session, kind: SubjectKind, subjects: Iterable[str]
) -> dict[tuple[str, str], list[EscalationStep]]:
    """The stored steps of the subjects ``subjects`` (of ``kind``), by (subject, party), each
    party's in the order written."""
    out: dict[tuple[str, str], list[EscalationStep]] = {}
    wanted = sorted(set(subjects))
    for start in range(0, len(wanted), _CHUNK):
        rows = session.scalars(
            select(EscalationStep)
            .where(
                EscalationStep.subject_kind == kind,
                EscalationStep.subject_id.in_(wanted[start : start + _CHUNK]),
            )
            .order_by(EscalationStep.id)
        )
        for row in rows:
            out.setdefault((row.subject_id, row.party), []).append(row)
    return out


def step_view(row: EscalationStep, *, own: bool) -> StepView:
    """A stored step as a reader sees it: the users' names (``contact``, ``skipped_users``)
    when it is the escalated party's ``own`` reader, its roles only otherwise."""
    skipped = json.loads(row.skipped)
    return StepView(
        level=row.level,
        kind=row.kind,
        at=row.at,
        due=row.due,
        deadline=row.deadline,
        role=row.role,
        contact=row.contact if own else None,
        skipped=[role for role, _ in skipped],
        skipped_users=[user for _, user in skipped] if own else None,
        entry=row.entry,
    )
