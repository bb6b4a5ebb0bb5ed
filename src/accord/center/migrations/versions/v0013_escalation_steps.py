"""Escalation steps: one table for every subject that escalates (``escalation_steps``), in
place of the direct line's ``message_escalations`` and the alert recipients' ``steps`` JSON
column — one engine escalates messages and alerts, and stores their steps one way.

Every message step moves with its message's id as its subject (``subject_kind``
``message``), every alert step with its group's (``alert``), each party's in the order they
were written. The record is not touched: the steps' entries stay what they were. The
downgrade moves them back.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from accord.center.db.models import UTCDateTime
from accord.chrono import format_instant, parse_instant

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
"""The most rows one INSERT writes."""

_STEP = (
    ("level", sa.Integer),
    ("kind", sa.String),
    ("at", UTCDateTime()),
    ("due", UTCDateTime()),
    ("deadline", UTCDateTime()),
    ("role", sa.String),
    ("contact", sa.String),
    ("skipped", sa.Text),
    ("entry", sa.BigInteger),
)
"""The columns of a step every shape shares."""

_steps = sa.table(
    "escalation_steps",
    sa.column("id", sa.Integer),
    sa.column("subject_kind", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("party", sa.String),
    *(sa.column(name, kind) for name, kind in _STEP),
)
_messages = sa.table(
    "message_escalations",
    sa.column("id", sa.Integer),
    sa.column("message_id", sa.String),
    sa.column("recipient", sa.String),
    *(sa.column(name, kind) for name, kind in _STEP),
)
_recipients = sa.table(
    "airspace_alert_recipients",
    sa.column("alert_id", sa.String),
    sa.column("party", sa.String),
    sa.column("steps", sa.Text),
)


def _execute(
    connection: sa.Connection, statement: sa.Executable, rows: Iterable[dict[str, Any]]
) -> None:
    """Execute ``statement`` for each of ``rows`` (in order), :data:`_BATCH` at a time."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            connection.execute(statement, batch)
            batch = []
    if batch:
        connection.execute(statement, batch)


def _message_steps(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """The ``message_escalations`` rows as steps of their messages, in order."""
    query = sa.select(_messages).order_by(_messages.c.id)
    for row in connection.execute(query).mappings():
        yield {
            "subject_kind": "message",
            "subject_id": row["message_id"],
            "party": row["recipient"],
            **{name: row[name] for name, _ in _STEP},
        }


def _alert_steps(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """The steps in the alert recipients' JSON as steps of their groups, each party's in
    order (as :mod:`accord.center.airspace.escalation` wrote them at 0012)."""
    query = (
        sa.select(_recipients)
        .where(_recipients.c.steps != "[]")
        .order_by(_recipients.c.alert_id, _recipients.c.party)
    )
    for row in connection.execute(query).mappings():
        for step in json.loads(row["steps"]):
            yield {
                "subject_kind": "alert",
                "subject_id": row["alert_id"],
                "party": row["party"],
                "level": step["level"],
                "kind": step["kind"],
                "at": parse_instant(step["at"]),
                "due": parse_instant(step["due"]),
                "deadline": None if step["deadline"] is None else parse_instant(step["deadline"]),
                "role": step["role"],
                "contact": step["contact"],
                "skipped": json.dumps(step["skipped"]),
                "entry": step["entry"],
            }


def upgrade() -> None:
    """Create ``escalation_steps``, move every message's and every alert's steps into it,
    drop ``message_escalations`` and ``airspace_alert_recipients.steps``."""
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("party", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("contact", sa.String(64), nullable=True),
        sa.Column("skipped", sa.Text(), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "subject_kind IN ('message', 'alert')", name="ck_escalation_steps_subject_kind"
        ),
        sa.CheckConstraint("kind IN ('escalated', 'overdue')", name="ck_escalation_steps_kind"),
        sa.UniqueConstraint(
            "subject_kind", "subject_id", "party", "level", "kind", name="uq_escalation_steps"
        ),
    )
    op.create_index(
        "ix_escalation_steps_subject", "escalation_steps", ["subject_kind", "subject_id"]
    )
    connection = op.get_bind()
    _execute(connection, _steps.insert(), _message_steps(connection))
    _execute(connection, _steps.insert(), _alert_steps(connection))
    op.drop_index("ix_message_escalations_message_id", table_name="message_escalations")
    op.drop_table("message_escalations")
    with op.batch_alter_table("airspace_alert_recipients") as batch:
        batch.drop_column("steps")


def _stored(connection: sa.Connection, kind: str) -> Iterator[dict[str, Any]]:
    """The stored steps of subjects of ``kind``, in the order written."""
    query = sa.select(_steps).where(_steps.c.subject_kind == kind).order_by(_steps.c.id)
    for row in connection.execute(query).mappings():
        yield dict(row)


def _json_steps(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """Each alert party's steps as the JSON of ``airspace_alert_recipients.steps`` (as
    revision 0012 kept them), as the parameters of an UPDATE."""
    by_party: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in _stored(connection, "alert"):
        by_party.setdefault((row["subject_id"], row["party"]), []).append(
            {
                "level": row["level"],
                "kind": row["kind"],
                "at": format_instant(row["at"]),
                "due": format_instant(row["due"]),
                "deadline": None if row["deadline"] is None else format_instant(row["deadline"]),
                "role": row["role"],
                "contact": row["contact"],
                "skipped": json.loads(row["skipped"]),
                "entry": row["entry"],
            }
        )
    for (alert_id, party), steps in sorted(by_party.items()):
        yield {"b_alert": alert_id, "b_party": party, "b_steps": json.dumps(steps)}


def downgrade() -> None:
    """Move the steps back: the messages' to ``message_escalations``, the alerts' to
    ``airspace_alert_recipients.steps`` (JSON); drop ``escalation_steps``."""
    with op.batch_alter_table("airspace_alert_recipients") as batch:
        batch.add_column(sa.Column("steps", sa.Text(), nullable=False, server_default="[]"))
    with op.batch_alter_table("airspace_alert_recipients") as batch:
        batch.alter_column("steps", existing_type=sa.Text(), server_default=None)
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
    connection = op.get_bind()
    _execute(
        connection,
        _messages.insert(),
        (
            {
                "message_id": row["subject_id"],
                "recipient": row["party"],
                **{name: row[name] for name, _ in _STEP},
            }
            for row in _stored(connection, "message")
        ),
    )
    update = (
        _recipients.update()
        .where(
            _recipients.c.alert_id == sa.bindparam("b_alert"),
            _recipients.c.party == sa.bindparam("b_party"),
        )
        .values(steps=sa.bindparam("b_steps"))
    )
    _execute(connection, update, _json_steps(connection))
    op.drop_index("ix_escalation_steps_subject", table_name="escalation_steps")
    op.drop_table("escalation_steps")
