"""The officers' page: the common operating picture served at ``/``.

The page (``src/accord/web/``: ``index.html``, plain ES modules and a stylesheet) is served
under ``/static/`` (its icon also at ``/favicon.ico``); the map library and the Natural Earth
basemap come from npm (``package.json`` and its lock at the repository's root, installed by
``npm ci``) and are served from ``node_modules`` under ``/vendor/`` — a fixed list of files,
nothing else of ``node_modules`` — and so is the basemap made ready to draw from world-atlas's
TopoJSON by :mod:`accord.center.http.basemap` (once per process, when the service starts).
Nothing is fetched from elsewhere at run time.

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

import gzip
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.center.http.basemap import pack_countries
from accord.center.http.problems import problem_response

__all__ = [
    "CSP",
    "DERIVED_FILES",
    "NODE_MODULES_ENV",
    "PACKAGED_VENDOR",
    "VENDOR_CACHE",
    "VENDOR_FILES",
    "WEB_DIR",
    "install",
    "node_modules",
]

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
"""The page's own files (``index.html``, ``*.js``, ``*.css``), shipped with the package."""

NODE_MODULES_ENV = "ACCORD_NODE_MODULES"
"""Where ``npm ci`` put the page's vendor files (default: ``node_modules`` at the
repository's root, else in the working directory)."""

VENDOR_FILES: Mapping[str, str] = json.loads((WEB_DIR / "vendor.json").read_text(encoding="utf-8"))[
    "files"
]
"""``/vendor/<name>`` → the file under ``node_modules`` that answers it (``web/vendor.json``,
which ``setup.py`` also reads to put them in the package)."""

PACKAGED_VENDOR = WEB_DIR / "vendor"
"""Where an installed package keeps its vendor files (``setup.py`` copies them there from
``node_modules`` at build time); absent in a checkout."""


def _pack_basemap(raw: bytes) -> bytes:
    return pack_countries(json.loads(raw))


DERIVED_FILES: Mapping[str, tuple[str, Callable[[bytes], bytes]]] = {
    "countries-50m.bin": ("world-atlas/countries-50m.json", _pack_basemap),
}
"""``/vendor/<name>`` → the file under ``node_modules`` it is made from, and how: the page's
basemap, projected and packed by :func:`accord.center.http.basemap.pack_countries`."""

_log = logging.getLogger("accord.center")

VENDOR_CACHE = "public, max-age=86400"
"""How long a browser keeps a vendor file without asking (a day: they change only with
``npm ci``; after that, the ETag answers 304 or the new file). The page's own files are
``no-cache``: asked again each time, answered 304 while unchanged."""

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
    """The folder the vendor files are served from (it may not exist): ``ACCORD_NODE_MODULES``,
    else the installed package's own copy (:data:`PACKAGED_VENDOR`), else ``node_modules``
    at the checkout's root, else in the working directory."""
    env = os.environ if environ is None else environ
    configured = env.get(NODE_MODULES_ENV)
    if configured:
        return Path(configured)
    if PACKAGED_VENDOR.is_dir():
        return PACKAGED_VENDOR
    root = Path(__file__).resolve().parents[4] / "node_modules"  # src/accord/center/http/web.py
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


_COMPRESSIBLE = frozenset({".html", ".js", ".css", ".json", ".svg", ".bin"})
_GZIP_LEVEL = 1  # countries-50m.json: 13 ms to 39 % (level 6: 166 ms to 31 %)


@dataclass(frozen=True, slots=True)
class _Kept:
    """A file served from memory: its bytes, their gzip form (or ``None``), its ETag, and the
    ``(mtime_ns, size)`` it was read at (a changed file is read again)."""

    body: bytes
    gzipped: bytes | None
    etag: str
    stamp: tuple[int, int]


Make = Callable[[bytes], bytes]
"""How a served file is made from the file on disk (``None``: served as it is)."""


def _read(path: Path, stamp: tuple[int, int], make: Make | None, suffix: str) -> _Kept:
    body = path.read_bytes()
    if make is not None:
        body = make(body)
    gzipped = None
    if suffix in _COMPRESSIBLE and len(body) > 1024:
        gzipped = gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
    etag = hashlib.sha256(body).hexdigest()[:32]
    return _Kept(body, gzipped, etag, stamp)


