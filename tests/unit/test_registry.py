"""The key registry (:mod:`accord.record.registry`) and the agreement's trust roots: who may
sign the agreement, certify a key and act, from which entry and until which; the strict
readers of the registry's act bodies; and a brute-force oracle the fold is held to."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.agreement import Agreement, load_agreement_text
from accord.errors import ActError, ActKeyError, AgreementError
from accord.record.keys import SIG_ED25519_COSIGNATURE, PrivateKey, PublicKey
from accord.record.registry import (
    ACT,
    CERTIFY,
    KeyRegistry,
    Registered,
    Registration,
    Revocation,
    agreement_digest,
    fingerprint,
    registration_from_body,
    revocation_from_body,
    signature_digest_from_body,
)
from support.record import seeded

PARTIES = ("blue", "red")
ROOT = {member: seeded(member) for member in (*PARTIES, "hnc")}  # hnc: a notifier
ROOT_ID = {member: key.key_id for member, key in ROOT.items()}
AMIRA, BO, DESK, DESK2 = (seeded(f"user-{n}") for n in ("amira", "bo", "desk", "desk2"))
ACT_ONLY = frozenset({ACT})
CERTIFY_ONLY = frozenset({CERTIFY})


def new_registry() -> KeyRegistry:
    return KeyRegistry({m: k.public for m, k in ROOT.items()}, parties=PARTIES)


def asking(
    key: PrivateKey,
    user: str = "amira",
    purposes: frozenset[str] = ACT_ONLY,
    replaces: str | None = None,
) -> Registration:
    return Registration(user, key.public.raw, purposes, replaces)


def by_root(
    registry: KeyRegistry, registration: Registration, *, index: int, member: str = "blue"
) -> Registered:
    """``member``'s root registers ``registration`` at entry ``index``."""
    return registry.register(
        registration, member=member, key_id=ROOT_ID[member], user="office", index=index
    )


def state(registry: KeyRegistry) -> tuple[object, ...]:
    """Everything a refused change must leave as it was."""
    return (registry.registered(), dict(registry.signed), registry.in_force_at)


def refused_unchanged(
    registry: KeyRegistry, error: type[ActError], change: Callable[[], object]
) -> ActError:
    before = state(registry)
    with pytest.raises(error) as info:
        change()
    assert state(registry) == before
    return info.value


# --- the agreement's signatures -------------------------------------------------------------


def test_the_agreement_is_in_force_once_every_partys_root_signed() -> None:
    registry = new_registry()
    registry.sign_agreement(member="hnc", key_id=ROOT_ID["hnc"], index=1)
    registry.sign_agreement(member="blue", key_id=ROOT_ID["blue"], index=2)
    assert registry.in_force_at is None
    assert not registry.in_force(10)
    registry.sign_agreement(member="red", key_id=ROOT_ID["red"], index=3)
    assert registry.in_force_at == 3
    assert registry.signed == {"hnc": 1, "blue": 2, "red": 3}
    assert not registry.in_force(3)  # from the entry on: acts after it
    assert registry.in_force(4)


def test_a_notifiers_root_is_not_needed_for_force() -> None:
    registry = new_registry()
    registry.sign_agreement(member="red", key_id=ROOT_ID["red"], index=1)
    registry.sign_agreement(member="blue", key_id=ROOT_ID["blue"], index=2)
    assert registry.in_force_at == 2
    registry.sign_agreement(member="hnc", key_id=ROOT_ID["hnc"], index=5)
    assert registry.in_force_at == 2  # a later signature moves nothing


def test_a_root_signs_the_agreement_once() -> None:
    registry = new_registry()
    registry.sign_agreement(member="blue", key_id=ROOT_ID["blue"], index=1)
    error = refused_unchanged(
        registry,
        ActKeyError,
        lambda: registry.sign_agreement(member="blue", key_id=ROOT_ID["blue"], index=2),
    )
    assert error.field == "member"
    assert "entry 1" in error.message
    assert registry.signed == {"blue": 1}


def test_only_the_members_root_signs_the_agreement() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=1)
    for member, key_id, where in [
        ("blue", AMIRA.key_id, "key"),  # a certified act key
        ("blue", ROOT_ID["red"], "key"),  # another party's root
        ("blue", DESK.key_id, "key"),  # no key of the record
        ("green", ROOT_ID["blue"], "member"),  # no root in the agreement
    ]:
        error = refused_unchanged(
            registry,
            ActKeyError,
            lambda m=member, k=key_id: registry.sign_agreement(member=m, key_id=k, index=5),
        )
        assert error.field == where
    assert registry.signed == {}


def test_the_registry_wants_every_partys_root() -> None:
    with pytest.raises(ValueError, match="red"):
        KeyRegistry({"blue": ROOT["blue"].public}, parties=PARTIES)


