"""The engine's polygon distance, now pruned by boxes of edges and bounded by what can still
change the answer, against brute force (shapely's planar distance) on random polygons of many
edges: exact wherever it is under the bound, never under it where the truth is not."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.deconfliction import _kernel

coordinate = st.floats(-60_000.0, 60_000.0, allow_nan=False)


@st.composite
def polygons(draw: st.DrawFn) -> tuple[np.ndarray, shapely.Polygon]:
    """A star-shaped polygon (valid by construction) of 3 to 300 edges, with its edges as
    the engine lays them out."""
    n = draw(st.integers(3, 300))
    radii = draw(st.lists(st.floats(500.0, 40_000.0), min_size=n, max_size=n))
    cx, cy = draw(coordinate), draw(coordinate)
    angles = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    ring = np.column_stack([cx + np.cos(angles) * radii, cy + np.sin(angles) * radii])
    closed = np.vstack([ring, ring[:1]])
    edges = np.ascontiguousarray(np.column_stack([closed[:-1], closed[1:]]))
    return edges, shapely.Polygon(ring)


@settings(max_examples=300, deadline=None)
@given(
    polygons(),
    coordinate,
    coordinate,
    st.floats(0.0, 20_000.0),
    st.floats(0.0, 2 * math.pi),
    st.one_of(st.just(math.inf), st.floats(1.0, 80_000.0)),
)
def test_the_pruned_distance_is_the_brute_force_one(polygon, x, y, length, heading, bound):
    edges, shape = polygon
    boxes = _kernel.edge_boxes(edges)
    assert boxes.shape[0] == math.ceil(edges.shape[0] / _kernel.EDGE_CHUNK)
    bx, by = x + length * math.cos(heading), y + length * math.sin(heading)
    truth = (
        shapely.LineString([(x, y), (bx, by)]).distance(shape)
        if length
        else (shapely.Point(x, y).distance(shape))
    )
    got = _kernel._polygon_distance(x, y, bx, by, edges, boxes, bound)
    if truth < bound - 1e-6:
        assert math.isclose(got, truth, rel_tol=1e-9, abs_tol=1e-6)
    elif truth > bound + 1e-6:
        assert got == math.inf
