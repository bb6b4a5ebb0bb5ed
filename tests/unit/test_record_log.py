"""The stored Merkle log: proofs against the in-memory RFC 9162 functions, reopening,
tampering, refusing foreign files, heads and export."""

from __future__ import annotations

import base64
import io
import json
import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import AccordError
from accord.record import merkle
from accord.record.log import LogError, LogHead, MerkleLog, SQLiteStorage, TamperError
from support.record import data

ORIGIN = "accord.test/log"


def memory_log() -> MerkleLog:
    return MerkleLog(SQLiteStorage(":memory:"), ORIGIN)


def check_all_proofs(log: MerkleLog, leaves: list[bytes], size: int) -> None:
    """Every inclusion proof at ``size`` and every consistency proof into ``size`` equals the
    in-memory construction and verifies."""
    tree = leaves[:size]
    root = merkle.root_hash(tree)
    assert log.root(size) == root
    for i in range(size):
        proof = log.inclusion_proof(i, size)
        assert proof == merkle.inclusion_proof(tree, i)
        merkle.verify_inclusion(leaf_hash=tree[i], index=i, tree_size=size, proof=proof, root=root)
    for m in range(size + 1):
        proof = log.consistency_proof(m, size)
        assert proof == merkle.consistency_proof(tree, m)
        merkle.verify_consistency(
            old_size=m,
            new_size=size,
            old_root=merkle.root_hash(tree[:m]),
            new_root=root,
            proof=proof,
        )


# --- proofs against the in-memory functions --------------------------------------------------


def test_every_size_up_to_64_appending_one_by_one() -> None:
    log = memory_log()
    leaves: list[bytes] = []
    assert log.root() == merkle.EMPTY_ROOT
    for n in range(1, 65):
        assert log.append(data(n - 1)) == n - 1
        leaves.append(merkle.leaf_hash(data(n - 1)))
        assert log.size == n
        assert log.root() == merkle.root_hash(leaves)
        # Proofs at the current size, default arguments.
        for i in range(n):
            assert log.inclusion_proof(i) == merkle.inclusion_proof(leaves, i)
        for m in range(n + 1):
            assert log.consistency_proof(m) == merkle.consistency_proof(leaves, m)
    # And every historical size, with every index and old size, verified.
    for size in range(65):
        check_all_proofs(log, leaves, size)


def test_every_size_up_to_64_in_random_batches() -> None:
    rng = random.Random(9162)
    for _ in range(5):
        log = memory_log()
        leaves: list[bytes] = []
        while log.size < 64:
            k = rng.randint(1, min(9, 64 - log.size))
            start = log.size
            batch = [data(start + j) for j in range(k)]
            assert log.append_many(batch) == list(range(start, start + k))
            leaves += [merkle.leaf_hash(d) for d in batch]
            check_all_proofs(log, leaves, log.size)
        for size in range(0, 65, 7):
            check_all_proofs(log, leaves, size)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12), st.data())
def test_random_batches_match_the_in_memory_tree(batches: list[int], draw: st.DataObject) -> None:
    log = memory_log()
    leaves: list[bytes] = []
    for k in batches:
        batch = [data(log.size + j) for j in range(k)]
        log.append_many(batch)
        leaves += [merkle.leaf_hash(d) for d in batch]
        assert log.root() == merkle.root_hash(leaves)
    n = len(leaves)
    if n == 0:
        return
    size = draw.draw(st.integers(min_value=1, max_value=n), label="size")
    index = draw.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    old = draw.draw(st.integers(min_value=0, max_value=size), label="old")
    root = merkle.root_hash(leaves[:size])
    proof = log.inclusion_proof(index, size)
    assert proof == merkle.inclusion_proof(leaves[:size], index)
    merkle.verify_inclusion(
        leaf_hash=leaves[index], index=index, tree_size=size, proof=proof, root=root
    )
    proof = log.consistency_proof(old, size)
    assert proof == merkle.consistency_proof(leaves[:size], old)
    merkle.verify_consistency(
        old_size=old,
        new_size=size,
        old_root=merkle.root_hash(leaves[:old]),
        new_root=root,
        proof=proof,
    )


