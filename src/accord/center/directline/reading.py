"""Reading the direct line: a message, a party's messages, a message's opening — each as
its viewer may see it.

**Who sees what.** Officers and approvers of a party send, receive, acknowledge and keep
the chain. A message is between its sender and its recipients: anyone else gets the same
404 as for an id that does not exist. Monitors see that messages exist and their
acknowledgement state — what the record says — but never content. Notifiers and
administrators see nothing of the direct line (403). Contact names on a recipient's chain are
shown to that party only; the sender sees the escalation's level and role. The rule itself
is the center's one policy (:mod:`accord.center.visibility`: ``sees_message``,
``reads_message_content``); this module applies it.

The lookups every part of the direct line shares live here too: the message a member is
involved in (:func:`involved`, one prepared statement whichever way it is found) and a
message's recipients (:func:`recipients_of`). Reads of a few columns across many rows (users'
names) are Core ``select`` statements, which build no objects; whole rows read for answers
go through the ORM.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, true
from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.checks import service as checks
from accord.center.checks.views import CheckOpeningOut, CheckOut, check_out, opening_out
from accord.center.db.fast import PreparedQuery
from accord.center.db.models import Opening, User
from accord.center.db.models_checks import CheckOpening
from accord.center.db.models_directline import Message, Recipient
from accord.center.db.models_escalation import EscalationStep
from accord.center.directline.views import MessageOut, OpeningOut, RecipientOut
from accord.center.escalation.store import escalated, step_view, steps_of
from accord.center.escalation.views import escalation_out
from accord.center.identity import Caller
from accord.center.runtime import CenterCache
from accord.errors import NotFound
from accord.record.canonical import encode_base64

__all__ = [
    "NAMES",
    "KnownNames",
    "check_opening_of",
    "involved",
    "iso_duration",
    "list_messages",
    "message_view",
    "not_found",
    "opening_of",
    "recipients_of",
    "written_view",
]

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
_users = cast(Table, User.__table__)
_NAMES = select(_users.c.id, _users.c.name).where(
    _users.c.id.in_(bindparam("b_ids", expanding=True))
)


def not_found() -> NotFound:
    """The answer to a message that does not exist, or that the caller is not involved in."""
    return NotFound("no such message")


def iso_duration(value: timedelta) -> str:
    """``value`` as an ISO 8601 duration of hours, minutes and seconds (``PT1H30M``)."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{seconds}S" if seconds or text == "PT" else "")


def involved(session: Session, message_id: str, member: str) -> Message:
    """The message if ``member`` sent or received it; otherwise the 404 of a missing one,
    found by the same single query either way."""
    rows = _INVOLVED.rows(session.connection(), {"b_id": message_id, "b_member": member})
    if not rows:
        raise not_found()
    return Message(**dict(zip(_INVOLVED.keys, rows[0], strict=True)))


class KnownNames:
    """Users' names by id, as read (a center's cache, :data:`NAMES`): users are never
    renamed, and a removed user's row stays (see
    :meth:`accord.center.runtime.Center.authenticate`), so a name read once stays true.
    Held to :data:`_KNOWN_NAMES_MAX` names (cleared when full)."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()

    def of(self, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
        """The names of the users ``ids`` (None skipped), read from the database once."""
        wanted = {i for i in ids if i is not None}
        with self._lock:
            found = {i: name for i in wanted if (name := self._names.get(i)) is not None}
        missing = sorted(wanted - found.keys())
        if missing:
            rows = session.connection().execute(_NAMES, {"b_ids": missing})
            read = {user_id: name for user_id, name in rows}
            with self._lock:
                if len(self._names) + len(read) > _KNOWN_NAMES_MAX:
                    self._names.clear()
                self._names.update(read)
            found |= read
        return found


_KNOWN_NAMES_MAX = 10_000

NAMES: CenterCache[KnownNames] = CenterCache("direct line: users' names", lambda _: KnownNames())
"""Each center's :class:`KnownNames`."""


def recipients_of(session: Session, ids: Sequence[str]) -> dict[str, list[Recipient]]:
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


def _views(
    session: Session,
    messages: Sequence[Message],
    viewer: str,
    *,
    monitor: bool,
    now: datetime,
    names_of: KnownNames,
) -> list[MessageOut]:
    ids = [m.id for m in messages]
    recipients = recipients_of(session, ids)
    escalations = steps_of(session, "message", ids)
    names = names_of.of(
        session,
        [m.sent_by for m in messages]
        + [r.acknowledged_by for rows in recipients.values() for r in rows],
    )
    checked = {} if monitor else checks.openings_for(session, ids, viewer)
    return _build_views(
        messages, recipients, escalations, names, viewer, monitor=monitor, now=now, checked=checked
    )


