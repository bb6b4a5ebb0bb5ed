"""Split-view evidence (:mod:`accord.record.evidence`) against a brute-force oracle: two
histories that share a random prefix, heads of random sizes of each signed by the center, the
consistency proof built from B's leaves — proven exactly when the RFC 9162 definition of the
tree hash (written out here, on the entries) gives B's tree at A's size another root than A's;
refused when they are one history, when a hash of the proof is changed, when a head is signed
by another key, and when the document is not in its exact form; and transparency-dev/merkle's
published consistency proofs read as evidence."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import NoSplitView, ProofError
from accord.record.canonical import encode_base64
from accord.record.errors import FormatError, SignatureError
from accord.record.evidence import (
    SplitViewEvidence,
    prove_split_view,
    split_view_consistency,
    split_view_evidence,
)
from accord.record.keys import PrivateKey
from accord.record.merkle import consistency_proof, consistency_roots, leaf_hash
from accord.record.note import Checkpoint, parse_note, sign_checkpoint
from support.record import b64

ORIGIN = "accord.example/split"
CENTER = PrivateKey.from_seed("center", hashlib.sha256(b"center").digest())
IMPOSTOR = PrivateKey.from_seed("center", hashlib.sha256(b"impostor").digest())
T = 1_790_000_000


def mth(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 literally, on the entries (the oracle; shares nothing with merkle.py)."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:])).digest()


def history(name: str, prefix: int, size: int) -> list[bytes]:
    """``size`` entries: the common ones up to ``prefix``, then this history's own."""
    return [f"common {i}".encode() if i < prefix else f"{name} {i}".encode() for i in range(size)]


def head(entries: list[bytes], *, key: PrivateKey = CENTER) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, len(entries), mth(entries)), key=key, timestamp=T)


def evidence_of(a: list[bytes], b: list[bytes]) -> SplitViewEvidence:
    """The evidence a party writes from B's tree: the RFC 9162 proof, with B's root at A's
    size in front for a power-of-two size."""
    leaves = [leaf_hash(e) for e in b]
    m = len(a)
    proof = [] if m in (0, len(b)) else consistency_proof(leaves, m)
    consistency = split_view_consistency(m, proof, root_at_old=mth(b[:m]))
    return split_view_evidence(head(a), head(b), consistency)


