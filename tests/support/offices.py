"""The members' offices, as the tests play them: each member's root key and each user's own
key, kept here on the test's side and never in the server's folders — and the acts they sign.

The keys come from fixed seeds (test data: synthetic, public, for the tests only). An
agreement text is *rooted* by :func:`rooted` (each party, notifier and monitor names its
root); :class:`Offices` then signs what each user asks, as the page or the command line
would, into the four ``Accord-Act-*`` headers, and brings a fresh center to where the tests
start: every party's root signed the agreement, every user's key registered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import yaml

from accord.office import act_headers, with_roots
from accord.record.canonical import encode_base64
from accord.record.keys import PrivateKey

__all__ = ["ROOTS", "Offices", "act_headers", "root_of", "rooted", "user_key"]


def _seed(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(("accord-tests", *parts)).encode()).digest()


def root_of(member: str) -> PrivateKey:
    """``member``'s root key (its office's, offline in life)."""
    return PrivateKey.from_seed(member, _seed("root", member))


def user_key(member: str, user: str, device: str = "1") -> PrivateKey:
    """The key of ``user``'s device ``device``."""
    return PrivateKey.from_seed(member, _seed("user", member, user, device))


ROOTS = ("parties", "notifiers", "monitors")


def rooted(text: str) -> str:
    """The agreement YAML ``text`` with every party, notifier and monitor naming its root."""
    data = yaml.safe_load(text)
    members = [m["id"] for group in ROOTS for m in data.get(group) or ()]
    return with_roots(text, {member: root_of(member).public for member in members})


class Offices:
    """Every member's office: signs each user's acts with the user's own key (or the
    member's root), at the center's clock."""

    def __init__(
        self, origin: str, users: Mapping[str, tuple[str, Any]], clock: Callable[[], datetime]
    ) -> None:
        self.origin = origin
        self.users = {name: member for name, (member, _role) in users.items()}
        self.centers = {name for name, (_member, role) in users.items() if str(role) == "admin"}
        """The administrators: the center's own users, whose writes carry no member's act."""
        self.clock = clock
        self.keys: dict[str, PrivateKey] = {}
        """User → the key its acts are signed with, when not its first device's."""
        self.tokens: dict[str, str] = {}
        """User → its bearer token, for a test that keeps them here."""

    def key(self, user: str) -> PrivateKey:
        return self.keys.get(user) or user_key(self.users[user], user)

    def headers(
        self,
        user: str,
        method: str,
        url: str,
        body: Mapping[str, Any] | None,
        *,
        key: PrivateKey | None = None,
        at: datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The act headers of ``user``'s request (``url`` as sent: path and query)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers, _ = act_headers(
            key or self.key(user),
            origin=self.origin,
            member=self.users[user],
            user=user,
            method=method,
            path=path,
            body=body,
            at=at or self.clock(),
            nonce=nonce,
        )
        return headers

    def start(self, client: Any, tokens: Mapping[str, str]) -> None:
        """Bring a fresh center to where the tests start, over ``client`` (an httpx client
        of its API): every party's root signs the agreement, then every user of ``tokens``
        has its key registered by its member's root. Each act is carried by a token of its
        member (``tokens`` must hold one per party)."""
        first = client.get(
            "/v1/record/entries", params={"start": 0, "end": 1},
            headers=_bearer(tokens, next(iter(tokens))),
        )  # fmt: skip
        digest = _first_digest(first.json())
        assert digest is not None, "the record does not begin with the agreement"
        parties = sorted({m for u, m in self.users.items() if u in tokens})
        for member in parties:
            carrier = next(u for u in tokens if self.users[u] == member)
            body = {"digest": digest}
            self._root_post(client, tokens, carrier, member, "/v1/agreement/signatures", body)
        for user in tokens:
            if user in self.centers:
                continue
            body = self.registration(user)
            self._root_post(client, tokens, user, self.users[user], "/v1/keys/registrations", body)

    def _root_post(
        self,
        client: Any,
        tokens: Mapping[str, str],
        user: str,
        member: str,
        path: str,
        body: dict[str, Any],
    ) -> None:
        headers = {**self.headers(user, "POST", path, body, key=root_of(member)),
                   **_bearer(tokens, user)}  # fmt: skip
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 201, f"{path}: {answer.status_code} {answer.text}"

    def registration(self, user: str, key: PrivateKey | None = None) -> dict[str, Any]:
        """The body of a registration of ``user``'s key."""
        key = key or self.key(user)
        return {"user": user, "public_key": encode_base64(key.public.raw), "purposes": ["act"]}


def _bearer(tokens: Mapping[str, str], user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[user]}"}


def _first_digest(page: Any) -> str | None:
    """The agreement's digest in the record's first entry, from a page of
    ``GET /v1/record/entries``."""
    import base64
    import json

    for item in page["entries"]:
        envelope = json.loads(base64.b64decode(item["data"]))
        event = envelope["entry"]["event"]
        if event.get("kind") == "agreement.adopted":
            return str(event["digest"])
    return None
