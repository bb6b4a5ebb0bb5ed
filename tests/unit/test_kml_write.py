"""KML out (:mod:`accord.kml.write`), read back by an independent reader (``fastkml``): every
placemark in place, names and ids and extended data as written, rings closed, coordinates in
lon, lat order, standoff circles on the ellipsoid; user text that XML (and a balloon's HTML)
could choke on comes back as given, or with only what XML 1.0 cannot carry removed."""

from __future__ import annotations

import copy
import html
import io
import json
import re
import zipfile
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from accord.agreement import Agreement
from accord.errors import InputError
from accord.examples import example_path
from accord.kml.write import (
    KML_NS,
    Document,
    Placemark,
    area_placemark,
    feature_placemarks,
    vertices,
    write_kml,
    write_kmz,
)
from support.kml import extended, placemarks

WORLD = json.loads(example_path("world.geojson").read_text(encoding="utf-8"))
FEATURES: list[dict[str, Any]] = WORLD["features"]
ORACLE = Geod(ellps="WGS84")


def _marks(reader: str | None = "blue") -> list[Placemark]:
    return [
        m
        for n, f in enumerate(FEATURES)
        for m in feature_placemarks(f, reader=reader, index=100 + n)
    ]


def _coords(geometry: Any) -> list[tuple[float, ...]]:
    kind = geometry.geom_type
    if kind == "Point":
        return [tuple(geometry.coords[0])]
    if kind == "LineString":
        return [tuple(c) for c in geometry.coords]
    return [tuple(c) for c in geometry.exterior.coords]


def test_every_feature_comes_back_with_its_id_kind_index_and_place() -> None:
    data = write_kml(Document("Accord: jig", _marks(), ("as blue may see it",)))
    read = placemarks(data)
    kinds = Counter(extended(p)["kind"] for p in read)
    given_kinds = Counter(f["properties"]["kind"] for f in FEATURES)
    standoffs = sum(
        1
        for f in FEATURES
        if f["properties"].get("standoff_m") and f["geometry"]["type"] == "Point"
    )
    assert kinds == given_kinds + Counter({"standoff": standoffs})
    assert standoffs == 1
    by_id = {f["properties"]["id"]: (n, f) for n, f in enumerate(FEATURES)}
    seen = set()
    for placemark in read:
        fields = extended(placemark)
        n, feature = by_id[fields["accord_id"]]
        props = feature["properties"]
        seen.add(fields["accord_id"])
        assert fields["record_index"] == str(100 + n)
        assert fields["owner"] == props["declared_by"]
        assert fields["disclosure"] == props["disclosure"]
        if fields["kind"] == "standoff":
            assert placemark.name == f"{props['name']} standoff 2000 m"
            continue
        assert placemark.name == props.get("name", props["id"])
        assert placemark.style_url.url == (
            "#position_own"
            if props["kind"] == "position" and props["declared_by"] == "blue"
            else f"#{'operation' if props['kind'] == 'operation' else props['kind']}"
        )
        geometry = placemark.geometry
        if props["kind"] == "operation" and "radius_m" in props:
            assert geometry.geom_type == "Polygon"  # the circle of its radius
            lon, lat = feature["geometry"]["coordinates"]
            for x, y in _coords(geometry):
                distance = ORACLE.inv(lon, lat, x, y)[2]
                assert distance == pytest.approx(props["radius_m"], abs=0.05)
            continue
        assert geometry.geom_type == feature["geometry"]["type"]
        expected = feature["geometry"]["coordinates"]
        if geometry.geom_type == "Point":
            expected = [expected]
        elif geometry.geom_type == "Polygon":
            expected = expected[0]
        got = _coords(geometry)
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):  # lon, lat (and altitude) in that order
            assert a == pytest.approx(tuple(b), abs=1e-7)
        span = placemark.times
        begin = props.get("valid_from") or props.get("window_start")
        if props["kind"] == "flight_plan":
            begin = props["times"][0]
        if begin is None:
            assert span is None
        else:
            assert span.begin.dt.isoformat().replace("+00:00", "Z") == begin
            assert fields["valid_from"] == begin
    assert seen == set(by_id)


