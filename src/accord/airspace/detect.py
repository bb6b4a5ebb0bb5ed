"""Predicted losses of separation between aircraft: state-based conflict detection.

The definition is the state-based detection of air-traffic simulators (BlueSky's
``StateBased``): every pair is extrapolated in straight lines from its current state.

* **Frame.** For each pair, a local flat earth (equirectangular) centred between the two:
  ``dx = R·cos(φm)·Δλ`` east and ``dy = R·Δφ`` north, with ``φm`` the mean latitude of the
  two, ``Δλ`` wrapped to ±180° and ``R`` = 6,371 km — BlueSky's ``kwikqdrdist`` frame.
  Velocities are ground speed along the track angle (``u`` east, ``v`` north, m/s);
  altitude and vertical rate in feet and feet per minute. Like BlueSky's, the frame is
  poor within a few degrees of a pole (there distances across the pole come out too long).
* **Horizontal.** The closest point of approach (CPA) of the relative motion: ``tcpa``
  (seconds from now; negative when it is behind, the pair diverging) and ``dcpa`` (metres).
  When ``dcpa`` is below the horizontal minimum, the pair is horizontally inside it during
  ``(tcpa − Δ, tcpa + Δ)``; two aircraft with the same velocity stay at their present
  distance forever (so do two whose relative speed is under 1 µm/s).
* **Vertical.** The interval in which the altitude difference is below the vertical minimum
  (for the same vertical rate: always or never).
* **Conflict.** The two open intervals overlap, the overlap ``(tin, tout)`` starting before
  the look-ahead ends (``tin < T``) and ending after now (``tout > 0``). Separation is lost
  *now* when ``tin < 0``; the loss starts at ``max(tin, 0)``.

Separation is lost only strictly *below* a minimum: two level aircraft exactly 1,000 ft apart
are separated. Altitudes are whole feet and vertical rates whole feet per minute (see
:mod:`accord.airspace.tracks`), so for two aircraft with the same vertical rate the test is an
exact comparison of integers held in floating point, never a rounding accident.

**Speed.** :func:`detect_conflicts` tests only candidate pairs: each aircraft's motion over the
look-ahead is boxed (latitude, longitude, altitude; widened by half the minima and by the
largest east-west scale any partner's frame may use), the boxes are binned in a longitude ×
latitude grid, swept in altitude within each cell, and pairs of boxes sharing several cells
are counted once, in the cell holding the low corner of their intersection. Cost: about
linear in N at a given density (N times the aircraft near each one), with ~1.3 kB of working
memory per aircraft at theatre densities. A pair in conflict is always a candidate (its
relative position is within the minima at some instant of the look-ahead, which puts both
aircraft inside both boxes), and the exact test is the same code, on the same per-aircraft
values, as the all-pairs :func:`detect_conflicts_all_pairs`: the two return identical
results. Boxes crossing the longitude seam (placed in the widest gap between aircraft) and
boxes near a pole are tested against every aircraft directly.

>>> st = States.from_motion(lat=[25.0, 25.0], lon=[21.0, 21.5], alt_ft=[30000, 30000],
...                         gs_ms=[200.0, 200.0], track_deg=[90.0, 270.0], vs_fpm=[0, 0])
>>> found = detect_conflicts(st, Separation(horizontal_m=9260.0, vertical_ft=1000.0,
...                                         lookahead_s=300.0))
>>> [(int(a), int(b)) for a, b in zip(found.i, found.j)], round(float(found.tcpa_s[0]))
([(0, 1)], 126)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from accord.units import NM

if TYPE_CHECKING:
    from accord.agreement import AirspaceRules

__all__ = [
    "EARTH_RADIUS_M",
    "Conflicts",
    "Separation",
    "States",
    "candidate_bound",
    "detect_conflicts",
    "detect_conflicts_all_pairs",
]

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EARTH_RADIUS_M = 6371000.0
"""Radius of the spherical earth of the flat-earth frames (BlueSky's)."""
_DEG = math.pi / 180.0
_CHUNK = 1 << 21
"""Pairs given to the exact test at once (bounds the working memory)."""
_MARGIN_M = 1.0
_MARGIN_FT = 1e-3
_CELL_FACTOR = 1.5
_STILL = 1e-12
"""Squared relative speed (m²/s²) below which a pair keeps its distance (1 µm/s: 0.3 mm in
five minutes; and no overflow in the times of a pair that all but never meets)."""


@dataclass(frozen=True, slots=True)
class Separation:
    """The minima and look-ahead: horizontal metres, vertical feet, seconds."""

    horizontal_m: float
    vertical_ft: float
    lookahead_s: float

    def __post_init__(self) -> None:
        for name in ("horizontal_m", "vertical_ft", "lookahead_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"Separation.{name} must be a number, not {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"Separation.{name} must be a positive number, not {value!r}")
            object.__setattr__(self, name, float(value))  # an int given is the same minimum

    @classmethod
    def from_rules(cls, rules: AirspaceRules) -> Separation:
        """The agreement's airspace rules (nautical miles, feet, a duration)."""
        return cls(
            horizontal_m=float(rules.horizontal_nm) * NM,
            vertical_ft=float(rules.vertical_ft),
            lookahead_s=rules.lookahead.total_seconds(),
        )


def _column(values: npt.ArrayLike, n: int | None, name: str) -> Array:
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1 or (n is not None and array.shape[0] != n):
        raise ValueError(f"States.{name} must be one value per aircraft")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True, eq=False)
class States:
    """Aircraft states at one common instant, as columns (row ``k`` is one aircraft).

    ``lat``, ``lon`` degrees; ``alt_ft`` feet; ``u``, ``v`` east and north ground velocity
    (m/s); ``vs_fpm`` feet per minute. Build with :meth:`from_motion` from ground speed and
    track angle. ``cos_half`` and ``sin_half`` (of half the latitude) are derived: every pair's
    frame scale ``cos(φm)`` is ``cos_half[i]·cos_half[j] − sin_half[i]·sin_half[j]``, plain
    arithmetic, so the result of a pair never depends on which other pairs are computed with it.
    """

    lat: Array
    lon: Array
    alt_ft: Array
    u: Array
    v: Array
    vs_fpm: Array
    cos_half: Array = field(init=False)
    sin_half: Array = field(init=False)

    def __post_init__(self) -> None:
        n = None
        for name in ("lat", "lon", "alt_ft", "u", "v", "vs_fpm"):
            array = _column(getattr(self, name), n, name)
            n = array.shape[0]
            object.__setattr__(self, name, array)
        half = self.lat * (_DEG / 2.0)
        object.__setattr__(self, "cos_half", _column(np.cos(half), n, "lat"))
        object.__setattr__(self, "sin_half", _column(np.sin(half), n, "lat"))

    @classmethod
    def from_motion(
        cls,
        *,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        alt_ft: npt.ArrayLike,
        gs_ms: npt.ArrayLike,
        track_deg: npt.ArrayLike,
        vs_fpm: npt.ArrayLike,
    ) -> States:
        """States from ground speed (m/s) and true track angle (degrees)."""
        gs = np.asarray(gs_ms, dtype=np.float64)
        trk = np.asarray(track_deg, dtype=np.float64) * _DEG
        return cls(
            lat=np.asarray(lat, dtype=np.float64),
            lon=np.asarray(lon, dtype=np.float64),
            alt_ft=np.asarray(alt_ft, dtype=np.float64),
            u=gs * np.sin(trk),
            v=gs * np.cos(trk),
            vs_fpm=np.asarray(vs_fpm, dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(self.lat.shape[0])


_A = TypeVar("_A", bound=npt.NDArray[Any])


def _readonly(array: _A) -> _A:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True, eq=False)
class Conflicts:
    """Predicted losses of separation, one per pair ``(i[k], j[k])`` with ``i < j``, sorted.

    ``tcpa_s`` time to the closest point of approach (negative: behind, diverging);
    ``dcpa_m`` horizontal distance there; ``tlos_s`` time until separation is lost (0 when
    already lost); ``tend_s`` when the predicted loss ends (``inf``: never, on these states);
    ``lost`` whether separation is lost now. ``candidates`` is how many pairs the exact test
    saw. The arrays are read-only.
    """

    i: IntArray
    j: IntArray
    tcpa_s: Array
    dcpa_m: Array
    tlos_s: Array
    tend_s: Array
    lost: BoolArray
    candidates: int

    def __len__(self) -> int:
        return int(self.i.shape[0])

    def pairs(self) -> set[tuple[int, int]]:
        """The pairs as a set of ``(i, j)``."""
        return set(zip(self.i.tolist(), self.j.tolist(), strict=True))


def _exact(
    st: States, i: IntArray, j: IntArray, sep: Separation
) -> tuple[IntArray, Array, Array, Array, Array]:
    """The state-based test on pairs ``(i, j)``: which conflict (indices into ``i``, ``j``),
    and their tcpa, dcpa², tin, tout.

    Only correctly rounded arithmetic (``+ − × ÷ √``) on per-aircraft values, element by
    element: a pair's result is the same whichever pairs are computed beside it.
    """
    dlon = st.lon[j] - st.lon[i]
    dlon = np.where(dlon > 180.0, dlon - 360.0, np.where(dlon < -180.0, dlon + 360.0, dlon))
    scale = st.cos_half[i] * st.cos_half[j] - st.sin_half[i] * st.sin_half[j]
    return relative_test(
        dx=(EARTH_RADIUS_M * _DEG) * scale * dlon,
        dy=(EARTH_RADIUS_M * _DEG) * (st.lat[j] - st.lat[i]),
        du=st.u[j] - st.u[i],
        dv=st.v[j] - st.v[i],
        dz_ft=st.alt_ft[j] - st.alt_ft[i],
        dvs_fpm=st.vs_fpm[j] - st.vs_fpm[i],
        separation=sep,
        lookahead_s=sep.lookahead_s,
    )


def relative_test(
    *,
    dx: Array,
    dy: Array,
    du: Array,
    dv: Array,
    dz_ft: Array,
    dvs_fpm: Array,
    separation: Separation,
    lookahead_s: float | Array,
) -> tuple[IntArray, Array, Array, Array, Array]:
    """The state-based test on relative motions: which elements are conflicts (indices),
    and their tcpa, dcpa², tin and tout.

    ``dx``, ``dy`` (m) and ``du``, ``dv`` (m/s): the second aircraft's position and velocity
    relative to the first in their flat frame; ``dz_ft`` and ``dvs_fpm`` the same vertically.
    ``lookahead_s`` may differ per pair (the flight-plan probe's windows). The horizontal
    test runs first and the rest only on the pairs it keeps; each element's figures are the
    same whichever elements are computed beside it.
    """
    big = np.inf
    r2 = separation.horizontal_m * separation.horizontal_m
    h = separation.vertical_ft
    dv2 = du * du + dv * dv
    moving = dv2 > _STILL
    safe = np.where(moving, dv2, 1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cross = dx * dv - dy * du
        dcpa2 = np.where(moving, cross * cross / safe, dx * dx + dy * dy)
        near = np.flatnonzero(dcpa2 < r2)
        dx, dy, du, dv = dx[near], dy[near], du[near], dv[near]
        moving, safe, dcpa2 = moving[near], safe[near], dcpa2[near]
        dz_ft, dvs_fpm = dz_ft[near], dvs_fpm[near]
        if isinstance(lookahead_s, np.ndarray):  # one per pair; a number is everyone's
            lookahead_s = lookahead_s[near]
        tcpa = np.where(moving, -(dx * du + dy * dv) / safe, 0.0)
        half = np.sqrt((r2 - dcpa2) / safe)
        tin_h = np.where(moving, tcpa - half, -big)
        tout_h = np.where(moving, tcpa + half, big)
        level = dvs_fpm == 0.0
        inside = np.abs(dz_ft) < h
        rate = np.where(level, 1.0, dvs_fpm / 60.0)
        t1 = (-h - dz_ft) / rate
        t2 = (h - dz_ft) / rate
        tin_v = np.where(level, np.where(inside, -big, big), np.minimum(t1, t2))
        tout_v = np.where(level, np.where(inside, big, -big), np.maximum(t1, t2))
        tin = np.maximum(tin_h, tin_v)
        tout = np.minimum(tout_h, tout_v)
        keep = np.flatnonzero((tin < tout) & (tin < lookahead_s) & (tout > 0.0))
    return near[keep], tcpa[keep], dcpa2[keep], tin[keep], tout[keep]


def _conflicts(st: States, i: IntArray, j: IntArray, sep: Separation) -> Conflicts:
    """The exact test over candidate pairs (any order, ``i < j``), chunked; sorted result."""
    parts: list[tuple[IntArray, IntArray, Array, Array, Array, Array]] = []
    for start in range(0, i.shape[0], _CHUNK):
        ci, cj = i[start : start + _CHUNK], j[start : start + _CHUNK]
        keep, tcpa, dcpa2, tin, tout = _exact(st, ci, cj, sep)
        if keep.size:
            parts.append((ci[keep], cj[keep], tcpa, dcpa2, tin, tout))
    return _result(parts, int(i.shape[0]))


def _result(
    parts: list[tuple[IntArray, IntArray, Array, Array, Array, Array]], candidates: int
) -> Conflicts:
    if parts:
        ci, cj, tcpa, dcpa2, tin, tout = (np.concatenate(c) for c in zip(*parts, strict=True))
    else:
        ci = cj = np.empty(0, dtype=np.int64)
        tcpa = dcpa2 = tin = tout = np.empty(0, dtype=np.float64)
    order = np.lexsort((cj, ci))
    tin = tin[order]
    return Conflicts(
        i=_readonly(ci[order].astype(np.int64)),
        j=_readonly(cj[order].astype(np.int64)),
        tcpa_s=_readonly(tcpa[order]),
        dcpa_m=_readonly(np.sqrt(dcpa2[order])),
        tlos_s=_readonly(np.maximum(tin, 0.0)),
        tend_s=_readonly(tout[order]),
        lost=_readonly(tin < 0.0),
        candidates=candidates,
    )


def detect_conflicts_all_pairs(
    states: States, separation: Separation, *, chunk: int = _CHUNK
) -> Conflicts:
    """Every pair through the exact test (the oracle): O(n²) time, memory bounded by
    ``chunk`` pairs at once."""
    n = len(states)
    parts: list[tuple[IntArray, IntArray, Array, Array, Array, Array]] = []
    row = 0
    while row < n - 1:
        # rows row..end-1 hold at most ~chunk pairs (at least one row)
        end = row + 1
        count = n - 1 - row
        while end < n - 1 and count + (n - 1 - end) <= chunk:
            count += n - 1 - end
            end += 1
        rows = np.arange(row, end, dtype=np.int64)
        per_row = n - 1 - rows
        i = np.repeat(rows, per_row)
        first = np.cumsum(per_row) - per_row
        j = np.arange(i.shape[0], dtype=np.int64) - np.repeat(first, per_row) + i + 1
        keep, tcpa, dcpa2, tin, tout = _exact(states, i, j, separation)
        if keep.size:
            parts.append((i[keep], j[keep], tcpa, dcpa2, tin, tout))
        row = end
    return _result(parts, n * (n - 1) // 2)


def detect_conflicts(states: States, separation: Separation) -> Conflicts:
    """Every pair in conflict, through the grid prefilter (see the module docstring).

    Identical to :func:`detect_conflicts_all_pairs` (except ``candidates``).
    """
    i, j = candidate_pairs(states, separation)
    return _conflicts(states, i, j, separation)


@dataclass(frozen=True, slots=True)
class _Boxes:
    """Per aircraft, the box its motion over the look-ahead sweeps, widened by half the
    minima: ``x`` equatorial metres east of the seam, ``y`` metres north, ``z`` feet."""

    x0: Array
    x1: Array
    y0: Array
    y1: Array
    z0: Array
    z1: Array
    wrap: float  # the circumference in x
    seam: BoolArray  # boxes leaving [0, wrap): tested directly against everyone


def _boxes(st: States, sep: Separation) -> _Boxes:
    n = len(st)
    look = sep.lookahead_s
    pad = sep.horizontal_m / 2.0 * (1.0 + 1e-9) + _MARGIN_M
    gs = np.hypot(st.u, st.v)
    vmax = float(gs.max()) if n else 0.0
    # A partner whose box meets ours in latitude is within this many radians of latitude
    # of us ...
    reach = (sep.horizontal_m + 2.0 * vmax * look + 4.0 * _MARGIN_M) / EARTH_RADIUS_M
    # ... so the pair's mean latitude is within half of it, and its frame's east-west scale
    # cos(φm) is at least `lowest`.
    lat = np.radians(st.lat)
    lowest = np.cos(np.minimum(np.abs(lat) + reach / 2.0 * (1.0 + 1e-9), math.pi / 2.0))
    wrap = 2.0 * math.pi * EARTH_RADIUS_M
    lon = np.sort(st.lon % 360.0) if n else np.zeros(1)
    gaps = np.diff(np.concatenate([lon, [lon[0] + 360.0]]))
    k = int(np.argmax(gaps))
    seam_lon = lon[k] + gaps[k] / 2.0
    x = ((st.lon - seam_lon) % 360.0) * (EARTH_RADIUS_M * _DEG)
    y = lat * EARTH_RADIUS_M
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inv = 1.0 / lowest
        ux = st.u * look * inv
        x0 = x + np.minimum(ux, 0.0) - pad * inv - _MARGIN_M
        x1 = x + np.maximum(ux, 0.0) + pad * inv + _MARGIN_M
    vy = st.v * look
    dz = st.vs_fpm * (look / 60.0)
    hz = sep.vertical_ft / 2.0 * (1.0 + 1e-9) + _MARGIN_FT
    seam = ~(np.isfinite(x0) & np.isfinite(x1) & (x0 >= 0.0) & (x1 < wrap))
    return _Boxes(
        x0=np.where(np.isfinite(x0), x0, -np.inf),
        x1=np.where(np.isfinite(x1), x1, np.inf),
        y0=y + np.minimum(vy, 0.0) - pad,
        y1=y + np.maximum(vy, 0.0) + pad,
        z0=st.alt_ft + np.minimum(dz, 0.0) - hz,
        z1=st.alt_ft + np.maximum(dz, 0.0) + hz,
        wrap=wrap,
        seam=seam,
    )


def _cells(lo: Array, hi: Array, size: float, origin: float) -> tuple[IntArray, IntArray]:
    return (
        np.floor((lo - origin) / size).astype(np.int64),
        np.floor((hi - origin) / size).astype(np.int64),
    )


def _cell_size(extent: Array, span: float) -> float:
    """One and a half median box extents (most boxes span one or two cells; measured best
    between 1.3 and 2), and no more than about 10⁵ cells across the span."""
    size = float(np.median(extent)) * _CELL_FACTOR if extent.size else 1.0
    return max(size, span / 1.0e5, 1e-6)


def candidate_pairs(states: States, separation: Separation) -> tuple[IntArray, IntArray]:
    """Every pair ``(i, j)``, ``i < j``, whose swept boxes overlap: a superset of the
    conflicts (see the module docstring). Unordered."""
    n = len(states)
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    b = _boxes(states, separation)
    inner = np.flatnonzero(~b.seam)
    parts_i: list[IntArray] = []
    parts_j: list[IntArray] = []
    if inner.size > 1:
        gi, gj = _grid_pairs(b, inner)
        parts_i.append(gi)
        parts_j.append(gj)
    for s in np.flatnonzero(b.seam).tolist():
        others = np.arange(n, dtype=np.int64)
        keep = (others != s) & (~b.seam | (others > s))
        keep &= (b.y0 <= b.y1[s]) & (b.y1 >= b.y0[s]) & (b.z0 <= b.z1[s]) & (b.z1 >= b.z0[s])
        keep &= _circle_overlap(b, s)
        partners = others[keep]
        parts_i.append(np.minimum(partners, s))
        parts_j.append(np.maximum(partners, s))
    if not parts_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(parts_i), np.concatenate(parts_j)


def _circle_overlap(b: _Boxes, s: int) -> BoolArray:
    """Whether each box meets box ``s`` in x on the circle of circumference ``b.wrap``."""
    w = b.wrap
    if not (b.x1[s] - b.x0[s] < w):
        return np.ones(b.x0.shape[0], dtype=np.bool_)
    out = ~(b.x1 - b.x0 < w)
    for k in (-2.0, -1.0, 0.0, 1.0, 2.0):
        out |= (b.x0 + k * w <= b.x1[s]) & (b.x1 + k * w >= b.x0[s])
    return out


def candidate_bound(states: States, separation: Separation) -> int:
    """An upper bound of the pairs :func:`candidate_pairs` lists (and so of the conflicts),
    without listing them: the grid's entries sorted, each one's later entries in its cell
    that start below its top counted (a pair is counted once in each cell the two share),
    plus every aircraft for each box crossing the seam. O(n log n) time and memory, however
    densely the aircraft are packed: what a limit on the detector's work checks first.

    >>> st = States.from_motion(lat=[25.0] * 3, lon=[21.0] * 3, alt_ft=[30000] * 3,
    ...                         gs_ms=[200.0] * 3, track_deg=[90.0] * 3, vs_fpm=[0] * 3)
    >>> sep = Separation(horizontal_m=9260.0, vertical_ft=1000.0, lookahead_s=300.0)
    >>> candidate_bound(st, sep) >= len(detect_conflicts(st, sep)) == 3
    True
    """
    n = len(states)
    if n < 2:
        return 0
    b = _boxes(states, separation)
    inner = np.flatnonzero(~b.seam)
    seam = n - inner.size
    count = seam * n
    if inner.size > 1:
        count += int(_grid_sweep(b, inner).after.sum())
    return count


@dataclass(frozen=True, slots=True)
class _Sweep:
    """The grid of :func:`_grid_pairs`: its entries (``owner``: an aircraft, as an index into
    the rows, in ``cell``, a cell it covers) sorted by cell and bottom; ``after``: how many
    later entries of its cell each entry meets in altitude; the grid's width ``nx`` in cells
    and each aircraft's lowest cell (``ix0``, ``iy0``)."""

    owner: IntArray
    cell: IntArray
    after: IntArray
    nx: int
    ix0: IntArray
    iy0: IntArray


def _grid_sweep(b: _Boxes, rows: IntArray) -> _Sweep:
    """The grid over the boxes of ``rows``, swept in altitude (see :func:`_grid_pairs`)."""
    x0, x1, y0, y1 = b.x0[rows], b.x1[rows], b.y0[rows], b.y1[rows]
    z0, z1 = b.z0[rows], b.z1[rows]
    ox, oy = float(x0.min()), float(y0.min())
    sx = _cell_size(x1 - x0, float(x1.max()) - ox)
    sy = _cell_size(y1 - y0, float(y1.max()) - oy)
    ix0, ix1 = _cells(x0, x1, sx, ox)
    iy0, iy1 = _cells(y0, y1, sy, oy)
    nx = int(ix1.max()) + 1
    wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
    per = wx * wy
    # one entry per (aircraft, cell) it covers
    owner = np.repeat(np.arange(rows.shape[0], dtype=np.int64), per)
    local = np.arange(owner.shape[0], dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    wxo = wx[owner]
    cell = (iy0[owner] + local // wxo) * nx + ix0[owner] + local % wxo
    # sort by (cell, bottom): one float key, cells far enough apart never to interleave
    oz = float(z0.min())
    extent = z1 - z0
    stride = float(z1.max()) - oz + float(extent.max()) + 2.0
    key = cell.astype(np.float64) * stride + (z0[owner] - oz)
    order = np.argsort(key)
    key = key[order]
    owner = owner[order]
    cell = cell[order]
    # each entry pairs with the later entries of its cell whose bottom is below its top
    # (0.01 ft of slack covers the rounding of the key; the exact test follows)
    entries = key.shape[0]
    top = np.searchsorted(key, key + extent[owner] + 0.01, side="right")
    after = top - np.arange(entries, dtype=np.int64) - 1
    return _Sweep(owner, cell, after, nx, ix0, iy0)


def _grid_pairs(b: _Boxes, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Pairs among ``rows`` whose boxes overlap, each once.

    The boxes are binned in a grid of longitude × latitude cells; within a cell, entries are
    sorted by the bottom of their box and each pairs only with the later entries that start
    below its top (a sweep in altitude). A pair is kept in the cell holding the low corner of
    the two boxes' intersection, so it is counted once.
    """
    grid = _grid_sweep(b, rows)
    owner, cell, after, nx, ix0, iy0 = (
        grid.owner,
        grid.cell,
        grid.after,
        grid.nx,
        grid.ix0,
        grid.iy0,
    )
    entries = owner.shape[0]
    x0, x1, y0, y1 = b.x0[rows], b.x1[rows], b.y0[rows], b.y1[rows]
    first = np.repeat(np.arange(entries, dtype=np.int64), after)
    second = (
        np.arange(first.shape[0], dtype=np.int64)
        - np.repeat(np.cumsum(after) - after, after)
        + first
        + 1
    )
    # the bottoms are sorted, so only x and y remain to be checked (on per-entry copies,
    # read in order)
    ex0, ex1, ey0, ey1 = x0[owner], x1[owner], y0[owner], y1[owner]
    ok = ex0[first] <= ex1[second]
    ok &= ex0[second] <= ex1[first]
    ok &= ey0[first] <= ey1[second]
    ok &= ey0[second] <= ey1[first]
    first, second = first[ok], second[ok]
    a, c = owner[first], owner[second]
    corner = np.maximum(iy0[a], iy0[c]) * nx + np.maximum(ix0[a], ix0[c])
    once = corner == cell[first]
    a, c = rows[a[once]], rows[c[once]]
    return np.minimum(a, c), np.maximum(a, c)
