"""Tiles workload (``python -m bench --only tiles``): a large log read as C2SP tlog-tiles.

* serving: every tile and entry bundle of a log of 100,000 entries, cut from the stored log
  (one range read of stored hashes per tile); baseline: the same entries read in order from
  the store (``MerkleLog.entries``), which every way of serving them must at least do;
* reading: a reader given the served bodies (as a cache or a mirror holds them) checks every
  tile against the checkpoint's root and every entry against its leaf hash
  (:class:`accord.record.tiles.TiledLog`); baseline: hashing the same entries into the root
  with the compact range (:class:`accord.record.merkle.CompactRange`) — the least any reader
  that checks the root from the entries does.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from accord.record.log import MerkleLog
from accord.record.merkle import CompactRange, leaf_hash
from accord.record.tiles import ENTRIES_LEVEL, TiledLog, new_tiles, parse_tile_path

ORIGIN = "bench.accord/tiles"


def _entry(i: int) -> bytes:
    # About the size of a small signed entry in its envelope.
    return (b'{"entry":{"event":{"kind":"bench","n":%d},"sig":"' % i) + b"x" * 280 + b'"}}'


def run(entries: int = 100_000) -> list[tuple[str, str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="accord-bench-tiles-") as tmp:
        log = MerkleLog.open(Path(tmp) / "log.sqlite", ORIGIN)
        for start in range(0, entries, 10_000):
            log.append_many([_entry(i) for i in range(start, min(entries, start + 10_000))])
        size, root = log.size, log.root()

        def serve(path: str) -> bytes:
            tile = parse_tile_path(path)
            if tile.level == ENTRIES_LEVEL:
                return log.entry_bundle(tile.index, tile.width)
            return log.tile(tile.level, tile.index, tile.width)

        wanted = new_tiles(0, size)
        bundles = [t for t in wanted if t.level == 0]
        t = time.perf_counter()
        served = {tile.path: serve(tile.path) for tile in wanted}
        for tile in bundles:
            path = tile.path.replace("tile/0/", "tile/entries/", 1)
            served[path] = serve(path)
        serving = time.perf_counter() - t

        t = time.perf_counter()
        stored = [data for _, data in log.entries(0, size)]
        reading_store = time.perf_counter() - t

        t = time.perf_counter()
        reader = TiledLog.open(served.__getitem__, size=size, root=root)
        count = sum(1 for _ in reader.entries())
        reading = time.perf_counter() - t
        assert count == size

        t = time.perf_counter()
        compact = CompactRange()
        for data in stored:
            compact.append(leaf_hash(data))
        assert compact.root() == root
        hashing = time.perf_counter() - t
        log.close()
    tiles = len(served)
    return [
        (
            f"tiles: serve {size:,} entries ({tiles:,} tiles and bundles)",
            f"{serving:.2f} s",
            f"read the entries from the store: {reading_store:.2f} s",
            f"{serving / reading_store:.2f}x",
        ),
        (
            f"tiles: read and check {size:,} entries against the root",
            f"{reading:.2f} s ({size / reading:,.0f}/s)",
            f"hash them into the root: {hashing:.2f} s",
            f"{reading / hashing:.2f}x",
        ),
    ]
