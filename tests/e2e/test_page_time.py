"""Time and layout on the officers' page, in Chromium against ``accord serve --demo``: one
time format everywhere (24-hour UTC, ``YYYY-MM-DD HH:MM:SSZ``), the exercise clock marked
with its date, typed UTC fields that refuse what is not an instant (naming the field) and
submit what is, countdowns that tick in place and turn overdue, a one-row header at 1280
wide, the phone's "Map | Panels" switch, and the favicon. Screenshots go to
``build/screenshots/time-*``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from accord.chrono import parse_instant
from support.browser import shot
from support.webdemo import Demo, as_shown, as_typed, csp_refusals, into_view

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None

FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z")
"""The page's one format for an instant."""

# What looks like a date or a time in any other shape: an ISO instant ("T"), a date without
# its time or a time without its date, a time without seconds or its "Z", "UTC" after a time,
# a 12-hour clock, a locale's day/month/year.
DATE_LIKE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?)?"
    r"|\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?: ?(?:Z|UTC|AM|PM|am|pm))?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
)

# The text of the page as a person reads it, but for countdowns (durations, not instants)
# and what people wrote (a report's text, a message's text: "detected at 01:03" is theirs).
PAGE_TEXT = """() => {
  const skip = '[data-deadline], .report-text, .msg > p, script, style, [hidden]';
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const host = n.parentElement;
    if (!host || host.closest(skip)) continue;
    if (host.closest('.leaflet-popup') === null && !host.getClientRects().length) continue;
    out.push(n.data);
  }
  return out.join('\\n');
}"""


# The text of every map item's popup (its html, a string or written when asked for).
POPUPS = """() => {
  const box = document.createElement('div');
  return [...window.accordMap.items.values()].filter((i) => i.html).map((i) => {
    box.innerHTML = typeof i.html === 'function' ? i.html.call(i) : i.html;
    return box.textContent;
  });
}"""


def _misformatted(text: str) -> list[str]:
    """Every date-like run of ``text`` that is not an instant in the one format."""
    rest = FORMAT.sub("<instant>", text)
    return [m.group(0) for m in DATE_LIKE.finditer(rest)]


def _ops(api: httpx.Client) -> list[dict[str, Any]]:
    """The operations the API's user sees (the demo's are far fewer than a page)."""
    items: list[dict[str, Any]] = api.get("/v1/operations", params={"limit": 200}).json()["items"]
    return items


def test_every_time_on_the_page_is_in_the_one_format(sessions: Any, demo: Demo) -> None:
    """Blue's officer's page at 1600×1000 with every panel open — the clock, the phase, the
    operations, alerts, the direct line's ladders, reports and findings, the record verified
    here, the map's popups — prints every instant as YYYY-MM-DD HH:MM:SSZ
    and nothing date-like in any other shape."""
    page = sessions("blue-officer").page
    page.set_viewport_size({"width": 1600, "height": 1000})
    with demo.api("blue-officer") as api:
        ops = _ops(api)
    op = next(o for o in ops if o["status"] in {"proposed", "notified"})
    page.click("#verify")
    expect(page.locator("#head-verified")).not_to_have_text("none yet", timeout=15_000)
    expect(page.locator("#findings .findings").first).to_be_visible(timeout=15_000)
    card = page.locator(f"article.op[data-op='{op['id']}']")
    expect(card).to_contain_text(f"{as_shown(op['window_start'])} → {as_shown(op['window_end'])}")
    # Every map item's popup, as it would open (written when asked for: the same code).
    popups = page.evaluate(POPUPS)
    assert any(as_shown(op["window_start"]) in p for p in popups), popups
    text = page.evaluate(PAGE_TEXT) + "\n" + "\n".join(popups)
    instants = FORMAT.findall(text)
    assert len(instants) >= 20, text  # it did read the panels
    assert _misformatted(text) == [], _misformatted(text)
    shot(page, "time-01-blue-one-format")
    # The other roles' own pages: the notifier's receipts, the administrator's users, keys
    # and witnesses, the observer's every message.
    for user in ("hnc-notifier", "admin", "observer"):
        other = sessions(user).page
        other.set_viewport_size({"width": 1600, "height": 1000})
        text = other.evaluate(PAGE_TEXT)
        assert FORMAT.search(text), (user, text)
        assert _misformatted(text) == [], (user, _misformatted(text))


