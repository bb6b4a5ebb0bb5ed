"""The write path's hot statements, run on the driver's cursor.

SQLAlchemy does some work on every execution of a Core statement — its cache key, the
compiled-cache look-up, an execution context, the result — about 50 µs a statement here,
where the driver itself takes about 10. A change of state writes six or so rows, all on the
one writer thread, so that work is a tenth of what the service can do in a second.

A :class:`Prepared` statement is compiled by SQLAlchemy once per dialect and set of
parameter names (its SQL, its parameters' order, each parameter's bind processor: an aware
time made UTC, for instance), then run on the DBAPI cursor of the caller's connection, in
the caller's transaction. What it stores is what SQLAlchemy would have stored (a test holds
the two to each other on both databases). Only for INSERT and UPDATE statements whose every
value the caller passes: no column defaults are applied, no result is read, and errors come
from the driver, unwrapped.

A :class:`PreparedQuery` does the same for a SELECT read on every change (the counters the
deconfliction cache polls, the message an acknowledgement names): its rows are tuples of
the values SQLAlchemy would have read (each column's result processor applied: SQLite's
text times read back as aware instants), about a tenth of the cost per statement here. No
IN lists (their SQL depends on the list's length); errors come from the driver, unwrapped.

>>> from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
>>> table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("s", String))
>>> engine = create_engine("sqlite://")
>>> table.metadata.create_all(engine)
>>> put = Prepared(insert(table))
>>> with engine.begin() as connection:
...     put.execute(connection, [{"id": 1, "s": "a"}, {"id": 2, "s": "b"}])
...     sorted(connection.execute(table.select()).all())
[(1, 'a'), (2, 'b')]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert, UpdateBase

__all__ = ["Prepared", "PreparedQuery"]

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the statement's order
    processors: tuple[Processor | None, ...]
    constants: Mapping[str, Any]  # the values the statement holds itself (``+ 1``)
    positional: bool

    def row(self, parameters: Mapping[str, Any]) -> Any:
        return self.rows([parameters])[0]

    def rows(self, parameters: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Each parameter set's values in the statement's order, processed (a round of
        5,000 track rows of 18 values: 2 µs a row, where a generator per row took 12)."""
        constants = self.constants
        given = [name for name in self.names if name not in constants]
        processed = [(k, p) for k, p in enumerate(self.processors) if p is not None]
        fixed = [(k, constants[name]) for k, name in enumerate(self.names) if name in constants]
        out: list[Any] = []
        for one in parameters:
            values = [one[name] for name in given]
            for k, value in fixed:
                values.insert(k, value)
            for k, process in processed:
                values[k] = process(values[k])
            out.append(values if self.positional else dict(zip(self.names, values, strict=True)))
        return out


