"""Who a track's aircraft is, as a sensor reads it (issue 22 item 2): ``tracks`` gains
``icao24``, ``callsign`` and ``squawk`` (:class:`accord.center.db.models_airspace.TrackRow`);
an emergency squawk's alerts are stored as a designated area's are, under the "area"
``squawk-CODE`` (:data:`accord.center.airspace.findings.SQUAWK_PREFIX`).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns (empty: a track reported before knew no identity)."""
    with op.batch_alter_table("tracks") as batch:
        batch.add_column(sa.Column("icao24", sa.String(6), nullable=True))
        batch.add_column(sa.Column("callsign", sa.String(8), nullable=True))
        batch.add_column(sa.Column("squawk", sa.String(4), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("tracks") as batch:
        batch.drop_column("squawk")
        batch.drop_column("callsign")
        batch.drop_column("icao24")
