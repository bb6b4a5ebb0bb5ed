"""The agreement's phases as the service sees them: conditions confirmed by members, and the
phase in force now.

A condition (``conditions[]`` in the agreement) is confirmed by a user acting for one of the
members its ``confirmed_by`` lists, with any role but ``admin`` (an administrator registers
people; it does not attest facts). Each member confirms a condition once; the condition
counts as confirmed from its earliest confirmation. A confirmation is a row and a signed
record entry by the member, written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement, PhaseStatus, phase_at
from accord.center.db.fast import PreparedQuery
from accord.center.db.models import Confirmation
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.phases import fold
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.errors import IllegalTransition, InputError, Issue, NotAuthorized

__all__ = ["CONFIRMED_EVENT", "Confirmed", "confirm", "confirmations", "phase_now"]

CONFIRMED_EVENT = "condition.confirmed"

CONFIRMED_ENTRY = entry_kind(
    CONFIRMED_EVENT, signer=Signer.MEMBER, required=("condition", "user"),
    fold=fold.confirmed, summary="a member confirms one of the agreement's conditions",
    acts=("POST /v1/phases/confirm",),
)  # fmt: skip
"""The record event kind of a confirmation."""


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmation as written: what, by whom, when, and its record entry."""

    condition: str
    member: str
    user: str
    confirmed_at: datetime
    entry: int


_confirmations = cast(Table, Confirmation.__table__)
_CONFIRMED = PreparedQuery(select(_confirmations.c.condition, _confirmations.c.confirmed_at))


def confirmations(session: Session) -> dict[str, datetime]:
    """Condition → the instant of its earliest confirmation (a handful of rows)."""
    earliest: dict[str, datetime] = {}
    for condition, at in _CONFIRMED.rows(session.connection()):
        if condition not in earliest or at < earliest[condition]:
            earliest[condition] = at
    return earliest


def phase_now(agreement: Agreement, session: Session, at: datetime) -> PhaseStatus | None:
    """The phase in force at ``at`` given the confirmations stored so far."""
    return phase_at(agreement, at, confirmations(session))


def confirm(unit: Unit, caller: Caller, condition: str, at: datetime) -> Confirmed:
    """Confirm ``condition`` for the caller's member at ``at``: the row and its record entry.

    Raises :class:`~accord.errors.InputError` (field ``condition``) for a condition the
    agreement does not name, :class:`~accord.errors.NotAuthorized` for a caller whose member
    the condition does not list (or an administrator), and
    :class:`~accord.errors.IllegalTransition` when the member already confirmed it.
    """
    agreement = unit.center.agreement
    known = {c.id: c for c in agreement.conditions}
    spec = known.get(condition)
    if spec is None:
        raise InputError(
            "request", [Issue("condition", f"the agreement has no condition {condition!r}")]
        )
    if caller.role is Role.ADMIN or caller.member not in spec.confirmed_by:
        raise NotAuthorized(f"{caller.member} ({caller.role.value}) may not confirm {condition!r}")
    session = unit.session
    existing = session.scalar(
        select(Confirmation.id).where(
            Confirmation.condition == condition, Confirmation.member == caller.member
        )
    )
    if existing is not None:
        raise IllegalTransition(f"{caller.member} has already confirmed {condition!r}")
    row = Confirmation(
        condition=condition, member=caller.member, user_id=caller.user_id, confirmed_at=at, entry=-1
    )
    session.add(row)
    session.flush()
    entry = unit.ledger.append(
        CONFIRMED_ENTRY.build(condition=condition, user=caller.name),
        author=caller.member,
        at=at,
    )
    row.entry = entry
    session.flush()
    publish(
        session,
        kind=CONFIRMED_EVENT,
        at=at,
        audience=agreement.party_ids | agreement.notifier_ids | agreement.monitor_ids,
        payload={"condition": condition, "member": caller.member, "entry": entry},
    )
    return Confirmed(condition, caller.member, caller.name, at, entry)
