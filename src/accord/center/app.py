"""The composition root of the service: :func:`create_app` wires settings, the clock and the
parts into a FastAPI application. Importing this module does no work; the database, the keys
and the agreement are opened in the application's lifespan (on start-up, in a worker thread)
and released on shut-down, after the live events' hub (:mod:`accord.center.live`) has ended
its streams; so is the background task that escalates unacknowledged direct-line messages
and airspace alerts (every ``Settings.escalation_interval_s`` seconds; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from accord import __version__
from accord.center import operations, picture, problems, web
from accord.center.admission import AdmissionGate
from accord.center.airspace import escalate_alerts_due
from accord.center.auth import BearerAuth, document_bearer
from accord.center.config import DEFAULT_KEYS_DIR, Settings, database_url
from accord.center.directline import escalation_loop
from accord.center.drain import Drain
from accord.center.hardening import NoStore, StrictJson
from accord.center.identity import Caller
from accord.center.limits import BodyLimit
from accord.center.live import Hub
from accord.center.routes import ROUTERS
from accord.center.runtime import Center, Clock, system_clock
from accord.center.tls import HSTS, TLS_ENV
from accord.examples import example_path

__all__ = [
    "AGREEMENT_ENV",
    "CLOCK_ENV",
    "KEYS_DIR_ENV",
    "create_app",
    "from_environment",
    "settings_from_environment",
]

AGREEMENT_ENV = "ACCORD_AGREEMENT"
"""The agreement file for :func:`from_environment` (default: the embedded example)."""

KEYS_DIR_ENV = "ACCORD_KEYS_DIR"
"""The folder of the server-side keys for :func:`from_environment` (default: ``var/keys``)."""

_NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
"""FastAPI's native telemetry, all of it off (see :func:`create_app`)."""

CLOCK_ENV = "ACCORD_CLOCK"
"""An exercise clock shared by several server processes: ``START@ORIGIN``, the instant
(ISO 8601) the clock read at ``ORIGIN`` seconds of :func:`time.monotonic` (see
:func:`accord.center.exercise.exercise_clock`); unset, the system clock."""

_DESCRIPTION = """The joint coordination center as a service. Every route under `/v1`
needs `Authorization: Bearer <token>` (from `accord users add`); errors are RFC 9457 problem
details (`application/problem+json`)."""


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    background: Sequence[Callable[[Center], Coroutine[Any, Any, None]]] = (),
    writer_socket: Path | None = None,
    hsts: bool = False,
) -> FastAPI:
    """The service for ``settings``; ``clock`` gives the current instant (UTC);
    ``background``: tasks run on the center while the service runs (the exercise's track
    feed), cancelled on shut-down; ``writer_socket``: the writer process's socket, where
    the requests' units of work go (:mod:`accord.center.writer_process`), when there is
    one; ``hsts``: the service is served over TLS, so every answer carries
    ``Strict-Transport-Security`` (:mod:`accord.center.tls`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        center = await anyio.to_thread.run_sync(partial(Center.start, settings, clock=clock))
        remote = None
        if writer_socket is not None:
            from accord.center.writer_process import RemoteWriter

            center.remote = remote = RemoteWriter(writer_socket)
        app.state.center = center
        app.state.live = hub = Hub(center)
        ticker = None
        if settings.escalation_interval_s > 0:
            ticker = asyncio.create_task(
                escalation_loop(center, settings.escalation_interval_s, (escalate_alerts_due,))
            )
        tasks = [asyncio.create_task(task(center)) for task in background]
        stop_warming = threading.Event()
        warming: asyncio.Task[None] | None = None
        try:
            await anyio.to_thread.run_sync(operations.prepare, center)
            await anyio.to_thread.run_sync(prepare_page)
            warming = asyncio.create_task(
                anyio.to_thread.run_sync(picture.warm_record, center, stop_warming)
            )
            yield
        finally:
            stop_warming.set()
            if warming is not None:
                with contextlib.suppress(Exception):
                    await warming
            await hub.close()
            for extra in [ticker, *tasks]:
                if extra is None:
                    continue
                extra.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await extra
            if remote is not None:
                await remote.close()
            operations.close_desk(center)
            center.close()

    app = FastAPI(
        title="Accord",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry capture stays off whatever the environment says: it
        # would hand request bodies, parsed arguments and exception messages — a party's
        # `center` positions among them — to any exporter configured in the process.
        telemetry=_NO_TELEMETRY,
        # No /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN, which
        # the service's Content-Security-Policy forbids and an offline center cannot reach;
        # /openapi.json stays, for any viewer the reader runs on its side.
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    prepare_page = web.install(app)

    def authenticate(token: str) -> Caller | None:
        center: Center = app.state.center
        return center.authenticate(token)

    def remembered(token: str) -> Caller | None:
        center: Center = app.state.center
        return center.remembered(token)

    schema_of = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_bearer(schema_of())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    # The last added runs first: HSTS (with TLS) and no-store on every answer, the drain's
    # 503 for a request cut short, the body limit, authentication, the per-member limits on
    # reads and streams, then the strict reading of JSON bodies, then the routes.
    app.add_middleware(StrictJson)
    app.add_middleware(AdmissionGate)
    app.add_middleware(BearerAuth, authenticate=authenticate, remembered=remembered)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Drain)  # a request cut short by SIGTERM's drain: 503, not 500
    app.add_middleware(NoStore)
    if hsts:  # outermost: on every answer, refusals included
        app.add_middleware(HSTS)
    return app


def settings_from_environment() -> tuple[Settings, Clock]:
    """The settings and the clock the environment describes: ``ACCORD_DATABASE_URL``,
    ``ACCORD_AGREEMENT``, ``ACCORD_KEYS_DIR`` and ``ACCORD_CLOCK`` (what ``accord serve``
    hands to the processes it starts)."""
    agreement = os.environ.get(AGREEMENT_ENV)
    settings = Settings(
        database_url=database_url(None, os.environ),
        agreement_path=Path(agreement) if agreement else example_path("jig.yaml"),
        keys_dir=Path(os.environ.get(KEYS_DIR_ENV) or DEFAULT_KEYS_DIR),
    )
    shared = os.environ.get(CLOCK_ENV)
    if not shared:
        return settings, system_clock
    from accord.center.exercise import exercise_clock
    from accord.chrono import parse_instant

    start, _, origin = shared.partition("@")
    try:
        clock = exercise_clock(parse_instant(start), origin=float(origin))
    except ValueError:
        raise ValueError(f"{CLOCK_ENV}: expected START@ORIGIN, got {shared!r}") from None
    return settings, clock


def from_environment() -> FastAPI:
    """The service configured by the environment (:func:`settings_from_environment`; and
    ``ACCORD_WRITER_SOCKET``: the writer process the works go to, when there is one;
    ``ACCORD_TLS=1``: served over TLS, so HSTS on every answer). For
    running several server processes, e.g. ``uvicorn --factory
    accord.center.app:from_environment --workers 2`` (live events reach every process's
    subscribers: through LISTEN/NOTIFY on PostgreSQL, by reading the events table on
    SQLite)."""
    from accord.center.writer_process import SOCKET_ENV

    settings, clock = settings_from_environment()
    socket = os.environ.get(SOCKET_ENV)
    return create_app(
        settings,
        clock=clock,
        writer_socket=Path(socket) if socket else None,
        hsts=os.environ.get(TLS_ENV) == "1",
    )
