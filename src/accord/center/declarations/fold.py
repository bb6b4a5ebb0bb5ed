"""How the picture's replay folds the record entries of declarations
(:mod:`accord.center.declarations.entries` declares each kind with its fold here): every
declaration as the record tells it (:data:`DECLARATIONS`), and the hidden entries the fold
could not open (:data:`UNOPENED`).

An entry about a hidden declaration (``declaration.hidden``) names no declaration: its fold
learns which one it changed, and how, from its opening alone (checked against the entry's
commitment before the fold reads it: the replay's ``openings``), so one without an opening
is kept in :data:`UNOPENED` and changes nothing. An older log's hidden entry
(``declaration.created`` with a commitment to the feature) names its declaration; its
opening is checked where it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accord.agreement import Agreement
from accord.center.entry_kinds import Part, Recorded, Replaying
from accord.world import Disclosure

__all__ = [
    "DECLARATIONS",
    "UNOPENED",
    "Ack",
    "DeclarationState",
    "acknowledged",
    "amended",
    "created",
    "hidden",
    "withdrawn",
]


@dataclass(slots=True)
class Ack:
    """A party's receipt of one version of a notifier's declaration."""

    member: str
    version: int
    content_hash: str
    at: datetime
    entry: int


@dataclass(slots=True)
class DeclarationState:
    """A declaration as the record tells it: ``content`` for a ``shared`` one, only
    ``commitment`` (and the entry that holds it) for a ``center`` one; and ``opened``, a
    ``center`` one's feature as its ``declaration.hidden`` entry's opening holds it (the
    center's copy, checked against the entry's commitment before the fold read it). A
    ``center`` declaration of an older log (``declaration.created`` with a commitment to
    the feature alone) has ``opened`` None: its opening is checked where it is shown."""

    id: str
    kind: str
    owner: str
    disclosure: str
    version: int
    content: dict[str, Any] | None
    commitment: str | None
    entry: int
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None = None
    acks: list[Ack] = field(default_factory=list)
    opened: dict[str, Any] | None = None

    @property
    def in_force(self) -> bool:
        """Whether it has not been withdrawn."""
        return self.withdrawn_at is None


def _withdrawn(_agreement: Agreement, d: DeclarationState, _at: datetime) -> bool:
    """A withdrawn declaration is never in force again: no picture shows it."""
    return d.withdrawn_at is not None


DECLARATIONS: Part[dict[str, DeclarationState]] = Part(
    "declarations", dict, shape=dict[str, DeclarationState], done=_withdrawn
)
"""Every declaration the record tells of, by id (those withdrawn set aside:
:attr:`~accord.center.entry_kinds.Part.done`)."""
UNOPENED: Part[list[int]] = Part("unopened hidden entries", list, shape=list[int])
"""The indices of the ``declaration.hidden`` entries without a checked opening."""


def created(replay: Replaying, record: Recorded) -> bool:
    """``declaration.created``: a new declaration, its feature in clear (or, in an older
    log, a hidden one's commitment)."""
    event = record.event
    object_id = str(event["id"])
    if replay.known(DECLARATIONS, object_id):
        return False
    replay.part(DECLARATIONS)[object_id] = DeclarationState(
        id=object_id,
        kind=str(event["object_kind"]),
        owner=record.author,
        disclosure=str(event["disclosure"]),
        version=int(event["version"]),
        content=event.get("content"),
        commitment=event.get("commitment"),
        entry=record.index,
        declared_at=record.at,
        updated_at=record.at,
    )
    return True


def acknowledged(replay: Replaying, record: Recorded) -> bool:
    """``declaration.acknowledged``: a party's receipt of a known declaration."""
    event = record.event
    found = replay.find(DECLARATIONS, str(event["id"]))
    if found is None:
        return False
    found.acks.append(
        Ack(
            record.author,
            int(event["version"]),
            str(event["content_hash"]),
            record.at,
            record.index,
        )
    )
    return True


def _owned(replay: Replaying, record: Recorded) -> DeclarationState | None:
    """The declaration ``record`` names, when its author owns it and it is in force."""
    found = replay.find(DECLARATIONS, str(record.event["id"]))
    if found is None or record.author != found.owner or not found.in_force:
        return None
    return found


def amended(replay: Replaying, record: Recorded) -> bool:
    """``declaration.amended``: its owner's next version of a declaration in force."""
    found = _owned(replay, record)
    if found is None:
        return False
    event = record.event
    found.version = int(event["version"])
    found.content = event.get("content")
    found.commitment = event.get("commitment")
    found.opened = None
    found.entry = record.index
    found.updated_at = record.at
    return True


def withdrawn(replay: Replaying, record: Recorded) -> bool:
    """``declaration.withdrawn``: its owner withdraws a declaration in force."""
    found = _owned(replay, record)
    if found is None:
        return False
    found.withdrawn_at = record.at
    found.updated_at = record.at
    return True


def hidden(replay: Replaying, record: Recorded) -> bool:
    """``declaration.hidden``: a change of a ``center`` declaration, folded from the
    entry's checked opening (none: the entry is kept in :data:`UNOPENED`, and fits)."""
    opened = replay.openings.get(record.index)
    if opened is None:
        replay.part(UNOPENED).append(record.index)
        return True
    action, object_id = str(opened["action"]), str(opened["id"])
    kind, version = str(opened["object_kind"]), int(opened["version"])
    content = opened["content"]
    if not isinstance(content, dict):
        return False
    committed = str(record.event["commitment"])
    if action == "created":
        if replay.known(DECLARATIONS, object_id) or version != 1:
            return False
        replay.part(DECLARATIONS)[object_id] = DeclarationState(
            id=object_id,
            kind=kind,
            owner=record.author,
            disclosure=Disclosure.CENTER.value,
            version=version,
            content=None,
            commitment=committed,
            entry=record.index,
            declared_at=record.at,
            updated_at=record.at,
            opened=dict(content),
        )
        return True
    found = replay.find(DECLARATIONS, object_id)
    if (
        found is None
        or record.author != found.owner
        or not found.in_force
        or found.disclosure != Disclosure.CENTER.value
        or found.kind != kind
    ):
        return False
    if action == "amended" and version == found.version + 1:
        found.version = version
        found.commitment = committed
        found.opened = dict(content)
        found.entry = record.index
        found.updated_at = record.at
        return True
    if action == "withdrawn" and version == found.version:
        found.withdrawn_at = record.at
        found.updated_at = record.at
        return True
    return False
