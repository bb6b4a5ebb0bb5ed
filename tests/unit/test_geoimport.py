"""``accord.geoimport``: a file as the declarations it makes, checked by the world's own
parser before anything is sent; every problem names the placemark or feature and field, and
a file never sets its own disclosure against the importer's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.agreement import Agreement, load_agreement
from accord.center.declarations import service
from accord.errors import InputError
from accord.examples import example_path
from accord.geoimport import CONTENT_MAX_BYTES, MAX_NAME, Options, plan_file, plan_geojson

AGREEMENT: Agreement = load_agreement(example_path("jig.yaml"))
NS = "http://www.opengis.net/kml/2.2"


def kml(*placemarks: str) -> bytes:
    return f'<kml xmlns="{NS}"><Document>{"".join(placemarks)}</Document></kml>'.encode()


def placemark(name: str, shape: str, data: dict[str, str] | None = None, extra: str = "") -> str:
    items = "".join(f'<Data name="{k}"><value>{v}</value></Data>' for k, v in (data or {}).items())
    extended = f"<ExtendedData>{items}</ExtendedData>"
    return f"<Placemark><name>{name}</name>{extra}{extended}{shape}</Placemark>"


POINT = "<Point><coordinates>21.5,25.1</coordinates></Point>"
LINE = "<LineString><coordinates>21.4,25.0 21.6,25.2</coordinates></LineString>"
SPAN = "<TimeSpan><begin>2026-09-21T06:00:00Z</begin><end>2026-09-21T18:00:00Z</end></TimeSpan>"


def props(plan: Any, k: int = 0) -> dict[str, Any]:
    return dict(plan.candidates[k].feature["properties"])


def test_the_center_caps_are_the_centers() -> None:
    assert CONTENT_MAX_BYTES == service.CONTENT_MAX_BYTES
    assert MAX_NAME == service.MAX_NAME


def test_fields_come_from_data_then_time_span_then_options() -> None:
    options = Options(
        kind="movement", member="hnc", valid_from="2026-09-20T00:00:00Z",
        valid_to="2026-09-20T06:00:00Z", corridor_m=300,
    )  # fmt: skip
    data = kml(
        placemark("Convoy A", LINE, {"corridor_m": "150", "fid": "3"}, SPAN),
        placemark("Convoy B", LINE, {"valid_to": "2026-09-20T09:00:00Z"}),
    )
    plan = plan_file("c.kml", data, AGREEMENT, options)
    assert plan.ok, plan.issues
    assert props(plan, 0) == {
        "kind": "movement", "name": "Convoy A", "disclosure": "shared",
        "valid_from": "2026-09-21T06:00:00Z", "valid_to": "2026-09-21T18:00:00Z",
        "corridor_m": 150,
    }  # fmt: skip
    assert plan.candidates[0].ignored == ("fid",)
    assert props(plan, 1)["valid_from"] == "2026-09-20T00:00:00Z"
    assert props(plan, 1)["valid_to"] == "2026-09-20T09:00:00Z"
    assert props(plan, 1)["corridor_m"] == 300


def test_a_party_import_is_center_unless_told_and_a_file_cannot_say_otherwise() -> None:
    data = kml(placemark("P", POINT, extra=SPAN))
    plan = plan_file("p.kml", data, AGREEMENT, Options(kind="position", member="blue"))
    assert plan.ok, plan.issues
    assert props(plan)["disclosure"] == "center" and props(plan)["party"] == "blue"
    shared = kml(placemark("P", POINT, {"disclosure": "shared"}, SPAN))
    plan = plan_file("p.kml", shared, AGREEMENT, Options(kind="position", member="blue"))
    (issue,) = plan.issues
    assert issue.feature == "#1 P" and issue.field == "ExtendedData.disclosure"
    other = kml(placemark("P", POINT, {"party": "red"}, SPAN))
    plan = plan_file("p.kml", other, AGREEMENT, Options(kind="position", member="blue"))
    assert [i.field for i in plan.issues] == ["ExtendedData.party"]


def test_a_notifier_declares_shared_and_only_sites_and_movements() -> None:
    data = kml(placemark("P", POINT, extra=SPAN))
    plan = plan_file("p.kml", data, AGREEMENT, Options(kind="position", member="hnc"))
    assert any("notifier declares only" in i.message for i in plan.issues)
    told = Options(kind="protected_site", member="hnc", disclosure="center", category="school")
    plan = plan_file("p.kml", data, AGREEMENT, told)
    assert [i.field for i in plan.issues] == ["properties.disclosure"]


def test_every_problem_is_named_and_sorted_by_placemark() -> None:
    data = kml(
        placemark("Good", POINT, {"category": "school"}),
        placemark("Line", LINE, {"category": "school"}),
        placemark("No category", POINT),
        placemark("Bad number", POINT, {"category": "school", "standoff_m": "1,5"}),
        placemark("Far", "<Point><coordinates>21.5,-91</coordinates></Point>"),
        placemark("N" * 201, POINT, {"category": "school"}),
    )
    plan = plan_file("s.kml", data, AGREEMENT, Options(kind="protected_site", member="blue"))
    assert [(i.feature, i.field) for i in plan.issues] == [
        ("#2 Line", "geometry"),
        ("#3 No category", "properties.category"),
        ("#4 Bad number", "ExtendedData.standoff_m"),
        ("#5 Far", "Point.coordinates[0]"),
        ("#6 " + "N" * 59 + "…", "name"),
    ]
    assert not plan.ok
    assert "s.kml: 5 problems" in str(plan.error())


def test_the_agreements_limits_apply() -> None:
    far = " ".join(f"{21 + k * 1e-4:.4f},25" for k in range(2001))  # limits: 2,000
    line = f"<LineString><coordinates>{far}</coordinates></LineString>"
    options = Options(kind="movement", member="blue", valid_from="2026-09-21T00:00:00Z",
                      valid_to="2026-09-22T00:00:00Z")  # fmt: skip
    plan = plan_file("m.kml", kml(placemark("Long", line)), AGREEMENT, options)
    (issue,) = plan.issues
    assert issue.feature == "#1 Long" and "too many vertices" in issue.message


def test_a_shared_declaration_too_large_for_the_record_is_refused() -> None:
    coords = " ".join(f"{21 + k * 1.2345678901e-7!r},{25.000000000001 + k * 1e-13!r}"
                      for k in range(1900))  # fmt: skip
    line = f"<LineString><coordinates>{coords}</coordinates></LineString>"
    span = {"valid_from": "2026-09-21T00:00:00Z", "valid_to": "2026-09-22T00:00:00Z"}
    shared = Options(kind="movement", member="blue", disclosure="shared", **span)
    plan = plan_file("m.kml", kml(placemark("Big", line)), AGREEMENT, shared)
    (issue,) = plan.issues
    assert issue.field == "geometry.coordinates" and "bytes in the record" in issue.message
    hidden = Options(kind="movement", member="blue", disclosure="center", **span)
    assert plan_file("m.kml", kml(placemark("Big", line)), AGREEMENT, hidden).ok


def _geojson(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_geojson_multi_of_one_is_read_and_of_several_refused() -> None:
    one = {"type": "Feature", "properties": {"name": "A", "category": "school"},
           "geometry": {"type": "MultiPoint", "coordinates": [[21.5, 25.1]]}}  # fmt: skip
    two = {"type": "Feature", "properties": {"name": "B", "category": "school"},
           "geometry": {"type": "MultiPoint",
                        "coordinates": [[21.5, 25.1], [21.6, 25.1]]}}  # fmt: skip
    plan = plan_geojson(_geojson(one, two), AGREEMENT, Options(kind="protected_site", member="red"))
    assert plan.candidates[0].feature["geometry"] == {"type": "Point", "coordinates": [21.5, 25.1]}
    assert [(i.feature, i.field) for i in plan.issues] == [("#2 B", "geometry")]


def test_geojson_kind_and_declarer_must_agree_with_the_import() -> None:
    feature = {"type": "Feature", "properties": {"kind": "position", "declared_by": "red",
               "id": "mine", "category": "school"},
               "geometry": {"type": "Point", "coordinates": [21.5, 25.1]}}  # fmt: skip
    plan = plan_geojson(_geojson(feature), AGREEMENT, Options(kind="protected_site", member="blue"))
    assert [i.field for i in plan.issues] == ["properties.kind"]
    feature["properties"]["kind"] = "protected_site"
    plan = plan_geojson(_geojson(feature), AGREEMENT, Options(kind="protected_site", member="blue"))
    assert [i.field for i in plan.issues] == ["properties.declared_by"]
    feature["properties"]["declared_by"] = "blue"
    plan = plan_geojson(_geojson(feature), AGREEMENT, Options(kind="protected_site", member="blue"))
    assert plan.ok and "id" not in props(plan) and "declared_by" not in props(plan)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"type": "FeatureCollection", "features": [], "type": "x"}', "twice"),
        (b"[1, 2", "not valid JSON"),
        (b'{"type": "Topology"}', "FeatureCollection"),
    ],
)
def test_what_is_no_geojson_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        plan_geojson(data, AGREEMENT, Options(kind="protected_site", member="blue"))


def test_bad_options_and_files_are_refused() -> None:
    with pytest.raises(InputError, match="--kind"):
        plan_file("a.kml", kml(), AGREEMENT, Options(kind="operation", member="blue"))
    with pytest.raises(InputError, match="--as"):
        plan_file("a.kml", kml(), AGREEMENT, Options(kind="position", member="green"))
    with pytest.raises(InputError, match="neither"):
        plan_file("a.txt", b"x", AGREEMENT, Options(kind="position", member="blue"))
