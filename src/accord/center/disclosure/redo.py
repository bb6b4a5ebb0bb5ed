"""Redo of the probing entries (:mod:`accord.center.recovery.redo`): the ``probe_states``
row :mod:`accord.center.disclosure.probing` wrote for each — when the owner was alerted
(``disclosure.probing``, the center's entry), when it lifted the slowing
(``disclosure.probing_lifted``, the owner's).

An alert is checked against the touches as redone so far: the center's entry comes just
before the proposal, amendment or report that touched the owner (whose redo, in
:mod:`accord.center.operations.redo`, adds that touch), so the prober's count is the touches
in the window so far and one; the limit and window are the agreement's, and an owner is
told once per window. The touches themselves are redone with the operation's entry.
Everything is in the entries: nothing is left unredone.
"""

from __future__ import annotations

from collections.abc import Mapping

from accord.center.db.models_probing import ProbeState
from accord.center.disclosure import probing
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.chrono import format_instant

__all__ = ["REDO"]


def _at(entry: Redone) -> None:
    if entry.event["at"] != format_instant(entry.at):
        raise ValueError(f"the entry says {entry.event['at']}, its time is {entry.at}")


def _probing(context: Redoing, entry: Redone) -> None:
    event, session, agreement = entry.event, context.session, context.agreement
    _at(entry)
    prober, owner = str(event["prober"]), str(event["owner"])
    if entry.author != context.origin:
        raise ValueError(f"an alert signed by {entry.author}, not the center")
    if agreement.disclosure.probe_limit is None:
        raise ValueError("the agreement sets no probe limit")
    state = session.get(ProbeState, (prober, owner))
    since = probing.since(agreement, state, entry.at)
    count = len(probing.touches(session, prober, owner, since)) + 1
    if state is not None and state.alerted_at is not None and state.alerted_at > since:
        raise ValueError(f"{owner} was told of {prober} at {state.alerted_at}, in this window")
    expected = probing.alert(
        session, agreement, prober=prober, owner=owner, count=count, at=entry.at
    )
    if dict(event) != expected or count <= int(expected["limit"]):
        raise ValueError(f"the alert is not the one the touches so far make: {expected}")


def _lifted(context: Redoing, entry: Redone) -> None:
    event, agreement = entry.event, context.agreement
    _at(entry)
    prober, owner = str(event["prober"]), str(event["owner"])
    if entry.author != owner or prober == owner or prober not in agreement.party_ids:
        raise ValueError(f"{entry.author} lifts nothing of {prober} for {owner}")
    probing.lifted(context.session, prober=prober, owner=owner, at=entry.at)


REDO: Mapping[str, Redo] = {
    probing.PROBING: _probing,
    probing.LIFTED: _lifted,
}
