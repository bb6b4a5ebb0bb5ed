"""The center's verification checkpoints (issue 24): how far it verified its record, signed by
its key, so that a restart resumes there instead of verifying every entry again
(:mod:`accord.center.picture.checkpoints`).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "verified_checkpoints",
        sa.Column("size", _INDEX, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("sequences", sa.Text(), nullable=False),
        sa.Column("latest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("verified_checkpoints")
