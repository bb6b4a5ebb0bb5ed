"""Redo (:mod:`accord.center.recovery`), against its oracle (:mod:`support.redo`): a
center's backup restored with the tail a monitor's copy of the record holds has the same
tables, row for row, as the center that went on writing (but for what no entry holds), on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.desk import Desk
from support.history import history
from support.redo import check_redo

BACKENDS = ("sqlite", "postgresql")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("done", "backup_at"),
    [(["declare", "declare_hidden", "amend", "withdraw", "amend"], 0)],
)
def test_a_known_history_is_rebuilt(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, done: list[str], backup_at: int
) -> None:
    def scenario(desk: Desk, backup: object) -> None:
        for i in history(desk, done):
            if i == backup_at:
                backup()  # type: ignore[operator]

    restored = check_redo(request, tmp_path, backend, scenario)
    assert restored.recovered > 0 and restored.notes == ()
