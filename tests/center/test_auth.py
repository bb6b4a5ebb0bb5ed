"""Every /v1 route needs a valid bearer token (walking the OpenAPI schema, so a new route
cannot skip it), and each route lets in only the roles it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.writer_process import Loopback
from support.failures import assert_problem
from support.jig import AGREEMENT_TEXT
from support.service import Service, TestClient, add_users, clock, settings_for

BAD_HEADERS = [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer "},
    {"Authorization": "bearer " + "x" * 1000},
]


def operations(service: Service) -> list[tuple[str, str]]:
    schema = service.client.app.openapi()  # type: ignore[attr-defined]
    found = [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/v1")
        for method in item
    ]
    assert len(found) >= 8  # me, keys, head, entries, two proofs, cosign, confirm
    return found


def test_every_v1_route_refuses_a_missing_or_wrong_token(service: Service) -> None:
    for method, path in operations(service):
        for headers in BAD_HEADERS:
            response = service.client.request(method, path, headers=headers, json={})
            assert_problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_v1_path_says_401_not_404_to_strangers(service: Service) -> None:
    assert_problem(service.client.get("/v1/no/such/route"), 401)
    assert_problem(service.get("/v1/no/such/route", "blue-officer"), 404)


def test_the_openapi_schema_is_public_and_documents_the_bearer_scheme(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "Problem" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for operation in item.values():
            assert "401" in operation["responses"], path
            assert operation["security"] == [{"HTTPBearer": []}], path  # what BearerAuth enforces
            # a success documented (204: a deletion that answers nothing, as DELETE /v1/drafts)
            assert {"200", "201", "204"} & set(operation["responses"]), path


def test_every_role_of_every_member_knows_itself(service: Service) -> None:
    for user in service.tokens:
        body = service.get("/v1/me", user).json()
        assert body["name"] == user


@pytest.mark.parametrize(
    "path", ["/v1/record/head", "/v1/record/entries", "/v1/record/proofs/consistency?from=0"]
)
def test_a_notifier_does_not_read_the_record(service: Service, path: str) -> None:
    assert_problem(service.get(path, "hnc-notifier"), 403)
    assert service.get(path, "observer").status_code == 200


def test_only_parties_and_monitors_cosign(service: Service) -> None:
    for user in ("hnc-notifier", "admin"):
        assert_problem(service.post("/v1/record/cosign", user, json={"note": "x"}), 403)


def test_a_condition_is_confirmed_only_by_the_members_it_lists(service: Service) -> None:
    condition = {"condition": "aid-delivered-east-city"}
    for user in ("blue-officer", "blue-approver", "red-officer", "admin"):
        body = assert_problem(service.post("/v1/phases/confirm", user, json=condition), 403)
        assert "may not confirm" in body["detail"]
    # The agreement lists the notification cell and the monitors.
    assert service.post("/v1/phases/confirm", "observer", json=condition).status_code == 201
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=condition).status_code == 201


def test_a_monitor_the_condition_does_not_list_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    text = AGREEMENT_TEXT.replace("confirmed_by: [hnc, observers]", "confirmed_by: [hnc]")
    assert text != AGREEMENT_TEXT
    path = tmp_path / "agreement.yaml"
    path.write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path, agreement_path=path, database_url=database_url)
    tokens = add_users(settings.database_url)
    with TestClient(
        create_app(Parts(settings, clock=clock, writer=Loopback)), raise_server_exceptions=False
    ) as client:
        service = Service(client, tokens, settings)
        condition = {"condition": "aid-delivered-east-city"}
        assert_problem(service.post("/v1/phases/confirm", "observer", json=condition), 403)
        assert service.post("/v1/phases/confirm", "hnc-notifier", json=condition).status_code == 201
