"""The user who acted may be unknown (issue 23): a row redone from the record
(:mod:`accord.center.recovery.redo`) under an agreement whose members do not sign their
acts has the member in its entry, never the user. The columns that name a member's user for
a message, a report, a draft, an acknowledgement and an alert's acknowledgement take NULL
for "not in the record"; every row the service writes still names its user.

SQLite cannot alter a column: a table is rebuilt to change one, and ``messages`` cannot be
dropped while ``message_recipients`` rows refer to it (foreign keys are on, and cannot be
turned off inside the migrations' transaction). Removing a NOT NULL constraint is one of the
changes SQLite documents doing in place instead (sqlite.org/lang_altertable.html §7: the
table's schema text edited under ``writable_schema``, the schema version raised, the
database's integrity checked), which is done here, in the same transaction.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from __future__ import annotations

import re
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
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_not_null(required=False)
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Refuse NULL again (a database holding a redone row without its user cannot go back)."""
    bind = op.get_bind()
    for table, column in COLUMNS:
        nulls = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} IS NULL"))
        if nulls.scalar_one():
            raise RuntimeError(f"{table}.{column} holds rows with no user: cannot go back")
    if bind.dialect.name == "sqlite":
        _sqlite_not_null(required=True)
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, existing_type=sa.Integer(), nullable=False)


def _sqlite_not_null(*, required: bool) -> None:
    """Add or remove each column's NOT NULL in the stored schema text (sqlite.org/
    lang_altertable.html §7: step 2, the schema version read; 4–5, the text changed under
    writable_schema; 6, the version raised; 8, the integrity checked)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table, column in COLUMNS:
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            name = rf'(?:\b{column}\b|"{column}")'
            if required:
                pattern, put = rf"({name}\s+INTEGER)(?!\s+NOT NULL)(?=\s*[,)])", r"\1 NOT NULL"
            else:
                pattern, put = rf"({name}\s+INTEGER)\s+NOT\s+NULL", r"\1"
            changed, count = re.subn(pattern, put, sql, flags=re.IGNORECASE)
            if count != 1:
                raise RuntimeError(f"{table}.{column}: its definition is not as expected: {sql}")
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (changed, table),
            )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    result = bind.exec_driver_sql("PRAGMA integrity_check").scalar()
    if result != "ok":
        raise RuntimeError(f"the database's integrity after the change: {result}")
