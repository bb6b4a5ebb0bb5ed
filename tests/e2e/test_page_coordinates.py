"""A point typed as MGRS on the page (issue 22, item 5), in Chromium against ``accord serve
--demo``: the propose form's "Point (MGRS, decimal or DMS)" field shows the point the center
reads before anything is submitted, refuses a bad reference in words, and the proposal made
from a typed MGRS reference is stored at the square's centre with its uncertainty widened;
the direct line's field fills the message's point the same way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from accord.chrono import parse_instant
from accord.coordinates import parse_point
from support.browser import shot
from support.webdemo import Demo, csp_refusals

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None

TYPED = "34r ep 7748 0392"
"""A 10 m square near lon 21.77, lat 25.35: the exercise's theatre, away from its objects."""


def as_typed(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def test_a_typed_mgrs_point_is_shown_then_proposed(sessions: Any, demo: Demo) -> None:
    page = sessions("blue-officer").page
    refused = csp_refusals(page)
    with demo.api("blue-officer") as api:
        now = parse_instant(api.get("/v1/me").json()["now"])
        before = {o["id"] for o in api.get("/v1/operations", params={"limit": 200}).json()["items"]}
    expect(page.locator("#panel-propose")).to_have_attribute("open", "")
    parsed = page.locator("#p-point-parsed")

    # A reference the mgrs library would read silently elsewhere: refused, in words.
    page.fill("#p-point", "34R FH 12345 67890")
    expect(parsed).to_have_text(re.compile(r"^Not a point: .*does not lie in latitude band R"))
    expect(page.locator("#p-point")).to_have_attribute("aria-invalid", "true")

    # A good one: shown as the center reads it, and the centre filled in.
    point = parse_point(TYPED)
    page.fill("#p-point", TYPED)
    expect(parsed).to_have_text(
        f"Parsed: {point.lat:.5f}° N, {point.lon:.5f}° E (MGRS, 10 m)", timeout=10_000
    )
    expect(page.locator("#p-lon")).to_have_value(repr(point.lon))
    expect(page.locator("#p-lat")).to_have_value(repr(point.lat))
    parsed.scroll_into_view_if_needed()
    shot(page, "coordinates-01-typed-mgrs")

    page.fill("#p-name", "Typed MGRS check")
    page.fill("#p-radius", "200")
    page.fill("#p-start", as_typed(now + timedelta(hours=9)))
    page.fill("#p-end", as_typed(now + timedelta(hours=10)))
    page.click("#p-submit")
    expect(page.locator("article.op", has_text="Typed MGRS check")).to_be_visible(timeout=15_000)
    expect(page.locator("#propose-error")).to_be_empty()
    expect(page.locator("#p-point")).to_have_value("")
    with demo.api("blue-officer") as api:
        ops = api.get("/v1/operations", params={"limit": 200}).json()["items"]
    (made,) = [o for o in ops if o["id"] not in before]
    assert made["feature"]["geometry"] == {
        "type": "Point",
        "coordinates": [point.lon, point.lat],
    }
    # Sent as the reference: the center widened the uncertainty to cover the 10 m square.
    assert made["feature"]["properties"]["uncertainty_m"] == 7.08
    assert "mgrs" not in made["feature"]["properties"]

    # The direct line's point: DMS this time, filled into lon and lat.
    page.locator("#compose-panel summary").click()
    page.fill("#m-point", "25°21'N 21°46'E")
    expect(page.locator("#m-point-parsed")).to_have_text(
        "Parsed: 25.35000° N, 21.76667° E (DMS)", timeout=10_000
    )
    expect(page.locator("#m-lat")).to_have_value("25.35")
    assert abs(float(page.input_value("#m-lon")) - (21 + 46 / 60)) < 1e-12
    assert refused == []
