"""The operations table (see :mod:`accord.center.db.models_operations`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: a migration describes the schema of its day.
_STATUSES = (
    "'proposed', 'approved', 'vetoed', 'notified', 'on_hold', 'cleared', 'executed', "
    "'completed', 'cancelled', 'expired', 'executed_unilaterally', 'notified_in_time', "
    "'notified_late'"
)


def upgrade() -> None:
    """Create the operations table."""
    op.create_table(
        "operations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("conflicts", sa.Text(), nullable=False),
        sa.Column("blocking", sa.Integer(), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_operations_status"),
        sa.UniqueConstraint("rev", name="uq_operations_rev"),
    )
    op.create_index("ix_operations_category", "operations", ["category"])
    op.create_index("ix_operations_status", "operations", ["status"])
    op.create_index("ix_operations_proposed_at", "operations", ["proposed_at"])


def downgrade() -> None:
    """Drop the operations table."""
    op.drop_table("operations")
