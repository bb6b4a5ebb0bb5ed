"""Two guards on every ``/v1`` request, as ASGI middleware so that no route can forget them.

:class:`StrictJson` reads a request's body before any route does and refuses, with a 422
problem naming the key and its path, a JSON document that names one key twice in an object
(``"disclosure": "center", "disclosure": "shared"`` would otherwise store ``shared``: the last
wins) or that holds ``NaN`` or an infinity (not JSON; see :mod:`accord.jsontext`). A body
that is not JSON at all passes on unchanged, to be answered by the route's own validation.
The check of a large body runs in a worker thread: a refused body of 1 MiB of small objects
is read twice (the second time to name the path) — tens of milliseconds, measured by
``python -m bench.strictjson`` — and must not hold the event loop meanwhile.

:class:`NoStore` gives every ``/v1`` answer ``Cache-Control: no-store`` — errors, 304s and the
event stream included — so that no browser, proxy or shared cache keeps an owner's openings,
hidden positions or direct-line texts on disk. A route that chose a policy which already says
``no-store`` (``private, no-store``) keeps it; any other is replaced. It adds
``X-Content-Type-Options: nosniff`` too: no answer (a problem quoting what its sender sent
among them) is ever read by a browser as anything but its declared type.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.center.http.auth import PROTECTED_PREFIX, PROTECTED_PREFIXES
from accord.center.http.problems import FieldProblem, problem_response
from accord.jsontext import TWICE, DuplicateKey, NotJsonNumber, loads, shown

__all__ = ["NO_STORE", "NoStore", "StrictJson"]

NO_STORE = "no-store"
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_INLINE = 64 * 1024
"""Bodies up to this size are checked on the event loop (well under a millisecond); larger
ones in a worker thread, so that no body stalls the answers to others."""


def _protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


def _guarded(path: str) -> bool:
    """Under any prefix that needs a token (``/tlog`` too, whose answers set their own
    ``Cache-Control: private``, DECISIONS 12, and so stay outside :class:`NoStore`)."""
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
    return False


class StrictJson:
    """ASGI middleware: a ``/v1`` or ``/tlog`` request body that is JSON with a duplicated
    key, ``NaN`` or an infinity gets a 422 problem before any route reads it; any other body
    is handed on as it came (read once, replayed to the route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _guarded(scope["path"]) or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            try:
                message = await receive()
            except HTTPException as error:  # the body limit, counted as the body streamed
                detail = error.detail if isinstance(error.detail, str) else None
                await problem_response(error.status_code, detail, kind="too-large")(
                    scope, receive, send
                )
                return
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if len(body) <= _INLINE:
            problem = _refusal(body)
        else:  # up to the body limit: tens of milliseconds, off the event loop
            problem = await anyio.to_thread.run_sync(_refusal, body)
        if problem is not None:
            field, why = problem
            await problem_response(
                422,
                f"{field}: {why}",
                kind="validation",
                errors=[FieldProblem(field=field, location="body", message=why)],
            )(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _refusal(body: bytes) -> tuple[str, str] | None:
    """(field, why) when ``body`` is JSON with no single meaning, else ``None``."""
    if not body:
        return None
    try:
        loads(body)
    except DuplicateKey as error:
        return shown(error.path), TWICE
    except NotJsonNumber as error:
        return "body", str(error)
    except (ValueError, RecursionError):  # not JSON: the route's validation answers it
        return None
    return None


class NoStore:
    """ASGI middleware: ``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff``
    on every answer under ``/v1``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _protected(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"cache-control" or b"no-store" in value.lower()
                ]
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", NO_STORE.encode()))
                if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
                    headers.append(_NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)
