"""Record workload: appends, proofs and full verification, with their baselines.

* appends: 1,000,000 signed entries (signatures precomputed) in durable batches of 1,000,
  then single appends each committed on its own;
* proofs from the stored log at 1,000,000 entries; baseline: recomputing the root from all
  leaves for each proof (what a log without stored subtree hashes must do);
* verification of a 100,000-entry signed log on every core; baseline: the Ed25519 signature
  checks alone on the same cores, in a process pool of the same size handed the same chunks
  of entries (``verify`` alone: ``python -m bench --only record-verify``).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.record.canonical import canonical_json, decode_base64
from accord.record.entries import make_envelope, sign_entry
from accord.record.keys import KeyRing, Member, PrivateKey
from accord.record.log import MerkleLog
from accord.record.merkle import leaf_hash, root_hash, verify_consistency, verify_inclusion
from accord.record.recorder import Recorder
from accord.record.verify import _CHUNK, verify_log

ORIGIN = "bench.accord"
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def _keys() -> tuple[PrivateKey, list[PrivateKey], KeyRing]:
    center = PrivateKey.from_seed(ORIGIN, bytes(32))
    parties = [PrivateKey.from_seed(f"p{i}", bytes([i + 1]) * 32) for i in range(4)]
    ring = KeyRing(center.public, [Member(k.public, "party") for k in parties])
    return center, parties, ring


def _event(i: int) -> dict[str, object]:
    return {
        "kind": "position.declared",
        "id": f"pos-{i}",
        "geometry": {"type": "Point", "coordinates": [20.0 + (i % 997) / 1000, 30.5]},
        "valid_to": "2026-10-02T00:00:00Z",
    }


def _signed(parties: list[PrivateKey], n: int, *, first_seq: int = 1) -> list[bytes]:
    """``n`` signed entries, round-robin over the parties, with correct sequences."""
    out = []
    seq = {k.name: first_seq - 1 for k in parties}
    for i in range(n):
        key = parties[i % len(parties)]
        seq[key.name] += 1
        out.append(
            sign_entry(
                _event(i), key=key, log=ORIGIN, seq=seq[key.name], ts=T0 + timedelta(seconds=i)
            )
        )
    return out


def _append_batches(log: MerkleLog, pool: list[bytes], total: int, batch: int) -> float:
    """Append ``total`` entries (cycling through ``pool``) in batches; seconds taken."""
    prev = None
    t = time.perf_counter()
    for start in range(0, total, batch):
        leaves, hashes = [], []
        for i in range(start, min(start + batch, total)):
            leaf = make_envelope(i, prev, pool[i % len(pool)])
            leaves.append(leaf)
            prev = leaf_hash(leaf)
            hashes.append(prev)
        log.append_many(leaves, leaf_hashes=hashes)
    return time.perf_counter() - t


# --- signature-only baseline, in worker processes ---------------------------------------------

_PUB: dict[bytes, Ed25519PublicKey] = {}


def _verify_only(items: list[tuple[bytes, bytes, bytes]]) -> int:
    for raw, sig, msg in items:
        key = _PUB.get(raw)
        if key is None:
            key = _PUB[raw] = Ed25519PublicKey.from_public_bytes(raw)
        key.verify(sig, msg)
    return len(items)


def _triples(entries: list[bytes], ring: KeyRing) -> list[tuple[bytes, bytes, bytes]]:
    """(public key, signature, signed message) of each entry: what the baseline checks."""
    triples = []
    for data in entries:
        obj = json.loads(data)
        sig = obj.pop("sig")
        key = ring.member(obj["author"])
        triples.append((key.raw, decode_base64(sig, what="sig"), canonical_json(obj)))
    return triples


def _signature_only(triples: list[tuple[bytes, bytes, bytes]], workers: int) -> float:
    chunks = [triples[i : i + _CHUNK] for i in range(0, len(triples), _CHUNK)]
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        assert sum(pool.map(_verify_only, chunks)) == len(triples)
    return time.perf_counter() - t


def run(*, appends: int, singles: int, verify_entries: int, proofs: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    _, parties, _ = _keys()
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        tmpdir = Path(tmp)
        # 1. Appends.
        pool = _signed(parties, 10_000)
        big = MerkleLog.open(tmpdir / "big.sqlite", ORIGIN)
        seconds = _append_batches(big, pool, appends, 1000)
        rows.append(
            (
                f"append {appends:,} entries, durable batches of 1,000",
                f"{appends / seconds:,.0f} entries/s",
                "-",
                "-",
            )
        )
        single = MerkleLog.open(tmpdir / "single.sqlite", ORIGIN)
        t = time.perf_counter()
        _append_batches(single, pool, singles, 1)
        seconds = time.perf_counter() - t
        single.close()
        rows.append(
            (
                f"single appends, each committed ({singles:,})",
                f"{singles / seconds:,.0f} entries/s",
                "-",
                "-",
            )
        )

        # 2. Proofs at the full size, and the rebuild-the-root baseline.
        size = big.size
        root = big.root()
        rng = random.Random(5)
        inc, con = [], []
        for _ in range(proofs):
            i = rng.randrange(size)
            t = time.perf_counter()
            proof = big.inclusion_proof(i, size)
            inc.append(time.perf_counter() - t)
            verify_inclusion(
                leaf_hash=leaf_hash(big.entry(i)), index=i, tree_size=size, proof=proof, root=root
            )
            m = rng.randrange(1, size)
            t = time.perf_counter()
            cproof = big.consistency_proof(m, size)
            con.append(time.perf_counter() - t)
            verify_consistency(
                old_size=m, new_size=size, old_root=big.root(m), new_root=root, proof=cproof
            )
        hashes = [h for _, _, h in big.storage.read_leaves(0, size)]
        rebuild = []
        for _ in range(3):
            t = time.perf_counter()
            assert root_hash(hashes) == root
            rebuild.append(time.perf_counter() - t)
        big.close()
        base_ms = statistics.median(rebuild) * 1e3
        for label, samples in (("inclusion", inc), ("consistency", con)):
            ms = statistics.median(samples) * 1e3
            rows.append(
                (
                    f"{label} proof at {size:,} entries, median",
                    f"{ms:.3f} ms",
                    f"rebuild root from leaves {base_ms:,.0f} ms",
                    f"{base_ms / ms:,.0f}x",
                )
            )

        # 3. Verification against signature checks alone.
        rows.append(verify(verify_entries, tmpdir=tmpdir))
    return rows


def verify(entries_count: int, *, tmpdir: Path, rounds: int = 3) -> tuple[str, ...]:
    """Full verification against the signature checks alone, ``rounds`` times each, in turn.

    The figure is the best time of each; the ratio's spread over the rounds (each round's
    verification against the signature checks just before it) shows how much the machine's
    other work moved them.
    """
    center, parties, ring = _keys()
    workers = os.cpu_count() or 1
    path = tmpdir / "verify.sqlite"
    with MerkleLog.open(path, ORIGIN) as log:
        recorder = Recorder(log)
        entries = _signed(parties, entries_count)
        _append_batches(log, entries, entries_count, 1000)
        recorder.sign_head(key=center, timestamp=1_790_000_000)
    triples = _triples(entries, ring)
    sig_times, ver_times = [], []
    for _ in range(rounds):
        sig_times.append(_signature_only(triples, workers))
        ver_times.append(_verify_full(path, ring, workers))
    sig_s, ver_s = min(sig_times), min(ver_times)
    ratios = sorted(v / s for v, s in zip(ver_times, sig_times, strict=True))
    return (
        f"verify {entries_count:,}-entry log, {workers} cores",
        f"{ver_s:.2f} s",
        f"Ed25519 checks alone {sig_s:.2f} s",
        f"{ver_s / sig_s:.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})",
    )


def _verify_full(path: Path, ring: KeyRing, workers: int) -> float:
    t = time.perf_counter()
    report = verify_log(path, keys=ring, workers=workers)
    assert report.entries == report.head_size
    return time.perf_counter() - t
