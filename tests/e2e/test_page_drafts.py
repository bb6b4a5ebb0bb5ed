"""The page's "Drafts from devices" (drafts.js): a draft blue's gateway saves through the API
appears on blue's officer's page — live too — with its name, shape, device and time; it is
shown on the map, turned into a proposal (the propose form filled with its area: a line's
vertices closed back to the first) and submitted, the operation then existing with exactly
that area; deleted from the page. Red's officer sees nothing of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from support.webdemo import Demo, Session, csp_refusals

KEY = "u-d-f.7d1c3a52-page-test"
LATER = "u-d-r.0b9e44c1-page-test"
LINE = [[20.351, 24.301], [20.372, 24.301], [20.372, 24.318]]
"""A freehand line drawn on a device, three vertices, in an empty corner of the demo."""


def _draft(
    name: str, geometry: dict[str, Any], now: str, shape: str = "freehand"
) -> dict[str, Any]:
    return {
        "name": name,
        "shape": shape,
        "geometry": geometry,
        "device": {"uid": "ANDROID-DRAFTS-PAGE", "callsign": "BLUE-PENCIL"},
        "drawn_at": now,
    }


def test_an_officer_finds_a_devices_draft_and_proposes_from_it(
    demo: Demo, sessions: Callable[[str], Session]
) -> None:
    with demo.api("blue-officer") as api:
        now = api.get("/v1/me").json()["now"]
        line = _draft("Pencil line", {"type": "LineString", "coordinates": LINE}, now)
        saved = api.put(f"/v1/drafts/{KEY}", json=line)
        assert saved.status_code == 201, saved.text

    blue = sessions("blue-officer").page
    item = blue.locator(f'#drafts li[data-draft="{KEY}"]')
    expect(item).to_contain_text("Pencil line")
    expect(item).to_contain_text("freehand · from BLUE-PENCIL · drawn")
    item.get_by_role("button", name="Show on map").click()
    blue.wait_for_function(f"window.accordMap.items.has('draft:{KEY}')")

    # live: a second draft arrives while the page is open, and is deleted from the page
    rectangle = [[20.40, 24.30], [20.41, 24.30], [20.41, 24.31], [20.40, 24.31], [20.40, 24.30]]
    with demo.api("blue-officer") as api:
        later = _draft("Box", {"type": "Polygon", "coordinates": [rectangle]}, now, "rectangle")
        assert api.put(f"/v1/drafts/{LATER}", json=later).status_code == 201
    box = blue.locator(f'#drafts li[data-draft="{LATER}"]')
    expect(box).to_contain_text("rectangle · from BLUE-PENCIL")
    box.get_by_role("button", name="Delete").click()
    expect(box).to_have_count(0)
    with demo.api("blue-officer") as api:
        assert [d["key"] for d in api.get("/v1/drafts").json()["items"]] == [KEY]

    # propose from the line: the form takes its vertices as the polygon's corners
    item.get_by_role("button", name="Propose from this draft").click()
    expect(blue.locator("#p-name")).to_have_value("Pencil line")
    corners = ", ".join(f"{lon} {lat}" for lon, lat in LINE)
    expect(blue.locator("#p-polygon")).to_have_value(corners)
    blue.click("#p-submit")
    card = blue.locator("article.op", has_text="Pencil line")
    expect(card).to_be_visible(timeout=15_000)
    expect(blue.locator("#propose-error")).to_be_empty()
    with demo.api("blue-officer") as api:
        ops = api.get("/v1/operations", params={"limit": 200}).json()["items"]
    (made,) = [o for o in ops if o["feature"]["properties"].get("name") == "Pencil line"]
    assert made["feature"]["geometry"] == {"type": "Polygon", "coordinates": [[*LINE, LINE[0]]]}

    # red's officer: nothing of blue's drafts
    red = sessions("red-officer").page
    expect(red.locator("#drafts")).to_contain_text("No drafts from your devices.")
    assert "Pencil line" not in red.locator("#drafts").inner_text()
    assert "BLUE-PENCIL" not in red.content()
    assert csp_refusals(blue, red) == []
