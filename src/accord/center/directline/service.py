"""The direct line: messages between parties, acknowledged by the hash of exactly what was
received, escalated along the receiving party's contact chain when they are not.

In the source story coordinates passed by voice were off by kilometres, the caller waited
27 minutes for the usual point of contact, and afterwards the receiving side said it had
received them while the sending side denied it. So here:

**A message is fixed by the server.** Its *content* is the JSON object ::

    {"id": "m-<16 hex>", "from": party, "to": [parties], "subject": ..., "text": ...,
     "geometry": <GeoJSON geometry, exact coordinates> | null, "refers_to": ... | null,
     "sent_at": "...Z", "ack_deadline": "...Z", "nonce": "<32 hex>"}

and its ``content_hash`` is ``SHA-256(canonical_json(content))`` in lower-case hex
(:func:`accord.record.canonical.canonical_json`). Anyone holding the content recomputes the
hash. ``nonce`` (128 random bits) makes the hash unguessable: the acknowledgement entry names
the hash in the record every party and monitor reads, and without the nonce a reader could
hash candidate texts and grid points until one matched.

**The record pins it; it does not disclose it.** The entry ``message.sent`` (signed by the
sender) holds the id, sender, recipients, times and a salted commitment to the content
(:mod:`accord.record.commitments`), never the text or the geometry. The opening (salt and
content) is kept in ``openings`` (owner: the sender) and served to the sender and the
recipients only (``GET /v1/messages/{id}/opening``), so either side can prove to anyone
holding the record exactly what was sent, and when, without the center's help.

**An acknowledgement names the hash.** A recipient acknowledges by sending back the
``content_hash`` of what it received; a different hash is refused (409, field
``content_hash``). The entry ``message.acknowledged`` (signed by the recipient) holds the id
and the hash: neither side can later deny or rewrite what was acknowledged. An acknowledgement
is a receipt, never an approval.

**Escalation.** A recipient that has not acknowledged by the deadline is escalated along its
contact chain — primary, backup, duty officers in order (``PUT /v1/contacts``) — to the next
contact *present* (a heartbeat, ``POST /v1/presence``, within :data:`PRESENCE_WINDOW`);
absent contacts are skipped and named as skipped. Each step runs a new deadline of
:func:`step_length` (half of ``ack_within``, at least a minute). When no present contact is
left, the recipient is declared overdue (a compliance fact) and stays so until it
acknowledges (late). The decision is the pure function :func:`next_step` of the recipient's
state, its chain and the instant; :func:`escalate_due` applies it to every recipient due, and
runs from a background task and from reads of messages.

Escalation steps are written by the **center**: no party acted, the clock did, so the entries
``message.escalated`` and ``message.overdue`` are signed with the center's own key (the one
that signs tree heads; its name is the log's origin and it is in every key ring, so the
project's verifier checks these entries like any other). Signing them with the recipient's
key would put words in its mouth.

**Who sees what.** Officers and approvers of a party send, receive, acknowledge and keep
the chain. A message is between its sender and its recipients: anyone else gets the same
404 as for an id that does not exist. Monitors see that messages exist and their
acknowledgement state — what the record says — but never content. Notifiers and
administrators see nothing of the direct line (403). Contact names on a recipient's chain are
shown to that party only; the sender sees the escalation's level and role. The rule itself
is the center's one policy (:mod:`accord.center.visibility`: ``sees_message``,
``reads_message_content``); this module applies it.

**Three ways to the database, each for a reason.** Sending and acknowledging are the hot
write path: their rows and the message an acknowledgement names go through prepared
statements on the driver's cursor (:mod:`accord.center.db.fast`: a tenth of the per-statement
cost). Reads of a few columns across many rows (users' names, contacts' heartbeats) are
Core ``select`` statements, which build no objects. Everything else — whole rows read for
answers, escalation's rare writes — is the ORM, where clarity beats microseconds.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Table, and_, bindparam, insert, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from accord.agreement import Agreement
from accord.center import visibility
from accord.center.db.fast import Prepared, PreparedQuery
from accord.center.db.models import Opening, User
from accord.center.db.models_directline import Contacts, Escalation, Message, Presence, Recipient
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.events.store import publish, publish_all
from accord.center.http.problems import ProblemError, hash_mismatch
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.center.users.identity import Caller
from accord.chrono import format_instant, parse_duration
from accord.errors import IllegalTransition, InputError, Issue, NotAuthorized
from accord.record.canonical import canonical_json, content_hash, encode_base64
from accord.record.commitments import SALT_BYTES, commitment

_openings = cast(Table, Opening.__table__)
_messages = cast(Table, Message.__table__)
_recipients = cast(Table, Recipient.__table__)

_INVOLVED = PreparedQuery(
    select(_messages).where(
        _messages.c.id == bindparam("b_id"),
        or_(
            _messages.c.sender == bindparam("b_member"),
            _messages.c.id.in_(
                select(_recipients.c.message_id).where(
                    _recipients.c.message_id == bindparam("b_id"),
                    _recipients.c.recipient == bindparam("b_member"),
                )
            ),
        ),
    )
)
"""A message its sender or one of its recipients may read (one statement, whichever)."""
_RECIPIENTS_OF_ONE = PreparedQuery(
    select(_recipients)
    .where(_recipients.c.message_id == bindparam("b_id"))
    .order_by(_recipients.c.recipient)
)
"""One message's recipients (an acknowledgement's, a view's): read on every change."""
_ACKNOWLEDGE = Prepared(
    update(_recipients).where(
        _recipients.c.message_id == bindparam("b_message"),
        _recipients.c.recipient == bindparam("b_recipient"),
    )
)
_PUT_OPENING = Prepared(insert(_openings))
_PUT_MESSAGE = Prepared(insert(_messages))
_PUT_RECIPIENTS = Prepared(insert(_recipients))
_users = cast(Table, User.__table__)
_NAMES = select(_users.c.id, _users.c.name).where(
    _users.c.id.in_(bindparam("b_ids", expanding=True))
)

