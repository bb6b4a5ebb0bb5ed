"""Redo of the users' entries (:mod:`accord.center.recovery.redo`): the ``users`` row
:mod:`accord.center.users.service` added (``user.added``: name, member, role, created at
the entry's time, expiry), rotated (``user.rotated``: the expiry) or removed
(``user.removed``), from the center's entry.

A token is never recorded, nor its hash: a user added or rotated in the redone tail is given
a hash no token has (:func:`~accord.center.recovery.redo.unusable_token_hash`), and noted —
its administrator gives it a new token (``accord users rotate``). A token rotated away after
the backup was taken thus stops working again, as it had.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from accord.center.db.models import User
from accord.center.recovery.redo import Redo, Redoing, Redone, unusable_token_hash
from accord.center.roles import Role
from accord.center.users.service import ADDED_EVENT, REMOVED_EVENT, ROTATED_EVENT
from accord.chrono import parse_instant

__all__ = ["REDO"]


def _center(context: Redoing, entry: Redone) -> None:
    if entry.author != context.origin:
        raise ValueError(f"{entry.author}, not the center, wrote a {entry.kind} entry")


def _user(context: Redoing, entry: Redone) -> User:
    """The user the entry names, as the event has it (its member and role)."""
    event = entry.event
    name = str(event["user"])
    user = context.session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise KeyError(f"user {name!r} is in no earlier entry")
    if (user.member, user.role) != (event["member"], event["role"]):
        raise ValueError(f"user {name!r} is a {user.role} of {user.member}")
    if user.removed_at is not None:
        raise ValueError(f"user {name!r} was removed")
    return user


def _expires(entry: Redone) -> datetime | None:
    text = entry.event.get("expires_at")
    return None if text is None else parse_instant(str(text))


def _new_token(context: Redoing, entry: Redone, name: str) -> None:
    """Note, once per user, that its token is not in the record."""
    text = f"give {name} a new token (accord users rotate)"
    if not any(note.endswith(f": {text}") for note in context.notes):
        context.note(entry, text)


def _added(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.users.service.issue` (by way of
    :func:`~accord.center.identity.add_user`) wrote it, but for the token."""
    _center(context, entry)
    event, session = entry.event, context.session
    name = str(event["user"])
    if session.scalars(select(User.id).where(User.name == name)).first() is not None:
        raise ValueError(f"a user named {name!r} exists already")
    expires = _expires(entry)
    session.add(
        User(
            name=name, member=str(event["member"]), role=Role(event["role"]).value,
            token_hash=unusable_token_hash(), created_at=entry.at, expires_at=expires,
        )
    )  # fmt: skip
    session.flush()
    context.forget_users()
    _new_token(context, entry, name)


def _rotated(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.users.service.rotate` wrote it, but for the token."""
    _center(context, entry)
    user = _user(context, entry)
    user.token_hash = unusable_token_hash()
    user.expires_at = _expires(entry)
    _new_token(context, entry, user.name)


def _removed(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.users.service.remove` wrote it."""
    _center(context, entry)
    user = _user(context, entry)
    user.removed_at = entry.at


REDO: Mapping[str, Redo] = {
    ADDED_EVENT: _added,
    ROTATED_EVENT: _rotated,
    REMOVED_EVENT: _removed,
}
