"""``accord record prove``: the proofs it prints are checked before they are printed, and hold
for anyone who checks them again."""

from __future__ import annotations

import json
from pathlib import Path

from accord.record.merkle import verify_consistency, verify_inclusion
from support.cli import run
from support.record import b64


def test_prove_prints_proofs_that_hold(tmp_path: Path) -> None:
    assert run("keys", "new", "blue", "--dir", tmp_path).exit_code == 0
    log, key = tmp_path / "log.sqlite", tmp_path / "blue.key"
    for i in range(5):
        origin = ("--origin", "example.org/log") if i == 0 else ()
        result = run("record", "append", log, "--key", key, *origin, "--event", f'{{"n": {i}}}')
        assert result.exit_code == 0, result.output

    result = run("record", "prove", log, "--index", "3")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["size"], doc["index"]) == (5, 3)
    verify_inclusion(
        leaf_hash=b64(doc["leaf_hash"]),
        index=3,
        tree_size=5,
        proof=[b64(p) for p in doc["proof"]],
        root=b64(doc["root"]),
    )

    result = run("record", "prove", log, "--from", "2", "--size", "4")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["old_size"], doc["size"]) == (2, 4)
    verify_consistency(
        old_size=2,
        new_size=4,
        old_root=b64(doc["old_root"]),
        new_root=b64(doc["root"]),
        proof=[b64(p) for p in doc["proof"]],
    )

    assert run("record", "prove", log, "--index", "5").exit_code != 0
