"""The direct line first-class, toasts, alerts explained and acknowledged, names before ids
(issue 19, items 4 and 6) — in Chromium against ``accord serve --demo``.

Blue's officer at 1600×1000 sees the inbox without scrolling; a message from red counts on
the header's badge, which jumps to it and clears on acknowledgement; blue replies (To red,
"Re: …", the message answered referenced) with a point picked on the map, and red's page
draws that point with the center's check of it. A veto of blue's operation by red's
approver toasts on blue's page naming the operation, and the toast selects its card; an
airspace alert raised by fresh tracks is explained (kind, aircraft, whose, when) and
acknowledged in one click, the panel saying by whom.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from accord.chrono import format_instant, parse_instant
from support.browser import shot
from support.webdemo import Demo, csp_refusals, map_point

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None

# School No. 12 of the demo world: a shared protected site of hnc, 1,500 m standoff.
SCHOOL = (21.872, 24.936)


def _center_now(demo: Demo, user: str) -> datetime:
    with demo.api(user) as api:
        return parse_instant(api.get("/v1/me").json()["now"])


def test_badge_inbox_reply_and_a_picked_point(sessions: Any, demo: Demo) -> None:
    blue_s = sessions("blue-officer")
    blue = blue_s.page
    blue.set_viewport_size({"width": 1600, "height": 1000})
    red = sessions("red-officer").page
    refused = csp_refusals(blue, red)

    # The inbox is above the fold for an officer.
    expect(blue.locator("#panel-line")).to_have_attribute("open", "")
    expect(blue.locator("#inbox")).to_be_in_viewport()
    box = blue.locator("#inbox").bounding_box()
    assert box is not None and box["y"] < 400, box
    expect(blue.locator("#unread")).to_be_hidden()

    # The cursor readout is lon first, as typed in the forms.
    x, y = map_point(blue, 21.5, 24.8)
    blue.mouse.move(x, y)
    readout = re.compile(r"^Cursor: lon 21\.\d{5}, lat 24\.\d{5}$")
    expect(blue.locator("#cursor")).to_have_text(readout)

    # A message from red: counted on the badge, announced, a toast naming it.
    with demo.api("red-officer") as red_api:
        sent = red_api.post(
            "/v1/messages",
            json={"to": ["blue"], "subject": "Column at the bridge", "text": "Holding 20 min."},
        )
        assert sent.status_code == 201, sent.text
    first = sent.json()
    badge = blue.locator("#unread")
    expect(badge).to_have_text("1 message to acknowledge", timeout=15_000)
    expect(badge).to_have_accessible_name("Direct line: 1 message to acknowledge — go to the inbox")
    expect(blue.locator("#unread-said")).to_have_text("Direct line: 1 message to acknowledge.")
    toast = blue.locator("#toast .toast-item", has_text="Column at the bridge")
    expect(toast).to_contain_text("from Red Republic (red), red-officer")
    shot(blue, "line-01-badge-and-toast")

    # The badge jumps to the message; acknowledging clears it.
    badge.click()
    item = blue.locator(f"#inbox li[data-message='{first['id']}']")
    expect(item).to_be_focused()
    expect(item).to_contain_text("from Red Republic (red) — red-officer")
    item.get_by_role("button", name="Acknowledge").click()
    expect(badge).to_be_hidden(timeout=15_000)
    expect(blue.locator("#line-count")).to_have_text("")

    # Reply: To red, "Re: …", referencing the message; a point picked on the map.
    item.get_by_role("button", name="Reply").click()
    expect(blue.locator("#compose-panel")).to_have_attribute("open", "")
    expect(blue.locator("#m-to")).to_have_value("red")
    expect(blue.locator("#m-subject")).to_have_value("Re: Column at the bridge")
    expect(blue.locator("#m-reply")).to_contain_text(first["id"])
    expect(blue.locator("#m-text")).to_be_focused()
    blue.fill("#m-text", "Understood. Our patrol stays east of this point.")
    blue.click("#m-pick")
    expect(blue.locator("#map-help")).to_contain_text("Click the point to send")
    px, py = map_point(blue, SCHOOL[0] + 0.0025, SCHOOL[1])
    blue.mouse.click(px, py)
    expect(blue.locator("#m-pick")).to_be_focused()
    lon, lat = float(blue.input_value("#m-lon")), float(blue.input_value("#m-lat"))
    assert abs(lon - (SCHOOL[0] + 0.0025)) < 0.01 and abs(lat - SCHOOL[1]) < 0.01, (lon, lat)
    blue.click("#m-send")
    expect(blue.locator("#m-reply")).to_be_hidden(timeout=15_000)
    reply = blue.locator("#outbox li.msg", has_text="Re: Column at the bridge")
    expect(reply).to_contain_text("in reply to “Column at the bridge”")

    # Red receives it: subject, the reference, the point drawn with its check.
    got = red.locator("#inbox li.msg", has_text="Re: Column at the bridge")
    expect(got).to_be_visible(timeout=15_000)
    expect(got).to_contain_text("in reply to “Column at the bridge”")
    expect(got.locator(".coordinates")).to_contain_text(f"[{lon},{lat}]")
    expect(got.locator(".check li.warning.blocking").first).to_contain_text("School No. 12")
    expect(red.locator("#toast .toast-item", has_text="Re: Column at the bridge")).to_contain_text(
        "coordinates drawn on the map, 1 BLOCKING warning(s)"
    )
    message_id = got.get_attribute("data-message")
    drawn = red.evaluate(
        """(id) => { const items = [...window.accordMap.items.values()].filter((i) => i.msg === id);
          return {points: items.filter((i) => i.geometry).map((i) => i.geometry.coordinates),
                  links: items.filter((i) => i.segment).length}; }""",
        message_id,
    )
    assert drawn["points"] == [[lon, lat]] and drawn["links"] >= 1, drawn
    with demo.api("red-officer") as red_api:
        detail = red_api.get(f"/v1/messages/{message_id}").json()
    assert detail["content"]["refers_to"] == first["id"]
    assert detail["content"]["subject"] == "Re: Column at the bridge"
    shot(red, "line-02-red-receives-reply-with-point")
    assert refused == []


def test_veto_toast_and_an_alert_acknowledged_in_one_click(sessions: Any, demo: Demo) -> None:
    blue = sessions("blue-officer").page
    blue.set_viewport_size({"width": 1600, "height": 1000})
    refused = csp_refusals(blue)
    now = _center_now(demo, "blue-officer")

    # Blue proposes (through its API client), red's approver vetoes: blue's page toasts.
    start = (now + timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.3, 24.62]},
        "properties": {
            "kind": "operation",
            "name": "Night resupply drop",
            "category": "coordinated",
            "executor": "blue",
            "radius_m": 300,
            "window_start": format_instant(start),
            "window_end": format_instant(start + timedelta(hours=1)),
        },
    }
    with demo.api("blue-officer") as blue_api:
        proposed = blue_api.post("/v1/operations", json=feature)
        assert proposed.status_code == 201, proposed.text
    op = proposed.json()
    card = blue.locator(f"#op-{op['id']}")
    expect(card).to_be_visible(timeout=15_000)
    expect(card.locator("h4")).to_contain_text("Night resupply drop")
    expect(card.locator("h4 small.id")).to_have_text(op["id"])
    with demo.api("red-approver") as red_api:
        vetoed = red_api.post(f"/v1/operations/{op['id']}/veto", json={"reason": "Our convoy"})
        assert vetoed.status_code in (200, 201), vetoed.text
    toast = blue.locator("#toast .toast-item", has_text="Night resupply drop")
    expect(toast).to_contain_text(
        "Vetoed: Red Republic (red) vetoed “Night resupply drop”: Our convoy."
    )
    shot(blue, "line-03-veto-toast")
    toast.locator(".toast-body").click()
    expect(card).to_be_focused()
    expect(card).to_have_class(re.compile(r"\bselected\b"))
    expect(card).to_contain_text("vetoed by red: Our convoy")
    expect(toast).to_have_count(0)

    # An approval by red of another of blue's operations toasts too; × dismisses it.
    feature["properties"]["name"] = "Morning resupply drop"
    with demo.api("blue-officer") as blue_api:
        other = blue_api.post("/v1/operations", json=feature).json()
    expect(blue.locator(f"#op-{other['id']}")).to_be_visible(timeout=15_000)
    with demo.api("red-approver") as red_api:
        approved = red_api.post(f"/v1/operations/{other['id']}/approve", json={})
        assert approved.status_code in (200, 201), approved.text
    toast = blue.locator("#toast .toast-item", has_text="Morning resupply drop")
    expect(toast).to_contain_text("Approved: Red Republic (red) approved “Morning resupply drop”")
    toast.get_by_role("button", name="Dismiss this notice").click()
    expect(toast).to_have_count(0)

    # Fresh tracks, head-on at one level: an alert for blue and red, explained.
    t = format_instant(_center_now(demo, "blue-officer"))
    ours = {"id": "blue-t19-1", "operator": "blue", "party": "blue", "mission": "patrol",
            "time": t, "lat": 24.55, "lon": 20.9, "alt_ft": 15000, "gs_kt": 300,
            "track_deg": 90, "vs_fpm": 0}  # fmt: skip
    theirs = {**ours, "id": "red-t19-2", "operator": "red", "party": "red",
              "lon": 21.0, "track_deg": 270}  # fmt: skip
    with demo.api("blue-officer") as blue_api:
        assert blue_api.post("/v1/tracks", json={"tracks": [ours]}).status_code == 200
    with demo.api("red-officer") as red_api:
        answer = red_api.post("/v1/tracks", json={"tracks": [theirs]})
        assert answer.status_code == 200, answer.text
    alert = blue.locator("#alerts li.alert", has_text="blue-t19-1 / red-t19-2")
    expect(alert).to_be_visible(timeout=15_000)
    expect(alert.locator("h4")).to_have_text("Predicted loss of separation: blue-t19-1 / red-t19-2")
    expect(alert).to_contain_text("aircraft blue-t19-1 — Blue Federation (blue), patrol, 15,000 ft")
    expect(alert).to_contain_text("Sent to the parties Blue Federation (blue), Red Republic (red)")
    instant = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"
    expect(alert.locator(".when")).to_contain_text(re.compile(f"raised {instant}"))
    expect(alert.locator(".acks li[data-party=blue]")).to_contain_text("blue: not yet acknowledged")
    # Show on map: its popup names the aircraft.
    alert.get_by_role("button", name="Show on map").click()
    expect(blue.locator(".leaflet-popup-content")).to_contain_text("blue-t19-1 / red-t19-2")
    # One click acknowledges it; the panel says by whom.
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert.locator(".acks li[data-party=blue]")).to_contain_text(
        re.compile(f"blue: acknowledged by blue-officer at {instant}"),
        timeout=15_000,
    )
    expect(alert.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(alert.locator(".acks li[data-party=red]")).to_contain_text("red: not yet acknowledged")
    # The area alert of the demo explains "blue, green-af, red".
    area = blue.locator("#alerts li.alert", has_text="green-f16-17")
    expect(area).to_contain_text("aircraft operator Green Air Force (green-af)")
    expect(area).to_contain_text("Northern designated area (da-north)")
    # The center's feed (a bearer token: the center's own picture) sees an aircraft no
    # declaration names squawking 7700: an emergency, on every party's page.
    mayday = {**ours, "id": "4ca7b1", "operator": "unknown", "party": None,
              "mission": "unknown", "lat": 26.6, "lon": 23.1, "icao24": "4ca7b1",
              "callsign": "MAYDAY1", "squawk": "7700"}  # fmt: skip
    feed = httpx.post(
        f"{demo.url}/v1/tracks",
        json={"tracks": [mayday]},
        headers={"Authorization": f"Bearer {demo.tokens['admin']}"},
        timeout=30.0,
    )
    assert feed.status_code == 200, feed.text
    emergency = blue.locator("#alerts li.alert", has_text="4ca7b1")
    expect(emergency.locator("h4")).to_have_text(
        "EMERGENCY squawk 7700 (emergency): 4ca7b1", timeout=15_000
    )
    expect(emergency.locator(".when")).to_contain_text("squawking since")
    shot(blue, "line-04-alert-acknowledged")
    assert refused == []
