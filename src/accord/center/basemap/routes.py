"""``/v1/basemap``: the operator's own detailed basemap (``accord serve --basemap
FILE.pmtiles``), for the page to draw over Natural Earth.

* ``GET /v1/basemap`` says whether there is one and, if so, its bounds, zooms and attribution
  (:meth:`~accord.center.basemap.archive.Archive.manifest`);
* ``GET /v1/basemap/archive.pmtiles`` serves the archive's bytes: one byte range at a time
  (RFC 9110 §14: ``Range: bytes=first-last``, ``bytes=first-`` or ``bytes=-suffix``, answered
  ``206`` with ``Content-Range``), or the whole file without ``Range``. A range that cannot
  be served — several at once, past the end, longer than :data:`MAX_RANGE_BYTES`, or
  malformed — is answered ``416`` naming the header, never a part of another one.

Both need a token, as everything under ``/v1`` does: the archive's bounds are the theater's.
The archive is checked once when the service starts (:func:`~accord.center.basemap.archive.
open_archive`); if the file is replaced while the service runs, the next request checks the
new one (and answers ``503`` while it does not read as an archive).
"""

from __future__ import annotations

import logging
import os
import re
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from accord.center.basemap.archive import Archive, open_archive
from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import ERRORS, problem
from accord.center.http.problems import ProblemError
from accord.center.identity import Caller
from accord.errors import BasemapError

__all__ = ["MAX_RANGE_BYTES", "BasemapOut", "router"]

router = APIRouter(prefix="/v1/basemap", tags=["basemap"], responses=ERRORS)

MAX_RANGE_BYTES = 16 << 20
"""The longest range answered at once (a directory or a tile is at most a few hundred KiB;
the whole file is one request without ``Range``)."""

MEDIA_TYPE = "application/vnd.pmtiles"
_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")
_log = logging.getLogger("accord.center")

Reader = Annotated[Caller, Depends(allow(*ALL_ROLES))]


class ArchiveOut(BaseModel):
    """The operator's archive as the page needs it: where to read it, what it covers."""

    url: str
    bytes: int
    bounds: list[float]
    """``[west, south, east, north]`` in degrees."""
    min_zoom: int
    max_zoom: int
    center: list[float]
    """``[lon, lat, zoom]``, the archive's own suggestion."""
    attribution: str
    """The archive's attribution as plain text (the page escapes it)."""


class BasemapOut(BaseModel):
    """The detailed basemap this center serves, or ``null``: then the page draws Natural
    Earth alone."""

    archive: ArchiveOut | None


def _current(request: Request) -> Archive | None:
    """The archive the service serves, checked again if its file changed since."""
    state = request.app.state
    archive: Archive | None = getattr(state, "basemap", None)
    if archive is None:
        return None
    try:
        info = os.stat(archive.path)
    except OSError:
        _log.error("basemap: %s is gone", archive.path)
        raise _unavailable("the basemap's file is gone") from None
    if f'"{info.st_size:x}-{info.st_mtime_ns:x}"' == archive.etag:
        return archive
    try:
        fresh = open_archive(archive.path)
    except BasemapError as error:
        _log.error("basemap: %s", error)
        raise _unavailable("the basemap's file was replaced by one that does not read") from None
    state.basemap = fresh
    return fresh


@router.get("", summary="The operator's detailed basemap, if any")
def get_basemap(request: Request, _caller: Reader) -> BasemapOut:
    """Whether this center serves a detailed basemap of its own (``accord serve
    --basemap``), and where and what: the page draws it where it has tiles, over Natural
    Earth."""
    archive = _current(request)
    if archive is None:
        return BasemapOut(archive=None)
    return BasemapOut(archive=ArchiveOut.model_validate(archive.manifest()))


def _binary() -> dict[int | str, dict[str, Any]]:
    body = {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
    return {
        200: {**body, "description": "The whole archive"},
        206: {**body, "description": "The range asked for (Content-Range)"},
        **problem(404, "This center serves no basemap of its own"),
        **problem(416, "A range that cannot be served (the detail says why)"),
        **problem(503, "The basemap's file is gone or no longer reads"),
    }


def span(header: str, size: int) -> tuple[int, int]:
    """The first and last byte (inclusive) of the one range ``header`` asks of ``size`` bytes.

    Raises
    ------
    ProblemError
        416, naming the header: malformed, several ranges, past the end, or longer than
        :data:`MAX_RANGE_BYTES`.

    Examples
    --------
    >>> span("bytes=0-126", 1000), span("bytes=990-", 1000), span("bytes=-10", 1000)
    ((0, 126), (990, 999), (990, 999))
    >>> span("bytes=5-2000", 1000)
    (5, 999)
    """
    found = _RANGE.fullmatch(header.strip())
    if found is None:
        if "," in header:
            raise _unsatisfiable("one range at a time (bytes=first-last)", size)
        raise _unsatisfiable("not bytes=first-last, bytes=first- or bytes=-suffix", size)
    first_text, last_text = found.groups()
    if not first_text:  # RFC 9110 §14.1.2: a suffix range, the last N bytes
        if not last_text or int(last_text) == 0:
            raise _unsatisfiable("an empty suffix", size)
        first, last = max(size - int(last_text), 0), size - 1
    else:
        first = int(first_text)
        last = size - 1 if not last_text else min(int(last_text), size - 1)
        if last_text and int(last_text) < first:
            raise _unsatisfiable("its last byte is before its first", size)
    if first >= size:
        raise _unsatisfiable(f"starts past the archive's end ({size} bytes)", size)
    if last - first + 1 > MAX_RANGE_BYTES:
        raise _unsatisfiable(
            f"longer than {MAX_RANGE_BYTES} bytes (ask without Range for the whole file)", size
        )
    return first, last


def _unsatisfiable(why: str, size: int) -> ProblemError:
    # RFC 9110 §15.5.17: a 416 names the representation's length in Content-Range
    return ProblemError(
        416,
        f"Range: {why}",
        kind="range-not-satisfiable",
        headers={"Content-Range": f"bytes */{size}"},
    )


def _unavailable(detail: str) -> ProblemError:
    return ProblemError(503, detail, kind="basemap-unavailable")


def _read(path: os.PathLike[str], first: int, length: int) -> bytes:
    with open(path, "rb") as file:
        return os.pread(file.fileno(), length, first)


@router.get(
    "/archive.pmtiles",
    summary="The operator's basemap archive (PMTiles), by byte range",
    response_class=Response,
    responses=_binary(),
)
async def get_archive(
    request: Request,
    _caller: Reader,
    range_: Annotated[str | None, Header(alias="range", max_length=200)] = None,
) -> Response:
    """The archive's bytes: the one range ``Range`` asks for (206), or the whole file
    without it (200). ``ETag`` changes with the file, so that a reader notices a replaced
    archive."""
    archive = _current(request)
    if archive is None:
        raise ProblemError(
            404,
            "this center serves no basemap of its own (accord serve --basemap)",
            kind="not-found",
        )
    headers = {"Accept-Ranges": "bytes", "ETag": archive.etag}
    if range_ is None:
        return FileResponse(archive.path, media_type=MEDIA_TYPE, headers=headers, stat_result=None)
    first, last = span(range_, archive.size)
    data = await anyio.to_thread.run_sync(_read, archive.path, first, last - first + 1)
    if len(data) != last - first + 1:  # the file shrank under us: checked again next time
        raise _unavailable("the basemap's file changed while it was read")
    headers["Content-Range"] = f"bytes {first}-{last}/{archive.size}"
    return Response(data, status_code=206, media_type=MEDIA_TYPE, headers=headers)