def test_the_exercise_clock_is_marked_with_its_date(sessions: Any, demo: Demo) -> None:
    """GET /v1/me says the demo's clock is an exercise's; the header says "Exercise clock"
    with the exercise's date and time, ticking, on a badge whose text meets WCAG AA."""
    with demo.api("observer") as api:
        me = api.get("/v1/me").json()
    assert me["exercise"] is True
    page = sessions("observer").page
    page.set_viewport_size({"width": 1280, "height": 720})
    box = page.locator("#clock-box")
    day = parse_instant(me["now"]).astimezone(UTC).strftime("%Y-%m-%d")
    expect(box).to_have_class(re.compile(r"\bexercise\b"))
    expect(box).to_have_text(re.compile(rf"^Exercise clock {day} \d\d:\d\d:\d\dZ$"))
    first = box.inner_text()
    expect(box).not_to_have_text(first)  # it ticks
    assert box.get_attribute("title") and "not the real time" in (box.get_attribute("title") or "")
    assert page.evaluate(CONTRAST, "#clock-box time") >= 4.5
    assert page.evaluate(CONTRAST, "#clock-kind") >= 4.5
    shot(page, "time-02-exercise-clock-1280")


# The contrast ratio of an element's text on the background it sits on (WCAG 2).
CONTRAST = """(sel) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const node = document.querySelector(sel);
  const fg = rgb(getComputedStyle(node).color);
  let bg = null;
  for (let n = node; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c; break; }
  }
  const [a, b] = [lum(fg), lum(bg || [0, 0, 0])].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def _fully_visible(page: Page, field: str) -> bool:
    """Whether the field lies inside the panels' visible width, its text not cut."""
    return bool(
        page.evaluate(
            """(id) => { const f = document.getElementById(id);
              const s = document.getElementById('sidebar');
              const b = f.getBoundingClientRect(), p = s.getBoundingClientRect();
              return b.width >= 130 && b.left >= p.left && b.right <= p.left + s.clientWidth
                && f.scrollWidth <= f.clientWidth; }""",
            field,
        )
    )


