"""Logs written before the center's log signature still verify.

``tests/data/record/legacy/`` holds two logs exported by the code of main at 76755fe, before
heads carried a signed-note Ed25519 (0x01) line: every head there is signed by the center's
timestamped (0x04) line alone. ``sample`` is ``support.sample_log.build(path, 12)`` with
blue's and red's cosignatures added; ``rooted`` is ``support.rooted_log.standard`` (entry 0
adopting the agreement, the roots' acts). Each ``*.keys.json`` is the ring they verify with.
"""

from __future__ import annotations

import json
from pathlib import Path

from accord.record.keys import SIG_ED25519, SIG_ED25519_COSIGNATURE, KeyRing
from accord.record.log import MerkleLog
from accord.record.note import (
    Witness,
    parse_note,
    verify_checkpoint,
    verify_cosignatures,
)
from accord.record.recorder import Recorder
from accord.record.verify import read_log, verify_log
from support import sample_log
from support.cli import run
from support.record import seeded

LEGACY = Path(__file__).parent.parent / "data" / "record" / "legacy"


def legacy_head(name: str) -> tuple[str, KeyRing]:
    ring = KeyRing.read(LEGACY / f"{name}.keys.json")
    lines = (LEGACY / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    note = json.loads(lines[-1])["head"]["note"]
    return note, ring


def test_legacy_heads_carry_the_timestamped_line_alone():
    for name in ("sample", "rooted"):
        note, ring = legacy_head(name)
        center = ring.center
        ids = {(s.name, s.key_id) for s in parse_note(note).signatures}
        assert (center.name, center.note_key_id(SIG_ED25519_COSIGNATURE)) in ids
        assert (center.name, center.note_key_id(SIG_ED25519)) not in ids


def test_legacy_logs_verify():
    for name, cosigners in (("sample", ["blue", "red"]), ("rooted", [])):
        ring = KeyRing.read(LEGACY / f"{name}.keys.json")
        report = verify_log(LEGACY / f"{name}.jsonl", keys=ring, workers=1)
        assert report.head_timestamp is not None
        assert sorted(report.cosigners) == cosigners
        result = run("verify", LEGACY / f"{name}.jsonl", "--keys", LEGACY / f"{name}.keys.json")
        assert result.exit_code == 0, result.output
        assert "VERIFIED" in result.output


def test_a_legacy_head_then_a_new_one(tmp_path):
    """The witness class cosigns the old head, then today's center signs a larger head of
    the same log (both lines) and the witness cosigns it from the old one."""
    note, ring = legacy_head("sample")
    assert sample_log.CENTER.public == ring.center
    old = verify_checkpoint(note, origin=sample_log.ORIGIN, center=ring.center)
    assert old.timestamp == 1_790_000_012
    witness_key = seeded("witness-blue")
    witness = Witness(witness_key, ring.center, sample_log.ORIGIN)
    cosigned, witness = witness.cosign(note, proof=[], timestamp=1_790_000_500)
    assert verify_cosignatures(cosigned, witnesses=[witness_key.public]) == {
        "witness-blue": 1_790_000_500
    }

    # the same log, grown by today's code
    log = MerkleLog.open(tmp_path / "log.sqlite", sample_log.ORIGIN)
    log.append_many(read_log(LEGACY / "sample.jsonl").leaves)
    recorder = Recorder(log)
    recorder.append({"kind": "note", "n": 12}, key=sample_log.BLUE, at=sample_log.T0)
    new = recorder.sign_head(key=sample_log.CENTER, timestamp=1_790_001_000)
    assert [s.key_id for s in parse_note(new.note).signatures] == [
        ring.center.note_key_id(SIG_ED25519),
        ring.center.note_key_id(SIG_ED25519_COSIGNATURE),
    ]
    proof = log.consistency_proof(old.size, new.size)
    _, witness = witness.cosign(new.note, proof=proof, timestamp=1_790_001_100)
    assert witness.last is not None and witness.last.size == 13
    log.close()
