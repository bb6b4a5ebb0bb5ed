"""Files read by the command line mean one thing or are refused, naming the file and the field.

* A world, a track file, an ``--event``, a trusted head or a witness's state naming a key
  twice (or holding ``NaN``) exits 2 naming the file and the key's path.
* A head whose plain fields (``size``, ``root``, ``timestamp``, ``origin``) contradict its
  signed note — in an export's head line, a log file's ``heads`` table or a HEAD.json — is
  not verified, and the refusal names the fields.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from accord.examples import example_path
from accord.record.log import MerkleLog
from accord.record.verify import VerificationError, verify_log
from support.cli import run
from support.sample_log import ORIGIN, RING, build

JIG = example_path("jig.yaml")
WORLD = example_path("world.geojson")


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


# --- a head's plain fields against its signed note ----------------------------------------------


@pytest.fixture
def logged(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A log file, its export and the key ring's file."""
    log = tmp_path / "log.sqlite"
    build(log).log.close()
    export = tmp_path / "log.jsonl"
    with MerkleLog.open(log, ORIGIN) as opened, export.open("w", encoding="utf-8") as out:
        opened.export_jsonl(out)
    keys = tmp_path / "KEYS.json"
    keys.write_text(json.dumps(RING.to_json()), encoding="utf-8")
    return log, export, keys


def _with_head(export: Path, change: dict[str, Any], out: Path) -> Path:
    lines = export.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[-1])
    head["head"] |= change
    out.write_text("\n".join([*lines[:-1], json.dumps(head)]) + "\n", encoding="utf-8")
    return out


def _head_of(export: Path) -> dict[str, Any]:
    head: dict[str, Any] = json.loads(export.read_text(encoding="utf-8").splitlines()[-1])["head"]
    return head


@pytest.mark.parametrize(
    "change",
    [
        {"size": 13},
        {"size": "12"},
        {"root": base64.b64encode(bytes(32)).decode()},
        {"timestamp": 1},
        {"origin": "accord.example/other"},
        {"size": 11, "root": base64.b64encode(bytes(32)).decode()},
    ],
)
def test_an_export_head_contradicting_its_note_is_refused(
    logged: tuple[Path, Path, Path], tmp_path: Path, change: dict[str, Any]
) -> None:
    _, export, keys = logged
    assert verify_log(export, keys=RING, workers=1).head_size == 12
    bent = _with_head(export, change, tmp_path / "bent.jsonl")
    with pytest.raises(VerificationError) as refused:
        verify_log(bent, keys=RING, workers=1)
    message = str(refused.value)
    for name in change:
        assert name in message.split(":")[0] or f"{name} " in message, (name, message)
    assert "line 13" in message
    result = run("verify", bent, "--keys", keys)
    assert result.exit_code == 1, result.output
    assert "NOT VERIFIED" in result.stderr and "VERIFIED\n" not in result.stdout
    for name in change:
        assert name in result.stderr


def test_an_export_head_restating_its_note_verifies(
    logged: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, export, keys = logged
    head = _head_of(export)
    same = _with_head(export, {"origin": ORIGIN, "size": head["size"]}, tmp_path / "same.jsonl")
    assert verify_log(same, keys=RING, workers=1).head_size == 12
    result = run("verify", same, "--keys", keys)
    assert result.exit_code == 0, result.output


def test_an_export_head_naming_a_key_twice_is_refused(
    logged: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, export, _ = logged
    lines = export.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].replace('"size":12', '"size":13,"size":12')
    assert '"size":13' in lines[-1]
    bent = tmp_path / "twice.jsonl"
    bent.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(VerificationError) as refused:
        verify_log(bent, keys=RING, workers=1)
    assert "line 13" in str(refused.value) and "size" in str(refused.value)


@pytest.mark.parametrize("column", ["root", "size", "timestamp"])
def test_a_log_file_head_row_contradicting_its_note_is_refused(
    logged: tuple[Path, Path, Path], column: str
) -> None:
    log, _, keys = logged
    value: Any = {"root": bytes(32), "size": 99, "timestamp": 5}[column]
    db = sqlite3.connect(log)
    db.execute(f"UPDATE heads SET {column} = ?", (value,))
    db.commit()
    db.close()
    for workers in (1, 2):
        with pytest.raises(VerificationError) as refused:
            verify_log(log, keys=RING, workers=workers)
        assert column in str(refused.value) and "signed note" in str(refused.value)
    result = run("verify", log, "--keys", keys)
    assert result.exit_code == 1 and column in result.stderr


def test_a_trusted_head_file_contradicting_or_doubling_is_refused(
    logged: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    log, export, keys = logged
    head = {"origin": ORIGIN, **_head_of(export)}
    trusted = tmp_path / "HEAD.json"
    trusted.write_text(json.dumps(head), encoding="utf-8")
    assert run("verify", log, "--keys", keys, "--trusted-head", trusted).exit_code == 0
    trusted.write_text(json.dumps(head | {"size": 3}), encoding="utf-8")
    result = run("verify", log, "--keys", keys, "--trusted-head", trusted)
    assert result.exit_code == 2 and "size" in result.stderr, result.output
    trusted.write_text(_twice(json.dumps(head), '"size": 12', '"size": 3'), encoding="utf-8")
    result = run("verify", log, "--keys", keys, "--trusted-head", trusted)
    assert result.exit_code == 2, result.output
    assert str(trusted) in result.stderr and "'size'" in result.stderr
    assert "Traceback" not in result.output
