"""Moving a test database between revisions of the schema, as the migration tests do."""

from __future__ import annotations

from alembic import command

from accord.center.db import make_engine, writer
from accord.center.db.migrate import alembic_config


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    """Upgrade (or, ``down``, downgrade) the database at ``url`` to ``revision``."""
    engine = make_engine(url)
    try:
        with writer(engine).begin() as connection:
            config = alembic_config(connection)
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()
