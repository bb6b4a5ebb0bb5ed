"""The officers' map over a large world: ``python -m bench --only web``.

A live server over ``seeded`` declared objects (bench.load's seeded world: 70 % sites,
25 % positions, 5 % movements, spread over the bench theatre; seeding runs at some 400
objects a second, so at most 10,000 are seeded, or the kept world of ``--keep-world`` is
used), the page loaded by blue's officer in headless Chromium, then the rest of ``objects``
declared objects of the same mix handed to the page as the stream's ``declaration.declared``
events (``window.accord.inject``: the page's own path from an event to the map), the theatre
brought into view, then the view panned ``pans`` times; each pan's redraw of the objects'
canvas is timed by the page itself (``window.accordMap.stats.lastStaticMs``: everything of
that redraw — culling, clustering, symbols, label placement).

Accord: level of detail on (lone points gathered into grid clusters at small scales).
Baseline, same run, same page, the first ``baseline_pans`` of the same pans (each redraw of
every symbol takes seconds at this scale): level of detail off (``accordMap.lod = false``):
every symbol drawn, as the page did before. The figure is the median and the 95th
percentile of the pans' redraws; the ratio is the baseline's median over Accord's.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.load import served
from bench.world import LAT0, LAT1, LON0, LON1

CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")

PANS = """async ([[centre, zoom], pans, lod]) => {
  const map = window.accordMap;
  map.lod = lod;
  map.map.setView(centre, zoom, {animate: false});
  await map.drawn();
  const times = [];
  for (let i = 0; i < pans; i++) {
    const a = (i * 2.399963) % (2 * Math.PI); // a golden-angle walk: every direction
    map.map.panBy([Math.round(160 * Math.cos(a)), Math.round(120 * Math.sin(a))], {animate: false});
    await map.drawn();
    times.push(map.stats.lastStaticMs);
  }
  return {times, shown: map.stats.shown, clusters: map.stats.clusters || 0,
          labels: map.labelBoxes().length};
}"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


INJECT = """(n) => {
  let seed = 11;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const point = () => [LON0 + (LON1 - LON0) * rnd(), LAT0 + (LAT1 - LAT0) * rnd()];
  const map = window.accordMap;
  map.hold(true);
  for (let i = 0; i < n; i++) {
    const roll = i % 20, id = `bench-${i}`;
    let owner, properties, geometry = {type: 'Point', coordinates: point()};
    if (roll < 14) {
      owner = 'hnc';
      properties = {kind: 'protected_site', category: 'shelter', disclosure: 'shared'};
    } else if (roll < 19) {
      owner = i % 2 ? 'blue' : 'red';
      properties = {kind: 'position', party: owner, disclosure: owner === 'blue' && i % 4 < 2
        ? 'center' : 'shared', uncertainty_m: [0, 100, 500][i % 3]};
    } else {
      owner = 'hnc';
      const a = geometry.coordinates;
      geometry = {type: 'LineString', coordinates: [a, [a[0] + 0.4 * rnd() - 0.2,
        a[1] + 0.4 * rnd() - 0.2]]};
      properties = {kind: 'movement', disclosure: 'shared', corridor_m: 500};
    }
    window.accord.inject({id: 1e9 + i, kind: 'declaration.declared', data: {id, owner,
      kind: properties.kind, disclosure: properties.disclosure,
      feature: {type: 'Feature', geometry, properties}}});
  }
  map.hold(false);
  return map.drawn().then(() => window.accordMap.count(() => true));
}"""
for name, value in (("LON0", LON0), ("LON1", LON1), ("LAT0", LAT0), ("LAT1", LAT1)):
    INJECT = INJECT.replace(name, repr(value))

SEEDED = 10_000
"""At most this many objects are seeded through the service (some 25 s); the rest reach the
page as events."""


def run(
    *, objects: int, pans: int = 20, baseline_pans: int = 3, cache: Path | None = None
) -> list[tuple[str, ...]]:
    """Load the page over ``objects`` declared objects and time ``pans`` pans, level of detail
    on (Accord) and off (the baseline), in one page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        print("web: skipped (playwright is not installed)", flush=True)
        return []
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        print(f"web: skipped (no Chromium at {CHROMIUM})", flush=True)
        return []
    started = time.perf_counter()
    seeded = min(objects, SEEDED) if cache is None else objects
    with served(seeded, cache=cache) as (server, users, _window), sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = context.new_page()
            page.goto(server.url + "/")
            page.fill("#token", users.tokens["blue-officer"])
            page.evaluate(
                "() => sessionStorage.setItem('accord.token',"
                " document.getElementById('token').value)"
            )
            loading = time.perf_counter()
            page.reload()
            page.wait_for_selector("body[data-ready=true]", timeout=600_000)
            loaded = time.perf_counter() - loading
            from_server = page.evaluate("() => window.accord.stats.onMap")
            injected = objects - seeded
            on_map = page.evaluate(INJECT, injected) if injected > 0 else from_server
            # the whole theatre in view: the scale at which every object is on screen
            page.evaluate(
                "(b) => window.accordMap.fit(b, {padding: [10, 10]})",
                [LON0, LAT0, LON1, LAT1],
            )
            page.evaluate("() => window.accordMap.drawn()")
            start = page.evaluate(
                "() => { const m = window.accordMap.map; return [m.getCenter(), m.getZoom()]; }"
            )
            ours: dict[str, Any] = page.evaluate(PANS, [start, pans, True])
            # every symbol drawn takes seconds a redraw at this scale: fewer pans, same walk
            theirs: dict[str, Any] = page.evaluate(PANS, [start, baseline_pans, False])
            page.evaluate("() => { window.accordMap.lod = true; }")
        finally:
            browser.close()
    med, p95 = statistics.median(ours["times"]), _percentile(ours["times"], 0.95)
    base_med, base_p95 = statistics.median(theirs["times"]), _percentile(theirs["times"], 0.95)
    print(
        f"web: {on_map:,} objects on blue's map ({from_server:,} of {seeded:,} seeded through "
        f"the service, page ready in {loaded:.1f} s; {max(0, objects - seeded):,} more as "
        f"declaration events); theatre view, {pans} pans each: level of detail on — "
        f"{ours['shown']:,} objects in view drawn as {ours['clusters']:,} clusters and the "
        f"rest, {ours['labels']} labels placed; off — every symbol drawn "
        f"({theirs['labels']} labels; {baseline_pans} pans of the same walk); "
        f"bench took {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return [
        (
            f"web: pan redraw, {on_map:,} objects on the map (median / p95)",
            f"{med:.1f} / {p95:.1f} ms",
            f"{base_med:.1f} / {base_p95:.1f} ms (no clustering / LOD)",
            f"{base_med / med:.1f}x" if med > 0 else "-",
        )
    ]
