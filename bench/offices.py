"""The members' offices of a bench run: each member's root key and each bench user's own key,
kept in a folder of the bench's own (never the server's data or keys folder), and the acts
they sign (issue 17).

A bench that drives a server serves it an agreement naming its members' roots
(:func:`rooted`), then — as each member's office would — has every party's root sign the
agreement's digest (read from the record's first entry) and every bench user's key
registered by its member's root (:meth:`BenchOffices.start`). From then on every write a
bench client sends is signed by its user's own key: :class:`~accord.office.SignedActs` for the
httpx clients, :class:`Signer` (the same :func:`~accord.office.act_headers`) for the load's
lean clients. :func:`assert_center_keys_only` checks that the server's keys folder holds the
center's key and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import rfc8785
import yaml

from accord.chrono import format_instant
from accord.office import ROOTED_GROUPS, Office, SignedActs, with_roots
from accord.record.acts import Act, new_nonce, new_salt, seal_of, sign_act
from accord.record.canonical import encode_base64
from accord.record.keys import PrivateKey

__all__ = [
    "BenchOffices",
    "Sealed",
    "Signer",
    "assert_center_keys_only",
    "members_of",
    "parties_of",
]

Clock = Callable[[], datetime]


def members_of(text: str) -> list[str]:
    """The members of an agreement text that name a root: parties, notifiers, monitors."""
    data = yaml.safe_load(text)
    return [m["id"] for group in ROOTED_GROUPS for m in data.get(group) or ()]


def parties_of(text: str) -> list[str]:
    return sorted(m["id"] for m in yaml.safe_load(text).get("parties") or ())


class BenchOffices:
    """One office folder per member under ``folder`` (a root key each) and a key for each of
    ``users`` (name → (member, role)) in its member's office; made on first use, read again
    when the folder holds them already (a kept world)."""

    def __init__(
        self, folder: Path, members: Iterable[str], users: Mapping[str, tuple[str, Any]]
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.members = {user: member for user, (member, _role) in users.items()}
        self._roots: dict[str, PrivateKey] = {}
        self._keys: dict[str, PrivateKey] = {}
        for member in members:
            office = Office(self.folder / member, member)
            self._roots[member] = office.root() if office.root_path.exists() else office.init()
        for user, member in self.members.items():
            self._keys[user] = Office(self.folder / member, member).user_key(user, create=True)

    def root(self, member: str) -> PrivateKey:
        return self._roots[member]

    def key(self, user: str) -> PrivateKey:
        return self._keys[user]

    def rooted(self, text: str) -> str:
        """The agreement ``text`` naming each member's root (what each root signs)."""
        return with_roots(text, {m: k.public for m, k in self._roots.items()})

    def auth(self, user: str, token: str, origin: str, clock: Clock) -> SignedActs:
        """``user``'s httpx auth: the bearer token, and every write signed with its key."""
        return SignedActs(
            token=token, key=self.key(user), origin=origin, member=self.members[user],
            user=user, clock=clock,
        )  # fmt: skip

    def signer(self, user: str, origin: str, clock: Clock) -> Signer:
        return Signer(self.key(user), origin, self.members[user], user, clock)

    def start(
        self, client: httpx.Client, tokens: Mapping[str, str], *, origin: str, clock: Clock,
        parties: Iterable[str],
    ) -> None:  # fmt: skip
        """Over ``client`` (an httpx client of a fresh center's API), as each member's
        office does: every party's root signs the agreement's digest (the record's first
        entry), then every user of ``tokens`` has its key registered by its member's root.
        Each act is carried by a token of its member."""

        def root_post(user: str, path: str, body: dict[str, Any]) -> None:
            member = self.members[user]
            auth = SignedActs(
                token=tokens[user], key=self.root(member), origin=origin, member=member,
                user=user, clock=clock,
            )  # fmt: skip
            answer = client.post(path, json=body, auth=auth)
            assert answer.status_code == 201, f"{path}: {answer.status_code} {answer.text}"

        first = client.get(
            "/v1/record/entries", params={"start": 0, "end": 1},
            headers={"Authorization": f"Bearer {next(iter(tokens.values()))}"},
        )  # fmt: skip
        assert first.status_code == 200, first.text
        digest = _agreement_digest(first.json())
        for party in parties:
            carrier = next(u for u in tokens if self.members[u] == party)
            root_post(carrier, "/v1/agreement/signatures", {"digest": digest})
        for user in tokens:
            key = self.key(user)
            body = {"user": user, "public_key": encode_base64(key.public.raw), "purposes": ["act"]}
            root_post(user, "/v1/keys/registrations", body)


