"""Salted commitments: an opening verifies only with its own salt and content; the salt hides
the content (two commitments to the same content differ)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.record.canonical import canonical_json
from accord.record.commitments import DOMAIN, SALT_BYTES, commitment, verify_opening
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
    verify_opening(commitment(content, salt=salt), content, salt=salt)


@given(contents, contents, salts, salts)
def test_another_content_or_salt_does_not(a: object, b: object, s1: bytes, s2: bytes) -> None:
    c = commitment(a, salt=s1)
    if canonical_json(a) != canonical_json(b):
        with pytest.raises(CommitmentError):
            verify_opening(c, b, salt=s1)
    if s1 != s2:
        with pytest.raises(CommitmentError):
            verify_opening(c, a, salt=s2)
        assert commitment(a, salt=s2) != c


@pytest.mark.parametrize("salt", [b"", bytes(31), bytes(33)])
def test_a_salt_of_the_wrong_length_is_refused(salt: bytes) -> None:
    with pytest.raises(CommitmentError, match="32 bytes"):
        commitment({}, salt=salt)
