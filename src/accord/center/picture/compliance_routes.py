"""``GET /v1/compliance`` and ``GET /v1/compliance/{party}``: every party's compliance
report, computed from the record (:mod:`accord.center.picture.compliance`), and the reports
filed and answered beside it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from accord.center import visibility
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS, CenterDep, problem
from accord.center.identity import Caller
from accord.center.picture.compliance import compliance_json, party_json
from accord.center.picture.views import ComplianceOut, PartyReport

router = APIRouter(prefix="/v1/compliance", tags=["compliance"], responses=ERRORS)

Reader = Annotated[Caller, Depends(allow(*visibility.COMPLIANCE_READERS))]

_RECORD = problem(503, "The record does not verify")
_ONE = problem(404, "The agreement names no such party") | _RECORD


@router.get(
    "", response_model=ComplianceOut, summary="Every party's compliance report", responses=_RECORD
)
def get_compliance(center: CenterDep, caller: Reader) -> Response:
    """Late or missing notices, executions without approval, designated-area violations
    and overdue acknowledgements of every party, judged now from the signed record; each
    finding names the entries that prove it. A ``center`` flight plan's violation is shown
    in full to its owner only, to everyone else as a count. Beside them, ``reports``: the
    incident and violation reports filed and each one's answer, as the record holds them.
    Officers, approvers and monitors; notifiers and administrators get 403."""
    # Written once per judgement and reused until an entry is folded or a deadline passes.
    return Response(compliance_json(center, caller), media_type="application/json")


@router.get(
    "/{party}",
    response_model=PartyReport,
    summary="One party's compliance report",
    responses=_ONE,
)
def get_party_compliance(
    center: CenterDep,
    caller: Reader,
    party: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    """One party's report, as in ``GET /v1/compliance`` (404 for a party the agreement
    does not name)."""
    return Response(party_json(center, caller, party), media_type="application/json")
