"""Deconfliction workload: build the index, check every operation, compare with baselines.

Baselines measured in the same run, on the same world:

* **STRtree**: shapely 2's STRtree over every object's geometry (lon/lat); per operation, the
  objects whose bounding boxes meet the operation's area widened by the largest reach, then
  the exact distance of each candidate (pyproj inverse geodesics into a local azimuthal-
  equidistant frame, numpy segment distances) — what a careful engineer would write with
  the standard tools.
* **Brute force**: the same exact computation over *every* vertex of every object — a
  vectorised geodesic scan with pyproj over all objects. Too slow for all operations; it runs
  on a random sample, and Accord's conflicts must equal its conflicts there exactly.
* **Full scan**: Accord's own kernel over every vertex (no spatial index), on a larger sample:
  the index must change nothing.
"""

from __future__ import annotations

import gc
import math
import resource
import time
from dataclasses import dataclass, field

import numpy as np
import shapely

from accord.agreement import Agreement, ObjectKind
from accord.deconfliction import SEGMENT_M, DeconflictionIndex, warm_up
from accord.geo import GEOD, densify_lines
from accord.world import FlightPlan, Movement, Operation, ProtectedSite, World

KINDS = tuple(ObjectKind)


def rss_gb() -> float:
    """Peak resident memory of this process so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


@dataclass
class Baseline:
    """Plain-tools answer: STRtree candidates or every vertex, then exact pyproj distances."""

    agreement: Agreement
    world: World
    objects: list = field(default_factory=list)

    def __post_init__(self) -> None:
        a = self.agreement
        objs = list(self.world)
        self.objects = objs
        n = len(objs)
        self.ids = [o.id for o in objs]
        self.kind = np.array([KINDS.index(o.kind) for o in objs])
        self.tol = np.array(
            [
                max(a.buffer_m(o.kind), o.standoff_m or 0.0)
                if isinstance(o, ProtectedSite)
                else a.buffer_m(o.kind)
                for o in objs
            ]
        ) + np.array([o.uncertainty_m for o in objs])
        self.radius = np.array(
            [
                o.corridor_m
                if isinstance(o, Movement)
                else o.radius_m
                if isinstance(o, Operation)
                else 0.0
                for o in objs
            ]
        )
        t0 = np.full(n, -math.inf)
        t1 = np.full(n, math.inf)
        for i, o in enumerate(objs):
            if isinstance(o, FlightPlan):
                t0[i], t1[i] = o.times[0].timestamp(), o.times[-1].timestamp()
            elif isinstance(o, Operation):
                t0[i], t1[i] = o.window_start.timestamp(), o.window_end.timestamp()
            elif hasattr(o, "valid_from"):
                t0[i], t1[i] = o.valid_from.timestamp(), o.valid_to.timestamp()
        self.t0, self.t1 = t0, t1
        self.by_id = {oid: i for i, oid in enumerate(self.ids)}
        # Vertices: points, and densified lines and rings (the same densification).
        geoms = np.empty(n, dtype=object)
        geoms[:] = [o.geometry for o in objs]
        self.geoms = geoms
        types = shapely.get_type_id(geoms)
        pts = np.flatnonzero(types == 0)
        lines = np.flatnonzero(types == 1)
        polys = np.flatnonzero(types == 3)
        rings, owner = shapely.get_rings(geoms[polys], return_index=True)
        parts = np.concatenate((geoms[lines], rings))
        part_obj = np.concatenate((lines, polys[owner]))
        coords, cpart = shapely.get_coordinates(parts, return_index=True)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(cpart, minlength=parts.size))])
        times = np.full(coords.shape[0], math.nan)
        for p, o in enumerate(part_obj):
            obj = objs[o]
            if isinstance(obj, FlightPlan):
                times[offsets[p] : offsets[p + 1]] = [t.timestamp() for t in obj.times]
        lon, lat, dtimes, offsets = densify_lines(
            coords[:, 0], coords[:, 1], offsets.astype(np.intp), SEGMENT_M, times
        )
        pxy = shapely.get_coordinates(geoms[pts])
        self.v_lon = np.concatenate((pxy[:, 0], lon))
        self.v_lat = np.concatenate((pxy[:, 1], lat))
        self.v_time = np.concatenate((np.full(pts.size, math.nan), dtimes))
        self.v_obj = np.concatenate((pts, np.repeat(part_obj, np.diff(offsets))))
        nxt = np.ones(lon.size, dtype=bool)
        nxt[offsets[1:] - 1] = False
        self.v_next = np.concatenate((np.zeros(pts.size, dtype=bool), nxt))
        self.v_point = np.zeros(self.v_obj.size, dtype=bool)
        self.v_point[: pts.size] = True
        order = np.argsort(self.v_obj, kind="stable")
        self.obj_first = np.searchsorted(self.v_obj[order], np.arange(n))
        self.obj_last = np.searchsorted(self.v_obj[order], np.arange(n), side="right")
        self.obj_order = order
        self.max_reach = float((self.tol + self.radius).max()) + SEGMENT_M
        self.tree = shapely.STRtree(geoms)

    # --- the exact answer on a set of vertices ---------------------------------------------

    def exact(self, op: Operation, verts: np.ndarray) -> dict[str, tuple[float, float]]:
        """{object id: (distance, threshold)} of conflicts among the objects of ``verts``."""
        self_i = self.by_id.get(op.id, -1)
        ws, we = op.window_start.timestamp(), op.window_end.timestamp()
        objs = self.v_obj[verts]
        keep = (self.t0[objs] <= we) & (self.t1[objs] >= ws) & (objs != self_i)
        verts = verts[keep]
        pts = verts[self.v_point[verts]]
        line = verts[~self.v_point[verts]]
        starts = np.unique(np.concatenate((line, line - 1)))
        starts = starts[(starts >= 0) & self.v_next[np.maximum(starts, 0)]]
        a = np.concatenate((pts, starts))
        b = np.concatenate((pts, starts + 1))
        if op.geometry.geom_type == "Point":
            lon0, lat0 = op.geometry.x, op.geometry.y
        else:
            c = op.geometry.centroid
            lon0, lat0 = c.x, c.y
        allv = np.concatenate((a, b))
        az, _, d = GEOD.inv(
            np.full(allv.size, lon0), np.full(allv.size, lat0), self.v_lon[allv], self.v_lat[allv]
        )
        th = np.radians(az)
        x, y = d * np.sin(th), d * np.cos(th)
        m = a.size
        ax, ay, bx, by = x[:m], y[:m], x[m:], y[m:]
        ta, tb = self.v_time[a], self.v_time[b]
        timed = ~np.isnan(ta)
        flown = np.ones(m, dtype=bool)
        if timed.any():
            lo, hi = np.maximum(ta, ws), np.minimum(tb, we)
            flown = ~timed | (lo <= hi)
            with np.errstate(invalid="ignore", divide="ignore"):
                fa = np.where(timed & (tb > ta), (lo - ta) / (tb - ta), 0.0)
                fb = np.where(timed & (tb > ta), (hi - ta) / (tb - ta), 1.0)
            dx, dy = bx - ax, by - ay
            ax, ay, bx, by = ax + fa * dx, ay + fa * dy, ax + fb * dx, ay + fb * dy
        segs = shapely.linestrings(
            np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1)
        )
        same = (ax == bx) & (ay == by)
        if same.any():
            segs[same] = shapely.points(ax[same], ay[same])
        if op.geometry.geom_type == "Point":
            area = shapely.Point(0.0, 0.0)
            dist = shapely.distance(area, segs) - op.radius_m
        else:
            ring = shapely.get_coordinates(op.geometry.exterior)
            az, _, d = GEOD.inv(
                np.full(len(ring), lon0), np.full(len(ring), lat0), ring[:, 0], ring[:, 1]
            )
            th = np.radians(az)
            area = shapely.Polygon(np.column_stack([d * np.sin(th), d * np.cos(th)]))
            dist = shapely.distance(area, segs)
        dist = np.where(flown, dist, np.inf)
        owner = self.v_obj[a]
        best: dict[int, float] = {}
        for o, dd in zip(owner.tolist(), dist.tolist(), strict=True):
            if dd < best.get(o, math.inf):
                best[o] = dd
        # Polygons holding the operation's first point.
        probe = shapely.Point(
            op.geometry.coords[0]
            if op.geometry.geom_type == "Point"
            else op.geometry.exterior.coords[0]
        )
        for o in self.tree.query(probe, predicate="within").tolist():
            if (
                self.geoms[o].geom_type == "Polygon"
                and o != self_i
                and self.t0[o] <= we
                and self.t1[o] >= ws
            ):
                best[o] = 0.0
        out = {}
        for o, dd in best.items():
            dist_o = max(dd - self.radius[o], 0.0)
            thr = self.tol[o] + op.uncertainty_m
            if dist_o <= thr:
                out[self.ids[o]] = (dist_o, thr)
        return out

    def brute(self, op: Operation) -> dict[str, tuple[float, float]]:
        return self.exact(op, np.arange(self.v_obj.size))

    def strtree(self, op: Operation) -> dict[str, tuple[float, float]]:
        g = op.geometry
        minx, miny, maxx, maxy = g.bounds
        reach = self.max_reach + op.radius_m + op.uncertainty_m
        lat = max(abs(miny), abs(maxy))
        dlat = reach / 110_574.0
        dlon = reach / (111_320.0 * math.cos(math.radians(min(lat + dlat, 89.0))))
        box = shapely.box(minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)
        cand = self.tree.query(box)
        verts = np.concatenate(
            [self.obj_order[self.obj_first[c] : self.obj_last[c]] for c in cand.tolist()]
            or [np.empty(0, dtype=np.intp)]
        )
        return self.exact(op, verts)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1e3
    return float(np.median(arr)), float(np.percentile(arr, 99))


def _answer(result) -> dict[str, tuple[float, float]]:
    return {c.with_id: (c.distance_m, c.threshold_m) for c in result.conflicts}


def _compare(ours: dict, theirs: dict, tolerance_m: float = 0.01) -> tuple[int, int]:
    """(mismatches, borderline): objects in one answer only, except those whose distance is
    within ``tolerance_m`` of the threshold (floating-point ties between two exact methods)."""
    bad = border = 0
    for oid in set(ours) ^ set(theirs):
        d, t = ours.get(oid) or theirs[oid]
        if abs(d - t) <= tolerance_m:
            border += 1
        else:
            bad += 1
    return bad, border


def run(
    agreement: Agreement,
    world: World,
    *,
    brute_sample: int,
    scan_sample: int,
    strtree_sample: int,
    seed: int = 1,
) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    t = time.perf_counter()
    warm_up(agreement)
    warm_s = time.perf_counter() - t
    gc.collect()
    t = time.perf_counter()
    index = DeconflictionIndex(agreement, world)
    build_s = time.perf_counter() - t
    gc.freeze()  # the world is static: keep the collector off its million objects
    ops = list(world.operations)
    timings: list[float] = []
    answers = {}
    for op in ops:
        t = time.perf_counter()
        result = index.check(op)
        timings.append(time.perf_counter() - t)
        answers[op.id] = result
    peak = rss_gb()
    med, p99 = _percentiles(timings)
    conflicts = sum(len(r.conflicts) for r in answers.values())

    rng = np.random.default_rng(seed)
    scan_ops = [ops[i] for i in rng.choice(len(ops), min(scan_sample, len(ops)), replace=False)]
    scan_times = []
    scan_bad = 0
    for op in scan_ops:
        t = time.perf_counter()
        full = index.check(op, use_index=False)
        scan_times.append(time.perf_counter() - t)
        if [(c.with_id, c.blocking) for c in full.conflicts] != [
            (c.with_id, c.blocking) for c in answers[op.id].conflicts
        ]:
            scan_bad += 1

    t = time.perf_counter()
    base = Baseline(agreement, world)
    tree_build_s = time.perf_counter() - t
    tree_ops = [ops[i] for i in rng.choice(len(ops), min(strtree_sample, len(ops)), replace=False)]
    tree_times = []
    tree_bad = tree_border = 0
    for op in tree_ops:
        t = time.perf_counter()
        theirs = base.strtree(op)
        tree_times.append(time.perf_counter() - t)
        b, br = _compare(_answer(answers[op.id]), theirs)
        tree_bad += b
        tree_border += br
    brute_ops = [ops[i] for i in rng.choice(len(ops), min(brute_sample, len(ops)), replace=False)]
    brute_times = []
    brute_bad = brute_border = 0
    for op in brute_ops:
        t = time.perf_counter()
        theirs = base.brute(op)
        brute_times.append(time.perf_counter() - t)
        b, br = _compare(_answer(answers[op.id]), theirs)
        brute_bad += b
        brute_border += br
    tmed, tp99 = _percentiles(tree_times)
    bmed, _ = _percentiles(brute_times)
    smed, _ = _percentiles(scan_times)

    def ratio(theirs: float, ours: float) -> str:
        return f"{theirs / ours:,.1f}x" if ours > 0 else "-"

    rows += [
        ("kernel compile or cache load, once (s)", f"{warm_s:.2f}", "-", "-"),
        (
            "index build (s)",
            f"{build_s:.2f}",
            f"STRtree+vertices {tree_build_s:.2f}",
            ratio(tree_build_s, build_s),
        ),
        ("check per operation, median (ms)", f"{med:.3f}", f"STRtree {tmed:.3f}", ratio(tmed, med)),
        ("check per operation, p99 (ms)", f"{p99:.3f}", f"STRtree {tp99:.3f}", ratio(tp99, p99)),
        (
            "check per operation, median (ms)",
            f"{med:.3f}",
            f"pyproj brute force {bmed:,.1f}",
            ratio(bmed, med),
        ),
        (
            "check per operation, median (ms)",
            f"{med:.3f}",
            f"no-index scan {smed:.1f}",
            ratio(smed, med),
        ),
        ("peak memory after checks (GB)", f"{peak:.2f}", "-", "-"),
        ("conflicts found (all operations)", f"{conflicts:,}", "-", "-"),
        (
            "answers differing from STRtree",
            f"{tree_bad} of {len(tree_ops)} ops",
            f"{tree_border} within 1 cm of threshold",
            "-",
        ),
        (
            "answers differing from brute force",
            f"{brute_bad} of {len(brute_ops)} ops",
            f"{brute_border} within 1 cm of threshold",
            "-",
        ),
        ("answers differing from no-index scan", f"{scan_bad} of {len(scan_ops)} ops", "-", "-"),
    ]
    return rows
