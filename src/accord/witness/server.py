"""The witness's HTTP edge: C2SP tlog-witness v1 over a small Starlette application.

``POST /add-checkpoint`` parses and checks the request (:mod:`accord.record.witness_protocol`:
origin, log signature, old size), signs the cosignature, then queues the request for the
store's writer thread, which decides every queued request against the stored state and
stores the results in one SQLite transaction, synced, before any of them is answered
(group commit: one fsync for all the requests that arrived while the last one ran; the
check and the write of each stay one atomic step, :mod:`accord.witness.store`).
``GET /<hex SHA-256 of the origin>/checkpoint`` serves the latest cosigned checkpoint
(tlog-witness, "Monitor Retrieval Mechanism").

Why Starlette: it is already the center's stack (FastAPI is built on it) and adds almost
nothing per request; FastAPI's validation and dependency injection have nothing to do for
a text protocol, and the standard library's ``http.server`` has no keep-alive event loop
to batch commits from. uvicorn serves it (httptools, uvloop where installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from accord.errors import AccordError, StaleSize
from accord.record.keys import SIG_ED25519, PrivateKey
from accord.record.note import Note, cosignature_line
from accord.record.witness_protocol import (
    MAX_BODY,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    WitnessedLog,
    check_request,
    parse_add_checkpoint,
    status_of,
)
from accord.witness.store import Outcome, WitnessStore

__all__ = ["MAX_BATCH", "create_app"]

MAX_BATCH = 512
"""At most this many requests decided and committed together."""


class _Writer:
    """One thread that owns the store's connection; requests queued while it commits go in
    the next transaction together."""

    def __init__(self, store: WitnessStore) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="witness-store")
        self._pending: list[tuple[tuple[AddCheckpoint, str], asyncio.Future[Outcome]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: AddCheckpoint, note: str) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append(((request, note), future))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                items = [item for item, _ in batch]
                try:
                    outcomes = await loop.run_in_executor(self._executor, self.store.apply, items)
                except Exception as error:  # the transaction failed: nothing of it is stored
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._draining = False

    async def read(self, origin: str) -> str | None:
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self._executor, self.store.latest, origin)
        return None if found is None else found[1]

    def close(self) -> None:
        self._executor.submit(self.store.close).result()
        self._executor.shutdown()


def _refusal(error: AccordError) -> Response:
    status = status_of(error)
    if isinstance(error, StaleSize):
        # tlog-witness: "The response body MUST consist of the tree size of the latest
        # cosigned checkpoint in decimal, followed by a newline (U+000A). The response MUST
        # have a Content-Type of text/x.tlog.size." (set as a header: Starlette would add a
        # charset to a text/ media type)
        return Response(f"{error.size}\n", status, headers={"content-type": SIZE_CONTENT_TYPE})
    return PlainTextResponse(f"{error}\n", status)


def create_app(
    *,
    key: PrivateKey,
    logs: Mapping[str, WitnessedLog],
    data: str | Path,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The witness application: cosigns with ``key`` for ``logs``, its state under ``data``.

    ``clock`` gives the cosignatures' time (seconds); a cosignature's timestamp is never
    zero (tlog-witness: "the timestamp MUST NOT be zero").
    """
    writer = _Writer(WitnessStore(data))
    by_hash = {hashlib.sha256(origin.encode()).hexdigest(): origin for origin in logs}
    log_key_ids = {
        origin: {(k.name, k.note_key_id(SIG_ED25519)) for k in log.keys}
        for origin, log in logs.items()
    }

    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse(f"the request body is over {MAX_BODY} bytes\n", 400)
        try:
            parsed = parse_add_checkpoint(bytes(body))
            check_request(parsed, logs)
        except AccordError as error:
            return _refusal(error)
        timestamp = max(1, int(clock()))
        line = cosignature_line(parsed.body, key=key, timestamp=timestamp)
        # kept for the monitoring endpoint: the checkpoint, the log signatures the witness
        # verified (signed-note: lines of unknown keys are not kept) and its cosignature
        trusted = log_key_ids[parsed.origin]
        kept = Note(
            parsed.body, tuple(s for s in parsed.note.signatures if (s.name, s.key_id) in trusted)
        ).text()
        outcome = await writer.submit(parsed, kept + line)
        if outcome.error is not None:
            return _refusal(outcome.error)
        return PlainTextResponse(line, 200)

    async def checkpoint(request: Request) -> Response:
        origin = by_hash.get(request.path_params["origin_hash"])
        note = None if origin is None else await writer.read(origin)
        if note is None:
            return PlainTextResponse("this witness has cosigned no checkpoint of that log\n", 404)
        return PlainTextResponse(note, 200)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        writer.close()

    app = Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash:str}/checkpoint", checkpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.writer = writer
    return app
