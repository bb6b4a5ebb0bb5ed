"""The log as tiles (C2SP ``tlog-tiles``): paths, hash tiles, entry bundles, and a reader that
checks everything it fetches against a checkpoint.

A tiled log serves its Merkle tree (RFC 6962 / RFC 9162 hashes) as *tiles*: the ``N``-th tile
of level ``L`` holds the hashes of 256 consecutive perfect subtrees of ``256**L`` leaves each,

    MTH(D[(N * 256 + i) * 256**L : (N * 256 + i + 1) * 256**L]),  i = 0 .. 255

(c2sp.org/tlog-tiles, "Merkle Tree"), 32 bytes each, concatenated; the entries themselves come
in *bundles* of 256, each entry prefixed by its length as a big-endian uint16 (so no entry is
longer than :data:`MAX_ENTRY_BYTES`). The right-most tile of each level is *partial* at most
sizes: its ``W`` hashes (``floor(size / 256**L) mod 256``) are served at ``.p/W``.

Everything here is pure: :class:`TiledLog` reads through a ``fetch`` function the caller
gives it (``fetch("tile/0/x001/234")`` returns the body, or raises), so the same code reads a
center over HTTP, a folder of static files or a test's dictionary.

**What the reader trusts.** Nothing it fetches: it is given a tree size and root (from a
checkpoint whose signature the caller verified, :func:`accord.record.note.verify_checkpoint`)
and checks every tile against them before using a hash from it. The partial tiles of the
right edge hash straight to the root (:meth:`TiledLog.open`); a full tile is checked by
hashing its 256 hashes to the one hash that stands for it in the tile above, itself checked
the same way, up to a partial one. An entry is checked against its leaf hash in a checked
level-0 tile. A server that changes a byte anywhere is caught as a
:class:`~accord.errors.ProofError` naming the tile; a malformed tile (a wrong length) as a
:class:`~accord.errors.FormatError`.

>>> from accord.record import merkle
>>> entries = [b"entry %d" % i for i in range(300)]
>>> leaves = [merkle.leaf_hash(e) for e in entries]
>>> served = {
...     tile_path(0, 0): b"".join(leaves[:256]),
...     tile_path(0, 1, 44): b"".join(leaves[256:]),
...     tile_path(1, 0, 1): merkle.root_hash(leaves[:256]),
...     entries_path(1, 44): encode_bundle(entries[256:]),
... }
>>> log = TiledLog.open(served.__getitem__, size=300, root=merkle.root_hash(leaves))
>>> [data for _, data in log.entries(298, 300)]
[b'entry 298', b'entry 299']
>>> log.check_consistency(old_size=256, old_root=merkle.root_hash(leaves[:256]))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from hashlib import sha256

from accord.errors import FormatError, ProofError
from accord.record import merkle
from accord.record.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "ENTRIES_LEVEL",
    "MAX_ENTRY_BYTES",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Fetch",
    "Tile",
    "TiledLog",
    "edge_tiles",
    "encode_bundle",
    "encode_index",
    "entries_path",
    "new_tiles",
    "parse_bundle",
    "parse_hashes",
    "parse_tile_path",
    "tile_path",
]

TILE_HEIGHT = 8
"""c2sp.org/tlog-tiles: a tile is a subtree of height 8 ..."""
TILE_WIDTH = 1 << TILE_HEIGHT
"""... so a full tile holds 256 hashes (8,192 bytes), a full bundle 256 entries."""
MAX_ENTRY_BYTES = 0xFFFF
"""c2sp.org/tlog-tiles "Log entries": entries are big-endian uint16 length-prefixed, so none
is longer than 65,535 bytes (the "64 KiB" of DECISIONS 12)."""
ENTRIES_LEVEL = -1
"""The level of a :class:`Tile` that is an entry bundle (``tile/entries/...``), not hashes."""
MAX_LEVEL = 63
"""c2sp.org/tlog-tiles: ``<L>`` is between 0 and 63."""

Fetch = Callable[[str], bytes]
"""Returns the body served at a path relative to the log's prefix (``checkpoint``,
``tile/0/000``, ``tile/entries/x001/002.p/7``); raises when there is none."""

_INDEX_ELEMENT = re.compile(r"x[0-9]{3}\Z")
_LAST_ELEMENT = re.compile(r"[0-9]{3}\Z")
_DECIMAL = re.compile(r"(0|[1-9][0-9]*)\Z")


# --- paths ----------------------------------------------------------------------------------


def encode_index(index: int) -> str:
    """c2sp.org/tlog-tiles: ``<N>`` in zero-padded 3-digit path elements, all but the last
    beginning with ``x``: 1234067 is ``x001/x234/067``.

    >>> encode_index(0), encode_index(1234067)
    ('000', 'x001/x234/067')
    """
    if index < 0:
        raise ValueError(f"a tile index is not negative: {index}")
    parts = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        parts.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(parts))


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"a tile is 1 to {TILE_WIDTH} wide, not {width}")
    # c2sp.org/tlog-tiles: ".p/<W>" only for partial tiles, W from 1 to 255.
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The path of a hash tile, relative to the log's prefix: ``tile/<L>/<N>[.p/<W>]``.

    >>> tile_path(15, 123456789, 41)
    'tile/15/x123/x456/789.p/41'
    """
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"a tile level is 0 to {MAX_LEVEL}, not {level}")
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """The path of an entry bundle: ``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


@dataclass(frozen=True, slots=True, order=True)
class Tile:
    """A tile's coordinates: its level (:data:`ENTRIES_LEVEL` for an entry bundle), its index
    within the level and its width (256 for a full tile)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def path(self) -> str:
        """Its path relative to the log's prefix."""
        if self.level == ENTRIES_LEVEL:
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH


