"""``POST /v1/declarations/hidden``: a hidden declaration's changes under signed acts name
nothing in the record.

Under an agreement whose members sign their acts, every member's entry carries the act that
caused it, and every party reads its request line. ``PUT /v1/declarations/d-…`` there would
link a hidden declaration's versions and tell an amendment from a withdrawal, which the
``declaration.hidden`` entry exists to hide. So a hidden declaration is changed through one
request line, whatever the change, and the requests that would name it are refused before
anything is recorded.

The attack these tests play: red takes the record home (``accord record fetch``) after blue
declared, amended and withdrew hidden positions, and looks in every entry for anything that
tells one of blue's hidden changes from another.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.center.declarations.entries import HIDDEN_CHANGES
from support.devices import by_key, device_position, gateway_key
from support.disclosure import export_entries
from support.failures import assert_problem
from support.service import Service, center_of

PATH = "/v1/declarations"
HIDDEN = f"{PATH}/hidden"


def position(name: str, *, disclosure: str | None = "center", lon: float = 21.25) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "kind": "position",
        "party": "blue",
        "name": name,
        "uncertainty_m": 60,
        "valid_from": "2026-09-21T15:59:00Z",
        "valid_to": "2026-09-21T16:05:00Z",
    }
    if disclosure is not None:
        properties["disclosure"] = disclosure
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 25.02]},
        "properties": properties,
    }


def changed(service: Service, *changes: dict[str, Any], user: str = "blue-officer") -> list[Any]:
    answer = service.post(HIDDEN, user, json={"changes": list(changes)})
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["items"]
    assert len(items) == len(changes)
    return items


def size(service: Service) -> int:
    center = center_of(service)
    with center.reading() as session:
        return center.log(session).size


def actions(value: Any) -> Iterator[str]:
    """Every ``action`` anywhere in a decoded entry."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "action" and isinstance(item, str):
                yield item
            yield from actions(item)
    elif isinstance(value, list):
        for item in value:
            yield from actions(item)


def test_every_hidden_change_has_one_request_line_and_names_nothing(
    signed_service: Service, tmp_path: Path
) -> None:
    service = signed_service
    before = size(service)
    first, second = changed(
        service,
        {"change": "declare", "feature": position("Alpha")},
        {"change": "declare", "feature": position("Bravo", disclosure=None)},
    )
    assert (first["disclosure"], second["disclosure"]) == ("center", "center")
    assert first["opening"] is not None and second["opening"] is not None
    moved = position("Alpha", lon=21.26)
    (amended,) = changed(
        service, {"change": "amend", "id": first["id"], "version": 1, "feature": moved}
    )
    assert (amended["id"], amended["version"]) == (first["id"], 2)
    amended, withdrawn = changed(
        service,
        {"change": "amend", "id": first["id"], "feature": position("Alpha", lon=21.27)},
        {"change": "withdraw", "id": second["id"], "version": 1, "reason": "relieved"},
    )
    assert amended["version"] == 3
    assert (withdrawn["status"], withdrawn["withdrawn_reason"]) == ("withdrawn", "relieved")
    assert size(service) == before + 5
    # the owner's list says what happened
    mine = {d["id"]: d for d in service.get(PATH, "blue-officer").json()["items"]}
    assert (mine[first["id"]]["version"], mine[second["id"]]["status"]) == (3, "withdrawn")

    entries = export_entries(service, "red-officer", tmp_path / "red.jsonl")
    recorded = entries[before:]
    assert len(recorded) == 5
    for raw in recorded:
        text = raw.decode("utf-8")
        assert first["id"] not in text and second["id"] not in text
        decoded = json.loads(text)
        assert decoded["event"]["kind"] == "declaration.hidden"
        assert set(actions(decoded)) <= {HIDDEN_CHANGES}
    assert sum(1 for raw in recorded if HIDDEN_CHANGES in raw.decode()) == 3  # one per act
    # nothing of the three kinds of change tells them apart but their commitments
    shapes = {tuple(sorted(json.loads(raw)["event"])) for raw in recorded}
    assert shapes == {("commitment", "kind")}