# --- certifying, acting, ending -------------------------------------------------------------


def test_a_root_certifies_an_act_key() -> None:
    registry = new_registry()
    made = by_root(registry, asking(AMIRA), index=3)
    assert made == Registered(
        member="blue",
        user="amira",
        key=PublicKey("blue", AMIRA.public.raw),
        purposes=ACT_ONLY,
        registered_at=3,
        registered_by=ROOT_ID["blue"],
    )
    assert made.key_id == AMIRA.key_id == asking(AMIRA).key_id
    assert registry.get(AMIRA.key_id) == made
    assert registry.registered() == [made]


def test_a_key_acts_only_at_entries_after_its_registration() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=3)
    for index in (0, 2, 3):
        with pytest.raises(ActKeyError, match="not registered") as info:
            registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=index)
        assert info.value.field == "key"
    for index in (4, 5, 1000):
        key = registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=index)
        assert key.raw == AMIRA.public.raw


def test_a_revoked_key_acts_only_before_its_revocation() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=3)
    registry.revoke(
        Revocation(AMIRA.key_id, "device lost"),
        member="blue",
        key_id=ROOT_ID["blue"],
        user="office",
        index=7,
    )
    ended = registry.get(AMIRA.key_id)
    assert ended is not None
    assert (ended.ended_at, ended.ended_how) == (7, "revoked")
    for index in (7, 8, 100):
        with pytest.raises(ActKeyError) as info:
            registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=index)
        assert info.value.field == "key"
        assert "revoked at entry 7" in info.value.message
    for index in (4, 6):  # acts before the revocation still pass (as the verifier walks)
        assert registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=index)
    assert [i for i in range(10) if ended.valid_at(i)] == [4, 5, 6]


def test_rotation_ends_the_old_key_where_the_new_one_starts() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=3)
    rotated = by_root(registry, asking(BO, replaces=AMIRA.key_id), index=6)
    old = registry.get(AMIRA.key_id)
    assert old is not None
    assert (old.ended_at, old.ended_how) == (6, "replaced")
    assert rotated.ended_at is None
    assert registry.registered() == [old, rotated]
    assert registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=5)
    with pytest.raises(ActKeyError, match="replaced at entry 6"):
        registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=6)
    with pytest.raises(ActKeyError, match="not registered"):
        registry.actor(member="blue", user="amira", key_id=BO.key_id, index=6)
    assert registry.actor(member="blue", user="amira", key_id=BO.key_id, index=7)


def test_a_key_is_its_users_and_its_members() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=1)
    with pytest.raises(ActKeyError, match="'amira'") as info:
        registry.actor(member="blue", user="bo", key_id=AMIRA.key_id, index=2)
    assert info.value.field == "key"
    with pytest.raises(ActKeyError, match="not registered for red"):
        registry.actor(member="red", user="amira", key_id=AMIRA.key_id, index=2)


@pytest.mark.parametrize("root", ["blue", "red", "hnc"])
def test_a_root_never_signs_an_act(root: str) -> None:
    registry = new_registry()
    for member in ("blue", root):
        with pytest.raises(ActKeyError, match="root key") as info:
            registry.actor(member=member, user="office", key_id=ROOT_ID[root], index=5)
        assert info.value.field == "key"


def test_only_the_root_certifies_a_key_to_certify() -> None:
    registry = new_registry()
    desk = by_root(registry, asking(DESK, "desk", CERTIFY_ONLY), index=1)
    assert desk.purposes == CERTIFY_ONLY
    for purposes in (CERTIFY_ONLY, frozenset({ACT, CERTIFY})):
        error = refused_unchanged(
            registry,
            ActKeyError,
            lambda p=purposes: registry.register(
                asking(AMIRA, purposes=p), member="blue", key_id=DESK.key_id, user="desk", index=2
            ),
        )
        assert error.field == "body.purposes"


