"""Reading drafts: the caller's member's own, as :func:`accord.center.visibility.sees_draft`
lets their reader see them (its SQL form for the list)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.db.models import Opening
from accord.center.db.models_drafts import Draft, DraftChange
from accord.center.drafts.service import DraftRecord, draft_of
from accord.errors import NotAuthorized

__all__ = ["OPENINGS_PAGE", "draft_openings", "list_drafts"]

OPENINGS_PAGE = 1000
"""The most openings one page of ``GET /v1/drafts/openings`` returns."""


def list_drafts(session: Session, reader: visibility.Reader) -> list[DraftRecord]:
    """The drafts ``reader`` may see — its own member's, to an officer or approver — the
    latest saved first; :class:`~accord.errors.NotAuthorized` for any other role."""
    if reader.role not in visibility.DRAFT_READERS:
        raise NotAuthorized(f"a {reader.role.value} reads no drafts")
    rows = session.scalars(
        select(Draft)
        .where(visibility.drafts_where(reader, member=Draft.member))
        .order_by(Draft.saved_at.desc(), Draft.id.desc())
    ).all()
    return [draft_of(row) for row in rows]


def draft_openings(
    session: Session, reader: visibility.Reader, *, after: int = -1, limit: int = OPENINGS_PAGE
) -> tuple[list[tuple[DraftChange, Opening]], int | None]:
    """The openings of the ``draft.changed`` entries of ``reader``'s member (its own
    commitments: DECISIONS 11), in entry order from after entry ``after``, at most ``limit``;
    and the last entry's index when more follow (else None)."""
    if reader.role not in visibility.DRAFT_READERS:
        raise NotAuthorized(f"a {reader.role.value} reads no drafts")
    rows = session.execute(
        select(DraftChange, Opening)
        .join(Opening, Opening.entry == DraftChange.entry)
        .where(visibility.drafts_where(reader, member=DraftChange.member))
        .where(Opening.owner == reader.member, DraftChange.entry > after)
        .order_by(DraftChange.entry)
        .limit(limit + 1)
    ).all()
    found = [(change, opening) for change, opening in rows]
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1][0].entry if more and found else None)
