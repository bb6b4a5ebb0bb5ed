"""``accord check``: exit codes, the JSON document, disclosure by viewer, and bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from accord.cli import app
from accord.examples import example_path
from support.failures import assert_clean_failure

JIG = example_path("jig.yaml")
WORLD = example_path("world.geojson")
HIDDEN_ID = "pos-red-bn-3"
# Every coordinate of the red battalion's `center` polygon, as the file writes them.
HIDDEN_COORDINATES = ("21.23", "21.262", "25.01", "25.034")


def run(*args: str | Path) -> Result:
    # typer's CliRunner keeps stdout and stderr apart (result.stdout / result.stderr) and
    # mixes both into result.output.
    return CliRunner().invoke(app, ["check", *map(str, args)])


def check_json(*extra: str | Path, world: Path = WORLD, agreement: Path = JIG) -> Result:
    return run("--agreement", agreement, world, "--format", "json", *extra)


def world_data() -> dict[str, Any]:
    return json.loads(WORLD.read_text(encoding="utf-8"))


def write_world(tmp_path: Path, data: dict[str, Any], name: str = "world.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def feature_of(data: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in data["features"] if f["properties"]["id"] == fid)


def conflicts_of(report: dict[str, Any], op_id: str) -> list[dict[str, Any]]:
    (op,) = [op for op in report["operations"] if op["id"] == op_id]
    return op["conflicts"]


@pytest.fixture(scope="module")
def center_result() -> Result:
    return check_json()


@pytest.fixture(scope="module")
def center_report(center_result) -> dict[str, Any]:
    return json.loads(center_result.stdout)


@pytest.fixture(scope="module")
def blue_result() -> Result:
    return check_json("--as", "blue")


@pytest.fixture(scope="module")
def blue_report(blue_result) -> dict[str, Any]:
    return json.loads(blue_result.stdout)


# --- the example world ----------------------------------------------------------------------


def test_example_exits_1_with_blocking_conflicts(center_result, center_report):
    assert center_result.exit_code == 1
    assert center_result.stderr == ""
    assert center_report["summary"]["conflicts_blocking"] >= 1


def test_json_shape(center_report):
    assert set(center_report) == {"operations", "designated_areas", "summary"}
    assert [op["id"] for op in center_report["operations"]] == ["op-c1", "op-c2", "op-s1", "op-i1"]
    for op in center_report["operations"]:
        assert {"id", "category", "conflicts"} <= set(op)
        assert isinstance(op["conflicts"], list)
        for conflict in op["conflicts"]:
            assert {"kind", "with", "party", "distance_m", "blocking"} <= set(conflict)
            assert isinstance(conflict["distance_m"], float)
            assert conflict["distance_m"] >= 0
            assert isinstance(conflict["blocking"], bool)
    summary = center_report["summary"]
    assert summary["operations"] == 4
    assert summary["operations_blocked"] == 2
    assert summary["conflicts"] == 2
    assert summary["conflicts_blocking"] == 2
    assert summary["conflicts_by_kind"] == {"position": 1, "protected_site": 1}
    assert summary["viewer"] == "center"


def test_categories_in_json(center_report):
    categories = {op["id"]: op["category"] for op in center_report["operations"]}
    assert categories == {
        "op-c1": "coordinated",
        "op-c2": "coordinated",
        "op-s1": "synchronized",
        "op-i1": "imminent_threat",
    }


def test_hospital_conflict_blocks(center_report):
    (conflict,) = conflicts_of(center_report, "op-c2")
    assert conflict["with"] == "site-hospital-east"
    assert conflict["kind"] == "protected_site"
    assert conflict["party"] == "hnc"
    assert conflict["blocking"] is True
    assert 0 < conflict["distance_m"] < 2000


def test_hidden_position_conflict_shown_to_the_center(center_report):
    (conflict,) = conflicts_of(center_report, "op-s1")
    assert conflict["with"] == HIDDEN_ID
    assert conflict["kind"] == "position"
    assert conflict["party"] == "red"
    assert conflict["blocking"] is True


def test_clear_operations_have_no_conflicts(center_report):
    assert conflicts_of(center_report, "op-c1") == []
    assert conflicts_of(center_report, "op-i1") == []


# --- disclosure -----------------------------------------------------------------------------


def test_as_blue_redacts_the_red_center_position(blue_result, blue_report, center_report):
    assert blue_result.exit_code == 1
    (conflict,) = conflicts_of(blue_report, "op-s1")
    (unredacted,) = conflicts_of(center_report, "op-s1")
    assert conflict["with"] is None
    assert conflict["party"] == "red"
    assert conflict["kind"] == "position"
    assert conflict["blocking"] is True
    # No number about a hidden object: not its distance, not its threshold.
    assert conflict["distance_m"] is None and "threshold_m" not in conflict
    assert unredacted["distance_m"] is not None and "threshold_m" in unredacted
    assert blue_report["summary"]["viewer"] == "blue"


def test_as_blue_leaks_neither_id_nor_coordinates(blue_result):
    assert HIDDEN_ID not in blue_result.output
    for text in HIDDEN_COORDINATES:
        assert text not in blue_result.output


def test_as_blue_still_sees_shared_objects(blue_report):
    (conflict,) = conflicts_of(blue_report, "op-c2")
    assert conflict["with"] == "site-hospital-east"


def test_as_blue_text_table_is_redacted():
    result = run("--agreement", JIG, WORLD, "--as", "blue")
    assert result.exit_code == 1
    assert "op-s1" in result.stdout
    assert "(undisclosed)" in result.stdout
    assert HIDDEN_ID not in result.output
    for text in HIDDEN_COORDINATES:
        assert text not in result.output


def test_as_red_shows_its_own_position():
    result = check_json("--as", "red")
    assert result.exit_code == 1
    (conflict,) = conflicts_of(json.loads(result.stdout), "op-s1")
    assert conflict["with"] == HIDDEN_ID
    assert conflict["party"] == "red"


def test_as_unknown_party_exits_2():
    result = check_json("--as", "purple")
    assert_clean_failure(result)
    assert "purple" in result.stderr


def test_as_notifier_sees_no_operations():
    result = check_json("--as", "hnc")
    assert "op-c1" not in result.stdout
    assert "op-s1" not in result.stdout


# --- exit codes -----------------------------------------------------------------------------


def test_world_without_blocking_conflicts_exits_0(tmp_path):
    data = world_data()
    data["features"] = [
        f
        for f in data["features"]
        if f["properties"]["id"] not in {"op-c2", "op-s1", "fp-green-17"}
    ]
    result = check_json(world=write_world(tmp_path, data))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [op["id"] for op in report["operations"]] == ["op-c1", "op-i1"]
    assert report["summary"]["conflicts_blocking"] == 0


def test_warnings_alone_exit_0(tmp_path):
    data = world_data()
    data["features"] = [
        f
        for f in data["features"]
        if f["properties"]["id"] not in {"op-c2", "op-s1", "fp-green-17"}
    ]
    twin = copy.deepcopy(feature_of(data, "op-c1"))
    twin["properties"]["id"] = "op-c1-twin"
    twin["geometry"]["coordinates"] = [21.43, 25.12]
    data["features"].append(twin)
    result = check_json(world=write_world(tmp_path, data))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (conflict,) = conflicts_of(report, "op-c1")
    assert conflict["kind"] == "operation"
    assert conflict["with"] == "op-c1-twin"
    assert conflict["blocking"] is False
    assert report["summary"]["conflicts"] == 2
    assert report["summary"]["conflicts_blocking"] == 0


def test_text_format_prints_a_table():
    result = run("--agreement", JIG, WORLD)
    assert result.exit_code == 1
    for op_id in ("op-c1", "op-c2", "op-s1", "op-i1"):
        assert op_id in result.stdout
    assert "site-hospital-east" in result.stdout
    assert "BLOCKS" in result.stdout
    assert "clear" in result.stdout
    assert "4 operations, 2 blocked, 2 conflicts (2 blocking)" in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


# --- bad input ------------------------------------------------------------------------------


def test_bad_feature_exits_2_naming_feature_and_field(tmp_path):
    data = world_data()
    feature_of(data, "op-c1")["geometry"]["coordinates"] = [21.42, 95.0]
    result = check_json(world=write_world(tmp_path, data))
    assert_clean_failure(result)
    assert "'op-c1'" in result.stderr
    assert "geometry.coordinates" in result.stderr
    assert "latitude 95" in result.stderr


def test_several_bad_features_are_all_named(tmp_path):
    data = world_data()
    feature_of(data, "op-c1")["properties"]["window_start"] = "2026-09-21T02:00:00"
    feature_of(data, "pos-blue-coy-1")["properties"]["party"] = "purple"
    result = check_json(world=write_world(tmp_path, data))
    assert_clean_failure(result)
    assert "2 problems" in result.stderr
    assert "'op-c1'" in result.stderr
    assert "properties.window_start" in result.stderr
    assert "'pos-blue-coy-1'" in result.stderr
    assert "properties.party" in result.stderr


def test_invalid_json_world_exits_2(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n', encoding="utf-8")
    result = check_json(world=path)
    assert_clean_failure(result)
    assert "not valid JSON" in result.stderr


def test_missing_world_file_exits_2(tmp_path):
    path = tmp_path / "absent.geojson"
    result = check_json(world=path)
    assert_clean_failure(result)
    assert str(path) in result.stderr
    assert "cannot read file" in result.stderr


def test_missing_agreement_file_exits_2(tmp_path):
    path = tmp_path / "absent.yaml"
    result = check_json(agreement=path)
    assert_clean_failure(result)
    assert "cannot read file" in result.stderr


def test_bad_agreement_exits_2_naming_the_line(tmp_path):
    lines = JIG.read_text(encoding="utf-8").splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.strip().startswith("max_executors:")]
    lines[index] = "    max_executors: 0\n"
    path = tmp_path / "jig.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    result = check_json(agreement=path)
    assert_clean_failure(result)
    assert f"line {index + 1}" in result.stderr
    assert "categories.coordinated.max_executors" in result.stderr


def test_bad_agreement_yaml_syntax_exits_2(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: demo\ntitle: [unclosed\n", encoding="utf-8")
    result = check_json(agreement=path)
    assert_clean_failure(result)
    assert "not valid YAML" in result.stderr


def test_unknown_format_is_a_usage_error():
    result = run("--agreement", JIG, WORLD, "--format", "xml")
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize("case", ["time-out-of-range", "duration-too-long", "deep-json"])
def test_pathological_input_exits_2(tmp_path, case):
    world, agreement = WORLD, JIG
    if case == "time-out-of-range":
        data = world_data()
        feature_of(data, "op-c1")["properties"]["window_start"] = "0001-01-01T00:00:00+01:00"
        world = write_world(tmp_path, data)
    elif case == "duration-too-long":
        agreement = tmp_path / "jig.yaml"
        agreement.write_text(
            JIG.read_text(encoding="utf-8").replace("notice: PT6H", "notice: P9999999999D"),
            encoding="utf-8",
        )
    else:
        world = tmp_path / "deep.geojson"
        world.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    assert_clean_failure(check_json(world=world, agreement=agreement))


def test_designated_area_violation_refuses_and_exempt_passes():
    result = check_json()
    report = json.loads(result.stdout)
    verdicts = {a["flight"]: a["verdict"] for a in report["designated_areas"]}
    assert verdicts == {"fp-green-17": "violation", "fp-green-medevac-2": "exempt"}
    assert report["summary"]["designated_area_violations"] == 1
    assert report["summary"]["designated_area_exempt"] == 1


def test_violation_alone_exits_1(tmp_path):
    data = world_data()
    data["features"] = [
        f for f in data["features"] if f["properties"]["id"] not in {"op-c2", "op-s1"}
    ]
    result = check_json(world=write_world(tmp_path, data))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["conflicts_blocking"] == 0


def test_other_partys_center_operation_is_not_listed(tmp_path):
    data = world_data()
    hidden = copy.deepcopy(feature_of(data, "op-i1"))
    hidden["properties"].update(id="op-red-hidden", disclosure="center")
    data["features"].append(hidden)
    path = write_world(tmp_path, data)
    blue = check_json("--as", "blue", world=path)
    assert "op-red-hidden" not in blue.stdout
    red = json.loads(check_json("--as", "red", world=path).stdout)
    assert "op-red-hidden" in [op["id"] for op in red["operations"]]
