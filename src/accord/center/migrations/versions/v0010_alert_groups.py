"""Airspace alerts: the group each alert was raised in (one record entry per group of
findings, so that a batch of N aircraft adds O(N) entries, not one per pair).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``airspace_alerts.group_id`` (NULL for the alerts stored before: each was raised
    in an entry of its own and is a group of one)."""
    with op.batch_alter_table("airspace_alerts") as batch:
        batch.add_column(sa.Column("group_id", sa.String(length=18), nullable=True))
        batch.create_index("ix_airspace_alerts_group_id", ["group_id"])


def downgrade() -> None:
    """Drop ``airspace_alerts.group_id``."""
    with op.batch_alter_table("airspace_alerts") as batch:
        batch.drop_index("ix_airspace_alerts_group_id")
        batch.drop_column("group_id")
