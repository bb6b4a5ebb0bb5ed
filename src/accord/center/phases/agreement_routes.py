"""``GET /v1/agreement``: the agreement in force, as every member signed up to it — parties,
categories and their rules, buffers, airspace minima, designated areas, conditions and
phases. Nothing in it is private to one member; the page draws the designated areas from
it and offers the categories and executors it allows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.identity import Caller

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERRORS)


@router.get("/agreement", summary="The agreement in force")
def get_agreement(
    center: CenterDep, _caller: Annotated[Caller, Depends(allow(*ALL_ROLES))]
) -> dict[str, Any]:
    """The loaded agreement as JSON (the same fields as its YAML file; durations ISO 8601,
    designated areas' polygons as [lon, lat] pairs)."""
    data: dict[str, Any] = center.agreement.model_dump(mode="json")
    return data
