"""Who calls the service: users, their roles, and bearer tokens stored only as hashes.

A token is 32 random bytes from :mod:`secrets` (URL-safe base64, 43 characters). Such a
token cannot be guessed or brute-forced, so a fast hash is the right tool: the database keeps
``SHA-256(token)`` in hex, and a request's token is found by its hash and compared in
constant time (:func:`hmac.compare_digest`).

A role fits a kind of member: an officer or an approver acts for a party, a notifier for a
humanitarian notifier, a monitor for a monitor; an administrator may belong to any member.

>>> token_hash("example")
'50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c'
>>> fits(Role.APPROVER, "party"), fits(Role.MONITOR, "party")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models import User
from accord.center.keystore import member_kinds
from accord.center.roles import Role
from accord.errors import InputError, Issue

__all__ = [
    "ROLE_KINDS",
    "Caller",
    "add_user",
    "alive",
    "find_caller",
    "fits",
    "new_token",
    "token_hash",
]

ROLE_KINDS: dict[Role, frozenset[str]] = {
    Role.OFFICER: frozenset({"party"}),
    Role.APPROVER: frozenset({"party"}),
    Role.NOTIFIER: frozenset({"notifier"}),
    Role.MONITOR: frozenset({"monitor"}),
    Role.ADMIN: frozenset({"party", "notifier", "monitor"}),
}
"""The kinds of member each role may act for."""

_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user of one request."""

    user_id: int
    name: str
    member: str
    role: Role
    expires_at: datetime | None = None
    """When the token the caller used stops working (``None``: it does not expire)."""


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fits(role: Role, kind: str) -> bool:
    """Whether a user of ``role`` may act for a member of ``kind``."""
    return kind in ROLE_KINDS[role]


def add_user(
    session: Session,
    agreement: Agreement,
    *,
    name: str,
    member: str,
    role: Role,
    at: datetime,
    expires_at: datetime | None = None,
) -> str:
    """Register a user acting for ``member`` with ``role``, their token valid until
    ``expires_at`` (``None``: until rotated or removed); return the token (the only time it
    exists outside the caller's hands). The caller commits. (This stores the user only; the
    service's own changes go through :mod:`accord.center.users.service`, which records them.)

    Raises :class:`~accord.errors.InputError` naming the field: an empty or long name, a
    name already taken (also by a removed user: names are never given twice), a member the
    agreement does not know, a role that does not fit the member's kind, an expiry not
    after ``at``.
    """
    issues: list[Issue] = []
    if not name or len(name) > _NAME_MAX or not name.isprintable() or name != name.strip():
        issues.append(Issue("name", f"a user name is 1 to {_NAME_MAX} printable characters"))
    elif found := session.execute(select(User.removed_at).where(User.name == name)).first():
        taken = "was removed (a name is never given twice)" if found[0] else "exists"
        issues.append(Issue("name", f"a user named {name!r} {taken}"))
    if expires_at is not None and expires_at <= at:
        issues.append(Issue("expires", "a token must expire after it is issued"))
    kind = member_kinds(agreement).get(member)
    if kind is None:
        issues.append(Issue("member", f"{member!r} is no party, notifier or monitor"))
    elif not fits(role, kind):
        allowed = " or ".join(sorted(ROLE_KINDS[role]))
        issues.append(Issue("role", f"a {role.value} acts for a {allowed}; {member!r} is a {kind}"))
    if issues:
        raise InputError("user", issues)
    token = new_token()
    session.add(
        User(
            name=name,
            member=member,
            role=role.value,
            token_hash=token_hash(token),
            created_at=at,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token


def find_caller(session: Session, token: str, *, at: datetime | None = None) -> Caller | None:
    """The user whose token this is, or ``None`` (also for a removed user's token, and,
    with ``at`` given, for a token expired at ``at``)."""
    digest = token_hash(token)
    user = session.scalars(select(User).where(User.token_hash == digest)).first()
    if user is None or not hmac.compare_digest(user.token_hash, digest):
        return None
    if user.removed_at is not None or not alive(user.expires_at, at):
        return None
    return Caller(
        user_id=user.id,
        name=user.name,
        member=user.member,
        role=Role(user.role),
        expires_at=user.expires_at,
    )


def alive(expires_at: datetime | None, at: datetime | None) -> bool:
    """Whether a token expiring at ``expires_at`` still works at ``at`` (``None``: it does
    not expire; no ``at``: not asked)."""
    return expires_at is None or at is None or at < expires_at