def test_rings_are_closed_and_a_standoff_is_a_geodesic_circle() -> None:
    data = write_kml(Document("w", _marks()))
    polygons = [p for p in placemarks(data) if p.geometry.geom_type == "Polygon"]
    assert len(polygons) == 1 + 1 + 3 + 1 + 1  # standoff, warehouse, 3 ops on points, op-s1, bn
    for placemark in polygons:
        ring = _coords(placemark.geometry)
        assert ring[0] == ring[-1]
    standoff = next(p for p in polygons if extended(p)["kind"] == "standoff")
    ring = _coords(standoff.geometry)
    assert len(ring) == 73
    for x, y in ring:
        assert ORACLE.inv(21.905, 24.912, x, y)[2] == pytest.approx(2000.0, abs=0.05)
    # a ring given open is closed
    feature = copy.deepcopy(FEATURES[2])
    feature["geometry"]["coordinates"][0].pop()
    (mark,) = feature_placemarks(feature, reader=None)
    assert mark.shape.parts[0][0] == mark.shape.parts[0][-1]


def test_operations_by_state_own_positions_and_areas(agreement: Agreement) -> None:
    op = next(f for f in FEATURES if f["properties"]["id"] == "op-c1")
    (mark,) = feature_placemarks(
        op, reader="red", index=9, status="on_hold", lines=("blocked by a hidden site of red",)
    )
    assert mark.style == "operation_on_hold" and ("status", "on_hold") in mark.data
    (odd,) = feature_placemarks(op, reader="red", status="no-such-state")
    assert odd.style == "operation"
    areas = [
        area_placemark(a.id, a.name, a.polygon, a.restricted_operators, a.exempt_missions)
        for a in agreement.designated_areas
    ]
    assert areas
    read = placemarks(write_kml(Document("w", [*areas, mark])))
    assert [extended(p)["kind"] for p in read] == ["designated_area"] * len(areas) + ["operation"]
    assert "blocked by a hidden site of red" in read[-1].description
    assert extended(read[-1])["status"] == "on_hold"
    for placemark, area in zip(read, agreement.designated_areas, strict=False):
        ring = _coords(placemark.geometry)
        assert ring[0] == ring[-1]
        assert extended(placemark)["restricted_operators"] == ", ".join(area.restricted_operators)
    pos = next(f for f in FEATURES if f["properties"]["id"] == "pos-blue-coy-1")
    assert feature_placemarks(pos, reader="blue")[0].style == "position_own"
    assert feature_placemarks(pos, reader="red")[0].style == "position"
    assert feature_placemarks(pos, reader=None)[0].style == "position"


def test_the_same_input_gives_the_same_bytes_and_nothing_is_fetched() -> None:
    one = write_kml(Document("w", _marks()))
    assert one == write_kml(Document("w", _marks()))
    assert write_kmz(one) == write_kmz(one)
    # no icon, no link: the only address in the file is the namespace
    assert re.findall(rb"https?://[^\s\"<]+", one) == [KML_NS.encode()]


