"""The small guards of every ``/v1`` answer, tried as a hostile party would.

* A JSON body naming a key twice (``"disclosure": "center", "disclosure": "shared"``) is
  refused on every route of the OpenAPI schema with a 422 problem naming the key's path,
  before anything is stored; so are ``NaN`` and infinities.
* Every ``/v1`` answer carries ``Cache-Control: no-store``: every route of the schema, called
  by the owner of hidden objects (openings included) and by the other party, errors, a 500,
  and — on a real server — the event stream and bodies refused as they stream. The record as
  tiles (``/tlog``) is the one exception, by DECISIONS 12: its answers are ``private`` (a
  reader's own cache may keep a tile, never a shared one), its refusals ``no-store``.
* ``/docs`` and ``/redoc`` are not served (they would load scripts from a CDN that the page's
  policy blocks); ``/openapi.json`` is.

The checks that run before any database work (the middleware's) run on SQLite only; the walks
over every route run on both backends.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import field_path
from support.disclosure import OPERATION, POSITION, ROUTES, World, call_route, schema_routes
from support.events import SSE, Server, prepare, server
from support.failures import assert_problem
from support.service import Service

OWNER = "blue-officer"
OTHER = "red-officer"


def _no_store(response: Any) -> bool:
    cache = response.headers.get("cache-control", "")
    if response.url.path.startswith("/tlog/") and response.status_code == 200:
        cache = "no-store" if cache.startswith("private,") else cache  # DECISIONS 12
    return "no-store" in cache and response.headers.get("x-content-type-options") == "nosniff"


# --- Cache-Control: no-store ---------------------------------------------------------------


def test_every_route_answers_no_store_to_owner_and_other(world: World) -> None:
    service = world.service
    assert ROUTES.keys() == schema_routes(service)
    ids = [s.id for s in world.secrets] + world.visible_ids
    statuses: set[int] = set()
    for (method, template), body in ROUTES.items():
        paths = [template] if "{" not in template else [re.sub(r"{\w+}", i, template) for i in ids]
        for path in paths:
            for user in (OWNER, OTHER):
                response = call_route(service, user, method, path, body)
                statuses.add(response.status_code)
                assert _no_store(response), (user, method, path, response.headers)
        response = service.client.request(method, paths[0])  # no token: 401
        assert response.status_code == 401 and _no_store(response), (method, paths[0])
    # the walk met answers of every kind: success, refusals, missing objects, bad input
    assert {200, 201, 403, 404, 409, 422} <= statuses, statuses
    for declaration in [s.id for s in world.secrets if s.id.startswith("d-")]:
        opened = service.get(f"/v1/declarations/{declaration}/openings", OWNER)
        assert opened.status_code == 200 and _no_store(opened), opened.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_route_policy_is_replaced_unless_it_says_no_store(service: Service) -> None:
    from fastapi.responses import JSONResponse

    app = service.client.app

    async def cached() -> JSONResponse:
        return JSONResponse({}, headers={"Cache-Control": "public, max-age=3600"})

    async def private() -> JSONResponse:
        return JSONResponse({}, headers={"Cache-Control": "private, no-store"})

    async def not_modified() -> JSONResponse:
        return JSONResponse(None, status_code=304, headers={"ETag": '"1"'})

    async def failing() -> None:
        raise RuntimeError("/srv/secret/path MARKER-TRACEBACK")

    for path, endpoint in [
        ("/v1/test-cached", cached),
        ("/v1/test-private", private),
        ("/v1/test-304", not_modified),
        ("/v1/test-500", failing),
    ]:
        app.router.add_api_route(path, endpoint)  # type: ignore[attr-defined]
    cached_answer = service.get("/v1/test-cached", OWNER)
    assert cached_answer.headers.get_list("cache-control") == ["no-store"]
    private_answer = service.get("/v1/test-private", OWNER)
    assert private_answer.headers.get_list("cache-control") == ["private, no-store"]
    modified = service.get("/v1/test-304", OWNER)
    assert modified.status_code == 304 and _no_store(modified)
    failed = service.get("/v1/test-500", OWNER)
    body = assert_problem(failed, 500)
    assert _no_store(failed)
    assert "MARKER-TRACEBACK" not in failed.text and "secret" not in json.dumps(body)
    # outside /v1 the page keeps its own caching
    assert "no-store" not in service.client.get("/").headers.get("cache-control", "")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_problem_never_grows_with_what_was_sent(service: Service) -> None:
    """A problem may quote the sender (an unknown key, a condition the agreement lacks): the
    quote is cut, and the fields listed are bounded — no answer amplifies its request."""
    long = "<script>" + "k" * 100_000
    many = {f"extra-{i}": 1 for i in range(2_000)}
    for method, path, kwargs in [
        ("POST", "/v1/phases/confirm", {"json": {"condition": long}}),
        ("POST", "/v1/phases/confirm", {"json": {"condition": "x", long: 1}}),
        ("POST", "/v1/declarations/d-0123456789abcdef/withdraw", {"json": many}),
        ("GET", "/v1/picture", {"params": {"at": long[:30_000]}}),
        ("POST", "/v1/tracks", {"json": {"tracks": [{"id": long[:2_000]}] * 300}}),
    ]:
        answer = service.client.request(method, path, headers=service.auth(OWNER), **kwargs)
        problem = assert_problem(answer, 422)
        assert len(answer.content) < 40_000, (path, len(answer.content))
        assert len(problem["errors"]) <= 50
        assert all(len(e["field"]) <= 128 and len(e["message"]) <= 512 for e in problem["errors"])
        assert _no_store(answer)


# --- duplicate keys -------------------------------------------------------------------------


def _duplicated(body: str, key: str) -> str:
    """``body`` (a JSON object's text) with ``key`` sent a second time, first."""
    return "{" + json.dumps(key) + ':"shared",' + body[1:]


def test_the_hidden_declaration_made_public_is_refused(service: Service) -> None:
    aid = {"condition": "aid-delivered-east-city"}
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=aid).status_code == 201
    text = json.dumps(POSITION)
    # the second "disclosure" would win in Python's reader: center, then shared
    twice = text.replace('"disclosure": "center"', '"disclosure": "center", "disclosure": "shared"')
    assert twice != text
    headers = {**service.auth(OWNER), "Content-Type": "application/json"}
    refused = service.client.post("/v1/declarations", content=twice, headers=headers)
    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["field"] == "properties.disclosure"
    assert "properties.disclosure" in problem["detail"]
    assert _no_store(refused)
    assert service.get("/v1/declarations", OWNER).json()["items"] == []
    # once, it is stored as sent
    once = service.client.post("/v1/declarations", content=text, headers=headers)
    assert once.status_code == 201, once.text


