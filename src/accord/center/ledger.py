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

The service keeps the sequence numbers in memory across units too (:class:`SequenceCache`,
valid while the log is in step with the database, which the service checks once per
transaction): a unit then reads none, and the numbers its entries used are written once per
transaction, just before it commits.

The format is the one :class:`accord.record.recorder.Recorder` writes, so the project's own
verifier checks the result.

**A member's entries carry the member's act.** Under an agreement that names its members'
roots, the center holds no member's key: an entry whose author is a member is a version 2
entry (:mod:`accord.record.entries`) holding the act the unit took in (:attr:`Ledger.acting`,
set by :func:`accord.center.signing.service.accept` after checking it), signed by the
center. The first such entry of the unit holds the act whole, the next ones name it
(``{"of": index}``). Appending an entry for a member without that member's act raises: the
center can refuse a request, never make one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from accord.center.db.fast import Prepared
from accord.center.db.logstore import ConnectionProvider, SQLAlchemyLogStorage
from accord.center.db.models import RecordAuthor
from accord.center.keystore import KeyStore
from accord.errors import NoAct
from accord.record.acts import SignedAct
from accord.record.canonical import encode_base64
from accord.record.keys import PrivateKey
from accord.record.log import MerkleLog
from accord.record.note import SignedHead
from accord.record.recorder import Recorder, Sequences

__all__ = ["Acting", "Ledger", "NoAct", "SequenceCache", "open_log"]

_authors = cast(Table, RecordAuthor.__table__)
_SET_SEQ = Prepared(
    update(_authors)
    .where(_authors.c.author == bindparam("b_author"))
    .values(seq=bindparam("b_seq"))
)


def open_log(connection: ConnectionProvider, origin: str, *, exclusive: bool = False) -> MerkleLog:
    """The log over the connection of the current transaction. ``exclusive``: the caller
    holds the write lock and keeps the log in step (see
    :class:`~accord.center.db.SQLAlchemyLogStorage`)."""
    return MerkleLog(SQLAlchemyLogStorage(connection, exclusive=exclusive), origin)


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


class SequenceCache:
    """Each author's last sequence number as the open write transaction has it, kept in
    memory across units of work; the numbers not yet in ``record_authors`` are written by
    :meth:`write`, in the same transaction, before it commits.

    Valid only while no other writer appends (the service drops it whenever the log it
    keeps is found out of step, and after any failure). A unit works on its own layer
    (:meth:`unit`), merged in only when the unit succeeds (:meth:`keep`).
    """

    def __init__(self) -> None:
        self._known: dict[str, int] = {}  # author -> last seq in the open transaction
        self._stored: set[str] = set()  # authors with a row in record_authors
        self._dirty: dict[str, int] = {}  # author -> last seq not yet written

    def unit(self, connection: ConnectionProvider) -> _UnitSequences:
        """The sequences of one unit over ``connection``."""
        return _UnitSequences(self, connection)

    def keep(self, unit: _UnitSequences) -> None:
        """The unit succeeded: its numbers are the transaction's."""
        self._known.update(unit.advanced)
        self._dirty.update(unit.advanced)

    @property
    def dirty(self) -> bool:
        """Whether numbers wait to be written."""
        return bool(self._dirty)

    def write(self, connection: Connection) -> None:
        """Write the numbers used since the last write (one statement per kind of change)."""
        if not self._dirty:
            return
        updates = [
            {"b_author": a, "b_seq": seq} for a, seq in self._dirty.items() if a in self._stored
        ]
        new = [a for a in self._dirty if a not in self._stored]
        if updates:
            _SET_SEQ.execute(connection, updates)
        if new:
            connection.execute(
                insert(_authors), [{"author": a, "seq": self._dirty[a]} for a in new]
            )
            self._stored.update(new)
        self._dirty.clear()

    def _load(self, connection: Connection, author: str) -> int:
        read = select(_authors.c.seq).where(_authors.c.author == author)
        last = connection.execute(read).scalar()
        if last is not None:
            self._stored.add(author)
        self._known[author] = 0 if last is None else int(last)
        return self._known[author]


