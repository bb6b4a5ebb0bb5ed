"""Hidden answers: each ``center`` declaration's shadow, and the probing tables.

``declarations.shadow`` holds the shadow other parties' proposals are answered against
(:mod:`accord.deconfliction.hidden`); the hidden declarations stored before get one here,
anchored where they are now, in a fresh secret direction, for the agreement's precision
bound (``precision_m`` null: the bound in force). ``probe_touches`` and ``probe_states``
count and remember probing (:mod:`accord.center.disclosure.probing`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AZIMUTH_STEPS = 360_000_000  # a millionth of a degree


def upgrade() -> None:
    """Add ``declarations.shadow`` (and fill it for hidden declarations), ``probe_touches``
    and ``probe_states``."""
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("shadow", sa.Text(), nullable=True))
    connection = op.get_bind()
    declarations = sa.table(
        "declarations",
        sa.column("id", sa.String),
        sa.column("disclosure", sa.String),
        sa.column("feature", sa.Text),
        sa.column("shadow", sa.Text),
    )
    rows = connection.execute(
        sa.select(declarations.c.id, declarations.c.feature).where(
            declarations.c.disclosure == "center"
        )
    ).all()
    for object_id, feature in rows:
        shadow = {
            "anchor": json.loads(feature)["geometry"],
            "azimuth_deg": secrets.randbelow(_AZIMUTH_STEPS) / 1e6,
            "precision_m": None,
        }
        connection.execute(
            declarations.update()
            .where(declarations.c.id == object_id)
            .values(shadow=json.dumps(shadow, separators=(",", ":")))
        )
    op.create_table(
        "probe_touches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("prober", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("operation_id", sa.String(40), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_probe_touches_pair_at", "probe_touches", ["prober", "owner", "at"])
    op.create_table(
        "probe_states",
        sa.Column("prober", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    """Drop the probing tables and ``declarations.shadow``."""
    op.drop_table("probe_states")
    op.drop_index("ix_probe_touches_pair_at", table_name="probe_touches")
    op.drop_table("probe_touches")
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("shadow")
