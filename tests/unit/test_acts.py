"""A party's signed act: RFC 8785 (JCS) held to shared vectors, signing and verification, and
a strict reader that names the field at fault."""

from __future__ import annotations

import copy
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
    Act,
    ActClockError,
    ActError,
    ActSignatureError,
    SignedAct,
    new_nonce,
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
    """The vector the page will sign is what :meth:`Act.signed_bytes` writes."""
    (vector,) = [v for v in VECTORS if v["name"] == "an act as the page signs it"]
    fields = json.loads(vector["input"])
    act = Act(
        origin=fields["origin"],
        member=fields["member"],
        user=fields["user"],
        key=fields["key"],
        at=datetime.fromisoformat(fields["at"]),
        nonce=fields["nonce"],
        action=fields["action"],
        body=fields["body"],
    )
    assert act.signed_bytes() == vector["canonical"].encode("utf-8")
    assert fields[ACT_MARKER] == 1


# --- acts: signing and verifying ------------------------------------------------------------

LOG = "accord.example/jcc"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
AMIRA, OMAR = seeded("amira"), seeded("omar")
BODY = {"operation": "op-17", "version": 2, "reason": "corridor clear ✓", "altitude_m": 1500.5}
FIELDS = ("origin", "member", "user", "key", "at", "nonce", "action", "body")


def act(**changes: Any) -> Act:
    base: dict[str, Any] = {
        "origin": LOG,
        "member": "blue",
        "user": "amira",
        "key": AMIRA.key_id,
        "at": NOW,
        "nonce": "q83vEjRWeJq83vEjRWeJqw",
        "action": "POST /v1/operations/op-17/approve",
        "body": BODY,
    }
    return Act(**{**base, **changes})


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
    assert again.act.body == BODY
    assert verify(again) is None


def test_the_json_form_is_the_signed_object_and_a_signature() -> None:
    signed = sign_act(act(), AMIRA)
    form = signed.to_json()
    assert set(form) == {ACT_MARKER, *FIELDS, "signature"}
    assert form[ACT_MARKER] == 1 and form["at"] == "2026-05-01T12:00:00Z"
    assert len(b64(form["signature"])) == 64
    unsigned = {k: v for k, v in form.items() if k != "signature"}
    assert rfc8785.dumps(unsigned) == signed.act.signed_bytes()
    AMIRA.public.verify(b64(form["signature"]), rfc8785.dumps(unsigned))
    form["body"]["operation"] = "op-99"  # a copy: the act is not changed
    assert signed.act.body == BODY


def test_the_signed_bytes_are_jcs_numbers_and_key_order_included() -> None:
    """What the page writes for the same body is what the act is signed over: 1.0 is 1, keys
    in UTF-16 order."""
    body = {"\ufb01": 1.0, "\U0001f600": 1e21, "z": -0.0, "e": 1e-7}
    signed_bytes = act(body=body).signed_bytes()
    assert '"body":{"e":1e-7,"z":0,"\U0001f600":1e+21,"\ufb01":1}'.encode() in signed_bytes
    # an act signed in Python with 1.0 verifies when the page sends it back as 1
    signed = sign_act(act(body={"n": 1.0, "m": [2.0]}), AMIRA)
    form = signed.to_json()
    form["body"] = {"n": 1, "m": [2]}
    verify(signed_act_from_json(form))


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
def test_any_body_signs_reads_back_through_json_text_and_verifies(body: dict[str, Any]) -> None:
    signed = sign_act(act(body=body), AMIRA)
    again = signed_act_from_json(json.loads(json.dumps(signed.to_json())))
    verify(again)
    assert again.act.signed_bytes() == signed.act.signed_bytes()


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
        "body": body,
    }
    return {**form, name: other[name]}


@settings(max_examples=25, deadline=None)
@given(body=bodies, other_body=bodies, name=st.sampled_from(FIELDS))
def test_every_single_field_change_fails_verification(
    body: dict[str, Any], other_body: dict[str, Any], name: str
) -> None:
    if rfc8785.dumps(other_body) == rfc8785.dumps(body):
        other_body = {**body, "\u00e9": [body]}
    form = sign_act(act(body=body), AMIRA).to_json()
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


def test_a_body_changed_after_signing_fails_closed() -> None:
    signed = sign_act(act(), AMIRA)
    signed.act.body["version"] = 3
    assert refused(ActSignatureError, verify, signed).field == "signature"


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


def test_an_act_keeps_its_own_copy_of_the_body_in_utc() -> None:
    body: dict[str, Any] = {"area": (1, [2.5, 3])}
    made = act(body=body, at=datetime(2026, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))))
    body["area"] = None
    assert made.body == {"area": [1, [2.5, 3]]}
    assert made.at == NOW and made.at.tzinfo is UTC
    assert made.to_json()["at"] == "2026-05-01T12:00:00Z"
    assert hash(made) == hash(act(body={}))  # hashable; the body is not hashed
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
        ({"body": []}, "body"),
        ({"body": {"when": NOW}}, "body.when"),
        ({"body": {"ids": {1, 2}}}, "body.ids"),
        ({"body": {"n": True, "k": [1, 2**53]}}, "body.k[1]"),
        ({"body": {"deep": json.loads("[" * 70 + "]" * 70)}}, "body.deep" + "[0]" * 63),
    ],
)
def test_making_an_act_checks_each_field(changes: dict[str, Any], field: str) -> None:
    assert refused(ActError, act, **changes).field == field


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
    ("body", [], "body"),
    ("body", "x", "body"),
    ("body", None, "body"),
    ("body", {"a": float("nan")}, "body.a"),
    ("body", {"a": {"b": [1, float("inf")]}}, "body.a.b[1]"),
    ("body", {"a": 2**53}, "body.a"),
    ("body", {"\ud800": 1}, "body"),
    ("body", {"a": ["\udfff"]}, "body.a[0]"),
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


def test_the_reader_does_not_keep_the_callers_body() -> None:
    form = good_form()
    signed = signed_act_from_json(form)
    form["body"]["version"] = 99
    verify(signed)
    assert copy.deepcopy(signed.act.body) == BODY
