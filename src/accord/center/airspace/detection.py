"""The detection passes: after every batch of tracks (:func:`survey`) and every flight
plan declared, amended or withdrawn (:mod:`~accord.center.airspace.plans`), in the same unit
of work, the findings reconciled with the open alerts — raised in groups, kept current,
cleared — with their record entries and live events.

Every *fresh* track (reported within :data:`~accord.center.airspace.trackstore.STALE_AFTER`
of the center's clock) is extrapolated to now and run through the detector
(:mod:`~accord.center.airspace.findings`). Each finding is keyed (the pair of aircraft; the
aircraft and the area): a new key raises an alert (in groups:
:mod:`~accord.center.airspace.groups`); a key that persists is not raised again (its numbers
are kept current in the alert: up to :data:`KEPT_CURRENT_MAX` per pass, the least recently
kept first); a key no longer found is cleared. Clearing is batched: one ``airspace.cleared``
entry names up to :data:`CLEARED_IDS_MAX` alerts, and a group's escalation stops once none
of its alerts is open.

**The writer's time grows with the aircraft and the pairs' bytes, not with a Python object
per pair.** A pass holds its findings as columns, groups them with array operations
(connected components by hooking roots), encodes each entry once (its bytes are hashed, then
signed as they are: :meth:`~accord.center.ledger.Ledger.append_encoded`), and stores
each group as ONE row whose alerts are fixed-size records in packed arrays
(:mod:`accord.center.airspace.store`); the alert routes derive each alert from its group's
row on read. Reconciling a pass with the open alerts compares integer codes of (kind,
aircraft, aircraft or area), keeping current and clearing rewrite only the groups they
touch. 500 aircraft in one spot: 0.6 s in the writer (it was 10–12 s with a row and a JSON
payload per pair).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from accord.center.airspace.alerts import acks_of, announce, escalations_of, recipients_of
from accord.center.airspace.entries import (
    CLEARED_EVENT,
    EMERGENCY_EVENT,
    ENTRIES,
    EXEMPT_EVENT,
    RAISE_EVENTS,
    raise_event,
)
from accord.center.airspace.escalation import ALERT_ACK_WITHIN
from accord.center.airspace.findings import (
    KINDS,
    Found,
    IntArray,
    column,
    finding_code,
    track_found,
)
from accord.center.airspace.groups import (
    ENTRY_BUDGET,
    entry_chunks,
    group_event,
    group_findings,
    public_aircraft,
)
from accord.center.airspace.store import (
    GROUPS,
    NUMBERS,
    RECIPIENTS,
    Group,
    group_values,
    id_order,
    load_groups,
    micros,
    pack,
)
from accord.center.airspace.trackstore import fresh_tracks
from accord.center.db.models_airspace import AirspaceAlertRecipient
from accord.center.runtime import Center, Unit
from accord.chrono import format_instant
from accord.record.canonical import canonical_json

__all__ = [
    "CLEARED_IDS_MAX",
    "KEPT_CURRENT_MAX",
    "Outcome",
    "Raised",
    "alert_recipients",
    "clear",
    "raise_group",
    "raise_new",
    "reconcile",
    "save_groups",
    "stop_escalation",
    "store_raised",
    "survey",
]


def survey(unit: Unit, now: datetime) -> tuple[int, Outcome]:
    """Run the detection over every fresh track at ``now``: raise the new alerts, keep the
    persisting ones current, clear those that ended. (The number of fresh aircraft, what
    the pass raised and cleared.)"""
    center = unit.center
    session = unit.session
    rows = fresh_tracks(session, now)
    found = track_found(center.agreement, rows, now)
    active = load_groups(session, GROUPS.c.source == "track", GROUPS.c.open > 0)
    return len(rows), reconcile(unit, center, found, active, now)


# --- reconciliation: raise, keep current, clear ----------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What a pass did: the groups it ``raised`` (each with its recipients), the alerts it
    ``cleared`` (by group, in the order of their ids) and, when asked, each finding's alert
    id (``ids``, by the finding's index in the pass)."""

    raised: list[Raised]
    cleared: list[tuple[Group, IntArray]]
    ids: dict[int, str]


@dataclass(frozen=True, slots=True)
class Raised:
    """A group raised by a pass, its recipients, and each of its findings' index in the
    pass (``origin``)."""

    group: Group
    recipients: list[AirspaceAlertRecipient]
    origin: IntArray


