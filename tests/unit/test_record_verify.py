"""The verifier against every way a log can be bent: it names the first bad entry."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from accord.record.entries import make_envelope, open_envelope, sign_entry
from accord.record.keys import PrivateKey
from accord.record.log import MerkleLog
from accord.record.merkle import leaf_hash
from accord.record.note import SignedHead, Witness
from accord.record.recorder import Recorder
from accord.record.verify import VerificationError, verify_log
from support.record import signed_as_written
from support.sample_log import BLUE, CENTER, MONITOR, ORIGIN, RED, RING, T0, build


def leaves(path: Path) -> list[bytes]:
    db = sqlite3.connect(path)
    rows = [bytes(r[0]) for r in db.execute("SELECT data FROM leaves ORDER BY idx")]
    db.close()
    return rows


def set_leaf(path: Path, index: int, data: bytes) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE leaves SET data = ? WHERE idx = ?", (data, index))
    db.commit()
    db.close()


def failure(path: Path, **kwargs) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verify_log(path, keys=RING, workers=1, **kwargs)
    return info.value


def test_a_good_log_verifies(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path).log.close()
    report = verify_log(path, keys=RING, workers=1)
    assert report.entries == 12
    assert report.head_size == 12
    assert report.authors == {"blue": 4, "red": 4, "observers": 4}
    assert report.cosigners == {}
    assert any("12 entries" in line for line in report.lines())


def test_parallel_and_serial_agree(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path, n=5000).log.close()
    from dataclasses import replace

    parallel = verify_log(path, keys=RING, workers=2)
    assert parallel.workers == 2
    assert replace(parallel, workers=1) == verify_log(path, keys=RING, workers=1)
    # A bad entry deep in a later chunk is found by the workers too.
    data = bytearray(leaves(path)[4321])
    data[data.index(b'"n":4321') + 4] = ord("9")
    set_leaf(path, 4321, bytes(data))
    with pytest.raises(VerificationError) as info:
        verify_log(path, keys=RING, workers=2)
    assert info.value.index == 4321


def test_flipped_byte_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path).log.close()
    data = bytearray(leaves(path)[5])
    at = data.index(b'"n":5') + 4
    data[at] = ord("7")
    set_leaf(path, 5, bytes(data))
    err = failure(path)
    assert err.index == 5


@pytest.mark.parametrize("index", [0, 3, 11])
def test_every_byte_position_class_is_caught(tmp_path: Path, index: int) -> None:
    path = tmp_path / "log.sqlite"
    build(path).log.close()
    original = leaves(path)[index]
    for position in range(0, len(original), 7):
        data = bytearray(original)
        data[position] ^= 0x01
        set_leaf(path, index, bytes(data))
        err = failure(path)
        assert err.index in (index, index + 1), (position, err)
    set_leaf(path, index, original)
    verify_log(path, keys=RING, workers=1)


def test_dropped_entry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path).log.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM leaves WHERE idx = 4")
    db.execute("UPDATE leaves SET idx = idx - 1 WHERE idx > 4")
    db.commit()
    db.close()
    assert failure(path).index == 4


def test_swapped_entries_are_named(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path).log.close()
    rows = leaves(path)
    set_leaf(path, 2, rows[7])
    set_leaf(path, 7, rows[2])
    err = failure(path)
    assert err.index == 2
    assert "moved" in err.reason


def test_truncated_log_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path).log.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM leaves WHERE idx >= 9")
    db.commit()
    db.close()
    err = failure(path)
    assert err.index == 9
    assert "missing" in err.reason


def test_replayed_entry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path, head=False)
    # A dishonest center re-appends blue's first entry, in a correct envelope.
    _, _, first = open_envelope(leaves(path)[0])
    size = recorder.log.size
    recorder.log.append(make_envelope(size, recorder.log.range_hash(size - 1, size), first))
    recorder.sign_head(key=CENTER, timestamp=1_790_000_100)
    recorder.log.close()
    err = failure(path)
    assert err.index == 12
    assert "replayed" in err.reason


def test_entry_signed_with_another_partys_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path, head=False)
    forged = sign_entry({"kind": "note"}, key=RED, log=ORIGIN, seq=5, ts=T0)
    forged = forged.replace(b'"author":"red"', b'"author":"blue"')
    size = recorder.log.size
    recorder.log.append(make_envelope(size, recorder.log.range_hash(size - 1, size), forged))
    recorder.sign_head(key=CENTER, timestamp=1_790_000_100)
    recorder.log.close()
    err = failure(path)
    assert err.index == 12


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path, head=False)
    stranger = PrivateKey.from_seed("green", bytes(range(3, 35)))
    recorder.append({"kind": "note"}, key=stranger, at=T0)
    recorder.sign_head(key=CENTER, timestamp=1_790_000_100)
    recorder.log.close()
    assert failure(path).index == 12


def test_head_signed_by_someone_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path, head=False)
    impostor = PrivateKey.from_seed(ORIGIN, bytes(range(9, 41)))
    recorder.sign_head(key=impostor, timestamp=1_790_000_100)
    recorder.log.close()
    err = failure(path)
    assert err.index is None
    assert "head" in str(err)


def test_log_without_a_head_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path, head=False).log.close()
    assert "no signed tree head" in str(failure(path))


def test_trusted_head_consistency_and_rollback(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path, n=7)
    old = recorder.sign_head(key=CENTER, timestamp=1_790_000_007)
    for i in range(5):
        recorder.append({"kind": "later", "n": i}, key=BLUE, at=T0 + timedelta(hours=1, minutes=i))
    recorder.sign_head(key=CENTER, timestamp=1_790_000_012)
    recorder.log.close()
    trusted = SignedHead.from_json(json.loads(json.dumps(old.to_json())), center=CENTER.public)
    report = verify_log(path, keys=RING, trusted_head=trusted, workers=1)
    assert report.trusted_size == 7
    # A head from a rewritten history of the same log is not consistent with this one.
    other = tmp_path / "other.sqlite"
    other_recorder = build(other, n=9, head=False)
    forged_head = other_recorder.sign_head(key=CENTER, timestamp=1_790_000_020)
    other_recorder.log.close()
    err = failure(path, trusted_head=forged_head)
    assert "does not extend the trusted head" in str(err)
    # A trusted head larger than anything in the log: rolled back.
    big = build(tmp_path / "big.sqlite", n=20)
    bigger = big.sign_head(key=CENTER, timestamp=1_790_000_030)
    big.log.close()
    assert "rolled back" in str(failure(path, trusted_head=bigger))


def test_cosigners_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path)
    head = (
        SignedHead.from_json(
            {**recorder.log.latest_head().to_json(), "origin": ORIGIN}, center=CENTER.public
        )
        if False
        else None
    )
    latest = recorder.log.latest_head()
    assert latest is not None
    from accord.record.note import verify_checkpoint

    head = verify_checkpoint(latest.note, origin=ORIGIN, center=CENTER.public)
    witness = Witness(key=RED, center=CENTER.public, origin=ORIGIN, last=None)
    note, _ = witness.cosign(head.note, proof=[], timestamp=1_790_000_050)
    recorder.add_cosignature(head, note)
    recorder.log.close()
    report = verify_log(path, keys=RING, workers=1)
    assert report.cosigners == {"red": 1_790_000_050}


def test_export_verifies_like_the_file(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    recorder = build(path)
    export = tmp_path / "log.jsonl"
    with export.open("w", encoding="utf-8") as out:
        recorder.log.export_jsonl(out)
    recorder.log.close()
    assert verify_log(export, keys=RING, workers=1).entries == 12
    lines = export.read_text(encoding="utf-8").splitlines()
    del lines[3]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert failure(export).index == 3


def test_leaf_hash_chain_matches_rfc_leaf_hash(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    build(path, n=3).log.close()
    rows = leaves(path)
    _, prev, _ = open_envelope(rows[2])
    assert prev == leaf_hash(rows[1]).hex()


# --- the parallel path: chunks checked in worker processes ------------------------------------

BIG = 5000  # three chunks of 2048 leaves: faults inside a chunk and at a chunk's edge


@pytest.fixture(scope="module")
def big_entries() -> list[bytes]:
    out = []
    seq = {k.name: 0 for k in (BLUE, RED, MONITOR)}
    for i in range(BIG):
        key = (BLUE, RED, MONITOR)[i % 3]
        seq[key.name] += 1
        out.append(
            sign_entry(
                {"kind": "note", "n": i},
                key=key,
                log=ORIGIN,
                seq=seq[key.name],
                ts=T0 + timedelta(seconds=i),
            )
        )
    return out


def write_log(path: Path, entries: list[bytes]) -> None:
    """A log of exactly ``entries``, each in a correct envelope, under a signed head."""
    log = MerkleLog.open(path, ORIGIN)
    prev = None
    leaves, hashes = [], []
    for i, entry in enumerate(entries):
        leaf = make_envelope(i, prev, entry)
        leaves.append(leaf)
        prev = leaf_hash(leaf)
        hashes.append(prev)
    log.append_many(leaves, leaf_hashes=hashes)
    Recorder(log).sign_head(key=CENTER, timestamp=1_790_000_000)
    log.close()


def both_name(path: Path) -> VerificationError:
    """The serial and the parallel verifier name the same entry for the same reason."""
    errors = []
    for workers in (1, 2):
        with pytest.raises(VerificationError) as info:
            verify_log(path, keys=RING, workers=workers)
        errors.append(info.value)
    assert (errors[0].index, errors[0].reason) == (errors[1].index, errors[1].reason)
    return errors[1]


def test_parallel_verification_of_a_good_log(tmp_path: Path, big_entries) -> None:
    path = tmp_path / "log.sqlite"
    write_log(path, big_entries)
    report = verify_log(path, keys=RING, workers=2)
    assert (report.entries, report.head_size, report.workers) == (BIG, BIG, 2)
    assert report.authors == {"blue": 1667, "red": 1667, "observers": 1666}


def test_parallel_path_names_a_signed_entry_that_is_not_canonical(
    tmp_path: Path, big_entries
) -> None:
    entries = list(big_entries)
    # Blue signed these very bytes, spaces and all: the signature holds, the form does not.
    unsigned = json.loads(entries[3000])
    del unsigned["sig"]
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).replace('"n":', '"n": ')
    entries[3000] = signed_as_written(text.encode(), BLUE)
    path = tmp_path / "log.sqlite"
    write_log(path, entries)
    err = both_name(path)
    assert err.index == 3000
    assert "not canonical" in err.reason


def test_parallel_path_names_a_bad_signature_mid_chunk(tmp_path: Path, big_entries) -> None:
    entries = list(big_entries)
    # Entry 3001 (red's) carrying the signature of entry 3004 (red's next).
    other = json.loads(entries[3004])["sig"].encode()
    mine = json.loads(entries[3001])["sig"].encode()
    entries[3001] = entries[3001].replace(mine, other)
    path = tmp_path / "log.sqlite"
    write_log(path, entries)
    err = both_name(path)
    assert err.index == 3001
    assert "signature does not verify with the key of 'red'" in err.reason


def test_parallel_path_names_a_broken_chain_at_a_chunk_edge(tmp_path: Path, big_entries) -> None:
    path = tmp_path / "log.sqlite"
    write_log(path, big_entries)
    # Leaf 2047, the last of the first chunk, replaced by another valid entry in a valid
    # envelope: only the next leaf, the first of the second chunk, shows it.
    _, prev, _ = open_envelope(leaves(path)[2047])
    other = sign_entry(
        {"kind": "note", "n": "rewritten"},
        key=(BLUE, RED, MONITOR)[2047 % 3],
        log=ORIGIN,
        seq=2047 // 3 + 1,
        ts=T0,
    )
    set_leaf(path, 2047, make_envelope(2047, bytes.fromhex(prev), other))
    err = both_name(path)
    assert err.index == 2048
    assert "not chained to entry 2047" in err.reason


def test_parallel_path_names_a_sequence_gap_at_a_chunk_edge(tmp_path: Path, big_entries) -> None:
    entries = list(big_entries)
    # Leaf 2048 is the monitor's 683rd entry, signed as its 684th: one missing.
    assert (2048 % 3, 2048 // 3 + 1) == (2, 683)
    entries[2048] = sign_entry({"kind": "note", "n": 2048}, key=MONITOR, log=ORIGIN, seq=684, ts=T0)
    path = tmp_path / "log.sqlite"
    write_log(path, entries)
    err = both_name(path)
    assert err.index == 2048
    assert "sequence 684 where 683 was due" in err.reason


def test_parallel_path_names_a_missing_row(tmp_path: Path, big_entries) -> None:
    path = tmp_path / "log.sqlite"
    write_log(path, big_entries)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM leaves WHERE idx = 3000")
    db.commit()
    db.close()
    err = both_name(path)
    assert err.index == 3000
    assert "no entry 3000" in err.reason


def test_parallel_path_reads_an_export(tmp_path: Path, big_entries) -> None:
    path = tmp_path / "log.sqlite"
    write_log(path, big_entries)
    export = tmp_path / "log.jsonl"
    with MerkleLog.open(path, ORIGIN) as log, export.open("w", encoding="utf-8") as out:
        log.export_jsonl(out)
    assert verify_log(export, keys=RING, workers=2).entries == BIG


def test_parallel_path_checks_heads_inside_and_at_the_edges_of_chunks(
    tmp_path: Path, big_entries
) -> None:
    path = tmp_path / "log.sqlite"
    sizes = (1, 100, 2048, 3000, 4096, 4097)
    log = MerkleLog.open(path, ORIGIN)
    recorder = Recorder(log)
    prev = None
    heads = {}
    for i, entry in enumerate(big_entries):
        leaf = make_envelope(i, prev, entry)
        log.append(leaf)
        prev = leaf_hash(leaf)
        if i + 1 in sizes:
            heads[i + 1] = recorder.sign_head(key=CENTER, timestamp=1_790_000_000 + i)
    recorder.sign_head(key=CENTER, timestamp=1_790_009_999)
    log.close()
    for size in (100, 2048, 4096):
        report = verify_log(path, keys=RING, trusted_head=heads[size], workers=2)
        assert (report.heads_checked, report.trusted_size) == (len(sizes) + 1, size)
    # A head signed by the center for another history, at a chunk's edge: its root is not
    # the tree's at that size.
    other = tmp_path / "other.sqlite"
    entries = list(big_entries[:4096])
    entries[4095] = sign_entry({"kind": "other"}, key=BLUE, log=ORIGIN, seq=1366, ts=T0)
    write_log(other, entries)
    forged = MerkleLog.open(other, ORIGIN)
    head = forged.latest_head()
    forged.close()
    assert head is not None and head.size == 4096
    db = sqlite3.connect(path)
    db.execute("UPDATE heads SET note = ? WHERE size = 4096", (head.note,))
    db.commit()
    db.close()
    err = both_name(path)
    assert "the tree head of size 4096 does not match the entries" in str(err)
