"""Declarations as a caller may read them: one declaration, a page, a list thousands at a
time, the features in force, and the record entries about one with their openings.

**Who sees what** (:func:`may_see`). A party's officers and approvers see every declaration
of their own member and every other member's ``shared`` one; a notifier sees only its own
member's declarations (and their acknowledgements); a monitor sees the ``shared`` ones; an
administrator registers people and sees none (the routes answer 403 on every declaration
route, whatever the id). Another member's ``center`` declaration does not exist for the
caller: reading, amending, withdrawing, acknowledging it or asking for its openings raises
:class:`~accord.errors.DeclarationNotFound`, exactly as for an id nobody holds, and lists
neither return nor count it. Every rule is :mod:`accord.center.visibility`'s; the writes
(:mod:`accord.center.declarations.service`) find their row through :func:`visible_row`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.db.models import Declaration, Opening
from accord.center.db.models_declarations import Acknowledgement, DeclarationChange
from accord.center.identity import Caller
from accord.errors import DeclarationNotFound, NotAuthorized
from accord.record.canonical import content_hash

__all__ = [
    "ACTIVE",
    "WITHDRAWN",
    "Acknowledged",
    "DeclarationView",
    "EntryOpening",
    "Listed",
    "Opened",
    "find",
    "in_force",
    "listing",
    "may_see",
    "openings",
    "page",
    "record_indexes",
    "stored_feature",
    "view_of",
    "visible_row",
]

ACTIVE, WITHDRAWN = "active", "withdrawn"
"""A declaration's statuses: in force, or withdrawn (kept, out of force, for the history)."""


@dataclass(frozen=True, slots=True)
class Opened:
    """The opening of the commitment in record entry ``entry``: salt and exact content."""

    entry: int
    commitment: bytes
    salt: bytes
    content: str


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A party's receipt of one version of a notifier's declaration."""

    declaration: str
    member: str
    version: int
    content_hash: str
    acknowledged_at: datetime
    entry: int


@dataclass(frozen=True, slots=True)
class DeclarationView:
    """A declaration as one caller may see it."""

    id: str
    kind: str
    owner: str
    disclosure: str
    status: str
    version: int
    feature: dict[str, Any]
    content_hash: str
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    entry: int
    opening: Opened | None = None
    acknowledgements: tuple[Acknowledged, ...] | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """A declaration as one caller may see it, as a list gives it: a
    :class:`DeclarationView` whose feature is left as the stored canonical JSON text
    (``feature_json``), never parsed, and whose ``content_hash`` is that text's SHA-256."""

    id: str
    kind: str
    owner: str
    disclosure: str
    status: str
    version: int
    feature_json: str
    content_hash: str
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    entry: int
    acknowledgements: tuple[Acknowledged, ...]


@dataclass(frozen=True, slots=True)
class EntryOpening:
    """One record entry about a declaration, with its opening when it carries a
    commitment (``None`` when the entry carries the content in clear)."""

    entry: int
    change: str
    version: int
    member: str
    at: datetime
    opening: Opened | None


# --- visibility -----------------------------------------------------------------------------


def may_see(caller: Caller, owner: str, disclosure: str) -> bool:
    """Whether ``caller`` may see a declaration of ``owner`` with ``disclosure``: the
    policy's :func:`~accord.center.visibility.sees_object`.

    >>> from accord.center.roles import Role
    >>> officer = Caller(1, "r", "red", Role.OFFICER)
    >>> may_see(officer, "blue", "shared"), may_see(officer, "blue", "center")
    (True, False)
    """
    return visibility.sees_object(caller, owner=owner, disclosure=disclosure)


def _visible(caller: Caller) -> ColumnElement[bool]:
    """:func:`may_see` as a condition on ``declarations``."""
    return visibility.objects_where(
        caller, owner=Declaration.owner, disclosure=Declaration.disclosure
    )


def visible_row(session: Session, caller: Caller, object_id: str) -> Declaration:
    """The row ``object_id``; raises :class:`~accord.errors.DeclarationNotFound` when there
    is none the caller may see (one answer for both)."""
    row = session.get(Declaration, object_id)
    if row is None or not may_see(caller, row.owner, row.disclosure):
        raise DeclarationNotFound()
    return row


def stored_feature(row: Declaration) -> dict[str, Any]:
    """The row's feature, parsed from its stored canonical JSON."""
    value: dict[str, Any] = json.loads(row.feature)
    return value


def view_of(
    row: Declaration,
    *,
    opening: Opened | None = None,
    reason: str | None = None,
    acknowledgements: tuple[Acknowledged, ...] | None = None,
) -> DeclarationView:
    """The row as a :class:`DeclarationView` (what to show of it is the caller's choice:
    ``opening``, ``reason`` and ``acknowledgements`` are passed in)."""
    feature = stored_feature(row)
    return DeclarationView(
        id=row.id,
        kind=row.kind,
        owner=row.owner,
        disclosure=row.disclosure,
        status=row.status,
        version=row.version,
        feature=feature,
        content_hash=content_hash(feature),
        declared_at=row.declared_at,
        updated_at=row.updated_at,
        withdrawn_at=row.withdrawn_at,
        withdrawn_reason=reason,
        entry=row.entry,
        opening=opening,
        acknowledgements=acknowledgements,
    )


