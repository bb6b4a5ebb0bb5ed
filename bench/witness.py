"""A party's witness under load (issue 20): ``accord witness serve`` on loopback, 10 logs each
posting add-checkpoint requests back to back, every one cosigned and its state committed
durably (SQLite WAL, ``synchronous=FULL``) before the answer.

Each log is one client on its own keep-alive connection (``http.client``, the cheapest
client in the standard library) that sends its next checkpoint as soon as the last is
cosigned — as a log does: a checkpoint's old size is the size the witness last cosigned, so
one log has one request in flight. The checkpoints (1 to 8 new leaves each, the log's 0x01
and 0x04 lines, the RFC 9162 consistency proof from the last) are made before the clock
starts. The baseline, in the same run, is what each request needs at least: the log
signature's Ed25519 check and the cosignature's Ed25519 signature, one after the other on
one core, no HTTP, no storage.
"""

from __future__ import annotations

import base64
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from accord.record.keys import PrivateKey, write_private_key
from accord.record.log import MerkleLog
from accord.record.note import (
    Checkpoint,
    cosignature_line,
    parse_note,
    sign_checkpoint,
    verify_note,
)

LOGS = 10


def _checkpoints(key: PrivateKey, folder: Path, count: int, rng: random.Random) -> list[bytes]:
    """``count`` add-checkpoint bodies of a log that grows by 1-8 leaves each time."""
    log = MerkleLog.open(folder / f"{key.name.replace('/', '_')}.sqlite", key.name)
    bodies = []
    old = 0
    try:
        for i in range(count):
            log.append_many([f"{key.name} {i} {j}".encode() for j in range(rng.randint(1, 8))])
            size = log.size
            proof = [] if old == 0 else log.consistency_proof(old, size)
            note = sign_checkpoint(
                Checkpoint(key.name, size, log.root(size)), key=key, timestamp=1_790_000_000 + i
            )
            head = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
            bodies.append((head + "\n" + note).encode())
            old = size
    finally:
        log.close()
    return bodies


def _baseline(key: PrivateKey, witness: PrivateKey, bodies: list[bytes]) -> float:
    """Requests a second: the log signature checked and the cosignature made, nothing else."""
    notes = [parse_note(b.decode().partition("\n\n")[2]) for b in bodies]
    trusted = [(key.public, 0x01)]
    start = time.perf_counter()
    for note in notes:
        verify_note(note, keys=trusted)
        cosignature_line(note.body, key=witness, timestamp=1_790_000_000)
    return len(notes) / (time.perf_counter() - start)


def _client(
    port: int, bodies: list[bytes], stop: float, out: list[float], codes: list[int]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for body in bodies:
        if time.perf_counter() > stop:
            break
        t = time.perf_counter()
        connection.request("POST", "/add-checkpoint", body=body)
        answer = connection.getresponse()
        answer.read()
        out.append(time.perf_counter() - t)
        codes.append(answer.status)
    connection.close()


def run(*, seconds: float = 10.0, per_log: int = 5000) -> list[tuple[str, ...]]:
    rng = random.Random(20)
    with tempfile.TemporaryDirectory(prefix="accord-bench-witness-") as tmp:
        folder = Path(tmp)
        keys = [PrivateKey.from_seed(f"log{i}.bench.example", bytes([i]) * 32) for i in range(LOGS)]
        witness = PrivateKey.from_seed("witness.bench.example/w1", bytes([99]) * 32)
        t = time.perf_counter()
        bodies = [_checkpoints(k, folder, per_log, rng) for k in keys]
        print(
            f"witness: {LOGS} logs x {per_log} checkpoints made in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        baseline = statistics.median(
            _baseline(keys[0], witness, bodies[0][:2000]) for _ in range(3)
        )
        write_private_key(folder / "w.key", witness)
        (folder / "logs").write_text(
            "logs/v0\n"
            + "".join(f"vkey {k.public.vkey(0x01)}\nqpd 86400\ncontact bench\n" for k in keys)
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        command = [
            sys.executable, "-c", "from accord.cli import main; main()", "witness", "serve",
            "--key", str(folder / "w.key"), "--name", witness.name, "--logs",
            str(folder / "logs"), "--listen", f"127.0.0.1:{port}", "--data", str(folder / "state"),
        ]  # fmt: skip
        server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the witness did not start") from None
                    time.sleep(0.1)
            cpu0 = _cpu(server.pid)
            latencies: list[list[float]] = [[] for _ in keys]
            codes: list[list[int]] = [[] for _ in keys]
            start = time.perf_counter()
            stop = start + seconds
            threads = [
                threading.Thread(
                    target=_client, args=(port, bodies[i], stop, latencies[i], codes[i])
                )
                for i in range(LOGS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            cpu = _cpu(server.pid) - cpu0
        finally:
            server.terminate()
            server.wait(timeout=30)
    if any(len(per) == per_log for per in latencies):
        print("witness: a log ran out of checkpoints before the time was up", flush=True)
    every = sorted(x for per in latencies for x in per)
    done = len(every)
    ok = sum(c.count(200) for c in codes)
    rate = ok / elapsed
    p50 = every[done // 2] * 1000
    p99 = every[min(done - 1, int(done * 0.99))] * 1000
    print(
        f"witness: {ok} of {done} requests cosigned (200) in {elapsed:.1f} s; server CPU "
        f"{cpu / max(done, 1) * 1e6:.0f} µs a request; p50 {p50:.2f} ms, p99 {p99:.2f} ms",
        flush=True,
    )
    return [
        (
            f"witness: cosignatures/s, {LOGS} logs on loopback, durable",
            f"{rate:,.0f}/s",
            f"Ed25519 verify + sign alone {baseline:,.0f}/s",
            f"{rate / baseline:.2f}x",
        ),
        ("witness: latency p50 / p99", f"{p50:.2f} / {p99:.2f} ms", "", "p99 <= 20 ms"),
    ]


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) of the process ``pid`` and its children, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    for row in run(seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 10.0):
        print(row)