def round_trip(evidence: SplitViewEvidence) -> SplitViewEvidence:
    return SplitViewEvidence.from_json(json.loads(json.dumps(evidence.to_json())))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_two_histories_are_proven_and_one_history_is_not(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 300), label="size of B")
    m = data.draw(st.integers(0, n), label="size of A")
    prefix = data.draw(st.integers(0, n), label="common prefix")
    a = history("blue", prefix, m)
    b = history("red", prefix, n)
    evidence = round_trip(evidence_of(a, b))
    if mth(a) != mth(b[:m]):  # the oracle: B's tree at A's size is not A's tree
        prove_split_view(evidence, center=CENTER.public)
        assert evidence.b_root_at_a() == mth(b[:m])
    else:
        with pytest.raises(NoSplitView, match="no split view"):
            prove_split_view(evidence, center=CENTER.public)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_changed_hash_of_the_proof_proves_nothing(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 300))
    m = data.draw(st.integers(1, n - 1))
    prefix = data.draw(st.integers(0, m - 1))  # two histories at A's size
    evidence = evidence_of(history("blue", prefix, m), history("red", prefix, n))
    j = data.draw(st.integers(0, len(evidence.consistency) - 1))
    bit = data.draw(st.integers(0, 255))
    bad = list(evidence.consistency)
    bad[j] = (
        bad[j][: bit // 8] + bytes([bad[j][bit // 8] ^ (1 << bit % 8)]) + bad[j][bit // 8 + 1 :]
    )
    tampered = SplitViewEvidence(evidence.origin, evidence.heads, tuple(bad))
    with pytest.raises(ProofError, match="proves nothing"):
        prove_split_view(tampered, center=CENTER.public)
    # one hash less or one more: not a proof of these sizes either
    for other in (bad[:-1], [*evidence.consistency, bad[j]]):
        if len(other) in (0, len(bad) + 1) and m & (m - 1) == 0:
            continue  # for a power of two, one more is the other form; none is size-0's
        with pytest.raises(ProofError):
            prove_split_view(
                SplitViewEvidence(evidence.origin, evidence.heads, tuple(other)),
                center=CENTER.public,
            )


def forge(note: str) -> str:
    """``note`` with one bit of the center's log signature (its first line) changed."""
    parsed = parse_note(note)
    first = parsed.signatures[0]
    bad = replace(first, sig=bytes([first.sig[0] ^ 1]) + first.sig[1:])
    return replace(parsed, signatures=(bad, *parsed.signatures[1:])).text()


@pytest.mark.parametrize("which", [0, 1])
def test_a_head_the_center_did_not_sign_is_refused(which: int) -> None:
    a, b = history("blue", 3, 5), history("red", 3, 9)
    good = evidence_of(a, b)

    def with_head(note: str) -> SplitViewEvidence:
        heads = (note, good.heads[1]) if which == 0 else (good.heads[0], note)
        return SplitViewEvidence(ORIGIN, heads, good.consistency)

    prove_split_view(good, center=CENTER.public)
    with pytest.raises(SignatureError, match="does not verify"):
        prove_split_view(with_head(forge(good.heads[which])), center=CENTER.public)
    # signed by another key under the center's name: no line of the center's key at all
    with pytest.raises(SignatureError, match="no signature by the center"):
        prove_split_view(with_head(head([a, b][which], key=IMPOSTOR)), center=CENTER.public)
    # the genuine evidence proves nothing against another center
    with pytest.raises(SignatureError):
        prove_split_view(good, center=IMPOSTOR.public)


def test_equal_sizes_with_two_roots_are_proven_without_a_proof() -> None:
    a, b = history("blue", 4, 7), history("red", 4, 7)
    prove_split_view(round_trip(evidence_of(a, b)), center=CENTER.public)
    with pytest.raises(NoSplitView, match="both heads are of size 7"):
        prove_split_view(evidence_of(b, b), center=CENTER.public)


def test_heads_with_the_timestamped_line_alone_still_prove() -> None:
    """Heads written before the center's log signature (its 0x04 line alone) verify."""
    a, b = history("blue", 2, 6), history("red", 2, 11)
    evidence = evidence_of(a, b)
    legacy = []
    for note in evidence.heads:
        parsed = parse_note(note)
        legacy.append(parsed.body + "\n" + parsed.signatures[1].line())  # the 0x04 line only
    prove_split_view(
        SplitViewEvidence(ORIGIN, (legacy[0], legacy[1]), evidence.consistency),
        center=CENTER.public,
    )
    # and a head with the log signature alone (as a witness keeps it)
    plain = [parse_note(n).body + "\n" + parse_note(n).signatures[0].line() for n in evidence.heads]
    prove_split_view(
        SplitViewEvidence(ORIGIN, (plain[0], plain[1]), evidence.consistency),
        center=CENTER.public,
    )


def test_a_power_of_two_size_needs_b_root_at_that_size() -> None:
    """RFC 9162's proof from 2^k omits B's root at 2^k: it shows the heads consistent, or
    nothing; the evidence's form with that root in front shows the split view."""
    a, b = history("blue", 3, 8), history("red", 3, 13)
    leaves = [leaf_hash(e) for e in b]
    rfc9162 = consistency_proof(leaves, 8)
    bare = split_view_evidence(head(a), head(b), rfc9162)
    with pytest.raises(ProofError, match="must begin with the root of B's tree"):
        prove_split_view(bare, center=CENTER.public)
    prove_split_view(evidence_of(a, b), center=CENTER.public)
    assert evidence_of(a, b).consistency == (mth(b[:8]), *rfc9162)
    # one history, either form: no split view
    for proof in (rfc9162, [mth(b[:8]), *rfc9162]):
        with pytest.raises(NoSplitView):
            prove_split_view(split_view_evidence(head(b[:8]), head(b), proof), center=CENTER.public)


def test_a_size_zero_head_with_another_root_than_the_empty_tree() -> None:
    bogus = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), key=CENTER, timestamp=T)
    prove_split_view(
        split_view_evidence(bogus, head(history("red", 0, 3)), []), center=CENTER.public
    )
    with pytest.raises(NoSplitView):
        prove_split_view(
            split_view_evidence(head([]), head(history("red", 0, 3)), []), center=CENTER.public
        )