def test_a_certify_key_registers_act_keys_of_its_own_party() -> None:
    registry = new_registry()
    by_root(registry, asking(DESK, "desk", CERTIFY_ONLY), index=1)
    by_root(registry, asking(BO, "bo"), index=1, member="red")
    made = registry.register(asking(AMIRA), member="blue", key_id=DESK.key_id, user="desk", index=2)
    assert made.registered_by == DESK.key_id
    assert registry.actor(member="blue", user="amira", key_id=AMIRA.key_id, index=3)
    # a certify key signs no act, and an act key certifies nothing
    with pytest.raises(ActKeyError, match="not certified to act"):
        registry.actor(member="blue", user="desk", key_id=DESK.key_id, index=3)
    refused_unchanged(
        registry,
        ActKeyError,
        lambda: registry.register(
            asking(DESK2), member="blue", key_id=AMIRA.key_id, user="amira", index=4
        ),
    )
    # not for another party, nor signed as another user, nor before its own entry
    for member, user, index in [("red", "desk", 4), ("blue", "amira", 4), ("blue", "desk", 1)]:
        refused_unchanged(
            registry,
            ActKeyError,
            lambda m=member, u=user, i=index: registry.register(
                asking(DESK2), member=m, key_id=DESK.key_id, user=u, index=i
            ),
        )
    error = refused_unchanged(
        registry,
        ActError,
        lambda: registry.revoke(
            Revocation(BO.key_id, ""), member="blue", key_id=DESK.key_id, user="desk", index=4
        ),
    )
    assert error.field == "body.key"
    registry.revoke(
        Revocation(AMIRA.key_id, ""), member="blue", key_id=DESK.key_id, user="desk", index=5
    )
    assert registry.get(AMIRA.key_id).ended_at == 5


def test_a_certify_key_ends_no_certify_key() -> None:
    registry = new_registry()
    by_root(registry, asking(DESK, "desk", CERTIFY_ONLY), index=1)
    by_root(registry, asking(DESK2, "desk2", frozenset({ACT, CERTIFY})), index=1)
    error = refused_unchanged(
        registry,
        ActKeyError,
        lambda: registry.revoke(
            Revocation(DESK2.key_id, ""), member="blue", key_id=DESK.key_id, user="desk", index=2
        ),
    )
    assert error.field == "body.key"
    error = refused_unchanged(
        registry,
        ActKeyError,
        lambda: registry.register(
            asking(AMIRA, "desk2", replaces=DESK2.key_id),
            member="blue",
            key_id=DESK.key_id,
            user="desk",
            index=2,
        ),
    )
    assert error.field == "body.replaces"
    # the root may
    registry.revoke(
        Revocation(DESK2.key_id, "left"), member="blue", key_id=ROOT_ID["blue"], user="", index=3
    )
    # and an ended certify key certifies no more
    registry.revoke(
        Revocation(DESK.key_id, "left"), member="blue", key_id=ROOT_ID["blue"], user="", index=4
    )
    with pytest.raises(ActKeyError, match="revoked at entry 4"):
        registry.register(asking(AMIRA), member="blue", key_id=DESK.key_id, user="desk", index=5)


@pytest.mark.parametrize("who", ["a registered key", "an ended key", "a root", "red's key"])
def test_a_key_id_is_registered_once(who: str) -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=1)
    by_root(registry, asking(BO, "bo"), index=1, member="red")
    registry.revoke(
        Revocation(AMIRA.key_id, ""), member="blue", key_id=ROOT_ID["blue"], user="", index=2
    )
    raw = {
        "a registered key": DESK.public.raw,
        "an ended key": AMIRA.public.raw,
        "a root": ROOT["red"].public.raw,
        "red's key": BO.public.raw,
    }[who]
    if who == "a registered key":
        by_root(registry, asking(DESK, "desk"), index=3)
    error = refused_unchanged(
        registry,
        ActError,
        lambda: by_root(registry, Registration("zed", raw, ACT_ONLY), index=4),
    )
    assert error.field == "body.public_key"
    assert "registered already" in error.message


def test_replaces_names_a_live_key_of_the_same_user() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=1)
    by_root(registry, asking(BO, "bo"), index=1)
    by_root(registry, asking(DESK, "desk"), index=1, member="red")
    registry.revoke(
        Revocation(BO.key_id, ""), member="blue", key_id=ROOT_ID["blue"], user="", index=2
    )
    for replaces, user, fragment in [
        ("0" * 16, "amira", "not a key of blue's user"),
        (BO.key_id, "amira", "not a key of blue's user 'amira'"),  # bo's, not amira's
        (DESK.key_id, "desk", "not a key of blue's user"),  # red's
        (BO.key_id, "bo", "revoked already"),
    ]:
        error = refused_unchanged(
            registry,
            ActError,
            lambda r=replaces, u=user: by_root(registry, asking(DESK2, u, replaces=r), index=3),
        )
        assert error.field == "body.replaces"
        assert fragment in error.message


