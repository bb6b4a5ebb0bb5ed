"""The operations table: one row per operation, its life cycle state and its conflicts.

A row keeps everything needed to answer for an operation without replaying anything:

* ``feature`` — the operation as a GeoJSON Feature in the form
  :func:`accord.world.parse_world` reads (``properties.id`` is the row's ``id``,
  ``declared_by`` and ``proposed_by`` the proposing party), so that the deconfliction engine
  reads pending operations exactly as it reads declarations;
* ``state`` — the :class:`accord.rules.operations.OperationState` the rules returned at the
  last step, as JSON (:mod:`accord.center.operations.state`); the status the rules decided,
  with its whole history, approvals, objections, overrides and breaches;
* ``conflicts`` — every conflict the engine found at the last proposal or amendment, *not*
  redacted (the center sees everything; each reader gets them cut with
  :meth:`accord.deconfliction.Conflict.visible_to`);
* ``status`` — the state's status as stored, for filtering (a read settles it to the
  current instant, see :func:`accord.rules.operations.settle`);
* ``rev`` — a counter over all operations raised by every change, like
  ``declarations.rev``: the deconfliction cache catches up by reading ``rev > R``;
* ``conflicts_seen`` — the declarations' counter (``max(declarations.rev)``) of the world in
  which the stored blocking conflicts were last found to stand (NULL: unknown). While it is
  still the counter, and operations never block one another, a re-check has nothing to
  find (:func:`accord.center.operations.service.recheck`), whichever server process asks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime
from accord.rules.operations import OperationStatus

__all__ = ["OPERATION_STATUSES", "OperationRow"]

OPERATION_STATUSES = ", ".join(f"'{status.value}'" for status in OperationStatus)
"""The SQL list of statuses the ``status`` column accepts."""


class OperationRow(Base):
    """One operation: its feature, its state under the rules, its conflicts (see the module
    docstring). ``entry`` is the record entry of the latest change."""

    __tablename__ = "operations"
    __table_args__ = (
        CheckConstraint(f"status IN ({OPERATION_STATUSES})", name="ck_operations_status"),
        UniqueConstraint("rev", name="uq_operations_rev"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    proposed_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer)
    rev: Mapped[int] = mapped_column(BigInteger)
    feature: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    conflicts: Mapped[str] = mapped_column(Text)
    blocking: Mapped[int] = mapped_column(Integer)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger)
    conflicts_seen: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
