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
from accord.center.checks.service import opening_for
from accord.center.db.models import User
from accord.center.declarations import service as declarations
from accord.center.declarations.entries import HIDDEN_CHANGES
from accord.center.directline.escalation import escalate_due
from accord.center.directline.messages import acknowledge, check_draft, send
from accord.center.escalation.contacts import heartbeat, set_contacts
from accord.center.identity import Caller
from accord.center.operations import service as operations
from accord.center.phases.service import confirm
from accord.center.reports.service import answer_report, file_report
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
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
    "NIGHT_START",
    "STORY_USERS",
    "DemoOffices",
    "ExerciseClock",
    "Night",
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

STORY_USERS: dict[str, tuple[str, Role]] = {
    "red-backup-officer": ("red", Role.OFFICER),
    "red-duty-officer": ("red", Role.OFFICER),
}
"""The night's story's users beside :data:`DEMO_USERS`: red's backup and duty officers (red's
usual contact is ``red-officer``)."""

NIGHT_START = DEMO_START - timedelta(hours=3, minutes=30)
"""When the exercise's record begins: the night before the exercise clock starts, whose
story (:func:`play_night`) is already in the record when people sign in."""

SCHOOL_TARGET = {"type": "Point", "coordinates": [21.87438, 24.936]}
"""The coordinates blue passes red in the night's story: 240 m east of School No. 12."""

_AID = "aid-delivered-east-city"


class ExerciseClock:
    """The exercise's clock: it reads ``start`` at the instant ``origin`` of
    :func:`time.monotonic` and runs at real speed from there — unless it is *held*, when it
    reads what it was last set to (the night's story is played on a held clock:
    :func:`seed_demo`). The monotonic clock is one for every process of the machine, so
    server processes given the same ``start`` and ``origin`` read the same time."""

    exercise = True
    """It is an exercise's clock, not the real time (``GET /v1/me`` says so: ``exercise``)."""

    def __init__(self, start: datetime, origin: float, held: datetime | None = None) -> None:
        self.start = start
        self.origin = origin
        self.held = held

    def __call__(self) -> datetime:
        if self.held is not None:
            return self.held
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


def exercise_clock(
    start: datetime, *, origin: float | None = None, held: datetime | None = None
) -> ExerciseClock:
    """A clock that reads ``start`` at the instant ``origin`` of :func:`time.monotonic`
    (now, when not given) and runs at real speed from there; ``held``: it reads that until
    released (:class:`ExerciseClock`) — the clock to open the exercise's center on for
    :func:`seed_demo`, at :data:`NIGHT_START`."""
    return ExerciseClock(start, time.monotonic() if origin is None else origin, held)


@dataclass(frozen=True, slots=True)
class Night:
    """What the night's story left in the record (:func:`play_night`)."""

    message: str
    """Blue's message carrying the target coordinates."""
    content_hash: str
    answer: str
    """Red's answer over the line."""
    sent_at: datetime
    escalated: tuple[tuple[datetime, str], ...]
    """Each escalation step of red: when, and the role alerted."""
    acknowledged_at: datetime
    warned: tuple[str, ...]
    """What the center's check showed red, one line per object."""
    imminent: str | None = None
    """Red's imminent-threat operation reported late."""
    report: str | None = None
    """The observers' report of that late notice (red answered it)."""


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the seeding made: tokens by user name, declaration and operation ids by world
    id, and the night's story."""

    tokens: dict[str, str]
    declared: dict[str, str]
    proposed: dict[str, str]
    alerts: tuple[str, ...] = ()
    night: Night | None = None


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
    for name, (member, role) in (DEMO_USERS | STORY_USERS).items():
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
    *,
    method: str = "POST",
) -> None:
    """``caller``'s act, signed at its office, when the exercise plays the offices."""
    if offices is not None:
        offices.take(unit, caller, method, path, body)


def _callers(center: Center) -> dict[str, Caller]:
    with center.reading() as session:
        users = session.scalars(select(User)).all()
        return {u.name: Caller(u.id, u.name, u.member, Role(u.role)) for u in users}


