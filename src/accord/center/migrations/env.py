"""Alembic environment: runs the migrations on the connection :func:`accord.center.db.upgrade`
hands over (``config.attributes["connection"]``), or on a fresh engine for the URL in the
configuration. Importing this file outside Alembic does nothing.
"""

from __future__ import annotations

from alembic import context
from alembic.config import Config
from sqlalchemy import Connection

from accord.center.db.engine import make_engine, writer
from accord.center.db.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(config: Config) -> None:
    """Run the migrations online, on the given connection or a new one."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: give a connection or sqlalchemy.url")
    engine = make_engine(url)
    try:
        with writer(engine).begin() as fresh:
            _run(fresh)
    finally:
        engine.dispose()


if hasattr(context, "config"):  # only when Alembic runs this file
    run_migrations(context.config)
