"""Bad input gets an RFC 9457 problem naming the field; oversized bodies a 413; a failure a
bare 500 — never a stack trace, never the input echoed back."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import accord.center.users.me_routes as me_route
from accord.center.http import problems
from accord.errors import (
    AccordError,
    HashMismatch,
    Issue,
    NotAuthorized,
    ProbingSlowed,
    ReaderUnavailable,
    RecordDamaged,
    StaleRequest,
    TrackError,
    Unavailable,
    WorldUnavailable,
    WriterUnavailable,
)
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


_WRITER = (
    "the service's writer is unavailable; the change may or may not be stored: retry with the "
    "same Idempotency-Key"
)
_SLOWED = "your proposals have touched hidden objects of 'red' …: retry in 7 s"
_HASH = "is not the hash of this message's content: acknowledge exactly what you received"
_STALE = "names version 2; the declaration is at 3"
_DAMAGED = "the record does not verify at entry 4: bad"
_TRACKS = [("tracks[0].lat", "bad"), ("tracks[0].lat", "odd"), ("tracks", "many")]


def _field(field: str, message: str, location: str = "body") -> dict[str, str]:
    return {"field": field, "location": location, "message": message}


@pytest.mark.parametrize(
    ("error", "status", "kind", "detail", "errors", "retry_after"),
    [
        (WriterUnavailable(_WRITER), 503, "writer-unavailable", _WRITER, None, None),
        (ReaderUnavailable("ask again"), 503, "reader-unavailable", "ask again", None, None),
        (RecordDamaged(_DAMAGED), 503, "record-damaged", _DAMAGED, None, None),
        (WorldUnavailable("the world …"), 503, "world-unavailable", "the world …", None, None),
        (Unavailable("later", retry_after=30), 503, "unavailable", "later", None, "30"),
        (ProbingSlowed(_SLOWED, retry_after=7), 429, "probing-slowed", _SLOWED, None, "7"),
        (
            HashMismatch("this message's content"), 409, "hash-mismatch",
            f"content_hash: {_HASH}", [_field("content_hash", _HASH)], None,
        ),
        (
            StaleRequest("If-Match", "header", _STALE), 409, "stale",
            f"If-Match: {_STALE}", [_field("If-Match", _STALE, "header")], None,
        ),
        (
            TrackError("tracks", [Issue(f, m) for f, m in _TRACKS]), 422, "validation",
            "invalid track reports: tracks[0].lat, tracks", [_field(*t) for t in _TRACKS], None,
        ),
        (NotAuthorized("a monitor may not"), 403, "forbidden", "a monitor may not", None, None),
    ],
)  # fmt: skip
def test_each_domain_error_has_one_answer(
    error: AccordError,
    status: int,
    kind: str,
    detail: str,
    errors: list[dict[str, str]] | None,
    retry_after: str | None,
) -> None:
    """The services raise the domain's errors (:mod:`accord.errors`), never an HTTP status;
    :mod:`accord.center.http.problems` answers each — the answers the services gave when
    they raised HTTP problems themselves: the status, the problem type, the message as the
    detail, the named fields and ``Retry-After``."""
    app = FastAPI()
    problems.install(app)

    @app.get("/raise")
    def raise_it() -> None:
        raise error

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/raise")
    body = assert_problem(response, status)
    expected = {"type": f"urn:accord:problem:{kind}", "title": body["title"], "status": status}
    assert body == expected | {"detail": detail} | ({"errors": errors} if errors else {})
    assert body["title"] == HTTPStatus(status).phrase
    assert response.headers.get("Retry-After") == retry_after
    assert (problems.status_of(error), problems.kind_of(error)) == (status, kind)
