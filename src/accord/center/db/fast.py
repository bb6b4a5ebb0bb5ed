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

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert, UpdateBase

__all__ = ["Prepared"]

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the statement's order
    processors: tuple[Processor | None, ...]
    constants: Mapping[str, Any]  # the values the statement holds itself (``+ 1``)
    positional: bool

    def row(self, parameters: Mapping[str, Any]) -> Any:
        constants = self.constants
        values = [
            value if process is None else process(value)
            for value, process in zip(
                (constants[name] if name in constants else parameters[name] for name in self.names),
                self.processors,
                strict=True,
            )
        ]
        return values if self.positional else dict(zip(self.names, values, strict=True))


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
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
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
        made = _Compiled(compiled.string, names, processors, constants, positional)
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
                cursor.executemany(compiled.sql, [compiled.row(r) for r in rows])
        finally:
            cursor.close()