def parse_tile_path(path: str) -> Tile:
    """The tile a path names (relative to the prefix, ``tile/...``); exactly the form
    :func:`tile_path` and :func:`entries_path` write, or :class:`FormatError`.

    >>> parse_tile_path("tile/entries/x001/x234/067.p/89")
    Tile(level=-1, index=1234067, width=89)
    """
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise FormatError(f"not a tile path: {path!r}")
    level_text, rest = parts[1], parts[2:]
    if level_text == "entries":
        level = ENTRIES_LEVEL
    elif _DECIMAL.match(level_text) and int(level_text) <= MAX_LEVEL:
        level = int(level_text)
    else:
        raise FormatError(f"{path!r}: the level is 0 to {MAX_LEVEL} or 'entries'")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _DECIMAL.match(w) or not 1 <= int(w) < TILE_WIDTH:
            raise FormatError(f"{path!r}: a partial tile's width is 1 to {TILE_WIDTH - 1}")
        width = int(w)
        rest = [*rest[:-2], rest[-2][: -len(".p")]]
    if not _LAST_ELEMENT.match(rest[-1]) or not all(_INDEX_ELEMENT.match(p) for p in rest[:-1]):
        raise FormatError(f"{path!r}: the index is in 3-digit elements, all but the last x-led")
    if len(rest) > 1 and rest[0] == "x000":
        raise FormatError(f"{path!r}: the index has a leading x000 element")
    index = 0
    for part in rest:
        index = index * 1000 + int(part.lstrip("x"))
    if index >= 1 << 64:  # tree sizes and indices are uint64
        raise FormatError(f"{path!r}: the index does not fit 64 bits")
    return Tile(level, index, width)


# --- which tiles a tree has -----------------------------------------------------------------


