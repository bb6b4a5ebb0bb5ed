"""The TAK client certificates the center issued (issue 21 item 2) — ``cot_certificates``
(:class:`accord.center.db.models_certificates.CotCertificate`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "cot_certificates",
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_cot_certificates_user"),
            nullable=False,
        ),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("revoked_entry", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_cot_certificates_user_id", "cot_certificates", ["user_id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_cot_certificates_user_id", "cot_certificates")
    op.drop_table("cot_certificates")
