"""``GET /v1/picture?at=TIME``: what the caller could see at an instant, rebuilt from the
record alone (:mod:`accord.center.picture.service`)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from accord.center import visibility
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.http.problems import FieldProblem, ProblemError
from accord.center.identity import Caller
from accord.center.picture.service import picture
from accord.center.picture.views import PictureOut
from accord.chrono import parse_instant

router = APIRouter(prefix="/v1", tags=["picture"], responses=ERRORS)

_VIEWERS = allow(*visibility.PICTURE_READERS)


def _bad_at(message: str) -> ProblemError:
    return ProblemError(
        422,
        f"at: {message}",
        kind="validation",
        errors=[FieldProblem(field="at", location="query", message=message)],
    )


@router.get(
    "/picture",
    response_model=PictureOut,
    summary="The picture at any time, replayed from the record",
    responses={503: ERRORS[500] | {"description": "The record does not verify"}},
)
def get_picture(
    center: CenterDep,
    caller: Annotated[Caller, Depends(_VIEWERS)],
    at: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="The instant, ISO 8601 with a UTC offset (e.g. 2026-09-21T16:00:00Z); "
            "not in the future",
        ),
    ],
) -> PictureOut:
    """Declarations in force, operations and their states, open direct-line messages and
    the phase at ``at``, as the caller could see them then — rebuilt by replaying the
    signed record up to that instant (never from the service's tables). ``proof`` names
    the prefix replayed, its root and a signed tree head to check it against. Officers and
    approvers get their party's view; monitors the shared view (no ``center`` content, no
    message content); notifiers their own declarations; administrators nothing (403)."""
    # An unescaped "+" of an offset arrives as a space ("…T16:00:00 03:00"): read it back.
    text = re.sub(r"(T[0-9:.]+) ([0-9]{2}(:?[0-9]{2})?)$", r"\1+\2", at)
    try:
        instant = parse_instant(text)
    except ValueError as error:
        raise _bad_at(str(error)) from None
    if instant > center.now():
        raise _bad_at("is in the future: the record does not know it yet")
    return picture(center, caller, instant)
