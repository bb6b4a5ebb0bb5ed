"""Redo of the drafts' entries (:mod:`accord.center.recovery.redo`): a ``draft.changed``
entry holds a commitment and nothing else, so what it did — the draft saved, replaced or
deleted, its index row — is redone only from its opening, which its member hands back
(:meth:`~accord.center.recovery.redo.Redoing.opened`): then the rows are written by
:func:`accord.center.drafts.service.changed`, as the service wrote them, and the opening
kept for the member again. Who saved it is the user the member's act names (an agreement
without roots has no act: left empty).

Without the opening the entry changes nothing, and is noted: the member's drafts stay as the
backup had them until its devices save them again. A later opened change that does not fit
what the tables then hold (a draft saved anew that is still there, one replaced or deleted
that is not) is applied as its opening says, and noted, when one of the member's changes
was left unopened before it; else the restore is refused (the entry does not fit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy import select

from accord.center.db.models_drafts import Draft
from accord.center.drafts.service import CHANGED, changed, check_key
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.errors import InputError

__all__ = ["REDO"]


def _left(member: str) -> str:
    return f"{member}'s drafts stay as the backup had them until its devices save them again"


_UNOPENED = "accord.drafts.redo.unopened"
"""The session's ``info`` key of the members one of whose draft changes was left unopened."""


def _unopened(context: Redoing) -> set[str]:
    return cast(set[str], context.session.info.setdefault(_UNOPENED, set()))


def _unfit(context: Redoing, entry: Redone, text: str) -> None:
    """A change that does not fit the tables: noted after one of the member's changes was
    left unopened, else a ValueError."""
    if entry.author not in _unopened(context):
        raise ValueError(text)
    context.note(entry, f"{text}: applied as its opening says")


def _changed(context: Redoing, entry: Redone) -> None:
    member, session = entry.author, context.session
    opened = context.opened(entry, owner=member)
    if opened is None:
        context.note(entry, _left(member))
        _unopened(context).add(member)
        return
    try:
        key = check_key(opened["key"])
    except InputError as error:
        raise ValueError(f"the opening holds no draft key: {error}") from error
    row = session.scalars(select(Draft).where(Draft.member == member, Draft.key == key)).first()
    action, created = opened["action"], opened["created"] is True
    if action == "saved" and created and row is not None:
        _unfit(context, entry, f"{member}'s draft {key} is saved anew but is there")
    elif action == "saved" and not created and row is None:
        _unfit(context, entry, f"{member}'s draft {key} is replaced but is not there (its "
               "creation time is taken as this entry's)")  # fmt: skip
    elif action == "deleted" and row is None:
        _unfit(context, entry, f"{member}'s draft {key} is deleted but is not there")
    after = changed(
        session, member, opened, row, entry=entry.index, at=entry.at,
        saved_by=context.user_id(entry.user),
    )  # fmt: skip
    if after is not None and created:
        after.created_at = entry.at


REDO: Mapping[str, Redo] = {CHANGED: _changed}
