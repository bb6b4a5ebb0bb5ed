"""Running a node as an operator does: ``accord serve --log-format json --writer-process``
logs one JSON object a line from every process (the access lines with their fields, never
a token), and ``/healthz`` and ``/readyz`` answer a supervisor with no token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from support.load import rooted_server


def test_a_node_logs_json_lines_and_answers_its_supervisor(tmp_path: Path) -> None:
    server = rooted_server(tmp_path)
    token = server.add_user("watcher", "observers", "monitor")
    server.start(extra=("--log-format", "json", "--writer-process"))
    try:
        alive = httpx.get(f"{server.url}/healthz")
        assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
        deadline, status = time.monotonic() + 30, 0
        while time.monotonic() < deadline and status != 200:
            ready = httpx.get(f"{server.url}/readyz")
            status = ready.status_code
            if status != 200:
                assert ready.json() == {"status": "starting"}, ready.text
                time.sleep(0.2)
        assert ready.json() == {"status": "ready"}
        me = httpx.get(f"{server.url}/v1/me?x=1", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        refused = httpx.get(f"{server.url}/v1/me", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401
    finally:
        server.stop()
    text = server.log_path.read_text(encoding="utf-8")
    assert token not in text and "nope" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # each one JSON
    assert all({"time", "level", "logger", "pid", "message"} <= set(one) for one in lines)
    access = [one for one in lines if one["logger"] == "uvicorn.access"]
    assert {"method": "GET", "path": "/v1/me?x=1", "status": 200}.items() <= next(
        one for one in access if one["path"].startswith("/v1/me?")
    ).items()
    assert any(one["path"] == "/v1/me" and one["status"] == 401 for one in access)
    assert any(one["logger"] == "accord.center.writer" for one in lines)  # the writer process
    assert any("serving on http://127.0.0.1" in one["message"] for one in lines)
    assert len({one["pid"] for one in lines}) >= 2
