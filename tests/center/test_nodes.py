"""Several nodes on one PostgreSQL (issue 23, DECISIONS 15): three ``accord serve`` processes
on different ports — standing for three machines, sharing nothing but the database URL and a
copy of the center's key material — take writes at once from clients going round them. One
node is killed with SIGKILL mid-load and the others carry on; it restarts and catches up.
In the end: one record chain that verifies, every acknowledged change in it once, and the
live events of every change reaching subscribers on every node."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.live import LiveServer

from support.events import Server, Subscriber
from support.load import (
    blue_officers_server,
    declared_ids,
    declaring,
    made,
    position,
    verified_export,
)

CLIENTS = 3
BEFORE_KILL = 30
AFTER_KILL = 30


def _ready(server: LiveServer) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.url}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, server.log_path.read_text()[-2000:]
        time.sleep(0.2)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_nodes_one_chain_one_killed_and_back(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "a").mkdir(mode=0o700)
    first, auth, offices = blue_officers_server(tmp_path / "a", database_url)
    first.start()
    nodes = [first]
    try:
        with httpx.Client(base_url=first.url, timeout=30.0) as client:
            offices.start(client, offices.tokens)
        for name in ("b", "c"):  # another machine: the database URL and the keys copied
            folder = tmp_path / name
            folder.mkdir(mode=0o700)
            shutil.copytree(first.keys_dir, folder / "keys")
            node = LiveServer(
                database_url=database_url, keys_dir=folder / "keys",
                log_path=folder / "server.log", agreement_path=first.agreement_path,
            )  # fmt: skip
            node.start()
            nodes.append(node)
        for node in nodes:
            _ready(node)
        red = {"Authorization": f"Bearer {offices.tokens['red-officer']}"}

        def red_events() -> list[int]:
            found: list[int] = []
            while True:
                answer = httpx.get(
                    f"{first.url}/v1/events", params={"after": found[-1] if found else 0},
                    headers=red, timeout=30,
                ).json()  # fmt: skip
                if not answer["events"]:
                    return found
                found += [int(e["id"]) for e in answer["events"]]

        subscribers = [
            Subscriber(Server(node.url, node.process, offices.tokens), "red-officer").start()
            for node in (nodes[0], nodes[2])
            if node.process is not None
        ]
        before = max(red_events(), default=0)  # nothing happens until the load starts
        acknowledged: dict[str, dict[str, Any]] = {}
        stop = threading.Event()
        failures: list[str] = []

        def load(n: int) -> None:
            clients = [
                httpx.Client(base_url=node.url, headers=auth, timeout=10.0) for node in nodes
            ]
            try:
                for i in range(100_000):
                    if stop.is_set():
                        return
                    key, (path, body) = f"c{n}-{i}", declaring(position(n, i))
                    signed = offices.headers("blue-officer", "POST", path, body)
                    headers = {"Idempotency-Key": key, **signed}
                    for attempt in range(12):  # round the nodes; a dead one is skipped
                        client = clients[(n + i + attempt) % len(clients)]
                        try:
                            answer = client.post(path, json=body, headers=headers)
                        except httpx.TransportError:
                            continue
                        if (declared := made(answer)) is not None:
                            acknowledged[key] = declared
                            break
                        if answer.status_code != 503:
                            failures.append(f"{key}: {answer.status_code} {answer.text[:200]}")
                            return
                    else:
                        failures.append(f"{key}: no node took it")
                        return
            finally:
                for client in clients:
                    client.close()

        threads = [threading.Thread(target=load, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()

        def until(count: int) -> None:
            deadline = time.monotonic() + 90
            while len(acknowledged) < count and not failures:
                assert time.monotonic() < deadline, (len(acknowledged), failures)
                time.sleep(0.05)

        until(BEFORE_KILL)
        nodes[1].kill()  # mid-load: its requests in flight are cut
        killed_at = len(acknowledged)
        until(killed_at + AFTER_KILL)  # the other two carry on
        nodes[1].start()  # it restarts on the same database and catches up
        _ready(nodes[1])
        with httpx.Client(base_url=nodes[1].url, headers=auth, timeout=30.0) as client:
            path, body = declaring(position(9, 0))
            signed = offices.headers("blue-officer", "POST", path, body)
            assert made(client.post(path, json=body, headers=signed)) is not None
        until(len(acknowledged) + 9)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert failures == []

        # Every acknowledged change is there, once, whichever node is asked.
        clients = [httpx.Client(base_url=n.url, headers=auth, timeout=30.0) for n in nodes]
        try:
            for number, seen in enumerate(acknowledged.values()):
                got = clients[number % 3].get(f"/v1/declarations/{seen['id']}")
                assert got.status_code == 200 and got.json()["entry"] == seen["entry"]
            ids = declared_ids(clients[1])
            report = verified_export(clients[1], tmp_path / "record.jsonl")  # one signed chain
        finally:
            for client in clients:
                client.close()
        assert {seen["id"] for seen in acknowledged.values()} <= ids
        # each declaration one entry (none twice for a retry on another node); besides: the
        # agreement, the two users, each party's root signing it, the two key registrations
        assert report.authors["blue"] == len(ids) + 2 and report.entries == len(ids) + 7

        # The live events: red's subscribers on the nodes that stayed up got every event of
        # every change made through any node that red may see (the shared ones), in order.
        expected = [e for e in red_events() if e > before]
        assert len(expected) >= (BEFORE_KILL + AFTER_KILL) // 3  # about half are red's to see
        for subscriber in subscribers:
            subscriber.wait_for(len(expected), timeout=30)
            assert subscriber.ids() == expected and subscriber.error is None
    finally:
        for node in nodes:
            node.stop()
