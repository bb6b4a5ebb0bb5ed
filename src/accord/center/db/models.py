"""The service's tables as typed SQLAlchemy 2 models.

Two groups live in one database so that a request commits its own rows and its record entry
in one transaction:

* the service's rows: ``users`` (who may call the API, with only a hash of the bearer
  token), ``confirmations`` (phase conditions confirmed by a member), ``declarations``
  (sites, movements, positions and flight plans in force or withdrawn), ``openings`` (the
  salts and contents behind the record's commitments to ``center`` objects, for their
  owners only), ``events`` (what live subscribers are told, each with its audience) and
  ``idempotency`` (the first answer to each ``Idempotency-Key``);
* the record (the layout of :class:`accord.record.log.SQLiteStorage`, prefixed
  ``record_``): ``record_meta``, ``record_leaves``, ``record_nodes``, ``record_heads``, and
  ``record_authors``, each author's last entry sequence number (so that the next one is
  known without reading the log).

The schema itself is created by the Alembic migrations (``accord.center.migrations``); a
test holds the two to each other.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from accord.center.roles import Role

__all__ = [
    "Base",
    "Confirmation",
    "Declaration",
    "Event",
    "IdempotentAnswer",
    "JudgeCheckpoint",
    "JudgeCheckpointPart",
    "Opening",
    "PictureSnapshot",
    "RecordAuthor",
    "RecordHead",
    "RecordLeaf",
    "RecordMeta",
    "RecordNode",
    "RecordWitness",
    "Restore",
    "Role",
    "UTCDateTime",
    "User",
    "VerifiedCheckpoint",
]


_ROLES = ", ".join(f"'{role.value}'" for role in Role)

# A 64-bit integer key that is SQLite's rowid (INTEGER PRIMARY KEY) there and BIGINT elsewhere.
_Index = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant stored in UTC and read back aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("a time without an offset is refused")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base of every table the service keeps."""


class User(Base):
    """A person who calls the API: a name, the member they act for, a role, and the SHA-256
    of their bearer token (hex). The token itself is never stored. A token may expire
    (``expires_at``); a removed user keeps the row (``removed_at``), so the name stays taken
    and no token of it opens the service again."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLES})", name="ck_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    member: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Confirmation(Base):
    """A member confirmed an agreement condition (e.g. aid delivered) at an instant; the
    record entry that says so is ``entry``."""

    __tablename__ = "confirmations"
    __table_args__ = (
        UniqueConstraint("condition", "member", name="uq_confirmations_condition_member"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    condition: Mapped[str] = mapped_column(String(64))
    member: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_confirmations_user"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry: Mapped[int] = mapped_column(BigInteger)


class RecordMeta(Base):
    """The log's settings: ``format``, ``schema_version``, ``origin``."""

    __tablename__ = "record_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RecordLeaf(Base):
    """One entry of the log: its opaque bytes and RFC 9162 leaf hash."""

    __tablename__ = "record_leaves"

    idx: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class RecordNode(Base):
    """A perfect subtree hash of level 1 and up (level 0 is the leaf hash)."""

    __tablename__ = "record_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class RecordHead(Base):
    """A tree head signed by the center; ``note`` gathers the parties' cosignatures."""

    __tablename__ = "record_heads"

    size: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)


