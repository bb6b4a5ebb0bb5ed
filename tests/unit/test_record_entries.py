"""Signed entries and the envelope the log stores them in: every misuse is refused."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.record.canonical import canonical_json, loads_canonical
from accord.record.entries import (
    Entry,
    LeafReader,
    SequenceTracker,
    make_envelope,
    open_envelope,
    sign_encoded_entry,
    sign_entry,
    verify_entry,
)
from accord.record.errors import FormatError, RecordError, SignatureError
from accord.record.keys import KeyRing, Member, PrivateKey
from accord.record.merkle import leaf_hash
from support.record import seeded, signed_as_written

LOG = "accord.example/jcc"
TS = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
EVENT = {
    "kind": "operation.proposed",
    "id": "op-17",
    "area": {"type": "Point", "coordinates": [36.2, 35.1]},
    "note": "Zoë ✓",
}


CENTER, BLUE, RED, GREEN = seeded("center"), seeded("blue"), seeded("red"), seeded("green")
RING = KeyRing(CENTER.public, [Member(BLUE.public, "party"), Member(RED.public, "party")])


def signed(event=EVENT, *, key=BLUE, log=LOG, seq=1, ts=TS) -> bytes:
    return sign_entry(event, key=key, log=log, seq=seq, ts=ts)


def forge(fields: dict[str, object], key: PrivateKey) -> bytes:
    """An entry built by hand from its definition, signed by ``key`` over all but sig."""
    message = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sig = base64.b64encode(key.sign(message.encode())).decode()
    return canonical_json({**fields, "sig": sig})


def fields(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "v": 1,
        "log": LOG,
        "author": "blue",
        "key_id": BLUE.public.key_id,
        "seq": 1,
        "ts": "2026-05-01T12:30:00Z",
        "event": EVENT,
    }
    base.update(changes)
    return base


# --- the format -----------------------------------------------------------------------------


def test_entry_bytes_follow_the_definition():
    data = signed()
    obj = json.loads(data)
    assert set(obj) == {"v", "log", "author", "key_id", "seq", "ts", "event", "sig"}
    assert obj["v"] == 1 and obj["log"] == LOG and obj["author"] == "blue"
    assert obj["key_id"] == hashlib.sha256(BLUE.public.raw).hexdigest()[:16]
    assert obj["seq"] == 1 and obj["ts"] == "2026-05-01T12:30:00Z" and obj["event"] == EVENT
    # Canonical: sorted keys, no whitespace, UTF-8.
    assert (
        data == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    # The signature is Ed25519 over the canonical JSON of everything but "sig".
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    message = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    Ed25519PublicKey.from_public_bytes(BLUE.public.raw).verify(
        base64.b64decode(obj["sig"]), message.encode()
    )


_events = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**53) + 1, 2**53 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=6),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=4), children, max_size=4)
        ),
        max_leaves=20,
    ),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(
    event=_events, name=st.sampled_from(["blue", 'Zoë"x"', "a\\"]), seq=st.integers(1, 2**53 - 1)
)
def test_an_entry_is_the_canonical_json_of_its_members(event, name, seq):
    """The entry's bytes, put together around the event's, are exactly the canonical JSON of
    the whole object (and what an encoded event signs is what the event signs)."""
    key = PrivateKey.from_seed(name, hashlib.sha256(name.encode()).digest())
    unsigned = {
        "v": 1, "log": LOG, "author": name, "key_id": key.key_id, "seq": seq,
        "ts": "2026-05-01T12:30:00Z", "event": event,
    }  # fmt: skip
    sig = base64.b64encode(key.sign(canonical_json(unsigned))).decode()
    data = sign_entry(event, key=key, log=LOG, seq=seq, ts=TS)
    assert data == canonical_json({**unsigned, "sig": sig})
    encoded = sign_encoded_entry(canonical_json(event), key=key, log=LOG, seq=seq, ts=TS)
    assert encoded == data
    with pytest.raises(FormatError, match="JSON object"):
        sign_encoded_entry(b"[1]", key=key, log=LOG, seq=seq, ts=TS)


def test_sign_then_verify():
    data = signed(
        seq=7, ts=datetime(2026, 5, 1, 14, 30, 0, 250_000, tzinfo=timezone(timedelta(hours=2)))
    )
    entry = verify_entry(data, keys=RING, log=LOG)
    assert entry == Entry(
        log=LOG,
        author="blue",
        key_id=BLUE.public.key_id,
        seq=7,
        ts=datetime(2026, 5, 1, 12, 30, 0, 250_000, tzinfo=UTC),
        event=EVENT,
        sig=entry.sig,
        raw=data,
    )
    assert json.loads(data)["ts"] == "2026-05-01T12:30:00.250000Z"
    assert len(entry.sig) == 64


def test_the_center_may_author_entries():
    entry = verify_entry(signed(key=CENTER), keys=RING, log=LOG)
    assert entry.author == "center"


@given(
    st.dictionaries(
        st.sampled_from(["sig", "ts", "v", "event", "a", "zz"]),
        st.text(alphabet='",:{}\\sigt ', max_size=20),
        max_size=4,
    )
)
@settings(max_examples=60, deadline=None)
def test_events_that_mimic_entry_fields_still_verify(event):
    # The verifier cuts "sig" out of the canonical bytes; nested look-alikes must not fool it.
    data = signed({"x": event, "sig": '","ts":"', **event})
    assert verify_entry(data, keys=RING, log=LOG).event == {"x": event, "sig": '","ts":"', **event}


# --- misuse ---------------------------------------------------------------------------------


def test_entry_from_another_log_is_refused():
    data = signed(log="accord.example/other")
    with pytest.raises(
        SignatureError, match=r"entry by 'blue' seq 1: written for log 'accord\.example/other'"
    ):
        verify_entry(data, keys=RING, log=LOG)


def test_key_of_another_party_is_refused():
    # Red signs an entry claiming to be blue, with its own key id ...
    data = forge(fields(key_id=RED.public.key_id), RED)
    with pytest.raises(SignatureError, match="signed with the key of 'red', not 'blue'"):
        verify_entry(data, keys=RING, log=LOG)
    # ... or with blue's key id.
    data = forge(fields(), RED)
    with pytest.raises(SignatureError, match="signed with the key of 'red', not 'blue'"):
        verify_entry(data, keys=RING, log=LOG)


def test_wrong_key_is_refused():
    data = forge(fields(), GREEN)  # a key nobody registered
    with pytest.raises(
        SignatureError, match="entry by 'blue' seq 1: the signature does not verify"
    ):
        verify_entry(data, keys=RING, log=LOG)
    data = forge(fields(key_id=GREEN.public.key_id), GREEN)
    with pytest.raises(SignatureError, match="is not the key of 'blue'"):
        verify_entry(data, keys=RING, log=LOG)


def test_unknown_author_is_refused():
    data = signed(key=GREEN)
    with pytest.raises(SignatureError, match="'green' is not in the key ring"):
        verify_entry(data, keys=RING, log=LOG)


def test_tampered_event_is_refused():
    data = signed()
    tampered = data.replace(b"op-17", b"op-18")
    assert loads_canonical(tampered)  # still canonical JSON: only the signature can tell
    with pytest.raises(SignatureError, match="entry by 'blue' seq 1"):
        verify_entry(tampered, keys=RING, log=LOG)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.replace(b'"seq":1', b'"seq":2'),
        lambda d: d.replace(b'"ts":"2026-05-01T12:30:00Z"', b'"ts":"2026-05-01T12:31:00Z"'),
        lambda d: d.replace(b'"v":1', b'"v":1.0'),
    ],
)
def test_tampered_fields_are_refused(change):
    tampered = change(signed())
    assert tampered != signed()
    with pytest.raises(RecordError):
        verify_entry(tampered, keys=RING, log=LOG)


@pytest.mark.parametrize(
    "respell",
    [
        lambda obj: json.dumps(obj, sort_keys=True, ensure_ascii=False).encode(),  # spaces
        lambda obj: json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(),  # order
        lambda obj: json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(),  # \u escapes
        lambda obj: (
            json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            + b"\n"
        ),
    ],
)
def test_non_canonical_bytes_are_refused(respell):
    obj = json.loads(signed())
    obj = {"v": obj.pop("v"), **obj}  # insertion order differs from sorted order
    data = respell(obj)
    with pytest.raises(FormatError, match="not canonical JSON"):
        verify_entry(data, keys=RING, log=LOG)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"v": 3}, "unsupported entry version"),
        ({"v": True}, "unsupported entry version"),
        ({"seq": 0}, "seq must be a positive integer"),
        ({"seq": True}, "seq must be a positive integer"),
        ({"seq": 1.5}, "seq must be a positive integer"),
        ({"author": 5}, "author must be a string"),
        ({"log": None}, "log must be a string"),
        ({"key_id": BLUE.public.key_id.upper()}, "key_id must be 16 lower-case hex"),
        ({"key_id": BLUE.public.key_id[:-1]}, "key_id must be 16 lower-case hex"),
        ({"ts": "2026-05-01T12:30:00"}, "no UTC offset"),
        ({"ts": "2026-05-01T12:30:00+00:00"}, "not written as UTC with Z"),
        ({"ts": "2026-05-01T14:30:00+02:00"}, "not written as UTC with Z"),
        ({"ts": 1777640000}, "ts must be a string"),
        ({"event": [1, 2]}, "event must be a JSON object"),
        ({"extra": 1}, "unknown field"),
    ],
)
def test_malformed_fields_are_refused(changes, message):
    data = forge(fields(**changes), BLUE)
    with pytest.raises(FormatError, match=message):
        verify_entry(data, keys=RING, log=LOG)


def test_missing_fields_and_bad_signatures_are_refused():
    obj = fields()
    del obj["ts"]
    with pytest.raises(FormatError, match="missing ts"):
        verify_entry(forge(obj, BLUE), keys=RING, log=LOG)
    with pytest.raises(FormatError, match="missing sig"):
        verify_entry(canonical_json(fields()), keys=RING, log=LOG)
    short = canonical_json({**fields(), "sig": base64.b64encode(bytes(63)).decode()})
    with pytest.raises(FormatError, match="64 bytes"):
        verify_entry(short, keys=RING, log=LOG)
    for data in (b"[]", b"null", b"{}"):
        with pytest.raises(FormatError):
            verify_entry(data, keys=RING, log=LOG)


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_flipping_any_byte_is_refused(data):
    entry = signed()
    position = data.draw(st.integers(0, len(entry) - 1))
    mask = data.draw(st.integers(1, 255))
    tampered = bytearray(entry)
    tampered[position] ^= mask
    with pytest.raises(RecordError):
        verify_entry(bytes(tampered), keys=RING, log=LOG)


def test_sign_entry_refusals():
    with pytest.raises(FormatError, match="aware"):
        signed(ts=datetime(2026, 5, 1, 12, 30))  # naive: no offset
    with pytest.raises(FormatError, match="seq"):
        signed(seq=0)
    with pytest.raises(FormatError, match="seq"):
        signed(seq=True)
    with pytest.raises(FormatError, match="origin"):
        signed(log="two words")
    with pytest.raises(FormatError, match=r"^event\.area\.coordinates\[1\]:"):
        signed({"area": {"coordinates": [1.0, float("nan")]}})
    with pytest.raises(FormatError, match="JSON object"):
        signed([1, 2])  # type: ignore[arg-type]


# --- sequence -------------------------------------------------------------------------------


def test_sequence_tracker():
    tracker = SequenceTracker()
    entries = [
        verify_entry(signed(key=key, seq=seq), keys=RING, log=LOG)
        for key, seq in [(BLUE, 1), (RED, 1), (BLUE, 2), (BLUE, 3), (RED, 2)]
    ]
    for entry in entries:
        tracker.check(entry)
    assert tracker.expected("blue") == 4
    assert tracker.expected("red") == 3
    assert tracker.expected("center") == 1
    with pytest.raises(FormatError, match="entry by 'blue' seq 2: replayed or out of order"):
        tracker.check(entries[2])  # the same signed entry, replayed
    with pytest.raises(FormatError, match="expected seq 4"):
        tracker.check(verify_entry(signed(seq=5), keys=RING, log=LOG))  # a gap
    with pytest.raises(FormatError, match="replayed or out of order"):
        SequenceTracker().check(entries[2])  # not starting at 1
    tracker.check(verify_entry(signed(seq=4), keys=RING, log=LOG))


# --- envelopes ------------------------------------------------------------------------------


def test_envelope_round_trip_and_chain():
    first, second = signed(seq=1), signed(seq=2)
    leaf0 = make_envelope(0, None, first)
    leaf1 = make_envelope(1, leaf_hash(leaf0), second)
    assert leaf0 == b'{"entry":' + first + b',"i":0,"prev":""}'
    assert loads_canonical(leaf1) == {
        "entry": json.loads(second),
        "i": 1,
        "prev": hashlib.sha256(b"\x00" + leaf0).hexdigest(),
    }
    assert canonical_json(loads_canonical(leaf1)) == leaf1
    assert open_envelope(leaf0) == (0, "", first)
    assert open_envelope(leaf1) == (1, leaf_hash(leaf0).hex(), second)


def test_envelope_with_look_alike_members_inside_the_entry():
    entry = signed({"x": {"i": 5, "prev": ""}, "y": ',"i":3,"prev":""}'})
    leaf = make_envelope(9, bytes(32), entry)
    assert open_envelope(leaf) == (9, "00" * 32, entry)


@pytest.mark.parametrize(
    "leaf",
    [
        b'{"entry":{},"i":1,"prev":""}',  # prev missing after the first
        b'{"entry":{},"i":0,"prev":"' + b"00" * 32 + b'"}',  # prev given for the first
        b'{"entry":{},"i":01,"prev":"' + b"00" * 32 + b'"}',  # leading zero
        b'{"entry":{},"i":1,"prev":"' + b"AA" * 32 + b'"}',  # upper-case hex
        b'{"entry":{},"i":1,"prev":"' + b"00" * 31 + b'"}',  # short hash
        b'{"entry":{},"i":0,"prev":""} ',  # trailing space
        b'{"entry":{},"prev":"","i":0}',  # order
        b'{"i":0,"entry":{},"prev":""}',
        b'{"entry":[],"i":0,"prev":""}',  # entry not an object
        b'{"entry":,"i":0,"prev":""}',
        b'{"entry":{},"i":-1,"prev":""}',
        b'{"entry":{},"i":99999999999999999999,"prev":"' + b"00" * 32 + b'"}',
        b"",
        b"{}",
    ],
)
def test_malformed_envelopes_are_refused(leaf):
    with pytest.raises(FormatError):
        open_envelope(leaf)


def test_make_envelope_refusals():
    with pytest.raises(FormatError):
        make_envelope(1, None, signed())
    with pytest.raises(FormatError):
        make_envelope(0, bytes(32), signed())
    with pytest.raises(FormatError):
        make_envelope(1, bytes(31), signed())
    with pytest.raises(FormatError):
        make_envelope(-1, None, signed())
    with pytest.raises(FormatError):
        make_envelope(0, None, b"[1]")


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_flipping_any_envelope_byte_is_caught(data):
    entry = signed()
    leaf = make_envelope(3, bytes(range(32)), entry)
    position = data.draw(st.integers(0, len(leaf) - 1))
    tampered = bytearray(leaf)
    tampered[position] ^= data.draw(st.integers(1, 255))
    try:
        index, prev, inner = open_envelope(bytes(tampered))
    except FormatError:
        return
    if (index, prev) != (3, bytes(range(32)).hex()):
        return  # the log verifier checks index and chain against the leaf's position
    with pytest.raises(RecordError):
        verify_entry(inner, keys=RING, log=LOG)


# --- reading leaves as a verifier does ---------------------------------------------------------

READER = LeafReader(RING, LOG)


def slow_read(leaf: bytes) -> tuple[int, str, str, int]:
    index, prev, inner = open_envelope(leaf)
    entry = verify_entry(inner, keys=RING, log=LOG)
    return index, prev, entry.author, entry.seq


def quick(leaf: bytes) -> tuple[int, str, str, int] | None:
    """What the reader's quick path makes of a leaf (None: it leaves the leaf to the
    full checks)."""
    prepared = READER._prepare(leaf)
    if prepared is None:
        return None
    key, signature, message = prepared[1]
    try:
        key.verify(signature, message)
    except SignatureError:
        return None
    return prepared[0]


def same_verdict(leaf: bytes) -> None:
    """LeafReader.read says what open_envelope + verify_entry say, error message included;
    and its quick path vouches only for leaves those two accept."""
    try:
        expected: object = slow_read(leaf)
    except RecordError as error:
        expected = (type(error), str(error))
    try:
        got: object = READER.read(leaf)
    except RecordError as error:
        got = (type(error), str(error))
    assert got == expected
    vouched = quick(leaf)
    assert vouched is None or vouched == expected


def test_leaf_reader_reads_what_it_is_given():
    leaf = make_envelope(5, bytes(range(32)), signed(seq=9))
    assert quick(leaf) == (5, bytes(range(32)).hex(), "blue", 9)  # the quick path
    assert READER.read(leaf) == slow_read(leaf)
    first = make_envelope(0, None, signed(key=CENTER))
    assert quick(first) == (0, "", "center", 1)


@pytest.mark.parametrize(
    "event",
    [
        {"n": 1234567890123456},  # 16 digits: in range, but left to the full checks
        {"n": -9007199254740991, "m": [MAX_SEQ_ := 2**53 - 1]},
        {"text": 'a},"key_id":"' + BLUE.public.key_id + '","log":"' + LOG + '","seq":1,'},
        {"s": '\u2028\x7f\\"', "k": {"": [None, True, -0.0, 1e300]}},
        {},
    ],
)
def test_leaf_reader_agrees_on_unusual_events(event):
    leaf = make_envelope(1, bytes(32), signed(event))
    assert READER.read(leaf) == (1, bytes(32).hex(), "blue", 1)
    same_verdict(leaf)


@pytest.mark.parametrize(
    "leaf",
    [
        # A signed entry that is not canonical: the author signed the spaced bytes.
        make_envelope(
            1,
            bytes(32),
            signed_as_written(
                canonical_json(fields(event={"a": 1})).replace(b'{"a":1}', b'{"a": 1}'), BLUE
            ),
        ),
        make_envelope(
            1,
            bytes(32),
            signed_as_written(
                canonical_json(fields(event={"a": 2, "b": 1})).replace(
                    b'{"a":2,"b":1}', b'{"b":1,"a":2}'
                ),
                BLUE,
            ),
        ),
        make_envelope(1, bytes(32), forge(fields(ts="2026-02-30T00:00:00Z"), BLUE)),
        make_envelope(1, bytes(32), forge(fields(ts="2026-05-01T24:00:00Z"), BLUE)),
        make_envelope(1, bytes(32), forge(fields(ts="2026-05-01T12:30:00.000000Z"), BLUE)),
        make_envelope(1, bytes(32), forge(fields(ts="2026-05-01T12:30:00+00:00"), BLUE)),
        make_envelope(
            1, bytes(32), forge(fields(), BLUE).replace(b'"seq":1,', b'"seq":9007199254740992,')
        ),
        make_envelope(1, bytes(32), forge(fields(seq=0), BLUE)),
        make_envelope(1, bytes(32), forge(fields(v=2), BLUE)),
        make_envelope(1, bytes(32), forge(fields(log="accord.example/other"), BLUE)),
        make_envelope(1, bytes(32), forge(fields(event=[1]), BLUE)),
        make_envelope(1, bytes(32), forge(fields(author="red"), BLUE)),  # key id is blue's
        make_envelope(1, bytes(32), forge(fields(key_id=RED.public.key_id), BLUE)),
        make_envelope(
            1, bytes(32), forge(fields(author="green", key_id=GREEN.public.key_id), GREEN)
        ),
        make_envelope(1, bytes(32), signed(key=RED).replace(b'"author":"red"', b'"author":"blue"')),
    ],
)
def test_leaf_reader_refuses_as_verify_entry_does(leaf):
    with pytest.raises(RecordError):
        slow_read(leaf)
    same_verdict(leaf)


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_leaf_reader_agrees_on_any_tampered_leaf(data):
    leaf = bytearray(make_envelope(3, bytes(range(32)), signed()))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(leaf) - 1))
        how = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        if how == "flip":
            leaf[position] ^= data.draw(st.integers(1, 255))
        elif how == "drop":
            del leaf[position]
        else:
            leaf.insert(position, data.draw(st.sampled_from(b' ,"}{0a\\=')))
    same_verdict(bytes(leaf))


def test_read_all_stops_at_the_first_failure_in_order():
    good = [make_envelope(i + 1, bytes(32), signed(seq=i + 1)) for i in range(6)]
    # Not well-formed (read the long way, where it stands), and a signature of another entry.
    spaced = make_envelope(3, bytes(32), signed(seq=3).replace(b'"kind":', b'"kind": '))
    mine, other = signed(seq=5), signed(seq=6)
    wrong = make_envelope(
        4,
        bytes(32),
        mine.replace(json.loads(mine)["sig"].encode(), json.loads(other)["sig"].encode()),
    )
    assert READER.read_all(good) == ([slow_read(leaf) for leaf in good], None)
    for leaves, failing in (
        ([*good[:2], spaced, *good[3:]], 2),
        ([*good[:4], wrong, *good[5:]], 4),
        ([*good[:2], spaced, good[3], wrong, *good[5:]], 2),
    ):
        read, error = READER.read_all(leaves)
        assert read == [slow_read(leaf) for leaf in leaves[:failing]]
        with pytest.raises(RecordError) as expected:
            slow_read(leaves[failing])
        assert type(error) is type(expected.value)
        assert str(error) == str(expected.value)


# --- version 2: a member's act, taken in and signed by the center ----------------------------

ACT = {"key": base64.b64encode(bytes(32)).decode(), "signed": {"accord-act": 1, "body": {"n": 1}}}


def test_an_act_entry_is_the_centers_signature_over_the_members_act() -> None:
    data = sign_entry(EVENT, key=CENTER, log=LOG, seq=1, ts=TS, author="red", act=ACT)
    assert data.startswith(b'{"act":{"key":')
    entry = verify_entry(data, keys=RING, log=LOG)
    assert (entry.author, entry.key_id, entry.act) == ("red", CENTER.key_id, ACT)
    # The fast reader leaves it to the full checks, with the same verdict.
    envelope = make_envelope(0, None, data)
    assert LeafReader(RING, LOG).read(envelope) == (0, "", "red", 1)
    reference = sign_encoded_entry(
        canonical_json(EVENT), key=CENTER, log=LOG, seq=2, ts=TS, author="red", act={"of": 0}
    )
    assert verify_entry(reference, keys=RING, log=LOG).act == {"of": 0}


def test_read_all_hands_back_the_act_entries_it_read_with_their_offsets() -> None:
    plain = make_envelope(0, None, signed(seq=1))
    act = sign_entry(EVENT, key=CENTER, log=LOG, seq=1, ts=TS, author="red", act=ACT)
    ref = sign_entry(EVENT, key=CENTER, log=LOG, seq=2, ts=TS, author="red", act={"of": 1})
    leaves = [plain, make_envelope(1, bytes(32), act), make_envelope(2, bytes(32), ref)]
    taken: list = []
    read, error = LeafReader(RING, LOG).read_all(leaves, acts=taken)
    assert error is None
    assert [row[2] for row in read] == ["blue", "red", "red"]
    assert [(offset, entry.act) for offset, entry in taken] == [(1, ACT), (2, {"of": 1})]
    assert taken[0][1].raw == act


def test_an_act_entry_signed_by_a_member_key_is_refused() -> None:
    # Only the center takes an act in: a member key over a version 2 entry is no center's.
    data = sign_entry(EVENT, key=RED, log=LOG, seq=1, ts=TS, author="red", act=ACT)
    with pytest.raises(SignatureError, match="signed with the key of 'red', not 'center'"):
        verify_entry(data, keys=RING, log=LOG)


def test_the_center_makes_no_act() -> None:
    data = sign_entry(EVENT, key=CENTER, log=LOG, seq=1, ts=TS, author=CENTER.name, act=ACT)
    with pytest.raises(FormatError, match="the center makes no act"):
        verify_entry(data, keys=RING, log=LOG)


@pytest.mark.parametrize(
    ("act", "message"),
    [
        ({"key": "AAAA", "signed": {}}, "act.key"),
        ({"key": ACT["key"]}, 'must hold "key" and "signed"'),
        ({"key": ACT["key"], "signed": []}, "act.signed"),
        ({"of": -1}, "act.of"),
        ({"of": True}, "act.of"),
        ([], "act must be a JSON object"),
    ],
)
def test_an_act_member_of_the_wrong_shape_is_refused(act: object, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        sign_entry(EVENT, key=CENTER, log=LOG, seq=1, ts=TS, author="red", act=act)  # type: ignore[arg-type]
    good = sign_entry(EVENT, key=CENTER, log=LOG, seq=1, ts=TS, author="red", act=ACT)
    obj = loads_canonical(good)
    obj["act"] = act
    obj.pop("sig")
    with pytest.raises(FormatError, match=message):
        verify_entry(forge(obj, CENTER), keys=RING, log=LOG)


def test_an_entry_without_an_act_is_signed_by_its_author() -> None:
    with pytest.raises(FormatError, match="signed by its author"):
        sign_entry(EVENT, key=CENTER, log=LOG, seq=1, ts=TS, author="red")
