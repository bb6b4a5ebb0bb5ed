"""The deconfliction engine: every conflict of an operation with everything declared.

Build a :class:`DeconflictionIndex` once per world, then ask it about operations, one at a
time, as they are proposed. It is pure: no clock, no I/O.

How a query works
-----------------
Every declared object is reduced to *vertices*: a point object is one vertex; a line (movement
route, flight path) or a polygon boundary is densified along its geodesic legs so that no leg
is longer than :data:`SEGMENT_M`. Each vertex has a *reach*: how far from its object's
geometry an operation can still conflict with it (radius or corridor, plus buffer or
standoff, plus declared uncertainty, plus one leg for lines). Vertices are grouped by reach
band (powers of two above a kilometre) and, for flight paths, which carry times, by time
bucket (:data:`TIME_BUCKET_S`); each group keeps a grid of cubic cells in Earth-centred
(ECEF) coordinates, a cell's side the group's largest reach plus a typical operation's
extent, its vertices sorted by cell. A query is one call of the compiled kernel
(:mod:`accord.deconfliction._kernel`):

1. For each group without times, and each time bucket a leg flown in the window can start
   in, the cells around the operation's reference point are scanned for every vertex whose
   straight-line (chord) distance to that point is within the operation's extent and
   declared uncertainty plus the vertex's reach. A chord is never longer than the geodesic,
   so no conflicting object is missed.
2. Hits become *pieces*: isolated points, and the legs that start or end at a hit vertex
   (a leg within reach always has an end within reach plus one leg). Flight legs are clipped
   to the operation's window by linear interpolation in time.
3. Piece vertices go into an azimuthal-equidistant frame around the operation's reference
   point, computed from their ECEF coordinates with plain arithmetic
   (:class:`accord.geo.LocalFrame`), where point-segment and segment-segment distances are
   measured. Distances from the reference point agree with the geodesic to a centimetre
   within 100 km; others carry a relative error of about ρ²/6R² (ρ: distance from the
   reference point), far under a metre for operation areas tens of kilometres across.
4. Polygon objects that contain a point of the operation's area come from an STRtree.
5. Per object, the minimum distance less the object's radius (a circular operation's radius,
   a movement's corridor) is its ``distance_m``; it conflicts when
   ``distance_m <= threshold_m``.

The same pipeline with step 1 replaced by "every vertex" is :meth:`DeconflictionIndex.check`
with ``use_index=False``: the brute-force scan the index is tested against.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from accord.agreement import Agreement, ObjectKind
from accord.deconfliction import _kernel
from accord.deconfliction.conflicts import Conflict
from accord.geo import LocalFrame, densify_lines, ecef
from accord.world import (
    Declared,
    Disclosure,
    FlightPlan,
    Movement,
    Operation,
    ProtectedSite,
    World,
)

__all__ = ["SEGMENT_M", "DeconflictionIndex", "OperationCheck", "warm_up"]

SEGMENT_M = 2000.0
"""Longest leg (metres) of a densified line or polygon boundary."""

TIME_BUCKET_S = 6 * 3600.0
"""Width of the time buckets that flight-path vertices are split into."""

_KINDS: tuple[ObjectKind, ...] = tuple(ObjectKind)
_KIND_CODE = {kind: code for code, kind in enumerate(_KINDS)}
_SITE = _KIND_CODE[ObjectKind.PROTECTED_SITE]
_DISCLOSURE = {False: Disclosure.SHARED, True: Disclosure.CENTER}
_BAND_BASE_M = 1000.0

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class OperationCheck:
    """The engine's answer for one operation: its conflicts, blocking ones first."""

    operation: Operation
    conflicts: tuple[Conflict, ...]

    @property
    def blocking(self) -> bool:
        return any(c.blocking for c in self.conflicts)


@dataclass(frozen=True, slots=True)
class _Frame:
    """An operation prepared for querying: local frame, extent and planar area."""

    local: LocalFrame
    extent_m: float  # the farthest point of the area from the frame's origin
    radius_m: float  # > 0 for a circle; 0 for a polygon
    edges: FloatArray  # (E, 4): ax, ay, bx, by of every ring's edges; E == 0 for a circle
    boxes: FloatArray  # bounding boxes of runs of edges (_kernel.edge_boxes)
    probe: shapely.Point  # a point of the area, lon/lat, for containment look-ups
    t0: float
    t1: float


