"""Messages on the direct line: a draft checked, the message fixed and sent, a recipient's
acknowledgement naming the hash of exactly what it received, and the record entries of both.

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
``content_hash`` of what it received; a different hash is refused
(:class:`~accord.errors.HashMismatch`, naming the field ``content_hash``). The entry
``message.acknowledged`` (signed by the recipient) holds the id and the hash: neither side can
later deny or rewrite what was acknowledged. An acknowledgement is a receipt, never an
approval.

Sending and acknowledging are the hot write path: their rows and the message an
acknowledgement names go through prepared statements on the driver's cursor
(:mod:`accord.center.db.fast`: a tenth of the per-statement cost).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value

from accord.agreement import Agreement
from accord.center.checks import service as checks
from accord.center.checks.geometry import MAX_POSITIONS, check_geometry
from accord.center.db.fast import Prepared
from accord.center.db.models import Opening
from accord.center.db.models_directline import Message, Recipient
from accord.center.directline import fold
from accord.center.directline.reading import involved, recipients_of
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.event_store import publish_all
from accord.center.identity import Caller
from accord.center.operations.desk import desk
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import format_instant, parse_duration
from accord.errors import HashMismatch, IllegalTransition, InputError, Issue, NotAuthorized
from accord.record.canonical import canonical_json, content_hash, encode_base64
from accord.record.commitments import SALT_BYTES, commitment

__all__ = [
    "ACKNOWLEDGED_EVENT",
    "ACK_WITHIN_DEFAULT",
    "ACK_WITHIN_MAX",
    "ACK_WITHIN_MIN",
    "CHECKED_EVENT",
    "MAX_POSITIONS",
    "SENT_EVENT",
    "Draft",
    "acknowledge",
    "check_draft",
    "check_geometry",
    "put_acknowledgement",
    "put_message",
    "send",
]

_openings = cast(Table, Opening.__table__)
_messages = cast(Table, Message.__table__)
_recipients = cast(Table, Recipient.__table__)
_ACKNOWLEDGE = Prepared(
    update(_recipients).where(
        _recipients.c.message_id == bindparam("b_message"),
        _recipients.c.recipient == bindparam("b_recipient"),
    )
)
_PUT_OPENING = Prepared(insert(_openings))
_PUT_MESSAGE = Prepared(insert(_messages))
_PUT_RECIPIENTS = Prepared(insert(_recipients))

SENT_EVENT = "message.sent"
ACKNOWLEDGED_EVENT = "message.acknowledged"
CHECKED_EVENT = "message.checked"

SENT_ENTRY = entry_kind(
    SENT_EVENT, signer=Signer.MEMBER,
    required=("id", "from", "to", "sent_at", "ack_deadline", "commitment"), fold=fold.sent,
    summary="a party sends a direct-line message (a commitment to its content)",
    acts=("POST /v1/messages",),
)  # fmt: skip
ACKNOWLEDGED_ENTRY = entry_kind(
    ACKNOWLEDGED_EVENT, signer=Signer.MEMBER, required=("id", "content_hash"),
    fold=fold.acknowledged,
    summary="a recipient acknowledges the message it received, naming its hash",
    acts=("POST /v1/messages/{id}/acknowledge",),
)  # fmt: skip

CHECKED_ENTRY = entry_kind(
    CHECKED_EVENT, signer=Signer.CENTER, required=("id", "checks"), fold=fold.checked,
    summary="the center checks a message's geometry for its sender and each recipient "
    "(a commitment per party to what it was shown, of one size whatever was found)",
)  # fmt: skip

ACK_WITHIN_DEFAULT = timedelta(minutes=15)
"""The acknowledgement deadline when the sender names none."""
ACK_WITHIN_MIN = timedelta(minutes=1)
ACK_WITHIN_MAX = timedelta(hours=24)
_SENDERS = (Role.OFFICER.value, Role.APPROVER.value)
"""The roles that send on the direct line."""


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
    checked = None
    if geometry is not None:
        try:
            checked = check_geometry(geometry)
        except InputError as error:
            issues.extend(error.issues)
    if issues:
        raise InputError("message", issues)
    return Draft(recipients, subject, text, checked, refers_to, within)


# --- sending and acknowledging --------------------------------------------------------------


def put_message(
    connection: Connection, values: Mapping[str, Any], to: Sequence[str]
) -> list[dict[str, Any]]:
    """Write a sent message's row (``values``: its columns) and a row for each recipient of
    ``to`` (delivered: level 0, no contact alerted yet, the acknowledgement deadline running);
    the recipients' rows as written. :func:`send`'s, and redo's
    (:mod:`accord.center.directline.redo`)."""
    _PUT_MESSAGE.execute(connection, values)
    fresh: list[dict[str, Any]] = [
        {
            "message_id": values["id"],
            "recipient": party,
            "level": 0,
            "position": -1,
            "due_at": values["ack_deadline"],
        }
        for party in to
    ]
    _PUT_RECIPIENTS.execute(connection, fresh)
    return fresh


def put_acknowledgement(
    connection: Connection,
    message_id: str,
    recipient: str,
    *,
    at: datetime,
    user_id: int | None,
    content_hash: str,
    entry: int,
) -> dict[str, Any]:
    """Write ``recipient``'s acknowledgement of ``message_id`` at ``at`` by the user
    ``user_id``, naming ``content_hash``, in record entry ``entry``: its deadline stops; the
    columns written. :func:`acknowledge`'s, and redo's."""
    done = {
        "acknowledged_at": at,
        "acknowledged_by": user_id,
        "ack_hash": content_hash,
        "ack_entry": entry,
        "due_at": None,
    }
    _ACKNOWLEDGE.execute(connection, {"b_message": message_id, "b_recipient": recipient, **done})
    return done


def send(unit: Unit, caller: Caller, draft: Draft, at: datetime) -> tuple[Message, list[Recipient]]:
    """Fix the message's content, write it, its recipients, the ``message.sent`` entry (a
    commitment to the content) and its opening, and publish the live events; the message
    and its recipients as written (for
    :func:`~accord.center.directline.reading.written_view`)."""
    agreement = unit.center.agreement
    session = unit.session
    sender = caller.member
    if sender not in agreement.party_ids or caller.role.value not in _SENDERS:
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
    fresh = put_message(connection, values, draft.to)
    message = Message(**values)
    recipients = sorted((Recipient(**row) for row in fresh), key=lambda r: r.recipient)
    views = checks.check(
        unit,
        desk(unit.center).world,
        draft.geometry,
        subject=message_id,
        about="message",
        parties=[sender, *draft.to],
        at=at,
        extra={"content_hash": digest},
    )
    checked = checks.record(unit, CHECKED_ENTRY, message_id, views, at=at)
    common = {"id": message_id, "from": sender, "to": list(draft.to), "entry": entry}
    times = {"sent_at": content["sent_at"], "ack_deadline": content["ack_deadline"]}

    def seen(party: str) -> dict[str, Any]:
        return {"entry": checked, **views[party]}

    publish_all(
        session,
        kind=SENT_EVENT,
        at=at,
        each=[
            *(
                (
                    [party],
                    {
                        **common,
                        **times,
                        "content": content,
                        "content_hash": digest,
                        "check": seen(party),
                    },
                )
                for party in draft.to
            ),
            (
                [sender],
                {
                    **common,
                    **times,
                    "content_hash": digest,
                    "sent_by": caller.name,
                    "check": seen(sender),
                },
            ),
            (agreement.monitor_ids, {**common, **times}),
        ],
    )
    return message, recipients


def acknowledge(
    unit: Unit,
    caller: Caller,
    message_id: str,
    named_hash: str,
    at: datetime,
) -> tuple[Message, list[Recipient]]:
    """Acknowledge ``message_id`` for the caller's party, naming the ``content_hash`` of what
    it received: the recipient's row, the ``message.acknowledged`` entry and the events; the
    message and its recipients as they now stand (for
    :func:`~accord.center.directline.reading.written_view`)."""
    agreement = unit.center.agreement
    session = unit.session
    message = involved(session, message_id, caller.member)
    if message.sender == caller.member:
        raise NotAuthorized("the sender does not acknowledge its own message")
    recipients = recipients_of(session, [message_id])[message_id]
    (row,) = [r for r in recipients if r.recipient == caller.member]
    if row.acknowledged_at is not None:
        raise IllegalTransition(f"{caller.member} has already acknowledged {message_id}")
    named = named_hash.lower()
    if named != message.content_hash:
        raise HashMismatch("this message's content")
    entry = unit.ledger.append(
        ACKNOWLEDGED_ENTRY.build(id=message_id, content_hash=named),
        author=caller.member,
        at=at,
    )
    done = put_acknowledgement(
        session.connection(), message_id, caller.member,
        at=at, user_id=caller.user_id, content_hash=named, entry=entry,
    )  # fmt: skip
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
