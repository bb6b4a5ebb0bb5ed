"""Redo (:mod:`accord.center.recovery`), against its oracle: a center's backup restored with
the tail a monitor's copy of the record holds has the same tables, row for row, as the
center that went on writing (but for what no entry holds: :data:`support.redo.NOT_RECORDED`),
on random histories, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from accord.agreement import Agreement, load_agreement
from support.desk import Desk, start
from support.history import history
from support.postgres import Postgres, never_migrated
from support.redo import assert_same_tables, monitor_copy, restore_with, take_backup

LEGACY_USERS: Mapping[str, frozenset[str]] = {
    # a legacy agreement's entry names the member, never the user (no act): redo writes NULL
    "acknowledgements": frozenset({"user_id"}),
    "messages": frozenset({"sent_by"}),
    "message_recipients": frozenset({"acknowledged_by"}),
    "reports": frozenset({"filed_by", "answered_by"}),
    "drafts": frozenset({"saved_by"}),
    "airspace_acks": frozenset({"user_id"}),
}

_desk = contextlib.contextmanager(start)


@contextlib.contextmanager
def _databases(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> Iterator[tuple[str, str]]:
    """A fresh migrated database for the center and an empty one to restore into."""
    with never_migrated(request, backend, tmp_path / "restored" / "accord.sqlite") as empty:
        if backend == "sqlite":
            yield f"sqlite:///{tmp_path / 'accord.sqlite'}", empty
            return
        server: Postgres = request.getfixturevalue("postgres")
        with server.database() as url:
            yield url, empty


def _agreement(desk: Desk) -> Agreement:
    assert desk.settings.agreement_path is not None
    return load_agreement(desk.settings.agreement_path)


def redo_after(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, done: list[str], backup_at: int
) -> None:
    """Run ``done`` on a desk, back it up after action ``backup_at`` (-1: before the
    first), restore that backup with a monitor's copy of the whole record, and compare."""
    with (
        _databases(request, tmp_path, backend) as (database_url, restored_url),
        _desk(tmp_path / "center", database_url) as desk,
    ):
        agreement = _agreement(desk)
        url = desk.settings.database_url
        copy = tmp_path / "backup"
        if backup_at < 0:
            take_backup(url, copy, agreement=agreement)
        for i in history(desk, done):
            if i == backup_at:
                take_backup(url, copy, agreement=agreement)
        assert desk.get("/v1/record/head", "blue-officer").status_code == 200
        monitor = monitor_copy(url, tmp_path / "monitor", agreement=agreement)
        keys = desk.settings.keys_dir
        restored = restore_with(
            copy, restored_url, agreement=agreement, keys=keys, monitors=[monitor]
        )
        assert restored.notes == ()
        assert_same_tables(url, restored_url, agreement=agreement, ignore=LEGACY_USERS)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize(
    ("done", "backup_at"),
    [
        (["declare", "declare_hidden", "amend", "withdraw", "amend"], 0),
    ],
)
def test_a_known_history_is_rebuilt(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, done: list[str], backup_at: int
) -> None:
    redo_after(request, tmp_path, backend, done, backup_at)