_NO_EDGES = np.zeros((0, 4))
_NO_OBJECTS = np.zeros(0, dtype=np.int64)
_TYPICAL_EXTENT_M = 2000.0
_DEGENERATE_AREA = 1e-12
"""Square degrees under which a polygon has no area to speak of (about 0.01 m²)."""


def _spatial_order(objects: Sequence[Declared]) -> tuple[list[Declared], ObjectArray]:
    """Objects sorted along a Z-order curve of their bounding-box centres, with geometries.

    Neighbours in space become neighbours in memory, so the vertices and object columns a
    query touches sit in few cache lines instead of being scattered over the whole index.
    """
    geoms = np.fromiter(map(_GEOMETRY, objects), dtype=object, count=len(objects))
    if len(objects) < 2:
        return list(objects), geoms
    bounds = shapely.bounds(geoms)
    lon = (bounds[:, 0] + bounds[:, 2]) * 0.5
    lat = (bounds[:, 1] + bounds[:, 3]) * 0.5
    qx = ((lon + 180.0) / 360.0 * 65535.0).astype(np.uint64)
    qy = ((lat + 90.0) / 180.0 * 65535.0).astype(np.uint64)
    order = np.argsort(_interleave(qx) | (_interleave(qy) << np.uint64(1)), kind="stable")
    return [objects[i] for i in order.tolist()], geoms[order]


