"""Escalating what is due: one driver for every subject that escalates, its live events, and
the background loop.

A feature says what is its own in an :class:`Escalating`: which parties are due (rows of its
own, in the order they are taken), the record entry of a step (its kinds and fields), and who
besides the party hears of it; :func:`escalate` does the rest — the chains read, the next
step decided (:func:`~accord.rules.escalation.next_step`), the step recorded
(:func:`~accord.center.escalation.store.record_step`) and announced: the escalated party's
live event names its contacts, everyone else's roles only (:func:`step_payloads`).
:func:`escalation_loop` runs the features' passes every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.escalation.contacts import chains_of
from accord.center.escalation.store import Standing, SubjectKind, record_step
from accord.center.event_store import publish
from accord.center.runtime import Center
from accord.chrono import format_instant
from accord.rules.escalation import Pending, Step, next_step

__all__ = [
    "ESCALATION_BATCH",
    "Due",
    "Escalating",
    "escalate",
    "escalation_loop",
    "step_fields",
    "step_payloads",
]

ESCALATION_BATCH = 200
"""The most parties one pass of :func:`escalate` escalates (the rest wait a tick)."""

_log = logging.getLogger("accord.center")

A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class Due(Generic[A]):
    """A party whose deadline on a subject has passed: the subject's id, the party, its
    ``standing`` (the row each step moves on), the window it had to acknowledge in, and
    ``about``: what its feature needs to write the step (the message, the alert group)."""

    subject: str
    party: str
    standing: Standing
    ack_within: timedelta
    about: A

    def pending(self) -> Pending:
        """Where the party stands, for :func:`~accord.rules.escalation.next_step`."""
        assert self.standing.due_at is not None
        return Pending(
            due=self.standing.due_at,
            level=self.standing.level,
            position=self.standing.position,
            ack_within=self.ack_within,
        )


class Escalating(Protocol[A]):
    """What a feature says of the subjects it escalates (direct-line messages, alert
    groups): the rest is :func:`escalate`'s."""

    @property
    def kind(self) -> SubjectKind:
        """The subjects' kind, as their steps are stored."""
        ...

    def any_due(self, session: Session, now: datetime) -> bool:
        """Whether any party is due at ``now`` (cheap: asked without the write lock)."""
        ...

    def due(self, session: Session, now: datetime, limit: int) -> Sequence[Due[A]]:
        """The parties due at ``now``, at most ``limit``, in the order they are escalated."""
        ...

    def entry(self, due: Due[A], step: Step) -> dict[str, Any]:
        """The record entry of ``step`` (its kind and fields; the center signs it)."""
        ...

    def audience(self, session: Session, agreement: Agreement, due: Due[A]) -> Iterable[str]:
        """Who hears of a step besides the party (roles only)."""
        ...

    def extra(self, due: Due[A]) -> Mapping[str, Any]:
        """What the live events add to the entry's fields."""
        ...


def step_fields(step: Step) -> dict[str, Any]:
    """The fields every escalation step's record entry carries, whatever it escalates: its
    ``level``, the ``due`` it answers, the roles ``skipped`` as absent, and — an escalation,
    not the final overdue — the ``role`` alerted and its new ``deadline``. A feature adds
    what names its subject and party (and an overdue's ``ack_deadline``)."""
    fields: dict[str, Any] = {
        "level": step.level,
        "due": format_instant(step.due),
        "skipped": [c.role for c in step.skipped],
    }
    if step.kind == "escalated":
        assert step.contact is not None and step.deadline is not None
        fields |= {"role": step.contact.role, "deadline": format_instant(step.deadline)}
    return fields


def step_payloads(
    event: Mapping[str, Any], step: Step, *, entry: int, extra: Mapping[str, Any] = {}
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The live events of an escalation step recorded as ``event`` in entry ``entry``: what
    the escalated party sees (its contacts' user names too) and what everyone else sees
    (roles only)."""
    public = {k: v for k, v in event.items() if k != "kind"} | dict(extra) | {"entry": entry}
    own = dict(public)
    if step.contact is not None:
        own["contact"] = step.contact.user
    own["skipped_users"] = [c.user for c in step.skipped]
    return own, public


def escalate(
    center: Center, now: datetime, subjects: Escalating[A], *, limit: int = ESCALATION_BATCH
) -> int:
    """Write every escalation step of ``subjects`` due at ``now`` (at most ``limit``); their
    number. Each step: its entry, its row, the party's standing, an event to the party (its
    contacts' names) and one to the feature's audience (roles only).

    Cheap when nothing is due: one indexed read, no write lock."""
    with center.reading() as session:
        if not subjects.any_due(session, now):
            return 0
    done = 0
    with center.writing() as unit:
        session = unit.session
        due = subjects.due(session, now, limit)
        chains = chains_of(session, (d.party for d in due))
        for d in due:
            step = next_step(d.pending(), chains[d.party], now)
            if step is None:
                continue
            event = subjects.entry(d, step)
            entry = record_step(
                unit,
                origin=center.origin,
                kind=subjects.kind,
                subject=d.subject,
                party=d.party,
                standing=d.standing,
                step=step,
                event=event,
            )
            kind = str(event["kind"])
            own, public = step_payloads(event, step, entry=entry, extra=subjects.extra(d))
            others = set(subjects.audience(session, center.agreement, d)) - {d.party}
            publish(session, kind=kind, at=step.at, audience=[d.party], payload=own)
            publish(session, kind=kind, at=step.at, audience=others, payload=public)
            done += 1
        session.flush()
    return done


def _tick(escalate: Callable[[Center, datetime], int], center: Center) -> int:
    return escalate(center, center.now())


async def escalation_loop(
    center: Center,
    interval: float,
    passes: Sequence[Callable[[Center, datetime], int]],
) -> None:
    """Run each of ``passes`` (each feature's escalation of what is due: direct-line
    messages, airspace alerts) every ``interval`` seconds until cancelled; a failure is
    logged and the loop goes on."""
    while True:
        for escalate_pass in passes:
            try:
                await anyio.to_thread.run_sync(_tick, escalate_pass, center)
            except Exception:  # logged; the next tick retries
                _log.exception("escalating %s failed", escalate_pass.__name__)
        await anyio.sleep(interval)
