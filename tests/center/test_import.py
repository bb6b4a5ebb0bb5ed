"""``accord import`` against the service: a KML file declares each placemark with the
member's user's own key, all or nothing; a bad coordinate declares nothing and names the
placemark; ``--check`` declares nothing. And ``POST /v1/declarations/batch``, the route it
sends: one act, one unit, every bad feature named, nothing half-declared."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from accord import cli_import
from accord.center.signing.service import agreement_document
from accord.cli import app as cli
from accord.cli_record import service_causes
from accord.record.keys import write_private_key
from accord.record.verify import verify_log
from support.disclosure import export_entries
from support.failures import assert_problem
from support.jig import NOW
from support.service import Service, ring_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Sites</name>
{placemarks}
</Folder></Document></kml>
"""
SITE = """<Placemark><name>{name}</name>
 <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="category">{category}</SimpleData>
 </SchemaData></ExtendedData>
 <Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>"""


def _kml(*sites: tuple[str, float, float]) -> str:
    placemarks = "\n".join(
        SITE.format(name=name, category="shelter", lon=lon, lat=lat) for name, lon, lat in sites
    )
    return KML.format(placemarks=placemarks)


SITES = [(f"Shelter {k}", 21.40 + k * 0.01, 25.05 + k * 0.01) for k in range(5)]