@pytest.mark.parametrize("how", ["amend", "withdraw", "declare", "batch"])
def test_a_request_that_would_name_a_hidden_change_is_refused_and_records_nothing(
    signed_service: Service, how: str
) -> None:
    service = signed_service
    (hidden,) = changed(service, {"change": "declare", "feature": position("Alpha")})
    before = size(service)
    if how == "amend":
        answer = service.put(f"{PATH}/{hidden['id']}", "blue-officer", json=hidden["feature"])
        field = "declaration_id"
    elif how == "withdraw":
        answer = service.post(
            f"{PATH}/{hidden['id']}/withdraw", "blue-officer", json={"reason": "x"}
        )
        field = "declaration_id"
    elif how == "declare":
        answer = service.post(PATH, "blue-officer", json=position("Charlie"))
        field = "properties.disclosure"
    else:
        features = [position("Charlie", disclosure="shared"), position("Delta")]
        answer = service.post(f"{PATH}/batch", "blue-officer", json={"features": features})
        field = "features[1].properties.disclosure"
    problem = assert_problem(answer, 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert HIDDEN_CHANGES in problem["errors"][0]["message"]
    assert size(service) == before
    detail = service.get(f"{PATH}/{hidden['id']}", "blue-officer").json()
    assert (detail["version"], detail["status"]) == (1, "active")


def test_without_signed_acts_the_paths_still_change_hidden_declarations(service: Service) -> None:
    """Nothing of a request is recorded without members' acts: every route may."""
    made = service.post(PATH, "blue-officer", json=position("Alpha"))
    assert made.status_code == 201, made.text
    object_id = made.json()["id"]
    moved = service.put(f"{PATH}/{object_id}", "blue-officer", json=position("Alpha", lon=21.3))
    assert moved.status_code == 200, moved.text
    (withdrawn,) = changed(service, {"change": "withdraw", "id": object_id, "reason": "done"})
    assert (withdrawn["version"], withdrawn["status"]) == (2, "withdrawn")


def test_a_refused_change_names_itself_and_refuses_them_all(signed_service: Service) -> None:
    service = signed_service
    (hidden,) = changed(service, {"change": "declare", "feature": position("Alpha")})
    shared = service.post(PATH, "blue-officer", json=position("Open", disclosure="shared"))
    assert shared.status_code == 201, shared.text
    theirs = position("Red")
    theirs["properties"]["party"] = "red"
    (red,) = changed(service, {"change": "declare", "feature": theirs}, user="red-officer")
    before = size(service)
    declare = {"change": "declare", "feature": position("Echo")}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"change": "amend", "id": hidden["id"], "version": 7, "feature": position("A")}, 409,
         "changes[1].version"),
        ({"change": "amend", "id": shared.json()["id"],
          "feature": position("A", disclosure="shared")}, 422, "changes[1].id"),
        ({"change": "withdraw", "id": red["id"], "reason": "x"}, 422, "changes[1].id"),
        ({"change": "withdraw", "id": "d-0123456789abcdef", "reason": "x"}, 422, "changes[1].id"),
        ({"change": "declare", "feature": position("F", disclosure="shared")}, 422,
         "changes[1].feature.properties.disclosure"),
        ({"change": "declare", "feature": {**position("G"), "geometry": {"type": "Point"}}}, 422,
         "changes[1].feature.geometry"),
    ]  # fmt: skip
    problems = []
    for change, status, field in cases:
        answer = service.post(HIDDEN, "blue-officer", json={"changes": [declare, change]})
        problem = assert_problem(answer, status)
        problems.append(problem)
        assert field in {e["field"] for e in problem.get("errors", [])} or field in problem.get(
            "detail", ""
        ), (field, problem)
        assert size(service) == before, field
    # another party's hidden declaration answers exactly as an id nobody holds
    assert problems[2] == problems[3]
    listed = service.get(PATH, "blue-officer").json()["items"]
    assert "Echo" not in json.dumps(listed)


def test_a_device_reports_key_changes_its_hidden_device_positions_there_alone(
    signed_service: Service,
) -> None:
    service = signed_service
    key = gateway_key(service)
    body = {
        "changes": [{"change": "declare", "feature": device_position("GW-h", disclosure="center")}]
    }
    made = by_key(service, key, "POST", HIDDEN, body)
    assert made.status_code == 200, made.text
    (item,) = made.json()["items"]
    moved = copy.deepcopy(item["feature"])
    moved["geometry"]["coordinates"] = [21.26, 25.03]
    amend = {"changes": [{"change": "amend", "id": item["id"], "feature": moved}]}
    assert by_key(service, key, "POST", HIDDEN, amend).status_code == 200
    plain = position("Plain")
    refused = [
        {"changes": [{"change": "declare", "feature": plain}]},
        {"changes": [{"change": "amend", "id": item["id"], "feature": plain}]},
        {"changes": [{"change": "declare", "feature": device_position("GW-2", disclosure="center")},
                     {"change": "withdraw", "id": "d-0123456789abcdef", "reason": "x"}]},
    ]  # fmt: skip
    for request in refused:
        problem = assert_problem(by_key(service, key, "POST", HIDDEN, request), 403)
        assert problem["errors"][0]["field"] == "Accord-Act-Key", problem
    gone = {"changes": [{"change": "withdraw", "id": item["id"], "reason": "off"}]}
    assert by_key(service, key, "POST", HIDDEN, gone).status_code == 200


def test_one_request_changes_at_most_a_thousand(signed_service: Service) -> None:
    service = signed_service
    before = size(service)
    declare = {"change": "declare", "feature": position("Alpha")}
    problem = assert_problem(
        service.post(HIDDEN, "blue-officer", json={"changes": [declare] * 1001}), 422
    )
    assert any(e["field"].startswith("changes") for e in problem["errors"]), problem
    assert_problem(service.post(HIDDEN, "blue-officer", json={"changes": []}), 422)
    assert size(service) == before
    made = changed(service, *[declare] * 300)
    assert len({m["id"] for m in made}) == 300
    assert size(service) == before + 300
