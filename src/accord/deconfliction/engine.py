"""The deconfliction engine: every conflict of an operation with everything declared.

Build a :class:`DeconflictionIndex` once per world, then ask it about operations, one at a
time, as they are proposed. It is pure: no clock, no I/O.

How a query works
-----------------
Every declared object is reduced to *vertices*: a point object is one vertex; a line (movement
route, flight path) or a polygon boundary is densified along its geodesic legs so that no leg
is longer than :data:`SEGMENT_M`. Objects are grouped into *bands* by how far from their
geometry they can still conflict (their *reach*: radius or corridor, plus buffer or standoff,
plus declared uncertainty, plus one leg for lines). Each band keeps a k-d tree over its
vertices in Earth-centred coordinates; the vertices of flight paths, which carry times, are
further split into time buckets so that a query only meets aircraft airborne near its window.

1. For each band (and time bucket near the window), the tree returns every vertex whose
   straight-line (chord) distance to the operation's reference point is within the
   operation's extent plus the band's reach. A chord is never longer than the geodesic, so no
   conflicting object is missed.
2. Hits become *pieces*: isolated points, and the legs that start or end at a hit vertex
   (a leg within reach always has an end within reach plus one leg). Flight legs are clipped
   to the operation's window by linear interpolation in time.
3. All piece vertices go into one azimuthal-equidistant frame around the operation's
   reference point (one vectorised inverse-geodesic call), where point-segment and
   segment-segment distances are computed with numpy. Distances from the reference point
   are exact geodesics; others carry a relative error of about ρ²/6R² (ρ: distance from the
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

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from accord.agreement import Agreement, ObjectKind
from accord.deconfliction.conflicts import Conflict
from accord.geo import (
    WGS84_A,
    WGS84_F,
    densify_lines,
    ecef,
    local_xy,
    point_segment_distance,
    segment_segment_distance,
)
from accord.world import (
    Declared,
    Disclosure,
    FlightPlan,
    Movement,
    Operation,
    Position,
    ProtectedSite,
    World,
)

__all__ = ["SEGMENT_M", "DeconflictionIndex", "OperationCheck"]

SEGMENT_M = 2000.0
"""Longest leg (metres) of a densified line or polygon boundary."""

TIME_BUCKET_S = 6 * 3600.0
"""Width of the time buckets that flight-path vertices are split into."""

_KINDS: tuple[ObjectKind, ...] = tuple(ObjectKind)
_KIND_CODE = {kind: code for code, kind in enumerate(_KINDS)}
_SITE = _KIND_CODE[ObjectKind.PROTECTED_SITE]
_DISCLOSURE = {False: Disclosure.SHARED, True: Disclosure.CENTER}
_BAND_BASE_M = 1000.0
_E2 = WGS84_F * (2.0 - WGS84_F)

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class OperationCheck:
    """The engine's answer for one operation: its conflicts, blocking ones first."""

    operation: Operation
    conflicts: tuple[Conflict, ...]

    @property
    def blocking(self) -> bool:
        return any(c.blocking for c in self.conflicts)


@dataclass(frozen=True, slots=True)
class _Group:
    """One k-d tree: the vertices of a reach band (and, for timed vertices, a time bucket)."""

    tree: cKDTree
    vertices: IntArray
    reach_m: float
    bucket: int | None  # None: vertices without time


@dataclass(frozen=True, slots=True)
class _Frame:
    """An operation prepared for querying: reference point and planar area."""

    lon: float
    lat: float
    center_xyz: tuple[float, float, float]
    extent_m: float  # the farthest point of the area from the reference point
    radius_m: float  # > 0 for a circle; 0 for a polygon
    polygon: shapely.Polygon | None  # planar, around the reference point
    edges: FloatArray | None  # (E, 4): ax, ay, bx, by
    probe: shapely.Point  # a point of the area, lon/lat, for containment look-ups
    t0: float
    t1: float


def _ecef_point(lon: float, lat: float) -> tuple[float, float, float]:
    lam, phi = math.radians(lon), math.radians(lat)
    sin_phi, cos_phi = math.sin(phi), math.cos(phi)
    n = WGS84_A / math.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    return (n * cos_phi * math.cos(lam), n * cos_phi * math.sin(lam), n * (1.0 - _E2) * sin_phi)


