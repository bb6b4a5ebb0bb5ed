"""A party's signed act: RFC 8785 (JCS) held to shared vectors, the body's seal, signing and
verification, and a strict reader that names the field at fault."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import RecordError, SignatureError
from accord.record.acts import (
    ACT_MARKER,
    DEFAULT_WINDOW,
    SALT_BYTES,
    Act,
    ActClockError,
    ActError,
    ActSignatureError,
    SignedAct,
    new_nonce,
    new_salt,
    seal_of,
    sign_act,
    signed_act_from_json,
    verify_act,
)
from support.record import b64, seeded

VECTORS_FILE = Path(__file__).resolve().parents[1] / "data" / "jcs" / "vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
MAX_SAFE = 2**53 - 1


def _as_double(text: str) -> float:
    return float(text)


def _ints(value: object) -> list[int]:
    if type(value) is int:
        return [value]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _ints(item)]
    if isinstance(value, list):
        return [n for item in value for n in _ints(item)]
    return []


# --- RFC 8785, against the vectors the page will share --------------------------------------


def test_the_vectors_file_is_well_formed() -> None:
    names = [vector["name"] for vector in VECTORS]
    assert len(names) == len(set(names)) >= 20
    for vector in VECTORS:
        assert set(vector) == {"name", "rule", "input", "canonical"}, vector["name"]
        assert "RFC 8785" in vector["rule"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_jcs_vector_with_every_number_a_double(vector: dict[str, str]) -> None:
    """Parsed as ECMAScript's JSON.parse parses (every number binary64), as the page will."""
    value = json.loads(vector["input"], parse_int=_as_double)
    assert rfc8785.dumps(value) == vector["canonical"].encode("utf-8")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_jcs_vector_as_python_parses_it(vector: dict[str, str]) -> None:
    """Python's own parse (integers as int) gives the same bytes, or refuses an integer beyond
    ±(2^53 − 1): it has no exact binary64 form."""
    value = json.loads(vector["input"])
    if any(abs(n) > MAX_SAFE for n in _ints(value)):
        with pytest.raises(rfc8785.IntegerDomainError):
            rfc8785.dumps(value)
    else:
        assert rfc8785.dumps(value) == vector["canonical"].encode("utf-8")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_a_canonical_form_is_its_own_canonical_form(vector: dict[str, str]) -> None:
    value = json.loads(vector["canonical"], parse_int=_as_double)
    assert rfc8785.dumps(value) == vector["canonical"].encode("utf-8")


def test_the_vectors_hold_the_cases_that_tell_jcs_apart() -> None:
    """What separates JCS from a plain sorted dump: the vectors keep testing it."""
    inputs = " ".join(vector["input"] for vector in VECTORS)
    canonicals = " ".join(vector["canonical"] for vector in VECTORS)
    for spelling in ("1.0", "1e21", "1e-7", "-0", "5e-324", "9007199254740992", "\\u001F"):
        assert spelling in inputs, spelling
    # a key above U+FFFF before one in U+E000–U+FFFF: UTF-16 order, not code point order
    assert "\U0001f600" in canonicals and "\ufb01" in canonicals
    assert canonicals.index('"\U0001f600"') < canonicals.index('"\ufb01"')


def test_the_act_vector_is_an_acts_signed_bytes() -> None:
    """The vector the page will sign is what :meth:`Act.signed_bytes` writes, and its seal is
    the seal of the body vector before it, with a salt of 32 zero bytes."""
    (vector,) = [v for v in VECTORS if v["name"] == "an act as the page signs it"]
    (body_vector,) = [v for v in VECTORS if v["name"] == "an act's body as the page seals it"]
    assert VECTORS.index(body_vector) + 1 == VECTORS.index(vector)
    fields = json.loads(vector["input"])
    assert set(fields) == {ACT_MARKER, *FIELDS} and "body" not in fields
    act = Act(
        origin=fields["origin"],
        member=fields["member"],
        user=fields["user"],
        key=fields["key"],
        at=datetime.fromisoformat(fields["at"]),
        nonce=fields["nonce"],
        action=fields["action"],
        seal=fields["seal"],
    )
    assert act.signed_bytes() == vector["canonical"].encode("utf-8")
    assert fields[ACT_MARKER] == 1
    body = json.loads(body_vector["input"], parse_int=_as_double)
    by_hand = hashlib.sha256(bytes(32) + body_vector["canonical"].encode("utf-8")).hexdigest()
    assert fields["seal"] == seal_of(body, salt="A" * 43) == by_hand


