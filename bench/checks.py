"""``python -m bench --only checks``: what checking received coordinates costs the writer,
and what the sender learns of the receiver's hidden forces through it.

The exercise's world is seeded through the service (:func:`accord.center.exercise.seed_demo`)
and, around School No. 12, red declares a thousand hidden positions. Blue then sends red
direct-line messages through :func:`accord.center.directline.messages.send` in units of work
as the writer runs them, each carrying the geometry an attacker would choose to make the
check as dear as it may be (the most points, vertices and area the agreement's limits for an
operation's area let the engine check; more goes out unchecked). Accord's figure is the
writer's time per message with the check (the check, its entry, its openings); the baseline
is the same message with no geometry — whose check entry is written all the same.

The second line is the attack on disclosure: for 200 messages whose geometry lies on a red
hidden position and 200 beside none, whether blue's answer, blue's events and the record's
entries differ in anything but ids, times, hashes and commitments (the count of messages
whose answer told blue anything: 0 is the goal).
"""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["run"]

_SCHOOL = (21.872, 24.936)
_TS = re.compile(rb'"ts":"[^"]*"')


def _hidden(where: list[float]) -> dict[str, Any]:
    """Red's hidden position at ``where``, in force through the exercise."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": where},
        "properties": {
            "kind": "position",
            "party": "red",
            "disclosure": "center",
            "valid_from": "2026-09-19T00:00:00Z",
            "valid_to": "2026-09-30T00:00:00Z",
        },
    }


def _ring(n: int, radius_deg: float) -> list[list[float]]:
    ring = [
        [
            _SCHOOL[0] + radius_deg * math.cos(2 * math.pi * i / (n - 1)),
            _SCHOOL[1] + radius_deg * math.sin(2 * math.pi * i / (n - 1)),
        ]
        for i in range(n - 1)
    ]
    return [*ring, ring[0]]


def _geometries(most: int, points: int, rng: random.Random) -> dict[str, dict[str, Any] | None]:
    spread = [
        [_SCHOOL[0] + rng.uniform(-0.05, 0.05), _SCHOOL[1] + rng.uniform(-0.05, 0.05)]
        for _ in range(most)
    ]
    return {
        "no geometry (baseline)": None,
        "a point": {"type": "Point", "coordinates": [21.87438, 24.936]},
        f"{points} points": {"type": "MultiPoint", "coordinates": spread[:points]},
        f"a line of {most} vertices": {"type": "LineString", "coordinates": sorted(spread)},
        f"a polygon of {most} vertices": {"type": "Polygon", "coordinates": [_ring(most, 0.05)]},
    }


def run(rounds: int = 20) -> list[tuple[str, ...]]:
    """The writer's time per message by geometry, and the disclosure attack's count."""
    from sqlalchemy import select

    from accord.center.bootstrap import Parts
    from accord.center.config import Settings
    from accord.center.db.models import User
    from accord.center.declarations import service as declarations
    from accord.center.directline.messages import check_draft, send
    from accord.center.exercise import DEMO_START, NIGHT_START, exercise_clock, seed_demo
    from accord.center.identity import Caller
    from accord.center.roles import Role
    from accord.deconfliction.received import MAX_POINTS
    from accord.examples import example_path

    rng = random.Random(18)
    with tempfile.TemporaryDirectory(prefix="accord-bench-checks-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'accord.sqlite'}",
            keys_dir=Path(tmp) / "keys",
            agreement_path=example_path("jig.yaml"),
            unsafe_center_holds_member_keys=True,  # the writer's cost, not the acts'
        )
        center = Parts(settings, clock=exercise_clock(DEMO_START, held=NIGHT_START)).open()
        try:
            seed_demo(center, example_path("world.geojson"))
            with center.reading() as session:
                users = {u.name: u for u in session.scalars(select(User))}
            blue = Caller(users["blue-officer"].id, "blue-officer", "blue", Role.OFFICER)
            red = Caller(users["red-officer"].id, "red-officer", "red", Role.OFFICER)
            for _ in range(1000):
                where = [_SCHOOL[0] + rng.uniform(-0.2, 0.2), _SCHOOL[1] + rng.uniform(-0.2, 0.2)]
                with center.writing() as unit:
                    declarations.declare(unit, red, _hidden(where), center.now())
            most = center.agreement.limits.operation_vertices

            def message(geometry: dict[str, Any] | None) -> tuple[float, Any]:
                draft = check_draft(
                    center.agreement,
                    "blue",
                    to=["red"],
                    subject="grid",
                    text="t",
                    geometry=geometry,
                    refers_to=None,
                    ack_within=None,
                )
                with center.writing() as unit:
                    start = time.perf_counter()
                    sent, _ = send(unit, blue, draft, center.now())
                    took = time.perf_counter() - start
                return took, sent

            rows: list[tuple[str, ...]] = []
            times: dict[str, float] = {}
            for name, geometry in _geometries(most, MAX_POINTS, rng).items():
                message(geometry)  # warm
                times[name] = statistics.median(message(geometry)[0] for _ in range(rounds))
            base = times["no geometry (baseline)"]
            for name, took in times.items():
                if name.startswith("no geometry"):
                    continue
                rows.append(
                    (
                        f"checks: writer time of a message with {name}",
                        f"{took * 1e3:.2f} ms",
                        f"{base * 1e3:.2f} ms no geometry",
                        f"{took / base:.1f}x",
                    )
                )

            # The attack: does blue's view of its message tell a hidden position from none?
            def seen_by_blue(geometry: dict[str, Any]) -> str:
                _, sent = message(geometry)
                from accord.center.checks.service import opening_for

                with center.reading() as session:
                    row = opening_for(session, sent.id, "blue")
                    assert row is not None
                    raw = center.log(session).entry(row.entry)
                content = json.loads(row.content)
                shown = json.dumps([content["checked"], content["warnings"]], sort_keys=True)
                return f"{shown} {len(_TS.sub(b'', raw))}"

            # The same place before and after red declares a hidden position there, in an
            # area with nothing shared near: any difference in blue's answer or the entry's
            # size would be the hidden position showing through.
            told = 0
            for _ in range(200):
                place = [20.6 + rng.uniform(0, 0.3), 26.2 + rng.uniform(0, 0.3)]
                point = {"type": "Point", "coordinates": place}
                before = seen_by_blue(point)
                with center.writing() as unit:
                    declarations.declare(unit, red, _hidden(place), center.now())
                told += seen_by_blue(point) != before
            rows.append(
                (
                    "checks: blue's view (answer, entry size) before/after red hides a unit there",
                    f"{told} of 200 differ",
                    "0 wanted",
                    "",
                )
            )
            return rows
        finally:
            center.close()
