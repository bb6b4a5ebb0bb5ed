"""Evidence that the center showed two histories (a split view), and its proof by a third
party who holds nothing but the center's public key.

A **split view** is two tree heads of one log, both signed by the center, that no single
append-only log can have: a party's witness or monitor that saw one history and is shown
another keeps both signed heads, and anyone can check them. The evidence is one JSON
document (what ``accord monitor`` and ``accord witness evidence --out`` write, what
``accord verify --evidence`` reads)::

    {"accord_evidence": 1, "kind": "split_view", "origin": "<log origin>",
     "heads": ["<signed note A, full text>", "<signed note B, full text>"],
     "consistency": ["<base64 hash>", ...]}

with ``size(A) <= size(B)`` and ``consistency`` a consistency proof (RFC 9162 §2.1.4.1)
from ``size(A)`` to ``size(B)`` *in the tree that B signs*, empty for equal sizes.

**What proves it** (:func:`prove_split_view`): both notes are checkpoints of ``origin``
whose center signature verifies (its log signature, type 0x01, or — in heads written
before it — its timestamped line alone: :func:`~accord.record.note.verify_checkpoint`).
Equal sizes with different roots are two histories outright. Otherwise the proof is run
through RFC 9162 §2.1.4.2 (:func:`~accord.record.merkle.consistency_roots`): it must lead to
B's root — else the evidence proves nothing and is refused (:class:`ProofError`) — and then
the old root it leads to is the root of B's tree at ``size(A)`` (a second preimage of
SHA-256 aside): if that is not A's root, the center signed two trees of which neither is a
prefix of the other. If it is A's root, the heads are consistent: :class:`NoSplitView`.

**Sizes that are powers of two.** RFC 9162's proof from a size ``m = 2^k`` leaves out the
hash of the first ``m`` leaves (the verifier puts the old root there, step 2), so such a
proof cannot show another old root. Evidence for such an ``m`` carries the root of B's tree
at ``m`` as the proof's first hash — RFC 6962 §2.1.2's ``SUBPROOF(m, D[n], false)``, one
hash longer than RFC 9162's — which :func:`split_view_consistency` puts there for a writer
that read B's tree (from its tiles, say). A proof of RFC 9162's own length for such an
``m`` is read as RFC 9162 reads it (A's root in front): it can show that the heads are
consistent, never that they are not. A witness's refusal (the proof the center sent it)
is of that form, and for ``m = 2^k`` proves the split view only with the hash from B's tiles.

>>> from accord.record.keys import PrivateKey
>>> from accord.record.merkle import consistency_proof, leaf_hash, root_hash
>>> from accord.record.note import Checkpoint, sign_checkpoint
>>> center = PrivateKey.from_seed("center", bytes(32))
>>> def head(leaves):
...     checkpoint = Checkpoint("accord.example/jcc", len(leaves), root_hash(leaves))
...     return sign_checkpoint(checkpoint, key=center, timestamp=1_777_000_000)
>>> blue = [leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]
>>> red = [leaf_hash(b"a"), leaf_hash(b"B"), leaf_hash(b"c"), leaf_hash(b"d")]
>>> evidence = split_view_evidence(head(blue), head(red), consistency_proof(red, 3))
>>> prove_split_view(SplitViewEvidence.from_json(evidence.to_json()), center=center.public)
>>> same = split_view_evidence(head(red[:3]), head(red), consistency_proof(red, 3))
>>> prove_split_view(same, center=center.public)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
accord.errors.NoSplitView: no split view: the head of size 3 is a prefix of the head of size 4 ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.errors import NoSplitView, ProofError
from accord.record.canonical import decode_base64, encode_base64
from accord.record.errors import FormatError
from accord.record.keys import PublicKey
from accord.record.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    consistency_path,
    consistency_roots,
)
from accord.record.note import Checkpoint, check_origin, parse_note, verify_checkpoint

__all__ = [
    "EVIDENCE_VERSION",
    "MAX_PROOF_HASHES",
    "SPLIT_VIEW",
    "NoSplitView",
    "SplitViewEvidence",
    "prove_split_view",
    "split_view_consistency",
    "split_view_evidence",
]

EVIDENCE_VERSION = 1
"""The value of ``accord_evidence``: the version of the evidence format."""

SPLIT_VIEW = "split_view"
"""The ``kind`` of split-view evidence."""

MAX_PROOF_HASHES = 64
"""A consistency proof in a tree of at most 2^63 leaves has at most 2 * 63 hashes; a
tlog-witness request carries at most 63, and the evidence one more (the old root of a
power-of-two size). Longer is refused unread."""

_FIELDS = ("accord_evidence", "kind", "origin", "heads", "consistency")


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _rfc9162_length(old_size: int, new_size: int) -> int:
    # the number of hashes PROOF(m, D[n]) holds, from its construction over a dummy tree
    return len(consistency_path(old_size, new_size, lambda _a, _b: b""))


def _checkpoint(note: str, which: str) -> Checkpoint:
    try:
        return Checkpoint.parse(parse_note(note).body)
    except FormatError as error:
        raise FormatError(f"head {which}: {error}") from None


@dataclass(frozen=True)
class SplitViewEvidence:
    """Split-view evidence as read (nothing in it is trusted until :func:`prove_split_view`):
    the log's origin, the two signed notes (the smaller first) and the consistency proof."""

    origin: str
    heads: tuple[str, str]
    consistency: tuple[bytes, ...]

    def __post_init__(self) -> None:
        check_origin(self.origin)
        if len(self.heads) != 2 or not all(isinstance(h, str) for h in self.heads):
            raise FormatError("split-view evidence holds exactly two signed notes")
        if len(self.consistency) > MAX_PROOF_HASHES:
            raise FormatError(f"a consistency proof of more than {MAX_PROOF_HASHES} hashes")
        if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in self.consistency):
            raise FormatError(f"every hash of the consistency proof is {HASH_SIZE} bytes")
        a, b = self.a, self.b
        for which, checkpoint in (("A", a), ("B", b)):
            if checkpoint.origin != self.origin:
                raise FormatError(
                    f"head {which} is of log {checkpoint.origin!r}, not {self.origin!r}"
                )
        if a.size > b.size:
            raise FormatError(
                f"head A (size {a.size}) is larger than head B (size {b.size}): the smaller "
                "head comes first"
            )
        if a.size in (0, b.size) and self.consistency:
            raise FormatError("the consistency proof from size 0, or between equal sizes, is empty")

    @property
    def a(self) -> Checkpoint:
        """Head A's checkpoint (the smaller), as written — not verified."""
        return _checkpoint(self.heads[0], "A")

    @property
    def b(self) -> Checkpoint:
        """Head B's checkpoint (the larger), as written — not verified."""
        return _checkpoint(self.heads[1], "B")

    def b_root_at_a(self) -> bytes:
        """The root of B's tree at A's size, as the consistency proof shows it; raises
        :class:`ProofError` when the proof does not lead to B's root (it then shows nothing).

        Pure Merkle arithmetic: no signature is checked here.
        """
        a, b = self.a, self.b
        if a.size == b.size:
            return b.root
        if a.size == 0:
            return EMPTY_ROOT  # every tree at size 0 is the empty tree
        proof = list(self.consistency)
        old_root: bytes | None = None
        if _is_power_of_two(a.size):
            if len(proof) == _rfc9162_length(a.size, b.size) + 1:
                old_root, proof = proof[0], proof[1:]  # SUBPROOF(m, D[n], false)
            else:
                old_root = a.root  # RFC 9162 §2.1.4.2 step 2, as any verifier reads it
        old, new = consistency_roots(
            old_size=a.size, new_size=b.size, proof=proof, old_root=old_root
        )
        if new != b.root:
            hint = ""
            if _is_power_of_two(a.size) and old_root == a.root:
                hint = (
                    f"; for size {a.size}, a power of two, the proof must begin with the root "
                    "of B's tree at that size"
                )
            raise ProofError(
                f"the consistency proof from size {a.size} to size {b.size} does not lead to "
                f"head B's root: the evidence proves nothing{hint}"
            )
        return old

    def to_json(self) -> dict[str, Any]:
        """The evidence document (see the module's description)."""
        return {
            "accord_evidence": EVIDENCE_VERSION,
            "kind": SPLIT_VIEW,
            "origin": self.origin,
            "heads": list(self.heads),
            "consistency": [encode_base64(h) for h in self.consistency],
        }

    @classmethod
    def from_json(cls, data: object) -> SplitViewEvidence:
        """Read an evidence document strictly (every field, of its type; no other field);
        ``FormatError`` names what is wrong."""
        if not isinstance(data, Mapping):
            raise FormatError("evidence is a JSON object")
        missing = [f for f in _FIELDS if f not in data]
        unknown = sorted(str(f) for f in data if f not in _FIELDS)
        if missing or unknown:
            raise FormatError(
                f"evidence has exactly the fields {', '.join(_FIELDS)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
            )
        version = data["accord_evidence"]
        if type(version) is not int or version != EVIDENCE_VERSION:
            raise FormatError(f"accord_evidence {version!r}: only version 1 is known")
        if data["kind"] != SPLIT_VIEW:
            raise FormatError(f"evidence of kind {data['kind']!r}: only 'split_view' is known")
        origin, heads, proof = data["origin"], data["heads"], data["consistency"]
        if not isinstance(origin, str):
            raise FormatError("the evidence's origin is a string")
        if not isinstance(heads, list) or len(heads) != 2:
            raise FormatError("heads is a list of two signed notes")
        if not all(isinstance(h, str) for h in heads):
            raise FormatError("each of heads is a signed note's full text")
        if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
            raise FormatError("consistency is a list of base64 hashes")
        if len(proof) > MAX_PROOF_HASHES:
            raise FormatError(f"a consistency proof of more than {MAX_PROOF_HASHES} hashes")
        hashes = tuple(
            decode_base64(h, what=f"consistency hash {i}", size=HASH_SIZE)
            for i, h in enumerate(proof)
        )
        return cls(origin, (heads[0], heads[1]), hashes)


