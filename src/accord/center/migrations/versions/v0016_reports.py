"""Reports: incident and violation reports and their answers (issue 18, DECISIONS 16) —
``reports`` (:mod:`accord.center.db.models_reports`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "reports",
        sa.Column("id", sa.String(18), primary_key=True),
        sa.Column("filer", sa.String(64), nullable=False),
        sa.Column("accused", sa.String(64), nullable=False),
        sa.Column(
            "filed_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_reports_filed_by"),
            nullable=False,
        ),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column(
            "answered_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_reports_answered_by"),
            nullable=True,
        ),
        sa.Column("answer_entry", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
    )
    op.create_index("ix_reports_filer", "reports", ["filer"])
    op.create_index("ix_reports_accused", "reports", ["accused"])
    op.create_index("ix_reports_entry", "reports", ["entry"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_reports_entry", table_name="reports")
    op.drop_index("ix_reports_accused", table_name="reports")
    op.drop_index("ix_reports_filer", table_name="reports")
    op.drop_table("reports")
