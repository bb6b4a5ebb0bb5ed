"""``accord.kml.read``: placemarks read from KML and KMZ, strictly and within bounds — and the
attacks on it (entities, external references, zip bombs, bad coordinates) refused by name.
Random placemarks written by a small writer here read back equal, and fastkml (an
independent reader) reads the same coordinates from the same bytes."""

from __future__ import annotations

import io
import warnings
import zipfile
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.kml import read as kml_read
from accord.kml.read import Placemark, kml_of_kmz, read_kml

NS = "http://www.opengis.net/kml/2.2"


def doc(body: str, ns: str = f' xmlns="{NS}"') -> bytes:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<kml{ns}><Document>\n'
    return f"{head}{body}\n</Document></kml>".encode()


def point(name: str, coords: str, extra: str = "") -> str:
    return (
        f"<Placemark><name>{name}</name>{extra}"
        f"<Point><coordinates>{coords}</coordinates></Point></Placemark>"
    )


SQUARE = "21.0,25.0 21.1,25.0 21.1,25.1 21.0,25.1 21.0,25.0"
HOLE = "21.02,25.02 21.03,25.02 21.03,25.03 21.02,25.02"


def only(read: Any) -> Placemark:
    assert not read.issues, read.issues
    (placemark,) = read.placemarks
    return placemark


def test_folders_names_data_and_times_are_read() -> None:
    body = f"""<Folder><name>outer</name><Folder><name>inner</name>
    <Placemark><name> Clinic  </name><description>beds: 40</description>
      <TimeSpan><begin>2026-09-21T06:00:00Z</begin><end>2026-09-22T06:00:00Z</end></TimeSpan>
      <ExtendedData>
        <Data name="category"><value>hospital</value></Data>
        <SchemaData schemaUrl="#s"><SimpleData name="standoff_m">1500</SimpleData></SchemaData>
      </ExtendedData>
      <Polygon><altitudeMode>absolute</altitudeMode>
        <outerBoundaryIs><LinearRing><coordinates>{SQUARE}</coordinates></LinearRing></outerBoundaryIs>
        <innerBoundaryIs><LinearRing><coordinates>{HOLE}</coordinates></LinearRing></innerBoundaryIs>
      </Polygon></Placemark></Folder></Folder>"""
    placemark = only(read_kml(doc(body)))
    assert placemark.name == "Clinic" and placemark.description == "beds: 40"
    assert placemark.data == {"category": "hospital", "standoff_m": "1500"}
    assert (placemark.begin, placemark.end) == ("2026-09-21T06:00:00Z", "2026-09-22T06:00:00Z")
    assert placemark.geometry["type"] == "Polygon"
    assert len(placemark.geometry["coordinates"]) == 2
    assert placemark.line == 4


@pytest.mark.parametrize(
    "ns",
    [
        f' xmlns="{NS}"',
        ' xmlns="http://earth.google.com/kml/2.1"',
        "",
        f' xmlns:k="{NS}"',
    ],
)
def test_namespaces_read_alike(ns: str) -> None:
    body = point("A", "21.5,25.1")
    if ns.startswith(" xmlns:k"):
        body = body.replace("<", "<k:").replace("<k:/", "</k:")
        data = f"<k:kml{ns}><k:Document>{body}</k:Document></k:kml>".encode()
    else:
        data = doc(body, ns)
    assert only(read_kml(data)).geometry == {"type": "Point", "coordinates": [21.5, 25.1]}


@pytest.mark.parametrize(
    ("coords", "field", "message"),
    [
        ("21.5,95.0", "Point.coordinates[0]", "latitude 95 is outside ±90"),
        ("181,25", "Point.coordinates[0]", "longitude 181 is outside ±180"),
        ("nan,25", "Point.coordinates[0]", "is not lon,lat"),
        ("inf,25", "Point.coordinates[0]", "is not lon,lat"),
        ("2_1,25", "Point.coordinates[0]", "is not lon,lat"),
        ("21.5, 25", "Point.coordinates[0]", "is not lon,lat"),
        ("21.5", "Point.coordinates[0]", "is not lon,lat"),
        ("21,25 22,26", "Point.coordinates", "a Point has one position, not 2"),
        ("", "Point.coordinates", "a Point has one position, not 0"),
    ],
)
def test_a_bad_coordinate_names_the_placemark_and_field(
    coords: str, field: str, message: str
) -> None:
    body = point("Good", "21.5,25.1") + "\n" + point("Bad Well", coords)
    read = read_kml(doc(body))
    assert [p.name for p in read.placemarks] == ["Good"]
    (issue,) = read.issues
    assert issue.feature == "#2 Bad Well" and issue.field == field and message in issue.message
    assert issue.line == 4
    assert "#2 Bad Well" in str(issue)


