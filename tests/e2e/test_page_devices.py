"""The page's TAK devices (devices.js): the demo served with a plain CoT port, a blue
officer's device connected over it and reporting; blue's administrator sees it in the
"TAK devices" list (no report), the officer in "My TAK devices" with its last report, red's
officer nothing of it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from bench.live import free_port
from playwright.sync_api import expect

from support.cotclient import Device
from support.webdemo import Demo, Session, csp_refusals, demo_server

PORT = free_port()


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
