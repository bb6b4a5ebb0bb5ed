"""Airspace workload: one full conflict-detection pass over N aircraft, against baselines.

Scenes: N aircraft uniformly over a square region (1,000 × 1,000 km for the issue's sizes;
larger for 100,000 at the same density as 10,000 in the issue's square), altitudes
FL100–FL400 in whole feet, ground speeds 100–250 m/s, any track; one in five climbing or
descending at 500–3,000 ft/min. Separation: 5 NM, 1,000 ft, 300 s look-ahead.

Measured in the same run, on the same states:

* **Accord**: :func:`accord.airspace.detect_conflicts` from raw arrays (``States`` built
  inside the timing), median of several passes; peak memory by ``tracemalloc`` (numpy's
  buffers included).
* **Accord all-pairs**: :func:`accord.airspace.detect_conflicts_all_pairs`, the exactness
  oracle, chunked; its conflicts must equal Accord's exactly (pairs and every figure).
* **BlueSky** (``bluesky-simulator`` 1.1.1, the ``bench`` extra): the state-based detection
  of the open air-traffic simulator called directly, without the simulator: its numpy
  all-pairs ``StateBased.detect`` (N × N matrices) and its compiled ``cstatebased.detect``
  (a C double loop). Sizes that would not fit in memory or time are skipped and said so.
  Its conflict set is compared with Accord's (it differs only in rounding at the
  boundaries: BlueSky works in metres and m/s, and computes the CPA distance another way).
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import math
import os
import statistics
import time
import tracemalloc
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.airspace import Separation, States, detect_conflicts, detect_conflicts_all_pairs
from accord.airspace.detect import EARTH_RADIUS_M
from accord.units import FT, NM

SEP = Separation(horizontal_m=5 * NM, vertical_ft=1000.0, lookahead_s=300.0)
LAT0, LON0 = 25.0, 21.0

# BlueSky's numpy detection holds ~28 float64 N × N matrices at its peak (5.6 GB at 5,000)
BLUESKY_NUMPY_BYTES_PER_PAIR = 5.6e9 / 5000**2
MEMORY_BUDGET = 12e9
TIME_BUDGET_S = 120.0


@dataclass(frozen=True)
class Scene:
    n: int
    side_km: float
    lat: np.ndarray
    lon: np.ndarray
    alt_ft: np.ndarray
    gs_ms: np.ndarray
    trk_deg: np.ndarray
    vs_fpm: np.ndarray

    def states(self) -> States:
        return States.from_motion(
            lat=self.lat,
            lon=self.lon,
            alt_ft=self.alt_ft,
            gs_ms=self.gs_ms,
            track_deg=self.trk_deg,
            vs_fpm=self.vs_fpm,
        )


def make_scene(n: int, side_km: float = 1000.0, seed: int = 1) -> Scene:
    rng = np.random.default_rng(seed)
    half = side_km * 500.0
    north = rng.uniform(-half, half, n)
    east = rng.uniform(-half, half, n)
    lat = LAT0 + np.degrees(north / EARTH_RADIUS_M)
    lon = LON0 + np.degrees(east / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    climbing = rng.random(n) < 0.2
    rate = np.round(rng.uniform(500, 3000, n)) * rng.choice([-1.0, 1.0], n)
    return Scene(
        n=n,
        side_km=side_km,
        lat=lat,
        lon=lon,
        alt_ft=np.round(rng.uniform(10_000, 40_000, n)),
        gs_ms=rng.uniform(100, 250, n),
        trk_deg=rng.uniform(0, 360, n),
        vs_fpm=np.where(climbing, rate, 0.0),
    )


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall-clock seconds of ``repeat`` calls, and the last answer."""
    seconds, _, out = _timed_cpu(fn, repeat)
    return seconds, out


