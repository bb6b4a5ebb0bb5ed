"""Authentication and role checks.

:class:`BearerAuth` is ASGI middleware guarding every path under ``/v1`` and ``/tlog`` (the
record as tiles, read like ``/v1/record``: DECISIONS 12): a request without
``Authorization: Bearer <token>``, or with a token no user holds, gets a 401 problem before
any route, validation or body parsing runs — so a route added later cannot forget it, and an
unauthenticated caller learns nothing, not even which paths exist. The authenticated
:class:`~accord.center.identity.Caller` rides in the request's state.

Routes then declare who may call them with :func:`allow`; anyone else gets 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from fastapi import Request
from fastapi.security import HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from accord.center.http.problems import ProblemError, problem_response
from accord.center.identity import Caller
from accord.center.roles import Role

__all__ = [
    "ALL_ROLES",
    "PROTECTED_PREFIX",
    "PROTECTED_PREFIXES",
    "BearerAuth",
    "allow",
    "allowed_roles",
    "bearer",
    "document_bearer",
]

PROTECTED_PREFIX = "/v1"
PROTECTED_PREFIXES = (PROTECTED_PREFIX, "/tlog")
"""Every prefix whose paths need a token: the API, and the record as C2SP tlog-tiles."""
ALL_ROLES = tuple(Role)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="accord"'}
_MAX_TOKEN = 256

bearer = HTTPBearer(auto_error=False, description="The token `accord users add` printed.")
"""The bearer scheme as the OpenAPI schema describes it (the check itself is the middleware;
see :func:`document_bearer`)."""
_SCHEME = "HTTPBearer"


def _token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN:
                return None
            return token
    return None


def _protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


class BearerAuth:
    """ASGI middleware: authenticate every request under ``/v1`` and ``/tlog`` with
    ``authenticate``
    (token → caller or ``None``, run in a worker thread: it reads the database), unless
    ``remembered`` (token → caller or ``None``, on the event loop: no I/O) knows the token
    already."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Callable[[str], Caller | None],
        remembered: Callable[[str], Caller | None] | None = None,
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.remembered = remembered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = _token(scope)
        caller = None
        if token is not None:
            if self.remembered is not None:
                caller = self.remembered(token)
            if caller is None:
                caller = await anyio.to_thread.run_sync(self.authenticate, token)
        if caller is None:
            detail = "a valid bearer token is required" if token is None else "invalid token"
            response = problem_response(401, detail, kind="unauthenticated", headers=_CHALLENGE)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def document_bearer(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an OpenAPI document), with the bearer scheme declared and required by
    every operation under ``/v1`` and ``/tlog`` — what :class:`BearerAuth` enforces.
    (Declared here rather than by a security dependency on each route, which FastAPI would
    run on every request for nothing: the middleware has checked the token already.)"""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[_SCHEME] = bearer.model.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    for path, item in schema.get("paths", {}).items():
        if _protected(path):
            for operation in item.values():
                operation["security"] = [{_SCHEME: []}]
    return schema


_ALLOWED: dict[object, frozenset[Role]] = {}
"""The roles each dependency made by :func:`allow` admits (what ``GET /v1/me`` reads to say
what the caller may do: the routes' own checks, not a copy of them)."""


def allowed_roles(call: object) -> frozenset[Role] | None:
    """The roles ``call`` admits if it is a dependency made by :func:`allow`, else ``None``."""
    return _ALLOWED.get(call)


def allow(*roles: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency returning the caller if their role is one of ``roles``, else 403 (a
    coroutine, so that FastAPI runs it on the event loop rather than in a worker thread)."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Caller:
        caller = getattr(request.state, "caller", None)
        if not isinstance(caller, Caller):  # only outside the protected prefixes
            raise ProblemError(401, "a valid bearer token is required", kind="unauthenticated")
        if caller.role not in allowed:
            raise ProblemError(
                403,
                f"the role {caller.role.value} may not do this",
                kind="forbidden",
            )
        return caller

    _ALLOWED[dependency] = allowed
    return dependency
