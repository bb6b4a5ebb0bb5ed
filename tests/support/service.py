"""The service in process, as the tests call it: users of every role, settings over a test's
files, a fixed clock, and a running application behind fastapi's TestClient."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what we ship
    warnings.simplefilter("ignore", UserWarning)  # StarletteDeprecationWarning
    from fastapi.testclient import TestClient
import httpx
from sqlalchemy.orm import Session

from accord.center.config import Settings
from accord.center.db import make_engine, upgrade, writer
from accord.center.exercise import DEMO_USERS
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.errors import ActError
from accord.examples import example_path
from accord.record.keys import KeyRing
from support.jig import AGREEMENT, NOW
from support.offices import Offices

__all__ = [
    "UNSIGNED",
    "USERS",
    "Service",
    "TestClient",
    "add_users",
    "carrier_of",
    "center_of",
    "clock",
    "ring_of",
    "rooted_service",
    "settings_for",
    "signing_hook",
]

# name → (member, role): one user per role, as in the exercise behind `make run`
USERS: dict[str, tuple[str, Role]] = dict(DEMO_USERS)


def add_users(url: str) -> dict[str, str]:
    """Register every user of USERS in the database at ``url``; name → token."""
    engine = make_engine(url)
    tokens: dict[str, str] = {}
    try:
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            for name, (member, role) in USERS.items():
                tokens[name] = add_user(
                    session, AGREEMENT, name=name, member=member, role=role, at=NOW
                )
    finally:
        engine.dispose()
    return tokens


@dataclass
class Service:
    """A running application and what the tests need to call it. With ``offices`` (a center
    whose agreement names its members' roots), every write is signed by its user's own key,
    as the page signs it; a test's own ``Accord-Act-*`` headers override the signature."""

    client: TestClient
    tokens: dict[str, str]
    settings: Settings
    offices: Offices | None = None

    @property
    def center(self) -> Center:
        return self.client.app.state.center  # type: ignore[attr-defined,no-any-return]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.get(path, headers={**self.auth(user), **(headers or {})}, **kwargs)

    def post(self, path: str, user: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.post(path, headers={**self.auth(user), **(headers or {})}, **kwargs)

    def put(self, path: str, user: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.put(path, headers={**self.auth(user), **(headers or {})}, **kwargs)


UNSIGNED = "X-Test-Unsigned"
"""A request header that keeps :func:`signing_hook` from signing (the header is dropped)."""


def signing_hook(offices: Offices, tokens: Mapping[str, str]) -> Callable[[httpx.Request], None]:
    """An httpx request hook that signs each write of a known user's token with the user's
    key, as the page does — unless the request carries its own ``Accord-Act-Signature`` or
    :data:`UNSIGNED`."""
    users = {f"Bearer {token}": user for user, token in tokens.items()}
    retries: dict[tuple[str, ...], dict[str, str]] = {}  # a retry is the same signed request

    def hook(request: httpx.Request) -> None:
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return
        if UNSIGNED in request.headers:
            del request.headers[UNSIGNED]
            return
        user = users.get(request.headers.get("Authorization", ""))
        if user is None or user not in offices.users or "Accord-Act-Signature" in request.headers:
            return
        content = request.read()
        try:
            body = json.loads(content) if content.strip() else None
        except ValueError:
            return  # not JSON: the act cannot be what the request says; send it unsigned
        if body is not None and not isinstance(body, dict):
            return
        url = request.url.raw_path.decode("ascii")
        retry = request.headers.get("Idempotency-Key")
        memo = (user, retry, request.method, url, content.decode()) if retry else None
        signed = retries.get(memo) if memo else None
        if signed is None:
            try:
                signed = offices.headers(user, request.method, url, body)
            except ActError:
                return  # a body no act can hold (NaN, 2^53): sent unsigned, refused as such
            if memo:
                retries[memo] = signed
        request.headers.update(signed)

    return hook


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    """Settings over ``tmp_path``. Under the jig agreement as it ships (no trust roots), the
    center holds every member's key and signs for them — the old way, for the tests of
    features that do not concern signing (``unsafe_center_holds_member_keys``); the tests of
    signing, the disclosure walk, the fuzz and the kill run under the rooted agreement
    (:func:`rooted_service`)."""
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'accord.sqlite'}",
        "agreement_path": example_path("jig.yaml"),
        "keys_dir": tmp_path / "keys",
        "unsafe_center_holds_member_keys": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def clock() -> datetime:
    return NOW.astimezone(UTC)


def center_of(service: Service) -> Center:
    return service.client.app.state.center  # type: ignore[attr-defined,no-any-return]


def ring_of(service: Service) -> KeyRing:
    return KeyRing.from_json(service.get("/v1/keys", "observer").json())


def served(settings: Settings) -> Iterator[Service]:
    """The application over ``settings`` at the tests' fixed clock, every user of
    :data:`USERS` registered; its writes cross the writer process's boundary
    (:class:`~accord.center.writer_process.Loopback`), its heavy reads the reader's
    (:class:`~accord.center.reader_process.LoopbackReader`)."""
    from accord.center.app import create_app
    from accord.center.bootstrap import Parts
    from accord.center.reader_process import LoopbackReader
    from accord.center.writer_process import Loopback

    tokens = add_users(settings.database_url)
    app = create_app(Parts(settings, clock=clock, writer=Loopback, reader=LoopbackReader))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, tokens, settings)


def started_with_limits(tmp_path: Path, limits: str) -> Iterator[Service]:
    """A service under the jig agreement with ``limits:`` (YAML flow text) set, its phase
    started (the aid condition confirmed)."""
    from support.jig import AGREEMENT_TEXT

    path = tmp_path / "agreement.yaml"
    path.write_text(AGREEMENT_TEXT + f"limits: {limits}\n", encoding="utf-8")
    settings = settings_for(tmp_path, agreement_path=path, escalation_interval_s=0)
    for service in served(settings):
        condition = {"condition": "aid-delivered-east-city"}
        assert service.post("/v1/phases/confirm", "hnc-notifier", json=condition).status_code == 201
        yield service


@contextmanager
def rooted_service(
    tmp_path: Path,
    database_url: str | None = None,
    *,
    now: Callable[[], datetime] = clock,
    sign: tuple[str, ...] | None = None,
    register: bool = True,
    cot: Any = None,
) -> Iterator[Service]:
    """A service under the jig agreement naming its members' roots (:mod:`support.offices`):
    the roots of ``sign`` (default: every party) signed the agreement and, with
    ``register``, every user's key is registered by its member's root. Writes are signed.
    ``cot``: the TAK endpoint's options (:class:`accord.center.cot.listener.CotOptions`)."""
    from accord.center.app import create_app
    from accord.center.bootstrap import Parts
    from accord.center.reader_process import LoopbackReader
    from accord.center.signing.service import agreement_document
    from accord.center.writer_process import Loopback
    from accord.record.registry import agreement_digest
    from support.jig import AGREEMENT_TEXT
    from support.offices import rooted

    path = tmp_path / "agreement.yaml"
    path.write_text(rooted(AGREEMENT_TEXT), encoding="utf-8")
    overrides: dict[str, object] = {"agreement_path": path, "escalation_interval_s": 0}
    if database_url is not None:
        overrides["database_url"] = database_url
    settings = settings_for(tmp_path, **overrides)
    tokens = add_users(settings.database_url)
    with TestClient(
        create_app(Parts(settings, clock=now, writer=Loopback, reader=LoopbackReader, cot=cot)),
        raise_server_exceptions=False,
    ) as client:
        center = client.app.state.center  # type: ignore[attr-defined]
        offices = Offices(center.origin, USERS, now)
        client.event_hooks = {"request": [signing_hook(offices, tokens)], "response": []}
        service = Service(client, tokens, settings, offices)
        digest = agreement_digest(agreement_document(center.agreement))
        for member in sign if sign is not None else sorted(center.agreement.party_ids):
            carrier = carrier_of(member)
            root = support_root(member)
            body = {"digest": digest}
            headers = offices.headers(carrier, "POST", "/v1/agreement/signatures", body, key=root)
            answer = service.post("/v1/agreement/signatures", carrier, json=body, headers=headers)
            assert answer.status_code == 201, answer.text
        if register:
            for user, (member, role) in USERS.items():
                if role is Role.ADMIN:
                    continue  # the center's: its writes carry no member's act
                body = offices.registration(user)
                path_ = "/v1/keys/registrations"
                headers = offices.headers(user, "POST", path_, body, key=support_root(member))
                answer = service.post(path_, user, json=body, headers=headers)
                assert answer.status_code == 201, answer.text
        yield service


def carrier_of(member: str) -> str:
    """A user of ``member`` whose token carries its root's acts."""
    return next(name for name, (m, _role) in USERS.items() if m == member)


def support_root(member: str) -> Any:
    from support.offices import root_of

    return root_of(member)
