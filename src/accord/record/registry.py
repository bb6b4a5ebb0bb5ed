"""Whose keys may act: the agreement's trust roots, and the keys each party's root certified.

Each party, notifier and monitor names a **root** public key in the agreement (its office
keeps the private half offline). The record proves who did what only through keys that
root vouched for, so this module is the one place that decides, at a point of the record,
whether a key may sign an act — for the center, as it takes acts in, and for the verifier,
as it walks the log. It is a fold over record entries, with no I/O and no clock: its notion
of time is the entry's index in the log.

What the record holds, in order (each a party's act, checked here before it counts):

1. ``agreement.signed`` — a party's root signs the agreement's digest
   (:func:`agreement_digest` of the document the center wrote as the log's first entry).
   The agreement is **in force** from the entry where the last party's root signed it;
   before that, a party may sign the agreement and certify keys, and do nothing else.
2. ``key.registered`` — a root (or a key its root certified for ``certify``) registers a
   user's public key for ``act`` or ``device-reports`` (and, by the root alone, ``certify``);
   with ``replaces``, the same entry ends the user's old key (rotation).
3. ``key.revoked`` — a root, or a certifying key for keys it may register, ends a key.

Everything takes effect **from its entry on**: a key registered at entry *r* and ended at
entry *e* signs the acts of entries *r* < *i* < *e*, and no other. A key belongs to one user
of one member; no two keys of the record share a key id, and a root key is never a user's.

>>> from accord.record.keys import PrivateKey
>>> blue = PrivateKey.from_seed("blue", bytes(32)).public
>>> red = PrivateKey.from_seed("red", bytes(range(32))).public
>>> amira = PrivateKey.from_seed("amira", bytes([7] * 32)).public
>>> registry = KeyRegistry({"blue": blue, "red": red}, parties=("blue", "red"))
>>> registry.sign_agreement(member="blue", key_id=blue.key_id, index=1)
>>> registry.sign_agreement(member="red", key_id=red.key_id, index=2)
>>> registry.in_force_at
2
>>> _ = registry.register(Registration("amira", amira.raw, frozenset({"act"})),
...                       member="blue", key_id=blue.key_id, user="amira", index=3)
>>> registry.actor(member="blue", user="amira", key_id=amira.key_id, index=4).raw == amira.raw
True
>>> registry.revoke(Revocation(amira.key_id, "device lost"),
...                 member="blue", key_id=blue.key_id, user="amira", index=5)
>>> registry.actor(member="blue", user="amira", key_id=amira.key_id, index=6)
Traceback (most recent call last):
...
accord.errors.ActKeyError: key: key ... of blue's user 'amira' was revoked at entry 5
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import rfc8785

from accord.errors import ActError, ActKeyError
from accord.record.bindings import fits
from accord.record.keys import PublicKey

__all__ = [
    "ACT",
    "CERTIFY",
    "DEVICE_REPORTS",
    "DEVICE_REPORT_REQUESTS",
    "PURPOSES",
    "KeyRegistry",
    "Registered",
    "Registration",
    "Revocation",
    "agreement_digest",
    "device_report_request",
    "fingerprint",
    "refusal",
    "registration_from_body",
    "revocation_from_body",
    "signature_digest_from_body",
]

ACT: Final = "act"
"""A key that signs its user's acts."""
CERTIFY: Final = "certify"
"""A key that registers and revokes ``act`` keys of its own party (granted by the root alone)."""
DEVICE_REPORTS: Final = "device-reports"
"""A party gateway's key (``accord cot gateway``): signs the requests its party's TAK devices'
reports become (:data:`DEVICE_REPORT_REQUESTS`) and nothing else. It is a key's only purpose:
a key that signs device reports never acts otherwise, and never certifies."""
PURPOSES: Final = (ACT, CERTIFY, DEVICE_REPORTS)

DEVICE_REPORT_REQUESTS: Final = {
    "POST /v1/declarations": "declare",
    "POST /v1/declarations/hidden": "hidden",
    "PUT /v1/declarations/{*}": "amend",
    "POST /v1/declarations/{*}/withdraw": "withdraw",
    "POST /v1/tracks": "track",
    "PUT /v1/drafts/{*}": "draft",
    "DELETE /v1/drafts/{*}": "draft",
}
"""The requests a :data:`DEVICE_REPORTS` key may sign (``{*}``: any one path segment) → what
each is. This is the rule's action half, which the verifier applies to every act in the
log; the center also holds the declarations' requests to positions that carry a ``device``
(the body, or the stored declaration) — bodies the record keeps sealed."""

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_KEY_ID = re.compile(r"[0-9a-f]{16}\Z")
_REASON_MAX = 500
_USER_MAX = 64  # as the center's user names (accord.center.identity)


