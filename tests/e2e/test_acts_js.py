"""The page's acts (``src/accord/web/acts.js``) in a real browser: Debian's Chromium driven by
Playwright, held to what Python reads.

RFC 8785 (JCS) and the body's seal in the browser against the shared vectors
(``tests/data/jcs/vectors.json``) and, as an oracle, against Python's ``rfc8785`` and
:func:`accord.record.acts.seal_of` on values hypothesis makes; an act signed in the browser
with a device key made there (Web Crypto Ed25519, not extractable) verifies in Python with
:func:`accord.record.acts.verify_act`, rebuilt from the five headers and the request as the
center will (the seal made again from the body and the salt); the key is kept in IndexedDB
across a reload and cannot be read out. The page's folder is served as it is by a small
loopback server (``127.0.0.1`` is a secure context, so Web Crypto is there); one page serves
the whole module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.chrono import parse_instant
from accord.errors import ActSignatureError
from accord.record.acts import Act, SignedAct, seal_of, signed_act_from_json, verify_act
from accord.record.keys import PublicKey
from support.browser import chromium

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "accord" / "web"
VECTORS = json.loads((ROOT / "tests" / "data" / "jcs" / "vectors.json").read_text("utf-8"))[
    "vectors"
]
MAX_SAFE = 2**53 - 1
LOG = "accord.example/jcc"

BLANK = b"<!doctype html><meta charset=utf-8><title>acts</title>"


class _Web(BaseHTTPRequestHandler):
    """``/``: an empty page (an origin to run in); ``/<name>.js``: the page's modules."""

    def do_GET(self) -> None:
        if self.path == "/":
            self._send(BLANK, "text/html; charset=utf-8")
        elif re.fullmatch(r"/[a-z]+\.js", self.path) and (WEB / self.path[1:]).is_file():
            self._send((WEB / self.path[1:]).read_bytes(), "text/javascript; charset=utf-8")
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def _send(self, body: bytes, media: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Web)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with chromium() as browser:
            context = browser.new_context()
            opened = context.new_page()
            errors: list[str] = []
            opened.on("pageerror", lambda error: errors.append(str(error)))
            opened.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            yield opened
            context.close()
            assert errors == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run(page: Page, body: str, arg: Any = None) -> Any:
    """Run ``body`` (an async function's body, with ``acts``: the module, and ``arg``)."""
    return page.evaluate(f'async (arg) => {{ const acts = await import("/acts.js"); {body} }}', arg)


# --- RFC 8785 -------------------------------------------------------------------------------


def test_every_jcs_vector_canonicalizes_in_the_browser(page: Page) -> None:
    inputs = [vector["input"] for vector in VECTORS]
    got = run(page, "return arg.map((text) => acts.canonicalize(JSON.parse(text)));", inputs)
    for vector, text in zip(VECTORS, got, strict=True):
        assert text == vector["canonical"], vector["name"]
    # the act vector is what Python signs, and its seal is the body vector's, sealed in the
    # browser as in Python with the salt of 32 zero bytes
    (act_vector,) = [v for v in VECTORS if v["name"] == "an act as the page signs it"]
    (body_vector,) = [v for v in VECTORS if v["name"] == "an act's body as the page seals it"]
    assert rfc8785.dumps(json.loads(act_vector["input"])).decode() == act_vector["canonical"]
    seal = run(page, 'return acts.sealOf(JSON.parse(arg), "A".repeat(43));', body_vector["input"])
    body = json.loads(body_vector["input"])
    assert seal == json.loads(act_vector["input"])["seal"] == seal_of(body, salt="A" * 43)


# Text that tells JCS apart: astral characters (surrogate pairs sort by code unit), the
# private use area, escapes and what must not be escaped.
_chars = st.characters(exclude_categories=["Cs"]) | st.sampled_from(
    ["\U0001f600", "\U00010000", "\ufb01", "\ue000", "\u2028", "\x7f", "\x1f", '"', "\\", "é"]
)
_text = st.text(_chars, max_size=8)
# keys from a few characters, so that an object's keys often differ only there
_keys = _text | st.text(
    st.sampled_from(["a", "é", "\ue000", "\ufb01", "\U0001f600", "\U00010000"]), max_size=3
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE, MAX_SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=16,
)