def test_rings_must_be_closed_and_long_enough() -> None:
    open_ring = "21.0,25.0 21.1,25.0 21.1,25.1 21.0,25.1"
    body = (
        f"<Placemark><name>Open</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        f"{open_ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        f"<Placemark><name>Short</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        f"21,25 21.1,25 21,25</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        f"<Placemark><name>Line</name><LineString><coordinates>21,25</coordinates>"
        f"</LineString></Placemark>"
    )
    issues = read_kml(doc(body)).issues
    assert [(i.feature, i.field) for i in issues] == [
        ("#1 Open", "Polygon.outerBoundaryIs"),
        ("#2 Short", "Polygon.outerBoundaryIs"),
        ("#3 Line", "LineString.coordinates"),
    ]
    assert "not closed" in issues[0].message and "at least 4" in issues[1].message


def test_multigeometry_of_one_is_that_one_of_several_is_refused() -> None:
    one = (
        "<Placemark><name>M1</name><MultiGeometry><Point><coordinates>21,25</coordinates>"
        "</Point></MultiGeometry></Placemark>"
    )
    two = (
        "<Placemark><name>M2</name><MultiGeometry><Point><coordinates>21,25</coordinates>"
        "</Point><Point><coordinates>21.1,25</coordinates></Point></MultiGeometry></Placemark>"
    )
    read = read_kml(doc(one + two))
    assert read.placemarks[0].geometry == {"type": "Point", "coordinates": [21.0, 25.0]}
    (issue,) = read.issues
    assert issue.feature == "#2 M2" and "split it" in issue.message


def test_tracks_models_links_and_empty_placemarks_are_refused_by_name() -> None:
    body = """<Placemark><name>Trk</name><gx:Track xmlns:gx="http://www.google.com/kml/ext/2.2">
      <when>2026-09-21T00:00:00Z</when><gx:coord>21 25 0</gx:coord></gx:Track></Placemark>
      <Placemark><name>Nothing</name></Placemark>
      <NetworkLink><name>Remote</name><Link><href>http://example.invalid/x.kml</href></Link></NetworkLink>
      <Placemark><name>Two</name><Point><coordinates>21,25</coordinates></Point>
        <Point><coordinates>21,25</coordinates></Point></Placemark>"""
    issues = read_kml(doc(body)).issues
    by = {i.feature: i for i in issues}
    assert "gx:Track" in by["#1 Trk"].message
    assert "no geometry" in by["#2 Nothing"].message
    assert "not followed" in by["link Remote"].message
    assert "more than one" in by["#3 Two"].message


def test_extended_data_given_twice_is_a_problem() -> None:
    extra = (
        '<ExtendedData><Data name="category"><value>a</value></Data>'
        '<Data name="category"><value>b</value></Data></ExtendedData>'
    )
    (issue,) = read_kml(doc(point("Dup", "21,25", extra))).issues
    assert issue.field == "ExtendedData.category" and "twice" in issue.message


# --- attacks --------------------------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE kml [
 <!ENTITY a "lol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&c;</name>
<Point><coordinates>21,25</coordinates></Point></Placemark></kml>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>
<Point><coordinates>21,25</coordinates></Point></Placemark></kml>"""


@pytest.mark.parametrize("data", [LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_entities_and_dtds_are_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="DTD, entity or external reference is refused"):
        read_kml(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<kml><Placemark>", "not well-formed"),
        (b"<html/>", "root element is not <kml>"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><kml/>', "only UTF-8"),
        (b"PK\x03\x04garbage", "not a readable KMZ"),
    ],
)
def test_what_is_no_kml_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_kml(data)


def _kmz(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as kmz:
        for name, data in entries.items():
            kmz.writestr(name, data)
    return out.getvalue()


def test_a_kmz_reads_doc_kml_first() -> None:
    other = doc(point("Other", "21,25"))
    main = doc(point("Main", "21.5,25.5"))
    kmz = _kmz({"a.kml": other, "files/x.kml": other, "doc.kml": main, "files/i.png": b"x"})
    assert only(read_kml(kmz)).name == "Main"
    assert only(read_kml(_kmz({"files/d.kml": main, "z.kml": other}))).name == "Other"
    with pytest.raises(InputError, match=r"no \.kml file at its root"):
        read_kml(_kmz({"files/doc.kml": main}))


def test_a_zip_bomb_is_refused() -> None:
    # 30 MiB of spaces inside a valid document inflate past the cap.
    bomb = doc(point("Boom", "21,25") + " " * (30 * 1024 * 1024))
    kmz = _kmz({"doc.kml": bomb})
    assert len(kmz) < 100_000
    with pytest.raises(InputError, match=r"bytes; at most|zip bomb"):
        kml_of_kmz(kmz)


def test_a_kml_inflating_past_its_ratio_is_refused() -> None:
    # Under the size cap, but 2 MiB from a few KB: read in steps, stopped at the ratio.
    kmz = _kmz({"doc.kml": doc(point("Boom", "21,25") + " " * (2 * 1024 * 1024))})
    with pytest.raises(InputError, match="zip bomb"):
        kml_of_kmz(kmz)


def test_too_many_entries_and_placemarks_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kml_read, "MAX_KMZ_ENTRIES", 3)
    with pytest.raises(InputError, match="entries; at most 3"):
        kml_of_kmz(_kmz({f"{k}.png": b"" for k in range(4)}))
    monkeypatch.setattr(kml_read, "MAX_PLACEMARKS", 5)
    many = "".join(point(f"p{k}", "21,25") for k in range(6))
    with pytest.raises(InputError, match="over 5 placemarks; split the file"):
        read_kml(doc(many))


def test_vertices_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kml_read, "MAX_VERTICES", 3)
    line = (
        "<Placemark><name>L</name><LineString><coordinates>21,25 21.1,25 21.2,25 21.3,25"
        "</coordinates></LineString></Placemark>"
    )
    (issue,) = read_kml(doc(line)).issues
    assert "4 positions; at most 3" in issue.message


# --- random placemarks: written, read back; fastkml agrees --------------------------------

lon = st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 6))
lat = st.floats(-90, 90, allow_nan=False).map(lambda v: round(v, 6))
position = st.tuples(lon, lat)
text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() == s and " " * 2 not in s)


@st.composite
def geometries(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Point", "LineString", "Polygon"]))
    if kind == "Point":
        return {"type": "Point", "coordinates": list(draw(position))}
    if kind == "LineString":
        pts = draw(st.lists(position, min_size=2, max_size=8, unique=True))
        return {"type": "LineString", "coordinates": [list(p) for p in pts]}
    rings = []
    for _ in range(draw(st.integers(1, 3))):
        pts = draw(st.lists(position, min_size=3, max_size=8, unique=True))
        rings.append([list(p) for p in [*pts, pts[0]]])
    return {"type": "Polygon", "coordinates": rings}


def _coords(points: list[list[float]], alt: bool) -> str:
    return " ".join(f"{x!r},{y!r}" + (",12.5" if alt else "") for x, y in points)


def write(name: str, geometry: dict[str, Any], data: dict[str, str], alt: bool) -> str:
    """A small KML writer, independent of the reader."""
    kind, c = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        shape = f"<Point><coordinates>{_coords([c], alt)}</coordinates></Point>"
    elif kind == "LineString":
        shape = f"<LineString><coordinates>{_coords(c, alt)}</coordinates></LineString>"
    else:
        rings = [
            f"<LinearRing><coordinates>{_coords(ring, alt)}</coordinates></LinearRing>"
            for ring in c
        ]
        inner = "".join(f"<innerBoundaryIs>{r}</innerBoundaryIs>" for r in rings[1:])
        shape = f"<Polygon><outerBoundaryIs>{rings[0]}</outerBoundaryIs>{inner}</Polygon>"
    extended = "".join(
        f'<Data name="{escape(k, {chr(34): "&quot;"})}"><value>{escape(v)}</value></Data>'
        for k, v in data.items()
    )
    return (
        f"<Placemark><name>{escape(name)}</name>"
        f"<ExtendedData>{extended}</ExtendedData>{shape}</Placemark>"
    )


def _fastkml(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastkml import KML

        found: list[tuple[str, dict[str, Any]]] = []

        def walk(feature: Any) -> None:
            for child in getattr(feature, "features", None) or []:
                if type(child).__name__ == "Placemark":
                    found.append((child.name, child.geometry.__geo_interface__))
                walk(child)

        walk(KML.from_string(data))
        return found


def _two_d(value: Any) -> Any:
    if isinstance(value, tuple | list) and value and isinstance(value[0], int | float):
        return [float(value[0]), float(value[1])]
    return [_two_d(v) for v in value]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(text, geometries(), st.dictionaries(text, text, max_size=3)),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_random_placemarks_read_back_equal(
    placemarks: list[tuple[str, dict[str, Any], dict[str, str]]], alt: bool
) -> None:
    data = doc("".join(write(n, g, d, alt) for n, g, d in placemarks))
    read = read_kml(data)
    assert not read.issues
    assert [(p.ordinal, p.name, p.geometry, p.data) for p in read.placemarks] == [
        (k, n, g, {key: value.strip() for key, value in d.items()})
        for k, (n, g, d) in enumerate(placemarks, 1)
    ]
    oracle = _fastkml(data)
    assert [(n, g["type"], _two_d(g["coordinates"])) for n, g in oracle] == [
        (p.name, p.geometry["type"], p.geometry["coordinates"]) for p in read.placemarks
    ]
