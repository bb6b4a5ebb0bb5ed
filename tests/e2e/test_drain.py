"""SIGTERM drains ``accord serve`` under load: it stops accepting connections, finishes or
answers 503 (a problem, never a 500) what is in flight — a request whose body trickles in
and cannot finish included — and exits within 10 s, with and without a writer process;
after a restart every change it acknowledged (a 2xx) is there."""

from __future__ import annotations

import json
import re
import signal
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.live import LiveServer
from sqlalchemy.orm import Session

from accord.agreement import load_agreement
from accord.center.db import make_engine, upgrade, writer
from accord.center.identity import add_user
from accord.center.keystore import log_origin
from accord.center.roles import Role
from support.jig import AGREEMENT
from support.load import declaring, made, position, rooted_server
from support.offices import Offices

CLIENTS = 4
PER_CLIENT = 150  # bounded: the clients stop here if the server has not stopped them
EXIT_WITHIN = 10.0


def _slow_request(server: LiveServer, token: str) -> socket.socket:
    """A POST whose body stops half-way: in flight until the drain's time is up."""
    body = json.dumps(position(9, 0)).encode()
    head = (
        f"POST /v1/declarations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(head + body[: len(body) // 2])
    return sock


def _started_with(name: str, value: str) -> list[int]:
    """The processes whose environment holds ``name=value`` (read from ``/proc``)."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if wanted in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return data


@pytest.mark.parametrize("extra", [(), ("--writer-process",)], ids=["one-process", "writer"])
def test_sigterm_drains_a_busy_server(tmp_path: Path, extra: tuple[str, ...]) -> None:
    server = rooted_server(tmp_path)
    assert server.agreement_path is not None
    engine = make_engine(server.database_url)  # seeded directly: quicker than the command
    users = {"o": ("blue", Role.OFFICER), "r": ("red", Role.OFFICER)}
    try:
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            tokens = {
                name: add_user(
                    session, AGREEMENT, name=name, member=member, role=role, at=datetime.now(UTC)
                )
                for name, (member, role) in users.items()
            }
    finally:
        engine.dispose()
    token = tokens["o"]
    auth = {"Authorization": f"Bearer {token}"}
    server.start(extra=extra)
    offices = Offices(
        log_origin(load_agreement(server.agreement_path)), users, lambda: datetime.now(UTC)
    )
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        offices.start(client, tokens)
    acknowledged: dict[str, Any] = {}
    statuses: list[tuple[float, int]] = []
    stop = threading.Event()

    def load(n: int) -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            for i in range(PER_CLIENT):
                if stop.is_set():
                    return
                key, (path, body) = f"c{n}-{i}", declaring(position(n, i))
                signed = offices.headers("o", "POST", path, body)
                try:
                    r = client.post(path, json=body, headers={"Idempotency-Key": key, **signed})
                except httpx.TransportError:
                    return  # the server no longer takes connections
                statuses.append((time.monotonic(), r.status_code))
                if r.status_code == 503:
                    assert r.headers["content-type"].startswith("application/problem+json")
                if (declared := made(r)) is not None:
                    acknowledged[key] = declared

    slow = _slow_request(server, token)
    threads = [threading.Thread(target=load, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    while len(acknowledged) < 20:
        time.sleep(0.02)
    process = server.process
    assert process is not None
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    took = time.monotonic() - signalled
    stop.set()
    for t in threads:
        t.join(timeout=30)
    answer = _answer(slow)
    log = server.log_path.read_text()
    assert took < EXIT_WITHIN, (took, log[-3000:])
    assert answer.startswith(b"HTTP/1.1 503"), (answer, log[-3000:])
    assert b"application/problem+json" in answer and b"shutting-down" in answer
    assert {s for _, s in statuses} <= {200, 201, 503}, statuses
    assert any(at > signalled for at, _ in statuses) or len(statuses) == CLIENTS * PER_CLIENT
    assert "Exception in ASGI application" not in log
    if extra:  # the writer process was stopped with the server, its socket's folder removed
        ready = re.search(r"writer: ready on (\S+)", log)
        assert ready is not None, log[-3000:]
        assert not Path(ready[1]).parent.exists(), log[-3000:]
        assert _started_with("ACCORD_WRITER_SOCKET", ready[1]) == []

    # Restarted (in one process: what was stopped is under test, not how it starts), it
    # serves every change it acknowledged.
    server.start()
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            for key, body in acknowledged.items():
                got = client.get(f"/v1/declarations/{body['id']}")
                assert got.status_code == 200, (key, got.text)
                assert got.json()["entry"] == body["entry"]
    finally:
        server.stop()
