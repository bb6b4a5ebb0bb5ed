"""``/v1/reports``: incident and violation reports and their answers (see
:mod:`accord.center.reports.service`).

Officers, approvers and monitors file reports, against a party or the center itself; the
accused party's officers and approvers answer them (nobody answers one against the center:
403, see :mod:`accord.center.reports.service`); every member's users read them (parties,
notifiers, monitors: :func:`accord.center.visibility.sees_report`); administrators are
refused (403).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center import visibility
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep, problem
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.reports import queries
from accord.center.reports.service import (
    CITES_MAX,
    EVIDENCE_MAX,
    FILERS,
    NAME_MAX,
    TEXT_MAX,
    WHERE_MAX_BYTES,
    answer_report,
    file_report,
)
from accord.center.reports.views import ReportOut, report_out
from accord.center.roles import Role
from accord.center.runtime import Unit

router = APIRouter(prefix="/v1", tags=["reports"], responses=ERRORS)

MAX_PAGE = 200
"""The most reports one page of ``GET /v1/reports`` returns."""

Filer = Annotated[Caller, Depends(allow(*FILERS))]
Party = Annotated[Caller, Depends(allow(Role.OFFICER, Role.APPROVER))]
Reader = Annotated[Caller, Depends(allow(*visibility.REPORT_READERS))]
ReportId = Annotated[str, Path(pattern=r"^r-[0-9a-f]{16}$", description="r- and 16 hex digits")]

_NOT_FOUND = problem(404, "No such report")

# The bodies' parts are checked by the service, which names each bad field exactly
# (``where.coordinates[3]``, ``evidence[1].sha256``); the schemas below document them.
_EVIDENCE_ITEM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "name": {"type": ["string", "null"], "maxLength": NAME_MAX},
    },
    "required": ["sha256"],
    "additionalProperties": False,
}


def _cites() -> Any:
    return Field(
        default_factory=list,
        description=f"record entries cited, by index (each in the record, distinct; at most "
        f"{CITES_MAX})",
        json_schema_extra={"items": {"type": "integer", "minimum": 0}, "maxItems": CITES_MAX},
    )


def _evidence() -> Any:
    return Field(
        default_factory=list,
        description=f"the SHA-256 of each piece of evidence, and a name for it (at most "
        f"{EVIDENCE_MAX})",
        json_schema_extra={"items": dict(_EVIDENCE_ITEM), "maxItems": EVIDENCE_MAX},
    )


class ReportIn(BaseModel):
    """An incident or violation report against a party, or against the center itself."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "accused": "red",
                    "what": "Artillery fire on the northern crossing at dawn.",
                    "when": {"start": "2026-09-21T05:10:00Z", "end": "2026-09-21T05:40:00Z"},
                    "where": {"type": "Point", "coordinates": [21.62, 25.31]},
                    "cites": [12],
                    "evidence": [{"sha256": "ab" * 32, "name": "crater-photo-1.jpg"}],
                }
            ]
        },
    )

    accused: str = Field(
        description='the party accused (a party never accuses itself), or "center": the '
        "center itself (a reserved id; such a report is answered by nobody through the API)"
    )
    what: str = Field(
        description=f"what happened: 1 to {TEXT_MAX} characters, no control characters but "
        "tabs and line breaks"
    )
    when: dict[str, Any] = Field(
        description="{start, end}: ISO 8601 instants with their offset, start ≤ end, neither "
        "later than the center's clock; end null for an instant",
        json_schema_extra={
            "properties": {
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": ["string", "null"], "format": "date-time"},
            },
            "required": ["start"],
            "additionalProperties": False,
        },
    )
    where: dict[str, Any] | None = Field(
        default=None,
        description="a GeoJSON geometry (Point, MultiPoint, LineString, Polygon) kept "
        f"exactly as given: at most 2,000 positions and {WHERE_MAX_BYTES} bytes of JSON",
    )
    cites: list[Any] = _cites()
    evidence: list[Any] = _evidence()


class AnswerIn(BaseModel):
    """The accused party's answer to a report."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description=f"1 to {TEXT_MAX} characters, as ``what``")
    cites: list[Any] = _cites()
    evidence: list[Any] = _evidence()


# --- the works the writer runs (module functions: a writer process receives them pickled) --


def _file(unit: Unit, *, caller: Caller, body: dict[str, Any], at: datetime) -> ReportOut:
    return report_out(file_report(unit, caller, body, at))


def _answer(
    unit: Unit, *, caller: Caller, report_id: str, body: dict[str, Any], at: datetime
) -> ReportOut:
    return report_out(answer_report(unit, caller, report_id, body, at))


@router.post(
    "/reports",
    response_model=ReportOut,
    status_code=201,
    summary="File an incident or violation report against a party or the center",
)
async def post_report(
    center: CenterDep,
    request: Request,
    caller: Filer,
    body: Annotated[ReportIn, Body()],
) -> JSONResponse:
    """File a report for the caller's member: a party's officer or approver against
    another party, a monitor against any party, either against the center itself
    (``accused``: ``center``). The record entry ``report.filed``, signed
    by the filer, holds it in clear; every member is told. Notifiers and administrators:
    403."""
    act = partial(_file, caller=caller, body=body.model_dump(), at=center.now())
    return await write(center, request, caller, act, body=body)


@router.get("/reports", response_model=list[ReportOut], summary="List reports")
def get_reports(
    center: CenterDep,
    caller: Reader,
    open_only: Annotated[bool, Query(alias="open", description="only those not answered")] = False,
    accused: Annotated[
        str | None, Query(min_length=1, max_length=64, description="only those against it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[ReportOut]:
    """Every report and its answer, newest first, for every member's users (reports are
    public to the whole agreement)."""
    with center.reading() as session:
        found = queries.list_reports(
            session, caller, open_only=open_only, accused=accused, limit=limit
        )
    return [report_out(r) for r in found]


@router.get(
    "/reports/{report_id}", response_model=ReportOut, summary="One report", responses=_NOT_FOUND
)
def get_report(center: CenterDep, caller: Reader, report_id: ReportId) -> ReportOut:
    """A report and its answer (null until the accused party answers)."""
    with center.reading() as session:
        return report_out(queries.report_of(session, caller, report_id))


@router.post(
    "/reports/{report_id}/answer",
    response_model=ReportOut,
    status_code=201,
    summary="Answer a report against the caller's party",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def post_answer(
    center: CenterDep,
    request: Request,
    caller: Party,
    report_id: ReportId,
    body: Annotated[AnswerIn, Body()],
) -> JSONResponse:
    """The accused party's answer (its officer or approver), once per report: the record
    entry ``report.answered``, signed by the accused; every member is told. Anyone else:
    403; a second answer: 409. A report against the center: 403 for everyone (the center's
    answer is its signed heads and the record; whoever operates it answers outside)."""
    act = partial(
        _answer, caller=caller, report_id=report_id, body=body.model_dump(), at=center.now()
    )
    return await write(center, request, caller, act, body=body)
