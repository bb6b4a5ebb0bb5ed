"""The service in process, as the tests call it: users of every role, settings over a test's
files, a fixed clock, and a running application behind fastapi's TestClient."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what we ship
    warnings.simplefilter("ignore", UserWarning)  # StarletteDeprecationWarning
    from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.center.config import Settings
from accord.center.db import make_engine, upgrade, writer
from accord.center.exercise import DEMO_USERS
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.examples import example_path
from accord.record.keys import KeyRing
from support.jig import AGREEMENT, NOW

__all__ = [
    "USERS",
    "Service",
    "TestClient",
    "add_users",
    "center_of",
    "clock",
    "ring_of",
    "settings_for",
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
    """A running application and what the tests need to call it."""

    client: TestClient
    tokens: dict[str, str]
    settings: Settings

    @property
    def center(self) -> Center:
        return self.client.app.state.center  # type: ignore[attr-defined,no-any-return]

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str, **kwargs: Any):
        return self.client.get(path, headers=self.auth(user), **kwargs)

    def post(self, path: str, user: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.post(path, headers={**self.auth(user), **(headers or {})}, **kwargs)

    def put(self, path: str, user: str, **kwargs: Any):
        return self.client.put(path, headers=self.auth(user), **kwargs)


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'accord.sqlite'}",
        "agreement_path": example_path("jig.yaml"),
        "keys_dir": tmp_path / "keys",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def clock() -> datetime:
    return NOW.astimezone(UTC)


def center_of(service: Service) -> Center:
    return service.client.app.state.center  # type: ignore[attr-defined,no-any-return]


def ring_of(service: Service) -> KeyRing:
    return KeyRing.from_json(service.get("/v1/keys", "observer").json())


def started_with_limits(tmp_path: Path, limits: str) -> Iterator[Service]:
    """A service under the jig agreement with ``limits:`` (YAML flow text) set, its phase
    started (the aid condition confirmed)."""
    from accord.center.app import create_app
    from accord.center.bootstrap import Parts
    from accord.center.writer_process import Loopback
    from support.jig import AGREEMENT_TEXT

    path = tmp_path / "agreement.yaml"
    path.write_text(AGREEMENT_TEXT + f"limits: {limits}\n", encoding="utf-8")
    settings = settings_for(tmp_path, agreement_path=path, escalation_interval_s=0)
    tokens = add_users(settings.database_url)
    with TestClient(
        create_app(Parts(settings, clock=clock, writer=Loopback)), raise_server_exceptions=False
    ) as client:
        service = Service(client, tokens, settings)
        condition = {"condition": "aid-delivered-east-city"}
        assert service.post("/v1/phases/confirm", "hnc-notifier", json=condition).status_code == 201
        yield service
