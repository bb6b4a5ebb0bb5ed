"""RFC 9162 Merkle tree: known answers from the RFC's definitions, every proof up to 64."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.record.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written out literally, on the entries themselves (the oracle)."""
    n = len(entries)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) written out literally."""
    n = len(entries)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b) written out literally."""
    n = len(entries)
    if m == n:
        return [] if complete else [mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, entries[:k], complete), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]


ENTRIES = [f"entry {i}".encode() for i in range(64)]
LEAVES = [leaf_hash(e) for e in ENTRIES]


def test_known_answers_from_the_definitions() -> None:
    assert sha(b"") == EMPTY_ROOT
    assert root_hash([]) == sha(b"")
    assert leaf_hash(b"") == sha(b"\x00")
    assert leaf_hash(b"abc") == sha(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == sha(b"\x01" + b"L" * 32 + b"R" * 32)
    # Three leaves: ((0, 1), 2) — the split is at the largest power of two below n.
    l0, l1, l2 = (sha(b"\x00" + e) for e in ENTRIES[:3])
    assert root_hash(LEAVES[:3]) == sha(b"\x01" + sha(b"\x01" + l0 + l1) + l2)


@pytest.mark.parametrize("n", range(65))
def test_roots_and_every_proof_up_to_64(n: int) -> None:
    entries, leaves = ENTRIES[:n], LEAVES[:n]
    root = root_hash(leaves)
    assert root == mth(entries)
    for i in range(n):
        proof = inclusion_proof(leaves, i)
        assert proof == path(i, entries)
        verify_inclusion(leaves[i], i, n, proof, root)
    for m in range(n + 1):
        proof = consistency_proof(leaves, m)
        expected = [] if m in (0, n) else subproof(m, entries, True)
        assert proof == expected
        verify_consistency(m, n, root_hash(leaves[:m]), root, proof)


def test_inclusion_refusals() -> None:
    leaves = LEAVES[:7]
    root = root_hash(leaves)
    proof = inclusion_proof(leaves, 3)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[4], 3, 7, proof, root)  # another leaf
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 4, 7, proof, root)  # another index
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 3, 9, proof, root)  # a size with another shape
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 7, 7, proof, root)  # index out of range
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], -1, 7, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 3, 7, proof[:-1], root)  # too short
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 3, 7, [*proof, proof[0]], root)  # too long
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 3, 7, [proof[0][:31], *proof[1:]], root)  # wrong length
    with pytest.raises(ProofError):
        verify_inclusion(leaves[3], 3, 7, proof, root_hash(LEAVES[:8]))  # another root
    with pytest.raises(ProofError):
        verify_inclusion(leaves[0], 0, 1, [], root)  # a one-leaf tree is its leaf


def test_consistency_refusals() -> None:
    old, new = root_hash(LEAVES[:5]), root_hash(LEAVES[:11])
    proof = consistency_proof(LEAVES[:11], 5)
    with pytest.raises(ProofError):
        verify_consistency(11, 5, new, old, proof)  # sizes go backwards
    with pytest.raises(ProofError):
        verify_consistency(5, 11, new, new, proof)  # wrong old root
    with pytest.raises(ProofError):
        verify_consistency(5, 11, old, old, proof)  # wrong new root
    with pytest.raises(ProofError):
        verify_consistency(5, 11, old, new, [])  # empty proof
    with pytest.raises(ProofError):
        verify_consistency(5, 11, old, new, proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(5, 11, old, new, [*proof, proof[0]])
    with pytest.raises(ProofError):
        verify_consistency(6, 11, old, new, proof)  # another old size
    with pytest.raises(ProofError):
        verify_consistency(5, 11, old, new, [b"\x00" * 31, *proof[1:]])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, old, new, [])  # equal sizes, different roots
    with pytest.raises(ProofError):
        verify_consistency(5, 5, old, old, proof)  # equal sizes need no proof
    with pytest.raises(ProofError):
        verify_consistency(0, 5, old, old, [])  # the empty tree has a known root
    verify_consistency(5, 5, old, old, [])
    verify_consistency(0, 5, EMPTY_ROOT, old, [])


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 300),
    data=st.data(),
)
def test_random_trees_and_tampered_proofs(n: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    root = root_hash(leaves)
    i = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(leaves, i)
    verify_inclusion(leaves[i], i, n, proof, root)
    m = data.draw(st.integers(1, n))
    cproof = consistency_proof(leaves, m)
    verify_consistency(m, n, root_hash(leaves[:m]), root, cproof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = [*proof]
        bad[j] = bytes([bad[j][0] ^ (1 << (bit % 8)), *bad[j][1:]])
        with pytest.raises(ProofError):
            verify_inclusion(leaves[i], i, n, bad, root)
    if cproof:
        j = data.draw(st.integers(0, len(cproof) - 1))
        bad = [*cproof]
        bad[j] = bytes([bad[j][0] ^ 1, *bad[j][1:]])
        with pytest.raises(ProofError):
            verify_consistency(m, n, root_hash(leaves[:m]), root, bad)


def test_compact_range_takes_perfect_subtrees():
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(64)]
    for chunk in (1, 2, 4, 8, 16):
        cr = CompactRange()
        for start in range(0, 64, chunk):
            cr.append_subtree(root_hash(leaves[start : start + chunk]), chunk)
            assert cr.size == start + chunk
            assert cr.root() == root_hash(leaves[: start + chunk])
        # then single leaves again
        cr.append(leaf_hash(b"x"))
        assert cr.root() == root_hash([*leaves, leaf_hash(b"x")])
    cr = CompactRange()
    cr.append(leaves[0])
    with pytest.raises(ValueError, match="cannot follow"):
        cr.append_subtree(root_hash(leaves[:2]), 2)  # not at a multiple of 2
    with pytest.raises(ValueError, match="cannot follow"):
        CompactRange().append_subtree(root_hash(leaves[:3]), 3)  # not a power of two
