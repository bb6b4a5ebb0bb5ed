"""The page's TAK devices (devices.js): the demo served with a plain CoT port, a blue
officer's device connected over it and reporting; blue's administrator sees it in the
"TAK devices" list (no report), the officer in "My TAK devices" with its last report, red's
officer nothing of it.

And a device's position on the map (issue 21, Done: "a blue device's report becomes a blue
position visible to blue on the page … never to red"): a CoT report turned into a position
exactly as blue's gateway (``accord cot gateway``) turns it — ``center`` disclosure, the
device, course and speed — and signed with a key blue's root registered for
``device-reports`` only, arrives live on blue's officer's map; its popup names the device
and its motion (escaped), and follows the device when the gateway amends it; red's
officer's page holds nothing of it (no marker, no popup, no text), live or reloaded, while
blue's device declared ``shared`` reaches red with its device line."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from bench.live import free_port
from playwright.sync_api import expect

from accord.chrono import parse_instant
from accord.cot.deadband import Band
from accord.cot.parse import parse_event
from accord.gateway.core import position_feature
from support.cotclient import Device
from support.webdemo import Demo, Session, csp_refusals, demo_server, drawn, map_point

PORT = free_port()

HIDDEN_CHANGES = "/v1/declarations/hidden"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo with a plain CoT port (loopback, a token first); the conftest's
    ``sessions`` sign in to it."""
    with demo_server(tmp_path_factory.mktemp("devices"), "--cot-plain-port", str(PORT)) as s:
        yield s


def _report() -> bytes:
    return (
        b'<event version="2.0" uid="ANDROID-PAGE" type="a-f-G-U-C" how="m-g" '
        b'time="2026-09-21T12:00:00Z" start="2026-09-21T12:00:00Z" stale="2026-09-21T12:05:00Z">'
        b'<point lat="25.25" lon="21.125" hae="10" ce="12" le="9999999"/>'
        b'<detail><contact callsign="BLUE-PAGE"/></detail></event>'
    )


def test_the_admin_and_the_officer_see_the_officers_device(
    demo: Demo, sessions: Callable[[str], Session]
) -> None:
    token = demo.tokens["blue-officer"]
    device = Device(socket.create_connection(("127.0.0.1", PORT), timeout=10))
    try:
        auth = f'<auth><cot username="blue-officer" password="{token}" uid="ANDROID-PAGE"/>'
        device.send(f"{auth}</auth>".encode())
        device.send(_report())
        device.wait(lambda d: any(e.type == "t-x-takp-v" for e in d.events))

        officer = sessions("blue-officer").page
        mine = officer.locator("#my-devices")
        expect(mine).to_contain_text("BLUE-PAGE", timeout=25000)  # polled every 10 s
        expect(mine).to_contain_text("25.25000, 21.12500 ±12 m")
        officer.locator("#panel-devices summary").focus()
        officer.keyboard.press("Enter")  # the panel folds from the keyboard
        expect(officer.locator("#panel-devices")).not_to_have_attribute("open", "")

        admin = sessions("admin").page
        row = admin.locator('#tak-devices tr[data-device="ANDROID-PAGE"]')
        expect(row).to_contain_text("blue-officer")
        expect(row).to_contain_text("plain")
        expect(admin.locator("#tak-devices")).not_to_contain_text("25.25")  # not the admin's

        red = sessions("red-officer").page
        expect(red.locator("#my-devices")).to_contain_text("None of your TAK devices")
        assert "BLUE-PAGE" not in red.content()
        assert csp_refusals(officer, admin, red) == []
    finally:
        device.close()


HIDDEN = (20.6214, 24.4107)
"""Where blue's device reports from (lon, lat): an empty corner of the demo."""
SHARED = (20.6402, 24.4263)
CALLSIGN = "WALKER <b>7</b>"
"""A callsign as a device may send it: markup, shown as text (never as markup)."""


def _walker(
    uid: str, callsign: str, at: datetime, where: tuple[float, float], course: str, speed: str
) -> bytes:
    """A friendly ground report as ATAK sends it (course and speed at a device's
    precision)."""
    t, stale = (f"{x:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z" for x in (at, at + timedelta(minutes=5)))
    name = callsign.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="h-e" time="{t}" '
        f'start="{t}" stale="{stale}"><point lat="{where[1]}" lon="{where[0]}" hae="80" '
        f'ce="9.5" le="9999999"/><detail><contact callsign="{name}"/>'
        f'<track course="{course}" speed="{speed}"/></detail></event>'
    ).encode()


