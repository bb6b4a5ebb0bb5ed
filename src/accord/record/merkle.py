"""The Merkle tree of RFC 6962 / RFC 9162: hashes, proofs and their verification.

Every function here follows RFC 9162 §2.1 to the bit. Trees are described by their leaf
hashes; proofs are lists of 32-byte node hashes. The two verifiers return ``None`` when the
proof holds and raise :class:`ProofError` otherwise — never a boolean to forget — and take
every argument by keyword, so that an old root given for the new one (or a size for an
index) is a ``TypeError`` or a refusal, never a proof that holds by accident.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> root = root_hash(leaves)
>>> verify_inclusion(
...     leaf_hash=leaves[3], index=3, tree_size=5, proof=inclusion_proof(leaves, 3), root=root
... )
>>> verify_consistency(
...     old_size=3, new_size=5, old_root=root_hash(leaves[:3]), new_root=root,
...     proof=consistency_proof(leaves, 3),
... )

The proof constructions are written once, over a *range hash* function ``hash(a, b)`` giving
``MTH(D[a:b])``: :func:`inclusion_proof` and :func:`consistency_proof` supply one that
recomputes from the leaves; a stored log supplies one that reads O(log n) stored subtree
hashes (:func:`inclusion_path`, :func:`consistency_path`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from accord.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "ProofError",
    "aligned_subtrees",
    "consistency_path",
    "consistency_proof",
    "consistency_roots",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "split_point",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string."""

