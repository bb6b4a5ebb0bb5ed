"""A writer killed mid-append (SIGKILL) leaves a log that opens, verifies and goes on, with
every acknowledged entry in it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from accord.record import merkle
from accord.record.log import MerkleLog

ORIGIN = "accord.test/crash"

# The child appends forever, a mix of single appends and batches, and prints every index
# it got back, flushed, only once the append has returned (that is: once it is durable).
CHILD = textwrap.dedent(
    """
    import random, sys
    from accord.record.log import MerkleLog

    def payload(i):
        return b"entry %d|" % i * (1 + i % 5)

    rng = random.Random(int(sys.argv[2]))
    log = MerkleLog.open(sys.argv[1], sys.argv[3])
    while True:
        if rng.random() < 0.6:
            indices = [log.append(payload(log.size))]
        else:
            start = log.size
            indices = log.append_many([payload(start + j) for j in range(rng.randint(2, 300))])
        sys.stdout.write("".join(f"{i}\\n" for i in indices))
        sys.stdout.flush()
    """
)


def payload(i: int) -> bytes:
    return b"entry %d|" % i * (1 + i % 5)


def run_and_kill(path: Path, seed: int, acks_before_kill: int) -> list[int]:
    """Start the writer, read ``acks_before_kill`` acknowledgements, SIGKILL it; return every
    index it acknowledged."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(seed), ORIGIN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    acked: list[int] = []
    try:
        while len(acked) < acks_before_kill:
            line = child.stdout.readline()
            if not line:
                assert child.stderr is not None
                raise AssertionError(f"the writer stopped: {child.stderr.read().decode()}")
            acked.append(int(line))
        child.send_signal(signal.SIGKILL)  # mid-append: it is always appending
    finally:
        if child.poll() is None:
            child.kill()
        # Not communicate(): it reads the raw pipe and would drop whatever readline() had
        # already pulled into the reader's buffer (acknowledged lines, lost to the test).
        assert child.stdout is not None and child.stderr is not None
        rest = child.stdout.read()
        child.stderr.read()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    # Whatever it had printed before dying was acknowledged too; a last line cut short was not.
    lines = rest.decode().split("\n")
    acked += [int(line) for line in lines[:-1]]
    return acked


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_writer_killed_mid_append_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    acknowledged: list[int] = []
    for round_, kill_after in enumerate([150, 420, 37, 260]):
        acked = run_and_kill(path, seed=round_, acks_before_kill=kill_after)
        # In order and without gaps within a run; a run starts where the log stood, which
        # may be past the last acknowledgement (committed, killed before it printed).
        assert acked == list(range(acked[0], acked[0] + len(acked)))
        assert not acknowledged or acked[0] > acknowledged[-1]
        acknowledged += acked
        with MerkleLog.open(path) as log:
            assert log.size >= acknowledged[-1] + 1
            log.check_integrity()
            stored = list(log.entries())
            # Every acknowledged entry is there with its exact bytes; so is anything committed
            # but not yet printed when the writer died.
            assert stored == [(i, payload(i)) for i in range(log.size)]
            leaves = [merkle.leaf_hash(d) for _, d in stored]
            assert log.root() == merkle.root_hash(leaves)
            # And appending goes on correctly from where the log stands.
            size = log.size
            log.append(payload(size))
            log.append_many([payload(size + 1), payload(size + 2)])
            leaves += [merkle.leaf_hash(payload(size + j)) for j in range(3)]
            assert log.root() == merkle.root_hash(leaves)
            i = size // 2
            merkle.verify_inclusion(
                leaf_hash=leaves[i],
                index=i,
                tree_size=size + 3,
                proof=log.inclusion_proof(i),
                root=log.root(),
            )
            merkle.verify_consistency(
                old_size=size,
                new_size=size + 3,
                old_root=merkle.root_hash(leaves[:size]),
                new_root=log.root(),
                proof=log.consistency_proof(size),
            )
            acknowledged += [size, size + 1, size + 2]
