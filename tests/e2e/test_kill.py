"""Kill the server mid-load: every change it acknowledged (a 2xx) is there after a restart,
a retry of an acknowledged request replays its answer instead of changing anything again,
and the record fetched over the API verifies with the project's own verifier. The same with
a writer process (``--writer-process``): killed with the HTTP process, or alone."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.load import (
    blue_officers_server,
    child_process,
    declared_ids,
    declaring,
    made,
    position,
    verified_export,
)

CLIENTS = 6
MIN_ACKNOWLEDGED = 60
LOAD_SECONDS = 30.0


@pytest.mark.parametrize("extra", [(), ("--writer-process",)], ids=["one-process", "writer"])
def test_every_acknowledged_change_survives_a_kill(tmp_path: Path, extra: tuple[str, ...]) -> None:
    server, auth, offices = blue_officers_server(tmp_path)
    server.start(extra=extra)
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        offices.start(client, offices.tokens)
    acknowledged: dict[str, dict[str, Any]] = {}
    stop = threading.Event()

    def load(n: int) -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=10.0) as client:
            i = 0
            while not stop.is_set():
                key, (path, body) = f"c{n}-{i}", declaring(position(n, i))
                signed = offices.headers("blue-officer", "POST", path, body)
                try:
                    r = client.post(path, json=body, headers={"Idempotency-Key": key, **signed})
                except httpx.TransportError:
                    return  # the server is gone
                assert r.status_code in (200, 201, 503), r.text
                if (declared := made(r)) is not None:
                    acknowledged[key] = {
                        "body": declared,
                        "feature": position(n, i),
                        "request": (path, body),
                        "signed": signed,
                    }
                i += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + LOAD_SECONDS
    while len(acknowledged) < MIN_ACKNOWLEDGED and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # mid-load: requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= MIN_ACKNOWLEDGED, server.log_path.read_text()[-3000:]

    server.start(extra=extra)
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            for key, seen in acknowledged.items():
                body = seen["body"]
                got = client.get(f"/v1/declarations/{body['id']}")
                assert got.status_code == 200, (key, got.text)
                assert got.json()["entry"] == body["entry"]
                assert got.json()["feature"]["geometry"] == seen["feature"]["geometry"]
            # A client that never saw its answer retries: the stored answer, no new change.
            for key, seen in list(acknowledged.items())[:10]:
                path, body = seen["request"]
                again = client.post(
                    path, json=body, headers={"Idempotency-Key": key, **seen["signed"]}
                )
                assert again.headers.get("Idempotent-Replayed") == "true"
                assert made(again) == seen["body"]
            ids = declared_ids(client)
            assert {seen["body"]["id"] for seen in acknowledged.values()} <= ids
            report = verified_export(client, tmp_path / "record.jsonl")
        assert report.entries >= len(acknowledged)
        # Each declaration the server holds is one entry: nothing half-applied by the kill.
        # Besides: the agreement, the two users added, each party's root signing the
        # agreement, and the roots' registrations of the two officers' keys.
        assert report.authors["blue"] == len(ids) + 2 and report.entries == len(ids) + 7
    finally:
        server.stop()


def test_a_server_whose_writer_dies_refuses_changes_and_stops(tmp_path: Path) -> None:
    """The writer process killed alone: a change is refused (503, a problem body, never a
    500) and ``accord serve`` stops rather than serve on without a writer; after a restart
    the changes acknowledged before are all there."""
    server, auth, offices = blue_officers_server(tmp_path)
    server.start(extra=("--writer-process",))

    def declare(client: httpx.Client, n: int, i: int) -> httpx.Response:
        path, body = declaring(position(n, i))
        signed = offices.headers("blue-officer", "POST", path, body)
        return client.post(path, json=body, headers=signed)

    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=10.0) as client:
            offices.start(client, offices.tokens)
            answers = [declare(client, 0, i) for i in range(5)]
            done = [made(r) for r in answers]
            assert None not in done, [r.text for r in answers]
            os.kill(child_process(server, "writer_process"), signal.SIGKILL)
            statuses = set()
            deadline = time.monotonic() + 30
            assert server.process is not None
            while server.process.poll() is None and time.monotonic() < deadline:
                try:
                    r = declare(client, 0, 99)
                except httpx.TransportError:
                    break  # the server has stopped listening
                statuses.add(r.status_code)
                if r.status_code == 503:
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert r.json()["type"].endswith(":writer-unavailable")
                time.sleep(0.05)
            assert statuses <= {503}, statuses
            server.process.wait(timeout=30)  # it stopped by itself
        server.start(extra=("--writer-process",))
        with httpx.Client(base_url=server.url, headers=auth, timeout=10.0) as client:
            for declared in done:
                assert declared is not None
                got = client.get(f"/v1/declarations/{declared['id']}")
                assert got.status_code == 200 and got.json()["entry"] == declared["entry"]
            again = declare(client, 0, 7)
            assert made(again) is not None, again.text
    finally:
        server.stop()
