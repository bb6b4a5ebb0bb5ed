"""The page signs with its own device key, certified by the user's office (issue 17), in a real
browser (Debian's Chromium driven by Playwright) against a real ``accord serve`` under the jig
agreement naming its members' roots.

A user signs in on a fresh browser: the page makes its key (not extractable, kept across a
reload), offers it and shows its fingerprint, read-only; the office (the test, with the
member's root) compares the fingerprint with the offer's and certifies the key; within the
page's poll the page can act, and an acknowledgement made in it is recorded with an act
signed by that key; the office revokes the key and the page is read-only again. An approver
whose key may certify certifies another user's device from the page.

Without Chromium these tests skip, saying why — except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.live import LiveServer

from accord.agreement import load_agreement
from accord.center.keystore import log_origin
from accord.record.acts import signed_act_from_json, verify_act
from accord.record.keys import PublicKey
from accord.record.registry import fingerprint
from support.browser import shot
from support.jig import AGREEMENT_TEXT
from support.offices import Offices, root_of, rooted

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]

USERS = {
    "blue-officer": ("blue", "officer"),
    "blue-approver": ("blue", "approver"),
    "red-officer": ("red", "officer"),
}
POLL_S = 5.0
"""The page asks GET /v1/me this often (app.js POLL_MS)."""
WITHIN_POLL_MS = int((POLL_S + 3.0) * 1000)
"""A change of the key's standing shows within one poll, and a little time to draw it."""
FINGERPRINT = re.compile(r"[0-9a-f]{4}( [0-9a-f]{4}){7}")


@dataclass
class Rooted:
    url: str
    origin: str
    tokens: dict[str, str]
    offices: Offices

    def client(self, user: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.tokens[user]}"}
        return httpx.Client(base_url=self.url, headers=auth, timeout=30.0)

    def post(
        self, user: str, path: str, body: dict[str, Any], *, root: bool = False
    ) -> httpx.Response:
        """``user``'s request, its act signed by the user's office key or its member's root."""
        member = self.offices.users[user]
        key = root_of(member) if root else None
        signed = self.offices.headers(user, "POST", path, body, key=key)
        with self.client(user) as client:
            return client.post(path, json=body, headers=signed)


@pytest.fixture(scope="module")
def rooted_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rooted]:
    """``accord serve`` under the jig agreement naming its members' roots: both roots signed
    it; the keys of blue's approver and red's officer are registered by the test's offices;
    blue's officer has none (its browser makes one)."""
    folder = tmp_path_factory.mktemp("device-keys")
    agreement = folder / "agreement.yaml"
    agreement.write_text(rooted(AGREEMENT_TEXT), encoding="utf-8")
    server = LiveServer(
        database_url=f"sqlite:///{folder / 'accord.sqlite'}",
        keys_dir=folder / "keys",
        log_path=folder / "server.log",
        agreement_path=agreement,
    )
    tokens = {name: server.add_user(name, member, role) for name, (member, role) in USERS.items()}
    origin = log_origin(load_agreement(agreement))
    offices = Offices(origin, USERS, lambda: datetime.now(UTC))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            offices.start(client, {u: tokens[u] for u in ("blue-approver", "red-officer")})
        yield Rooted(server.url, origin, tokens, offices)
    finally:
        server.stop()


