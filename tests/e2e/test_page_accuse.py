"""A report against the center itself, on the page, in a real browser against ``accord serve
--demo``: the report form's "Against" offers the center beside the other parties (by name);
a party's officer files one from the page; every member's page lists it as against the
center, live, and no one is offered an answer (the center's answer is its signed heads and
the record, never a form)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from accord.chrono import parse_instant
from support.webdemo import Demo, as_typed, csp_refusals

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None


def test_a_party_accuses_the_center_from_the_page_and_no_one_answers(
    sessions: Any, demo: Demo
) -> None:
    blue = sessions("blue-officer").page
    observer = sessions("observer").page
    red = sessions("red-officer").page
    refused = csp_refusals(blue, observer, red)
    with demo.api("blue-officer") as api:
        now = parse_instant(api.get("/v1/me").json()["now"])
        before = {r["id"] for r in api.get("/v1/reports").json()}

    blue.locator("#report-panel summary").click()
    options = blue.locator("#r-accused option")
    expect(options).to_have_count(2)  # the other party, by id and name; then the center
    expect(options.first).to_have_attribute("value", "red")
    expect(options.last).to_have_text("the center")
    blue.select_option("#r-accused", label="the center")
    what = "The center showed blue a head of size 40 that red's witness never cosigned."
    blue.fill("#r-what", what)
    blue.fill("#r-start", as_typed(now - timedelta(minutes=5)))
    blue.click("#r-submit")
    expect(blue.locator("#report-error")).to_be_empty()
    expect(blue.locator("#r-what")).to_have_value("")
    with demo.api("observer") as api:
        (filed,) = [r for r in api.get("/v1/reports").json() if r["id"] not in before]
    assert filed["accused"] == "center" and filed["filer"] == "blue" and filed["open"]

    for page in (blue, observer, red):  # the filer's page, and live on the others'
        item = page.locator(f"#reports li.report[data-report='{filed['id']}']")
        expect(item).to_be_visible(timeout=15_000)
        expect(item.locator("h4")).to_have_text("blue reports the center not answered")
        expect(item).to_contain_text("by blue against the center")
        expect(item.locator("[data-field=against-center]")).to_contain_text(
            "no one answers it through Accord"
        )
        expect(item.locator(".answer")).to_have_text("NOT ANSWERED by the center")
        expect(item.locator("form.answer-form")).to_have_count(0)
        expect(item.locator(".against")).to_have_count(0)  # against no one's party
    assert refused == []
