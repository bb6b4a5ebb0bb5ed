"""Files read by the command line mean one thing or are refused, naming the file and the field.

* A world, a track file, an ``--event``, a trusted head or a witness's state naming a key
  twice (or holding ``NaN``) exits 2 naming the file and the key's path.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from accord.cli import app
from accord.examples import example_path
from unit.test_record_verify import ORIGIN

JIG = example_path("jig.yaml")
WORLD = example_path("world.geojson")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def _twice(text: str, old: str, new: str) -> str:
    """``text`` with the pair ``old`` sent once more as ``new`` right after it."""
    assert old in text
    return text.replace(old, f"{old}, {new}", 1)


# --- the command line's JSON readers ----------------------------------------------------------


def test_check_refuses_a_world_naming_a_key_twice(tmp_path: Path) -> None:
    text = WORLD.read_text(encoding="utf-8")
    features = json.loads(text)["features"]
    hidden = next(i for i, f in enumerate(features) if f["properties"]["disclosure"] == "center")
    # the first hidden feature's disclosure said twice, the public value last (Python keeps it)
    world = tmp_path / "world.geojson"
    world.write_text(_twice(text, '"disclosure": "center"', '"disclosure": "shared"'))
    result = run("check", "--agreement", JIG, world)
    assert result.exit_code == 2, result.output
    assert str(world) in result.stderr
    assert f"features[{hidden}].properties.disclosure" in result.stderr
    assert "Traceback" not in result.output


def test_check_names_the_field_of_nan(tmp_path: Path) -> None:
    text = WORLD.read_text(encoding="utf-8")
    world = tmp_path / "world.geojson"
    world.write_text(text.replace('"disclosure"', '"uncertainty_m": NaN, "disclosure"', 1))
    result = run("check", "--agreement", JIG, world)
    assert result.exit_code == 2, result.output
    assert "uncertainty_m" in result.stderr and str(world) in result.stderr


def test_airspace_refuses_a_track_file_naming_a_key_twice(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.7, 24.9]},
        "properties": {
            "id": "blue-c130-11",
            "operator": "blue",
            "party": "blue",
            "mission": "transport",
            "time": "2026-09-20T10:00:00Z",
            "alt_ft": 24000,
            "gs_kt": 420,
            "track_deg": 90,
            "vs_fpm": 0,
        },
    }
    good = {"type": "FeatureCollection", "features": [feature, feature | {}]}
    text = _twice(json.dumps(good), '"mission": "transport"', '"mission": "medevac"')
    tracks = tmp_path / "tracks.geojson"
    tracks.write_text(text, encoding="utf-8")
    result = run("airspace", "--agreement", JIG, tracks)
    assert result.exit_code == 2, result.output
    assert str(tracks) in result.stderr
    assert "features[0].properties.mission" in result.stderr
    # once, the same file is read
    tracks.write_text(json.dumps(good), encoding="utf-8")
    assert run("airspace", "--agreement", JIG, tracks).exit_code in (0, 1)


def test_record_append_refuses_an_event_naming_a_key_twice(tmp_path: Path) -> None:
    key = tmp_path / "blue.key"
    assert run("keys", "new", "blue", "--dir", tmp_path).exit_code == 0
    result = run(
        "record",
        "append",
        tmp_path / "log.sqlite",
        "--key",
        key,
        "--origin",
        ORIGIN,
        "--event",
        '{"kind": "note", "kind": "other"}',
    )
    assert result.exit_code == 2, result.output
    assert "--event" in result.stderr and "'kind'" in result.stderr
