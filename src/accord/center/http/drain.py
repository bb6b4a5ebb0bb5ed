"""Stopping under load: SIGTERM drains the server within a bound, and what cannot finish is
answered 503, never 500.

On SIGTERM uvicorn stops accepting connections, closes the idle ones, and lets the requests
in flight finish for :data:`DRAIN_SECONDS` (``timeout_graceful_shutdown``; live event
streams end at once: :class:`~accord.center.events.live.Hub`). A request still running then is
cancelled; uvicorn would answer it 500. :class:`Drain` answers it instead with a 503
problem (``shutting-down``, ``Retry-After``): the client does not know whether a change it
sent was applied, and retries it with the same ``Idempotency-Key`` (which replays the
stored answer if it was). Then the application shuts down (the queued units of work are
finished), and ``accord serve`` gives its writer process :data:`WRITER_STOP_SECONDS` to
finish its own. A 2xx is only ever sent for a committed change.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.center.http.problems import problem_response

__all__ = ["DRAIN_SECONDS", "RETRY_AFTER_SECONDS", "WRITER_STOP_SECONDS", "Drain"]

DRAIN_SECONDS = 4
"""How long requests in flight at SIGTERM may take to finish (uvicorn's
``timeout_graceful_shutdown``)."""

WRITER_STOP_SECONDS = 3.0
"""How long ``accord serve`` waits for its writer process to finish its queued units once
the HTTP side has stopped, before killing it (a unit not committed by then leaves nothing,
and its request has been answered 503 already). With :data:`DRAIN_SECONDS` and the
application's own shut-down, the server is gone within 10 s of SIGTERM."""

RETRY_AFTER_SECONDS = 5


class Drain:
    """ASGI middleware: a request cancelled before its answer started (the server is
    stopping and the drain's time is up) is answered 503, not 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if started:
                raise  # the answer is under way: the connection is cut
            response = problem_response(
                503,
                "the server is stopping; retry (with the same Idempotency-Key for a change)",
                kind="shutting-down",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"},
            )
            await response(scope, receive, send)
