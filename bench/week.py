"""A week of the center's record, written through the service's own code (issue 24).

:func:`seed_week` opens the center in process over a database whose users are registered and
whose agreement (naming its members' roots) the parties' roots signed, every user's key
registered (:mod:`bench.offices`, as :func:`bench.load._seed` leaves it), and writes a week
of exercise into its record, to a given number of entries: what the parties, the notifier
and the center's own feed do in a busy week, each request as its route would run it — the
user's act signed with the user's own key at the center's clock and taken in by
:func:`accord.center.acts.accept`, then the service function the route calls, then
:func:`~accord.center.acts.check_caused` — and the center's own work (its re-check of an
operation before an approval or an execution, the escalation passes) as the server runs it.
Each act runs in a savepoint of its own, as the server's unit of work: one the rules refuse
(an expired window, a probe limit) leaves nothing, and the week goes on.

**The clock.** A simulated clock that the week moves forward as the record grows: the entry
``k`` of the week is written at ``start + 7 days × k / entries`` (never earlier than the one
before), so whatever the size asked for, the entries span the seven days; what is due later
(an approval, an execution in its window, an acknowledgement, the end of an encounter) is
kept in a queue and done once the clock reaches it.

**Units of work.** Up to :data:`BLOCK_ENTRIES` entries (or a few minutes of the week) in one
transaction, as the server's writer groups its units; at the end of each, the heartbeats of
those on duty; then the center's escalation passes at that instant, and every
:data:`PROGRESS_EVERY` entries a progress line and a signed tree head (as a monitor asks for
one).

**The mix** (:data:`MIX`, shares of the week's entries; each kind of work is started when
its family lags its share most, and what it causes later counts to its family):

* ``airspace`` — the track feed: a fleet of aircraft (:data:`FLEET` per party, and half as
  many of a third party's when the center's own feed reports: an administrator is
  registered; else each party's officer reports its own, under its act) on a lattice of the
  theatre all flying one way at one speed (apart, nothing to find), reported whole at each
  pass; a pass brings an aircraft of one party next to another's (a loss of separation:
  ``airspace.conflict``, now and then three at once), now and then one squawks 7700
  (``airspace.emergency``), and an encounter that ended is cleared (``airspace.cleared``). The
  parties concerned acknowledge most groups within the two minutes (``airspace.acknowledged``),
  some late, some never: the center escalates (``airspace.escalated``, ``airspace.overdue``).
* ``declared``, ``amended``, ``withdrawn`` — the parties' positions (a unit's several at once
  in a batch; a third hidden, ``center``), the notifier's protected sites and movements;
  positions move and movements shift (amendments), the oldest are withdrawn — and always
  when the live declarations reach :func:`live_ceiling`, so that they do not grow with the
  week. The parties acknowledge some of the notifier's versions (``receipts``).
* ``operations`` — coordinated operations proposed, approved (with an override reason while
  blocking conflicts stand), vetoed or cancelled, executed in their window, completed;
  synchronized ones notified, objected to (half with coordinates: the center's evidence
  check) and the objection withdrawn or the operation cancelled, cleared, executed,
  completed; imminent-threat operations reported after the fact (some late: a breach).
* ``directline`` — messages between the parties (some with coordinates: the center's check),
  acknowledged in time, late or never (escalated along the contact chains each party set at
  the start; officers on duty all week, approvers by day, each sending heartbeats).

Synthetic coordinates only, in the bench theatre (:mod:`bench.world`). The week's course
follows from ``seed`` (two weeks of 3,000 entries with one seed wrote the same kinds, counts
and instants); the ids, salts and nonces the service and the offices draw do not, nor the
hidden objects' secret displacement, which could turn a check's outcome, and the course
with it.

Throughput is what the service's writer does on one core (one SQLite writer: the second
core has nothing to take): 300–380 entries a second on a shared two-core machine (each
request about a millisecond to take its act in — the key registry's read, the signature,
the nonce — and one to three to do; a pass of the track feed about ten), steady from 20,000
entries to 200,000; a million, by that rate, in 45 to 55 minutes.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.agreement import Agreement, RuleKind, SynchronizedRule
from accord.center.acts import Presented, Signing, accept, check_caused
from accord.center.airspace.alerts import acknowledge_alert
from accord.center.airspace.escalation import escalate_alerts_due
from accord.center.airspace.plans import plan_changed
from accord.center.airspace.store import GROUPS, load_groups
from accord.center.airspace.tracks import report_tracks
from accord.center.bootstrap import Parts
from accord.center.checks.geometry import check_geometry
from accord.center.config import Settings
from accord.center.db.models import User
from accord.center.declarations import service as declarations
from accord.center.declarations.entries import HIDDEN_CHANGES
from accord.center.directline import messages as directline
from accord.center.directline.escalation import escalate_due
from accord.center.escalation.contacts import heartbeat, set_contacts
from accord.center.identity import Caller
from accord.center.operations import service as operations
from accord.center.operations.queries import existing_row
from accord.center.operations.state import decode_state
from accord.center.phases.service import confirm, confirmations
from accord.center.record.heads import latest_head
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.chrono import format_instant, parse_instant
from accord.errors import AccordError
from accord.office import act_headers
from accord.record.acts import new_salt
from accord.record.keys import PrivateKey
from accord.rules import operations as rules
from accord.rules.operations import OperationState, OperationStatus
from bench.world import LAT0, LAT1, LON0, LON1

__all__ = ["FLEET", "MIX", "WEEK", "WeekSummary", "live_ceiling", "seed_week"]

WEEK = timedelta(days=7)

MIX: Mapping[str, float] = {
    "airspace": 0.35,
    "declared": 0.13,
    "amended": 0.10,
    "withdrawn": 0.07,
    "operations": 0.20,
    "directline": 0.15,
}
"""Each family's share of the week's entries (what the generator steers by). Two families
are not steered: ``receipts`` (the parties' acknowledgements of the notifier's declarations,
about 1 %) and ``setup`` (a condition confirmed at the start); withdrawals run above their
share once the live declarations reach :func:`live_ceiling`."""

FLEET = 12
"""Aircraft of each party in the track feed (and half as many of a third party's, when the
center's own feed reports)."""

BLOCK_ENTRIES = 250
"""Entries written in one unit of work (one transaction) at most."""

PROGRESS_EVERY = 50_000
"""Entries between two progress lines."""

STALLED_MAX = 200
"""Starts of one family in a row that write nothing (the rules refused them all) before the
week gives up."""

_ACK_ALERT_WITHIN = timedelta(seconds=100)
_CLEARING_AFTER = timedelta(seconds=45)
_KT_TO_DEG_LAT = 1.0 / 60.0 / 3600.0  # one knot, in degrees of latitude per second
_SPEED_KT = 240.0
_SUBJECTS = (
    "position report", "deconfliction request", "air activity notice", "convoy timing",
    "corridor change", "liaison schedule", "ceasefire observation", "medical evacuation",
)  # fmt: skip
_TEXTS = (
    "Request confirmation of the area below before the next window.",
    "Our units hold the marked positions until further notice.",
    "Aircraft transit expected in the next hour along the marked line.",
    "Please acknowledge receipt; details follow through the liaison channel.",
    "Activity observed near the marked point; request clarification.",
)


def _hidden(feature: Mapping[str, Any]) -> bool:
    """Whether ``feature`` is a ``center`` declaration's (changed through HIDDEN_CHANGES)."""
    return bool(feature["properties"].get("disclosure") == "center")


def live_ceiling(entries: int) -> int:
    """The most declarations in force at once in a week of ``entries`` entries (a creation
    beyond it withdraws the oldest first): a fiftieth of the week, from 300 to 20,000."""
    return max(300, min(20_000, entries // 50))


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """What :func:`seed_week` wrote.

    Attributes
    ----------
    entries
        The week's entries (the record then holds ``size``).
    kinds
        Entry kind → how many of the week's entries are of it.
    families
        Family of the mix (:data:`MIX`, ``receipts``, ``setup``) → its entries.
    first, last
        The instants of the week's first and last entries.
    seconds
        How long writing them took.
    refused
        Requests the rules refused (each left nothing; the week went on).
    peaks
        The most live objects at once: declarations in force, operations in course,
        messages and alert groups awaiting an acknowledgement still to come.
    """

    entries: int
    size: int
    kinds: Mapping[str, int]
    families: Mapping[str, int]
    first: datetime
    last: datetime
    seconds: float
    refused: int
    peaks: Mapping[str, int]

    @property
    def rate(self) -> float:
        """Entries written per second."""
        return self.entries / self.seconds if self.seconds > 0 else float("nan")


class _Clock:
    """The center's clock: the instant the week has reached."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass(slots=True)
class _Live:
    """A declaration in force, as its owner's office keeps it."""

    id: str
    user: str
    kind: str
    feature: dict[str, Any]
    version: int
    content_hash: str


@dataclass(slots=True)
class _Aircraft:
    """One aircraft of the feed: its row of the lattice, where it was at ``start``."""

    id: str
    operator: str
    party: str | None
    lat: float
    lon0: float
    alt_ft: float
    joined: int | None = None  # the aircraft it flies next to (an encounter)
    offset: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # dlat, dlon, dalt, dtrk
    until: datetime | None = None  # the end of its encounter or of its emergency
    squawk: str | None = None


@dataclass(order=True, slots=True)
class _Due:
    at: datetime
    seq: int
    family: str = field(compare=False)
    work: Callable[[Unit, datetime], None] = field(compare=False)


class _Week:
    """The week being written (see the module docstring)."""

    def __init__(
        self,
        center: Center,
        clock: _Clock,
        keys: Mapping[str, PrivateKey],
        *,
        entries: int,
        start: datetime,
        seed: int,
    ) -> None:
        self.center = center
        self.agreement: Agreement = center.agreement
        self.clock = clock
        self.keys = keys
        self.entries = entries
        self.start = start
        self.rng = random.Random(seed)
        self.families: Counter[str] = Counter()
        self.peaks: Counter[str] = Counter()
        self.refused = 0
        self.pending: list[_Due] = []
        self._seq = 0
        self._counted = 0
        self.stalled: Counter[str] = Counter()  # family → its starts in a row that wrote nothing
        self.live: dict[str, _Live] = {}
        self._movable: list[str] = []  # live positions and movements, for random picks
        self._slot: dict[str, int] = {}
        self.ceiling = live_ceiling(entries)
        self.ops_open: set[str] = set()
        self.messages_open: set[str] = set()
        self.alert_acks: Counter[str] = Counter()  # group → acknowledgements still to come
        self._beats: dict[str, datetime] = {}
        self._fed_at: datetime | None = None
        with center.reading() as session:
            self.n0 = center.log(session).size
            users = session.scalars(select(User).order_by(User.id)).all()
        if entries <= self.n0:
            raise ValueError(f"the record holds {self.n0} entries already: ask for more")
        self.size = self.n0
        self.last = start
        self.end = start + WEEK - timedelta(milliseconds=1)
        self.parties = sorted(self.agreement.party_ids)
        callers = [Caller(u.id, u.name, u.member, Role(u.role)) for u in users]

        def one(member: str, role: Role) -> Caller | None:
            """A user of ``member`` in ``role`` whose key signs here."""
            return next(
                (c for c in callers if (c.member, c.role) == (member, role) and c.name in keys),
                None,
            )

        self.officer: dict[str, Caller] = {}
        self.approver: dict[str, Caller] = {}
        for party in self.parties:
            officer, approver = one(party, Role.OFFICER), one(party, Role.APPROVER)
            if officer is None or approver is None:
                raise ValueError(f"{party}: the week needs an officer and an approver with keys")
            self.officer[party], self.approver[party] = officer, approver
        notifiers = [one(n, Role.NOTIFIER) for n in sorted(self.agreement.notifier_ids)]
        found = [n for n in notifiers if n is not None]
        if not found:
            raise ValueError("the week needs a notifier's user with its key")
        self.notifier: Caller = found[0]
        self.admin = next((c for c in callers if c.role is Role.ADMIN), None)
        self.categories = {
            RuleKind(category.rule): name for name, category in self.agreement.categories.items()
        }
        self.fleet = self._fleet()

    # --- the clock, the queue, the families --------------------------------------------------

    def now(self) -> datetime:
        """The instant of the next write: the week's share of the record written so far."""
        share = (self.size - self.n0) / (self.entries - self.n0)
        at = self.start + WEEK * min(1.0, share)
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        self.last = min(max(self.last, at), self.end)
        self.clock.at = self.last
        return self.last

    def move(self, to: datetime) -> None:
        """Move the clock on to ``to`` (at most to the week's last instant)."""
        self.last = min(max(self.last, to), self.end)
        self.clock.at = self.last

    def later(self, delay: timedelta, family: str, work: Callable[[Unit, datetime], None]) -> None:
        self.laterat(self.last + delay, family, work)

    def laterat(self, at: datetime, family: str, work: Callable[[Unit, datetime], None]) -> None:
        self._seq += 1
        heapq.heappush(self.pending, _Due(at, self._seq, family, work))

    def run(self, unit: Unit, family: str, work: Callable[[Unit, datetime], None]) -> None:
        """Do ``work`` now; what it writes counts to ``family`` (but what a run within it
        counted)."""
        before, counted = unit.ledger.log.size, self._counted
        work(unit, self.now())
        self.size = unit.ledger.log.size
        own = self.size - before - (self._counted - counted)  # not what nested runs counted
        self.families[family] += own
        self._counted += own

    def lagging(self) -> str:
        """The family furthest below its share."""
        written = self.size - self.n0 + 1
        return max(MIX, key=lambda f: MIX[f] * written - self.families[f])

    def presented(
        self, caller: Caller, method: str, path: str, body: Mapping[str, Any] | None, at: datetime
    ) -> Presented:
        """``caller``'s act of the request ``method path`` with ``body``, signed with its key
        at ``at``, as the request presents it."""
        salt = new_salt()
        _, signed = act_headers(
            self.keys[caller.name], origin=self.center.origin, member=caller.member,
            user=caller.name, method=method, path=path, body=body, at=at, salt=salt,
        )  # fmt: skip
        text = json.dumps(dict(body or {}), ensure_ascii=False, separators=(",", ":"))
        return Presented(signed, salt, text)

    def act(
        self,
        unit: Unit,
        caller: Caller,
        request: str,
        body: Mapping[str, Any] | None,
        work: Callable[[], Any],
    ) -> Any:
        """One request of ``caller`` (``"METHOD path"``) in its own savepoint: its act taken
        in, ``work`` done, the entries it caused checked against it; the result, or ``None``
        when the rules refused it (nothing of it stays)."""
        method, path = request.split(" ", 1)
        presented = self.presented(caller, method, path, body, self.last)
        size = unit.ledger.log.size
        unit.session.expire_all()  # as each unit of the server reads afresh
        savepoint = unit.session.begin_nested()
        try:
            accept(unit, presented, signing=Signing.ACT)
            result = work()
            check_caused(unit)
        except AccordError:
            if unit.ledger.log.size != size:
                raise
            savepoint.rollback()
            unit.ledger.acting = None
            self.refused += 1
            return None
        savepoint.commit()
        return result

    # --- places ------------------------------------------------------------------------------

    def point(self, margin: float = 0.1) -> list[float]:
        rng = self.rng
        return [
            round(rng.uniform(LON0 + margin, LON1 - margin), 6),
            round(rng.uniform(LAT0 + margin, LAT1 - margin), 6),
        ]

    def near(self, at: list[float], degrees: float) -> list[float]:
        rng = self.rng
        return [
            round(min(LON1, max(LON0, at[0] + rng.uniform(-degrees, degrees))), 6),
            round(min(LAT1, max(LAT0, at[1] + rng.uniform(-degrees, degrees))), 6),
        ]

    def square(self, centre: list[float], half: float) -> dict[str, Any]:
        x, y = centre
        ring = [[x - half, y - half], [x + half, y - half], [x + half, y + half],
                [x - half, y + half], [x - half, y - half]]  # fmt: skip
        return {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]}

    # --- the start: conditions, contact chains ----------------------------------------------

    def begin(self, unit: Unit, at: datetime) -> None:
        """Confirm the agreement's conditions not yet confirmed (by a member that may, whose
        user signs here), and have each party set its contact chain."""
        done = confirmations(unit.session)
        for condition in self.agreement.conditions:
            if condition.id in done:
                continue
            for member in condition.confirmed_by:
                user = self.notifier if self.notifier.member == member else None
                user = user or self.officer.get(member)
                if user is None:
                    continue
                body = {"condition": condition.id}
                work = partial(confirm, unit, user, condition.id, at)
                self.act(unit, user, "POST /v1/phases/confirm", body, work)
                break
        for party in self.parties:
            officer, approver = self.officer[party], self.approver[party]
            chain: dict[str, Any] = {"primary": officer.name, "backup": approver.name, "duty": []}
            contacts = partial(set_contacts, unit, officer, **chain, at=at)
            self.act(unit, officer, "PUT /v1/contacts", chain, contacts)

    def heartbeats(self, unit: Unit, at: datetime) -> None:
        """Each party's officer is on duty all week, its approver by day (06:00–22:00):
        while on duty, a heartbeat (``POST /v1/presence``) at the end of each unit of work
        of the week, two minutes apart at least (so the escalation passes that follow find
        who is present)."""
        for party in self.parties:
            on = [self.officer[party]]
            if 6 <= at.hour < 22:
                on.append(self.approver[party])
            for caller in on:
                last = self._beats.get(caller.name)
                if last is not None and at - last < timedelta(minutes=2):
                    continue
                self._beats[caller.name] = at
                self.act(
                    unit, caller, "POST /v1/presence", None, partial(heartbeat, unit, caller, at)
                )

    # --- the track feed ----------------------------------------------------------------------

    def _fleet(self) -> list[_Aircraft]:
        """Each party's aircraft and, with the center's own feed, a third party's, each on a
        row of its own (about 13 NM apart), at one level band, all flying east at one speed."""
        owners: list[tuple[str, str | None]] = []
        for party in self.parties:
            owners += [(party, party)] * FLEET
        third = sorted(self.agreement.operator_ids - self.agreement.party_ids)
        if self.admin is not None and third:
            owners += [(third[0], None)] * (FLEET // 2)
        order = list(range(len(owners)))
        self.rng.shuffle(order)
        rows = len(owners)
        fleet = []
        counts: Counter[str] = Counter()
        for slot, k in enumerate(order):
            operator, flies_for = owners[k]
            counts[operator] += 1
            lat = LAT0 + 0.2 + (LAT1 - LAT0 - 0.4) * (slot + 0.5) / rows
            fleet.append(
                _Aircraft(
                    id=f"{operator}-{counts[operator]:02d}", operator=operator, party=flies_for,
                    lat=round(lat, 5), lon0=self.rng.uniform(LON0, LON1),
                    alt_ft=float(self.rng.randrange(20_000, 36_000, 1000)),
                )
            )  # fmt: skip
        return fleet

    def _lon(self, craft: _Aircraft, at: datetime) -> float:
        seconds = (at - self.start).total_seconds()
        per_s = _SPEED_KT * _KT_TO_DEG_LAT / math.cos(math.radians(craft.lat))
        width = LON1 - LON0
        return LON0 + (craft.lon0 - LON0 + per_s * seconds) % width

    def _report(self, craft: _Aircraft, at: datetime) -> dict[str, Any]:
        lat, lon, alt, track = craft.lat, self._lon(craft, at), craft.alt_ft, 90.0
        if craft.joined is not None:
            other = self.fleet[craft.joined]
            dlat, dlon, dalt, dtrk = craft.offset
            lat, lon = other.lat + dlat, self._lon(other, at) + dlon
            alt, track = other.alt_ft + dalt, 90.0 + dtrk
        report: dict[str, Any] = {
            "id": craft.id, "operator": craft.operator, "party": craft.party,
            "mission": "patrol", "time": format_instant(at), "lat": round(lat, 5),
            "lon": round(min(LON1, max(LON0, lon)), 5), "alt_ft": round(alt),
            "gs_kt": _SPEED_KT, "track_deg": round(track % 360.0, 1), "vs_fpm": 0,
        }  # fmt: skip
        if craft.squawk is not None:
            report["squawk"] = craft.squawk
        return report

    def _free(self) -> list[int]:
        busy = {c.joined for c in self.fleet if c.joined is not None}
        return [
            k
            for k, c in enumerate(self.fleet)
            if c.joined is None and k not in busy and c.squawk is None
        ]

    def _encounter(self, at: datetime) -> None:
        """An aircraft of one party flies next to another's aircraft (of another operator):
        within a couple of miles and a few hundred feet; now and then a third joins them."""
        rng = self.rng
        free = self._free()
        if len(free) < 3:
            return
        target = rng.choice(free)
        others = [k for k in free if self.fleet[k].operator != self.fleet[target].operator]
        others = [k for k in others if self.fleet[k].party is not None]
        if not others:
            return
        joining = [rng.choice(others)]
        if rng.random() < 0.1:
            more = [k for k in free if k != target and k not in joining]
            if more:
                joining.append(rng.choice(more))
        until = at + timedelta(seconds=rng.uniform(10, 75))
        for k in joining:
            craft = self.fleet[k]
            craft.joined, craft.until = target, until
            craft.offset = (
                rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03),
                rng.uniform(-600, 600), rng.uniform(-25, 25),
            )  # fmt: skip
        self.laterat(until + _CLEARING_AFTER, "airspace", self._clearing)

    def _emergency(self, at: datetime) -> None:
        free = [k for k in self._free() if self.fleet[k].party is not None]
        if free:
            craft = self.fleet[self.rng.choice(free)]
            craft.squawk, craft.until = "7700", at + timedelta(seconds=self.rng.uniform(60, 300))
            self.laterat(craft.until + _CLEARING_AFTER, "airspace", self._clearing)

    def _clearing(self, unit: Unit, at: datetime) -> None:
        """An encounter (or an emergency) ended a while ago and no pass has ended it since
        (the feed passes often enough in a busy hour): a pass of its own."""
        if any(c.until is not None and c.until <= at for c in self.fleet):
            self._pass(unit, at, new=False)

    def feed(self, unit: Unit, at: datetime) -> None:
        self._pass(unit, at, new=True)

    def _pass(self, unit: Unit, at: datetime, *, new: bool) -> None:
        """One pass of the feed: what ended ends, new encounters begin (``new``), the whole
        fleet is reported (by the center's own feed, else by each party's officer: its own
        aircraft, under its act), and the parties concerned by each group raised are set to
        acknowledge it (most in time, some late, some never)."""
        if self._fed_at is not None and at <= self._fed_at:
            self.move(self._fed_at + timedelta(seconds=1))
            at = self.last
        self._fed_at = at
        for craft in self.fleet:
            if craft.until is not None and craft.until <= at:
                craft.joined, craft.until, craft.squawk = None, None, None
        if new:
            for _ in range(self.rng.choice((3, 4, 4, 5, 6))):
                self._encounter(at)
            if self.rng.random() < 0.03:
                self._emergency(at)
        reports = [self._report(c, at) for c in self.fleet]
        if self.admin is not None:
            admin = self.admin
            unit.session.expire_all()
            report_tracks(unit, self.center, admin, reports, at)
        else:
            for party in self.parties:
                own = [r for r in reports if r["party"] == party]
                officer = self.officer[party]
                report = partial(report_tracks, unit, self.center, officer, own, at)
                self.act(unit, officer, "POST /v1/tracks", {"tracks": own}, report)
        raised = load_groups(unit.session, GROUPS.c.raised_at >= at, blobs=False)
        for group in raised:
            for party in group.parties:
                if party not in self.officer:
                    continue
                roll = self.rng.random()
                if roll < 0.72:
                    delay = timedelta(seconds=self.rng.uniform(10, _ACK_ALERT_WITHIN.seconds))
                elif roll < 0.9:
                    delay = timedelta(seconds=self.rng.uniform(150, 900))
                else:
                    continue
                self.alert_acks[group.id] += 1
                self.later(delay, "airspace", self._alert_ack(group.id, group.content_hash, party))

    def _alert_ack(
        self, group: str, content_hash: str, party: str
    ) -> Callable[[Unit, datetime], None]:
        def work(unit: Unit, at: datetime) -> None:
            caller = self.officer[party]
            self.alert_acks[group] -= 1
            if self.alert_acks[group] <= 0:
                del self.alert_acks[group]
            self.act(
                unit, caller, f"POST /v1/alerts/{group}/acknowledge",
                {"content_hash": content_hash},
                lambda: acknowledge_alert(unit, self.center, caller, group, content_hash, at),
            )  # fmt: skip

        return work

    # --- declarations ------------------------------------------------------------------------

    def _position(self, party: str, at: datetime) -> dict[str, Any]:
        rng = self.rng
        centre = self.point()
        geometry: dict[str, Any] = {"type": "Point", "coordinates": centre}
        if rng.random() < 0.1:
            geometry = self.square(centre, rng.uniform(0.005, 0.02))
        return {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "kind": "position", "party": party,
                "disclosure": "center" if rng.random() < 0.33 else "shared",
                "uncertainty_m": rng.choice([0, 50, 100, 250, 500]),
                "valid_from": format_instant(at - timedelta(minutes=rng.randint(0, 60))),
                "valid_to": format_instant(at + timedelta(hours=rng.randint(6, 48))),
            },
        }  # fmt: skip

    def _site(self) -> dict[str, Any]:
        rng = self.rng
        properties: dict[str, Any] = {
            "kind": "protected_site", "disclosure": "shared",
            "category": rng.choice(("hospital", "school", "aid_warehouse", "water", "shelter")),
        }  # fmt: skip
        if rng.random() < 0.2:
            properties["standoff_m"] = rng.choice([1000, 2000, 3000])
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": self.point()},
            "properties": properties,
        }

    def _movement(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        line = [self.point(0.3)]
        for _ in range(rng.randint(1, 3)):
            line.append(self.near(line[-1], 0.1))
        begins = at + timedelta(minutes=rng.randint(0, 360))
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {
                "kind": "movement", "disclosure": "shared",
                "corridor_m": rng.choice([500, 1000]),
                "valid_from": format_instant(begins),
                "valid_to": format_instant(begins + timedelta(hours=rng.randint(2, 12))),
            },
        }  # fmt: skip

    def _keep(self, caller: Caller, feature: dict[str, Any], view: Any) -> None:
        live = _Live(view.id, caller.name, view.kind, feature, view.version, view.content_hash)
        self.live[view.id] = live
        if live.kind in ("position", "movement"):
            self._slot[view.id] = len(self._movable)
            self._movable.append(view.id)
        self.peaks["declarations"] = max(self.peaks["declarations"], len(self.live))
        if caller.member not in self.agreement.party_ids:
            self._receipts(live)

    def _drop(self, object_id: str) -> None:
        self.live.pop(object_id, None)
        slot = self._slot.pop(object_id, None)
        if slot is not None:
            last = self._movable.pop()
            if last != object_id:
                self._movable[slot] = last
                self._slot[last] = slot

    def _receipts(self, live: _Live) -> None:
        """Some parties acknowledge this version of the notifier's declaration."""
        for party in self.parties:
            if self.rng.random() < 0.3:
                delay = timedelta(minutes=self.rng.uniform(5, 90))
                self.later(delay, "receipts", self._receipt(live.id, live.version, party))

    def _receipt(
        self, object_id: str, version: int, party: str
    ) -> Callable[[Unit, datetime], None]:
        def work(unit: Unit, at: datetime) -> None:
            live = self.live.get(object_id)
            if live is None or live.version != version:
                return
            caller, body = self.officer[party], {"content_hash": live.content_hash}
            self.act(
                unit, caller, f"POST /v1/declarations/{object_id}/acknowledge", body,
                lambda: declarations.acknowledge(unit, caller, object_id, live.content_hash, at),
            )  # fmt: skip

        return work

    def declare(self, unit: Unit, at: datetime) -> None:
        """A declaration: a party's positions (one to a dozen at once, as a unit or a
        gateway reports them), or the notifier's site or movement. At the ceiling, the
        oldest declarations are withdrawn first."""
        roll = self.rng.random()
        count = self.rng.choice((1, 2, 3, 5, 8, 12)) if roll < 0.62 else 1
        while self.live and len(self.live) + count > self.ceiling:
            self.run(unit, "withdrawn", self.withdraw)
        at = self.now()
        if roll < 0.62:
            party = self.rng.choice(self.parties)
            caller = self.officer[party]
            features = [self._position(party, at) for _ in range(count)]
        else:
            caller = self.notifier
            features = [self._site() if roll < 0.85 else self._movement(at)]
        shared = [f for f in features if not _hidden(f)]
        hidden = [f for f in features if _hidden(f)]
        if len(shared) == 1:
            feature = shared[0]

            def one() -> list[Any]:
                view = declarations.declare(unit, caller, feature, at)
                plan_changed(unit, caller, view.id, at)
                return [view]

            views = self.act(unit, caller, "POST /v1/declarations", feature, one)
            self._kept(caller, shared, views)
        elif shared:
            items = [(caller, f) for f in shared]
            views = self.act(
                unit, caller, "POST /v1/declarations/batch", {"features": shared},
                lambda: declarations.declare_many(unit, items, at, name_items=True),
            )  # fmt: skip
            self._kept(caller, shared, views)
        if hidden:  # one request line for every hidden change (HIDDEN_CHANGES)
            mine = [(caller, f) for f in hidden]
            changes = [{"change": "declare", "feature": f} for f in hidden]
            views = self.act(
                unit, caller, HIDDEN_CHANGES, {"changes": changes},
                lambda: declarations.declare_many(unit, mine, at, name_items=True),
            )  # fmt: skip
            self._kept(caller, hidden, views)

    def _kept(self, caller: Caller, features: list[dict[str, Any]], views: Any) -> None:
        for feature, view in zip(features, views or (), strict=False):
            self._keep(caller, feature, view)

    def amend(self, unit: Unit, at: datetime) -> None:
        """A position moves (up to a few kilometres, its validity extended) or a movement
        shifts in time."""
        if not self._movable:
            self.run(unit, "declared", self.declare)
            return
        live = self.live[self.rng.choice(self._movable)]
        feature = json.loads(json.dumps(live.feature))
        properties = feature["properties"]
        if live.kind == "position":
            geometry = feature["geometry"]
            if geometry["type"] == "Point":
                geometry["coordinates"] = self.near(geometry["coordinates"], 0.03)
            else:
                ring = geometry["coordinates"][0]
                half = abs(ring[2][0] - ring[0][0]) / 2
                centre = [(ring[0][0] + ring[2][0]) / 2, (ring[0][1] + ring[2][1]) / 2]
                feature["geometry"] = self.square(self.near(centre, 0.03), half)
            properties["valid_to"] = format_instant(at + timedelta(hours=self.rng.randint(6, 48)))
        else:
            begins = at + timedelta(minutes=self.rng.randint(0, 240))
            properties["valid_from"] = format_instant(begins)
            properties["valid_to"] = format_instant(
                begins + timedelta(hours=self.rng.randint(2, 12))
            )
        caller = self._caller(live.user)

        def work() -> Any:
            view = declarations.amend(unit, caller, live.id, feature, at)
            plan_changed(unit, caller, view.id, at)
            return view

        if _hidden(live.feature):
            change = {"change": "amend", "id": live.id, "feature": feature}
            view = self.act(unit, caller, HIDDEN_CHANGES, {"changes": [change]}, work)
        else:
            view = self.act(unit, caller, f"PUT /v1/declarations/{live.id}", feature, work)
        if view is not None:
            live.feature, live.version, live.content_hash = feature, view.version, view.content_hash
            if caller.member not in self.agreement.party_ids:
                self._receipts(live)

    def withdraw(self, unit: Unit, at: datetime) -> None:
        """The oldest declaration in force is withdrawn by its owner."""
        if not self.live:
            self.run(unit, "declared", self.declare)
            return
        live = next(iter(self.live.values()))
        caller = self._caller(live.user)
        reason = {"position": "unit moved on", "movement": "movement completed"}
        body = {"reason": reason.get(live.kind, "site closed")}

        def work() -> Any:
            view = declarations.withdraw(unit, caller, live.id, body["reason"], at)
            plan_changed(unit, caller, view.id, at)
            return view

        if _hidden(live.feature):
            change = {"change": "withdraw", "id": live.id, **body}
            self.act(unit, caller, HIDDEN_CHANGES, {"changes": [change]}, work)
        else:
            self.act(unit, caller, f"POST /v1/declarations/{live.id}/withdraw", body, work)
        self._drop(live.id)

    def _caller(self, name: str) -> Caller:
        for caller in (*self.officer.values(), *self.approver.values(), self.notifier):
            if caller.name == name:
                return caller
        raise KeyError(name)

    # --- operations --------------------------------------------------------------------------

    def propose(self, unit: Unit, at: datetime) -> None:
        """A new operation: coordinated (45 %), synchronized (40 %) or an imminent-threat
        one reported after the fact (15 %), of either party."""
        rng = self.rng
        party = rng.choice(self.parties)
        officer = self.officer[party]
        roll = rng.random()
        rule = (
            RuleKind.COORDINATED
            if roll < 0.45
            else RuleKind.SYNCHRONIZED
            if roll < 0.85
            else RuleKind.IMMINENT_THREAT
        )
        if rule not in self.categories:  # an agreement without this kind of category
            rule = next(iter(self.categories))
        category = self.categories[rule]
        centre = self.point()
        geometry: dict[str, Any] = {"type": "Point", "coordinates": centre}
        properties: dict[str, Any] = {"kind": "operation", "category": category,
                                      "executors": [party], "disclosure": "shared"}  # fmt: skip
        if rng.random() < 0.15:
            geometry = self.square(centre, rng.uniform(0.005, 0.02))
        else:
            properties["radius_m"] = rng.choice([200, 500, 1000, 3000])
        if rule is RuleKind.IMMINENT_THREAT:
            executed = at - timedelta(minutes=rng.uniform(5, 80))
            properties |= {
                "window_start": format_instant(executed - timedelta(minutes=10)),
                "window_end": format_instant(executed + timedelta(minutes=30)),
                "executed_at": format_instant(executed),
            }
            body = {"type": "Feature", "geometry": geometry, "properties": properties}
            given = {k: v for k, v in properties.items() if k != "executed_at"}
            self.act(
                unit, officer, "POST /v1/operations/report", body,
                lambda: operations.report(
                    unit, officer, geometry=geometry, properties=given, executed_at=executed,
                    at=at,
                ),
            )  # fmt: skip
            return
        spec = self.agreement.categories[category]
        notice = spec.notice if isinstance(spec, SynchronizedRule) else timedelta(0)
        opens = at + notice + timedelta(minutes=rng.uniform(60, 360))
        closes = opens + timedelta(minutes=rng.uniform(60, 180))
        properties["window_start"] = format_instant(opens)
        properties["window_end"] = format_instant(closes)
        body = {"type": "Feature", "geometry": geometry, "properties": properties}
        view = self.act(
            unit, officer, "POST /v1/operations", body,
            lambda: operations.propose(unit, officer, geometry=geometry, properties=properties,
                                       at=at),
        )  # fmt: skip
        if view is None:
            return
        op = view.state.id
        self.ops_open.add(op)
        self.peaks["operations"] = max(self.peaks["operations"], len(self.ops_open))
        other = next(p for p in self.parties if p != party)
        run = opens + timedelta(minutes=rng.uniform(1, 20))
        if rule is RuleKind.COORDINATED:
            decide = min(at + timedelta(minutes=rng.uniform(5, 60)), opens - timedelta(minutes=1))
            self.laterat(decide, "operations", self._decide(op, party, other))
        elif isinstance(spec, SynchronizedRule) and rng.random() < 0.15:
            objects = at + spec.objection_window * rng.uniform(0.1, 0.8)
            self.laterat(objects, "operations", self._object(op, party, other))
        self.laterat(run, "operations", self._execute(op, party))

    def _state(self, unit: Unit, op: str, at: datetime) -> OperationState:
        row = existing_row(unit.session, op)
        return rules.settle(self.agreement, decode_state(row.state), at=at)

    def _step(self, unit: Unit, caller: Caller, op: str, action: str, at: datetime,
              body: Mapping[str, Any] | None = None, text: str | None = None,
              geometry: dict[str, Any] | None = None) -> Any:  # fmt: skip
        path = f"POST /v1/operations/{op}/{action.replace('_', '-')}"
        return self.act(
            unit, caller, path, body,
            lambda: operations.step(unit, caller, op, action, at=at, text=text, geometry=geometry),
        )  # fmt: skip

    def _finished(self, op: str) -> None:
        self.ops_open.discard(op)

    def _decide(self, op: str, party: str, other: str) -> Callable[[Unit, datetime], None]:
        """The other party's approver approves (an override reason while blocking conflicts
        stand) or vetoes, or the proposer cancels."""

        def work(unit: Unit, at: datetime) -> None:
            roll = self.rng.random()
            if roll < 0.85:
                operations.recheck(unit, op, at)  # the center's own, before a go-ahead
                state = self._state(unit, op, at)
                if state.status is not OperationStatus.PROPOSED:
                    self._finished(op)
                    return
                body: dict[str, Any] = {}
                if state.blocking_conflicts:
                    body["override_reason"] = "conflicts reviewed with the liaison officers"
                self._step(unit, self.approver[other], op, "approve", at, body,
                           body.get("override_reason"))  # fmt: skip
            elif roll < 0.93:
                body = {"reason": "the area holds our forces at that time"}
                self._step(unit, self.approver[other], op, "veto", at, body, body["reason"])
                self._finished(op)
            else:
                body = {"reason": "no longer needed"}
                self._step(unit, self.officer[party], op, "cancel", at, body, body["reason"])
                self._finished(op)

        return work

    def _object(self, op: str, party: str, other: str) -> Callable[[Unit, datetime], None]:
        """The other party objects to a synchronized operation (half the time with the
        coordinates it means); later it withdraws the objection, or the proposer cancels."""

        def work(unit: Unit, at: datetime) -> None:
            body: dict[str, Any] = {"evidence": "our convoy is expected on this road"}
            geometry = None
            if self.rng.random() < 0.5:
                given = {"type": "Point", "coordinates": self.point()}
                body["geometry"] = given
                geometry = check_geometry(given, source="request")
            done = self._step(unit, self.officer[other], op, "object", at, body,
                              body["evidence"], geometry)  # fmt: skip
            if done is not None:
                delay = timedelta(minutes=self.rng.uniform(10, 60))
                self.later(delay, "operations", self._resolve(op, party, other))

        return work

    def _resolve(self, op: str, party: str, other: str) -> Callable[[Unit, datetime], None]:
        def work(unit: Unit, at: datetime) -> None:
            if self.rng.random() < 0.75:
                self._step(unit, self.officer[other], op, "withdraw_objection", at)
            else:
                body = {"reason": "the objection stands: moved to a later window"}
                self._step(unit, self.officer[party], op, "cancel", at, body, body["reason"])
                self._finished(op)

        return work

    def _execute(self, op: str, party: str) -> Callable[[Unit, datetime], None]:
        """In its window, the proposer executes the operation (the center re-checks it
        first), then completes it; one that may not go ahead is cancelled."""

        def work(unit: Unit, at: datetime) -> None:
            if op not in self.ops_open:
                return
            operations.recheck(unit, op, at)
            state = self._state(unit, op, at)
            officer = self.officer[party]
            ready = state.status in (OperationStatus.APPROVED, OperationStatus.CLEARED)
            blocked = state.blocking_conflicts > 0 and (
                state.status is OperationStatus.CLEARED or not state.overrides
            )
            if ready and not blocked and self._step(unit, officer, op, "execute", at):
                delay = timedelta(minutes=self.rng.uniform(15, 90))
                self.later(delay, "operations", self._complete(op, party))
                return
            state = self._state(unit, op, at)
            if state.status in rules.PENDING:
                body = {"reason": "cannot go ahead as notified"}
                self._step(unit, officer, op, "cancel", at, body, body["reason"])
            self._finished(op)

        return work

    def _complete(self, op: str, party: str) -> Callable[[Unit, datetime], None]:
        def work(unit: Unit, at: datetime) -> None:
            self._step(unit, self.officer[party], op, "complete", at)
            self._finished(op)

        return work

    # --- the direct line ---------------------------------------------------------------------

    def send(self, unit: Unit, at: datetime) -> None:
        """A message from one party to the other (a third with coordinates), acknowledged
        in time (80 %), late (13 %) or never."""
        rng = self.rng
        party = rng.choice(self.parties)
        other = next(p for p in self.parties if p != party)
        sender = self.officer[party] if rng.random() < 0.75 else self.approver[party]
        body: dict[str, Any] = {
            "to": [other], "subject": rng.choice(_SUBJECTS), "text": rng.choice(_TEXTS),
            "ack_within": rng.choice(("PT5M", "PT15M", "PT15M", "PT30M", "PT1H")),
        }  # fmt: skip
        if rng.random() < 0.3:
            first = self.point()
            body["geometry"] = (
                {"type": "Point", "coordinates": first}
                if rng.random() < 0.6
                else {"type": "LineString", "coordinates": [first, self.near(first, 0.1)]}
            )
        draft = directline.check_draft(
            self.agreement, party, to=body["to"], subject=body["subject"], text=body["text"],
            geometry=body.get("geometry"), refers_to=None, ack_within=body["ack_within"],
        )  # fmt: skip
        sent = self.act(unit, sender, "POST /v1/messages", body,
                        lambda: directline.send(unit, sender, draft, at))  # fmt: skip
        if sent is None:
            return
        message = sent[0]
        self.messages_open.add(message.id)
        self.peaks["messages"] = max(self.peaks["messages"], len(self.messages_open))
        roll = rng.random()
        if roll < 0.8:
            delay = draft.ack_within * rng.uniform(0.05, 0.9)
        elif roll < 0.93:
            delay = draft.ack_within * rng.uniform(1.1, 3.0)
        else:
            self.later(draft.ack_within * 3, "directline", self._forgotten(message.id))
            return
        acker = self.officer[other] if rng.random() < 0.8 else self.approver[other]
        self.later(delay, "directline", self._ack(message.id, message.content_hash, acker))

    def _ack(
        self, message: str, content_hash: str, caller: Caller
    ) -> Callable[[Unit, datetime], None]:
        def work(unit: Unit, at: datetime) -> None:
            self.messages_open.discard(message)
            self.act(
                unit, caller, f"POST /v1/messages/{message}/acknowledge",
                {"content_hash": content_hash},
                lambda: directline.acknowledge(unit, caller, message, content_hash, at),
            )  # fmt: skip

        return work

    def _forgotten(self, message: str) -> Callable[[Unit, datetime], None]:
        def work(unit: Unit, at: datetime) -> None:
            self.messages_open.discard(message)

        return work

    # --- the week ----------------------------------------------------------------------------

    def escalate(self) -> None:
        """The center's escalation passes at the clock's instant (each its own unit)."""
        at = self.now()
        for family, passes in (("directline", escalate_due), ("airspace", escalate_alerts_due)):
            while done := passes(self.center, at):
                self.families[family] += done
                self._counted += done
                self.size += done

    def write(self) -> None:
        """Write the week: the start (:meth:`begin`), then unit after unit of work until the
        record holds :attr:`entries` entries — in each, what is due first, else a start of
        the family furthest below its share — each unit followed by the escalation passes."""
        started, shown = time.perf_counter(), self.n0
        starters: dict[str, Callable[[Unit, datetime], None]] = {
            "airspace": self.feed, "declared": self.declare, "amended": self.amend,
            "withdrawn": self.withdraw, "operations": self.propose, "directline": self.send,
        }  # fmt: skip
        with self.center.writing() as unit:
            self.size = unit.ledger.log.size
            self.run(unit, "setup", self.begin)
        while self.size < self.entries:
            with self.center.writing() as unit:
                stored = unit.ledger.log.size
                self.families["setup"] += stored - self.size  # none expected
                self._counted += stored - self.size
                self.size = stored
                began, began_at = self.size, self.last
                # a unit spans a few minutes of a busy week (the heartbeats and escalation
                # passes between units keep their pace), more of a small one
                span = max(timedelta(minutes=2), WEEK * (BLOCK_ENTRIES / 4 / self.entries))
                while (
                    self.size < self.entries
                    and self.size - began < BLOCK_ENTRIES
                    and self.last - began_at <= span
                ):
                    now = self.now()
                    if self.pending and self.pending[0].at <= now:
                        due = heapq.heappop(self.pending)
                        self.run(unit, due.family, due.work)
                    else:
                        family, size = self.lagging(), self.size
                        self.run(unit, family, starters[family])
                        self.stalled[family] = self.stalled[family] + 1 if self.size == size else 0
                        if self.stalled[family] > STALLED_MAX:
                            raise RuntimeError(
                                f"{family}: {STALLED_MAX} starts in a row wrote nothing (refused: "
                                "is the phase in force at the week's start, are the keys those "
                                "registered?)"
                            )
                self.peaks["alert groups"] = max(self.peaks["alert groups"], len(self.alert_acks))
                self.heartbeats(unit, self.now())  # before the escalation passes look for them
            self.escalate()
            if self.size - shown >= PROGRESS_EVERY or self.size >= self.entries:
                shown = self.size
                latest_head(self.center)  # as a monitor asks for it: the center signs one
                spent = time.perf_counter() - started
                done = self.size - self.n0
                print(
                    f"week: {done:,} entries to {self.last:%a %H:%M} in {spent:.0f} s "
                    f"({done / max(spent, 1e-9):,.0f}/s); {len(self.live):,} declarations, "
                    f"{len(self.ops_open):,} operations in course",
                    flush=True,
                )


