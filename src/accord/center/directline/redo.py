"""Redo of the direct line's entries (:mod:`accord.center.recovery.redo`): the rows
:mod:`accord.center.directline.messages` and the escalation of messages
(:mod:`accord.center.directline.escalation`, steps stored as
:func:`accord.center.escalation.store.record_step` stores them) wrote for each.

* ``message.sent`` — the message and its recipients, from the event (id, sender,
  recipients, times) and the content its sender hands back (the opening: ``openings`` is
  written again); ``sent_by`` is the user of the sender's act (NULL under a legacy
  agreement: its entries hold no act). Without the opening the message is **not written**:
  ``messages.content`` and ``content_hash`` cannot be NULL, and neither is in the record.
  That refuses the restore unless the operator names the sender
  (:meth:`~accord.center.recovery.redo.Redoing.unopened_change`); the message's later
  entries (its check, acknowledgements, escalation) then change nothing and are noted;
* ``message.checked`` — each party's ``check_openings`` row with its commitment only: what
  the party was shown (salt and content) is in no entry, so both are left empty, and the
  direct line's readers answer such a check as not kept
  (:func:`accord.center.checks.service.kept`);
* ``message.acknowledged`` — the recipient's acknowledgement (``acknowledged_by``: the
  act's user, as for ``sent_by``);
* ``message.escalated`` / ``message.overdue`` — the stored step and the recipient's
  standing moved on. The step's ``contact`` is NULL and the users it ``skipped`` are
  empty names: entries name the roles only (contact chains are a party's own rows, never
  recorded), and a step's reader wants a name (a string) for each skipped contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, select

from accord.center.db.models_checks import CheckOpening
from accord.center.db.models_directline import Message, Recipient
from accord.center.directline.messages import put_acknowledgement, put_message
from accord.center.escalation.store import StoredStep, store_step
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.chrono import parse_instant
from accord.record.canonical import canonical_json, content_hash, decode_base64

__all__ = ["REDO"]

_messages = cast(Table, Message.__table__)
_recipients = cast(Table, Recipient.__table__)
_checks = cast(Table, CheckOpening.__table__)

_UNOPENED = "accord.directline.redo.unopened"
"""The session's ``info`` key of the messages whose ``message.sent`` was not redone."""

_NOT_KEPT = "is not in the tables (its content was not handed back): not redone"


def _unopened(context: Redoing) -> set[str]:
    return cast(set[str], context.session.info.setdefault(_UNOPENED, set()))


def _message(context: Redoing, entry: Redone) -> Mapping[str, Any] | None:
    """The message ``entry`` names, as stored; None (noted) for one whose ``message.sent``
    was not redone; KeyError for one in no earlier entry."""
    message_id = str(entry.event["id"])
    row = context.session.execute(select(_messages).where(_messages.c.id == message_id)).first()
    if row is not None:
        return dict(row._mapping)
    if message_id in _unopened(context):
        context.note(entry, f"message {message_id} {_NOT_KEPT}")
        return None
    raise KeyError(f"message {message_id} is in no earlier entry")


def _recipient(context: Redoing, message_id: str, party: str) -> Mapping[str, Any]:
    row = context.session.execute(
        select(_recipients).where(
            _recipients.c.message_id == message_id, _recipients.c.recipient == party
        )
    ).first()
    if row is None:
        raise KeyError(f"{party} is no recipient of message {message_id}")
    if row.acknowledged_at is not None:
        raise ValueError(f"{party} has already acknowledged message {message_id}")
    return dict(row._mapping)