def _timed_cpu(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall-clock and median CPU seconds of ``repeat`` calls, and the last answer
    (CPU time says less about other work sharing the cores)."""
    wall = []
    cpu = []
    out = None
    for _ in range(repeat):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), out


def _peak(fn: Callable[[], Any]) -> float:
    """Peak bytes allocated while ``fn`` runs (tracemalloc; numpy's buffers included)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return float(peak)


def _bluesky() -> tuple[Any, Any] | None:
    """BlueSky's (numpy StateBased.detect, compiled cstatebased.detect), or None."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            from bluesky.traffic.asas import cstatebased  # type: ignore[import-not-found]
            from bluesky.traffic.asas.statebased import (  # type: ignore[import-not-found]
                StateBased,
            )
    except ImportError:
        return None
    return StateBased.detect, cstatebased.detect


def _bluesky_traffic(scene: Scene) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """The scene as BlueSky's traffic arrays (SI units) and its per-aircraft zones."""
    n = scene.n
    traf = types.SimpleNamespace(
        ntraf=n,
        id=[f"A{k}" for k in range(n)],
        lat=np.ascontiguousarray(scene.lat, dtype=np.float64),
        lon=np.ascontiguousarray(scene.lon, dtype=np.float64),
        trk=np.ascontiguousarray(scene.trk_deg, dtype=np.float64),
        gs=np.ascontiguousarray(scene.gs_ms, dtype=np.float64),
        alt=np.ascontiguousarray(scene.alt_ft * FT, dtype=np.float64),
        vs=np.ascontiguousarray(scene.vs_fpm * FT / 60.0, dtype=np.float64),
    )
    rpz = np.full(n, SEP.horizontal_m)
    hpz = np.full(n, SEP.vertical_ft * FT)
    look = np.full(n, SEP.lookahead_s)
    return traf, rpz, hpz, look


def _pairs_of(confpairs: list[tuple[str, str]]) -> set[tuple[int, int]]:
    out = set()
    for a, b in confpairs:
        i, j = int(a[1:]), int(b[1:])
        out.add((min(i, j), max(i, j)))
    return out


def _differences(scene: Scene, ours: set[tuple[int, int]], theirs: set[tuple[int, int]]) -> str:
    """The pairs only one side finds, and how many of BlueSky's are exactly the vertical
    minimum apart now (separated: BlueSky's floating point counts some of them)."""
    only = theirs - ours
    at_minimum = sum(abs(scene.alt_ft[i] - scene.alt_ft[j]) == SEP.vertical_ft for i, j in only)
    return f"{len(ours - theirs)} only Accord's, {len(only)} only BlueSky's" + (
        f" ({at_minimum} of them exactly {SEP.vertical_ft:,.0f} ft apart)" if only else ""
    )


def _ratio(r: float) -> str:
    return f"{r:,.1f}×" if r < 10 else f"{r:,.0f}×"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def run(
    sizes: tuple[int, ...] = (1000, 5000, 10_000, 20_000),
    large: tuple[tuple[int, float], ...] = ((100_000, 1000.0 * math.sqrt(10)), (100_000, 1000.0)),
    oracle_max: int = 20_000,
) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    bluesky = _bluesky()
    if bluesky is None:
        print(
            "airspace: BlueSky baselines skipped: bluesky-simulator is not installed "
            "(pip install -e '.[bench]')",
            flush=True,
        )
    c_rate: float | None = None  # seconds per pair of the compiled baseline
    figures: list[tuple[int, float, float]] = []
    scenes = [(n, 1000.0) for n in sizes] + list(large)
    detect_conflicts(make_scene(200).states(), SEP)  # warm-up
    for n, side in scenes:
        scene = make_scene(n, side)
        label = f"airspace {n:,} aircraft, {side:,.0f} km square"
        repeat = 7 if n <= 20_000 else 3
        load = os.getloadavg()[0]
        ours_s, ours_cpu, found = _timed_cpu(
            lambda s=scene: detect_conflicts(s.states(), SEP), repeat
        )
        peak = _peak(lambda s=scene: detect_conflicts(s.states(), SEP))
        figures.append((n, ours_cpu, peak))
        print(
            f"{label}: {_ms(ours_s)} per pass (median of {repeat}; CPU {_ms(ours_cpu)}; load "
            f"average {load:.1f}), {len(found):,} conflicts "
            f"({int(found.lost.sum()):,} lost now), {found.candidates:,} candidate pairs of "
            f"{n * (n - 1) // 2:,}, peak {peak / 1e6:,.1f} MB ({peak / n:,.0f} B/aircraft)",
            flush=True,
        )
        if n <= oracle_max:
            t = time.perf_counter()
            oracle = detect_conflicts_all_pairs(scene.states(), SEP)
            oracle_s = time.perf_counter() - t
            same = all(
                np.array_equal(getattr(found, k), getattr(oracle, k))
                for k in ("i", "j", "tcpa_s", "dcpa_m", "tlos_s", "tend_s", "lost")
            )
            print(
                f"  all-pairs oracle (chunked): {_ms(oracle_s)}; conflict sets "
                f"{'IDENTICAL' if same else 'DIFFERENT'} ({len(oracle):,} conflicts)",
                flush=True,
            )
            if not same:
                raise SystemExit("airspace: the grid and the all-pairs oracle disagree")
            rows.append(
                (
                    f"{label} vs Accord all-pairs",
                    _ms(ours_s),
                    _ms(oracle_s),
                    _ratio(oracle_s / ours_s),
                )
            )
        else:
            print(
                f"  all-pairs oracle skipped: {n * (n - 1) // 2:,} pairs (above {oracle_max:,} "
                f"aircraft; --airspace-oracle-max to run it)",
                flush=True,
            )
        if bluesky is not None:
            c_rate = _baselines(bluesky, scene, found, label, ours_s, c_rate, rows)
    # how the cost grows with N (the square: density grows with N)
    same_square = figures[: len(sizes)]
    for (n1, s1, p1), (n2, s2, p2) in itertools.pairwise(same_square):
        if n2 <= n1:
            continue
        print(
            f"airspace growth {n1:,} → {n2:,} (same square): CPU time × {s2 / s1:.1f} "
            f"(N^{math.log(s2 / s1) / math.log(n2 / n1):.2f}), memory × {p2 / p1:.1f} "
            f"(N^{math.log(p2 / p1) / math.log(n2 / n1):.2f})",
            flush=True,
        )
    return rows


def _baselines(
    bluesky: tuple[Any, Any],
    scene: Scene,
    found: Any,
    label: str,
    ours_s: float,
    c_rate: float | None,
    rows: list[tuple[str, str, str, str]],
) -> float | None:
    """BlueSky's compiled and numpy detections on the scene; the compiled one's seconds per
    pair (to skip sizes beyond the time budget)."""
    numpy_detect, c_detect = bluesky
    n = scene.n
    traf, rpz, hpz, look = _bluesky_traffic(scene)
    ours = found.pairs()
    est = c_rate * n * n if c_rate is not None else 0.0
    if est > TIME_BUDGET_S:
        print(
            f"  BlueSky compiled skipped: about {est:,.0f} s at the rate measured "
            f"(over the {TIME_BUDGET_S:.0f} s budget)",
            flush=True,
        )
    else:
        c_s, c_out = _timed(lambda: c_detect(traf, traf, rpz, hpz, look), 3 if n <= 5000 else 1)
        c_rate = c_s / (n * n)
        theirs = _pairs_of(c_out[0])
        print(
            f"  BlueSky compiled (cstatebased.detect): {_ms(c_s)}; {len(theirs):,} conflicts, "
            f"{len(ours & theirs):,} in common with Accord's "
            f"({_differences(scene, ours, theirs)})",
            flush=True,
        )
        rows.append((f"{label} vs BlueSky compiled", _ms(ours_s), _ms(c_s), _ratio(c_s / ours_s)))
    need = BLUESKY_NUMPY_BYTES_PER_PAIR * n * n
    if need > MEMORY_BUDGET:
        print(
            f"  BlueSky numpy skipped: about {need / 1e9:,.0f} GB of N×N matrices "
            f"(over the {MEMORY_BUDGET / 1e9:.0f} GB budget of this 24 GB machine)",
            flush=True,
        )
        return c_rate
    np_s, np_out = _timed(lambda: numpy_detect(None, traf, traf, rpz, hpz, look), 1)
    np_peak = _peak(lambda: numpy_detect(None, traf, traf, rpz, hpz, look))
    theirs = _pairs_of(np_out[0])
    print(
        f"  BlueSky numpy (StateBased.detect): {_ms(np_s)}, peak {np_peak / 1e9:,.2f} GB; "
        f"{len(theirs):,} conflicts, {len(ours & theirs):,} in common with Accord's "
        f"({_differences(scene, ours, theirs)})",
        flush=True,
    )
    rows.append((f"{label} vs BlueSky numpy", _ms(ours_s), _ms(np_s), _ratio(np_s / ours_s)))
    return c_rate