def test_typed_utc_fields_refuse_a_bad_value_and_submit_a_good_one(
    sessions: Any, demo: Demo
) -> None:
    """The window's and the report's fields are text fields for YYYY-MM-DD HH:MM (UTC): no
    locale picker, a placeholder, a numeric keypad, prefilled; fully visible at 1600 and
    1280; a bad value names the field in the form's error, marks it, and sends nothing; a
    good one is submitted as that instant."""
    page = sessions("blue-officer").page
    with demo.api("blue-officer") as api:
        now = parse_instant(api.get("/v1/me").json()["now"])
        before = {o["id"] for o in _ops(api)}
        reports = len(api.get("/v1/reports").json())
    for field in ("p-start", "p-end", "r-start", "r-end"):
        box = page.locator(f"#{field}")
        assert box.get_attribute("type") == "text"
        assert box.get_attribute("placeholder") == "YYYY-MM-DD HH:MM"
        assert box.get_attribute("inputmode") == "numeric"
    assert page.locator("input[type=datetime-local]").count() == 0
    start = datetime.strptime(page.input_value("#p-start"), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    end = datetime.strptime(page.input_value("#p-end"), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert timedelta(hours=8) <= start - now < timedelta(hours=8, minutes=6)
    assert end - start == timedelta(hours=2)
    page.locator("#report-panel summary").click()
    for width, height in ((1600, 1000), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        for field in ("p-start", "p-end", "r-start", "r-end"):
            page.locator(f"#{field}").scroll_into_view_if_needed()
            assert _fully_visible(page, field), (width, field)
    page.locator("#p-start").scroll_into_view_if_needed()
    shot(page, "time-03-typed-fields-1280")

    # A bad window start: named, marked, nothing sent.
    page.fill("#p-name", "Typed window check")
    page.fill("#p-lon", "20.35")
    page.fill("#p-lat", "24.30")
    page.fill("#p-radius", "300")
    page.fill("#p-start", "2026-09-31 25:00")
    page.click("#p-submit")
    error = page.locator("#propose-error")
    expect(error).to_have_text(
        re.compile(r"^Window start \(UTC\): expected YYYY-MM-DD HH:MM \(24-hour UTC\), got")
    )
    expect(page.locator("#p-start")).to_have_attribute("aria-invalid", "true")
    page.fill("#p-start", "10 pm tomorrow")
    page.click("#p-submit")
    expect(error).to_contain_text("got “10 pm tomorrow”")
    # A good start and an end before it: the end is named.
    good = now + timedelta(hours=9)
    page.fill("#p-start", as_typed(good))
    page.fill("#p-end", as_typed(good - timedelta(hours=1)))
    page.click("#p-submit")
    expect(error).to_have_text("Window end (UTC): must be after the window start")
    expect(page.locator("#p-start")).not_to_have_attribute("aria-invalid", "true")
    with demo.api("blue-officer") as api:
        assert {o["id"] for o in _ops(api)} == before
    # Good: submitted as typed, shown in the one format.
    page.fill("#p-end", as_typed(good + timedelta(hours=1, minutes=30)))
    page.click("#p-submit")
    card = page.locator("article.op", has_text="Typed window check")
    expect(card).to_be_visible(timeout=15_000)
    expect(error).to_be_empty()
    with demo.api("blue-officer") as api:
        (made,) = [o for o in _ops(api) if o["id"] not in before]
    typed = good.replace(second=0, microsecond=0)
    assert parse_instant(made["window_start"]) == typed
    assert parse_instant(made["window_end"]) == typed + timedelta(hours=1, minutes=30)
    window = f"{as_shown(made['window_start'])} → {as_shown(made['window_end'])}"
    expect(card).to_contain_text(window)
    opens = card.locator("[data-deadline]")
    expect(opens).to_have_text(re.compile(r"^window opens in [89]:\d\d:\d\d$"))

    # The report's "from": a bad value is named by its label; nothing is filed.
    page.select_option("#r-accused", "red")
    page.fill("#r-what", "Typed time check")
    page.fill("#r-start", "yesterday 14:00")
    page.click("#r-submit")
    report_error = page.locator("#report-error")
    expect(report_error).to_have_text(re.compile(r"^From \(UTC\): expected YYYY-MM-DD HH:MM"))
    expect(page.locator("#r-start")).to_have_attribute("aria-invalid", "true")
    page.fill("#r-start", as_typed(now - timedelta(minutes=30)))
    page.fill("#r-end", "2026-02-30 10:00")
    page.click("#r-submit")
    expect(report_error).to_have_text(re.compile(r"^Until \(UTC; empty: an instant\): expected"))
    with demo.api("blue-officer") as api:
        assert len(api.get("/v1/reports").json()) == reports
    page.fill("#r-end", "")
    page.click("#r-submit")
    filed = page.locator("#reports li.report", has_text="Typed time check")
    expect(filed).to_be_visible(timeout=15_000)
    start_at = (now - timedelta(minutes=30)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:00Z")
    expect(filed.locator("[data-field=when]")).to_have_text(f"happened {start_at} (an instant)")


def test_a_countdown_ticks_in_place_and_turns_overdue(sessions: Any, demo: Demo) -> None:
    """A message red sends blue with five minutes to acknowledge: blue's inbox counts down
    ("acknowledgement due in 04:59"), each second rewriting the same text node — the list
    is not redrawn, the focus and what is being typed stay — and, past the deadline on the
    center's clock, says "overdue by" in the late colour. Operation cards count down to the
    window and the objection deadline."""
    page = sessions("blue-officer").page
    page.set_viewport_size({"width": 1280, "height": 720})
    with demo.api("red-officer") as api:
        sent = api.post(
            "/v1/messages",
            json={"to": ["blue"], "subject": "Countdown check", "text": "x", "ack_within": "PT5M"},
        )
        assert sent.status_code == 201, sent.text
    item = page.locator("#inbox li.msg", has_text="Countdown check")
    countdown = item.locator("[data-deadline]").first
    due = re.compile(r"^acknowledgement due in 0[45]:\d\d$")
    expect(countdown).to_have_text(due, timeout=15_000)
    into_view(item)
    # Keep the node and its text node; type in the compose form while it ticks.
    page.evaluate(
        """(id) => { const n = document.querySelector(
            `li.msg[data-message="${id}"] [data-deadline]`);
          window.__countdown = [n, n.firstChild]; }""",
        sent.json()["id"],
    )
    page.locator("#compose-panel summary").click()
    page.locator("#m-subject").click()
    page.keyboard.type("typed while it ticks")
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first)
    page.keyboard.type(", still")
    expect(page.locator("#m-subject")).to_be_focused()
    expect(page.locator("#m-subject")).to_have_value("typed while it ticks, still")
    same = page.evaluate(
        """(id) => { const n = document.querySelector(
            `li.msg[data-message="${id}"] [data-deadline]`);
          return n === window.__countdown[0] && n.firstChild === window.__countdown[1]; }""",
        sent.json()["id"],
    )
    assert same, "the countdown was redrawn, not rewritten in place"
    shot(page, "time-04-countdown-ticking")
    # Past the deadline on the center's clock (the page's offset moved six minutes on).
    page.evaluate("() => { window.accord.state.offsetMs += 6 * 60e3; }")
    expect(countdown).to_have_text(re.compile(r"^overdue by 01:\d\d$"))
    expect(countdown).to_have_class(re.compile(r"\blate\b"))
    assert page.evaluate(CONTRAST, "#inbox li.msg [data-deadline].late") >= 4.5
    into_view(item)
    shot(page, "time-05-countdown-overdue")
    page.evaluate("() => { window.accord.state.offsetMs -= 6 * 60e3; }")
    # Operation cards: the window's start, and the objections' deadline while notified.
    opens = page.locator("#board [data-deadline][data-before='window opens in']")
    expect(opens.first).to_have_text(re.compile(r"^window (opens in \S+|opened \S+ ago)$"))
    objections = page.locator("#board [data-deadline][data-before='objections close in']")
    if objections.count():
        expect(objections.first).to_have_text(
            re.compile(r"^objections (close in \S+|closed \S+ ago)$")
        )


def test_the_header_is_one_row_at_1280(sessions: Any, demo: Demo) -> None:
    """At 1280×720 (and 1600×1000) the header's items — the direct line's badge among them —
    sit on one row, none cut off the end; the phase, where it is shortened, is whole in its
    title."""
    page = sessions("red-approver").page
    with demo.api("blue-officer") as api:
        sent = api.post(
            "/v1/messages", json={"to": ["red"], "subject": "Header check", "text": "x"}
        )
        assert sent.status_code == 201, sent.text
    expect(page.locator("#unread")).to_be_visible(timeout=15_000)
    for width, height in ((1280, 720), (1600, 1000)):
        page.set_viewport_size({"width": width, "height": height})
        rows = page.evaluate(
            """() => { const bar = document.querySelector('.topbar');
              const kids = [...bar.children].filter((k) => k.getClientRects().length);
              const tops = new Set(kids.map((k) => Math.round(k.getBoundingClientRect().top
                + k.getBoundingClientRect().height / 2)));
              return {rows: Math.max(...tops) - Math.min(...tops), height: bar.offsetHeight,
                right: Math.max(...kids.map((k) => k.getBoundingClientRect().right)),
                width: bar.clientWidth}; }"""
        )
        assert rows["rows"] <= 4 and rows["height"] <= 48, (width, rows)
        assert rows["right"] <= rows["width"], (width, rows)
    assert "Joint coordination center in operation" in (page.get_attribute("#phase", "title") or "")
    page.set_viewport_size({"width": 1280, "height": 720})
    shot(page, "time-06-header-1280")


def test_the_phone_layout_switches_map_and_panels(sessions: Any) -> None:
    """On a 390×844 phone: a "Map | Panels" tab bar; the map at least 300 px wide and as
    tall, Leaflet sized to it; the keyboard switches to the panels and back (arrow keys,
    the focus following); the choice holds while the page lives (across a resize); a
    button that needs the map ("Show on map") brings it back. At 1280, no tab bar and both."""
    session = sessions("red-officer")
    page = session.page
    page.set_viewport_size({"width": 390, "height": 844})
    tabs = page.get_by_role("tablist")
    expect(tabs).to_be_visible()
    map_tab = page.get_by_role("tab", name="Map")
    panels_tab = page.get_by_role("tab", name="Panels")
    expect(map_tab).to_have_attribute("aria-selected", "true")

    def map_size() -> dict[str, float]:
        return page.evaluate(
            """() => { const b = document.getElementById('map').getBoundingClientRect();
              const s = window.accordMap.map.getSize();
              return {w: b.width, h: b.height, lw: s.x, lh: s.y, right: b.right}; }"""
        )

    # Leaflet takes the new size on its resize handler's animation frame, after the tab bar
    # shows: wait for it, as below, before measuring.
    page.wait_for_function(
        "() => Math.abs(window.accordMap.map.getSize().x"
        " - document.getElementById('map').clientWidth) <= 1"
    )
    size = map_size()
    assert size["w"] >= 300 and size["h"] >= 300 and size["right"] <= 390, size
    assert abs(size["lw"] - size["w"]) <= 1, size
    expect(page.locator("#sidebar")).to_be_hidden()
    shot(page, "time-07-phone-map")
    map_tab.focus()
    page.keyboard.press("ArrowRight")
    expect(panels_tab).to_be_focused()
    expect(panels_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator("#map")).to_be_hidden()
    side = page.locator("#sidebar").bounding_box()
    assert side is not None and side["width"] >= 380 and side["x"] >= 0
    shot(page, "time-08-phone-panels")
    # Kept across a resize (a phone turned and back).
    page.set_viewport_size({"width": 844, "height": 390})
    page.set_viewport_size({"width": 390, "height": 844})
    expect(panels_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#map")).to_be_hidden()
    panels_tab.focus()  # the wide layout hid the tab bar, and the focus with it
    page.keyboard.press("ArrowLeft")
    expect(map_tab).to_be_focused()
    expect(page.locator("#map")).to_be_visible()
    page.wait_for_function(
        "() => Math.abs(window.accordMap.map.getSize().x"
        " - document.getElementById('map').clientWidth) <= 1"
    )
    # From the panels, "Show on map" shows the map.
    panels_tab.click()
    card = page.locator("#board article.op").first
    card.get_by_role("button", name="Show on map").click()
    expect(map_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#map")).to_be_visible()
    # Wide again: no tab bar, map and panels side by side.
    page.set_viewport_size({"width": 1280, "height": 720})
    expect(tabs).to_be_hidden()
    expect(page.locator("#sidebar")).to_be_visible()
    assert map_size()["w"] >= 800


def test_the_favicon(sessions: Any, demo: Demo) -> None:
    """/favicon.ico answers 200 (the page's SVG icon) under the page's CSP; index.html links
    the icon, and the page loads it without a refusal."""
    answer = httpx.get(f"{demo.url}/favicon.ico", timeout=10.0)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.text.lstrip().startswith("<svg")
    page = sessions("hnc-notifier").page
    refused = csp_refusals(page)
    href = page.get_attribute("link[rel=icon]", "href")
    assert href == "/static/favicon.svg"
    icon = httpx.get(f"{demo.url}{href}", timeout=10.0)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert refused == []


def test_time_js_as_rendered(browser: Any, demo: Demo) -> None:
    """time.js alone (no sign-in): an instant in any offset, with a fraction, as a Date or
    as ms, in the one format (the fraction cut, never rounded up); what a person types
    taken as UTC or refused with the reason (no such day, a 12-hour clock, a bare time);
    countdowns under an hour, an hour and a day; an ISO instant inside a sentence."""
    page = browser.new_page()
    try:
        page.goto(demo.url + "/static/time.js")
        got = page.evaluate(
            """async () => {
              const t = await import('/static/time.js');
              const typed = (s) => { const r = t.parseTyped(s);
                return r.iso || (r.empty ? 'empty' : 'error: ' + r.error); };
              return {
                instants: ['2026-09-20T04:05:06.999Z', '2026-09-20T06:05:06+02:00',
                  '2026-12-31T23:59:59.5-01:00', '', 'not a time', null].map(t.fmtInstant)
                  .concat([t.fmtInstant(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))),
                           t.fmtInstant(0)]),
                typed: ['2026-09-20 04:05', '2026-09-20T04:05', ' 2026-09-20 04:05:30Z ',
                  '2026-9-2 4.05', '2026-09-20 04:05 UTC', '', '2026-02-29 10:00',
                  '2026-09-20 24:00', '09/20/2026 4:05 PM', '04:05'].map(typed),
                typedValue: t.typedValue(new Date(Date.UTC(2026, 8, 20, 4, 5, 59))),
                rounded: t.roundedUp(new Date(Date.UTC(2026, 8, 20, 4, 1, 0)), 60).toISOString(),
                countdowns: [252e3, -62e3, 3725e3, 90061e3, 999].map(t.fmtCountdown),
                sentence: t.fmtTimesIn(
                  'enter at 2026-09-20T04:00:41Z, left 2026-09-20T04:10:00.25+00:00.'),
              };
            }"""
        )
    finally:
        page.close()
    assert got["instants"] == [
        "2026-09-20 04:05:06Z",
        "2026-09-20 04:05:06Z",
        "2027-01-01 00:59:59Z",
        "—",
        "—",
        "—",
        "2026-01-02 03:04:05Z",
        "1970-01-01 00:00:00Z",
    ]
    typed = got["typed"]
    assert typed[:5] == ["2026-09-20T04:05:00Z"] * 2 + [
        "2026-09-20T04:05:30Z",
        "2026-09-02T04:05:00Z",
        "2026-09-20T04:05:00Z",
    ]
    assert typed[5] == "empty"
    assert typed[6].startswith("error: expected YYYY-MM-DD HH:MM (24-hour UTC), got “2026-02-29")
    assert typed[6].endswith("no such date or time")
    assert typed[7].endswith("no such date or time")
    assert all(t.startswith("error: expected YYYY-MM-DD HH:MM") for t in typed[8:])
    assert got["typedValue"] == "2026-09-20 04:05"
    assert got["rounded"] == "2026-09-20T05:05:00.000Z"
    assert got["countdowns"] == ["04:12", "01:02", "1:02:05", "1 d 01:01:01", "00:00"]
    assert got["sentence"] == "enter at 2026-09-20 04:00:41Z, left 2026-09-20 04:10:00Z."