json_bodies = st.dictionaries(_keys, json_values, max_size=5)
salts = st.binary(min_size=32, max_size=32).map(
    lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    values=st.lists(json_values, min_size=200, max_size=200),
    sealed=st.lists(st.tuples(json_bodies, salts), min_size=50, max_size=50),
)
def test_the_browser_canonicalizes_and_seals_as_python(
    page: Page, values: list[Any], sealed: list[tuple[dict[str, Any], str]]
) -> None:
    """200 values per example canonicalized, and 50 bodies sealed, in one evaluate from their
    JSON text: the page's canonicalize is Python's rfc8785, its sealOf Python's seal_of."""
    got = run(
        page,
        """
        const {values, sealed} = JSON.parse(arg);
        const seals = [];
        for (const [body, salt] of sealed) seals.push(await acts.sealOf(body, salt));
        return {canonical: values.map(acts.canonicalize), seals};
        """,
        json.dumps({"values": values, "sealed": sealed}),
    )
    expected = [rfc8785.dumps(value).decode() for value in values]
    for value, mine, theirs in zip(values, got["canonical"], expected, strict=True):
        assert mine == theirs, value
    sealed_here = [seal_of(body, salt=salt) for body, salt in sealed]
    for (body, salt), mine, theirs in zip(sealed, got["seals"], sealed_here, strict=True):
        assert mine == theirs, (body, salt)


def test_what_has_no_json_form_throws(page: Page) -> None:
    got = run(
        page,
        """
        const cases = {
          NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "nested NaN": [1, {x: [NaN]}],
          "lone high": "\\ud800", "lone low": "a\\udc00b", "reversed pair": "\\udc00\\ud800",
          "high at the end": "ok\\ud83d", "lone surrogate key": {"\\ud83d": 1},
          undefined: undefined, "array hole": [, 1], bigint: 1n, function: () => 1,
          Date: new Date(0), Map: new Map(),
        };
        const out = {};
        for (const [name, value] of Object.entries(cases)) {
          try { out[name] = acts.canonicalize(value); } catch (e) { out[name] = e.name; }
        }
        out.pair = acts.canonicalize("\\ud83d\\ude00");
        return out;
        """,
    )
    pair = got.pop("pair")
    assert pair == '"\U0001f600"'
    assert got == dict.fromkeys(got, "TypeError")
    assert len(got) == 15


# --- the act --------------------------------------------------------------------------------


def _act_from_request(
    headers: dict[str, str], *, member: str, user: str, method: str, path: str, body: Any
) -> SignedAct:
    """The act as the center rebuilds it: the five headers, and the rest from the caller's
    token (member, user), its own log (origin) and the request (method, path, and the body,
    sealed again with the salt the request carries)."""
    signature = base64.b64decode(headers["Accord-Act-Signature"], validate=True)
    assert base64.b64encode(signature).decode() == headers["Accord-Act-Signature"]
    act = Act(
        origin=LOG,
        member=member,
        user=user,
        key=headers["Accord-Act-Key"],
        at=parse_instant(headers["Accord-Act-At"]),
        nonce=headers["Accord-Act-Nonce"],
        action=f"{method} {path}",
        seal=seal_of(body, salt=headers["Accord-Act-Salt"]),
    )
    return SignedAct(act, signature)


HEADERS = {
    "Accord-Act-Key",
    "Accord-Act-At",
    "Accord-Act-Nonce",
    "Accord-Act-Salt",
    "Accord-Act-Signature",
}
FIELDS = {"accord-act", "action", "at", "key", "member", "nonce", "origin", "seal", "user"}
SALT = base64.urlsafe_b64encode(bytes(range(100, 132))).rstrip(b"=").decode()