# --- reading --------------------------------------------------------------------------------


def _acknowledgements(
    session: Session, caller: Caller, rows: Sequence[Declaration]
) -> dict[str, tuple[Acknowledged, ...]]:
    """Per declaration of a notifier: every acknowledgement for the owner, the caller's own
    member's for anyone else."""
    found: dict[str, list[Acknowledged]] = {row.id: [] for row in rows}
    query = (
        select(Acknowledgement)
        .join(Declaration, Declaration.id == Acknowledgement.declaration_id)
        .where(
            Acknowledgement.declaration_id.in_(list(found)),
            visibility.acknowledgements_where(
                caller, owner=Declaration.owner, acknowledger=Acknowledgement.member
            ),
        )
        .order_by(Acknowledgement.entry)
    )
    if found:
        for ack in session.scalars(query):
            found[ack.declaration_id].append(
                Acknowledged(
                    ack.declaration_id,
                    ack.member,
                    ack.version,
                    ack.content_hash,
                    ack.acknowledged_at,
                    ack.entry,
                )
            )
    return {key: tuple(value) for key, value in found.items()}


def _reasons(session: Session, rows: Sequence[Declaration]) -> dict[str, str | None]:
    withdrawn = [row.id for row in rows if row.status == WITHDRAWN]
    if not withdrawn:
        return {}
    query = select(DeclarationChange.declaration_id, DeclarationChange.reason).where(
        DeclarationChange.declaration_id.in_(withdrawn), DeclarationChange.change == "withdrawn"
    )
    return {object_id: reason for object_id, reason in session.execute(query)}


def _views(session: Session, caller: Caller, rows: Sequence[Declaration]) -> list[DeclarationView]:
    acks = _acknowledgements(session, caller, rows)
    reasons = _reasons(session, rows)
    return [
        view_of(row, reason=reasons.get(row.id), acknowledgements=acks.get(row.id, ()))
        for row in rows
    ]


def find(session: Session, caller: Caller, object_id: str) -> DeclarationView:
    """The declaration ``object_id`` as the caller may see it; raises
    :class:`~accord.errors.DeclarationNotFound` when there is none the caller may see."""
    row = visible_row(session, caller, object_id)
    return _views(session, caller, [row])[0]


def _page_query(
    caller: Caller,
    *,
    kind: str | None,
    owner: str | None,
    status: str | None,
    after: str | None,
) -> ColumnElement[bool]:
    """The condition of a page: what the caller may see, narrowed by the filters."""
    conditions = [_visible(caller)]
    if kind is not None:
        conditions.append(Declaration.kind == kind)
    if owner is not None:
        conditions.append(Declaration.owner == owner)
    if status is not None:
        conditions.append(Declaration.status == status)
    if after is not None:
        conditions.append(Declaration.id > after)
    return and_(*conditions)