# --- acts: signing and verifying ------------------------------------------------------------

LOG = "accord.example/jcc"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
AMIRA, OMAR = seeded("amira"), seeded("omar")
BODY = {"operation": "op-17", "version": 2, "reason": "corridor clear ✓", "altitude_m": 1500.5}
SALT_RAW = bytes(range(SALT_BYTES))
SALT = base64.urlsafe_b64encode(SALT_RAW).rstrip(b"=").decode()
SEAL = seal_of(BODY, salt=SALT)
FIELDS = ("origin", "member", "user", "key", "at", "nonce", "action", "seal")


def act(**changes: Any) -> Act:
    base: dict[str, Any] = {
        "origin": LOG,
        "member": "blue",
        "user": "amira",
        "key": AMIRA.key_id,
        "at": NOW,
        "nonce": "q83vEjRWeJq83vEjRWeJqw",
        "action": "POST /v1/operations/op-17/approve",
        "seal": SEAL,
    }
    return Act(**{**base, **changes})


def sealed(body: dict[str, Any], salt: str = SALT, **changes: Any) -> Act:
    """The act of a request with ``body``, sealed with ``salt``."""
    return act(seal=seal_of(body, salt=salt), **changes)


def opened(form: dict[str, Any], body: dict[str, Any], salt: str = SALT) -> SignedAct:
    """The act as the center rebuilds it: ``form`` with the seal of the ``body`` and ``salt``
    it was presented with, in place of the one it was signed with."""
    return signed_act_from_json({**form, "seal": seal_of(body, salt=salt)})


def verify(signed: SignedAct, *, key=AMIRA.public, origin=LOG, now=NOW, **extra) -> None:
    verify_act(signed, key=key, origin=origin, now=now, **extra)


def refused(error_type: type[ActError], call: Any, *args: Any, **kwargs: Any) -> ActError:
    with pytest.raises(error_type) as caught:
        call(*args, **kwargs)
    return caught.value


def test_an_act_signed_and_read_back_verifies() -> None:
    signed = sign_act(act(), AMIRA)
    text = json.dumps(signed.to_json(), ensure_ascii=False)
    again = signed_act_from_json(json.loads(text))
    assert again == signed
    assert again.act.seal == SEAL == seal_of(json.loads(json.dumps(BODY)), salt=SALT)
    assert verify(again) is None
    # the center, opening it with the body and salt the request carried, rebuilds the same act
    assert verify(opened(signed.to_json(), BODY)) is None


def test_the_json_form_is_the_signed_object_and_a_signature() -> None:
    signed = sign_act(act(), AMIRA)
    form = signed.to_json()
    assert set(form) == {ACT_MARKER, *FIELDS, "signature"}
    assert form[ACT_MARKER] == 1 and form["at"] == "2026-05-01T12:00:00Z"
    assert len(b64(form["signature"])) == 64
    unsigned = {k: v for k, v in form.items() if k != "signature"}
    assert rfc8785.dumps(unsigned) == signed.act.signed_bytes()
    AMIRA.public.verify(b64(form["signature"]), rfc8785.dumps(unsigned))
    # the body is not in it, nor anything of it: the record that keeps the act shows the seal
    assert "body" not in form and form["seal"] == SEAL
    text = json.dumps(form, ensure_ascii=False)
    for value in ('"operation"', "corridor", "altitude_m", '"version"', SALT):
        assert value not in text, value


def test_the_seal_is_over_jcs_numbers_and_key_order_included() -> None:
    """What the page writes for the same body is what the seal is over: the salt's bytes,
    then the body's JCS form (1.0 is 1, keys in UTF-16 order) in UTF-8."""
    body = {"\ufb01": 1.0, "\U0001f600": 1e21, "z": -0.0, "e": 1e-7}
    jcs = '{"e":1e-7,"z":0,"\U0001f600":1e+21,"\ufb01":1}'.encode()
    assert rfc8785.dumps(body) == jcs
    assert seal_of(body, salt=SALT) == hashlib.sha256(SALT_RAW + jcs).hexdigest()
    seal = hashlib.sha256(SALT_RAW + jcs).hexdigest()
    assert f',"seal":"{seal}",'.encode() in sealed(body).signed_bytes()
    # an act sealed in Python over 1.0 verifies when the page sends the body back as 1
    form = sign_act(sealed({"n": 1.0, "m": [2.0]}), AMIRA).to_json()
    verify(opened(form, {"m": [2], "n": 1}))