def _as_declaration(feature: Mapping[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in feature["properties"].items() if k not in ("id", "declared_by")}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": properties}


def seed_demo(center: Center, world_path: Path, offices: DemoOffices | None = None) -> Seeded:
    """Register the demo users and declare the demo world in ``center`` (a fresh database,
    built by :mod:`accord.center.bootstrap`): at :data:`NIGHT_START`, on a clock of its own,
    the aid delivery confirmed by the notification cell, every site, movement, position and
    flight plan declared by its owner, and the night's story played (:func:`play_night`);
    then, on the exercise's clock, the operations whose windows lie ahead proposed
    (coordinated) or notified (synchronized) by their parties — each checked against the
    world by the engine — and the aircraft reported. The day's imminent-threat operation
    (op-i1) has not happened yet at the exercise's start: its executor reports it when it
    does."""
    clock = center.clock
    if not isinstance(clock, ExerciseClock) or clock.held != NIGHT_START:
        raise ValueError(
            "the exercise's center opens on its clock held at the night's start: "
            "exercise_clock(start, held=NIGHT_START), so that its record begins then"
        )
    try:
        tokens, declared, night = _seed_night(center, world_path, offices, clock)
    finally:
        clock.held = None  # the exercise's clock runs from here
    callers = _callers(center)
    officer = {"blue": callers["blue-officer"], "red": callers["red-officer"]}
    world = json.loads(world_path.read_text(encoding="utf-8"))
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
    return Seeded(tokens, declared, proposed, alerts, night)


def _seed_night(
    center: Center, world_path: Path, offices: DemoOffices | None, script: ExerciseClock
) -> tuple[dict[str, str], dict[str, str], Night]:
    """The users, the offices' signatures, the aid confirmed and the world declared at
    :data:`NIGHT_START`, then the night's story (:func:`play_night`)."""
    at = center.now()
    tokens: dict[str, str] = {}
    with center.writing() as unit:
        for name, (member, role) in (DEMO_USERS | STORY_USERS).items():
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
            if body["properties"].get("disclosure") == "center":  # a request line naming nothing
                changes = {"changes": [{"change": "declare", "feature": body}]}
                _acting(offices, unit, who, HIDDEN_CHANGES.partition(" ")[2], changes)
            else:
                _acting(offices, unit, who, "/v1/declarations", body)
            view = declarations.declare(unit, who, body, at)
        declared[props["id"]] = view.id
    night = play_night(center, offices, script, world_path)
    return tokens, declared, night


def play_night(
    center: Center, offices: DemoOffices | None, script: ExerciseClock, world_path: Path
) -> Night:
    """The source story, the night before the exercise clock starts, through the service's
    own functions (each step its user's act, signed at its office):

    * 02:40 — red reports counter-battery fire it executed at 01:05: later than the hour
      the agreement allows, a breach in the record;
    * 02:50 — the observers file a report of the late notice, citing red's entry; 03:00 —
      red answers it;
    * 03:05 — red's contact chain: its usual officer, a backup, a duty officer;
    * 03:10 — blue passes red target coordinates over the direct line, 10 minutes to
      acknowledge; the center's check shows red (and blue) that they lie 240 m from School
      No. 12;
    * 03:20 — red's usual contact is absent: escalated to the backup, present since 03:18;
    * 03:25 — no acknowledgement: escalated to the duty officer, present since 03:24;
    * 03:27 — red's duty officer acknowledges, naming the content's exact hash, and answers
      over the line that the point sits within the distance the agreement keeps from the
      school;
    * 03:31 — blue acknowledges the answer.

    If blue later disputes having sent those coordinates, the record settles it: blue's
    signed ``message.sent`` entry commits to the content whose hash red's signed
    acknowledgement names (``accord record open`` with red's opening), with the center's
    escalation steps and its check between them."""
    callers = _callers(center)
    base = NIGHT_START.replace(hour=0, minute=0)

    def at(hh_mm: str) -> datetime:
        hours, minutes = (int(x) for x in hh_mm.split(":"))
        script.held = base + timedelta(hours=hours, minutes=minutes)
        return script.held

    blue, red = callers["blue-officer"], callers["red-officer"]
    backup, duty = callers["red-backup-officer"], callers["red-duty-officer"]

    imminent, reported = _late_imminent_report(center, offices, red, world_path, at)
    report = _report_and_answer(center, offices, callers, red, imminent, reported, at)

    chain = {"primary": red.name, "backup": backup.name, "duty": [duty.name]}
    now = at("03:05")
    with center.writing() as unit:
        _acting(offices, unit, red, "/v1/contacts", chain, method="PUT")
        set_contacts(unit, red, primary=red.name, backup=backup.name, duty=[duty.name], at=now)

    body = {
        "to": ["red"],
        "subject": "Target coordinates",
        "text": "Grid of the mortar position engaging our patrol. Acknowledge.",
        "geometry": SCHOOL_TARGET,
        "ack_within": "PT10M",
    }
    now = at("03:10")
    with center.writing() as unit:
        _acting(offices, unit, blue, "/v1/messages", body)
        message, _ = send(unit, blue, _draft(center, "blue", body), now)

    escalated = []
    for present, user, due in (("03:18", backup, "03:20"), ("03:24", duty, "03:25")):
        now = at(present)
        with center.writing() as unit:
            _acting(offices, unit, user, "/v1/presence", None)
            heartbeat(unit, user, now)
        now = at(due)
        assert escalate_due(center, now) == 1, f"no escalation at {due}"
        escalated.append((now, "backup" if user is backup else "duty"))

    with center.reading() as session:
        opened = opening_for(session, message.id, "red")
    assert opened is not None
    warned = tuple(str(w["text"]) for w in json.loads(opened.content)["warnings"])

    now = at("03:27")
    named = {"content_hash": message.content_hash}
    with center.writing() as unit:
        _acting(offices, unit, duty, f"/v1/messages/{message.id}/acknowledge", named)
        acknowledge(unit, duty, message.id, message.content_hash, now)
    answer_body = {
        "to": ["blue"],
        "subject": "Re: Target coordinates",
        "text": (
            "Received and acknowledged. Your point lies 240 m from School No. 12, inside the "
            "1,500 m the agreement keeps: do not fire on it. Confirm or correct the grid."
        ),
        "refers_to": message.id,
        "ack_within": "PT10M",
    }
    with center.writing() as unit:
        _acting(offices, unit, duty, "/v1/messages", answer_body)
        answer, _ = send(unit, duty, _draft(center, "red", answer_body), now)
    now = at("03:31")
    named = {"content_hash": answer.content_hash}
    with center.writing() as unit:
        _acting(offices, unit, blue, f"/v1/messages/{answer.id}/acknowledge", named)
        acknowledge(unit, blue, answer.id, answer.content_hash, now)
    return Night(
        message=message.id,
        content_hash=message.content_hash,
        answer=answer.id,
        sent_at=message.sent_at,
        escalated=tuple((t, role) for t, role in escalated),
        acknowledged_at=base + timedelta(hours=3, minutes=27),
        warned=warned,
        imminent=imminent,
        report=report,
    )


def _draft(center: Center, sender: str, body: Mapping[str, Any]) -> Any:
    return check_draft(
        center.agreement,
        sender,
        to=body["to"],
        subject=body["subject"],
        text=body["text"],
        geometry=body.get("geometry"),
        refers_to=body.get("refers_to"),
        ack_within=body.get("ack_within"),
    )


def _report_and_answer(
    center: Center,
    offices: DemoOffices | None,
    callers: Mapping[str, Caller],
    red: Caller,
    imminent: str,
    reported: int,
    at: Any,
) -> str:
    """02:50: the observers file a report against red — the counter-battery fire notified
    35 minutes late — citing red's report entry; 03:00: red answers (each signed by its
    filer at its office)."""
    observer = callers["observer"]
    base = NIGHT_START.replace(hour=0, minute=0)
    body = {
        "accused": "red",
        "what": (
            f"Counter-battery fire ({imminent}) executed at 01:05 was notified at 02:40: 95 "
            "minutes after the fact, where the agreement allows one hour."
        ),
        "when": {
            "start": format_instant(base + timedelta(hours=1, minutes=5)),
            "end": format_instant(base + timedelta(hours=2, minutes=40)),
        },
        "where": None,
        "cites": [reported],
        "evidence": [],
    }
    now = at("02:50")
    with center.writing() as unit:
        _acting(offices, unit, observer, "/v1/reports", body)
        filed = file_report(unit, observer, body, now)
    answer = {
        "text": (
            "The battery fired on incoming rounds detected at 01:03; the notice was delayed "
            "by the loss of the line to our liaison cell until 02:30. The late notice is "
            "acknowledged."
        ),
        "cites": [reported],
        "evidence": [],
    }
    now = at("03:00")
    with center.writing() as unit:
        path = f"/v1/reports/{filed.id}/answer"
        _acting(offices, unit, red, path, answer)
        answer_report(unit, red, filed.id, answer, now)
    return filed.id


def _late_imminent_report(
    center: Center, offices: DemoOffices | None, red: Caller, world_path: Path, at: Any
) -> tuple[str, int]:
    """02:40: red reports the counter-battery fire of the example world (op-i1's area) that
    it executed at 01:05, the night before the exercise: 35 minutes past the hour the
    agreement allows — a late-notification breach the record keeps."""
    world = json.loads(world_path.read_text(encoding="utf-8"))
    (feature,) = [f for f in world["features"] if f["properties"]["id"] == "op-i1"]
    keep = ("category", "executor", "radius_m", "disclosure")
    properties = {k: feature["properties"][k] for k in keep if k in feature["properties"]}
    base = NIGHT_START.replace(hour=0, minute=0)
    properties |= {
        "name": "Counter-battery fire (night)",
        "window_start": format_instant(base + timedelta(hours=1)),
        "window_end": format_instant(base + timedelta(hours=1, minutes=30)),
    }
    executed = base + timedelta(hours=1, minutes=5)
    now = at("02:40")
    body = {
        "type": "Feature",
        "geometry": feature["geometry"],
        "properties": {**properties, "executed_at": format_instant(executed)},
    }
    with center.writing() as unit:
        _acting(offices, unit, red, "/v1/operations/report", body)
        made = operations.report(
            unit, red, geometry=feature["geometry"], properties=properties,
            executed_at=executed, at=now,
        )  # fmt: skip
    return made.state.id, made.entry


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
        if caller is None or offer.user not in DEMO_USERS.keys() | STORY_USERS.keys():
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
