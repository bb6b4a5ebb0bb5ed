"""Signing's tables (:mod:`accord.center.signing`): what the center must remember of the
parties' signed acts.

* ``act_nonces`` — the nonce of every act taken in, the record entry that holds it, and the
  act's opening (the ``salt`` and the JSON ``body`` its seal binds: the record holds the seal
  alone, DECISIONS 11): an act whose nonce is here is a replay (DECISIONS 10), refused. Kept
  as long as the record;
* ``key_entries`` — the record entries that change who may sign (``agreement.signed``,
  ``key.registered``, ``key.revoked``), in record order: the center folds them into its
  :class:`~accord.record.registry.KeyRegistry` (a few rows per user, read again whenever
  another unit or node added one);
* ``key_offers`` — public keys a user's device offers for certification. Not trusted, not
  recorded: the party's root holder compares the fingerprint with the device's before
  signing a registration, and only that registration makes the key count.

Created by migration ``0014``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.center.db.models import Base, UTCDateTime

__all__ = ["ActNonce", "KeyEntry", "KeyOffer"]

_Index = BigInteger().with_variant(Integer(), "sqlite")


class ActNonce(Base):
    """The nonce of an act taken in, its entry, and its opening."""

    __tablename__ = "act_nonces"

    nonce: Mapped[str] = mapped_column(String(96), primary_key=True)
    entry: Mapped[int] = mapped_column(_Index)
    salt: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)


class KeyEntry(Base):
    """A record entry that changes who may sign: its ``kind``, the acting ``member`` and
    ``user``, the ``signer`` (key id) of its act, and the act's ``body`` (JSON)."""

    __tablename__ = "key_entries"

    entry: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    member: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)


class KeyOffer(Base):
    """A public key a user's device offers for certification."""

    __tablename__ = "key_offers"
    __table_args__ = (UniqueConstraint("key_id", name="uq_key_offers_key_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_key_offers_user"))
    member: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())
