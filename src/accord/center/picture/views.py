"""The picture's and the compliance report's response models, and the functions that build
the picture's parts from a :class:`~accord.center.picture.replay.Replay` as one caller may
see them (:mod:`accord.center.visibility`): :func:`declarations_at`, :func:`operations_at`,
:func:`messages_read`, and :func:`proof` — the prefix's root with a tree head signed by the
center to check it against.

**Status at the instant.** Each operation entry records the status the step led to; time
alone (a window expiring, an objection window closing, a notification falling overdue)
moves an operation without an entry, so :func:`operations_at` settles the folded state to
the instant with :func:`accord.rules.operations.settle` — the same pure function the live
resource uses. ``recorded_status`` is the status of the latest entry as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center import visibility
from accord.center.declarations.fold import DECLARATIONS, DeclarationState
from accord.center.directline.fold import MessageRecord
from accord.center.entry_kinds import Part
from accord.center.identity import Caller
from accord.center.operations.entries import transition_json
from accord.center.operations.fold import OPERATIONS, OperationRecord, shown_at
from accord.center.phases.views import PhaseOut
from accord.center.picture.replay import Replay
from accord.center.picture.verified import verified_checks, verified_opening, verified_openings
from accord.center.record.heads import latest_head
from accord.center.reports.views import ReportOut
from accord.center.runtime import Center
from accord.chrono import micros
from accord.geo import geometry_bounds
from accord.record.canonical import encode_base64
from accord.record.note import verify_checkpoint

__all__ = [
    "PARKED",
    "AckOut",
    "AnomalyAt",
    "Bounds",
    "ComplianceOut",
    "DeclarationAt",
    "Finding",
    "HeadRef",
    "MessageAt",
    "OperationAt",
    "PartyReport",
    "PictureOut",
    "RecipientAt",
    "Seen",
    "declaration_at",
    "declaration_index",
    "declarations_at",
    "declarations_seen",
    "feature_bounds",
    "instant_json",
    "messages_read",
    "messages_seen",
    "operation_at",
    "operation_index",
    "operations_at",
    "operations_seen",
    "proof",
    "reports_json",
    "seen_by",
]


# --- the picture ----------------------------------------------------------------------------


class HeadRef(BaseModel):
    """The prefix a picture was built from, and a tree head signed by the center to check
    it against: at exactly that size when one was signed, else the newest (signed for the
    picture when none covered the prefix)."""

    entries: int
    root: str
    head_size: int
    head_root: str
    head_timestamp: int
    note: str


class AckOut(BaseModel):
    """A party's receipt of one version of a notifier's declaration."""

    member: str
    version: int
    content_hash: str
    at: datetime
    entry: int


class DeclarationAt(BaseModel):
    """A declaration in force at the instant. ``verified``: the feature is the signed
    record's own (``shared``) or an opening that checks against the record's commitment
    (``center``); an opening that does not check gives ``feature`` null."""

    id: str
    kind: str
    owner: str
    disclosure: str
    version: int
    feature: dict[str, Any] | None
    verified: bool
    commitment: str | None
    declared_at: datetime
    updated_at: datetime
    entry: int
    acknowledgements: list[AckOut]


class OperationAt(BaseModel):
    """An operation at the instant: ``status`` settled to it, ``recorded_status`` as its
    latest entry wrote it; conflicts as the record holds them."""

    id: str
    category: str
    proposed_by: str
    status: str
    recorded_status: str
    version: int
    feature: dict[str, Any]
    conflicts: list[dict[str, Any]]
    proposed_at: datetime
    updated_at: datetime
    entry: int
    entries: list[int]
    history: list[dict[str, Any]]


class RecipientAt(BaseModel):
    """Where one recipient stood at the instant."""

    party: str
    acknowledged_at: datetime | None
    acknowledged_hash: str | None
    acknowledged_entry: int | None
    level: int
    overdue: bool
    escalations: list[int]


class MessageAt(BaseModel):
    """An open direct-line message at the instant. ``content`` (opened and checked against
    the record's commitment) for its sender and recipients; null for monitors, and null
    with ``verified`` false when the opening does not check."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    to: list[str]
    sent_at: datetime
    ack_deadline: datetime
    entry: int
    commitment: str
    content: dict[str, Any] | None
    verified: bool | None
    recipients: list[RecipientAt]
    check: dict[str, Any] | None = Field(
        default=None,
        description=(
            "what the center's check of the message's geometry showed the caller's party, "
            "opened and checked against its commitment in the record's message.checked "
            "entry (null for anyone else, or when it does not check)"
        ),
    )


class AnomalyAt(BaseModel):
    """A record entry the picture could not fold, and why."""

    entry: int
    reason: str


class PictureOut(BaseModel):
    """What the caller could see at ``at``, rebuilt from the record alone."""

    at: datetime
    member: str
    view: str = Field(description="party, shared (monitors) or own (notifiers)")
    proof: HeadRef
    phase: PhaseOut | None
    confirmations: dict[str, datetime]
    declarations: list[DeclarationAt]
    unverified: list[int] = Field(
        description=(
            "record entries about the caller's member's own hidden declarations whose "
            "opening, as the center keeps it, does not check against the entry: the "
            "picture cannot say which declaration they changed, nor how (on the first "
            "page only)"
        )
    )
    operations: list[OperationAt] = Field(
        description=(
            "the operations in course at the instant, and those that ended less than a day "
            "before it (or that the record told of since): older ones are in the record and "
            "the operations' own list"
        )
    )
    messages: list[MessageAt]
    anomalies: list[AnomalyAt] = Field(
        description=(
            "record entries the picture could not fold, each with why: a kind no feature "
            "declares, fields its kind does not have, a member's act signed by the center "
            "(or the reverse), or a step that does not fit the entries before it "
            "(on the first page only)"
        )
    )
    next: str | None = Field(
        default=None,
        description=(
            "the cursor of the next page (pass it as `after`, with the same `at`, `bbox`, "
            "`kinds` and `limit`), or null when this page is the last"
        ),
    )


def proof(center: Center, size: int) -> HeadRef:
    """The root of the prefix of ``size`` entries and the signed head to check it against:
    the one stored at exactly that size, else the newest stored one, when it covers the
    prefix; signed now only when none does (so that pictures pulled back to back of a
    record that grows do not each sign a head)."""
    with center.reading() as session:
        log = center.log(session)
        root = log.root(size)
        stored = next((h for h in log.heads() if h.size == size), None) or log.latest_head()
    head = (
        latest_head(center)
        if stored is None or stored.size < size
        else verify_checkpoint(stored.note, origin=center.origin, center=center.ring.center)
    )
    return HeadRef(
        entries=size,
        root=encode_base64(root),
        head_size=head.size,
        head_root=encode_base64(head.root),
        head_timestamp=head.timestamp,
        note=head.note,
    )


@dataclass(frozen=True, slots=True)
class Seen:
    """A declaration in force that one caller sees, with the feature that caller reads:
    ``verified`` false (and ``feature`` None) when a ``center`` one's opening does not check."""

    state: DeclarationState
    feature: dict[str, Any] | None
    verified: bool


def declarations_seen(session: Session, replay: Replay, caller: Caller) -> Iterator[Seen]:
    """The declarations in force in ``replay`` that ``caller`` sees, by id: a ``center``
    one's feature from its checked opening (null, ``verified`` false, when it does not
    check). Nothing is built for the answer yet (:func:`declaration_at`)."""
    for d in sorted(replay.declarations.values(), key=lambda d: d.id):
        found = seen_by(session, d, caller)
        if found is not None:
            yield found


def seen_by(session: Session, d: DeclarationState, caller: Caller) -> Seen | None:
    """``d`` as ``caller`` sees it, or None when it is not in force or not theirs to see."""
    if not d.in_force or not visibility.sees_object(caller, owner=d.owner, disclosure=d.disclosure):
        return None
    feature: dict[str, Any] | None
    if visibility.in_clear(d.disclosure):
        feature, verified = d.content, d.content is not None
    elif d.opened is not None:  # checked against the record when folded
        feature, verified = d.opened, True
    else:
        opened = (
            None
            if d.commitment is None
            else verified_opening(session, d.owner, d.entry, d.commitment)
        )
        feature = opened if isinstance(opened, dict) else None
        verified = feature is not None
    return Seen(d, feature, verified)


Bounds = tuple[float, float, float, float] | tuple[()]
"""Where a feature lies, ``(west, south, east, north)``; ``()`` when it has no position."""


def feature_bounds(feature: Any) -> Bounds:
    """The bounds of a GeoJSON feature (``()``: none, or not a feature)."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    bounds = geometry_bounds(geometry)
    return () if bounds is None else bounds


def declaration_index(d: DeclarationState) -> tuple[bool, str, str, str, Bounds | None]:
    """What a picture's selection needs of a parked declaration (:meth:`Replay.park`):
    whether it is in force, its owner, disclosure and kind, and the bounds of the feature
    :func:`seen_by` gives — None when that is read at the picture (a ``center`` one not
    opened when folded: its opening is checked then)."""
    if visibility.in_clear(d.disclosure):
        bounds: Bounds | None = feature_bounds(d.content)
    elif d.opened is not None:
        bounds = feature_bounds(d.opened)
    else:
        bounds = None
    return (d.in_force, d.owner, d.disclosure, d.kind, bounds)


def operation_index(o: OperationRecord) -> tuple[int, str, int, Bounds]:
    """What a picture's selection needs of a parked operation: when it was proposed and
    last told of (µs since 1970, for the order and :func:`shown_at`'s first test), its
    category and its feature's bounds."""
    return (micros(o.proposed_at), o.category, micros(o.updated_at), feature_bounds(o.feature))


PARKED: dict[Part[Any], Callable[[Any], tuple[Any, ...]]] = {
    DECLARATIONS: declaration_index,
    OPERATIONS: operation_index,
}
"""The parts a snapshot writes an object at a time, and what a picture's selection needs of
each of their objects (:mod:`accord.center.picture.snapshots`)."""


def declaration_at(seen: Seen, caller: Caller) -> DeclarationAt:
    """One declaration as ``caller`` reads it, with only the acknowledgements it may see."""
    d = seen.state
    return DeclarationAt(
        id=d.id,
        kind=d.kind,
        owner=d.owner,
        disclosure=d.disclosure,
        version=d.version,
        feature=seen.feature,
        verified=seen.verified,
        commitment=d.commitment,
        declared_at=d.declared_at,
        updated_at=d.updated_at,
        entry=d.entry,
        acknowledgements=[
            AckOut(
                member=a.member,
                version=a.version,
                content_hash=a.content_hash,
                at=a.at,
                entry=a.entry,
            )
            for a in d.acks
            if visibility.sees_acknowledgement(caller, owner=d.owner, acknowledger=a.member)
        ],
    )


def declarations_at(session: Session, replay: Replay, caller: Caller) -> Iterator[DeclarationAt]:
    """Every declaration :func:`declarations_seen` finds, as ``caller`` reads it."""
    for seen in declarations_seen(session, replay, caller):
        yield declaration_at(seen, caller)


def operations_seen(replay: Replay, at: datetime) -> list[OperationRecord]:
    """The operations in ``replay`` a picture at ``at`` shows, oldest first: those in course
    and those that ended lately (:func:`~accord.center.operations.fold.shown_at`; who reads
    operations: :func:`~accord.center.visibility.reads_operations`)."""
    return sorted(
        (o for o in replay.operations.values() if shown_at(o, replay.agreement, at)),
        key=lambda o: (o.proposed_at, o.id),
    )


def operation_at(op: OperationRecord, agreement: Agreement, at: datetime) -> OperationAt:
    """One operation, its status settled to ``at``."""
    state = op.settled(agreement, at)
    history = list(op.history)
    if state is not None and len(state.history) > len(history):
        history += [transition_json(t) for t in state.history[len(history) :]]
    return OperationAt(
        id=op.id,
        category=op.category,
        proposed_by=op.proposed_by,
        status=op.status if state is None else state.status.value,
        recorded_status=op.status,
        version=op.version,
        feature=op.feature,
        conflicts=op.conflicts,
        proposed_at=op.proposed_at,
        updated_at=op.updated_at,
        entry=op.entry,
        entries=list(op.entries),
        history=history,
    )


def operations_at(replay: Replay, at: datetime) -> Iterator[OperationAt]:
    """Every operation :func:`operations_seen` finds, its status settled to ``at``."""
    for op in operations_seen(replay, at):
        yield operation_at(op, replay.agreement, at)


def messages_seen(replay: Replay, caller: Caller) -> list[MessageRecord]:
    """The messages open in ``replay`` that ``caller`` sees, oldest first."""
    return [
        m
        for m in sorted(replay.messages.values(), key=lambda m: (m.sent_at, m.id))
        if m.open and visibility.sees_message(caller, sender=m.sender, recipients=m.to)
    ]


def messages_read(
    session: Session, messages: Sequence[MessageRecord], caller: Caller
) -> list[MessageAt]:
    """Each of ``messages`` (open ones) as ``caller`` reads it: the content opened and checked
    for its sender and recipients only, and the center's check of it as shown to
    ``caller``'s member; the openings of them all read at once
    (:func:`~accord.center.picture.verified.verified_openings`)."""
    member = caller.member
    contents = verified_openings(
        session,
        [
            (m.sender, m.entry, m.commitment)
            for m in messages
            if visibility.reads_message_content(caller, sender=m.sender, recipients=m.to)
        ],
    )
    checks = verified_checks(
        session,
        member,
        [
            (m.checked_entry, m.checks[member])
            for m in messages
            if m.checked_entry is not None and member in m.checks
        ],
    )
    return [_message_at(m, caller, contents, checks) for m in messages]


def _message_at(
    m: MessageRecord, caller: Caller, contents: dict[int, Any], checks: dict[int, Any]
) -> MessageAt:
    content: dict[str, Any] | None = None
    verified: bool | None = None
    if visibility.reads_message_content(caller, sender=m.sender, recipients=m.to):
        opened = contents.get(m.entry)
        content = opened if isinstance(opened, dict) else None
        verified = content is not None
    check = None
    if m.checked_entry is not None and caller.member in m.checks:
        check = checks.get(m.checked_entry)
    recipients = []
    for party in m.to:
        receipt = m.receipts.get(party)
        steps = m.steps.get(party, [])
        recipients.append(
            RecipientAt(
                party=party,
                acknowledged_at=None if receipt is None else receipt.at,
                acknowledged_hash=None if receipt is None else receipt.content_hash,
                acknowledged_entry=None if receipt is None else receipt.entry,
                level=max((s.level for s in steps), default=0),
                overdue=any(s.kind == "overdue" for s in steps),
                escalations=[s.entry for s in steps],
            )
        )
    return MessageAt(
        id=m.id,
        from_=m.sender,
        to=list(m.to),
        sent_at=m.sent_at,
        ack_deadline=m.ack_deadline,
        entry=m.entry,
        commitment=m.commitment,
        content=content,
        verified=verified,
        recipients=recipients,
        check=check if isinstance(check, dict) else None,
    )


# --- compliance -----------------------------------------------------------------------------


class Finding(BaseModel):
    """One compliance finding against ``party``. ``subject``: the operation, message or
    declaration it is about (null for a count of ``center`` flight plans); ``entries``: the
    record entries that prove it; ``count``: how many breaches it stands for (more than
    one only for an undisclosed count)."""

    kind: str
    party: str
    subject: str | None
    entries: list[int]
    at: datetime | None
    detail: str
    count: int = 1


class PartyReport(BaseModel):
    """One party's findings, oldest first, and their number per kind."""

    party: str
    findings: list[Finding]
    counts: dict[str, int]


_INSTANT: TypeAdapter[datetime] = TypeAdapter(datetime)
_REPORTS: TypeAdapter[list[ReportOut]] = TypeAdapter(list[ReportOut])


def instant_json(at: datetime) -> bytes:
    """``at`` as a model's JSON writes it."""
    return _INSTANT.dump_json(at)


def reports_json(reports: list[ReportOut]) -> bytes:
    """``reports`` as a model's JSON writes them (a list)."""
    return _REPORTS.dump_json(reports)


class ComplianceOut(BaseModel):
    """Every party's report (or one), judged at ``at`` from the record of ``proof.entries``
    entries; beside them, the incident and violation reports filed and their answers, as
    the same record holds them."""

    at: datetime
    proof: HeadRef
    parties: list[PartyReport]
    reports: list[ReportOut] = Field(
        description=(
            "incident and violation reports filed by monitors and parties against a party "
            'or the center (accused "center"), newest first, each with the accused '
            "party's answer or null (always null against the center): what the record "
            "proves was reported and answered, beside (not among) the findings computed "
            "from it"
        )
    )