def _compile(
    statement: Any, dialect: Dialect, keys: frozenset[str], column_keys: list[str] | None
) -> _Compiled:
    """The statement's SQL for ``dialect`` and how to bind ``keys`` (the caller's names)."""
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError("a statement whose SQL is completed per execution (IN lists) is refused")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
    binds = compiled.binds
    constants = {
        name: binds[name].effective_value
        for name in names
        if name not in keys and not binds[name].required
    }
    missing = [name for name in names if name not in keys and name not in constants]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}: pass every value")
    # The dialect's own implementation of each type: SQLite's DATETIME writes the text
    # SQLAlchemy reads (the generic type has no processor, and the driver's own adapter
    # would write another form).
    processors = tuple(
        binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return _Compiled(compiled.string, names, processors, constants, positional)


class Prepared:
    """An INSERT or UPDATE, compiled once per dialect and parameter names, run on the
    driver's cursor (see the module docstring)."""

    def __init__(self, statement: UpdateBase) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
        found = self._compiled.get((dialect.name, keys))
        if found is not None:
            return found
        statement = self._statement
        table = getattr(statement, "table", None)
        if table is not None:
            inserting = isinstance(statement, Insert)
            given = keys | {getattr(k, "key", k) for k in getattr(statement, "_values", None) or {}}
            skipped = [
                c.key
                for c in table.columns
                if (c.default is not None if inserting else c.onupdate is not None)
                and c.key not in given
            ]
            if skipped:
                raise ValueError(
                    f"no value for {', '.join(skipped)}: column defaults are not applied"
                )
        made = _compile(statement, dialect, keys, sorted(keys))
        with self._lock:
            self._compiled[(dialect.name, keys)] = made
        return made

    def execute(
        self, connection: Connection, parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Run the statement once per parameter set, in ``connection``'s transaction."""
        rows = [parameters] if isinstance(parameters, Mapping) else list(parameters)
        if not rows:
            return
        if not connection.in_transaction():
            raise RuntimeError("a prepared statement runs in its caller's transaction")
        keys = frozenset(rows[0])
        if any(frozenset(r) != keys for r in rows[1:]):
            raise ValueError("every parameter set of one execution names the same values")
        compiled = self._for(connection.dialect, keys)
        cursor = connection.connection.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(compiled.sql, compiled.row(rows[0]))
            else:
                cursor.executemany(compiled.sql, compiled.rows(rows))
        finally:
            cursor.close()


@dataclass(frozen=True, slots=True)
class _Query:
    bound: _Compiled
    readers: tuple[Processor | None, ...] | None  # per column; None until the first rows


class PreparedQuery:
    """A SELECT, compiled once per dialect and parameter names, run on the driver's cursor;
    its rows as tuples of what SQLAlchemy would have read (see the module docstring).

    >>> from sqlalchemy import Column, DateTime, Integer, MetaData, Table, bindparam
    >>> from sqlalchemy import create_engine, insert, select
    >>> table = Table("q", MetaData(), Column("id", Integer, primary_key=True),
    ...     Column("at", DateTime))
    >>> engine = create_engine("sqlite://")
    >>> table.metadata.create_all(engine)
    >>> import datetime
    >>> read = PreparedQuery(select(table.c.at).where(table.c.id == bindparam("b_id")))
    >>> with engine.begin() as connection:
    ...     _ = connection.execute(insert(table), {"id": 1, "at": datetime.datetime(2026, 5, 1)})
    ...     read.rows(connection, {"b_id": 1})
    [(datetime.datetime(2026, 5, 1, 0, 0),)]
    """

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self._statement = statement
        self.keys: tuple[str, ...] = tuple(statement.selected_columns.keys())
        """The columns' names, in order (for ``dict(zip(query.keys, row))``)."""
        self._types = tuple(c.type for c in statement.selected_columns)
        self._compiled: dict[tuple[str, frozenset[str]], _Query] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect, keys: frozenset[str]) -> _Query:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            found = _Query(_compile(self._statement, dialect, keys, None), None)
            with self._lock:
                self._compiled[(dialect.name, keys)] = found
        return found

    def rows(
        self, connection: Connection, parameters: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Every row the statement reads with ``parameters``, in ``connection``'s
        transaction (one is begun as SQLAlchemy would, if none is open)."""
        given = parameters or {}
        dialect, keys = connection.dialect, frozenset(given)
        query = self._for(dialect, keys)
        if not connection.in_transaction():
            connection.begin()
        cursor = connection.connection.cursor()
        try:
            cursor.execute(query.bound.sql, query.bound.row(given))
            raw = cursor.fetchall()
            readers = query.readers
            if readers is None:
                # As SQLAlchemy does: each column's processor, given the driver's type code.
                readers = tuple(
                    kind.dialect_impl(dialect).result_processor(dialect, column[1])
                    for kind, column in zip(self._types, cursor.description, strict=True)
                )
                with self._lock:
                    self._compiled[(dialect.name, keys)] = _Query(query.bound, readers)
        finally:
            cursor.close()
        if not any(readers):
            return [tuple(r) for r in raw]
        return [
            tuple(v if read is None else read(v) for v, read in zip(r, readers, strict=True))
            for r in raw
        ]
