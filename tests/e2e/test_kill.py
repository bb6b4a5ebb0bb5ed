"""Kill the server mid-load: every change it acknowledged (a 2xx) is there after a restart,
a retry of an acknowledged request replays its answer instead of changing anything again,
and the record fetched over the API verifies with the project's own verifier."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
from bench.live import LiveServer

from accord.cli_fetch import fetch_export
from accord.record.keys import KeyRing
from accord.record.verify import verify_log

CLIENTS = 6
MIN_ACKNOWLEDGED = 60
LOAD_SECONDS = 30.0


def position(client: int, i: int) -> dict[str, Any]:
    lon = 21.0 + client * 0.05 + (i % 50) * 0.001
    lat = 25.0 + (i // 50) * 0.001
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "position",
            "party": "blue",
            "disclosure": "shared" if i % 2 else "center",
            "valid_from": "2026-09-21T00:00:00Z",
            "valid_to": "2026-09-22T00:00:00Z",
        },
    }


def test_every_acknowledged_change_survives_a_kill(tmp_path: Path) -> None:
    server = LiveServer(
        database_url=f"sqlite:///{tmp_path / 'accord.sqlite'}",
        keys_dir=tmp_path / "keys",
        log_path=tmp_path / "server.log",
    )
    token = server.add_user("blue-officer", "blue", "officer")
    auth = {"Authorization": f"Bearer {token}"}
    server.start()
    acknowledged: dict[str, dict[str, Any]] = {}
    stop = threading.Event()

    def load(n: int) -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=10.0) as client:
            i = 0
            while not stop.is_set():
                key = f"c{n}-{i}"
                try:
                    r = client.post(
                        "/v1/declarations", json=position(n, i), headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    return  # the server is gone
                assert r.status_code in (201, 503), r.text
                if r.status_code == 201:
                    acknowledged[key] = {"body": r.json(), "feature": position(n, i)}
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

    server.start()
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
                    "/v1/declarations", json=seen["feature"], headers={"Idempotency-Key": key}
                )
                assert again.status_code == 201
                assert again.headers.get("Idempotent-Replayed") == "true"
                assert again.json() == seen["body"]
            ids: set[str] = set()
            page: dict[str, Any] = {"limit": 500}
            while True:
                listed = client.get("/v1/declarations", params=page).json()
                ids |= {item["id"] for item in listed["items"]}
                if not listed.get("next"):
                    break
                page["after"] = listed["next"]
            assert {seen["body"]["id"] for seen in acknowledged.values()} <= ids
            export = tmp_path / "record.jsonl"
            fetch_export(client, export)
            ring = KeyRing.from_json(client.get("/v1/keys").json())
        report = verify_log(export, keys=ring, workers=1)
        assert report.entries >= len(acknowledged)
        # Each declaration the server holds is one entry: nothing half-applied by the kill.
        assert report.entries == len(ids)
    finally:
        server.stop()