def _agreement_digest(page: Any) -> str:
    for item in page["entries"]:
        event = json.loads(base64.b64decode(item["data"]))["entry"]["event"]
        if event.get("kind") == "agreement.adopted":
            return str(event["digest"])
    raise AssertionError("the record does not begin with the agreement")


def assert_center_keys_only(keys_dir: Path, origin: str, offices: BenchOffices) -> None:
    """The server's keys folder holds the center's key alone (no member's private key), and
    the offices lie outside it."""
    held = sorted(p.name for p in Path(keys_dir).iterdir())
    assert held == [f"{origin}.key"], f"the server's keys folder holds {held}"
    keys, folder = Path(keys_dir).resolve(), offices.folder.resolve()
    assert not folder.is_relative_to(keys) and not keys.is_relative_to(folder), (keys, folder)


@dataclass(frozen=True, slots=True)
class Sealed:
    """A request body with its JSON text and its JCS form computed once (a body a client
    sends many times over, each time under a fresh salt)."""

    body: dict[str, Any]
    text: bytes
    canonical: bytes

    @classmethod
    def of(cls, body: dict[str, Any]) -> Sealed:
        sealed = cls(body, json.dumps(body, separators=(",", ":")).encode(), rfc8785.dumps(body))
        salt = new_salt()  # held to the library's seal once, so the shortcut cannot drift
        assert sealed.seal(salt) == seal_of(body, salt=salt)
        return sealed

    def seal(self, salt: str) -> str:
        return hashlib.sha256(base64.urlsafe_b64decode(salt + "=") + self.canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class Signer:
    """A lean client's signer: the ``Accord-Act-*`` header lines of each write, signed with
    the user's own key, a fresh nonce and salt each (what :func:`accord.office.act_headers`
    makes; for a :class:`Sealed` body the seal reuses its JCS form)."""

    key: PrivateKey
    origin: str
    member: str
    user: str
    clock: Clock

    def header_lines(self, method: str, path: str, body: dict[str, Any] | Sealed | None) -> bytes:
        salt = new_salt()
        seal = body.seal(salt) if isinstance(body, Sealed) else seal_of(dict(body or {}), salt=salt)
        act = Act(
            origin=self.origin, member=self.member, user=self.user, key=self.key.key_id,
            at=self.clock(), nonce=new_nonce(), action=f"{method} {path}", seal=seal,
        )  # fmt: skip
        signed = sign_act(act, self.key)
        return (
            f"Accord-Act-Key: {self.key.key_id}\r\n"
            f"Accord-Act-At: {format_instant(act.at)}\r\n"
            f"Accord-Act-Nonce: {act.nonce}\r\n"
            f"Accord-Act-Salt: {salt}\r\n"
            f"Accord-Act-Signature: {encode_base64(signed.signature)}\r\n"
        ).encode("latin-1")


def rooted_example(folder: Path) -> Path:
    """The embedded example agreement naming fresh roots (made here, in ``folder``'s
    ``offices``: for a bench whose center takes no member's act), written to
    ``folder/agreement.yaml``; its path."""
    from accord.examples import example_path

    text = example_path("jig.yaml").read_text(encoding="utf-8")
    offices = BenchOffices(folder / "offices", members_of(text), {})
    path = folder / "agreement.yaml"
    path.write_text(offices.rooted(text), encoding="utf-8")
    return path
