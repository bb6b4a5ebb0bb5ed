"""Live events: what the service tells subscribers of ``GET /v1/events``, each event cut to
what its audience may see.

A change publishes its events with :func:`publish` inside its own unit of work, so an event
exists exactly when the change it announces was committed; subscribers read the ``events``
table after the last id they saw (:func:`events_for`). The *publisher* decides the audience
(the members who may see the event) and the payload (already redacted for that audience:
if two audiences may see different things, publish two events). Nothing else filters, so
nothing else can leak.

On PostgreSQL the unit of work that published sends ``NOTIFY accord_events`` once per
transaction, just before it commits (:func:`notify_pending`; delivered at commit), so that
every server process wakes its subscribers at once instead of polling.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from accord.center.db.fast import Prepared
from accord.center.db.models import Event

__all__ = [
    "CHANNEL",
    "LiveEvent",
    "events_for",
    "newest_id",
    "notify_pending",
    "publish",
    "publish_all",
]

CHANNEL = "accord_events"
"""The PostgreSQL notification channel."""

_PUBLISHED = "accord.published"
"""``Session.info`` key: events were published in the session's open transaction."""

_events = cast(Table, Event.__table__)
_PUT = Prepared(insert(_events))


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """An event as a subscriber receives it."""

    id: int
    at: datetime
    kind: str
    payload: dict[str, Any]


def publish(
    session: Session,
    *,
    kind: str,
    at: datetime,
    audience: Iterable[str],
    payload: Mapping[str, Any],
) -> None:
    """Queue an event for the members in ``audience``, in ``session``'s transaction (a
    unit of work's: it sends the notification, see :func:`notify_pending`)."""
    members = sorted(set(audience))
    if not members:
        return
    _PUT.execute(
        session.connection(),
        {
            "at": at,
            "kind": kind,
            "audience": json.dumps(members),
            "payload": json.dumps(dict(payload), separators=(",", ":"), sort_keys=True),
        },
    )
    session.info[_PUBLISHED] = True


def publish_all(
    session: Session,
    *,
    kind: str,
    at: datetime,
    each: Iterable[tuple[Iterable[str], Mapping[str, Any]]],
) -> None:
    """:func:`publish` for each ``(audience, payload)``, in order, in one statement."""
    rows = []
    for audience, payload in each:
        members = sorted(set(audience))
        if members:
            rows.append(
                {
                    "at": at,
                    "kind": kind,
                    "audience": json.dumps(members),
                    "payload": json.dumps(dict(payload), separators=(",", ":"), sort_keys=True),
                }
            )
    if rows:
        _PUT.execute(session.connection(), rows)
        session.info[_PUBLISHED] = True


def notify_pending(session: Session) -> None:
    """Just before ``session`` commits: on PostgreSQL, ``NOTIFY`` the other processes once
    if events were published in its transaction (delivered at commit; one that was rolled
    back to a savepoint only makes a subscriber look and find nothing new)."""
    if session.info.pop(_PUBLISHED, False) and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def newest_id(session: Session) -> int:
    """The id of the newest event (0 when there is none): whatever is committed after this
    read is announced by an event after it. The same for every caller (every subscriber of
    ``GET /v1/events`` is told it by its stream's first message)."""
    return int(session.scalar(select(func.max(Event.id))) or 0)


def events_for(session: Session, member: str, *, after: int, limit: int = 100) -> list[LiveEvent]:
    """The events after id ``after`` that ``member`` may see, oldest first (at most
    ``limit``; fewer when the table ends)."""
    out: list[LiveEvent] = []
    last = after
    while len(out) < limit:
        rows = session.scalars(
            select(Event).where(Event.id > last).order_by(Event.id).limit(limit * 4)
        ).all()
        if not rows:
            break
        for row in rows:
            last = row.id
            if member in json.loads(row.audience):
                out.append(LiveEvent(row.id, row.at, row.kind, json.loads(row.payload)))
                if len(out) == limit:
                    break
    return out
