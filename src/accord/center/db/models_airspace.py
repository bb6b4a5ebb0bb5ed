"""The tables of the airspace service: the latest state of each aircraft, and the alerts the
center raised about them.

* ``tracks`` — one row per aircraft (``owner`` — its party, or its operator when it has none
  — and ``id``): its latest report, its disclosure, the user who reported it and when the
  center received it. Reports are rows, not record entries (a feed of a report per aircraft
  per second would flood the record); what they cause — alerts — is recorded;
* ``airspace_alert_groups`` — one row per *group* of alerts the center raised together and
  recorded in one entry (:mod:`accord.center.airspace.store`): predicted losses of separation
  (``kind`` ``conflict``, between two live tracks or two flight plans: ``source``), tracks in
  a designated area closed to their operator (``area``), or exempt missions' passages
  (``exempt``: recorded once, never alerted). The group's aircraft (``aircraft``, JSON, the
  center's eyes: each reader gets a cut), the parties concerned (``parties``, and each
  finding's among ``party_sets``), its entry (``entry``, ``content_hash``), the openings of
  the commitments that entry holds for ``center`` aircraft, by owner (``sealed``), and its
  findings as packed columns: ``findings`` (which aircraft, the numbers) and ``state``
  (when each was last seen, when it was cleared and by which entry). Alert ``<group>.<n>``
  is finding ``n``; ``open`` counts the findings not yet cleared. A group raised before
  groups existed (``grouped`` false) is one alert whose id is the group's;
* ``airspace_acks`` — a party's acknowledgement of an alert, naming its ``content_hash``;
* ``airspace_alert_recipients`` — each party concerned by an alert (not ``exempt``) and where
  its acknowledgement stands, as a direct-line recipient's: the window (``ack_within_s``),
  the escalation level reached, the chain position last alerted, the deadline running
  (``due_at``, NULL once acknowledged, cleared or declared overdue) and when it was declared
  overdue; its escalation steps are escalation's (``escalation_steps``,
  :mod:`accord.center.db.models_escalation`).

An acknowledgement and a recipient name the *group* (``alert_id``): the findings of one
detection pass (a cluster of aircraft in conflict, or the aircraft in one area) share one
record entry, one acknowledgement and one escalation.

Created by migrations ``0006``, ``0007`` (the recipients), ``0010`` (the groups), ``0012``
(a row per group, not per alert: a cluster of N aircraft in one spot is N²/2 alerts) and
``0013`` (the recipients' steps moved to ``escalation_steps``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["AirspaceAck", "AirspaceAlertGroup", "AirspaceAlertRecipient", "TrackRow"]

ALERT_KINDS = ("conflict", "area", "exempt")
SOURCES = ("track", "plan")


class TrackRow(Base):
    """The latest report of one aircraft (see :class:`accord.airspace.TrackReport`)."""

    __tablename__ = "tracks"
    __table_args__ = (
        CheckConstraint("disclosure IN ('shared', 'center')", name="ck_tracks_disclosure"),
    )

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Indexed alone too: a feed's batch reads the rows of its aircraft under any owner.
    id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    operator: Mapped[str] = mapped_column(String(64))
    party: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mission: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    alt_ft: Mapped[float] = mapped_column(Float)
    gs_kt: Mapped[float] = mapped_column(Float)
    track_deg: Mapped[float] = mapped_column(Float)
    vs_fpm: Mapped[float] = mapped_column(Float)
    disclosure: Mapped[str] = mapped_column(String(8))
    icao24: Mapped[str | None] = mapped_column(String(6), nullable=True)
    callsign: Mapped[str | None] = mapped_column(String(8), nullable=True)
    squawk: Mapped[str | None] = mapped_column(String(4), nullable=True)
    reported_by: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_tracks_user"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AirspaceAlertGroup(Base):
    """A group of alerts the center raised in one record entry (see the module docstring)."""

    __tablename__ = "airspace_alert_groups"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('conflict', 'area', 'exempt')", name="ck_airspace_alert_groups_kind"
        ),
        CheckConstraint("source IN ('track', 'plan')", name="ck_airspace_alert_groups_source"),
    )

    id: Mapped[str] = mapped_column(String(18), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8))
    grouped: Mapped[bool] = mapped_column(Boolean)
    area: Mapped[str | None] = mapped_column(Text, nullable=True)
    parties: Mapped[str] = mapped_column(Text)
    party_sets: Mapped[str] = mapped_column(Text)
    aircraft: Mapped[str] = mapped_column(Text)
    findings: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    count: Mapped[int] = mapped_column(Integer)
    open: Mapped[int] = mapped_column(Integer, index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    entry: Mapped[int] = mapped_column(BigInteger)
    sealed: Mapped[str] = mapped_column(Text)


class AirspaceAck(Base):
    """Party ``party`` acknowledged the alert group ``alert_id``, naming ``content_hash``."""

    __tablename__ = "airspace_acks"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("airspace_alert_groups.id", name="fk_airspace_acks_group"), primary_key=True
    )
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_airspace_acks_user"), nullable=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger)


class AirspaceAlertRecipient(Base):
    """Party ``party`` concerned by the alert group ``alert_id``: its acknowledgement
    deadline and escalation state (see :class:`accord.center.escalation.store.Standing`)."""

    __tablename__ = "airspace_alert_recipients"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("airspace_alert_groups.id", name="fk_airspace_alert_recipients_group"),
        primary_key=True,
    )
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    ack_within_s: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=-1)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
