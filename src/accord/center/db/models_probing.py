"""The tables of hidden answers and probing (:mod:`accord.center.disclosure.probing`).

* ``probe_touches`` — one row per distinct area in which a party's proposal or amendment
  touched another party's hidden objects: the prober, the owner, the operation and the
  centre of its area, when. Counted over the agreement's ``disclosure.probe_limit.window``;
* ``probe_states`` — per (prober, owner): when the owner was last alerted of probing, and
  when the owner last lifted the slowing.

A declaration's shadow (:mod:`accord.deconfliction.hidden`) is kept on its row
(``declarations.shadow``). Created by migration ``0011``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["ProbeState", "ProbeTouch"]


class ProbeTouch(Base):
    """``prober``'s operation ``operation_id`` (its area centred at ``lon``, ``lat``) touched
    hidden objects of ``owner`` at ``at``."""

    __tablename__ = "probe_touches"
    __table_args__ = (Index("ix_probe_touches_pair_at", "prober", "owner", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prober: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[str] = mapped_column(String(40))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProbeState(Base):
    """What stands between ``prober`` and ``owner``: the last alert, the last lift."""

    __tablename__ = "probe_states"

    prober: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
