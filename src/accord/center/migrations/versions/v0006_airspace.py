"""Airspace: the latest state of each aircraft, the alerts raised about them, and their
acknowledgements.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``tracks``, ``airspace_alerts`` and ``airspace_acks``."""
    op.create_table(
        "tracks",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("party", sa.String(64), nullable=True),
        sa.Column("mission", sa.String(64), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("alt_ft", sa.Float(), nullable=False),
        sa.Column("gs_kt", sa.Float(), nullable=False),
        sa.Column("track_deg", sa.Float(), nullable=False),
        sa.Column("vs_fpm", sa.Float(), nullable=False),
        sa.Column("disclosure", sa.String(8), nullable=False),
        sa.Column(
            "reported_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_tracks_user"),
            nullable=False,
        ),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("disclosure IN ('shared', 'center')", name="ck_tracks_disclosure"),
    )
    op.create_index("ix_tracks_time", "tracks", ["time"])
    op.create_table(
        "airspace_alerts",
        sa.Column("id", sa.String(18), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("parties", sa.Text(), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("cleared_entry", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('conflict', 'area', 'exempt')", name="ck_airspace_alerts_kind"
        ),
        sa.CheckConstraint("source IN ('track', 'plan')", name="ck_airspace_alerts_source"),
    )
    op.create_index("ix_airspace_alerts_key", "airspace_alerts", ["key"])
    op.create_index("ix_airspace_alerts_raised_at", "airspace_alerts", ["raised_at"])
    op.create_index("ix_airspace_alerts_cleared_at", "airspace_alerts", ["cleared_at"])
    op.create_table(
        "airspace_acks",
        sa.Column(
            "alert_id",
            sa.String(18),
            sa.ForeignKey("airspace_alerts.id", name="fk_airspace_acks_alert"),
            primary_key=True,
        ),
        sa.Column("party", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_airspace_acks_user"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("airspace_acks")
    op.drop_table("airspace_alerts")
    op.drop_table("tracks")