__all__ = [
    "ACKNOWLEDGED_EVENT",
    "ACK_WITHIN_DEFAULT",
    "ACK_WITHIN_MAX",
    "ACK_WITHIN_MIN",
    "ESCALATED_EVENT",
    "MAX_POSITIONS",
    "OVERDUE_EVENT",
    "PRESENCE_WINDOW",
    "SENT_EVENT",
    "STEP_MIN",
    "Contact",
    "ContactOut",
    "ContactsOut",
    "Draft",
    "EscalationOut",
    "MessageOut",
    "OpeningOut",
    "Pending",
    "PresenceOut",
    "RecipientOut",
    "Step",
    "acknowledge",
    "chains_of",
    "check_draft",
    "check_geometry",
    "contacts_of",
    "content_hash",
    "escalate_due",
    "escalation_loop",
    "heartbeat",
    "list_messages",
    "message_view",
    "next_step",
    "opening_of",
    "send",
    "set_contacts",
    "step_length",
    "step_payloads",
    "written_view",
]

SENT_EVENT = "message.sent"
ACKNOWLEDGED_EVENT = "message.acknowledged"
ESCALATED_EVENT = "message.escalated"
OVERDUE_EVENT = "message.overdue"

SENT_ENTRY = entry_kind(
    SENT_EVENT, signer=Signer.MEMBER,
    required=("id", "from", "to", "sent_at", "ack_deadline", "commitment"), folded=True,
    summary="a party sends a direct-line message (a commitment to its content)",
)  # fmt: skip
ACKNOWLEDGED_ENTRY = entry_kind(
    ACKNOWLEDGED_EVENT, signer=Signer.MEMBER, required=("id", "content_hash"), folded=True,
    summary="a recipient acknowledges the message it received, naming its hash",
)  # fmt: skip
_STEP_FIELDS = ("id", "to", "level", "due", "skipped")
ESCALATED_ENTRY = entry_kind(
    ESCALATED_EVENT, signer=Signer.CENTER, required=(*_STEP_FIELDS, "role", "deadline"),
    folded=True, summary="the center escalates an unacknowledged message along the chain",
)  # fmt: skip
OVERDUE_ENTRY = entry_kind(
    OVERDUE_EVENT, signer=Signer.CENTER, required=(*_STEP_FIELDS, "ack_deadline"),
    folded=True, summary="the center declares a recipient overdue: its chain is spent",
)  # fmt: skip

ACK_WITHIN_DEFAULT = timedelta(minutes=15)
"""The acknowledgement deadline when the sender names none."""
ACK_WITHIN_MIN = timedelta(minutes=1)
ACK_WITHIN_MAX = timedelta(hours=24)
STEP_MIN = timedelta(minutes=1)
"""The shortest deadline of an escalation step."""
PRESENCE_WINDOW = timedelta(minutes=5)
"""A contact without a heartbeat in this long is absent, and escalation skips it."""
MAX_POSITIONS = 2000
"""The most positions a message's geometry may hold."""
MAX_DUTY = 10
"""The most duty officers on a chain."""
ESCALATION_BATCH = 200
"""The most recipients one call of :func:`escalate_due` escalates (the rest wait a tick)."""

_GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "Polygon")
_ROLES = (Role.OFFICER.value, Role.APPROVER.value)
_log = logging.getLogger("accord.center")


# --- the pure core of escalation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contact:
    """One link of a party's chain: its role there, the user, and their last heartbeat."""

    role: Literal["primary", "backup", "duty"]
    user: str
    last_seen: datetime | None

    def present(self, at: datetime) -> bool:
        """Whether the contact sent a heartbeat within :data:`PRESENCE_WINDOW` before ``at``."""
        return self.last_seen is not None and self.last_seen > at - PRESENCE_WINDOW


@dataclass(frozen=True, slots=True)
class Pending:
    """A recipient that has not acknowledged: the deadline running (``due``), the level
    reached (0: delivered to the party), the chain position of the last contact alerted
    (-1: none) and the message's ``ack_within``."""

    due: datetime
    level: int
    position: int
    ack_within: timedelta


@dataclass(frozen=True, slots=True)
class Step:
    """What happens to a pending recipient at ``at``: ``escalated`` to ``contact`` (chain
    index ``position``) with a new ``deadline``, or declared ``overdue``; ``skipped`` are the
    absent contacts passed over; ``due`` is the deadline that was missed."""

    kind: Literal["escalated", "overdue"]
    level: int
    due: datetime
    at: datetime
    position: int
    contact: Contact | None
    skipped: tuple[Contact, ...]
    deadline: datetime | None


