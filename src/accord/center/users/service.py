"""The users' life cycle: issue, list, rotate, remove; each change recorded by the center.

Tokens are the center's transport credentials (not a party's signing keys), so every change
to a user is an entry signed by the **center** (``user.added``, ``user.rotated``,
``user.removed``): who, for which member, with which role, until when, and who asked — never
the token, nor its hash. The entry goes into the same unit of work as the row, so a change
and its entry are durable together or not at all.

Who may manage whom: the command line (the operator at the center, with the database in
hand) manages every user; an administrator through the API manages the users of their own
member only — a party's administrator can neither issue a token acting for another member
(which would read that member's private workspace) nor see, rotate or remove another
member's users (those answer as if they did not exist). A removed user keeps their row, so
the name is never given again and no old token comes back.

A token stops working when it is rotated or removed (in every server process within
:data:`~accord.center.runtime.AUTH_CACHE_SECONDS`) and when it expires (checked against the
center's clock on every request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center.db.models import User
from accord.center.entry_kinds import EntryKind, Signer, entry_kind
from accord.center.identity import add_user, new_token, token_hash
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import format_instant, parse_duration
from accord.errors import IllegalTransition, InputError, Issue, NotAuthorized, NotFound

__all__ = [
    "ADDED_EVENT",
    "COMMAND_LINE",
    "MAX_LIFETIME",
    "REMOVED_EVENT",
    "ROTATED_EVENT",
    "Changed",
    "UserView",
    "expiry",
    "issue",
    "list_users",
    "remove",
    "rotate",
]

ADDED_EVENT = "user.added"
ROTATED_EVENT = "user.rotated"
REMOVED_EVENT = "user.removed"

_ENTRIES: dict[str, EntryKind] = {}
for _kind, _summary in [
    (ADDED_EVENT, "the administrator adds a user (a token's hash, never the token)"),
    (ROTATED_EVENT, "the administrator gives a user a new token; the old one stops"),
    (REMOVED_EVENT, "the administrator removes a user; its token stops"),
]:
    _ENTRIES[_kind] = entry_kind(
        _kind,
        signer=Signer.CENTER,
        required=("user", "member", "role", "by"),
        optional=() if _kind == REMOVED_EVENT else ("expires_at",),
        fold=None,
        summary=_summary,
    )

COMMAND_LINE: Mapping[str, str] = {"operator": "command line"}
"""Who asked, in the entry, for a change made with ``accord users``."""

MAX_LIFETIME = timedelta(days=3653)
"""The longest ``--expires`` (ten years; no expiry at all is the default)."""

State = Literal["active", "expired", "removed"]


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as listed: never a token or its hash."""

    name: str
    member: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    state: State


@dataclass(frozen=True, slots=True)
class Changed:
    """A change made: the user after it, its record entry, and the new token (issue and
    rotate only; shown once, never stored)."""

    user: UserView
    entry: int
    token: str | None = None


def expiry(duration: str | None, at: datetime, *, field: str = "expires") -> datetime | None:
    """The instant a token issued at ``at`` expires, given an ISO 8601 ``duration`` (e.g.
    ``PT12H``, ``P7D``); ``None`` for none. Raises :class:`~accord.errors.InputError` naming
    ``field`` for a duration that is not one, not positive, or longer than
    :data:`MAX_LIFETIME`."""
    if duration is None:
        return None
    try:
        length = parse_duration(duration)
    except ValueError as error:
        raise InputError("user", [Issue(field, str(error))]) from None
    if length <= timedelta(0) or length > MAX_LIFETIME:
        message = f"a token lives more than 0 seconds and at most {MAX_LIFETIME.days} days"
        raise InputError("user", [Issue(field, message)])
    return at + length


def _view(user: User, at: datetime) -> UserView:
    state: State = "active"
    if user.removed_at is not None:
        state = "removed"
    elif user.expires_at is not None and user.expires_at <= at:
        state = "expired"
    return UserView(
        name=user.name,
        member=user.member,
        role=user.role,
        created_at=user.created_at,
        expires_at=user.expires_at,
        removed_at=user.removed_at,
        state=state,
    )


