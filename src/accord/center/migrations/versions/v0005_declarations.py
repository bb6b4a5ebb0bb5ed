"""Declarations: the index of their record entries, and acknowledgements of humanitarian
notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``declaration_changes`` and ``acknowledgements``."""
    op.create_table(
        "declaration_changes",
        sa.Column("entry", _INDEX, primary_key=True, autoincrement=False),
        sa.Column(
            "declaration_id",
            sa.String(40),
            sa.ForeignKey("declarations.id", name="fk_declaration_changes_declaration"),
            nullable=False,
        ),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "change IN ('created', 'amended', 'withdrawn', 'acknowledged')",
            name="ck_declaration_changes_change",
        ),
    )
    op.create_index(
        "ix_declaration_changes_declaration_id", "declaration_changes", ["declaration_id"]
    )
    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "declaration_id",
            sa.String(40),
            sa.ForeignKey("declarations.id", name="fk_acknowledgements_declaration"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_acknowledgements_user"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint(
            "declaration_id", "version", "member", name="uq_acknowledgements_version_member"
        ),
    )
    op.create_index("ix_acknowledgements_declaration_id", "acknowledgements", ["declaration_id"])


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_table("acknowledgements")
    op.drop_table("declaration_changes")
