"""Snapshots of the picture's folded state (issue 24): every 10,000 entries, the state the
record folds to for each member whose hidden declarations open differently, signed by the
center's key, so that a picture at any instant replays only the entries after the nearest one
(:mod:`accord.center.picture.snapshots`).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "picture_snapshots",
        sa.Column("size", _INDEX, primary_key=True, autoincrement=False),
        sa.Column("member", sa.String(128), primary_key=True),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("objects", _INDEX, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("picture_snapshots")
