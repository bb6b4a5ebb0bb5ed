"""``GET /v1/events``: live events as Server-Sent Events, each subscriber getting only the
events whose audience includes its member (see :mod:`accord.center.events.live`).

A client asking for ``text/event-stream`` (as ``EventSource`` does) gets the stream: one
message per event (``id``, ``event`` = the kind, ``data`` = the payload as JSON with ``at``),
a comment every 15 s of silence, and a ``retry`` hint. It starts after ``Last-Event-ID`` (sent
by a reconnecting ``EventSource``), else after ``?after=``, else at the newest event (only
what happens from now on). Any other client gets one page of the same events as JSON, from
``Last-Event-ID`` / ``?after=`` (default: the first event): the history, to read page by page,
and a way to poll without keeping a connection open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from accord.center import visibility
from accord.center.event_store import events_for, newest_id
from accord.center.events.live import Hub, stream
from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.identity import Caller
from accord.center.runtime import Center
from accord.errors import InputError, Issue

router = APIRouter(prefix="/v1", tags=["events"], responses=ERRORS)

EVENT_STREAM = "text/event-stream"
_MAX_ID = (1 << 63) - 1


class EventOut(BaseModel):
    """One event the caller's member may see."""

    id: int
    kind: str
    at: datetime
    payload: dict[str, Any]


class EventsPage(BaseModel):
    """Events after ``after``, oldest first; ask again with ``after=last_id`` for the next."""

    events: list[EventOut]
    last_id: int


_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "With `Accept: text/event-stream`: the stream of the caller's events (each message "
            "`id: <event id>`, `event: <kind>`, `data: <payload JSON with at>`). Otherwise: "
            "one page of them as JSON."
        ),
        "content": {
            EVENT_STREAM: {
                "schema": {"type": "string"},
                "example": (
                    'id: 1\nevent: condition.confirmed\ndata: {"at":"2026-09-21T16:00:00Z",'
                    '"condition":"aid-delivered-east-city","entry":0,"member":"hnc"}\n\n'
                ),
            },
        },
    }
}


def _resume_from(last_event_id: str | None) -> int | None:
    if last_event_id is None:
        return None
    text = last_event_id.strip()
    if not text.isdigit() or len(text) > 19 or int(text) > _MAX_ID:
        raise InputError(
            "request", [Issue("Last-Event-ID", "must be the id of an event (an integer ≥ 0)")]
        )
    return int(text)


def _newest(center: Center) -> int:
    with center.reading() as session:
        return newest_id(session)


def _page(center: Center, member: str, after: int, limit: int) -> EventsPage:
    with center.reading() as session:
        events = events_for(session, member, after=after, limit=limit)
    return EventsPage(
        events=[EventOut(id=e.id, kind=e.kind, at=e.at, payload=e.payload) for e in events],
        last_id=events[-1].id if events else after,
    )


@router.get(
    "/events",
    response_model=EventsPage,
    summary="Live events for the caller (Server-Sent Events)",
    responses=_STREAM_DOC,
)
async def live_events(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(allow(*ALL_ROLES))],
    after: Annotated[
        int | None, Query(ge=0, le=_MAX_ID, description="Start after this event id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Events per JSON page.")] = 100,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="The last event id received (a reconnecting client); wins over after.",
        ),
    ] = None,
) -> Any:
    """Every role may subscribe; the events a change publishes name their audience, and the
    caller gets exactly those whose audience includes its member (an administrator: none;
    see :func:`accord.center.visibility.events_member`)."""
    member = visibility.events_member(caller)
    start = _resume_from(last_event_id)
    if start is None:
        start = after
    if EVENT_STREAM not in request.headers.get("accept", ""):
        return await anyio.to_thread.run_sync(_page, center, member, start or 0, limit)
    if start is None:
        start = await anyio.to_thread.run_sync(_newest, center)
    hub: Hub = request.app.state.live
    return StreamingResponse(
        stream(hub, center, member, after=start),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