def edge_tiles(size: int) -> list[Tile]:
    """The partial tiles of a tree of ``size`` leaves, lowest level first: the level-``L``
    one is ``floor(size / 256**L) mod 256`` wide (c2sp.org/tlog-tiles "Partial Tiles"), and
    levels where that is 0 have none. Together they hash to the tree's root.

    >>> [(t.level, t.width) for t in edge_tiles(70_000)]
    [(0, 112), (1, 17), (2, 1)]
    """
    tiles, level, count = [], 0, size
    while count:
        if count % TILE_WIDTH:
            tiles.append(Tile(level, count // TILE_WIDTH, count % TILE_WIDTH))
        count //= TILE_WIDTH
        level += 1
    return tiles


def new_tiles(old_size: int, new_size: int, *, height: int = TILE_HEIGHT) -> list[Tile]:
    """The tiles (of ``height``; 8 in tlog-tiles) that a tree of ``new_size`` serves and one
    of ``old_size`` did not: the full tiles completed between the two sizes and the new
    partial ones, level by level (what a mirror copies after a new checkpoint)."""
    width = 1 << height
    tiles: list[Tile] = []
    level = 0
    while new_size >> (height * level):
        old_n, new_n = old_size >> (height * level), new_size >> (height * level)
        if old_n != new_n:
            tiles.extend(Tile(level, n, width) for n in range(old_n >> height, new_n >> height))
            if new_n % width:
                tiles.append(Tile(level, new_n >> height, new_n % width))
        level += 1
    return tiles


# --- bodies ---------------------------------------------------------------------------------


def parse_hashes(data: bytes, *, width: int) -> list[bytes]:
    """The ``width`` hashes of a tile's body (exactly ``32 * width`` bytes)."""
    if len(data) != HASH_SIZE * width:
        raise FormatError(f"a tile of width {width} is {HASH_SIZE * width} bytes, not {len(data)}")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry prefixed by its length, a big-endian uint16
    (c2sp.org/tlog-tiles "Log entries"). Refuses an entry longer than 65,535 bytes."""
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_BYTES:
            raise FormatError(
                f"entry {i} of the bundle is {len(entry)} bytes; a tiled log's entries are at "
                f"most {MAX_ENTRY_BYTES}"
            )
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)


def parse_bundle(data: bytes, *, width: int) -> list[bytes]:
    """The ``width`` entries of a bundle's body, with nothing left over."""
    if type(data) is not bytes:
        data = bytes(data)
    entries: list[bytes] = []
    append = entries.append
    at, end = 0, len(data)
    while at < end:
        if at + 2 > end:
            raise FormatError(f"entry {len(entries)} of the bundle: its length is cut short")
        stop = at + 2 + (data[at] << 8 | data[at + 1])
        if stop > end:
            raise FormatError(f"entry {len(entries)} of the bundle is cut short")
        append(data[at + 2 : stop])
        at = stop
    if len(entries) != width:
        raise FormatError(f"a bundle of width {width} holds {len(entries)} entries")
    return entries


def _perfect_root(hashes: Sequence[bytes]) -> bytes:
    """MTH over ``2**k`` subtree hashes, in place of their leaves (RFC 9162 §2.1.1)."""
    level = list(hashes)
    while len(level) > 1:
        # RFC 9162 §2.1.1: SHA-256(0x01 || left || right), inlined (a full tile: 255 times).
        level = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)
        ]
    return level[0]


# --- the reader -----------------------------------------------------------------------------


