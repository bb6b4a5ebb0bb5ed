"""Reading reports: the list and one report, as their reader may see them
(:func:`accord.center.visibility.sees_report`, in its SQL form for the list). Each row holds
its entries' events exactly as recorded, read with the same functions as the picture's fold
(:func:`accord.center.reports.fold.report_of`)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.db.models_reports import Report
from accord.center.reports import fold
from accord.center.reports.fold import ReportRecord
from accord.errors import NotAuthorized, NotFound

__all__ = ["list_reports", "record_of", "report_of"]


def record_of(row: Report) -> ReportRecord:
    """The report a row holds, with its answer when there is one."""
    report = fold.report_of(
        json.loads(row.content), filer=row.filer, at=row.filed_at, entry=row.entry
    )
    if row.answer is not None:
        assert row.answered_at is not None and row.answer_entry is not None
        report.answer = fold.answer_of(
            json.loads(row.answer), at=row.answered_at, entry=row.answer_entry
        )
    return report


def _readable(reader: visibility.Reader) -> None:
    if not visibility.sees_report(reader):
        raise NotAuthorized(f"a {reader.role.value} does not read reports")


def list_reports(
    session: Session,
    reader: visibility.Reader,
    *,
    open_only: bool = False,
    accused: str | None = None,
    limit: int = 50,
) -> list[ReportRecord]:
    """The reports ``reader`` may see, newest first: ``open_only``, those not answered yet;
    ``accused``, those against that party; at most ``limit``."""
    _readable(reader)
    query = select(Report).where(visibility.reports_where(reader))
    if open_only:
        query = query.where(Report.answered_at.is_(None))
    if accused is not None:
        query = query.where(Report.accused == accused)
    rows = session.scalars(query.order_by(Report.entry.desc()).limit(limit)).all()
    return [record_of(row) for row in rows]


def report_of(session: Session, reader: visibility.Reader, report_id: str) -> ReportRecord:
    """The report ``report_id`` for ``reader``; :class:`~accord.errors.NotFound` when there
    is none."""
    _readable(reader)
    row = session.scalars(
        select(Report).where(Report.id == report_id, visibility.reports_where(reader))
    ).first()
    if row is None:
        raise NotFound("no such report")
    return record_of(row)
