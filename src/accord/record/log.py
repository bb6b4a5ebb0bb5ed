"""The append-only Merkle log: opaque entries, their RFC 9162 tree, and its durable storage.

The log keeps leaf data as opaque bytes — it knows nothing of signatures — together with
every *perfect subtree* hash of the tree of RFC 9162 §2.1.1 as it completes, so that an
append does O(log n) work and any proof, at the current size or at any earlier one, reads
O(log n) stored hashes instead of rehashing the log.

Storage sits behind :class:`LogStorage`, a small :class:`typing.Protocol`;
:class:`SQLiteStorage` implements it with the standard library's :mod:`sqlite3` (WAL,
``synchronous=FULL``: an append that returned is on disk, and a crash mid-append leaves the
log as it was before that append).

>>> log = MerkleLog(SQLiteStorage(":memory:"), "example.org/log")
>>> log.append_many([b"a", b"b", b"c"])
[0, 1, 2]
>>> log.append(b"d")
3
>>> from accord.record import merkle
>>> leaves = [merkle.leaf_hash(d) for d in (b"a", b"b", b"c", b"d")]
>>> log.root() == merkle.root_hash(leaves)
True
>>> merkle.verify_inclusion(
...     leaf_hash=leaves[2], index=2, tree_size=4, proof=log.inclusion_proof(2), root=log.root()
... )
>>> merkle.verify_consistency(
...     old_size=3, new_size=4, old_root=log.root(3), new_root=log.root(),
...     proof=log.consistency_proof(3),
... )
>>> log.check_integrity()
>>> log.close()

Layout of the stored tree: a node is named by ``(level, index)`` and covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf hash itself (kept beside
the leaf data), levels 1 and up are written to ``nodes`` in the same transaction as the leaf
that completes them. A node never changes once written, which is what lets proofs at a
historical size read the same stored hashes and lets a process cache them without
invalidation.

One process writes a log at a time: a second writer, whose idea of the size is stale, has
its append refused with nothing written. Any number may read.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TextIO

from accord.errors import LogError, TamperError
from accord.record import merkle
from accord.record.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, split_point
from accord.record.tiles import MAX_ENTRY_BYTES, TILE_HEIGHT, TILE_WIDTH, encode_bundle

__all__ = [
    "SCHEMA_VERSION",
    "LogError",
    "LogHead",
    "LogStorage",
    "MerkleLog",
    "SQLiteStorage",
    "TamperError",
]

SCHEMA_VERSION = 1
"""Version of the SQLite layout written by :class:`SQLiteStorage`."""

_APPLICATION_ID = int.from_bytes(b"ACRD", "big")
"""``PRAGMA application_id`` of an Accord log file: tells it from any other SQLite file."""

_FORMAT = "accord-log"
_CHUNK = 1024
_CACHE_SIZE = 1 << 16
"""How many stored node hashes a :class:`MerkleLog` keeps in memory (nodes never change)."""
_PAGE_CACHE_KIB = 32 * 1024
_RANGE_CACHE_SIZE = 4096
_KEYS_PER_QUERY = 200  # below SQLite's limit of 500 terms in a compound SELECT


@dataclass(frozen=True, slots=True)
class LogHead:
    """A tree head kept with the log: its size, root, timestamp and the signed note text.

    ``timestamp`` is a non-negative integer whose unit the caller chooses (for instance
    milliseconds since the Unix epoch, UTC); ``note`` is the signed checkpoint text, kept
    verbatim.
    """

    size: int
    root: bytes
    timestamp: int
    note: str

    def to_json(self) -> dict[str, object]:
        """The head as a JSON object (root in standard base64)."""
        return {
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "timestamp": self.timestamp,
            "note": self.note,
        }


def _border(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees that make up ``[0, size)``, largest first: one per set bit of
    ``size``, each aligned on its own size — the left-hand pieces of RFC 9162 §2.1.1's
    repeated split at the largest power of two below n (the tree's *compact range*)."""
    keys, offset = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, offset >> level))
            offset += 1 << level
    return keys


def _fold(pieces: Sequence[bytes]) -> bytes:
    """The root over a compact range: hash the pieces together from the right."""
    if not pieces:
        return EMPTY_ROOT
    h = pieces[-1]
    for piece in reversed(pieces[:-1]):
        h = node_hash(piece, h)
    return h


