"""Signed tree heads: C2SP signed notes, checkpoints, cosignatures and witnesses."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.record.errors import (
    ConsistencyError,
    EquivocationError,
    FormatError,
    SignatureError,
)
from accord.record.keys import PrivateKey
from accord.record.merkle import consistency_proof, leaf_hash, root_hash
from accord.record.note import (
    Checkpoint,
    Note,
    NoteSignature,
    SignedHead,
    Witness,
    add_cosignature,
    cosignature_message,
    detect_split_view,
    parse_note,
    sign_checkpoint,
    verify_checkpoint,
    verify_cosignatures,
)
from support.record import seeded

ORIGIN = "accord.example/jcc"
T0 = 1_777_000_000


CENTER, BLUE, RED, GREEN = seeded("center"), seeded("blue"), seeded("red"), seeded("green")


def leaves(n: int, fork: str = "") -> list[bytes]:
    return [leaf_hash(f"{fork}entry {i}".encode()) for i in range(n)]


def head_note(size: int, *, fork: str = "", timestamp: int = T0, key: PrivateKey = CENTER) -> str:
    checkpoint = Checkpoint(ORIGIN, size, root_hash(leaves(size, fork)))
    return sign_checkpoint(checkpoint, key=key, timestamp=timestamp)


def split_line(line: str) -> tuple[str, bytes]:
    assert line.startswith("\u2014 ")
    name, b64 = line[2:].split(" ")
    return name, base64.b64decode(b64)


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_body_follows_tlog_checkpoint():
    root = hashlib.sha256(b"x").digest()
    checkpoint = Checkpoint(ORIGIN, 20852163, root)
    assert checkpoint.body() == f"{ORIGIN}\n20852163\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    assert Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest()).body().split("\n")[1] == "0"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n010\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeroes"),
        (f"{ORIGIN}\n00\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeroes"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeroes"),
        (f"{ORIGIN}\n+1\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeroes"),
        (f"{ORIGIN}\n 1\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeroes"),
        (f"{ORIGIN}\n\u0661\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeroes"),
        (f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n1\nnot-base64!\n", "base64"),
        (f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode().rstrip('=')}\n", "base64"),
        (f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}\nextension\n", "extension"),
        (f"{ORIGIN}\n1\n", "origin, a size and a root"),
        (f"\n1\n{base64.b64encode(bytes(32)).decode()}\n", "origin"),
        (f"two words\n1\n{base64.b64encode(bytes(32)).decode()}\n", "origin"),
        (f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}", "newline"),
    ],
)
def test_malformed_checkpoints_are_refused(body, message):
    with pytest.raises(FormatError, match=message):
        Checkpoint.parse(body)


def test_checkpoint_values_are_checked():
    with pytest.raises(FormatError):
        Checkpoint(ORIGIN, -1, bytes(32))
    with pytest.raises(FormatError):
        Checkpoint(ORIGIN, 1, bytes(31))
    with pytest.raises(FormatError):
        Checkpoint("a+b", 1, bytes(32))


# --- the center's signature -----------------------------------------------------------------


def test_signed_checkpoint_bytes_follow_the_specs():
    checkpoint = Checkpoint(ORIGIN, 5, root_hash(leaves(5)))
    note = sign_checkpoint(checkpoint, key=CENTER, timestamp=T0)
    body, signatures = note.split("\n\n")
    assert body + "\n" == checkpoint.body()
    assert signatures.endswith("\n") and signatures.count("\n") == 2
    plain_line, stamped_line = signatures[:-1].split("\n")
    # first the log signature: signed-note type 0x01, Ed25519 over the note text
    name, raw = split_line(plain_line)
    assert name == "center"
    assert raw[:4] == hashlib.sha256(b"center\n\x01" + CENTER.public.raw).digest()[:4]
    assert len(raw) == 4 + 64
    Ed25519PublicKey.from_public_bytes(CENTER.public.raw).verify(
        raw[4:], checkpoint.body().encode()
    )
    # then the timestamped line
    name, raw = split_line(stamped_line)
    assert name == "center"
    # signed-note: 4-byte key ID; tlog-cosignature type 0x04
    assert raw[:4] == hashlib.sha256(b"center\n\x04" + CENTER.public.raw).digest()[:4]
    # tlog-cosignature: timestamped_signature = u64 big-endian timestamp || Ed25519 (64)
    assert len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[4:12], "big") == T0
    message = b"cosignature/v1\ntime " + str(T0).encode() + b"\n" + checkpoint.body().encode()
    assert cosignature_message(checkpoint.body(), T0) == message
    Ed25519PublicKey.from_public_bytes(CENTER.public.raw).verify(raw[12:], message)


def test_verify_checkpoint():
    note = head_note(5)
    head = verify_checkpoint(note, origin=ORIGIN, center=CENTER.public)
    assert head.checkpoint == Checkpoint(ORIGIN, 5, root_hash(leaves(5)))
    assert (head.size, head.root, head.origin, head.timestamp) == (
        5,
        root_hash(leaves(5)),
        ORIGIN,
        T0,
    )
    assert head.note == note
    assert verify_checkpoint(note.encode(), origin=ORIGIN, center=CENTER.public) == head  # type: ignore[arg-type]


def test_head_of_another_log_is_refused():
    note = sign_checkpoint(
        Checkpoint("accord.example/other", 1, bytes(32)), key=CENTER, timestamp=T0
    )
    with pytest.raises(SignatureError, match=r"accord\.example/other"):
        verify_checkpoint(note, origin=ORIGIN, center=CENTER.public)


def test_head_signed_by_someone_else_is_refused():
    with pytest.raises(SignatureError, match="no signature by the center"):
        verify_checkpoint(head_note(5, key=RED), origin=ORIGIN, center=CENTER.public)
    # Another key under the center's name is an unknown key (name matches, key ID not).
    impostor = PrivateKey.from_seed("center", bytes(32))
    with pytest.raises(SignatureError, match="no signature by the center"):
        verify_checkpoint(head_note(5, key=impostor), origin=ORIGIN, center=CENTER.public)


def test_tampered_body_is_refused():
    note = head_note(5)
    lines = note.split("\n")
    lines[1] = "6"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_checkpoint("\n".join(lines), origin=ORIGIN, center=CENTER.public)


def test_bad_signature_of_a_known_key_rejects_the_note():
    note = parse_note(head_note(5))
    plain, line = note.signatures  # the log signature (0x01), the timestamped line (0x04)
    # A bad log signature rejects the note even beside a good timestamped line.
    flipped = NoteSignature(plain.name, plain.key_id, plain.sig[:-1] + bytes([plain.sig[-1] ^ 1]))
    with pytest.raises(SignatureError, match="does not verify"):
        verify_checkpoint(
            Note(note.body, (flipped, line)).text(), origin=ORIGIN, center=CENTER.public
        )
    bad = NoteSignature(line.name, line.key_id, line.sig[:-1] + bytes([line.sig[-1] ^ 1]))
    with pytest.raises(SignatureError, match="does not verify"):
        verify_checkpoint(Note(note.body, (bad,)).text(), origin=ORIGIN, center=CENTER.public)
    # A changed timestamp is inside the signed message too.
    moved = NoteSignature(line.name, line.key_id, (T0 + 1).to_bytes(8, "big") + line.sig[8:])
    with pytest.raises(SignatureError):
        verify_checkpoint(Note(note.body, (moved,)).text(), origin=ORIGIN, center=CENTER.public)
    # A known key's line that is not a cosignature at all.
    short = NoteSignature(line.name, line.key_id, line.sig[8:])
    with pytest.raises(SignatureError, match="not a timestamped"):
        verify_checkpoint(Note(note.body, (short,)).text(), origin=ORIGIN, center=CENTER.public)
    # Even when another, valid, line of the same key follows.
    with pytest.raises((SignatureError, FormatError)):
        verify_checkpoint(Note(note.body, (bad, line)).text(), origin=ORIGIN, center=CENTER.public)


def test_signatures_of_unknown_keys_are_ignored():
    note = parse_note(head_note(5))
    unknown = (
        NoteSignature("stranger", b"\x01\x02\x03\x04", bytes(72)),
        # the center's name with another key ID, and the center's key ID with another name
        NoteSignature("center", b"\x00\x00\x00\x00", bytes(72)),
        NoteSignature("centre", CENTER.public.note_key_id(0x04), bytes(72)),
        NoteSignature("centre", CENTER.public.note_key_id(0x01), bytes(64)),
        # the center's key under another signature type (0x02): another (name, key ID) pair
        NoteSignature("center", CENTER.public.note_key_id(0x02), bytes(64)),
    )
    text = Note(note.body, (*unknown[:2], *note.signatures, *unknown[2:])).text()
    head = verify_checkpoint(text, origin=ORIGIN, center=CENTER.public)
    assert head.size == 5 and head.note == text


def test_heads_signed_either_way_verify():
    """Heads before the log signature carry the timestamped line alone; tools of the C2SP
    family write the log signature alone; Accord now writes both. Each verifies."""
    note = parse_note(head_note(5))
    plain, stamped = note.signatures
    legacy = verify_checkpoint(
        Note(note.body, (stamped,)).text(), origin=ORIGIN, center=CENTER.public
    )
    assert (legacy.size, legacy.timestamp) == (5, T0)
    bare = verify_checkpoint(Note(note.body, (plain,)).text(), origin=ORIGIN, center=CENTER.public)
    assert (bare.size, bare.timestamp) == (5, None)
    assert SignedHead.from_json(bare.to_json(), center=CENTER.public) == bare
    both = verify_checkpoint(note.text(), origin=ORIGIN, center=CENTER.public)
    assert both.timestamp == T0
    # the log signature twice is refused as any key's second line is
    with pytest.raises(FormatError, match="2 signatures"):
        verify_checkpoint(
            Note(note.body, (plain, plain, stamped)).text(), origin=ORIGIN, center=CENTER.public
        )


# --- signed-note syntax ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda n: n.replace("\n\n", "\n"), "blank line"),
        (lambda n: n[:-1], "newline"),
        (lambda n: n + "\n", "signature lines"),
        (lambda n: n.replace("\u2014 ", "- "), "em dash"),
        (lambda n: n.replace("\u2014 center", "\u2014 cen+ter"), "key name"),
        (lambda n: n.replace("\u2014 center ", "\u2014  "), "key name"),
        (lambda n: n.replace("\u2014 center ", "\u2014 center"), "key name"),
        (lambda n: n[: n.rindex(" ") + 1] + "AQID\n", "no signature after its key ID"),
        (lambda n: n[: n.rindex(" ") + 1] + "\n", "base64"),
        (lambda n: n[:-2] + "!\n", "base64"),
        (lambda n: n.replace(ORIGIN, ORIGIN + "\r"), "control character"),
        (lambda n: n.replace(ORIGIN, ORIGIN + "\t"), "control character"),
        (lambda n: n.replace(ORIGIN, ORIGIN + "\x00"), "control character"),
        (lambda n: n.replace(ORIGIN, ORIGIN + "\x1b[2J"), "control character"),
    ],
)
def test_malformed_notes_are_refused(change, message):
    text = change(head_note(5))
    with pytest.raises(FormatError, match=message):
        parse_note(text)
    with pytest.raises(FormatError):
        verify_checkpoint(text, origin=ORIGIN, center=CENTER.public)


def test_note_bytes_must_be_utf8():
    with pytest.raises(FormatError, match="UTF-8"):
        parse_note(head_note(5).encode().replace(b"accord", b"acc\xffrd"))


def test_note_text_round_trips_and_splits_at_the_last_blank_line():
    text = "first\n\nsecond\n\n\u2014 k " + base64.b64encode(bytes(10)).decode() + "\n"
    note = parse_note(text)
    assert note.body == "first\n\nsecond\n"
    assert note.signatures == (NoteSignature("k", bytes(4), bytes(6)),)
    assert note.text() == text


def test_too_many_signatures_are_refused():
    line = "\u2014 k " + base64.b64encode(bytes(10)).decode() + "\n"
    assert len(parse_note("x\n\n" + line * 16).signatures) == 16
    with pytest.raises(FormatError, match="more than"):
        parse_note("x\n\n" + line * 101)


# --- cosignatures ---------------------------------------------------------------------------


def test_cosignatures():
    note = head_note(5)
    cosigned = add_cosignature(note, key=BLUE, timestamp=T0 + 10)
    cosigned = add_cosignature(cosigned, key=RED, timestamp=T0 + 20)
    assert cosigned.startswith(note)
    _, _, blue_line, _red_line = cosigned.split("\n\n")[1].splitlines()
    name, raw = split_line(blue_line)
    assert name == "blue"
    assert raw[:4] == hashlib.sha256(b"blue\n\x04" + BLUE.public.raw).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == T0 + 10
    body = note.split("\n\n")[0] + "\n"
    Ed25519PublicKey.from_public_bytes(BLUE.public.raw).verify(
        raw[12:], f"cosignature/v1\ntime {T0 + 10}\n{body}".encode()
    )
    assert verify_cosignatures(cosigned, witnesses=[BLUE.public, RED.public, GREEN.public]) == {
        "blue": T0 + 10,
        "red": T0 + 20,
    }
    assert verify_checkpoint(cosigned, origin=ORIGIN, center=CENTER.public).size == 5
    with pytest.raises(FormatError, match="already"):
        add_cosignature(cosigned, key=BLUE, timestamp=T0 + 30)


def test_bad_cosignature_of_a_known_witness_is_refused():
    cosigned = add_cosignature(head_note(5), key=BLUE, timestamp=T0)
    note = parse_note(cosigned)
    *center_lines, blue_line = note.signatures
    bad = NoteSignature(
        "blue", blue_line.key_id, blue_line.sig[:-1] + bytes([blue_line.sig[-1] ^ 0x80])
    )
    text = Note(note.body, (*center_lines, bad)).text()
    with pytest.raises(SignatureError, match="witness 'blue'"):
        verify_cosignatures(text, witnesses=[BLUE.public])
    assert verify_cosignatures(text, witnesses=[RED.public]) == {}  # blue unknown: ignored
    # A cosignature made over another head does not transfer.
    other = parse_note(add_cosignature(head_note(6), key=BLUE, timestamp=T0))
    moved = Note(note.body, (*center_lines, other.signatures[2])).text()
    with pytest.raises(SignatureError):
        verify_cosignatures(moved, witnesses=[BLUE.public])


def test_timestamps_are_bounded():
    with pytest.raises(FormatError):
        sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)), key=CENTER, timestamp=2**63)
    with pytest.raises(FormatError):
        sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)), key=CENTER, timestamp=-1)
    note = parse_note(head_note(5))
    line = note.signatures[1]
    huge = NoteSignature(line.name, line.key_id, (2**63).to_bytes(8, "big") + line.sig[8:])
    with pytest.raises(SignatureError, match="2\\^63"):
        verify_checkpoint(Note(note.body, (huge,)).text(), origin=ORIGIN, center=CENTER.public)


# --- heads as files -------------------------------------------------------------------------


def test_signed_head_json_round_trip():
    head = verify_checkpoint(head_note(5), origin=ORIGIN, center=CENTER.public)
    data = head.to_json()
    assert data == {
        "origin": ORIGIN,
        "size": 5,
        "root": base64.b64encode(root_hash(leaves(5))).decode(),
        "timestamp": T0,
        "note": head_note(5),
    }
    assert SignedHead.from_json(data, center=CENTER.public) == head
    assert SignedHead.from_json(data, center=CENTER.public, origin=ORIGIN) == head


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"size": 6}, FormatError),
        ({"size": 5.0}, FormatError),
        ({"root": base64.b64encode(bytes(32)).decode()}, FormatError),
        ({"timestamp": T0 + 1}, FormatError),
        ({"origin": "accord.example/other"}, SignatureError),
        ({"note": head_note(6)}, FormatError),
        ({"note": head_note(5, key=RED)}, SignatureError),
        ({"extra": 1}, FormatError),
    ],
)
def test_signed_head_json_is_never_trusted_alone(change, error):
    data = {
        **verify_checkpoint(head_note(5), origin=ORIGIN, center=CENTER.public).to_json(),
        **change,
    }
    with pytest.raises(error):
        SignedHead.from_json(data, center=CENTER.public)


def test_signed_head_json_needs_the_right_center_and_log():
    data = verify_checkpoint(head_note(5), origin=ORIGIN, center=CENTER.public).to_json()
    with pytest.raises(SignatureError):
        SignedHead.from_json(data, center=RED.public)
    with pytest.raises(SignatureError):
        SignedHead.from_json(data, center=CENTER.public, origin="accord.example/other")


# --- witnesses ------------------------------------------------------------------------------


def witness(key: PrivateKey = BLUE) -> Witness:
    return Witness(key=key, center=CENTER.public, origin=ORIGIN)


def test_witness_cosigns_consistent_heads_only():
    first = witness()
    note3, w3 = first.cosign(head_note(3), proof=[], timestamp=T0 + 1)
    assert verify_cosignatures(note3, witnesses=[BLUE.public]) == {"blue": T0 + 1}
    assert first.last is None  # immutable
    assert w3.last is not None and w3.last.size == 3 and w3.last.note == note3

    proof = consistency_proof(leaves(8), 3)
    note8, w8 = w3.cosign(head_note(8, timestamp=T0 + 5), proof=proof, timestamp=T0 + 6)
    assert verify_cosignatures(note8, witnesses=[BLUE.public]) == {"blue": T0 + 6}
    assert w8.last is not None and w8.last.size == 8
    assert w3.last.size == 3

    # The same head again, later: allowed (same size, same root, empty proof).
    _, again = w8.cosign(head_note(8, timestamp=T0 + 5), proof=[], timestamp=T0 + 9)
    assert again.last is not None and again.last.size == 8


def test_witness_refuses_a_smaller_head():
    _, w8 = witness().cosign(head_note(8), proof=[], timestamp=T0)
    with pytest.raises(ConsistencyError, match="already cosigned"):
        w8.cosign(head_note(5), proof=[], timestamp=T0 + 1)


def test_witness_refuses_a_different_root_at_the_same_size():
    _, w8 = witness().cosign(head_note(8), proof=[], timestamp=T0)
    forked = head_note(8, fork="other ")
    with pytest.raises(EquivocationError, match="two histories") as info:
        w8.cosign(forked, proof=[], timestamp=T0 + 1)
    assert forked in info.value.evidence


def test_witness_refuses_an_inconsistent_larger_head():
    _, w3 = witness().cosign(head_note(3), proof=[], timestamp=T0)
    forked = head_note(8, fork="other ")
    # The honest proof for another history does not join it to what the witness saw.
    with pytest.raises(ConsistencyError, match="not shown to extend size 3"):
        w3.cosign(forked, proof=consistency_proof(leaves(8, "other "), 3), timestamp=T0 + 1)
    with pytest.raises(ConsistencyError):
        w3.cosign(head_note(8), proof=[], timestamp=T0 + 1)
    with pytest.raises(ConsistencyError):
        w3.cosign(head_note(8), proof=consistency_proof(leaves(8), 3)[:-1], timestamp=T0 + 1)


def test_witness_refuses_what_the_center_did_not_sign():
    w = witness()
    with pytest.raises(SignatureError):
        w.cosign(head_note(3, key=RED), proof=[], timestamp=T0)
    lines = head_note(3).split("\n")
    lines[1] = "4"
    with pytest.raises(SignatureError):
        w.cosign("\n".join(lines), proof=[], timestamp=T0)


def test_witness_refuses_a_bogus_empty_head():
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), key=CENTER, timestamp=T0)
    with pytest.raises(ConsistencyError):
        witness().cosign(note, proof=[], timestamp=T0)


def test_witness_time_does_not_go_backwards():
    _, w3 = witness().cosign(head_note(3), proof=[], timestamp=T0 + 100)
    with pytest.raises(ConsistencyError, match="time"):
        w3.cosign(head_note(8), proof=consistency_proof(leaves(8), 3), timestamp=T0 + 99)


def test_witness_state_is_checked():
    with pytest.raises(FormatError):
        Witness(key=CENTER, center=CENTER.public, origin=ORIGIN)
    with pytest.raises(SignatureError):
        Witness(
            key=BLUE,
            center=RED.public,
            origin=ORIGIN,
            last=witness().cosign(head_note(3), proof=[], timestamp=T0)[1].last,
        )
    fake = SignedHead(Checkpoint(ORIGIN, 9, bytes(32)), T0, head_note(3))
    with pytest.raises(FormatError):
        Witness(key=BLUE, center=CENTER.public, origin=ORIGIN, last=fake)


def test_witness_state_survives_a_file():
    _, w3 = witness().cosign(head_note(3), proof=[], timestamp=T0)
    assert w3.last is not None
    last = SignedHead.from_json(w3.last.to_json(), center=CENTER.public, origin=ORIGIN)
    restored = Witness(key=BLUE, center=CENTER.public, origin=ORIGIN, last=last)
    with pytest.raises(EquivocationError):
        restored.cosign(head_note(3, fork="x"), proof=[], timestamp=T0 + 1)


# --- split views ----------------------------------------------------------------------------


def test_split_view_caught_when_cosignatures_meet():
    # The center shows blue one history and red another, at the same size.
    blue_note, _ = witness(BLUE).cosign(head_note(5), proof=[], timestamp=T0)
    red_note, _ = witness(RED).cosign(head_note(5, fork="other "), proof=[], timestamp=T0)
    a = verify_checkpoint(blue_note, origin=ORIGIN, center=CENTER.public)
    b = verify_checkpoint(red_note, origin=ORIGIN, center=CENTER.public)
    with pytest.raises(EquivocationError, match="the center showed two histories") as info:
        detect_split_view(a, b, proof=[])
    assert info.value.evidence == (blue_note, red_note)


def test_split_view_across_sizes():
    small = verify_checkpoint(head_note(3), origin=ORIGIN, center=CENTER.public)
    large = verify_checkpoint(head_note(8), origin=ORIGIN, center=CENTER.public)
    forked = verify_checkpoint(head_note(8, fork="other "), origin=ORIGIN, center=CENTER.public)
    proof = consistency_proof(leaves(8), 3)
    assert detect_split_view(small, large, proof=proof) is None
    assert detect_split_view(large, small, proof=proof) is None
    assert detect_split_view(large, large, proof=[]) is None
    with pytest.raises(EquivocationError, match="size 3 is not shown to be a prefix"):
        detect_split_view(small, forked, proof=consistency_proof(leaves(8, "other "), 3))
    with pytest.raises(EquivocationError):
        detect_split_view(small, forked, proof=proof)


def test_split_view_needs_one_log():
    other = sign_checkpoint(
        Checkpoint("accord.example/other", 3, root_hash(leaves(3))), key=CENTER, timestamp=T0
    )
    a = verify_checkpoint(head_note(3), origin=ORIGIN, center=CENTER.public)
    b = verify_checkpoint(other, origin="accord.example/other", center=CENTER.public)
    with pytest.raises(FormatError):
        detect_split_view(a, b, proof=[])
