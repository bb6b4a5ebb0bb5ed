"""The user who acted may be unknown (issue 23): a row redone from the record
(:mod:`accord.center.recovery.redo`) under an agreement whose members do not sign their
acts has the member in its entry, never the user. The columns that name a member's user for
a message, a report, a draft, an acknowledgement and an alert's acknowledgement take NULL
for "not in the record"; every row the service writes still names its user.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("messages", "sent_by"),
    ("reports", "filed_by"),
    ("drafts", "saved_by"),
    ("acknowledgements", "user_id"),
    ("airspace_acks", "user_id"),
)
"""(table, column): each a user's id, now nullable."""


def upgrade() -> None:
    """Let each column hold NULL."""
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Refuse NULL again (a database holding a redone row without its user cannot go back)."""
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Integer(), nullable=False)
