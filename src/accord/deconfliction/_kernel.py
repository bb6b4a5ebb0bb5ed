"""Compiled inner loops of the deconfliction engine (numba).

Everything here works on plain arrays prepared by :mod:`accord.deconfliction.engine`; the
meaning of each array is documented there. Two kernels:

* :func:`cell_keys` packs ECEF cell coordinates into sortable integer keys (index build);
* :func:`check_kernel` answers one operation: it scans the grid cells near the operation,
  keeps vertices within reach and in time, turns them into pieces (points and legs), measures
  each piece's distance to the operation's area in a local azimuthal-equidistant frame, keeps
  the minimum per object and returns the objects within their threshold.

The local frame (see :class:`accord.geo.LocalFrame`): a point at chord ``c`` from the origin
lies at the arc ``c + c³/24R² + 3c⁵/640R⁴`` along the chord's azimuth on the origin's tangent
plane, ``R`` the radius of curvature in that azimuth (Euler: ``1/R = cos²α/M + sin²α/N``).
Within 500 km this is within 0.3 m of the geodesic distance.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

_OFFSET = 1 << 20
_BITS = 21

EDGE_CHUNK = 16
"""Consecutive polygon edges grouped under one bounding box: a piece far from a box, or a
ray that misses it, skips its edges (see :func:`edge_boxes`)."""


def edge_boxes(edges: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Bounding boxes (min x, min y, max x, max y) of each :data:`EDGE_CHUNK` consecutive
    edges: a polygon's cost per piece becomes about the boxes plus the edges of the few
    boxes near the piece, instead of every edge (a polygon's consecutive edges lie close
    together)."""
    if not edges.shape[0]:
        return np.zeros((0, 4))
    starts = np.arange(0, edges.shape[0], EDGE_CHUNK)
    lo_x = np.minimum(edges[:, 0], edges[:, 2])
    lo_y = np.minimum(edges[:, 1], edges[:, 3])
    hi_x = np.maximum(edges[:, 0], edges[:, 2])
    hi_y = np.maximum(edges[:, 1], edges[:, 3])
    return np.ascontiguousarray(
        np.column_stack(
            [
                np.minimum.reduceat(lo_x, starts),
                np.minimum.reduceat(lo_y, starts),
                np.maximum.reduceat(hi_x, starts),
                np.maximum.reduceat(hi_y, starts),
            ]
        )
    )


@njit(cache=True, nogil=True)
def cell_keys(xyz, cell_size):  # type: ignore[no-untyped-def]
    """Integer keys of the ECEF cells of side ``cell_size[i]`` holding each point."""
    n = xyz.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = cell_size[i]
        ix = np.int64(math.floor(xyz[i, 0] / c)) + _OFFSET
        iy = np.int64(math.floor(xyz[i, 1] / c)) + _OFFSET
        iz = np.int64(math.floor(xyz[i, 2] / c)) + _OFFSET
        out[i] = (ix << (2 * _BITS)) | (iy << _BITS) | iz
    return out


@njit(cache=True, nogil=True, inline="always")
def _local(px, py, pz, ox, oy, oz, ex, ey, nx, ny, nz, inv_m, inv_n):  # type: ignore[no-untyped-def]
    dx, dy, dz = px - ox, py - oy, pz - oz
    e = dx * ex + dy * ey
    n = dx * nx + dy * ny + dz * nz
    c2 = dx * dx + dy * dy + dz * dz
    h2 = e * e + n * n
    if h2 <= 0.0:
        return 0.0, 0.0
    k = (n * n * inv_m + e * e * inv_n) / h2
    q = c2 * k * k
    scale = math.sqrt(c2 / h2) * (1.0 + q / 24.0 + 3.0 * q * q / 640.0)
    return e * scale, n * scale


