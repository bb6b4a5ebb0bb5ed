"""The direct line's answers: the response models its routes serve (messages, their
recipients, openings; a recipient's escalation steps, contact chains and heartbeats are
escalation's: :mod:`accord.center.escalation.views`). The services build them; only this
module and the routes import pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.center.checks.views import CheckOut
from accord.center.escalation.views import EscalationOut

__all__ = ["MessageOut", "OpeningOut", "RecipientOut"]


class RecipientOut(BaseModel):
    """Where one recipient's acknowledgement stands."""

    party: str
    delivered_at: datetime
    acknowledged: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_hash: str | None
    acknowledged_entry: int | None
    late: bool
    deadline: datetime | None
    level: int
    overdue: bool
    overdue_declared_at: datetime | None
    escalations: list[EscalationOut]


class MessageOut(BaseModel):
    """A message as its viewer may see it: monitors get ``content``, ``content_hash`` and
    ``sent_by`` as null (the record's metadata only)."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    to: list[str]
    sent_at: datetime
    ack_deadline: datetime
    ack_within: str
    entry: int
    sent_by: str | None
    content: dict[str, Any] | None
    content_hash: str | None
    recipients: list[RecipientOut]
    open: bool
    check: CheckOut | None = None
    """What the center's check of the message's geometry showed the viewer's party (null
    for monitors, and for a message sent before checks were made)."""


class OpeningOut(BaseModel):
    """What opens the commitment of a ``message.sent`` entry: verify with
    ``accord.record.commitments.verify_opening(commitment=…, content=…, salt=…)``."""

    id: str
    entry: int
    commitment: str
    salt: str
    content: dict[str, Any]
    content_hash: str
