"""Checks' table (:mod:`accord.center.checks`): what the center found near a geometry one
party sent another, as each party was shown it.

* ``check_openings`` — one row per (check entry, party): the subject checked (a message's
  id, an operation's id), the salted commitment the record entry holds for that party, and
  its opening (the ``salt`` and the canonical JSON ``content`` of the party's warnings).
  Only that party is ever shown its row (DECISIONS 11: the center keeps a copy; the party
  should keep its own).

Created by migration ``0015``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base

__all__ = ["CheckOpening"]

_Index = BigInteger().with_variant(Integer(), "sqlite")


class CheckOpening(Base):
    """One party's view of one check: the commitment in entry ``entry`` and its opening."""

    __tablename__ = "check_openings"
    __table_args__ = (Index("ix_check_openings_subject", "subject", "party"),)

    entry: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    party: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    content: Mapped[str] = mapped_column(Text)
