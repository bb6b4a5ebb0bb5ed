"""Schema migrations, run by program: :func:`upgrade` brings a database to the newest
revision of ``accord.center.migrations`` (Alembic), and does nothing to one already there.
On PostgreSQL an advisory lock makes server processes that start together migrate one after
the other (SQLite's ``BEGIN IMMEDIATE`` does the same there).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from accord.center.db.engine import make_engine, writer

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "head_revision", "upgrade"]

_LOCK = 0x41434D47  # "ACMG": the advisory lock that serialises migrations on PostgreSQL

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
"""The folder of the Alembic environment and its revisions."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the service's migrations, without any ``alembic.ini``;
    ``connection``, when given, is the one the migrations run on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision of the schema."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise RuntimeError("no migration revisions found")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(target: str | Engine | Connection) -> str:
    """Bring the database at ``target`` (a URL, an engine or an open connection) to the
    newest revision, in one transaction; return that revision."""
    if isinstance(target, Connection):
        command.upgrade(alembic_config(target), "head")
        return head_revision()
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with writer(engine).begin() as connection:
            if connection.dialect.name == "postgresql":  # server processes starting together
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
            command.upgrade(alembic_config(connection), "head")
    finally:
        if isinstance(target, str):
            engine.dispose()
    return head_revision()