RangeHash = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``MTH({d(0)}) = SHA-256(0x00 || d(0))``."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: an interior node is ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n > 1``): RFC 9162 §2.1.1's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], a: int, b: int) -> bytes:
    n = b - a
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[a]
    k = split_point(n)
    return node_hash(_mth(leaves, a, a + k), _mth(leaves, a + k, b))


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` over leaf hashes (RFC 9162 §2.1.1); the empty tree is SHA-256("")."""
    return _mth(leaf_hashes, 0, len(leaf_hashes))


class CompactRange:
    """The root of a growing tree in O(log n) memory: the perfect subtrees on its right edge.

    Appending a leaf hash merges equal-sized subtrees (RFC 9162 §2.1.1 builds the tree from
    left-aligned perfect subtrees of decreasing size); :meth:`root` folds them right to left.

    >>> leaves = [leaf_hash(bytes([i])) for i in range(7)]
    >>> cr = CompactRange()
    >>> for h in leaves:
    ...     cr.append(h)
    >>> cr.root() == root_hash(leaves), cr.size
    (True, 7)
    """

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []  # perfect subtrees, largest first

    def append(self, leaf: bytes) -> None:
        h = leaf
        n = self.size
        while n & 1:  # the last subtree has the same size as the new one: merge
            h = node_hash(self._hashes.pop(), h)
            n >>= 1
        self._hashes.append(h)
        self.size += 1

    def append_subtree(self, root: bytes, size: int) -> None:
        """Append ``size`` leaves at once by the root of their perfect subtree: ``size`` is
        a power of two and the range holds a multiple of it (the subtree is one of the tree's
        nodes there).

        >>> leaves = [leaf_hash(bytes([i])) for i in range(12)]
        >>> cr = CompactRange()
        >>> cr.append_subtree(root_hash(leaves[:8]), 8)
        >>> cr.append_subtree(root_hash(leaves[8:12]), 4)
        >>> cr.root() == root_hash(leaves), cr.size
        (True, 12)
        """
        if size < 1 or size & (size - 1) or self.size % size:
            raise ValueError(f"a subtree of {size} leaves cannot follow {self.size} leaves")
        h = root
        n = self.size // size
        while n & 1:  # the last subtree has the same size as the new one: merge
            h = node_hash(self._hashes.pop(), h)
            n >>= 1
        self._hashes.append(h)
        self.size += size

    def copy(self) -> CompactRange:
        """Another range of the same leaves, growing apart from this one."""
        other = CompactRange()
        other.size = self.size
        other._hashes = list(self._hashes)
        return other

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        h = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            h = node_hash(left, h)
        return h


def aligned_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees of the tree that cover leaves ``start`` to ``end`` (excluded),
    left to right, as ``(level, index)``: the subtree at level ``l`` and index ``i`` holds the
    leaves ``i * 2**l`` to ``(i + 1) * 2**l`` (RFC 9162 §2.1.1's nodes, as a log stores them).
    Each is the largest that starts where the one before it ends and ends by ``end``, so
    :meth:`CompactRange.append_subtree` takes them in order after ``start`` leaves.

    >>> aligned_subtrees(0, 7)
    [(2, 0), (1, 2), (0, 6)]
    >>> aligned_subtrees(3, 12)
    [(0, 3), (2, 1), (2, 2)]
    >>> leaves = [leaf_hash(bytes([i])) for i in range(12)]
    >>> cr = CompactRange()
    >>> for h in leaves[:3]:
    ...     cr.append(h)
    >>> for level, index in aligned_subtrees(3, 12):
    ...     size = 1 << level
    ...     cr.append_subtree(root_hash(leaves[index * size : (index + 1) * size]), size)
    >>> cr.root() == root_hash(leaves)
    True
    """
    if not 0 <= start <= end:
        raise ValueError(f"no leaves run from {start} to {end}")
    pieces: list[tuple[int, int]] = []
    at = start
    while at < end:
        level = (at & -at).bit_length() - 1 if at else (end - at).bit_length() - 1
        while (1 << level) > end - at:
            level -= 1
        pieces.append((level, at >> level))
        at += 1 << level
    return pieces


# --- proof construction over a range hash ---------------------------------------------------


def inclusion_path(index: int, size: int, range_hash: RangeHash) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(m, D[n])``, with ``range_hash(a, b) = MTH(D[a:b])``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    a, b, m = 0, size, index
    # Walk down from the root; the sibling hashes come out root-first, the proof wants them
    # leaf-first.
    while b - a > 1:
        k = split_point(b - a)
        if m < k:
            path.append(range_hash(a + k, b))
            b = a + k
        else:
            path.append(range_hash(a, a + k))
            a, m = a + k, m - k
    path.reverse()
    return path


def consistency_path(old_size: int, new_size: int, range_hash: RangeHash) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(m, D[n])``, with ``range_hash(a, b) = MTH(D[a:b])``.

    Empty when ``old_size`` is 0 or equals ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    a, b, m, complete = 0, new_size, old_size, True
    # SUBPROOF(m, D[a:b], complete), unrolled; hashes come out root-first.
    while True:
        if m == b - a:
            if not complete:
                proof.append(range_hash(a, b))
            break
        k = split_point(b - a)
        if m <= k:
            proof.append(range_hash(a + k, b))
            b = a + k
        else:
            proof.append(range_hash(a, a + k))
            a, m, complete = a + k, m - k, False
    proof.reverse()
    return proof


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaf_hashes`` (RFC 9162 §2.1.3.1)."""
    return inclusion_path(index, len(leaf_hashes), lambda a, b: _mth(leaf_hashes, a, b))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the first ``old_size`` leaves form a prefix (RFC 9162 §2.1.4.1)."""
    return consistency_path(old_size, len(leaf_hashes), lambda a, b: _mth(leaf_hashes, a, b))


# --- verification ---------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes")


def verify_inclusion(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of size ``tree_size`` with
    ``root`` (RFC 9162 §2.1.3.2). Returns None; raises :class:`ProofError`."""
    _check_hash(leaf_hash, "the leaf hash")
    _check_hash(root, "the root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    # §2.1.3.2 step 2-3: fn = leaf_index, sn = tree_size - 1, r = hash.
    fn, sn, r = index, tree_size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:  # step 4a: more proof than tree
            raise ProofError("the inclusion proof is longer than the tree allows")
        if fn & 1 or fn == sn:  # step 4b
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 5
        raise ProofError("the inclusion proof is shorter than the tree requires")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the root hash")


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the tree of
    ``new_size`` with ``new_root`` (RFC 9162 §2.1.4.2). Returns None; raises
    :class:`ProofError`."""
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"tree sizes go backwards: {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("equal tree sizes need an empty consistency proof")
        if old_root != new_root:
            raise ProofError("two different roots for the same tree size")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of the empty string")
        return
    old, new = consistency_roots(
        old_size=old_size, new_size=new_size, proof=proof, old_root=old_root
    )
    if old != old_root:
        raise ProofError("the consistency proof does not lead to the old root hash")
    if new != new_root:
        raise ProofError("the consistency proof does not lead to the new root hash")


def consistency_roots(
    *, old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes | None = None
) -> tuple[bytes, bytes]:
    """The old and the new root hashes a consistency proof from ``old_size`` to ``new_size``
    leads to (RFC 9162 §2.1.4.2, steps 1 to 7, without the final comparisons); raises
    :class:`ProofError` for a proof of the wrong length.

    For ``0 < old_size < new_size`` only. When ``old_size`` is a power of two the proof does
    not hold the old tree (it is one perfect subtree of the new one) and step 2 puts
    ``old_root`` in front of it: ``old_root`` must then be given, and is what comes back as
    the old root. This is what shows a split view: a proof taken from the larger tree that
    leads to its root while leading to another old root than the smaller head's.
    """
    if not 0 < old_size < new_size:
        raise ProofError(f"no consistency proof walk from size {old_size} to size {new_size}")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof element {i}")
    if not proof:  # step 1
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: first is a power of two
        if old_root is None:
            raise ProofError(f"a proof from size {old_size} (a power of two) needs the old root")
        _check_hash(old_root, "the old root hash")
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise ProofError("the consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise ProofError("the consistency proof is shorter than the trees require")
    return fr, sr