def _kinds(center: Center, begin: int, end: int) -> tuple[Counter[str], datetime, datetime]:
    """The kinds of the entries ``begin`` to ``end - 1``, and the instants of the first and
    the last."""
    kinds: Counter[str] = Counter()
    first = last = ""
    with center.reading() as session:
        for index, data in center.log(session).entries(begin, end):
            entry = json.loads(data)["entry"]
            kinds[entry["event"]["kind"]] += 1
            if index == begin:
                first = entry["ts"]
            last = entry["ts"]
    return kinds, parse_instant(first), parse_instant(last)


def seed_week(
    url: str,
    keys_dir: Path,
    *,
    entries: int,
    seed: int = 7,
    agreement_path: Path,
    keys: Mapping[str, PrivateKey],
    start: datetime,
) -> WeekSummary:
    """Write a week of exercise into a center's record, through the service's own code.

    See the module docstring for what the week holds.

    Parameters
    ----------
    url
        The database (its users registered, the agreement adopted, every party's root's
        signature and every user's key registration in its record: :mod:`bench.offices`).
    keys_dir
        The center's keys folder (its key alone).
    entries
        The size the record is to reach (a little more: the last request's entries are
        written whole); the week's entries are those beyond what it holds already.
    seed
        The week's course (what is done, where, when) follows from it, as far as the
        service's own random draws (ids, salts, the hidden objects' secret displacement)
        leave the outcome of each request alone.
    agreement_path
        The agreement, naming its members' roots. The phase in force at ``start`` must allow
        its categories once its conditions are confirmed (the week confirms those not yet
        confirmed, at ``start``).
    keys
        User name → the user's own registered key: each party's officer and approver and a
        notifier's user at least. An administrator registered (no key: the center's own
        acts) makes the track feed the center's; else each party's officer reports its own
        aircraft.
    start
        The week's first instant; its entries run to seven days later.

    Returns
    -------
    WeekSummary
        What was written, by kind and by family, over which instants, how fast.
    """
    settings = Settings(database_url=url, keys_dir=keys_dir, agreement_path=agreement_path)
    clock = _Clock(start)
    center = Parts(settings, clock=clock).open()
    t = time.perf_counter()
    try:
        if not center.agreement.rooted:
            raise ValueError("the week is written under an agreement naming its members' roots")
        week = _Week(center, clock, keys, entries=entries, start=start, seed=seed)
        week.write()
        with center.reading() as session:
            size = center.log(session).size
        spent = time.perf_counter() - t
        kinds, first, last = _kinds(center, week.n0, size)
    finally:
        center.close()
    return WeekSummary(
        entries=size - week.n0, size=size, kinds=dict(kinds), families=dict(week.families),
        first=first, last=last, seconds=spent, refused=week.refused, peaks=dict(week.peaks),
    )  # fmt: skip
