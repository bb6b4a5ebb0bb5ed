"""Operations as a reader may see them: one operation, a page of them, and the view of a
stored row for one reader.

A view settles the stored state to the instant of reading (time moves pending operations
on: :func:`accord.rules.operations.settle`) and cuts the conflicts for the reader with
:meth:`accord.deconfliction.Conflict.visible_to`: a conflict with another party's ``center``
object shows its kind, owning party, distance and whether it blocks, never which object it
is, its threshold or where it is. The row keeps the conflicts unredacted (the center sees
everything). Operations are notified to every party, so every reader sees every operation;
an id nobody holds raises :class:`~accord.errors.NotFound`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement, ObjectKind, RuleKind
from accord.center.db.fast import PreparedQuery
from accord.center.db.models_operations import OperationRow
from accord.center.operations.desk import Desk
from accord.center.operations.state import decode_state
from accord.deconfliction import Conflict
from accord.errors import NotFound
from accord.rules import operations as rules
from accord.rules.operations import PENDING, OperationState, OperationStatus
from accord.world import Disclosure

__all__ = [
    "OperationView",
    "conflicts_of",
    "existing_row",
    "get",
    "listing",
    "load_row",
    "view_of",
]

_operations = cast(Table, OperationRow.__table__)
_READ = PreparedQuery(select(_operations).where(_operations.c.id == bindparam("b_id")))


def conflicts_of(text: str, operation: str) -> tuple[Conflict, ...]:
    """The conflicts of ``operation`` as its row stores them (JSON ``text``), unredacted."""
    return tuple(
        Conflict(
            operation,
            ObjectKind(c["kind"]),
            c["with"],
            c["party"],
            None if c["distance_m"] is None else float(c["distance_m"]),
            c["threshold_m"],
            bool(c["blocking"]),
            Disclosure(c["disclosure"]),
            bool(c["stale"]),
            bool(c.get("margin", False)),
        )
        for c in json.loads(text)
    )


@dataclass(frozen=True, slots=True)
class OperationView:
    """An operation as one reader may see it: its feature, its state settled to the instant
    of reading, its conflicts cut for the reader, and its latest record entry."""

    feature: dict[str, Any]
    state: OperationState
    conflicts: tuple[Conflict, ...]
    version: int
    updated_at: datetime
    entry: int
    waiting_for: tuple[str, ...] = ()
    objection_until: datetime | None = None
    notify_by: datetime | None = None


def view_of(
    row: OperationRow,
    viewer: str,
    at: datetime,
    agreement: Agreement,
    *,
    stored: tuple[OperationState, Sequence[Conflict]] | None = None,
) -> OperationView:
    """The row as ``viewer`` may see it at ``at`` (``stored``: the row's state and
    conflicts, when the caller has them at hand rather than to decode)."""
    if stored is None:
        stored = (decode_state(row.state), conflicts_of(row.conflicts, row.id))
    before, found = stored
    state = rules.settle(agreement, before, at=at)
    conflicts = tuple(c.visible_to(viewer) for c in found)
    waiting: tuple[str, ...] = ()
    if state.rule is RuleKind.COORDINATED and state.status is OperationStatus.PROPOSED:
        waiting = tuple(sorted(agreement.party_ids - state.approvals))
    synchronized = state.rule is RuleKind.SYNCHRONIZED
    return OperationView(
        feature=json.loads(row.feature),
        state=state,
        conflicts=conflicts,
        version=row.version,
        updated_at=row.updated_at,
        entry=row.entry,
        waiting_for=waiting,
        objection_until=rules.objection_deadline(agreement, state) if synchronized else None,
        notify_by=rules.notification_deadline(agreement, state),
    )


def load_row(session: Session, op_id: str) -> OperationRow | None:
    """The stored row, read with one prebuilt statement, detached: changes to it are stored
    by the service's own statement (:mod:`accord.center.operations.service`), never by a
    flush."""
    found = _READ.rows(session.connection(), {"b_id": op_id})
    return OperationRow(**dict(zip(_READ.keys, found[0], strict=True))) if found else None


def existing_row(session: Session, op_id: str) -> OperationRow:
    """:func:`load_row`, raising :class:`~accord.errors.NotFound` when there is none."""
    row = load_row(session, op_id)
    if row is None:
        raise NotFound("no such operation")
    return row


def get(session: Session, desk_: Desk, viewer: str, op_id: str, at: datetime) -> OperationView:
    """One operation as ``viewer`` may see it at ``at``; raises
    :class:`~accord.errors.NotFound` when there is none."""
    return view_of(existing_row(session, op_id), viewer, at, desk_.agreement)


def _candidates(status: OperationStatus) -> set[str]:
    """Stored statuses that settle to ``status`` (time moves pending operations on)."""
    found = {status.value}
    if status is OperationStatus.EXPIRED:
        found |= {s.value for s in PENDING}
    if status is OperationStatus.CLEARED:
        found.add(OperationStatus.NOTIFIED.value)
    return found


def listing(
    session: Session,
    desk_: Desk,
    viewer: str,
    at: datetime,
    *,
    status: OperationStatus | None = None,
    category: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[OperationView], bool]:
    """Operations newest first, as ``viewer`` may see them at ``at``, filtered by their
    status *settled to* ``at`` and by category; the page, and whether more follow."""
    query = select(OperationRow).order_by(OperationRow.proposed_at.desc(), OperationRow.id.desc())
    if status is not None:
        query = query.where(OperationRow.status.in_(_candidates(status)))
    if category is not None:
        query = query.where(OperationRow.category == category)
    page: list[OperationView] = []
    skipped = 0
    for row in session.scalars(query.execution_options(yield_per=200)):
        view = view_of(row, viewer, at, desk_.agreement)
        if status is not None and view.state.status is not status:
            continue
        if skipped < offset:
            skipped += 1
            continue
        if len(page) == limit:
            return page, True
        page.append(view)
    return page, False