def test_range_hash_of_any_range_including_unaligned_ones() -> None:
    log = memory_log()
    log.append_many([data(i) for i in range(21)])
    leaves = [merkle.leaf_hash(data(i)) for i in range(21)]
    for a in range(22):
        for b in range(a, 22):
            assert log.range_hash(a, b) == merkle.root_hash(leaves[a:b])
    with pytest.raises(LogError):
        log.range_hash(3, 22)
    with pytest.raises(LogError):
        log.range_hash(5, 4)


def test_proofs_at_a_historical_size_stay_the_same_as_the_log_grows() -> None:
    log = memory_log()
    log.append_many([data(i) for i in range(13)])
    then_root = log.root()
    then = [log.inclusion_proof(i) for i in range(13)]
    then_cons = [log.consistency_proof(m) for m in range(14)]
    log.append_many([data(i) for i in range(13, 40)])
    assert log.root(13) == then_root
    assert [log.inclusion_proof(i, 13) for i in range(13)] == then
    assert [log.consistency_proof(m, 13) for m in range(14)] == then_cons
    leaves = [merkle.leaf_hash(data(i)) for i in range(40)]
    merkle.verify_consistency(
        old_size=13,
        new_size=40,
        old_root=then_root,
        new_root=log.root(),
        proof=log.consistency_proof(13),
    )
    assert log.root() == merkle.root_hash(leaves)


def test_bad_sizes_and_indices_are_refused() -> None:
    log = memory_log()
    log.append_many([data(i) for i in range(5)])
    with pytest.raises(LogError):
        log.root(6)
    with pytest.raises(LogError):
        log.inclusion_proof(0, 6)
    with pytest.raises(merkle.ProofError):
        log.inclusion_proof(5)
    with pytest.raises(merkle.ProofError):
        log.inclusion_proof(3, 3)
    with pytest.raises(merkle.ProofError):
        log.consistency_proof(4, 3)
    with pytest.raises(LogError):
        log.consistency_proof(1, 6)
    with pytest.raises(LogError):
        log.entry(5)
    with pytest.raises(LogError):
        log.entry(-1)
    assert isinstance(LogError("x"), AccordError)


