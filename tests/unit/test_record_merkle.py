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
        verify_inclusion(leaf_hash=leaves[i], index=i, tree_size=n, proof=proof, root=root)
    for m in range(n + 1):
        proof = consistency_proof(leaves, m)
        expected = [] if m in (0, n) else subproof(m, entries, True)
        assert proof == expected
        verify_consistency(
            old_size=m, new_size=n, old_root=root_hash(leaves[:m]), new_root=root, proof=proof
        )


def test_inclusion_refusals() -> None:
    leaves = LEAVES[:7]
    proof = inclusion_proof(leaves, 3)
    good = {"leaf_hash": leaves[3], "index": 3, "tree_size": 7, "proof": proof}
    good["root"] = root_hash(leaves)
    verify_inclusion(**good)
    for change in (
        {"leaf_hash": leaves[4]},  # another leaf
        {"index": 4},  # another index
        {"tree_size": 9},  # a size with another shape
        {"index": 7},  # index out of range
        {"index": -1},
        {"proof": proof[:-1]},  # too short
        {"proof": [*proof, proof[0]]},  # too long
        {"proof": [proof[0][:31], *proof[1:]]},  # wrong length
        {"root": root_hash(LEAVES[:8])},  # another root
        {"leaf_hash": leaves[0], "index": 0, "tree_size": 1, "proof": []},  # a one-leaf tree
    ):
        with pytest.raises(ProofError):
            verify_inclusion(**{**good, **change})


def test_consistency_refusals() -> None:
    old, new = root_hash(LEAVES[:5]), root_hash(LEAVES[:11])
    proof = consistency_proof(LEAVES[:11], 5)
    good = {"old_size": 5, "new_size": 11, "old_root": old, "new_root": new, "proof": proof}
    verify_consistency(**good)
    for change in (
        {"old_size": 11, "new_size": 5, "old_root": new, "new_root": old},  # backwards
        {"old_root": new},  # wrong old root
        {"new_root": old},  # wrong new root
        {"proof": []},  # empty proof
        {"proof": proof[:-1]},
        {"proof": [*proof, proof[0]]},
        {"old_size": 6},  # another old size
        {"proof": [b"\x00" * 31, *proof[1:]]},
        {"new_size": 5, "proof": []},  # equal sizes, different roots
        {"new_size": 5, "new_root": old},  # equal sizes need no proof
        {"old_size": 0, "old_root": new, "proof": []},  # the empty tree has a known root
    ):
        with pytest.raises(ProofError):
            verify_consistency(**{**good, **change})
    verify_consistency(old_size=5, new_size=5, old_root=old, new_root=old, proof=[])
    verify_consistency(old_size=0, new_size=5, old_root=EMPTY_ROOT, new_root=old, proof=[])


def test_verifiers_take_keywords_only() -> None:
    """A root, size or index given in the wrong place cannot slip through: every argument
    of a verifier is named (as sigstore and cryptography name their security arguments)."""
    leaves = LEAVES[:11]
    root, old = root_hash(leaves), root_hash(leaves[:5])
    with pytest.raises(TypeError):
        verify_inclusion(leaves[3], 3, 11, inclusion_proof(leaves, 3), root)
    with pytest.raises(TypeError):
        verify_consistency(5, 11, old, root, consistency_proof(leaves, 5))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33])
def test_swapped_roots_or_sizes_are_refused(n: int) -> None:
    leaves = LEAVES[:n]
    new = root_hash(leaves)
    for m in range(n):  # every smaller tree, the empty one too
        old, proof = root_hash(leaves[:m]), consistency_proof(leaves, m)
        verify_consistency(old_size=m, new_size=n, old_root=old, new_root=new, proof=proof)
        with pytest.raises(ProofError):
            verify_consistency(old_size=m, new_size=n, old_root=new, new_root=old, proof=proof)
        with pytest.raises(ProofError):
            verify_consistency(old_size=n, new_size=m, old_root=old, new_root=new, proof=proof)
        with pytest.raises(ProofError):
            verify_consistency(old_size=n, new_size=m, old_root=new, new_root=old, proof=proof)


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
    verify_inclusion(leaf_hash=leaves[i], index=i, tree_size=n, proof=proof, root=root)
    m = data.draw(st.integers(1, n))
    cproof = consistency_proof(leaves, m)
    verify_consistency(
        old_size=m, new_size=n, old_root=root_hash(leaves[:m]), new_root=root, proof=cproof
    )
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = [*proof]
        bad[j] = bytes([bad[j][0] ^ (1 << (bit % 8)), *bad[j][1:]])
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash=leaves[i], index=i, tree_size=n, proof=bad, root=root)
    if cproof:
        j = data.draw(st.integers(0, len(cproof) - 1))
        bad = [*cproof]
        bad[j] = bytes([bad[j][0] ^ 1, *bad[j][1:]])
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=m, new_size=n, old_root=root_hash(leaves[:m]), new_root=root, proof=bad
            )


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
