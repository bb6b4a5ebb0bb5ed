"""The tables of the airspace service: the latest state of each aircraft, and the alerts the
center raised about them.

* ``tracks`` — one row per aircraft (``owner`` — its party, or its operator when it has none
  — and ``id``): its latest report, its disclosure, the user who reported it and when the
  center received it. Reports are rows, not record entries (a feed of a report per aircraft
  per second would flood the record); what they cause — alerts — is recorded;
* ``airspace_alerts`` — one row per alert the center raised: a predicted loss of separation
  (``kind`` ``conflict``, between two live tracks or two flight plans: ``source``), a track in
  a designated area closed to its operator (``area``), or an exempt mission's passage
  (``exempt``: recorded once, never alerted). ``key`` names what it is about (the pair, or
  aircraft and area); an alert stays open (``cleared_at`` NULL) while the finding persists
  and is cleared once when it ends. ``payload`` holds the full finding (JSON, the center's
  eyes only: each reader gets a cut of it), ``sealed`` the openings of the commitments its
  record entry holds for ``center`` aircraft, by owner;
* ``airspace_acks`` — a party's acknowledgement of an alert, naming its ``content_hash``;
* ``airspace_alert_recipients`` — each party concerned by an alert (not ``exempt``) and where
  its acknowledgement stands, as a direct-line recipient's: the window (``ack_within_s``),
  the escalation level reached, the chain position last alerted, the deadline running
  (``due_at``, NULL once acknowledged, cleared or declared overdue), when it was declared
  overdue, and its escalation steps (``steps``, JSON, in order).

``group_id`` names the group an alert was raised in: the findings of one detection pass
(a cluster of aircraft in conflict, or the aircraft in one area) share one record entry,
one acknowledgement and one escalation, held by the group's first alert (``<group>.0``);
NULL for alerts raised before groups (each its own entry: a group of one).

Created by migrations ``0006``, ``0007`` (the recipients) and ``0010`` (the groups).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["AirspaceAck", "AirspaceAlert", "AirspaceAlertRecipient", "TrackRow"]

ALERT_KINDS = ("conflict", "area", "exempt")
SOURCES = ("track", "plan")


class TrackRow(Base):
    """The latest report of one aircraft (see :class:`accord.airspace.TrackReport`)."""

    __tablename__ = "tracks"
    __table_args__ = (
        CheckConstraint("disclosure IN ('shared', 'center')", name="ck_tracks_disclosure"),
    )

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
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
    reported_by: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_tracks_user"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AirspaceAlert(Base):
    """An alert the center raised (see the module docstring)."""

    __tablename__ = "airspace_alerts"
    __table_args__ = (
        CheckConstraint("kind IN ('conflict', 'area', 'exempt')", name="ck_airspace_alerts_kind"),
        CheckConstraint("source IN ('track', 'plan')", name="ck_airspace_alerts_source"),
    )

    id: Mapped[str] = mapped_column(String(18), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(400), index=True)
    parties: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    payload: Mapped[str] = mapped_column(Text)
    sealed: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    entry: Mapped[int] = mapped_column(BigInteger)
    cleared_entry: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    group_id: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)


class AirspaceAck(Base):
    """Party ``party`` acknowledged alert ``alert_id``, naming ``content_hash``."""

    __tablename__ = "airspace_acks"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("airspace_alerts.id", name="fk_airspace_acks_alert"), primary_key=True
    )
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_airspace_acks_user"))
    content_hash: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger)


class AirspaceAlertRecipient(Base):
    """Party ``party`` concerned by alert ``alert_id``: its acknowledgement deadline and
    escalation state (see :class:`accord.center.directline.Pending`)."""

    __tablename__ = "airspace_alert_recipients"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("airspace_alerts.id", name="fk_airspace_alert_recipients_alert"),
        primary_key=True,
    )
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    ack_within_s: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=-1)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    steps: Mapped[str] = mapped_column(Text, default="[]")
