"""``accord verify --evidence``: a third party with KEYS.json and the evidence file alone
proves a split view (exit 0, in plain words, naming the cosignatures by the keys it knows),
and is told plainly when the file proves nothing (exit 1) or is not evidence (exit 2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from accord.record.keys import KeyRing, Member
from accord.record.merkle import consistency_proof, leaf_hash, root_hash
from accord.record.note import Checkpoint, add_cosignature, sign_checkpoint
from support.cli import run
from support.jig import AGREEMENT_TEXT
from support.record import seeded
from support.witness import PARTY_WITNESS_KEYS, agreement_with_witnesses

ORIGIN = "accord.example/split"
CENTER = seeded("center")
BLUE = seeded("blue")
T = 1_790_000_000


def leaves(name: str, size: int, common: int = 4) -> list[bytes]:
    return [leaf_hash(f"{'common' if i < common else name} {i}".encode()) for i in range(size)]


def head(hashes: list[bytes]) -> str:
    return sign_checkpoint(
        Checkpoint(ORIGIN, len(hashes), root_hash(hashes)), key=CENTER, timestamp=T
    )


def write(tmp_path: Path, a: list[bytes], b: list[bytes], *, a_note: str | None = None) -> Path:
    document = {
        "accord_evidence": 1,
        "kind": "split_view",
        "origin": ORIGIN,
        "heads": [a_note or head(a), head(b)],
        "consistency": [_b64(h) for h in consistency_proof(b, len(a))],
    }
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "KEYS.json"
    ring = KeyRing(CENTER.public, [Member(BLUE.public, "party")])
    path.write_text(json.dumps(ring.to_json()), encoding="utf-8")
    return path


def test_a_split_view_is_proven_in_plain_words(tmp_path: Path) -> None:
    a, b = leaves("blue", 6), leaves("red", 11)
    witness = PARTY_WITNESS_KEYS["blue"]
    cosigned = add_cosignature(head(a), key=witness, timestamp=T + 1)
    cosigned = add_cosignature(cosigned, key=BLUE, timestamp=T + 2)
    evidence = write(tmp_path, a, b, a_note=cosigned)
    agreement = tmp_path / "agreement.yaml"
    agreement.write_text(
        agreement_with_witnesses(AGREEMENT_TEXT, {"blue": "http://blue.test"}), encoding="utf-8"
    )
    keys = keys_file(tmp_path)
    result = run("verify", "--evidence", evidence, "--keys", keys, "--agreement", agreement)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"the center center signed two histories of the log {ORIGIN}:" in out
    assert f"head A: size 6, root {_b64(root_hash(a))}" in out
    assert (
        f"head B: size 11, root {_b64(root_hash(b))}, whose tree at size 6 has root "
        f"{_b64(root_hash(b[:6]))}" in out
    )
    assert f"cosigned by {witness.name} (blue's witness) at 2026-09-21T" in out
    assert "cosigned by blue (party) at" in out
    assert out.rstrip().endswith("SPLIT VIEW PROVEN")
    # without the agreement the witness's line is a key not known here
    result = run("verify", "--evidence", evidence, "--keys", keys)
    assert result.exit_code == 0, result.output
    assert f"1 line(s) by keys not known here ({witness.name}), not checked" in result.stdout


def test_one_history_or_a_bad_proof_is_not_proven(tmp_path: Path) -> None:
    keys = keys_file(tmp_path)
    b = leaves("red", 11)
    one = write(tmp_path, b[:6], b)
    result = run("verify", "--evidence", one, "--keys", keys)
    assert result.exit_code == 1
    assert "NOT PROVEN: no split view" in result.output
    document = json.loads(write(tmp_path, leaves("blue", 6), b).read_text())
    document["consistency"][0] = document["consistency"][1]
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    result = run("verify", "--evidence", tmp_path / "bad.json", "--keys", keys)
    assert result.exit_code == 1
    assert "NOT PROVEN: the evidence does not hold" in result.output


def test_what_is_not_evidence_is_bad_input(tmp_path: Path) -> None:
    keys = keys_file(tmp_path)
    (tmp_path / "e.json").write_text('{"accord_evidence": 1, "accord_evidence": 1}')
    result = run("verify", "--evidence", tmp_path / "e.json", "--keys", keys)
    assert result.exit_code == 2 and "not an evidence file" in result.output
    (tmp_path / "e.json").write_text('{"accord_evidence": 2}')
    result = run("verify", "--evidence", tmp_path / "e.json", "--keys", keys)
    assert result.exit_code == 2 and "evidence has exactly the fields" in result.output
    assert run("verify", "--keys", keys).exit_code == 2  # neither a log nor evidence
    both = run("verify", tmp_path / "log", "--evidence", tmp_path / "e.json", "--keys", keys)
    assert both.exit_code == 2 and "not both" in both.output


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
