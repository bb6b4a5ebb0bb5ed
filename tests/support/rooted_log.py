"""Rooted logs as the verifier's tests build them: a center that holds no party's key,
entry 0 adopting an agreement that names the parties' roots, the roots signing it and
certifying their users' keys, and the users' acts taken in as version 2 entries."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from accord.agreement import load_agreement_text
from accord.record.acts import Act, SignedAct, new_nonce, new_salt, seal_of, sign_act
from accord.record.keys import KeyRing, Member, PrivateKey
from accord.record.log import MerkleLog
from accord.record.recorder import Recorder
from accord.record.registry import Registration, agreement_digest
from support.record import seeded

ORIGIN = "accord.example/jcc"
CENTER = PrivateKey.from_seed(ORIGIN, bytes(32))
ROOTS = {name: seeded(name) for name in ("blue", "red", "hnc", "observers")}
ROLES = {"blue": "party", "red": "party", "hnc": "notifier", "observers": "monitor"}
WITNESSES = {
    name: PrivateKey.from_seed(name, hashlib.sha256(b"witness " + name.encode()).digest())
    for name in ROLES
}
RING = KeyRing(CENTER.public, [Member(WITNESSES[n].public, role) for n, role in ROLES.items()])
"""The key ring a party verifies with: the center's key, and the members' (witness) keys,
which in a rooted log sign no entry."""
for _name, _key in ROOTS.items():  # a member's key in the ring is never its root
    assert RING.member(_name).raw != _key.public.raw
T0 = datetime(2026, 9, 20, 12, tzinfo=UTC)

SIGN = "POST /v1/agreement/signatures"
REGISTER = "POST /v1/keys/registrations"
REVOKE = "POST /v1/keys/revocations"
APPROVE = "POST /v1/operations/op-17/approve"
REGISTRY_KINDS = ("agreement.signed", "key.registered", "key.revoked")


def agreement_yaml(*, title: str | None = None) -> str:
    """The example agreement with every party's, notifier's and monitor's root key."""
    text = resources.files("accord.examples").joinpath("jig.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for group in ("parties", "notifiers", "monitors"):
        for member in data[group]:
            member["root_key"] = ROOTS[member["id"]].public.vkey()
    if title is not None:
        data["title"] = title
    return yaml.safe_dump(data, sort_keys=False)


def agreement_document(*, title: str | None = None) -> dict[str, Any]:
    """The agreement as entry 0 holds it: ``Agreement.model_dump(mode="json")``."""
    return load_agreement_text(agreement_yaml(title=title)).model_dump(mode="json")


# --- the log --------------------------------------------------------------------------------


class RootedLog:
    """A rooted log being written, entry by entry, a minute apart."""

    def __init__(self, path: Path, *, document: Mapping[str, Any] | None = None) -> None:
        self.recorder = Recorder(MerkleLog.open(path, ORIGIN))
        self.now = T0
        self.users: dict[tuple[str, str], PrivateKey] = {}
        self._pending: list[Any] = []
        self.openings: dict[str, dict[str, Any]] = {}
        self._batching = False
        self.document = dict(document if document is not None else agreement_document())
        self.digest = agreement_digest(self.document)
        self.center(
            {"kind": "agreement.adopted", "agreement": self.document, "digest": self.digest}
        )

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    @property
    def size(self) -> int:
        return self.recorder.log.size + len(self._pending)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Append the entries written inside in one transaction, on leaving."""
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self.recorder.append_many(self._pending)
            self._pending = []

    def center(self, event: Mapping[str, Any], *, key: PrivateKey = CENTER) -> int:
        """An entry of version 1 by ``key``'s name (the center's own, by default)."""
        return self._add((event, key, self._tick()))

    def _add(self, item: Any) -> int:
        index = self.size
        self._pending.append(item)
        if not self._batching:
            self.recorder.append_many(self._pending)
            self._pending = []
        return index

    def signed(
        self,
        member: str,
        user: str,
        key: PrivateKey,
        action: str,
        body: Mapping[str, Any],
        *,
        nonce: str | None = None,
        origin: str = ORIGIN,
    ) -> SignedAct:
        """An act of ``member``'s user ``user`` asking ``body`` (sealed), signed with ``key``;
        its opening is kept in :attr:`openings`, by nonce."""
        salt = new_salt()
        seal = seal_of(dict(body), salt=salt)
        nonce = nonce or new_nonce()
        act = Act(origin, member, user, key.key_id, self.now, nonce, action, seal)
        self.openings[nonce] = {"salt": salt, "body": dict(body)}
        return sign_act(act, key)

    def take(
        self,
        event: Mapping[str, Any],
        signed: SignedAct,
        *,
        key: bytes | None = None,
        author: str | None = None,
        opening: Mapping[str, Any] | None = None,
        opened: bool | None = None,
    ) -> int:
        """The center takes ``signed`` in as an entry of ``event`` (by the act's member, with
        the act's key beside it unless ``key`` or ``author`` say otherwise), showing its
        opening (``opening``, or the one it was sealed with) for the acts whose content is
        public — the registry's — unless ``opened`` says otherwise."""
        raw = key if key is not None else self._raw[signed.act.key]
        member = {"key": base64.b64encode(raw).decode(), "signed": signed.to_json()}
        if opened is None:
            opened = event.get("kind") in REGISTRY_KINDS
        if opened:
            member["opening"] = dict(opening or self.openings[signed.act.nonce])
        return self._append(event, author or signed.act.member, member)

    def of(self, event: Mapping[str, Any], author: str, index: int) -> int:
        """A further entry caused by the act of entry ``index``."""
        return self._append(event, author, {"of": index})

    def _append(self, event: Mapping[str, Any], author: str, act: Mapping[str, Any]) -> int:
        return self._add((event, CENTER, self._tick(), author, act))

    @property
    def _raw(self) -> dict[str, bytes]:
        keys = [*ROOTS.values(), *self.users.values()]
        return {k.key_id: k.public.raw for k in keys}

    # --- registry acts ------------------------------------------------------------------

    def sign_agreement(self, member: str, *, digest: str | None = None) -> int:
        digest = digest or self.digest
        signed = self.signed(member, "office", ROOTS[member], SIGN, {"digest": digest})
        return self.take({"kind": "agreement.signed", "member": member, "digest": digest}, signed)

    def register(
        self,
        member: str,
        user: str,
        key: PrivateKey,
        *,
        purposes: tuple[str, ...] = ("act",),
        replaces: str | None = None,
        by: PrivateKey | None = None,
        by_user: str = "office",
        event: Mapping[str, Any] | None = None,
    ) -> int:
        """``member``'s root (or ``by``) registers ``key`` for ``user``."""
        self.users[(member, user)] = key
        registration = Registration(user, key.public.raw, frozenset(purposes), replaces)
        body = registration.to_json()
        signed = self.signed(member, by_user, by or ROOTS[member], REGISTER, body)
        said = {
            "kind": "key.registered",
            "member": member,
            "user": user,
            "key": key.key_id,
            "public_key": body["public_key"],
            "purposes": body["purposes"],
        }
        if replaces is not None:
            said["replaces"] = replaces
        return self.take(event if event is not None else said, signed)

    def revoke(self, member: str, key_id: str, reason: str = "device lost") -> int:
        signed = self.signed(
            member, "office", ROOTS[member], REVOKE, {"key": key_id, "reason": reason}
        )
        event = {"kind": "key.revoked", "member": member, "key": key_id, "reason": reason}
        return self.take(event, signed)

    # --- ordinary acts ------------------------------------------------------------------

    def approve(self, member: str, user: str, n: int = 0, **kwargs: Any) -> int:
        """An approval by ``member``'s user ``user`` with the user's registered key."""
        key = self.users[(member, user)]
        signed = self.signed(member, user, key, APPROVE, {"version": n})
        return self.take(
            {"kind": "operation.approved", "operation": "op-17", "n": n}, signed, **kwargs
        )

    def head(self) -> None:
        self.recorder.sign_head(key=CENTER, timestamp=1_790_000_000 + self.size)

    def close(self) -> None:
        self.recorder.log.close()


@contextlib.contextmanager
def rooted(path: Path, **kwargs: Any) -> Iterator[RootedLog]:
    """A rooted log at ``path``; its head is signed and the file closed on leaving."""
    log = RootedLog(path, **kwargs)
    try:
        yield log
        log.head()
    finally:
        log.close()


AMIRA = seeded("amira")
OMAR = seeded("omar")
LINA = seeded("lina")


def standard(log: RootedLog, *, acts_each: int = 3) -> None:
    """Both parties sign, each registers a user, the agreement comes into force, each user
    acts ``acts_each`` times, the center writes its own entries between."""
    log.sign_agreement("blue")
    log.register("blue", "amira", AMIRA)
    log.sign_agreement("red")
    log.register("red", "omar", OMAR)
    log.center({"kind": "phase.changed", "phase": "truce"})
    for n in range(acts_each):
        log.approve("blue", "amira", n)
        log.approve("red", "omar", n)
        log.center({"kind": "conflict.found", "n": n})
