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

What the fixtures are made of (the service client, the PostgreSQL test server, the clocks)
lives in ``tests/support``, where the tests import it from too.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.center.bootstrap import Parts
from accord.center.runtime import Center
from support.clock import Clock as MovingClock
from support.desk import Desk
from support.desk import start as start_desk
from support.disclosure import World, seed_world
from support.inprocess import RunningClock
from support.jig import NOW
from support.postgres import BACKENDS, PG_URL_ENV, Postgres, in_ci, never_migrated
from support.service import Service, rooted_service, served, settings_for
from support.service import clock as fixed_clock


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


@pytest.fixture(params=BACKENDS)
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each backend never migrated, for the migration tests to take from one
    revision to another (:func:`support.migrations.migrate`): an SQLite file not yet
    created, or an empty PostgreSQL database."""
    with never_migrated(request, request.param, tmp_path / "old.sqlite") as url:
        yield url


@pytest.fixture
def center(tmp_path: Path, database_url: str) -> Iterator[Center]:
    """The service's parts over the test's database, without HTTP (its writes run on its
    own writer thread)."""
    started = Parts(settings_for(tmp_path, database_url=database_url), clock=fixed_clock).open()
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
    yield from served(settings_for(tmp_path, database_url=database_url))


@pytest.fixture
def signed_service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    """:func:`service` under the agreement naming its members' roots: every party's root
    signed it, every user's key is registered, and every write is signed by its user's own
    key (the tests' client signs as the page does: :func:`support.service.signing_hook`)."""
    with rooted_service(tmp_path, database_url) as service:
        yield service


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """:func:`service` with a clock the test moves (:class:`support.desk.Desk`)."""
    yield from start_desk(tmp_path, database_url)


@pytest.fixture
def clock() -> MovingClock:
    """A clock the test moves, at NOW."""
    return MovingClock(NOW)


@pytest.fixture
def world(signed_service: Service) -> World:
    """Blue's hidden objects, red's operation next to them (the disclosure walk's fixture)."""
    return seed_world(signed_service)


@pytest.fixture
def running_center(tmp_path: Path) -> Iterator[tuple[Service, RunningClock]]:
    """A center on SQLite whose clock runs on from NOW with real time, signing on: what a
    client process (a feed) posts to over the in-process bridge."""
    clock = RunningClock()
    with rooted_service(tmp_path, None, now=clock) as service:
        yield service, clock
