"""A small log of three authors' signed entries and a center's signed head, as the verifier's
tests build it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from accord.record.keys import KeyRing, Member, PrivateKey
from accord.record.log import MerkleLog
from accord.record.recorder import Recorder

ORIGIN = "accord.example/jcc"
CENTER = PrivateKey.from_seed(ORIGIN, bytes(32))
BLUE = PrivateKey.from_seed("blue", bytes(range(32)))
RED = PrivateKey.from_seed("red", bytes(range(1, 33)))
MONITOR = PrivateKey.from_seed("observers", bytes(range(2, 34)))
RING = KeyRing(
    CENTER.public,
    [Member(BLUE.public, "party"), Member(RED.public, "party"), Member(MONITOR.public, "monitor")],
)
T0 = datetime(2026, 9, 20, 12, tzinfo=UTC)


def build(path: Path, n: int = 12, *, head: bool = True) -> Recorder:
    recorder = Recorder(MerkleLog.open(path, ORIGIN))
    for i in range(n):
        key = (BLUE, RED, MONITOR)[i % 3]
        recorder.append({"kind": "note", "n": i}, key=key, at=T0 + timedelta(minutes=i))
    if head:
        recorder.sign_head(key=CENTER, timestamp=1_790_000_000 + n)
    return recorder