def test_appending_checks_its_input() -> None:
    log = memory_log()
    assert log.append_many([]) == []
    with pytest.raises(TypeError):
        log.append("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log.append_many(b"abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log.append_many([b"ok", 3])  # type: ignore[list-item]
    assert log.size == 0  # a refused batch appends nothing
    buffers: list[object] = [bytearray(b"a"), memoryview(b"b")]
    assert log.append_many(buffers) == [0, 1]  # type: ignore[arg-type]
    assert log.entry(0) == b"a"
    assert log.entry(1) == b"b"
    assert log.append(b"") == 2
    assert log.entry(2) == b""


# --- the file: reopening, origin, foreign files ----------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 9, 33, 64, 100])
def test_reopening_gives_the_same_log_and_rebuilds_the_compact_range(
    tmp_path: Path, size: int
) -> None:
    path = tmp_path / "log.db"
    with MerkleLog.open(path, ORIGIN) as log:
        log.append_many([data(i) for i in range(size)])
        root = log.root()
        proofs = [log.inclusion_proof(i) for i in range(size)]
        cons = [log.consistency_proof(m) for m in range(size + 1)]
    with MerkleLog.open(path) as log:
        assert log.origin == ORIGIN
        assert log.size == size
        assert log.root() == root
        assert [log.inclusion_proof(i) for i in range(size)] == proofs
        assert [log.consistency_proof(m) for m in range(size + 1)] == cons
        # Appending after the reopen goes on from the rebuilt right border.
        for i in range(size, size + 11):
            log.append(data(i))
        leaves = [merkle.leaf_hash(data(i)) for i in range(size + 11)]
        assert log.root() == merkle.root_hash(leaves)
        log.check_integrity()
        assert [d for _, d in log.entries()] == [data(i) for i in range(size + 11)]


def test_origin_is_required_kept_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with pytest.raises(LogError, match="needs an origin"):
        MerkleLog.open(path)
    for bad in ("", "has space", "a+b", "line\nbreak"):
        with pytest.raises(LogError, match="origin"):
            MerkleLog.open(tmp_path / "other.db", bad)
    MerkleLog.open(path, ORIGIN).close()
    with pytest.raises(LogError, match="origin"):
        MerkleLog.open(path, "another.test/log")
    with MerkleLog.open(path, ORIGIN) as log:
        assert log.origin == ORIGIN
        assert repr(log) == f"MerkleLog(origin={ORIGIN!r}, size=0)"


def test_a_sqlite_file_of_something_else_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE things (x)")
    conn.execute("INSERT INTO things VALUES (1)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(LogError, match="not an Accord log"):
        MerkleLog.open(path, ORIGIN)
    with pytest.raises(LogError, match="not an Accord log"):
        SQLiteStorage(path, read_only=True)
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database, just some text\n" * 100)
    before = path.read_bytes()
    with pytest.raises(LogError, match="not an SQLite database"):
        MerkleLog.open(path, ORIGIN)
    assert path.read_bytes() == before


def test_a_damaged_meta_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    MerkleLog.open(path, ORIGIN).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(LogError, match="layout 99"):
        MerkleLog.open(path)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM meta WHERE key = 'format'")
    conn.commit()
    conn.close()
    with pytest.raises(LogError, match="meta"):
        MerkleLog.open(path)


def test_an_empty_file_becomes_a_log_and_read_only_opens_no_new_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with MerkleLog.open(empty, ORIGIN) as log:
        log.append(b"x")
    with pytest.raises(LogError):
        MerkleLog.open(tmp_path / "absent.db", read_only=True)
    with MerkleLog.open(empty, read_only=True) as log:
        assert log.size == 1
        log.check_integrity()
        with pytest.raises(LogError):
            log.append(b"y")
        assert log.size == 1


def test_the_file_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with MerkleLog.open(path, ORIGIN) as log:
        log.append(b"x")
        storage = log.storage
        assert isinstance(storage, SQLiteStorage)
        conn = storage._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"meta", "leaves", "nodes", "heads"}


def test_a_second_writer_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with MerkleLog.open(path, ORIGIN) as first, MerkleLog.open(path) as second:
        first.append_many([data(0), data(1), data(2)])
        with pytest.raises(LogError, match="another process"):
            second.append(b"stale")
        assert second.size == 0
    with MerkleLog.open(path) as log:
        assert log.size == 3
        log.check_integrity()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=9)), max_size=14))
def test_two_writers_taking_turns_follow_each_other(
    tmp_path_factory: pytest.TempPathFactory, turns: list[tuple[bool, int]]
) -> None:
    """Two logs over one file append in turns, each following the other before it writes
    (as two server processes do): both always hold the tree of everything stored, and what
    they store together is the tree of all the entries in order."""
    path = tmp_path_factory.mktemp("turns") / "log.db"
    written: list[bytes] = []
    with MerkleLog.open(path, ORIGIN) as a, MerkleLog.open(path) as b:
        for second, count in turns:
            log = b if second else a
            assert log.follow() == len(written)
            batch = [data(len(written) + i) for i in range(count)]
            log.append_many(batch)
            written += batch
            leaves = [merkle.leaf_hash(d) for d in written]
            assert log.root() == merkle.root_hash(leaves)
        for log in (a, b):
            assert log.follow() == len(written)
            assert log.root() == merkle.root_hash([merkle.leaf_hash(d) for d in written])
            if written:
                assert log.range_hash(len(written) - 1, len(written)) == merkle.leaf_hash(
                    written[-1]
                )
    with MerkleLog.open(path) as log:
        log.check_integrity()
        check_all_proofs(log, [merkle.leaf_hash(d) for d in written], len(written))


def test_following_a_store_that_shrank_or_lost_a_leaf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with MerkleLog.open(path, ORIGIN) as a, MerkleLog.open(path) as b:
        a.append_many([data(i) for i in range(5)])
        assert b.follow() == 5
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM leaves WHERE idx = 4")
        with pytest.raises(LogError, match="fewer than this log's 5"):
            b.follow()
        a2 = MerkleLog.open(path)
        try:
            with sqlite3.connect(path) as db:
                db.execute(
                    "INSERT INTO leaves (idx, data, hash) VALUES (4, ?, ?), (6, ?, ?)",
                    (data(4), merkle.leaf_hash(data(4)), data(6), merkle.leaf_hash(data(6))),
                )
            with pytest.raises(TamperError, match="not all stored"):
                a2.follow()
        finally:
            a2.close()


