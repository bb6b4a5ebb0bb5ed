"""``/v1/tracks`` and ``/v1/alerts``: live tracks in, the air picture and the airspace alerts
out (see :mod:`accord.center.airspace.tracks` and :mod:`accord.center.airspace.alerts`).

Officers report their own party's aircraft; the administrator, the center's own feed, reports
any operator's. Officers, approvers and monitors read the tracks and alerts they may see;
notifiers and administrators get 403 on every read. An alert the caller may not see answers
exactly as an id nobody holds does.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center import visibility
from accord.center.airspace import alerts as air_alerts
from accord.center.airspace import tracks as air_tracks
from accord.center.airspace.tracks import MAX_BATCH
from accord.center.airspace.views import (
    AlertOut,
    TrackOut,
    TracksAnswer,
    alert_out,
    track_out,
    tracks_answer,
)
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, AcknowledgeIn, CenterDep, problem
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.errors import InputError, Issue

router = APIRouter(prefix="/v1", tags=["airspace"], responses=ERRORS)

MAX_PAGE = 500
"""The most alerts one ``GET /v1/alerts`` returns."""

Reporter = Annotated[Caller, Depends(allow(Role.OFFICER, Role.ADMIN))]
Reader = Annotated[Caller, Depends(allow(*visibility.AIR_PICTURE_READERS))]
Party = Annotated[Caller, Depends(allow(Role.OFFICER, Role.APPROVER))]
AlertId = Annotated[
    str,
    Path(
        pattern=r"^a-([0-9a-f]{16}|[0-9a-f]{10}(\.[0-9]{1,5})?)$",
        description="an alert (a- and 16 hex digits, or a group and .n) or a group (a- and 10)",
    ),
]

_NOT_FOUND = problem(404, "No alert with this id that the caller may see")


class TracksIn(BaseModel):
    """A batch of state reports: each an object with the fields of the track CSV — ``id``,
    ``operator``, ``party`` (null or absent for a non-party operator), ``mission``, ``time``
    (ISO 8601 with offset), ``lat``, ``lon``, ``alt_ft``, ``gs_kt``, ``track_deg``,
    ``vs_fpm`` — and optionally ``disclosure`` (``shared``, the default, or ``center``)."""

    model_config = ConfigDict(extra="forbid")

    tracks: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)
    more: bool = Field(
        default=False,
        description="The center's feed only: more batches of this round follow, and the "
        "detection waits for the last (this batch answers no alerts)",
    )


class TrackPage(BaseModel):
    """Tracks the caller may see."""

    items: list[TrackOut]


class AlertPage(BaseModel):
    """Alerts the caller may see, newest first."""

    items: list[AlertOut]


@router.post(
    "/tracks",
    response_model=TracksAnswer,
    status_code=200,
    summary="Report a batch of live tracks",
)
async def post_tracks(
    center: CenterDep,
    request: Request,
    caller: Reporter,
    body: Annotated[TracksIn, Body()],
) -> JSONResponse:
    """Store the latest state per aircraft (reports not newer than the stored one are
    dropped and counted), then run the conflict and designated-area detection over every
    fresh track; the alerts raised and cleared by this batch, as the caller may see them. A
    bad report refuses the whole batch (422 naming ``tracks[k].field``); so does a batch
    over the agreement's ``limits.features_per_request``, and an officer's batch that packs
    its own party's aircraft past ``limits.own_track_conflicts`` (422 naming ``tracks``)."""
    most = center.agreement.limits.features_per_request
    if len(body.tracks) > most:
        raise InputError(
            "request",
            [
                Issue(
                    "tracks",
                    f"holds {len(body.tracks)} reports; at most {most} "
                    "(the agreement's limits.features_per_request)",
                )
            ],
        )
    act = partial(
        _report_tracks, caller=caller, tracks=body.tracks, at=center.now(), more=body.more
    )
    return await write(center, request, caller, act, body=body, status=200)


def _report_tracks(
    unit: Unit, *, caller: Caller, tracks: list[dict[str, Any]], at: datetime, more: bool
) -> TracksAnswer:
    """The writer's work (a module function: a writer process receives it pickled)."""
    batch = air_tracks.report_tracks(unit, unit.center, caller, tracks, at, more=more)
    return tracks_answer(batch)


@router.get("/tracks", response_model=TrackPage, summary="The live tracks the caller may see")
def get_tracks(
    center: CenterDep,
    caller: Reader,
    all_tracks: Annotated[
        bool, Query(alias="all", description="also tracks not reported in the last minute")
    ] = False,
) -> TrackPage:
    """Its own party's tracks and every other ``shared`` one; by default only those
    reported within the staleness limit (60 s) of the center's clock."""
    return TrackPage(
        items=[
            track_out(t) for t in air_tracks.list_tracks(center, caller, fresh_only=not all_tracks)
        ]
    )


@router.get("/alerts", response_model=AlertPage, summary="Airspace alerts")
def get_alerts(
    center: CenterDep,
    caller: Reader,
    cleared: Annotated[bool, Query(description="also the cleared ones")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
) -> AlertPage:
    """The alerts of the caller's party (a monitor: all), open ones unless ``cleared``."""
    return AlertPage(
        items=[
            alert_out(a)
            for a in air_alerts.list_alerts(center, caller, include_cleared=cleared, limit=limit)
        ]
    )


@router.get(
    "/alerts/{alert_id}", response_model=AlertOut, summary="One alert", responses=_NOT_FOUND
)
def get_alert(center: CenterDep, caller: Reader, alert_id: AlertId) -> AlertOut:
    """An alert, for a party concerned or a monitor."""
    return alert_out(air_alerts.get_alert(center, caller, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    status_code=201,
    summary="Acknowledge an alert, naming its hash",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def acknowledge_alert(
    center: CenterDep,
    request: Request,
    caller: Party,
    alert_id: AlertId,
    body: Annotated[AcknowledgeIn, Body()],
) -> JSONResponse:
    """The caller's party acknowledges an alert it is concerned by, naming its
    ``content_hash`` (a different one is refused, 409). Once per party."""
    act = partial(
        _acknowledge_alert,
        caller=caller,
        alert_id=alert_id,
        content_hash=body.content_hash,
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body)


def _acknowledge_alert(
    unit: Unit, *, caller: Caller, alert_id: str, content_hash: str, at: datetime
) -> AlertOut:
    """The writer's work (a module function: a writer process receives it pickled)."""
    view = air_alerts.acknowledge_alert(unit, unit.center, caller, alert_id, content_hash, at)
    return alert_out(view)
