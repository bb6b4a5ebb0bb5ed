"""Signing: the parties' acts are signed on their side (issue 17) — ``act_nonces``,
``key_entries`` and ``key_offers`` (:mod:`accord.center.db.models_signing`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Index = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "act_nonces",
        sa.Column("nonce", sa.String(96), primary_key=True),
        sa.Column("entry", _Index, nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_table(
        "key_entries",
        sa.Column("entry", _Index, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("signer", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_table(
        "key_offers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_key_offers_user"),
            nullable=False,
        ),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("offered_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("key_id", name="uq_key_offers_key_id"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("key_offers")
    op.drop_table("key_entries")
    op.drop_table("act_nonces")
