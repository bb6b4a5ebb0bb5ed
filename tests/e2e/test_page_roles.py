"""Each role's page (issue 19, item 7) in a real browser against ``accord serve --demo``.

Every user the demo prints signs in with no page error, reads its one line of what it may do
(from GET /v1/me's ``may``, which the center derives from its routes' own role checks: a
route a role may not call answers it 403, and the page offers it nothing of the kind), and is
offered its role's controls and no other. The notifier declares a site from the page and
reads its receipt; red's officer sees the site appear live and acknowledges it; the notifier
sees that receipt. A bad declaration names its field beside it and records nothing. The
administrator's page loads (no map: users, devices' keys, the record's head and witnesses,
the live connection), lists its member's users, issues a token that works and removes it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from support.browser import shot
from support.webdemo import Demo, Session, csp_refusals, into_view, map_point

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None

# What the one line says, per user: (the words that must be there, those that must not).
LINES: dict[str, tuple[list[str], list[str]]] = {
    "blue-officer": (
        [
            "Officer of blue —",
            "propose, object to and execute operations",
            "send and acknowledge direct-line messages",
            "blue's approver approves or vetoes",
        ],
        ["approve or veto operations", "tokens"],
    ),
    "blue-approver": (
        ["Approver of blue —", "approve or veto operations", "blue's officers propose"],
        ["you propose operations", "you declare"],
    ),
    "red-officer": (
        ["Officer of red —", "propose, object to and execute operations"],
        ["approve or veto operations"],
    ),
    "red-approver": (["Approver of red —", "approve or veto operations"], ["you propose"]),
    "observer": (
        [
            "Monitor of observers —",
            "file violation reports",
            "read and verify the record",
            "you change nothing else",
        ],
        ["acknowledge", "propose", "send"],
    ),
    "hnc-notifier": (
        [
            "Humanitarian notifier of hnc —",
            "declare protected sites and movements",
            "receipt",
            "nothing of anyone's operations",
        ],
        ["propose", "approve", "messages"],
    ),
    "admin": (
        [
            "Administrator of blue —",
            "issue, rotate and remove the tokens of blue's users",
            "read and verify the record",
        ],
        ["propose", "declare protected", "approve"],
    ),
}
OFFICERS = ("red-backup-officer", "red-duty-officer")

# Buttons no page of the role may show (by their label), anywhere.
NEVER: dict[str, list[str]] = {
    "officer": ["Approve", "Veto…", "Override and approve…", "Issue the token"],
    "approver": ["Object…", "Report executing", "Declare", "Issue the token"],
    "monitor": [
        "Acknowledge",
        "Approve",
        "Veto…",
        "Object…",
        "Send",
        "Cancel…",
        "Acknowledge receipt",
        "Declare",
        "Issue the token",
    ],
    "notifier": [
        "Acknowledge",
        "Approve",
        "Veto…",
        "Send",
        "Submit the proposal",
        "File the report",
        "Acknowledge receipt",
        "Verify the record",
        "Issue the token",
    ],
    "admin": [
        "Acknowledge",
        "Approve",
        "Veto…",
        "Send",
        "Submit the proposal",
        "Declare",
        "File the report",
        "Acknowledge receipt",
        "Certify",
    ],
}

# Panels shown (True) or hidden (False) per role.
PANELS: dict[str, dict[str, bool]] = {
    "officer": {
        "#panel-propose": True,
        "#compose-panel": True,
        "#report-panel": True,
        "#panel-notifications": True,
        "#panel-declare": True,
        "#admin": False,
        "#map": True,
    },
    "approver": {
        "#panel-propose": False,
        "#compose-panel": True,
        "#report-panel": True,
        "#panel-ops": True,
        "#panel-declare": False,
        "#admin": False,
    },
    "monitor": {
        "#panel-propose": False,
        "#compose-panel": False,
        "#report-panel": True,
        "#panel-line": True,
        "#inbox": False,
        "#outbox": True,
        "#panel-ops": True,
        "#findings-box": True,
        "#panel-record": True,
        "#panel-declare": False,
    },
    "notifier": {
        "#panel-declare": True,
        "#panel-receipts": True,
        "#panel-ops": False,
        "#panel-line": False,
        "#panel-propose": False,
        "#panel-alerts": False,
        "#panel-record": False,
        "#findings-box": False,
        "#report-panel": False,
        "#map": True,
    },
    "admin": {
        "#admin": True,
        "#map": False,
        "#panel-layers": False,
        "#panel-ops": False,
        "#panel-line": False,
        "#panel-propose": False,
        "#panel-compliance": False,
        "#panel-alerts": False,
        "#panel-record": True,
    },
}


def _role(page: Page) -> str:
    return str(page.evaluate("() => window.accord.state.me.role"))


def _visible_buttons(page: Page) -> set[str]:
    return set(
        page.evaluate(
            """() => [...document.querySelectorAll('button')]
                .filter((b) => b.offsetParent !== null || b.getClientRects().length)
                .map((b) => b.textContent.trim())"""
        )
    )


def _check_page(page: Page, user: str) -> None:
    role = _role(page)
    line = page.locator("#role-line")
    expect(line).to_be_visible()
    text = line.text_content() or ""
    present, absent = LINES.get(user, LINES["red-officer"] if user in OFFICERS else ([], []))
    for words in present:
        assert words in text, (user, words, text)
    for words in absent:
        assert words not in text, (user, words, text)
    assert text.count("\n") == 0 and text.endswith("."), text
    for selector, shown in PANELS[role].items():
        node = page.locator(selector)
        if shown:
            expect(node).to_be_visible()
        else:
            expect(node).to_be_hidden()
    offered = _visible_buttons(page)
    refused = offered & set(NEVER[role])
    assert not refused, (user, refused)


def test_every_demo_user_loads_says_what_it_may_do_and_offers_only_that(
    browser: Browser, demo: Demo
) -> None:
    assert set(LINES) | set(OFFICERS) <= demo.tokens.keys(), demo.tokens.keys()
    for user in demo.tokens:
        session = Session(browser, demo, user)
        try:
            page = session.page
            refused = csp_refusals(page)
            _check_page(page, user)
            role = _role(page)
            if role == "approver" and user.startswith("red"):
                # the operation blue approved waits for red: red's approver is offered both
                card = page.locator("#board article.op", has_text="Strike on depot D-14")
                expect(
                    card.get_by_role("button", name=re.compile("^(Approve|Override)"))
                ).to_be_visible()
                expect(card.get_by_role("button", name="Veto…")).to_be_visible()
            if role == "monitor":
                # every message once, none with an Acknowledge
                ids = page.evaluate(
                    "() => [...document.querySelectorAll('#panel-line [data-message]')]"
                    ".map((n) => n.dataset.message)"
                )
                assert ids and len(ids) == len(set(ids)), ids
                expect(page.locator("#panel-line button", has_text="Acknowledge")).to_have_count(0)
                expect(page.locator("#report-panel summary")).to_have_text("File a report")
            if role == "notifier":
                # no empty panel: every list shown holds something
                expect(page.locator("#receipts li[data-receipt]").first).to_be_visible()
                expect(page.locator("#reports li").first).to_be_visible()
            if role == "admin":
                expect(page.locator("#admin-head-size")).to_have_text(re.compile(r"^\d+$"))
                expect(page.locator("#admin-live #live-state")).to_have_text("live")
            # nothing the page meant to leave out written as a word (a DOM node's own
            # append() writes null as "null")
            leaked = page.evaluate(
                "() => document.body.innerText.match("
                "/\\b(null|undefined|NaN)\\b|\\[object Object\\]/g) || []"
            )
            assert leaked == [], (user, leaked)
            if user in ("blue-officer", "observer", "hnc-notifier", "admin", "blue-approver"):
                shot(page, f"roles-{user}")
            assert refused == [], refused
        finally:
            session.close()


def test_what_me_says_a_role_may_not_call_the_center_refuses(demo: Demo) -> None:
    """``may`` is the routes' own check: every route some role may call and this role may
    not is answered 403 for it, before anything else is read."""
    mays: dict[str, set[str]] = {}
    for user in ("blue-officer", "blue-approver", "observer", "hnc-notifier", "admin"):
        me = httpx.get(
            f"{demo.url}/v1/me", headers={"Authorization": f"Bearer {demo.tokens[user]}"}
        ).json()
        mays[user] = set(me["may"])
    every = set().union(*mays.values())
    assert "POST /v1/messages/{message_id}/acknowledge" not in mays["observer"]
    assert "GET /v1/world" not in mays["admin"] and "GET /v1/users" in mays["admin"]
    with httpx.Client(base_url=demo.url, timeout=30.0) as client:
        for user, allowed in mays.items():
            for route in sorted(every - allowed):
                method, path = route.split(" ", 1)
                path = re.sub(r"\{[^}]+\}", "x", path)
                answer = client.request(
                    method,
                    path,
                    headers={"Authorization": f"Bearer {demo.tokens[user]}"},
                    json={} if method != "GET" else None,
                )
                assert answer.status_code == 403, (user, route, answer.status_code, answer.text)


def _declarations(demo: Demo) -> list[dict[str, Any]]:
    with demo.api("hnc-notifier") as client:
        return list(
            client.get("/v1/declarations", params={"owner": "hnc", "limit": 500}).json()["items"]
        )


def test_the_notifier_declares_a_site_red_sees_it_live_and_acknowledges_it(
    sessions: Any, demo: Demo
) -> None:
    notifier = sessions("hnc-notifier").page
    red = sessions("red-officer").page
    refused = csp_refusals(notifier, red)
    before = len(_declarations(demo))

    # A bad declaration first: no category. The center names the field, beside it; nothing
    # is recorded.
    notifier.fill("#d-name", "Field clinic Bravo")
    notifier.fill("#d-lon", "21.8")
    notifier.fill("#d-lat", "24.7")
    notifier.fill("#d-standoff", "800")
    notifier.click("#d-submit")
    expect(notifier.locator("#d-category-error")).to_contain_text("properties.category")
    expect(notifier.locator("#d-category")).to_have_attribute("aria-invalid", "true")
    expect(notifier.locator("#d-category")).to_be_focused()
    expect(notifier.locator("#declare-error")).to_contain_text("named beside them")
    assert len(_declarations(demo)) == before
    expect(notifier.locator("#receipts li[data-receipt]")).to_have_count(before)
    # A time not in the form asked for is named too (the page cannot send it).
    notifier.fill("#d-category", "clinic")
    notifier.fill("#d-confirmed", "20/09/2026 4pm")
    notifier.click("#d-submit")
    expect(notifier.locator("#d-confirmed-error")).to_contain_text("YYYY-MM-DD HH:MM")
    expect(notifier.locator("#d-category-error")).to_be_empty()
    assert len(_declarations(demo)) == before

    # The point picked on the map, then declared.
    notifier.fill("#d-confirmed", "2026-09-20 03:30")
    notifier.click("#d-pick")
    expect(notifier.locator("#map-help")).to_contain_text("Click where the site is")
    notifier.mouse.click(*map_point(notifier, 21.80, 24.70))
    expect(notifier.locator("#d-lon")).to_have_value(re.compile(r"^21\.7|^21\.8"))
    notifier.click("#d-submit")
    receipt = notifier.locator("#receipts li[data-receipt]", has_text="Field clinic Bravo")
    expect(receipt).to_be_visible()
    expect(receipt.locator(".entry")).to_contain_text(
        re.compile(r"record entry \d+ · 2026-09-20 \d\d:\d\d:\d\dZ")
    )
    expect(receipt).to_contain_text("not yet acknowledged by blue, red")
    made = [
        d
        for d in _declarations(demo)
        if d["feature"]["properties"].get("name") == "Field clinic Bravo"
    ]
    assert len(made) == 1 and made[0]["feature"]["properties"]["category"] == "clinic"
    assert made[0]["feature"]["properties"]["confirmed_at"] == "2026-09-20T03:30:00Z"
    did = made[0]["id"]
    assert f"record entry {made[0]['entry']}" in (receipt.text_content() or "")
    assert notifier.evaluate(f"() => window.accordMap.count((i) => i.id === {did!r})") == 1
    shot(notifier, "roles-notifier-declared")

    # Red's officer: the site on the map, live, and a receipt to give.
    red.wait_for_function(f"() => window.accordMap.count((i) => i.id === {did!r}) === 1")
    expect(red.locator("#panel-notifications")).to_have_attribute("open", "")
    item = red.locator(f"#notifications [data-notification='{did}']")
    into_view(item)
    item.get_by_role("button", name="Acknowledge receipt").click()
    expect(item.locator(".ack")).to_contain_text("acknowledged by red: entry")

    # The notifier sees red's receipt arrive.
    expect(receipt.locator(".ack")).to_contain_text("acknowledged by red: entry")
    expect(receipt).to_contain_text("not yet acknowledged by blue")
    assert refused == [], refused


def test_a_movement_drawn_on_the_map_with_its_window(sessions: Any, demo: Demo) -> None:
    notifier = sessions("hnc-notifier").page
    notifier.select_option("#d-kind", "movement")
    expect(notifier.locator("#d-route")).to_be_visible()
    expect(notifier.locator("#d-category")).to_be_hidden()
    notifier.fill("#d-name", "Evacuation column 3")
    notifier.click("#d-draw")
    for lon, lat in ((21.60, 24.62), (21.70, 24.66), (21.78, 24.70)):
        notifier.mouse.click(*map_point(notifier, lon, lat))
    notifier.keyboard.press("Enter")
    expect(notifier.locator("#map-help")).to_be_hidden()
    assert len((notifier.input_value("#d-route")).split(",")) == 3
    # the window backwards: the center names valid_to, beside it
    notifier.fill("#d-from", "2026-09-20 09:00")
    notifier.fill("#d-to", "2026-09-20 08:00")
    notifier.click("#d-submit")
    expect(notifier.locator("#d-to-error")).to_contain_text("properties.valid_to")
    notifier.fill("#d-to", "2026-09-20 12:00")
    notifier.click("#d-submit")
    receipt = notifier.locator("#receipts li[data-receipt]", has_text="Evacuation column 3")
    expect(receipt).to_contain_text("movement · 2026-09-20 09:00:00Z → 2026-09-20 12:00:00Z")
    expect(notifier.locator("#d-to-error")).to_be_empty()


def test_an_officer_declares_a_hidden_position_and_a_shared_one(sessions: Any) -> None:
    blue = sessions("blue-officer").page
    red = sessions("red-officer").page
    panel = blue.locator("#panel-declare")
    panel.locator("summary").click()
    expect(blue.locator("#d-kind")).to_have_value("position")
    expect(blue.locator("#d-uncertainty")).to_be_visible()
    expect(blue.locator("#d-category")).to_be_hidden()
    made = []
    for name, disclosure, lon in (
        ("Platoon Kilo", "center", 21.52),
        ("Platoon Lima", "shared", 21.56),
    ):
        blue.fill("#d-name", name)
        blue.select_option("#d-disclosure", disclosure)
        blue.fill("#d-lon", str(lon))
        blue.fill("#d-lat", "24.80")
        blue.fill("#d-uncertainty", "300")
        blue.click("#d-submit")
        receipt = blue.locator("#receipts li[data-receipt]", has_text=name)
        expect(receipt).to_contain_text("position · ")
        made.append(receipt.get_attribute("data-receipt"))
    expect(blue.locator("#receipts li", has_text="Platoon Kilo")).to_contain_text("center only")
    hidden, shared = made
    # red sees the shared one arrive, and (events in order) never the hidden one
    red.wait_for_function(f"() => window.accord.state.declarations.has({shared!r})")
    assert red.evaluate(f"() => window.accord.state.declarations.has({hidden!r})") is False
    assert red.evaluate(f"() => window.accordMap.count((i) => i.id === {hidden!r})") == 0


def test_the_administrators_page_lists_issues_and_removes(sessions: Any, demo: Demo) -> None:
    admin = sessions("admin").page
    refused = csp_refusals(admin)
    rows = admin.locator("#users-table tbody tr[data-user]")
    names = set(rows.evaluate_all("(rs) => rs.map((r) => r.dataset.user)"))
    assert {"admin", "blue-officer", "blue-approver"} <= names, names
    expect(admin.locator("#users-table tr[data-user='admin']")).to_contain_text("you")
    expect(admin.locator("#keys-table tbody tr").first).to_be_visible()
    expect(admin.locator("#witnesses li").first).to_be_visible()

    admin.fill("#u-name", "blue-night-officer")
    admin.select_option("#u-role", "officer")
    admin.click("#u-add")
    token = admin.locator("#new-token")
    expect(token).to_be_visible()
    value = token.text_content() or ""
    me = httpx.get(f"{demo.url}/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert me.status_code == 200 and me.json()["role"] == "officer", me.text
    row = admin.locator("#users-table tr[data-user='blue-night-officer']")
    expect(row).to_contain_text("active")
    shot(admin, "roles-admin-token")
    admin.click("#token-done")
    expect(admin.locator("#token-box")).to_be_hidden()

    row.get_by_role("button", name="Remove…").click()
    confirm = admin.get_by_role("button", name="Confirm: remove blue-night-officer")
    expect(confirm).to_be_focused()
    confirm.click()
    expect(admin.locator("#users-table tr[data-user='blue-night-officer']")).to_contain_text(
        "removed"
    )
    gone = httpx.get(f"{demo.url}/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert gone.status_code == 401
    assert refused == [], refused


if expect is None:  # pragma: no cover
    pytestmark = pytest.mark.skip("playwright is not installed")