def _as_gateway(report: bytes, disclosure: str) -> dict[str, Any]:
    """The declaration blue's gateway writes of ``report`` (its own code)."""
    event = parse_event(report)
    return position_feature(
        event,
        party="blue",
        disclosure=disclosure,
        band=Band(),
        device_uid=event.uid,
        callsign=event.detail.callsign,
    )


def _popup_at(page: Any, where: tuple[float, float]) -> Any:
    """Click ``where`` at a street's scale; the popup."""
    page.keyboard.press("Escape")
    page.evaluate("([lon, lat]) => window.accordMap.map.setView([lat, lon], 15)", list(where))
    drawn(page)
    page.mouse.click(*map_point(page, *where))
    return page.locator(".leaflet-popup")


def test_a_devices_hidden_position_is_on_blues_map_and_nowhere_on_reds(
    demo: Demo, sessions: Callable[[str], Session]
) -> None:
    blue = sessions("blue-officer").page
    red = sessions("red-officer").page
    refused = csp_refusals(blue, red)
    with demo.gateway("blue-officer") as gateway:
        now = parse_instant(gateway.get("/v1/me").json()["now"])
        hidden = _as_gateway(
            _walker("ANDROID-7f3a9c", CALLSIGN, now, HIDDEN, "237.61873", "4.2634"), "center"
        )
        # as the gateway declares a hidden position: the request line that names nothing
        made = gateway.post(
            HIDDEN_CHANGES, json={"changes": [{"change": "declare", "feature": hidden}]}
        )
        assert made.status_code == 200, made.text
        ident, version = made.json()["items"][0]["id"], made.json()["items"][0]["version"]

        # Live on blue's map, its popup naming the device and its motion, as text.
        blue.wait_for_function("(id) => window.accordMap.items.has(id)", arg=ident)
        popup = _popup_at(blue, HIDDEN)
        line = popup.locator(".device-line")
        expect(line).to_have_text(
            f"device {CALLSIGN} · course 238° · 4.3 m/s · reported {now:%Y-%m-%d %H:%M:%S}Z"
        )
        expect(popup).to_contain_text("position of blue · center only")
        expect(popup).to_contain_text("uncertainty 59.5 m")  # ce + the dead band
        assert popup.locator("b").count() == 0

        # The device turned north and stopped: the gateway amends the same declaration.
        later = now + timedelta(seconds=90)
        turned = _as_gateway(
            _walker("ANDROID-7f3a9c", CALLSIGN, later, HIDDEN, "359.6", "0"), "center"
        )
        change = {"change": "amend", "id": ident, "version": version, "feature": turned}
        amended = gateway.post(HIDDEN_CHANGES, json={"changes": [change]})
        assert amended.status_code == 200, amended.text
        blue.wait_for_function(
            "(id) => window.accordMap.items.get(id).declaration.feature.properties"
            ".course_deg > 359",
            arg=ident,
        )
        popup = _popup_at(blue, HIDDEN)
        expect(popup.locator(".device-line")).to_contain_text("course 0° · 0.0 m/s")

        # Blue's other device, declared shared: red's page receives it after the hidden one.
        shared = _as_gateway(
            _walker("ANDROID-2b81e0", "SCOUT", later, SHARED, "90", "1.5"), "shared"
        )
        made = gateway.post("/v1/declarations", json=shared)
        assert made.status_code == 201, made.text
        seen = made.json()["id"]

    def nothing_hidden(page: Any) -> None:
        page.wait_for_function("(id) => window.accordMap.items.has(id)", arg=seen)
        popup = _popup_at(page, SHARED)
        expect(popup.locator(".device-line")).to_contain_text("device SCOUT · course 90° · 1.5 m/s")
        held = page.evaluate(
            """(id) => [...window.accordMap.items.values()].filter((i) => i.id === id
                 || (i.declaration && i.declaration.feature.properties.device
                     && i.declaration.feature.properties.device.uid !== 'ANDROID-2b81e0'))
               .length""",
            ident,
        )
        assert held == 0
        page.keyboard.press("Escape")
        page.evaluate("([lon, lat]) => window.accordMap.map.setView([lat, lon], 15)", list(HIDDEN))
        drawn(page)
        page.keyboard.press("Shift")
        page.focus("#map")
        page.keyboard.press("Enter")  # what lies under the crosshair, at the hidden point
        expect(page.locator(".leaflet-popup")).to_contain_text("Nothing drawn here.")
        content = page.content()
        for trace in ("WALKER", "ANDROID-7f3a9c", ident, "238°", "4.3 m/s", "59.5 m", "20.6214"):
            assert trace not in content, trace

    nothing_hidden(red)  # live
    red.reload()
    red.wait_for_selector("body[data-ready=true]", timeout=30_000)
    nothing_hidden(red)  # loaded
    assert refused == []
