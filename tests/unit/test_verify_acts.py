"""The verifier of a rooted log (issue 17): every party entry carries its act, signed with a
key the party's root certified; the center cannot sign for a party, and a log where it did
is named at the entry where it did. Legacy logs still verify, and say what they prove."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import ActError
from accord.record import verify as verify_module
from accord.record.acts import new_nonce, new_salt, seal_of
from accord.record.keys import PrivateKey
from accord.record.registry import KeyRegistry, Registration, Revocation
from accord.record.verify import VerificationError, verify_log
from support.cli import run
from support.record import seeded
from support.rooted_log import (
    AMIRA,
    APPROVE,
    CENTER,
    LINA,
    OMAR,
    ORIGIN,
    REGISTER,
    RING,
    ROOTS,
    SIGN,
    WITNESSES,
    RootedLog,
    agreement_document,
    agreement_yaml,
    rooted,
    standard,
)
from support.sample_log import RED as LEGACY_RED
from support.sample_log import RING as LEGACY_RING
from support.sample_log import build


def refused(path: Path, **kwargs: object) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verify_log(path, keys=RING, workers=1, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite"


# --- a good rooted log ------------------------------------------------------------------------


def test_a_rooted_log_verifies_and_counts_each_partys_acts(path: Path) -> None:
    with rooted(path) as log:
        standard(log, acts_each=3)
        log.register("blue", "lina", LINA)
        log.approve("blue", "lina")
    report = verify_log(path, keys=RING, workers=1)
    assert report.rooted and not report.roots_pinned
    assert report.in_force_at == 3
    assert report.registry_entries == 5
    assert report.acts == (
        ("blue", AMIRA.key_id, "amira", 3),
        ("blue", LINA.key_id, "lina", 1),
        ("red", OMAR.key_id, "omar", 3),
    )
    assert report.legacy_entries == 0
    text = "\n".join(report.lines())
    assert (
        f"acts of blue: 4 checked: 3 by user amira with key {AMIRA.key_id}, 1 by user lina" in text
    )
    assert f"acts of red: 3 checked: 3 by user omar with key {OMAR.key_id}" in text
    assert "registry: 5 entries" in text
    assert "taken from the log itself, unpinned" in text
    assert "legacy" not in text


def test_a_pinned_agreement_is_reported_as_pinned(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
    report = verify_log(path, keys=RING, workers=1, agreement=agreement_document())
    assert report.roots_pinned
    assert "its roots match those you pinned" in "\n".join(report.lines())
    by_roots = verify_log(path, keys=RING, workers=1, roots={n: k.public for n, k in ROOTS.items()})
    assert by_roots.roots_pinned


def test_rotation_of_reference_and_revocation_in_force_where_they_should(path: Path) -> None:
    new_amira = seeded("amira-2")
    with rooted(path) as log:
        standard(log, acts_each=1)
        first = log.approve("blue", "amira", 7)
        log.of({"kind": "operation.executed", "n": 7}, "blue", first)
        log.of({"kind": "alert.raised", "n": 7}, "blue", first)
        log.register("blue", "amira", new_amira, replaces=AMIRA.key_id)
        log.approve("blue", "amira", 8)
        log.revoke("red", OMAR.key_id)
        log.center({"kind": "user.removed", "user": "omar"})
    report = verify_log(path, keys=RING, workers=1)
    assert ("blue", new_amira.key_id, "amira", 1) in report.acts
    assert ("blue", AMIRA.key_id, "amira", 2) in report.acts


def test_parallel_and_serial_agree_across_chunks(path: Path) -> None:
    with rooted(path) as log:
        standard(log, acts_each=1)
        # acts in every chunk, a reference back across a chunk's edge, a rotation between
        with log.batch():
            for i in range(5000):
                if i % 3 == 0:
                    log.approve("red", "omar", i)
                elif i == 2500:
                    log.register("red", "omar", seeded("omar-2"), replaces=OMAR.key_id)
                else:
                    log.center({"kind": "note", "n": i})
            at = log.approve("blue", "amira", 1)
            for i in range(2100):
                log.center({"kind": "note", "m": i})
            log.of({"kind": "operation.executed"}, "blue", at)
    parallel = verify_log(path, keys=RING, workers=2)
    assert parallel.workers == 2
    assert replace(parallel, workers=1) == verify_log(path, keys=RING, workers=1)
    assert sum(count for *_, count in parallel.acts) == 2 + 1667 + 1


def test_an_export_verifies_as_its_log_file(path: Path, tmp_path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        log.head()
        with (tmp_path / "log.jsonl").open("w", encoding="utf-8") as out:
            log.recorder.log.export_jsonl(out)
    export = verify_log(tmp_path / "log.jsonl", keys=RING, workers=1)
    assert export.acts == verify_log(path, keys=RING, workers=1).acts


# --- the center signing for a party -----------------------------------------------------------


def test_an_approval_the_center_signed_with_a_key_it_made_for_red_is_forged(path: Path) -> None:
    # A center made to misbehave appends an approval by red, signed only with keys it holds.
    made_up = PrivateKey.from_seed("red", bytes([99]) * 32)
    with rooted(path) as log:
        standard(log)
        forged = log.center({"kind": "operation.approved", "operation": "op-17"}, key=made_up)
        log.approve("blue", "amira", 9)
    error = refused(path)
    assert error.index == forged
    assert error.reason.startswith("forged: an entry by 'red'")
    assert "signed only by keys the center holds" in error.reason
    assert "cannot sign for a party" in error.reason


@pytest.mark.parametrize("whose", ["ring", "root"])
def test_an_entry_signed_with_reds_key_in_the_ring_or_its_root_is_forged_too(
    path: Path, whose: str
) -> None:
    # The ring's member keys sign no party's entry in a rooted log: whoever holds one (the
    # center did, before roots) cannot write a party's entry with it; nor does a root.
    key = WITNESSES["red"] if whose == "ring" else ROOTS["red"]
    with rooted(path) as log:
        standard(log)
        forged = log.center({"kind": "operation.approved"}, key=key)
    error = refused(path)
    assert error.index == forged
    assert error.reason.startswith("forged: an entry by 'red' of version 1, signed ")
    assert ("signed with red's root key" in error.reason) is (whose == "root")


def test_an_approval_signed_with_a_key_reds_root_never_registered_is_named(path: Path) -> None:
    unregistered = seeded("omar-made-up")
    with rooted(path) as log:
        standard(log)
        signed = log.signed("red", "omar", unregistered, APPROVE, {"version": 1})
        forged = log.take({"kind": "operation.approved"}, signed, key=unregistered.public.raw)
    error = refused(path)
    assert error.index == forged
    assert f"key {unregistered.key_id} was never registered for red" in error.reason


def test_an_act_whose_signature_does_not_verify_is_forged(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        signed = log.signed("red", "omar", OMAR, APPROVE, {"version": 1})
        text = signed.to_json()
        text["seal"] = seal_of({"version": 2}, salt=new_salt())  # what red did not sign
        member = {"key": base64.b64encode(OMAR.public.raw).decode(), "signed": text}
        forged = log._append({"kind": "operation.approved"}, "red", member)
    error = refused(path)
    assert error.index == forged
    assert "forged: the act's signature does not verify" in error.reason


def test_an_opening_that_does_not_open_the_seal_is_forged(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        shown = log.approve("red", "omar", 1, opened=True)  # an act's opening may be shown
        signed = log.signed("red", "omar", OMAR, APPROVE, {"version": 2})
        other = {"salt": log.openings[signed.act.nonce]["salt"], "body": {"version": 3}}
        forged = log.take({"kind": "operation.approved"}, signed, opening=other, opened=True)
    error = refused(path)
    assert shown < forged == error.index
    assert "forged: the opening shown beside the act does not open its seal" in error.reason


def test_a_registry_entry_that_hides_what_its_act_asks_is_refused(path: Path) -> None:
    with rooted(path) as log:
        log.sign_agreement("blue")
        signed = log.signed("red", "office", ROOTS["red"], SIGN, {"digest": log.digest})
        event = {"kind": "agreement.signed", "member": "red", "digest": log.digest}
        hidden = log.take(event, signed, opened=False)
    error = refused(path)
    assert error.index == hidden
    assert "the agreement.signed entry does not show what its act asks" in error.reason


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("key", "the key beside the act is key"),
        ("author", "but its act is 'red''s"),
        ("origin", "made for the log 'accord.example/other'"),
    ],
)
def test_an_act_that_is_not_the_entrys_is_named(path: Path, change: str, words: str) -> None:
    with rooted(path) as log:
        standard(log)
        origin = "accord.example/other" if change == "origin" else ORIGIN
        signed = log.signed("red", "omar", OMAR, APPROVE, {"version": 1}, origin=origin)
        at = log.take(
            {"kind": "operation.approved"},
            signed,
            key=AMIRA.public.raw if change == "key" else None,
            author="blue" if change == "author" else None,
        )
    error = refused(path)
    assert error.index == at
    assert words in error.reason


def test_a_revoked_keys_later_act_is_named_with_the_revocation(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        ok = log.approve("red", "omar", 10)
        revoked = log.revoke("red", OMAR.key_id)
        late = log.approve("red", "omar", 11)
    error = refused(path)
    assert ok < revoked < late
    assert error.index == late
    assert f"key {OMAR.key_id} of red's user 'omar' was revoked at entry {revoked}" in error.reason


def test_a_replaced_keys_later_act_is_named(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        old = log.users[("red", "omar")]
        replaced = log.register("red", "omar", seeded("omar-2"), replaces=OMAR.key_id)
        signed = log.signed("red", "omar", old, APPROVE, {"version": 1})
        late = log.take({"kind": "operation.approved"}, signed, key=old.public.raw)
    error = refused(path)
    assert error.index == late
    assert f"was replaced at entry {replaced}" in error.reason


def test_an_act_signed_before_its_key_was_registered_is_named(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        signed = log.signed("red", "lina", LINA, APPROVE, {"version": 1})
        early = log.take({"kind": "operation.approved"}, signed, key=LINA.public.raw)
        registered = log.register("red", "lina", LINA)
    error = refused(path)
    assert error.index == early
    assert f"registered for red only at entry {registered}" in error.reason


def test_an_act_before_the_agreement_is_in_force_is_named(path: Path) -> None:
    with rooted(path) as log:
        log.sign_agreement("blue")
        log.register("blue", "amira", AMIRA)
        early = log.approve("blue", "amira")
        last = log.sign_agreement("red")
    error = refused(path)
    assert error.index == early
    assert "before the agreement is in force" in error.reason
    assert f"(it is in force from entry {last} on)" in error.reason


def test_an_act_while_a_party_has_not_signed_is_named(path: Path) -> None:
    with rooted(path) as log:
        log.sign_agreement("blue")
        log.register("blue", "amira", AMIRA)
        early = log.approve("blue", "amira")
    error = refused(path)
    assert error.index == early
    assert "(not every party's root has signed it (not yet: red))" in error.reason


def test_a_replayed_act_is_named_at_its_second_entry(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        signed = log.signed("blue", "amira", AMIRA, APPROVE, {"version": 5})
        first = log.take({"kind": "operation.approved"}, signed)
        log.center({"kind": "note"})
        again = log.take({"kind": "operation.approved"}, signed)
    error = refused(path)
    assert error.index == again
    assert f"replayed: this entry's act (nonce {signed.act.nonce})" in error.reason
    assert f"at entry {first}" in error.reason


def test_a_replay_across_chunks_and_workers_is_named(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        signed = log.signed("blue", "amira", AMIRA, APPROVE, {"version": 5})
        log.take({"kind": "operation.approved"}, signed)
        with log.batch():
            for i in range(2200):
                log.center({"kind": "note", "n": i})
            again = log.take({"kind": "operation.approved"}, signed)
            for i in range(2200):
                log.center({"kind": "note", "m": i})
    with pytest.raises(VerificationError) as info:
        verify_log(path, keys=RING, workers=2)
    assert info.value.index == again


@pytest.mark.parametrize("case", ["not-latest", "another-author", "later"])
def test_a_reference_to_another_act_than_the_authors_latest_is_named(path: Path, case: str) -> None:
    with rooted(path) as log:
        standard(log)
        earlier = log.approve("blue", "amira", 1)
        latest = log.approve("blue", "amira", 2)
        reds = log.approve("red", "omar", 3)
        named = {"not-latest": earlier, "another-author": reds, "later": log.size + 5}[case]
        bad = log.of({"kind": "operation.executed"}, "blue", named)
    error = refused(path)
    assert error.index == bad
    if case == "later":
        assert f"act.of names entry {named}, not an earlier entry" in error.reason
    else:
        assert f"blue's latest earlier entry holding a full act is {latest}" in error.reason


# --- registry entries -------------------------------------------------------------------------


def test_a_registration_whose_event_says_another_user_is_named(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        body = Registration("lina", LINA.public.raw, frozenset({"act"})).to_json()
        event = {
            "kind": "key.registered",
            "member": "red",
            "user": "omar",
            "key": LINA.key_id,
            "public_key": body["public_key"],
            "purposes": ["act"],
        }
        bad = log.register("red", "lina", LINA, event=event)
    error = refused(path)
    assert error.index == bad
    assert "does not say what its act asks" in error.reason
    assert "user 'omar' where the act asks 'lina'" in error.reason


def test_a_signature_of_another_digest_is_named(path: Path) -> None:
    with rooted(path) as log:
        log.sign_agreement("blue")
        bad = log.sign_agreement("red", digest="ab" * 32)
    error = refused(path)
    assert error.index == bad
    assert "not the one entry 0 adopts" in error.reason


def test_a_registration_act_that_asked_something_else_is_named(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        body = Registration("lina", LINA.public.raw, frozenset({"act"})).to_json()
        signed = log.signed("red", "office", ROOTS["red"], APPROVE, body)
        event = {
            "kind": "key.registered",
            "member": "red",
            "user": "lina",
            "key": LINA.key_id,
            "public_key": body["public_key"],
            "purposes": ["act"],
        }
        bad = log.take(event, signed)
    error = refused(path)
    assert error.index == bad
    assert f"asks {APPROVE!r}, not {REGISTER!r}" in error.reason


def test_a_registration_sent_with_a_query_is_the_registration(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        body = Registration("lina", LINA.public.raw, frozenset({"act"})).to_json()
        signed = log.signed("red", "office", ROOTS["red"], REGISTER + "?from=page", body)
        event = {"kind": "key.registered", "member": "red", "key": LINA.key_id, **body}
        log.take(event, signed)
    assert verify_log(path, keys=RING, workers=1).registry_entries == 5


def test_a_registration_by_a_users_act_key_is_named(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        bad = log.register("blue", "lina", LINA, by=AMIRA, by_user="amira")
    error = refused(path)
    assert error.index == bad
    assert "not certified to certify" in error.reason


def test_the_centers_own_registration_is_forged(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        bad = log.center(
            {
                "kind": "key.registered",
                "member": "red",
                "user": "x",
                "key": LINA.key_id,
                "public_key": base64.b64encode(LINA.public.raw).decode(),
                "purposes": ["act"],
            }
        )
    error = refused(path)
    assert error.index == bad
    assert "forged: the center's own entry of kind key.registered" in error.reason


def test_an_agreement_adopted_after_entry_0_is_refused(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
        bad = log.center(
            {"kind": "agreement.adopted", "agreement": log.document, "digest": log.digest}
        )
    error = refused(path)
    assert error.index == bad
    assert "adopted once" in error.reason


# --- entry 0 and pinning ----------------------------------------------------------------------


def test_entry_0_with_a_wrong_digest_is_refused(path: Path) -> None:
    class Wrong(RootedLog):
        def center(self, event, *, key=CENTER):  # type: ignore[no-untyped-def]
            if event.get("kind") == "agreement.adopted":
                event = {**event, "digest": "00" * 32}
            return super().center(event, key=key)

    log = Wrong(path)
    log.head()
    log.close()
    error = refused(path)
    assert error.index == 0
    assert "is not the agreement's" in error.reason


def test_a_pinned_agreement_other_than_entry_0s_is_refused(path: Path) -> None:
    with rooted(path) as log:
        standard(log)
    error = refused(path, agreement=agreement_document(title="Another agreement"))
    assert error.index == 0
    assert "entry 0 adopts another agreement than yours" in error.reason
    assert "(they differ in title)" in error.reason
    other = {n: k.public for n, k in ROOTS.items()}
    other["red"] = PrivateKey.from_seed("red", bytes([5]) * 32).public
    error = refused(path, roots=other)
    assert (error.index, error.reason[:42]) == (0, "the log's agreement names another root key")


def test_a_legacy_log_verifies_and_says_it_proves_nothing_against_the_center(
    path: Path,
) -> None:
    build(path).log.close()
    report = verify_log(path, keys=LEGACY_RING, workers=1)
    assert not report.rooted
    assert report.legacy_entries == 12
    assert (
        "legacy log: 12 entries were signed with keys the center held; they prove nothing "
        "against the center"
    ) in report.lines()


def test_an_agreement_adopted_without_roots_makes_a_legacy_log(path: Path) -> None:
    document = agreement_document()
    for group in ("parties", "notifiers", "monitors"):
        for member in document[group]:
            member["root_key"] = None
    log = RootedLog(path, document=document)
    log.center({"kind": "note"})
    log.center({"kind": "operation.approved"}, key=LEGACY_RED)
    log.head()
    log.close()
    report = verify_log(path, keys=LEGACY_RING, workers=1, agreement=document)
    assert not report.rooted
    assert report.legacy_entries == 1
    # a party without a root where the others name theirs is no agreement to verify against
    document = agreement_document()
    document["parties"][1]["root_key"] = None
    RootedLog(path.with_name("partial.sqlite"), document=document).close()
    error = refused(path.with_name("partial.sqlite"))
    assert error.index == 0
    assert "party 'red' names no root key, where others name theirs" in error.reason


def test_a_legacy_log_is_refused_to_whoever_pinned_roots(path: Path) -> None:
    build(path).log.close()
    with pytest.raises(VerificationError) as info:
        verify_log(path, keys=LEGACY_RING, workers=1, agreement=agreement_document())
    assert info.value.index == 0
    assert "entry 0 adopts no agreement" in info.value.reason


# --- accord verify --agreement ----------------------------------------------------------------


def test_accord_verify_with_the_agreement_pinned(path: Path, tmp_path: Path) -> None:
    with rooted(path) as log:
        standard(log)
    keys = tmp_path / "KEYS.json"
    keys.write_text(json.dumps(RING.to_json()), encoding="utf-8")
    mine = tmp_path / "agreement.yaml"
    mine.write_text(agreement_yaml(), encoding="utf-8")
    result = run("verify", path, "--keys", keys, "--agreement", mine, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "its roots match those you pinned" in result.stdout
    assert "acts of red: 3 checked" in result.stdout
    assert result.stdout.endswith("VERIFIED\n")

    unpinned = run("verify", path, "--keys", keys, "--workers", "1")
    assert unpinned.exit_code == 0
    assert "unpinned" in unpinned.stdout

    other = tmp_path / "other.yaml"
    other.write_text(agreement_yaml(title="Another agreement"), encoding="utf-8")
    result = run("verify", path, "--keys", keys, "--agreement", other, "--workers", "1")
    assert result.exit_code == 1
    assert "NOT VERIFIED: entry 0: entry 0 adopts another agreement" in result.output

    broken = tmp_path / "broken.yaml"
    broken.write_text("parties: [", encoding="utf-8")
    assert run("verify", path, "--keys", keys, "--agreement", broken).exit_code == 2


# --- against a walk, entry by entry -----------------------------------------------------------

MEMBERS = ("blue", "red")
USERS = ("u0", "u1")
KEYS = tuple(seeded(f"k{i}") for i in range(4))

op = st.one_of(
    st.tuples(st.just("sign"), st.sampled_from(MEMBERS)),
    st.tuples(
        st.just("register"),
        st.sampled_from(MEMBERS),
        st.sampled_from(USERS),
        st.integers(0, len(KEYS) - 1),
    ),
    st.tuples(st.just("revoke"), st.sampled_from(MEMBERS), st.integers(0, len(KEYS) - 1)),
    st.tuples(
        st.just("act"),
        st.sampled_from(MEMBERS),
        st.sampled_from(USERS),
        st.integers(0, len(KEYS) - 1),
    ),
    st.tuples(st.just("replay"), st.integers(0, 30)),
    st.tuples(st.just("center")),
)


def oracle(ops: list[tuple], write: RootedLog) -> int | None:
    """Write ``ops`` into ``write`` and check each entry in turn, the plain way: the index of
    the first entry a verifier must refuse, or None."""
    roots = {m: ROOTS[m].public for m in ROOTS}
    registry = KeyRegistry(roots, parties=MEMBERS)
    acts = []
    first: int | None = None

    def fault(index: int) -> None:
        nonlocal first
        if first is None:
            first = index

    for item in ops:
        kind = item[0]
        if kind == "sign":
            index = write.sign_agreement(item[1])
            try:
                registry.sign_agreement(member=item[1], key_id=ROOTS[item[1]].key_id, index=index)
            except ActError:
                fault(index)
        elif kind == "register":
            _, member, user, k = item
            index = write.register(member, user, KEYS[k])
            try:
                registry.register(
                    Registration(user, KEYS[k].public.raw, frozenset({"act"})),
                    member=member,
                    key_id=ROOTS[member].key_id,
                    user="office",
                    index=index,
                )
            except ActError:
                fault(index)
        elif kind == "revoke":
            _, member, k = item
            index = write.revoke(member, KEYS[k].key_id)
            try:
                registry.revoke(
                    Revocation(KEYS[k].key_id, "device lost"),
                    member=member,
                    key_id=ROOTS[member].key_id,
                    user="office",
                    index=index,
                )
            except ActError:
                fault(index)
        elif kind == "act":
            _, member, user, k = item
            signed = write.signed(member, user, KEYS[k], APPROVE, {"version": 1})
            index = write.take({"kind": "operation.approved"}, signed, key=KEYS[k].public.raw)
            acts.append(signed)
            try:
                registry.actor(member=member, user=user, key_id=KEYS[k].key_id, index=index)
                if not registry.in_force(index):
                    fault(index)
            except ActError:
                fault(index)
        elif kind == "replay" and acts:
            signed = acts[item[1] % len(acts)]
            index = write.take(
                {"kind": "operation.approved"}, signed, key=KEYS_BY_ID[signed.act.key]
            )
            fault(index)  # its nonce was taken in already
        else:
            write.center({"kind": "note", "nonce": new_nonce()})
    return first


def named(path: Path) -> int | None:
    """The entry the verifier names, or None if the log verifies."""
    try:
        verify_log(path, keys=RING, workers=1)
    except VerificationError as error:
        return error.index
    return None


KEYS_BY_ID = {k.key_id: k.public.raw for k in KEYS}


PRELUDE = [
    ("sign", "blue"),
    ("register", "blue", "u0", 0),
    ("sign", "red"),
    ("register", "red", "u1", 1),
]
"""A start in force, so that most runs go on to the acts, rotations and revocations."""


@settings(max_examples=int(os.environ.get("ACCORD_WALK_EXAMPLES", "40")), deadline=None)
@given(st.booleans(), st.lists(op, min_size=1, max_size=24), st.sampled_from([2, 4, 2048]))
def test_the_verifier_names_the_entry_a_walk_entry_by_entry_names(
    in_force: bool, ops: list[tuple], chunk: int
) -> None:
    ops = PRELUDE + ops if in_force else ops
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.sqlite"
        log = RootedLog(path)
        expected = oracle(ops, log)
        log.head()
        log.close()
        with mock.patch.object(verify_module, "_CHUNK", chunk):
            found = named(path)
        assert found == expected, ops