def test_a_revocation_names_a_live_key_of_the_member() -> None:
    registry = new_registry()
    by_root(registry, asking(AMIRA), index=1)
    by_root(registry, asking(BO, "bo"), index=1, member="red")
    revoke = registry.revoke
    revoke(Revocation(AMIRA.key_id, ""), member="blue", key_id=ROOT_ID["blue"], user="", index=2)
    for key_id, fragment in [
        ("f" * 16, "not a key of blue"),
        (BO.key_id, "not a key of blue"),
        (ROOT_ID["blue"], "not a key of blue"),
        (AMIRA.key_id, "revoked already"),
    ]:
        error = refused_unchanged(
            registry,
            ActError,
            lambda k=key_id: revoke(
                Revocation(k, ""), member="blue", key_id=ROOT_ID["blue"], user="", index=3
            ),
        )
        assert error.field == "body.key"
        assert fragment in error.message
    # another party's root ends none of blue's keys
    refused_unchanged(
        registry,
        ActKeyError,
        lambda: revoke(
            Revocation(AMIRA.key_id, ""), member="blue", key_id=ROOT_ID["red"], user="", index=3
        ),
    )


# --- the act bodies -------------------------------------------------------------------------

RAW = AMIRA.public.raw
GOOD_KEY = base64.b64encode(RAW).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# the last character's unused low bits set: decodes to the same 32 bytes, but is not canonical
LOOSE_KEY = GOOD_KEY[:42] + _ALPHABET[_ALPHABET.index(GOOD_KEY[42]) ^ 1] + GOOD_KEY[43:]


def test_registration_bodies_round_trip() -> None:
    for registration in (
        Registration("amira", RAW, ACT_ONLY),
        Registration("Amira Haddad", RAW, frozenset({ACT, CERTIFY}), replaces=BO.key_id),
    ):
        assert registration_from_body(registration.to_json()) == registration
    assert registration_from_body({"user": "amira", "public_key": GOOD_KEY}).purposes == ACT_ONLY
    assert base64.b64decode(LOOSE_KEY) == RAW and LOOSE_KEY != GOOD_KEY


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda b: [b], "body"),
        (lambda b: {**b, "sig": "x"}, "body.sig"),
        (lambda b: {**b, "user": ""}, "body.user"),
        (lambda b: {**b, "user": " amira"}, "body.user"),
        (lambda b: {**b, "user": "a" * 65}, "body.user"),
        (lambda b: {**b, "user": "a\nb"}, "body.user"),
        (lambda b: {**b, "user": 7}, "body.user"),
        (lambda b: {k: v for k, v in b.items() if k != "user"}, "body.user"),
        (lambda b: {**b, "public_key": "not base64!"}, "body.public_key"),
        (lambda b: {**b, "public_key": GOOD_KEY.rstrip("=")}, "body.public_key"),
        (lambda b: {**b, "public_key": "-_" + GOOD_KEY[2:]}, "body.public_key"),
        (lambda b: {**b, "public_key": GOOD_KEY + "\n"}, "body.public_key"),
        (lambda b: {**b, "public_key": "é" + GOOD_KEY[1:]}, "body.public_key"),
        (lambda b: {**b, "public_key": base64.b64encode(RAW[:31]).decode()}, "body.public_key"),
        (lambda b: {**b, "public_key": base64.b64encode(RAW + b"!").decode()}, "body.public_key"),
        (lambda b: {**b, "public_key": LOOSE_KEY}, "body.public_key"),
        (lambda b: {**b, "public_key": list(RAW)}, "body.public_key"),
        (lambda b: {k: v for k, v in b.items() if k != "public_key"}, "body.public_key"),
        (lambda b: {**b, "purposes": []}, "body.purposes"),
        (lambda b: {**b, "purposes": ["act", "act"]}, "body.purposes"),
        (lambda b: {**b, "purposes": ["sign"]}, "body.purposes"),
        (lambda b: {**b, "purposes": "act"}, "body.purposes"),
        (lambda b: {**b, "purposes": None}, "body.purposes"),
        (lambda b: {**b, "purposes": [["act"]]}, "body.purposes"),
        (lambda b: {**b, "replaces": "0123"}, "body.replaces"),
        (lambda b: {**b, "replaces": BO.key_id.upper()}, "body.replaces"),
        (lambda b: {**b, "replaces": BO.key_id + "\n"}, "body.replaces"),
        (lambda b: {**b, "replaces": 12}, "body.replaces"),
    ],
)
def test_a_bad_registration_body_names_its_field(
    change: Callable[[dict[str, Any]], object], where: str
) -> None:
    body = {"user": "amira", "public_key": GOOD_KEY, "purposes": ["act"], "replaces": "0" * 16}
    registration_from_body(body)
    with pytest.raises(ActError) as info:
        registration_from_body(change(body))
    assert info.value.field == where


