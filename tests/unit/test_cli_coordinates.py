"""``accord coordinates TEXT``: a typed point printed in all three forms (text and JSON),
a bad one refused with exit 2 and the reason; and ``accord check`` reading a world file
whose position is typed as ``properties.mgrs``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.coordinates import parse_point
from accord.examples import example_path
from support.failures import assert_clean_failure


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_a_reference_in_all_three_forms() -> None:
    result = run("coordinates", "34r ep 7748 0392")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "read as   MGRS 34R EP 7748 0392 (a 10 m square: its centre, the true point within 7.07 m)"
    )
    assert lines[1] == "MGRS      34R EP 77485 03925"
    assert lines[2].startswith("decimal   25.3499") and lines[3].startswith("DMS       25°20'")
    point = parse_point("34REP77480392")
    assert lines[4] == f"lon, lat  {point.lon!r}, {point.lat!r}  (GeoJSON order)"


def test_json_and_a_negative_latitude_after_the_separator() -> None:
    result = run("coordinates", "--format", "json", "--", "-25.3, 21.7")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert (answer["lon"], answer["lat"], answer["kind"]) == (21.7, -25.3, "decimal")
    assert (
        answer["precision_m"] is None and answer["forms"]["decimal"] == "25.30000° S, 21.70000° E"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("34R FH 12345 67890", "does not lie in latitude band R"),
        ("121.3, 25.3", "the first number is the latitude"),
        ("34REP\n7748", "one line of text"),
    ],
)
def test_no_point_is_exit_2_with_the_reason(text: str, says: str) -> None:
    result = run("coordinates", text)
    assert_clean_failure(result)
    assert "field 'TEXT'" in result.stderr and says in result.stderr


def test_check_reads_a_world_whose_position_is_typed_as_mgrs(tmp_path: Path) -> None:
    world = json.loads(Path(example_path("world.geojson")).read_text(encoding="utf-8"))
    (position,) = [f for f in world["features"] if f["properties"]["id"] == "pos-blue-coy-1"]
    position["geometry"] = None
    position["properties"]["mgrs"] = "34R EN 3536 4506"
    path = tmp_path / "world.geojson"
    path.write_text(json.dumps(world), encoding="utf-8")
    result = run("check", "--agreement", str(example_path("jig.yaml")), str(path), "-f", "json")
    assert result.exit_code in (0, 1), result.output  # read: the check ran
    position["properties"]["mgrs"] = "34R EN 3536 450"
    path.write_text(json.dumps(world), encoding="utf-8")
    bad = run("check", "--agreement", str(example_path("jig.yaml")), str(path))
    assert_clean_failure(bad)
    assert "feature 'pos-blue-coy-1', field 'properties.mgrs'" in bad.stderr
