"""Escalation on the direct line: the pure rule of the next step, the contact chains and
presence it reads, and the writer that applies it.

**Escalation.** A recipient that has not acknowledged by the deadline is escalated along its
contact chain — primary, backup, duty officers in order (``PUT /v1/contacts``) — to the next
contact *present* (a heartbeat, ``POST /v1/presence``, within :data:`PRESENCE_WINDOW`);
absent contacts are skipped and named as skipped. Each step runs a new deadline of
:func:`step_length` (half of ``ack_within``, at least a minute). When no present contact is
left, the recipient is declared overdue (a compliance fact) and stays so until it
acknowledges (late). The decision is the pure function :func:`next_step` of the recipient's
state (:class:`Pending`), its chain and the instant — the airspace alerts escalate with it
too; :func:`escalate_due` applies it to every recipient due, and runs from a background task
(:func:`escalation_loop`) and from reads of messages.

Escalation steps are written by the **center**: no party acted, the clock did, so the entries
``message.escalated`` and ``message.overdue`` are signed with the center's own key (the one
that signs tree heads; its name is the log's origin and it is in every key ring, so the
project's verifier checks these entries like any other). Signing them with the recipient's
key would put words in its mouth. The escalated party's live events name its contacts; the
sender's and the monitors' name roles only. Escalation's writes are rare, so they go through
the ORM, where clarity beats microseconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import anyio
import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models import User
from accord.center.db.models_directline import Contacts, Escalation, Message, Presence, Recipient
from accord.center.directline import fold
from accord.center.directline.reading import iso_duration
from accord.center.directline.views import ContactOut, ContactsOut, PresenceOut
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.events.store import publish
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.center.users.identity import Caller
from accord.chrono import format_instant
from accord.errors import InputError, Issue

__all__ = [
    "ESCALATED_EVENT",
    "ESCALATION_BATCH",
    "OVERDUE_EVENT",
    "PRESENCE_WINDOW",
    "STEP_MIN",
    "Contact",
    "Pending",
    "Step",
    "chain_of",
    "chains_of",
    "contacts_of",
    "escalate_due",
    "escalation_loop",
    "heartbeat",
    "next_step",
    "set_contacts",
    "step_length",
    "step_payloads",
]

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

STEP_MIN = timedelta(minutes=1)
"""The shortest deadline of an escalation step."""
PRESENCE_WINDOW = timedelta(minutes=5)
"""A contact without a heartbeat in this long is absent, and escalation skips it."""
MAX_DUTY = 10
"""The most duty officers on a chain."""
ESCALATION_BATCH = 200
"""The most recipients one call of :func:`escalate_due` escalates (the rest wait a tick)."""

_CONTACT_ROLES = (Role.OFFICER.value, Role.APPROVER.value)
"""The roles a party's contacts hold."""
_log = logging.getLogger("accord.center")


# --- the pure core of escalation ------------------------------------------------------------


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
    """A recipient that has not acknowledged: the deadline running (``due``), the level
    reached (0: delivered to the party), the chain position of the last contact alerted
    (-1: none) and the message's ``ack_within``."""

    due: datetime
    level: int
    position: int
    ack_within: timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """What happens to a pending recipient at ``at``: ``escalated`` to ``contact`` (chain
    index ``position``) with a new ``deadline``, or declared ``overdue``; ``skipped`` are the
    absent contacts passed over; ``due`` is the deadline that was missed."""

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
    with none left, the recipient is overdue. At most one step per call: each step's deadline
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


def chain_of(row: Contacts | None, last_seen: Mapping[str, datetime]) -> tuple[Contact, ...]:
    """A party's chain in escalation order — primary, backup, duty officers — each user once,
    with their last heartbeat."""
    if row is None:
        return ()
    names: list[tuple[Literal["primary", "backup", "duty"], str]] = [("primary", row.primary_user)]
    if row.backup_user:
        names.append(("backup", row.backup_user))
    names.extend(("duty", name) for name in json.loads(row.duty))
    chain: list[Contact] = []
    seen: set[str] = set()
    for role, name in names:
        if name not in seen:
            seen.add(name)
            chain.append(Contact(role, name, last_seen.get(name)))
    return tuple(chain)


# --- applying it ---------------------------------------------------------------------------


def chains_of(session: Session, members: Iterable[str]) -> dict[str, tuple[Contact, ...]]:
    """Each of ``members``' contact chain, with its contacts' last heartbeats."""
    wanted = sorted(set(members))
    rows = {
        row.member: row
        for row in session.scalars(select(Contacts).where(Contacts.member.in_(wanted)))
    }
    seen = {
        name: last
        for name, last in session.execute(
            select(User.name, Presence.last_seen)
            .join(Presence, Presence.user_id == User.id)
            .where(Presence.member.in_(wanted))
        )
    }
    return {member: chain_of(rows.get(member), seen) for member in wanted}


