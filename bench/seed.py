"""Seed a service database with a synthetic world, through the service's own code.

Every object is declared by its owner with :func:`accord.center.declarations.service.declare_many`
— checked, recorded (a signed entry each) and announced exactly as
:func:`~accord.center.declarations.service.declare` does for anything a person sends — in units of
:data:`BATCH`. Synthetic coordinates in the bench theatre (bench.world).

Under an agreement that names its members' roots (issue 17) a member's entry carries its act:
each unit then declares one member's shared or hidden objects of the batch, as one act of
that member's declaring user (``POST /v1/declarations/batch`` over those objects, or ``POST
/v1/declarations/hidden`` for hidden ones, signed with the user's own key, taken in by
:func:`accord.center.acts.accept` as the writer takes in any request's act): its first
entry carries the act, the others name it. The agreement
must be in force and the users' keys registered first (:mod:`bench.offices`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.center.acts import Presented, Signing, accept
from accord.center.bootstrap import Parts
from accord.center.config import Settings
from accord.center.db.models import User
from accord.center.declarations import service as declarations
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.chrono import format_instant
from accord.office import act_headers
from accord.record.acts import new_salt
from accord.record.keys import PrivateKey
from bench.world import LAT0, LAT1, LON0, LON1

BATCH = 500
T0 = datetime.fromisoformat("2026-10-01T00:00:00+00:00")
"""The bench's day: the server's exercise clock starts here."""


def _point(rng: random.Random) -> list[float]:
    return [round(rng.uniform(LON0, LON1), 6), round(rng.uniform(LAT0, LAT1), 6)]


def _feature(rng: random.Random, i: int) -> tuple[str, dict[str, Any]]:
    """(declaring member, feature): 70 % sites of the notifier, 25 % positions of either
    party (half centre-only), 5 % movements of the notifier."""
    roll = i % 20
    if roll < 14:
        return "hnc", {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": _point(rng)},
            "properties": {"kind": "protected_site", "category": "shelter", "disclosure": "shared"},
        }
    if roll < 19:
        party = "blue" if i % 2 else "red"
        return party, {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": _point(rng)},
            "properties": {
                "kind": "position",
                "party": party,
                "disclosure": "center" if i % 4 < 2 else "shared",
                "uncertainty_m": rng.choice([0, 100, 500]),
                "valid_from": format_instant(T0),
                "valid_to": format_instant(T0 + timedelta(days=7)),
            },
        }
    a = _point(rng)
    b = [round(a[0] + rng.uniform(-0.2, 0.2), 6), round(a[1] + rng.uniform(-0.2, 0.2), 6)]
    return "hnc", {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [a, b]},
        "properties": {
            "kind": "movement",
            "disclosure": "shared",
            "corridor_m": 500,
            "valid_from": format_instant(T0 + timedelta(hours=rng.randint(0, 100))),
            "valid_to": format_instant(T0 + timedelta(hours=rng.randint(101, 160))),
        },
    }


def seed_world(
    url: str,
    keys_dir: Path,
    *,
    objects: int,
    seed: int = 11,
    agreement_path: Path | None = None,
    keys: Mapping[str, PrivateKey] | None = None,
) -> tuple[str, str]:
    """Declare ``objects`` objects into the database at ``url`` (users already registered)
    under the agreement at ``agreement_path`` (default: the embedded one); the operation
    window the load should use. ``keys`` (user name → its own key): under an agreement that
    names its members' roots, the declaring users' keys, which sign each unit's act."""
    settings = Settings(database_url=url, keys_dir=keys_dir)
    if agreement_path is not None:
        settings = Settings(database_url=url, keys_dir=keys_dir, agreement_path=agreement_path)
    center = Parts(settings, clock=lambda: T0).open()
    rng = random.Random(seed)
    try:
        with center.reading() as session:
            users = session.scalars(select(User)).all()
            callers = {
                u.member: Caller(u.id, u.name, u.member, Role(u.role))
                for u in users
                if u.role in (Role.OFFICER.value, Role.NOTIFIER.value)
            }
        rooted = center.agreement.rooted
        if rooted and keys is None:
            raise ValueError("the agreement names its members' roots: give the users' keys")
        done = 0
        while done < objects:
            items = []
            for i in range(done, min(objects, done + BATCH)):
                member, feature = _feature(rng, i)
                items.append((callers[member], feature))
            if not rooted:
                with center.writing() as unit:
                    declarations.declare_many(unit, items, T0)
            else:
                assert keys is not None
                for caller in {id(c): c for c, _ in items}.values():
                    for hidden in (False, True):
                        own = [(c, f) for c, f in items if c is caller and _hidden(f) is hidden]
                        if not own:
                            continue
                        presented = _act(center.origin, caller, keys[caller.name], own, hidden)
                        with center.writing() as unit:
                            accept(unit, presented, signing=Signing.ACT)
                            declarations.declare_many(unit, own, T0)
            done = min(objects, done + BATCH)
    finally:
        center.close()
    return format_instant(T0 + timedelta(days=1)), format_instant(T0 + timedelta(days=1, hours=2))


def _hidden(feature: dict[str, Any]) -> bool:
    return bool(feature["properties"].get("disclosure") == "center")


def _act(
    origin: str,
    caller: Caller,
    key: PrivateKey,
    items: list[tuple[Caller, dict[str, Any]]],
    hidden: bool,
) -> Presented:
    """The act of ``caller``'s user declaring ``items`` at once, signed with its key at the
    seed's clock (as the writer receives a request's act): ``POST /v1/declarations/batch``,
    or for hidden ones ``POST /v1/declarations/hidden`` (whose request line names nothing)."""
    features = [feature for _, feature in items]
    if hidden:
        path = "/v1/declarations/hidden"
        body: dict[str, Any] = {"changes": [{"change": "declare", "feature": f} for f in features]}
    else:
        path, body = "/v1/declarations/batch", {"features": features}
    salt = new_salt()
    _, signed = act_headers(
        key, origin=origin, member=caller.member, user=caller.name, method="POST",
        path=path, body=body, at=T0, salt=salt,
    )  # fmt: skip
    return Presented(signed, salt, json.dumps(body, ensure_ascii=False, separators=(",", ":")))