def test_revocation_bodies() -> None:
    assert revocation_from_body({"key": BO.key_id}) == Revocation(BO.key_id, "")
    assert revocation_from_body({"key": BO.key_id, "reason": "r" * 500}).reason == "r" * 500
    for body, where in [
        ("key", "body"),
        ({}, "body.key"),
        ({"key": BO.key_id[:-1]}, "body.key"),
        ({"key": "g" * 16}, "body.key"),
        ({"key": BO.key_id, "reason": "r" * 501}, "body.reason"),
        ({"key": BO.key_id, "reason": None}, "body.reason"),
        ({"key": BO.key_id, "why": "lost"}, "body.why"),
    ]:
        with pytest.raises(ActError) as info:
            revocation_from_body(body)
        assert info.value.field == where, body


def test_signature_bodies() -> None:
    digest = hashlib.sha256(b"agreement").hexdigest()
    assert signature_digest_from_body({"digest": digest}) == digest
    for body, where in [
        (digest, "body"),
        ({}, "body.digest"),
        ({"digest": digest.upper()}, "body.digest"),
        ({"digest": digest[:-1]}, "body.digest"),
        ({"digest": digest + "\n"}, "body.digest"),
        ({"digest": digest, "by": "blue"}, "body.by"),
    ]:
        with pytest.raises(ActError) as info:
            signature_digest_from_body(body)
        assert info.value.field == where, body


# --- digests and fingerprints ---------------------------------------------------------------

DOCUMENT: dict[str, Any] = {
    "id": "demo",
    "parties": [{"id": "blue", "name": "Blue"}, {"id": "red", "name": "Red"}],
    "categories": {"coordinated": {"rule": "coordinated", "max_executors": 1}},
    "limits": {"writer_share": 0.5, "strict": True, "none": None},
}


def _leaves(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _reversed(value: object) -> object:
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def test_the_agreement_digest_is_the_canonical_forms() -> None:
    digest = agreement_digest(DOCUMENT)
    assert digest == hashlib.sha256(rfc8785.dumps(DOCUMENT)).hexdigest()
    assert agreement_digest(_reversed(DOCUMENT)) == digest
    assert list(_reversed(DOCUMENT)) != list(DOCUMENT)


def test_the_agreement_digest_changes_with_any_field() -> None:
    digest = agreement_digest(DOCUMENT)
    paths = _leaves(DOCUMENT)
    assert len(paths) == 10
    seen = {digest}
    for path in paths:
        changed = copy.deepcopy(DOCUMENT)
        node: Any = changed
        for part in path[:-1]:
            node = node[part]
        old = node[path[-1]]
        node[path[-1]] = "x" if old is None else None if isinstance(old, bool) else old * 2
        seen.add(agreement_digest(changed))
    renamed = {("ID" if k == "id" else k): v for k, v in DOCUMENT.items()}
    seen |= {agreement_digest(renamed), agreement_digest({**DOCUMENT, "extra": None})}
    reordered = {**DOCUMENT, "parties": DOCUMENT["parties"][::-1]}  # a list's order counts
    seen.add(agreement_digest(reordered))
    assert len(seen) == len(paths) + 4


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5), st.randoms())
def test_the_agreement_digest_ignores_key_order(document: dict[str, Any], rng: Any) -> None:
    def shuffled(value: object) -> object:
        if isinstance(value, dict):
            keys = list(value)
            rng.shuffle(keys)
            return {k: shuffled(value[k]) for k in keys}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    assert agreement_digest(shuffled(document)) == agreement_digest(document)


def test_a_fingerprint_begins_with_the_key_id() -> None:
    for key in (AMIRA, BO, *ROOT.values()):
        text = fingerprint(key.public.raw)
        groups = text.split(" ")
        assert len(groups) == 8
        assert all(re.fullmatch(r"[0-9a-f]{4}", g) for g in groups)
        assert "".join(groups[:4]) == key.key_id
        assert "".join(groups) == hashlib.sha256(key.public.raw).hexdigest()[:32]


# --- the agreement's trust roots ------------------------------------------------------------

ACTING = {"parties": ("blue", "red"), "notifiers": ("hnc",), "monitors": ("obs",)}
ROOT_SEED = {
    m: hashlib.sha256(f"root {m}".encode()).digest() for m in ("blue", "red", "hnc", "obs")
}


def root_vkey(member: str) -> str:
    return PrivateKey.from_seed(member, ROOT_SEED[member]).public.vkey()


def agreement_text(roots: dict[str, str | None], operator_root: str | None = None) -> str:
    """An agreement of two parties, a notifier, a monitor and an operator, one member a line,
    naming the roots given (``{}``: none)."""
    lines = ["id: demo", "title: Demo", "starts_at: 2026-05-01T00:00:00Z"]
    members = [(g, m) for g, ids in ACTING.items() for m in ids] + [("operators", "green-af")]
    group = ""
    for where, member in members:
        if where != group:
            lines.append(f"{where}:")
            group = where
        key = operator_root if where == "operators" else roots.get(member)
        extra = "" if key is None else f', root_key: "{key}"'
        lines.append(f"  - {{id: {member}, name: {member.upper()}{extra}}}")
    lines += [
        "categories:",
        "  coordinated: {rule: coordinated}",
        "phases:",
        "  - {id: joint, categories: [coordinated]}",
    ]
    return "\n".join(lines) + "\n"


