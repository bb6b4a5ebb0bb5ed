"""Engines: SQLite tuned for durability and serialised writers, PostgreSQL as it comes.

On SQLite every connection runs in WAL mode with ``synchronous=FULL`` (a commit that
returned is on disk), enforces foreign keys and waits for locks. SQLAlchemy takes over
transaction control from the :mod:`sqlite3` module (whose own is lazy and skips the BEGIN
before reads), so that a transaction starts when SQLAlchemy says so: ``BEGIN`` for readers,
``BEGIN IMMEDIATE`` for a connection carrying the :data:`WRITE` execution option, which takes
the database's write lock at once — writers then queue instead of failing halfway.

On both, SAVEPOINT and RELEASE (twice per unit of work: every unit runs in its own savepoint)
and SQLite's BEGIN go to the driver's cursor as plain statements. SQLAlchemy's own way
compiles and executes a Core clause each time, about 0.2 ms here against a few microseconds
for the statement; its transaction bookkeeping and events stay as they are.

Creating an engine connects to nothing; the PostgreSQL driver (psycopg) is imported only
when an engine for a ``postgresql+psycopg://`` URL first connects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url

from accord.center.files import private_database_file

__all__ = ["BUSY_TIMEOUT_MS", "WRITE", "is_sqlite", "make_engine", "sqlite_file", "writer"]

BUSY_TIMEOUT_MS = 10_000
"""How long an SQLite connection waits for another's lock before failing."""

WRITE = "accord_write"
"""Execution option: on SQLite, begin transactions with ``BEGIN IMMEDIATE``."""


def is_sqlite(engine: Engine | Connection) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for an SQLite file, its folder is created when missing, and
    both kept to their owner (:func:`accord.center.files.private_database_file`: raises
    :class:`~accord.center.files.UnsafePermissions` for a folder others may open)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _plain_savepoints(create_engine(url, pool_pre_ping=True, **kwargs))
    database = sqlite_file(url)
    if database is not None:
        private_database_file(database)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return _plain_savepoints(engine)


def sqlite_file(url: str) -> Path | None:
    """The file of the SQLite database at ``url``; ``None`` for another backend, memory or a
    ``file:`` URI."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


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
    _plain(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN")


def _plain(connection: Connection, sql: str) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _plain_savepoints(engine: Engine) -> Engine:
    """``engine``, its dialect emitting SAVEPOINT and RELEASE SAVEPOINT on the driver's
    cursor (see the module docstring); names are quoted as SQLAlchemy quotes them."""
    quote = engine.dialect.identifier_preparer.quote

    def do_savepoint(connection: Connection, name: str) -> None:
        _plain(connection, f"SAVEPOINT {quote(name)}")

    def do_release_savepoint(connection: Connection, name: str) -> None:
        _plain(connection, f"RELEASE SAVEPOINT {quote(name)}")

    # The dialect is this engine's own instance: no other engine is touched.
    setattr(engine.dialect, "do_savepoint", do_savepoint)  # noqa: B010
    setattr(engine.dialect, "do_release_savepoint", do_release_savepoint)  # noqa: B010
    return engine
