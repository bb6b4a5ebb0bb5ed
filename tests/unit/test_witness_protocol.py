"""tlog-witness v1 without HTTP: the body's format, the checks in the spec's order, the
decision against the stored state, and what is kept as evidence."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.errors import ProofError, StaleSize
from accord.record.errors import EquivocationError, FormatError, SignatureError, UnknownKeyError
from accord.record.keys import PrivateKey
from accord.record.merkle import EMPTY_ROOT
from accord.record.note import (
    Checkpoint,
    Note,
    NoteSignature,
    parse_note,
    sign_checkpoint,
    sign_note,
)
from accord.record.witness_protocol import (
    Latest,
    check_request,
    decide,
    is_evidence,
    parse_add_checkpoint,
    parse_log_list,
    status_of,
)
from support.record import seeded
from support.witness import LOG_KEY, ORIGIN, GrowingLog, log_list, spec_request

LOGS = parse_log_list(log_list(LOG_KEY))


def status(body: bytes, latest: Latest | None = None) -> int:
    try:
        request = parse_add_checkpoint(body)
        check_request(request, LOGS)
        decide(request, latest)
    except Exception as error:
        return status_of(error)
    return 200


# --- the list of logs -----------------------------------------------------------------------


def test_log_list_origin_defaults_to_the_key_name_and_may_be_given():
    assert list(LOGS) == [ORIGIN]
    other = parse_log_list(log_list(LOG_KEY, origin="example.com/other"))
    assert list(other) == ["example.com/other"]
    rotated = parse_log_list(log_list(LOG_KEY) + log_list(seeded(ORIGIN)).replace("logs/v0", ""))
    assert len(rotated[ORIGIN].keys) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vkey x\n", "begins with"),
        ("logs/v1\n", "begins with"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey(0x04)}\nqpd 1\ncontact c\n", "type 0x01"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey()}\nqpd 01\ncontact c\n", "leading zeroes"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey()}\nqpd 0\ncontact c\n", "at least 1"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey()}\nqpd 2147483648\ncontact c\n", "too large"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey()}\ncontact c\nqpd 1\n", "expected 'qpd'"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey()}\nqpd 1\n", "ends before"),
        (f"logs/v0\nvkey {LOG_KEY.public.vkey()}\nqpd 1\ncontact\n", "no value"),
        ("logs/v0\nvkey blue+00000000+AAAA\nqpd 1\ncontact c\n", "line 2"),
    ],
)
def test_bad_log_lists_are_refused(text, message):
    with pytest.raises(FormatError, match=message):
        parse_log_list(text)


def test_a_key_twice_for_one_origin_is_refused():
    with pytest.raises(FormatError, match="twice"):
        parse_log_list(log_list(LOG_KEY, LOG_KEY))


# --- the body -------------------------------------------------------------------------------


def test_a_body_parses():
    log = GrowingLog().grow(10)
    request = parse_add_checkpoint(log.body(4, 10))
    assert (request.old, request.origin, request.size) == (4, ORIGIN, 10)
    assert request.root == log.root(10)
    assert list(request.proof) == log.proof(4, 10)


CHECKPOINT = GrowingLog().grow(3).checkpoint(3)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0\n",  # no empty line, no checkpoint
        ("old 00\n\n" + CHECKPOINT).encode(),
        ("old -1\n\n" + CHECKPOINT).encode(),
        ("old  1\n\n" + CHECKPOINT).encode(),
        ("Old 1\n\n" + CHECKPOINT).encode(),
        ("old 1\nnot base64\n\n" + CHECKPOINT).encode(),
        ("old 1\n" + base64.b64encode(bytes(31)).decode() + "\n\n" + CHECKPOINT).encode(),
        spec_request(1, [bytes(32)] * 64, CHECKPOINT),  # 64 proof lines: at most 63
        ("old 0\n\n" + CHECKPOINT.replace("\n\n", "\n")).encode(),  # no signature block
        ("old 0\n\n" + CHECKPOINT[:-1]).encode(),  # no final newline
        ("old 0\n\n" + CHECKPOINT.replace("\n3\n", "\n03\n")).encode(),
        b"old 0\n\n\xff\n",
        ("old 0\n\n" + CHECKPOINT).encode() + bytes(300_000),
    ],
)
def test_malformed_bodies_are_400(body):
    assert status(body) == 400


def test_63_proof_lines_are_read():
    request = parse_add_checkpoint(spec_request(1, [bytes(32)] * 63, CHECKPOINT))
    assert len(request.proof) == 63


def test_extension_lines_and_any_origin_are_accepted():
    """tlog-checkpoint: extension lines are opaque; clients must not assume the origin's form."""
    key = seeded("example.com/spaced")
    body = "a log with spaces\n0\n" + base64.b64encode(EMPTY_ROOT).decode() + "\nextension\n"
    note = sign_note(body, key=key)
    logs = parse_log_list(
        f"logs/v0\nvkey {key.public.vkey()}\norigin a log with spaces\nqpd 1\ncontact c\n"
    )
    request = parse_add_checkpoint(spec_request(0, [], note))
    assert check_request(request, logs).origin == "a log with spaces"
    decide(request, None)


# --- the checks, in the spec's order --------------------------------------------------------


def test_unknown_origin_is_404():
    stranger = GrowingLog(key=seeded("example.com/stranger"), origin="example.com/stranger")
    assert status(stranger.grow(2).body(0, 2)) == 404


