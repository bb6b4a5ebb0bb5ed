"""Signed notes, vkeys and checkpoints against vectors published by others: the C2SP specs'
own examples, golang.org/x/mod/sumdb/note's tests, transparency-dev/formats' tests and the
witness network's list of logs. Each vector says where it comes from; none was made here."""

from __future__ import annotations

import base64

import pytest

from accord.record.errors import FormatError, SignatureError
from accord.record.keys import SIG_ED25519, SIG_ED25519_COSIGNATURE, PrivateKey, PublicKey
from accord.record.note import (
    Checkpoint,
    cosignature_line,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from accord.record.witness_protocol import parse_log_list

# golang.org/x/mod, sumdb/note/example_test.go (ExampleSign, ExampleOpen) and note_test.go
# (TestNewVerifier, TestNewSigner): a signer key "PRIVATE+KEY+<name>+<id>+base64(0x01 ||
# Ed25519 seed)", its verifier key, a text and the signed note Go's note.Sign writes.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNED = (
    GO_TEXT + "\n"
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)

# c2sp.org/signed-note, "Verifier keys", "Example": this vkey verifies this note.
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFX"
    "mRKuwHjG1Yu72IneyaQM=\n"
)


def go_signer() -> PrivateKey:
    name, key_id, b64 = GO_SKEY.removeprefix("PRIVATE+KEY+").split("+", 2)
    material = base64.b64decode(b64)
    assert material[0] == SIG_ED25519
    key = PrivateKey.from_seed(name, material[1:])
    assert key.public.note_key_id(SIG_ED25519).hex() == key_id
    return key


def test_signing_matches_go_sumdb_note():
    key = go_signer()
    assert key.public.vkey(SIG_ED25519) == GO_VKEY
    assert sign_note(GO_TEXT, key=key) == GO_SIGNED


def test_verifying_go_and_c2sp_examples():
    for vkey, text in ((GO_VKEY, GO_SIGNED), (C2SP_VKEY, C2SP_NOTE)):
        key, sig_type = PublicKey.from_vkey(vkey)
        assert sig_type == SIG_ED25519
        assert verify_note(parse_note(text), keys=[(key, sig_type)]) == {key.name: None}
        # one bit of the text changed: the known key's signature fails, the note is rejected
        with pytest.raises(SignatureError):
            verify_note(parse_note(text.replace("is", "iz", 1)), keys=[(key, sig_type)])
        # the same key read as a cosigner (type 0x04) has another key ID: no line is its
        with pytest.raises(SignatureError, match="no signature by a trusted key"):
            verify_note(parse_note(text), keys=[(key, SIG_ED25519_COSIGNATURE)])


def test_mangled_vkeys_are_refused_as_go_refuses_them():
    """note_test.go TestNewVerifier: every proper substring of the vkey and every one-byte
    increment of it is refused, as are its two hand-made bad keys."""
    PublicKey.from_vkey(GO_VKEY)
    raw = GO_VKEY.encode()
    bad = {raw[i:j] for i in range(len(raw) + 1) for j in range(i + 1, len(raw) + 1)}
    bad.discard(raw)
    bad |= {raw[:i] + bytes([raw[i] + 1]) + raw[i + 1 :] for i in range(len(raw))}
    for mangled in bad:
        with pytest.raises(FormatError):
            PublicKey.from_vkey(mangled.decode())
    for vkey in (
        # wrong length key, with adjusted key hash; unknown algorithm, with adjusted key hash
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(FormatError):
            PublicKey.from_vkey(vkey)


@pytest.mark.parametrize(
    ("vkey", "sig_type"),
    [
        # transparency-dev/formats note/note_cosigv1_test.go TestCoSigV1NewVerifier: an
        # Ed25519 vkey whose base64 holds a "+", and a native cosignature (0x04) vkey
        ("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6", SIG_ED25519),
        ("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", 0x04),
    ],
)
def test_published_vkeys_of_both_types(vkey, sig_type):
    key, found = PublicKey.from_vkey(vkey)
    assert found == sig_type
    assert key.vkey(sig_type) == vkey


@pytest.mark.parametrize(
    "vkey",
    [
        # the same test's refusals
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
    ],
)
def test_published_bad_vkeys(vkey):
    with pytest.raises(FormatError):
        PublicKey.from_vkey(vkey)


def test_cosignature_timestamp_of_a_published_line():
    """transparency-dev/formats TestCoSigV1Timestamp: this cosignature's signature bytes
    (key ID, then the timestamped_signature) carry the time 1727964367 (tlog-cosignature:
    u64 big-endian timestamp, then the 64-byte Ed25519 signature)."""
    raw = base64.b64decode(
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWW"
        "OworDcFiEBYJXORmnFBOBA=="
    )
    assert len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[4:12], "big") == 1727964367
    # and a line Accord writes has the same layout
    key = go_signer()
    line = cosignature_line("example.com/log\n1\n" + "A" * 43 + "=\n", key=key, timestamp=7)
    ours = base64.b64decode(line.split(" ")[2])
    assert ours[:4] == key.public.note_key_id(SIG_ED25519_COSIGNATURE)
    assert int.from_bytes(ours[4:12], "big") == 7 and len(ours) == 76


