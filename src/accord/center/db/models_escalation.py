"""Escalation's tables (:mod:`accord.center.escalation`): the steps of every subject that
escalates — direct-line messages and airspace alert groups — in one table, each party's
contact chain, and its users' presence.

* ``escalation_steps`` — one row per step of one party on one subject: ``subject_kind``
  (``message`` or ``alert``) and ``subject_id`` (the message's id, the alert group's), the
  ``party`` escalated, the ``level`` reached, ``kind`` ``escalated`` (to the contact
  ``contact`` whose ``role`` on the chain it is, with a new ``deadline``) or ``overdue`` (the
  chain spent), when (``at``), the deadline missed (``due``), the contacts skipped as absent
  (``skipped``, a JSON list of ``[role, user]``) and the step's record ``entry``. In the
  order written (``id``). A subject has no foreign key here: it lives in its feature's table;
* ``contacts`` — a party's chain: primary, backup and duty officers (user names of that
  party);
* ``presence`` — each user's last heartbeat.

Where each party stands (its level, its chain position, the deadline running) stays in the
features' rows: ``message_recipients``, ``airspace_alert_recipients``.

Contacts and presence are a party's internal arrangements: rows, not record entries (a
heartbeat a minute would flood the record); what they cause — the escalation steps — is
recorded. ``contacts`` and ``presence`` were created by migration ``0004``;
``escalation_steps`` by ``0013``, which moved the direct line's ``message_escalations`` and
the alert recipients' ``steps`` JSON into it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["Contacts", "EscalationStep", "Presence"]


class EscalationStep(Base):
    """One step of a party's escalation on a subject (see the module docstring)."""

    __tablename__ = "escalation_steps"
    __table_args__ = (
        CheckConstraint(
            "subject_kind IN ('message', 'alert')", name="ck_escalation_steps_subject_kind"
        ),
        CheckConstraint("kind IN ('escalated', 'overdue')", name="ck_escalation_steps_kind"),
        UniqueConstraint(
            "subject_kind", "subject_id", "party", "level", "kind", name="uq_escalation_steps"
        ),
        Index("ix_escalation_steps_subject", "subject_kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[str] = mapped_column(String(18))
    party: Mapped[str] = mapped_column(String(64))
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
