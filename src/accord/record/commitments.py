"""Salted commitments: how the record speaks of an object it must not disclose.

Every party and monitor reads the record, so an entry about a ``center`` object (a position
its owner shows only to the center's checks) carries a *commitment* to the object's content
instead of the content::

    commitment = SHA-256("accord-commitment-v1" || 0x00 || salt || canonical_json(content))

with a fresh random salt of :data:`SALT_BYTES` bytes per commitment, so that nobody can test
guesses of the content against it (a position is a few coordinates: without the salt a
reader could hash every grid point until one matched). The owner keeps the *opening* (salt
and content) and can later prove what it declared, and when, to anyone holding the record:
:func:`verify_opening` needs nothing from the center.

The core stays pure: the caller draws the salt (``secrets.token_bytes(SALT_BYTES)``).

>>> salt = bytes(32)
>>> c = commitment({"lon": 21.5, "lat": 25.1}, salt=salt)
>>> len(c)
32
>>> verify_opening(c, {"lon": 21.5, "lat": 25.1}, salt=salt)
>>> verify_opening(c, {"lon": 21.5, "lat": 25.2}, salt=salt)
Traceback (most recent call last):
...
accord.record.errors.CommitmentError: the opening does not match the commitment
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from accord.record.canonical import canonical_json
from accord.record.errors import CommitmentError

__all__ = ["DOMAIN", "SALT_BYTES", "CommitmentError", "commitment", "verify_opening"]

DOMAIN = b"accord-commitment-v1\x00"
"""Domain separation: a commitment can never be mistaken for a leaf or node hash."""

SALT_BYTES = 32
"""The salt's length: 256 bits, so the content cannot be guessed through the hash."""


def _check_salt(salt: bytes) -> None:
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise CommitmentError(f"a salt is {SALT_BYTES} bytes")


def commitment(content: Any, *, salt: bytes) -> bytes:
    """The 32-byte commitment to ``content`` (anything :func:`canonical_json` encodes)."""
    _check_salt(salt)
    return hashlib.sha256(DOMAIN + salt + canonical_json(content)).digest()


def verify_opening(commitment_: bytes, content: Any, *, salt: bytes) -> None:
    """Return None when ``(salt, content)`` opens ``commitment_``; raise
    :class:`CommitmentError` otherwise."""
    expected = commitment(content, salt=salt)
    if not hmac.compare_digest(expected, commitment_):
        raise CommitmentError("the opening does not match the commitment")
