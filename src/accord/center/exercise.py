"""The exercise server behind ``make run`` (``accord serve --demo``): the example agreement,
the demo world declared through the service's own code by the members who own each object,
one user per role with a ready token, and an *exercise clock* that starts on the scenario's
day and runs at real speed, so the scripted world's windows lie ahead of the people using
it.

Every seeded object goes through the same functions the HTTP routes call (declarations,
operations, confirmations), so it is checked, recorded and signed like anything a person
sends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.center import declarations, operations
from accord.center.db.models import User
from accord.center.identity import Caller, add_user
from accord.center.phases import confirm
from accord.center.roles import Role
from accord.center.runtime import Center, Clock
from accord.chrono import parse_instant

__all__ = ["DEMO_START", "DEMO_USERS", "Seeded", "exercise_clock", "seed_demo"]

DEMO_START = parse_instant("2026-09-20T04:00:00Z")
"""Where the exercise clock starts: day 8 of the truce, before the day's flights and the
next day's operations."""

DEMO_USERS: dict[str, tuple[str, Role]] = {
    "blue-officer": ("blue", Role.OFFICER),
    "blue-approver": ("blue", Role.APPROVER),
    "red-officer": ("red", Role.OFFICER),
    "red-approver": ("red", Role.APPROVER),
    "hnc-notifier": ("hnc", Role.NOTIFIER),
    "observer": ("observers", Role.MONITOR),
    "admin": ("blue", Role.ADMIN),
}
"""Name → (member, role) of the demo's users."""

_AID = "aid-delivered-east-city"


def exercise_clock(start: datetime) -> Clock:
    """A clock that reads ``start`` now and runs at real speed from there."""
    origin = time.monotonic()

    def now() -> datetime:
        from datetime import timedelta

        return start + timedelta(seconds=time.monotonic() - origin)

    return now


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the seeding made: tokens by user name, declaration and operation ids by world
    id."""

    tokens: dict[str, str]
    declared: dict[str, str]
    proposed: dict[str, str]


def _callers(center: Center) -> dict[str, Caller]:
    with center.reading() as session:
        users = session.scalars(select(User)).all()
        return {u.name: Caller(u.id, u.name, u.member, Role(u.role)) for u in users}


def _as_declaration(feature: Mapping[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in feature["properties"].items() if k not in ("id", "declared_by")}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": properties}


def seed_demo(center: Center, world_path: Path) -> Seeded:
    """Register the demo users and declare the demo world in ``center`` (a fresh database):
    the aid delivery confirmed by the notification cell, every site, movement, position and
    flight plan declared by its owner, then the operations whose windows lie ahead proposed
    (coordinated) or notified (synchronized) by their parties — each checked against the
    world by the engine. The imminent-threat operation of the story has not happened yet at
    the exercise's start: its executor reports it when it does."""
    at = center.now()
    tokens: dict[str, str] = {}
    with center.writing() as unit:
        for name, (member, role) in DEMO_USERS.items():
            tokens[name] = add_user(
                unit.session, center.agreement, name=name, member=member, role=role, at=at
            )
    callers = _callers(center)
    officer = {"blue": callers["blue-officer"], "red": callers["red-officer"]}
    officer["hnc"] = callers["hnc-notifier"]
    with center.writing() as unit:
        confirm(unit, center.agreement, callers["hnc-notifier"], _AID, at)
    world = json.loads(world_path.read_text(encoding="utf-8"))
    declared: dict[str, str] = {}
    for feature in world["features"]:
        props = feature["properties"]
        if props["kind"] == "operation":
            continue
        with center.writing() as unit:
            view = declarations.declare(
                unit,
                center.agreement,
                officer[props["declared_by"]],
                _as_declaration(feature),
                at,
            )
        declared[props["id"]] = view.id
    proposed: dict[str, str] = {}
    operations.prepare(center)
    try:
        for feature in world["features"]:
            props = feature["properties"]
            if props["kind"] != "operation" or props["category"] == "imminent_threat":
                continue
            fields = {
                k: v for k, v in props.items() if k not in ("id", "declared_by", "proposed_by")
            }
            with center.writing() as unit:
                made = operations.propose(
                    unit,
                    operations.desk(center),
                    officer[props["declared_by"]],
                    geometry=feature["geometry"],
                    properties=fields,
                    at=center.now(),
                )
            proposed[props["id"]] = made.state.id
    finally:
        operations.close_desk(center)
    return Seeded(tokens, declared, proposed)
