"""Fixtures for the service: a migrated database, users of every role, a fixed clock, and a
running application behind fastapi's TestClient.

Every test that uses ``service`` (or ``database_url``) runs twice, ``test_x[sqlite]`` and
``test_x[postgresql]``: the ``database_url`` fixture is parametrized over :data:`BACKENDS`.
SQLite is a fresh file in ``tmp_path``; PostgreSQL is a fresh database on the server that
``ACCORD_TEST_PG_URL`` names (``make test`` starts a throwaway one with
``scripts/pg-test-server``), copied from a template database migrated once per session, and
dropped after the test. Without ``ACCORD_TEST_PG_URL`` the PostgreSQL cases skip, saying so —
or fail when ``CI`` is set, so that CI never skips them silently. A test pins one backend with
``@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)``.
"""

from __future__ import annotations

import glob
import itertools
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what we ship
    warnings.simplefilter("ignore", UserWarning)  # StarletteDeprecationWarning
    from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from accord.agreement import load_agreement
from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.config import Settings
from accord.center.db import make_engine, upgrade, writer
from accord.center.exercise import DEMO_USERS
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.center.writer_process import Loopback
from accord.examples import example_path

AGREEMENT = load_agreement(example_path("jig.yaml"))
# Day 9 of the truce: past the seven days, so confirming the aid condition starts the center.
NOW = AGREEMENT.starts_at + timedelta(days=9)

# name → (member, role): one user per role, as in the exercise behind `make run`
USERS: dict[str, tuple[str, Role]] = dict(DEMO_USERS)


def add_users(url: str) -> dict[str, str]:
    """Register every user of USERS in the database at ``url``; name → token."""
    engine = make_engine(url)
    tokens: dict[str, str] = {}
    try:
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            for name, (member, role) in USERS.items():
                tokens[name] = add_user(
                    session, AGREEMENT, name=name, member=member, role=role, at=NOW
                )
    finally:
        engine.dispose()
    return tokens


@dataclass
class Service:
    """A running application and what the tests need to call it."""

    client: TestClient
    tokens: dict[str, str]
    settings: Settings

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str, **kwargs: Any):
        return self.client.get(path, headers=self.auth(user), **kwargs)

    def post(self, path: str, user: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.post(path, headers={**self.auth(user), **(headers or {})}, **kwargs)


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'accord.sqlite'}",
        "agreement_path": example_path("jig.yaml"),
        "keys_dir": tmp_path / "keys",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def clock() -> datetime:
    return NOW.astimezone(UTC)


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """The PostgreSQL test server; skips (fails in CI) when there is none."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        if glob.glob("/usr/lib/postgresql/*/bin/initdb"):
            reason = (
                f"PostgreSQL test server not started: {PG_URL_ENV} is not set (run the tests "
                "with `make test` or `scripts/pg-test-server run -- pytest ...`)"
            )
        else:
            reason = (
                f"PostgreSQL not installed: no server binaries under /usr/lib/postgresql/*/bin "
                f"and {PG_URL_ENV} is not set (`apt-get install postgresql`, then `make test`)"
            )
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}", pytrace=False)
        pytest.skip(reason)
    server = Postgres(url)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend: an SQLite file in ``tmp_path`` (created and
    migrated at first use), or a migrated copy of the template on the PostgreSQL server.
    A test that only makes sense on one backend pins it with
    ``@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)``."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.sqlite'}"
        return
    server: Postgres = request.getfixturevalue("postgres")
    with server.database() as url:
        yield url


@pytest.fixture
def center(tmp_path: Path, database_url: str) -> Iterator[Center]:
    """The service's parts over the test's database, without HTTP (its writes run on its
    own writer thread)."""
    started = Parts(settings_for(tmp_path, database_url=database_url), clock=clock).open()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    """The application over the test's database, its users registered. Its requests' writes
    cross the writer process's boundary (pickled there and back: :class:`Loopback`), as
    every application the tests start does (``writer=Loopback``), so a route whose work or
    error could not be sent to a writer process fails its tests."""
    settings = settings_for(tmp_path, database_url=database_url)
    tokens = add_users(settings.database_url)
    app = create_app(Parts(settings, clock=clock, writer=Loopback))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, tokens, settings)
