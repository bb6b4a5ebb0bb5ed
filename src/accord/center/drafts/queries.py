"""Reading drafts: the caller's member's own, as :func:`accord.center.visibility.sees_draft`
lets their reader see them (its SQL form for the list)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.db.models_drafts import Draft
from accord.center.drafts.service import DraftRecord, draft_of
from accord.errors import NotAuthorized

__all__ = ["list_drafts"]


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
