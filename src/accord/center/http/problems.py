"""Errors as RFC 9457 problem details (``application/problem+json``), never a stack trace.

Every error the service answers is a JSON object with ``type``, ``title``, ``status`` and
``detail``; a validation error adds ``errors``, one ``{"field", "location", "message"}`` per
bad field (a dotted path such as ``condition`` or ``items.0.id``). The input value itself is
never echoed back; where a message or a field name quotes the sender's input (an unknown
key, a condition the agreement does not have), it is cut to a bounded length, and at most
:data:`MAX_ERRORS` fields are listed — an answer never grows with what the sender sent.

:func:`install` registers the handlers: request validation (422), HTTP errors (their own
status), :class:`ProblemError` (the HTTP layer's and the routes' own answers), every
:class:`~accord.errors.AccordError` and a last resort for anything else, which logs the
exception on the server and answers a bare 500.

This module is the one mapping from the domain's errors (:mod:`accord.errors`: the services
raise nothing else) to HTTP answers — :func:`status_of` the status, :func:`kind_of` the
problem type:

* 403 ``forbidden``: :class:`~accord.errors.NotAuthorized`; ``act-refused``: an act
  unsigned, whose signature does not verify (:class:`~accord.errors.ActSignatureError`) or
  whose key may not sign it (:class:`~accord.errors.ActKeyError`), naming the field;
* 409 ``act-replayed``: :class:`~accord.errors.ActReplayError` (its nonce was used);
* 422 ``act-invalid``: any other :class:`~accord.errors.ActError` (an act out of its form, or
  its clock too far from the center's), naming the header (``Accord-Act-At``) or the body
  field at fault;
* 404 ``not-found``: :class:`~accord.errors.NotFound`;
* 409 ``refused``: any other :class:`~accord.errors.RuleError` — ``stale`` for a
  :class:`~accord.errors.StaleRequest`, ``hash-mismatch`` for a
  :class:`~accord.errors.HashMismatch` and ``device-taken`` for a
  :class:`~accord.errors.DeviceTaken`, each naming its field in ``errors``;
* 422 ``validation``: :class:`~accord.errors.InputError`, one ``errors`` item per issue (a
  :class:`~accord.errors.TrackError`'s detail names its fields: ``invalid track reports: …``);
* 429 ``rate-limited`` (``probing-slowed``): :class:`~accord.errors.RateLimited`, with
  ``Retry-After``;
* 503 ``unavailable`` (``writer-unavailable``, ``record-damaged``, ``world-unavailable``):
  :class:`~accord.errors.Unavailable`, with ``Retry-After`` when it is known;
* 400 ``bad-request`` otherwise; a :class:`~accord.errors.TamperError` (the stored log is
  damaged: the server's problem) is answered as the last resort's 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.center.http.acts import header_of
from accord.errors import (
    AccordError,
    ActError,
    ActKeyError,
    ActReplayError,
    ActSignatureError,
    DeviceTaken,
    HashMismatch,
    InputError,
    NotAuthorized,
    NotFound,
    ProbingSlowed,
    RateLimited,
    ReaderUnavailable,
    RecordDamaged,
    RuleError,
    StaleRequest,
    TrackError,
    Unavailable,
    WorldUnavailable,
    WriterUnavailable,
)
from accord.record.log import TamperError

__all__ = [
    "MAX_ERRORS",
    "PROBLEM_JSON",
    "FieldProblem",
    "Problem",
    "ProblemError",
    "install",
    "kind_of",
    "problem_response",
    "status_of",
]

PROBLEM_JSON = "application/problem+json"

_TYPE = "urn:accord:problem:"
MAX_ERRORS = 50
"""Fields listed in one problem at most (the detail says how many more)."""
_MAX_FIELD = 128
_MAX_TEXT = 512
_NAMED_FIELDS = 20
"""The fields a track batch's detail names at most (``errors`` lists them all)."""
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_log = logging.getLogger("accord.center")