# --- reading, heads, export ------------------------------------------------------------------


def test_entries_stream_across_chunks(tmp_path: Path) -> None:
    with MerkleLog.open(tmp_path / "log.db", ORIGIN) as log:
        log.append_many([data(i) for i in range(2500)])
        assert list(log.entries()) == [(i, data(i)) for i in range(2500)]
        assert list(log.entries(1000, 2100)) == [(i, data(i)) for i in range(1000, 2100)]
        assert list(log.entries(7, 7)) == []
        assert log.entry(2049) == data(2049)
        with pytest.raises(LogError):
            list(log.entries(5, 2501))
        with pytest.raises(LogError):
            list(log.entries(6, 5))


def checkpoint(log: MerkleLog, size: int) -> str:
    root = base64.b64encode(log.root(size)).decode()
    return f"{log.origin}\n{size}\n{root}\n\n— center AAAAsig\n"


def test_heads_are_checked_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with MerkleLog.open(path, ORIGIN) as log:
        assert log.latest_head() is None
        log.append_many([data(i) for i in range(10)])
        head = log.add_head(6, log.root(6), 1_000, checkpoint(log, 6))
        assert head == LogHead(6, log.root(6), 1_000, checkpoint(log, 6))
        log.add_head(10, log.root(), 2_000, checkpoint(log, 10))
        with pytest.raises(LogError, match="root"):
            log.add_head(10, log.root(9), 3_000, "")
        with pytest.raises(LogError, match="beyond"):
            log.add_head(11, log.root(), 3_000, "")
        with pytest.raises(LogError, match="note"):
            log.add_head(10, log.root(), 3_000, checkpoint(log, 9))
        with pytest.raises(LogError, match="timestamp"):
            log.add_head(10, log.root(), -1, "")
        # The same size again replaces the note (a note gathers co-signatures).
        cosigned = checkpoint(log, 10) + "— party-a BBBBsig\n"
        log.add_head(10, log.root(), 2_500, cosigned)
    with MerkleLog.open(path) as log:
        latest = log.latest_head()
        assert latest is not None
        assert (latest.size, latest.timestamp, latest.note) == (10, 2_500, cosigned)
        assert [h.size for h in log.heads()] == [6, 10]
        log.check_integrity()


def test_export_jsonl(tmp_path: Path) -> None:
    with MerkleLog.open(tmp_path / "log.db", ORIGIN) as log:
        out = io.StringIO()
        log.export_jsonl(out)
        assert out.getvalue() == ""
        log.append_many([data(i) for i in range(5)])
        log.add_head(5, log.root(), 42, checkpoint(log, 5))
        out = io.StringIO()
        log.export_jsonl(out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["i"], base64.b64decode(x["data"])) for x in lines[:5]] == [
        (i, data(i)) for i in range(5)
    ]
    head = lines[5]["head"]
    assert head["size"] == 5
    assert head["timestamp"] == 42
    assert base64.b64decode(head["root"]) == merkle.root_hash(
        [merkle.leaf_hash(data(i)) for i in range(5)]
    )
    assert head["note"].startswith(ORIGIN + "\n5\n")
    assert len(lines) == 6


# --- tampering -------------------------------------------------------------------------------

SIZE = 37


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "log.db"
    with MerkleLog.open(path, ORIGIN) as log:
        log.append_many([data(i) for i in range(20)])
        for i in range(20, SIZE):
            log.append(data(i))
        log.check_integrity()
    return path


