"""Drafts: the shapes a member's devices drew (issue 21 item 3) — ``drafts``
and their entries, ``draft_changes`` (:mod:`accord.center.db.models_drafts`).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "saved_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_drafts_saved_by"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("saved_at", UTCDateTime(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("member", "key", name="uq_drafts_member_key"),
    )
    op.create_index("ix_drafts_member", "drafts", ["member"])
    op.create_table(
        "draft_changes",
        sa.Column("entry", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_draft_changes_member", "draft_changes", ["member"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_draft_changes_member", "draft_changes")
    op.drop_table("draft_changes")
    op.drop_index("ix_drafts_member", "drafts")
    op.drop_table("drafts")
