"""The oracle for redo (:mod:`accord.center.recovery`): a center's tables, taken whole, from
the original database and from its backup restored with the tail a monitor's copy holds,
must be the same row for row, but for what no entry holds (:data:`NOT_RECORDED`).

How a test uses it: :func:`check_redo` with a scenario — what users do on a running
service, calling ``backup()`` once where the backup is to be taken. It takes the backup
there, lets the scenario go on, signs a head, makes :func:`monitor_copy` of the whole record
(as a party's monitor would hold it, with the openings its party's officers would hand
back), :func:`restore_with` into an empty database, and :func:`assert_same_tables`.

``serve`` chooses the service: :func:`desk_service` (the legacy jig agreement, a clock the
scenario moves: :class:`support.desk.Desk`) or :func:`rooted` (the members sign their acts,
so each entry's act names its user)."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Integer, Table, select, text
from sqlalchemy.engine import Engine

from accord.agreement import Agreement, load_agreement
from accord.center.backup import Restored, backup, restore
from accord.center.db import make_engine
from accord.center.db.engine import sqlite_file
from accord.center.db.models import Base
from accord.center.keystore import log_origin
from accord.center.ledger import open_log
from accord.record.log import MerkleLog
from support.desk import start as start_desk
from support.postgres import Postgres, never_migrated
from support.service import Service, rooted_service

SKIPPED_TABLES: frozenset[str] = frozenset(
    {
        # the record itself: compared as its size and root (assert_same_tables)
        "record_meta", "record_leaves", "record_nodes", "record_heads", "record_witnesses",
        # caches of the record, re-derived from it when asked
        "verified_checkpoints", "picture_snapshots", "picture_aside", "judge_checkpoints",
        "judge_checkpoint_parts",
        # rows no entry covers (redo's module docstring): live events, answers kept for
        # retries, who is online, the latest tracks, key offers, escalation contacts
        "events", "idempotency", "presence", "tracks", "key_offers", "contacts",
        # the restore's own account of itself, in the restored database only
        "restores",
    }
)  # fmt: skip
"""Tables not compared row for row."""

NOT_RECORDED: Mapping[str, frozenset[str]] = {
    "users": frozenset({"token_hash"}),  # never recorded: rotate for a new token
    "declarations": frozenset({"shadow"}),  # a random displacement, drawn anew
    "act_nonces": frozenset({"salt", "body"}),  # a sealed act's opening, not recorded
    "check_openings": frozenset({"salt", "content"}),  # what a check showed, not recorded
    "operations": frozenset({"conflicts_seen"}),  # a cache: NULL means "check again"
}
"""Columns no entry holds, by table: not compared."""


def take_backup(url: str, out: Path, *, agreement: Agreement) -> Path:
    """A backup of the database at ``url`` in ``out`` (as ``accord db backup`` takes it)."""
    backup(url, out, agreement=agreement)
    return out


def _leaves_and_head(engine: Engine, origin: str) -> tuple[list[bytes], Any]:
    with engine.connect() as connection:
        log = open_log(lambda: connection, origin)
        head = log.latest_head()
        assert head is not None, "sign a head first (GET /v1/record/head)"
        return [data for _, data in log.entries(0, head.size)], head


def monitor_copy(
    url: str,
    folder: Path,
    *,
    agreement: Agreement,
    owners: Iterable[str] | None = None,
    size: int | None = None,
) -> Path:
    """A monitor's state folder ``folder`` holding the record at ``url`` up to its latest
    signed head (``size``: up to that many entries, with no head unless one is that size),
    and the openings in ``openings`` whose owner is in ``owners`` (every owner when None),
    as those parties' monitors keep them."""
    origin = log_origin(agreement)
    engine = make_engine(url)
    try:
        leaves, head = _leaves_and_head(engine, origin)
        with engine.connect() as connection:
            rows = connection.execute(
                select(Base.metadata.tables["openings"]).order_by("entry")
            ).all()
    finally:
        engine.dispose()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    log = MerkleLog.open(folder / "log.sqlite", origin)
    try:
        log.append_many(leaves if size is None else leaves[:size])
        if size is None or size == head.size:
            log.add_head(head.size, head.root, head.timestamp, head.note)
    finally:
        log.close()
    wanted = None if owners is None else set(owners)
    with (folder / "openings.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            if wanted is None or row.owner in wanted:
                item = {
                    "entry": row.entry,
                    "commitment": base64.b64encode(row.commitment).decode(),
                    "salt": base64.b64encode(row.salt).decode(),
                    "content": row.content,
                }
                out.write(json.dumps(item) + "\n")
    return folder


def restore_with(
    copy: Path,
    url: str,
    *,
    agreement: Agreement,
    keys: Path,
    monitors: Iterable[Path],
    without_openings: Iterable[str] = (),
) -> Restored:
    """The backup ``copy`` restored into the empty database ``url`` with the monitors'
    copies (every party's witness knowingly left unasked)."""
    return restore(
        copy, url, agreement=agreement, keys=keys, monitors=tuple(monitors),
        without_witness=tuple(agreement.witnesses), without_openings=tuple(without_openings),
    )  # fmt: skip


def _surrogate(table: Table, name: str) -> bool:
    column = table.c[name]
    return bool(column.primary_key and isinstance(column.type, Integer) and name == "id")


def _to_user(table: Table, name: str) -> bool:
    return any(fk.column.table.name == "users" for fk in table.c[name].foreign_keys)


def tables(
    connection: Connection,
    *,
    ignore: Mapping[str, Iterable[str]] = {},
    skip: Iterable[str] = (),
) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared table's rows (not :data:`SKIPPED_TABLES` nor ``skip``) as sorted
    tuples of the compared columns: surrogate ids left out, a user's id given as the user's
    name."""
    skipped = SKIPPED_TABLES | set(skip)
    people = Base.metadata.tables["users"]
    users = dict(connection.execute(select(people.c.id, people.c.name)).all())
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in skipped:
            continue
        left = set(NOT_RECORDED.get(table.name, ())) | set(ignore.get(table.name, ()))
        names = [
            c.name for c in table.columns if c.name not in left and not _surrogate(table, c.name)
        ]
        converters: list[Callable[[Any], Any]] = [
            (lambda v: users.get(v, v)) if _to_user(table, n) else (lambda v: v) for n in names
        ]
        rows = connection.execute(select(*(table.c[n] for n in names))).all()
        out[table.name] = sorted(
            (tuple(f(v) for f, v in zip(converters, row, strict=True)) for row in rows), key=repr
        )
    return out


def assert_same_tables(
    original: str,
    restored: str,
    *,
    agreement: Agreement,
    ignore: Mapping[str, Iterable[str]] = {},
    skip: Iterable[str] = (),
) -> None:
    """The two databases hold the same record (size and root) and the same compared rows;
    a difference is shown table by table, row by row."""
    origin = log_origin(agreement)
    got: list[dict[str, list[tuple[Any, ...]]]] = []
    heads = []
    for url in (original, restored):
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                log = open_log(lambda c=connection: c, origin)  # type: ignore[misc]
                heads.append((log.size, log.root(log.size) if log.size else b""))
                got.append(tables(connection, ignore=ignore, skip=skip))
        finally:
            engine.dispose()
    assert heads[0] == heads[1], f"the records differ: {heads}"
    differ = []
    for name in got[0]:
        a, b = got[0][name], got[1][name]
        if a != b:
            only_a = [r for r in a if r not in b][:5]
            only_b = [r for r in b if r not in a][:5]
            differ.append(f"{name}: original only {only_a}; restored only {only_b}")
    assert not differ, "\n".join(differ)


LEGACY_USERS: Mapping[str, frozenset[str]] = {
    # a legacy agreement's member entry names the member, never the user (it holds no
    # act): redo writes NULL where the service wrote the user's id
    "acknowledgements": frozenset({"user_id"}),
    "messages": frozenset({"sent_by"}),
    "message_recipients": frozenset({"acknowledged_by"}),
    "reports": frozenset({"filed_by", "answered_by"}),
    "drafts": frozenset({"saved_by"}),
    "airspace_acks": frozenset({"user_id"}),
}
"""Columns :func:`check_redo` leaves out for a service under a legacy agreement."""

Serve = Callable[[Path, str], AbstractContextManager[Service]]
Scenario = Callable[[Any, Callable[[], None]], None]


desk_service: Serve = contextlib.contextmanager(start_desk)
"""A :class:`support.desk.Desk` (legacy agreement, the clock the scenario sets)."""


@contextlib.contextmanager
def rooted(tmp_path: Path, database_url: str) -> Iterator[Service]:
    """A service whose members sign their acts (:func:`support.service.rooted_service`)."""
    tmp_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with rooted_service(tmp_path, database_url) as service:
        yield service


@contextlib.contextmanager
def databases(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> Iterator[tuple[str, str]]:
    """A fresh migrated database of ``backend`` for the center and an empty one to restore
    into (PostgreSQL: on the session's test server, the ``postgres`` fixture)."""
    with never_migrated(request, backend, tmp_path / "restored" / "accord.sqlite") as empty:
        if backend == "sqlite":
            yield f"sqlite:///{tmp_path / 'accord.sqlite'}", empty
            return
        server: Postgres = request.getfixturevalue("postgres")
        with server.database() as url:
            yield url, empty


def check_redo(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    scenario: Scenario,
    *,
    serve: Serve = desk_service,
    ignore: Mapping[str, Iterable[str]] | None = None,
    skip: Iterable[str] = (),
    owners: Iterable[str] | None = None,
    without_openings: Iterable[str] = (),
) -> Restored:
    """Run ``scenario(service, backup)`` on a fresh service (``serve``), the backup taken
    when it calls ``backup()`` (before anything when it never does), then restore that
    backup with a monitor's copy of the whole record (openings of ``owners``' commitments,
    every owner's when None; ``without_openings``: the parties whose hidden declarations and
    messages the restore knowingly goes without) and assert the tables are the original's,
    but for ``ignore``
    (default: :data:`LEGACY_USERS` under a legacy agreement, nothing under a rooted one)
    and the tables in ``skip`` (each skip needs its reason where the test names it).
    What the restore did, notes included, is returned for the test to check."""
    with (
        databases(request, tmp_path, backend) as (database_url, restored_url),
        serve(tmp_path / "center", database_url) as service,
    ):
        settings = service.settings
        assert settings.agreement_path is not None
        agreement = load_agreement(settings.agreement_path)
        copy = tmp_path / "backup"

        def backup_now() -> None:
            assert not copy.exists(), "one backup per scenario"
            take_backup(database_url, copy, agreement=agreement)

        scenario(service, backup_now)
        if not copy.exists():
            backup_now()
        head = service.get("/v1/record/head", next(iter(service.tokens)))
        assert head.status_code == 200, head.text
        monitor = monitor_copy(
            database_url, tmp_path / "monitor", agreement=agreement, owners=owners
        )
        restored = restore_with(
            copy, restored_url, agreement=agreement, keys=settings.keys_dir, monitors=[monitor],
            without_openings=without_openings,
        )  # fmt: skip
        if ignore is None:
            ignore = {} if agreement.rooted else LEGACY_USERS
        assert_same_tables(
            database_url, restored_url, agreement=agreement, ignore=ignore, skip=skip
        )
        return restored


def tables_in(url: str) -> int:
    """How many tables the database at ``url`` holds (SQLite: 1 once its file exists):
    0 is what a refused restore must leave."""
    file = sqlite_file(url)
    if file is not None:
        return 0 if not file.exists() else 1
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_schema = 'public'")
                ).scalar_one()
            )  # fmt: skip
    finally:
        engine.dispose()