class _Files:
    """The page's files and the vendor files, read once and served from memory (no worker
    thread per request or per chunk), gzipped when the client accepts it — they hold
    nothing secret, so compression tells an observer nothing (the ``/v1`` answers are not
    compressed: they mix a caller's own secrets with what others declared). Each answer
    carries an ETag; a request naming it (``If-None-Match``) gets 304."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Path, Make | None], _Kept] = {}

    def _stamp(self, path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size) if stat.S_ISREG(st.st_mode) else None

    def _make(
        self, path: Path, stamp: tuple[int, int], make: Make | None, suffix: str
    ) -> _Kept | None:
        try:
            kept = _read(path, stamp, make, suffix)
        except OSError:
            return None
        except (ValueError, KeyError, TypeError, IndexError) as error:
            _log.error("%s cannot be made ready to serve: %r", path, error)
            return None
        self._kept[(path, make)] = kept
        return kept

    def keep(self, path: Path, make: Make | None = None, suffix: str = "") -> _Kept | None:
        """The file at ``path`` (made into what is served by ``make``, typed by ``suffix``,
        default the path's), read again if it changed on disk since it was last kept;
        ``None`` if there is none (or ``make`` refuses it: said in the log)."""
        stamp = self._stamp(path)
        if stamp is None:
            return None
        kept = self._kept.get((path, make))
        if kept is not None and kept.stamp == stamp:
            return kept
        return self._make(path, stamp, make, suffix or path.suffix)

    async def answer(
        self,
        request: Request,
        path: Path,
        *,
        cache: str,
        make: Make | None = None,
        suffix: str = "",
    ) -> Response | None:
        """:meth:`keep`'s file as an answer to ``request`` (``None`` if there is none); a
        file not yet kept, or changed, is read in a worker thread."""
        suffix = suffix or path.suffix
        stamp = self._stamp(path)
        if stamp is None:
            return None
        kept = self._kept.get((path, make))
        if kept is None or kept.stamp != stamp:
            kept = await anyio.to_thread.run_sync(self._make, path, stamp, make, suffix)
            if kept is None:
                return None
        zipped = kept.gzipped is not None and "gzip" in request.headers.get("accept-encoding", "")
        etag = f'"{kept.etag}-gz"' if zipped else f'"{kept.etag}"'
        headers = {"Cache-Control": cache, "ETag": etag, "Vary": "Accept-Encoding"}
        if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        if zipped:
            headers["Content-Encoding"] = "gzip"
        media = _TYPES.get(suffix, "application/octet-stream")
        body = kept.gzipped if zipped and kept.gzipped is not None else kept.body
        return Response(body, media_type=media, headers=headers)


def _missing(what: str) -> Response:
    return problem_response(404, f"{what} is not here", kind="not-found")


def install(app: FastAPI, *, vendor_dir: Path | None = None) -> Callable[[], None]:
    """Serve the page at ``/``, its files under ``/static/`` and the vendor files under
    ``/vendor/`` (from ``vendor_dir``, default :func:`node_modules`). Returns what reads
    them all into memory now and makes the derived ones (:data:`DERIVED_FILES`): to call
    when the service starts (in a worker thread), so that no page load waits for it."""
    files = WEB_DIR.iterdir() if WEB_DIR.is_dir() else iter(())
    own = {p.name: p for p in files if p.is_file() and p.suffix in _TYPES}

    def vendor_root() -> Path:
        return vendor_dir if vendor_dir is not None else node_modules()

    kept = _Files()

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        answer = await kept.answer(request, WEB_DIR / "index.html", cache="no-cache")
        return answer if answer is not None else _missing("/")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon(request: Request) -> Response:
        # Browsers ask for /favicon.ico whatever the page links: answered with the page's
        # SVG icon (index.html links it too), typed as what it is.
        answer = await kept.answer(request, WEB_DIR / "favicon.svg", cache="no-cache")
        return answer if answer is not None else _missing("/favicon.ico")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(request: Request, name: str) -> Response:
        path = own.get(name)
        answer = None if path is None else await kept.answer(request, path, cache="no-cache")
        return answer if answer is not None else _missing(f"/static/{name}")

    @app.get("/vendor/{name}", include_in_schema=False)
    async def vendor(request: Request, name: str) -> Response:
        answer = None
        if name in VENDOR_FILES:
            path = vendor_root() / VENDOR_FILES[name]
            answer = await kept.answer(request, path, cache=VENDOR_CACHE)
        elif name in DERIVED_FILES:
            source, make = DERIVED_FILES[name]
            answer = await kept.answer(
                request,
                vendor_root() / source,
                cache=VENDOR_CACHE,
                make=make,
                suffix=Path(name).suffix,
            )
        if answer is None:
            return _missing(f"/vendor/{name} (run `npm ci` at the repository's root)")
        return answer

    def prepare() -> None:
        for page_file in [WEB_DIR / "index.html", *own.values()]:
            kept.keep(page_file)
        for relative in VENDOR_FILES.values():
            kept.keep(vendor_root() / relative)
        for name, (source, make) in DERIVED_FILES.items():
            kept.keep(vendor_root() / source, make, Path(name).suffix)

    app.add_middleware(PageHeaders)
    return prepare