def _active_codes(
    found: Found, groups: Sequence[Group], involves: str | None
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The open alerts of ``groups`` (those naming ``involves``, when given) as the pass's
    identity codes (:meth:`Found.codes`; an alert naming an aircraft the pass does not know
    gets a code no finding has), with each one's group (index in ``groups``), finding, and
    when it was last kept current."""
    key_of = {str(key): k for k, key in enumerate(column(found.aircraft, "key"))}
    area_of = {a: k for k, a in enumerate(found.areas)}
    codes, group, number, seen = [], [], [], []
    unknown = -1
    for gi, g in enumerate(groups):
        ns = np.flatnonzero(g.is_open())
        if not ns.size:
            continue
        f = g.findings[ns]
        mapped = np.array([key_of.get(str(one["key"]), -1) for one in g.aircraft], dtype=np.int64)
        a = mapped[f["a"]]
        if g.kind == "conflict":
            b = mapped[f["b"]]
        else:
            b = np.full(ns.shape, area_of.get(g.area or "", -1), dtype=np.int64)
        if involves is not None:
            keys = np.array([one["key"] == involves for one in g.aircraft], dtype=np.bool_)
            named = keys[f["a"]] | (keys[f["b"]] if g.kind == "conflict" else False)
            ns, a, b = ns[named], a[named], b[named]
        code = finding_code(np.full(ns.shape, KINDS.index(g.kind)), a, b)
        missing = (a < 0) | (b < 0)
        code[missing] = unknown - np.arange(int(missing.sum()))
        unknown -= int(missing.sum())
        codes.append(code)
        group.append(np.full(ns.shape, gi, dtype=np.int64))
        number.append(ns.astype(np.int64))
        seen.append(g.state["seen"][ns])
    if not codes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return (
        np.concatenate(codes),
        np.concatenate(group),
        np.concatenate(number),
        np.concatenate(seen).astype(np.int64),
    )


def reconcile(
    unit: Unit,
    center: Center,
    found: Found,
    active: Sequence[Group],
    now: datetime,
    *,
    involves: str | None = None,
    want_ids: bool = False,
) -> Outcome:
    """Raise the findings not yet open (in groups: :func:`raise_new`), keep the open ones
    current (:data:`KEPT_CURRENT_MAX` per pass, the least recently kept first), clear the
    open ones no longer found (:func:`clear`); one live event per reader cut for what was
    raised and for what was cleared (:func:`announce`). ``active``: the open groups of the
    pass's source (only their alerts naming ``involves``, when given, take part)."""
    session = unit.session
    codes = found.codes()
    act, act_group, act_n, act_seen = _active_codes(found, active, involves)
    hit = np.zeros(codes.shape, dtype=np.bool_)
    match = np.zeros(codes.shape, dtype=np.int64)
    if act.size and codes.size:
        order = np.argsort(act, kind="stable")
        at = np.minimum(np.searchsorted(act[order], codes), act.size - 1)
        hit = act[order][at] == codes
        match = order[at]
    ended = np.ones(act.shape, dtype=np.bool_)
    ended[match[hit]] = False
    changed: set[int] = set()
    persisting = np.flatnonzero(hit)
    if persisting.size:
        at = match[hit]
        changed |= _keep_current(
            found, persisting, active, act_group[at], act_n[at], act_seen[at], now
        )
    raised = raise_new(unit, center, found, np.flatnonzero(~hit), now)
    cleared = clear(unit, center, active, act_group[ended], act_n[ended], now)
    position = {id(g): gi for gi, g in enumerate(active)}
    changed |= {position[id(g)] for g, _ in cleared}
    if changed:
        save_groups(session, [active[gi] for gi in sorted(changed)])
    agreement = center.agreement
    if raised:
        recipients = {r.group.id: r.recipients for r in raised}
        items = [(r.group, np.arange(r.group.count)) for r in raised]
        for event in (*RAISE_EVENTS.values(), EMERGENCY_EVENT):
            these = [(g, ns) for g, ns in items if raise_event(g.kind, g.area) == event]
            if these and event != EXEMPT_EVENT:
                announce(
                    session,
                    agreement,
                    these,
                    event,
                    now,
                    acks={},
                    recipients=recipients,
                    escalations={},
                )
    told = [(g, ns) for g, ns in cleared if g.kind != "exempt"]
    if told:
        ids = [g.id for g, _ in told]
        concerned = recipients_of(session, ids)
        announce(
            session, agreement, told, CLEARED_EVENT, now,
            acks=acks_of(session, ids), recipients=concerned,
            escalations=escalations_of(session, concerned),
        )  # fmt: skip
    ids_of: dict[int, str] = {}
    if want_ids:
        for k in persisting.tolist():
            ids_of[k] = active[int(act_group[match[k]])].alert_id(int(act_n[match[k]]))
        for r in raised:
            for n, k in enumerate(r.origin.tolist()):
                ids_of[k] = r.group.alert_id(n)
    return Outcome(raised, cleared, ids_of)


def save_groups(session: Session, groups: Sequence[Group]) -> None:
    """Write the arrays and the number of open alerts of the stored groups ``groups`` back
    (what keeping current and clearing change)."""
    session.execute(
        update(GROUPS).where(GROUPS.c.id == bindparam("g_id")),
        [
            {"g_id": g.id, "findings": pack(g.findings), "state": pack(g.state), "open": g.open}
            for g in groups
        ],
        execution_options={"synchronize_session": False},
    )


def _by_group(group: IntArray, values: IntArray) -> list[tuple[int, IntArray]]:
    """``values`` split by ``group`` (each group once, its values in their order)."""
    if not group.size:
        return []
    order = np.argsort(group, kind="stable")
    keys, starts = np.unique(group[order], return_index=True)
    parts = np.split(values[order], starts[1:])
    return list(zip(keys.tolist(), parts, strict=True))


def _keep_current(
    found: Found,
    persisting: IntArray,
    active: Sequence[Group],
    group: IntArray,
    number: IntArray,
    seen: IntArray,
    now: datetime,
) -> set[int]:
    """Keep the numbers of up to :data:`KEPT_CURRENT_MAX` persisting alerts current, the
    least recently kept first (then by group and finding, so that a pass rewrites few
    groups); the indices of the groups changed."""
    rank = np.empty(len(active), dtype=np.int64)
    rank[sorted(range(len(active)), key=lambda k: active[k].id)] = np.arange(len(active))
    chosen = np.lexsort((number, rank[group], seen))[:KEPT_CURRENT_MAX]
    found.complete(persisting[chosen])
    now_us = micros(now)
    touched: set[int] = set()
    for gi, mine in _by_group(group[chosen], chosen):
        g, ns, ks = active[gi], number[mine], persisting[mine]
        for name in NUMBERS:
            g.findings[name][ns] = found.f[name][ks]
        g.state["seen"][ns] = now_us
        touched.add(gi)
    return touched


KEPT_CURRENT_MAX = 2_000
"""The most persisting alerts one pass keeps current (their numbers and ``last_seen``), the
least recently kept first: a pass finds a cluster's conflicts again on every batch, and
rewriting a hundred thousand of them each time would hold the writer for seconds."""

CLEARED_IDS_MAX = 2_500
"""The most alert ids one ``airspace.cleared`` entry names (about 52 KB)."""


def raise_new(
    unit: Unit, center: Center, found: Found, new: IntArray, now: datetime
) -> list[Raised]:
    """Raise the findings ``new`` of the pass in groups (:func:`group_findings`), each cut into
    entries of at most :data:`ENTRY_BUDGET` (:func:`entry_chunks`); the groups, in order."""
    out: list[Raised] = []
    if not new.size:
        return out
    found.complete(new)
    costs = np.zeros(len(found.aircraft), dtype=np.int64)
    named = np.concatenate([found.f["a"][new], found.f["b"][new]])
    for k in np.unique(named[named >= 0]).tolist():  # only the aircraft the new findings name
        costs[k] = len(canonical_json(public_aircraft(found.aircraft[k]))) + 1
    for group in group_findings(found, new):
        pieces = entry_chunks(found, group, now, costs)
        for part, chunk in enumerate(pieces):
            out += raise_group(unit, center, found, chunk, now, part=part, parts=len(pieces))
    store_raised(
        unit.session, [r.group for r in out], [r for raised in out for r in raised.recipients]
    )
    return out


def store_raised(
    session: Session, groups: Sequence[Group], recipients: Sequence[AirspaceAlertRecipient]
) -> None:
    """Insert the rows of new groups ``groups`` and of their ``recipients``."""
    if groups:
        session.execute(insert(GROUPS), [group_values(g) for g in groups])
    if recipients:
        session.execute(insert(RECIPIENTS), [_columns_of(r) for r in recipients])


def _columns_of(r: AirspaceAlertRecipient) -> dict[str, Any]:
    """A recipient's row, as columns."""
    return {c.name: getattr(r, c.name) for c in RECIPIENTS.c}


def alert_recipients(
    group: Group, party_ids: AbstractSet[str], now: datetime
) -> list[AirspaceAlertRecipient]:
    """The parties concerned by the group ``group`` raised at ``now`` (those of its parties
    that are the agreement's ``party_ids``; none for an exempt passage): each has
    :data:`ALERT_ACK_WITHIN` to acknowledge it."""
    if group.kind == "exempt":  # recorded once; alerts no one
        return []
    return [
        AirspaceAlertRecipient(
            alert_id=group.id,
            party=party,
            ack_within_s=int(ALERT_ACK_WITHIN.total_seconds()),
            level=0,
            position=-1,
            due_at=now + ALERT_ACK_WITHIN,
            overdue_at=None,
        )
        for party in sorted(set(group.parties) & party_ids)
    ]


def raise_group(
    unit: Unit,
    center: Center,
    found: Found,
    group: IntArray,
    now: datetime,
    *,
    part: int,
    parts: int,
) -> list[Raised]:
    """Raise ``group`` (indices into the pass) as one group: one record entry signed by the
    center, alerts ``<group>.<n>``, its recipients (one acknowledgement and one escalation
    per party and group). A group whose entry would exceed :data:`ENTRY_BUDGET` is halved."""
    group_id = "a-" + secrets.token_hex(5)
    body, _sealed, stored = group_event(found, group, group_id, now, part=part, parts=parts)
    if len(body) > ENTRY_BUDGET and group.size > 1:
        half = group.size // 2
        first = raise_group(unit, center, found, group[:half], now, part=part, parts=parts)
        return first + raise_group(unit, center, found, group[half:], now, part=part, parts=parts)
    stored.entry = unit.ledger.append_encoded(body, author=center.origin, at=now)
    stored.content_hash = hashlib.sha256(body).hexdigest()
    recipients = alert_recipients(stored, center.agreement.party_ids, now)
    return [Raised(stored, recipients, group)]


def clear(
    unit: Unit,
    center: Center,
    groups: Sequence[Group],
    group: IntArray,
    number: IntArray,
    now: datetime,
) -> list[tuple[Group, IntArray]]:
    """Clear the alerts (``groups[group[k]]``, ``number[k]``): ``airspace.cleared`` entries
    naming up to :data:`CLEARED_IDS_MAX` alerts each, in the order of their ids (an exempt
    passage's end is recorded nowhere), and the escalation of each group none of whose
    alerts is open any more stopped. The alerts cleared, by group, in the order of ids."""
    if not group.size:
        return []
    now_us = micros(now)
    out: list[tuple[Group, IntArray]] = []
    for gi, mine in sorted(_by_group(group, number), key=lambda item: groups[item[0]].sort_key):
        g, ns = groups[gi], mine
        g.state["cleared"][ns] = now_us
        g.open = int(g.is_open().sum())
        order = np.array(id_order(g.count), dtype=np.int64)
        out.append((g, order[np.isin(order, ns)]))
    told = [(g, ns) for g, ns in out if g.kind != "exempt"]
    ids = [(g, n) for g, ns in told for n in ns.tolist()]
    for start in range(0, len(ids), CLEARED_IDS_MAX):
        chunk = ids[start : start + CLEARED_IDS_MAX]
        event = ENTRIES[CLEARED_EVENT].build(
            alerts=[g.alert_id(n) for g, n in chunk], cleared_at=format_instant(now)
        )
        entry = unit.ledger.append(event, author=center.origin, at=now)
        for g, n in chunk:
            g.state["cleared_entry"][n] = entry
    stop_escalation(unit.session, [g.id for g, _ in told if g.open == 0])
    return out


def stop_escalation(session: Session, closed: Sequence[str]) -> None:
    """Stop the escalation of the groups ``closed``, none of whose alerts is open any more."""
    for start in range(0, len(closed), 500):
        session.execute(
            update(RECIPIENTS)
            .where(RECIPIENTS.c.alert_id.in_(closed[start : start + 500]))
            .values(due_at=None)
        )
