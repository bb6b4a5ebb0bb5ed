"""The operations desk: one deconfliction cache per service, made and closed with the
center, warmed at start-up.

A :class:`Desk` answers each proposal and amendment without rebuilding the world's index
(:class:`~accord.center.operations.world_cache.WorldCache`); the check runs before the unit
writes anything, so it reads the committed world. :meth:`Desk.unchanged` lets a re-check
(:func:`accord.center.operations.service.recheck`) answer from one read when nothing it
depends on has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, select

from accord.agreement import Agreement, ObjectKind
from accord.center.db.fast import PreparedQuery
from accord.center.db.models import Declaration
from accord.center.db.models_operations import OperationRow
from accord.center.operations.world_cache import WorldCache
from accord.center.runtime import Center, CenterCache
from accord.deconfliction import warm_up
from accord.errors import WorldUnavailable

__all__ = ["DESK", "Desk", "desk", "prepare"]

_operations = cast(Table, OperationRow.__table__)
_STORED = PreparedQuery(
    select(
        _operations.c.conflicts_seen,
        select(func.max(Declaration.rev)).scalar_subquery(),
    ).where(_operations.c.id == bindparam("b_id"))
)
"""The declarations' counter an operation's stored conflicts were found at, and now."""


@dataclass(frozen=True, slots=True)
class Desk:
    """The service's operations desk: the agreement and the world cache."""

    agreement: Agreement
    world: WorldCache

    def unchanged(self, connection: Connection, op_id: str) -> bool:
        """Whether the operation's stored blocking conflicts are certainly still its blocking
        conflicts (one read): no declaration changed since they were last found to stand
        (``operations.conflicts_seen``), and operations never block one another. ``False``
        means: check again."""
        if ObjectKind.OPERATION in self.agreement.deconfliction.blocking:
            return False
        rows = _STORED.rows(connection, {"b_id": op_id})
        return bool(rows) and rows[0][0] is not None and rows[0][0] == (rows[0][1] or 0)


def _close_desk(found: Desk) -> None:
    found.world.close()  # lets a background rebuild finish


DESK: CenterCache[Desk] = CenterCache(
    "the deconfliction desk",
    lambda center: Desk(center.agreement, WorldCache(center.agreement)),
    close=_close_desk,
)
"""The key of each center's desk (made and closed with the center: see
:mod:`accord.center.bootstrap`)."""


def desk(center: Center) -> Desk:
    """The desk of ``center`` (one per service)."""
    return center.cache(DESK)


def prepare(center: Center) -> None:
    """At start-up (:mod:`accord.center.bootstrap`): compile the engine's kernels and load
    the world in force."""
    warm_up(center.agreement)
    try:
        with center.reading() as session:
            desk(center).world.prepare(session)
    except WorldUnavailable:  # logged by the cache; each check is refused until it reads
        pass
