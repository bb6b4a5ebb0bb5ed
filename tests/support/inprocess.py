"""The center reached in process as over a socket: a clock that runs on from the tests' NOW
with real time (:class:`RunningClock`), and an httpx transport that hands an async client's
requests to the service's TestClient in a worker thread (:class:`Bridge`), so a client
process (a gateway, a feed) signs, sends and reads as it would over the network."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import httpx

from support.jig import NOW
from support.service import TestClient


class RunningClock:
    """The center's and the gateway's clock: NOW, running on with real time (the dead
    band's interval must end)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return NOW + timedelta(seconds=time.monotonic() - self.started)


class Bridge(httpx.AsyncBaseTransport):
    """The gateway's HTTP client reaching the application in process (the TestClient's
    transport, in a worker thread): the gateway signs, sends and reads as over a socket."""

    def __init__(self, client: TestClient) -> None:
        self.inner = client._transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        sent = httpx.Request(request.method, request.url, headers=request.headers, content=content)

        def call() -> httpx.Response:
            answer = self.inner.handle_request(sent)
            answer.read()
            return answer

        answer = await asyncio.to_thread(call)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