def device_report_request(action: str) -> str | None:
    """What ``action`` (``"<METHOD> <path>[?<query>]"``) is among the requests a
    device-reports key may sign (``"declare"``, ``"amend"``, ``"withdraw"``, ``"track"``,
    ``"draft"``), or None: a request no such key signs.

    >>> device_report_request("PUT /v1/declarations/d-0123456789abcdef")
    'amend'
    >>> device_report_request("POST /v1/declarations/hidden")
    'hidden'
    >>> device_report_request("POST /v1/operations/op-1/approve") is None
    True
    """
    return next(
        (what for template, what in DEVICE_REPORT_REQUESTS.items() if fits(action, template, {})),
        None,
    )


def agreement_digest(document: Mapping[str, Any]) -> str:
    """The digest a party's root signs: hex SHA-256 of the agreement document's RFC 8785
    canonical form (the document as the log's first entry holds it)."""
    return hashlib.sha256(rfc8785.dumps(dict(document))).hexdigest()


def fingerprint(raw: bytes) -> str:
    """A public key's fingerprint, to be read aloud and compared: SHA-256 of the raw key,
    its first 16 bytes in eight groups of four hex digits. The first four groups are the
    key id (:attr:`~accord.record.keys.PublicKey.key_id`).

    >>> fingerprint(bytes(32))
    '6668 7aad f862 bd77 6c8f c18b 8e9f 8e20'
    """
    digest = hashlib.sha256(raw).digest()[:16].hex()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True, slots=True)
class Registration:
    """What a ``key.registered`` act asks: ``user``'s new ``public_key`` (32 raw bytes) for
    ``purposes``, ending the user's key ``replaces`` (a key id) when given."""

    user: str
    public_key: bytes
    purposes: frozenset[str]
    replaces: str | None = None

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_key).digest()[:8].hex()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "user": self.user,
            "public_key": base64.b64encode(self.public_key).decode(),
            "purposes": sorted(self.purposes),
        }
        if self.replaces is not None:
            out["replaces"] = self.replaces
        return out


@dataclass(frozen=True, slots=True)
class Revocation:
    """What a ``key.revoked`` act asks: end key ``key`` (a key id), for ``reason``."""

    key: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Registered:
    """A key the record holds: whose, for what, from which entry, and until which."""

    member: str
    user: str
    key: PublicKey
    purposes: frozenset[str]
    registered_at: int
    registered_by: str
    ended_at: int | None = None
    ended_how: str | None = None  # "revoked" or "replaced"

    @property
    def key_id(self) -> str:
        return self.key.key_id

    def valid_at(self, index: int) -> bool:
        """Whether the key signs at entry ``index`` (from its entry on, until its end)."""
        return self.registered_at < index and (self.ended_at is None or index < self.ended_at)


def _object(body: object) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ActError("body", "must be a JSON object")
    return body


def _unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in body:
        if name not in allowed:
            raise ActError(f"body.{name}", "is not a field of this request")


def _key_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _KEY_ID.match(value):
        raise ActError(where, "must be a key id: 16 lowercase hex digits")
    return value


def refusal(found: Registered, action: str | None) -> str | None:
    """Why ``found`` (valid where it signs) may not sign an act of request ``action``, or
    None: an ``act`` key signs any, a :data:`DEVICE_REPORTS` key only device reports."""
    if ACT in found.purposes:
        return None
    if DEVICE_REPORTS in found.purposes:
        if action is not None and device_report_request(action) is not None:
            return None
        return (
            f"key {found.key_id} is certified for {DEVICE_REPORTS} only: it signs its party's "
            "devices' position reports, tracks and drafts, not "
            + (_shown_action(action) if action is not None else "this act")
        )
    only = ", ".join(sorted(found.purposes))
    return f"key {found.key_id} is not certified to act (only to {only})"


def _shown_action(action: str) -> str:
    """``action`` as a message quotes it (cut: it is the sender's)."""
    return repr(action if len(action) <= 120 else action[:119] + "…")