def test_seal_of_is_sha256_of_the_salt_then_the_body_in_lower_case_hex() -> None:
    for body in ({}, BODY, {"area": [[1, 2.5], None, True, "Zoë"]}):
        seal = seal_of(body, salt=SALT)
        assert seal == hashlib.sha256(SALT_RAW + rfc8785.dumps(body)).hexdigest()
        assert len(seal) == 64 and seal == seal.lower()
        # the salt's bytes, not its text: another spelling of the same input is another hash
        assert seal != hashlib.sha256(SALT.encode() + rfc8785.dumps(body)).hexdigest()
    assert seal_of({}, salt="A" * 43) == hashlib.sha256(bytes(32) + b"{}").hexdigest()


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"n": 1.0}, {"n": 1}),
        ({"n": -0.0}, {"n": 0}),
        ({"n": 1e21}, {"n": 1000000000000000000000.0}),
        ({"b": 1, "a": 2}, {"a": 2, "b": 1}),
        (
            {"x": {"\ufb01": [1.0], "\U0001f600": {"d": 2, "c": 3}}},
            {"x": {"\U0001f600": {"c": 3, "d": 2.0}, "\ufb01": [1]}},
        ),
        ({"area": (1, [2.5, 3])}, {"area": [1, [2.5, 3]]}),  # a tuple is an array
    ],
    ids=["1.0 is 1", "-0 is 0", "1e21", "key order", "nested", "tuple"],
)
def test_bodies_equal_under_jcs_have_one_seal(one: dict[str, Any], other: dict[str, Any]) -> None:
    assert rfc8785.dumps(one) == rfc8785.dumps(other)
    assert seal_of(one, salt=SALT) == seal_of(other, salt=SALT)
    # the body the page sends back, parsed by the center, opens the act sealed in Python
    verify(opened(sign_act(sealed(one), AMIRA).to_json(), other))


@pytest.mark.parametrize(
    "other",
    [
        {**BODY, "version": 3},
        {**BODY, "version": 2.5},
        {**BODY, "reason": "corridor clear ✓ "},
        {**BODY, "extra": None},
        {k: v for k, v in BODY.items() if k != "reason"},
        {**BODY, "version": "2"},
        {**BODY, "Version": 2},
        {},
    ],
    ids=["value", "number", "text", "member added", "member removed", "type", "key", "empty"],
)
def test_a_seal_changes_with_any_body_change(other: dict[str, Any]) -> None:
    assert seal_of(other, salt=SALT) != SEAL


def test_a_seal_changes_with_the_salt() -> None:
    salts = {SALT, "A" * 43, "A" * 42 + "E", "B" + "A" * 42, *(new_salt() for _ in range(20))}
    assert len({seal_of(BODY, salt=salt) for salt in salts}) == len(salts)
    assert len({seal_of({}, salt=salt) for salt in salts}) == len(salts)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE, MAX_SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@settings(max_examples=40, deadline=None)
@given(body=bodies)
def test_any_body_seals_signs_reads_back_through_json_text_and_verifies(
    body: dict[str, Any],
) -> None:
    signed = sign_act(sealed(body), AMIRA)
    again = signed_act_from_json(json.loads(json.dumps(signed.to_json())))
    verify(again)
    assert again.act.signed_bytes() == signed.act.signed_bytes()
    # the center opens it with the body as it travels, parsed from its JSON text
    verify(opened(again.to_json(), json.loads(json.dumps(body))))


@settings(max_examples=60, deadline=None)
@given(body=bodies, other=bodies)
def test_two_bodies_have_one_seal_exactly_when_their_jcs_forms_are_one(
    body: dict[str, Any], other: dict[str, Any]
) -> None:
    same = rfc8785.dumps(body) == rfc8785.dumps(other)
    assert (seal_of(body, salt=SALT) == seal_of(other, salt=SALT)) == same


def _changed(form: dict[str, Any], name: str, body: dict[str, Any]) -> dict[str, Any]:
    """``form`` with one member changed to another well-formed value, signature kept."""
    other = {
        "origin": "accord.example/other",
        "member": "red",
        "user": "omar",
        "key": OMAR.key_id,
        "at": "2026-05-01T12:00:01Z",  # one second: well inside the window
        "nonce": new_nonce(),
        "action": "POST /v1/operations/op-17/veto",
        "seal": seal_of(body, salt=SALT),
    }
    return {**form, name: other[name]}