def test_a_kmz_is_a_zip_whose_doc_kml_parses() -> None:
    kml = write_kml(Document("w", _marks()))
    kmz = write_kmz(kml)
    with zipfile.ZipFile(io.BytesIO(kmz)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["doc.kml"]
        assert archive.read("doc.kml") == kml
    assert len(placemarks(archive_kml(kmz))) == len(_marks())


def archive_kml(kmz: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(kmz)) as archive:
        return archive.read("doc.kml")


def _xml_char(c: str) -> bool:
    """XML 1.0's Char production (§2.2), the oracle of what may be written."""
    n = ord(c)
    return c in "\t\n" or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or n >= 0x10000


HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("<>&\"']]>\x00\x01\x08\x0b\x1f\r\n\t\ufffe\uffff \u00e9\u202e")),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(name=HOSTILE, category=HOSTILE, owner=HOSTILE)
def test_hostile_text_comes_back_as_given_or_with_what_xml_cannot_carry_removed(
    name: str, category: str, owner: str
) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.5, 25.25]},
        "properties": {
            "id": "s-1",
            "kind": "protected_site",
            "name": name,
            "category": category,
            "declared_by": owner,
            "disclosure": "shared",
            "standoff_m": 100,
        },
    }
    data = write_kml(Document(name, feature_placemarks(feature, reader="red", index=1)))
    site, standoff = placemarks(data)

    def expect(text: str) -> str:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return "".join(c for c in text if _xml_char(c))

    shown = expect(name).strip() or "s-1"
    assert site.name == shown
    assert standoff.name == f"{shown} standoff 100 m"
    fields = extended(site)
    assert (fields.get("owner") or "") == expect(owner).strip()
    assert (fields.get("category") or "") == expect(category).strip()
    # The balloon is HTML: no markup but Accord's own, every user text escaped.
    balloon = site.description
    assert re.sub(r"</?b>|<br/>", "", balloon).count("<") == 0
    assert html.escape(shown) in balloon


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"geometry": {"type": "MultiPoint", "coordinates": [[1, 2]]}}, "geometry.type"),
        ({"geometry": {"type": "Point", "coordinates": [1]}}, "geometry.coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [float("nan"), 1]}}, "geometry.coordinates"),
        ({"geometry": {"type": "Point", "coordinates": [200, 1]}}, "geometry.coordinates"),
        ({"geometry": {"type": "LineString", "coordinates": [[1, 2]]}}, "geometry.coordinates"),
        ({"geometry": {"type": "Polygon", "coordinates": []}}, "geometry.coordinates"),
        ({"geometry": None}, "geometry"),
        ({"properties": {"kind": "standoff"}}, "properties.kind"),
        ({"properties": {"valid_from": "2026-09-20T05:00:00"}}, "properties.valid_from"),
        ({"properties": {"valid_to": "tomorrow"}}, "properties.valid_to"),
        ({"properties": {"standoff_m": "far"}}, "properties.standoff_m"),
        ({"properties": {"standoff_m": -1}}, "properties.standoff_m"),
    ],
)
def test_bad_input_names_the_feature_and_the_field(change: dict[str, Any], field: str) -> None:
    feature = copy.deepcopy(FEATURES[0])
    feature["properties"] |= change.pop("properties", {})
    feature |= change
    with pytest.raises(InputError) as caught:
        feature_placemarks(feature, reader=None)
    (issue,) = caught.value.issues
    assert (issue.feature, issue.field) == ("site-hospital-east", field), issue


def test_a_placemark_refuses_a_kind_or_style_it_has_no_folder_or_style_for() -> None:
    (mark,) = feature_placemarks(FEATURES[1], reader=None)
    with pytest.raises(ValueError, match="no style"):
        Placemark(**{**_fields(mark), "style": "nope"})
    with pytest.raises(ValueError, match="no kind"):
        Placemark(**{**_fields(mark), "kind": "nope"})


def _fields(mark: Placemark) -> dict[str, Any]:
    return {name: getattr(mark, name) for name in Placemark.__slots__}


def test_the_cost_of_a_feature_is_what_is_drawn_of_it() -> None:
    for feature in FEATURES:
        drawn = sum(
            len(part) for m in feature_placemarks(feature, reader=None) for part in m.shape.parts
        )
        # an operation on a point is drawn as its circle alone: counted with its centre
        assert drawn <= vertices(feature) <= drawn + 1, feature["properties"]["id"]
    assert vertices({"geometry": None, "properties": None}) == 1
