"""``GET /v1/picture?at=TIME``: what the caller could see at an instant, rebuilt from the
record alone (:mod:`accord.center.picture.service`)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from accord.center import visibility
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.http.problems import FieldProblem, ProblemError
from accord.center.identity import Caller
from accord.center.picture.service import MESSAGE, Selection, picture
from accord.center.picture.views import PictureOut
from accord.center.runtime import Center
from accord.chrono import parse_instant

router = APIRouter(prefix="/v1", tags=["picture"], responses=ERRORS)

_VIEWERS = allow(*visibility.PICTURE_READERS)


MAX_LIMIT = 10_000
"""The most objects one page of the picture answers."""

MAX_KINDS = 64
"""The most kinds one request may name."""

_CURSOR = re.compile(r"([0-9]{1,12})\.([0-9]{1,12})")


def _bad(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        f"{field}: {message}",
        kind="validation",
        errors=[FieldProblem(field=field, location="query", message=message)],
    )


def _bad_at(message: str) -> ProblemError:
    return _bad("at", message)


def _box(text: str) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees, read and checked; else a 422 naming ``bbox``."""
    parts = text.split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise _bad("bbox", "four numbers west,south,east,north (degrees)") from None
    if not all(-180.0 <= x <= 180.0 for x in (west, east)) or not all(
        -90.0 <= y <= 90.0 for y in (south, north)
    ):
        raise _bad("bbox", "longitudes within ±180 and latitudes within ±90 degrees")
    if west > east or south > north:
        raise _bad(
            "bbox", "west must not be east of east, nor south north of north (no box across "
            "the antimeridian: ask for its two halves)"
        )  # fmt: skip
    return west, south, east, north


def _kinds(text: str) -> frozenset[str]:
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    if not kinds:
        raise _bad("kinds", "name at least one kind")
    if len(kinds) > MAX_KINDS:
        raise _bad("kinds", f"at most {MAX_KINDS} kinds")
    return kinds


@router.get(
    "/picture",
    response_model=PictureOut,
    summary="The picture at any time, replayed from the record",
    responses={503: ERRORS[500] | {"description": "The record does not verify"}},
)
async def get_picture(
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
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="west,south,east,north in degrees: only the declarations and "
            "operations with a position in the box (messages are not placed by it)",
        ),
    ] = None,
    kinds: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="comma-separated: the declarations of these kinds, the operations "
            f"of these categories, and the open messages if {MESSAGE!r} is named",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_LIMIT, description="the most objects in one page (all, if absent)"),
    ] = None,
    after: Annotated[
        str | None,
        Query(max_length=32, description="the `next` cursor of the page before"),
    ] = None,
) -> Response:
    """Declarations in force, operations and their states, open direct-line messages and
    the phase at ``at``, as the caller could see them then — rebuilt by replaying the
    signed record up to that instant (never from the service's tables). ``proof`` names
    the prefix replayed, its root and a signed tree head to check it against. Officers and
    approvers get their party's view; monitors the shared view (no ``center`` content, no
    message content); notifiers their own declarations; administrators nothing (403).

    ``bbox`` and ``kinds`` select among them, ``limit`` cuts the answer into pages: each
    names the ``next`` page's cursor, to pass as ``after`` (a page of another prefix of the
    record is 409: ask for the first page again)."""
    # An unescaped "+" of an offset arrives as a space ("…T16:00:00 03:00"): read it back.
    text = re.sub(r"(T[0-9:.]+) ([0-9]{2}(:?[0-9]{2})?)$", r"\1+\2", at)
    try:
        instant = parse_instant(text)
    except ValueError as error:
        raise _bad_at(str(error)) from None
    if instant > center.now():
        raise _bad_at("is in the future: the record does not know it yet")
    entries, offset = None, 0
    if after is not None:
        cursor = _CURSOR.fullmatch(after)
        if cursor is None:
            raise _bad("after", "a `next` cursor as a page answered it (ENTRIES.OFFSET)")
        entries, offset = int(cursor[1]), int(cursor[2])
    selection = Selection(
        box=None if bbox is None else _box(bbox),
        kinds=None if kinds is None else _kinds(kinds),
        limit=limit,
        offset=offset,
        entries=entries,
    )
    answer = await center.read(
        partial(picture_json, caller=caller, at=instant, selection=selection)
    )
    return Response(answer, media_type="application/json")


def picture_json(center: Center, *, caller: Caller, at: datetime, selection: Selection) -> str:
    """The picture's answer, written: the read :meth:`Center.read
    <accord.center.runtime.Center.read>` runs (in the reader process, when there is one).
    Written once, as built: returned as a model, it would be dumped, validated and written
    again (a third of a 1,000-object page's time)."""
    return picture(center, caller, at, selection).model_dump_json()
