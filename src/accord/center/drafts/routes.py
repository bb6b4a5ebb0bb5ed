"""``/v1/drafts``: the shapes a member's devices drew (see
:mod:`accord.center.drafts.service`). A member's officers and approvers (its gateway's user
is an officer) save, list and delete the member's own drafts; other roles 403; a key is the
caller's member's, so another member's draft answers exactly as a missing one (404)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center import visibility
from accord.center.drafts import queries
from accord.center.drafts.service import (
    CALLSIGN_MAX,
    KEY_PATTERN,
    MAX_DRAFTS,
    NAME_MAX,
    SHAPES,
    delete_draft,
    save_draft,
)
from accord.center.drafts.views import (
    DraftChangeOut,
    DraftOpeningOut,
    DraftOpeningsOut,
    DraftOut,
    DraftsOut,
    SavedOut,
    draft_out,
    saved_out,
)
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep, problem
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.runtime import Unit
from accord.record.canonical import encode_base64

router = APIRouter(prefix="/v1", tags=["drafts"], responses=ERRORS)

Keeper = Annotated[Caller, Depends(allow(*visibility.DRAFT_READERS))]
DraftKey = Annotated[
    str,
    Path(
        pattern=KEY_PATTERN,
        description="the drawing's CoT uid: 1 to 100 of A-Z a-z 0-9 . _ : @ -",
    ),
]

_NOT_FOUND = problem(404, "No such draft of the caller's member")


class DraftIn(BaseModel):
    """A shape one of the member's devices drew (the service checks every field and names
    each bad one)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Crossing north",
                    "shape": "freehand",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[21.60, 25.30], [21.70, 25.30], [21.70, 25.40]],
                    },
                    "device": {"uid": "ANDROID-0123456789abcdef", "callsign": "VIPER 1"},
                    "drawn_at": "2026-09-21T15:59:00Z",
                }
            ]
        },
    )

    name: Any = Field(description=f"1 to {NAME_MAX} characters, no control characters")
    shape: Any = Field(description=" | ".join(SHAPES))
    geometry: Any = Field(
        description="a GeoJSON Polygon or LineString (a rectangle or a circle: a Polygon, a "
        "circle as 64 vertices), at most the agreement's limits.operation_vertices positions"
    )
    device: Any = Field(
        description=f"{{uid: 1 to 100 of A-Z a-z 0-9 . _ : @ -, callsign: up to "
        f"{CALLSIGN_MAX} characters or null}}"
    )
    drawn_at: Any = Field(description="an ISO 8601 instant with its offset")


# --- the works the writer runs (module functions: a writer process receives them pickled) --


def _save(unit: Unit, *, caller: Caller, key: str, body: dict[str, Any], at: datetime) -> SavedOut:
    return saved_out(save_draft(unit, caller, key, body, at))


def _delete(unit: Unit, *, caller: Caller, key: str, at: datetime) -> DraftOut:
    return draft_out(delete_draft(unit, caller, key, at))


@router.put(
    "/drafts/{key}",
    response_model=SavedOut,
    status_code=201,
    summary="Save a draft of the caller's member (create, or replace the one of that key)",
    responses={200: {"model": SavedOut, "description": "replaced"}, **CONFLICT},
)
async def put_draft(
    center: CenterDep,
    request: Request,
    caller: Keeper,
    key: DraftKey,
    body: Annotated[DraftIn, Body()],
) -> JSONResponse:
    """Save the draft under ``key`` for the caller's member: 201 for a new key, 200 when it
    replaces that key's draft. The record entry ``draft.changed``, the member's act, holds a
    commitment only; the member's officers and approvers are told (``draft.saved``). At most
    {MAX_DRAFTS} drafts per member (one more: 409)."""
    act = partial(_save, caller=caller, key=key, body=body.model_dump(), at=center.now())
    answer = await write(center, request, caller, act, body=body, status=200)
    if answer.status_code == 200 and json.loads(bytes(answer.body)).get("created") is True:
        answer.status_code = 201
    return answer


put_draft.__doc__ = (put_draft.__doc__ or "").replace("{MAX_DRAFTS}", str(MAX_DRAFTS))


@router.get("/drafts", response_model=DraftsOut, summary="List the caller's member's drafts")
def get_drafts(center: CenterDep, caller: Keeper) -> DraftsOut:
    """The caller's member's drafts, the latest saved first (an officer's or approver's
    own member's only; other roles 403)."""
    with center.reading() as session:
        found = queries.list_drafts(session, caller)
    return DraftsOut(items=[draft_out(d) for d in found])


@router.get(
    "/drafts/openings",
    response_model=DraftOpeningsOut,
    summary="The openings of the caller's member's draft entries",
)
def get_openings(
    center: CenterDep,
    caller: Keeper,
    after: Annotated[int, Query(ge=-1, description="the last entry of the page before")] = -1,
    limit: Annotated[int, Query(ge=1, le=queries.OPENINGS_PAGE)] = queries.OPENINGS_PAGE,
) -> DraftOpeningsOut:
    """Every ``draft.changed`` entry of the caller's member — saved or deleted, drafts in
    force or gone — with what opens its commitment (the member's own: DECISIONS 11), in
    entry order; what ``accord monitor --party`` checks against its verified copy."""
    with center.reading() as session:
        found, more = queries.draft_openings(session, caller, after=after, limit=limit)
    return DraftOpeningsOut(
        entries=[
            DraftChangeOut(
                entry=change.entry,
                key=change.key,
                action=change.action,
                at=change.at,
                opening=DraftOpeningOut(
                    entry=opening.entry,
                    commitment=encode_base64(opening.commitment),
                    salt=encode_base64(opening.salt),
                    content=opening.content,
                ),
            )
            for change, opening in found
        ],
        next=more,
    )


@router.delete(
    "/drafts/{key}",
    status_code=204,
    response_class=Response,
    summary="Delete a draft of the caller's member",
    responses=_NOT_FOUND,
)
async def remove_draft(
    center: CenterDep, request: Request, caller: Keeper, key: DraftKey
) -> Response:
    """Delete the caller's member's draft ``key`` (what a device's ``t-x-d-d`` of the drawing
    does): 204; the record entry ``draft.changed``, a commitment only; the member is told
    (``draft.deleted``). No such draft of the member's: 404."""
    act = partial(_delete, caller=caller, key=key, at=center.now())
    answer = await write(center, request, caller, act, status=200)
    return Response(status_code=204, headers={k: v for k, v in answer.headers.items()
                                              if k.lower() == "idempotent-replayed"})  # fmt: skip
