"""``/v1/messages``, ``/v1/contacts``, ``/v1/presence``: the direct line — messages,
acknowledgements naming the content's hash, contact chains, presence by heartbeat and
escalation (see :mod:`accord.center.directline`; chains, presence and the steps are
:mod:`accord.center.escalation`'s, served here).

Officers and approvers of a party use all of it (the chain is set by officers); monitors read
messages' metadata only; notifiers and administrators are refused (403). Reads first write
any escalation step that has come due, so what a reader sees is never stale by more than the
background task's tick.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from accord.center import visibility
from accord.center.checks.views import CheckOpeningOut
from accord.center.directline.escalation import escalate_due
from accord.center.directline.messages import Draft, acknowledge, check_draft, send
from accord.center.directline.reading import (
    NAMES,
    check_opening_of,
    list_messages,
    message_view,
    opening_of,
    written_view,
)
from accord.center.directline.views import MessageOut, OpeningOut
from accord.center.escalation.contacts import MAX_DUTY, contacts_of, heartbeat, set_contacts
from accord.center.escalation.views import ContactsOut, PresenceOut
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, AcknowledgeIn, CenterDep, problem
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center, Unit

router = APIRouter(prefix="/v1", tags=["direct-line"], responses=ERRORS)

MAX_PAGE = 200
"""The most messages one page of ``GET /v1/messages`` returns."""

_PARTY = allow(Role.OFFICER, Role.APPROVER)
_READERS = allow(*visibility.MESSAGE_READERS)
Party = Annotated[Caller, Depends(_PARTY)]
Reader = Annotated[Caller, Depends(_READERS)]
Officer = Annotated[Caller, Depends(allow(Role.OFFICER))]

_NOT_FOUND = problem(404, "No such message, or not one between the caller's party and another")


def _unicode(value: str) -> str:
    value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("a user name is printable text")
    return value


Text = Annotated[str, AfterValidator(_unicode)]
UserName = Annotated[Text, AfterValidator(_printable), Field(min_length=1, max_length=64)]
MessageId = Annotated[str, Path(pattern=r"^m-[0-9a-f]{16}$", description="m- and 16 hex digits")]


class MessageIn(BaseModel):
    """A message to one or more other parties. ``geometry`` is a GeoJSON geometry (Point,
    MultiPoint, LineString, Polygon) whose coordinates are kept exactly as given;
    ``ack_within`` an ISO 8601 duration from PT1M to PT24H (default PT15M)."""

    model_config = ConfigDict(extra="forbid")

    to: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=16
    )
    subject: Text = Field(min_length=1, max_length=200)
    text: Text = Field(min_length=1, max_length=10_000)
    geometry: dict[str, Any] | None = None
    refers_to: Text | None = Field(default=None, min_length=1, max_length=64)
    ack_within: str | None = Field(default=None, min_length=1, max_length=32)


class AcknowledgedOut(BaseModel):
    """The acknowledgement as recorded, and the message after it."""

    id: str
    party: str
    content_hash: str
    acknowledged_at: datetime
    entry: int
    message: MessageOut


class ContactsIn(BaseModel):
    """The party's chain: users (officers or approvers) of the caller's party."""

    model_config = ConfigDict(extra="forbid")

    primary: UserName
    backup: UserName | None = None
    duty: list[UserName] = Field(default_factory=list, max_length=MAX_DUTY)


# --- the works the writer runs (module functions: a writer process receives them pickled) --


def _send(unit: Unit, *, caller: Caller, draft: Draft, at: datetime) -> MessageOut:
    message, recipients = send(unit, caller, draft, at)
    names_of = unit.center.cache(NAMES)
    return written_view(unit.session, caller, message, recipients, at, names_of=names_of)


def _acknowledge(
    unit: Unit, *, caller: Caller, message_id: str, content_hash: str, at: datetime
) -> AcknowledgedOut:
    message, recipients = acknowledge(unit, caller, message_id, content_hash, at)
    names_of = unit.center.cache(NAMES)
    view = written_view(unit.session, caller, message, recipients, at, names_of=names_of)
    (own,) = [r for r in view.recipients if r.party == caller.member]
    assert own.acknowledged_entry is not None
    return AcknowledgedOut(
        id=message.id,
        party=caller.member,
        content_hash=message.content_hash,
        acknowledged_at=at,
        entry=own.acknowledged_entry,
        message=view,
    )


def _catch_up(center: Center) -> None:
    escalate_due(center, center.now())


@router.post(
    "/messages",
    response_model=MessageOut,
    status_code=201,
    summary="Send a message on the direct line",
    responses=CONFLICT,
)
async def send_message(
    center: CenterDep,
    request: Request,
    caller: Party,
    body: Annotated[MessageIn, Body()],
) -> JSONResponse:
    """Send a message from the caller's party to other parties. The server fixes its content
    and ``content_hash`` (SHA-256 of the content's canonical JSON, hex); the record entry
    ``message.sent`` holds a salted commitment to it, never the text or the geometry."""
    draft = check_draft(
        center.agreement,
        caller.member,
        to=body.to,
        subject=body.subject,
        text=body.text,
        geometry=body.geometry,
        refers_to=body.refers_to,
        ack_within=body.ack_within,
    )
    act = partial(_send, caller=caller, draft=draft, at=center.now())
    return await write(center, request, caller, act, body=body)


@router.get("/messages", response_model=list[MessageOut], summary="List messages")
def get_messages(
    center: CenterDep,
    caller: Reader,
    box: Annotated[Literal["in", "out"] | None, Query(description="received or sent")] = None,
    open_only: Annotated[
        bool, Query(alias="open", description="only those awaiting acknowledgement")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[MessageOut]:
    """The caller's party's sent and received messages, newest first, with each recipient's
    acknowledgement and escalation state. Monitors get every message's metadata (no
    content; ``box`` does not apply to them)."""
    _catch_up(center)
    now = center.now()
    with center.reading() as session:
        return list_messages(
            session,
            caller,
            box=box,
            open_only=open_only,
            limit=limit,
            now=now,
            names_of=center.cache(NAMES),
        )


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="One message",
    responses=_NOT_FOUND,
)
def get_message(center: CenterDep, caller: Reader, message_id: MessageId) -> MessageOut:
    """A message, for its sender and recipients (monitors: metadata only); anyone else gets
    the 404 of an id that does not exist."""
    _catch_up(center)
    now = center.now()
    with center.reading() as session:
        return message_view(session, caller, message_id, now, names_of=center.cache(NAMES))


@router.get(
    "/messages/{message_id}/opening",
    response_model=OpeningOut,
    summary="The opening of a message's record commitment",
    responses=_NOT_FOUND,
)
def get_opening(center: CenterDep, caller: Party, message_id: MessageId) -> OpeningOut:
    """Salt and content that open the commitment in the ``message.sent`` entry, for the
    sender and the recipients: either can prove to any holder of the record what was sent."""
    with center.reading() as session:
        return opening_of(session, caller, message_id)


@router.get(
    "/messages/{message_id}/check",
    response_model=CheckOpeningOut,
    summary="The opening of what the center's check of a message showed the caller's party",
    responses=_NOT_FOUND,
)
def get_check(center: CenterDep, caller: Party, message_id: MessageId) -> CheckOpeningOut:
    """Salt and content that open the caller's party's commitment in the
    ``message.checked`` entry: what the center warned it of when the message was sent (the
    objects near its geometry it may see). The sender and the recipients each get their
    own, never another's."""
    with center.reading() as session:
        return check_opening_of(session, caller, message_id)


