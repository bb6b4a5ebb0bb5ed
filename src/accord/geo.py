"""Geodesy on the WGS84 ellipsoid, vectorised over numpy arrays.

Distances are geodesic (Karney's algorithm, through :class:`pyproj.Geod`). Two tools carry the
deconfliction engine:

* :func:`ecef` maps longitude/latitude to Earth-centred Cartesian metres. The straight-line
  (chord) distance there is never longer than the geodesic, so a k-d tree over ECEF points
  answers "everything within D metres" conservatively: nothing within D is ever missed.
* :func:`local_xy` gives azimuthal-equidistant coordinates around a reference point from one
  vectorised inverse-geodesic call: the distance of every point from the reference is exact,
  and distances between nearby points are exact to a relative error of about
  ρ²/6R² (ρ the distance from the reference; 10⁻⁵ at 50 km).

>>> round(geodesic_distance(0.0, 0.0, 1.0, 0.0), 3)
111319.491
>>> x, y = local_xy(0.0, 0.0, np.array([0.0]), np.array([1.0]))
>>> round(float(y[0]))
110574
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pyproj import Geod

__all__ = [
    "GEOD",
    "WGS84_A",
    "WGS84_F",
    "densify",
    "densify_lines",
    "ecef",
    "geodesic_distance",
    "local_xy",
    "point_segment_distance",
    "segment_segment_distance",
    "segments_intersect",
]

Array = npt.NDArray[np.float64]

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563
_E2 = WGS84_F * (2.0 - WGS84_F)

GEOD = Geod(ellps="WGS84")


def geodesic_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres between two points on WGS84."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def ecef(lon: npt.ArrayLike, lat: npt.ArrayLike, height: npt.ArrayLike = 0.0) -> Array:
    """Earth-centred, Earth-fixed coordinates (metres), shape ``(n, 3)``.

    >>> p = ecef([0.0], [0.0])
    >>> p.tolist()
    [[6378137.0, 0.0, 0.0]]
    """
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    h = np.asarray(height, dtype=np.float64)
    sin_phi = np.sin(phi)
    cos_phi = np.cos(phi)
    n = WGS84_A / np.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    x = (n + h) * cos_phi * np.cos(lam)
    y = (n + h) * cos_phi * np.sin(lam)
    z = (n * (1.0 - _E2) + h) * sin_phi
    return np.column_stack(np.broadcast_arrays(x, y, z)).astype(np.float64)


def local_xy(lon0: float, lat0: float, lon: Array, lat: Array) -> tuple[Array, Array]:
    """Azimuthal-equidistant (x east, y north) metres of points around ``(lon0, lat0)``.

    One inverse-geodesic call per point: the radial distance is the exact geodesic distance
    and the azimuth the exact initial azimuth.
    """
    n = lon.shape[0]
    if n == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty.copy()
    az, _, dist = GEOD.inv(np.full(n, lon0), np.full(n, lat0), lon, lat)
    theta = np.radians(np.asarray(az, dtype=np.float64))
    d = np.asarray(dist, dtype=np.float64)
    return d * np.sin(theta), d * np.cos(theta)


def densify(lon: Array, lat: Array, max_segment_m: float) -> tuple[Array, Array]:
    """Insert points along each geodesic leg so that no leg is longer than ``max_segment_m``.

    The original vertices are kept; inserted points lie exactly on the geodesic.

    >>> lo, la = densify(np.array([0.0, 0.0]), np.array([0.0, 1.0]), 50_000.0)
    >>> len(lo)
    4
    """
    if lon.shape[0] < 2:
        return lon.astype(np.float64), lat.astype(np.float64)
    _, _, legs = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    legs = np.asarray(legs, dtype=np.float64)
    counts = np.ceil(legs / max_segment_m).astype(np.int64) - 1
    if not np.any(counts > 0):
        return lon.astype(np.float64), lat.astype(np.float64)
    out_lon: list[float] = []
    out_lat: list[float] = []
    for i in range(lon.shape[0] - 1):
        out_lon.append(float(lon[i]))
        out_lat.append(float(lat[i]))
        if counts[i] > 0:
            pts = GEOD.npts(lon[i], lat[i], lon[i + 1], lat[i + 1], int(counts[i]))
            for plon, plat in pts:
                out_lon.append(plon)
                out_lat.append(plat)
    out_lon.append(float(lon[-1]))
    out_lat.append(float(lat[-1]))
    return np.asarray(out_lon), np.asarray(out_lat)


def densify_lines(
    lon: Array,
    lat: Array,
    offsets: npt.NDArray[np.intp],
    max_segment_m: float,
    times: Array | None = None,
) -> tuple[Array, Array, Array | None, npt.NDArray[np.intp]]:
    """Densify many lines at once (vectorised): no leg longer than ``max_segment_m``.

    The lines are concatenated in ``lon``/``lat``; line ``i`` is ``offsets[i]:offsets[i+1]``.
    Inserted points lie exactly on each geodesic leg (``Geod.fwd`` along the initial
    azimuth); with ``times`` (one per vertex), inserted points get times interpolated
    linearly along the leg. Returns the new arrays and the new offsets.

    >>> lon, lat, _, off = densify_lines(np.array([0.0, 0.0, 5.0, 5.0]),
    ...     np.array([0.0, 1.0, 0.0, 0.001]), np.array([0, 2, 4]), 50_000.0)
    >>> off.tolist(), len(lon)
    ([0, 4, 6], 6)
    """
    n = lon.shape[0]
    offsets = np.asarray(offsets, dtype=np.intp)
    is_last = np.zeros(n, dtype=np.bool_)
    is_last[offsets[1:] - 1] = True
    leg = np.flatnonzero(~is_last)  # vertices that start a leg
    az, _, length = GEOD.inv(lon[leg], lat[leg], lon[leg + 1], lat[leg + 1])
    length = np.asarray(length, dtype=np.float64)
    parts = np.maximum(np.ceil(length / max_segment_m), 1.0).astype(np.intp)
    # Each vertex yields `parts` points if it starts a leg, else 1 (the end of its line).
    count = np.ones(n, dtype=np.intp)
    count[leg] = parts
    src = np.repeat(np.arange(n, dtype=np.intp), count)
    first = np.cumsum(count) - count
    k = np.arange(src.size, dtype=np.intp) - first[src]  # step along the leg, 0 at a vertex
    out_lon = lon[src].astype(np.float64)
    out_lat = lat[src].astype(np.float64)
    inner = np.flatnonzero(k > 0)
    leg_of = np.full(n, -1, dtype=np.intp)
    leg_of[leg] = np.arange(leg.size, dtype=np.intp)
    frac = np.zeros(src.size)
    if inner.size:
        li = leg_of[src[inner]]
        frac[inner] = k[inner] / parts[li]
        plon, plat, _ = GEOD.fwd(
            lon[src[inner]], lat[src[inner]], np.asarray(az)[li], frac[inner] * length[li]
        )
        out_lon[inner] = plon
        out_lat[inner] = plat
    out_t: Array | None = None
    if times is not None:
        out_t = times[src].astype(np.float64)
        if inner.size:
            s_in = src[inner]
            out_t[inner] += frac[inner] * (times[s_in + 1] - times[s_in])
    new_offsets = np.concatenate([[0], np.cumsum(count)[offsets[1:] - 1]]).astype(np.intp)
    return out_lon, out_lat, out_t, new_offsets


def point_segment_distance(
    px: Array, py: Array, ax: Array, ay: Array, bx: Array, by: Array
) -> Array:
    """Planar distance from points P to segments AB (numpy broadcasting).

    >>> float(point_segment_distance(np.array(0.), np.array(1.), np.array(-1.), np.array(0.),
    ...                              np.array(1.), np.array(0.)))
    1.0
    """
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0.0, ((px - ax) * dx + (py - ay) * dy) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.asarray(np.hypot(px - (ax + t * dx), py - (ay + t * dy)), dtype=np.float64)


def _orient(ax: Array, ay: Array, bx: Array, by: Array, cx: Array, cy: Array) -> Array:
    return np.asarray((bx - ax) * (cy - ay) - (by - ay) * (cx - ax), dtype=np.float64)


def segments_intersect(
    ax: Array, ay: Array, bx: Array, by: Array, cx: Array, cy: Array, dx: Array, dy: Array
) -> npt.NDArray[np.bool_]:
    """Whether segments AB and CD intersect or touch (numpy broadcasting)."""
    o1 = _orient(ax, ay, bx, by, cx, cy)
    o2 = _orient(ax, ay, bx, by, dx, dy)
    o3 = _orient(cx, cy, dx, dy, ax, ay)
    o4 = _orient(cx, cy, dx, dy, bx, by)
    proper = (o1 * o2 < 0.0) & (o3 * o4 < 0.0)
    # Collinear and touching cases are settled by the distance being zero elsewhere.
    return np.asarray(proper, dtype=np.bool_)


def segment_segment_distance(
    ax: Array, ay: Array, bx: Array, by: Array, cx: Array, cy: Array, dx: Array, dy: Array
) -> Array:
    """Planar distance between segments AB and CD (0 where they cross), with broadcasting."""
    d = np.minimum(
        np.minimum(
            point_segment_distance(ax, ay, cx, cy, dx, dy),
            point_segment_distance(bx, by, cx, cy, dx, dy),
        ),
        np.minimum(
            point_segment_distance(cx, cy, ax, ay, bx, by),
            point_segment_distance(dx, dy, ax, ay, bx, by),
        ),
    )
    return np.where(segments_intersect(ax, ay, bx, by, cx, cy, dx, dy), 0.0, d)