SIGN = """
const device = await acts.createDeviceKey(arg.origin, arg.user);
const fields = {...arg, body: arg.body === null ? undefined : JSON.parse(arg.body)};
const headers = await acts.actHeaders(device, fields);
const object = await acts.actObject(device, {...fields, salt: headers["Accord-Act-Salt"]});
return {
  raw: Array.from(device.raw), headers, object, canonical: acts.canonicalize(object),
  keyId: await acts.keyId(device.raw), fingerprint: await acts.fingerprint(device.raw),
};
"""


def test_an_act_signed_in_the_browser_verifies_in_python(page: Page) -> None:
    body = {
        "version": 2,
        "reason": "corridor clear ✓ \U0001f600",
        "altitude_m": 1500.0,
        "10": [0.1, -0.0, 1e21, 5e-324, MAX_SAFE],
        "nested": {"b": None, "a": True, "\ufb01": "", "\U00010000": []},
    }
    request = {
        "origin": LOG,
        "member": "blue",
        "user": "amira",
        "method": "POST",
        "path": "/v1/operations/op-17/approve?dry-run=1",
        "body": json.dumps(body),
        "at": "2026-05-01T12:00:00Z",
        "nonce": "q83vEjRWeJq83vEjRWeJqw",
        "salt": SALT,
    }
    got = run(page, SIGN, request)
    key = PublicKey("amira", bytes(got["raw"]))
    digest = hashlib.sha256(key.raw).hexdigest()
    assert got["keyId"] == key.key_id == got["headers"]["Accord-Act-Key"]
    assert got["fingerprint"] == " ".join(digest[i : i + 4] for i in range(0, 32, 4))
    assert set(got["headers"]) == HEADERS
    assert got["headers"]["Accord-Act-Salt"] == SALT  # the salt given is the salt used
    # the body is sealed, not signed in clear: nothing of it is in the signed object
    assert set(got["object"]) == FIELDS
    assert got["object"]["seal"] == seal_of(body, salt=SALT)
    assert "corridor" not in got["canonical"] and "altitude_m" not in got["canonical"]

    signed = _act_from_request(
        got["headers"], member="blue", user="amira", method="POST", path=request["path"], body=body
    )
    assert signed.act.to_json() == got["object"]
    assert signed.act.signed_bytes() == got["canonical"].encode("utf-8")
    verify_act(signed, key=key, origin=LOG, now=datetime(2026, 5, 1, 12, 3, tzinfo=UTC))
    # the strict reader takes the act's JSON form as the page wrote it
    form = {**got["object"], "signature": got["headers"]["Accord-Act-Signature"]}
    verify_act(signed_act_from_json(form), key=key, origin=LOG, now=signed.act.at)
    # the center parses the body the page sent (1500.0 is 1500, -0.0 is 0) and it opens the seal
    sent = json.loads(request["body"])
    assert sent["altitude_m"] == 1500 and type(sent["version"]) is int
    verify_act(
        _act_from_request(
            got["headers"],
            member="blue",
            user="amira",
            method="POST",
            path=request["path"],
            body={**sent, "altitude_m": 1500},
        ),
        key=key,
        origin=LOG,
        now=signed.act.at,
    )
    # and what the signature binds, it binds: another path, another body, another salt
    salt = got["headers"]["Accord-Act-Salt"]
    other_salt = salt[:10] + ("B" if salt[10] == "A" else "A") + salt[11:]
    for changes, headers in (
        ({"path": "/v1/operations/op-17/approve"}, {}),
        ({"body": {**body, "version": 3}}, {}),
        ({"body": {**body, "altitude_m": 1500.5}}, {}),
        ({"body": {k: v for k, v in body.items() if k != "nested"}}, {}),
        ({"body": {}}, {}),
        ({}, {"Accord-Act-Salt": other_salt}),
        ({}, {"Accord-Act-Salt": "A" * 43}),
    ):
        other = {"method": "POST", "path": request["path"], "body": body, **changes}
        forged = _act_from_request(
            {**got["headers"], **headers}, member="blue", user="amira", **other
        )
        with pytest.raises(ActSignatureError) as caught:
            verify_act(forged, key=key, origin=LOG, now=signed.act.at)
        assert caught.value.field == "signature"


