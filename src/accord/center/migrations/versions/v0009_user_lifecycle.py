"""Users: when a token expires, and when a user was removed (the row stays, so that the
name is never given again and the old token can never come back).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``users.expires_at`` and ``users.removed_at`` (NULL for the users stored before:
    their tokens do not expire and they stand)."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("removed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Drop ``users.expires_at`` and ``users.removed_at``."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("expires_at")
