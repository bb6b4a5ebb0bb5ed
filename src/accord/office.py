"""A member's office, on the member's side: its root key, its users' keys, and requests
signed with them.

The center never holds a member's private key of any kind (issue 17; DECISIONS 6–8). A
member keeps, on machines of its own:

- its **root** key — in its office, offline: it signs the agreement and certifies (and
  revokes) its users' keys, and nothing else. Its public half is the ``root_key`` the
  agreement names;
- each **user's** key — on the device the user acts from (the page keeps its own in the
  browser; the command line, a feed or a gateway a key file).

An office folder holds them as key files of mode 0600 (:mod:`accord.record.keys`)::

    <office>/root.key              the member's root (move it offline once the keys are certified)
    <office>/users/<user>.key      a user's key, for a command-line user, feed or gateway

:class:`SignedActs` is an ``httpx.Auth`` that signs each write a client sends with a key
(:mod:`accord.record.acts`: the request line, the body sealed with a fresh salt, a nonce,
the clock) into the ``Accord-Act-*`` headers the center checks, and carries the bearer
token beside it: the token moves the request, the signature makes it the user's.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from accord.chrono import format_instant
from accord.jsontext import loads
from accord.record.acts import Act, SignedAct, new_nonce, new_salt, seal_of, sign_act
from accord.record.canonical import encode_base64
from accord.record.keys import (
    PrivateKey,
    PublicKey,
    generate,
    read_private_key,
    write_private_key,
)

__all__ = [
    "ACT_METHODS",
    "ROOTED_GROUPS",
    "Office",
    "SignedActs",
    "act_headers",
    "with_roots",
]

ROOTED_GROUPS = ("parties", "notifiers", "monitors")
"""The agreement's groups whose members name a root key."""


def with_roots(text: str, roots: Mapping[str, PublicKey]) -> str:
    """The agreement YAML ``text`` with each member of :data:`ROOTED_GROUPS` naming its root
    from ``roots`` (member id → public key); ``KeyError`` for a member without one. The
    result is what every member's office reviews and its root signs (its digest)."""
    data = yaml.safe_load(text)
    for group in ROOTED_GROUPS:
        for member in data.get(group) or ():
            member["root_key"] = roots[member["id"]].vkey()
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


ACT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""The methods of a write: every request with one of them is an act."""


def act_headers(
    key: PrivateKey,
    *,
    origin: str,
    member: str,
    user: str,
    method: str,
    path: str,
    body: Mapping[str, Any] | None,
    at: datetime,
    nonce: str | None = None,
    salt: str | None = None,
) -> tuple[dict[str, str], SignedAct]:
    """The ``Accord-Act-*`` headers of ``user``'s request ``method path`` with the JSON
    ``body`` (None: none), signed with ``key`` at ``at``; and the signed act.

    ``path`` is the request's path exactly as sent, ``?query`` included.
    """
    salt = salt or new_salt()
    act = Act(
        origin=origin,
        member=member,
        user=user,
        key=key.key_id,
        at=at,
        nonce=nonce or new_nonce(),
        action=f"{method} {path}",
        seal=seal_of(dict(body or {}), salt=salt),
    )
    signed = sign_act(act, key)
    headers = {
        "Accord-Act-Key": key.key_id,
        "Accord-Act-At": format_instant(act.at),
        "Accord-Act-Nonce": act.nonce,
        "Accord-Act-Salt": salt,
        "Accord-Act-Signature": encode_base64(signed.signature),
    }
    return headers, signed


@dataclass(frozen=True)
class Office:
    """A member's office folder (see the module docstring)."""

    path: Path
    member: str

    @property
    def root_path(self) -> Path:
        return self.path / "root.key"

    def user_path(self, user: str) -> Path:
        return self.path / "users" / f"{_file_name(user)}.key"

    def init(self) -> PrivateKey:
        """Create the office's root key (refused if one exists); the key."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = generate(self.member)
        write_private_key(self.root_path, key)
        return key

    def root(self) -> PrivateKey:
        """The member's root key (``KeyFileError`` if the office holds none)."""
        return read_private_key(self.root_path, name=self.member)

    def user_key(self, user: str, *, create: bool = False) -> PrivateKey:
        """``user``'s key, made here on first use when ``create``."""
        path = self.user_path(user)
        if create and not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private_key(path, generate(self.member))
        return read_private_key(path, name=self.member)


def _file_name(user: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
    if not safe or safe.startswith("."):
        raise ValueError(f"user {user!r} has no file name")
    return safe


class SignedActs(httpx.Auth):
    """An ``httpx.Auth`` that sends the bearer ``token`` and signs every write with ``key``
    as ``member``'s user ``user`` of the log ``origin`` (the time from ``clock``).

    A retry of a request carrying an ``Idempotency-Key`` sends the act it signed the first
    time (DECISIONS 10: the same signed request replays the first answer).
    """

    requires_request_body = True

    def __init__(
        self,
        *,
        token: str,
        key: PrivateKey,
        origin: str,
        member: str,
        user: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._token = token
        self._key = key
        self._origin = origin
        self._member = member
        self._user = user
        self._clock = clock
        self._retries: dict[tuple[str, str, str, bytes], dict[str, str]] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        if request.method in ACT_METHODS and "Accord-Act-Signature" not in request.headers:
            request.headers.update(self.headers_for(request))
        yield request

    def headers_for(self, request: httpx.Request) -> dict[str, str]:
        """The act headers of ``request`` (its body read: JSON, an object or none)."""
        content = request.read()
        path = request.url.raw_path.decode("ascii")
        retry = request.headers.get("Idempotency-Key")
        memo = (retry, request.method, path, content) if retry else None
        if memo is not None and memo in self._retries:
            return self._retries[memo]
        body = loads(content) if content.strip() else None
        if body is not None and not isinstance(body, dict):
            raise ValueError("a signed request's body is a JSON object")
        headers, _ = act_headers(
            self._key,
            origin=self._origin,
            member=self._member,
            user=self._user,
            method=request.method,
            path=path,
            body=body,
            at=self._clock(),
        )
        if memo is not None:
            self._retries[memo] = headers
        return headers