class FieldProblem(BaseModel):
    """One bad field of a request."""

    field: str
    location: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raise to answer a problem from anywhere in a request."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = list(errors)
        self.headers = dict(headers or {})


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; ``kind`` names the problem type (``urn:accord:problem:…``).
    Texts are cut to a bounded length and the fields to :data:`MAX_ERRORS`."""
    listed = [
        FieldProblem(
            field=_clip(p.field, _MAX_FIELD),
            location=_clip(p.location, _MAX_FIELD),
            message=_clip(p.message, _MAX_TEXT),
        )
        for p in errors[:MAX_ERRORS]
    ]
    if detail is not None:
        detail = _clip(detail, _MAX_TEXT)
        if len(errors) > MAX_ERRORS:
            detail += f" (and {len(errors) - MAX_ERRORS} more fields)"
    body = Problem(
        type=f"{_TYPE}{kind}" if kind else "about:blank",
        title=_title(status),
        status=status,
        detail=detail,
        errors=listed or None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        # here too: the last resort's 500 is answered outside every middleware
        headers={**_HEADERS, **(headers or {})},
    )


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (it may quote whatever the sender sent)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_of(error: AccordError) -> int:
    """The HTTP status that answers ``error``."""
    if isinstance(error, NotAuthorized | ActSignatureError | ActKeyError):
        return 403
    if isinstance(error, ActReplayError):
        return 409
    if isinstance(error, ActError):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, RuleError):
        return 409
    if isinstance(error, InputError):
        return 422
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, Unavailable):
        return 503
    return 400


_KINDS: tuple[tuple[type[AccordError], str], ...] = (
    (ActSignatureError, "act-refused"),
    (ActKeyError, "act-refused"),
    (ActReplayError, "act-replayed"),
    (ActError, "act-invalid"),
    (InputError, "validation"),
    (NotAuthorized, "forbidden"),
    (NotFound, "not-found"),
    (StaleRequest, "stale"),
    (HashMismatch, "hash-mismatch"),
    (DeviceTaken, "device-taken"),
    (RuleError, "refused"),
    (ProbingSlowed, "probing-slowed"),
    (RateLimited, "rate-limited"),
    (WriterUnavailable, "writer-unavailable"),
    (ReaderUnavailable, "reader-unavailable"),
    (RecordDamaged, "record-damaged"),
    (WorldUnavailable, "world-unavailable"),
    (Unavailable, "unavailable"),
)
"""Each error's problem type (``urn:accord:problem:<kind>``): the first class it is an
instance of, the narrower before the wider."""


def kind_of(error: AccordError) -> str:
    """The problem type that answers ``error`` (its last part: ``urn:accord:problem:…``)."""
    return next((kind for cls, kind in _KINDS if isinstance(error, cls)), "bad-request")


def _field_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    problems = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else "body"
        field = ".".join(loc[1:]) or location
        problems.append(FieldProblem(field=field, location=location, message=str(error["msg"])))
    return problems


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = _field_problems(exc.errors())
    names = ", ".join(dict.fromkeys(p.field for p in problems))
    return problem_response(422, f"invalid request: {names}", kind="validation", errors=problems)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(exc.status_code, detail, headers=exc.headers)


async def _problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status, exc.detail, kind=exc.kind, errors=exc.errors, headers=exc.headers
    )


async def _accord(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccordError)
    if isinstance(exc, TamperError):  # the stored record is damaged: the server's problem
        return await _last_resort(request, exc)
    status, kind = status_of(exc), kind_of(exc)
    if isinstance(exc, InputError):
        problems = [
            FieldProblem(field=i.field or "body", location="body", message=i.message)
            for i in exc.issues
        ]
        if isinstance(exc, TrackError):  # a batch of reports: its fields, named
            names = ", ".join(dict.fromkeys(p.field for p in problems[:_NAMED_FIELDS]))
            detail = f"invalid track reports: {names}"
        else:
            detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        return problem_response(status, detail, kind=kind, errors=problems)
    named = []
    if isinstance(exc, ActError):
        header = header_of(exc.field)
        if header is not None:
            named = [FieldProblem(field=header, location="header", message=exc.message)]
        else:
            named = [FieldProblem(field=exc.field, location="body", message=exc.message)]
    if isinstance(exc, StaleRequest | HashMismatch | DeviceTaken):
        named = [FieldProblem(field=exc.field, location=exc.location, message=exc.message)]
    headers = {}
    if isinstance(exc, RateLimited | Unavailable) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return problem_response(status, str(exc), kind=kind, errors=named, headers=headers)


async def _last_resort(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "the server failed to answer; the failure is logged")


def install(app: FastAPI) -> None:
    """Register every problem handler on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(AccordError, _accord)
    app.add_exception_handler(Exception, _last_resort)