def _apply(unit: Unit, agreement: Agreement, origin: str, row: Recipient, step: Step) -> None:
    session = unit.session
    message = session.get(Message, row.message_id)
    assert message is not None
    skipped_roles = [c.role for c in step.skipped]
    common: dict[str, Any] = {
        "id": message.id,
        "to": row.recipient,
        "level": step.level,
        "due": format_instant(step.due),
        "skipped": skipped_roles,
    }
    if step.kind == "escalated":
        assert step.contact is not None and step.deadline is not None
        event = ESCALATED_ENTRY.build(
            common, role=step.contact.role, deadline=format_instant(step.deadline)
        )
    else:
        event = OVERDUE_ENTRY.build(common, ack_deadline=format_instant(message.ack_deadline))
    entry = unit.ledger.append(event, author=origin, at=step.at)
    session.add(
        Escalation(
            message_id=message.id,
            recipient=row.recipient,
            level=step.level,
            kind=step.kind,
            at=step.at,
            due=step.due,
            deadline=step.deadline,
            role=step.contact.role if step.contact else None,
            contact=step.contact.user if step.contact else None,
            skipped=json.dumps([[c.role, c.user] for c in step.skipped]),
            entry=entry,
        )
    )
    row.level = step.level
    row.position = step.position
    row.due_at = step.deadline
    if step.kind == "overdue":
        row.overdue_at = step.at
    session.flush()
    kind = str(event["kind"])
    own, public = step_payloads(event, step, entry=entry, extra={"from": message.sender})
    publish(session, kind=kind, at=step.at, audience=[row.recipient], payload=own)
    publish(
        session,
        kind=kind,
        at=step.at,
        audience={message.sender, *agreement.monitor_ids} - {row.recipient},
        payload=public,
    )


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


def escalate_due(center: Center, now: datetime, *, limit: int = ESCALATION_BATCH) -> int:
    """Write every escalation step due at ``now`` (at most ``limit``); their number.

    Cheap when nothing is due: one indexed read, no write lock."""
    with center.reading() as session:
        due = session.scalar(select(Recipient.message_id).where(Recipient.due_at <= now).limit(1))
    if due is None:
        return 0
    done = 0
    with center.writing() as unit:
        rows = unit.session.scalars(
            select(Recipient)
            .where(Recipient.due_at <= now)
            .order_by(Recipient.due_at, Recipient.message_id, Recipient.recipient)
            .limit(limit)
        ).all()
        chains = chains_of(unit.session, (row.recipient for row in rows))
        for row in rows:
            message = unit.session.get(Message, row.message_id)
            assert message is not None and row.due_at is not None
            pending = Pending(
                due=row.due_at,
                level=row.level,
                position=row.position,
                ack_within=timedelta(seconds=message.ack_within_s),
            )
            step = next_step(pending, chains[row.recipient], now)
            if step is not None:
                _apply(unit, center.agreement, center.origin, row, step)
                done += 1
    return done


def _tick(escalate: Callable[[Center, datetime], int], center: Center) -> int:
    return escalate(center, center.now())


async def escalation_loop(
    center: Center,
    interval: float,
    passes: Sequence[Callable[[Center, datetime], int]] = (),
) -> None:
    """Run :func:`escalate_due`, then each of ``passes`` (the airspace alerts' escalation),
    every ``interval`` seconds until cancelled; a failure is logged and the loop goes on."""
    while True:
        for escalate in (escalate_due, *passes):
            try:
                await anyio.to_thread.run_sync(_tick, escalate, center)
            except Exception:  # logged; the next tick retries
                _log.exception("escalating %s failed", escalate.__name__)
        await anyio.sleep(interval)


# --- contact chains and presence ------------------------------------------------------------


def set_contacts(
    unit: Unit,
    caller: Caller,
    *,
    primary: str,
    backup: str | None,
    duty: Sequence[str],
    at: datetime,
) -> ContactsOut:
    """Replace the caller's party's chain; every user named must be an officer or approver
    of that party and appear once (:class:`~accord.errors.InputError` naming the field)."""
    session = unit.session
    fields: list[tuple[str, str]] = [("primary", primary)]
    if backup is not None:
        fields.append(("backup", backup))
    fields.extend((f"duty[{i}]", name) for i, name in enumerate(duty))
    issues: list[Issue] = []
    valid = {
        name
        for name, member, role in session.execute(
            select(User.name, User.member, User.role).where(
                User.name.in_([name for _, name in fields])
            )
        )
        if member == caller.member and role in _CONTACT_ROLES
    }
    seen: set[str] = set()
    for field, name in fields:
        if name not in valid:
            issues.append(Issue(field, f"no officer or approver of {caller.member} has this name"))
        elif name in seen:
            issues.append(Issue(field, "a user appears once on the chain"))
        seen.add(name)
    if issues:
        raise InputError("contacts", issues)
    row = session.get(Contacts, caller.member)
    if row is None:
        row = Contacts(member=caller.member)
        session.add(row)
    row.primary_user = primary
    row.backup_user = backup
    row.duty = json.dumps(list(duty))
    row.updated_at = at
    row.updated_by = caller.user_id
    session.flush()
    return contacts_of(session, caller.member, at)


def contacts_of(session: Session, member: str, now: datetime) -> ContactsOut:
    """A party's chain and who on it is present at ``now``."""
    row = session.get(Contacts, member)
    chain = chains_of(session, [member])[member]
    return ContactsOut(
        party=member,
        primary=row.primary_user if row else None,
        backup=row.backup_user if row else None,
        duty=json.loads(row.duty) if row else [],
        chain=[
            ContactOut(role=c.role, user=c.user, last_seen=c.last_seen, present=c.present(now))
            for c in chain
        ],
        updated_at=row.updated_at if row else None,
        presence_window=iso_duration(PRESENCE_WINDOW),
    )


def heartbeat(unit: Unit, caller: Caller, at: datetime) -> PresenceOut:
    """The caller is present at ``at``."""
    row = unit.session.get(Presence, caller.user_id)
    if row is None:
        unit.session.add(Presence(user_id=caller.user_id, member=caller.member, last_seen=at))
    else:
        row.last_seen = at
    unit.session.flush()
    return PresenceOut(
        user=caller.name, party=caller.member, last_seen=at, present_until=at + PRESENCE_WINDOW
    )
