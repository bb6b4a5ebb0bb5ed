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
>>> verify_opening(commitment=c, content={"lon": 21.5, "lat": 25.1}, salt=salt)
>>> verify_opening(commitment=c, content={"lon": 21.5, "lat": 25.2}, salt=salt)
Traceback (most recent call last):
...
accord.errors.CommitmentError: the opening does not match the commitment
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from accord.record.canonical import canonical_json, decode_base64, loads_canonical
from accord.record.errors import CommitmentError, FormatError

__all__ = [
    "DOMAIN",
    "SALT_BYTES",
    "CommitmentError",
    "commitment",
    "open_commitment",
    "verify_opening",
]

DOMAIN = b"accord-commitment-v1\x00"
"""Domain separation: a commitment can never be mistaken for a leaf or node hash."""

SALT_BYTES = 32
"""The salt's length: 256 bits, so the content cannot be guessed through the hash."""


def _check_salt(salt: bytes) -> None:
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise CommitmentError(f"a salt is {SALT_BYTES} bytes")


def _commit(content: Any, salt: bytes) -> bytes:
    _check_salt(salt)
    return hashlib.sha256(DOMAIN + salt + canonical_json(content)).digest()


def commitment(content: Any, *, salt: bytes) -> bytes:
    """The 32-byte commitment to ``content`` (anything :func:`canonical_json` encodes)."""
    return _commit(content, salt)


def verify_opening(*, commitment: bytes, content: Any, salt: bytes) -> None:
    """Return None when ``(salt, content)`` opens ``commitment``; raise
    :class:`CommitmentError` otherwise. Every argument is named: a commitment and a
    content given in each other's place cannot be confused."""
    expected = _commit(content, salt)
    if not hmac.compare_digest(expected, commitment):
        raise CommitmentError("the opening does not match the commitment")


def open_commitment(
    event: Mapping[str, Any], *, salt: bytes | str, content: bytes | str, field: str = "commitment"
) -> Any:
    """Check that ``(salt, content)`` opens the commitment a record entry's ``event``
    carries in ``field`` (base64, 32 bytes); return the content, parsed.

    ``salt`` is bytes or their base64 (as the service serves an opening); ``content`` is
    the exact canonical JSON committed to (text or UTF-8 bytes), so one opening has one
    spelling: a content that is not canonical JSON is refused, not re-encoded. Raises
    :class:`CommitmentError` naming what does not hold.

    >>> c = commitment({"a": 1}, salt=bytes(32))
    >>> from accord.record.canonical import encode_base64
    >>> event = {"kind": "declaration.hidden", "commitment": encode_base64(c)}
    >>> open_commitment(event, salt=bytes(32), content='{"a":1}')
    {'a': 1}
    >>> open_commitment(event, salt=bytes(32), content='{"a": 1}')
    Traceback (most recent call last):
    ...
    accord.errors.CommitmentError: the opening's content is not canonical JSON: ...
    """
    committed = event.get(field)
    if not isinstance(committed, str):
        raise CommitmentError(f"the entry carries no {field}")
    try:
        recorded = decode_base64(committed, what=field, size=32)
        salt_bytes = (
            decode_base64(salt, what="salt", size=SALT_BYTES) if isinstance(salt, str) else salt
        )
    except FormatError as error:
        raise CommitmentError(str(error)) from None
    raw = content.encode("utf-8") if isinstance(content, str) else content
    try:
        parsed = loads_canonical(raw)
    except FormatError as error:
        raise CommitmentError(f"the opening's content is not canonical JSON: {error}") from None
    verify_opening(commitment=recorded, content=parsed, salt=salt_bytes)
    return parsed