def test_an_act_made_now_with_no_body(page: Page) -> None:
    request = {"origin": LOG, "member": "red", "user": "omar", "method": "DELETE"}
    got = run(page, SIGN, {**request, "path": "/v1/tokens/t-3", "body": None})
    key = PublicKey("omar", bytes(got["raw"]))
    headers = got["headers"]
    assert set(headers) == HEADERS
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", headers["Accord-Act-Nonce"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", headers["Accord-Act-Salt"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["Accord-Act-At"])
    assert got["object"]["seal"] == seal_of({}, salt=headers["Accord-Act-Salt"])
    assert got["object"]["action"] == "DELETE /v1/tokens/t-3"
    signed = _act_from_request(
        headers, member="red", user="omar", method="DELETE", path="/v1/tokens/t-3", body={}
    )
    verify_act(signed, key=key, origin=LOG, now=datetime.now(UTC), window=timedelta(seconds=30))
    # the two calls made their own instants and nonces
    assert got["object"]["nonce"] != headers["Accord-Act-Nonce"]


def test_instants_nonces_and_requests_the_page_refuses(page: Page) -> None:
    got = run(
        page,
        """
        const nonces = Array.from({length: 50}, acts.newNonce);
        const salts = Array.from({length: 50}, acts.newSalt);
        const instants = [
          acts.instant(new Date(Date.UTC(2026, 4, 1, 12, 0, 0, 999))),
          acts.instant(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 1))),
        ];
        const device = await acts.createDeviceKey(arg, "refused");
        const base = {origin: arg, member: "blue", user: "refused", method: "POST", path: "/v1/x"};
        const bad = {
          GET: {method: "GET"}, lower: {method: "post"}, relative: {path: "v1/x"},
          space: {path: "/v1/a b"}, unicode: {path: "/v1/\\u00e9"},
          long: {path: "/" + "x".repeat(1024)}, array: {body: [1]}, NaN: {body: {n: NaN}},
          lone: {body: {t: "\\udfff"}}, at: {at: "2026-05-01T12:00:00.000Z"},
          "salt short": {salt: "A".repeat(42)}, "salt long": {salt: "A".repeat(44)},
          "salt padded": {salt: "A".repeat(42) + "="}, "salt +/": {salt: "A".repeat(41) + "+/"},
          "salt unused bits": {salt: "A".repeat(42) + "B"},
          "salt bytes": {salt: new Uint8Array(32)}, "salt number": {salt: 5},
        };
        const out = {};
        for (const [name, change] of Object.entries(bad)) {
          try { await acts.actHeaders(device, {...base, ...change}); out[name] = "signed"; }
          catch (e) { out[name] = e.name; }
        }
        const salt = acts.newSalt();
        try { await acts.actObject(device, base); out["no salt"] = "made"; }
        catch (e) { out["no salt"] = e.name; }
        for (const [name, body] of Object.entries({array: [1], string: "x", NaN: {n: NaN}})) {
          try { await acts.sealOf(body, salt); out[`sealOf ${name}`] = "sealed"; }
          catch (e) { out[`sealOf ${name}`] = e.name; }
        }
        const canonicalEnds = [];
        for (const last of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
          try { await acts.sealOf({}, "A".repeat(42) + last); canonicalEnds.push(last); }
          catch (e) { if (e.name !== "TypeError") throw e; }
        }
        const longest = await acts.actObject(device, {...base, salt, path: "/" + "x".repeat(1023)});
        await acts.forgetDeviceKey(arg, "refused");
        return {
          nonces, salts, instants, out, canonicalEnds: canonicalEnds.join(""),
          longest: longest.action.length,
        };
        """,
        LOG,
    )
    assert len(set(got["nonces"])) == 50
    for nonce in got["nonces"]:
        raw = base64.urlsafe_b64decode(nonce + "==")
        assert len(raw) == 16 and base64.urlsafe_b64encode(raw).decode().rstrip("=") == nonce
    assert len(set(got["salts"])) == 50
    for salt in got["salts"]:
        raw = base64.urlsafe_b64decode(salt + "=")
        assert len(raw) == 32 and base64.urlsafe_b64encode(raw).decode().rstrip("=") == salt
        assert len(seal_of({}, salt=salt)) == 64  # Python takes it
    assert got["canonicalEnds"] == "AEIMQUYcgkosw048"  # as seal_of: unused bits zero
    assert got["instants"] == ["2026-05-01T12:00:00Z", "1999-12-31T23:59:59Z"]
    assert got["out"] == {
        "GET": "TypeError",
        "lower": "TypeError",
        "relative": "TypeError",
        "space": "TypeError",
        "unicode": "TypeError",
        "long": "TypeError",
        "array": "TypeError",
        "NaN": "TypeError",
        "lone": "TypeError",
        "at": "RangeError",
        "salt short": "TypeError",
        "salt long": "TypeError",
        "salt padded": "TypeError",
        "salt +/": "TypeError",
        "salt unused bits": "TypeError",
        "salt bytes": "TypeError",
        "salt number": "TypeError",
        "no salt": "TypeError",
        "sealOf array": "TypeError",
        "sealOf string": "TypeError",
        "sealOf NaN": "TypeError",
    }
    assert got["longest"] == len("POST /") + 1023