@njit(cache=True, nogil=True, inline="always")
def _point_segment(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = 0.0
    if len2 > 0.0:
        t = ((px - ax) * dx + (py - ay) * dy) / len2
        t = min(max(t, 0.0), 1.0)
    qx, qy = ax + t * dx - px, ay + t * dy - py
    return math.sqrt(qx * qx + qy * qy)


@njit(cache=True, nogil=True, inline="always")
def _orient(ax, ay, bx, by, cx, cy):  # type: ignore[no-untyped-def]
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@njit(cache=True, nogil=True)
def _inside(x, y, edges, boxes):  # type: ignore[no-untyped-def]
    """Even-odd rule over every ring's edges (holes included), the ray going towards +x; a
    box the ray cannot meet (wholly below, above, or left of the point) is skipped."""
    inside = False
    n = edges.shape[0]
    for c in range(boxes.shape[0]):
        if y < boxes[c, 1] or y >= boxes[c, 3] or x >= boxes[c, 2]:
            continue  # no edge of the box spans y, or every crossing lies left of x
        for j in range(c * EDGE_CHUNK, min((c + 1) * EDGE_CHUNK, n)):
            ax, ay, bx, by = edges[j, 0], edges[j, 1], edges[j, 2], edges[j, 3]
            if (ay > y) != (by > y):
                xc = ax + (y - ay) * (bx - ax) / (by - ay)
                if x < xc:
                    inside = not inside
    return inside


@njit(cache=True, nogil=True)
def _polygon_distance(ax, ay, bx, by, edges, boxes, bound):  # type: ignore[no-untyped-def]
    """Distance from segment A-B to a polygon given by its edges (0 inside or crossing),
    exact when it is under ``bound``; ``inf`` when it is not. The edges of a box no nearer
    than the best distance so far are skipped (a box's distance is a lower bound of its
    edges')."""
    if _inside(ax, ay, edges, boxes) or _inside(bx, by, edges, boxes):
        return 0.0
    best = bound
    lo_x, hi_x = min(ax, bx), max(ax, bx)
    lo_y, hi_y = min(ay, by), max(ay, by)
    n = edges.shape[0]
    for c in range(boxes.shape[0]):
        gap_x = max(0.0, boxes[c, 0] - hi_x, lo_x - boxes[c, 2])
        gap_y = max(0.0, boxes[c, 1] - hi_y, lo_y - boxes[c, 3])
        if gap_x * gap_x + gap_y * gap_y >= best * best:
            continue
        for j in range(c * EDGE_CHUNK, min((c + 1) * EDGE_CHUNK, n)):
            best = _edge_distance(ax, ay, bx, by, edges, j, best)
            if best == 0.0:
                return 0.0
    return best if best < bound else math.inf


@njit(cache=True, nogil=True, inline="always")
def _edge_distance(ax, ay, bx, by, edges, j, best):  # type: ignore[no-untyped-def]
    """min(best, the distance from segment A-B to edge j) (0 when they cross)."""
    cx, cy, dx, dy = edges[j, 0], edges[j, 1], edges[j, 2], edges[j, 3]
    o1 = _orient(ax, ay, bx, by, cx, cy)
    o2 = _orient(ax, ay, bx, by, dx, dy)
    o3 = _orient(cx, cy, dx, dy, ax, ay)
    o4 = _orient(cx, cy, dx, dy, bx, by)
    if o1 * o2 < 0.0 and o3 * o4 < 0.0:
        return 0.0
    d = min(
        _point_segment(ax, ay, cx, cy, dx, dy),
        _point_segment(bx, by, cx, cy, dx, dy),
        _point_segment(cx, cy, ax, ay, bx, by),
        _point_segment(dx, dy, ax, ay, bx, by),
    )
    return min(best, d)


@njit(cache=True, nogil=True)
def check_kernel(  # type: ignore[no-untyped-def]
    # the operation
    frame,  # float64[13]: ox, oy, oz, ex, ey, nx, ny, nz, inv_m, inv_n, radius, t0, t1
    extent,  # farthest point of the area from the origin (m)
    margin,  # the operation's declared uncertainty (m)
    edges,  # (E, 4) polygon edges in the local frame; E == 0 for a circle
    boxes,  # (ceil(E / EDGE_CHUNK), 4) bounding boxes of the edges (edge_boxes)
    self_obj,  # the operation's own object index, or -1
    contained,  # objects containing the operation (distance 0)
    scan_all,  # True: every vertex (brute force); False: the grid
    # the grid
    groups,  # group ids to search
    group_cell,
    group_reach,
    group_lo,
    group_hi,
    keys,
    key_start,
    key_end,
    cell_vertices,
    # vertices
    v_xyz,
    v_time,
    v_obj,
    v_next,
    v_point,
    v_reach,
    # objects
    o_t0,
    o_t1,
    o_radius,
    o_tol,
):
    """Objects within threshold of the operation: (objects, distances, thresholds)."""
    ox, oy, oz = frame[0], frame[1], frame[2]
    ex, ey, nx, ny, nz = frame[3], frame[4], frame[5], frame[6], frame[7]
    inv_m, inv_n, radius, t0, t1 = frame[8], frame[9], frame[10], frame[11], frame[12]
    polygon = edges.shape[0] > 0

    # A polygon: each piece is measured only below the nearest its object has come so far
    # and below the object's threshold (a little over): the rest cannot change the answer,
    # and a piece of an object already at 0 is not measured at all, nor its vertices taken
    # as candidates (many polygons stacked under the area cost a read per vertex, no more).
    obj_best = np.full(o_t0.shape[0] if polygon else 0, math.inf)
    if polygon:
        for j in range(contained.shape[0]):
            obj_best[contained[j]] = 0.0  # it meets the area: 0, whatever its pieces say

    # 1. Candidate vertices: within reach (chord, conservative) and in time.
    cap = 256
    hits = np.empty(cap, dtype=np.int64)
    n_hits = 0
    reach0 = extent + margin
    if scan_all:
        n_hits = v_obj.shape[0]
        hits = np.arange(n_hits).astype(np.int64)
    else:
        for gi in range(groups.shape[0]):
            g = groups[gi]
            c = group_cell[g]
            r = reach0 + group_reach[g]
            x0 = np.int64(math.floor((ox - r) / c)) + _OFFSET
            x1 = np.int64(math.floor((ox + r) / c)) + _OFFSET
            y0 = np.int64(math.floor((oy - r) / c)) + _OFFSET
            y1 = np.int64(math.floor((oy + r) / c)) + _OFFSET
            z0 = np.int64(math.floor((oz - r) / c)) + _OFFSET
            z1 = np.int64(math.floor((oz + r) / c)) + _OFFSET
            lo, hi = group_lo[g], group_hi[g]
            for ix in range(x0, x1 + 1):
                for iy in range(y0, y1 + 1):
                    base = (ix << (2 * _BITS)) | (iy << _BITS)
                    # cells of one (ix, iy) column are consecutive in key order
                    k0 = np.searchsorted(keys[lo:hi], base | z0) + lo
                    k = k0
                    while k < hi and keys[k] <= (base | z1):
                        for p in range(key_start[k], key_end[k]):
                            v = cell_vertices[p]
                            if polygon and obj_best[v_obj[v]] == 0.0:
                                continue
                            dx = v_xyz[v, 0] - ox
                            dy = v_xyz[v, 1] - oy
                            dz = v_xyz[v, 2] - oz
                            lim = reach0 + v_reach[v]
                            if dx * dx + dy * dy + dz * dz <= lim * lim:
                                if n_hits == cap:
                                    cap *= 2
                                    grown = np.empty(cap, dtype=np.int64)
                                    grown[:n_hits] = hits[:n_hits]
                                    hits = grown
                                hits[n_hits] = v
                                n_hits += 1
                        k += 1

    # 2. Pieces: a point is the segment A-A; a line vertex gives the legs on either side
    # (none for an object already at 0).
    piece_a = np.empty(2 * n_hits + contained.shape[0], dtype=np.int64)
    piece_b = np.empty_like(piece_a)
    n_pieces = 0
    for i in range(n_hits):
        v = hits[i]
        o = v_obj[v]
        if o == self_obj or o_t0[o] > t1 or o_t1[o] < t0 or (polygon and obj_best[o] == 0.0):
            continue
        if v_point[v]:
            piece_a[n_pieces] = v
            piece_b[n_pieces] = v
            n_pieces += 1
            continue
        if v_next[v]:
            piece_a[n_pieces] = v
            piece_b[n_pieces] = v + 1
            n_pieces += 1
        if v > 0 and v_next[v - 1]:
            piece_a[n_pieces] = v - 1
            piece_b[n_pieces] = v
            n_pieces += 1

    # 3. Distance of each piece to the operation's area.
    piece_obj = np.empty(n_pieces + contained.shape[0], dtype=np.int64)
    piece_d = np.empty(n_pieces + contained.shape[0])
    for i in range(n_pieces):
        a, b = piece_a[i], piece_b[i]
        o = v_obj[a]
        piece_obj[i] = o
        if polygon:
            bound = min(obj_best[o], (o_tol[o] + margin + o_radius[o]) * (1.0 + 1e-9) + 1e-3)
            if bound <= 0.0:
                piece_d[i] = math.inf
                continue
        ax, ay = _local(
            v_xyz[a, 0], v_xyz[a, 1], v_xyz[a, 2], ox, oy, oz, ex, ey, nx, ny, nz, inv_m, inv_n
        )
        if a == b:
            bx, by = ax, ay
        else:
            bx, by = _local(
                v_xyz[b, 0],
                v_xyz[b, 1],
                v_xyz[b, 2],
                ox,
                oy,
                oz,
                ex,
                ey,
                nx,
                ny,
                nz,
                inv_m,
                inv_n,
            )
        ta = v_time[a]
        d = math.inf
        flown = True
        if not math.isnan(ta):
            # A flight leg: keep the part flown inside the operation's window.
            tb = v_time[b]
            lo_t, hi_t = max(ta, t0), min(tb, t1)
            if lo_t > hi_t:
                flown = False
            elif tb > ta:
                fa, fb = (lo_t - ta) / (tb - ta), (hi_t - ta) / (tb - ta)
                dx, dy = bx - ax, by - ay
                ax, ay, bx, by = ax + fa * dx, ay + fa * dy, ax + fb * dx, ay + fb * dy
        if flown:
            if polygon:
                d = _polygon_distance(ax, ay, bx, by, edges, boxes, bound)
                if d < obj_best[o]:
                    obj_best[o] = d
            else:
                d = _point_segment(0.0, 0.0, ax, ay, bx, by) - radius
        piece_d[i] = d
    n_total = n_pieces
    for j in range(contained.shape[0]):
        o = contained[j]
        if o != self_obj and o_t0[o] <= t1 and o_t1[o] >= t0:
            piece_obj[n_total] = o
            piece_d[n_total] = 0.0
            n_total += 1

    # 4. Minimum per object, then the threshold.
    out_obj = np.empty(n_total, dtype=np.int64)
    out_d = np.empty(n_total)
    out_t = np.empty(n_total)
    n_out = 0
    if polygon:
        # The minimum per object is obj_best already (pieces not measured could not lower
        # it): one pass, each object once (marked -1 when done), no sort of the pieces.
        for j in range(n_total):
            o = piece_obj[j]
            best = obj_best[o]
            if best < 0.0:
                continue
            obj_best[o] = -1.0
            if best == math.inf:
                continue
            dist = max(best - o_radius[o], 0.0)
            threshold = o_tol[o] + margin
            if dist <= threshold:
                out_obj[n_out] = o
                out_d[n_out] = dist
                out_t[n_out] = threshold
                n_out += 1
        return out_obj[:n_out], out_d[:n_out], out_t[:n_out]
    order = np.argsort(piece_obj[:n_total], kind="mergesort")
    i = 0
    while i < n_total:
        o = piece_obj[order[i]]
        best = piece_d[order[i]]
        i += 1
        while i < n_total and piece_obj[order[i]] == o:
            best = min(best, piece_d[order[i]])
            i += 1
        dist = max(best - o_radius[o], 0.0)
        threshold = o_tol[o] + margin
        if dist <= threshold:
            out_obj[n_out] = o
            out_d[n_out] = dist
            out_t[n_out] = threshold
            n_out += 1
    return out_obj[:n_out], out_d[:n_out], out_t[:n_out]
