"""The verifiable record: signed entries in an append-only Merkle log that every party can
check on its own machine.

* :mod:`~accord.record.merkle` — RFC 6962/9162 tree hashes, proofs and their verification;
* :mod:`~accord.record.canonical`, :mod:`~accord.record.keys`,
  :mod:`~accord.record.entries` — canonical JSON, Ed25519 keys, signed entries and the
  envelope that chains each leaf to the one before it;
* :mod:`~accord.record.commitments` — salted commitments: how an entry speaks of what it
  must not disclose;
* :mod:`~accord.record.acts` — a party's act, signed where it is made over its RFC 8785
  (JCS) bytes, and its verification (origin, key, signature, clock window);
* :mod:`~accord.record.note` — C2SP signed notes: checkpoints signed by the center,
  co-signatures by parties (tlog-cosignature), split-view detection;
* :mod:`~accord.record.evidence` — split-view evidence (two center-signed heads and a
  consistency proof) and its proof by a third party holding the center's key alone;
* :mod:`~accord.record.log` — the append-only log over a storage port (SQLite);
* :mod:`~accord.record.recorder` — signed entries into the log, signed heads out of it;
* :mod:`~accord.record.verify` — the verifier, which trusts nothing it has not checked.
"""

from __future__ import annotations

from accord.record.errors import (
    ConsistencyError,
    EquivocationError,
    FormatError,
    KeyFileError,
    RecordError,
    SignatureError,
    UnknownKeyError,
)
from accord.record.keys import KeyRing, Member, PrivateKey, PublicKey, generate
from accord.record.log import LogError, MerkleLog, SQLiteStorage, TamperError
from accord.record.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from accord.record.note import Checkpoint, SignedHead, Witness, detect_split_view
from accord.record.recorder import Recorder
from accord.record.verify import VerificationError, VerificationReport, verify_log

__all__ = [
    "Checkpoint",
    "ConsistencyError",
    "EquivocationError",
    "FormatError",
    "KeyFileError",
    "KeyRing",
    "LogError",
    "Member",
    "MerkleLog",
    "PrivateKey",
    "ProofError",
    "PublicKey",
    "RecordError",
    "Recorder",
    "SQLiteStorage",
    "SignatureError",
    "SignedHead",
    "TamperError",
    "UnknownKeyError",
    "VerificationError",
    "VerificationReport",
    "Witness",
    "consistency_proof",
    "detect_split_view",
    "generate",
    "inclusion_proof",
    "leaf_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
