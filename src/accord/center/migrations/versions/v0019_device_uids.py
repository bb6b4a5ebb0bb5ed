"""TAK device uids and the member each belongs to (issue 21: a uid first seen from one
party is never moved by another) — ``device_uids``
(:class:`accord.center.db.models_declarations.DeviceUid`).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table (empty: no declaration before it carried a device)."""
    op.create_table(
        "device_uids",
        sa.Column("uid", sa.String(100), primary_key=True),
        sa.Column("member", sa.String(64), nullable=False),
        sa.Column(
            "declaration_id",
            sa.String(40),
            sa.ForeignKey("declarations.id", name="fk_device_uids_declaration"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("device_uids")