ALL_ROOTS = {m: root_vkey(m) for m in ROOT_SEED}


def test_the_agreement_names_its_roots() -> None:
    agreement = load_agreement_text(agreement_text(ALL_ROOTS))
    assert agreement.rooted
    roots = agreement.roots()
    assert roots == {m: PrivateKey.from_seed(m, s).public for m, s in ROOT_SEED.items()}
    assert {m: k.vkey() for m, k in roots.items()} == ALL_ROOTS
    registry = KeyRegistry(roots, parties=agreement.party_ids)
    registry.sign_agreement(member="blue", key_id=roots["blue"].key_id, index=1)
    registry.sign_agreement(member="red", key_id=roots["red"].key_id, index=2)
    assert registry.in_force_at == 2


def test_an_agreement_without_roots() -> None:
    agreement: Agreement = load_agreement_text(agreement_text({}))
    assert not agreement.rooted
    assert agreement.roots() == {}
    assert all(m.root_key is None for m in agreement.acting_members)


def _cosigning(member: str) -> str:
    return PrivateKey.from_seed(member, ROOT_SEED[member]).public.vkey(SIG_ED25519_COSIGNATURE)


def _wrong_id(member: str) -> str:
    name, _, material = root_vkey(member).split("+", 2)
    return f"{name}+00000000+{material}"


@pytest.mark.parametrize(
    ("roots", "operator_root", "where", "fragment"),
    [
        pytest.param(
            {**ALL_ROOTS, "red": PrivateKey.from_seed("blue", ROOT_SEED["red"]).public.vkey()},
            None,
            "parties[1].root_key",
            "named 'blue', not 'red'",
            id="named for another member",
        ),
        pytest.param(
            {**ALL_ROOTS, "hnc": PrivateKey.from_seed("hnc", ROOT_SEED["blue"]).public.vkey()},
            None,
            "notifiers[0].root_key",
            "the same key as blue's",
            id="another member's key",
        ),
        pytest.param(
            {**ALL_ROOTS, "red": _cosigning("red")},
            None,
            "parties[1].root_key",
            "0x01",
            id="a cosignature key",
        ),
        pytest.param(
            {**ALL_ROOTS, "obs": "not a key"},
            None,
            "monitors[0].root_key",
            "verifier key",
            id="garbage",
        ),
        pytest.param(
            {**ALL_ROOTS, "red": _wrong_id("red")},
            None,
            "parties[1].root_key",
            "key ID",
            id="a wrong key id",
        ),
        pytest.param(
            {**ALL_ROOTS, "red": root_vkey("red")[:-4]},
            None,
            "parties[1].root_key",
            "verifier key",
            id="cut short",
        ),
        pytest.param(
            ALL_ROOTS,
            root_vkey("blue"),
            "operators[0].root_key",
            "operator",
            id="an operator's root",
        ),
        pytest.param(
            {},
            root_vkey("blue"),
            "operators[0].root_key",
            "operator",
            id="an operator's root, no other",
        ),
        pytest.param(
            {**ALL_ROOTS, "red": None},
            None,
            "parties[1].root_key",
            "or none does",
            id="a party without",
        ),
        pytest.param(
            {"blue": ALL_ROOTS["blue"]},
            None,
            "parties[1].root_key",
            "or none does",
            id="one party only",
        ),
        pytest.param(
            {**ALL_ROOTS, "hnc": None},
            None,
            "notifiers[0].root_key",
            "or none does",
            id="a notifier without",
        ),
        pytest.param(
            {**ALL_ROOTS, "obs": None},
            None,
            "monitors[0].root_key",
            "or none does",
            id="a monitor without",
        ),
    ],
)
def test_a_bad_root_is_refused_naming_its_field(
    roots: dict[str, str | None], operator_root: str | None, where: str, fragment: str
) -> None:
    text = agreement_text(roots, operator_root)
    with pytest.raises(AgreementError) as info:
        load_agreement_text(text, source="roots.yaml")
    issues = [i for i in info.value.issues if i.field == where]
    assert len(issues) == 1, info.value
    assert fragment in issues[0].message
    member = {"parties[1]": "red", "notifiers[0]": "hnc", "monitors[0]": "obs"}.get(
        where.split(".")[0], "green-af"
    )
    assert text.splitlines()[issues[0].line - 1].startswith(f"  - {{id: {member},")
    assert f"field '{where}'" in str(info.value)


