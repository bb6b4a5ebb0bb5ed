"""Escalation's answers: a step as a reader sees it (:class:`EscalationOut`, in a message's
and an alert's views), a party's contact chain and a heartbeat. The services build them;
only this module and the routes import pydantic."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from accord.center.escalation.store import StepView

__all__ = ["ContactOut", "ContactsOut", "EscalationOut", "PresenceOut", "escalation_out"]


class EscalationOut(BaseModel):
    """One escalation step of a recipient: the roles on the chain skipped as absent, the
    role alerted; the users' names (``contact``, ``skipped_users``) only for the recipient
    party itself."""

    level: int
    kind: Literal["escalated", "overdue"]
    at: datetime
    due: datetime
    deadline: datetime | None
    role: str | None
    contact: str | None
    skipped: list[str]
    skipped_users: list[str] | None
    entry: int


class ContactOut(BaseModel):
    """One contact of the chain and whether they are present now."""

    role: str
    user: str
    last_seen: datetime | None
    present: bool


class ContactsOut(BaseModel):
    """A party's contact chain in escalation order."""

    party: str
    primary: str | None
    backup: str | None
    duty: list[str]
    chain: list[ContactOut]
    updated_at: datetime | None
    presence_window: str


class PresenceOut(BaseModel):
    """A heartbeat as recorded."""

    user: str
    party: str
    last_seen: datetime
    present_until: datetime


def escalation_out(view: StepView) -> EscalationOut:
    """A step as a reader sees it (:func:`~accord.center.escalation.store.step_view`), as the
    answer."""
    return EscalationOut.model_validate(asdict(view))
