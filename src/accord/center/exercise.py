"""The exercise server behind ``make run`` (``accord serve --demo``): the example agreement,
the demo world declared through the service's own code by the members who own each object,
one user per role with a ready token, and an *exercise clock* that starts on the scenario's
day and runs at real speed, so the scripted world's windows lie ahead of the people using
it.

Every seeded object goes through the same functions the HTTP routes call (declarations,
operations, confirmations), so it is checked, recorded and signed like anything a person
sends.

**Live tracks.** The example's tracks (``examples/tracks.csv``) are retimed to the exercise
clock and reported — each party's aircraft by its officer, the non-party operator's by the
center's feed (the administrator) — through :func:`accord.center.airspace.tracks.report_tracks`:
a blue and a red transport head-on at the same level (a predicted loss of separation,
alerted to both), a Green Air Force fighter heading into the northern designated area (a
violation) and a Green medevac helicopter inside it (exempt, recorded). :func:`demo_feed`
then reports every aircraft once a second along its straight line, starting the picture
over every :data:`FEED_PERIOD`, so the page stays alive.

**Start-up** is the composition root's (:mod:`accord.center.bootstrap`), as for any
service: ``accord serve --demo`` seeds a center built by
:meth:`Parts.running <accord.center.bootstrap.Parts.running>`, then serves parts whose
:attr:`~accord.center.bootstrap.Parts.jobs` hold :func:`demo_feed`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import select

from accord.airspace import TrackReport, TrackSet, latest, load_tracks
from accord.center.airspace.tracks import Batch, report_tracks
from accord.center.db.models import User
from accord.center.declarations import service as declarations
from accord.center.identity import Caller
from accord.center.operations import service as operations
from accord.center.phases.service import confirm
from accord.center.roles import Role
from accord.center.runtime import Center, Clock
from accord.center.users.service import COMMAND_LINE, issue
from accord.chrono import format_instant, parse_instant
from accord.examples import example_path

__all__ = [
    "DEMO_START",
    "DEMO_USERS",
    "FEED_PERIOD",
    "Seeded",
    "demo_feed",
    "demo_tracks",
    "exercise_clock",
    "feed_tracks",
    "seed_demo",
]

FEED_PERIOD = timedelta(minutes=6)
"""How long the demo's aircraft fly before the picture starts over."""
_log = logging.getLogger("accord.center")

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


def exercise_clock(start: datetime, *, origin: float | None = None) -> Clock:
    """A clock that reads ``start`` at the instant ``origin`` of :func:`time.monotonic`
    (now, when not given) and runs at real speed from there. The monotonic clock is one for
    every process of the machine, so server processes given the same ``start`` and
    ``origin`` read the same time."""
    if origin is None:
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
    alerts: tuple[str, ...] = ()


def _callers(center: Center) -> dict[str, Caller]:
    with center.reading() as session:
        users = session.scalars(select(User)).all()
        return {u.name: Caller(u.id, u.name, u.member, Role(u.role)) for u in users}


def _as_declaration(feature: Mapping[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in feature["properties"].items() if k not in ("id", "declared_by")}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": properties}


def seed_demo(center: Center, world_path: Path) -> Seeded:
    """Register the demo users and declare the demo world in ``center`` (a fresh database,
    built by :mod:`accord.center.bootstrap`):
    the aid delivery confirmed by the notification cell, every site, movement, position and
    flight plan declared by its owner, then the operations whose windows lie ahead proposed
    (coordinated) or notified (synchronized) by their parties — each checked against the
    world by the engine. The imminent-threat operation of the story has not happened yet at
    the exercise's start: its executor reports it when it does."""
    at = center.now()
    tokens: dict[str, str] = {}
    with center.writing() as unit:
        for name, (member, role) in DEMO_USERS.items():
            done = issue(
                unit, name=name, member=member, role=role, at=at, expires_at=None, by=COMMAND_LINE
            )
            assert done.token is not None
            tokens[name] = done.token
    callers = _callers(center)
    officer = {"blue": callers["blue-officer"], "red": callers["red-officer"]}
    officer["hnc"] = callers["hnc-notifier"]
    with center.writing() as unit:
        confirm(unit, callers["hnc-notifier"], _AID, at)
    world = json.loads(world_path.read_text(encoding="utf-8"))
    declared: dict[str, str] = {}
    for feature in world["features"]:
        props = feature["properties"]
        if props["kind"] == "operation":
            continue
        with center.writing() as unit:
            view = declarations.declare(
                unit,
                officer[props["declared_by"]],
                _as_declaration(feature),
                at,
            )
        declared[props["id"]] = view.id
    proposed: dict[str, str] = {}
    for feature in world["features"]:
        props = feature["properties"]
        if props["kind"] != "operation" or props["category"] == "imminent_threat":
            continue
        fields = {k: v for k, v in props.items() if k not in ("id", "declared_by", "proposed_by")}
        with center.writing() as unit:
            made = operations.propose(
                unit,
                officer[props["declared_by"]],
                geometry=feature["geometry"],
                properties=fields,
                at=center.now(),
            )
        proposed[props["id"]] = made.state.id
    fed = feed_tracks(center, demo_tracks(center.now()), center.now())
    alerts = tuple(a.id for answer in fed for a in answer.raised)
    return Seeded(tokens, declared, proposed, alerts)


def demo_tracks(base: datetime, now: datetime | None = None) -> list[TrackReport]:
    """The example's aircraft as if their latest reports were made at ``base``, each moved
    along its straight line to ``now`` (default ``base``) and reported then."""
    kept = latest(load_tracks(example_path("tracks.csv"))).tracks
    newest = kept.latest_time
    assert newest is not None
    shift = base - newest
    retimed = TrackSet.from_reports(
        TrackReport(**{**_fields(r), "time": r.time + shift}) for r in kept
    )
    at = base if now is None else now
    states = retimed.states_at(at)
    return [
        TrackReport(
            **{
                **_fields(r),
                "time": at,
                "lat": float(states.lat[k]),
                "lon": float(states.lon[k]),
                "alt_ft": round(float(states.alt_ft[k])),
            }
        )
        for k, r in enumerate(retimed)
    ]


def _fields(report: TrackReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in TrackReport.__slots__}


def feed_tracks(center: Center, reports: Sequence[TrackReport], at: datetime) -> list[Batch]:
    """Report ``reports`` at ``at``: each party's aircraft by its officer, the rest by the
    administrator (the center's own feed), one batch each, as ``POST /v1/tracks`` would."""
    callers = _callers(center)
    by: dict[str, list[dict[str, Any]]] = {}
    for r in reports:
        reporter = f"{r.party}-officer" if f"{r.party}-officer" in callers else "admin"
        fields = _fields(r) | {"time": format_instant(r.time)}
        by.setdefault(reporter, []).append(fields)
    answers = []
    for name in sorted(by):
        with center.writing() as unit:
            answers.append(report_tracks(unit, center, callers[name], by[name], at))
    return answers


async def demo_feed(center: Center, interval: float = 1.0) -> None:
    """Report the demo's aircraft every ``interval`` seconds along their lines, starting
    over every :data:`FEED_PERIOD`, until cancelled; a failure is logged and the loop goes
    on."""
    base = center.now()
    while True:
        now = center.now()
        if now - base >= FEED_PERIOD:
            base = now
        try:
            reports = demo_tracks(base, now)
            await anyio.to_thread.run_sync(partial(feed_tracks, center, reports, now))
        except Exception:  # logged; the next tick retries
            _log.exception("feeding the demo tracks failed")
        await anyio.sleep(interval)