# --- the fold against a brute-force oracle --------------------------------------------------

MEMBERS = ("blue", "red", "hnc")
USERS = ("amira", "bo", "desk")
POOL = tuple(seeded(f"pool-{n}").public for n in range(16))
RAWS = tuple(k.raw for k in POOL) + tuple(k.public.raw for k in ROOT.values())


@dataclass
class Oracle:
    """The record's key events as a plain list, every question answered by scanning it."""

    registrations: list[tuple[int, str, str, str, frozenset[str], str]] = field(
        default_factory=list
    )  # (entry, member, user, key id, purposes, registered by)
    ends: list[tuple[int, str, str]] = field(default_factory=list)  # (entry, key id, how)
    signed: dict[str, int] = field(default_factory=dict)
    in_force_at: int | None = None

    def registration(self, key_id: str) -> tuple[int, str, str, str, frozenset[str], str] | None:
        return next((r for r in self.registrations if r[3] == key_id), None)

    def ended(self, key_id: str) -> bool:
        return any(k == key_id for _, k, _ in self.ends)

    def valid(self, member: str, user: str, key_id: str, index: int, purpose: str) -> bool:
        if key_id in ROOT_ID.values():
            return False
        return any(
            r < index and (m, u, k) == (member, user, key_id) and purpose in p
            for r, m, u, k, p, _ in self.registrations
        ) and not any(k == key_id and e <= index for e, k, _ in self.ends)

    def certifies(self, member: str, user: str, key_id: str, index: int) -> bool:
        if key_id in ROOT_ID.values():
            return ROOT_ID.get(member) == key_id
        return self.valid(member, user, key_id, index, CERTIFY)

    def may_end(self, member: str, key_id: str, by_root: bool) -> bool:
        old = self.registration(key_id)
        return (
            old is not None
            and old[1] == member
            and not self.ended(key_id)
            and (by_root or CERTIFY not in old[4])
        )

    def register(
        self, asked: Registration, member: str, signer: str, user: str, index: int
    ) -> bool:
        by_root = signer == ROOT_ID.get(member)
        new_id = asked.key_id
        if (
            not self.certifies(member, user, signer, index)
            or (CERTIFY in asked.purposes and not by_root)
            or new_id in ROOT_ID.values()
            or self.registration(new_id) is not None
        ):
            return False
        if asked.replaces is not None:
            old = self.registration(asked.replaces)
            if old is None or old[2] != asked.user or not self.may_end(member, old[3], by_root):
                return False
            self.ends.append((index, old[3], "replaced"))
        self.registrations.append((index, member, asked.user, new_id, asked.purposes, signer))
        return True

    def revoke(self, key_id: str, member: str, signer: str, user: str, index: int) -> bool:
        by_root = signer == ROOT_ID.get(member)
        if not self.certifies(member, user, signer, index) or not self.may_end(
            member, key_id, by_root
        ):
            return False
        self.ends.append((index, key_id, "revoked"))
        return True

    def sign(self, member: str, signer: str, index: int) -> bool:
        if ROOT_ID.get(member) != signer or member in self.signed:
            return False
        self.signed[member] = index
        if self.in_force_at is None and set(PARTIES) <= set(self.signed):
            self.in_force_at = index
        return True

    def keys(self) -> list[tuple[object, ...]]:
        out = []
        for r, m, u, k, p, by in self.registrations:
            end = next(((e, how) for e, kk, how in self.ends if kk == k), (None, None))
            out.append((k, m, u, p, r, by, *end))
        return out


def _seen(registry: KeyRegistry) -> list[tuple[object, ...]]:
    held = registry.registered()
    return [
        (k.key_id, k.member, k.user, k.purposes, k.registered_at, k.registered_by, *end)
        for k in held
        for end in [(k.ended_at, k.ended_how)]
    ]


def _outcome(change: Callable[[], object], registry: KeyRegistry, error: type[Exception]) -> bool:
    before = state(registry)
    try:
        change()
    except error:
        assert state(registry) == before
        return False
    return True


