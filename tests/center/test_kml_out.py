"""``GET /v1/world.kml`` and ``.kmz``, and ``accord export``: exactly what ``GET /v1/world``
and ``GET /v1/operations`` answer the same caller, drawn — read back by ``fastkml``; blue's
hidden site is in blue's file and nowhere in red's (no name, no coordinate, no circle)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord.cli import app as cli
from accord.cli_export import ExportFormat, fetch_world
from accord.examples import example_path
from accord.kml.write import KML_MEDIA_TYPE, KMZ_MEDIA_TYPE
from support.kml import extended, placemarks
from support.service import Service

HIDDEN_SITE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.6123457, 25.4123457]},
    "properties": {
        "kind": "protected_site",
        "category": "depot",
        "name": "KML-SECRET-SITE",
        "disclosure": "center",
        "standoff_m": 1500,
    },
}
SHARED_SITE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.85, 25.05]},
    "properties": {
        "kind": "protected_site",
        "category": "school",
        "name": "Shared school <&>",
        "disclosure": "shared",
        "standoff_m": 800,
    },
}
POSITION = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.7, 25.3]},
    "properties": {
        "kind": "position",
        "party": "red",
        "name": "Red coy",
        "disclosure": "shared",
        "valid_from": "2026-09-21T00:00:00Z",
        "valid_to": "2026-09-23T00:00:00Z",
    },
}
OPERATION = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.615, 25.414]},
    "properties": {
        "kind": "operation",
        "category": "coordinated",
        "executors": ["red"],
        "radius_m": 500,
        "window_start": "2026-09-21T18:00:00Z",
        "window_end": "2026-09-21T20:00:00Z",
    },
}


@pytest.fixture
def seeded(service: Service) -> dict[str, str]:
    confirm = {"condition": "aid-delivered-east-city"}
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=confirm).status_code == 201
    ids = {}
    for key, user, feature in (
        ("hidden", "blue-officer", HIDDEN_SITE),
        ("shared", "blue-officer", SHARED_SITE),
        ("position", "red-officer", POSITION),
    ):
        made = service.post("/v1/declarations", user, json=feature)
        assert made.status_code == 201, made.text
        ids[key] = str(made.json()["id"])
    proposed = service.post("/v1/operations", "red-officer", json=OPERATION)
    assert proposed.status_code == 201, proposed.text
    ids["operation"] = proposed.json()["id"]
    return ids


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_reader_gets_exactly_its_world_drawn(service: Service, seeded: dict[str, str]) -> None:
    areas = len(service.get("/v1/agreement", "red-officer").json()["designated_areas"])
    for user in ("blue-officer", "red-officer", "red-approver", "hnc-notifier", "observer"):
        answer = service.get("/v1/world.kml", user)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(KML_MEDIA_TYPE)
        assert "attachment" in answer.headers["content-disposition"]
        world = service.get("/v1/world", user).json()["features"]
        read = placemarks(answer.content)
        drawn = [extended(p) for p in read]
        declared = {d["accord_id"] for d in drawn if d["kind"] not in ("designated_area",)}
        # the declarations are those of /v1/world, no more, no fewer
        ids = {f["properties"]["id"] for f in world}
        operations = {d["accord_id"] for d in drawn if d["kind"] == "operation"}
        assert declared - operations == ids, user
        assert sum(d["kind"] == "designated_area" for d in drawn) == areas
        if user == "hnc-notifier":
            assert operations == set()  # a notifier sees nothing of anyone's operations
        else:
            assert operations == {seeded["operation"]}
        # every placemark names its record index
        assert all("record_index" in d for d in drawn if d["kind"] != "designated_area")
        text = answer.text
        sees_hidden = user == "blue-officer"
        for secret in ("KML-SECRET-SITE", "21.612345", "25.412345", seeded["hidden"], "1500"):
            assert (secret in text) is sees_hidden, (user, secret)
    # blue's own hidden site: drawn with its standoff circle; red's operation beside it says
    # to red that it is blocked by a hidden site of blue's, no more
    blue = {
        (extended(p)["kind"], extended(p)["accord_id"])
        for p in placemarks(service.get("/v1/world.kml", "blue-officer").content)
    }
    assert {("protected_site", seeded["hidden"]), ("standoff", seeded["hidden"])} <= blue
    red = placemarks(service.get("/v1/world.kml", "red-officer").content)
    (op,) = [p for p in red if extended(p)["kind"] == "operation"]
    assert "blocked by a hidden protected site of blue" in op.description
    assert not re.search(r"blocked by a hidden[^<]* m\b", op.description)
    assert extended(op)["status"] == "proposed"
    assert op.style_url.url == "#operation_proposed"
    (mine,) = [p for p in red if extended(p)["kind"] == "position"]
    assert mine.style_url.url == "#position_own"
    assert mine.times.begin.dt.isoformat() == "2026-09-21T00:00:00+00:00"
    (school,) = [p for p in red if p.name == "Shared school <&>"]
    assert extended(school)["owner"] == "blue"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_kmz_is_the_kml_zipped_and_pages_follow_world(
    service: Service, seeded: dict[str, str]
) -> None:
    kml = service.get("/v1/world.kml", "red-officer")
    kmz = service.get("/v1/world.kmz", "red-officer")
    assert kmz.status_code == 200
    assert kmz.headers["content-type"] == KMZ_MEDIA_TYPE
    with zipfile.ZipFile(io.BytesIO(kmz.content)) as archive:
        assert archive.namelist() == ["doc.kml"]
        assert archive.read("doc.kml") == kml.content
    assert kml.headers["accord-events-after"] == kmz.headers["accord-events-after"]
    # pages: as /v1/world's; the areas and operations on the first one only
    first = service.get("/v1/world.kml", "red-officer", params={"limit": 1})
    world = service.get("/v1/world", "red-officer", params={"limit": 1})
    assert first.headers["link"] == world.headers["link"].replace("/v1/world?", "/v1/world.kml?")
    after = world.json()["next"]
    second = service.get("/v1/world.kml", "red-officer", params={"limit": 1, "after": after})
    kinds = [extended(p)["kind"] for p in placemarks(second.content)]
    assert "operation" not in kinds and "designated_area" not in kinds
    drawn = [extended(p)["accord_id"] for p in placemarks(second.content)]
    page = service.get("/v1/world", "red-officer", params={"limit": 1, "after": after}).json()
    assert drawn[:1] == [f["properties"]["id"] for f in page["features"]]
    # the administrator keeps no view of the world; a bad parameter is named
    assert service.get("/v1/world.kml", "admin").status_code == 403
    assert service.get("/v1/world.kmz", "admin").status_code == 403
    bad = service.get("/v1/world.kml", "red-officer", params={"limit": 0})
    assert bad.status_code == 422 and "limit" in bad.text
    assert service.client.get("/v1/world.kml").status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_export_from_the_center_is_the_centers_answer(
    service: Service, seeded: dict[str, str], tmp_path: Path
) -> None:
    client = service.client
    client.headers.update(service.auth("red-officer"))
    kml, following = fetch_world(client, ExportFormat.kml)
    assert following is None
    assert kml == service.get("/v1/world.kml", "red-officer").content
    kmz, _ = fetch_world(client, ExportFormat.kmz)
    assert zipfile.ZipFile(io.BytesIO(kmz)).read("doc.kml") == kml
    geojson, _ = fetch_world(client, ExportFormat.geojson)
    features = json.loads(geojson)["features"]
    assert features == service.get("/v1/world", "red-officer").json()["features"]
    assert "KML-SECRET-SITE" not in geojson.decode()


def test_export_needs_a_token_and_one_source(tmp_path: Path) -> None:
    out = str(tmp_path / "w.kml")
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--center", "http://127.0.0.1:9", "-o", out], env={})
    assert result.exit_code == 2 and "ACCORD_TOKEN" in result.stderr
    result = runner.invoke(
        cli, ["export", "--center", "http://127.0.0.1:9", "-o", out], env={"ACCORD_TOKEN": "t"}
    )
    assert result.exit_code == 2 and "cannot fetch the world" in result.stderr
    result = runner.invoke(cli, ["export", "-o", out])
    assert result.exit_code == 2 and "--center" in result.stderr
    agreement = str(example_path("jig.yaml"))
    result = runner.invoke(cli, ["export", "-o", out, "--agreement", agreement])
    assert result.exit_code == 2 and "--world" in result.stderr
    world = str(example_path("world.geojson"))
    result = runner.invoke(
        cli, ["export", "-o", out, "-a", agreement, "--world", world, "--after", "x"]
    )
    assert result.exit_code == 2 and "--after" in result.stderr
    result = runner.invoke(
        cli,
        ["export", "-o", out, "--center", "http://127.0.0.1:9", "--as", "blue"],
        env={"ACCORD_TOKEN": "t"},
    )
    assert result.exit_code == 2 and "--as" in result.stderr
    assert "Traceback" not in result.output


def test_export_draws_a_world_file_as_a_party_may_see_it(tmp_path: Path) -> None:
    agreement, world = str(example_path("jig.yaml")), str(example_path("world.geojson"))
    features = json.loads(example_path("world.geojson").read_text())["features"]
    runner = CliRunner()
    for party in ("blue", "red", None):
        out = tmp_path / f"{party}.kml"
        args = ["export", "-o", str(out), "--agreement", agreement, "--world", world]
        result = runner.invoke(cli, args + (["--as", party] if party else []))
        assert result.exit_code == 0, result.output
        drawn = {extended(p)["accord_id"] for p in placemarks(out.read_bytes())}
        expected = {
            f["properties"]["id"]
            for f in features
            if party is None
            or f["properties"]["disclosure"] == "shared"
            or f["properties"]["declared_by"] == party
        }
        areas = {a["id"] for a in _agreement_areas()}
        assert drawn == expected | areas, party
    assert "Red 3rd battalion" not in (tmp_path / "blue.kml").read_text()
    assert "Red 3rd battalion" in (tmp_path / "red.kml").read_text()
    # KMZ and GeoJSON alike
    for fmt in ("kmz", "geojson"):
        out = tmp_path / f"w.{fmt}"
        args = ["export", "-f", fmt, "-o", str(out), "-a", agreement, "--world", world]
        result = runner.invoke(cli, [*args, "--as", "blue"])
        assert result.exit_code == 0, result.output
    doc = zipfile.ZipFile(tmp_path / "w.kmz").read("doc.kml")
    assert doc == (tmp_path / "blue.kml").read_bytes()
    shown = json.loads((tmp_path / "w.geojson").read_text())["features"]
    assert {f["properties"]["id"] for f in shown} == {
        f["properties"]["id"]
        for f in features
        if f["properties"]["disclosure"] == "shared" or f["properties"]["declared_by"] == "blue"
    }
    # bad input: named, exit 2, nothing written
    bad = tmp_path / "bad.geojson"
    broken = {"type": "FeatureCollection", "features": [dict(features[0])]}
    broken["features"][0] = {**features[0], "geometry": {"type": "Point", "coordinates": [1]}}
    bad.write_text(json.dumps(broken))
    out = tmp_path / "never.kml"
    args = ["export", "-o", str(out), "-a", agreement, "--world", str(bad)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and "site-hospital-east" in result.stderr
    assert "Traceback" not in result.output and not out.exists()
    result = runner.invoke(
        cli, ["export", "-o", str(out), "-a", agreement, "--world", world, "--as", "nobody"]
    )
    assert result.exit_code == 2 and "--as" in result.stderr


def _agreement_areas() -> list[dict[str, Any]]:
    from accord.agreement import load_agreement

    return [{"id": a.id} for a in load_agreement(example_path("jig.yaml")).designated_areas]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_page_ends_by_what_it_costs_to_draw(
    service: Service, seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of declarations ends once the next would pass the vertices a document may draw
    (a site's standoff circle counts its 73): its Link names the rest, and following the
    Links gives every declaration of /v1/world once."""
    from accord.center.exports import queries

    monkeypatch.setattr(queries, "MAX_DECLARED_VERTICES", 80)
    world = {
        f["properties"]["id"] for f in service.get("/v1/world", "blue-officer").json()["features"]
    }
    assert len(world) == 3
    drawn: list[str] = []
    path: str | None = "/v1/world.kml"
    pages = 0
    while path is not None:
        answer = service.get(path, "blue-officer")
        assert answer.status_code == 200, answer.text
        marks = [extended(p) for p in placemarks(answer.content)]
        declared = [m for m in marks if m["kind"] not in ("designated_area", "operation")]
        cost = sum(74 if m["kind"] == "standoff" else 1 for m in declared)
        assert cost <= 80 or len({m["accord_id"] for m in declared}) == 1
        drawn += [m["accord_id"] for m in declared if m["kind"] != "standoff"]
        link = answer.headers.get("link")
        path = None if link is None else link.split(">")[0].lstrip("<")
        pages += 1
    assert sorted(drawn) == sorted(world) and pages >= 2
    # accord export --center: a page at a time, --after the last one's end
    client = service.client
    client.headers.update(service.auth("blue-officer"))
    exported: list[str] = []
    after: str | None = None
    while True:
        kmz, following = fetch_world(client, ExportFormat.kmz, after)
        doc = zipfile.ZipFile(io.BytesIO(kmz)).read("doc.kml")
        exported += [
            m["accord_id"]
            for m in (extended(p) for p in placemarks(doc))
            if m["kind"] in ("protected_site", "position")
        ]
        if following is None:
            break
        after = following
    assert sorted(exported) == sorted(world)
