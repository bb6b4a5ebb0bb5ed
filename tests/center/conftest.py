"""Fixtures for the service: a migrated SQLite file in tmp_path, users of every role, a
fixed clock, and a running application behind fastapi's TestClient."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what we ship
    warnings.simplefilter("ignore", UserWarning)  # StarletteDeprecationWarning
    from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.agreement import load_agreement
from accord.center.app import create_app
from accord.center.config import Settings
from accord.center.db import make_engine, upgrade, writer
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.examples import example_path

AGREEMENT = load_agreement(example_path("jig.yaml"))
# Day 9 of the truce: past the seven days, so confirming the aid condition starts the center.
NOW = AGREEMENT.starts_at + timedelta(days=9)

# name → (member, role)
USERS: dict[str, tuple[str, Role]] = {
    "blue-officer": ("blue", Role.OFFICER),
    "blue-approver": ("blue", Role.APPROVER),
    "red-officer": ("red", Role.OFFICER),
    "red-approver": ("red", Role.APPROVER),
    "hnc-notifier": ("hnc", Role.NOTIFIER),
    "observer": ("observers", Role.MONITOR),
    "admin": ("blue", Role.ADMIN),
}


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

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str, **kwargs: Any):
        return self.client.get(path, headers=self.auth(user), **kwargs)

    def post(self, path: str, user: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.post(path, headers={**self.auth(user), **(headers or {})}, **kwargs)


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


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = settings_for(tmp_path)
    tokens = add_users(settings.database_url)
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, tokens, settings)
