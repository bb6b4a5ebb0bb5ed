"""Checks: received geometry checked for each party (issue 18) — ``check_openings``
(:mod:`accord.center.db.models_checks`).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Index = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "check_openings",
        sa.Column("entry", _Index, primary_key=True, autoincrement=False),
        sa.Column("party", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("commitment", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_index("ix_check_openings_subject", "check_openings", ["subject", "party"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_check_openings_subject", table_name="check_openings")
    op.drop_table("check_openings")
