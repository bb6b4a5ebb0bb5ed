"""``POST /v1/phases/confirm``: a member confirms a condition of the agreement."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.agreement import phase_at
from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.phases.service import confirm, confirmations
from accord.center.phases.views import PhaseOut
from accord.center.runtime import Unit

router = APIRouter(prefix="/v1/phases", tags=["phases"], responses=ERRORS)


class ConfirmIn(BaseModel):
    """The condition to confirm (an id from the agreement's ``conditions``)."""

    model_config = ConfigDict(extra="forbid")

    condition: str = Field(min_length=1, max_length=64)


class ConfirmedOut(BaseModel):
    """The confirmation as recorded, and the phase in force after it."""

    condition: str
    member: str
    user: str
    confirmed_at: datetime
    entry: int
    phase: PhaseOut | None


@router.post(
    "/confirm",
    response_model=ConfirmedOut,
    status_code=201,
    summary="Confirm a condition of the agreement",
    responses=CONFLICT,
)
async def confirm_condition(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(allow(*ALL_ROLES))],
    body: Annotated[ConfirmIn, Body()],
) -> JSONResponse:
    """Confirm a condition for the caller's member, which the condition's ``confirmed_by``
    must list (administrators confirm nothing). The row and its signed record entry are
    committed in one transaction."""
    act = partial(_confirm, caller=caller, condition=body.condition, at=center.now())
    return await write(center, request, caller, act, body=body)


def _confirm(unit: Unit, *, caller: Caller, condition: str, at: datetime) -> ConfirmedOut:
    """The writer's work (a module function: a writer process receives it pickled)."""
    agreement = unit.center.agreement
    done = confirm(unit, caller, condition, at)
    phase = phase_at(agreement, at, confirmations(unit.session))
    return ConfirmedOut(
        condition=done.condition,
        member=done.member,
        user=done.user,
        confirmed_at=done.confirmed_at,
        entry=done.entry,
        phase=PhaseOut.of(phase),
    )
