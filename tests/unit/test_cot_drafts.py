"""Drawn shapes as drafts (:mod:`accord.cot.drafts`): each kind's geometry, a circle's
vertices on its radius (a geodesic oracle), bad shapes refused naming the element."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.cot import Detail, Ellipse, Event, Link, LinkPoint, Point, parse_event
from accord.cot.drafts import CIRCLE_VERTICES, MAX_VERTICES, deleted_key, draft_body
from accord.errors import CotError
from accord.geo import geodesic_distance
from support.cot import T0


def _shape(kind: str, *, links: tuple[Link, ...] = (), ellipse: Ellipse | None = None) -> Event:
    return Event(
        uid="9b1c2d3e-drawing.1",
        type=kind,
        how="h-e",
        time=T0,
        start=T0,
        stale=T0 + timedelta(hours=24),
        point=Point(lat=25.0, lon=21.0),
        detail=Detail(callsign="Drawing 1", links=links, ellipse=ellipse),
    )


def _vertices(*coords: tuple[float, float]) -> tuple[Link, ...]:
    return tuple(Link(point=LinkPoint(lat=lat, lon=lon)) for lon, lat in coords)


def test_a_rectangle_is_a_closed_polygon_of_its_four_corners() -> None:
    corners = _vertices((21.0, 25.0), (21.1, 25.0), (21.1, 25.1), (21.0, 25.1))
    body = draft_body(_shape("u-d-r", links=corners), device_uid="ANDROID-1", callsign="Blue 1")
    assert body["shape"] == "rectangle" and body["name"] == "Drawing 1"
    ring = body["geometry"]["coordinates"][0]
    assert body["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
    assert body["device"] == {"uid": "ANDROID-1", "callsign": "Blue 1"}
    assert body["drawn_at"] == "2026-09-20T10:00:00Z"


def test_a_free_shape_is_a_line_or_when_closed_a_polygon() -> None:
    line = draft_body(
        _shape("u-d-f", links=_vertices((21.0, 25.0), (21.1, 25.0))), device_uid="d", callsign=None
    )
    assert line["geometry"]["type"] == "LineString" and line["shape"] == "freehand"
    closed = _vertices((21.0, 25.0), (21.1, 25.0), (21.1, 25.1), (21.0, 25.0))
    poly = draft_body(_shape("u-d-f", links=closed), device_uid="d", callsign=None)
    assert poly["geometry"]["type"] == "Polygon"


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-179, 179),
    radius=st.floats(1, 200_000),
)
def test_a_circles_vertices_lie_on_its_radius(lat: float, lon: float, radius: float) -> None:
    event = _shape("u-d-c-c", ellipse=Ellipse(major=radius, minor=radius))
    event = replace(event, point=Point(lat, lon))
    ring = draft_body(event, device_uid="d", callsign=None)["geometry"]["coordinates"][0]
    assert len(ring) == CIRCLE_VERTICES + 1 and ring[0] == ring[-1]
    for x, y in ring:
        assert geodesic_distance(lon, lat, x, y) == pytest.approx(radius, rel=1e-6, abs=1e-3)


def test_a_drawn_circle_from_atak_xml() -> None:
    xml = (
        b'<event version="2.0" uid="c1-drawn" type="u-d-c-c" how="h-e" '
        b'time="2026-09-20T10:00:00Z" start="2026-09-20T10:00:00Z" stale="2026-09-21T10:00:00Z">'
        b'<point lat="25.0" lon="21.0" hae="9999999.0" ce="9999999.0" le="9999999.0"/>'
        b'<detail><shape><ellipse major="500" minor="500" angle="360"/></shape>'
        b'<contact callsign="Circle 1"/></detail></event>'
    )
    body = draft_body(parse_event(xml), device_uid="d", callsign=None)
    assert body["shape"] == "circle" and body["name"] == "Circle 1"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (_shape("u-d-r", links=_vertices((21.0, 25.0), (21.1, 25.0))), "detail/link"),
        (_shape("u-d-f", links=_vertices((21.0, 25.0))), "detail/link"),
        (_shape("u-d-f", links=_vertices(*[(21.0, 25.0)] * (MAX_VERTICES + 1))), "detail/link"),
        (_shape("u-d-c-c"), "detail/shape/ellipse"),
        (_shape("u-d-c-c", ellipse=Ellipse(major=0, minor=0)), "detail/shape/ellipse@major"),
        (_shape("a-f-G"), "event@type"),
    ],
)
def test_a_shape_that_cannot_be_drawn_is_refused_naming_the_element(
    event: Event, field: str
) -> None:
    with pytest.raises(CotError) as refused:
        draft_body(event, device_uid="d", callsign=None)
    assert refused.value.field == field


def test_a_drawing_whose_uid_keys_no_draft_is_refused() -> None:
    event = _shape("u-d-f", links=_vertices((21.0, 25.0), (21.1, 25.0)))
    bad = replace(event, uid="a b/../c")
    with pytest.raises(CotError) as refused:
        draft_body(bad, device_uid="d", callsign=None)
    assert refused.value.field == "event@uid"


def test_a_delete_names_its_draft() -> None:
    delete = Event(
        uid="x",
        type="t-x-d-d",
        time=T0,
        start=T0,
        stale=T0,
        point=Point(0, 0),
        detail=Detail(links=(Link(uid="c1-drawn", type="u-d-c-c", relation="none"),)),
    )
    assert deleted_key(delete) == "c1-drawn"
    assert deleted_key(_shape("u-d-f")) is None
