"""``/v1/probing``: who is probing the caller's party's hidden objects, and lifting the
slowing of a prober (:mod:`accord.center.disclosure.probing`)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from accord.center.disclosure.probing import lift, standing
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit

router = APIRouter(prefix="/v1/probing", tags=["probing"], responses=ERRORS)

PartyOfficer = Annotated[Caller, Depends(allow(Role.OFFICER, Role.APPROVER))]
Prober = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class ProberOut(BaseModel):
    """A party whose proposals touched the caller's party's hidden objects in the window."""

    prober: str
    areas: int
    limit: int
    window: str
    alerted_at: datetime | None
    lifted_at: datetime | None
    slowed_until: datetime | None


class ProbingOut(BaseModel):
    """Who probes the caller's party (empty when the agreement sets no probe limit)."""

    items: list[ProberOut]


class LiftedOut(BaseModel):
    """The lift as recorded."""

    kind: str
    prober: str
    owner: str
    at: str
    entry: int


@router.get("", response_model=ProbingOut, summary="Who is probing my party's hidden objects")
def probing(center: CenterDep, caller: PartyOfficer) -> ProbingOut:
    """Each party whose proposals and amendments touched the caller's party's hidden objects
    within the agreement's window: in how many distinct areas, when the caller's party was
    told, and until when that party's proposals touching them are slowed."""
    with center.reading() as session:
        found = standing(session, center.agreement, caller.member, center.now())
    return ProbingOut(items=[ProberOut(**item) for item in found])


@router.post(
    "/{prober}/lift",
    response_model=LiftedOut,
    status_code=201,
    summary="Lift the slowing of a party probing my party's hidden objects",
)
async def lift_probing(
    center: CenterDep, request: Request, caller: PartyOfficer, prober: Prober
) -> JSONResponse:
    """The caller's party lifts the slowing of ``prober``: its touches so far no longer
    count. An entry signed by the caller's party; the prober is told."""
    act = partial(_lift, caller=caller, prober=prober, at=center.now())
    return await write(center, request, caller, act)


def _lift(unit: Unit, *, caller: Caller, prober: str, at: datetime) -> LiftedOut:
    """The writer's work (a module function: a writer process receives it pickled)."""
    return LiftedOut(**lift(unit, caller, prober, at))