@settings(max_examples=25, deadline=None)
@given(body=bodies, other_body=bodies, name=st.sampled_from(FIELDS))
def test_every_single_field_change_fails_verification(
    body: dict[str, Any], other_body: dict[str, Any], name: str
) -> None:
    if rfc8785.dumps(other_body) == rfc8785.dumps(body):
        other_body = {**body, "\u00e9": [body]}
    form = sign_act(sealed(body), AMIRA).to_json()
    tampered = signed_act_from_json(_changed(form, name, other_body))  # well-formed
    # verified against the tampered origin and key where those are the change, so that
    # what must catch it is the signature itself wherever it can be
    origin = tampered.act.origin
    key = OMAR.public if name == "key" else AMIRA.public
    error = refused(ActSignatureError, verify, tampered, key=key, origin=origin)
    assert error.field == "signature"
    # and the origin and key checks name the change before the signature is looked at
    if name in ("origin", "key"):
        assert refused(ActSignatureError, verify, tampered).field == name


def test_a_signature_by_another_key_fails() -> None:
    mine = act()
    forged = SignedAct(mine, OMAR.sign(mine.signed_bytes()))  # names amira's key
    error = refused(ActSignatureError, verify, forged)
    assert error.field == "signature"
    assert "amira" in str(error) and AMIRA.key_id in str(error)
    # omar's act, honestly signed, is not amira's
    his = sign_act(act(user="omar", key=OMAR.key_id), OMAR)
    error = refused(ActSignatureError, verify, his)
    assert error.field == "key"
    assert OMAR.key_id in str(error) and AMIRA.key_id in str(error)
    verify(his, key=OMAR.public)


def test_sign_act_refuses_a_key_the_act_does_not_name() -> None:
    error = refused(ActError, sign_act, act(), OMAR)
    assert error.field == "key"


def test_an_act_for_another_log_fails_naming_the_origin() -> None:
    signed = sign_act(act(origin="accord.example/exercise-3"), AMIRA)
    error = refused(ActSignatureError, verify, signed)
    assert error.field == "origin"
    assert "'accord.example/exercise-3'" in str(error) and repr(LOG) in str(error)
    assert str(error).startswith("origin: ")
    verify(signed, origin="accord.example/exercise-3")


@pytest.mark.parametrize(
    "skew",
    [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1), timedelta(hours=3)],
    ids=["ahead", "behind", "hours"],
)
def test_a_timestamp_outside_the_window_fails(skew: timedelta) -> None:
    signed = sign_act(act(at=NOW + skew), AMIRA)
    error = refused(ActClockError, verify, signed)
    assert error.field == "at"
    assert ("ahead of" if skew > timedelta(0) else "behind") in str(error)


@pytest.mark.parametrize(
    "skew",
    [
        timedelta(minutes=4, seconds=59),
        -timedelta(minutes=4, seconds=59),
        timedelta(minutes=5),
        -timedelta(minutes=5),
        timedelta(0),
    ],
    ids=["4:59 ahead", "4:59 behind", "5:00 ahead", "5:00 behind", "same"],
)
def test_a_timestamp_inside_the_window_passes(skew: timedelta) -> None:
    verify(sign_act(act(at=NOW + skew), AMIRA))


def test_the_window_and_the_clock_are_the_callers() -> None:
    signed = sign_act(act(at=NOW + timedelta(seconds=31)), AMIRA)
    assert timedelta(minutes=5) == DEFAULT_WINDOW
    assert refused(ActClockError, verify, signed, window=timedelta(seconds=30)).field == "at"
    verify(signed, now=datetime(2026, 5, 1, 14, 0, 31, tzinfo=timezone(timedelta(hours=2))))
    with pytest.raises(ValueError, match="aware"):
        verify(signed, now=datetime(2026, 5, 1, 12))
    with pytest.raises(ValueError, match="positive"):
        verify(signed, window=timedelta(0))


def test_the_signature_is_checked_before_the_clock() -> None:
    """A stale act whose signature is bad is named forged, not stale."""
    stale = act(at=NOW - timedelta(hours=1))
    forged = SignedAct(stale, OMAR.sign(stale.signed_bytes()))
    assert refused(ActSignatureError, verify, forged).field == "signature"


