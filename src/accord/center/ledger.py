"""The record as the service writes it: signed entries appended inside the caller's
transaction, and the center's signed tree heads.

A :class:`Ledger` is made for one unit of work over that unit's connection: it signs each
event with the author's server-side key (:class:`~accord.center.keystore.KeyStore`), wraps it
in the envelope that chains it to the previous leaf (:mod:`accord.record.entries`), and
appends it to a :class:`~accord.record.log.MerkleLog` over
:class:`~accord.center.db.SQLAlchemyLogStorage` bound to the same connection. Each author's
sequence number is kept in ``record_authors`` and updated in the same transaction. Nothing is
durable until the unit commits; a rollback takes the service's rows and the entries away
together, and the ledger (with its in-memory tree state) is thrown away with the unit.

The format is the one :class:`accord.record.recorder.Recorder` writes, so the project's own
verifier checks the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from accord.center.db.logstore import ConnectionProvider, SQLAlchemyLogStorage
from accord.center.db.models import RecordAuthor
from accord.center.keystore import KeyStore
from accord.record.log import MerkleLog
from accord.record.note import SignedHead
from accord.record.recorder import Recorder

__all__ = ["Ledger", "open_log"]

_authors = cast(Table, RecordAuthor.__table__)


def open_log(connection: ConnectionProvider, origin: str) -> MerkleLog:
    """The log over the connection of the current transaction (a new one per unit)."""
    return MerkleLog(SQLAlchemyLogStorage(connection), origin)


class _TableSequences:
    """Each author's last sequence number, in ``record_authors`` of the unit's transaction."""

    def __init__(self, connection: ConnectionProvider) -> None:
        self._connection = connection

    def last(self, author: str) -> int:
        last = (
            self._connection()
            .execute(select(_authors.c.seq).where(_authors.c.author == author))
            .scalar()
        )
        return 0 if last is None else int(last)

    def advance(self, last: Mapping[str, int]) -> None:
        connection = self._connection()
        for author, seq in last.items():
            done = connection.execute(
                update(_authors).where(_authors.c.author == author).values(seq=seq)
            )
            if not done.rowcount:
                connection.execute(insert(_authors).values(author=author, seq=seq))


class Ledger:
    """Signed entries into the log and signed heads out of it, in one unit of work."""

    def __init__(
        self, connection: ConnectionProvider, keys: KeyStore, *, log: MerkleLog | None = None
    ) -> None:
        self._connection = connection
        self._keys = keys
        self._log = log
        self._recorder: Recorder | None = None

    @property
    def recorder(self) -> Recorder:
        """The recorder over the log of the unit's transaction (``log``, when the unit was
        given one already reading through its connection and in step with its
        transaction)."""
        if self._recorder is None:
            log = (
                self._log
                if self._log is not None
                else open_log(self._connection, self._keys.origin)
            )
            self._recorder = Recorder(log, sequences=_TableSequences(self._connection))
        return self._recorder

    @property
    def log(self) -> MerkleLog:
        """The log, read from the unit's transaction."""
        return self.recorder.log

    def append(self, event: Mapping[str, Any], *, author: str, at: datetime) -> int:
        """Sign ``event`` as ``author`` (a member) at ``at`` and append it; its index."""
        return self.recorder.append(event, key=self._keys.key(author), at=at)

    def append_many(
        self, items: Sequence[tuple[Mapping[str, Any], str]], *, at: datetime
    ) -> list[int]:
        """Sign each ``(event, author)`` at ``at`` and append them in order: the entries, and
        the indices, that as many :meth:`append` calls would give."""
        return self.recorder.append_many(
            [(event, self._keys.key(author), at) for event, author in items]
        )

    def sign_head(self, *, timestamp: int) -> SignedHead:
        """The center signs the tree head at the current size and keeps it with the log."""
        return self.recorder.sign_head(key=self._keys.center(), timestamp=timestamp)
