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
                key = f"c{n}-{i}"
                signed = offices.headers("blue-officer", "POST", "/v1/declarations", position(n, i))
                try:
                    r = client.post(
                        "/v1/declarations",
                        json=position(n, i),
                        headers={"Idempotency-Key": key, **signed},
                    )
                except httpx.TransportError:
                    return  # the server is gone
                assert r.status_code in (201, 503), r.text
                if r.status_code == 201:
                    acknowledged[key] = {
                        "body": r.json(),
                        "feature": position(n, i),
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
                again = client.post(
                    "/v1/declarations",
                    json=seen["feature"],
                    headers={"Idempotency-Key": key, **seen["signed"]},
                )
                assert again.status_code == 201
                assert again.headers.get("Idempotent-Replayed") == "true"
                assert again.json() == seen["body"]
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
        body = position(n, i)
        signed = offices.headers("blue-officer", "POST", "/v1/declarations", body)
        return client.post("/v1/declarations", json=body, headers=signed)

    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=10.0) as client:
            offices.start(client, offices.tokens)
            made = [declare(client, 0, i) for i in range(5)]
            assert [r.status_code for r in made] == [201] * 5
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
            for r in made:
                got = client.get(f"/v1/declarations/{r.json()['id']}")
                assert got.status_code == 200 and got.json()["entry"] == r.json()["entry"]
            again = declare(client, 0, 7)
            assert again.status_code == 201, again.text
    finally:
        server.stop()