def test_every_route_refuses_a_duplicate_key(world: World) -> None:
    service = world.service
    headers = {**service.auth(OWNER), "Content-Type": "application/json"}
    ids = world.visible_ids
    size = service.get("/v1/record/head", OWNER).json()["size"]
    for (method, template), body in ROUTES.items():
        path = re.sub(r"{\w+}", ids[0], template)
        sent = body if isinstance(body, dict) and body else {"reason": "probe"}
        key = next(iter(sent))
        text = _duplicated(json.dumps(sent), key)
        refused = service.client.request(method, path, content=text, headers=headers)
        problem = assert_problem(refused, 422)
        assert problem["errors"] == [
            {"field": key, "location": "body", "message": problem["errors"][0]["message"]}
        ], (method, path, problem)
        # no content type, or another: the body is still read strictly
        bare = {**service.auth(OWNER), "Content-Type": "text/plain"}
        refused = service.client.request(method, path, content=text, headers=bare)
        assert assert_problem(refused, 422)["errors"][0]["field"] == key
    # nothing of it was applied: the record did not grow
    assert service.get("/v1/record/head", OWNER).json()["size"] == size


def _objects_of(value: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], dict]]:
    if isinstance(value, dict):
        yield path, value
        for key, child in value.items():
            yield from _objects_of(child, [*path, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _objects_of(child, [*path, index])


def _text_with_duplicate(value: Any, target: list[str | int], key: str) -> str:
    """``value`` as JSON text, the object at ``target`` naming ``key`` twice (its last pair
    again, at the end; or a new key twice)."""

    def render(node: Any, path: list[str | int]) -> str:
        if isinstance(node, dict):
            pairs = [f"{json.dumps(k)}:{render(v, [*path, k])}" for k, v in node.items()]
            if path == target:
                pairs.append(f"{json.dumps(key)}:{json.dumps('shared')}")
                if key not in node:
                    pairs.insert(0, f"{json.dumps(key)}:1")
            return "{" + ",".join(pairs) + "}"
        if isinstance(node, list):
            return "[" + ",".join(render(v, [*path, i]) for i, v in enumerate(node)) + "]"
        return json.dumps(node)

    return render(value, [])


BODIES = [POSITION, OPERATION, {"tracks": [ROUTES[("POST", "/v1/tracks")]["tracks"][0]]}]
PATHS = ["/v1/declarations", "/v1/operations", "/v1/tracks"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_duplicate_at_any_depth_is_named(service: Service, data: st.DataObject) -> None:
    which = data.draw(st.integers(0, len(BODIES) - 1))
    body = BODIES[which]
    path, obj = data.draw(st.sampled_from(list(_objects_of(body, []))))
    key = data.draw(st.sampled_from([*obj, "extra"]))
    text = _text_with_duplicate(body, path, key)
    headers = {**service.auth(OWNER), "Content-Type": "application/json"}
    refused = service.client.post(PATHS[which], content=text, headers=headers)
    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["field"] == field_path([*path, key])


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_not_json_numbers_are_refused(service: Service, constant: str) -> None:
    text = json.dumps(POSITION).replace("432.125", constant)
    headers = {**service.auth(OWNER), "Content-Type": "application/json"}
    refused = service.client.post("/v1/declarations", content=text, headers=headers)
    assert constant in assert_problem(refused, 422)["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unauthenticated_bodies_are_not_read(service: Service) -> None:
    """The 401 comes first: a caller without a token learns nothing about how bodies are
    read."""
    text = '{"a": 1, "a": 2}'
    answer = service.client.post("/v1/declarations", content=text)
    assert_problem(answer, 401)


# --- the API's documentation ----------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_docs_pages_are_not_served_and_the_schema_is(service: Service) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        answer = service.client.get(path)
        assert answer.status_code == 404, path
        assert "cdn" not in answer.text.lower()
    schema = service.client.get("/openapi.json")
    assert schema.status_code == 200 and schema.json()["paths"]


# --- on a real server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the module's socket tests (SQLite: the guards are the HTTP side's)."""
    tmp_path = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    tokens = prepare(tmp_path, url)
    with server(tmp_path, url, tokens) as running:
        yield running


def _raw(server_: Server, request: bytes) -> bytes:
    """Send ``request`` as is on a socket; the whole answer."""
    host, port = server_.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _chunked(path: str, token: str, parts: list[bytes]) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
    return head + body + b"0\r\n\r\n"


def test_a_streamed_duplicate_and_an_oversized_stream_are_refused(live: Server) -> None:
    token = live.tokens[OWNER]
    text = json.dumps(POSITION).replace(
        '"disclosure": "center"', '"disclosure": "center", "disclosure": "shared"'
    )
    parts = [text[i : i + 40].encode() for i in range(0, len(text), 40)]
    answer = _raw(live, _chunked("/v1/declarations", token, parts))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 422"), answer[:300]
    assert b"cache-control: no-store" in head.lower()
    assert b"properties.disclosure" in body
    # a large one (checked in a worker thread), the duplicate at its very end
    large = json.dumps({"tracks": [{"id": "x", "lat": 1.5}] * 20_000})
    large = large[:-1] + ', "tracks": []}'
    assert len(large) > 256 * 1024
    answer = _raw(live, _chunked("/v1/tracks", token, [large.encode()]))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 422"), answer[:300]
    assert b'"field":"tracks"' in body
    # more than the body limit, without a Content-Length: 413, not a 500
    big = [b'{"a":"' + b"x" * 600_000, b"x" * 600_000 + b'"}']
    answer = _raw(live, _chunked("/v1/declarations", token, big))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"cache-control: no-store" in head.lower()
    assert b"application/problem+json" in head


def test_the_event_stream_is_no_store(live: Server) -> None:
    with httpx.stream(
        "GET", live.base + "/v1/events", headers={**live.auth(OWNER), **SSE}, timeout=30
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers.get_list("cache-control") == ["no-store"]
    assert httpx.get(live.base + "/docs", timeout=10).status_code == 404


def test_a_server_path_is_not_in_a_problem(live: Server, tmp_path: Path) -> None:
    """Bad input names the field, never the server's files or code."""
    answer = httpx.post(
        live.base + "/v1/declarations",
        headers={**live.auth(OWNER), "Content-Type": "application/json"},
        content=b'{"type": "Feature", "geometry": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        timeout=30,
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert "Traceback" not in answer.text and "/site-packages/" not in answer.text
    assert str(tmp_path.parent) not in answer.text
