"""The verifiable record: an append-only Merkle log of signed entries (RFC 6962/9162)."""

from __future__ import annotations

from accord.record.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]
