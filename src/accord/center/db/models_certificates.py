"""The TAK client certificates the center issued (:mod:`accord.center.certificates`).

* ``cot_certificates`` — one row per certificate: its serial (lowercase hex) and SHA-256
  fingerprint, the user it names, when it was issued and ends, when it was revoked, and the
  record entries that say so (``cot.certificate_issued``, ``cot.certificate_revoked``).
  Never a key: the center holds none of a party's (DECISIONS 7).

Every node reads the same rows (DECISIONS 15): a revocation made on one is refused on all.
Created by migration ``0018``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["CotCertificate"]


class CotCertificate(Base):
    """A client certificate issued by the center's CoT CA."""

    __tablename__ = "cot_certificates"

    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_cot_certificates_user"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    entry: Mapped[int] = mapped_column(BigInteger)
    revoked_entry: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