def test_the_centers_log_signature_verifies_as_go_would():
    """A checkpoint the center signs carries a plain Ed25519 line that a verifier knowing
    only the 0x01 vkey accepts (and ignores the 0x04 line: another key ID)."""
    key = go_signer()
    note = sign_checkpoint(
        Checkpoint("example.com/log", 1, bytes(32)), key=key, timestamp=1_777_000_000
    )
    public, sig_type = PublicKey.from_vkey(GO_VKEY)
    assert verify_note(parse_note(note), keys=[(public, sig_type)]) == {"PeterNeumann": None}
    head = verify_checkpoint(note, origin="example.com/log", center=public)
    assert head.timestamp == 1_777_000_000


# github.com/transparency-dev/witness-network lists/testing/log-list.1 (logs/v0): real logs'
# vkeys, their key IDs computed by the logs' own (Go) tooling.
WITNESS_NETWORK_LIST = """\
#
# This is an experimental list where witnesses can discover logs.  The
# work-in-progress list format is described here:
#
#   https://witness-network.org/log-list-format
#
logs/v0

vkey arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f
qpd 86400
contact google-ct-logs@googlegroups.com

vkey sigsum.org/v1/tree/4e89cc51651f0d95f3c6127c15e1a42e3ddf7046c5b17b752689c402e773bb4d+778629b1+AUZEryq9QPSJWgA7yjUPnVkSqzAaScd/E+W22QXCCl/m
qpd 8640
contact sigsum-logs (at) glasklarteknik.se | https://git.glasklar.is/glasklar/services/sigsum-logs/-/blob/main/instances/barreleye.md

vkey log2025-alpha3.rekor.sigstage.dev+d3d3a70c+AZQ93VXPMmj9uZj7U/7CefQ9yy8RgYFv6mKzOseipjqp
qpd 86400
contact infra-dev (at) sigstore.dev
"""  # noqa: E501 (the list's lines as published)


def test_the_witness_networks_list_reads():
    logs = parse_log_list(WITNESS_NETWORK_LIST)
    assert sorted(logs) == sorted(
        [
            "arche2025h1.staging.ct.transparency.dev",
            "sigsum.org/v1/tree/4e89cc51651f0d95f3c6127c15e1a42e3ddf7046c5b17b752689c402e773bb4d",
            "log2025-alpha3.rekor.sigstage.dev",
        ]
    )
    sigsum = logs[
        "sigsum.org/v1/tree/4e89cc51651f0d95f3c6127c15e1a42e3ddf7046c5b17b752689c402e773bb4d"
    ]
    assert sigsum.qpd == 8640 and sigsum.contact.startswith("sigsum-logs (at)")
    assert sigsum.keys[0].note_key_id(SIG_ED25519).hex() == "778629b1"