def test_a_body_or_salt_changed_after_signing_fails_closed() -> None:
    """The center reseals the body and salt the request carries: any other body, or the
    same body with another salt, is another act, and its signature fails."""
    form = sign_act(act(), AMIRA).to_json()
    verify(opened(form, BODY))
    for body, salt in (
        ({**BODY, "version": 3}, SALT),
        ({**BODY, "altitude_m": 1500}, SALT),
        ({}, SALT),
        (BODY, new_salt()),
        (BODY, "A" * 43),
    ):
        assert refused(ActSignatureError, verify, opened(form, body, salt)).field == "signature"
    with pytest.raises(dataclasses.FrozenInstanceError):
        signed_act_from_json(form).act.seal = seal_of({}, salt=SALT)  # type: ignore[misc]


def test_the_errors_sit_in_the_record_branch_of_the_tree() -> None:
    assert issubclass(ActSignatureError, ActError) and issubclass(ActSignatureError, SignatureError)
    assert issubclass(ActClockError, ActError) and not issubclass(ActClockError, SignatureError)
    assert issubclass(ActError, RecordError)
    error = ActError("body.area[2]", "is not a finite number")
    assert (error.field, error.message) == ("body.area[2]", "is not a finite number")
    assert str(error) == "body.area[2]: is not a finite number"


# --- acts: made and read strictly -----------------------------------------------------------


def test_new_nonce_is_128_random_bits_in_base64url() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    for nonce in nonces:
        assert len(nonce) == 22 and "=" not in nonce
        act(nonce=nonce)  # accepted


def test_new_salt_is_32_random_bytes_in_canonical_base64url() -> None:
    assert SALT_BYTES == 32
    salts = {new_salt() for _ in range(100)}
    assert len(salts) == 100
    for salt in salts:
        assert len(salt) == 43 and "=" not in salt
        raw = base64.urlsafe_b64decode(salt + "=")
        assert len(raw) == 32 and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == salt
        assert seal_of(BODY, salt=salt) == hashlib.sha256(raw + rfc8785.dumps(BODY)).hexdigest()


def test_an_act_is_kept_in_utc_frozen_and_hashable() -> None:
    made = act(at=datetime(2026, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))))
    assert made.at == NOW and made.at.tzinfo is UTC
    assert made.to_json()["at"] == "2026-05-01T12:00:00Z"
    assert made == act() and hash(made) == hash(act())
    assert hash(made) != hash(sealed({}))  # the seal is hashed
    with pytest.raises(AttributeError):
        made.origin = "elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(
    "action",
    [
        "POST /v1/operations/op-17/approve",
        "PUT /v1/areas/a-1",
        "PATCH /v1/operations/op-17?version=2&dry-run",
        "DELETE /v1/tokens/t%20x",
        "POST /",
        "POST /" + "x" * 1023,  # a path of 1,024 characters
        "POST /v1/q?a=~!$&'()*+,;=:@[]{}|^`\"<>\\#",
    ],
)
def test_the_action_is_the_request_line(action: str) -> None:
    signed = sign_act(act(action=action), AMIRA)
    again = signed_act_from_json(json.loads(json.dumps(signed.to_json())))
    assert again.act.action == action
    verify(again)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"origin": ""}, "origin"),
        ({"member": 3}, "member"),
        ({"user": ""}, "user"),
        ({"key": AMIRA.key_id.upper()}, "key"),
        ({"at": datetime(2026, 5, 1, 12)}, "at"),
        ({"at": "2026-05-01T12:00:00Z"}, "at"),
        ({"nonce": "abc"}, "nonce"),
        ({"action": "approve"}, "action"),
        ({"seal": BODY}, "seal"),
        ({"seal": SEAL.upper()}, "seal"),
        ({"seal": SEAL[:-1]}, "seal"),
        ({"seal": SEAL + "0"}, "seal"),
        ({"seal": SEAL.encode()}, "seal"),
        ({"seal": ""}, "seal"),
    ],
)
def test_making_an_act_checks_each_field(changes: dict[str, Any], field: str) -> None:
    assert refused(ActError, act, **changes).field == field


