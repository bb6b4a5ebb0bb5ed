"""Live events as the tests make and read them: a ``test.note`` published straight into the
table, and real servers (uvicorn processes on a loopback port) to stream them from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench.live import free_port

import accord
from accord.agreement import load_agreement
from accord.center.bootstrap import Parts
from accord.center.config import Settings
from accord.center.event_store import publish
from accord.center.keystore import log_origin
from accord.center.runtime import Center
from support.jig import NOW
from support.offices import Offices
from support.service import USERS, add_users, clock, settings_for

SSE = {"Accept": "text/event-stream"}
EVENTS_PATH = "/v1/events"


def note(center: Center, audience: list[str], n: int) -> None:
    """Publish one ``test.note`` event for ``audience`` (as a change would, in a unit)."""
    with center.writing() as unit:
        publish(unit.session, kind="test.note", at=NOW, audience=audience, payload={"n": n})


@dataclass
class Server:
    """A uvicorn process (or supervisor of workers) on a loopback port."""

    base: str
    process: subprocess.Popen[bytes]
    tokens: dict[str, str]
    offices: Offices | None = None

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def post(self, path: str, user: str, **kwargs: Any) -> httpx.Response:
        """A write by ``user``, signed by the user's key at its office."""
        headers = self.auth(user)
        if self.offices is not None:
            headers |= self.offices.headers(user, "POST", path, kwargs.get("json"))
        return httpx.post(self.base + path, headers=headers, timeout=30, **kwargs)

    def stop(self, timeout: float = 20) -> float:
        """SIGTERM; how long the server took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return time.monotonic() - started


def served_agreement() -> Path:
    """The agreement the servers serve: ``$ACCORD_AGREEMENT`` (it names the tests' roots)."""
    return Path(os.environ["ACCORD_AGREEMENT"])


def settings_served(tmp_path: Path, database_url: str) -> Settings:
    """The settings of a center over the servers' database and agreement, in this process."""
    return settings_for(tmp_path, database_url=database_url, agreement_path=served_agreement())


def prepare(tmp_path: Path, database_url: str) -> dict[str, str]:
    """Users, and the keys and the record (its first entry, the agreement), made once before
    any server starts."""
    tokens = add_users(database_url)
    Parts(settings_served(tmp_path, database_url), clock=clock).open().close()
    return tokens


@contextmanager
def server(
    tmp_path: Path, database_url: str, tokens: dict[str, str], *, workers: int = 1
) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": database_url,
        "ACCORD_KEYS_DIR": str(tmp_path / "keys"),
        "PYTHONPATH": str(Path(accord.__file__).resolve().parents[1]),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "accord.center.app:from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    log = (tmp_path / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Server(f"http://127.0.0.1:{port}", process, tokens)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / f"server-{port}.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(running.base + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        origin = log_origin(load_agreement(served_agreement()))
        running.offices = Offices(origin, USERS, lambda: datetime.now(UTC))
        with httpx.Client(base_url=running.base, timeout=30) as client:
            running.offices.start(client, tokens)
        yield running
    finally:
        try:
            running.stop()
        finally:
            log.close()


@dataclass
class Subscriber:
    """An SSE client in a thread: every message it received, in order."""

    server: Server
    user: str
    headers: dict[str, str] = field(default_factory=dict)
    messages: list[dict[str, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    arrived: list[float] = field(default_factory=list)

    def start(self) -> Subscriber:
        threading.Thread(target=self._run, daemon=True).start()
        assert self.opened.wait(30), f"{self.user}: the stream did not open"
        return self

    def _run(self) -> None:
        headers = {**self.server.auth(self.user), **SSE, **self.headers}
        try:
            with httpx.stream(
                "GET", self.server.base + EVENTS_PATH, headers=headers, timeout=httpx.Timeout(60)
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                message: dict[str, str] = {}
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                        self.opened.set()
                    elif line == "":
                        if "data" in message:  # as EventSource: no data, no event
                            self.messages.append(message)
                            self.arrived.append(time.monotonic())
                        message = {}
                    else:
                        name, _, value = line.partition(":")
                        message[name] = value.removeprefix(" ")
        except BaseException as error:
            self.error = error
        finally:
            self.opened.set()
            self.ended.set()

    def ids(self) -> list[int]:
        return [int(m["id"]) for m in self.messages]

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, (self.user, self.messages, self.error)