def raw(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    conn = sqlite3.connect(path)
    for sql, args in statements:
        conn.execute(sql, args)
    conn.commit()
    conn.close()


def tamper_error(path: Path) -> TamperError:
    with MerkleLog.open(path) as log, pytest.raises(TamperError) as caught:
        log.check_integrity()
    return caught.value


def flipped(value: bytes, at: int = 0) -> bytes:
    return value[:at] + bytes([value[at] ^ 0x01]) + value[at + 1 :]


def test_a_flipped_byte_in_an_entry_is_named(stored: Path) -> None:
    raw(stored, ("UPDATE leaves SET data = ? WHERE idx = 13", (flipped(data(13), 3),)))
    error = tamper_error(stored)
    assert error.leaf == 13
    assert "entry 13" in str(error)


def test_a_changed_leaf_hash_is_named(stored: Path) -> None:
    h = merkle.leaf_hash(data(21))
    raw(stored, ("UPDATE leaves SET hash = ? WHERE idx = 21", (flipped(h, 31),)))
    error = tamper_error(stored)
    assert error.leaf == 21
    assert "entry 21" in str(error)


def test_a_changed_node_is_named(stored: Path) -> None:
    conn = sqlite3.connect(stored)
    (h,) = conn.execute("SELECT hash FROM nodes WHERE level = 2 AND idx = 3").fetchone()
    conn.close()
    raw(stored, ("UPDATE nodes SET hash = ? WHERE level = 2 AND idx = 3", (flipped(h),)))
    error = tamper_error(stored)
    assert error.node == (2, 3)
    assert "leaves 12–15" in str(error)


def test_a_deleted_entry_is_named(stored: Path) -> None:
    raw(stored, ("DELETE FROM leaves WHERE idx = 5", ()))
    error = tamper_error(stored)
    assert error.leaf == 5
    assert "entry 5 is missing" in str(error)


def test_a_deleted_node_is_named(stored: Path) -> None:
    raw(stored, ("DELETE FROM nodes WHERE level = 3 AND idx = 1", ()))
    error = tamper_error(stored)
    assert error.node == (3, 1)
    assert "leaves 8–15" in str(error)


def test_two_swapped_entries_are_named(stored: Path) -> None:
    raw(
        stored,
        ("UPDATE leaves SET data = ? WHERE idx = 3", (data(9),)),
        ("UPDATE leaves SET data = ? WHERE idx = 9", (data(3),)),
    )
    error = tamper_error(stored)
    assert error.leaf == 3


def test_two_swapped_rows_with_their_hashes_are_caught_by_the_nodes(stored: Path) -> None:
    h3, h9 = merkle.leaf_hash(data(3)), merkle.leaf_hash(data(9))
    raw(
        stored,
        ("UPDATE leaves SET data = ?, hash = ? WHERE idx = 3", (data(9), h9)),
        ("UPDATE leaves SET data = ?, hash = ? WHERE idx = 9", (data(3), h3)),
    )
    error = tamper_error(stored)
    assert error.node == (1, 1)
    assert "leaves 2–3" in str(error)


def test_entries_removed_from_the_end_are_caught(stored: Path) -> None:
    raw(stored, ("DELETE FROM leaves WHERE idx >= 30", ()))
    error = tamper_error(stored)
    assert error.leaf == 30
    assert "removed from its end" in str(error)


def test_a_last_entry_removed_is_caught_by_a_head(stored: Path) -> None:
    with MerkleLog.open(stored) as log:
        log.add_head(SIZE, log.root(), 1, "")
    # Entry 36 is alone on the right border: no stored node covers it, only the head does.
    raw(stored, ("DELETE FROM leaves WHERE idx = 36", ()))
    error = tamper_error(stored)
    assert error.head == SIZE
    assert "removed from its end" in str(error)


def test_a_changed_head_is_caught(stored: Path) -> None:
    with MerkleLog.open(stored) as log:
        log.add_head(20, log.root(20), 1, "")
    raw(stored, ("UPDATE heads SET root = ? WHERE size = 20", (bytes(32),)))
    error = tamper_error(stored)
    assert error.head == 20


def test_the_check_reads_the_disk_not_the_cache(stored: Path) -> None:
    with MerkleLog.open(stored) as log:
        for i in range(SIZE):
            log.inclusion_proof(i)  # fills the node cache
        raw(stored, ("UPDATE nodes SET hash = ? WHERE level = 1 AND idx = 7", (bytes(32),)))
        with pytest.raises(TamperError) as caught:
            log.check_integrity()
        assert caught.value.node == (1, 7)


def test_a_missing_compact_range_node_fails_on_use_naming_it(stored: Path) -> None:
    # 37 = 32 + 4 + 1: the right border is nodes (5, 0), (2, 8) and leaf 36.
    raw(stored, ("DELETE FROM nodes WHERE level = 2 AND idx = 8", ()))
    with MerkleLog.open(stored) as log:
        with pytest.raises(TamperError) as caught:
            log.root()
        assert caught.value.node == (2, 8)
        with pytest.raises(TamperError):
            log.check_integrity()


@pytest.mark.parametrize("seed", range(12))
def test_random_tampering_is_always_detected(stored: Path, seed: int) -> None:
    rng = random.Random(seed)
    kind = ["flip", "drop", "swap", "truncate"][seed % 4]
    if kind == "flip":
        i = rng.randrange(SIZE)
        d = data(i)
        raw(
            stored,
            ("UPDATE leaves SET data = ? WHERE idx = ?", (flipped(d, rng.randrange(len(d))), i)),
        )
        assert tamper_error(stored).leaf == i
    elif kind == "drop":
        i = rng.randrange(SIZE - 1)  # the last one alone is the head's business (above)
        raw(stored, ("DELETE FROM leaves WHERE idx = ?", (i,)))
        error = tamper_error(stored)
        assert error.leaf == i
    elif kind == "swap":
        i, j = sorted(rng.sample(range(SIZE), 2))
        raw(
            stored,
            ("UPDATE leaves SET data = ? WHERE idx = ?", (data(j), i)),
            ("UPDATE leaves SET data = ? WHERE idx = ?", (data(i), j)),
        )
        assert tamper_error(stored).leaf == i
    else:
        keep = rng.randrange(0, 32)  # drops at least one stored node's leaves
        raw(stored, ("DELETE FROM leaves WHERE idx >= ?", (keep,)))
        error = tamper_error(stored)
        assert error.leaf == keep


def test_a_consistently_rewritten_store_differs_from_the_root_served(stored: Path) -> None:
    with MerkleLog.open(stored) as log:
        served = log.root()
        # Rewrite entry 4 and every hash above it, so that the store agrees with itself.
        forged = [data(i) if i != 4 else b"forged" for i in range(SIZE)]
        other = memory_log()
        other.append_many(forged)
        conn = sqlite3.connect(stored)
        conn.execute("DELETE FROM nodes")
        conn.execute("DELETE FROM leaves")
        conn.executemany(
            "INSERT INTO leaves VALUES (?, ?, ?)",
            [(i, d, merkle.leaf_hash(d)) for i, d in enumerate(forged)],
        )
        other_storage = other.storage
        assert isinstance(other_storage, SQLiteStorage)
        conn.executemany(
            "INSERT INTO nodes VALUES (?, ?, ?)",
            other_storage._conn.execute("SELECT level, idx, hash FROM nodes").fetchall(),
        )
        conn.commit()
        conn.close()
        with pytest.raises(TamperError, match="rewritten"):
            log.check_integrity()
        assert log.root() == served
    with MerkleLog.open(stored) as fresh:
        fresh.check_integrity()  # a newcomer needs a signed head to see it: the verifier's job
        assert fresh.root() != served


def test_precomputed_leaf_hashes_are_used_and_checked_later(tmp_path) -> None:
    from accord.record.log import MerkleLog, TamperError
    from accord.record.merkle import leaf_hash as _leaf_hash
    from accord.record.merkle import root_hash as _root_hash

    items = [f"entry {i}".encode() for i in range(9)]
    with MerkleLog.open(tmp_path / "a.sqlite", "t.example") as log:
        log.append_many(items, leaf_hashes=[_leaf_hash(x) for x in items])
        assert log.root() == _root_hash([_leaf_hash(x) for x in items])
        log.check_integrity()
        with pytest.raises(ValueError, match="one leaf hash per entry"):
            log.append_many(items, leaf_hashes=[])
    with MerkleLog.open(tmp_path / "b.sqlite", "t.example") as log:
        wrong = [_leaf_hash(x) for x in items]
        wrong[4] = _leaf_hash(b"something else")
        log.append_many(items, leaf_hashes=wrong)
        with pytest.raises(TamperError, match="entry 4"):
            log.check_integrity()
