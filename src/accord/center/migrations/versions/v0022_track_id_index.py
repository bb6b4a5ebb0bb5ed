"""Tracks indexed by aircraft id alone (issue 22): a feed's batch reads the stored rows of
its aircraft under whichever owner holds them — the newer-than-held rule and the re-keying
of an aircraft that changed owner (:func:`accord.center.airspace.trackstore.held_rows`) —
and without this index each of its 500-id reads scanned the whole table.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the index."""
    op.create_index("ix_tracks_id", "tracks", ["id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_tracks_id", table_name="tracks")