BAD_BODIES: list[tuple[Any, str]] = [
    # (body, the field the error must name)
    ([], "body"),
    ("x", "body"),
    (None, "body"),
    ((("a", 1),), "body"),
    ({"when": NOW}, "body.when"),
    ({"ids": {1, 2}}, "body.ids"),
    ({"n": True, "k": [1, 2**53]}, "body.k[1]"),
    ({"a": -(2**53)}, "body.a"),
    ({"a": float("nan")}, "body.a"),
    ({"a": {"b": [1, float("inf")]}}, "body.a.b[1]"),
    ({"a": {"b": [1, float("-inf")]}}, "body.a.b[1]"),
    ({"\ud800": 1}, "body"),
    ({"a": ["\udfff"]}, "body.a[0]"),
    ({1: "x"}, "body"),
    ({"b": b"bytes"}, "body.b"),
    ({"deep": json.loads("[" * 70 + "]" * 70)}, "body.deep" + "[0]" * 63),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES, ids=[f for _, f in BAD_BODIES])
def test_seal_of_refuses_a_body_without_one_jcs_form_naming_the_place(
    body: Any, field: str
) -> None:
    error = refused(ActError, seal_of, body, salt=SALT)
    assert error.field == field
    assert str(error).startswith(f"{field}: ")


BAD_SALTS: list[Any] = [
    None,
    5,
    SALT_RAW,  # the bytes, not their text
    SALT.encode(),
    "",
    "A" * 42,  # 31.5 bytes
    "A" * 44,
    "A" * 22,  # a nonce's length
    "A" * 42 + "=",  # padded
    SALT + "=",
    "A" * 41 + "+/",  # the standard alphabet
    "A" * 42 + " ",
    " " + "A" * 42,
    "A" * 42 + "\n",
    "A" * 42 + "é",
    "A" * 42 + "B",  # unused bits set: a second spelling of "A" * 43
    "A" * 42 + "D",
    SALT[:-1] + chr(ord(SALT[-1]) + 1),  # the last character's unused bits, once more
]


@pytest.mark.parametrize("salt", BAD_SALTS, ids=[repr(s)[-12:] for s in BAD_SALTS])
def test_seal_of_refuses_a_salt_out_of_its_form_naming_it(salt: Any) -> None:
    error = refused(ActError, seal_of, BODY, salt=salt)
    assert error.field == "salt"
    assert str(error).startswith("salt: ")
    assert type(error) is ActError


def test_the_canonical_spellings_around_a_refused_salt_are_taken() -> None:
    """Of the 64 characters that can end a salt, the 16 with their unused bits zero."""
    for last in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
        salt = "A" * 42 + last
        if last in "AEIMQUYcgkosw048":
            assert len(seal_of({}, salt=salt)) == 64
        else:
            error = refused(ActError, seal_of, {}, salt=salt)
            assert error.field == "salt" and "canonical" in str(error)


def good_form() -> dict[str, Any]:
    return sign_act(act(), AMIRA).to_json()


