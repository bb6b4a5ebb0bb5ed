"""The officers' page: the common operating picture served at ``/``.

The page (``src/accord/web/``: ``index.html``, plain ES modules and a stylesheet) is served
under ``/static/``; the map library and the Natural Earth basemap come from npm
(``package.json`` and its lock at the repository's root, installed by ``npm ci``) and are
served from ``node_modules`` under ``/vendor/`` — a fixed list of files, nothing else of
``node_modules``. Nothing is fetched from elsewhere at run time.

The page is a client of the same ``/v1`` API as everyone else and holds no privilege: what
it shows is what the API gives its user. Every answer here carries a strict
Content-Security-Policy (scripts only from this origin, no inline script, connections only
to this origin), so that a token in the page's ``sessionStorage`` is not exposed to
injected script; none of these routes needs or reads a token, and none is in the OpenAPI
schema (they are not part of the API).

When ``node_modules`` is missing the page still loads and says that the map assets are
missing (``/vendor/…`` answers 404); the server does not fail.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.center.problems import problem_response

__all__ = [
    "CSP",
    "NODE_MODULES_ENV",
    "VENDOR_FILES",
    "WEB_DIR",
    "install",
    "node_modules",
]

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""The page's own files (``index.html``, ``*.js``, ``*.css``), shipped with the package."""

NODE_MODULES_ENV = "ACCORD_NODE_MODULES"
"""Where ``npm ci`` put the page's vendor files (default: ``node_modules`` at the
repository's root, else in the working directory)."""

VENDOR_FILES: Mapping[str, str] = {
    "leaflet.js": "leaflet/dist/leaflet-src.esm.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "topojson-client.js": "topojson-client/dist/topojson-client.min.js",
    "countries-50m.json": "world-atlas/countries-50m.json",
    "land-50m.json": "world-atlas/land-50m.json",
    "countries-10m.json": "world-atlas/countries-10m.json",
}
"""``/vendor/<name>`` → the file under ``node_modules`` that answers it."""

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The page's Content-Security-Policy: this origin only, no inline script or style."""

_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def node_modules(environ: Mapping[str, str] | None = None) -> Path:
    """The ``node_modules`` folder the vendor files are served from (it may not exist)."""
    env = os.environ if environ is None else environ
    configured = env.get(NODE_MODULES_ENV)
    if configured:
        return Path(configured)
    root = Path(__file__).resolve().parents[3] / "node_modules"  # src/accord/center/web.py
    if root.is_dir():
        return root
    return Path.cwd() / "node_modules"


class PageHeaders:
    """ASGI middleware: the page's security headers on every answer outside ``/v1``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/v1" or path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                for name, value in _HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _file(path: Path, *, cache: str) -> Response:
    media = _TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media, headers={"Cache-Control": cache})


def _missing(what: str) -> Response:
    return problem_response(404, f"{what} is not here", kind="not-found")


def install(app: FastAPI, *, vendor_dir: Path | None = None) -> None:
    """Serve the page at ``/``, its files under ``/static/`` and the vendor files under
    ``/vendor/`` (from ``vendor_dir``, default :func:`node_modules`)."""
    files = WEB_DIR.iterdir() if WEB_DIR.is_dir() else iter(())
    own = {p.name: p for p in files if p.is_file() and p.suffix in _TYPES}

    def vendor_root() -> Path:
        return vendor_dir if vendor_dir is not None else node_modules()

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return _file(WEB_DIR / "index.html", cache="no-store")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        path = own.get(name)
        if path is None:
            return _missing(f"/static/{name}")
        return _file(path, cache="no-cache")

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        relative = VENDOR_FILES.get(name)
        path = None if relative is None else vendor_root() / relative
        if path is None or not path.is_file():
            return _missing(f"/vendor/{name} (run `npm ci` at the repository's root)")
        return _file(path, cache="max-age=3600")

    app.add_middleware(PageHeaders)
