"""``GET /v1/world.kml`` and ``GET /v1/world.kmz``: what the caller may see, for Google
Earth and QGIS — the declarations in force of ``GET /v1/world`` (the same readers, the same
``limit`` and ``after``, the same ``Link`` and ``Accord-Events-After`` headers) and, on the
first page, the agreement's designated areas and the operations of ``GET /v1/operations``
with their state (:mod:`accord.center.exports.queries`; drawn by :mod:`accord.kml.write`).
An administrator gets 403, as on ``/v1/world``: it keeps no view of the declared world.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from accord.center import visibility
from accord.center.declarations.routes import EVENTS_AFTER, MAX_WORLD_PAGE
from accord.center.exports.queries import world_document
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.identity import Caller
from accord.kml.write import KML_MEDIA_TYPE, KMZ_MEDIA_TYPE, write_kml, write_kmz

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["declarations"], responses=ERRORS)

_READERS = allow(*visibility.DECLARATION_READERS)
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def _binary(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}


def _answer(
    center: CenterDep,
    request: Request,
    caller: Caller,
    *,
    limit: int,
    after: str | None,
    kmz: bool,
) -> Response:
    drawn = world_document(center, caller, at=center.now(), limit=limit, after=after)
    body = write_kml(drawn.document)
    name = "accord-world.kml"
    if kmz:
        body, name = write_kmz(body), "accord-world.kmz"
    headers = {
        EVENTS_AFTER: str(drawn.events_after),
        "Content-Disposition": f'attachment; filename="{name}"',
        **_NOSNIFF,
    }
    if drawn.following is not None:
        query = urlencode({"limit": limit, "after": drawn.following})
        headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    return Response(body, media_type=KMZ_MEDIA_TYPE if kmz else KML_MEDIA_TYPE, headers=headers)


Limit = Annotated[int, Query(ge=1, le=MAX_WORLD_PAGE)]
After = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get(
    "/world.kml",
    summary="The world the caller may see, as KML",
    response_class=Response,
    responses=_binary(KML_MEDIA_TYPE),
)
def get_world_kml(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_READERS)],
    limit: Limit = MAX_WORLD_PAGE,
    after: After = None,
) -> Response:
    """The declarations in force the caller may see (those of ``GET /v1/world``, ``limit``
    at a time after the id ``after``) as KML 2.2 placemarks — a protected site's standoff as
    a circle — and, on the first page, the agreement's designated areas and the operations
    (``GET /v1/operations``, the newest 2,000) with their state. Each placemark names its
    Accord id, kind, owner, disclosure and record index (``ExtendedData``) and its valid
    times (``TimeSpan``). ``Link`` names the next page while there is one."""
    return _answer(center, request, caller, limit=limit, after=after, kmz=False)


@router.get(
    "/world.kmz",
    summary="The world the caller may see, as KMZ",
    response_class=Response,
    responses=_binary(KMZ_MEDIA_TYPE),
)
def get_world_kmz(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_READERS)],
    limit: Limit = MAX_WORLD_PAGE,
    after: After = None,
) -> Response:
    """``GET /v1/world.kml`` zipped: a KMZ holding it as ``doc.kml``."""
    return _answer(center, request, caller, limit=limit, after=after, kmz=True)
