"""Drafts' table (:mod:`accord.center.drafts`): the shapes a member's devices drew, kept for
the member's own officers and approvers until they propose from one or delete it.

* ``drafts`` — one row per draft in force: the member, the key (the drawing's CoT uid, unique
  within the member), the draft as saved (canonical JSON: name, shape, geometry, device,
  drawn at), who saved it last, when, and the ``draft.changed`` entry of that save. A deleted
  draft's row is gone; its entries and their openings (``openings``) stay.
* ``draft_changes`` — one row per ``draft.changed`` entry: whose, which key, saved or deleted,
  when (what finds the member's openings of its drafts' entries: ``GET /v1/drafts/openings``).

Created by migration ``0020``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["Draft", "DraftChange"]


class Draft(Base):
    """A member's draft in force. ``content`` is the canonical JSON of the draft as saved."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("member", "key", name="uq_drafts_member_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_drafts_saved_by"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger)


class DraftChange(Base):
    """The ``draft.changed`` entry ``entry``: the member's, of draft ``key``, ``saved`` or
    ``deleted`` at ``at`` (its opening is in ``openings``)."""

    __tablename__ = "draft_changes"

    entry: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
