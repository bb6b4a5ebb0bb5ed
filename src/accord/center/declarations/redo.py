"""Redo of the declarations' entries (:mod:`accord.center.recovery.redo`): the rows
:mod:`accord.center.declarations.service` wrote for each, from the event (a shared
declaration's id, kind, version and feature are in it; a hidden one's are in its opening,
which its owner hands back) — the row, its index entry, its device uid, an acknowledgement.

A hidden declaration's shadow is drawn anew (:func:`~accord.center.disclosure.shadows.
placed`): the one drawn before was a secret of the center's, in no entry. A hidden change
whose opening was not handed back changes nothing and is noted: its owner declares again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.center.db.models import Declaration
from accord.center.db.models_declarations import Acknowledgement, DeclarationChange
from accord.center.declarations.queries import ACTIVE, WITHDRAWN
from accord.center.declarations.service import _claim_device, next_rev
from accord.center.disclosure.shadows import placed
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.record.canonical import canonical_json
from accord.world import Declared, parse_world

__all__ = ["REDO"]


def _declared(context: Redoing, stored: Mapping[str, Any]) -> Declared:
    world = parse_world(
        {"type": "FeatureCollection", "features": [stored]}, context.agreement, source="redo"
    )
    (obj,) = tuple(world)
    return obj


def _rev(context: Redoing) -> int:
    """The ``rev`` the next change takes (:func:`~accord.center.declarations.service.
    next_rev`, read from the table once)."""
    return context.next_number("declarations.rev", lambda: next_rev(context.session))


def _row(context: Redoing, object_id: str) -> Declaration:
    row = context.session.get(Declaration, object_id)
    if row is None:
        raise KeyError(f"declaration {object_id} is in no earlier entry")
    return row


def _apply(
    context: Redoing,
    entry: Redone,
    change: str,
    *,
    object_id: str,
    kind: str,
    disclosure: str,
    version: int,
    content: Mapping[str, Any],
) -> None:
    """Apply one change as :func:`~accord.center.declarations.service.declare`, ``amend``
    or ``withdraw`` did, at the entry's time and index."""
    session, at = context.session, entry.at
    reason: str | None = None
    if change == "created":
        if version != 1:
            raise ValueError(f"declaration {object_id} is created at version {version}")
        obj = _declared(context, content)
        row = Declaration(
            id=object_id, kind=kind, owner=entry.author, disclosure=disclosure, status=ACTIVE,
            version=1, rev=_rev(context), feature=canonical_json(content).decode("utf-8"),
            declared_at=at, updated_at=at, withdrawn_at=None, entry=entry.index,
            shadow=placed(context.agreement, obj, None),
        )  # fmt: skip
        session.add(row)
        session.flush()
        _claim_device(session, entry.author, obj, object_id)
    elif change == "amended":
        row = _row(context, object_id)
        if row.owner != entry.author or row.status != ACTIVE or version != row.version + 1:
            raise ValueError(f"declaration {object_id} is not {entry.author}'s at {version - 1}")
        obj = _declared(context, content)
        _claim_device(session, entry.author, obj, object_id)
        row.version = version
        row.rev = _rev(context)
        row.feature = canonical_json(content).decode("utf-8")
        row.shadow = placed(context.agreement, obj, row.shadow)
        row.updated_at = at
        row.entry = entry.index
    elif change == "withdrawn":
        row = _row(context, object_id)
        if row.owner != entry.author or row.status != ACTIVE or version != row.version:
            raise ValueError(f"declaration {object_id} is not {entry.author}'s at {version}")
        reason = content.get("reason")
        row.status = WITHDRAWN
        row.withdrawn_at = at
        row.updated_at = at
        row.rev = _rev(context)
        row.entry = entry.index
    else:
        raise ValueError(f"no change {change!r}")
    session.add(
        DeclarationChange(
            entry=entry.index, declaration_id=object_id, change=change, version=version,
            member=entry.author, at=at, reason=reason,
        )
    )  # fmt: skip


def _shared(change: str) -> Redo:
    def redo(context: Redoing, entry: Redone) -> None:
        event = entry.event
        if "commitment" in event:  # an older log's hidden change, its content committed
            opened = context.opened(entry, owner=entry.author)
            if opened is None:
                context.unopened_change(entry, entry.author)
                return
            content = opened
        else:
            content = event["content"] if "content" in event else {"reason": event.get("reason")}
        _apply(
            context, entry, change, object_id=event["id"], kind=event["object_kind"],
            disclosure=event["disclosure"], version=int(event["version"]), content=content,
        )  # fmt: skip

    return redo


def _hidden(context: Redoing, entry: Redone) -> None:
    """A hidden change, from the opening its owner handed back. Without it, nothing is
    known of which object changed or how: the owner's entry is counted unopened. Once an
    owner has one, a later change of its that does not fit the tables (an amendment of an
    object whose creation was not opened) is counted too, not refused."""
    owner = entry.author
    opened = context.opened(entry, owner=owner)
    if opened is None:
        context.unopened_change(entry, owner)
        return
    try:
        _apply(
            context, entry, opened["action"], object_id=opened["id"],
            kind=opened["object_kind"], disclosure="center",
            version=int(opened["version"]), content=opened["content"],
        )  # fmt: skip
    except (KeyError, ValueError):
        if owner not in context.unopened:
            raise
        context.note(entry, f"follows an unopened change of {owner}'s: not rebuilt")
        context.unopened_change(entry, owner)


def _acknowledged(context: Redoing, entry: Redone) -> None:
    event, session = entry.event, context.session
    row = _row(context, event["id"])
    if int(event["version"]) != row.version:
        raise ValueError(f"declaration {row.id} is at version {row.version}")
    session.add(
        Acknowledgement(
            declaration_id=row.id, version=row.version, member=entry.author,
            user_id=context.user_id(entry.user), content_hash=event["content_hash"],
            acknowledged_at=entry.at, entry=entry.index,
        )
    )  # fmt: skip
    session.add(
        DeclarationChange(
            entry=entry.index, declaration_id=row.id, change="acknowledged",
            version=row.version, member=entry.author, at=entry.at, reason=None,
        )
    )  # fmt: skip


REDO: Mapping[str, Redo] = {
    "declaration.created": _shared("created"),
    "declaration.amended": _shared("amended"),
    "declaration.withdrawn": _shared("withdrawn"),
    "declaration.hidden": _hidden,
    "declaration.acknowledged": _acknowledged,
}
