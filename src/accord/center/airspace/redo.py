"""Redo of the airspace feature's entries (:mod:`accord.center.recovery.redo`): the rows the
detection passes (:mod:`~accord.center.airspace.detection`), the acknowledgements
(:mod:`~accord.center.airspace.alerts`) and the escalation of alert groups
(:mod:`~accord.center.airspace.escalation`) wrote for each, from the event, with the
service's own row-writing functions.

**A group raised** (``airspace.conflict``, ``violation``, ``exempt``, ``emergency``): its
``airspace_alert_groups`` row — id, kind, source, area, parties, count, open, raised_at
(the entry's time), entry, and ``content_hash`` (the SHA-256 of the entry's event bytes,
as :func:`~accord.center.airspace.detection.raise_group` stores it) exactly — and its
parties concerned (``airspace_alert_recipients``, exactly). The rest of the row is the
center's own view of the aircraft, which the record carries only as DECISIONS 1 allows:

* ``aircraft``: a shared aircraft exactly (its key and owner as the service makes them: a
  track's owner is its party, else its operator — a feed's track matched to a flight plan
  takes the plan's declarer as owner, which the record does not tie to the track, so that
  one is a guess when the declarer is not the plan's party; a flight plan's owner is its
  declaration's). A ``center`` aircraft is listed once per finding (the record does not say
  whether two of them are one), its owner the one whose commitment names it, and its
  ``key``, ``id`` and ``mission`` ``null``: they are in the commitment's opening, which
  the center kept (``sealed``) and no entry holds. Its owner is then told the alert as
  everyone else is (whose aircraft it is: :func:`~accord.center.airspace.alerts.alert_of`),
  and the next detection pass, which cannot match an alert to an aircraft without its key,
  clears the alert and raises it anew.
* ``findings``: what each row of the event says — the aircraft, whether separation is lost
  (or the aircraft inside), when (whole seconds: the event's times are to 0.1 s from the
  raise, exact), a shared pair's time and distance of closest approach and vertical
  distance (the event's numbers are the stored ones), a shared aircraft's area entry point
  or emergency position. Not in the event, so NaN: a track conflict's places (``x``,
  ``y``, ``xa``, ``ya``, ``xb``, ``yb``: the tracks are not recorded; the rebuilt alert
  shows no place, ``lat``/``lon`` null), and every number and place about an aircraft
  hidden from some reader (and a hidden pair's ``t_until``/``t_cpa``: 0). A flight-plan
  conflict of two shared plans has its places computed again from the plans the tables
  hold (the record's declarations: :func:`~accord.center.airspace.plans.conflict_places`),
  so it is exact.
* ``party_sets``: each finding's parties concerned as the pass made them (a conflict's two
  owners, the probed plan's first — the plan whose declaration's entry is the latest; a
  guess when one of the two is hidden —; an area finding's every party and its owner), in
  the order the pass listed them (a track conflict's by its owners' names; others in the
  order of their findings, which a pass over other aircraft too may not have kept).
* ``state``: open, ``seen`` the raise. A later pass keeps a persisting alert's numbers and
  ``seen`` current with no entry: those are the raise's again.
* ``sealed``: ``{}`` — the openings of the commitments to hidden aircraft, salts
  included, were the center's alone (the owner's view shows no opening).

**Cleared** (``airspace.cleared``): each alert's ``cleared`` and ``cleared_entry``, the
group's ``open``, and the escalation of a group with no open alert stopped. **Acknowledged**:
the acknowledgement (``user_id`` the act's user under a rooted agreement; a legacy entry
names no user: NULL) and the party's escalation stopped. **Escalated / overdue**: the step
(``escalation_steps``) and the party's standing (level, chain position, deadline, overdue)
— but for the users: the step's ``contact`` and the users it ``skipped`` are the party's
contact chain's, which no entry holds (the entry names roles only, by design): the contact
is NULL and each user skipped an empty name (its reader wants a string), as the direct
line's redo writes them.

An alert raised before groups (an older log's entry, one alert each, without ``fields``) is
not redone: the restore is refused (a tail is written after a backup of today's tables).
An acknowledgement or a step naming such an ``alert`` is redone on its row.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from accord.airspace import Separation, probe_flight_plan
from accord.center import visibility
from accord.center.airspace.alerts import store_ack
from accord.center.airspace.detection import (
    alert_recipients,
    save_groups,
    stop_escalation,
    store_raised,
)
from accord.center.airspace.entries import (
    ACKNOWLEDGED_EVENT,
    CLEARED_EVENT,
    CONFLICT_EVENT,
    EMERGENCY_EVENT,
    ESCALATED_EVENT,
    EXEMPT_EVENT,
    OVERDUE_EVENT,
    VIOLATION_EVENT,
)
from accord.center.airspace.findings import SQUAWK_PREFIX
from accord.center.airspace.plans import conflict_places, plan_of
from accord.center.airspace.store import (
    FINDING,
    NO_ENTRY,
    OPEN,
    STATE,
    Group,
    load_named,
    micros,
    split_alert_id,
)
from accord.center.airspace.trackstore import owner_of
from accord.center.db.models import Declaration
from accord.center.db.models_airspace import AirspaceAck, AirspaceAlertRecipient
from accord.center.escalation.store import StoredStep, store_step
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.chrono import parse_instant
from accord.record.canonical import canonical_json
from accord.world import FlightPlan

__all__ = ["REDO"]

_KINDS = {
    CONFLICT_EVENT: "conflict",
    VIOLATION_EVENT: "area",
    EXEMPT_EVENT: "exempt",
    EMERGENCY_EVENT: "area",
}
"""A raise entry's kind → its group's kind."""

_NAN = math.nan


def _whole(at_us: int, seconds: Any) -> int:
    """The whole second (since 1970) an event's time ``seconds`` (from the raise at
    ``at_us``, to 0.1 s) stands for (0 for none)."""
    if seconds is None:
        return 0
    return (at_us + round(float(seconds) * 1_000_000) + 500_000) // 1_000_000


def _number(value: Any) -> float:
    return _NAN if value is None else float(value)


def _owner(one: Mapping[str, Any], commitments: Mapping[str, Any]) -> str:
    """A hidden aircraft's owner: the owner of a commitment (each owner of a hidden aircraft
    has one) — its party's (or operator's) when that one has a commitment."""
    guess = owner_of(one["party"], one["operator"])
    if guess in commitments or len(commitments) != 1:
        return guess
    return str(next(iter(commitments)))


def _aircraft(
    context: Redoing, one: Mapping[str, Any], source: str, commitments: Mapping[str, Any]
) -> dict[str, Any]:
    """An aircraft of the event as the group stores it (see the module docstring)."""
    party, operator, disclosure = one["party"], one["operator"], one["disclosure"]
    if not visibility.in_clear(disclosure):
        owner: str = _owner(one, commitments)
        key = aircraft_id = mission = None
    else:
        aircraft_id, mission = str(one["id"]), one["mission"]
        if source == "plan":
            row = context.session.get(Declaration, aircraft_id)
            if row is None or row.kind != "flight_plan":
                raise KeyError(f"flight plan {aircraft_id} is in no earlier entry")
            owner, key = row.owner, aircraft_id
        else:
            owner = owner_of(party, operator)
            key = f"{owner}/{aircraft_id}"
    return {
        "key": key, "id": aircraft_id, "owner": owner, "operator": operator, "party": party,
        "mission": mission, "disclosure": disclosure,
    }  # fmt: skip


def _plans(
    context: Redoing, aircraft: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[Declaration, FlightPlan | None]]:
    """The shared flight plans of a plan group, by id: their rows and plans."""
    out: dict[str, tuple[Declaration, FlightPlan | None]] = {}
    for one in aircraft:
        if one["key"] is not None and one["key"] not in out:
            row = context.session.get(Declaration, one["key"])
            assert row is not None  # _aircraft found it
            out[one["key"]] = (row, plan_of(context.agreement, row))
    return out


def _probed_first(
    context: Redoing,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    plans: Mapping[str, tuple[Declaration, FlightPlan | None]],
    latest: int,
) -> bool:
    """Whether the pair's first plan ``a`` was the one declared or amended (probed against
    the other): the one whose declaration's entry is the latest (a hidden plan's is not in
    the tables: the shared one is the probed one if its entry is the latest of all)."""
    entry_a = plans[a["key"]][0].entry if a["key"] is not None else None
    entry_b = plans[b["key"]][0].entry if b["key"] is not None else None
    if entry_a is not None and entry_b is not None:
        return entry_a >= entry_b
    if entry_a is not None:
        return entry_a == latest
    if entry_b is not None:
        return entry_b != latest
    return True


def _raised(context: Redoing, entry: Redone) -> None:
    """A group raised: its row and its parties concerned, as
    :func:`~accord.center.airspace.detection.raise_group` wrote them."""
    event, session, at = entry.event, context.session, entry.at
    if entry.author != context.origin:
        raise ValueError(f"a group raised by {entry.author}, not the center")
    if parse_instant(event["raised_at"]) != at:
        raise ValueError(f"raised at {event['raised_at']}, recorded at {at}")
    group_id = str(event["group"])
    if load_named(session, [group_id], blobs=False):
        raise ValueError(f"alert group {group_id} exists already")
    kind, source = _KINDS[entry.kind], str(event["source"])
    area: str | None = None
    emergency = entry.kind == EMERGENCY_EVENT
    if emergency:
        area = SQUAWK_PREFIX + str(event["squawk"])
    elif kind != "conflict":
        area = str(event["area"])
    commitments = event.get("commitments") or {}
    aircraft = [_aircraft(context, one, source, commitments) for one in event["aircraft"]]
    names = [str(name) for name in event["fields"]]
    rows = [dict(zip(names, row, strict=True)) for row in event["findings"]]
    at_us = micros(at)
    f = np.zeros(len(rows), dtype=FINDING)
    concerned: list[tuple[str, ...]] = []
    order: list[tuple[str, str]] = []
    plans = _plans(context, aircraft) if source == "plan" else {}
    latest = _latest_declaration(context) if plans else -1
    separation = Separation.from_rules(context.agreement.airspace)
    for n, row in enumerate(rows):
        if kind == "conflict":
            ka, kb = int(row["a"]), int(row["b"])
            a, b = aircraft[ka], aircraft[kb]
            first, second = a["owner"], b["owner"]
            places: tuple[float, ...] = (_number(row["vertical_ft"]),) + (_NAN,) * 6
            if source == "plan":
                probed_a = _probed_first(context, a, b, plans, latest)
                if not probed_a:
                    first, second = second, first
                if a["key"] is not None and b["key"] is not None:
                    places = (
                        _plan_places(
                            context, entry, plans, a["key"], b["key"], probed_a, separation
                        )
                        or places
                    )
            f[n] = (
                ka, kb, 0, bool(row["lost"]), _whole(at_us, row["los_s"]),
                _whole(at_us, row.get("los_until_s")), _whole(at_us, row.get("cpa_s")),
                _number(row["tcpa_s"]), _number(row["dcpa_nm"]), *places,
            )  # fmt: skip
            concerned.append(tuple(dict.fromkeys((first, second))))
            order.append((first, second))
        else:
            k = int(row["aircraft"])
            one = aircraft[k]
            point = row["entry_point"] or (_NAN, _NAN)
            f[n] = (
                k, -1, 0, bool(row["inside"]), _whole(at_us, row["entry_s"]), 0, 0,
                _NAN, _NAN, _NAN, float(point[0]), float(point[1]), _NAN, _NAN, _NAN, _NAN,
            )  # fmt: skip
            # an emergency concerns the aircraft's owner, an area finding its party or operator
            owner = one["owner"] if emergency else owner_of(one["party"], one["operator"])
            concerned.append(tuple(sorted(context.agreement.party_ids | {owner})))
    if kind == "conflict" and source == "track":
        # the pass numbered its sets of two owners in the order of their names
        by_order = dict(zip(concerned, order, strict=True))
        sets = sorted(dict.fromkeys(concerned), key=lambda s: by_order[s])
    else:
        sets = list(dict.fromkeys(concerned))
    index = {s: k for k, s in enumerate(sets)}
    f["p"] = [index[s] for s in concerned]
    state = np.zeros(len(rows), dtype=STATE)
    state["seen"], state["cleared"], state["cleared_entry"] = at_us, OPEN, NO_ENTRY
    parties = sorted(str(p) for p in event["parties"])
    group = Group(
        id=group_id, kind=kind, source=source, grouped=True, area=area, parties=parties,
        party_sets=[list(s) for s in sets], aircraft=aircraft, count=len(rows), open=len(rows),
        raised_at=at, content_hash=hashlib.sha256(canonical_json(dict(event))).hexdigest(),
        entry=entry.index, sealed=json.dumps({}), findings=f, state=state,
    )  # fmt: skip
    store_raised(session, [group], alert_recipients(group, context.agreement.party_ids, at))


def _latest_declaration(context: Redoing) -> int:
    """The latest entry of any declaration in the tables."""
    latest = context.session.scalar(select(func.max(Declaration.entry)))
    return -1 if latest is None else int(latest)


def _plan_places(
    context: Redoing,
    entry: Redone,
    plans: Mapping[str, tuple[Declaration, FlightPlan | None]],
    a_id: str,
    b_id: str,
    probed_a: bool,
    separation: Separation,
) -> tuple[float, ...] | None:
    """The places of the conflict of two shared flight plans, the probe run again on the
    plans as the tables hold them (None, noted, when it finds no conflict of the two)."""
    plan, other = plans[a_id][1], plans[b_id][1]
    if not probed_a:
        plan, other = other, plan
    if plan is not None and other is not None:
        for c in probe_flight_plan(plan, [other], separation):
            if c.other_id == other.id:
                return conflict_places(plan, other, c)
    context.note(entry, f"flight plans {a_id} and {b_id} are not in conflict: no places")
    return None


def _group(context: Redoing, group_id: str) -> Group:
    found = load_named(context.session, [group_id]).get(group_id)
    if found is None:
        raise KeyError(f"alert group {group_id} is in no earlier entry")
    return found


def _cleared(context: Redoing, entry: Redone) -> None:
    """Alerts cleared, as :func:`~accord.center.airspace.detection.clear` stored them."""
    event, at = entry.event, entry.at
    if entry.author != context.origin:
        raise ValueError(f"alerts cleared by {entry.author}, not the center")
    if parse_instant(event["cleared_at"]) != at:
        raise ValueError(f"cleared at {event['cleared_at']}, recorded at {at}")
    named: dict[str, list[int]] = {}
    for alert_id in event["alerts"]:
        group_id, n = split_alert_id(str(alert_id))
        named.setdefault(group_id, []).append(0 if n is None else n)
    groups = load_named(context.session, named)
    now_us = micros(at)
    for group_id, ns in named.items():
        g = groups.get(group_id)
        if g is None:
            raise KeyError(f"alert group {group_id} is in no earlier entry")
        if g.kind == "exempt" or any(not 0 <= n < g.count for n in ns):
            raise ValueError(f"{group_id} has no alerts {ns} to clear")
        if not g.is_open()[ns].all():
            raise ValueError(f"an alert of {group_id} named in {ns} is cleared already")
        g.state["cleared"][ns] = now_us
        g.state["cleared_entry"][ns] = entry.index
        g.open = int(g.is_open().sum())
    save_groups(context.session, list(groups.values()))
    stop_escalation(context.session, [g.id for g in groups.values() if g.open == 0])


def _named(event: Mapping[str, Any]) -> str:
    """The group a step or an acknowledgement names (or an alert raised before groups)."""
    named = event.get("group", event.get("alert"))
    if not isinstance(named, str):
        raise KeyError("the entry names no alert group")
    return named


def _acknowledged(context: Redoing, entry: Redone) -> None:
    """A party's acknowledgement, as :func:`~accord.center.airspace.alerts.
    acknowledge_alert` stored it."""
    g = _group(context, _named(entry.event))
    content_hash = str(entry.event["content_hash"])
    if content_hash != g.content_hash:
        raise ValueError(f"the acknowledgement of {g.id} names another hash")
    if context.session.get(AirspaceAck, (g.id, entry.author)) is not None:
        raise ValueError(f"{entry.author} has already acknowledged {g.id}")
    store_ack(
        context.session, g.id, entry.author, context.user_id(entry.user), content_hash,
        entry.at, entry.index,
    )  # fmt: skip


def _step(kind: str) -> Redo:
    """A party's escalation step, as :func:`~accord.center.escalation.store.record_step`
    stored it and moved the party's standing on (see the module docstring for the users)."""

    def redo(context: Redoing, entry: Redone) -> None:
        event, at = entry.event, entry.at
        if entry.author != context.origin:
            raise ValueError(f"an escalation step by {entry.author}, not the center")
        g = _group(context, _named(event))
        party = str(event["party"])
        standing = context.session.get(AirspaceAlertRecipient, (g.id, party))
        if standing is None:
            raise KeyError(f"{party} is not concerned by {g.id}")
        due = parse_instant(event["due"])
        if standing.due_at is None or standing.due_at != due or at < due:
            raise ValueError(f"{party} was not due at {event['due']} on {g.id}")
        roles = [str(role) for role in event["skipped"]]
        level = int(event["level"])
        deadline: datetime | None = None
        role: str | None = None
        if kind == "escalated":
            if level != standing.level + 1:
                raise ValueError(f"{party} is at level {standing.level} on {g.id}")
            deadline, role = parse_instant(event["deadline"]), str(event["role"])
            position = max(standing.position + 1, 0) + len(roles)
        else:
            if level != standing.level:
                raise ValueError(f"{party} is at level {standing.level} on {g.id}")
            ack_deadline = g.raised_at + timedelta(seconds=standing.ack_within_s)
            if parse_instant(event["ack_deadline"]) != ack_deadline:
                raise ValueError(f"{party}'s deadline on {g.id} was not {event['ack_deadline']}")
            position = standing.position
        store_step(
            context.session, kind="alert", subject=g.id, party=party, standing=standing,
            step=StoredStep(
                kind, level, position, at, due, deadline, role=role,
                contact=None,  # the contact chain's users are in no entry
                skipped=tuple((r, "") for r in roles),  # users: in no entry
            ),
            entry=entry.index,
        )  # fmt: skip

    return redo


REDO: Mapping[str, Redo] = {
    CONFLICT_EVENT: _raised,
    VIOLATION_EVENT: _raised,
    EXEMPT_EVENT: _raised,
    EMERGENCY_EVENT: _raised,
    CLEARED_EVENT: _cleared,
    ACKNOWLEDGED_EVENT: _acknowledged,
    ESCALATED_EVENT: _step("escalated"),
    OVERDUE_EVENT: _step("overdue"),
}
