"""Salted commitments: an opening verifies only with its own salt and content; the salt hides
the content (two commitments to the same content differ)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import (
    DOMAIN,
    SALT_BYTES,
    commitment,
    open_commitment,
    verify_opening,
)
from accord.record.errors import CommitmentError

contents = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
salts = st.binary(min_size=SALT_BYTES, max_size=SALT_BYTES)


def test_the_definition() -> None:
    salt = bytes(range(32))
    content = {"kind": "position", "coordinates": [21.5, 25.1]}
    expected = hashlib.sha256(
        b"accord-commitment-v1\x00" + salt + b'{"coordinates":[21.5,25.1],"kind":"position"}'
    ).digest()
    assert DOMAIN == b"accord-commitment-v1\x00"
    assert commitment(content, salt=salt) == expected


@given(contents, salts)
def test_an_opening_verifies(content: object, salt: bytes) -> None:
    verify_opening(commitment=commitment(content, salt=salt), content=content, salt=salt)


@given(contents, contents, salts, salts)
def test_another_content_or_salt_does_not(a: object, b: object, s1: bytes, s2: bytes) -> None:
    c = commitment(a, salt=s1)
    if canonical_json(a) != canonical_json(b):
        with pytest.raises(CommitmentError):
            verify_opening(commitment=c, content=b, salt=s1)
    if s1 != s2:
        with pytest.raises(CommitmentError):
            verify_opening(commitment=c, content=a, salt=s2)
        assert commitment(a, salt=s2) != c


@pytest.mark.parametrize("salt", [b"", bytes(31), bytes(33)])
def test_a_salt_of_the_wrong_length_is_refused(salt: bytes) -> None:
    with pytest.raises(CommitmentError, match="32 bytes"):
        commitment({}, salt=salt)


# --- an opening against the entry that carries the commitment ---------------------------------


def _event(content: object, salt: bytes) -> dict[str, str]:
    return {
        "kind": "declaration.hidden",
        "commitment": encode_base64(commitment(content, salt=salt)),
    }


@given(contents, salts)
def test_an_opening_opens_its_entry_from_bytes_or_base64(content: object, salt: bytes) -> None:
    event = _event(content, salt)
    text = canonical_json(content).decode("utf-8")
    assert open_commitment(event, salt=salt, content=text) == content
    assert open_commitment(event, salt=encode_base64(salt), content=text.encode()) == content


@given(contents, contents, salts, st.integers(0, SALT_BYTES * 8 - 1))
def test_anything_else_is_refused(a: object, b: object, salt: bytes, bit: int) -> None:
    event = _event(a, salt)
    other = canonical_json(b)
    if other != canonical_json(a):
        with pytest.raises(CommitmentError):
            open_commitment(event, salt=salt, content=other)
    flipped = bytearray(salt)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(CommitmentError):
        open_commitment(event, salt=bytes(flipped), content=canonical_json(a))
    # The recorded commitment itself, one bit changed: the opening no longer opens it.
    recorded = bytearray(commitment(a, salt=salt))
    recorded[bit // 8] ^= 1 << (bit % 8)
    forged = {**event, "commitment": encode_base64(bytes(recorded))}
    with pytest.raises(CommitmentError):
        open_commitment(forged, salt=salt, content=canonical_json(a))


@pytest.mark.parametrize(
    ("event", "salt", "content", "message"),
    [
        ({"kind": "declaration.hidden"}, bytes(32), "{}", "carries no commitment"),
        ({"commitment": "AAAA"}, bytes(32), "{}", "must be 32 bytes"),
        ({"commitment": "not base64!"}, bytes(32), "{}", "not valid base64"),
        (None, "AAAA", "{}", "salt must be 32 bytes"),
        (None, bytes(32), '{"a": 1}', "not canonical JSON"),
        (None, bytes(32), '{"a":1,"a":1}', "not canonical JSON"),
    ],
)
def test_a_malformed_opening_or_entry_is_refused_by_name(
    event: dict[str, str] | None, salt: bytes | str, content: str, message: str
) -> None:
    with pytest.raises(CommitmentError, match=message):
        open_commitment(event or _event({"a": 1}, bytes(32)), salt=salt, content=content)


def test_verify_opening_takes_keywords_only() -> None:
    salt = bytes(32)
    c = commitment({"a": 1}, salt=salt)
    verify_opening(commitment=c, content={"a": 1}, salt=salt)
    with pytest.raises(TypeError):
        verify_opening(c, {"a": 1}, salt=salt)
