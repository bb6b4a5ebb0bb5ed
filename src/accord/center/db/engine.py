"""Engines: SQLite tuned for durability and serialised writers, PostgreSQL as it comes.

On SQLite every connection runs in WAL mode with ``synchronous=FULL`` (a commit that
returned is on disk), enforces foreign keys and waits for locks. SQLAlchemy takes over
transaction control from the :mod:`sqlite3` module (whose own is lazy and skips the BEGIN
before reads), so that a transaction starts when SQLAlchemy says so: ``BEGIN`` for readers,
``BEGIN IMMEDIATE`` for a connection carrying the :data:`WRITE` execution option, which takes
the database's write lock at once — writers then queue instead of failing halfway.

Creating an engine connects to nothing; the PostgreSQL driver (psycopg) is imported only
when an engine for a ``postgresql+psycopg://`` URL first connects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

__all__ = ["BUSY_TIMEOUT_MS", "WRITE", "is_sqlite", "make_engine", "writer"]

BUSY_TIMEOUT_MS = 10_000
"""How long an SQLite connection waits for another's lock before failing."""

WRITE = "accord_write"
"""Execution option: on SQLite, begin transactions with ``BEGIN IMMEDIATE``."""


def is_sqlite(engine: Engine | Connection) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for an SQLite file, its folder is created when missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the write lock at BEGIN."""
    return engine.execution_options(**{WRITE: True})


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by _sqlite_begin, not by the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
