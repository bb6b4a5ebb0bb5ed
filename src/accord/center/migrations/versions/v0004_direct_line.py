"""The direct line: messages, their recipients and escalations, contact chains, presence.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the five tables."""
    op.create_table(
        "messages",
        sa.Column("id", sa.String(18), primary_key=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column(
            "sent_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_messages_user"),
            nullable=False,
        ),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("ack_deadline", UTCDateTime(), nullable=False),
        sa.Column("ack_within_s", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_messages_sender", "messages", ["sender"])
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_table(
        "message_recipients",
        sa.Column(
            "message_id",
            sa.String(18),
            sa.ForeignKey("messages.id", name="fk_message_recipients_message"),
            primary_key=True,
        ),
        sa.Column("recipient", sa.String(64), primary_key=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column(
            "acknowledged_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_message_recipients_user"),
            nullable=True,
        ),
        sa.Column("ack_hash", sa.String(64), nullable=True),
        sa.Column("ack_entry", sa.BigInteger(), nullable=True),
        sa.Column("overdue_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_message_recipients_recipient", "message_recipients", ["recipient"])
    op.create_index("ix_message_recipients_due_at", "message_recipients", ["due_at"])
    op.create_table(
        "message_escalations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.String(18),
            sa.ForeignKey("messages.id", name="fk_message_escalations_message"),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("contact", sa.String(64), nullable=True),
        sa.Column("skipped", sa.Text(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('escalated', 'overdue')", name="ck_message_escalations_kind"),
        sa.UniqueConstraint(
            "message_id", "recipient", "level", "kind", name="uq_message_escalations"
        ),
    )
    op.create_index("ix_message_escalations_message_id", "message_escalations", ["message_id"])
    op.create_table(
        "contacts",
        sa.Column("member", sa.String(64), primary_key=True),
        sa.Column("primary_user", sa.String(64), nullable=False),
        sa.Column("backup_user", sa.String(64), nullable=True),
        sa.Column("duty", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column(
            "updated_by",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_contacts_user"),
            nullable=False,
        ),
    )
    op.create_table(
        "presence",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_presence_user"),
            primary_key=True,
        ),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_presence_member", "presence", ["member"])


def downgrade() -> None:
    """Drop the five tables."""
    for table in ("presence", "contacts", "message_escalations", "message_recipients", "messages"):
        op.drop_table(table)
