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

**The parties' offices.** The exercise's agreement names each member's root, made anew at
every start in the offices' folder (:class:`DemoOffices`, ``var/demo-offices``: outside the
server's data folder, which holds the center's key alone). The exercise plays those offices:
each party's root signs the agreement and certifies a key for each demo user, kept in its
office; every seeded change and every track report is the user's act, signed there and
taken in by the center as any request's (:func:`accord.center.acts.accept`). A person who
signs in on the page makes a key in the browser and offers it: the demo's offices certify
every key a demo user's device offers within a second (:func:`office_clerk`) — in life, the
root holder first compares the fingerprint the device shows (``accord office certify``).

**Start-up** is the composition root's (:mod:`accord.center.bootstrap`), as for any
service: ``accord serve --demo`` seeds a center built by
:meth:`Parts.running <accord.center.bootstrap.Parts.running>`, then serves parts whose
:attr:`~accord.center.bootstrap.Parts.jobs` hold :func:`demo_feed`.
"""

from __future__ import annotations

import json
import logging
import shutil
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
from accord.center.acts import Presented, Signing, accept
from accord.center.airspace.tracks import Batch, report_tracks
from accord.center.db.models import User
from accord.center.declarations import service as declarations
from accord.center.identity import Caller
from accord.center.operations import service as operations
from accord.center.phases.service import confirm
from accord.center.roles import Role
from accord.center.runtime import Center, Clock, Unit
from accord.center.signing import service as signing
from accord.center.signing.service import agreement_document
from accord.center.users.service import COMMAND_LINE, issue
from accord.chrono import format_instant, parse_instant
from accord.examples import example_path
from accord.office import Office, act_headers
from accord.record.acts import new_salt
from accord.record.canonical import encode_base64
from accord.record.keys import PublicKey
from accord.record.registry import agreement_digest

__all__ = [
    "DEMO_START",
    "DEMO_USERS",
    "FEED_PERIOD",
    "DemoOffices",
    "Seeded",
    "demo_feed",
    "demo_tracks",
    "exercise_clock",
    "feed_tracks",
    "office_clerk",
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


@dataclass(frozen=True)
class DemoOffices:
    """The members' offices the exercise plays, in ``folder`` (one office folder per member:
    :class:`accord.office.Office`)."""

    folder: Path

    @classmethod
    def create(cls, folder: Path, members: Sequence[str]) -> DemoOffices:
        """Fresh offices for ``members`` in ``folder`` (emptied first), a root each."""
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=0o700, parents=True)
        for member in members:
            Office(folder / member, member).init()
        return cls(folder)

    def office(self, member: str) -> Office:
        return Office(self.folder / member, member)

    def roots(self, members: Sequence[str]) -> dict[str, PublicKey]:
        return {m: self.office(m).root().public for m in members}

    def take(
        self,
        unit: Unit,
        caller: Caller,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        root: bool = False,
    ) -> None:
        """``caller``'s request ``method path body``, signed at its office (by its user's key,
        or the member's root) and taken in as the unit's act."""
        office = self.office(caller.member)
        key = office.root() if root else office.user_key(caller.name, create=True)
        salt = new_salt()
        _headers, signed = act_headers(
            key,
            origin=unit.center.origin,
            member=caller.member,
            user=caller.name,
            method=method,
            path=path,
            body=body,
            at=unit.center.now(),
            salt=salt,
        )
        text = json.dumps(dict(body or {}), ensure_ascii=False, separators=(",", ":"))
        signing = Signing.ACT if not root else Signing.ROOT
        if root and path == "/v1/keys/registrations":
            signing = Signing.CERTIFY
        accept(unit, Presented(signed, salt, text), signing=signing)


def _start_signing(center: Center, offices: DemoOffices, callers: Mapping[str, Caller]) -> None:
    """Each party's root signs the agreement; each member's root certifies each demo user's
    key (made in its office)."""
    at = center.now()
    digest = {"digest": agreement_digest(agreement_document(center.agreement))}
    for party in sorted(center.agreement.party_ids):
        carrier = next(c for c in callers.values() if c.member == party)
        with center.writing() as unit:
            offices.take(unit, carrier, "POST", "/v1/agreement/signatures", digest, root=True)
            signing.sign_agreement(unit, carrier, at)
    for name, (member, role) in DEMO_USERS.items():
        if role is Role.ADMIN:
            continue  # the center's own: it signs nothing of a member's
        key = offices.office(member).user_key(name, create=True)
        body = {"user": name, "public_key": encode_base64(key.public.raw), "purposes": ["act"]}
        with center.writing() as unit:
            caller = callers[name]
            offices.take(unit, caller, "POST", "/v1/keys/registrations", body, root=True)
            signing.register(unit, caller, at)


def _acting(
    offices: DemoOffices | None,
    unit: Unit,
    caller: Caller,
    path: str,
    body: Mapping[str, Any] | None,
) -> None:
    if offices is not None:
        offices.take(unit, caller, "POST", path, body)


def _callers(center: Center) -> dict[str, Caller]:
    with center.reading() as session:
        users = session.scalars(select(User)).all()
        return {u.name: Caller(u.id, u.name, u.member, Role(u.role)) for u in users}


def _as_declaration(feature: Mapping[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in feature["properties"].items() if k not in ("id", "declared_by")}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": properties}


def seed_demo(center: Center, world_path: Path, offices: DemoOffices | None = None) -> Seeded:
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
    if center.agreement.rooted:
        if offices is None:
            raise ValueError("the exercise's agreement names roots: it needs its offices")
        _start_signing(center, offices, callers)
    officer = {"blue": callers["blue-officer"], "red": callers["red-officer"]}
    officer["hnc"] = callers["hnc-notifier"]
    with center.writing() as unit:
        _acting(offices, unit, callers["hnc-notifier"], "/v1/phases/confirm", {"condition": _AID})
        confirm(unit, callers["hnc-notifier"], _AID, at)
    world = json.loads(world_path.read_text(encoding="utf-8"))
    declared: dict[str, str] = {}
    for feature in world["features"]:
        props = feature["properties"]
        if props["kind"] == "operation":
            continue
        with center.writing() as unit:
            who, body = officer[props["declared_by"]], _as_declaration(feature)
            _acting(offices, unit, who, "/v1/declarations", body)
            view = declarations.declare(unit, who, body, at)
        declared[props["id"]] = view.id
    proposed: dict[str, str] = {}
    for feature in world["features"]:
        props = feature["properties"]
        if props["kind"] != "operation" or props["category"] == "imminent_threat":
            continue
        fields = {k: v for k, v in props.items() if k not in ("id", "declared_by", "proposed_by")}
        with center.writing() as unit:
            who = officer[props["declared_by"]]
            body = {"type": "Feature", "geometry": feature["geometry"], "properties": fields}
            _acting(offices, unit, who, "/v1/operations", body)
            made = operations.propose(
                unit, who, geometry=feature["geometry"], properties=fields, at=center.now()
            )
        proposed[props["id"]] = made.state.id
    fed = feed_tracks(center, demo_tracks(center.now()), center.now(), offices)
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


def feed_tracks(
    center: Center,
    reports: Sequence[TrackReport],
    at: datetime,
    offices: DemoOffices | None = None,
) -> list[Batch]:
    """Report ``reports`` at ``at``: each party's aircraft by its officer (its act, signed at
    its office when there are ``offices``), the rest by the administrator (the center's own
    feed), one batch each, as ``POST /v1/tracks`` would."""
    callers = _callers(center)
    by: dict[str, list[dict[str, Any]]] = {}
    for r in reports:
        reporter = f"{r.party}-officer" if f"{r.party}-officer" in callers else "admin"
        fields = _fields(r) | {"time": format_instant(r.time)}
        by.setdefault(reporter, []).append(fields)
    answers = []
    for name in sorted(by):
        with center.writing() as unit:
            if callers[name].role is not Role.ADMIN:
                _acting(offices, unit, callers[name], "/v1/tracks", {"tracks": by[name]})
            answers.append(report_tracks(unit, center, callers[name], by[name], at))
    return answers


async def demo_feed(
    center: Center, interval: float = 1.0, offices: DemoOffices | None = None
) -> None:
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
            await anyio.to_thread.run_sync(partial(feed_tracks, center, reports, now, offices))
        except Exception:  # logged; the next tick retries
            _log.exception("feeding the demo tracks failed")
        await anyio.sleep(interval)


def certify_offers(center: Center, offices: DemoOffices) -> int:
    """Certify every key a demo user's device offered, signed by its member's root (the
    demo's offices play the root holder); the number certified."""
    callers = _callers(center)
    with center.reading() as session:
        pending = [o for m in sorted(center.agreement.party_ids | center.agreement.notifier_ids
                                     | center.agreement.monitor_ids)
                   for o in signing.offers(session, m)]  # fmt: skip
    done = 0
    for offer in pending:
        caller = callers.get(offer.user)
        if caller is None or offer.user not in DEMO_USERS:
            continue
        body = {
            "user": offer.user,
            "public_key": encode_base64(offer.key.raw),
            "purposes": ["act"],
        }
        with center.writing() as unit:
            offices.take(unit, caller, "POST", "/v1/keys/registrations", body, root=True)
            signing.register(unit, caller, center.now())
        done += 1
    return done


async def office_clerk(center: Center, offices: DemoOffices, interval: float = 1.0) -> None:
    """Every ``interval`` seconds, certify the keys demo users' devices offered
    (:func:`certify_offers`), until cancelled; a failure is logged and the loop goes on."""
    while True:
        try:
            await anyio.to_thread.run_sync(partial(certify_offers, center, offices))
        except Exception:  # logged; the next tick retries
            _log.exception("certifying the demo's offered keys failed")
        await anyio.sleep(interval)