@pytest.fixture
def office(signed_service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Blue's office holding blue-officer's key; the command talks to the service in process,
    on the service's clock."""
    assert signed_service.offices is not None
    folder = tmp_path / "office-blue"
    for user in ("blue-officer", "hnc-notifier"):
        member = signed_service.offices.users[user]
        path = tmp_path / f"office-{member}" / "users" / f"{user}.key"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private_key(path, signed_service.offices.key(user))
    transport = signed_service.client._transport

    def client(center: str, token: str) -> httpx.Client:
        return httpx.Client(
            transport=transport, base_url=center, headers={"Authorization": f"Bearer {token}"}
        )

    monkeypatch.setattr(cli_import, "_client", client)
    monkeypatch.setattr(cli_import, "_now", lambda: NOW)
    return folder


def _run(service: Service, user: str, *args: str, office: Path | None = None) -> Any:
    extra = ["--center", "http://testserver"]
    if office is not None:
        extra += ["--office", str(office)]
    return CliRunner().invoke(
        cli, ["import", *args, *extra], env={"ACCORD_TOKEN": service.tokens[user]}
    )


def _world_ids(service: Service, user: str) -> set[str]:
    answer = service.get("/v1/world", user)
    assert answer.status_code == 200, answer.text
    return {f["properties"]["id"] for f in answer.json()["features"]}


def _names(service: Service, user: str) -> set[str]:
    answer = service.get("/v1/world", user)
    return {f["properties"].get("name", "") for f in answer.json()["features"]}


def test_a_good_file_declares_every_placemark(
    signed_service: Service, office: Path, tmp_path: Path
) -> None:
    path = tmp_path / "sites.kml"
    path.write_text(_kml(*SITES))
    before = _world_ids(signed_service, "blue-officer")
    out = tmp_path / "answers.json"
    args = ["--as", "blue", "--kind", "protected_site", "--disclosure", "shared"]
    result = _run(signed_service, "blue-officer", str(path), *args, "--out", str(out),
                  office=office)  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert "5 declared as blue" in result.stdout
    made = _world_ids(signed_service, "blue-officer") - before
    assert len(made) == 5
    assert {name for name, _, _ in SITES} <= _names(signed_service, "red-officer")  # shared
    assert out.stat().st_mode & 0o777 == 0o600
    # Every declaration is blue's act, signed with blue-officer's key: the record says so.
    size = signed_service.get("/v1/record/head", "blue-officer").json()["size"]
    page = signed_service.get(
        "/v1/record/entries", "blue-officer", params={"start": size - 5, "end": size}
    ).json()
    entries = [json.loads(base64.b64decode(e["data"]))["entry"] for e in page["entries"]]
    first = entries[0]["act"]["signed"]
    assert first["action"] == "POST /v1/declarations/batch" and first["user"] == "blue-officer"
    assert first["key"] == signed_service.offices.key("blue-officer").key_id
    assert [e["author"] for e in entries] == ["blue"] * 5
    assert [e["act"] for e in entries[1:]] == [{"of": size - 5}] * 4  # one act, five entries
    # The project's own verifier holds every entry to the request its act signed.
    record = tmp_path / "record.jsonl"
    export_entries(signed_service, "observer", record)
    mine = agreement_document(signed_service.center.agreement)
    report = verify_log(
        record, keys=ring_of(signed_service), workers=1, agreement=mine, causes=service_causes()
    )
    acts = {(member, user): n for member, _key, user, n in report.acts}
    assert acts[("blue", "blue-officer")] == 1


def test_a_party_import_is_hidden_unless_it_says_shared(
    signed_service: Service, office: Path, tmp_path: Path
) -> None:
    path = tmp_path / "sites.kml"
    path.write_text(_kml(*SITES[:2]))
    args = ["--as", "blue", "--kind", "protected_site"]
    result = _run(signed_service, "blue-officer", str(path), *args, office=office)
    assert result.exit_code == 0, result.output + result.stderr
    names = {name for name, _, _ in SITES[:2]}
    assert names <= _names(signed_service, "blue-officer")
    assert not names & _names(signed_service, "red-officer")  # center: red never sees them


def test_one_bad_coordinate_declares_nothing_and_names_the_placemark(
    signed_service: Service, office: Path, tmp_path: Path
) -> None:
    bad = [*SITES[:3], ("Bad Well", 21.45, 95.0), *SITES[3:]]
    path = tmp_path / "sites.kml"
    path.write_text(_kml(*bad))
    before = _world_ids(signed_service, "blue-officer")
    args = ["--as", "blue", "--kind", "protected_site", "--disclosure", "shared"]
    result = _run(signed_service, "blue-officer", str(path), *args, office=office)
    assert result.exit_code == 2
    assert "#4 Bad Well" in result.stderr and "latitude 95 is outside ±90" in result.stderr
    assert "nothing declared" in result.stderr
    assert _world_ids(signed_service, "blue-officer") == before


def test_check_declares_nothing(signed_service: Service, office: Path, tmp_path: Path) -> None:
    path = tmp_path / "sites.kml"
    path.write_text(_kml(*SITES))
    before = _world_ids(signed_service, "blue-officer")
    result = _run(
        signed_service, "blue-officer", str(path), "--as", "blue", "--kind", "protected_site",
        "--check", office=office,
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert "5 declarations would be made; none made" in result.stdout
    assert "#5 Shelter 4" in result.stdout
    assert _world_ids(signed_service, "blue-officer") == before


def test_a_token_of_another_member_is_refused(
    signed_service: Service, office: Path, tmp_path: Path
) -> None:
    path = tmp_path / "sites.kml"
    path.write_text(_kml(*SITES[:1]))
    result = _run(
        signed_service, "red-officer", str(path), "--as", "blue", "--kind", "protected_site",
        office=office,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "the token is red's, not blue's" in result.stderr


def test_a_notifier_imports_a_geojson_of_movements(
    signed_service: Service, office: Path, tmp_path: Path
) -> None:
    path = tmp_path / "convoys.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"name": "Convoy 1", "fid": 3}, "geometry": {"type": "MultiLineString", '
        '"coordinates": [[[21.4, 25.0], [21.6, 25.2]]]}}]}'
    )
    result = _run(
        signed_service, "hnc-notifier", str(path), "--as", "hnc", "--kind", "movement",
        "--valid-from", "2026-09-21T06:00:00Z", "--valid-to", "2026-09-21T18:00:00Z",
        office=office.parent / "office-hnc",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    assert "Convoy 1" in _names(signed_service, "red-officer")  # a notifier's are shared


# --- the route ------------------------------------------------------------------------------


def _site(name: str, lon: float = 21.5, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 25.1]},
        "properties": {"kind": "protected_site", "category": "school", "name": name, **props},
    }


def test_the_batch_route_is_all_or_nothing_naming_every_bad_feature(
    signed_service: Service,
) -> None:
    before = _world_ids(signed_service, "blue-officer")
    body = {
        "features": [
            _site("a"),
            _site("b", standoff_m=-1),
            _site("c"),
            {**_site("d"), "geometry": {"type": "Point", "coordinates": [21.5, 91]}},
        ]
    }
    answer = signed_service.post("/v1/declarations/batch", "blue-officer", json=body)
    assert answer.status_code == 422, answer.text
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"features[1].properties.standoff_m", "features[3].geometry.coordinates"}
    assert _world_ids(signed_service, "blue-officer") == before
    hidden = {"features": [_site("a"), _site("b", disclosure="center")]}
    answer = signed_service.post("/v1/declarations/batch", "blue-officer", json=hidden)
    problem = assert_problem(answer, 422)  # under signed acts, the batch's line would say it
    assert [e["field"] for e in problem["errors"]] == ["features[1].properties.disclosure"]
    good = {"features": [_site("a"), _site("b")]}
    answer = signed_service.post("/v1/declarations/batch", "blue-officer", json=good)
    assert answer.status_code == 201, answer.text
    items = answer.json()["items"]
    assert [i["feature"]["properties"]["name"] for i in items] == ["a", "b"]
    assert items[0]["opening"] is None and items[1]["opening"] is None  # shared, in clear
    assert {i["id"] for i in items} == _world_ids(signed_service, "blue-officer") - before


