"""Reports' table (:mod:`accord.center.reports`): incident and violation reports and the
accused party's answers, for listing. The record is the truth (each row holds its entry's
event exactly as recorded); the row only finds it fast.

* ``reports`` — one row per report: who filed it (the member and the user), whom it
  accuses, when, its ``report.filed`` entry and that entry's event (canonical JSON); once
  answered, when, by whom, the ``report.answered`` entry and its event.

Created by migration ``0016``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["Report"]


class Report(Base):
    """A report and, once there is one, its answer. ``content`` and ``answer`` are the
    canonical JSON of the events of entries ``entry`` and ``answer_entry``."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(18), primary_key=True)
    filer: Mapped[str] = mapped_column(String(64), index=True)
    accused: Mapped[str] = mapped_column(String(64), index=True)
    filed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_reports_filed_by"), nullable=True
    )
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger, index=True)
    content: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_reports_answered_by"), nullable=True
    )
    answer_entry: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
