"""Prepared statements (:mod:`accord.center.db.fast`) store exactly what SQLAlchemy's own
execution of the same statement stores, on both databases; they refuse what they cannot do
the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, bindparam, delete, func, insert, select, update

from accord.center.db import make_engine, upgrade, writer
from accord.center.db.fast import Prepared, PreparedQuery
from accord.center.db.models import Event
from accord.center.db.models_airspace import AirspaceAlertRecipient
from accord.center.db.models_operations import OperationRow

_events: Table = Event.__table__  # type: ignore[assignment]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    upgrade(made)
    yield writer(made)
    made.dispose()


_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).flatmap(
    lambda t: st.integers(-12 * 60, 14 * 60).map(
        lambda m: t.astimezone(timezone(timedelta(minutes=m)))
    )
)
_texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_events_rows = st.lists(
    st.fixed_dictionaries({"at": _instants, "kind": _texts, "audience": _texts, "payload": _texts}),
    min_size=1,
    max_size=4,
)


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    """The rows as the database holds them, read by the driver (SQLite keeps times as text:
    the text itself must be the same, since the service compares it in SQL)."""
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        cursor.execute("SELECT at, kind, audience, payload FROM events ORDER BY id")
        rows = [tuple(r) for r in cursor.fetchall()]
        cursor.close()
    return rows


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_events_rows)
def test_an_insert_stores_what_sqlalchemy_stores(
    engine: Engine, rows: list[dict[str, Any]]
) -> None:
    with engine.begin() as connection:
        connection.execute(delete(_events))
        connection.execute(insert(_events), rows)
    expected = _stored(engine)
    with engine.begin() as connection:
        connection.execute(delete(_events))
        Prepared(insert(_events)).execute(connection, rows if len(rows) > 1 else rows[0])
    assert _stored(engine) == expected
    with engine.connect() as connection:
        read = connection.execute(select(_events.c.at).order_by(_events.c.id)).scalars().all()
    assert read == [r["at"] for r in rows]  # the same instants, read back in UTC


def test_an_update_with_a_subquery_and_named_parameters(engine: Engine) -> None:
    table: Table = OperationRow.__table__  # type: ignore[assignment]
    at = datetime(2026, 10, 2, 3, 4, 5, 678901, tzinfo=UTC)
    row = {
        "id": "op-1",
        "category": "coordinated",
        "proposed_by": "blue",
        "status": "proposed",
        "version": 1,
        "rev": 7,
        "feature": "{}",
        "state": "{}",
        "conflicts": "[]",
        "blocking": 0,
        "proposed_at": at,
        "updated_at": at,
        "entry": 1,
        "conflicts_seen": None,
    }
    raise_rev = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(rev=select(table.c.rev + 1).scalar_subquery())
    )
    with engine.begin() as connection:
        Prepared(insert(table)).execute(connection, row)
        Prepared(raise_rev).execute(
            connection, {"b_id": "op-1", "status": "approved", "conflicts_seen": 3}
        )
        stored = connection.execute(select(table).where(table.c.id == "op-1")).mappings().one()
    assert (stored["rev"], stored["status"], stored["conflicts_seen"]) == (8, "approved", 3)
    assert stored["proposed_at"] == at


def test_what_it_cannot_do_as_sqlalchemy_would_is_refused(engine: Engine) -> None:
    table: Table = AirspaceAlertRecipient.__table__  # type: ignore[assignment]
    with engine.begin() as connection, pytest.raises(ValueError, match="for level, position: "):
        # Those columns have Python-side defaults, which SQLAlchemy would fill in.
        Prepared(insert(table)).execute(
            connection, {"alert_id": "a", "party": "blue", "ack_within_s": 60}
        )
    event = {"at": datetime.now(UTC), "kind": "k", "audience": "[]", "payload": "{}"}
    with engine.begin() as connection, pytest.raises(ValueError, match="same values"):
        # SQLAlchemy would not drop a value one set names and the first does not.
        Prepared(insert(_events)).execute(connection, [event, {**event, "id": 7}])
    prepared = Prepared(insert(_events))
    with engine.connect() as connection, pytest.raises(RuntimeError, match="transaction"):
        prepared.execute(connection, event)  # not in a transaction


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_events_rows, after=st.integers(0, 5))
def test_a_query_reads_what_sqlalchemy_reads(
    engine: Engine, rows: list[dict[str, Any]], after: int
) -> None:
    newer = (
        select(_events.c.id, _events.c.at, _events.c.kind, _events.c.payload)
        .where(_events.c.id > bindparam("after"))
        .order_by(_events.c.id)
    )
    counters = select(
        select(func.max(_events.c.id)).scalar_subquery(),
        select(func.count()).select_from(_events).scalar_subquery(),
    )
    with engine.begin() as connection:
        connection.execute(delete(_events))
        connection.execute(insert(_events), rows)
        first = connection.execute(select(func.min(_events.c.id))).scalar_one()
        for statement, parameters in (
            (newer, {"after": first - 1 + after}),
            (counters, None),
            (select(_events).order_by(_events.c.id.desc()).limit(2), None),
        ):
            expected = [tuple(r) for r in connection.execute(statement, parameters).all()]
            query = PreparedQuery(statement)
            assert query.rows(connection, parameters) == expected
            assert query.rows(connection, parameters) == expected  # and again, compiled
            assert query.keys == tuple(statement.selected_columns.keys())
    with engine.connect() as connection:  # no transaction open: one is begun, as SQLAlchemy would
        instants = [r[1] for r in PreparedQuery(newer).rows(connection, {"after": 0})]
    assert all(t.utcoffset() == timedelta(0) for t in instants)  # aware, UTC, as stored


def test_a_query_it_cannot_run_as_sqlalchemy_would_is_refused(engine: Engine) -> None:
    listed = PreparedQuery(select(_events.c.id).where(_events.c.kind.in_(["a", "b"])))
    with engine.connect() as connection, pytest.raises(ValueError, match="IN lists"):
        listed.rows(connection)
    named = PreparedQuery(select(_events.c.id).where(_events.c.kind == bindparam("k")))
    with engine.connect() as connection, pytest.raises(ValueError, match="no value for k"):
        named.rows(connection)