def registration_from_body(body: object) -> Registration:
    """The registration a ``key.registered`` act's body asks for; ``ActError`` naming the
    field (``body.public_key``, …) when it is not one."""
    data = _object(body)
    _unknown(data, frozenset({"user", "public_key", "purposes", "replaces"}))
    user = data.get("user")
    if not isinstance(user, str) or not 0 < len(user) <= _USER_MAX or not user.isprintable():
        raise ActError("body.user", f"a user name is 1 to {_USER_MAX} printable characters")
    if user != user.strip():
        raise ActError("body.user", "a user name neither starts nor ends with a space")
    text = data.get("public_key")
    if not isinstance(text, str):
        raise ActError("body.public_key", "must be the raw public key in standard base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ActError("body.public_key", "is not standard base64") from None
    if len(raw) != 32 or base64.b64encode(raw).decode() != text:
        raise ActError("body.public_key", "must be 32 bytes (an Ed25519 key) in canonical base64")
    purposes = data.get("purposes", [ACT])
    if (
        not isinstance(purposes, list)
        or not purposes
        or any(p not in PURPOSES for p in purposes)
        or len(set(purposes)) != len(purposes)
    ):
        raise ActError("body.purposes", f"must be a list of distinct uses from {list(PURPOSES)}")
    if DEVICE_REPORTS in purposes and len(purposes) > 1:
        raise ActError(
            "body.purposes",
            f"{DEVICE_REPORTS!r} is a key's only purpose: a key that signs device reports "
            "signs nothing else",
        )
    replaces = data.get("replaces")
    if replaces is not None:
        replaces = _key_id(replaces, "body.replaces")
    return Registration(user, raw, frozenset(purposes), replaces)


def revocation_from_body(body: object) -> Revocation:
    """The revocation a ``key.revoked`` act's body asks for; ``ActError`` naming the field."""
    data = _object(body)
    _unknown(data, frozenset({"key", "reason"}))
    key = _key_id(data.get("key"), "body.key")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > _REASON_MAX:
        raise ActError("body.reason", f"must be text of at most {_REASON_MAX} characters")
    return Revocation(key, reason)


def signature_digest_from_body(body: object) -> str:
    """The digest an ``agreement.signed`` act's body signs; ``ActError`` naming the field."""
    data = _object(body)
    _unknown(data, frozenset({"digest"}))
    digest = data.get("digest")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise ActError("body.digest", "must be the agreement's SHA-256 digest in lowercase hex")
    return digest


class KeyRegistry:
    """The roots and the registered keys, folded in record order (see the module docstring).

    Each method that changes it first checks everything, then changes it: an act it refuses
    (``ActKeyError``, or ``ActError`` for a registration that cannot be) leaves it as it was.
    """

    def __init__(self, roots: Mapping[str, PublicKey], *, parties: Iterable[str]) -> None:
        self._roots = dict(roots)
        self._parties = frozenset(parties)
        missing = sorted(self._parties - set(self._roots))
        if missing:
            raise ValueError(f"no root key for {', '.join(missing)}")
        self._by_id: dict[str, Registered] = {}
        self._root_ids = {key.key_id: member for member, key in self._roots.items()}
        self.signed: dict[str, int] = {}
        """Member → the entry where its root signed the agreement."""
        self.in_force_at: int | None = None
        """The entry where the last party's root signed the agreement (None: not yet)."""

    @property
    def roots(self) -> dict[str, PublicKey]:
        return dict(self._roots)

    def registered(self) -> list[Registered]:
        """Every key registered, in the order of its registration."""
        return sorted(self._by_id.values(), key=lambda k: k.registered_at)

    def get(self, key_id: str) -> Registered | None:
        return self._by_id.get(key_id)

    def in_force(self, index: int) -> bool:
        """Whether the agreement is in force for an act at entry ``index``."""
        return self.in_force_at is not None and self.in_force_at < index

    # --- who may sign ---------------------------------------------------------------------

    def root(self, *, member: str, key_id: str) -> PublicKey:
        """``member``'s root key, if ``key_id`` names it; ``ActKeyError`` if not."""
        root = self._roots.get(member)
        if root is None:
            raise ActKeyError("member", f"{member!r} has no root key in the agreement")
        if root.key_id != key_id:
            raise ActKeyError("key", f"key {key_id} is not {member}'s root key")
        return root

    def actor(
        self, *, member: str, user: str, key_id: str, index: int, action: str | None = None
    ) -> PublicKey:
        """The key ``key_id`` if it signs ``member``'s user ``user``'s act at entry
        ``index``; ``ActKeyError`` saying why not. A :data:`DEVICE_REPORTS` key signs only
        the requests :func:`device_report_request` knows (``action``: the act's request;
        None: an act of any request, which such a key never signs)."""
        found = self._valid(member=member, user=user, key_id=key_id, index=index, purpose=None)
        why = refusal(found, action)
        if why is not None:
            raise ActKeyError("key", why)
        return found.key

    def certifier(self, *, member: str, user: str, key_id: str, index: int) -> PublicKey:
        """The key ``key_id`` if it may register and revoke ``member``'s keys at entry
        ``index``: the member's root, or a ``certify`` key of user ``user``."""
        if key_id in self._root_ids:
            return self.root(member=member, key_id=key_id)
        return self._valid(
            member=member, user=user, key_id=key_id, index=index, purpose=CERTIFY
        ).key

    def _valid(
        self, *, member: str, user: str, key_id: str, index: int, purpose: str | None
    ) -> Registered:
        if key_id in self._root_ids:
            raise ActKeyError(
                "key",
                f"key {key_id} is {self._root_ids[key_id]}'s root key: a root signs the "
                "agreement and certifies keys, never a user's act",
            )
        found = self._by_id.get(key_id)
        if found is None or found.member != member or found.registered_at >= index:
            raise ActKeyError("key", f"key {key_id} is not registered for {member}")
        if found.user != user:
            raise ActKeyError(
                "key", f"key {key_id} is {member}'s user {found.user!r}'s, not {user!r}'s"
            )
        if found.ended_at is not None and found.ended_at <= index:
            raise ActKeyError(
                "key",
                f"key {key_id} of {member}'s user {user!r} was {found.ended_how} at entry "
                f"{found.ended_at}",
            )
        if purpose is not None and purpose not in found.purposes:
            raise ActKeyError("key", f"key {key_id} is not certified to {purpose}")
        return found

    # --- what changes it ------------------------------------------------------------------

    def sign_agreement(self, *, member: str, key_id: str, index: int) -> None:
        """``member``'s root signs the agreement at entry ``index`` (the digest it signed is
        the caller's to check). ``ActKeyError`` if the key is not that root, or the member
        signed already."""
        self.root(member=member, key_id=key_id)
        if member in self.signed:
            raise ActKeyError(
                "member", f"{member}'s root signed the agreement at entry {self.signed[member]}"
            )
        self.signed[member] = index
        if self.in_force_at is None and self._parties <= set(self.signed):
            self.in_force_at = index

    def register(
        self, registration: Registration, *, member: str, key_id: str, user: str, index: int
    ) -> Registered:
        """Register ``registration`` for ``member`` at entry ``index``, signed with ``key_id``
        by user ``user``; the key registered."""
        self.certifier(member=member, user=user, key_id=key_id, index=index)
        if CERTIFY in registration.purposes and key_id not in self._root_ids:
            raise ActKeyError("body.purposes", "only the root certifies a key to certify")
        new = PublicKey(member, registration.public_key)
        if new.key_id in self._root_ids or new.key_id in self._by_id:
            raise ActError("body.public_key", f"key {new.key_id} is registered already")
        old: Registered | None = None
        if registration.replaces is not None:
            old = self._by_id.get(registration.replaces)
            if old is None or old.member != member or old.user != registration.user:
                raise ActError(
                    "body.replaces",
                    f"key {registration.replaces} is not a key of {member}'s user "
                    f"{registration.user!r}",
                )
            if old.ended_at is not None:
                raise ActError("body.replaces", f"key {old.key_id} was {old.ended_how} already")
            self._may_end(old, key_id=key_id, field="body.replaces")
        made = Registered(member, registration.user, new, registration.purposes, index, key_id)
        if old is not None:
            self._by_id[old.key_id] = replace(old, ended_at=index, ended_how="replaced")
        self._by_id[new.key_id] = made
        return made

    def revoke(
        self, revocation: Revocation, *, member: str, key_id: str, user: str, index: int
    ) -> None:
        """End key ``revocation.key`` of ``member`` at entry ``index``, signed with
        ``key_id`` by user ``user``."""
        self.certifier(member=member, user=user, key_id=key_id, index=index)
        found = self._by_id.get(revocation.key)
        if found is None or found.member != member:
            raise ActError("body.key", f"key {revocation.key} is not a key of {member}")
        if found.ended_at is not None:
            raise ActError("body.key", f"key {found.key_id} was {found.ended_how} already")
        self._may_end(found, key_id=key_id, field="body.key")
        self._by_id[found.key_id] = replace(found, ended_at=index, ended_how="revoked")

    def _may_end(self, found: Registered, *, key_id: str, field: str) -> None:
        if key_id not in self._root_ids and CERTIFY in found.purposes:
            raise ActKeyError(field, "only the root ends a key that certifies")
