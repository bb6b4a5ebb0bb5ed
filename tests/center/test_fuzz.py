"""Schema-driven fuzzing: schemathesis generates requests from ``/openapi.json`` for every
operation, valid and invalid, and sends each as users of several roles. No answer may be a
5xx, and every answer must match the schema (status documented, body shaped as documented,
problem JSON for errors)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.writer_process import Loopback
from support.service import TestClient, add_users, clock, settings_for

FUZZ_USERS = ("blue-officer", "red-approver", "hnc-notifier", "observer")


# The application is made at import time (making it does no work: nothing connects until its
# lifespan runs), so that schemathesis can read its schema while collecting the tests.
_DIR = Path(tempfile.mkdtemp(prefix="accord-fuzz-"))
_SETTINGS = settings_for(_DIR)
APP = create_app(Parts(_SETTINGS, clock=clock, writer=Loopback))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def tokens() -> Iterator[dict[str, str]]:
    try:
        issued = add_users(_SETTINGS.database_url)
        with TestClient(APP, raise_server_exceptions=False):  # runs the lifespan: the Center
            yield issued
    finally:
        shutil.rmtree(_DIR, ignore_errors=True)


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
        response = case.call(headers={"Authorization": f"Bearer {tokens[user]}"})
        assert response.status_code < 500, (user, case.method, case.formatted_path, response.text)
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )
    anonymous = case.call(headers={"Authorization": "Bearer not-a-token"})
    assert anonymous.status_code == 401, (case.method, case.formatted_path, anonymous.text)