def step_length(ack_within: timedelta) -> timedelta:
    """The deadline of each escalation step: half of ``ack_within`` (whole seconds), at
    least :data:`STEP_MIN`.

    >>> step_length(timedelta(minutes=10)), step_length(timedelta(seconds=90))
    (datetime.timedelta(seconds=300), datetime.timedelta(seconds=60))
    """
    half = timedelta(seconds=int(ack_within.total_seconds()) // 2)
    return max(half, STEP_MIN)


def next_step(pending: Pending, chain: Sequence[Contact], now: datetime) -> Step | None:
    """The step due for ``pending`` at ``now`` given its party's ``chain``, or ``None`` while
    its deadline runs.

    The next contact is the first one after the last alerted that is present at ``now``;
    with none left, the recipient is overdue. At most one step per call: each step's deadline
    lies after ``now``.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 9, 21, 16, tzinfo=UTC)
    >>> chain = [Contact("primary", "ann", None), Contact("backup", "bob", t)]
    >>> pending = Pending(due=t, level=0, position=-1, ack_within=timedelta(minutes=10))
    >>> next_step(pending, chain, t - timedelta(seconds=1)) is None
    True
    >>> step = next_step(pending, chain, t)
    >>> step.kind, step.level, step.contact.user, [c.user for c in step.skipped]
    ('escalated', 1, 'bob', ['ann'])
    >>> step.deadline - t
    datetime.timedelta(seconds=300)
    >>> later = Pending(step.deadline, step.level, step.position, pending.ack_within)
    >>> next_step(later, chain, step.deadline).kind
    'overdue'
    """
    if now < pending.due:
        return None
    skipped: list[Contact] = []
    for position in range(max(pending.position + 1, 0), len(chain)):
        contact = chain[position]
        if contact.present(now):
            return Step(
                kind="escalated",
                level=pending.level + 1,
                due=pending.due,
                at=now,
                position=position,
                contact=contact,
                skipped=tuple(skipped),
                deadline=now + step_length(pending.ack_within),
            )
        skipped.append(contact)
    return Step(
        kind="overdue",
        level=pending.level,
        due=pending.due,
        at=now,
        position=pending.position,
        contact=None,
        skipped=tuple(skipped),
        deadline=None,
    )


def chain_of(row: Contacts | None, last_seen: Mapping[str, datetime]) -> tuple[Contact, ...]:
    """A party's chain in escalation order — primary, backup, duty officers — each user once,
    with their last heartbeat."""
    if row is None:
        return ()
    names: list[tuple[Literal["primary", "backup", "duty"], str]] = [("primary", row.primary_user)]
    if row.backup_user:
        names.append(("backup", row.backup_user))
    names.extend(("duty", name) for name in json.loads(row.duty))
    chain: list[Contact] = []
    seen: set[str] = set()
    for role, name in names:
        if name not in seen:
            seen.add(name)
            chain.append(Contact(role, name, last_seen.get(name)))
    return tuple(chain)


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as checked, before the server fixes it."""

    to: tuple[str, ...]
    subject: str
    text: str
    geometry: dict[str, Any] | None
    refers_to: str | None
    ack_within: timedelta


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.issue = Issue(field, message)


def _unicode(field: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad(field, "is not valid Unicode text") from None


def _position(field: str, value: Any) -> list[float | int]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise _Bad(field, "a position is [longitude, latitude] or [longitude, latitude, altitude]")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise _Bad(field, "coordinates must be finite numbers")
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180:
        raise _Bad(field, "the longitude is outside ±180 degrees")
    if not -90 <= lat <= 90:
        raise _Bad(field, "the latitude is outside ±90 degrees")
    if len(value) == 3 and not -1e6 <= value[2] <= 1e6:
        raise _Bad(field, "the altitude is outside ±1,000,000 metres")
    return list(value)


def _positions(field: str, value: Any, *, minimum: int) -> list[list[float | int]]:
    if not isinstance(value, list):
        raise _Bad(field, "must be an array of positions")
    if len(value) < minimum:
        raise _Bad(field, f"needs at least {minimum} position{'s' if minimum > 1 else ''}")
    if len(value) > MAX_POSITIONS:
        raise _Bad(field, f"holds more than {MAX_POSITIONS} positions")
    return [_position(f"{field}[{i}]", p) for i, p in enumerate(value)]


def check_geometry(value: Any) -> dict[str, Any]:
    """A GeoJSON geometry (RFC 7946) with exact coordinates, as given: ``Point``,
    ``MultiPoint``, ``LineString`` or ``Polygon`` (closed rings); longitude ±180, latitude
    ±90, at most :data:`MAX_POSITIONS` positions. Raises
    :class:`~accord.errors.InputError` naming the field (``geometry.coordinates[1]``).

    >>> check_geometry({"type": "Point", "coordinates": [36.29, 33.51]})
    {'type': 'Point', 'coordinates': [36.29, 33.51]}
    >>> check_geometry({"type": "Point", "coordinates": [36.29, 93.5]})
    Traceback (most recent call last):
    ...
    accord.errors.InputError: message: 1 problem
      field 'geometry.coordinates': the latitude is outside ±90 degrees
    """
    try:
        return _geometry(value)
    except _Bad as bad:
        raise InputError("message", [bad.issue]) from None


def _geometry(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("geometry", "must be a GeoJSON geometry object")
    extra = sorted(set(value) - {"type", "coordinates"})
    if extra:
        raise _Bad(f"geometry.{extra[0]}" if extra[0].isprintable() else "geometry", "unknown")
    kind = value.get("type")
    if kind not in _GEOMETRY_TYPES:
        raise _Bad("geometry.type", f"must be one of {', '.join(_GEOMETRY_TYPES)}")
    where = "geometry.coordinates"
    coordinates = value.get("coordinates")
    checked: Any
    if kind == "Point":
        checked = _position(where, coordinates)
    elif kind == "MultiPoint":
        checked = _positions(where, coordinates, minimum=1)
    elif kind == "LineString":
        checked = _positions(where, coordinates, minimum=2)
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise _Bad(where, "a Polygon is a non-empty array of linear rings")
        checked, count = [], 0
        for r, ring in enumerate(coordinates):
            points = _positions(f"{where}[{r}]", ring, minimum=4)
            if points[0] != points[-1]:
                raise _Bad(f"{where}[{r}]", "a ring is closed: its last position is its first")
            count += len(points)
            if count > MAX_POSITIONS:
                raise _Bad(where, f"holds more than {MAX_POSITIONS} positions")
            checked.append(points)
    return {"type": kind, "coordinates": checked}


def check_draft(
    agreement: Agreement,
    sender: str,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    geometry: Any,
    refers_to: str | None,
    ack_within: str | None,
) -> Draft:
    """Check a message before it is sent; raise :class:`~accord.errors.InputError` naming
    every bad field. Recipients are parties of the agreement other than ``sender``, each
    named once; ``ack_within`` an ISO 8601 duration from :data:`ACK_WITHIN_MIN` to
    :data:`ACK_WITHIN_MAX` (default :data:`ACK_WITHIN_DEFAULT`)."""
    issues: list[Issue] = []

    def check(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except _Bad as bad:
            issues.append(bad.issue)
            return None

    for name, value in (("subject", subject), ("text", text), ("refers_to", refers_to)):
        if value is not None:
            check(_unicode, name, value)
    recipients = tuple(to)
    parties = agreement.party_ids
    for name in recipients:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            issues.append(Issue("to", "a recipient is not valid Unicode text"))
            break
        if name == sender:
            issues.append(Issue("to", "a party does not send a message to itself"))
            break
        if name not in parties:
            others = ", ".join(sorted(parties - {sender}))
            issues.append(Issue("to", f"a recipient is a party of the agreement: {others}"))
            break
    if len(set(recipients)) != len(recipients):
        issues.append(Issue("to", "each recipient is named once"))
    within = ACK_WITHIN_DEFAULT
    if ack_within is not None:
        try:
            within = parse_duration(ack_within)
        except ValueError:
            issues.append(Issue("ack_within", "an ISO 8601 duration such as PT10M"))
        else:
            if not ACK_WITHIN_MIN <= within <= ACK_WITHIN_MAX:
                issues.append(Issue("ack_within", "from PT1M to PT24H"))
            elif within.microseconds:
                issues.append(Issue("ack_within", "whole seconds"))
    checked = None if geometry is None else check(_geometry, geometry)
    if issues:
        raise InputError("message", issues)
    return Draft(recipients, subject, text, checked, refers_to, within)


# --- views ----------------------------------------------------------------------------------


class EscalationOut(BaseModel):
    """One escalation step of a recipient: the roles on the chain skipped as absent, the
    role alerted; the users' names (``contact``, ``skipped_users``) only for the recipient
    party itself."""

    level: int
    kind: Literal["escalated", "overdue"]
    at: datetime
    due: datetime
    deadline: datetime | None
    role: str | None
    contact: str | None
    skipped: list[str]
    skipped_users: list[str] | None
    entry: int


class RecipientOut(BaseModel):
    """Where one recipient's acknowledgement stands."""

    party: str
    delivered_at: datetime
    acknowledged: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_hash: str | None
    acknowledged_entry: int | None
    late: bool
    deadline: datetime | None
    level: int
    overdue: bool
    overdue_declared_at: datetime | None
    escalations: list[EscalationOut]


class MessageOut(BaseModel):
    """A message as its viewer may see it: monitors get ``content``, ``content_hash`` and
    ``sent_by`` as null (the record's metadata only)."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    to: list[str]
    sent_at: datetime
    ack_deadline: datetime
    ack_within: str
    entry: int
    sent_by: str | None
    content: dict[str, Any] | None
    content_hash: str | None
    recipients: list[RecipientOut]
    open: bool


class OpeningOut(BaseModel):
    """What opens the commitment of a ``message.sent`` entry: verify with
    ``accord.record.commitments.verify_opening(commitment=…, content=…, salt=…)``."""

    id: str
    entry: int
    commitment: str
    salt: str
    content: dict[str, Any]
    content_hash: str


class ContactOut(BaseModel):
    """One contact of the chain and whether they are present now."""

    role: str
    user: str
    last_seen: datetime | None
    present: bool


class ContactsOut(BaseModel):
    """A party's contact chain in escalation order."""

    party: str
    primary: str | None
    backup: str | None
    duty: list[str]
    chain: list[ContactOut]
    updated_at: datetime | None
    presence_window: str


class PresenceOut(BaseModel):
    """A heartbeat as recorded."""

    user: str
    party: str
    last_seen: datetime
    present_until: datetime


# --- sending and acknowledging --------------------------------------------------------------


def _not_found() -> ProblemError:
    return ProblemError(404, "no such message", kind="not-found")


def _iso_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{seconds}S" if seconds or text == "PT" else "")


def send(
    unit: Unit, agreement: Agreement, caller: Caller, draft: Draft, at: datetime
) -> tuple[Message, list[Recipient]]:
    """Fix the message's content, write it, its recipients, the ``message.sent`` entry (a
    commitment to the content) and its opening, and publish the live events; the message
    and its recipients as written (for :func:`written_view`)."""
    session = unit.session
    sender = caller.member
    if sender not in agreement.party_ids or caller.role.value not in _ROLES:
        raise NotAuthorized(f"{sender} ({caller.role.value}) does not send on the direct line")
    message_id = "m-" + secrets.token_hex(8)
    deadline = at + draft.ack_within
    content: dict[str, Any] = {
        "id": message_id,
        "from": sender,
        "to": list(draft.to),
        "subject": draft.subject,
        "text": draft.text,
        "geometry": draft.geometry,
        "refers_to": draft.refers_to,
        "sent_at": format_instant(at),
        "ack_deadline": format_instant(deadline),
        "nonce": secrets.token_hex(16),
    }
    encoded = canonical_json(content)
    digest = content_hash(content)
    salt = secrets.token_bytes(SALT_BYTES)
    committed = commitment(content, salt=salt)
    entry = unit.ledger.append(
        SENT_ENTRY.build(
            {"from": sender},
            id=message_id,
            to=list(draft.to),
            sent_at=content["sent_at"],
            ack_deadline=content["ack_deadline"],
            commitment=encode_base64(committed),
        ),
        author=sender,
        at=at,
    )
    connection = session.connection()
    _PUT_OPENING.execute(
        connection,
        {
            "entry": entry,
            "owner": sender,
            "commitment": committed,
            "salt": salt,
            "content": encoded.decode("utf-8"),
        },
    )
    values = {
        "id": message_id,
        "sender": sender,
        "sent_by": caller.user_id,
        "sent_at": at,
        "ack_deadline": deadline,
        "ack_within_s": int(draft.ack_within.total_seconds()),
        "content": encoded.decode("utf-8"),
        "content_hash": digest,
        "entry": entry,
    }
    _PUT_MESSAGE.execute(connection, values)
    message = Message(**values)
    fresh: list[dict[str, Any]] = [
        {"message_id": message_id, "recipient": p, "level": 0, "position": -1, "due_at": deadline}
        for p in draft.to
    ]
    _PUT_RECIPIENTS.execute(connection, fresh)
    recipients = sorted((Recipient(**row) for row in fresh), key=lambda r: r.recipient)
    common = {"id": message_id, "from": sender, "to": list(draft.to), "entry": entry}
    times = {"sent_at": content["sent_at"], "ack_deadline": content["ack_deadline"]}
    publish_all(
        session,
        kind=SENT_EVENT,
        at=at,
        each=[
            (draft.to, {**common, **times, "content": content, "content_hash": digest}),
            ([sender], {**common, **times, "content_hash": digest, "sent_by": caller.name}),
            (agreement.monitor_ids, {**common, **times}),
        ],
    )
    return message, recipients


def _involved(session: Session, message_id: str, member: str) -> Message:
    """The message if ``member`` sent or received it; otherwise the 404 of a missing one,
    found by the same single query either way."""
    rows = _INVOLVED.rows(session.connection(), {"b_id": message_id, "b_member": member})
    if not rows:
        raise _not_found()
    return Message(**dict(zip(_INVOLVED.keys, rows[0], strict=True)))


def acknowledge(
    unit: Unit,
    agreement: Agreement,
    caller: Caller,
    message_id: str,
    named_hash: str,
    at: datetime,
) -> tuple[Message, list[Recipient]]:
    """Acknowledge ``message_id`` for the caller's party, naming the ``content_hash`` of what
    it received: the recipient's row, the ``message.acknowledged`` entry and the events; the
    message and its recipients as they now stand (for :func:`written_view`)."""
    session = unit.session
    message = _involved(session, message_id, caller.member)
    if message.sender == caller.member:
        raise NotAuthorized("the sender does not acknowledge its own message")
    recipients = _recipients_of(session, [message_id])[message_id]
    (row,) = [r for r in recipients if r.recipient == caller.member]
    if row.acknowledged_at is not None:
        raise IllegalTransition(f"{caller.member} has already acknowledged {message_id}")
    named = named_hash.lower()
    if named != message.content_hash:
        raise hash_mismatch("this message's content")
    entry = unit.ledger.append(
        ACKNOWLEDGED_ENTRY.build(id=message_id, content_hash=named),
        author=caller.member,
        at=at,
    )
    done = {
        "acknowledged_at": at,
        "acknowledged_by": caller.user_id,
        "ack_hash": named,
        "ack_entry": entry,
        "due_at": None,
    }
    _ACKNOWLEDGE.execute(
        session.connection(), {"b_message": message_id, "b_recipient": caller.member, **done}
    )
    for name, value in done.items():  # the row as stored, without another flush
        set_committed_value(row, name, value)
    payload = {
        "id": message_id,
        "from": message.sender,
        "recipient": caller.member,
        "content_hash": named,
        "acknowledged_at": format_instant(at),
        "late": at > message.ack_deadline,
        "entry": entry,
    }
    publish_all(
        session,
        kind=ACKNOWLEDGED_EVENT,
        at=at,
        each=[
            ([message.sender, caller.member], {**payload, "by": caller.name}),
            (agreement.monitor_ids, payload),
        ],
    )
    return message, recipients


# --- escalation -----------------------------------------------------------------------------


def chains_of(session: Session, members: Iterable[str]) -> dict[str, tuple[Contact, ...]]:
    """Each of ``members``' contact chain, with its contacts' last heartbeats."""
    wanted = sorted(set(members))
    rows = {
        row.member: row
        for row in session.scalars(select(Contacts).where(Contacts.member.in_(wanted)))
    }
    seen = {
        name: last
        for name, last in session.execute(
            select(User.name, Presence.last_seen)
            .join(Presence, Presence.user_id == User.id)
            .where(Presence.member.in_(wanted))
        )
    }
    return {member: chain_of(rows.get(member), seen) for member in wanted}


def _apply(unit: Unit, agreement: Agreement, origin: str, row: Recipient, step: Step) -> None:
    session = unit.session
    message = session.get(Message, row.message_id)
    assert message is not None
    skipped_roles = [c.role for c in step.skipped]
    common: dict[str, Any] = {
        "id": message.id,
        "to": row.recipient,
        "level": step.level,
        "due": format_instant(step.due),
        "skipped": skipped_roles,
    }
    if step.kind == "escalated":
        assert step.contact is not None and step.deadline is not None
        event = ESCALATED_ENTRY.build(
            common, role=step.contact.role, deadline=format_instant(step.deadline)
        )
    else:
        event = OVERDUE_ENTRY.build(common, ack_deadline=format_instant(message.ack_deadline))
    entry = unit.ledger.append(event, author=origin, at=step.at)
    session.add(
        Escalation(
            message_id=message.id,
            recipient=row.recipient,
            level=step.level,
            kind=step.kind,
            at=step.at,
            due=step.due,
            deadline=step.deadline,
            role=step.contact.role if step.contact else None,
            contact=step.contact.user if step.contact else None,
            skipped=json.dumps([[c.role, c.user] for c in step.skipped]),
            entry=entry,
        )
    )
    row.level = step.level
    row.position = step.position
    row.due_at = step.deadline
    if step.kind == "overdue":
        row.overdue_at = step.at
    session.flush()
    kind = str(event["kind"])
    own, public = step_payloads(event, step, entry=entry, extra={"from": message.sender})
    publish(session, kind=kind, at=step.at, audience=[row.recipient], payload=own)
    publish(
        session,
        kind=kind,
        at=step.at,
        audience={message.sender, *agreement.monitor_ids} - {row.recipient},
        payload=public,
    )


def step_payloads(
    event: Mapping[str, Any], step: Step, *, entry: int, extra: Mapping[str, Any] = {}
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The live events of an escalation step recorded as ``event`` in entry ``entry``: what
    the escalated party sees (its contacts' user names too) and what everyone else sees
    (roles only)."""
    public = {k: v for k, v in event.items() if k != "kind"} | dict(extra) | {"entry": entry}
    own = dict(public)
    if step.contact is not None:
        own["contact"] = step.contact.user
    own["skipped_users"] = [c.user for c in step.skipped]
    return own, public


def escalate_due(center: Center, now: datetime, *, limit: int = ESCALATION_BATCH) -> int:
    """Write every escalation step due at ``now`` (at most ``limit``); their number.

    Cheap when nothing is due: one indexed read, no write lock."""
    with center.reading() as session:
        due = session.scalar(select(Recipient.message_id).where(Recipient.due_at <= now).limit(1))
    if due is None:
        return 0
    done = 0
    with center.writing() as unit:
        rows = unit.session.scalars(
            select(Recipient)
            .where(Recipient.due_at <= now)
            .order_by(Recipient.due_at, Recipient.message_id, Recipient.recipient)
            .limit(limit)
        ).all()
        chains = chains_of(unit.session, (row.recipient for row in rows))
        for row in rows:
            message = unit.session.get(Message, row.message_id)
            assert message is not None and row.due_at is not None
            pending = Pending(
                due=row.due_at,
                level=row.level,
                position=row.position,
                ack_within=timedelta(seconds=message.ack_within_s),
            )
            step = next_step(pending, chains[row.recipient], now)
            if step is not None:
                _apply(unit, center.agreement, center.origin, row, step)
                done += 1
    return done


def _tick(escalate: Callable[[Center, datetime], int], center: Center) -> int:
    return escalate(center, center.now())


async def escalation_loop(
    center: Center,
    interval: float,
    passes: Sequence[Callable[[Center, datetime], int]] = (),
) -> None:
    """Run :func:`escalate_due`, then each of ``passes`` (the airspace alerts' escalation),
    every ``interval`` seconds until cancelled; a failure is logged and the loop goes on."""
    while True:
        for escalate in (escalate_due, *passes):
            try:
                await anyio.to_thread.run_sync(_tick, escalate, center)
            except Exception:  # logged; the next tick retries
                _log.exception("escalating %s failed", escalate.__name__)
        await anyio.sleep(interval)


# --- reading --------------------------------------------------------------------------------


_known_names: dict[tuple[str, int], str] = {}
"""(database, user id) -> name, as read: users are never renamed or removed (see
:meth:`accord.center.runtime.Center.authenticate`), so a name read once stays true."""
_KNOWN_NAMES_MAX = 10_000


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    found = {i: name for i in wanted if (name := _known_names.get((database, i))) is not None}
    missing = sorted(wanted - found.keys())
    if missing:
        rows = session.connection().execute(_NAMES, {"b_ids": missing})
        read = {user_id: name for user_id, name in rows}
        if len(_known_names) + len(read) > _KNOWN_NAMES_MAX:
            _known_names.clear()
        _known_names.update(((database, i), name) for i, name in read.items())
        found |= read
    return found


def _recipients_of(session: Session, ids: Sequence[str]) -> dict[str, list[Recipient]]:
    """Each message's recipients, by party (as detached rows: read, not tracked)."""
    recipients: dict[str, list[Recipient]] = {i: [] for i in ids}
    if len(ids) == 1:
        (only,) = ids
        keys = _RECIPIENTS_OF_ONE.keys
        recipients[only] = [
            Recipient(**dict(zip(keys, row, strict=True)))
            for row in _RECIPIENTS_OF_ONE.rows(session.connection(), {"b_id": only})
        ]
    elif ids:
        rows = session.connection().execute(
            select(_recipients)
            .where(_recipients.c.message_id.in_(ids))
            .order_by(_recipients.c.recipient)
        )
        for row in rows.mappings():
            recipients[row["message_id"]].append(Recipient(**row))
    return recipients


def _escalations_of(
    session: Session, ids: Sequence[str]
) -> dict[tuple[str, str], list[Escalation]]:
    """Each (message, recipient)'s escalation steps, in order."""
    escalations: dict[tuple[str, str], list[Escalation]] = {}
    if ids:
        for step in session.scalars(
            select(Escalation).where(Escalation.message_id.in_(ids)).order_by(Escalation.id)
        ):
            escalations.setdefault((step.message_id, step.recipient), []).append(step)
    return escalations


def _views(
    session: Session, messages: Sequence[Message], viewer: str, *, monitor: bool, now: datetime
) -> list[MessageOut]:
    ids = [m.id for m in messages]
    recipients = _recipients_of(session, ids)
    escalations = _escalations_of(session, ids)
    names = _names(
        session,
        [m.sent_by for m in messages]
        + [r.acknowledged_by for rows in recipients.values() for r in rows],
    )
    return _build_views(messages, recipients, escalations, names, viewer, monitor=monitor, now=now)


def _build_views(
    messages: Sequence[Message],
    recipients: Mapping[str, Sequence[Recipient]],
    escalations: Mapping[tuple[str, str], Sequence[Escalation]],
    names: Mapping[int, str],
    viewer: str,
    *,
    monitor: bool,
    now: datetime,
) -> list[MessageOut]:
    out = []
    for message in messages:
        content = None if monitor else json.loads(message.content)
        parties = []
        for row in recipients[message.id]:
            own = row.recipient == viewer
            steps = [
                EscalationOut(
                    level=s.level,
                    kind="escalated" if s.kind == "escalated" else "overdue",
                    at=s.at,
                    due=s.due,
                    deadline=s.deadline,
                    role=s.role,
                    contact=s.contact if own else None,
                    skipped=[role for role, _ in json.loads(s.skipped)],
                    skipped_users=[user for _, user in json.loads(s.skipped)] if own else None,
                    entry=s.entry,
                )
                for s in escalations.get((message.id, row.recipient), [])
            ]
            acked = row.acknowledged_at
            parties.append(
                RecipientOut(
                    party=row.recipient,
                    delivered_at=message.sent_at,
                    acknowledged=acked is not None,
                    acknowledged_at=acked,
                    acknowledged_by=None
                    if monitor or row.acknowledged_by is None
                    else names.get(row.acknowledged_by),
                    acknowledged_hash=row.ack_hash,
                    acknowledged_entry=row.ack_entry,
                    late=acked is not None and acked > message.ack_deadline,
                    deadline=row.due_at,
                    level=row.level,
                    overdue=acked is None and now >= message.ack_deadline,
                    overdue_declared_at=row.overdue_at,
                    escalations=steps,
                )
            )
        out.append(
            MessageOut(
                id=message.id,
                from_=message.sender,
                to=[p.party for p in parties] if content is None else list(content["to"]),
                sent_at=message.sent_at,
                ack_deadline=message.ack_deadline,
                ack_within=_iso_duration(timedelta(seconds=message.ack_within_s)),
                entry=message.entry,
                sent_by=None if monitor else names.get(message.sent_by),
                content=content,
                content_hash=None if monitor else message.content_hash,
                recipients=parties,
                open=any(not p.acknowledged for p in parties),
            )
        )
    return out


def _is_monitor(caller: Caller) -> bool:
    """Whether ``caller`` sees messages' metadata only (a monitor: the policy's
    :func:`~accord.center.visibility.sees_message` without its content)."""
    return caller.role is Role.MONITOR


def message_view(session: Session, caller: Caller, message_id: str, now: datetime) -> MessageOut:
    """One message as ``caller`` may see it; the 404 of a missing id to anyone not involved
    (monitors see every message's metadata)."""
    if _is_monitor(caller):
        message = session.get(Message, message_id)
        if message is None:
            raise _not_found()
    else:
        message = _involved(session, message_id, caller.member)
    (view,) = _views(session, [message], caller.member, monitor=_is_monitor(caller), now=now)
    return view


def written_view(
    session: Session,
    caller: Caller,
    message: Message,
    recipients: Sequence[Recipient],
    now: datetime,
) -> MessageOut:
    """The view :func:`message_view` would give of a message the caller's unit just wrote
    (:func:`send`, :func:`acknowledge`), from the rows at hand: escalation steps and other
    users' names are read only when there are any to read. The caller is its sender or a
    recipient."""
    escalated = any(r.level > 0 or r.overdue_at is not None for r in recipients)
    escalations = _escalations_of(session, [message.id]) if escalated else {}
    known = {caller.user_id: caller.name}
    wanted = [message.sent_by, *(r.acknowledged_by for r in recipients)]
    names = known | _names(session, [i for i in wanted if i is not None and i not in known])
    (view,) = _build_views(
        [message],
        {message.id: recipients},
        escalations,
        names,
        caller.member,
        monitor=_is_monitor(caller),
        now=now,
    )
    return view


def list_messages(
    session: Session,
    caller: Caller,
    *,
    box: Literal["in", "out"] | None,
    open_only: bool,
    limit: int,
    now: datetime,
) -> list[MessageOut]:
    """The caller's party's messages, newest first: sent (``box="out"``), received
    (``"in"``) or both; ``open_only`` keeps those still awaiting an acknowledgement (for a
    received message: the caller's own). Monitors list every message's metadata."""
    member = caller.member
    unacked = select(Recipient.message_id).where(Recipient.acknowledged_at.is_(None))
    condition: ColumnElement[bool]
    if _is_monitor(caller):
        condition = Message.id.in_(unacked) if open_only else true()
    else:
        sent = Message.sender == member
        received_rows = select(Recipient.message_id).where(Recipient.recipient == member)
        if open_only:
            sent = and_(sent, Message.id.in_(unacked))
            received_rows = received_rows.where(Recipient.acknowledged_at.is_(None))
        received = Message.id.in_(received_rows)
        condition = {"out": sent, "in": received}.get(box or "", or_(sent, received))
    mine = Message.id.in_(select(Recipient.message_id).where(Recipient.recipient == member))
    condition = and_(
        visibility.messages_where(caller, sender=Message.sender, received=mine), condition
    )
    messages = session.scalars(
        select(Message).where(condition).order_by(Message.sent_at.desc(), Message.id).limit(limit)
    ).all()
    return _views(session, messages, member, monitor=_is_monitor(caller), now=now)


def opening_of(session: Session, caller: Caller, message_id: str) -> OpeningOut:
    """The opening of a message's ``message.sent`` commitment, for its sender and
    recipients."""
    message = _involved(session, message_id, caller.member)
    opening = session.get(Opening, message.entry)
    if opening is None:  # pragma: no cover - written with the message
        raise _not_found()
    return OpeningOut(
        id=message.id,
        entry=message.entry,
        commitment=encode_base64(opening.commitment),
        salt=encode_base64(opening.salt),
        content=json.loads(opening.content),
        content_hash=message.content_hash,
    )


# --- contact chains and presence ------------------------------------------------------------


def set_contacts(
    unit: Unit,
    caller: Caller,
    *,
    primary: str,
    backup: str | None,
    duty: Sequence[str],
    at: datetime,
) -> ContactsOut:
    """Replace the caller's party's chain; every user named must be an officer or approver
    of that party and appear once (:class:`~accord.errors.InputError` naming the field)."""
    session = unit.session
    fields: list[tuple[str, str]] = [("primary", primary)]
    if backup is not None:
        fields.append(("backup", backup))
    fields.extend((f"duty[{i}]", name) for i, name in enumerate(duty))
    issues: list[Issue] = []
    valid = {
        name
        for name, member, role in session.execute(
            select(User.name, User.member, User.role).where(
                User.name.in_([name for _, name in fields])
            )
        )
        if member == caller.member and role in _ROLES
    }
    seen: set[str] = set()
    for field, name in fields:
        if name not in valid:
            issues.append(Issue(field, f"no officer or approver of {caller.member} has this name"))
        elif name in seen:
            issues.append(Issue(field, "a user appears once on the chain"))
        seen.add(name)
    if issues:
        raise InputError("contacts", issues)
    row = session.get(Contacts, caller.member)
    if row is None:
        row = Contacts(member=caller.member)
        session.add(row)
    row.primary_user = primary
    row.backup_user = backup
    row.duty = json.dumps(list(duty))
    row.updated_at = at
    row.updated_by = caller.user_id
    session.flush()
    return contacts_of(session, caller.member, at)


def contacts_of(session: Session, member: str, now: datetime) -> ContactsOut:
    """A party's chain and who on it is present at ``now``."""
    row = session.get(Contacts, member)
    chain = chains_of(session, [member])[member]
    return ContactsOut(
        party=member,
        primary=row.primary_user if row else None,
        backup=row.backup_user if row else None,
        duty=json.loads(row.duty) if row else [],
        chain=[
            ContactOut(role=c.role, user=c.user, last_seen=c.last_seen, present=c.present(now))
            for c in chain
        ],
        updated_at=row.updated_at if row else None,
        presence_window=_iso_duration(PRESENCE_WINDOW),
    )


def heartbeat(unit: Unit, caller: Caller, at: datetime) -> PresenceOut:
    """The caller is present at ``at``."""
    row = unit.session.get(Presence, caller.user_id)
    if row is None:
        unit.session.add(Presence(user_id=caller.user_id, member=caller.member, last_seen=at))
    else:
        row.last_seen = at
    unit.session.flush()
    return PresenceOut(
        user=caller.name, party=caller.member, last_seen=at, present_until=at + PRESENCE_WINDOW
    )
