"""The compliance judge's checkpoints (issue 24): the judge as folded up to a size, signed by
the center with the root of that prefix, its body in parts
(:mod:`accord.center.picture.judge_checkpoints`), so that a restart folds only what came
after, not the whole record.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Index = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "judge_checkpoints",
        sa.Column("size", _Index, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("agreement", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("parts", _Index, nullable=False),
        sa.Column("part_digests", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "judge_checkpoint_parts",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("part", _Index, primary_key=True, autoincrement=False),
        sa.Column("size", _Index, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("judge_checkpoint_parts")
    op.drop_table("judge_checkpoints")
