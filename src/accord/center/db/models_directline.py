"""The direct line's tables: messages and their recipients' acknowledgement and escalation
state.

* ``messages`` — one row per message: the sender (a party), the user who sent it, when, the
  acknowledgement deadline, the content exactly as fixed by the server (canonical JSON, see
  :mod:`accord.center.directline.messages`) and its SHA-256 (``content_hash``, hex), and the
  record entry ``message.sent``;
* ``message_recipients`` — one row per (message, recipient party): the escalation level
  reached, the position in the recipient's contact chain of the last contact alerted, the
  next deadline (``due_at``; ``NULL`` once acknowledged or declared overdue), the
  acknowledgement (when, by whom, the hash named, its entry) and the overdue declaration.

The escalation steps themselves, the contact chains and presence are escalation's
(:mod:`accord.center.db.models_escalation`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["Message", "Recipient"]


class Message(Base):
    """A direct-line message as the server fixed it. ``content`` is the canonical JSON of the
    content object whose SHA-256 is ``content_hash`` (64 hex digits); ``entry`` is the
    record entry ``message.sent``."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(18), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64), index=True)
    sent_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_messages_user"), nullable=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    ack_within_s: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    entry: Mapped[int] = mapped_column(BigInteger)


class Recipient(Base):
    """One recipient party of a message and where its acknowledgement stands.

    ``level`` 0 is the delivery to the party; each escalation raises it. ``position`` is
    the index in the party's contact chain of the last contact alerted (-1: none yet).
    ``due_at`` is the deadline now running, ``NULL`` once acknowledged or overdue."""

    __tablename__ = "message_recipients"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", name="fk_message_recipients_message"), primary_key=True
    )
    recipient: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_message_recipients_user"), nullable=True
    )
    ack_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ack_entry: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
