"""Airspace alerts' recipients: each party concerned, its acknowledgement deadline and its
escalation along the contact chain.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``airspace_alert_recipients``."""
    op.create_table(
        "airspace_alert_recipients",
        sa.Column(
            "alert_id",
            sa.String(18),
            sa.ForeignKey("airspace_alerts.id", name="fk_airspace_alert_recipients_alert"),
            primary_key=True,
        ),
        sa.Column("party", sa.String(64), primary_key=True),
        sa.Column("ack_within_s", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("overdue_at", UTCDateTime(), nullable=True),
        sa.Column("steps", sa.Text(), nullable=False),
    )
    op.create_index("ix_airspace_alert_recipients_due_at", "airspace_alert_recipients", ["due_at"])


def downgrade() -> None:
    """Drop ``airspace_alert_recipients``."""
    op.drop_table("airspace_alert_recipients")