def _missing(key: tuple[int, int]) -> TamperError:
    level, index = key
    if level == 0:
        return TamperError(f"entry {index}'s leaf hash is missing from the stored log", leaf=index)
    return TamperError(
        f"the node over {_leaves_of(level, index)} (level {level}, index {index}) is missing "
        "from the stored log",
        node=key,
    )


def _leaves_of(level: int, index: int) -> str:
    first = index << level
    last = ((index + 1) << level) - 1
    return f"leaf {first}" if first == last else f"leaves {first}–{last}"


# --- the storage port -----------------------------------------------------------------------


class LogStorage(Protocol):
    """What :class:`MerkleLog` needs from a store: leaves, perfect-subtree nodes and heads.

    Node ``(0, i)`` is leaf ``i``'s hash; nodes of level 1 and up are stored by
    :meth:`append`. Reads return ``None`` (or leave rows out) where nothing is stored; the
    log decides whether that is damage. A store never updates a leaf or a node.
    """

    def origin(self) -> str | None:
        """The log's origin line, or ``None`` for a store never given one."""
        ...

    def set_origin(self, origin: str) -> None:
        """Record the origin of a new, empty store (once)."""
        ...

    def size(self) -> int:
        """One more than the highest stored leaf index (0 when empty)."""
        ...

    def leaf(self, index: int) -> bytes | None:
        """Leaf ``index``'s data."""
        ...

    def read_leaves(self, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
        """The stored ``(index, data, hash)`` rows with ``start <= index < end``, in order."""
        ...

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the perfect subtrees ``(level, index)`` among ``keys``, in one
        round trip where the store allows; level 0 is a leaf hash. Absent keys are left out."""
        ...

    def read_nodes(self, level: int, start: int, end: int) -> list[tuple[int, bytes]]:
        """The stored ``(index, hash)`` of one level with ``start <= index < end``, in order."""
        ...

    def node_count(self) -> int:
        """How many nodes of level 1 and up are stored."""
        ...

    def append(
        self,
        leaves: Sequence[tuple[int, bytes, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
    ) -> None:
        """Store ``(index, data, hash)`` leaves, consecutive from the store's size, and the
        ``(level, index, hash)`` nodes they complete, all in one durable transaction; fail,
        changing nothing, when the first index is not the store's size."""
        ...

    def put_head(self, size: int, root: bytes, timestamp: int, note: str) -> None:
        """Store a tree head (replacing the timestamp and note of one at the same size)."""
        ...

    def heads(self) -> list[LogHead]:
        """Every stored head, by size."""
        ...

    def latest_head(self) -> LogHead | None:
        """The stored head of the largest size."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...


# --- SQLite ---------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE leaves (idx INTEGER PRIMARY KEY, data BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE heads (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    note TEXT NOT NULL
);
"""


class SQLiteStorage:
    """:class:`LogStorage` in one SQLite file (WAL, ``synchronous=FULL``).

    Parameters
    ----------
    path
        The log file; created when it does not exist (or is empty). ``":memory:"`` gives a
        throw-away log (no durability) for tests and examples.
    read_only
        Open without any right to write (for a verifier); the file must already be a log.
    busy_timeout_ms
        How long to wait for another connection's lock before failing.

    Raises
    ------
    LogError
        The file is not an SQLite database, is an SQLite database that is not an Accord log,
        or has a newer layout than this version reads.
    """

    def __init__(
        self, path: str | Path, *, read_only: bool = False, busy_timeout_ms: int = 5000
    ) -> None:
        self.path = str(path)
        memory = self.path == ":memory:"
        try:
            if read_only and not memory:
                uri = Path(self.path).resolve().as_uri() + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            else:
                conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot open the log: {e}") from e
        self._conn = conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._open(read_only=read_only)
        except BaseException as e:
            conn.close()
            if isinstance(e, sqlite3.Error):
                raise LogError(f"{self.path}: cannot open the log: {e}") from e
            raise

    def _open(self, *, read_only: bool) -> None:
        conn = self._conn
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise LogError(f"{self.path}: not an Accord log (not an SQLite database: {e})") from e
        # Room for the upper B-tree pages of a large log (the default is 2 MiB).
        conn.execute(f"PRAGMA cache_size = {-_PAGE_CACHE_KIB}")
        if app_id != _APPLICATION_ID:
            if app_id != 0 or tables != 0:
                raise LogError(
                    f"{self.path}: not an Accord log (an SQLite database of something else)"
                )
            if read_only:
                raise LogError(f"{self.path}: not an Accord log (an empty file)")
            self._create()
        elif not read_only:
            self._pragmas()
        meta: dict[str, str] = dict(self._q("SELECT key, value FROM meta", ()))
        if meta.get("format") != _FORMAT or "schema_version" not in meta:
            raise LogError(f"{self.path}: not an Accord log (its meta table is damaged)")
        version = int(meta["schema_version"])
        if version > SCHEMA_VERSION:
            raise LogError(
                f"{self.path}: an Accord log of layout {version}; this version reads up to "
                f"{SCHEMA_VERSION}"
            )

    def _pragmas(self) -> None:
        # Durability: WAL, and every commit waits for the WAL to reach the disk.
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        # Copy the WAL back into the database every ~40 MB rather than every 4 MB: an
        # append-only log rewrites no page, so fewer, larger checkpoints cost less.
        self._conn.execute("PRAGMA wal_autocheckpoint = 10000")

    def _create(self) -> None:
        self._pragmas()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have created it between our look and our lock.
            if conn.execute("PRAGMA application_id").fetchone()[0] != _APPLICATION_ID:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise LogError(f"{self.path}: not an Accord log (created by something else)")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("format", _FORMAT), ("schema_version", str(SCHEMA_VERSION))],
                )
                conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _q(self, sql: str, args: tuple[object, ...]) -> list[Any]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: {e}") from e

    def _one(self, sql: str, args: tuple[object, ...]) -> Any:
        try:
            row = self._conn.execute(sql, args).fetchone()
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: {e}") from e
        return None if row is None else row[0]

    # LogStorage

    def origin(self) -> str | None:
        value = self._one("SELECT value FROM meta WHERE key = 'origin'", ())
        return None if value is None else str(value)

    def set_origin(self, origin: str) -> None:
        try:
            self._conn.execute("INSERT INTO meta (key, value) VALUES ('origin', ?)", (origin,))
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot record the origin: {e}") from e

    def size(self) -> int:
        value = self._one("SELECT max(idx) FROM leaves", ())
        return 0 if value is None else int(value) + 1

    def leaf(self, index: int) -> bytes | None:
        value: bytes | None = self._one("SELECT data FROM leaves WHERE idx = ?", (index,))
        return value

    def read_leaves(self, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
        return self._q(
            "SELECT idx, data, hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        found: dict[tuple[int, int], bytes] = {}
        # One compound SELECT per chunk: a row-value IN (VALUES ...) would scan the table.
        for at in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[at : at + _KEYS_PER_QUERY]
            parts: list[str] = []
            args: list[int] = []
            for level, index in chunk:
                if level == 0:
                    parts.append("SELECT 0, idx, hash FROM leaves WHERE idx = ?")
                    args.append(index)
                else:
                    parts.append("SELECT level, idx, hash FROM nodes WHERE level = ? AND idx = ?")
                    args += (level, index)
            for level, index, h in self._q(" UNION ALL ".join(parts), tuple(args)):
                found[level, index] = h
        return found

    def read_nodes(self, level: int, start: int, end: int) -> list[tuple[int, bytes]]:
        if level == 0:
            sql = "SELECT idx, hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx"
            return self._q(sql, (start, end))
        sql = "SELECT idx, hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"
        return self._q(sql, (level, start, end))

    def node_count(self) -> int:
        return int(self._one("SELECT count(*) FROM nodes", ()))

    def append(
        self,
        leaves: Sequence[tuple[int, bytes, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
    ) -> None:
        if not leaves:
            return
        start = leaves[0][0]
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot append: {e}") from e
        try:
            top = conn.execute("SELECT max(idx) FROM leaves").fetchone()[0]
            size = 0 if top is None else top + 1
            if size != start:
                raise LogError(
                    f"{self.path}: the log holds {size} entries, not the {start} this writer "
                    "expected (is another process appending?)"
                )
            conn.executemany("INSERT INTO leaves (idx, data, hash) VALUES (?, ?, ?)", leaves)
            conn.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
            conn.execute("COMMIT")
        except BaseException as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise LogError(f"{self.path}: the append failed, nothing was written: {e}") from e
            raise

    def put_head(self, size: int, root: bytes, timestamp: int, note: str) -> None:
        try:
            self._conn.execute(
                "INSERT INTO heads (size, root, timestamp, note) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (size) DO UPDATE SET timestamp = excluded.timestamp, "
                "note = excluded.note WHERE heads.root = excluded.root",
                (size, root, timestamp, note),
            )
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot store the head: {e}") from e

    def heads(self) -> list[LogHead]:
        rows = self._q("SELECT size, root, timestamp, note FROM heads ORDER BY size", ())
        return [LogHead(int(s), bytes(r), int(t), str(n)) for s, r, t, n in rows]

    def latest_head(self) -> LogHead | None:
        rows = self._q(
            "SELECT size, root, timestamp, note FROM heads ORDER BY size DESC LIMIT 1", ()
        )
        if not rows:
            return None
        s, r, t, n = rows[0]
        return LogHead(int(s), bytes(r), int(t), str(n))

    def close(self) -> None:
        self._conn.close()


# --- the log --------------------------------------------------------------------------------


def _check_origin(origin: str) -> None:
    # C2SP signed-note / tlog-checkpoint: the origin is the first line of every checkpoint;
    # it should be a schema-less URL without spaces or "+".
    if not origin or any(c.isspace() or c == "+" or not c.isprintable() for c in origin):
        raise LogError(
            f"the log origin {origin!r} must be non-empty, with no spaces, '+' or control "
            "characters (it is a checkpoint's first line)"
        )


class MerkleLog:
    """An append-only RFC 9162 Merkle log of opaque entries over a :class:`LogStorage`.

    Parameters
    ----------
    storage
        Where the log lives; the log owns it from here on (:meth:`close` closes it).
    origin
        The log's origin (the first line of its checkpoints). Required for a new store;
        for an existing one, ``None`` takes the stored origin and any other value must equal
        it.

    Raises
    ------
    LogError
        A new store without an origin, or an origin that is not the stored one.

    Notes
    -----
    In memory the log keeps its size and *compact range* — the ≤ log2(n) hashes of the
    perfect subtrees along the right border, from which the root and the nodes completed by
    an append follow — plus a bounded cache of stored nodes (which never change).
    """

    def __init__(self, storage: LogStorage, origin: str | None = None) -> None:
        stored = storage.origin()
        if stored is None:
            if origin is None:
                raise LogError("a new log needs an origin")
            _check_origin(origin)
            if storage.size():
                raise LogError("the store holds entries but no origin: it is damaged")
            storage.set_origin(origin)
            stored = origin
        elif origin is not None and origin != stored:
            raise LogError(f"this log's origin is {stored!r}, not {origin!r}")
        self._storage = storage
        self._origin = stored
        self._size = storage.size()
        self._compact: list[bytes] | None = None  # loaded on first use (see _compact_range)
        self._root: tuple[int, bytes] | None = None
        self._cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()  # (level, index)
        self._ranges: dict[tuple[int, int], bytes] = {}  # (a, b) -> MTH(D[a:b]), non-perfect

    @classmethod
    def open(
        cls, path: str | Path, origin: str | None = None, *, read_only: bool = False
    ) -> MerkleLog:
        """Open (or create) the log in the SQLite file ``path``."""
        storage = SQLiteStorage(path, read_only=read_only)
        try:
            return cls(storage, origin)
        except BaseException:
            storage.close()
            raise

    def close(self) -> None:
        """Close the storage."""
        self._storage.close()

    def __enter__(self) -> MerkleLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MerkleLog(origin={self._origin!r}, size={self._size})"

    @property
    def origin(self) -> str:
        """The log's origin line."""
        return self._origin

    @property
    def size(self) -> int:
        """How many entries the log holds."""
        return self._size

    @property
    def storage(self) -> LogStorage:
        """The store underneath."""
        return self._storage

    # --- the tree -------------------------------------------------------------------------

    def _node(self, level: int, index: int) -> bytes:
        key = (level, index)
        cache = self._cache
        h = cache.get(key)
        if h is not None:
            cache.move_to_end(key)
            return h
        h = self._storage.nodes([key]).get(key)
        if h is None:
            raise _missing(key)
        self._remember(key, h)
        return h

    def _remember(self, key: tuple[int, int], h: bytes) -> None:
        cache = self._cache
        cache[key] = h
        if len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)

    def _prefetch(self, keys: list[tuple[int, int]]) -> None:
        """Read the uncached ``keys`` in one storage round trip."""
        cache = self._cache
        missing = [key for key in dict.fromkeys(keys) if key not in cache]
        if missing:
            found = self._storage.nodes(missing)
            for key in missing:
                h = found.get(key)
                if h is not None:  # an absent node fails later, in _node, naming itself
                    self._remember(key, h)

    def _compact_range(self) -> list[bytes]:
        if self._compact is None:
            keys = _border(self._size)
            self._prefetch(keys)
            self._compact = [self._node(*key) for key in keys]
        return self._compact

    def _range_hash(self, a: int, b: int, missing: list[tuple[int, int]] | None = None) -> bytes:
        """``MTH(D[a:b])`` from stored nodes.

        With a ``missing`` list, an uncached node is not read but added to the list, and a
        placeholder stands for it (the result is then meaningless); without, it is read.
        """
        n = b - a
        if n & (n - 1) == 0:
            if n == 0:
                return EMPTY_ROOT
            if a & (n - 1) == 0:
                # A perfect subtree aligned on its size is a stored node.
                level = n.bit_length() - 1
                key = (level, a >> level)
                h = self._cache.get(key)
                if h is not None:
                    self._cache.move_to_end(key)
                    return h
                if missing is not None:
                    missing.append(key)
                    return EMPTY_ROOT
                return self._node(level, a >> level)
        if a == 0 and b == self._size:
            return self.root()
        h = self._ranges.get((a, b))
        if h is not None:
            return h
        # RFC 9162 §2.1.1: MTH(D[a:b]) = HASH(0x01 || MTH(D[a:a+k]) || MTH(D[a+k:b])) with k
        # the largest power of two smaller than n. For the ranges the proofs ask for, a is
        # aligned on k, so the left half is one stored node and only the right one recurses.
        k = split_point(n)
        before = len(missing) if missing is not None else 0
        h = node_hash(self._range_hash(a, a + k, missing), self._range_hash(a + k, b, missing))
        if missing is None or len(missing) == before:
            # MTH(D[a:b]) never changes once b entries exist. The proofs' non-perfect ranges
            # all end at the tree size, so a few dozen of these serve every proof at a size.
            if len(self._ranges) >= _RANGE_CACHE_SIZE:
                self._ranges.clear()
            self._ranges[a, b] = h
        return h

    def _proof(self, build: Callable[[Callable[[int, int], bytes]], list[bytes]]) -> list[bytes]:
        """Run a proof construction over cached nodes; if some were not cached, read them all
        in one round trip and run it again (the ranges it hashes depend on sizes only)."""
        missing: list[tuple[int, int]] = []
        proof = build(lambda a, b: self._range_hash(a, b, missing))
        if not missing:
            return proof
        self._prefetch(missing)
        return build(self._range_hash)

    def range_hash(self, a: int, b: int) -> bytes:
        """``MTH(D[a:b])`` (RFC 9162 §2.1.1) over entries ``a`` to ``b - 1``, from stored
        subtree hashes: O(log n) reads when ``a`` is aligned as in every RFC split."""
        if not 0 <= a <= b <= self._size:
            raise LogError(f"no range [{a}, {b}) in a log of size {self._size}")
        return self._proof(lambda rh: [rh(a, b)])[0]

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise LogError(f"no tree of size {size} in a log of size {self._size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree of the first ``size`` entries (default: all)."""
        size = self._check_size(size)
        if size != self._size:
            return self.range_hash(0, size)
        if self._root is None or self._root[0] != size:
            self._root = (size, _fold(self._compact_range()))
        return self._root[1]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of entry ``index`` in the tree of size ``size`` (default: all)
        (RFC 9162 §2.1.3.1), to check with :func:`accord.record.merkle.verify_inclusion`.

        Raises :class:`~accord.record.merkle.ProofError` for an index outside the tree."""
        size = self._check_size(size)
        return self._proof(lambda rh: merkle.inclusion_path(index, size, rh))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of ``old_size`` is a prefix of the tree of ``new_size``
        (default: all) (RFC 9162 §2.1.4.1), to check with
        :func:`accord.record.merkle.verify_consistency`.

        Raises :class:`~accord.record.merkle.ProofError` when ``old_size > new_size``."""
        new_size = self._check_size(new_size)
        return self._proof(lambda rh: merkle.consistency_path(old_size, new_size, rh))

    # --- appending ------------------------------------------------------------------------

    def append(self, data: bytes) -> int:
        """Append one entry in its own durable transaction; return its index."""
        return self.append_many([data])[0]

    def append_many(
        self, items: Sequence[bytes], *, leaf_hashes: Sequence[bytes] | None = None
    ) -> list[int]:
        """Append entries in one durable transaction; return their indices.

        When this returns, the entries are on disk. When it raises, nothing was appended.
        ``leaf_hashes``, if given, are ``leaf_hash(item)`` already computed by a caller that
        needed them (the recorder chains each envelope to the previous leaf's hash); they
        are stored as given, and :meth:`check_integrity` or the verifier would expose a
        wrong one.
        """
        if isinstance(items, bytes | bytearray | memoryview):
            raise TypeError("append_many takes a sequence of entries, not one entry")
        if leaf_hashes is not None and len(leaf_hashes) != len(items):
            raise ValueError("one leaf hash per entry")
        start = self._size
        pieces = list(self._compact_range())
        leaves: list[tuple[int, bytes, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        add_leaf, add_node, pop, push = leaves.append, nodes.append, pieces.pop, pieces.append
        size = start
        for position, item in enumerate(items):
            data = item
            if type(data) is not bytes:
                if not isinstance(data, bytearray | memoryview):
                    raise TypeError(f"a log entry is bytes, not {type(data).__name__}")
                data = bytes(data)
            if len(data) > MAX_ENTRY_BYTES:
                # c2sp.org/tlog-tiles: entry bundles prefix each entry with a uint16 length.
                raise LogError(
                    f"entry {size} would be {len(data)} bytes; the log's entries are at most "
                    f"{MAX_ENTRY_BYTES} (tlog-tiles), nothing was appended"
                )
            # RFC 9162 §2.1.1: leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r),
            # inlined: this loop runs once per entry.
            h = sha256(b"\x00" + data).digest() if leaf_hashes is None else leaf_hashes[position]
            add_leaf((size, data, h))
            # The new leaf closes one perfect subtree for each trailing 1 bit of the old size:
            # merge it with the compact range's right-most pieces.
            bits, level = size, 0
            while bits & 1:
                h = sha256(b"\x01" + pop() + h).digest()
                bits >>= 1
                level += 1
                add_node((level, size >> level, h))
            push(h)
            size += 1
        if not leaves:
            return []
        self._storage.append(leaves, nodes)
        for position, (_index, _data, h) in enumerate(leaves[-2:]):
            # The last leaves' hashes are what the next append chains to: keep them at hand.
            self._remember((0, size - min(2, len(leaves)) + position), h)
        self._compact = pieces
        self._size = size
        self._root = None
        return list(range(start, size))

    def follow(self) -> int:
        """Catch up with entries another writer appended to the store since this log last
        looked: the new leaves' hashes are read (one query) and folded into the compact
        range as :meth:`append_many` would have; the nodes themselves are the other
        writer's, read when needed. The new size.

        Raises
        ------
        LogError
            The store holds fewer entries than this log (a rollback this log did not see:
            open it again).
        TamperError
            A leaf between the two sizes is missing.
        """
        size = self._storage.size()
        if size == self._size:
            return size
        if size < self._size:
            raise LogError(f"the store holds {size} entries, fewer than this log's {self._size}")
        pieces = list(self._compact_range())
        at = self._size
        rows = self._storage.read_nodes(0, at, size)
        if len(rows) != size - at:
            raise TamperError(f"entries {at} to {size - 1} are not all stored", leaf=at)
        pop, push = pieces.pop, pieces.append
        for index, h in rows:
            if index != at:
                raise TamperError(f"entry {at} is missing from the stored log", leaf=at)
            # RFC 9162 §2.1.1, as in append_many: the new leaf closes one perfect subtree per
            # trailing 1 bit of the old size.
            bits = at
            while bits & 1:
                h = sha256(b"\x01" + pop() + h).digest()
                bits >>= 1
            push(h)
            at += 1
        for index, h in rows[-2:]:
            self._remember((0, index), h)
        self._compact = pieces
        self._size = size
        self._root = None
        return size

    # --- reading --------------------------------------------------------------------------

    def entry(self, index: int) -> bytes:
        """Entry ``index``'s data."""
        if not 0 <= index < self._size:
            raise LogError(f"no entry {index} in a log of size {self._size}")
        data = self._storage.leaf(index)
        if data is None:
            raise TamperError(f"entry {index} is missing from the stored log", leaf=index)
        if not isinstance(data, bytes):
            raise TamperError(f"entry {index} is not stored as bytes", leaf=index)
        return data

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Stream ``(index, data)`` for entries ``start`` to ``end - 1`` (default: to the end),
        reading the store in chunks."""
        end = self._check_size(end)
        if not 0 <= start <= end:
            raise LogError(f"no range [{start}, {end}) in a log of size {self._size}")
        expected = start
        while expected < end:
            rows = self._storage.read_leaves(expected, min(end, expected + _CHUNK))
            for index, data, _ in rows:
                if index != expected:
                    raise TamperError(
                        f"entry {expected} is missing from the stored log", leaf=expected
                    )
                if not isinstance(data, bytes):
                    raise TamperError(f"entry {index} is not stored as bytes", leaf=index)
                yield index, data
                expected += 1
            if not rows:
                raise TamperError(f"entry {expected} is missing from the stored log", leaf=expected)

    # --- tiles (c2sp.org/tlog-tiles) -------------------------------------------------------

    def _tile_rows(self, level: int, index: int, width: int) -> tuple[int, int]:
        if not 1 <= width <= TILE_WIDTH or index < 0:
            raise LogError(f"no tile {index} of width {width}")
        start = index * TILE_WIDTH
        # A tile of level L holds hashes of level 8L: floor(size / 256**L) of them exist.
        if start + width > self._size >> (TILE_HEIGHT * level):
            raise LogError(
                f"no tile {index} of width {width} at level {level} in a log of {self._size}"
            )
        return start, start + width

    def tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """The body of hash tile ``index`` of ``level`` (``width`` hashes of the stored nodes of
        level ``8 * level``, concatenated): one range read of stored hashes, however large the
        log. A tile of a given width never changes. Raises :class:`LogError` for a tile the
        log does not have (yet) at its size."""
        start, end = self._tile_rows(level, index, width)
        rows = self._storage.read_nodes(TILE_HEIGHT * level, start, end)
        if len(rows) != width or any(i != start + k for k, (i, _) in enumerate(rows)):
            missing = next(
                (start + k for k, (i, _) in enumerate(rows) if i != start + k), start + len(rows)
            )
            raise _missing((TILE_HEIGHT * level, missing))
        return b"".join(h for _, h in rows)

    def entry_bundle(self, index: int, width: int = TILE_WIDTH) -> bytes:
        """The body of entry bundle ``index``: its ``width`` entries, each prefixed by its
        length as a big-endian uint16."""
        start, end = self._tile_rows(0, index, width)
        return encode_bundle([data for _, data in self.entries(start, end)])

    # --- heads ----------------------------------------------------------------------------

    def add_head(self, size: int, root: bytes, timestamp: int, note: str) -> LogHead:
        """Keep a tree head (e.g. the center's signed checkpoint) with the log.

        Refuses a size beyond the log, a root that is not this log's root at that size, and
        a non-empty note whose checkpoint body (origin, size, base64 root: C2SP
        ``tlog-checkpoint``) says anything else. A head stored again at the same size
        replaces the timestamp and note (a note gathers co-signatures).
        """
        if not 0 <= size <= self._size:
            raise LogError(f"a head at size {size} is beyond the log's {self._size} entries")
        if self.root(size) != root:
            raise LogError(f"the head's root is not this log's root at size {size}")
        if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
            raise LogError(f"a head's timestamp is a non-negative integer, not {timestamp!r}")
        if note:
            body = note.split("\n", 3)
            want = [self._origin, str(size), base64.b64encode(root).decode("ascii")]
            if body[:3] != want:
                raise LogError(
                    "the head's note does not start with this log's checkpoint "
                    f"({want[0]!r}, {want[1]}, {want[2]})"
                )
        self._storage.put_head(size, root, timestamp, note)
        return LogHead(size, root, timestamp, note)

    def latest_head(self) -> LogHead | None:
        """The stored head of the largest size, if any."""
        return self._storage.latest_head()

    def heads(self) -> list[LogHead]:
        """Every stored head, by size."""
        return self._storage.heads()

    # --- checking and export --------------------------------------------------------------

    def check_integrity(self) -> None:
        """Recompute the whole stored tree from the leaf data and compare.

        Every leaf hash is recomputed from its data, every stored node from its (already
        checked) children, level by level; every stored node must exist and none beyond the
        log's size; every stored head's root must be the recomputed root at its size, and so must
        the root this object has been serving. Reads the store directly (never the cache), in
        chunks.

        Raises
        ------
        TamperError
            Naming the first bad leaf (by index), else the first bad node (by level, index
            and the leaves it covers), else the first bad head.
        """
        storage, size = self._storage, self._storage.size()
        if size < self._size:
            raise TamperError(
                f"the store holds {size} entries but this log has seen {self._size}: entries "
                "were removed from its end",
                leaf=size,
            )
        # (More than this log has seen is another writer's business: all of it is checked.)
        # Leaves: contiguous indices, each hash SHA-256(0x00 || data) (RFC 9162 §2.1.1).
        expected = 0
        while expected < size:
            rows = storage.read_leaves(expected, min(size, expected + _CHUNK))
            for index, data, h in rows:
                if index != expected:
                    raise TamperError(f"entry {expected} is missing", leaf=expected)
                if (
                    not isinstance(data, bytes)
                    or not isinstance(h, bytes)
                    or len(h) != HASH_SIZE
                    or leaf_hash(data) != h
                ):
                    raise TamperError(
                        f"entry {index}: its data does not hash to its stored leaf hash",
                        leaf=index,
                    )
                expected += 1
            if not rows:
                raise TamperError(f"entry {expected} is missing", leaf=expected)
        # Nodes: level L index j = HASH(0x01 || (L-1, 2j) || (L-1, 2j+1)), for every j with
        # (j + 1) * 2**L <= size, checked against the level below, itself already checked.
        total = 0
        for level in range(1, size.bit_length()):
            count = size >> level
            total += count
            j = 0
            while j < count:
                stop = min(count, j + _CHUNK)
                children = storage.read_nodes(level - 1, 2 * j, 2 * stop)
                parents = storage.read_nodes(level, j, stop)
                by_index = dict(parents)
                for k in range(j, stop):
                    got = by_index.get(k)
                    if got is None:
                        raise TamperError(
                            f"the node over {_leaves_of(level, k)} (level {level}, index {k}) "
                            "is missing",
                            node=(level, k),
                        )
                    left, right = children[2 * (k - j)][1], children[2 * (k - j) + 1][1]
                    if not isinstance(got, bytes) or node_hash(left, right) != got:
                        raise TamperError(
                            f"the node over {_leaves_of(level, k)} (level {level}, index {k}) "
                            "does not match its children",
                            node=(level, k),
                        )
                j = stop
        if storage.node_count() != total:
            # Every expected node is present, so the rest lie beyond the log: leaves were
            # removed from its end.
            extra = self._first_extra_node(size)
            raise TamperError(
                f"the store holds a node over {_leaves_of(*extra)} beyond the log's {size} "
                "entries: entries were removed from its end",
                node=extra,
                leaf=size,
            )
        for head in storage.heads():
            if head.size > size:
                raise TamperError(
                    f"a stored head covers {head.size} entries but the log holds {size}: "
                    "entries were removed from its end",
                    head=head.size,
                    leaf=size,
                )
            if head.root != self._recomputed_root(head.size):
                raise TamperError(
                    f"the stored head at size {head.size} does not match the log",
                    head=head.size,
                )
        # A store rewritten consistently (every hash recomputed) behind this process's back
        # still differs from the root this process has been serving.
        if self._compact is not None and self._recomputed_root(self._size) != self.root():
            raise TamperError(
                f"the stored tree of size {self._size} is not the one this log has been "
                "serving: it was rewritten"
            )

    def _first_extra_node(self, size: int) -> tuple[int, int]:
        level = 1
        while level < 64:
            rows = self._storage.read_nodes(level, size >> level, 1 << 62)
            if rows:
                return level, rows[0][0]
            level += 1
        return (0, size)  # pragma: no cover - only with levels beyond 63

    def _recomputed_root(self, size: int) -> bytes:
        # From the store (checked just before), not the cache.
        keys = _border(size)
        found = self._storage.nodes(keys)
        for key in keys:
            if key not in found:  # pragma: no cover - excluded by the checks above
                raise _missing(key)
        return _fold([found[key] for key in keys])

    def export_jsonl(self, out: TextIO) -> None:
        """Write the log as JSON lines: ``{"i": n, "data": base64}`` per entry, then
        ``{"head": {...}}`` for the latest stored head, if any."""
        size = self._size
        for index, data in self.entries(0, size):
            line = {"i": index, "data": base64.b64encode(data).decode("ascii")}
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
        heads = [h for h in self._storage.heads() if h.size <= size]
        if heads:
            out.write(json.dumps({"head": heads[-1].to_json()}, separators=(",", ":")) + "\n")
