"""Probing of hidden objects: counted, reported to their owner, and slowed.

The precision bound (:mod:`accord.deconfliction.hidden`) holds however much a party probes;
this module makes probing *visible* and *slow*, under the agreement's
``disclosure.probe_limit`` (``areas`` distinct areas within ``window``; ``null``: off).

* A proposal, an amendment or an imminent-threat report of party *X* whose answer includes a
  conflict with a hidden object of party *Y* **touches** *Y*. Each touch is kept
  (``probe_touches``): the operation and the centre of its area. Amendments of one operation
  whose centre stays within the precision bound of a touch already counted count once.
* When *X*'s touches of *Y* within the window (since *Y* last lifted, if later) exceed
  ``areas``, *Y* is alerted once per window: a record entry signed by the center,
  ``disclosure.probing``, naming the prober, the owner and the count — never an object — and
  a live event to *Y* and the monitors.
* Beyond that, *X*'s further proposals and amendments that touch *Y* are refused
  (:class:`~accord.errors.ProbingSlowed`, answered 429 with ``Retry-After``: the time until
  the window has let enough touches go), and change nothing.
  Never an imminent-threat report after the fact (it is counted, never refused), a
  cancellation or a withdrawal (they touch nothing).
* *Y* may lift the slowing of *X* (:func:`lift`; an entry signed by *Y*): touches before it
  no longer count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models_probing import ProbeState, ProbeTouch
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import format_duration, format_instant
from accord.deconfliction import Conflict
from accord.deconfliction.hidden import hidden_from
from accord.errors import InputError, Issue, NotAuthorized, ProbingSlowed
from accord.geo import geodesic_distance
from accord.world import Operation

__all__ = [
    "LIFTED",
    "PROBING",
    "account",
    "alert",
    "counted",
    "lift",
    "lifted",
    "owners",
    "since",
    "standing",
    "touches",
]

PROBING = "disclosure.probing"
"""The kind of the center's entry (and event) telling an owner it is being probed."""

LIFTED = "disclosure.probing_lifted"
"""The kind of the owner's entry lifting the slowing of a prober."""

PROBING_ENTRY = entry_kind(
    PROBING, signer=Signer.CENTER,
    required=("prober", "owner", "areas", "limit", "window", "at"), fold=None,
    summary="the center tells an owner that a party's proposals probe its hidden objects",
)  # fmt: skip
LIFTED_ENTRY = entry_kind(
    LIFTED, signer=Signer.MEMBER, required=("prober", "owner", "at"), fold=None,
    summary="an owner lifts the slowing of a prober",
    acts=("POST /v1/probing/{prober}/lift",),
)  # fmt: skip


def owners(agreement: Agreement, prober: str, conflicts: Iterable[Conflict]) -> list[str]:
    """The other parties whose hidden objects ``conflicts`` of ``prober``'s operation touch."""
    parties = agreement.party_ids
    return sorted(
        {c.party for c in conflicts if hidden_from(c, prober) and c.party in parties} - {prober}
    )


def since(agreement: Agreement, state: ProbeState | None, at: datetime) -> datetime:
    """From when touches count at ``at`` (the window, or the owner's last lift if later)."""
    limit = agreement.disclosure.probe_limit
    assert limit is not None
    since = at - limit.window
    if state is not None and state.lifted_at is not None and state.lifted_at > since:
        since = state.lifted_at
    return since


def touches(session: Session, prober: str, owner: str, after: datetime) -> list[Any]:
    """``prober``'s touches of ``owner`` after ``after``, oldest first."""
    return list(
        session.execute(
            select(ProbeTouch.operation_id, ProbeTouch.lon, ProbeTouch.lat, ProbeTouch.at)
            .where(ProbeTouch.prober == prober, ProbeTouch.owner == owner, ProbeTouch.at > after)
            .order_by(ProbeTouch.at, ProbeTouch.id)
        ).all()
    )


def _state(session: Session, prober: str, owner: str) -> ProbeState:
    """The (prober, owner) row, made when there is none yet."""
    state = session.get(ProbeState, (prober, owner))
    if state is None:
        state = ProbeState(prober=prober, owner=owner, alerted_at=None, lifted_at=None)
        session.add(state)
    return state


def account(
    unit: Unit,
    agreement: Agreement,
    *,
    prober: str,
    operation: Operation,
    conflicts: Iterable[Conflict],
    at: datetime,
    may_refuse: bool,
) -> None:
    """Count the touches of ``operation`` (of party ``prober``, with its answered
    ``conflicts``), alert each owner the prober has now probed beyond the limit, and — when
    ``may_refuse`` — refuse (:class:`~accord.errors.ProbingSlowed`) an operation touching an
    owner whose limit is already exceeded. Called in the operation's unit before anything of it
    is written, so that a refusal leaves nothing."""
    limit = agreement.disclosure.probe_limit
    if limit is None:
        return
    session = unit.session
    for owner, count in counted(
        session,
        agreement,
        prober=prober,
        operation=operation,
        conflicts=conflicts,
        at=at,
        may_refuse=may_refuse,
    ):
        event = alert(session, agreement, prober=prober, owner=owner, count=count, at=at)
        entry = unit.ledger.append(event, author=unit.center.origin, at=at)
        publish(
            session,
            kind=PROBING,
            at=at,
            audience=[owner, *(m.id for m in agreement.monitors)],
            payload={**event, "entry": entry},
        )
    session.flush()