def test_the_document_is_read_strictly() -> None:
    a, b = history("blue", 1, 3), history("red", 1, 5)
    document = evidence_of(a, b).to_json()
    assert list(document) == ["accord_evidence", "kind", "origin", "heads", "consistency"]
    assert SplitViewEvidence.from_json(document).to_json() == document
    cases = {  # what the message names → the document
        "a JSON object": [],
        "missing heads": {k: v for k, v in document.items() if k != "heads"},
        "unknown extra": {**document, "extra": 1},
        "only version 1": {**document, "accord_evidence": True},
        "only 'split_view'": {**document, "kind": "rollback"},
        "two signed notes": {**document, "heads": document["heads"][:1]},
        "the smaller head comes first": {**document, "heads": document["heads"][::-1]},
        "not valid base64": {**document, "consistency": ["not base64!"]},
        "must be 32 bytes": {**document, "consistency": [encode_base64(bytes(31))]},
        "not 'accord.example/other'": {**document, "origin": "accord.example/other"},
        "between equal sizes, is empty": {**document, "heads": [document["heads"][1]] * 2},
        "more than 64 hashes": {**document, "consistency": [encode_base64(bytes(32))] * 65},
    }
    for reason, bad in cases.items():
        with pytest.raises(FormatError, match=re.escape(reason)):
            SplitViewEvidence.from_json(bad)


def test_the_proof_takes_the_center_by_keyword_only() -> None:
    evidence = evidence_of(history("blue", 1, 3), history("red", 1, 5))
    with pytest.raises(TypeError):
        prove_split_view(evidence, CENTER.public)  # type: ignore[misc]


# transparency-dev/merkle, testdata/consistency/{1,2,3,4}/happy-path.json (commit 417fb0c3,
# Apache-2.0): an independent implementation's RFC 9162 consistency proofs over the
# RFC 6962 test leaves — (size1, size2, root1, root2, proof).
TRANSPARENCY_DEV_CONSISTENCY = [
    (
        1,
        8,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
    ),
    (
        6,
        8,
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        [
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
    (
        2,
        5,
        "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
        "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
        [
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
    ),
    (
        6,
        7,
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
        "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
        [
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
]


@pytest.mark.parametrize(("m", "n", "root1", "root2", "proof"), TRANSPARENCY_DEV_CONSISTENCY)
def test_published_consistency_proofs(
    m: int, n: int, root1: str, root2: str, proof: list[str]
) -> None:
    """The walk gives both published roots; as evidence, the published proof joins the
    published heads (no split view) and shows another head of size m (a second history)."""
    old, new, hashes = b64(root1), b64(root2), [b64(h) for h in proof]
    assert consistency_roots(old_size=m, new_size=n, proof=hashes, old_root=old) == (old, new)
    consistency = split_view_consistency(m, hashes, root_at_old=old)
    b_head = sign_checkpoint(Checkpoint(ORIGIN, n, new), key=CENTER, timestamp=T)
    one = sign_checkpoint(Checkpoint(ORIGIN, m, old), key=CENTER, timestamp=T)
    with pytest.raises(NoSplitView):
        prove_split_view(split_view_evidence(one, b_head, consistency), center=CENTER.public)
    other = sign_checkpoint(
        Checkpoint(ORIGIN, m, hashlib.sha256(b"another history").digest()),
        key=CENTER,
        timestamp=T,
    )
    evidence = split_view_evidence(other, b_head, consistency)
    prove_split_view(evidence, center=CENTER.public)
    assert evidence.b_root_at_a() == old
