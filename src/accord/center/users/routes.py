"""``/v1/users``: an administrator lists, adds, rotates and removes the users of their own
member (see :mod:`accord.center.users.service`: each change is an entry signed by the center).

A new token is in the answer to ``POST /v1/users`` and ``POST /v1/users/{name}/rotate``,
once, with ``Cache-Control: no-store``. These two refuse an ``Idempotency-Key`` (422): a
replayed answer would have to keep the token, which the service never stores.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep, problem
from accord.center.http.problems import FieldProblem, ProblemError
from accord.center.http.writes import HEADER
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.center.users.service import (
    Changed,
    UserView,
    expiry,
    issue,
    list_users,
    remove,
    rotate,
)

router = APIRouter(prefix="/v1/users", tags=["users"], responses=ERRORS)

_NO_STORE = {"Cache-Control": "no-store"}
_NOT_FOUND = problem(404, "No user of the caller's member has this name")
UserName = Annotated[str, Path(min_length=1, max_length=64)]


class UserOut(BaseModel):
    """A user as an administrator sees them: never a token or its hash."""

    name: str
    member: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    state: str

    @classmethod
    def of(cls, user: UserView) -> UserOut:
        """The model of ``user``."""
        return cls(
            name=user.name,
            member=user.member,
            role=user.role,
            created_at=user.created_at,
            expires_at=user.expires_at,
            removed_at=user.removed_at,
            state=user.state,
        )


class UsersOut(BaseModel):
    """The users of the caller's member, by name."""

    items: list[UserOut]


class ChangedOut(BaseModel):
    """A change as recorded: the user after it and the center's record entry; ``token``:
    the new token (shown only now) after an add or a rotation."""

    user: UserOut
    entry: int
    token: str | None = None

    @classmethod
    def of(cls, done: Changed) -> ChangedOut:
        """The model of ``done``."""
        return cls(user=UserOut.of(done.user), entry=done.entry, token=done.token)


class UserIn(BaseModel):
    """A user to add to the caller's member."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    member: str = Field(min_length=1, max_length=64)
    role: Role
    expires: str | None = Field(
        default=None, max_length=64, description="ISO 8601 duration, e.g. PT12H or P7D."
    )


class RotateIn(BaseModel):
    """How long the new token lives (none: until rotated or removed)."""

    model_config = ConfigDict(extra="forbid")

    expires: str | None = Field(
        default=None, max_length=64, description="ISO 8601 duration, e.g. PT12H or P7D."
    )


def _by(caller: Caller) -> dict[str, str]:
    return {"user": caller.name, "member": caller.member}


def _no_idempotency(request: Request) -> None:
    if HEADER in request.headers:
        message = "not accepted here: the answer holds a token, which is never stored"
        raise ProblemError(
            422,
            f"{HEADER}: {message}",
            kind="validation",
            errors=[FieldProblem(field=HEADER, location="header", message=message)],
        )


Admin = Annotated[Caller, Depends(allow(Role.ADMIN))]


@router.get("", response_model=UsersOut, summary="List the users of the caller's member")
def users(center: CenterDep, caller: Admin) -> UsersOut:
    """The users of the administrator's own member: name, member, role, created, expires,
    state (``active``, ``expired``, ``removed``)."""
    now = center.now()
    with center.reading() as session:
        found = list_users(session, at=now, member=caller.member)
    return UsersOut(items=[UserOut.of(user) for user in found])


async def _change(center: CenterDep, work: partial[ChangedOut], status: int) -> JSONResponse:
    done: ChangedOut = await center.write(work)
    center.forget_tokens()
    return JSONResponse(done.model_dump(mode="json"), status_code=status, headers=_NO_STORE)


@router.post(
    "",
    response_model=ChangedOut,
    status_code=201,
    summary="Add a user to the caller's member (the token is shown once)",
    responses=CONFLICT,
)
async def add(
    center: CenterDep, request: Request, caller: Admin, body: Annotated[UserIn, Body()]
) -> JSONResponse:
    """Add a user acting for the administrator's own member (403 for another member);
    the answer holds their token, the only time it is shown."""
    _no_idempotency(request)
    at = center.now()
    until = expiry(body.expires, at)
    work = partial(
        _add,
        name=body.name,
        member=body.member,
        role=body.role,
        at=at,
        expires_at=until,
        caller=caller,
    )
    return await _change(center, work, 201)


@router.post(
    "/{name}/rotate",
    response_model=ChangedOut,
    summary="Give a user a new token (shown once); the old one stops working",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def rotate_token(
    center: CenterDep,
    request: Request,
    caller: Admin,
    name: UserName,
    body: Annotated[RotateIn | None, Body()] = None,
) -> JSONResponse:
    """A new token for a user of the administrator's member; every server process refuses
    the old one within a second."""
    _no_idempotency(request)
    at = center.now()
    until = expiry(None if body is None else body.expires, at)
    work = partial(_rotate, name=name, at=at, expires_at=until, caller=caller)
    return await _change(center, work, 200)


@router.delete(
    "/{name}",
    response_model=ChangedOut,
    summary="Remove a user; their token stops working",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def remove_user(center: CenterDep, caller: Admin, name: UserName) -> JSONResponse:
    """Remove a user of the administrator's member; every server process refuses their
    token within a second. The name is never given again."""
    work = partial(_remove, name=name, at=center.now(), caller=caller)
    return await _change(center, work, 200)


def _add(
    unit: Unit,
    *,
    name: str,
    member: str,
    role: Role,
    at: datetime,
    expires_at: datetime | None,
    caller: Caller,
) -> ChangedOut:
    """The writer's work (module functions: a writer process receives them pickled)."""
    done = issue(
        unit,
        name=name,
        member=member,
        role=role,
        at=at,
        expires_at=expires_at,
        by=_by(caller),
        scope=caller.member,
    )
    return ChangedOut.of(done)


def _rotate(
    unit: Unit, *, name: str, at: datetime, expires_at: datetime | None, caller: Caller
) -> ChangedOut:
    done = rotate(
        unit, name=name, at=at, expires_at=expires_at, by=_by(caller), scope=caller.member
    )
    return ChangedOut.of(done)


def _remove(unit: Unit, *, name: str, at: datetime, caller: Caller) -> ChangedOut:
    return ChangedOut.of(remove(unit, name=name, at=at, by=_by(caller), scope=caller.member))
