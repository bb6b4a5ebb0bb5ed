"""A token rotated (over the API) or removed (with ``accord users``, another process) is
refused within 1 s by every HTTP process of ``accord serve --workers 2 --writer-process``,
each of which remembered it a moment before: clients keep calling with the old token on
fresh connections (so the kernel spreads them over both workers) until after the change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bench.live import LiveServer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.center.db import make_engine, upgrade, writer
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.cli import app as cli
from accord.cli_fetch import fetch_export
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from support.jig import AGREEMENT
from support.load import rooted_server

REFUSED_WITHIN = 1.0
CLIENTS = 4
START = datetime.now(UTC)


def hammer(url: str, token: str, stop: threading.Event, seen: list[tuple[float, int]]) -> None:
    """GET /v1/me with ``token``, a new connection each time, until ``stop``."""
    limits = httpx.Limits(max_keepalive_connections=0)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=auth, limits=limits, timeout=10.0) as client:
        while not stop.is_set():
            status = client.get("/v1/me").status_code
            seen.append((time.monotonic(), status))


def refused_after(
    server: LiveServer, token: str, change: Callable[[], None]
) -> tuple[list[int], list[int]]:
    """Hammer with ``token``, run ``change`` while it is remembered, keep hammering 1.5 s
    more; the answers before the change began, and those from 1 s after it ended."""
    stop = threading.Event()
    seen: list[tuple[float, int]] = []
    threads = [
        threading.Thread(target=hammer, args=(server.url, token, stop, seen))
        for _ in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    time.sleep(0.5)
    began = time.monotonic()
    change()
    done = time.monotonic()
    time.sleep(REFUSED_WITHIN + 0.5)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    before = [status for at, status in seen if at < began]
    late = [status for at, status in seen if at >= done + REFUSED_WITHIN]
    return before, late


def test_a_rotated_or_removed_token_is_refused_by_every_worker_within_a_second(
    tmp_path: Path,
) -> None:
    server = rooted_server(tmp_path)
    engine = make_engine(server.database_url)  # seeded directly: quicker than the command
    try:
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            admin, officer = (
                add_user(session, AGREEMENT, name=name, member="blue", role=role, at=START)
                for name, role in (("admin", Role.ADMIN), ("officer", Role.OFFICER))
            )
    finally:
        engine.dispose()
    server.start(extra=("--workers", "2", "--writer-process"))
    try:
        new: list[str] = []

        auth = {"Authorization": f"Bearer {admin}"}

        def rotate() -> None:
            answer = httpx.post(f"{server.url}/v1/users/officer/rotate", headers=auth)
            assert answer.status_code == 200, answer.text
            new.append(answer.json()["token"])

        before, late = refused_after(server, officer, rotate)
        assert before and set(before) == {200}  # remembered, working, right up to the change
        assert len(late) >= 20 and set(late) == {401}, late
        (token,) = new

        def remove() -> None:  # accord users remove, run here: a process apart from the server
            where = ["--database", server.database_url, "--keys", str(server.keys_dir)]
            done = CliRunner().invoke(cli, ["users", "remove", "officer", *where])
            assert done.exit_code == 0, done.output

        before, late = refused_after(server, token, remove)
        assert before and set(before) == {200}
        assert len(late) >= 20 and set(late) == {401}, late

        # The center's two entries, one from the writer process and one from the command,
        # sit in one record that the project's verifier accepts.
        with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
            fetch_export(client, tmp_path / "record.jsonl")
            ring = KeyRing.from_json(client.get("/v1/keys").json())
        report = verify_log(tmp_path / "record.jsonl", keys=ring, workers=1)
        # the agreement (the record's first entry), the rotation, the removal: the center's
        assert report.entries == 3 and report.authors == {report.origin: 3}
    finally:
        server.stop()