@router.post(
    "/messages/{message_id}/acknowledge",
    response_model=AcknowledgedOut,
    status_code=201,
    summary="Acknowledge a message, naming the hash of what was received",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def acknowledge_message(
    center: CenterDep,
    request: Request,
    caller: Party,
    message_id: MessageId,
    body: Annotated[AcknowledgeIn, Body()],
) -> JSONResponse:
    """Acknowledge for the caller's party (a recipient). ``content_hash`` must be the
    message's: a different one is refused (409, field ``content_hash``). Once per party. A
    receipt, never an approval."""
    act = partial(
        _acknowledge,
        caller=caller,
        message_id=message_id,
        content_hash=body.content_hash,
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body)


@router.put("/contacts", response_model=ContactsOut, summary="Set the party's contact chain")
async def put_contacts(
    center: CenterDep,
    request: Request,
    caller: Officer,
    body: Annotated[ContactsIn, Body()],
) -> JSONResponse:
    """Replace the chain unacknowledged messages escalate along: primary, backup, duty
    officers, in that order (users of the caller's party)."""
    act = partial(
        set_contacts,
        caller=caller,
        primary=body.primary,
        backup=body.backup,
        duty=body.duty,
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body, status=200)


@router.get("/contacts", response_model=ContactsOut, summary="The party's contact chain")
def get_contacts(center: CenterDep, caller: Party) -> ContactsOut:
    """The caller's own party's chain and who on it is present now."""
    now = center.now()
    with center.reading() as session:
        return contacts_of(session, caller.member, now)


@router.post(
    "/presence", response_model=PresenceOut, status_code=201, summary="Heartbeat: I am present"
)
async def post_presence(center: CenterDep, request: Request, caller: Party) -> JSONResponse:
    """The caller is on duty now; without a heartbeat for five minutes they count as absent
    and escalation skips them."""
    return await write(center, request, caller, partial(heartbeat, caller=caller, at=center.now()))