def _sent(context: Redoing, entry: Redone) -> None:
    event = entry.event
    message_id, sender, to = str(event["id"]), entry.author, [str(p) for p in event["to"]]
    if event["from"] != sender or parse_instant(event["sent_at"]) != entry.at:
        raise ValueError(f"message {message_id} is not {sender}'s at {entry.at}")
    deadline = parse_instant(event["ack_deadline"])
    within = int((deadline - entry.at).total_seconds())
    if entry.at + timedelta(seconds=within) != deadline:
        raise ValueError(f"message {message_id}'s deadline is not whole seconds after it")
    content = context.opened(entry, owner=sender)
    if content is None:
        _unopened(context).add(message_id)
        context.note(
            entry,
            f"message {message_id} is not written: messages.content and content_hash "
            "cannot be NULL, and only its opening holds them",
        )
        context.unopened_change(entry, sender)
        return
    fixed = {"id": message_id, "from": sender, "to": to}
    fixed |= {"sent_at": event["sent_at"], "ack_deadline": event["ack_deadline"]}
    if {k: content.get(k) for k in fixed} != fixed:
        raise ValueError(f"message {message_id}'s opening is of another message")
    values = {
        "id": message_id,
        "sender": sender,
        "sent_by": context.user_id(entry.user),
        "sent_at": entry.at,
        "ack_deadline": deadline,
        "ack_within_s": within,
        "content": canonical_json(content).decode("utf-8"),
        "content_hash": content_hash(content),
        "entry": entry.index,
    }
    put_message(context.session.connection(), values, to)


def _checked(context: Redoing, entry: Redone) -> None:
    if entry.author != context.origin:
        raise ValueError(f"a check is the center's, not {entry.author}'s")
    message_id = str(entry.event["id"])
    if _message(context, entry) is None:
        return
    rows = [
        {
            "entry": entry.index,
            "party": party,
            "subject": message_id,
            "commitment": decode_base64(committed, what="commitment", size=32),
            "salt": b"",  # what the party was shown: in no entry
            "content": "",
        }
        for party, committed in sorted(entry.event["checks"].items())
    ]
    context.session.execute(_checks.insert(), rows)


def _acknowledged(context: Redoing, entry: Redone) -> None:
    message = _message(context, entry)
    if message is None:
        return
    named = str(entry.event["content_hash"])
    _recipient(context, message["id"], entry.author)
    if named != message["content_hash"]:
        raise ValueError(f"message {message['id']} does not have the hash {named}")
    put_acknowledgement(
        context.session.connection(), message["id"], entry.author,
        at=entry.at, user_id=context.user_id(entry.user), content_hash=named, entry=entry.index,
    )  # fmt: skip


def _step(context: Redoing, entry: Redone) -> None:
    """A step as :func:`~accord.center.escalation.store.record_step` wrote it, with the
    recipient's standing moved on as :func:`~accord.rules.escalation.next_step` moved it."""
    if entry.author != context.origin:
        raise ValueError(f"an escalation step is the center's, not {entry.author}'s")
    message = _message(context, entry)
    if message is None:
        return
    event = entry.event
    kind = "escalated" if entry.kind == "message.escalated" else "overdue"
    party, level, due = str(event["to"]), int(event["level"]), parse_instant(event["due"])
    skipped = [str(role) for role in event["skipped"]]
    standing = _recipient(context, message["id"], party)
    if standing["due_at"] != due or level != standing["level"] + (kind == "escalated"):
        raise ValueError(f"{party} is not due at {due} on level {level - 1}")
    deadline = parse_instant(event["deadline"]) if kind == "escalated" else None
    row = context.session.get(Recipient, (message["id"], party))
    if row is None:  # read just above
        raise KeyError(f"{party} is no recipient of message {message['id']}")
    position = row.position + 1 + len(skipped) if kind == "escalated" else row.position
    store_step(
        context.session, kind="message", subject=message["id"], party=party, standing=row,
        step=StoredStep(
            kind, level, position, entry.at, due, deadline,
            role=str(event["role"]) if kind == "escalated" else None,
            contact=None,  # the user alerted: the entry names the role only
            skipped=tuple((role, "") for role in skipped),  # users: not recorded
        ),
        entry=entry.index,
    )  # fmt: skip


REDO: Mapping[str, Redo] = {
    "message.sent": _sent,
    "message.checked": _checked,
    "message.acknowledged": _acknowledged,
    "message.escalated": _step,
    "message.overdue": _step,
}
