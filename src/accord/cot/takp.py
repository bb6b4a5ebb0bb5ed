"""TAK protocol negotiation on a streaming connection, as a server that speaks XML only.

From TAK's ``protocol.txt`` ("Streaming Connection Protocol Negotiation", commoncommo, as
shipped in ``takproto``): a server MAY announce the TAK protocol versions it supports, once
per connection, with a ``t-x-takp-v`` event (``TakControl/TakProtocolSupport@version``, one
element per version); a client that saw it MAY ask for one with ``t-x-takp-q``
(``TakRequest@version``), reusing the announcement's uid, and then sends nothing until the
server answers ``t-x-takp-r`` (``TakResponse@status``, ``true`` or ``false``, the same uid).
On ``false`` both sides stay on XML (version 0) and the client may ask again.

Accord announces version 0 only and refuses any other: a client that would switch to
protobuf (version 1) stays on XML, which every TAK client must read. A request for version 0
is accepted (nothing changes).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from accord.cot.model import Detail, Event, Point, TakControl

__all__ = [
    "ANSWER",
    "OFFER",
    "PING",
    "PONG",
    "REQUEST",
    "XML",
    "control_answer",
    "protocol_response",
    "protocol_support",
    "requested_version",
]

XML = 0
"""TAK protocol version 0: CoT as XML, the only one Accord speaks."""

OFFER = "t-x-takp-v"
REQUEST = "t-x-takp-q"
ANSWER = "t-x-takp-r"

_STALE = timedelta(seconds=60)  # as TAK Server sends its announcement
_ORIGIN = Point(lat=0.0, lon=0.0, hae=0.0)


def protocol_support(*, uid: str, at: datetime, versions: tuple[int, ...] = (XML,)) -> Event:
    """The announcement a server sends once per connection: the versions it supports
    (``uid``: a fresh one per connection, the "protouid" the client's request reuses)."""
    return Event(
        uid=uid,
        type=OFFER,
        how="m-g",
        time=at,
        start=at,
        stale=at + _STALE,
        point=_ORIGIN,
        detail=Detail(takcontrol=TakControl(support=versions)),
    )


def requested_version(event: Event) -> int | None:
    """The version a client's ``t-x-takp-q`` asks for; ``None`` for any other event."""
    control = event.detail.takcontrol
    if event.type != REQUEST or control is None:
        return None
    return control.request


def protocol_response(request: Event, *, at: datetime, versions: tuple[int, ...] = (XML,)) -> Event:
    """The answer to a client's request: ``status="true"`` only for a version in ``versions``
    (version 0: the stream stays XML), ``false`` otherwise (the client stays on XML). Raises
    ``ValueError`` for an event that is no request."""
    version = requested_version(request)
    if version is None:
        raise ValueError(f"not a {REQUEST} request: {request.type}")
    return Event(
        uid=request.uid,
        type=ANSWER,
        how="m-g",
        time=at,
        start=at,
        stale=at + _STALE,
        point=_ORIGIN,
        detail=Detail(takcontrol=TakControl(response=version in versions)),
    )


PING = "t-x-c-t"
"""A client's keep-alive; the server answers :data:`PONG` with the same uid."""
PONG = "t-x-c-t-r"


def control_answer(event: Event, *, at: datetime, pong_stale: timedelta) -> Event | None:
    """What a server answers to a client's control event: the protocol response to a
    ``t-x-takp-q``, a pong (``stale`` ``pong_stale`` after ``at``) to a ping; ``None`` for
    any other event (not a control event: the caller's to act on)."""
    if requested_version(event) is not None:
        return protocol_response(event, at=at)
    if event.type == PING:
        return replace(event, type=PONG, time=at, start=at, stale=at + pong_stale)
    return None
