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

__all__ = ["LIFTED", "PROBING", "account", "lift", "standing"]

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


def _owners(agreement: Agreement, prober: str, conflicts: Iterable[Conflict]) -> list[str]:
    parties = agreement.party_ids
    return sorted(
        {c.party for c in conflicts if hidden_from(c, prober) and c.party in parties} - {prober}
    )


def _since(agreement: Agreement, state: ProbeState | None, at: datetime) -> datetime:
    limit = agreement.disclosure.probe_limit
    assert limit is not None
    since = at - limit.window
    if state is not None and state.lifted_at is not None and state.lifted_at > since:
        since = state.lifted_at
    return since


def _touches(unit: Unit, prober: str, owner: str, since: datetime) -> list[Any]:
    return list(
        unit.session.execute(
            select(ProbeTouch.operation_id, ProbeTouch.lon, ProbeTouch.lat, ProbeTouch.at)
            .where(ProbeTouch.prober == prober, ProbeTouch.owner == owner, ProbeTouch.at > since)
            .order_by(ProbeTouch.at, ProbeTouch.id)
        ).all()
    )


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
    owners = _owners(agreement, prober, conflicts)
    if not owners:
        return
    session = unit.session
    centre = operation.geometry.centroid
    lon, lat = float(centre.x), float(centre.y)
    precision = agreement.disclosure.hidden_precision_m
    for owner in owners:
        state = session.get(ProbeState, (prober, owner))
        since = _since(agreement, state, at)
        touches = _touches(unit, prober, owner, since)
        if any(
            t.operation_id == operation.id
            and geodesic_distance(t.lon, t.lat, lon, lat) <= precision
            for t in touches
        ):
            continue  # an amendment within the bound: counted once
        if may_refuse and len(touches) > limit.areas:
            free_at = touches[len(touches) - limit.areas - 1].at + limit.window
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
        count = len(touches) + 1
        if count <= limit.areas:
            continue
        if state is None:
            state = ProbeState(prober=prober, owner=owner, alerted_at=None, lifted_at=None)
            session.add(state)
        if state.alerted_at is not None and state.alerted_at > since:
            continue  # told once per window
        state.alerted_at = at
        event = PROBING_ENTRY.build(
            prober=prober,
            owner=owner,
            areas=count,
            limit=limit.areas,
            window=format_duration(limit.window),
            at=format_instant(at),
        )
        entry = unit.ledger.append(event, author=unit.center.origin, at=at)
        publish(
            session,
            kind=PROBING,
            at=at,
            audience=[owner, *(m.id for m in agreement.monitors)],
            payload={**event, "entry": entry},
        )
    session.flush()


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
    state = session.get(ProbeState, (prober, owner))
    if state is None:
        state = ProbeState(prober=prober, owner=owner, alerted_at=None, lifted_at=None)
        session.add(state)
    state.lifted_at = at
    event = LIFTED_ENTRY.build(prober=prober, owner=owner, at=format_instant(at))
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
        since = _since(agreement, state, at)
        touches = list(
            unit_session.execute(
                select(ProbeTouch.at)
                .where(
                    ProbeTouch.prober == prober, ProbeTouch.owner == owner, ProbeTouch.at > since
                )
                .order_by(ProbeTouch.at, ProbeTouch.id)
            ).scalars()
        )
        if not touches:
            continue
        slowed = (
            touches[len(touches) - limit.areas - 1] + limit.window
            if len(touches) > limit.areas
            else None
        )
        out.append(
            {
                "prober": prober,
                "areas": len(touches),
                "limit": limit.areas,
                "window": format_duration(limit.window),
                "alerted_at": None if state is None else state.alerted_at,
                "lifted_at": None if state is None else state.lifted_at,
                "slowed_until": slowed,
            }
        )
    return out
