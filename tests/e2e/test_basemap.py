"""The operator's own basemap in the page (issue 23 item 2): ``accord serve --demo --basemap
FILE.pmtiles`` with an archive the test writes (``support.basemap``: tiles encoded by
mapbox-vector-tile, packed by the pmtiles package), read by the page's pmtiles with range
requests carrying the user's token, and drawn by protomaps-leaflet — over Natural Earth, under
everything declared, under the page's CSP, offline.

What is drawn is read off the screen: inside the archive, its lake and its land are drawn in
two colours, neither Natural Earth's; outside its bounds, Natural Earth's land as before; at
small scales, Natural Earth alone; and an object declared over the lake covers it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from support.basemap import Theater, write_basemap
from support.webdemo import Demo, csp_refusals, demo_server, drawn, map_point, screen_colours
from support.webdemo import signed_in as sign_in

with contextlib.suppress(ImportError):  # the browser fixture skips (or fails in CI), saying why
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

THEATER = Theater()
# Off the graticule's lines (every 0.1° at these scales), which are drawn over everything:
LAKE = (21.25, 25.24)  # in the lake
LAND = (21.66, 24.96)  # the archive's land, away from the lake, the road and the town
OUTSIDE = (21.93, 25.36)  # east of the archive's bounds: Natural Earth's land


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("basemap")
    archive = write_basemap(folder / "theater.pmtiles", THEATER)
    with demo_server(folder, "--basemap", str(archive)) as server:
        yield server


def _settled(page: Page) -> None:
    """Wait until the detailed layer has drawn every tile in view, and the map's canvases
    have been drawn again."""
    page.wait_for_function(
        "() => { const l = window.accordMap._detail; return !!l && !l.isLoading(); }",
        timeout=30_000,
    )
    drawn(page)


def _view(page: Page, lon: float, lat: float, zoom: float) -> None:
    page.evaluate(
        "([lat, lon, z]) => window.accordMap.map.setView([lat, lon], z)", [lat, lon, zoom]
    )
    _settled(page)


def _colours(page: Page, *points: tuple[float, float]) -> list[tuple[int, int, int]]:
    box = page.locator("#map").bounding_box()
    assert box is not None
    at = [map_point(page, lon, lat) for lon, lat in points]
    for x, y in at:  # on the map, not under a panel beside it
        assert box["x"] < x < box["x"] + box["width"] and box["y"] < y < box["y"] + box["height"]
    return screen_colours(page, at)


def test_the_operators_basemap_is_drawn_between_natural_earth_and_the_objects(
    browser: Any, demo: Demo
) -> None:
    with sign_in(browser, demo) as open_:
        session = open_("blue-officer")
        page = session.page
        refused = csp_refusals(page)
        archive_answers: list[tuple[int, str | None]] = []
        page.on(
            "response",
            lambda r: (
                archive_answers.append((r.status, r.request.headers.get("authorization")))
                if r.url.endswith("/v1/basemap/archive.pmtiles")
                else None
            ),
        )
        page.wait_for_function("() => !!window.accord.stats.detail", timeout=30_000)
        assert page.evaluate("() => window.accord.stats.detail.bounds") == list(THEATER.bounds)
        # Nothing declared in the way: every layer of objects off.
        page.evaluate(
            "() => { for (const id of [...window.accordMap.visible])"
            " window.accordMap.setLayer(id, false); }"
        )
        _view(page, 21.4, 25.25, 10)
        lake, land, outside = _colours(page, LAKE, LAND, OUTSIDE)
        assert lake != land, "the archive's lake is not drawn"
        assert land != outside, "the archive's land is drawn as Natural Earth's"
        # Natural Earth as before, where the archive has nothing.
        page.evaluate("() => window.accordMap._detail.setOpacity(0)")
        drawn(page)
        (natural,) = _colours(page, OUTSIDE)
        assert natural == outside
        (under,) = _colours(page, LAKE)
        assert under == natural != lake  # under the archive: Natural Earth's land
        page.evaluate("() => window.accordMap._detail.setOpacity(1)")
        # At small scales, Natural Earth alone: no tile of the archive is asked for.
        _view(page, 21.4, 25.25, 5)
        assert page.evaluate("() => Object.keys(window.accordMap._detail._tiles).length") == 0
        # An object declared over the lake is drawn over the archive.
        _view(page, 21.4, 25.25, 10)
        page.evaluate(
            """([lon, lat]) => { const m = window.accordMap; m.setLayer('areas', true);
               m.put({ id: 'test:cover', layer: 'areas', geometry: { type: 'Polygon',
                 coordinates: [[[lon - .02, lat - .02], [lon + .02, lat - .02],
                 [lon + .02, lat + .02], [lon - .02, lat + .02], [lon - .02, lat - .02]]] },
                 style: { stroke: '#ff00ff', fill: 'rgba(255, 0, 255, 1)', width: 2 } }); }""",
            list(LAKE),
        )
        drawn(page)
        (covered,) = _colours(page, LAKE)
        assert covered == (255, 0, 255), covered
        # Read by ranges, each with the user's token; nothing the CSP had to refuse.
        assert archive_answers, "the page read nothing of the archive"
        token = f"Bearer {demo.tokens['blue-officer']}"
        assert set(archive_answers) == {(206, token)}, archive_answers
        assert refused == []
        attribution = page.locator(".leaflet-control-attribution").inner_text()
        assert "Detail: Synthetic © test" in attribution


def test_a_monitor_and_another_party_see_the_same_basemap(browser: Any, demo: Demo) -> None:
    """The basemap is not a party's: every role that sees the map draws it."""
    with sign_in(browser, demo) as open_:
        for user in ("red-officer", "observer"):
            page = open_(user).page
            page.wait_for_function("() => !!window.accord.stats.detail", timeout=30_000)
            _view(page, *LAKE, 10)
            assert page.evaluate("() => Object.keys(window.accordMap._detail._tiles).length") > 0