class RecordWitness(Base):
    """What the center knows of a party's witness (keyed by the witness's key name): the
    largest head size it cosigned (only ever moved forward, so that several server processes
    asking one witness cannot roll it back), that cosignature's time, and the last failure
    to get a cosignature (cleared by the next success)."""

    __tablename__ = "record_witnesses"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    party: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    cosigned_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class VerifiedCheckpoint(Base):
    """How far this center verified its record (issue 24): the size, the root of that prefix,
    the last leaf's hash, each author's last sequence number and the latest signed times
    (``latest``: zlib of the little-endian int64 microseconds, one per entry), signed by the
    center's key (:mod:`accord.center.picture.checkpoints`), so that a restart resumes there
    once the stored leaf hashes fold to ``root`` again."""

    __tablename__ = "verified_checkpoints"

    size: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    prev: Mapped[str] = mapped_column(String(64))
    sequences: Mapped[str] = mapped_column(Text)
    latest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class PictureSnapshot(Base):
    """The picture's folded state at ``size`` entries for one ``member`` (issue 24): the
    state the record's first ``size`` entries fold to with that member's hidden declarations
    opened (``member`` empty: with none opened), ``body`` as
    :mod:`accord.center.picture.snapshots` writes it (``form``: the fingerprint of the
    state's types; ``objects``: how many objects it holds), signed by the center's key with
    the prefix's ``root``."""

    __tablename__ = "picture_snapshots"

    size: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    member: Mapped[str] = mapped_column(String(128), primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    form: Mapped[str] = mapped_column(String(64))
    objects: Mapped[int] = mapped_column(_Index)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class PictureAside(Base):
    """One object a picture's replay set aside as done (issue 24), stored once however many
    snapshots hold it: ``body`` as :class:`~accord.center.picture.replay.Replay` keeps it,
    found by ``digest``, its SHA-256 (hex), which the signed snapshots name and which is
    checked again when it is read back."""

    __tablename__ = "picture_aside"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class JudgeCheckpoint(Base):
    """The compliance judge folded up to ``size`` entries (issue 24), as
    :mod:`accord.center.picture.judge_checkpoints` writes it: its body is the ``parts`` rows
    of :class:`JudgeCheckpointPart` under ``digest`` (the SHA-256 of ``part_digests``, each
    part's SHA-256 in order), signed
    by the center's key with the prefix's ``root``, the code's ``form`` and the
    ``agreement``'s digest."""

    __tablename__ = "judge_checkpoints"

    size: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    form: Mapped[str] = mapped_column(String(64))
    agreement: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    parts: Mapped[int] = mapped_column(_Index)
    part_digests: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class JudgeCheckpointPart(Base):
    """One part (``part``: 0, 1, …) of the body of the judge's checkpoint at ``size`` whose
    body hashes to ``digest``: written a part per transaction, so that no write holds the
    database for the whole body."""

    __tablename__ = "judge_checkpoint_parts"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(_Index)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class RecordAuthor(Base):
    """The sequence number of an author's last entry in the log."""

    __tablename__ = "record_authors"

    author: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class Declaration(Base):
    """A declared object as the service keeps it: its GeoJSON Feature (the form
    :func:`accord.world.parse_world` reads, with ``properties.id`` the row's ``id`` and
    ``declared_by`` the owner), who owns it, who may see it, and where it stands.

    ``rev`` is a counter over all declarations, raised by every create, amend and withdraw
    (writers are serialised), so that a reader holding the world at ``rev`` R fetches only
    the rows with ``rev > R`` to catch up. ``entry`` is the record entry of the latest change.
    """

    __tablename__ = "declarations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('protected_site', 'movement', 'position', 'flight_plan')",
            name="ck_declarations_kind",
        ),
        CheckConstraint("disclosure IN ('shared', 'center')", name="ck_declarations_disclosure"),
        CheckConstraint("status IN ('active', 'withdrawn')", name="ck_declarations_status"),
        UniqueConstraint("rev", name="uq_declarations_rev"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    disclosure: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    rev: Mapped[int] = mapped_column(BigInteger)
    feature: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    entry: Mapped[int] = mapped_column(BigInteger)
    shadow: Mapped[str | None] = mapped_column(Text, nullable=True)
    """A ``center`` object's shadow (:class:`accord.deconfliction.hidden.Shadow`, JSON):
    what other parties' proposals are answered against."""


class Opening(Base):
    """What opens the commitment in record entry ``entry``: the salt and the canonical JSON
    of the committed content. Only ``owner`` is ever shown it (the owner should also keep
    its own copy: the opening is the owner's proof, not the center's)."""

    __tablename__ = "openings"

    entry: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    commitment: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    content: Mapped[str] = mapped_column(Text)


class Event(Base):
    """One live event: its kind, when, the members who may see it (``audience``, a JSON
    list of member ids) and its payload (JSON, already cut to what that audience may see).
    Written in the same transaction as the change it announces."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(_Index, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)


class IdempotentAnswer(Base):
    """The first answer to a POST carrying ``Idempotency-Key``: a retry of the same request
    by the same user gets it again and changes nothing. ``fingerprint`` is the SHA-256 (hex)
    of the method, path and body of the first request."""

    __tablename__ = "idempotency"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", name="fk_idempotency_user"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Restore(Base):
    """A restore that made this database (``accord db restore``): when, the backup's size,
    the record's size after it, how many of its entries were recovered from the monitors'
    copies and redone, and what of them could not be (``notes``, a JSON list). An act
    signed at or before the latest restore is refused: its nonce may be one the backup
    lost (:func:`accord.center.acts.accept`)."""

    __tablename__ = "restores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    backup_size: Mapped[int] = mapped_column(_Index)
    size: Mapped[int] = mapped_column(_Index)
    recovered: Mapped[int] = mapped_column(_Index)
    notes: Mapped[str] = mapped_column(Text)
