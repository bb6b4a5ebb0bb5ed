"""The service's database: models, engines, migrations and the record's log storage.

>>> from accord.center.db import make_engine, upgrade
>>> upgrade(make_engine("sqlite://")) == head_revision()
True
"""

from __future__ import annotations

from accord.center.db.engine import WRITE, is_sqlite, make_engine, writer
from accord.center.db.logstore import ConnectionProvider, SQLAlchemyLogStorage
from accord.center.db.migrate import current_revision, head_revision, upgrade
from accord.center.db.models import (
    Base,
    Confirmation,
    Declaration,
    Event,
    IdempotentAnswer,
    Opening,
    RecordAuthor,
    RecordHead,
    RecordLeaf,
    RecordMeta,
    RecordNode,
    Role,
    User,
    VerifiedCheckpoint,
)
from accord.center.db.models_airspace import AirspaceAck, AirspaceAlertGroup, TrackRow
from accord.center.db.models_certificates import CotCertificate
from accord.center.db.models_checks import CheckOpening
from accord.center.db.models_declarations import Acknowledgement, DeclarationChange, DeviceUid
from accord.center.db.models_directline import Message, Recipient
from accord.center.db.models_drafts import Draft, DraftChange
from accord.center.db.models_escalation import Contacts, EscalationStep, Presence
from accord.center.db.models_operations import OperationRow
from accord.center.db.models_probing import ProbeState, ProbeTouch
from accord.center.db.models_reports import Report
from accord.center.db.models_signing import ActNonce, KeyEntry, KeyOffer

__all__ = [
    "WRITE",
    "Acknowledgement",
    "ActNonce",
    "AirspaceAck",
    "AirspaceAlertGroup",
    "Base",
    "CheckOpening",
    "Confirmation",
    "ConnectionProvider",
    "Contacts",
    "CotCertificate",
    "Declaration",
    "DeclarationChange",
    "DeviceUid",
    "Draft",
    "DraftChange",
    "EscalationStep",
    "Event",
    "IdempotentAnswer",
    "KeyEntry",
    "KeyOffer",
    "Message",
    "Opening",
    "OperationRow",
    "Presence",
    "ProbeState",
    "ProbeTouch",
    "Recipient",
    "RecordAuthor",
    "RecordHead",
    "RecordLeaf",
    "RecordMeta",
    "RecordNode",
    "Report",
    "Role",
    "SQLAlchemyLogStorage",
    "TrackRow",
    "User",
    "VerifiedCheckpoint",
    "current_revision",
    "head_revision",
    "is_sqlite",
    "make_engine",
    "upgrade",
    "writer",
]