MALFORMED: list[tuple[str, Any, str]] = [
    # (member, value or DELETE, the field the error must name)
    (ACT_MARKER, 2, ACT_MARKER),
    (ACT_MARKER, "1", ACT_MARKER),
    (ACT_MARKER, True, ACT_MARKER),
    (ACT_MARKER, 1.0, ACT_MARKER),
    ("origin", 5, "origin"),
    ("origin", "", "origin"),
    ("origin", "accord example", "origin"),
    ("origin", "accord+example", "origin"),
    ("member", None, "member"),
    ("member", "", "member"),
    ("member", "bl ue", "member"),
    ("user", 7, "user"),
    ("user", "", "user"),
    ("user", " amira", "user"),
    ("user", "a" * 65, "user"),
    ("user", "ami\nra", "user"),
    ("key", 12, "key"),
    ("key", "0123", "key"),
    ("key", "0123456789ABCDEF", "key"),
    ("key", "0123456789abcdeg", "key"),
    ("at", 1777636800, "at"),
    ("at", "2026-05-01T12:00:00", "at"),  # naive
    ("at", "2026-05-01", "at"),
    ("at", "yesterday", "at"),
    ("at", "2026-05-01T12:00:00+00:00", "at"),  # not written with Z
    ("at", "2026-05-01T14:00:00+02:00", "at"),
    ("at", "2026-05-01T12:00:00.123Z", "at"),  # JavaScript's toISOString
    ("at", "2026-05-01 12:00:00Z", "at"),
    ("nonce", 123, "nonce"),
    ("nonce", "short", "nonce"),
    ("nonce", "A" * 21, "nonce"),  # 126 bits
    ("nonce", "A" * 21 + "B", "nonce"),  # unused bits set: a second spelling of A * 22
    ("nonce", "A" * 21 + "=", "nonce"),  # padded
    ("nonce", "A" * 20 + "+/", "nonce"),  # standard alphabet
    ("nonce", "A" * 87, "nonce"),
    ("nonce", "A" * 25, "nonce"),  # 4n + 1 characters: no base64 has that length
    ("action", 3, "action"),
    ("action", "operation.approve", "action"),  # the old <noun>.<verb> form
    ("action", "/v1/operations", "action"),  # no method
    ("action", "POST", "action"),  # no path
    ("action", "POST ", "action"),
    ("action", "GET /v1/operations", "action"),  # reads are not acts
    ("action", "HEAD /v1/operations", "action"),
    ("action", "post /v1/operations", "action"),
    ("action", "POST v1/operations", "action"),  # a path starts with /
    ("action", "POST  /v1/operations", "action"),
    ("action", " POST /v1/operations", "action"),
    ("action", "POST /v1/operations ", "action"),
    ("action", "POST /v1/oper ations", "action"),
    ("action", "POST /v1/operations\n", "action"),
    ("action", "POST /v1/operations\t", "action"),
    ("action", "POST /v1/op\u00e9rations", "action"),  # not ASCII: a path is sent encoded
    ("action", "POST /v1/op\x7f", "action"),
    ("action", "POST /" + "x" * 1024, "action"),  # a path of 1,025 characters
    ("seal", None, "seal"),
    ("seal", 5, "seal"),
    ("seal", {}, "seal"),  # a body where the seal goes
    ("seal", BODY, "seal"),
    ("seal", [SEAL], "seal"),
    ("seal", "", "seal"),
    ("seal", SEAL.upper(), "seal"),
    ("seal", SEAL[:63], "seal"),
    ("seal", SEAL + "0", "seal"),
    ("seal", SEAL[:63] + "g", "seal"),
    ("seal", SEAL + "\n", "seal"),
    ("seal", " " + SEAL[1:], "seal"),
    ("seal", base64.b64encode(bytes.fromhex(SEAL)).decode(), "seal"),
    ("body", BODY, "body"),  # the old act, its body in clear beside the seal
    ("signature", 5, "signature"),
    ("signature", "", "signature"),
    ("signature", "!!!!", "signature"),
    ("signature", "AAAA", "signature"),
    ("signature", "A" * 86, "signature"),  # unpadded
    ("signature", "A" * 84 + "==", "signature"),  # 63 bytes
    ("signature", "A" * 85 + "B=", "signature"),  # not canonical
    ("extra", 1, "extra"),
    ("sig", "x", "sig"),
]


@pytest.mark.parametrize(
    ("name", "value", "field"), MALFORMED, ids=[f"{m}={v!r}"[:40] for m, v, _ in MALFORMED]
)
def test_the_reader_refuses_a_malformed_field_naming_it(name: str, value: Any, field: str) -> None:
    form = {**good_form(), name: value}
    error = refused(ActError, signed_act_from_json, form)
    assert error.field == field
    assert str(error).startswith(f"{field}: ")
    assert type(error) is ActError  # malformed, not a signature or clock failure


@pytest.mark.parametrize("name", [ACT_MARKER, *FIELDS, "signature"])
def test_the_reader_refuses_a_missing_field_naming_it(name: str) -> None:
    form = good_form()
    del form[name]
    error = refused(ActError, signed_act_from_json, form)
    assert error.field == name
    assert str(error) == f"{name}: missing"


@pytest.mark.parametrize("data", [[], "act", None, 1, b"{}"])
def test_the_reader_refuses_anything_but_an_object(data: object) -> None:
    assert refused(ActError, signed_act_from_json, data).field == "act"


def test_the_reader_names_a_long_unknown_field_cut_short() -> None:
    form = {**good_form(), "x" * 500: 1}
    error = refused(ActError, signed_act_from_json, form)
    assert len(error.field) <= 64 and "x" * 500 not in str(error)


def test_the_reader_refuses_an_act_that_signs_its_body_in_clear() -> None:
    """The act as it was before the seal: a body member, no seal."""
    form = good_form()
    del form["seal"]
    error = refused(ActError, signed_act_from_json, {**form, "body": BODY})
    assert (error.field, str(error)) == ("seal", "seal: missing")