def test_no_trusted_signature_is_403():
    forged = GrowingLog(key=PrivateKey.from_seed(ORIGIN, bytes(32))).grow(2)  # same name
    assert status(forged.body(0, 2)) == 403
    # the log's 0x04 line alone is not its log signature
    log = GrowingLog().grow(2)
    note = parse_note(log.checkpoint(2))
    stamped_only = Note(note.body, note.signatures[1:]).text()
    assert status(spec_request(0, [], stamped_only)) == 403


def test_a_failing_trusted_signature_is_403_even_beside_a_good_one():
    log = GrowingLog().grow(2)
    note = parse_note(log.checkpoint(2))
    plain = note.signatures[0]
    bad = NoteSignature(plain.name, plain.key_id, bytes(64))
    rotated = seeded("rotated")
    logs = parse_log_list(
        log_list(LOG_KEY) + log_list(rotated, origin=ORIGIN)[len("# test list\nlogs/v0") :]
    )
    other = sign_checkpoint(Checkpoint(ORIGIN, 2, log.root(2)), key=rotated, timestamp=1)
    good = parse_note(other).signatures[0]
    request = parse_add_checkpoint(spec_request(0, [], Note(note.body, (bad, good)).text()))
    with pytest.raises(SignatureError):
        check_request(request, logs)
    # and with the good line alone, the rotated key is trusted
    check_request(parse_add_checkpoint(spec_request(0, [], Note(note.body, (good,)).text())), logs)


def test_a_trusted_line_twice_is_verified_each_time():
    log = GrowingLog().grow(2)
    note = parse_note(log.checkpoint(2))
    plain = note.signatures[0]
    twice = Note(note.body, (plain, plain)).text()
    assert status(spec_request(0, [], twice)) == 200
    bad = NoteSignature(plain.name, plain.key_id, bytes(64))
    assert status(spec_request(0, [], Note(note.body, (plain, bad)).text())) == 403


def test_old_above_the_size_is_400():
    log = GrowingLog().grow(5)
    assert status(spec_request(6, [], log.checkpoint(5))) == 400


# --- the decision ---------------------------------------------------------------------------


def test_old_not_the_stored_size_is_409_with_the_size():
    log = GrowingLog().grow(10)
    request = parse_add_checkpoint(log.body(4, 10))
    with pytest.raises(StaleSize) as caught:
        decide(request, Latest(5, log.root(5)))
    assert caught.value.size == 5 and status_of(caught.value) == 409
    with pytest.raises(StaleSize) as caught:
        decide(request, None)
    assert caught.value.size == 0


def test_422s():
    log = GrowingLog().grow(10)
    # a bad proof
    proof = log.proof(4, 10)
    proof[0] = bytes(32)
    assert status(log.body(4, 10, proof=proof), Latest(4, log.root(4))) == 422
    # a proof from size zero that is not empty
    assert status(log.body(0, 10, proof=[bytes(32)]), None) == 422
    # a size-zero checkpoint whose root is not the empty tree's
    zero = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), key=LOG_KEY, timestamp=1)
    assert status(spec_request(0, [], zero), None) == 422
    # the stored size with another root: a split view
    fork = GrowingLog(fork="other ").grow(10)
    request = parse_add_checkpoint(fork.body(10, 10))
    with pytest.raises(EquivocationError):
        decide(request, Latest(10, log.root(10)))
    # the stored root does not lead here
    assert status(fork.body(4, 10), Latest(4, log.root(4))) == 422


def test_the_same_checkpoint_again_and_the_empty_tree_are_200():
    log = GrowingLog().grow(10)
    assert status(log.body(10, 10), Latest(10, log.root(10))) == 200
    empty = GrowingLog()
    assert status(empty.body(0, 0), None) == 200


@given(st.integers(1, 300), st.data())
def test_every_real_proof_passes_and_every_changed_one_fails(new, data):
    log = GrowingLog().grow(new)
    old = data.draw(st.integers(0, new))
    latest = None if old == 0 else Latest(old, log.root(old))
    assert status(log.body(old, new), latest) == 200
    proof = log.proof(old, new)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        proof[i] = bytes(b ^ 1 for b in proof[i])
        assert status(log.body(old, new, proof=proof), latest) == 422
        assert status(log.body(old, new, proof=proof[:-1]), latest) == 422


# --- evidence -------------------------------------------------------------------------------


def test_what_is_kept_as_evidence():
    log = GrowingLog().grow(10)
    fork = GrowingLog(fork="other ").grow(10)
    latest = Latest(10, log.root(10))

    def reason(body: bytes, latest: Latest | None) -> str | None:
        request = parse_add_checkpoint(body)
        try:
            decide(request, latest)
        except (ProofError, EquivocationError, StaleSize) as error:
            return is_evidence(request, latest, error)
        raise AssertionError("accepted")

    assert reason(fork.body(10, 10), latest) is not None  # 422: a second root for size 10
    assert reason(fork.body(4, 10), latest) is not None  # 409, but a split view all the same
    assert reason(log.body(4, 8), latest) is None  # a routine 409: the client was behind
    proof = log.proof(10, 10)
    assert reason(log.body(0, 10, proof=[bytes(32), *proof]), None) is not None  # 422


def test_status_of_is_only_for_the_witness_errors():
    with pytest.raises(TypeError):
        status_of(ValueError("x"))
    assert status_of(UnknownKeyError("x")) == 404