def page(
    session: Session,
    caller: Caller,
    *,
    kind: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> tuple[list[DeclarationView], str | None]:
    """Up to ``limit`` declarations the caller may see, by id, after the id ``after``;
    and the id to pass as ``after`` for the next page (``None`` on the last page). Only
    what the caller may see is ever read, so nothing else is counted or hinted at."""
    where = _page_query(caller, kind=kind, owner=owner, status=status, after=after)
    query = select(Declaration).where(where).order_by(Declaration.id).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return _views(session, caller, rows), (rows[-1].id if more else None)


_LISTED_COLUMNS = (
    Declaration.id,
    Declaration.kind,
    Declaration.owner,
    Declaration.disclosure,
    Declaration.status,
    Declaration.version,
    Declaration.feature,
    Declaration.declared_at,
    Declaration.updated_at,
    Declaration.withdrawn_at,
    Declaration.entry,
)


def listing(
    session: Session,
    caller: Caller,
    *,
    kind: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> tuple[list[Listed], str | None]:
    """:func:`page` for a list answer, thousands at a time: the same declarations, in the
    same order, under the same visibility rule, with the same next ``after``; but read as
    plain columns (no ORM objects), the feature left as its stored canonical JSON, and its
    content hash taken from that text (the canonical JSON of the parsed feature is the same
    text, so the hash is :func:`~accord.record.canonical.content_hash`'s)."""
    where = _page_query(caller, kind=kind, owner=owner, status=status, after=after)
    query = select(*_LISTED_COLUMNS).where(where).order_by(Declaration.id).limit(limit + 1)
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return [], None
    first, last = rows[0].id, rows[-1].id
    acks = _acknowledgements_between(session, caller, first, last)
    withdrawn = {row.id for row in rows if row.status == WITHDRAWN}
    reasons = _reasons_between(session, first, last, withdrawn) if withdrawn else {}
    sha256 = hashlib.sha256
    listed = [
        Listed(
            id=object_id,
            kind=kind,
            owner=owner,
            disclosure=disclosure,
            status=status,
            version=version,
            feature_json=feature,
            content_hash=sha256(feature.encode("utf-8")).hexdigest(),
            declared_at=declared_at,
            updated_at=updated_at,
            withdrawn_at=withdrawn_at,
            withdrawn_reason=reasons.get(object_id),
            entry=entry,
            acknowledgements=acks.get(object_id, ()),
        )
        for (
            object_id,
            kind,
            owner,
            disclosure,
            status,
            version,
            feature,
            declared_at,
            updated_at,
            withdrawn_at,
            entry,
        ) in rows
    ]
    return listed, (last if more else None)


def in_force(
    session: Session, caller: Caller, *, limit: int, after: str | None = None
) -> tuple[list[str], str | None]:
    """The stored features (canonical JSON text, never parsed) of up to ``limit``
    declarations in force that the caller may see, by id, after the id ``after``; and the
    ``after`` of the next page (``None`` on the last). The same rule as :func:`page` with
    ``status="active"``: only what the caller may see is ever read. Each feature names its
    id, kind, owner (``declared_by``) and disclosure in its properties."""
    where = _page_query(caller, kind=None, owner=None, status=ACTIVE, after=after)
    query = select(Declaration.id, Declaration.feature).where(where)
    rows = session.execute(query.order_by(Declaration.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [feature for _, feature in rows], (rows[-1][0] if more else None)


def _acknowledgements_between(
    session: Session, caller: Caller, first: str, last: str
) -> dict[str, tuple[Acknowledged, ...]]:
    """:func:`_acknowledgements` for every declaration with an id from ``first`` to
    ``last``: all of them for the caller's member's declarations, the caller's member's own
    for anyone else's. The caller keeps only those of the declarations it lists."""
    query = (
        select(Acknowledgement)
        .join(Declaration, Declaration.id == Acknowledgement.declaration_id)
        .where(
            Acknowledgement.declaration_id >= first,
            Acknowledgement.declaration_id <= last,
            visibility.acknowledgements_where(
                caller, owner=Declaration.owner, acknowledger=Acknowledgement.member
            ),
        )
        .order_by(Acknowledgement.entry)
    )
    found: dict[str, list[Acknowledged]] = {}
    for ack in session.scalars(query):
        found.setdefault(ack.declaration_id, []).append(
            Acknowledged(
                ack.declaration_id,
                ack.member,
                ack.version,
                ack.content_hash,
                ack.acknowledged_at,
                ack.entry,
            )
        )
    return {key: tuple(value) for key, value in found.items()}


def _reasons_between(
    session: Session, first: str, last: str, withdrawn: set[str]
) -> dict[str, str | None]:
    """Why each of ``withdrawn`` (ids from ``first`` to ``last``) was withdrawn."""
    query = select(DeclarationChange.declaration_id, DeclarationChange.reason).where(
        DeclarationChange.declaration_id >= first,
        DeclarationChange.declaration_id <= last,
        DeclarationChange.change == "withdrawn",
    )
    return {
        object_id: reason for object_id, reason in session.execute(query) if object_id in withdrawn
    }


def openings(session: Session, caller: Caller, object_id: str) -> list[EntryOpening]:
    """Every record entry about the caller's member's declaration ``object_id``, oldest
    first, each with its opening when it carries a commitment. Raises
    :class:`~accord.errors.DeclarationNotFound` when the caller may not see it and
    :class:`~accord.errors.NotAuthorized` when it is another member's."""
    row = visible_row(session, caller, object_id)
    if row.owner != caller.member:
        raise NotAuthorized("only the owner's users see the openings of its declarations")
    changes = list(
        session.scalars(
            select(DeclarationChange)
            .where(DeclarationChange.declaration_id == row.id)
            .order_by(DeclarationChange.entry)
        )
    )
    entries = [change.entry for change in changes]
    opened = {
        o.entry: Opened(o.entry, o.commitment, o.salt, o.content)
        for o in session.scalars(
            select(Opening).where(Opening.entry.in_(entries), Opening.owner == caller.member)
        )
    }
    return [
        EntryOpening(c.entry, c.change, c.version, c.member, c.at, opened.get(c.entry))
        for c in changes
    ]


def record_indexes(session: Session, ids: Sequence[str]) -> dict[str, int]:
    """The record index of each declaration of ``ids``' latest change (read 500 ids at a
    time; call it with the ids of rows the caller was allowed to read)."""
    entries: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(Declaration.id, Declaration.entry).where(Declaration.id.in_(chunk))
        entries |= {str(i): int(e) for i, e in session.execute(query).all()}
    return entries