def _build_views(
    messages: Sequence[Message],
    recipients: Mapping[str, Sequence[Recipient]],
    escalations: Mapping[tuple[str, str], Sequence[EscalationStep]],
    names: Mapping[int, str],
    viewer: str,
    *,
    monitor: bool,
    now: datetime,
    checked: Mapping[str, Sequence[CheckOpening]],
) -> list[MessageOut]:
    out = []
    for message in messages:
        content = None if monitor else json.loads(message.content)
        parties = []
        for row in recipients[message.id]:
            own = row.recipient == viewer
            steps = [
                escalation_out(step_view(s, own=own))
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
                ack_within=iso_duration(timedelta(seconds=message.ack_within_s)),
                entry=message.entry,
                sent_by=None if monitor or message.sent_by is None else names.get(message.sent_by),
                content=content,
                content_hash=None if monitor else message.content_hash,
                recipients=parties,
                open=any(not p.acknowledged for p in parties),
                check=_check_of(checked.get(message.id, ())),
            )
        )
    return out


def message_view(
    session: Session, caller: Caller, message_id: str, now: datetime, *, names_of: KnownNames
) -> MessageOut:
    """One message as ``caller`` may see it; the 404 of a missing id to anyone not involved
    (monitors see every message's metadata). ``names_of``: the center's :data:`NAMES`."""
    if visibility.sees_every_message(caller):
        message = session.get(Message, message_id)
        if message is None:
            raise not_found()
    else:
        message = involved(session, message_id, caller.member)
    monitor = visibility.sees_every_message(caller)
    (view,) = _views(session, [message], caller.member, monitor=monitor, now=now, names_of=names_of)
    return view


def written_view(
    session: Session,
    caller: Caller,
    message: Message,
    recipients: Sequence[Recipient],
    now: datetime,
    *,
    names_of: KnownNames,
) -> MessageOut:
    """The view :func:`message_view` would give of a message the caller's unit just wrote
    (:func:`~accord.center.directline.messages.send`,
    :func:`~accord.center.directline.messages.acknowledge`), from the rows at hand:
    escalation steps and other users' names are read only when there are any to read. The
    caller is its sender or a recipient."""
    any_steps = any(escalated(r) for r in recipients)
    escalations = steps_of(session, "message", [message.id]) if any_steps else {}
    known = {caller.user_id: caller.name}
    wanted = [message.sent_by, *(r.acknowledged_by for r in recipients)]
    names = known | names_of.of(session, [i for i in wanted if i not in known])
    monitor = visibility.sees_every_message(caller)
    checked = {} if monitor else checks.openings_for(session, [message.id], caller.member)
    (view,) = _build_views(
        [message],
        {message.id: recipients},
        escalations,
        names,
        caller.member,
        monitor=monitor,
        now=now,
        checked=checked,
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
    names_of: KnownNames,
) -> list[MessageOut]:
    """The caller's party's messages, newest first: sent (``box="out"``), received
    (``"in"``) or both; ``open_only`` keeps those still awaiting an acknowledgement (for a
    received message: the caller's own). Monitors list every message's metadata."""
    member = caller.member
    unacked = select(Recipient.message_id).where(Recipient.acknowledged_at.is_(None))
    condition: ColumnElement[bool]
    if visibility.sees_every_message(caller):
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
    monitor = visibility.sees_every_message(caller)
    return _views(session, messages, member, monitor=monitor, now=now, names_of=names_of)


def opening_of(session: Session, caller: Caller, message_id: str) -> OpeningOut:
    """The opening of a message's ``message.sent`` commitment, for its sender and
    recipients."""
    message = involved(session, message_id, caller.member)
    opening = session.get(Opening, message.entry)
    if opening is None:  # pragma: no cover - written with the message
        raise not_found()
    return OpeningOut(
        id=message.id,
        entry=message.entry,
        commitment=encode_base64(opening.commitment),
        salt=encode_base64(opening.salt),
        content=json.loads(opening.content),
        content_hash=message.content_hash,
    )


def check_opening_of(session: Session, caller: Caller, message_id: str) -> CheckOpeningOut:
    """The opening of the caller's party's commitment in a message's ``message.checked``
    entry, for the sender and the recipients (each its own)."""
    message = involved(session, message_id, caller.member)
    found = checks.opening_for(session, message.id, caller.member)
    if found is None:  # a message sent before checks were made (migration 0015)
        raise not_found()
    if not checks.kept(found):
        raise NotFound("the opening of this message's check was not kept")
    return opening_out(found)


def _check_of(found: Sequence[CheckOpening]) -> CheckOut | None:
    """The latest of a message's checks for the viewer (``found``), when its opening is
    kept; None when there is none or it is not kept."""
    return check_out(found[-1]) if found and checks.kept(found[-1]) else None