# --- the device key -------------------------------------------------------------------------


def test_the_device_key_survives_a_reload_and_cannot_be_read_out(page: Page) -> None:
    made = run(
        page,
        """
        await acts.forgetDeviceKey(arg, "nadia");
        const before = await acts.loadDeviceKey(arg, "nadia");
        const device = await acts.createDeviceKey(arg, "nadia");
        const other = await acts.createDeviceKey(arg + "/other", "nadia");
        return {before, raw: Array.from(device.raw), other: Array.from(other.raw)};
        """,
        LOG,
    )
    assert made["before"] is None and made["raw"] != made["other"]
    page.reload()
    got = run(
        page,
        """
        const device = await acts.loadDeviceKey(arg, "nadia");
        const out = {
          raw: Array.from(device.raw),
          extractable: device.privateKey.extractable,
          type: device.privateKey.type,
          algorithm: device.privateKey.algorithm.name,
          usages: device.privateKey.usages,
          publicUsages: device.publicKey.usages,
          refused: {},
        };
        for (const format of ["pkcs8", "jwk", "raw"]) {
          try { await crypto.subtle.exportKey(format, device.privateKey); out.refused[format] = 0; }
          catch (e) { out.refused[format] = e.name; }
        }
        out.headers = await acts.actHeaders(device, {
          origin: arg, member: "green", user: "nadia", method: "PUT", path: "/v1/areas/a-1",
          body: {name: "north"},
        });
        await acts.forgetDeviceKey(arg, "nadia");
        out.forgotten = await acts.loadDeviceKey(arg, "nadia");
        out.other = Array.from((await acts.loadDeviceKey(arg + "/other", "nadia")).raw);
        return out;
        """,
        LOG,
    )
    assert got["raw"] == made["raw"] and got["other"] == made["other"]
    assert (got["extractable"], got["type"], got["algorithm"]) == (False, "private", "Ed25519")
    assert got["usages"] == ["sign"] and got["publicUsages"] == ["verify"]
    assert got["refused"] == {
        "pkcs8": "InvalidAccessError",
        "jwk": "InvalidAccessError",
        "raw": "InvalidAccessError",
    }
    assert got["forgotten"] is None
    # the key loaded after the reload signs, and Python verifies it
    key = PublicKey("nadia", bytes(got["raw"]))
    signed = _act_from_request(
        got["headers"],
        member="green",
        user="nadia",
        method="PUT",
        path="/v1/areas/a-1",
        body={"name": "north"},
    )
    verify_act(signed, key=key, origin=LOG, now=datetime.now(UTC), window=timedelta(seconds=30))
