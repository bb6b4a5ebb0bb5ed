"""What routes share: the running :class:`~accord.center.runtime.Center`, the documented
error responses (:data:`ERRORS`, :data:`CONFLICT`, and :func:`problem` for a route's own),
and the acknowledgement-by-hash body (:class:`AcknowledgeIn`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from accord.center.http.problems import PROBLEM_JSON, Problem
from accord.center.runtime import Center

__all__ = ["CONFLICT", "ERRORS", "AcknowledgeIn", "CenterDep", "center_of", "problem"]


async def center_of(request: Request) -> Center:
    """The service's parts, set up by the application's lifespan (a coroutine: FastAPI
    runs a plain function dependency in a worker thread, a hop per request for nothing)."""
    center = request.app.state.center
    assert isinstance(center, Center)
    return center


CenterDep = Annotated[Center, Depends(center_of)]


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("The request body is not JSON"),
    401: _problem("No valid bearer token"),
    403: _problem("The caller's role or member may not do this"),
    413: _problem("The request body is too large"),
    422: _problem("Bad input; `errors` names each field"),
    500: _problem("The server failed; nothing is disclosed"),
}
"""The problem responses every ``/v1`` route may answer."""

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _problem("The agreement's rules or the object's state refuse this"),
}
"""The problem response of a route whose request a rule or a state can refuse."""


def problem(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """A route's own documented problem answer (its OpenAPI ``responses`` entry), e.g. the
    404 of an id the caller may not see: ``responses=problem(404, "No such …")``."""
    return {status: _problem(description)}


class AcknowledgeIn(BaseModel):
    """The ``content_hash`` (64 hex digits: the SHA-256 of the canonical JSON) of exactly
    what the caller received and acknowledges, computed from its own copy."""

    model_config = ConfigDict(extra="forbid")

    content_hash: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