def test_the_batch_route_refuses_flight_plans_and_oversized_batches(
    signed_service: Service,
) -> None:
    plan = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[21.4, 25.0, 3000], [21.5, 25.1, 3000]]},
        "properties": {
            "kind": "flight_plan", "operator": "blue", "party": "blue", "mission": "transport",
            "times": ["2026-09-21T10:00:00Z", "2026-09-21T10:10:00Z"],
        },
    }  # fmt: skip
    answer = signed_service.post(
        "/v1/declarations/batch", "blue-officer", json={"features": [plan]}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "features[0].properties.kind"
    many = {"features": [_site(f"s{k}") for k in range(1001)]}
    answer = signed_service.post("/v1/declarations/batch", "blue-officer", json=many)
    assert answer.status_code in (413, 422)
    empty = signed_service.post("/v1/declarations/batch", "blue-officer", json={"features": []})
    assert empty.status_code == 422


def test_an_approver_declares_nothing_by_batch(signed_service: Service) -> None:
    answer = signed_service.post(
        "/v1/declarations/batch", "blue-approver", json={"features": [_site("x")]}
    )
    assert answer.status_code == 403


def test_a_later_batch_refused_says_what_stands(
    signed_service: Service, office: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of two; the center refuses the second (a stand-in for a refusal the check
    cannot foresee): the first stands and is named, the rest is not sent."""
    monkeypatch.setattr(cli_import, "BATCH_FEATURES", 2)
    transport = signed_service.client._transport
    posts: list[int] = []

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(1)
            if len(posts) == 2:
                problem = {"title": "refused", "errors": [
                    {"field": "features[1].properties.device.uid", "message": "taken"}
                ]}  # fmt: skip
                return httpx.Response(409, json=problem)
        answer = transport.handle_request(request)
        answer.read()
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def client(center: str, token: str) -> httpx.Client:
        return httpx.Client(
            transport=httpx.MockTransport(refusing),
            base_url=center,
            headers={"Authorization": f"Bearer {token}"},
        )

    monkeypatch.setattr(cli_import, "_client", client)
    path = tmp_path / "sites.kml"
    path.write_text(_kml(*SITES))
    before = _world_ids(signed_service, "blue-officer")
    args = ["--as", "blue", "--kind", "protected_site"]
    result = _run(signed_service, "blue-officer", str(path), *args, office=office)
    assert result.exit_code == 1
    assert "#4 Shelter 3: properties.device.uid: taken" in result.stderr
    assert "2 declared in earlier batches stand (ids above); 3 not declared" in result.stderr
    assert len(posts) == 2
    assert len(_world_ids(signed_service, "blue-officer") - before) == 2


def test_a_batch_with_another_partys_device_uid_declares_nothing(signed_service: Service) -> None:
    """The refusal the plan cannot foresee: red holds the uid (hidden, even). Blue's batch is
    refused whole with the answer a single declaration gets, naming no position of red's."""

    def position(uid: str | None, party: str, disclosure: str) -> dict[str, Any]:
        props: dict[str, Any] = {
            "kind": "position", "party": party, "disclosure": disclosure,
            "valid_from": "2026-09-21T15:00:00Z", "valid_to": "2026-09-21T17:00:00Z",
        }  # fmt: skip
        if uid is not None:
            props["device"] = {"uid": uid, "callsign": None}
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.3, 25.0]},
                "properties": props}  # fmt: skip

    def hidden(*features: dict[str, Any]) -> dict[str, Any]:
        return {"changes": [{"change": "declare", "feature": f} for f in features]}

    red = signed_service.post(
        "/v1/declarations/hidden", "red-officer", json=hidden(position("RED-1", "red", "center"))
    )
    assert red.status_code == 200, red.text
    single = signed_service.post(
        "/v1/declarations/hidden", "blue-officer", json=hidden(position("RED-1", "blue", "center"))
    )
    before = _world_ids(signed_service, "blue-officer")
    body = hidden(position(None, "blue", "center"), position("RED-1", "blue", "center"))
    batch = signed_service.post("/v1/declarations/hidden", "blue-officer", json=body)
    assert batch.status_code == single.status_code == 409
    assert batch.json()["errors"] == single.json()["errors"]
    assert red.json()["items"][0]["id"] not in batch.text
    assert _world_ids(signed_service, "blue-officer") == before
