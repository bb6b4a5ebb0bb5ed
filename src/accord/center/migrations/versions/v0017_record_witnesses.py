"""The parties' witnesses as the center knows them (issue 20 item 3) — ``record_witnesses``
(:class:`accord.center.db.models.RecordWitness`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "record_witnesses",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_at", sa.BigInteger(), nullable=True),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("record_witnesses")