def _interleave(v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Spread the 16 low bits of each value over the even bits (Morton code)."""
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    return (v | (v << np.uint64(1))) & np.uint64(0x55555555)


def _floats(values: Iterable[Any], n: int) -> FloatArray:
    return np.fromiter(values, np.float64, n)


def _epochs(values: Iterable[datetime | None], n: int) -> FloatArray:
    return np.fromiter((math.nan if v is None else v.timestamp() for v in values), np.float64, n)


_GEOMETRY = attrgetter("geometry")
_BY_KIND: dict[ObjectKind, str] = {
    ObjectKind.PROTECTED_SITE: "protected_sites",
    ObjectKind.MOVEMENT: "movements",
    ObjectKind.POSITION: "positions",
    ObjectKind.FLIGHT_PLAN: "flight_plans",
    ObjectKind.OPERATION: "operations",
}


def _by_kind(world: World | Iterable[Declared]) -> dict[ObjectKind, Sequence[Declared]]:
    if isinstance(world, World):
        return {kind: getattr(world, field) for kind, field in _BY_KIND.items()}
    out: dict[ObjectKind, list[Declared]] = {kind: [] for kind in _KINDS}
    for obj in world:
        out[obj.kind].append(obj)
    return dict(out)


class DeconflictionIndex:
    """Spatial and temporal index over a world's declared objects.

    Parameters
    ----------
    agreement
        Buffers, blocking kinds and the site re-confirmation period come from here.
    world
        Every declared object; operations in it are also checked against one another.
    grid
        Build the spatial grid (the default). Without it the index costs less to build and
        every check scans all its vertices: for a handful of objects, the cheaper index.

    Examples
    --------
    >>> from accord.agreement import load_agreement
    >>> from accord.world import load_world
    >>> from accord.examples import example_path
    >>> agreement = load_agreement(example_path("jig.yaml"))
    >>> world = load_world(example_path("world.geojson"), agreement)
    >>> index = DeconflictionIndex(agreement, world)
    >>> [(c.kind.value, c.with_id) for c in index.check(world["op-c2"]).conflicts]
    [('protected_site', 'site-hospital-east')]
    """

    def __init__(
        self, agreement: Agreement, world: World | Iterable[Declared], *, grid: bool = True
    ) -> None:
        self.agreement = agreement
        self._grid = grid
        objects: list[Declared] = []
        geom_parts: list[ObjectArray] = []
        kind_parts: list[npt.NDArray[np.int8]] = []
        by_kind = _by_kind(world)
        self._operations = tuple(
            o for o in by_kind[ObjectKind.OPERATION] if isinstance(o, Operation)
        )
        for code, kind in enumerate(_KINDS):
            ordered, geoms = _spatial_order(by_kind[kind])
            objects.extend(ordered)
            geom_parts.append(geoms)
            kind_parts.append(np.full(len(ordered), code, dtype=np.int8))
        n = len(objects)
        self._objects = objects
        self._kind = np.concatenate(kind_parts)
        self._id_array = np.fromiter(map(attrgetter("id"), objects), dtype=object, count=n)
        self._owner_array = np.fromiter(map(attrgetter("owner"), objects), dtype=object, count=n)
        # Only an operation can be checked while it is itself in the index.
        first_op = int(np.searchsorted(self._kind, _KIND_CODE[ObjectKind.OPERATION]))
        self._operation_at = {o.id: first_op + i for i, o in enumerate(objects[first_op:])}
        self._build_columns(agreement, objects)
        self._build_vertices(objects, np.concatenate(geom_parts))
        self._build_reach()
        if grid:
            self._build_groups()
        else:
            self._no_grid()

    # --- building ---------------------------------------------------------------------------

    def _build_columns(self, agreement: Agreement, objects: Sequence[Declared]) -> None:
        n = len(objects)
        self._center = np.fromiter(
            (o.disclosure is Disclosure.CENTER for o in objects), np.bool_, n
        )
        buffers = np.array([agreement.buffer_m(k) for k in _KINDS])
        tol = buffers[self._kind] + _floats(map(attrgetter("uncertainty_m"), objects), n)
        radius = np.zeros(n)
        t0 = np.full(n, -math.inf)
        t1 = np.full(n, math.inf)
        confirmed = np.full(n, math.nan)
        bounds = np.searchsorted(self._kind, np.arange(len(_KINDS) + 1))
        for code, kind in enumerate(_KINDS):
            lo, hi = int(bounds[code]), int(bounds[code + 1])
            group = objects[lo:hi]
            m = hi - lo
            if not m:
                continue
            if kind is ObjectKind.PROTECTED_SITE:
                standoff = _floats(
                    (math.nan if v is None else v for v in map(attrgetter("standoff_m"), group)),
                    m,
                )
                has = ~np.isnan(standoff)
                part = tol[lo:hi]
                part[has] += np.maximum(standoff[has] - buffers[code], 0.0)
                confirmed[lo:hi] = _epochs(map(attrgetter("confirmed_at"), group), m)
            elif kind is ObjectKind.FLIGHT_PLAN:
                times = list(map(attrgetter("times"), group))
                t0[lo:hi] = _epochs((t[0] for t in times), m)
                t1[lo:hi] = _epochs((t[-1] for t in times), m)
            else:
                start, end, grow = {
                    ObjectKind.MOVEMENT: ("valid_from", "valid_to", "corridor_m"),
                    ObjectKind.POSITION: ("valid_from", "valid_to", None),
                    ObjectKind.OPERATION: ("window_start", "window_end", "radius_m"),
                }[kind]
                t0[lo:hi] = _epochs(map(attrgetter(start), group), m)
                t1[lo:hi] = _epochs(map(attrgetter(end), group), m)
                if grow is not None:
                    radius[lo:hi] = _floats(map(attrgetter(grow), group), m)
        self._tol = tol
        self._radius = radius
        self._t0 = t0
        self._t1 = t1
        self._confirmed = confirmed
        self._reconfirm_s = agreement.deconfliction.site_reconfirm_every.total_seconds()
        self._blocking = np.array([agreement.blocks(k) for k in _KINDS], dtype=np.bool_)

    def _build_vertices(self, objects: Sequence[Declared], geoms: ObjectArray) -> None:
        n = len(objects)
        type_ids = shapely.get_type_id(geoms) if n else np.empty(0, dtype=np.int64)
        point_idx = np.flatnonzero(type_ids == 0).astype(np.intp)
        point_xy = shapely.get_coordinates(geoms[point_idx]) if point_idx.size else np.zeros((0, 2))

        # Every line and every polygon ring, concatenated, with the object it belongs to.
        line_idx = np.flatnonzero(type_ids != 0)
        is_polygon = type_ids[line_idx] == 3
        polygons = line_idx[is_polygon]
        rings, ring_owner = shapely.get_rings(geoms[polygons], return_index=True)
        parts = np.concatenate((geoms[line_idx[~is_polygon]], rings))
        part_obj = np.concatenate((line_idx[~is_polygon], polygons[ring_owner])).astype(np.intp)
        if parts.size:
            coords, coord_part = shapely.get_coordinates(parts, return_index=True)
            sizes = np.bincount(coord_part, minlength=parts.size)
            offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
            times = np.full(coords.shape[0], math.nan)
            flight = self._kind[part_obj] == _KIND_CODE[ObjectKind.FLIGHT_PLAN]
            for p in np.flatnonzero(flight).tolist():
                plan = objects[int(part_obj[p])]
                assert isinstance(plan, FlightPlan)
                times[offsets[p] : offsets[p + 1]] = [t.timestamp() for t in plan.times]
            lon, lat, dense_times, offsets = densify_lines(
                coords[:, 0], coords[:, 1], offsets, SEGMENT_M, times
            )
            assert dense_times is not None
            times = dense_times
            obj_of = np.repeat(part_obj, np.diff(offsets))
            nxt = np.ones(lon.size, dtype=np.bool_)
            nxt[offsets[1:] - 1] = False
        else:
            lon = lat = times = np.zeros(0)
            obj_of = np.zeros(0, dtype=np.intp)
            nxt = np.zeros(0, dtype=np.bool_)

        self._v_lon = np.concatenate([point_xy[:, 0], lon])
        self._v_lat = np.concatenate([point_xy[:, 1], lat])
        self._v_time = np.concatenate([np.full(point_idx.size, math.nan), times])
        self._v_obj = np.concatenate([point_idx, obj_of]).astype(np.int64)
        self._v_next = np.concatenate([np.zeros(point_idx.size, dtype=np.bool_), nxt])
        self._v_point = np.zeros(self._v_obj.size, dtype=np.bool_)
        self._v_point[: point_idx.size] = True

        # Polygon objects, in lon/lat, for "the operation lies inside" look-ups.
        self._polygon_objects = polygons.astype(np.int64)
        self._polygon_shapes = geoms[polygons]
        self._polygon_tree = shapely.STRtree(self._polygon_shapes) if polygons.size else None

    def _build_reach(self) -> None:
        obj = self._v_obj
        line_extra = np.where(self._v_point, 0.0, SEGMENT_M)
        self._v_reach = self._radius[obj] + self._tol[obj] + line_extra
        timed = ~np.isnan(self._v_time)
        # The longest time a flight leg takes: a leg overlapping a window starts at most
        # this long before the window opens.
        leg_s = np.zeros(obj.size)
        leg_start = np.flatnonzero(self._v_next & timed)
        leg_s[leg_start] = self._v_time[leg_start + 1] - self._v_time[leg_start]
        self._max_leg_s = float(leg_s.max()) if leg_s.size else 0.0
        self._v_xyz = np.ascontiguousarray(ecef(self._v_lon, self._v_lat))

    def _no_grid(self) -> None:
        empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0)
        self._cell_vertices = self._keys = self._key_start = self._key_end = empty_i
        self._group_lo = self._group_hi = self._untimed_groups = self._timed_order = empty_i
        self._timed_bucket = empty_i
        self._group_cell = self._group_reach = empty_f
        self._no_groups = empty_i

    def _build_groups(self) -> None:
        obj = self._v_obj
        reach = self._v_reach
        band = np.ceil(np.log2(np.maximum(reach, _BAND_BASE_M) / _BAND_BASE_M)).astype(np.int64)
        timed = ~np.isnan(self._v_time)
        bucket = np.full(obj.size, -1, dtype=np.int64)
        bucket[timed] = np.floor(self._v_time[timed] / TIME_BUCKET_S).astype(np.int64)

        # Groups: one per (reach band, time bucket) present. Cells: cubes in ECEF whose side
        # is the group's reach plus a typical operation's extent, keyed and sorted per group.
        band -= band.min(initial=0)
        bucket_rank = np.zeros(obj.size, dtype=np.int64)
        if timed.any():
            bucket_rank[timed] = bucket[timed] - bucket[timed].min() + 1
        combo = band * (int(bucket_rank.max(initial=0)) + 1) + bucket_rank
        present = np.bincount(combo) > 0 if combo.size else np.zeros(0, dtype=np.bool_)
        remap = np.cumsum(present) - 1
        group_of = remap[combo].astype(np.int16)
        n_groups = int(present.sum())
        group_bucket = np.full(n_groups, -1, dtype=np.int64)
        group_bucket[group_of] = bucket
        group_reach = np.zeros(n_groups)
        np.maximum.at(group_reach, group_of, reach)
        group_cell = group_reach + _TYPICAL_EXTENT_M
        keys = _kernel.cell_keys(self._v_xyz, group_cell[group_of])
        by_key = np.argsort(keys)
        order = by_key[np.argsort(group_of[by_key], kind="stable")]  # radix sort on int16
        sorted_group, sorted_key = group_of[order], keys[order]
        new_run = np.ones(order.size, dtype=np.bool_)
        new_run[1:] = (sorted_group[1:] != sorted_group[:-1]) | (sorted_key[1:] != sorted_key[:-1])
        run_start = np.flatnonzero(new_run)
        run_end = np.append(run_start[1:], order.size)
        run_group = sorted_group[run_start]
        self._cell_vertices = order.astype(np.int64)
        self._keys = sorted_key[run_start]
        self._key_start = run_start.astype(np.int64)
        self._key_end = run_end.astype(np.int64)
        self._group_lo = np.searchsorted(run_group, np.arange(n_groups)).astype(np.int64)
        self._group_hi = np.searchsorted(run_group, np.arange(n_groups), side="right").astype(
            np.int64
        )
        self._group_cell = group_cell
        self._group_reach = group_reach
        self._untimed_groups = np.flatnonzero(group_bucket < 0).astype(np.int64)
        timed_groups = np.flatnonzero(group_bucket >= 0)
        self._timed_order = timed_groups[np.argsort(group_bucket[timed_groups], kind="stable")]
        self._timed_bucket = group_bucket[self._timed_order]
        self._no_groups = np.empty(0, dtype=np.int64)

    # --- querying ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._objects)

    def _frame(self, op: Operation) -> _Frame:
        geom = op.geometry
        t0, t1 = op.window_start.timestamp(), op.window_end.timestamp()
        if geom.geom_type == "Point":
            local = LocalFrame.at(float(geom.x), float(geom.y))
            return _Frame(
                local=local,
                extent_m=op.radius_m,
                radius_m=op.radius_m,
                edges=_NO_EDGES,
                boxes=_NO_EDGES,
                probe=geom,
                t0=t0,
                t1=t1,
            )
        # A polygon: its geodesic edges are straight in the local frame to within
        # millimetres for areas up to hundreds of kilometres across.
        # A ring of zero area (a line checked along and back:
        # :func:`accord.deconfliction.received.areas_of`) has no centroid of its area (GEOS
        # answers a point thousands of kilometres off): its boundary's is the frame's origin.
        centroid = geom.centroid if geom.area > _DEGENERATE_AREA else geom.exterior.centroid
        local = LocalFrame.at(float(centroid.x), float(centroid.y))
        rings = [geom.exterior, *geom.interiors]
        coords = shapely.get_coordinates(rings)
        sizes = np.fromiter((len(r.coords) for r in rings), np.intp, len(rings))
        x, y = local.xy(ecef(coords[:, 0], coords[:, 1]), coords[:, 0], coords[:, 1])
        not_last = np.ones(x.size, dtype=np.bool_)
        not_last[np.cumsum(sizes) - 1] = False
        a = np.flatnonzero(not_last)
        edges = np.ascontiguousarray(np.column_stack([x[a], y[a], x[a + 1], y[a + 1]]))
        return _Frame(
            local=local,
            extent_m=float(np.hypot(x, y).max()),
            radius_m=0.0,
            edges=edges,
            boxes=_kernel.edge_boxes(edges),
            probe=shapely.Point(geom.exterior.coords[0]),
            t0=t0,
            t1=t1,
        )

    def _groups_for(self, frame: _Frame) -> npt.NDArray[np.int64]:
        """The untimed groups, and the time buckets a leg in the window can start in."""
        if not self._timed_order.size:
            return self._untimed_groups
        first = math.floor((frame.t0 - self._max_leg_s) / TIME_BUCKET_S)
        last = math.floor(frame.t1 / TIME_BUCKET_S)
        lo = int(np.searchsorted(self._timed_bucket, first))
        hi = int(np.searchsorted(self._timed_bucket, last, side="right"))
        if lo >= hi:
            return self._untimed_groups
        return np.concatenate((self._untimed_groups, self._timed_order[lo:hi]))

    def check(self, op: Operation, *, use_index: bool = True) -> OperationCheck:
        """Every conflict of ``op`` with the indexed objects (``op`` itself excluded).

        ``use_index=False`` scans every vertex instead of asking the spatial grid: the
        brute-force answer the index must equal (an index built without its grid always
        scans).
        """
        use_index = use_index and self._grid
        frame = self._frame(op)
        self_obj = self._operation_at.get(op.id, -1)
        local = frame.local
        params = np.array(
            [
                *local.origin,
                local.east[0],
                local.east[1],
                *local.north,
                local.inv_m,
                local.inv_n,
                frame.radius_m,
                frame.t0,
                frame.t1,
            ]
        )
        objs, dist, threshold = _kernel.check_kernel(
            params,
            frame.extent_m,
            op.uncertainty_m,
            frame.edges,
            frame.boxes,
            self_obj,
            self._containing(frame, op),
            not use_index,
            self._groups_for(frame) if use_index else self._no_groups,
            self._group_cell,
            self._group_reach,
            self._group_lo,
            self._group_hi,
            self._keys,
            self._key_start,
            self._key_end,
            self._cell_vertices,
            self._v_xyz,
            self._v_time,
            self._v_obj,
            self._v_next,
            self._v_point,
            self._v_reach,
            self._t0,
            self._t1,
            self._radius,
            self._tol,
        )
        return OperationCheck(op, self._conflicts(op, objs, dist, threshold, frame.t0))

    def _containing(self, frame: _Frame, op: Operation) -> npt.NDArray[np.int64]:
        """Polygon objects that contain a point of the operation's area (any time): for a
        polygon operation, every polygon object its area meets, so that the kernel need not
        measure their pieces one by one (a polygon stacked over many others)."""
        if self._polygon_tree is None:
            return _NO_OBJECTS
        area = op.geometry if frame.edges.shape[0] else frame.probe
        found = self._polygon_tree.query(area)  # bounding boxes only: cheap
        if not found.size:
            return _NO_OBJECTS
        if frame.edges.shape[0]:
            prepared = shapely.Polygon(area)  # a copy to prepare, not the operation's own
            shapely.prepare(prepared)
            inside = shapely.intersects(prepared, self._polygon_shapes[found])
        else:
            probe = frame.probe
            inside = shapely.contains_xy(self._polygon_shapes[found], probe.x, probe.y)
        return np.asarray(self._polygon_objects[found[inside]], dtype=np.int64)

    def _conflicts(
        self,
        op: Operation,
        objs: npt.NDArray[np.int64],
        dist: FloatArray,
        threshold: FloatArray,
        start: float,
    ) -> tuple[Conflict, ...]:
        """Conflicts from the kernel's answer, blocking ones first, then by distance."""
        if not objs.size:
            return ()
        kinds = self._kind[objs]
        blocking = self._blocking[kinds]
        order = np.lexsort((objs, dist, ~blocking))
        objs, dist, threshold = objs[order], dist[order], threshold[order]
        kinds, blocking = kinds[order], blocking[order]
        stale = (kinds == _SITE) & ~(self._confirmed[objs] >= start - self._reconfirm_s)
        n = objs.size
        columns = zip(
            [op.id] * n,
            [_KINDS[k] for k in kinds.tolist()],
            self._id_array[objs].tolist(),
            self._owner_array[objs].tolist(),
            dist.tolist(),
            threshold.tolist(),
            blocking.tolist(),
            [_DISCLOSURE[c] for c in self._center[objs].tolist()],
            stale.tolist(),
            [False] * n,  # margin: a shadow's hit is marked by the answer, not the engine
            strict=True,
        )
        new = tuple.__new__
        return tuple([new(Conflict, row) for row in columns])

    def check_all(self, operations: Iterable[Operation] | None = None) -> list[OperationCheck]:
        """Check each operation (by default every operation of the world, in its order)."""
        return [self.check(op) for op in (self._operations if operations is None else operations)]


def warm_up(agreement: Agreement) -> None:
    """Compile (or load from numba's cache) the engine's kernels now, not on first use.

    A service calls this once at start so that the first operation checked is not the one
    that waits for the compiler.
    """
    epoch = datetime.fromtimestamp(0, tz=UTC)
    site = ProtectedSite(
        id="warm-up-site", declared_by="warm-up", geometry=shapely.Point(0, 0), category="x"
    )
    route = Movement(
        id="warm-up-route",
        declared_by="warm-up",
        geometry=shapely.LineString([(0, 0), (0.1, 0)]),
        valid_from=epoch,
        valid_to=epoch,
    )
    world = World(protected_sites=(site,), movements=(route,))
    index = DeconflictionIndex(agreement, world)
    for geometry, radius in ((shapely.Point(0, 0), 10.0), (shapely.box(0, 0, 0.01, 0.01), 0.0)):
        index.check(
            Operation(
                id="warm-up-op",
                declared_by="warm-up",
                geometry=geometry,
                radius_m=radius,
                category="x",
                proposed_by="warm-up",
                executors=("warm-up",),
                window_start=epoch,
                window_end=epoch,
            )
        )
