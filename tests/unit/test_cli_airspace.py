"""``accord airspace``: what it prints, exit codes, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from accord.cli import app
from accord.examples import example_path
from support.failures import assert_clean_failure

JIG = example_path("jig.yaml")
TRACKS = example_path("tracks.csv")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["airspace", *map(str, args)])


def test_the_example_tracks_as_json() -> None:
    result = run("--agreement", JIG, TRACKS, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["now"] == "2026-09-20T10:00:00Z"
    assert report["separation"] == {
        "horizontal_nm": 5.0,
        "vertical_ft": 1000.0,
        "lookahead_s": 300.0,
    }
    (conflict,) = report["conflicts"]
    assert (conflict["a"], conflict["b"]) == ("blue-c130-11", "red-il76-4")
    assert (conflict["a_party"], conflict["b_party"]) == ("blue", "red")
    assert conflict["lost"] is False
    assert 60 < conflict["tlos_s"] < conflict["tcpa_s"] < 120
    assert conflict["dcpa_nm"] < 0.1
    areas = {a["track"]: a for a in report["designated_areas"]}
    assert areas["green-f16-17"]["verdict"] == "violation"
    assert areas["green-f16-17"]["inside"] is False
    assert areas["green-uh1-2"]["verdict"] == "exempt" and areas["green-uh1-2"]["inside"]
    assert report["summary"] == {
        "tracks": 9,
        "stale_reports_dropped": 1,
        "conflicts": 1,
        "lost_now": 0,
        "designated_area_violations": 1,
        "designated_area_exempt": 1,
    }


def test_the_example_tracks_as_text() -> None:
    result = run("--agreement", JIG, TRACKS)
    assert result.exit_code == 1
    assert "blue-c130-11 – red-il76-4" in result.stdout
    assert "VIOLATION" in result.stdout and "inside now" in result.stdout
    # the two aircraft exactly 1,000 ft apart are not listed
    assert "kc135" not in result.stdout


def test_nothing_to_report_exits_0(tmp_path: Path) -> None:
    lines = TRACKS.read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [
        line for line in lines[1:] if line.startswith(("blue-kc135", "red-an26", "green-uh1"))
    ]
    path = tmp_path / "calm.csv"
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    result = run("--agreement", JIG, path, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["designated_area_exempt"] == 1


def test_at_moves_the_instant(tmp_path: Path) -> None:
    # three minutes later the head-on pair has passed and the strike aircraft is inside
    result = run("--agreement", JIG, TRACKS, "--format", "json", "--at", "2026-09-20T10:03:00Z")
    report = json.loads(result.stdout)
    assert report["conflicts"] == []
    areas = {a["track"]: a for a in report["designated_areas"]}
    assert areas["green-f16-17"]["inside"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "id,operator,party,mission,time,lat,lon,alt_ft,gs_kt,track_deg,vs_fpm\n"
            "x,blue,blue,transport,2026-09-20T10:00:00Z,25,21,30000,2500,90,0\n",
            "line 2, feature 'x', field 'gs_kt': ground speed 2500 kt is over Mach 3",
        ),
        ("id,operator\n", "line 1, field 'lat': is a required column"),
    ],
)
def test_bad_csv(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = run("--agreement", JIG, path)
    assert_clean_failure(result)
    assert str(path) in result.stderr
    assert expected in result.stderr


def test_bad_geojson(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    feature = {
        "type": "Feature",
        "id": "r9",
        "geometry": {"type": "Point", "coordinates": [21.0, 25.0, 9000]},
        "properties": {
            "operator": "red",
            "party": "red",
            "mission": "patrol",
            "time": "2026-09-20T10:00:00Z",
            "alt_ft": -2000,
            "gs_kt": 300,
            "track_deg": 0,
            "vs_fpm": 0,
        },
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    result = run("--agreement", JIG, path)
    assert_clean_failure(result)
    assert "feature 'r9', field 'geometry.coordinates'" in result.stderr
    assert (
        "feature 'r9', field 'properties.alt_ft': altitude -2000 ft is impossible" in result.stderr
    )


def test_bad_at_missing_file_and_bad_agreement(tmp_path: Path) -> None:
    assert_clean_failure(run("--agreement", JIG, TRACKS, "--at", "2026-09-20T10:00:00"))
    assert_clean_failure(run("--agreement", JIG, tmp_path / "none.csv"))
    bad = tmp_path / "a.yaml"
    bad.write_text("id: [\n", encoding="utf-8")
    assert_clean_failure(run("--agreement", bad, TRACKS))