class _UnitSequences:
    """One unit's layer over a :class:`SequenceCache`."""

    def __init__(self, cache: SequenceCache, connection: ConnectionProvider) -> None:
        self._cache = cache
        self._connection = connection
        self.advanced: dict[str, int] = {}

    def last(self, author: str) -> int:
        found = self.advanced.get(author)
        if found is None:
            found = self._cache._known.get(author)
        if found is None:
            found = self._cache._load(self._connection(), author)
        return found

    def advance(self, last: Mapping[str, int]) -> None:
        self.advanced.update(last)


@dataclass(slots=True)
class Acting:
    """The act a unit took in (checked): the signed act, the raw public key that signed it,
    and the body its seal opens to; ``entry``, the index of the first entry that holds it,
    once there is one."""

    signed: SignedAct
    key: bytes
    body: dict[str, Any]
    salt: str
    entry: int | None = None
    events: list[Mapping[str, Any] | bytes] = field(default_factory=list)
    """The events of the entries this act caused, as appended (to check against it)."""
    public: bool = False
    """Whether the entry shows the act's opening (salt and body) to every reader: for acts
    whose whole content is public (a root's signature, a key's registration), so that any
    verifier checks what the entry says against what was signed."""

    @property
    def member(self) -> str:
        return self.signed.act.member


class Ledger:
    """Signed entries into the log and signed heads out of it, in one unit of work."""

    acting: Acting | None = None
    """The act this unit took in, if any (see the module docstring)."""

    def __init__(
        self,
        connection: ConnectionProvider,
        keys: KeyStore,
        *,
        log: MerkleLog | None = None,
        sequences: Sequences | None = None,
        exclusive: bool = False,
    ) -> None:
        self._connection = connection
        self._keys = keys
        self._log = log
        self._sequences = sequences
        self._exclusive = exclusive
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
                else open_log(self._connection, self._keys.origin, exclusive=self._exclusive)
            )
            sequences = self._sequences
            if sequences is None:
                sequences = _TableSequences(self._connection)
            self._recorder = Recorder(log, sequences=sequences)
        return self._recorder

    @property
    def log(self) -> MerkleLog:
        """The log, read from the unit's transaction."""
        return self.recorder.log

    def append(self, event: Mapping[str, Any], *, author: str, at: datetime) -> int:
        """Sign ``event`` as ``author`` (a member, or the center's origin) at ``at`` and
        append it; its index."""
        (index,) = self.append_many([(event, author)], at=at)
        return index

    def append_encoded(self, event_json: bytes, *, author: str, at: datetime) -> int:
        """:meth:`append` of the event whose canonical JSON is ``event_json``, as
        :func:`~accord.record.canonical.canonical_json` wrote it (a caller that encoded the
        event to hash or weigh it does not pay for it twice)."""
        (index,) = self.append_many([(event_json, author)], at=at)
        return index

    def append_many(
        self, items: Sequence[tuple[Mapping[str, Any] | bytes, str]], *, at: datetime
    ) -> list[int]:
        """Sign each ``(event, author)`` at ``at`` and append them in order: the entries, and
        the indices, that as many :meth:`append` calls would give."""
        recorder = self.recorder
        size = recorder.log.size
        signed: list[Any] = []
        for offset, (event, author) in enumerate(items):
            signed.append(self._item(event, author, at, size + offset))
        return recorder.append_many(signed)

    def _item(
        self, event: Mapping[str, Any] | bytes, author: str, at: datetime, index: int
    ) -> (
        tuple[Mapping[str, Any] | bytes, PrivateKey, datetime]
        | tuple[Mapping[str, Any] | bytes, PrivateKey, datetime, str, Mapping[str, Any]]
    ):
        keys = self._keys
        if author == keys.origin or not keys.rooted:
            return (event, keys.key(author), at)
        acting = self.acting
        if acting is None or acting.member != author:
            raise NoAct(
                f"an entry for {author!r} without {author}'s act: the center never signs "
                "for a member"
            )
        acting.events.append(event)
        if acting.entry is None:
            acting.entry = index
            act: dict[str, Any] = {
                "key": encode_base64(acting.key),
                "signed": acting.signed.to_json(),
            }
            if acting.public:
                act["opening"] = {"salt": acting.salt, "body": acting.body}
        else:
            act = {"of": acting.entry}
        return (event, keys.center(), at, author, act)

    def sign_head(self, *, timestamp: int) -> SignedHead:
        """The center signs the tree head at the current size and keeps it with the log."""
        return self.recorder.sign_head(key=self._keys.center(), timestamp=timestamp)
