"""Bad input gets an RFC 9457 problem naming the field; oversized bodies a 413; a failure a
bare 500 — never a stack trace, never the input echoed back."""

from __future__ import annotations

import pytest

import accord.center.users.me_routes as me_route
from support.failures import assert_problem
from support.service import Service

CONFIRM = "/v1/phases/confirm"


def fields(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


def test_a_missing_field_is_named(service: Service) -> None:
    body = assert_problem(service.post(CONFIRM, "observer", json={}), 422)
    assert fields(body) == ["condition"]
    assert body["type"] == "urn:accord:problem:validation"
    assert body["errors"][0]["location"] == "body"


def test_a_wrong_type_is_named_and_not_echoed(service: Service) -> None:
    body = assert_problem(service.post(CONFIRM, "observer", json={"condition": ["secret-x"]}), 422)
    assert fields(body) == ["condition"]
    assert "secret-x" not in str(body)


def test_an_unknown_field_is_named(service: Service) -> None:
    body = assert_problem(
        service.post(CONFIRM, "observer", json={"condition": "c", "extra": 1}), 422
    )
    assert "extra" in fields(body)


def test_an_unknown_condition_is_named(service: Service) -> None:
    body = assert_problem(service.post(CONFIRM, "observer", json={"condition": "nope"}), 422)
    assert fields(body) == ["condition"]
    assert "no condition 'nope'" in body["errors"][0]["message"]


def test_a_body_that_is_not_json_is_a_problem(service: Service) -> None:
    response = service.post(
        CONFIRM, "observer", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert body["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("index=abc", "index"),
        ("index=-1", "index"),
        ("size=2", "index"),
        ("index=0&size=5", "size"),
    ],
)
def test_bad_query_parameters_are_named(service: Service, query: str, field: str) -> None:
    response = service.get(f"/v1/record/proofs/inclusion?{query}", "observer")
    body = assert_problem(response, 422)
    assert field in fields(body)
    assert body["errors"][0]["location"] == "query"


def test_a_declared_oversized_body_gets_413(service: Service) -> None:
    limit = service.settings.max_body_bytes
    response = service.post(CONFIRM, "observer", content=b"x" * (limit + 1))
    body = assert_problem(response, 413)
    assert str(limit) in body["detail"]


def test_a_streamed_oversized_body_gets_413(service: Service) -> None:
    limit = service.settings.max_body_bytes

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = service.post(CONFIRM, "observer", content=chunks())
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


def test_a_failure_is_a_bare_500_and_is_logged(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("secret internal detail at /srv/db")

    monkeypatch.setattr(me_route, "confirmations", broken)
    response = service.get("/v1/me", "observer")
    body = assert_problem(response, 500)
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["detail"] == "the server failed to answer; the failure is logged"
    assert "secret internal detail" in caplog.text


def test_unknown_methods_and_paths_are_problems_too(service: Service) -> None:
    assert_problem(service.client.delete("/v1/me", headers=service.auth("observer")), 405)
    assert_problem(service.client.get("/nothing"), 404)


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/v1/operations/op-0000000000000000", "no such operation"),
        ("/v1/declarations/d-0000000000000000", "no such declaration"),
    ],
)
def test_a_missing_object_is_the_same_404_whoever_raises_it(
    service: Service, path: str, detail: str
) -> None:
    """A service's :class:`~accord.errors.NotFound` is answered as the routes answered it:
    404, ``urn:accord:problem:not-found``, "Not Found" and the service's message."""
    body = assert_problem(service.get(path, "red-officer"), 404)
    assert body == {
        "type": "urn:accord:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "detail": detail,
    }