def list_users(session: Session, *, at: datetime, member: str | None = None) -> list[UserView]:
    """Every user (of ``member`` only, when given), by name, as they stand at ``at``."""
    query = select(User).order_by(User.name)
    if member is not None:
        query = query.where(User.member == member)
    return [_view(user, at) for user in session.scalars(query)]


def _event(kind: str, user: User, by: Mapping[str, str]) -> dict[str, object]:
    fields: dict[str, object] = {
        "user": user.name,
        "member": user.member,
        "role": user.role,
        "by": dict(by),
    }
    if user.expires_at is not None and kind != REMOVED_EVENT:
        fields["expires_at"] = format_instant(user.expires_at)
    return _ENTRIES[kind].build(fields)


def _record(unit: Unit, kind: str, user: User, by: Mapping[str, str], at: datetime) -> int:
    entry = unit.ledger.append(_event(kind, user, by), author=unit.center.origin, at=at)
    unit.center.forget_tokens()
    return entry


def _find(session: Session, name: str, scope: str | None) -> User:
    """The user named ``name`` whom a manager of ``scope`` (a member; ``None``: every
    member) may see, else 404 — the same answer for another member's user as for nobody."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None or (scope is not None and user.member != scope):
        raise NotFound("no such user")
    return user


def issue(
    unit: Unit,
    *,
    name: str,
    member: str,
    role: Role,
    at: datetime,
    expires_at: datetime | None,
    by: Mapping[str, str],
    scope: str | None = None,
) -> Changed:
    """Add a user and record it (``user.added``, signed by the center); the new token is
    in the answer, once. ``scope``: the only member the asker manages (``None``: all).

    Raises :class:`~accord.errors.NotAuthorized` for a member outside ``scope``, and
    :class:`~accord.errors.InputError` as :func:`~accord.center.identity.add_user` does.
    """
    if scope is not None and member != scope:
        raise NotAuthorized(f"an administrator of {scope} manages {scope}'s users only")
    session = unit.session
    token = add_user(
        session,
        unit.center.agreement,
        name=name,
        member=member,
        role=role,
        at=at,
        expires_at=expires_at,
    )
    user = session.scalars(select(User).where(User.name == name)).one()
    entry = _record(unit, ADDED_EVENT, user, by, at)
    return Changed(_view(user, at), entry, token)


def rotate(
    unit: Unit,
    *,
    name: str,
    at: datetime,
    expires_at: datetime | None,
    by: Mapping[str, str],
    scope: str | None = None,
) -> Changed:
    """Give ``name`` a new token (valid until ``expires_at``; ``None``: no expiry) and
    record it (``user.rotated``); the old token stops working. An expired user may be
    rotated (that is how a token is renewed); a removed one may not (409)."""
    session = unit.session
    user = _find(session, name, scope)
    if user.removed_at is not None:
        raise IllegalTransition(f"the user {name!r} was removed")
    if expires_at is not None and expires_at <= at:
        raise InputError("user", [Issue("expires", "a token must expire after it is issued")])
    token = new_token()
    user.token_hash = token_hash(token)
    user.expires_at = expires_at
    session.flush()
    entry = _record(unit, ROTATED_EVENT, user, by, at)
    return Changed(_view(user, at), entry, token)


def remove(
    unit: Unit, *, name: str, at: datetime, by: Mapping[str, str], scope: str | None = None
) -> Changed:
    """Remove ``name`` and record it (``user.removed``): their token stops working, the
    row stays (so the name is never given again). Removing a removed user is refused
    (409)."""
    session = unit.session
    user = _find(session, name, scope)
    if user.removed_at is not None:
        raise IllegalTransition(f"the user {name!r} was removed")
    user.removed_at = at
    session.flush()
    entry = _record(unit, REMOVED_EVENT, user, by, at)
    return Changed(_view(user, at), entry)
