"""The page's basemap packed by the server: the same rings, projected the same way, as
topojson-client's ``feature()`` followed by the page's projection (a point-by-point
transcription of both is the oracle), on random topologies and on world-atlas's own file."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.center.http.basemap import pack_countries
from support.postgres import in_ci

ROOT = Path(__file__).resolve().parents[2]
COUNTRIES_50M = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"


def _project(lon: float, lat: float) -> tuple[float, float]:
    lat = max(-85.05, min(85.05, lat))
    s = math.sin(lat * math.pi / 180)
    return (lon + 180) / 360 * 256, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * 256


def _oracle(topology: dict[str, Any]) -> list[list[list[list[tuple[float, float]]]]]:
    """topojson-client 3.1's feature() (object/arc/ring), then the projection, point by point."""
    transform = topology.get("transform")

    def point(p: list[float], k: int, state: list[float]) -> list[float]:
        if not transform:
            return [p[0], p[1]]
        if k == 0:
            state[0] = state[1] = 0
        state[0] += p[0]
        state[1] += p[1]
        return [
            state[0] * transform["scale"][0] + transform["translate"][0],
            state[1] * transform["scale"][1] + transform["translate"][1],
        ]

    def arc(i: int, points: list[list[float]]) -> None:
        if points:
            points.pop()
        a = topology["arcs"][~i if i < 0 else i]
        state = [0.0, 0.0]
        n = len(a)
        for k in range(n):
            points.append(point(a[k], k, state))
        if i < 0:
            points[len(points) - n :] = points[len(points) - n :][::-1]

    def ring(indexes: list[int]) -> list[list[float]]:
        points: list[list[float]] = []
        for i in indexes:
            arc(i, points)
        if 0 < len(points) < 4:
            points.append(points[0])
        return points

    out = []
    for g in topology["objects"]["countries"]["geometries"]:
        polygons = (
            [g["arcs"]]
            if g["type"] == "Polygon"
            else g["arcs"]
            if g["type"] == "MultiPolygon"
            else []
        )
        if polygons:
            out.append([[[_project(*p) for p in ring(r)] for r in polygon] for polygon in polygons])
    return out


def _unpack(data: bytes) -> tuple[list[list[list[np.ndarray]]], np.ndarray]:
    countries, polygons, rings, points = struct.unpack_from("<4I", data)
    at = 16

    def take(dtype: str, n: int) -> np.ndarray:
        nonlocal at
        a = np.frombuffer(data, dtype=dtype, count=n, offset=at)
        at += 4 * n
        return a

    polygon_start = take("<u4", countries + 1)
    ring_start = take("<u4", polygons + 1)
    point_start = take("<u4", rings + 1)
    boxes = take("<f4", countries * 4).reshape(-1, 4)
    xy = take("<f4", points * 2).reshape(-1, 2)
    assert at == len(data)
    shapes = [
        [
            [
                xy[point_start[r] : point_start[r + 1]]
                for r in range(ring_start[p], ring_start[p + 1])
            ]
            for p in range(polygon_start[c], polygon_start[c + 1])
        ]
        for c in range(countries)
    ]
    return shapes, boxes


def _same(topology: dict[str, Any]) -> int:
    shapes, boxes = _unpack(pack_countries(topology))
    expected = _oracle(topology)
    assert len(shapes) == len(expected)
    for shape, box, want in zip(shapes, boxes, expected, strict=True):
        assert [len(p) for p in shape] == [len(p) for p in want]
        every = []
        for polygon, want_polygon in zip(shape, want, strict=True):
            for ring, want_ring in zip(polygon, want_polygon, strict=True):
                assert ring.shape == (len(want_ring), 2)
                assert np.allclose(ring, np.asarray(want_ring, dtype=np.float32), atol=1e-4)
                every.extend(want_ring)
        xs, ys = zip(*every, strict=True)
        assert np.allclose(box, [min(xs), min(ys), max(xs), max(ys)], atol=1e-4)
    return len(shapes)


@st.composite
def topologies(draw: st.DrawFn) -> dict[str, Any]:
    quantized = draw(st.booleans())
    coordinate = (
        st.integers(-500, 500)
        if quantized
        else st.floats(-179.0, 179.0, allow_nan=False, allow_infinity=False)
    )
    arcs = draw(
        st.lists(
            st.lists(st.tuples(coordinate, coordinate).map(list), min_size=2, max_size=6),
            min_size=1,
            max_size=8,
        )
    )
    index = st.integers(0, len(arcs) - 1).flatmap(lambda i: st.sampled_from([i, ~i]))
    ring = st.lists(index, min_size=1, max_size=4)
    polygon = st.lists(ring, min_size=1, max_size=3)
    geometry = st.one_of(
        polygon.map(lambda p: {"type": "Polygon", "arcs": p}),
        st.lists(polygon, min_size=1, max_size=3).map(
            lambda m: {"type": "MultiPolygon", "arcs": m}
        ),
        st.just({"type": None}),
    )
    topology: dict[str, Any] = {
        "type": "Topology",
        "arcs": arcs,
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": draw(st.lists(geometry, max_size=5)),
            }
        },
    }
    if quantized:
        topology["transform"] = {"scale": [0.036, 0.017], "translate": [-180, -89.999]}
    return topology


@settings(max_examples=200, deadline=None)
@given(topologies())
def test_packed_rings_are_topojson_clients_projected(topology: dict[str, Any]) -> None:
    _same(topology)


@pytest.mark.skipif(
    not COUNTRIES_50M.exists() and not in_ci(),  # in CI it runs, and fails when missing
    reason="world-atlas is installed by `npm ci`",
)
def test_world_atlas_countries_50m() -> None:
    assert _same(json.loads(COUNTRIES_50M.read_bytes())) > 200


def test_not_topojson_is_refused() -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        pack_countries({"type": "Topology", "arcs": [[[0, 0], [1, 1]]], "objects": {}})
