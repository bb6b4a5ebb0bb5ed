"""How the picture's replay folds the record entries of the agreement's phases
(:mod:`accord.center.phases.service` declares the kind with its fold here): each condition's
earliest confirmation by a member the agreement lets confirm it (:data:`CONFIRMATIONS`).
"""

from __future__ import annotations

from datetime import datetime

from accord.center.entry_kinds import Part, Recorded, Replaying

__all__ = ["CONFIRMATIONS", "confirmed"]

CONFIRMATIONS: Part[dict[str, datetime]] = Part("confirmations", dict, shape=dict[str, datetime])
"""Condition → the instant of its earliest confirmation in the record."""


def confirmed(replay: Replaying, record: Recorded) -> bool:
    """``condition.confirmed``: a confirmation by one of the members the condition names
    (the earliest one counts)."""
    condition = str(record.event["condition"])
    spec = {c.id: c for c in replay.agreement.conditions}.get(condition)
    if spec is None or record.author not in spec.confirmed_by:
        return False
    confirmations = replay.part(CONFIRMATIONS)
    if condition not in confirmations or record.at < confirmations[condition]:
        confirmations[condition] = record.at
    return True
