"""The tables the declarations resource adds to :mod:`accord.center.db.models`.

* ``declaration_changes`` — one row per record entry about a declaration (created, amended,
  withdrawn, acknowledged): which declaration, which version, by which member, when, and the
  reason of a withdrawal. It is the index from a declaration to its entries (the owner's
  openings, the history), so that nothing has to scan the record;
* ``acknowledgements`` — a party's receipt of one version of a humanitarian notifier's site
  or movement, naming the SHA-256 of exactly that version's canonical content. A receipt,
  never an approval;
* ``device_uids`` — each TAK device uid a position ever carried (``properties.device.uid``),
  the member that first declared it (it stays that member's, forever: a uid first seen from
  one party is never moved by another) and the declaration that carries it now.

Created by migrations ``0005`` and ``0019`` (``device_uids``).
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

__all__ = ["Acknowledgement", "DeclarationChange", "DeviceUid"]

_Index = BigInteger().with_variant(Integer(), "sqlite")

CHANGES = ("created", "amended", "withdrawn", "acknowledged")
"""What a change row records (the record event kind is ``declaration.<change>``)."""

_CHANGE_NAMES = ", ".join(f"'{change}'" for change in CHANGES)


class DeclarationChange(Base):
    """Record entry ``entry`` is about declaration ``declaration_id`` at ``version``: its
    ``change``, by ``member`` (the entry's author) at ``at``; ``reason`` for a withdrawal."""

    __tablename__ = "declaration_changes"
    __table_args__ = (
        CheckConstraint(f"change IN ({_CHANGE_NAMES})", name="ck_declaration_changes_change"),
    )

    entry: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    declaration_id: Mapped[str] = mapped_column(
        ForeignKey("declarations.id", name="fk_declaration_changes_declaration"), index=True
    )
    change: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    member: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Acknowledgement(Base):
    """``member`` acknowledged ``version`` of a notifier's declaration, whose canonical
    content hashes to ``content_hash`` (SHA-256, hex), at ``acknowledged_at``; record entry
    ``entry``. Each member acknowledges each version once."""

    __tablename__ = "acknowledgements"
    __table_args__ = (
        UniqueConstraint(
            "declaration_id", "version", "member", name="uq_acknowledgements_version_member"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    declaration_id: Mapped[str] = mapped_column(
        ForeignKey("declarations.id", name="fk_acknowledgements_declaration"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    member: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_acknowledgements_user"), nullable=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger)


class DeviceUid(Base):
    """Device ``uid`` is ``member``'s (the first to declare a position carrying it), and its
    latest position is ``declaration_id``. Never deleted: withdrawn or not, the uid stays."""

    __tablename__ = "device_uids"

    uid: Mapped[str] = mapped_column(String(100), primary_key=True)
    member: Mapped[str] = mapped_column(String(64))
    declaration_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("declarations.id", name="fk_device_uids_declaration")
    )
