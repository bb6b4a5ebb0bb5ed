"""Reports' answers: the response models the routes serve and ``GET /v1/compliance`` lists
beside its findings, built from a :class:`~accord.center.reports.fold.ReportRecord` (a row's
or the record's replay). The services build records; only this module and the routes import
pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from accord.center.reports.fold import ReportRecord

__all__ = ["AnswerOut", "EvidenceOut", "ReportOut", "WhenOut", "report_out"]


class EvidenceOut(BaseModel):
    """A piece of evidence named by its SHA-256 (the evidence stays with its holder)."""

    sha256: str
    name: str | None


class WhenOut(BaseModel):
    """When it happened: an instant (``end`` null) or an interval."""

    start: datetime
    end: datetime | None


class AnswerOut(BaseModel):
    """The accused party's answer, as its ``report.answered`` entry holds it."""

    text: str
    cites: list[int]
    evidence: list[EvidenceOut]
    answered_at: datetime
    entry: int


class ReportOut(BaseModel):
    """An incident or violation report as its ``report.filed`` entry holds it (reports are
    public to every member of the agreement), and its answer (null until the accused party
    answers)."""

    id: str = Field(description="r- and 16 hex digits, given by the server")
    filer: str = Field(description="the member that filed it: a party or a monitor")
    accused: str = Field(description='the party it accuses, or "center": the center itself')
    what: str
    when: WhenOut
    where: dict[str, Any] | None = Field(description="a GeoJSON geometry, exactly as given")
    cites: list[int] = Field(description="record entries it cites, by index")
    evidence: list[EvidenceOut]
    filed_at: datetime
    entry: int = Field(description="its report.filed entry")
    open: bool = Field(description="not answered yet (always, against the center)")
    answer: AnswerOut | None


def report_out(report: ReportRecord) -> ReportOut:
    """The answer for ``report``."""
    return ReportOut.model_validate(report.as_json())
