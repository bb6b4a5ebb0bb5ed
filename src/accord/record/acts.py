"""A party's act, signed where it is made, and its verification.

An **act** is one request of one user of a party — a declaration, an approval, a message —
exactly as the user asked for it, signed by the user's own Ed25519 key on the user's own side
(the page, the command line, a feed). The center checks it and appends it; it can refuse an
act, never make one (BRIEF, "The record"; DECISIONS 6–10; issue 17).

The act is a JSON object of nine members, all of them signed::

    {"accord-act": 1,                    what this object is, and its version
     "action": "POST /v1/operations/op-17/approve",
                                         what the user asks: the request line, <METHOD> <path>
     "at": "2026-05-01T12:00:00Z",       the client's clock when the user signed
     "key": "139e3940e64b5491",          the user's key: PublicKey.key_id
     "member": "blue",                   the acting party (its name in the key ring)
     "nonce": "<22+ characters>",        ≥ 128 random bits, base64url without padding
     "origin": "accord.example/jcc",     the log the act is made for
     "seal": "<64 hex digits>",          the request's JSON body, sealed (below)
     "user": "amira"}                    the user's name

and its signature is Ed25519 (RFC 8032) over the **RFC 8785 (JCS)** canonical form of that
object — exactly JCS, numbers and key order included (DECISIONS 10), because the page signs
the same bytes in JavaScript; ``tests/data/jcs/vectors.json`` holds both implementations to
one set of vectors. (:mod:`accord.record.canonical`, which entries use, is *not* JCS for
numbers and key order; acts never use it.) The act's JSON form, as it travels, is the same
object with one more member, ``"signature"`` (standard base64 of the 64 bytes): the signed
bytes are the JCS form of the JSON form without its signature.

What the signature binds, and why:

- ``origin``: an act made for one log is refused by another (:func:`verify_act`);
- ``member``, ``user`` and ``key``: who acts, and with which of the user's keys — the caller
  checks that ``key`` is a key its party registered for that user, valid and not revoked;
- ``at``: the center refuses an act whose client timestamp lies more than ±5 minutes from its
  own clock (DECISIONS 10), so a captured act goes stale;
- ``nonce``: makes every act unique, so the same request made twice is two acts, and the
  same act sent twice is a replay. **Refusing a replayed nonce is the service's job**: it
  must remember every nonce it has accepted (DECISIONS 10: a retry with the same
  ``Idempotency-Key`` and the same signed body replays the first answer; the same nonce in
  any other request is refused). The clock window bounds how long a nonce must be kept only
  while the clock never goes back — an exercise clock may — so the service keeps them as
  long as the record (which holds them). This module keeps no state;
- ``action`` and ``seal``: what is asked, as the user asked it — the request's method and
  path exactly as sent (``?query`` included), and its JSON body (an object, ``{}`` for
  none), so that the act is the request and the center has nothing to translate.

**The body is sealed**, not signed in clear: ``seal`` is the lowercase hex of
``SHA-256(salt || JCS(body))`` (:func:`seal_of`), with a fresh ``salt`` of 32 random bytes
(:func:`new_salt`, base64url without padding) that travels with the request, never in the
record. The record is read by every party, and a body may hold what only some may read (a
position declared to the center alone, a direct-line message): the record keeps the signed
act with its seal, and the **opening** — the salt and the body — stays with the user and the
center (DECISIONS 11), who can show it to anyone to prove what was asked. Without the salt
the seal tells nothing of the body, not even to someone who can guess all but a coordinate
of it; with it, no other body opens it (SHA-256 is collision resistant).

The ``at`` member is written as :func:`accord.chrono.format_instant` writes instants: UTC
with ``Z``, whole seconds or six digits of fraction (``2026-05-01T12:00:00Z``,
``2026-05-01T12:00:00.250000Z``). JavaScript's ``toISOString`` writes three digits, which
is not this form: the page drops them.

Numbers in a body are JSON numbers: binary64, with integers within ±(2^53 − 1) (I-JSON,
RFC 7493 §2.2), where every implementation agrees on their value; others are refused.

>>> from datetime import UTC, datetime
>>> from accord.record.keys import PrivateKey
>>> amira = PrivateKey.from_seed("amira", bytes(32))
>>> act = Act(origin="accord.example/jcc", member="blue", user="amira", key=amira.key_id,
...           at=datetime(2026, 5, 1, 12, tzinfo=UTC), nonce="AAAAAAAAAAAAAAAAAAAAAA",
...           action="POST /v1/operations/op-17/approve",
...           seal=seal_of({"version": 2}, salt="A" * 43))
>>> act.signed_bytes()[:89]
b'{"accord-act":1,"action":"POST /v1/operations/op-17/approve","at":"2026-05-01T12:00:00Z",'
>>> signed = sign_act(act, amira)
>>> sorted(signed.to_json())[-3:]
['seal', 'signature', 'user']
>>> again = signed_act_from_json(signed.to_json())
>>> verify_act(again, key=amira.public, origin="accord.example/jcc",
...            now=datetime(2026, 5, 1, 12, 4, tzinfo=UTC))
>>> verify_act(again, key=amira.public, origin="accord.example/other",
...            now=datetime(2026, 5, 1, 12, 4, tzinfo=UTC))
Traceback (most recent call last):
...
accord.errors.ActSignatureError: origin: the act was made for the log 'accord.example/jcc', ...
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import rfc8785

from accord.chrono import format_instant, parse_instant
from accord.errors import (
    ActClockError,
    ActError,
    ActSignatureError,
    FormatError,
    SignatureError,
    field_path,
    shown,
)
from accord.record.canonical import MAX_DEPTH, MAX_SAFE_INTEGER, decode_base64, encode_base64
from accord.record.keys import PrivateKey, PublicKey, check_key_name
from accord.record.note import check_origin

__all__ = [
    "ACT_MARKER",
    "ACT_METHODS",
    "ACT_VERSION",
    "DEFAULT_WINDOW",
    "NONCE_BYTES",
    "SALT_BYTES",
    "Act",
    "ActClockError",
    "ActError",
    "ActSignatureError",
    "SignedAct",
    "new_nonce",
    "new_salt",
    "seal_of",
    "sign_act",
    "signed_act_from_json",
    "verify_act",
]

ACT_MARKER: Final = "accord-act"
"""The member that says what the signed object is; its value is :data:`ACT_VERSION`. It
sorts before every other member name (RFC 8785 §3.2.3), so an act's signed bytes begin
``{"accord-act":1,`` and are never those of an entry (``{"author":``) or a signed note
(text lines): a signature made for one is never taken for the other."""

ACT_VERSION: Final = 1

DEFAULT_WINDOW: Final = timedelta(minutes=5)
"""How far an act's client timestamp may lie from the center's clock (DECISIONS 10)."""

NONCE_BYTES: Final = 16
"""Random bytes in a nonce :func:`new_nonce` makes, and the fewest a nonce may hold: 128
bits, so that two honest acts meet on a nonce with negligible chance (birthday bound 2^64
acts), and a nonce cannot be guessed ahead."""

_NONCE_MAX_BYTES = 64
_FIELDS = frozenset(
    {ACT_MARKER, "action", "at", "key", "member", "nonce", "origin", "seal", "user"}
)
_SIGNATURE = "signature"
_JSON_FIELDS = _FIELDS | {_SIGNATURE}
ACT_METHODS: Final = ("POST", "PUT", "PATCH", "DELETE")
"""The methods of the requests that are acts: those that ask the center to change something."""

# The request line: a method, one space, the path exactly as sent ("?query" included),
# printable ASCII without spaces. \Z, not $: "$" also matches before a final newline.
_ACTION = re.compile(rf"(?:{'|'.join(ACT_METHODS)}) /[\x21-\x7e]*\Z")
_PATH_MAX = 1024
_KEY_ID = re.compile(r"[0-9a-f]{16}\Z")
_NONCE = re.compile(r"[A-Za-z0-9_-]+\Z")  # RFC 4648 §5 alphabet, no padding
_SEAL = re.compile(r"[0-9a-f]{64}\Z")

SALT_BYTES: Final = 32
"""Random bytes in a body's salt: the seal hides the body as long as the salt stays secret."""


def new_salt() -> str:
    """A fresh salt for an act's body: :data:`SALT_BYTES` random bytes in base64url without
    padding (43 characters).

    >>> len(new_salt()), new_salt() != new_salt()
    (43, True)
    """
    return base64.urlsafe_b64encode(secrets.token_bytes(SALT_BYTES)).rstrip(b"=").decode()


def seal_of(body: object, *, salt: str) -> str:
    """The seal of a request's JSON body: lowercase hex of ``SHA-256(salt || JCS(body))``.

    Parameters
    ----------
    body
        The request's JSON body: a JSON object with a JCS form (``{}`` for none).
    salt
        The request's salt (:func:`new_salt`): exactly :data:`SALT_BYTES` bytes in canonical
        base64url without padding.

    Raises
    ------
    ActError
        Naming ``body`` (or the path inside it: ``body.area[2]``) or ``salt``.

    Examples
    --------
    >>> seal_of({"b": 1, "a": [1.0, "Zoë"]}, salt="A" * 43) == seal_of(
    ...     {"a": [1, "Zoë"], "b": 1.0}, salt="A" * 43)
    True
    >>> seal_of({}, salt="A" * 42)
    Traceback (most recent call last):
    ...
    accord.errors.ActError: salt: must be 32 random bytes in base64url without padding ...
    """
    if not isinstance(body, dict):
        raise ActError("body", "must be a JSON object")
    width = (SALT_BYTES * 8 + 5) // 6
    if not isinstance(salt, str) or len(salt) != width or not _NONCE.match(salt):
        raise ActError(
            "salt",
            f"must be {SALT_BYTES} random bytes in base64url without padding ({width} "
            "characters of A-Z a-z 0-9 - _)",
        )
    raw = base64.urlsafe_b64decode(salt + "=")
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != salt:
        raise ActError("salt", "is not canonical base64url (its unused bits are not zero)")
    return hashlib.sha256(raw + _jcs(_json_copy(body, ["body"]))).hexdigest()


_USER_MAX = 64  # as the center's user names (accord.center.identity)


def new_nonce() -> str:
    """A fresh nonce for an act.

    Returns
    -------
    str
        :data:`NONCE_BYTES` bytes from :mod:`secrets`, in base64url without padding (RFC 4648
        §5, §3.2): 22 characters.

    Examples
    --------
    >>> len(new_nonce()), new_nonce() != new_nonce()
    (22, True)
    """
    return base64.urlsafe_b64encode(secrets.token_bytes(NONCE_BYTES)).rstrip(b"=").decode()


def _check_nonce(nonce: object) -> str:
    if not isinstance(nonce, str):
        raise ActError("nonce", "must be a string")
    # 22 characters carry 132 bits: the fewest that hold 128.
    low, high = (NONCE_BYTES * 8 + 5) // 6, (_NONCE_MAX_BYTES * 8 + 5) // 6
    if not low <= len(nonce) <= high or not _NONCE.match(nonce):
        raise ActError(
            "nonce",
            f"must be {NONCE_BYTES} to {_NONCE_MAX_BYTES} random bytes in base64url without "
            f"padding ({low} to {high} characters of A-Z a-z 0-9 - _)",
        )
    try:
        raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    except (binascii.Error, ValueError):  # a length no base64 has (4n + 1)
        raise ActError("nonce", "is not base64url") from None
    # RFC 4648 §3.5: the unused bits of the last character are zero, so that a nonce has
    # one spelling and the service's memory of nonces cannot be passed by a second one.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != nonce:
        raise ActError("nonce", "is not canonical base64url (its unused bits are not zero)")
    return nonce


def _check_user(user: object) -> str:
    if not isinstance(user, str):
        raise ActError("user", "must be a string")
    if not 0 < len(user) <= _USER_MAX or not user.isprintable() or user != user.strip():
        raise ActError(
            "user", f"a user name is 1 to {_USER_MAX} printable characters, {shown(user)!r} is not"
        )
    return user


def _check_action(action: object) -> str:
    if not isinstance(action, str):
        raise ActError("action", "must be a string")
    path = action.partition(" ")[2]
    if len(path) > _PATH_MAX or not _ACTION.match(action):
        raise ActError(
            "action",
            f"{shown(action)!r} is not an action: <METHOD> <path>, the method one of "
            f"{', '.join(ACT_METHODS)} and the path from / in printable ASCII without spaces, "
            f"at most {_PATH_MAX} characters (POST /v1/operations/op-17/approve)",
        )
    return action


def _check_at(at: object) -> datetime:
    if not isinstance(at, datetime):
        raise ActError("at", "must be a datetime")
    if at.utcoffset() is None:
        raise ActError("at", "has no UTC offset: a time without an offset is refused")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ActError("at", "is out of range once converted to UTC") from None


def _json_copy(value: object, parts: list[str | int]) -> Any:
    """A copy of ``value`` built of dict, list, str, int, float, bool and None, or
    :class:`ActError` naming the path (``body.area[2]``) of the first value that has no
    JCS form, or no form on which every implementation agrees."""
    where = field_path(parts)
    if len(parts) > MAX_DEPTH:
        raise ActError(where, f"nested more than {MAX_DEPTH} levels deep")
    # Exact types: a subclass (an IntEnum, a str Enum) may write itself otherwise.
    if value is None or type(value) is bool:
        return value
    if type(value) is str:
        _check_text(value, where)
        return value
    if type(value) is int:
        # RFC 8785 §3.2.2.3 serialises binary64; I-JSON (RFC 7493 §2.2): only integers within
        # ±(2^53 − 1) are exact there, so a larger one would be signed as another number.
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ActError(where, f"integer {value} is outside ±(2^53 − 1)")
        return value
    if type(value) is float:
        if not math.isfinite(value):
            # RFC 8785 §3.2.2.3: NaN and Infinity have no JSON form; they are errors.
            raise ActError(where, f"{value} is not a finite number")
        return value
    if type(value) is dict:
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise ActError(where, f"key {key!r} is not a string")
            _check_text(key, where)
            parts.append(key)
            copy[key] = _json_copy(item, parts)
            parts.pop()
        return copy
    if type(value) is list or type(value) is tuple:
        items = []
        for index, item in enumerate(value):
            parts.append(index)
            items.append(_json_copy(item, parts))
            parts.pop()
        return items
    raise ActError(where, f"a {type(value).__name__} has no JSON form")


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # RFC 8785 §3.2.2.2 / RFC 8259 §8.1: a lone surrogate is not Unicode text.
        raise ActError(where, "a string holds a lone surrogate (not Unicode text)") from None


def _jcs(value: dict[str, Any]) -> bytes:
    """RFC 8785 canonical bytes of a value :func:`_json_copy` accepted (so none fails)."""
    # RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names; §3.2.2.3:
    # numbers as ECMAScript's Number::toString writes them; §3.2.4: UTF-8 output.
    return rfc8785.dumps(value)


@dataclass(frozen=True)
class Act:
    """One act of one user of a party: the members it signs (see the module docstring).

    Parameters
    ----------
    origin
        The origin of the log the act is made for (a log origin, as a checkpoint's).
    member
        The acting party: its name in the key ring.
    user
        The user's name: 1 to 64 printable characters, no space at either end.
    key
        The user's key id, :attr:`PublicKey.key_id <accord.record.keys.PublicKey.key_id>`:
        16 lower-case hex digits.
    at
        The client's clock when the user signs: an aware instant, kept in UTC.
    nonce
        At least 128 random bits in base64url without padding (:func:`new_nonce`).
    action
        What is asked: the request line ``<METHOD> <path>``, the method one of
        :data:`ACT_METHODS` and the path exactly as sent, ``?query`` included (printable
        ASCII without spaces, from ``/``, at most 1,024 characters):
        ``POST /v1/operations/op-17/approve``.
    seal
        What the user asked for, sealed: :func:`seal_of` the request's JSON body (``{}``
        when it has none) with the request's salt — 64 lowercase hex digits.

    Raises
    ------
    ActError
        A field out of its form; ``field`` names it.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> act = Act("accord.example/jcc", "blue", "amira", "139e3940e64b5491",
    ...           datetime(2026, 5, 1, 12, tzinfo=UTC), "AAAAAAAAAAAAAAAAAAAAAA",
    ...           "POST /v1/messages", "0" * 64)
    >>> signed = act.signed_bytes()
    >>> signed[signed.index(b'"seal"') : signed.index(b',"user"')]
    b'"seal":"0000000000000000000000000000000000000000000000000000000000000000"'
    >>> Act("accord.example/jcc", "blue", "amira", "139e3940e64b5491",
    ...     datetime(2026, 5, 1, 12), "AAAAAAAAAAAAAAAAAAAAAA", "POST /v1/messages", "0" * 64)
    Traceback (most recent call last):
    ...
    accord.errors.ActError: at: has no UTC offset: a time without an offset is refused
    """

    origin: str
    member: str
    user: str
    key: str
    at: datetime
    nonce: str
    action: str
    seal: str

    def __post_init__(self) -> None:
        try:
            check_origin(self.origin)
        except FormatError as error:
            raise ActError("origin", str(error)) from None
        if not isinstance(self.member, str):
            raise ActError("member", "must be a string")
        try:
            check_key_name(self.member)
        except FormatError as error:
            raise ActError("member", str(error)) from None
        _check_user(self.user)
        if not isinstance(self.key, str) or not _KEY_ID.match(self.key):
            raise ActError("key", "must be a key id: 16 lower-case hex digits (PublicKey.key_id)")
        object.__setattr__(self, "at", _check_at(self.at))
        _check_nonce(self.nonce)
        _check_action(self.action)
        if not isinstance(self.seal, str) or not _SEAL.match(self.seal):
            raise ActError("seal", "must be SHA-256 in hex: 64 lower-case hex digits (seal_of)")

    def to_json(self) -> dict[str, Any]:
        """The object the act's signature is over.

        Returns
        -------
        dict
            The ``accord-act`` marker and the act's eight fields as JSON values (``at``
            written by :func:`~accord.chrono.format_instant`).
        """
        return self._members()

    def _members(self) -> dict[str, Any]:
        return {
            ACT_MARKER: ACT_VERSION,
            "action": self.action,
            "at": format_instant(self.at),
            "key": self.key,
            "member": self.member,
            "nonce": self.nonce,
            "origin": self.origin,
            "seal": self.seal,
            "user": self.user,
        }

    def signed_bytes(self) -> bytes:
        """The bytes a signature of this act is over.

        Returns
        -------
        bytes
            The RFC 8785 (JCS) canonical form of :meth:`to_json`.

        """
        return _jcs(self._members())


@dataclass(frozen=True)
class SignedAct:
    """An act and its signature.

    Parameters
    ----------
    act
        The act.
    signature
        The Ed25519 signature (RFC 8032, 64 bytes) over ``act.signed_bytes()``; not checked
        here (:func:`verify_act` does).

    Raises
    ------
    ActError
        ``signature`` is not 64 bytes, or ``act`` not an :class:`Act`.
    """

    act: Act
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.act, Act):
            raise ActError("act", "must be an Act")
        if not isinstance(self.signature, bytes) or len(self.signature) != 64:
            raise ActError("signature", "an Ed25519 signature is 64 bytes")

    def to_json(self) -> dict[str, Any]:
        """The act's JSON form, as it travels.

        Returns
        -------
        dict
            :meth:`Act.to_json` and ``signature``: standard base64 with padding (RFC 4648
            §4), as every byte string in the record. :func:`signed_act_from_json` reads it.
        """
        return {**self.act.to_json(), _SIGNATURE: encode_base64(self.signature)}


def sign_act(act: Act, key: PrivateKey) -> SignedAct:
    """Sign ``act`` on the user's side, with the user's own key.

    Parameters
    ----------
    act
        The act to sign.
    key
        The private key the act names: ``act.key == key.key_id``.

    Returns
    -------
    SignedAct
        The act and the Ed25519 signature of its :meth:`Act.signed_bytes`.

    Raises
    ------
    ActError
        ``key`` is not the key the act names (``field`` ``key``).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from accord.record.keys import PrivateKey
    >>> key = PrivateKey.from_seed("amira", bytes(32))
    >>> act = Act("accord.example/jcc", "blue", "amira", key.key_id,
    ...           datetime(2026, 5, 1, 12, tzinfo=UTC), new_nonce(), "POST /v1/messages",
    ...           seal_of({}, salt=new_salt()))
    >>> len(sign_act(act, key).signature)
    64
    """
    if not isinstance(act, Act):
        raise ActError("act", "must be an Act")
    if act.key != key.key_id:
        raise ActError("key", f"the act names key {act.key}, not {key.key_id} of {key.name!r}")
    return SignedAct(act, key.sign(act.signed_bytes()))


def verify_act(
    signed: SignedAct,
    *,
    key: PublicKey,
    origin: str,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> None:
    """Accept ``signed`` as an act made with ``key`` for the log ``origin`` around ``now``,
    or raise.

    Parameters
    ----------
    signed
        The act and its signature, as :func:`signed_act_from_json` read them.
    key
        The key to check it with, which the caller chooses: the key that the record
        registers, by the act's member's root, for the act's user with the act's key id,
        valid at ``now`` and not revoked. This function cannot know the registrations.
    origin
        The origin of the log the caller keeps.
    now
        The center's clock (the exercise clock when one runs): an aware instant.
    window
        How far the act's client timestamp may lie from ``now``, either way; exactly
        ``window`` away is accepted. DECISIONS 10: five minutes.

    Returns
    -------
    None
        The act is the key's, for this log, and fresh. Whether its nonce was seen before
        is for the service to check: this function keeps no state (see the module
        docstring).

    Raises
    ------
    ActSignatureError
        In this order: the act was made for another log (``field`` ``origin``); it names
        another key than ``key`` (``key``); its signature does not verify with ``key`` over
        its JCS bytes (``signature``).
    ActClockError
        Its client timestamp is more than ``window`` from ``now`` (``at``): checked last,
        so that a forged act is named forged, not late.
    ValueError
        ``now`` has no offset, or ``window`` is not positive (the caller's mistake).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> from accord.record.keys import PrivateKey
    >>> key = PrivateKey.from_seed("amira", bytes(32))
    >>> now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> act = Act("accord.example/jcc", "blue", "amira", key.key_id,
    ...           now - timedelta(minutes=6), new_nonce(), "POST /v1/messages",
    ...           seal_of({}, salt=new_salt()))
    >>> verify_act(sign_act(act, key), key=key.public, origin="accord.example/jcc", now=now)
    Traceback (most recent call last):
    ...
    accord.errors.ActClockError: at: 2026-05-01T11:54:00Z is 0:06:00 behind the center's ...
    """
    if not isinstance(signed, SignedAct):
        raise ActError("act", "must be a SignedAct")
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if not isinstance(window, timedelta) or window <= timedelta(0):
        raise ValueError("the window must be a positive timedelta")
    act = signed.act
    if act.origin != origin:
        raise ActSignatureError(
            "origin",
            f"the act was made for the log {act.origin!r}, not for {origin!r}: an act made "
            "for another log is refused",
        )
    if act.key != key.key_id:
        raise ActSignatureError(
            "key", f"the act names key {act.key}, not {key.key_id}, the key of {key.name!r}"
        )
    try:
        # RFC 8032 §5.1.7 (the cryptography package): over exactly the bytes signed, the
        # act's JCS form (DECISIONS 10).
        key.verify(signed.signature, act.signed_bytes())
    except SignatureError:
        raise ActSignatureError(
            "signature",
            f"does not verify with the key {key.key_id} of {key.name!r} over the act's "
            "canonical bytes",
        ) from None
    skew = act.at - now
    if abs(skew) > window:
        side = "ahead of" if skew > timedelta(0) else "behind"
        raise ActClockError(
            "at",
            f"{format_instant(act.at)} is {abs(skew)} {side} the center's clock "
            f"({format_instant(now)}); an act must be made within ±{window} of it",
        )


def signed_act_from_json(data: object) -> SignedAct:
    """Read a signed act's JSON form, strictly.

    Parameters
    ----------
    data
        The parsed JSON object (:meth:`SignedAct.to_json`'s form). Parsing the text —
        refusing duplicated keys and NaN — is the caller's, with
        :func:`accord.jsontext.loads`.

    Returns
    -------
    SignedAct
        The act and its signature, which is *not* checked here: :func:`verify_act` does.

    Raises
    ------
    ActError
        Naming the field (``field``): anything but a JSON object (``act``); a missing or
        unknown member; ``accord-act`` other than the integer 1; a member of the wrong
        type; an origin, member, user, key, nonce or action out of its form; ``at`` that is
        not an instant with an offset, or not written as
        :func:`~accord.chrono.format_instant` writes it (UTC, ``Z``); a seal that is not 64
        lowercase hex digits; a signature that is not canonical
        base64 of 64 bytes.

    Examples
    --------
    >>> signed_act_from_json({"accord-act": 1})
    Traceback (most recent call last):
    ...
    accord.errors.ActError: action: missing (and 8 more: at, key, member, ...)
    """
    if not isinstance(data, dict):
        raise ActError("act", "a signed act is a JSON object")
    missing = sorted(_JSON_FIELDS - data.keys())
    if missing:
        more = f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if missing[1:] else ""
        raise ActError(missing[0], f"missing{more}")
    unknown = sorted(str(name) for name in data.keys() - _JSON_FIELDS)
    if unknown:
        raise ActError(shown(unknown[0]), "unknown field: an act has no such member")
    marker = data[ACT_MARKER]
    if type(marker) is not int or marker != ACT_VERSION:
        raise ActError(
            ACT_MARKER, f"{shown(repr(marker))} is not an act version this reader knows (1)"
        )
    for name in ("origin", "member", "user", "key", "nonce", "action", "at"):
        if not isinstance(data[name], str):
            raise ActError(name, f"must be a string, not {_json_type(data[name])}")
    at_text: str = data["at"]
    try:
        at = parse_instant(at_text)
    except ValueError as error:
        raise ActError("at", str(error)) from None
    if format_instant(at) != at_text:
        raise ActError(
            "at",
            f"{shown(at_text)!r} is not written as Accord writes this instant, "
            f"{format_instant(at)!r} (UTC, Z, whole seconds or six digits of fraction): "
            "an instant has one spelling",
        )
    if not isinstance(data["seal"], str):
        raise ActError("seal", f"must be a string, not {_json_type(data['seal'])}")
    try:
        signature = decode_base64(data[_SIGNATURE], what=_SIGNATURE, size=64)
    except FormatError as error:
        raise ActError(_SIGNATURE, str(error).removeprefix(f"{_SIGNATURE} ")) from None
    act = Act(
        origin=data["origin"],
        member=data["member"],
        user=data["user"],
        key=data["key"],
        at=at,
        nonce=data["nonce"],
        action=data["action"],
        seal=data["seal"],
    )
    return SignedAct(act, signature)


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
