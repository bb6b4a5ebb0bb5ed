"""Redo of the reports' entries (:mod:`accord.center.recovery.redo`): the ``reports`` row
:mod:`accord.center.reports.service` wrote when a report was filed (``report.filed``) and
answered (``report.answered``). A report and its answer are in clear in their entries, and
the row keeps each event's canonical JSON as the entry holds it.

Who filed or answered (``filed_by``, ``answered_by``) is the user the member's act names;
an agreement without roots has no act, and those stay empty.
"""

from __future__ import annotations

from collections.abc import Mapping

from accord.agreement import CENTER
from accord.center.db.models_reports import Report
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.center.reports.service import ANSWERED_EVENT, FILED_EVENT
from accord.record.canonical import canonical_json

__all__ = ["REDO"]


def _filed(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.reports.service.file_report` wrote it."""
    event, session = entry.event, context.session
    report_id = str(event["id"])
    if session.get(Report, report_id) is not None:
        raise ValueError(f"report {report_id} was filed already")
    session.add(
        Report(
            id=report_id, filer=entry.author, accused=str(event["accused"]),
            filed_by=context.user_id(entry.user), filed_at=entry.at, entry=entry.index,
            content=canonical_json(dict(event)).decode("utf-8"),
        )
    )  # fmt: skip


def _answered(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.reports.service.answer_report` wrote it."""
    event = entry.event
    row = context.session.get(Report, str(event["report"]))
    if row is None:
        raise KeyError(f"report {event['report']} is in no earlier entry")
    if row.accused == CENTER or row.accused != entry.author:
        raise ValueError(f"{entry.author} answers {row.id}, which accuses {row.accused}")
    if row.answered_at is not None:
        raise ValueError(f"{row.id} was answered already")
    row.answered_at = entry.at
    row.answered_by = context.user_id(entry.user)
    row.answer_entry = entry.index
    row.answer = canonical_json(dict(event)).decode("utf-8")


REDO: Mapping[str, Redo] = {
    FILED_EVENT: _filed,
    ANSWERED_EVENT: _answered,
}
