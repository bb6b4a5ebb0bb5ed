"""The PostgreSQL test server: fresh databases for the tests, fast (see :class:`Postgres`);
the backends every database test runs on."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from accord.center.db import upgrade

PG_URL_ENV = "ACCORD_TEST_PG_URL"
"""A ``postgresql+psycopg://`` URL of a server where the tests may create databases."""

BACKENDS = ("sqlite", "postgresql")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


_SHAPE = """
SELECT c.relname, c.relkind,
       (SELECT count(*) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace
 ORDER BY 1
"""


class Postgres:
    """The test server: fresh databases for the tests, fast.

    A template database is migrated once per session, and what it holds after the migrations
    (the rows some of them insert, the sequences' positions) is noted. A test gets a copy
    (``CREATE DATABASE … TEMPLATE``); when it is done, the copy is put back to the template's
    state in place — its other connections ended, every table emptied (foreign keys not
    checked meanwhile), the noted rows and sequence positions restored, one transaction of a
    few milliseconds instead of a drop and a create (each waits for the disk) — and handed to
    the next test. A copy whose schema a test changed is dropped instead.
    """

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.prefix = f"accord_t{os.getpid()}_{os.urandom(3).hex()}"
        self.template = f"{self.prefix}_template"
        self._numbers = itertools.count(1)
        self._admin = self._connect("postgres")
        self._execute(self._admin, "CREATE DATABASE {}", self.template)
        upgrade(self.url_of(self.template))
        self._free: list[str] = []
        self._connections: dict[str, Any] = {}
        with self._connect(self.template) as template:
            self._shape = template.execute(_SHAPE).fetchall()
            self._tables = [
                str(name)
                for (name,) in template.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY 1"
                )
            ]
            self._rows: dict[str, bytes] = {}
            cursor = template.cursor()
            for table in self._tables:
                with cursor.copy(self._sql("COPY {} TO STDOUT", table)) as copy:
                    data = b"".join(bytes(block) for block in copy)
                if data:
                    self._rows[table] = data
            self._sequences = [
                (
                    str(name),
                    *template.execute(
                        self._sql("SELECT last_value, is_called FROM {}", name)
                    ).fetchone(),
                )
                for (name,) in template.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ]

    def _connect(self, database: str) -> Any:
        import psycopg

        url = self.url.set(drivername="postgresql", database=database)
        conninfo = url.render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)

    def url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    @staticmethod
    def _sql(statement: str, *names: str) -> Any:
        from psycopg import sql

        return sql.SQL(statement).format(*map(sql.Identifier, names))

    def _execute(self, connection: Any, statement: str, *names: str) -> None:
        connection.execute(self._sql(statement, *names))

    def _drop(self, name: str) -> None:
        connection = self._connections.pop(name, None)
        if connection is not None:
            connection.close()
        self._execute(self._admin, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def _reset(self, name: str) -> bool:
        """Put the copy ``name`` back to the template's state; False if it cannot be."""
        connection = self._connections.get(name)
        if connection is None:
            connection = self._connections[name] = self._connect(name)
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if connection.execute(_SHAPE).fetchall() != self._shape:
            return False
        with connection.transaction():
            connection.execute("SET LOCAL session_replication_role = replica")
            for table in self._tables:
                self._execute(connection, "DELETE FROM {}", table)
            for sequence, last_value, is_called in self._sequences:
                connection.execute(
                    "SELECT setval(%s::regclass, %s, %s)", (f'"{sequence}"', last_value, is_called)
                )
            cursor = connection.cursor()
            for table, data in self._rows.items():
                with cursor.copy(self._sql("COPY {} FROM STDIN", table)) as copy:
                    copy.write(data)
        return True

    @contextmanager
    def database(self, *, migrated: bool = True) -> Iterator[str]:
        """The URL of a database for one test: in the template's state (migrated), or
        empty (never migrated; dropped afterwards)."""
        if not migrated:
            name = f"{self.prefix}_{next(self._numbers)}"
            self._execute(self._admin, "CREATE DATABASE {}", name)
            try:
                yield self.url_of(name)
            finally:
                self._drop(name)
            return
        if self._free:
            name = self._free.pop()
        else:
            name = f"{self.prefix}_{next(self._numbers)}"
            self._execute(self._admin, "CREATE DATABASE {} TEMPLATE {}", name, self.template)
        try:
            yield self.url_of(name)
        finally:
            if self._reset(name):
                self._free.append(name)
            else:
                self._drop(name)

    def close(self) -> None:
        for name in [*self._free, *self._connections]:
            self._drop(name)
        self._drop(self.template)
        self._admin.close()


@contextmanager
def never_migrated(request: Any, backend: str, sqlite_file: Path) -> Iterator[str]:
    """A database of ``backend`` never migrated: the SQLite file ``sqlite_file`` (not
    created here), or an empty database on the session's PostgreSQL test server (the
    ``postgres`` fixture ``request`` asks for)."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    server: Postgres = request.getfixturevalue("postgres")
    with server.database(migrated=False) as url:
        yield url
