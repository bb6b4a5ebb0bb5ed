"""The database: migrations on a fresh database, models held to the migrations, SQLite's
durability settings, and the record's log in SQLAlchemy against SQLite and RFC 9162 — on
SQLite and on PostgreSQL (the ``[sqlite]`` / ``[postgresql]`` cases), except for the PRAGMAs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.center.db import (
    Base,
    Confirmation,
    RecordLeaf,
    SQLAlchemyLogStorage,
    User,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
    writer,
)
from accord.cli import app as cli
from accord.record import merkle
from accord.record.log import LogError, MerkleLog, SQLiteStorage
from support.jig import NOW
from support.postgres import BACKENDS, never_migrated
from support.record import data

ORIGIN = "accord.test/center"
TABLES = {
    "alembic_version",
    "users",
    "cot_certificates",
    "confirmations",
    "record_meta",
    "record_leaves",
    "record_nodes",
    "record_heads",
    "record_witnesses",
    "record_authors",
    "verified_checkpoints",
    "picture_snapshots",
    "picture_aside",
    "declarations",
    "openings",
    "check_openings",
    "events",
    "idempotency",
    "messages",
    "message_recipients",
    "escalation_steps",
    "contacts",
    "presence",
    "declaration_changes",
    "device_uids",
    "acknowledgements",
    "operations",
    "tracks",
    "airspace_alert_groups",
    "airspace_acks",
    "airspace_alert_recipients",
    "probe_touches",
    "probe_states",
    "act_nonces",
    "drafts",
    "draft_changes",
    "key_entries",
    "key_offers",
    "restores",
    "judge_checkpoints",
    "judge_checkpoint_parts",
    "reports",
}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database never migrated: an SQLite file not yet created (in a folder not yet
    created), or an empty PostgreSQL database."""
    with never_migrated(request, request.param, tmp_path / "sub" / "fresh.sqlite") as url:
        yield url


def test_migrations_create_the_schema_on_a_fresh_database(empty_url: str) -> None:
    assert upgrade(empty_url) == head_revision()
    engine = make_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            meta = dict(connection.execute(text("SELECT key, value FROM record_meta")).all())
        assert meta == {"format": "accord-log", "schema_version": "1"}
    finally:
        engine.dispose()


def test_the_migrations_build_what_the_models_describe(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert current_revision(connection) == head_revision()
    engine.dispose()


def test_sqlite_connections_are_durable_and_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_db_upgrade_twice_is_idempotent(empty_url: str) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(cli, ["db", "upgrade", "--database", empty_url])
        assert result.exit_code == 0, result.output
        assert f"revision {head_revision()}" in result.output
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM record_meta")).scalar() == 2
    engine.dispose()


def test_db_upgrade_reads_the_environment_when_no_option(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"ACCORD_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.sqlite").exists()


def test_db_upgrade_with_a_bad_url_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--database", "nosuch://x"])
    assert result.exit_code == 2
    assert "cannot upgrade" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_the_log_over_sqlalchemy_matches_sqlite_and_rfc9162(engine) -> None:
    ours = MerkleLog(SQLAlchemyLogStorage(engine), ORIGIN)
    theirs = MerkleLog(SQLiteStorage(":memory:"), ORIGIN)
    leaves = [data(i) for i in range(40)]
    hashes = [merkle.leaf_hash(d) for d in leaves]
    for size in range(41):
        if size:
            assert ours.append(leaves[size - 1]) == theirs.append(leaves[size - 1]) == size - 1
        root = merkle.root_hash(hashes[:size])
        assert ours.root() == theirs.root() == root
        for i in range(size):
            proof = ours.inclusion_proof(i, size)
            assert (
                proof == theirs.inclusion_proof(i, size) == merkle.inclusion_proof(hashes[:size], i)
            )
            merkle.verify_inclusion(
                leaf_hash=hashes[i], index=i, tree_size=size, proof=proof, root=root
            )
        for old in range(size + 1):
            proof = ours.consistency_proof(old, size)
            assert proof == merkle.consistency_proof(hashes[:size], old)
            merkle.verify_consistency(
                old_size=old, new_size=size, old_root=ours.root(old), new_root=root, proof=proof
            )
    ours.check_integrity()
    # A fresh log over the same store reads the same tree back.
    again = MerkleLog(SQLAlchemyLogStorage(engine))
    assert again.origin == ORIGIN and again.size == 40 and again.root() == ours.root()
    assert [d for _, d in again.entries()] == leaves
    assert again.storage.node_count() == theirs.storage.node_count()


def test_heads_replace_their_note_only_at_the_same_root(engine) -> None:
    log = MerkleLog(SQLAlchemyLogStorage(engine), ORIGIN)
    log.append_many([b"a", b"b"])
    storage = log.storage
    storage.put_head(2, log.root(), 1, "first")
    storage.put_head(2, log.root(), 2, "second")
    storage.put_head(2, b"\0" * 32, 3, "forged")
    (head,) = storage.heads()
    assert (head.timestamp, head.note) == (2, "second")
    assert storage.latest_head() == head


def test_a_stale_writer_is_refused_and_writes_nothing(engine) -> None:
    first = MerkleLog(SQLAlchemyLogStorage(engine), ORIGIN)
    second = MerkleLog(SQLAlchemyLogStorage(engine))
    first.append(b"a")
    with pytest.raises(LogError, match="holds 1 entries"):
        second.append(b"b")
    assert MerkleLog(SQLAlchemyLogStorage(engine)).size == 1


def test_a_rollback_takes_the_row_and_the_entry_away_together(engine) -> None:
    with Session(writer(engine)) as session, session.begin():
        MerkleLog(SQLAlchemyLogStorage(session.connection), ORIGIN)  # the origin, committed

    def handler() -> None:
        with Session(writer(engine)) as session, session.begin():
            user = User(
                name="u", member="blue", role="officer", token_hash="0" * 64, created_at=NOW
            )
            session.add(user)
            session.flush()
            session.add(
                Confirmation(
                    condition="c", member="blue", user_id=user.id, confirmed_at=NOW, entry=0
                )
            )
            log = MerkleLog(SQLAlchemyLogStorage(session.connection))
            assert log.append(b"inside") == 0
            assert log.size == 1
            raise RuntimeError("the handler fails after writing")

    with pytest.raises(RuntimeError):
        handler()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
        assert session.scalar(select(func.count()).select_from(Confirmation)) == 0
        assert session.scalar(select(func.count()).select_from(RecordLeaf)) == 0
    assert MerkleLog(SQLAlchemyLogStorage(engine)).size == 0


def test_an_append_in_an_open_transaction_commits_with_it(engine) -> None:
    MerkleLog(SQLAlchemyLogStorage(engine), ORIGIN)
    with Session(writer(engine)) as session, session.begin():
        log = MerkleLog(SQLAlchemyLogStorage(session.connection))
        log.append_many([b"a", b"b", b"c"])
        # Not visible outside before the commit.
        assert MerkleLog(SQLAlchemyLogStorage(engine)).size == 0
    assert MerkleLog(SQLAlchemyLogStorage(engine)).size == 3
