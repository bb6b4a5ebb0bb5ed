"""The log as tiles (c2sp.org/tlog-tiles): paths against the spec's examples and two
independent implementations' vectors, a published tiled log read and checked against its own
checkpoints, and random trees against the record's own merkle.py as the oracle."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import FormatError, InputError, LogError, ProofError
from accord.record import merkle
from accord.record.canonical import canonical_json
from accord.record.keys import PrivateKey
from accord.record.log import MerkleLog, SQLiteStorage
from accord.record.note import Checkpoint
from accord.record.recorder import Recorder
from accord.record.tiles import (
    ENTRIES_LEVEL,
    MAX_ENTRY_BYTES,
    Tile,
    TiledLog,
    edge_tiles,
    encode_bundle,
    encode_index,
    entries_path,
    new_tiles,
    parse_bundle,
    parse_hashes,
    parse_tile_path,
    tile_path,
)

# --- paths ----------------------------------------------------------------------------------


def test_the_specs_examples() -> None:
    # c2sp.org/tlog-tiles "Merkle Tree": index 1234067 is encoded as x001/x234/067.
    assert encode_index(1234067) == "x001/x234/067"
    # "Partial Tiles": a tree of size 70,000 is 273 full level 0 tiles, a partial level 0
    # tile of width 112, one full level 1 tile, a partial level 1 tile of width 17 and a
    # partial level 2 tile of width 1; a tree of size 256, a full level 0 tile and a partial
    # level 1 tile of width 1.
    assert edge_tiles(70_000) == [Tile(0, 273, 112), Tile(1, 1, 17), Tile(2, 0, 1)]
    every = new_tiles(0, 70_000)
    assert sum(t.level == 0 and t.full for t in every) == 273
    assert [t for t in every if t.level > 0] == [Tile(1, 0), Tile(1, 1, 17), Tile(2, 0, 1)]
    assert new_tiles(0, 256) == [Tile(0, 0), Tile(1, 0, 1)]
    assert edge_tiles(0) == [] and new_tiles(0, 0) == []


# tessera (github.com/transparency-dev/tessera, api/layout/paths_test.go at 1811ae1a7c40):
# TestTilePath, TestEntriesPath, TestNWithSuffix.
TESSERA_PATHS = [
    (Tile(0, 0), "tile/0/000"),
    (Tile(0, 0, 255), "tile/0/000.p/255"),
    (Tile(1, 0), "tile/1/000"),
    (Tile(15, 455667), "tile/15/x455/667"),
    (Tile(15, 123456789, 41), "tile/15/x123/x456/789.p/41"),
    (Tile(ENTRIES_LEVEL, 0), "tile/entries/000"),
    (Tile(ENTRIES_LEVEL, 0, 8), "tile/entries/000.p/8"),
    (Tile(ENTRIES_LEVEL, 255), "tile/entries/255"),
    (Tile(ENTRIES_LEVEL, 255, 253), "tile/entries/255.p/253"),
    (Tile(ENTRIES_LEVEL, 123456789), "tile/entries/x123/x456/789"),
    (Tile(0, 1234067, 89), "tile/0/x001/x234/067.p/89"),
    (Tile(63, 999999999999999999, 255), "tile/63/x999/x999/x999/x999/x999/999.p/255"),
]


@pytest.mark.parametrize(("tile", "path"), TESSERA_PATHS)
def test_paths_against_tesseras_vectors(tile: Tile, path: str) -> None:
    assert tile.path == path
    assert parse_tile_path(path) == tile


# tessera TestParseTileLevelIndexPartial's refused paths (same file), and golang.org/x/mod
# sumdb/tlog tile_test.go FuzzParseTilePath's seeds of the same shapes (at 1fe2ec04f7c3,
# written there with the tile height, tile/3/5/123/456/078: every element but the last
# must begin with x).
REFUSED = [
    "tile/0/x001/x234/067.p/",
    "tile/0/x001/x234/067.p",
    "tile/0/x001/x234/",
    "tile/0/x001/x234",
    "tile/0/x001/",
    "tile/0/x001",
    "tile/1/x001/.p/abc",
    "tile/64/x001/002",
    "tile/-1/x001/002",
    "tile/abc/x001/002",
    "tile/8/001/002",
    "tile/8/x001/0002",
    "tile/8/x001/-002",
    "tile/8/x001/002.p/256",
    "tile/63/x999/x999/x999/x999/x999/x999/999.p/255",  # beyond 64 bits
    "tile/5/123/456/078",
    "tile/data/x003/x057/500",
    # and this project's strictness: one way to write each tile
    "tile/0/000.p/0",
    "tile/0/000.p/07",
    "tile/00/000",
    "tile/0/x000/001",
    "tile/0/1",
    "tiles/0/000",
    "tile/entries",
]


@pytest.mark.parametrize("path", REFUSED)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(FormatError):
        parse_tile_path(path)


@pytest.mark.parametrize(
    ("old", "new", "count"),
    # golang.org/x/mod sumdb/tlog tile_test.go TestNewTilesForSize (tiles of height 10).
    [(1, 1, 0), (100, 101, 1), (1023, 1025, 3), (1024, 1030, 1), (1030, 2000, 1),
     (1030, 10000, 10), (49516517, 49516586, 3)],
)  # fmt: skip
def test_new_tiles_against_gos_vectors(old: int, new: int, count: int) -> None:
    assert len(new_tiles(old, new, height=10)) == count


@given(st.integers(min_value=0, max_value=(1 << 64) - 1), st.integers(1, 256))
def test_paths_round_trip(index: int, width: int) -> None:
    for level in (ENTRIES_LEVEL, 0, 7, 63):
        tile = Tile(level, index, width)
        assert parse_tile_path(tile.path) == tile


# --- bodies ---------------------------------------------------------------------------------


def test_bundles_are_uint16_length_prefixed() -> None:
    assert encode_bundle([b"", b"ab", b"x" * MAX_ENTRY_BYTES])[:6] == b"\x00\x00\x00\x02ab"
    assert parse_bundle(encode_bundle([b"", b"ab"]), width=2) == [b"", b"ab"]
    with pytest.raises(FormatError, match="at most 65535"):
        encode_bundle([b"x" * (MAX_ENTRY_BYTES + 1)])
    for bad, width in [(b"\x00", 1), (b"\x00\x05abc", 1), (b"\x00\x01a", 2), (b"\x00\x00", 0)]:
        with pytest.raises(FormatError):
            parse_bundle(bad, width=width)
    with pytest.raises(FormatError):
        parse_hashes(b"\x00" * 33, width=1)


# --- a published tiled log ------------------------------------------------------------------

# tessera's test log (github.com/transparency-dev/tessera testdata/, at 1811ae1a7c40), built by
# testdata/build_log.sh with its POSIX storage: one entry per word, a checkpoint after each.
TESSERA_WORDS = [
    *("one", "two", "three", "four", "five", "six", "seven", "eit", "nain", "ten"),
    *("ileven", "twelf", "threeten", "fourten", "fivten"),
]
TESSERA_BUNDLE_15 = bytes.fromhex(  # testdata/log/tile/entries/000.p/15
    "00036f6e65000374776f000574687265650004666f757200046669766500037369780005736576656e0003"
    "65697400046e61696e000374656e0006696c6576656e00057477656c660008746872656574656e0007666f"
    "757274656e000666697674656e"
)
TESSERA_TILE_3 = bytes.fromhex(  # testdata/log/tile/0/000.p/3
    "d0d7360ab79f58ab1e1e3fe64ad77e2ea0bc07e36b5f46ed2223edd9298df9e9ab1ab7f07c7c8fe0eff4ba6f"
    "aa53c7e4412e91a599153e8aa4e01beece5b7825671f146c5e471e8a1a83a3c214ce4ba907b8f3a5888d14"
    "cc8cd3ce75bb12ef94"
)
TESSERA_ROOTS = {  # line 3 of testdata/log/checkpoint.<size>
    0: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    1: "0Nc2CrefWKseHj/mStd+LqC8B+NrX0btIiPt2SmN+ek=",
    2: "T1X2GdkhUjV3iyufF9b0kVsWFxIU0VI4EpNml2Teci4=",
    3: "Wqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=",
    7: "IrSXADBqJ7EQoUODSDKROySgNveeL6CFhik2w/+fS7U=",
    8: "bC+VwvrJbalNVjfkdI8kUgs7mJoXrqiXCE7bgnD28pY=",
    14: "SvCd38yNade7xEPY1a/aAc1M3A2AHYVF8lIiUnsH1ao=",
    15: "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=",
}
TESSERA_CHECKPOINT_15 = (  # testdata/log/checkpoint.15
    "example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n\n"
    "— example.com/log/testdata M9e0luh4jTG+UMBqOUo9/q+yAEvx1ilBEniMvjf1zfcBOhg+CKubMt53MvIt"
    "/uEWP6zdkdIQzd/fmwlM/dlPWF74ewI=\n"
)


def test_a_published_tiled_log_reads_and_checks() -> None:
    words = [w.encode() for w in TESSERA_WORDS]
    assert encode_bundle(words) == TESSERA_BUNDLE_15
    assert parse_bundle(TESSERA_BUNDLE_15, width=15) == words
    leaves = [merkle.leaf_hash(w) for w in words]
    assert b"".join(leaves[:3]) == TESSERA_TILE_3
    body = TESSERA_CHECKPOINT_15.split("\n\n")[0] + "\n"
    checkpoint = Checkpoint.parse(body)
    assert checkpoint.root == base64.b64decode(TESSERA_ROOTS[15])
    for size, root in TESSERA_ROOTS.items():
        served = serve(words[:size])  # (below) the tiles as tessera's files hold them
        log = TiledLog.open(served.__getitem__, size=size, root=base64.b64decode(root))
        assert [d for _, d in log.entries()] == words[:size]
        for old, old_root in TESSERA_ROOTS.items():
            if old <= size:
                log.check_consistency(old_size=old, old_root=base64.b64decode(old_root))
    log = TiledLog.open(
        {tile_path(0, 0, 14): b"".join(leaves[:14])}.__getitem__,
        size=14,
        root=base64.b64decode(TESSERA_ROOTS[14]),
    )
    with pytest.raises(ProofError):  # 15's root is no prefix of 14
        log.check_consistency(old_size=15, old_root=checkpoint.root)
    with pytest.raises(ProofError):
        log.check_consistency(old_size=8, old_root=base64.b64decode(TESSERA_ROOTS[7]))


# --- random trees, merkle.py the oracle -----------------------------------------------------


def serve(entries: list[bytes]) -> dict[str, bytes]:
    """Every tile and bundle of a tree of ``entries``, written straight from the spec's
    definition (the hashes of each level's full tiles, MTH by merkle.root_hash)."""
    out: dict[str, bytes] = {}
    hashes = [merkle.leaf_hash(e) for e in entries]
    for n in range(0, len(entries), 256):
        chunk = entries[n : n + 256]
        out[entries_path(n // 256, len(chunk))] = encode_bundle(chunk)
    level = 0
    while hashes:
        for n in range(0, len(hashes), 256):
            chunk = hashes[n : n + 256]
            out[tile_path(level, n // 256, len(chunk))] = b"".join(chunk)
        full = len(hashes) // 256 * 256
        hashes = [merkle.root_hash(hashes[i : i + 256]) for i in range(0, full, 256)]
        level += 1
    return out


def counting(served: dict[str, bytes], seen: list[str]) -> Callable[[str], bytes]:
    def fetch(path: str) -> bytes:
        seen.append(path)
        return served[path]

    return fetch


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1300), st.data())
def test_random_trees_against_merkle(size: int, data: st.DataObject) -> None:
    entries = [b"%d" % i * (i % 5) for i in range(size)]
    leaves = [merkle.leaf_hash(e) for e in entries]
    root = merkle.root_hash(leaves)
    served = serve(entries)
    seen: list[str] = []
    log = TiledLog.open(counting(served, seen), size=size, root=root)
    assert sorted(seen) == sorted(t.path for t in edge_tiles(size))  # the edge, nothing more
    old = data.draw(st.integers(0, size))
    log.check_consistency(old_size=old, old_root=merkle.root_hash(leaves[:old]))
    assert log.consistency_proof(old) == merkle.consistency_proof(leaves, old)
    assert log.root_at(old) == merkle.root_hash(leaves[:old])
    if size:
        index = data.draw(st.integers(0, size - 1))
        assert log.inclusion_proof(index) == merkle.inclusion_proof(leaves, index)
        start = data.draw(st.integers(0, size))
        end = data.draw(st.integers(start, size))
        paths = log.paths(start, end)
        seen.clear()
        assert list(log.entries(start, end)) == list(enumerate(entries))[start:end]
        assert set(seen) <= set(paths)
        assert log.leaf_hashes(start, end) == leaves[start:end]
        if old < size:  # another history of the old size does not pass
            forged = merkle.root_hash([*leaves[: old - 1], merkle.leaf_hash(b"forged")][:old])
            if forged != merkle.root_hash(leaves[:old]):
                with pytest.raises(ProofError):
                    log.check_consistency(old_size=old, old_root=forged)
        # One changed byte in anything the reader uses is caught.
        path = data.draw(st.sampled_from(sorted(served)))
        body = bytearray(served[path])
        if body:
            body[data.draw(st.integers(0, len(body) - 1))] ^= 1
            tampered = {**served, path: bytes(body)}
            with pytest.raises((ProofError, FormatError)):
                read_everything(tampered, size, root)


def read_everything(served: dict[str, bytes], size: int, root: bytes) -> None:
    log = TiledLog.open(served.__getitem__, size=size, root=root)
    list(log.entries())
    for level in range(size.bit_length()):
        for i in range(size >> level):
            log.node(level, i)


def test_a_wrong_root_and_a_short_tree_are_refused() -> None:
    entries = [b"e%d" % i for i in range(300)]
    served = serve(entries)
    with pytest.raises(ProofError, match="right edge"):
        TiledLog.open(served.__getitem__, size=300, root=merkle.EMPTY_ROOT)
    with pytest.raises(KeyError):  # a size the server has no tiles for
        TiledLog.open(served.__getitem__, size=301, root=merkle.EMPTY_ROOT)
    log = TiledLog.open(served.__getitem__, size=0, root=merkle.EMPTY_ROOT)
    assert list(log.entries()) == []
    with pytest.raises(ProofError, match="rollback"):
        log.check_consistency(old_size=1, old_root=merkle.EMPTY_ROOT)


def test_the_stored_log_serves_its_tiles_across_level_boundaries() -> None:
    """The log store's tiles (one range read of stored nodes each) read back through the
    reader at sizes around 256 and 256 * 256, against the compact range's root."""
    log = MerkleLog(SQLiteStorage(":memory:"), "example.org/tiles")

    def fetch(path: str) -> bytes:
        tile = parse_tile_path(path)
        if tile.level == ENTRIES_LEVEL:
            return log.entry_bundle(tile.index, tile.width)
        return log.tile(tile.level, tile.index, tile.width)

    cache: dict[str, bytes] = {}
    previous: tuple[int, bytes] | None = None
    for size in (1, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, 65_536 + 256 + 3):
        log.append_many([b"entry %d" % i for i in range(log.size, size)])
        reader = TiledLog.open(fetch, size=size, root=log.root(), cache=cache)
        assert [d for _, d in reader.entries(max(0, size - 260))][-1] == b"entry %d" % (size - 1)
        if previous is not None:
            reader.check_consistency(old_size=previous[0], old_root=previous[1])
        previous = (size, log.root())
    # A monitor fetches what paths() names (concurrently, in its own way) into the cache:
    # reading then fetches nothing more than the edge and the partial bundle.
    size, root = log.size, log.root()
    ahead = TiledLog.open(fetch, size=size, root=root)
    prefetched = {path: fetch(path) for path in ahead.paths()}
    assert len(prefetched) == 258 + 257 + 1  # bundles; full tiles of level 0, of level 1
    reader = TiledLog.open(fetch, size=size, root=root, cache=prefetched)
    assert sum(1 for _ in reader.entries()) == size
    assert reader.fetched == len(edge_tiles(size)) + 1
    assert len(log.tile(2, 0, 1)) == 32 and log.tile(1, 0) == log.tile(1, 0, 256)
    for level, index, width in [(0, 257, 4), (1, 1, 2), (2, 0, 2), (3, 0, 1), (0, 0, 0)]:
        with pytest.raises(LogError):
            log.tile(level, index, width)
    with pytest.raises(LogError, match="at most 65535"):
        log.append(b"x" * (MAX_ENTRY_BYTES + 1))
    log.append(b"x" * MAX_ENTRY_BYTES)


def test_the_recorder_refuses_an_entry_over_64_kib_naming_its_field() -> None:
    """The limit that holds for every source (each that can grow checks its own first)."""
    key = PrivateKey.from_seed("blue", bytes(range(32)))
    recorder = Recorder(MerkleLog(SQLiteStorage(":memory:"), "example.org/tiles"))
    at = datetime(2026, 5, 1, tzinfo=UTC)
    big = {"kind": "x", "content": {"geometry": {"coordinates": [[21.123456, 25.123456]] * 4000}}}
    with pytest.raises(InputError) as refused:
        recorder.append_many([({"kind": "small"}, key, at), (big, key, at)])
    assert [i.field for i in refused.value.issues] == ["content.geometry.coordinates"]
    findings = {"kind": "y", "findings": [{"a": 1}, {"text": "z" * 70_000}]}
    with pytest.raises(InputError) as refused:
        recorder.append_encoded(canonical_json(findings), key=key, at=at)
    assert [i.field for i in refused.value.issues] == ["findings[1].text"]
    assert recorder.log.size == 0
    recorder.append({"kind": "x", "text": "z" * 64_000}, key=key, at=at)
    assert len(recorder.log.entry(0)) <= MAX_ENTRY_BYTES


class CountingStorage(SQLiteStorage):
    """The SQLite store, counting what the log reads of it."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.calls: list[str] = []

    def read_leaves(self, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
        self.calls.append(f"leaves {start}-{end}")
        return super().read_leaves(start, end)

    def read_nodes(self, level: int, start: int, end: int) -> list[tuple[int, bytes]]:
        self.calls.append(f"nodes {level} {start}-{end}")
        return super().read_nodes(level, start, end)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_the_stored_log_serves_random_sizes_against_merkle(size: int, data: st.DataObject) -> None:
    """A tile is one range read of stored hashes (never the leaves); what the store serves is
    what merkle.py computes from the entries."""
    storage = CountingStorage()
    log = MerkleLog(storage, "example.org/tiles")
    entries = [b"%d" % i for i in range(size)]
    log.append_many(entries)
    leaves = [merkle.leaf_hash(e) for e in entries]
    tile = data.draw(st.sampled_from(new_tiles(0, size)))
    storage.calls.clear()
    body = log.tile(tile.level, tile.index, tile.width)
    assert storage.calls == [
        f"nodes {8 * tile.level} {tile.index * 256}-{tile.index * 256 + tile.width}"
    ]
    span = 256**tile.level
    first = tile.index * 256 * span
    assert parse_hashes(body, width=tile.width) == [
        merkle.root_hash(leaves[first + i * span : first + (i + 1) * span])
        for i in range(tile.width)
    ]
    if tile.level == 0:
        bundle = log.entry_bundle(tile.index, tile.width)
        assert parse_bundle(bundle, width=tile.width) == entries[first : first + tile.width]
