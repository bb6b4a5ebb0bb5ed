"""The parties' witnesses on the page (issue 20 item 3), in Chromium against ``accord serve
--demo``, which starts one witness per party on loopback: within the first minute the record
panel says the head is "witnessed by blue, red at …" (or, when a newer head is still being
cosigned, which witness is behind and since when, beside the last witnessed head), in the
page's one time format; the API's head says the same."""

from __future__ import annotations

import re
from typing import Any

from support.webdemo import Demo

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None

WITNESSED = re.compile(r"witnessed by blue, red at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z")


def test_the_demo_page_shows_witnessed_heads_from_the_first_minute(
    sessions: Any, demo: Demo
) -> None:
    page = sessions("observer").page
    expect(page.locator("#head-witnessed")).to_contain_text(WITNESSED, timeout=60_000)
    with demo.api("observer") as api:
        head = api.get("/v1/record/head").json()
    assert [w["party"] for w in head["witnesses"]] == ["blue", "red"]
    assert head["last_witnessed"] is not None
    assert head["last_witnessed"]["size"] <= head["size"]
