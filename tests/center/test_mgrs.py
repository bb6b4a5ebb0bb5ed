"""Points typed as MGRS at the center: a declaration or an operation whose point is
``properties.mgrs`` is stored with the square's centre as its geometry and its uncertainty
widened to cover the square; a bad reference is refused (422) naming ``properties.mgrs``,
with nothing stored and nothing recorded; ``GET /v1/coordinates`` reads what a person typed
for the page, one parser for both."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select

from accord.center.db.models import Declaration, RecordLeaf
from accord.coordinates import parse_point
from support.declarations import POSITION
from support.desk import AID, operation
from support.failures import assert_problem, fields
from support.operations import operation_rows
from support.service import Service, center_of

PATH = "/v1/declarations"
TYPED = "34R EP 77480 03926"  # near lon 21.77, lat 25.35: the example theatre


def typed_position(reference: Any, **props: Any) -> dict[str, Any]:
    feature = copy.deepcopy(POSITION)
    del feature["geometry"]
    feature["properties"].update(mgrs=reference, **props)
    return feature


def counts(service: Service) -> tuple[int, int]:
    with center_of(service).reading() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Declaration)) or 0),
            int(session.scalar(select(func.count()).select_from(RecordLeaf)) or 0),
        )


def test_a_position_typed_as_mgrs_is_declared_at_the_squares_centre(service: Service) -> None:
    response = service.post(PATH, "blue-officer", json=typed_position(TYPED))
    assert response.status_code == 201, response.text
    stored = response.json()["feature"]
    point = parse_point(TYPED)
    assert stored["geometry"] == {"type": "Point", "coordinates": [point.lon, point.lat]}
    assert 25.3 < point.lat < 25.4 and 21.7 < point.lon < 21.8
    assert "mgrs" not in stored["properties"]
    assert stored["properties"]["uncertainty_m"] == 300.71  # 300 given + the 1 m square's
    # Read back as every other declaration (the owner's detail; another party sees nothing).
    detail = service.get(f"{PATH}/{response.json()['id']}", "blue-officer").json()
    assert detail["feature"] == stored
    assert service.get(f"{PATH}/{response.json()['id']}", "red-officer").status_code == 404


def test_an_amendment_may_type_its_point_too(service: Service) -> None:
    created = service.post(PATH, "blue-officer", json=POSITION).json()
    amended = service.client.put(
        f"{PATH}/{created['id']}",
        headers=service.auth("blue-officer"),
        json=typed_position("34REP7748003926"),
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["feature"]["geometry"]["type"] == "Point"


BAD = [
    ("34R FH 12345 67890", None, "does not lie in latitude band R"),
    ("34R EP 7748 039", None, "the same number"),
    ("34REP7748003926\n", None, "one line of text"),
    ("34REP", None, "limits.uncertainty_m"),  # a 100 km square: 70 km either way
    (["34REP7748003926"], None, "must be a string"),
    (TYPED, {"type": "Point", "coordinates": [21.77, 25.35]}, "not both"),
]


def test_a_bad_reference_is_refused_naming_the_field_with_nothing_declared(
    service: Service,
) -> None:
    before = counts(service)
    for reference, geometry, says in BAD:
        feature = typed_position(reference)
        if geometry is not None:
            feature["geometry"] = geometry
        problem = assert_problem(service.post(PATH, "blue-officer", json=feature), 422)
        assert fields(problem) == {"properties.mgrs"}, reference
        assert any(says in error["message"] for error in problem["errors"]), problem
    # An uncertainty no float holds, beside a reference: named, not replaced, not a 500.
    huge = typed_position(TYPED, uncertainty_m=10**400)
    problem = assert_problem(service.post(PATH, "blue-officer", json=huge), 422)
    assert fields(problem) == {"properties.uncertainty_m"}
    assert counts(service) == before


def test_an_operation_typed_as_mgrs_is_proposed_at_the_squares_centre(service: Service) -> None:
    confirmed = service.post("/v1/phases/confirm", "hnc-notifier", json=AID)
    assert confirmed.status_code == 201  # coordinated operations are proposed from now on
    body = operation(0, 0, mgrs="34REP77480392")
    del body["geometry"]
    response = service.post("/v1/operations", "blue-officer", json=body)
    assert response.status_code == 201, response.text
    stored = response.json()["feature"]
    point = parse_point("34REP77480392")
    assert stored["geometry"] == {"type": "Point", "coordinates": [point.lon, point.lat]}
    assert stored["properties"]["uncertainty_m"] == 7.08 and "mgrs" not in stored["properties"]
    before = operation_rows(service)
    bad = operation(0, 0, mgrs="34REP7748039")
    del bad["geometry"]
    problem = assert_problem(service.post("/v1/operations", "blue-officer", json=bad), 422)
    assert fields(problem) == {"properties.mgrs"}
    assert operation_rows(service) == before


def test_the_coordinates_route_reads_what_a_person_typed(service: Service) -> None:
    answer = service.get("/v1/coordinates", "red-officer", params={"text": " 34r ep 7748 0392 "})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    point = parse_point("34REP77480392")
    assert body["lon"] == point.lon and body["lat"] == point.lat
    assert (body["kind"], body["text"], body["precision_m"]) == ("mgrs", "34R EP 7748 0392", 10)
    assert body["forms"]["mgrs"] == "34R EP 77485 03925"
    assert body["forms"]["decimal"].endswith("° E") and body["forms"]["dms"].endswith('"E')
    decimal = service.get("/v1/coordinates", "hnc-notifier", params={"text": "25.35, 21.77"})
    assert decimal.json()["kind"] == "decimal" and decimal.json()["precision_m"] is None
    for text in ("34R FH 12345 67890", "x" * 101, "25.3\n21.7", ""):
        problem = assert_problem(
            service.get("/v1/coordinates", "blue-officer", params={"text": text}), 422
        )
        assert fields(problem) == {"text"}
    assert service.client.get("/v1/coordinates", params={"text": TYPED}).status_code == 401
