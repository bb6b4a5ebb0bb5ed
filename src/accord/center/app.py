"""The HTTP application assembled: :func:`create_app` wires every feature's routes
(:data:`ROUTERS`), the HTTP layer's middleware and problem handlers (:mod:`accord.center.http`)
and the page around a process's parts (:class:`~accord.center.bootstrap.Parts`, the composition
root), which its lifespan starts (on start-up, in worker threads where they block) and stops on
shut-down — the center, its caches, its line to the writer process, the background jobs and the
live events' hub (see :mod:`accord.center.bootstrap`, where a new background job goes).
Importing this module, or calling :func:`create_app`, does no work. :func:`from_environment`
is the factory of the processes ``accord serve`` starts (``uvicorn --factory``).

It stands above the features and the HTTP layer, outside both: the features' routes use the
HTTP layer's parts (:mod:`accord.center.http.deps`, ``auth``, ``writes``, ``problems``), and
this module, which imports every feature's routes, is imported by nothing but the entry
points — so no import runs from the HTTP layer back into a feature.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from accord import __version__
from accord.center.airspace import routes as airspace
from accord.center.basemap import routes as basemap
from accord.center.basemap.archive import open_archive
from accord.center.bootstrap import Parts, cot_from_environment, settings_from_environment
from accord.center.certificates import routes as certificates
from accord.center.coordinates import routes as coordinates
from accord.center.declarations import routes as declarations
from accord.center.devices import routes as devices
from accord.center.directline import routes as directline
from accord.center.disclosure import routes as disclosure
from accord.center.drafts import routes as drafts
from accord.center.events import routes as events
from accord.center.exports import routes as exports
from accord.center.health import routes as health
from accord.center.http import problems, web
from accord.center.http.admission import AdmissionGate
from accord.center.http.auth import BearerAuth, document_bearer
from accord.center.http.drain import Drain
from accord.center.http.hardening import NoStore, StrictJson
from accord.center.http.limits import BodyLimit
from accord.center.http.tls import HSTS, TLS_ENV
from accord.center.identity import Caller
from accord.center.operations import routes as operations
from accord.center.phases import agreement_routes as agreement
from accord.center.phases import routes as phases
from accord.center.picture import compliance_routes as compliance
from accord.center.picture import routes as picture
from accord.center.reader_process import READER_SOCKET_ENV, ReaderSocket
from accord.center.record import keys_routes as keys
from accord.center.record import routes as record
from accord.center.record import tiles_routes as tlog
from accord.center.reports import routes as reports
from accord.center.runtime import Center
from accord.center.signing import routes as signing
from accord.center.users import me_routes as me
from accord.center.users import routes as users
from accord.center.writer_process import SOCKET_ENV, WriterSocket

__all__ = ["ROUTERS", "create_app", "from_environment"]

ROUTERS = (
    me.router,
    agreement.router,
    keys.router,
    signing.router,
    phases.router,
    declarations.router,
    exports.router,
    operations.router,
    directline.router,
    events.router,
    record.router,
    tlog.router,
    picture.router,
    compliance.router,
    reports.router,
    drafts.router,
    coordinates.router,
    airspace.router,
    disclosure.router,
    users.router,
    certificates.router,
    devices.router,
    basemap.router,
    health.router,
)
"""Every feature's router (each an :class:`fastapi.APIRouter` in its feature's folder,
``<feature>/routes.py``), in the order the OpenAPI schema lists them; a new feature's router
is added here."""

_NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
"""FastAPI's native telemetry, all of it off (see :func:`create_app`)."""

_DESCRIPTION = """The joint coordination center as a service. Every route under `/v1`
needs `Authorization: Bearer <token>` (from `accord users add`); errors are RFC 9457 problem
details (`application/problem+json`)."""


def create_app(parts: Parts, *, hsts: bool = False) -> FastAPI:
    """The service made of ``parts`` (started by the application's lifespan:
    :meth:`Parts.serving <accord.center.bootstrap.Parts.serving>`; its center in
    ``app.state.center``, its hub in ``app.state.live``, its TAK endpoint (or ``None``) in
    ``app.state.cot``, ``parts`` in ``app.state.parts``, the operator's basemap archive, if
    any, in ``app.state.basemap``);
    ``hsts``: the service is served over TLS, so every answer carries
    ``Strict-Transport-Security`` (:mod:`accord.center.http.tls`)."""
    settings = parts.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with parts.serving() as serving:
            app.state.center = serving.center
            app.state.live = serving.hub
            app.state.cot = serving.cot
            if settings.basemap is not None:  # checked here too: a worker reads it itself
                app.state.basemap = await anyio.to_thread.run_sync(open_archive, settings.basemap)
            await anyio.to_thread.run_sync(prepare_page)
            yield

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
    app.state.parts = parts
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


def from_environment() -> FastAPI:
    """The service configured by the environment
    (:func:`~accord.center.bootstrap.settings_from_environment`; and
    ``ACCORD_WRITER_SOCKET``: the writer process the works go to, when there is one;
    ``ACCORD_READER_SOCKET``: the reader process the heavy reads go to, when there is one;
    ``ACCORD_TLS=1``: served over TLS, so HSTS on every answer; ``ACCORD_COT``: the TAK
    endpoint's options). For running several
    server processes, e.g. ``uvicorn --factory accord.center.app:from_environment
    --workers 2`` (live events reach every process's subscribers: through LISTEN/NOTIFY
    on PostgreSQL, by reading the events table on SQLite)."""
    settings, clock = settings_from_environment()
    socket = os.environ.get(SOCKET_ENV)
    reads = os.environ.get(READER_SOCKET_ENV)
    return create_app(
        Parts(
            settings,
            clock=clock,
            writer=WriterSocket(Path(socket)) if socket else None,
            reader=ReaderSocket(Path(reads)) if reads else None,
            cot=cot_from_environment(),
        ),
        hsts=os.environ.get(TLS_ENV) == "1",
    )
