"""Operations: the declarations' counter at which their stored blocking conflicts were last
found to stand, so that any server process can tell a re-check has nothing to find.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``operations.conflicts_seen`` (NULL for the operations stored before: their next
    re-check runs the engine)."""
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("conflicts_seen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop ``operations.conflicts_seen``."""
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("conflicts_seen")
