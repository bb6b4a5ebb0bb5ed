"""A limit on request bodies: over it, 413 and a problem body.

A declared ``Content-Length`` over the limit is refused before the application sees the
request; a body that arrives without one (chunked) is counted as it streams, and reading past
the limit raises a 413 that the problem handlers answer.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.center.http.problems import problem_response

__all__ = ["BodyLimit"]


def _too_large(limit: int) -> str:
    return f"the request body exceeds {limit} bytes"


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await problem_response(413, _too_large(self.limit), kind="too-large")(
                scope, receive, send
            )
            return
        received = 0
        limit = self.limit

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
