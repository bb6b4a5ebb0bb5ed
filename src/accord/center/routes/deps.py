"""What routes share: the running :class:`~accord.center.runtime.Center`, the documented
error responses, and the phase as a response model (:class:`~accord.center.phases.PhaseOut`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from accord.center.phases import PhaseOut
from accord.center.problems import PROBLEM_JSON, Problem
from accord.center.runtime import Center

__all__ = ["CONFLICT", "ERRORS", "CenterDep", "PhaseOut", "center_of"]


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
