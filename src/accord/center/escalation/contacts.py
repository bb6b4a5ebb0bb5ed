"""Contact chains and presence: what escalation reads.

A party's officers set its chain — primary, backup, duty officers in order
(``PUT /v1/contacts``, :func:`set_contacts`); each user says they are on duty by a heartbeat
(``POST /v1/presence``, :func:`heartbeat`), and counts as present for
:data:`~accord.rules.escalation.PRESENCE_WINDOW` after it. Contacts and presence are a
party's internal arrangements: rows, not record entries (a heartbeat a minute would flood the
record); what they cause — the escalation steps — is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center.db.models import User
from accord.center.db.models_escalation import Contacts, Presence
from accord.center.escalation.views import ContactOut, ContactsOut, PresenceOut
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import format_duration
from accord.errors import InputError, Issue
from accord.rules.escalation import PRESENCE_WINDOW, Contact

__all__ = ["MAX_DUTY", "chain_of", "chains_of", "contacts_of", "heartbeat", "set_contacts"]

MAX_DUTY = 10
"""The most duty officers on a chain."""

_CONTACT_ROLES = (Role.OFFICER.value, Role.APPROVER.value)
"""The roles a party's contacts hold."""


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
        presence_window=format_duration(PRESENCE_WINDOW),
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