class TiledLog:
    """A tree of ``size`` leaves read from tiles, every hash checked against ``root``.

    Make one with :meth:`open` (it fetches the right edge and checks the root at once).
    Tiles are fetched when first needed and kept; ``cache``, a mapping shared between readers
    (path → body), saves fetching the full tiles again — they never change — but each is
    still checked by the reader that uses it.
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        size: int,
        root: bytes,
        cache: MutableMapping[str, bytes] | None = None,
    ) -> None:
        if size < 0:
            raise ValueError(f"a tree size is not negative: {size}")
        if len(root) != HASH_SIZE:
            raise FormatError(f"a root hash is {HASH_SIZE} bytes")
        self._fetch = fetch
        self.size = size
        self.root = bytes(root)
        self._cache = cache
        self._tiles: dict[tuple[int, int], list[bytes]] = {}  # (level, index): checked hashes
        self.fetched = 0
        """How many bodies this reader fetched (not taken from ``cache``)."""

    @classmethod
    def open(
        cls,
        fetch: Fetch,
        *,
        size: int,
        root: bytes,
        cache: MutableMapping[str, bytes] | None = None,
    ) -> TiledLog:
        """The tree of ``size`` and ``root`` (a verified checkpoint's), its right edge fetched
        and checked: raises :class:`ProofError` when the served tiles do not hash to
        ``root``, :class:`FormatError` when one is malformed."""
        log = cls(fetch, size=size, root=root, cache=cache)
        log._check_edge()
        return log

    # --- fetching -------------------------------------------------------------------------

    def _get(self, path: str, *, cacheable: bool) -> bytes:
        if cacheable and self._cache is not None:
            found = self._cache.get(path)
            if found is not None:
                return found
        data = self._fetch(path)
        self.fetched += 1
        if cacheable and self._cache is not None:
            self._cache[path] = data
        return data

    def _width(self, level: int, index: int) -> int:
        """The width of tile ``index`` of ``level`` in this tree (0: it has none)."""
        count = self.size >> (TILE_HEIGHT * level)
        return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))

    def _check_edge(self) -> None:
        for tile in edge_tiles(self.size):
            data = self._get(tile.path, cacheable=False)
            self._tiles[tile.level, tile.index] = parse_hashes(data, width=tile.width)
        got = self.root_at(self.size)
        if got != self.root:
            self._tiles.clear()
            raise ProofError(
                f"the tiles of the right edge do not hash to the checkpoint's root at size "
                f"{self.size}"
            )

    def _tile(self, level: int, index: int) -> list[bytes]:
        """The checked hashes of tile ``index`` of ``level``."""
        found = self._tiles.get((level, index))
        if found is not None:
            return found
        width = self._width(level, index)
        if width != TILE_WIDTH:
            # Partial tiles are the edge's, checked by open(); any other is outside the tree.
            raise ProofError(f"no tile {index} at level {level} in a tree of {self.size}")
        path = tile_path(level, index)
        hashes = parse_hashes(self._get(path, cacheable=True), width=TILE_WIDTH)
        # c2sp.org/tlog-tiles: a hash at level L + 1 is the MTH of a full tile at level L.
        expected = self.node(TILE_HEIGHT * (level + 1), index)
        if _perfect_root(hashes) != expected:
            if self._cache is not None:
                self._cache.pop(path, None)
            raise ProofError(f"the tile {path} does not hash to its place in the tree")
        self._tiles[level, index] = hashes
        return hashes

    # --- the tree -------------------------------------------------------------------------

    def node(self, level: int, index: int) -> bytes:
        """MTH of the perfect subtree over leaves ``[index * 2**level, (index+1) * 2**level)``,
        which must lie within the tree."""
        if level < 0 or index < 0 or (index + 1) << level > self.size:
            raise ProofError(f"no node ({level}, {index}) in a tree of {self.size}")
        tile_level, within = divmod(level, TILE_HEIGHT)
        first = index << within  # its first hash in the level's tiles
        hashes = self._tile(tile_level, first >> TILE_HEIGHT)
        start = first % TILE_WIDTH
        return _perfect_root(hashes[start : start + (1 << within)])

    def range_hash(self, a: int, b: int) -> bytes:
        """``MTH(D[a:b])`` (RFC 9162 §2.1.1), from checked nodes."""
        if not 0 <= a <= b <= self.size:
            raise ProofError(f"no range [{a}, {b}) in a tree of {self.size}")
        n = b - a
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and a % n == 0:
            return self.node(n.bit_length() - 1, a // n)
        k = merkle.split_point(n)
        return node_hash(self.range_hash(a, a + k), self.range_hash(a + k, b))

    def root_at(self, size: int) -> bytes:
        """The root of the tree of the first ``size`` leaves (``size <= self.size``): the
        perfect subtrees of ``size``'s set bits, folded from the right."""
        if not 0 <= size <= self.size:
            raise ProofError(f"no tree of size {size} within one of {self.size}")
        compact = merkle.CompactRange()
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                compact.append_subtree(self.node(level, compact.size >> level), 1 << level)
        return compact.root()

    def inclusion_proof(self, index: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1's audit path of leaf ``index``, built from the tiles."""
        return merkle.inclusion_path(index, self.size, self.range_hash)

    def consistency_proof(self, old_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1's proof from ``old_size`` to this tree, built from the tiles."""
        return merkle.consistency_path(old_size, self.size, self.range_hash)

    def check_consistency(self, *, old_size: int, old_root: bytes) -> None:
        """Check that the tree of ``old_size`` with ``old_root`` (an earlier checkpoint) is a
        prefix of this one: the RFC 9162 consistency proof is built from this tree's checked
        tiles and verified by :func:`accord.record.merkle.verify_consistency`. Returns None;
        raises :class:`ProofError` (a rewritten history, a smaller tree)."""
        if old_size > self.size:
            raise ProofError(
                f"the tree went back from size {old_size} to size {self.size}: a rollback"
            )
        merkle.verify_consistency(
            old_size=old_size,
            new_size=self.size,
            old_root=old_root,
            new_root=self.root,
            proof=self.consistency_proof(old_size),
        )

    def paths(self, start: int = 0, end: int | None = None) -> list[str]:
        """The paths :meth:`entries` will fetch for entries ``start`` to ``end - 1``: their
        bundles, and the full tiles (of every level) that check them, lowest level first.
        A caller may fetch them concurrently into ``cache`` first: the full ones are then
        taken from it (and still checked); a partial bundle, which it does not keep, is
        fetched again."""
        end = self.size if end is None else end
        if not 0 <= start <= end <= self.size:
            raise ProofError(f"no entries [{start}, {end}) in a tree of {self.size}")
        if start == end:
            return []
        first, last = start // TILE_WIDTH, (end - 1) // TILE_WIDTH
        out = [entries_path(n, self._width(0, n)) for n in range(first, last + 1)]
        level = 0
        while first <= last:
            full = [n for n in range(first, last + 1) if self._width(level, n) == TILE_WIDTH]
            out += [tile_path(level, n) for n in full if (level, n) not in self._tiles]
            if not full:
                break
            first, last, level = full[0] // TILE_WIDTH, full[-1] // TILE_WIDTH, level + 1
        return out

    # --- entries --------------------------------------------------------------------------

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """The checked leaf hashes of leaves ``start`` to ``end - 1``."""
        if not 0 <= start <= end <= self.size:
            raise ProofError(f"no leaves [{start}, {end}) in a tree of {self.size}")
        out: list[bytes] = []
        at = start
        while at < end:
            n, offset = divmod(at, TILE_WIDTH)
            stop = min(end, (n + 1) * TILE_WIDTH)
            out += self._tile(0, n)[offset : offset + stop - at]
            at = stop
        return out

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """``(index, data)`` of entries ``start`` to ``end - 1`` (default: to the end), each
        bundle fetched once and every entry checked against its leaf hash."""
        end = self.size if end is None else end
        if not 0 <= start <= end <= self.size:
            raise ProofError(f"no entries [{start}, {end}) in a tree of {self.size}")
        at = start
        while at < end:
            n, offset = divmod(at, TILE_WIDTH)
            width = self._width(0, n)
            path = entries_path(n, width)
            bundle = parse_bundle(self._get(path, cacheable=width == TILE_WIDTH), width=width)
            hashes = self._tile(0, n)
            stop = min(end, n * TILE_WIDTH + width)
            for i in range(offset, stop - n * TILE_WIDTH):
                # RFC 9162 §2.1.1 leaf hash, SHA-256(0x00 || entry), inlined: once per entry.
                if sha256(b"\x00" + bundle[i]).digest() != hashes[i]:
                    if self._cache is not None:
                        self._cache.pop(path, None)
                    raise ProofError(
                        f"entry {n * TILE_WIDTH + i} in {path} does not hash to its leaf hash"
                    )
                yield n * TILE_WIDTH + i, bundle[i]
            at = stop