def counted(
    session: Session,
    agreement: Agreement,
    *,
    prober: str,
    operation: Operation,
    conflicts: Iterable[Conflict],
    at: datetime,
    may_refuse: bool,
) -> list[tuple[str, int]]:
    """Count the touches of ``operation`` (:func:`account`: the ``probe_touches`` rows
    added, or :class:`~accord.errors.ProbingSlowed` when ``may_refuse``); the owners to
    alert now, each with the prober's count of areas (none already told in this window)."""
    limit = agreement.disclosure.probe_limit
    if limit is None:
        return []
    alerts: list[tuple[str, int]] = []
    centre = operation.geometry.centroid
    lon, lat = float(centre.x), float(centre.y)
    precision = agreement.disclosure.hidden_precision_m
    for owner in owners(agreement, prober, conflicts):
        state = session.get(ProbeState, (prober, owner))
        start = since(agreement, state, at)
        found = touches(session, prober, owner, start)
        if any(
            t.operation_id == operation.id
            and geodesic_distance(t.lon, t.lat, lon, lat) <= precision
            for t in found
        ):
            continue  # an amendment within the bound: counted once
        if may_refuse and len(found) > limit.areas:
            free_at = found[len(found) - limit.areas - 1].at + limit.window
            wait = max(1, math.ceil((free_at - at).total_seconds()))
            raise ProbingSlowed(
                f"your proposals have touched hidden objects of {owner!r} in more than "
                f"{limit.areas} areas within {format_duration(limit.window)}; {owner!r} was "
                f"told. Proposals touching them are slowed: retry in {wait} s, or ask "
                f"{owner!r} to lift it",
                retry_after=wait,
            )
        session.add(
            ProbeTouch(
                prober=prober, owner=owner, operation_id=operation.id, lon=lon, lat=lat, at=at
            )
        )
        count = len(found) + 1
        if count <= limit.areas:
            continue
        if state is not None and state.alerted_at is not None and state.alerted_at > start:
            continue  # told once per window
        alerts.append((owner, count))
    return alerts


def alert(
    session: Session, agreement: Agreement, *, prober: str, owner: str, count: int, at: datetime
) -> dict[str, Any]:
    """``owner`` alerted at ``at`` that ``prober`` touched its hidden objects in ``count``
    areas (its ``probe_states`` row says so): the event of the center's entry."""
    limit = agreement.disclosure.probe_limit
    assert limit is not None
    _state(session, prober, owner).alerted_at = at
    return PROBING_ENTRY.build(
        prober=prober,
        owner=owner,
        areas=count,
        limit=limit.areas,
        window=format_duration(limit.window),
        at=format_instant(at),
    )


def lifted(session: Session, *, prober: str, owner: str, at: datetime) -> dict[str, Any]:
    """``owner`` lifted the slowing of ``prober`` at ``at`` (its ``probe_states`` row says
    so): the event of the owner's entry."""
    _state(session, prober, owner).lifted_at = at
    return LIFTED_ENTRY.build(prober=prober, owner=owner, at=format_instant(at))


def lift(unit: Unit, caller: Caller, prober: str, at: datetime) -> dict[str, Any]:
    """The caller's party lifts the slowing of ``prober``: touches before ``at`` no longer
    count. Recorded as an entry signed by the caller's party; announced to the prober too."""
    agreement = unit.center.agreement
    if caller.role not in (Role.OFFICER, Role.APPROVER):
        raise NotAuthorized(f"a {caller.role.value} lifts nothing")
    owner = caller.member
    if prober not in agreement.party_ids or prober == owner:
        raise InputError("request", [Issue("prober", f"{prober!r} is no other party")])
    session = unit.session
    event = lifted(session, prober=prober, owner=owner, at=at)
    entry = unit.ledger.append(event, author=owner, at=at)
    publish(
        session,
        kind=LIFTED,
        at=at,
        audience=[owner, prober, *(m.id for m in agreement.monitors)],
        payload={**event, "entry": entry},
    )
    session.flush()
    return {**event, "entry": entry}


def standing(
    unit_session: Any, agreement: Agreement, owner: str, at: datetime
) -> list[dict[str, Any]]:
    """For ``owner``: each party whose proposals touched its hidden objects within the
    window — how many distinct areas, when it was told, and until when the prober is slowed
    (None: not slowed)."""
    limit = agreement.disclosure.probe_limit
    if limit is None:
        return []
    probers = sorted(
        set(
            unit_session.scalars(
                select(ProbeTouch.prober).where(
                    ProbeTouch.owner == owner, ProbeTouch.at > at - limit.window
                )
            ).all()
        )
    )
    out = []
    for prober in probers:
        state = unit_session.get(ProbeState, (prober, owner))
        start = since(agreement, state, at)
        found = list(
            unit_session.execute(
                select(ProbeTouch.at)
                .where(
                    ProbeTouch.prober == prober, ProbeTouch.owner == owner, ProbeTouch.at > start
                )
                .order_by(ProbeTouch.at, ProbeTouch.id)
            ).scalars()
        )
        if not found:
            continue
        slowed = (
            found[len(found) - limit.areas - 1] + limit.window if len(found) > limit.areas else None
        )
        out.append(
            {
                "prober": prober,
                "areas": len(found),
                "limit": limit.areas,
                "window": format_duration(limit.window),
                "alerted_at": None if state is None else state.alerted_at,
                "lifted_at": None if state is None else state.lifted_at,
                "slowed_until": slowed,
            }
        )
    return out
