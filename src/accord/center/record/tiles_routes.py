"""``/tlog``: the record as a C2SP ``tlog-tiles`` log, for pull-based witnesses and monitors.

The prefix of the tiled log is ``<center>/tlog``: ``/tlog/checkpoint`` is the latest signed
head (the note as stored, with every signature line it carries), ``/tlog/tile/<L>/<N>[.p/<W>]``
a tile of hashes and ``/tlog/tile/entries/<N>[.p/<W>]`` a bundle of entries
(:mod:`accord.record.tiles` says what each holds, and reads them back).

Read like ``/v1/record`` (DECISIONS 12): with a bearer token of a role that reads the record
(:data:`accord.center.visibility.RECORD_READERS`) — entries never carry hidden content, but
the record is the agreement's members', not the world's. So every answer is
``Cache-Control: private`` — a reader's own cache may keep it, a shared one never. Within
that: a tile or bundle of a given width never changes (a full one, or a partial one, which is
a prefix of the full one to come), so it is ``private, max-age=31536000, immutable``
(c2sp.org/tlog-tiles: "This endpoint is immutable"); the checkpoint changes with every write,
so it is ``private, no-cache`` (revalidate each time; the spec asks for no caching "beyond a
few seconds").

A tile is read with one range query over the stored subtree hashes (a tile of level ``L``
holds the stored nodes of level ``8 L``), never by reading the log: its cost does not grow
with the log. A bundle is gzipped for a client that accepts it (the spec's SHOULD: signed
JSON entries shrink several times). Tiles are served up to the log's current size (the
checkpoint a reader fetched a moment ago never covers more); a tile beyond it, or a malformed
path, is 404.
"""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from accord.center import visibility
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS, CenterDep, problem
from accord.center.http.problems import ProblemError
from accord.center.identity import Caller
from accord.center.record.heads import latest_head
from accord.errors import FormatError, LogError
from accord.record.tiles import ENTRIES_LEVEL, parse_tile_path

router = APIRouter(prefix="/tlog", tags=["record"], responses=ERRORS)

Reader = Annotated[Caller, Depends(allow(*visibility.RECORD_READERS))]

_NOSNIFF = {"X-Content-Type-Options": "nosniff"}
IMMUTABLE = "private, max-age=31536000, immutable"
"""A tile's or a bundle's ``Cache-Control``: never changes, but for this reader only."""
CHECKPOINT = "private, no-cache"
"""The checkpoint's ``Cache-Control``: for this reader only, and asked again each time."""

_OCTETS = "application/octet-stream"
_GZIP_LEVEL = 6
_CHECKPOINT_TYPE = "text/plain; charset=utf-8"
_BINARY: dict[int | str, dict[str, Any]] = {
    200: {"content": {_OCTETS: {"schema": {"type": "string", "format": "binary"}}}}
}


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (C2SP tlog-tiles)",
    response_class=Response,
    responses={200: {"content": {_CHECKPOINT_TYPE: {"schema": {"type": "string"}}}}},
)
def checkpoint(center: CenterDep, _caller: Reader) -> Response:
    """The center's latest signed head over the whole log, as a C2SP signed note (signed now
    if the log has grown), with the signatures gathered so far."""
    signed = latest_head(center)
    return Response(
        signed.note, media_type=_CHECKPOINT_TYPE, headers={"Cache-Control": CHECKPOINT, **_NOSNIFF}
    )


@router.get(
    "/tile/{tile:path}",
    summary="A tile of hashes or a bundle of entries (C2SP tlog-tiles)",
    response_class=Response,
    responses={**_BINARY, **problem(404, "No such tile in the log at its current size")},
)
def tile(
    center: CenterDep,
    request: Request,
    _caller: Reader,
    tile: Annotated[str, Path(description="`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`")],
) -> Response:
    """Tile ``N`` of level ``L`` (``W`` hashes of 32 bytes, 256 when full), or entry bundle
    ``N`` (``W`` entries, each after its length as a big-endian uint16)."""
    try:
        wanted = parse_tile_path(f"tile/{tile}")
    except FormatError as error:
        raise ProblemError(404, str(error), kind="not-found") from None
    try:
        with center.reading() as session:
            log = center.log(session)
            if wanted.level == ENTRIES_LEVEL:
                body = log.entry_bundle(wanted.index, wanted.width)
            else:
                body = log.tile(wanted.level, wanted.index, wanted.width)
    except LogError as error:
        if type(error) is not LogError:  # a TamperError: the store is damaged, not the path
            raise
        raise ProblemError(404, str(error), kind="not-found") from None
    except FormatError as error:
        # An entry over 65,535 bytes, written before the log refused them: the hash tiles
        # still serve, this bundle cannot (its length prefix is a uint16).
        raise ProblemError(
            500, f"{wanted.path}: {error}: written before entries were limited to 64 KiB"
        ) from None
    headers = {"Cache-Control": IMMUTABLE, **_NOSNIFF}
    if wanted.level == ENTRIES_LEVEL:
        # c2sp.org/tlog-tiles: entry bundles SHOULD be compressed at the HTTP layer.
        headers["Vary"] = "Accept-Encoding"
        if _accepts_gzip(request.headers.get("accept-encoding", "")):
            body = gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=_OCTETS, headers=headers)


def _accepts_gzip(accept: str) -> bool:
    for item in accept.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