purpose_sets = st.sampled_from([ACT_ONLY, ACT_ONLY, CERTIFY_ONLY, frozenset({ACT, CERTIFY})])
stray_ids = st.text("0123456789abcdef", min_size=16, max_size=16)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_registry_answers_as_the_oracle(data: st.DataObject) -> None:
    registry, oracle = new_registry(), Oracle()
    index = 0
    draw = data.draw

    def likely() -> bool:
        return draw(st.sampled_from([True, True, True, False]))

    def some_key_id() -> str:
        """A registered key, a root, a key of the pool, or any id."""
        known = [r[3] for r in oracle.registrations]
        choice = draw(st.integers(0, 3))
        if choice == 0 and known:
            return draw(st.sampled_from(known))
        if choice == 1:
            return draw(st.sampled_from(sorted(ROOT_ID.values())))
        if choice == 2:
            return draw(st.sampled_from([k.key_id for k in POOL]))
        return draw(stray_ids)

    def held(member: str, user: str | None = None, purpose: str | None = None) -> list[str]:
        """The keys registered for ``member`` (and ``user``, and ``purpose``)."""
        return [
            r[3]
            for r in oracle.registrations
            if r[1] == member and user in (None, r[2]) and purpose in (None, *r[4])
        ]

    def some_user_of(key_id: str) -> str:
        found = oracle.registration(key_id)
        if found is not None and likely():
            return found[2]
        return draw(st.sampled_from(USERS))

    def signer(member: str) -> tuple[str, str]:
        """A signing key and the user it signs as: mostly the member's root or one of its
        certify keys, as its own user; else any key."""
        certifying = held(member, purpose=CERTIFY)
        choice = draw(st.integers(0, 5))
        if choice < 3 and member in ROOT_ID:
            return ROOT_ID[member], draw(st.sampled_from(USERS))
        if choice < 5 and certifying:
            key_id = draw(st.sampled_from(certifying))
            return key_id, some_user_of(key_id)
        return some_key_id(), draw(st.sampled_from(USERS))

    for _ in range(draw(st.integers(1, 40))):
        step = draw(st.sampled_from(["register", "register", "revoke", "sign", "query", "query"]))
        member = draw(st.sampled_from((*MEMBERS, *MEMBERS, "green")))
        if step == "query":
            since = 0
            if oracle.registrations and likely():
                found = draw(st.sampled_from(oracle.registrations))
                member = found[1] if likely() else member
                key_id, since = found[3], max(0, found[0] - 1)
            else:
                key_id = some_key_id()
            user, at = some_user_of(key_id), draw(st.integers(since, index + 2))
            purpose = draw(st.sampled_from([ACT, CERTIFY]))
            if purpose == ACT:
                expected = oracle.valid(member, user, key_id, at, ACT)
                query = partial(registry.actor, member=member, user=user, key_id=key_id, index=at)
            else:
                expected = oracle.certifies(member, user, key_id, at)
                query = partial(
                    registry.certifier, member=member, user=user, key_id=key_id, index=at
                )
            assert _outcome(query, registry, ActKeyError) == expected
            continue
        index += draw(st.integers(1, 2))
        key_id, user = signer(member)
        change: Callable[[], object]
        if step == "sign":
            expected = oracle.sign(member, key_id, index)
            change = partial(registry.sign_agreement, member=member, key_id=key_id, index=index)
        elif step == "revoke":
            mine = held(member)
            target = draw(st.sampled_from(mine)) if mine and likely() else some_key_id()
            expected = oracle.revoke(target, member, key_id, user, index)
            change = partial(
                registry.revoke,
                Revocation(target, ""),
                member=member,
                key_id=key_id,
                user=user,
                index=index,
            )
        else:
            owner = draw(st.sampled_from(USERS))
            replaces = None
            if draw(st.booleans()):
                theirs = held(member, owner)
                replaces = draw(st.sampled_from(theirs)) if theirs and likely() else some_key_id()
            fresh = [k.raw for k in POOL if oracle.registration(k.key_id) is None]
            raw = draw(st.sampled_from(fresh if fresh and likely() else RAWS))
            asked = Registration(owner, raw, draw(purpose_sets), replaces)
            expected = oracle.register(asked, member, key_id, user, index)
            change = partial(
                registry.register, asked, member=member, key_id=key_id, user=user, index=index
            )
        assert _outcome(change, registry, ActError) == expected, (step, member, key_id, user)
        assert _seen(registry) == oracle.keys()
        every = registry.registered()
        for k in every:
            purpose = min(k.purposes)
            assert [k.valid_at(i) for i in range(index + 2)] == [
                oracle.valid(k.member, k.user, k.key_id, i, purpose) for i in range(index + 2)
            ]
        assert (registry.signed, registry.in_force_at) == (oracle.signed, oracle.in_force_at)


def test_the_agreements_digest_is_the_same_in_every_process() -> None:
    # Each root signs the digest of the agreement's document: a set dumped in hash order
    # would give another digest in another process (PYTHONHASHSEED), and no root's signature
    # would hold after a restart.
    import os
    import subprocess
    import sys

    code = (
        "from accord.examples import example_path; from accord.agreement import load_agreement;"
        "from accord.record.registry import agreement_digest;"
        "print(agreement_digest(load_agreement(example_path('jig.yaml')).model_dump(mode='json')))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(digests) == 1