def split_view_consistency(
    old_size: int, proof: Sequence[bytes], *, root_at_old: bytes
) -> list[bytes]:
    """The ``consistency`` of split-view evidence: ``proof`` (RFC 9162's, from ``old_size``
    in B's tree) with ``root_at_old`` (B's tree's root at ``old_size``) in front when
    ``old_size`` is a power of two — the one hash RFC 9162 leaves out, and the one that
    shows the other history (see the module's description)."""
    if _is_power_of_two(old_size) and proof:
        return [root_at_old, *proof]
    return list(proof)


def split_view_evidence(
    a_note: str, b_note: str, consistency: Sequence[bytes]
) -> SplitViewEvidence:
    """Evidence of the two signed notes (A the smaller) and the proof from A's size in B's
    tree; checks its form only (``FormatError``). The log's origin is the heads'."""
    origin = _checkpoint(a_note, "A").origin
    return SplitViewEvidence(origin, (a_note, b_note), tuple(consistency))


def prove_split_view(evidence: SplitViewEvidence, *, center: PublicKey) -> None:
    """Prove that the center signed two histories of ``evidence.origin``; returns None when
    it is proven. Raises ``SignatureError`` when a head is not the center's (or is of
    another log), ``FormatError`` for a malformed note, :class:`ProofError` when the
    consistency proof does not lead to B's root (the evidence proves nothing), and
    :class:`NoSplitView` when the heads are consistent (one history)."""
    a = verify_checkpoint(evidence.heads[0], origin=evidence.origin, center=center)
    b = verify_checkpoint(evidence.heads[1], origin=evidence.origin, center=center)
    if a.size == b.size:
        if a.root == b.root:
            raise NoSplitView(
                f"no split view: both heads are of size {a.size} with root "
                f"{encode_base64(a.root)}: one history"
            )
        return None
    if evidence.b_root_at_a() == a.root:
        raise NoSplitView(
            f"no split view: the head of size {a.size} is a prefix of the head of size "
            f"{b.size} (the consistency proof joins them): one history"
        )
    return None
