"""The composition root of the service: :func:`create_app` wires settings, the clock and the
parts into a FastAPI application. Importing this module does no work; the database, the keys
and the agreement are opened in the application's lifespan (on start-up, in a worker thread)
and released on shut-down, and so is the background task that escalates unacknowledged
direct-line messages (every ``Settings.escalation_interval_s`` seconds; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI

from accord import __version__
from accord.center import operations, problems
from accord.center.auth import BearerAuth
from accord.center.config import Settings
from accord.center.directline import escalation_loop
from accord.center.identity import Caller
from accord.center.limits import BodyLimit
from accord.center.routes import ROUTERS
from accord.center.runtime import Center, Clock, system_clock

__all__ = ["create_app"]

_DESCRIPTION = """The joint coordination center as a service. Every route under `/v1`
needs `Authorization: Bearer <token>` (from `accord users add`); errors are RFC 9457 problem
details (`application/problem+json`)."""


def create_app(settings: Settings, *, clock: Clock = system_clock) -> FastAPI:
    """The service for ``settings``; ``clock`` gives the current instant (UTC)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        center = await anyio.to_thread.run_sync(partial(Center.start, settings, clock=clock))
        app.state.center = center
        ticker = None
        if settings.escalation_interval_s > 0:
            ticker = asyncio.create_task(escalation_loop(center, settings.escalation_interval_s))
        try:
            await anyio.to_thread.run_sync(operations.prepare, center)
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            operations.close_desk(center)
            center.close()

    app = FastAPI(
        title="Accord",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)

    def authenticate(token: str) -> Caller | None:
        center: Center = app.state.center
        return center.authenticate(token)

    # The last added runs first: the body limit, then authentication, then the routes.
    app.add_middleware(BearerAuth, authenticate=authenticate)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
