"""The first schema: users, confirmations and the record's tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table, and the log's format rows."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('officer', 'approver', 'notifier', 'monitor', 'admin')",
            name="ck_users_role",
        ),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "confirmations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("condition", sa.String(64), nullable=False),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_confirmations_user"),
            nullable=False,
        ),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("condition", "member", name="uq_confirmations_condition_member"),
    )
    meta = op.create_table(
        "record_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "record_leaves",
        sa.Column("idx", _INDEX, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "record_nodes",
        sa.Column("level", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "record_heads",
        sa.Column("size", _INDEX, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_table(
        "record_authors",
        sa.Column("author", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(
        meta,
        [{"key": "format", "value": "accord-log"}, {"key": "schema_version", "value": "1"}],
    )


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "record_authors",
        "record_heads",
        "record_nodes",
        "record_leaves",
        "record_meta",
        "confirmations",
        "users",
    ):
        op.drop_table(table)
