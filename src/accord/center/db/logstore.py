"""The record's log in the service's database: :class:`accord.record.log.LogStorage` over
SQLAlchemy.

:class:`SQLAlchemyLogStorage` keeps the same rows as
:class:`~accord.record.log.SQLiteStorage` (meta, leaves, nodes, heads; tables prefixed
``record_``) with the same semantics, but it does not own a connection. It is given either

* an :class:`~sqlalchemy.Engine` — then each call runs in a transaction of its own, like the
  SQLite store; or
* a *connection provider*, a function returning the :class:`~sqlalchemy.Connection` of the
  caller's unit of work (``session.connection``) — then every read and write runs inside the
  caller's transaction, and an :meth:`~SQLAlchemyLogStorage.append` is durable exactly when
  the caller commits: the service's own rows and the record entry that describes them are
  committed, or rolled back, together. An append inside an open transaction is wrapped in a
  SAVEPOINT, so that a refused append changes nothing even there.

With ``exclusive=True`` the caller vouches that it holds the database's write lock and that
the log it appends to is in step with the store (the service checks the size once per
transaction under the lock): an append is then just its two INSERTs, without the SAVEPOINT
and the size check (a stale writer would still fail on the leaves' primary key, and the
caller rolls back).

A :class:`~accord.record.log.MerkleLog` keeps the size and right border of the tree in
memory: over a provider, make one per transaction (the service does), so that a rollback
leaves no stale state behind.

>>> from accord.center.db import make_engine, upgrade
>>> from accord.record.log import MerkleLog
>>> engine = make_engine("sqlite://")
>>> with engine.begin() as connection:
...     _ = upgrade(connection)
...     log = MerkleLog(SQLAlchemyLogStorage(lambda: connection), "example.org/log")
...     log.append_many([b"a", b"b"])
[0, 1]
>>> MerkleLog(SQLAlchemyLogStorage(engine)).size
2
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    Table,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)

from accord.center.db.engine import writer
from accord.center.db.fast import Prepared, PreparedQuery
from accord.center.db.models import RecordHead, RecordLeaf, RecordMeta, RecordNode
from accord.record.log import SCHEMA_VERSION, LogError, LogHead

__all__ = ["LOG_FORMAT", "ConnectionProvider", "SQLAlchemyLogStorage"]

LOG_FORMAT = "accord-log"
"""The ``format`` row of ``record_meta`` (the same as an SQLite log file's)."""

ConnectionProvider = Callable[[], Connection]
"""Returns the connection of the caller's current transaction (e.g. ``session.connection``)."""

_KEYS_PER_QUERY = 200  # terms in one compound SELECT (SQLite allows 500)

_meta = cast(Table, RecordMeta.__table__)
_leaves = cast(Table, RecordLeaf.__table__)
_nodes = cast(Table, RecordNode.__table__)
_heads = cast(Table, RecordHead.__table__)
_TOP = PreparedQuery(select(func.max(_leaves.c.idx)))
"""The highest stored leaf index (read at the start of every group of the service's writes)."""


def _size(connection: Connection) -> int:
    ((top,),) = _TOP.rows(connection)
    return 0 if top is None else int(top) + 1


_PUT_LEAVES = Prepared(insert(_leaves))
_PUT_NODES = Prepared(insert(_nodes))


class SQLAlchemyLogStorage:
    """:class:`~accord.record.log.LogStorage` in the ``record_*`` tables of a database.

    Parameters
    ----------
    source
        An engine (every call its own transaction) or a function returning the connection
        of the caller's transaction (every call inside it).
    exclusive
        Appends trust the caller's size (see the module docstring); only with a connection
        provider.
    """

    def __init__(self, source: Engine | ConnectionProvider, *, exclusive: bool = False) -> None:
        if exclusive and isinstance(source, Engine):
            raise ValueError("an exclusive store appends in its caller's transaction")
        self._source = source
        self._exclusive = exclusive

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        source = self._source
        if isinstance(source, Engine):
            with source.connect() as connection:
                yield connection
        else:
            yield source()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        source = self._source
        if isinstance(source, Engine):
            with writer(source).begin() as connection:
                yield connection
            return
        connection = source()
        if connection.in_transaction():
            with connection.begin_nested():
                yield connection
        else:
            with connection.begin():
                yield connection

    def _rows(self, statement: Select[Any]) -> list[Any]:
        with self._reading() as connection:
            return list(connection.execute(statement).all())

    def _scalar(self, statement: Select[Any]) -> Any:
        with self._reading() as connection:
            return connection.execute(statement).scalar()

    # --- LogStorage -----------------------------------------------------------------------

    def origin(self) -> str | None:
        """The log's origin line, or ``None`` for a store never given one."""
        value = self._scalar(select(_meta.c.value).where(_meta.c.key == "origin"))
        return None if value is None else str(value)

    def set_origin(self, origin: str) -> None:
        """Record the origin of a new, empty store (with the format rows, once)."""
        with self._writing() as connection:
            present = dict(connection.execute(select(_meta.c.key, _meta.c.value)).all())
            if "origin" in present:
                raise LogError(f"the log already has the origin {present['origin']!r}")
            rows = [{"key": "origin", "value": origin}]
            if "format" not in present:
                rows.append({"key": "format", "value": LOG_FORMAT})
            if "schema_version" not in present:
                rows.append({"key": "schema_version", "value": str(SCHEMA_VERSION)})
            connection.execute(insert(_meta), rows)

    def size(self) -> int:
        """One more than the highest stored leaf index (0 when empty)."""
        with self._reading() as connection:
            return _size(connection)

    def leaf(self, index: int) -> bytes | None:
        """Leaf ``index``'s data."""
        value = self._scalar(select(_leaves.c.data).where(_leaves.c.idx == index))
        return None if value is None else bytes(value)

    def read_leaves(self, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
        """The stored ``(index, data, hash)`` rows with ``start <= index < end``, in order."""
        rows = self._rows(
            select(_leaves.c.idx, _leaves.c.data, _leaves.c.hash)
            .where(_leaves.c.idx >= start, _leaves.c.idx < end)
            .order_by(_leaves.c.idx)
        )
        return [(int(i), bytes(d), bytes(h)) for i, d, h in rows]

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes among ``keys`` (level 0: leaf hashes), one query per 200 keys."""
        found: dict[tuple[int, int], bytes] = {}
        with self._reading() as connection:
            for at in range(0, len(keys), _KEYS_PER_QUERY):
                parts: list[Select[Any]] = []
                for level, index in keys[at : at + _KEYS_PER_QUERY]:
                    if level == 0:
                        parts.append(
                            select(
                                literal(0, Integer).label("level"), _leaves.c.idx, _leaves.c.hash
                            ).where(_leaves.c.idx == index)
                        )
                    else:
                        parts.append(
                            select(_nodes.c.level, _nodes.c.idx, _nodes.c.hash).where(
                                _nodes.c.level == level, _nodes.c.idx == index
                            )
                        )
                statement = parts[0] if len(parts) == 1 else union_all(*parts)
                for level, index, h in connection.execute(statement):
                    found[int(level), int(index)] = bytes(h)
        return found

    def read_nodes(self, level: int, start: int, end: int) -> list[tuple[int, bytes]]:
        """The stored ``(index, hash)`` of one level with ``start <= index < end``, in order."""
        if level == 0:
            statement = (
                select(_leaves.c.idx, _leaves.c.hash)
                .where(_leaves.c.idx >= start, _leaves.c.idx < end)
                .order_by(_leaves.c.idx)
            )
        else:
            statement = (
                select(_nodes.c.idx, _nodes.c.hash)
                .where(_nodes.c.level == level, _nodes.c.idx >= start, _nodes.c.idx < end)
                .order_by(_nodes.c.idx)
            )
        return [(int(i), bytes(h)) for i, h in self._rows(statement)]

    def node_count(self) -> int:
        """How many nodes of level 1 and up are stored."""
        return int(self._scalar(select(func.count()).select_from(_nodes)))

    def append(
        self,
        leaves: Sequence[tuple[int, bytes, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
    ) -> None:
        """Store consecutive leaves from the store's size and the nodes they complete, in one
        transaction (the caller's, when it has one); refuse, changing nothing, when the first
        index is not the store's size (another writer got there first)."""
        if not leaves:
            return
        if self._exclusive:
            connection = cast(ConnectionProvider, self._source)()
            _PUT_LEAVES.execute(
                connection, [{"idx": i, "data": d, "hash": h} for i, d, h in leaves]
            )
            if nodes:
                _PUT_NODES.execute(
                    connection, [{"level": lv, "idx": i, "hash": h} for lv, i, h in nodes]
                )
            return
        start = leaves[0][0]
        with self._writing() as connection:
            size = _size(connection)
            if size != start:
                raise LogError(
                    f"the log holds {size} entries, not the {start} this writer expected "
                    "(is another process appending?)"
                )
            connection.execute(
                insert(_leaves), [{"idx": i, "data": d, "hash": h} for i, d, h in leaves]
            )
            if nodes:
                connection.execute(
                    insert(_nodes), [{"level": lv, "idx": i, "hash": h} for lv, i, h in nodes]
                )

    def put_head(self, size: int, root: bytes, timestamp: int, note: str) -> None:
        """Store a tree head; one already stored at the same size with the same root gets
        the new timestamp and note, one with another root is left as it is."""
        with self._writing() as connection:
            stored = connection.execute(select(_heads.c.root).where(_heads.c.size == size)).scalar()
            if stored is None:
                connection.execute(
                    insert(_heads).values(size=size, root=root, timestamp=timestamp, note=note)
                )
            elif bytes(stored) == root:
                connection.execute(
                    update(_heads)
                    .where(_heads.c.size == size)
                    .values(timestamp=timestamp, note=note)
                )

    def heads(self) -> list[LogHead]:
        """Every stored head, by size."""
        rows = self._rows(
            select(_heads.c.size, _heads.c.root, _heads.c.timestamp, _heads.c.note).order_by(
                _heads.c.size
            )
        )
        return [LogHead(int(s), bytes(r), int(t), str(n)) for s, r, t, n in rows]

    def latest_head(self) -> LogHead | None:
        """The stored head of the largest size."""
        rows = self._rows(
            select(_heads.c.size, _heads.c.root, _heads.c.timestamp, _heads.c.note)
            .order_by(_heads.c.size.desc())
            .limit(1)
        )
        if not rows:
            return None
        s, r, t, n = rows[0]
        return LogHead(int(s), bytes(r), int(t), str(n))

    def close(self) -> None:
        """Nothing to release: the engine or the caller owns the connections."""
