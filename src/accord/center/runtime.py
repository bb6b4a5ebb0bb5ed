"""The running service's parts, wired once at start-up: the agreement, the database, the
keys and the clock, and the two ways to use the database — :meth:`Center.reading` and
:meth:`Center.writing`.

A write is one *unit of work*: a :class:`~sqlalchemy.orm.Session` in a transaction that
holds the database's write lock from its first statement (``BEGIN IMMEDIATE`` on SQLite, a
transaction-scoped advisory lock on PostgreSQL) and a :class:`~accord.center.ledger.Ledger`
over the same connection. The unit commits the service's rows and their record entries
together when the block ends, and rolls both back when it raises. Writers are serialised
(the log is a chain: each leaf names the one before it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from accord.agreement import Agreement, load_agreement
from accord.center.config import Settings
from accord.center.db.engine import make_engine, writer
from accord.center.db.migrate import upgrade
from accord.center.identity import Caller, find_caller
from accord.center.keystore import KeyStore
from accord.center.ledger import Ledger, open_log
from accord.record.keys import KeyRing
from accord.record.log import MerkleLog

__all__ = ["Center", "Clock", "Unit", "system_clock"]

Clock = Callable[[], datetime]
"""Returns the current instant, aware (UTC)."""

_PG_WRITE_LOCK = 0x41434344  # "ACCD": the advisory lock that serialises record writers


def system_clock() -> datetime:
    """The system's clock, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Unit:
    """One write transaction: the session for the service's rows, the ledger for the
    record; both commit or roll back together."""

    session: Session
    ledger: Ledger


class Center:
    """The service's parts. Build with :meth:`start`; :meth:`close` releases the engine."""

    def __init__(
        self, settings: Settings, agreement: Agreement, engine: Engine, keys: KeyStore, clock: Clock
    ) -> None:
        self.settings = settings
        self.agreement = agreement
        self.engine = engine
        self.keys = keys
        self.clock = clock
        self._writer = writer(engine)
        # Readers see one snapshot for their whole transaction (SQLite's transactions always
        # do). Writers stay READ COMMITTED on PostgreSQL: each of their statements sees what
        # committed before it, which includes everything before the write lock was granted.
        self._reader = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._write_lock = threading.Lock()
        self._ring: KeyRing | None = None

    @classmethod
    def start(cls, settings: Settings, *, clock: Clock = system_clock) -> Center:
        """Load the agreement, migrate the database, create missing keys and make sure the
        record in the database is this agreement's (its origin)."""
        agreement = load_agreement(settings.agreement_path)
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
            center = cls(settings, agreement, engine, KeyStore(settings.keys_dir, agreement), clock)
            center._ring = center.keys.ring()
            with center.writing() as unit:
                unit.ledger.log  # noqa: B018 - opening it records or checks the origin
        except BaseException:
            engine.dispose()
            raise
        return center

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @property
    def origin(self) -> str:
        """The record's origin line."""
        return self.keys.origin

    @property
    def ring(self) -> KeyRing:
        """The public keys every verifier starts from."""
        if self._ring is None:
            self._ring = self.keys.ring()
        return self._ring

    def now(self) -> datetime:
        """The current instant (the service's only reading of the clock)."""
        return self.clock()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session in a read transaction (a consistent snapshot on SQLite and PostgreSQL)."""
        with Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Unit]:
        """A unit of work holding the write lock; commits when the block ends normally."""
        with (
            self._write_lock,
            Session(self._writer, expire_on_commit=False) as session,
            session.begin(),
        ):
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITE_LOCK})
            yield Unit(session, Ledger(session.connection, self.keys))

    def log(self, session: Session) -> MerkleLog:
        """The record, read in ``session``'s transaction."""
        return open_log(session.connection, self.origin)

    def authenticate(self, token: str) -> Caller | None:
        """The user a bearer token belongs to, or ``None``."""
        with self.reading() as session:
            return find_caller(session, token)