def _float_column(values: Iterable[float], n: int) -> FloatArray:
    return np.fromiter(values, np.float64, n)


class DeconflictionIndex:
    """Spatial and temporal index over a world's declared objects.

    Parameters
    ----------
    agreement
        Buffers, blocking kinds and the site re-confirmation period come from here.
    world
        Every declared object; operations in it are also checked against one another.

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

    def __init__(self, agreement: Agreement, world: World | Iterable[Declared]) -> None:
        self.agreement = agreement
        objects: list[Declared] = list(world)
        self._objects = objects
        self._ids = [o.id for o in objects]
        self._position_of = {oid: i for i, oid in enumerate(self._ids)}
        self._owner = [o.owner for o in objects]
        self._build_columns(agreement, objects)
        self._build_vertices(objects)
        self._build_groups()

    # --- building ---------------------------------------------------------------------------

    def _build_columns(self, agreement: Agreement, objects: Sequence[Declared]) -> None:
        n = len(objects)
        kinds = [o.kind for o in objects]
        self._kind = np.fromiter((_KIND_CODE[k] for k in kinds), np.int8, n)
        self._center = np.fromiter(
            (o.disclosure is Disclosure.CENTER for o in objects), np.bool_, n
        )
        buffers = np.array([agreement.buffer_m(k) for k in _KINDS])
        tol = buffers[self._kind] + _float_column((o.uncertainty_m for o in objects), n)
        radius = np.zeros(n)
        t0 = np.full(n, -math.inf)
        t1 = np.full(n, math.inf)
        confirmed = np.full(n, math.nan)
        for code, kind in enumerate(_KINDS):
            idx = np.flatnonzero(self._kind == code)
            if not idx.size:
                continue
            group = [objects[i] for i in idx.tolist()]
            if kind is ObjectKind.PROTECTED_SITE:
                sites: list[ProtectedSite] = group  # type: ignore[assignment]
                standoff = _float_column(
                    (math.nan if s.standoff_m is None else s.standoff_m for s in sites), idx.size
                )
                has = ~np.isnan(standoff)
                tol[idx[has]] = np.maximum(buffers[code], standoff[has]) + np.asarray(
                    [sites[i].uncertainty_m for i in np.flatnonzero(has).tolist()]
                ).reshape(-1)
                confirmed[idx] = _float_column(
                    (
                        math.nan if s.confirmed_at is None else s.confirmed_at.timestamp()
                        for s in sites
                    ),
                    idx.size,
                )
            elif kind is ObjectKind.MOVEMENT:
                moves: list[Movement] = group  # type: ignore[assignment]
                radius[idx] = _float_column((m.corridor_m for m in moves), idx.size)
                t0[idx] = _float_column((m.valid_from.timestamp() for m in moves), idx.size)
                t1[idx] = _float_column((m.valid_to.timestamp() for m in moves), idx.size)
            elif kind is ObjectKind.POSITION:
                positions: list[Position] = group  # type: ignore[assignment]
                t0[idx] = _float_column((p.valid_from.timestamp() for p in positions), idx.size)
                t1[idx] = _float_column((p.valid_to.timestamp() for p in positions), idx.size)
            elif kind is ObjectKind.FLIGHT_PLAN:
                plans: list[FlightPlan] = group  # type: ignore[assignment]
                t0[idx] = _float_column((f.times[0].timestamp() for f in plans), idx.size)
                t1[idx] = _float_column((f.times[-1].timestamp() for f in plans), idx.size)
            else:
                ops: list[Operation] = group  # type: ignore[assignment]
                radius[idx] = _float_column((o.radius_m for o in ops), idx.size)
                t0[idx] = _float_column((o.window_start.timestamp() for o in ops), idx.size)
                t1[idx] = _float_column((o.window_end.timestamp() for o in ops), idx.size)
        self._tol = tol
        self._radius = radius
        self._t0 = t0
        self._t1 = t1
        self._confirmed = confirmed
        self._reconfirm_s = agreement.deconfliction.site_reconfirm_every.total_seconds()
        self._blocking = np.array([agreement.blocks(k) for k in _KINDS], dtype=np.bool_)

    def _build_vertices(self, objects: Sequence[Declared]) -> None:
        n = len(objects)
        geoms = np.empty(n, dtype=object)
        geoms[:] = [o.geometry for o in objects]
        type_ids = shapely.get_type_id(geoms) if n else np.empty(0, dtype=np.int64)
        point_idx = np.flatnonzero(type_ids == 0).astype(np.intp)
        point_xy = shapely.get_coordinates(geoms[point_idx]) if point_idx.size else np.zeros((0, 2))

        # Every line and ring, concatenated, with the object it belongs to.
        line_lon: list[FloatArray] = []
        line_lat: list[FloatArray] = []
        line_time: list[FloatArray] = []
        line_obj: list[int] = []
        ring_of_polygon: list[tuple[int, int]] = []  # (object, number of rings)
        for i in np.flatnonzero(type_ids != 0).tolist():
            obj = objects[i]
            geom = obj.geometry
            rings = [geom] if geom.geom_type == "LineString" else [geom.exterior, *geom.interiors]
            for ring in rings:
                coords = shapely.get_coordinates(ring)
                line_lon.append(coords[:, 0])
                line_lat.append(coords[:, 1])
                if isinstance(obj, FlightPlan):
                    line_time.append(np.array([t.timestamp() for t in obj.times]))
                else:
                    line_time.append(np.full(coords.shape[0], math.nan))
                line_obj.append(i)
            if geom.geom_type == "Polygon":
                ring_of_polygon.append((i, len(rings)))

        if line_obj:
            sizes = np.fromiter((a.size for a in line_lon), np.intp, len(line_lon))
            offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
            lon, lat, times, offsets = densify_lines(
                np.concatenate(line_lon),
                np.concatenate(line_lat),
                offsets,
                SEGMENT_M,
                np.concatenate(line_time),
            )
            assert times is not None
            counts = np.diff(offsets)
            obj_of = np.repeat(np.asarray(line_obj, dtype=np.intp), counts)
            nxt = np.ones(lon.size, dtype=np.bool_)
            nxt[offsets[1:] - 1] = False
        else:
            lon = lat = times = np.zeros(0)
            offsets = np.zeros(1, dtype=np.intp)
            obj_of = np.zeros(0, dtype=np.intp)
            nxt = np.zeros(0, dtype=np.bool_)

        self._v_lon = np.concatenate([point_xy[:, 0], lon])
        self._v_lat = np.concatenate([point_xy[:, 1], lat])
        self._v_time = np.concatenate([np.full(point_idx.size, math.nan), times])
        self._v_obj = np.concatenate([point_idx, obj_of]).astype(np.intp)
        self._v_next = np.concatenate([np.zeros(point_idx.size, dtype=np.bool_), nxt])
        self._v_point = np.zeros(self._v_obj.size, dtype=np.bool_)
        self._v_point[: point_idx.size] = True
        self._all_vertices = np.arange(self._v_obj.size, dtype=np.intp)

        # Polygons in lon/lat (densified edges) for containment look-ups.
        polygon_objects: list[int] = []
        polygon_shapes: list[shapely.Polygon] = []
        line = 0
        for obj_index, n_rings in ring_of_polygon:
            while line_obj[line] != obj_index:
                line += 1
            rings_xy = [
                np.column_stack(
                    [lon[offsets[r] : offsets[r + 1]], lat[offsets[r] : offsets[r + 1]]]
                )
                for r in range(line, line + n_rings)
            ]
            polygon_objects.append(obj_index)
            polygon_shapes.append(shapely.Polygon(rings_xy[0], rings_xy[1:]))
            line += n_rings
        self._polygon_objects = np.asarray(polygon_objects, dtype=np.intp)
        self._polygon_tree = shapely.STRtree(polygon_shapes) if polygon_shapes else None

    def _build_groups(self) -> None:
        obj = self._v_obj
        line_extra = np.where(self._v_point, 0.0, SEGMENT_M)
        reach = self._radius[obj] + self._tol[obj] + line_extra
        band = np.ceil(np.log2(np.maximum(reach, _BAND_BASE_M) / _BAND_BASE_M)).astype(np.int64)
        timed = ~np.isnan(self._v_time)
        bucket = np.full(obj.size, -1, dtype=np.int64)
        bucket[timed] = np.floor(self._v_time[timed] / TIME_BUCKET_S).astype(np.int64)
        # The longest time a flight leg takes: a leg overlapping a window starts at most
        # this long before the window opens.
        leg_s = np.zeros(obj.size)
        leg_start = np.flatnonzero(self._v_next & timed)
        leg_s[leg_start] = self._v_time[leg_start + 1] - self._v_time[leg_start]
        self._max_leg_s = float(leg_s.max()) if leg_s.size else 0.0
        xyz = ecef(self._v_lon, self._v_lat)
        key = band * (1 << 32) + (bucket + 1)
        groups: list[_Group] = []
        order = np.argsort(key, kind="stable")
        keys_sorted = key[order]
        cuts = np.flatnonzero(np.diff(keys_sorted)) + 1
        for members in np.split(order, cuts):
            if not members.size:
                continue
            members = np.sort(members).astype(np.intp)
            b = int(bucket[members[0]])
            groups.append(
                _Group(
                    tree=cKDTree(
                        xyz[members], leafsize=16, balanced_tree=False, compact_nodes=False
                    ),
                    vertices=members,
                    reach_m=float(reach[members].max()),
                    bucket=None if b < 0 else b,
                )
            )
        self._groups = tuple(groups)
        self._untimed_groups = tuple(g for g in groups if g.bucket is None)
        self._timed_groups: dict[int, list[_Group]] = {}
        for g in groups:
            if g.bucket is not None:
                self._timed_groups.setdefault(g.bucket, []).append(g)

    # --- querying ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._objects)

    def _frame(self, op: Operation) -> _Frame:
        geom = op.geometry
        t0, t1 = op.window_start.timestamp(), op.window_end.timestamp()
        if geom.geom_type == "Point":
            lon, lat = float(geom.x), float(geom.y)
            return _Frame(
                lon=lon,
                lat=lat,
                center_xyz=_ecef_point(lon, lat),
                extent_m=op.radius_m,
                radius_m=op.radius_m,
                polygon=None,
                edges=None,
                probe=geom,
                t0=t0,
                t1=t1,
            )
        centroid = geom.centroid
        lon, lat = float(centroid.x), float(centroid.y)
        rings = [geom.exterior, *geom.interiors]
        coords = shapely.get_coordinates(rings)
        sizes = [len(r.coords) for r in rings]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        rlon, rlat, _, offsets = densify_lines(coords[:, 0], coords[:, 1], offsets, SEGMENT_M)
        x, y = local_xy(lon, lat, rlon, rlat)
        pts = np.column_stack([x, y])
        planar_rings = [pts[offsets[i] : offsets[i + 1]] for i in range(len(rings))]
        not_last = np.ones(x.size, dtype=np.bool_)
        not_last[offsets[1:] - 1] = False
        a = np.flatnonzero(not_last)
        return _Frame(
            lon=lon,
            lat=lat,
            center_xyz=_ecef_point(lon, lat),
            extent_m=float(np.hypot(x, y).max()),
            radius_m=0.0,
            polygon=shapely.Polygon(planar_rings[0], planar_rings[1:]),
            edges=np.column_stack([x[a], y[a], x[a + 1], y[a + 1]]),
            probe=shapely.Point(geom.exterior.coords[0]),
            t0=t0,
            t1=t1,
        )

    def _candidate_vertices(self, frame: _Frame, margin_m: float) -> IntArray:
        groups: list[_Group] = list(self._untimed_groups)
        if self._timed_groups:
            first = math.floor((frame.t0 - self._max_leg_s) / TIME_BUCKET_S)
            last = math.floor(frame.t1 / TIME_BUCKET_S)
            if last - first < len(self._timed_groups):
                for bucket in range(first, last + 1):
                    groups.extend(self._timed_groups.get(bucket, ()))
            else:
                groups.extend(
                    g for b, gs in self._timed_groups.items() if first <= b <= last for g in gs
                )
        hits: list[IntArray] = []
        reach = frame.extent_m + margin_m
        center = frame.center_xyz
        for group in groups:
            found = group.tree.query_ball_point(center, reach + group.reach_m, return_sorted=False)
            if found:
                hits.append(group.vertices[found])
        if not hits:
            return np.empty(0, dtype=np.intp)
        return np.concatenate(hits) if len(hits) > 1 else hits[0]

    def check(self, op: Operation, *, use_index: bool = True) -> OperationCheck:
        """Every conflict of ``op`` with the indexed objects (``op`` itself excluded).

        ``use_index=False`` scans every object instead of asking the spatial index: the
        brute-force answer the index must equal.
        """
        frame = self._frame(op)
        verts = (
            self._candidate_vertices(frame, op.uncertainty_m) if use_index else self._all_vertices
        )
        self_pos = self._position_of.get(op.id, -1)
        objs = self._v_obj[verts]
        keep = (self._t0[objs] <= frame.t1) & (self._t1[objs] >= frame.t0)
        if self_pos >= 0:
            keep &= objs != self_pos
        verts = verts[keep]
        is_point = self._v_point[verts]
        point_v = verts[is_point]
        line_v = verts[~is_point]
        if line_v.size:
            # Legs starting at a hit vertex or at the one before it (index -1 wraps to the
            # last vertex, which always ends its line, so it is never taken).
            starts = np.concatenate((line_v, line_v - 1))
            seg_a = np.unique(starts[self._v_next[starts]])
        else:
            seg_a = np.empty(0, dtype=np.intp)
        inside = self._containing(frame, self_pos)
        if not (point_v.size or seg_a.size or inside.size):
            return OperationCheck(op, ())
        point_obj, point_d, seg_obj, seg_d = self._piece_distances(frame, point_v, seg_a)
        # A point object is one piece; a line object the minimum over its legs.
        if seg_obj.size:
            order = np.lexsort((seg_d, seg_obj))
            seg_obj, seg_d = seg_obj[order], seg_d[order]
            first = np.empty(seg_obj.size, dtype=np.bool_)
            first[0] = True
            np.not_equal(seg_obj[1:], seg_obj[:-1], out=first[1:])
            objs = np.concatenate((point_obj, seg_obj[first]))
            raw = np.concatenate((point_d, seg_d[first]))
        else:
            objs, raw = point_obj, point_d
        if inside.size:
            objs, where = np.unique(np.concatenate((objs, inside)), return_inverse=True)
            merged = np.full(objs.size, math.inf)
            np.minimum.at(merged, where, np.concatenate((raw, np.zeros(inside.size))))
            raw = merged
        return OperationCheck(op, self._conflicts(op, objs, raw, frame.t0))

    def _piece_distances(
        self, frame: _Frame, point_v: IntArray, seg_a: IntArray
    ) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
        """Distances from the operation's area to point vertices and to legs."""
        n_p = point_v.size
        if seg_a.size:
            seg_verts = np.unique(np.concatenate((seg_a, seg_a + 1)))
            all_v = np.concatenate((point_v, seg_verts))
        else:
            seg_verts = seg_a
            all_v = point_v
        x, y = local_xy(frame.lon, frame.lat, self._v_lon[all_v], self._v_lat[all_v])
        px, py = x[:n_p], y[:n_p]
        # seg_a + 1 follows seg_a in the sorted, gap-free run of leg vertices.
        ia = np.searchsorted(seg_verts, seg_a) + n_p
        ib = ia + 1
        ax, ay, bx, by = x[ia], y[ia], x[ib], y[ib]
        seg_obj = self._v_obj[seg_a]
        if seg_a.size:
            # Flight legs: keep only the part flown inside the operation's window.
            ta = self._v_time[seg_a]
            timed = ~np.isnan(ta)
            if timed.any():
                tb = self._v_time[seg_a + 1]
                lo = np.maximum(ta, frame.t0)
                hi = np.minimum(tb, frame.t1)
                flown = ~timed | (lo <= hi)
                with np.errstate(invalid="ignore", divide="ignore"):
                    fa = np.where(timed, (lo - ta) / (tb - ta), 0.0)
                    fb = np.where(timed, (hi - ta) / (tb - ta), 1.0)
                dx, dy = bx - ax, by - ay
                ax, ay, bx, by = ax + fa * dx, ay + fa * dy, ax + fb * dx, ay + fb * dy
                ax, ay, bx, by = ax[flown], ay[flown], bx[flown], by[flown]
                seg_obj = seg_obj[flown]
        d_pts, d_segs = self._distances(frame, px, py, ax, ay, bx, by)
        return self._v_obj[point_v], d_pts, seg_obj, d_segs

    @staticmethod
    def _distances(
        frame: _Frame,
        px: FloatArray,
        py: FloatArray,
        ax: FloatArray,
        ay: FloatArray,
        bx: FloatArray,
        by: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """Planar distances from the operation's area to points and to segments."""
        if frame.polygon is None or frame.edges is None:
            d_pts = np.hypot(px, py) - frame.radius_m
            zero = np.zeros(1)
            d_segs = point_segment_distance(zero, zero, ax, ay, bx, by) - frame.radius_m
            return d_pts, d_segs
        e = frame.edges
        eax, eay, ebx, eby = e[:, 0], e[:, 1], e[:, 2], e[:, 3]
        if px.size:
            d_pts = point_segment_distance(px[:, None], py[:, None], eax, eay, ebx, eby).min(axis=1)
            d_pts[shapely.contains_xy(frame.polygon, px, py)] = 0.0
        else:
            d_pts = np.empty(0)
        if ax.size:
            d_segs = segment_segment_distance(
                ax[:, None], ay[:, None], bx[:, None], by[:, None], eax, eay, ebx, eby
            ).min(axis=1)
            inside = shapely.contains_xy(frame.polygon, ax, ay) | shapely.contains_xy(
                frame.polygon, bx, by
            )
            d_segs[inside] = 0.0
        else:
            d_segs = np.empty(0)
        return d_pts, d_segs

    def _containing(self, frame: _Frame, self_pos: int) -> IntArray:
        """Polygon objects that contain a point of the operation's area, in time."""
        if self._polygon_tree is None:
            return np.empty(0, dtype=np.intp)
        found = self._polygon_tree.query(frame.probe, predicate="within")
        objs = self._polygon_objects[found]
        keep = (self._t0[objs] <= frame.t1) & (self._t1[objs] >= frame.t0) & (objs != self_pos)
        return np.asarray(objs[keep], dtype=np.intp)

    def _conflicts(
        self, op: Operation, objs: IntArray, raw: FloatArray, start: float
    ) -> tuple[Conflict, ...]:
        """Conflicts from per-object minimum distances (``objs`` unique)."""
        dist = np.maximum(raw - self._radius[objs], 0.0)
        threshold = self._tol[objs] + op.uncertainty_m
        hit = dist <= threshold
        if not hit.any():
            return ()
        objs, dist, threshold = objs[hit], dist[hit], threshold[hit]
        kinds = self._kind[objs]
        blocking = self._blocking[kinds]
        order = np.lexsort((objs, dist, ~blocking))
        objs, dist, threshold = objs[order], dist[order], threshold[order]
        kinds, blocking = kinds[order], blocking[order]
        stale = (kinds == _SITE) & ~(self._confirmed[objs] >= start - self._reconfirm_s)
        ids, owners = self._ids, self._owner
        obj_list = objs.tolist()
        n = len(obj_list)
        columns = zip(
            [op.id] * n,
            [_KINDS[k] for k in kinds.tolist()],
            [ids[o] for o in obj_list],
            [owners[o] for o in obj_list],
            dist.tolist(),
            threshold.tolist(),
            blocking.tolist(),
            [_DISCLOSURE[c] for c in self._center[objs].tolist()],
            stale.tolist(),
            strict=True,
        )
        return tuple(map(Conflict._make, columns))

    def check_all(self, operations: Iterable[Operation] | None = None) -> list[OperationCheck]:
        """Check each operation (by default every operation in the world)."""
        ops = (
            [o for o in self._objects if isinstance(o, Operation)]
            if operations is None
            else list(operations)
        )
        return [self.check(op) for op in ops]
