"""``accord witness``: the store's one-step check and write under racing requests (threads,
processes), the HTTP answers of tlog-witness v1 read by an independent parser, the evidence
kept, and the command line serving on loopback."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import accord
from accord.record.keys import SIG_ED25519_COSIGNATURE, write_private_key
from accord.record.note import verify_cosignatures
from accord.record.witness_protocol import SIZE_CONTENT_TYPE, parse_add_checkpoint, parse_log_list
from accord.witness.server import create_app
from accord.witness.store import WitnessStore
from support.cli import run
from support.witness import (
    LOG_KEY,
    ORIGIN,
    WITNESS_KEY,
    GrowingLog,
    checkpoint_body,
    log_list,
    spec_read_response,
    spec_request,
    spec_verify_cosignature,
)

LOGS = parse_log_list(log_list(LOG_KEY))
NOW = 1_790_000_000


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    app = create_app(key=WITNESS_KEY, logs=LOGS, data=tmp_path / "witness", clock=lambda: NOW)
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, body: bytes) -> httpx.Response:
    return client.post("/add-checkpoint", content=body)


# --- the answers ----------------------------------------------------------------------------


def test_a_cosignature_that_verifies_under_tlog_cosignature(client):
    log = GrowingLog().grow(10)
    answer = post(client, log.body(0, 10))
    assert answer.status_code == 200, answer.text
    (cosig,) = spec_read_response(answer.content)
    body = checkpoint_body(log.checkpoint(10))
    spec_verify_cosignature(
        cosig, name=WITNESS_KEY.name, public=WITNESS_KEY.public.raw, checkpoint_body=body
    )
    assert cosig.timestamp == NOW
    # "the client MAY concatenate it to the checkpoint, and use a note verification function"
    cosigned = log.checkpoint(10) + answer.text
    assert verify_cosignatures(cosigned, witnesses=[WITNESS_KEY.public]) == {WITNESS_KEY.name: NOW}
    # and the witness's vkey, as `accord witness keygen` prints it, names this key
    assert WITNESS_KEY.public.vkey(SIG_ED25519_COSIGNATURE).split("+")[1] == cosig.key_id.hex()


def test_every_status(client):
    log = GrowingLog().grow(20)
    assert post(client, log.body(0, 8)).status_code == 200
    assert post(client, log.body(8, 12)).status_code == 200
    # 409: the old size is not 12; the body is the stored size, the content type exact
    stale = post(client, log.body(8, 20))
    assert stale.status_code == 409
    assert stale.headers["content-type"] == SIZE_CONTENT_TYPE
    assert stale.content == b"12\n"
    # 404: unknown origin
    stranger = GrowingLog(key=LOG_KEY, origin="example.com/unknown").grow(2)
    assert post(client, stranger.body(0, 2)).status_code == 404
    # 403: signed by another key under the log's name
    impostor = GrowingLog(key=WITNESS_KEY.__class__.from_seed(ORIGIN, bytes(32))).grow(20)
    assert post(client, impostor.body(12, 20)).status_code == 403
    # 400: malformed, and old above the size
    assert post(client, b"old 12\n").status_code == 400
    assert post(client, spec_request(13, [], log.checkpoint(12))).status_code == 400
    # 422: a bad proof; the same size with another root
    proof = log.proof(12, 20)
    proof[-1] = bytes(32)
    assert post(client, log.body(12, 20, proof=proof)).status_code == 422
    fork = GrowingLog(fork="fork ").grow(12)
    assert post(client, fork.body(12, 12)).status_code == 422
    # the state was never moved by a refusal
    assert post(client, log.body(12, 20)).status_code == 200
    # the monitoring endpoint serves it with the log's signature and the cosignature
    served = client.get(f"/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
    assert served.status_code == 200
    assert verify_cosignatures(served.text, witnesses=[WITNESS_KEY.public])
    assert served.text.startswith(checkpoint_body(log.checkpoint(20)))
    assert client.get(f"/{'0' * 64}/checkpoint").status_code == 404


def test_refused_checkpoints_whose_signature_verified_are_kept(client, tmp_path):
    log = GrowingLog().grow(10)
    fork = GrowingLog(fork="fork ").grow(10)
    assert post(client, log.body(0, 10)).status_code == 200
    assert post(client, fork.body(10, 10)).status_code == 422  # a second root for 10
    assert post(client, fork.body(4, 10)).status_code == 409  # the same, told another old
    assert post(client, log.body(4, 8)).status_code == 409  # routine: not kept
    impostor = GrowingLog(key=WITNESS_KEY.__class__.from_seed(ORIGIN, bytes(32))).grow(10)
    assert post(client, impostor.body(10, 10)).status_code == 403  # unsigned: not kept
    store = WitnessStore(tmp_path / "witness")
    kept = list(store.evidence())
    store.close()
    assert [(e.status, e.size) for e in kept] == [(422, 10), (409, 10)]
    assert kept[0].note == fork.checkpoint(10)
    assert kept[0].cosigned_root == log.root(10)
    printed = run("witness", "evidence", "--data", tmp_path / "witness")
    assert printed.exit_code == 0, printed.output
    assert "2 refused checkpoint(s)" in printed.output
    assert fork.checkpoint(10).splitlines()[2] in printed.output


# --- racing ---------------------------------------------------------------------------------


def _race(folder: Path, bodies: list[bytes], barrier: threading.Barrier) -> list[bool]:
    store = WitnessStore(folder)
    try:
        requests = [(parse_add_checkpoint(b), "note") for b in bodies]
        barrier.wait()
        return [store.apply([r])[0].error is None for r in requests]
    finally:
        store.close()


def test_racing_threads_never_roll_back(tmp_path):
    """Each round, 8 threads (each its own connection) send old = the stored size with
    sizes larger by 1..8: exactly one is cosigned, and the stored size only grows."""
    log = GrowingLog().grow(8 * 20 + 1)
    folder = tmp_path / "witness"
    WitnessStore(folder).close()
    stored = 0
    for _ in range(20):
        barrier = threading.Barrier(8)
        bodies = [[log.body(stored, stored + k)] for k in range(1, 9)]
        with ThreadPoolExecutor(8) as pool:
            results = [r[0] for r in pool.map(_race, [folder] * 8, bodies, [barrier] * 8)]
        assert results.count(True) == 1
        winner = stored + 1 + results.index(True)
        store = WitnessStore(folder)
        latest = store.latest(ORIGIN)
        store.close()
        assert latest is not None and latest[0].size == winner >= stored
        stored = winner


def _process_race(folder: str, old: int, new: int, start) -> bool:
    log = GrowingLog().grow(new)
    store = WitnessStore(folder)
    request = parse_add_checkpoint(log.body(old, new))
    start.wait()
    try:
        return store.apply([(request, "note")])[0].error is None
    finally:
        store.close()


def test_racing_processes_never_roll_back(tmp_path):
    """The spec's race, across processes: requests with old = 0 and sizes 5 (A) and 9 (B);
    whichever commits second is refused, so the size is never rolled back to A's."""
    folder = tmp_path / "witness"
    WitnessStore(folder).close()
    context = multiprocessing.get_context("spawn")
    stored = 0
    with context.Manager() as manager, context.Pool(4) as pool:
        for _ in range(3):
            start = manager.Event()
            sizes = [stored + 5, stored + 9, stored + 7, stored + 11]
            waiting = [
                pool.apply_async(_process_race, (str(folder), stored, size, start))
                for size in sizes
            ]
            start.set()
            results = [w.get(timeout=60) for w in waiting]
            assert results.count(True) == 1
            store = WitnessStore(folder)
            latest = store.latest(ORIGIN)
            store.close()
            assert latest is not None and latest[0].size == sizes[results.index(True)]
            stored = latest[0].size


