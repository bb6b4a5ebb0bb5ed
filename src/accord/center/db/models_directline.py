"""The direct line's tables: messages, their recipients' acknowledgement and escalation state,
each party's contact chain, and its users' presence.

* ``messages`` — one row per message: the sender (a party), the user who sent it, when, the
  acknowledgement deadline, the content exactly as fixed by the server (canonical JSON, see
  :mod:`accord.center.directline.messages`) and its SHA-256 (``content_hash``, hex), and the
  record entry ``message.sent``;
* ``message_recipients`` — one row per (message, recipient party): the escalation level
  reached, the position in the recipient's contact chain of the last contact alerted, the
  next deadline (``due_at``; ``NULL`` once acknowledged or declared overdue), the
  acknowledgement (when, by whom, the hash named, its entry) and the overdue declaration;
* ``message_escalations`` — the history: one row per escalation step (``kind`` =
  ``escalated``) and one for the final ``overdue`` declaration, each with its record entry;
* ``contacts`` — a party's chain: primary, backup and duty officers (user names of that
  party);
* ``presence`` — each user's last heartbeat.

Contacts and presence are a party's internal arrangements: rows, not record entries (a
heartbeat a minute would flood the record); what they cause — the escalation steps — is
recorded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["Contacts", "Escalation", "Message", "Presence", "Recipient"]


class Message(Base):
    """A direct-line message as the server fixed it. ``content`` is the canonical JSON of the
    content object whose SHA-256 is ``content_hash`` (64 hex digits); ``entry`` is the
    record entry ``message.sent``."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(18), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64), index=True)
    sent_by: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_messages_user"))
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


class Escalation(Base):
    """One step of a recipient's escalation: ``escalated`` to a contact (``role``,
    ``contact``; the contacts skipped as absent in ``skipped``, a JSON list of
    ``[role, user]``) with a new ``deadline``, or the final ``overdue``."""

    __tablename__ = "message_escalations"
    __table_args__ = (
        CheckConstraint("kind IN ('escalated', 'overdue')", name="ck_message_escalations_kind"),
        UniqueConstraint("message_id", "recipient", "level", "kind", name="uq_message_escalations"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", name="fk_message_escalations_message"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    due: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    contact: Mapped[str | None] = mapped_column(String(64), nullable=True)
    skipped: Mapped[str] = mapped_column(Text)
    entry: Mapped[int] = mapped_column(BigInteger)


class Contacts(Base):
    """A party's contact chain: ``primary_user``, ``backup_user`` (optional) and ``duty`` (a
    JSON list of user names), all users of that party."""

    __tablename__ = "contacts"

    member: Mapped[str] = mapped_column(String(64), primary_key=True)
    primary_user: Mapped[str] = mapped_column(String(64))
    backup_user: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duty: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_contacts_user"))


class Presence(Base):
    """A user's last heartbeat (``POST /v1/presence``)."""

    __tablename__ = "presence"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_presence_user"), primary_key=True
    )
    member: Mapped[str] = mapped_column(String(64), index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
