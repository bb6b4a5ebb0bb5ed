"""``/v1/users``: an administrator manages the users of their own member only; a rotated,
removed or expired token is refused; every change is an entry signed by the center that
holds neither the token nor its hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.db import make_engine, writer
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.center.writer_process import Loopback
from accord.record.entries import Entry
from support.jig import AGREEMENT, NOW
from support.service import Service, TestClient, add_users, settings_for
from support.users import user_entries_in


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_red_admin(service: Service) -> None:
    engine = make_engine(service.settings.database_url)
    try:
        with Session(writer(engine)) as session, session.begin():
            service.tokens["red-admin"] = add_user(
                session, AGREEMENT, name="red-admin", member="red", role=Role.ADMIN, at=NOW
            )
    finally:
        engine.dispose()


def user_entries(service: Service) -> list[Entry]:
    return user_entries_in(service.center)


def test_an_administrator_manages_their_own_members_users(service: Service) -> None:
    add_red_admin(service)
    client = service.client
    listed = service.get("/v1/users", "admin")
    assert listed.status_code == 200
    names = {u["name"] for u in listed.json()["items"]}
    assert names == {"admin", "blue-officer", "blue-approver"}  # blue's only
    assert all(set(u) == set(listed.json()["items"][0]) for u in listed.json()["items"])
    assert "token" not in listed.text and "hash" not in listed.text
    assert {u["state"] for u in listed.json()["items"]} == {"active"}

    made = service.post(
        "/v1/users", "admin", json={"name": "carol", "member": "blue", "role": "officer"}
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    carol = made.json()["token"]
    assert client.get("/v1/me", headers=bearer(carol)).json()["member"] == "blue"

    # Another member's users: not issued (403), and not there at all (404, as for nobody).
    other = service.post(
        "/v1/users", "admin", json={"name": "mallory", "member": "red", "role": "officer"}
    )
    assert other.status_code == 403
    nobody = client.delete("/v1/users/nobody", headers=service.auth("admin"))
    for path in ("/v1/users/red-officer/rotate", "/v1/users/nobody/rotate"):
        answer = service.post(path, "admin")
        assert answer.status_code == 404 and answer.json() == nobody.json()
    theirs = client.delete("/v1/users/red-officer", headers=service.auth("admin"))
    assert theirs.status_code == 404 and theirs.json() == nobody.json()
    assert service.get("/v1/me", "red-officer").status_code == 200
    red = service.get("/v1/users", "red-admin").json()["items"]
    assert {u["name"] for u in red} == {"red-admin", "red-officer", "red-approver"}

    # Bad input names the field; nothing is half-applied.
    for body, field in (
        ({"name": "dave", "member": "blue", "role": "monitor"}, "role"),
        ({"name": "carol", "member": "blue", "role": "officer"}, "name"),
        ({"name": "dave", "member": "blue", "role": "officer", "expires": "soon"}, "expires"),
        ({"name": "dave", "member": "blue", "role": "officer", "expires": "-P1D"}, "expires"),
    ):
        refused = service.post("/v1/users", "admin", json=body)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    idempotent = service.post(
        "/v1/users",
        "admin",
        json={"name": "dave", "member": "blue", "role": "officer"},
        headers={"Idempotency-Key": "k1"},
    )
    assert idempotent.status_code == 422
    assert idempotent.json()["errors"][0]["field"] == "Idempotency-Key"
    assert "dave" not in {u["name"] for u in service.get("/v1/users", "admin").json()["items"]}

    # Only an administrator manages users.
    for user in ("blue-officer", "blue-approver", "observer", "hnc-notifier"):
        assert service.get("/v1/users", user).status_code == 403
        assert service.post("/v1/users/carol/rotate", user).status_code == 403
        assert client.delete("/v1/users/carol", headers=service.auth(user)).status_code == 403


def test_rotate_and_remove_end_the_old_token_and_are_recorded_by_the_center(
    service: Service,
) -> None:
    client = service.client
    old = service.tokens["blue-officer"]
    assert client.get("/v1/me", headers=bearer(old)).status_code == 200  # now remembered
    rotated = service.post("/v1/users/blue-officer/rotate", "admin", json={"expires": "P7D"})
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.json()["token"]
    assert new != old and rotated.json()["user"]["expires_at"] is not None
    assert client.get("/v1/me", headers=bearer(old)).status_code == 401  # remembered or not
    assert client.get("/v1/me", headers=bearer(new)).status_code == 200

    removed = client.delete("/v1/users/blue-officer", headers=service.auth("admin"))
    assert removed.status_code == 200 and removed.json()["token"] is None
    assert removed.json()["user"]["state"] == "removed"
    assert client.get("/v1/me", headers=bearer(new)).status_code == 401
    assert client.get("/v1/me", headers=bearer(old)).status_code == 401
    # The name cannot be given again, so neither token can come back.
    again = service.post(
        "/v1/users", "admin", json={"name": "blue-officer", "member": "blue", "role": "officer"}
    )
    assert again.status_code == 422 and "removed" in again.text
    assert service.post("/v1/users/blue-officer/rotate", "admin").status_code == 409
    assert client.delete("/v1/users/blue-officer", headers=service.auth("admin")).status_code == 409
    assert client.get("/v1/me", headers=bearer(old)).status_code == 401

    entries = user_entries(service)
    center = service.client.app.state.center  # type: ignore[attr-defined]
    assert [(e.event["kind"], e.event["user"]) for e in entries] == [
        ("user.rotated", "blue-officer"),
        ("user.removed", "blue-officer"),
    ]
    secrets_ = [old, new, *(hashlib.sha256(t.encode()).hexdigest() for t in (old, new))]
    for entry in entries:
        assert entry.author == center.origin  # the center's act, signed with its key
        assert entry.event["by"] == {"user": "admin", "member": "blue"}
        assert entry.event["member"] == "blue"
        for secret in secrets_:
            assert secret not in entry.raw.decode()
    # The reads built from the record take the center's user entries in their stride.
    for path in ("/v1/compliance", f"/v1/picture?at={NOW.isoformat().replace('+', '%2B')}"):
        read = service.get(path, "observer")
        assert read.status_code == 200, (path, read.text)
    # Nor is a token kept anywhere in the database, idempotent answers included.
    database = Path(service.settings.database_url.removeprefix("sqlite:///"))
    if database.exists():
        stored = b"".join(p.read_bytes() for p in database.parent.glob("accord.sqlite*"))
        assert new.encode() not in stored and old.encode() not in stored


def test_an_expired_token_is_refused_at_once_and_a_rotation_renews_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tokens = add_users(settings.database_url)
    now = [NOW]
    app = create_app(Parts(settings, clock=lambda: now[0], writer=Loopback))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = bearer(tokens["admin"])
        made = client.post(
            "/v1/users",
            headers=admin,
            json={"name": "temp", "member": "blue", "role": "officer", "expires": "PT1H"},
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        assert made.json()["user"]["expires_at"].startswith(
            (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        )
        me = client.get("/v1/me", headers=bearer(token))  # remembered from now on
        assert me.status_code == 200
        assert me.json()["token_expires_at"] == made.json()["user"]["expires_at"]
        assert client.get("/v1/me", headers=admin).json()["token_expires_at"] is None
        now[0] = NOW + timedelta(minutes=59, seconds=59)
        assert client.get("/v1/me", headers=bearer(token)).status_code == 200
        now[0] = NOW + timedelta(hours=1)
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401
        states = {
            u["name"]: u["state"] for u in client.get("/v1/users", headers=admin).json()["items"]
        }
        assert states["temp"] == "expired"
        renewed = client.post("/v1/users/temp/rotate", headers=admin, json={"expires": "PT2H"})
        assert renewed.status_code == 200
        fresh = renewed.json()["token"]
        assert client.get("/v1/me", headers=bearer(fresh)).status_code == 200
        assert client.get("/v1/me", headers=bearer(token)).status_code == 401
        now[0] = now[0] + timedelta(hours=2)
        assert client.get("/v1/me", headers=bearer(fresh)).status_code == 401
        assert datetime.fromisoformat(renewed.json()["user"]["expires_at"]) == NOW + timedelta(
            hours=3
        )


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], list[datetime]]]:
    """The service on a clock the test moves (SQLite: the expiry is the clock's, not the
    backend's)."""
    settings = settings_for(tmp_path)
    tokens = add_users(settings.database_url)
    now = [NOW]
    with TestClient(create_app(Parts(settings, clock=lambda: now[0], writer=Loopback))) as client:
        yield client, tokens, now


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lifetime=st.integers(min_value=1, max_value=10 * 86_400),
    offsets=st.lists(st.integers(min_value=-5, max_value=11 * 86_400), min_size=1, max_size=4),
)
def test_a_token_works_exactly_until_it_expires(
    clocked: tuple[TestClient, dict[str, str], list[datetime]],
    lifetime: int,
    offsets: list[int],
) -> None:
    """Against the plain rule (works iff now < issued + lifetime), at random instants, the
    first answer read from the database and the next ones from the remembered token."""
    client, tokens, now = clocked
    now[0] = NOW
    rotated = client.post(
        "/v1/users/blue-officer/rotate",
        headers=bearer(tokens["admin"]),
        json={"expires": f"PT{lifetime}S"},
    )
    assert rotated.status_code == 200, rotated.text
    token = rotated.json()["token"]
    for offset in offsets:
        now[0] = NOW + timedelta(seconds=offset)
        expected = 200 if offset < lifetime else 401
        for _ in range(2):
            assert client.get("/v1/me", headers=bearer(token)).status_code == expected


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=80),
    expires=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"P(T\d{1,6}[HMS]|\d{1,7}D)")),
    role=st.sampled_from(["officer", "admin", "monitor", "king", ""]),
)
def test_any_input_is_a_named_refusal_or_a_user_never_a_500(
    clocked: tuple[TestClient, dict[str, str], list[datetime]],
    name: str,
    expires: str | None,
    role: str,
) -> None:
    client, tokens, _ = clocked
    admin = bearer(tokens["admin"])
    body = {"name": name, "member": "blue", "role": role, "expires": expires}
    made = client.post("/v1/users", headers=admin, json=body)
    assert made.status_code in (201, 422), made.text
    if made.status_code == 422:
        assert made.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"].split(".")[-1] for e in made.json()["errors"]}
        assert fields and fields <= {"name", "role", "expires"}, made.json()
    else:
        assert made.json()["user"]["name"] == name
        assert client.get("/v1/me", headers=bearer(made.json()["token"])).status_code == 200
    path = f"/v1/users/{quote(name, safe='')}/rotate"
    answer = client.post(path, headers=admin, json={"expires": expires})
    assert answer.status_code in (200, 404, 405, 409, 422), answer.text
    gone = client.delete(f"/v1/users/{quote(name, safe='')}", headers=admin)
    assert gone.status_code in (200, 404, 405, 409, 422), gone.text