def test_many_requests_over_http_at_once_cosign_in_order(client):
    """Concurrent requests through the server's batches: each size is cosigned at most once
    from its own old size, and the stored size at the end is the largest cosigned."""
    log = GrowingLog().grow(64)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: post(client, log.body(0, n)), range(1, 33)))
    assert [a.status_code for a in answers].count(200) == 1
    assert {a.status_code for a in answers} == {200, 409}


# --- the key and the command line -----------------------------------------------------------


def test_keygen_writes_a_private_key_and_prints_its_vkey(tmp_path):
    result = run("witness", "keygen", "--key", tmp_path / "w.key", "--name", "witness.example/w1")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "w.key").stat().st_mode) == 0o600
    vkey = result.output.strip()
    assert vkey.startswith("witness.example/w1+") and "PRIVATE" not in result.output
    assert (tmp_path / "w.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = run("witness", "keygen", "--key", tmp_path / "w.key", "--name", "witness.example/w1")
    assert again.exit_code == 2  # never overwritten


def test_serve_refuses_a_key_others_may_read(tmp_path):
    write_private_key(tmp_path / "w.key", WITNESS_KEY)
    os.chmod(tmp_path / "w.key", 0o640)
    (tmp_path / "logs").write_text(log_list(LOG_KEY))
    result = run(
        "witness", "serve", "--key", tmp_path / "w.key", "--name", "w", "--logs", tmp_path / "logs"
    )
    assert result.exit_code == 2
    assert "unsafe permissions" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_command_line_serves_on_loopback(tmp_path):
    write_private_key(tmp_path / "w.key", WITNESS_KEY)
    (tmp_path / "logs").write_text(log_list(LOG_KEY))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(accord.__file__).resolve().parents[1])}
    command = [
        sys.executable, "-c", "from accord.cli import main; main()", "witness", "serve",
        "--key", str(tmp_path / "w.key"), "--name", WITNESS_KEY.name,
        "--logs", str(tmp_path / "logs"), "--listen", f"127.0.0.1:{port}",
        "--data", str(tmp_path / "state"),
    ]  # fmt: skip
    errors = (tmp_path / "stderr").open("wb")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, "the witness did not start"
            try:
                httpx.get(f"{base}/{'0' * 64}/checkpoint", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        log = GrowingLog().grow(30)
        with httpx.Client(base_url=base, timeout=10) as http:
            first = http.post("/add-checkpoint", content=log.body(0, 10))
            assert first.status_code == 200, first.text
            (cosig,) = spec_read_response(first.content)
            spec_verify_cosignature(
                cosig,
                name=WITNESS_KEY.name,
                public=WITNESS_KEY.public.raw,
                checkpoint_body=checkpoint_body(log.checkpoint(10)),
            )
            stale = http.post("/add-checkpoint", content=log.body(0, 30))
            assert (stale.status_code, stale.text) == (409, "10\n")
            assert http.post("/add-checkpoint", content=log.body(10, 30)).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
        errors.close()
    stderr = (tmp_path / "stderr").read_text()
    assert WITNESS_KEY.public.vkey(SIG_ED25519_COSIGNATURE) in stderr
    assert "PRIVATE" not in stderr
    store = WitnessStore(tmp_path / "state")
    latest = store.latest(ORIGIN)
    store.close()
    assert latest is not None and latest[0].size == 30
