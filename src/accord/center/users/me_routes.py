"""``GET /v1/me``: who the caller is and the agreement's phase now."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

from accord.agreement import phase_at
from accord.center.acts import REGISTRY
from accord.center.http.auth import ALL_ROLES, PROTECTED_PREFIX, allow, allowed_roles
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.identity import Caller
from accord.center.phases.service import confirmations
from accord.center.phases.views import PhaseOut
from accord.center.roles import Role

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERRORS)


class MeOut(BaseModel):
    """The caller, the member they act for, and the agreement's phase in force."""

    name: str
    member: str
    member_kind: str
    role: str
    agreement: str
    now: datetime
    phase: PhaseOut | None
    confirmations: dict[str, datetime]
    token_expires_at: datetime | None = None
    """When the caller's token stops working (``None``: until rotated or removed)."""
    origin: str
    """The record's origin: every act the caller signs names it."""
    signing: bool
    """Whether the caller's writes must carry their act, signed by the user's own key
    certified by the member's root (the agreement names the members' roots)."""
    keys: list[str]
    """The caller's keys that sign its acts now (key ids): none, and the caller reads but
    cannot act until its member's root certifies one."""
    may: list[str] = []
    """The routes the caller's role may call (``"POST /v1/operations"``, sorted), read from
    the routes' own role checks: what a client offers its user. A route may still refuse
    a call for what it asks (another member's object, a state that does not allow it)."""
    exercise: bool = False
    """Whether ``now`` is an exercise clock's (``accord serve --demo``, ``--clock-start``):
    the exercise's time, not the real time — pages say so beside it."""


def _roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles a route's dependencies admit (the first :func:`allow` found), or ``None``."""
    for sub in dependant.dependencies:
        found = allowed_roles(sub.call)
        if found is None:
            found = _roles(sub)
        if found is not None:
            return found
    return None


def _flat(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route of ``routes``, through included routers (FastAPI keeps an included
    router's routes in it: ``original_router``) and mounts."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
            continue
        nested = getattr(getattr(route, "original_router", route), "routes", None)
        if isinstance(nested, list):
            yield from _flat(nested)


def permitted(routes: Sequence[BaseRoute], role: Role) -> list[str]:
    """``"METHOD /path"`` of every route under ``/v1`` that ``role`` may call."""
    out: set[str] = set()
    for route in _flat(routes):
        if not route.path.startswith(PROTECTED_PREFIX + "/"):
            continue
        roles = _roles(route.dependant)
        if roles is not None and role in roles:
            out.update(
                f"{method} {route.path}" for method in route.methods or () if method != "HEAD"
            )
    return sorted(out)


_PERMITTED: dict[tuple[int, Role], list[str]] = {}


def _may(request: Request, role: Role) -> list[str]:
    key = (id(request.app), role)
    found = _PERMITTED.get(key)
    if found is None:
        found = _PERMITTED[key] = permitted(request.app.routes, role)
    return found


@router.get("/me", response_model=MeOut, summary="Who am I, and which phase is in force")
def me(
    center: CenterDep, request: Request, caller: Annotated[Caller, Depends(allow(*ALL_ROLES))]
) -> MeOut:
    """The caller's identity and the phase in force now, given the conditions confirmed so
    far (condition → earliest confirmation), when the caller's token expires, and the routes
    the caller's role may call (``may``)."""
    now = center.now()
    with center.reading() as session:
        confirmed = confirmations(session)
        registry = center.cache(REGISTRY).get(session)
        size = center.log(session).size
    keys = [
        k.key_id
        for k in registry.registered()
        if k.member == caller.member and k.user == caller.name and k.valid_at(size) and
        "act" in k.purposes
    ]  # fmt: skip
    return MeOut(
        name=caller.name,
        member=caller.member,
        member_kind=center.keys.members.get(caller.member, "unknown"),
        role=caller.role.value,
        agreement=center.agreement.id,
        now=now,
        phase=PhaseOut.of(phase_at(center.agreement, now, confirmed)),
        confirmations=confirmed,
        token_expires_at=caller.expires_at,
        origin=center.origin,
        signing=center.agreement.rooted,
        keys=keys,
        may=_may(request, caller.role),
        exercise=center.exercise_clock,
    )
