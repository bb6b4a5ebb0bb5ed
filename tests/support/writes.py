"""Watching the center's writes: how many record leaves it holds, a count of its writers'
commits, and an error a test's work raises on purpose."""

from __future__ import annotations

from sqlalchemy import event, func, select

from accord.center.db.engine import WRITE
from accord.center.db.models import RecordLeaf
from accord.center.runtime import Center


class Refused(Exception):
    """What a test's work raises to be refused."""


def leaves(center: Center) -> int:
    with center.reading() as session:
        return int(session.scalar(select(func.count()).select_from(RecordLeaf)) or 0)


def commits_of(center: Center) -> list[int]:
    """A list that grows by one at each commit of a writer (readers' transactions end with a
    commit too)."""
    commits: list[int] = []
    event.listen(
        center.engine,
        "commit",
        lambda c: commits.append(1) if c.get_execution_options().get(WRITE) else None,
    )
    return commits
