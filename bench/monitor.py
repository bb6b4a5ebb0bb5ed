"""Monitor workload (``python -m bench --only monitor``): ``accord monitor`` verifying a large
log from its tiles, against the Ed25519 checks alone on the same cores.

The log: ``entries`` signed entries (four parties, round robin, as the record workload makes
them) in their envelopes, its head signed by the center, served as C2SP tlog-tiles from
memory (every tile and bundle cut from the stored log beforehand, as a cache or a mirror
holds them: the center's serving is the tiles workload's). The monitor starts from an empty
state folder and takes the whole log in one round (:meth:`accord.monitor.core.Monitor.step`):
checkpoint signature, every tile checked against the root, every entry against its leaf hash,
every entry verified as ``accord verify`` does on every core (envelope, chain, canonical form,
signature, sequences), its own durable copy written. Baseline: the same entries' Ed25519
signatures verified with ``cryptography`` directly, in a pool of as many processes handed
the same chunks (the record workload's ``_signature_only``), in the same run.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from accord.monitor.core import Monitor
from accord.monitor.state import State
from accord.record.log import MerkleLog
from accord.record.recorder import Recorder
from accord.record.tiles import ENTRIES_LEVEL, Tile, new_tiles

from . import record

__all__ = ["run"]


class _Served:
    """The tiles in memory; the witnesses none (the bench measures the log's check)."""

    def __init__(self, served: dict[str, bytes], checkpoint: str) -> None:
        self.served = served
        self.note = checkpoint

    def checkpoint(self) -> str:
        return self.note

    def tile(self, path: str) -> bytes:
        return self.served[path]

    def witness(self, witness: object) -> str | None:
        return None

    def openings(self) -> None:
        return None


def run(entries: int = 100_000, rounds: int = 2) -> list[tuple[str, str, str, str]]:
    center, parties, ring = record._keys()
    workers = os.cpu_count() or 1
    t = time.perf_counter()
    signed = record._signed(parties, entries)
    with tempfile.TemporaryDirectory(prefix="accord-bench-monitor-") as tmp:
        tmpdir = Path(tmp)
        log = MerkleLog.open(tmpdir / "center.sqlite", record.ORIGIN)
        record._append_batches(log, signed, entries, 10_000)
        head = Recorder(log).sign_head(key=center, timestamp=1_790_000_000)
        served: dict[str, bytes] = {}
        for tile in new_tiles(0, log.size):
            served[tile.path] = log.tile(tile.level, tile.index, tile.width)
            if tile.level == 0:
                bundle = Tile(ENTRIES_LEVEL, tile.index, tile.width)
                served[bundle.path] = log.entry_bundle(tile.index, tile.width)
        log.close()
        made = time.perf_counter() - t
        triples = record._triples(signed, ring)
        sig_times, mon_times, resume_times = [], [], []
        for k in range(rounds):
            sig_times.append(record._signature_only(triples, workers))
            state = State(tmpdir / f"state-{k}", record.ORIGIN)
            t = time.perf_counter()
            with Monitor(
                keys=ring,
                sources=_Served(served, head.note),
                state=state,
                clock=time.time,
                stall_after=60,
                workers=workers,
            ) as monitor:
                monitor.step()
                assert monitor.size == entries
            mon_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            with Monitor(  # a restart: the copy re-verified locally, nothing fetched
                keys=ring,
                sources=_Served({}, head.note),
                state=state,
                clock=time.time,
                stall_after=60,
                workers=workers,
            ) as again:
                again.step()
            resume_times.append(time.perf_counter() - t)
            state.close()
    sig_s, mon_s, resume_s = min(sig_times), min(mon_times), min(resume_times)
    ratios = sorted(m / s for m, s in zip(mon_times, sig_times, strict=True))
    return [
        (
            f"monitor: verify a {entries:,}-entry log from tiles, {workers} cores "
            f"(log made in {made:.0f} s)",
            f"{mon_s:.2f} s ({entries / mon_s:,.0f}/s)",
            f"Ed25519 checks alone {sig_s:.2f} s",
            f"{mon_s / sig_s:.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})",
        ),
        (
            f"monitor: restart, re-verify its {entries:,}-entry copy locally",
            f"{resume_s:.2f} s",
            f"Ed25519 checks alone {sig_s:.2f} s",
            f"{resume_s / sig_s:.2f}x",
        ),
    ]
