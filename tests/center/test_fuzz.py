"""Schema-driven fuzzing: schemathesis generates requests from ``/openapi.json`` for every
operation, valid and invalid, and sends each as users of several roles. No answer may be a
5xx, and every answer must match the schema (status documented, body shaped as documented,
problem JSON for errors).

Signing is on: the agreement names its members' roots, every party's root signed it, every
user's key is registered, and each generated write is signed by its user's key over exactly
the request schemathesis sends (so the fuzz reaches the routes behind the act's checks)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.roles import Role
from accord.center.writer_process import Loopback
from accord.errors import ActError
from support.jig import AGREEMENT_TEXT
from support.offices import Offices, rooted
from support.service import USERS, TestClient, add_users, clock, settings_for

FUZZ_USERS = ("blue-officer", "red-approver", "hnc-notifier", "observer")


# schemathesis gives every operation's item the same node id; pytest-xdist hands items out
# by node id, and would run one operation of them all, passing. So this module runs in one
# process (`make test` runs it after the others), and refuses a worker loudly.
if os.environ.get("PYTEST_XDIST_WORKER"):
    pytest.fail(
        "tests/center/test_fuzz.py runs in one process (not under pytest-xdist): its items "
        "share one node id, and a worker would run one of them",
        pytrace=False,
    )

# The application is made at import time (making it does no work: nothing connects until its
# lifespan runs), so that schemathesis can read its schema while collecting the tests.
_DIR = Path(tempfile.mkdtemp(prefix="accord-fuzz-"))
(_DIR / "agreement.yaml").write_text(rooted(AGREEMENT_TEXT), encoding="utf-8")
_SETTINGS = settings_for(_DIR, agreement_path=_DIR / "agreement.yaml")
APP = create_app(Parts(_SETTINGS, clock=clock, writer=Loopback))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def tokens() -> Iterator[dict[str, str]]:
    try:
        issued = add_users(_SETTINGS.database_url)
        # runs the lifespan (the Center); the offices sign the agreement and certify every key
        with TestClient(APP, raise_server_exceptions=False) as client:
            start_signing(client, issued)
            yield issued
    finally:
        shutil.rmtree(_DIR, ignore_errors=True)


OFFICES: list[Offices] = []


def start_signing(client: TestClient, issued: dict[str, str]) -> None:
    from accord.center.signing.service import agreement_document
    from accord.record.registry import agreement_digest
    from support.offices import root_of
    from support.service import carrier_of

    center = client.app.state.center  # type: ignore[attr-defined]
    offices = Offices(center.origin, USERS, clock)
    OFFICES.append(offices)

    def post(user: str, path: str, body: dict[str, object], member: str) -> None:
        headers = offices.headers(user, "POST", path, body, key=root_of(member))
        headers["Authorization"] = f"Bearer {issued[user]}"
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 201, answer.text

    digest = {"digest": agreement_digest(agreement_document(center.agreement))}
    for member in sorted(center.agreement.party_ids):
        post(carrier_of(member), "/v1/agreement/signatures", digest, member)
    for user, (member, role) in USERS.items():
        if role is not Role.ADMIN:  # the center's: its writes carry no member's act
            post(user, "/v1/keys/registrations", offices.registration(user), member)


def signed(case: schemathesis.Case, user: str, token: str) -> dict[str, str]:
    """The headers of ``case`` sent by ``user``, its act signed over exactly the request."""
    headers = {"Authorization": f"Bearer {token}"}
    if case.method.upper() not in ("POST", "PUT", "PATCH", "DELETE"):
        return headers
    kwargs = case.as_transport_kwargs(base_url="http://localhost", headers=headers)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        headers=kwargs.get("headers"),
    ).prepare()
    try:
        raw = prepared.body or b""
        body = json.loads(raw) if raw else None
    except ValueError:
        return headers  # not JSON: no act can be this request; sent unsigned, refused as such
    if body is not None and not isinstance(body, dict):
        return headers
    try:
        act = OFFICES[0].headers(user, case.method.upper(), prepared.path_url, body)
    except ActError:
        return headers  # a body no act can hold: sent unsigned
    return {**headers, **act}


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(
    case: schemathesis.Case, tokens: dict[str, str]
) -> None:
    for user in FUZZ_USERS:
        headers = signed(case, user, tokens[user])
        response = case.call(headers=headers)
        assert response.status_code < 500, (user, case.method, case.formatted_path, response.text)
        if "Accord-Act-Signature" in headers and response.status_code == 403:
            # the act was signed over exactly this request: the center rebuilds the same one
            fields = [e["field"] for e in response.json().get("errors", [])]
            assert "Accord-Act-Signature" not in fields, (user, case.method, response.text)
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )
    anonymous = case.call(headers={"Authorization": "Bearer not-a-token"})
    assert anonymous.status_code == 401, (case.method, case.formatted_path, anonymous.text)