class Device:
    """A fresh browser (a context of its own: its own IndexedDB) where ``user`` signs in."""

    def __init__(self, browser: Browser, server: Rooted, user: str) -> None:
        self.server = server
        self.user = user
        self.context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 860})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url + "/")
        self.page.fill("#token", server.tokens[user])
        self.page.keyboard.press("Enter")
        self.ready()

    def ready(self) -> None:
        self.page.wait_for_selector("body[data-ready=true]", timeout=30_000)

    def device(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate("() => window.accord.device()")
        return state

    def stored_key(self) -> dict[str, Any]:
        """What IndexedDB holds for this user on this log: the key's id, whether its private
        half is extractable, and what exporting it does."""
        found: dict[str, Any] = self.page.evaluate(
            """async ([origin, user]) => {
              const acts = await import('/static/acts.js');
              const key = await acts.loadDeviceKey(origin, user);
              if (!key) return null;
              let exported = 'exported';
              try { await crypto.subtle.exportKey('pkcs8', key.privateKey); }
              catch (error) { exported = error.name; }
              return {id: await acts.keyId(key.raw), extractable: key.privateKey.extractable,
                      type: key.privateKey.type, exported};
            }""",
            [self.server.origin, self.user],
        )
        return found

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


def offer_of(server: Rooted, user: str, key_id: str) -> dict[str, Any]:
    """The offer of ``key_id``, as the office reads it (GET /v1/keys/offers)."""
    with server.client(user) as client:
        answer = client.get("/v1/keys/offers")
    assert answer.status_code == 200, answer.text
    found = [o for o in answer.json()["items"] if o["key"] == key_id]
    assert len(found) == 1, answer.json()
    offer: dict[str, Any] = found[0]
    assert offer["user"] == user
    return offer


def entries_signed_with(server: Rooted, key_id: str) -> list[dict[str, Any]]:
    """Every record entry whose act was signed with the key ``key_id``."""
    out: list[dict[str, Any]] = []
    with server.client("red-officer") as client:
        size = client.get("/v1/record/head").json()["size"]
        for start in range(0, size, 256):
            page = client.get("/v1/record/entries", params={"start": start}).json()
            for item in page["entries"]:
                entry = json.loads(base64.b64decode(item["data"]))["entry"]
                act = entry.get("act") or {}
                if (act.get("signed") or {}).get("key") == key_id:
                    out.append(entry)
    return out


def acting_controls_disabled(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-acting", "false")
    expect(page.locator("#m-send")).to_be_disabled()
    expect(page.locator("#p-submit")).to_be_disabled()
    # Reading stays open.
    expect(page.locator("#verify")).to_be_enabled()


def test_a_device_offers_its_key_is_certified_acts_and_is_revoked(
    browser: Browser, rooted_server: Rooted
) -> None:
    server = rooted_server
    blue = Device(browser, server, "blue-officer")
    page = blue.page
    try:
        # First sign-in: the page made its key, offered it, and only reads.
        banner = page.locator("#device")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(
            "This device is not certified yet. Ask your office to certify it: fingerprint"
        )
        shown = page.locator("#device-fingerprint").inner_text()
        assert FINGERPRINT.fullmatch(shown), shown
        acting_controls_disabled(page)
        device = blue.device()
        assert device["status"] == "offered" and device["fingerprint"] == shown

        # A message from red arrives: it can be read, not acknowledged.
        subject = "Patrol holding at the warehouse"
        body = {"to": ["blue"], "subject": subject, "text": "Until 1200Z.", "ack_within": "PT1H"}
        sent = server.post("red-officer", "/v1/messages", body)
        assert sent.status_code == 201, sent.text
        item = page.locator("#inbox li.msg", has_text=subject)
        expect(item).to_be_visible(timeout=15_000)
        acknowledge = item.get_by_role("button", name="Acknowledge")
        expect(acknowledge).to_be_disabled()
        shot(page, "20-device-not-certified")

        # The private key never leaves the browser.
        stored = blue.stored_key()
        assert stored == {
            "id": device["id"], "extractable": False, "type": "private",
            "exported": "InvalidAccessError",
        }  # fmt: skip

        # The office reads the offer and compares its fingerprint with the page's.
        offer = offer_of(server, "blue-officer", device["id"])
        raw = base64.b64decode(offer["public_key"], validate=True)
        assert offer["fingerprint"] == fingerprint(raw) == shown
        assert PublicKey("blue", raw).key_id == device["id"]

        # It certifies the key, signed with blue's root; the page acts within its poll.
        registration = {"user": "blue-officer", "public_key": offer["public_key"],
                        "purposes": ["act"]}  # fmt: skip
        made = server.post("blue-officer", "/v1/keys/registrations", registration, root=True)
        assert made.status_code == 201, made.text
        expect(banner).to_be_hidden(timeout=WITHIN_POLL_MS)
        expect(page.locator("body")).to_have_attribute("data-acting", "true")
        expect(page.locator("#m-send")).to_be_enabled()
        expect(acknowledge).to_be_enabled()
        shot(page, "21-device-certified")

        # One real act through the page: the acknowledgement, signed with the browser's key.
        acknowledge.click()
        expect(item).to_contain_text("acknowledged", timeout=15_000)
        entries = entries_signed_with(server, device["id"])
        assert [e["event"]["kind"] for e in entries] == ["message.acknowledged"], entries
        (entry,) = entries
        assert entry["author"] == "blue" and entry["act"]["key"] == offer["public_key"]
        signed = signed_act_from_json(entry["act"]["signed"])
        assert signed.act.user == "blue-officer" and signed.act.member == "blue"
        assert signed.act.action.startswith("POST /v1/messages/")
        assert signed.act.action.endswith("/acknowledge")
        verify_act(signed, key=PublicKey("blue", raw), origin=server.origin, now=signed.act.at)

        # The key survives a reload: the same one, certified, nothing offered again.
        page.reload()
        blue.ready()
        assert blue.stored_key() == stored
        again = blue.device()
        assert again["id"] == device["id"] and again["status"] == "certified"
        expect(banner).to_be_hidden()
        expect(page.locator("#m-send")).to_be_enabled()

        # The office revokes the key: the page is read-only again, and says why.
        revocation = {"key": device["id"], "reason": "the laptop was lost"}
        revoked = server.post("blue-officer", "/v1/keys/revocations", revocation, root=True)
        assert revoked.status_code == 201, revoked.text
        expect(banner).to_be_visible(timeout=WITHIN_POLL_MS)
        expect(banner).to_contain_text("no longer certified")
        expect(banner).to_contain_text("revoked by your office")
        expect(page.locator("#device-fingerprint")).to_have_text(shown)
        acting_controls_disabled(page)
        expect(page.locator("#device-new")).to_be_visible()
        shot(page, "22-device-revoked")

        # The user makes a new key on this device: offered in place of the old one.
        page.click("#device-new")
        expect(banner).to_contain_text("This device is not certified yet")
        expect(page.locator("#device-fingerprint")).not_to_have_text(shown)
        new = blue.device()
        assert new["status"] == "offered" and new["id"] != device["id"]
        assert blue.stored_key()["id"] == new["id"]
        assert offer_of(server, "blue-officer", new["id"])["fingerprint"] == new["fingerprint"]
        acting_controls_disabled(page)
    finally:
        blue.close()


def test_an_approver_whose_key_may_certify_certifies_another_device(
    browser: Browser, rooted_server: Rooted
) -> None:
    server = rooted_server
    approver = Device(browser, server, "blue-approver")
    officer: Device | None = None
    try:
        # The approver's browser key, certified by blue's root to act and to certify.
        mine = approver.device()
        assert mine["status"] == "offered"
        offer = offer_of(server, "blue-approver", mine["id"])
        registration = {"user": "blue-approver", "public_key": offer["public_key"],
                        "purposes": ["act", "certify"]}  # fmt: skip
        made = server.post("blue-approver", "/v1/keys/registrations", registration, root=True)
        assert made.status_code == 201, made.text
        panel = approver.page.locator("#panel-certify")
        expect(panel).to_be_visible(timeout=WITHIN_POLL_MS)

        # The officer signs in on a new device; the approver sees its offer.
        officer = Device(browser, server, "blue-officer")
        theirs = officer.device()
        assert theirs["status"] == "offered"
        pending = panel.locator(f"li[data-offer='{theirs['id']}']")
        expect(pending).to_be_visible(timeout=WITHIN_POLL_MS)
        expect(pending).to_contain_text(theirs["fingerprint"])
        shot(approver.page, "23-approver-sees-offer")
        pending.get_by_role("button", name="Certify").click()
        expect(pending).to_be_hidden(timeout=15_000)

        # The officer's page acts; the registration is the approver's device's act.
        expect(officer.page.locator("#device")).to_be_hidden(timeout=WITHIN_POLL_MS)
        expect(officer.page.locator("#m-send")).to_be_enabled()
        with server.client("blue-officer") as client:
            registry = client.get("/v1/keys/registry").json()
        (key,) = [k for k in registry["keys"] if k["key"] == theirs["id"]]
        assert key["user"] == "blue-officer" and key["purposes"] == ["act"]
        assert key["ended_at"] is None
        (entry,) = [
            e for e in entries_signed_with(server, mine["id"])
            if e["event"]["kind"] == "key.registered"
        ]  # fmt: skip
        assert entry["event"]["key"] == theirs["id"]
    finally:
        approver.close()
        if officer is not None:
            officer.close()
