"""The map of the officers' page (issue 19, items 1, 2 and the legend of 6), in Chromium
against ``accord serve --demo``.

What a click or the keyboard's Enter shows is on top of every drawing surface and lists every
thing under the pointer; the map's focus ring and crosshair are visible; no two labels drawn
on any canvas overlap at the demo's default view for the officers of both parties and the
observer, at 1600×1000 and 1280×720, at the 10 km and 20 km scales, and the sites' names are
placed (whole, or shortened with the full text on hover); many objects cluster; the legend is
drawn by the map's own code, a symbol per site category, alerts apart from conflicts, the
rings of shared objects labelled, nothing drawn around another party's hidden object."""

from __future__ import annotations

from typing import Any

import pytest

from support.browser import shot
from support.webdemo import csp_refusals, drawn, map_point, screen_colours

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    expect = None

SITES = ("Water pumping station", "East City General Hospital", "School No. 12")

OVERLAPS = """() => { const b = window.accordMap.labelBoxes(), out = [];
  for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++) {
    const p = b[i], q = b[j];
    if (p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h)
      out.push([p.text, q.text]);
  }
  return out; }"""


def boxes(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate("() => window.accordMap.labelBoxes()")
    return result


def scale(page: Page) -> str:
    return page.locator(".leaflet-control-scale-line").inner_text().strip()


def test_popups_on_top_of_every_drawing_listing_what_is_here(sessions: Any) -> None:
    session = sessions("blue-officer")
    page = session.page
    refused = csp_refusals(page)
    # At the theatre's scale the two green flight plans in the Northern designated area run
    # a few pixels apart: a click between them lists both, and the area.
    page.evaluate("() => window.accordMap.map.setView([25.225, 21.4], 7)")
    drawn(page)
    page.mouse.click(*map_point(page, 21.4, 25.225))
    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    summaries = popup.locator(".hit-list summary")
    expect(summaries).to_have_count(3)
    texts = summaries.all_inner_texts()
    assert any(t.startswith("Flight plan · green-af strike") for t in texts), texts
    assert any(t.startswith("Flight plan · green-af medevac") for t in texts), texts
    assert any(t.startswith("Designated area · Northern designated area") for t in texts), texts
    # Each opens to its details.
    medevac = popup.locator("details", has_text="green-af medevac")
    medevac.locator("summary").click()
    expect(medevac.locator(".hit-body")).to_be_visible()
    expect(medevac.locator(".hit-body")).to_contain_text("flight plan of blue")
    shot(page, "map-01-the-list-of-what-is-here")
    # The popup is on top of every drawing surface, even one that took the pointer.
    on_top = """() => { const r = document.querySelector('.leaflet-popup-content')
        .getBoundingClientRect();
      const at = () => document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      const canvases = [...document.querySelectorAll('#map canvas')];
      const out = [canvases.length, !!at().closest('.leaflet-popup')];
      for (const c of canvases) { c.style.pointerEvents = 'auto';
        out.push(!!at().closest('.leaflet-popup')); c.style.pointerEvents = ''; }
      return out; }"""
    result = page.evaluate(on_top)
    assert result[0] >= 3 and all(result[1:]), result
    # An airspace alert's ring (on the tracks' canvas) answers a click too.
    alert = page.evaluate(
        "() => { const a = [...window.accordMap.alerts.values()].find((a) => a.lat != null);"
        " window.accordMap.map.setView([a.lat, a.lon], 10); return [a.lon, a.lat, a.tracks]; }"
    )
    drawn(page)
    x, y = map_point(page, alert[0], alert[1])
    box = page.locator("#map").bounding_box()
    assert box is not None
    kinds = page.evaluate(
        "([x, y]) => window.accordMap.hitTestAll(x, y).map((h) => h.kind)",
        [x - box["x"], y - box["y"]],
    )
    assert "alert" in kinds, kinds
    page.mouse.click(x, y)
    expect(popup).to_contain_text(str(alert[2][0]))
    # A hover names what a label stands for, in full.
    page.keyboard.press("Escape")
    page.evaluate(
        "() => { window.accordMap.map.closePopup();"
        " window.accordMap.map.setView([24.92, 21.89], 11); }"
    )
    drawn(page)
    label = next(b for b in boxes(page) if b["full"] == "School No. 12")
    page.mouse.move(box["x"] + label["x"] + label["w"] / 2, box["y"] + label["y"] + label["h"] / 2)
    expect(page.locator(".map-tooltip")).to_have_text("School No. 12")
    expect(page.locator(".map-tooltip")).to_be_visible()
    assert refused == []


def test_keyboard_crosshair_and_focus_ring_on_top(sessions: Any) -> None:
    session = sessions("blue-officer")
    page = session.page
    expect(page.locator("#map-keys")).to_contain_text(
        "press Enter to list what lies under the crosshair"
    )
    assert page.get_attribute("#map", "aria-describedby") == "map-keys"
    page.evaluate("() => window.accordMap.map.setView([24.912, 21.905], 11)")
    drawn(page)
    page.keyboard.press("Shift")  # the keyboard in use: focus is shown as for a keyboard
    page.focus("#map")
    expect(page.locator("#map")).to_be_focused()
    crosshair = page.locator(".map-crosshair")
    expect(crosshair).to_be_visible()
    # The focus ring is drawn above the canvases: the map's edge shows the focus colour.
    colours = edge_colours(page)
    focus = (0xFF, 0xD2, 0x4D)  # --focus (a fractional edge may blend a little)
    assert all(max(abs(a - b) for a, b in zip(c, focus, strict=True)) <= 16 for c in colours), (
        colours
    )
    shot(page, "map-02-keyboard-crosshair")
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("East City General Hospital")
    # The list has the focus: its entries open by keyboard.
    focused = page.evaluate("() => !!document.activeElement.closest('.leaflet-popup')")
    assert focused
    page.keyboard.press("Enter")
    expect(popup.locator("details[open]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(popup).to_be_hidden()
    expect(page.locator("#map")).to_be_focused()


def edge_colours(page: Page) -> list[tuple[int, int, int]]:
    """The colours of a few pixels just inside the map's edge, read from a screenshot."""
    box = page.locator("#map").bounding_box()
    assert box is not None
    points = [
        (box["x"] + 1, box["y"] + box["height"] / 2),
        (box["x"] + box["width"] / 2, box["y"] + 1),
        (box["x"] + box["width"] / 2, box["y"] + box["height"] - 2),
    ]
    return screen_colours(page, points)


@pytest.mark.parametrize("user", ["blue-officer", "red-officer", "observer"])
def test_labels_never_overlap_and_the_sites_are_named(sessions: Any, user: str) -> None:
    session = sessions(user)
    page = session.page
    for width, height in ((1600, 1000), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()  # the demo's default view at this size (signed in: this tab's token)
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        centre = page.evaluate("() => window.accordMap.map.getCenter()")
        for zoom, words in ((9.5, "10 km"), (9, "20 km")):
            page.evaluate("([c, z]) => window.accordMap.map.setView(c, z)", [centre, zoom])
            drawn(page)
            assert scale(page) == words
            assert page.evaluate(OVERLAPS) == [], (width, zoom)
            placed = boxes(page)
            for name in SITES:
                assert any(
                    b["full"] == name and name.startswith(b["text"].rstrip("…")) for b in placed
                ), (name, width, zoom, placed)
            assert all(b["x"] >= 0 and b["y"] >= 0 for b in placed)
            # tracks' labels are placed around the objects' (two canvases, one placement)
            assert any(b["full"].startswith("track ") for b in placed)
            # nothing about another party's hidden object: no "within", no distance to it
            assert not any("hidden" in b["text"] and " m" in b["text"] for b in placed)
        shot(page, f"map-03-labels-{user}-{width}")


def test_legend_symbols_rings_and_the_hidden_block(sessions: Any) -> None:
    blue = sessions("blue-officer").page
    # Each layer's swatch and each legend entry is a canvas the map's code drew on.
    swatches = blue.evaluate(
        """() => [...document.querySelectorAll('#panel-layers canvas')].map((c) => {
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let ink = 0; for (let i = 0; i < d.length; i += 4)
               if (Math.abs(d[i] - 0x26) + Math.abs(d[i + 1] - 0x34)
                   + Math.abs(d[i + 2] - 0x3e) > 60) ink++;
             return [c.dataset.swatch, ink, c.toDataURL()]; })"""
    )
    assert len(swatches) >= 30, len(swatches)
    assert all(ink > 8 for _, ink, _ in swatches), [(n, i) for n, i, _ in swatches]
    images = {name: url for name, _, url in swatches}
    categories = ["hospital", "school", "water station", "aid warehouse", "other site"]
    assert len({images[c] for c in categories}) == len(categories)
    assert images["airspace alert (predicted)"] != images["blocking conflict (to the object)"]
    blue.click("#legend > summary")
    expect(blue.locator("#legend")).to_contain_text("standoff of a site")
    # On the map: a symbol per category, alerts in a colour of their own.
    symbols = blue.evaluate(
        """() => Object.fromEntries([...window.accordMap.items.values()]
             .filter((i) => i.declaration && i.declaration.kind === 'protected_site')
             .map((i) => [i.name, i.style.symbol]))"""
    )
    assert symbols["East City General Hospital"] == "hospital"
    assert symbols["School No. 12"] == "school"
    assert symbols["Water pumping station"] == "water"
    assert symbols["Aid warehouse compound"] == "warehouse"
    colours = blue.evaluate(
        """async () => { const m = await import('/static/map.js');
             const c = [...window.accordMap.items.values()].find((i) => i.layer === 'conflicts'
               && i.segment);
             return [m.ALERT_COLOUR, c.style.stroke]; }"""
    )
    assert colours[0].lower() != colours[1].lower()
    # The hospital's ring says what it is and how wide, once it is big enough to read.
    blue.evaluate("() => window.accordMap.map.setView([24.912, 21.905], 12)")
    drawn(blue)
    assert any(b["text"] == "standoff 2,000 m" for b in boxes(blue)), boxes(blue)
    # Red's centre-only observation post: blue's page holds nothing of it; the block is a
    # mark on blue's own operation, in words without a number.
    blocked = blue.evaluate(
        """() => [...window.accordMap.items.values()].filter((i) => i.layer === 'conflicts'
             && !i.segment).map((i) => [i.label, i.style.mark, i.op])"""
    )
    assert blocked and all(m == "blocked" for _, m, _ in blocked), blocked
    assert any(label == "blocked by a hidden position of red" for label, _, _ in blocked)
    others = blue.evaluate(
        """() => [...window.accordMap.items.values()].filter((i) => i.declaration
             && i.declaration.owner === 'red' && i.declaration.disclosure === 'center').length"""
    )
    assert others == 0
    op = blocked[0][2]
    blue.evaluate(
        "(id) => { const g = window.accordMap.items.get(id).geometry;"
        " const c = g.type === 'Point' ? g.coordinates : g.coordinates[0][0];"
        " window.accordMap.map.setView([c[1], c[0]], 11); }",
        op,
    )
    drawn(blue)
    texts = [b["full"] for b in boxes(blue)]
    assert "blocked by a hidden position of red" in texts, texts
    hidden = [t for t in texts if "hidden" in t or "within" in t]
    assert not any(ch.isdigit() for t in hidden for ch in t), hidden
    shot(blue, "map-04-legend-and-the-hidden-block")


def test_many_objects_cluster_and_a_click_zooms_in(sessions: Any) -> None:
    page = sessions("observer").page
    stats = page.evaluate(
        """() => { const map = window.accordMap;
             let seed = 7; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
             for (let i = 0; i < 20000; i++) map.put({id: `bulk:${i}`, layer: 'positions',
               geometry: {type: 'Point', coordinates: [15 + 12 * rnd(), 20 + 10 * rnd()]},
               style: {stroke: '#6fb3ff', symbol: 'diamond'}, label: `bulk ${i}`,
               html: 'a bulk position'});
             map.map.setView([25, 21], 6);
             return map.drawn().then(() => ({...map.stats})); }"""
    )
    assert stats["clusters"] > 10, stats
    drawn(page)
    assert page.evaluate(OVERLAPS) == []
    cluster = page.evaluate(
        "() => { const c = window.accordMap._clusters.reduce((a, b) => (b.n > a.n ? b : a));"
        " return [c.x, c.y, c.n]; }"
    )
    zoom = page.evaluate("() => window.accordMap.map.getZoom()")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + cluster[0], box["y"] + cluster[1])
    expect(page.locator(".map-tooltip")).to_contain_text(f"{cluster[2]:,} objects here")
    page.mouse.click(box["x"] + cluster[0], box["y"] + cluster[1])
    page.wait_for_function("(z) => window.accordMap.map.getZoom() > z", arg=zoom)
    shot(page, "map-05-clusters")
    page.evaluate(
        "() => { window.accordMap.removeWhere((i) => String(i.id).startsWith('bulk:')); }"
    )
