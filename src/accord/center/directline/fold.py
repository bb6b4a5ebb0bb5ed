"""How the picture's replay folds the record entries of the direct line
(:mod:`accord.center.directline.messages` and :mod:`accord.center.directline.escalation`
declare each kind with its fold here): every message as the record tells it
(:data:`MESSAGES`) — a commitment to its content, never the content — with each recipient's
acknowledgement and the center's escalation steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accord.agreement import Agreement
from accord.center.entry_kinds import Part, Recorded, Replaying
from accord.chrono import parse_instant

__all__ = [
    "MESSAGES",
    "MessageRecord",
    "Receipt",
    "StepRecord",
    "acknowledged",
    "checked",
    "escalated",
    "overdue",
    "sent",
]


@dataclass(slots=True)
class StepRecord:
    """An escalation step of one recipient, as the center recorded it (``kind``:
    ``escalated`` or ``overdue``)."""

    kind: str
    level: int
    at: datetime
    role: str | None
    entry: int


@dataclass(slots=True)
class Receipt:
    """A recipient's acknowledgement: when, the hash it named, its entry."""

    at: datetime
    content_hash: str
    entry: int


@dataclass(slots=True)
class MessageRecord:
    """A direct-line message as the record tells it (a commitment, never the content)."""

    id: str
    sender: str
    to: list[str]
    sent_at: datetime
    ack_deadline: datetime
    entry: int
    commitment: str
    receipts: dict[str, Receipt] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    """Each party's commitment to what the center's check showed it (``message.checked``)."""
    checked_entry: int | None = None
    steps: dict[str, list[StepRecord]] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        """Whether some recipient has not acknowledged it."""
        return any(party not in self.receipts for party in self.to)


def _closed(_agreement: Agreement, m: MessageRecord, _at: datetime) -> bool:
    """A message every recipient acknowledged is never open again: no picture shows it."""
    return not m.open


MESSAGES: Part[dict[str, MessageRecord]] = Part(
    "messages", dict, shape=dict[str, MessageRecord], done=_closed
)
"""Every direct-line message the record tells of, by id (those closed set aside:
:attr:`~accord.center.entry_kinds.Part.done`)."""


def sent(replay: Replaying, record: Recorded) -> bool:
    """``message.sent``: a new message, signed by its sender."""
    event = record.event
    message_id = str(event["id"])
    if replay.known(MESSAGES, message_id) or event["from"] != record.author:
        return False
    replay.part(MESSAGES)[message_id] = MessageRecord(
        id=message_id,
        sender=record.author,
        to=[str(p) for p in event["to"]],
        sent_at=parse_instant(event["sent_at"]),
        ack_deadline=parse_instant(event["ack_deadline"]),
        entry=record.index,
        commitment=str(event["commitment"]),
    )
    return True


def acknowledged(replay: Replaying, record: Recorded) -> bool:
    """``message.acknowledged``: a recipient's first acknowledgement of a known message."""
    event = record.event
    found = replay.find(MESSAGES, str(event["id"]))
    if found is None or record.author not in found.to or record.author in found.receipts:
        return False
    found.receipts[record.author] = Receipt(record.at, str(event["content_hash"]), record.index)
    return True


def _step(replay: Replaying, record: Recorded, kind: str) -> bool:
    event = record.event
    found = replay.find(MESSAGES, str(event["id"]))
    if found is None or record.author != replay.origin:
        return False
    found.steps.setdefault(str(event["to"]), []).append(
        StepRecord(kind, int(event["level"]), record.at, event.get("role"), record.index)
    )
    return True


def escalated(replay: Replaying, record: Recorded) -> bool:
    """``message.escalated``: the center's step along a recipient's contact chain."""
    return _step(replay, record, "escalated")


def overdue(replay: Replaying, record: Recorded) -> bool:
    """``message.overdue``: the center declares a recipient overdue (its chain spent)."""
    return _step(replay, record, "overdue")


def checked(replay: Replaying, record: Recorded) -> bool:
    """``message.checked``: the center's check of a known message, once, for exactly its
    sender and recipients."""
    event = record.event
    found = replay.find(MESSAGES, str(event["id"]))
    if found is None or record.author != replay.origin or found.checked_entry is not None:
        return False
    commitments = event["checks"]
    if not isinstance(commitments, dict) or set(commitments) != {found.sender, *found.to}:
        return False
    found.checks = {str(k): str(v) for k, v in commitments.items()}
    found.checked_entry = record.index
    return True
