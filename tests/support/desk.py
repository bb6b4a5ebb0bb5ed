"""The center's desk for tests that move its clock: a service whose clock the test sets (minutes
after NOW), with the picture at any minute; the same database served again (:func:`restarted`);
and the objects those tests declare."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.picture.verified import verified_of
from accord.center.reader_process import LoopbackReader
from accord.center.writer_process import Loopback
from support.clock import Clock
from support.jig import NOW
from support.service import Service, TestClient, add_users, settings_for

PICTURE = "/v1/picture"
AID = {"condition": "aid-delivered-east-city"}


@dataclass
class Desk(Service):
    """A service whose clock the test moves, with the picture as a user sees it at a minute
    after NOW."""

    clock: Clock = field(default_factory=Clock)

    def ok(self, response: Any, status: int = 201) -> dict[str, Any]:
        assert response.status_code == status, response.text
        return response.json()  # type: ignore[no-any-return]

    def picture(self, user: str, minutes: float) -> dict[str, Any]:
        at = (NOW + timedelta(minutes=minutes)).isoformat()
        return self.ok(self.get(PICTURE, user, params={"at": at}), 200)


def start(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    config = settings_for(tmp_path, database_url=database_url, escalation_interval_s=0)
    tokens = add_users(config.database_url)
    clock = Clock()
    with TestClient(
        create_app(Parts(config, clock=clock, writer=Loopback, reader=LoopbackReader)),
        raise_server_exceptions=False,
    ) as client:
        yield Desk(client, tokens, config, clock=clock)


HIDDEN: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.2345678, 25.0123456]},
    "properties": {
        "kind": "position",
        "name": "HIDDEN-BATTALION-7",
        "disclosure": "center",
        "party": "blue",
        "uncertainty_m": 300,
        "valid_from": "2026-09-21T00:00:00Z",
        "valid_to": "2026-09-25T00:00:00Z",
    },
}


def operation(lon: float, lat: float, executor: str = "blue", **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "operation",
            "category": "coordinated",
            "executors": [executor],
            "radius_m": 300,
            "window_start": (NOW + timedelta(hours=8)).isoformat(),
            "window_end": (NOW + timedelta(hours=10)).isoformat(),
            **props,
        },
    }


def named(feature: dict[str, Any], name: str) -> dict[str, Any]:
    changed = copy.deepcopy(feature)
    changed["properties"]["name"] = name
    return changed


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


@contextmanager
def restarted(first: Desk) -> Iterator[Desk]:
    """The same database and keys served again, once its start-up verification is done."""
    clock = Clock()
    clock.set(30)
    app = create_app(Parts(first.settings, clock=clock, writer=Loopback, reader=LoopbackReader))
    with TestClient(app, raise_server_exceptions=False) as client:
        desk = Desk(client, first.tokens, first.settings, clock=clock)
        record = verified_of(desk.center)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and record.refused is None:
            with desk.center.engine.connect() as connection:
                size = connection.execute(text("SELECT max(idx) + 1 FROM record_leaves")).scalar()
                saved = connection.execute(text("SELECT max(size) FROM verified_checkpoints"))
                if record.verified == size and saved.scalar() == size:
                    break
            time.sleep(0.02)
        yield desk
