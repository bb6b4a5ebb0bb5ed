"""The visibility policy: who may see what the center holds — the one place that decides.

Every list, detail, event, export and the picture asks this module; nothing else decides
visibility. A *reader* is a member (a party, a notifier or a monitor) and the role its user
holds there (:class:`Reader`). The rules, from the brief's disclosure section:

**Objects** — declarations, tracks, flight plans — (:func:`sees_object`, its SQL twin
:func:`objects_where`, and the members told of a change, :func:`object_audience`):

* an administrator sees none (it runs users and the center, not operations);
* a member sees its own, whatever their disclosure;
* a notifier sees nothing else;
* an officer, an approver or a monitor sees other members' ``shared`` objects, never their
  ``center`` ones.

**The air picture** — tracks, airspace alerts, a flight plan's probe — is read by officers,
approvers and monitors (:func:`reads_air_picture`); a track is seen as an object
(:func:`sees_track`, :func:`tracks_where`, :func:`track_audience`).

**Airspace alerts** (:func:`sees_alert`, :func:`alert_audience`): a monitor reads every
alert, an officer or approver the alerts that concern its party; an ``exempt`` passage is
recorded and read by nobody. Within an alert, each aircraft is cut by :func:`sees_track`.

**Direct-line messages** (:func:`sees_message`, :func:`messages_where`,
:func:`reads_message_content`): a party's officers and approvers see the messages their
party sent or received, content included; a monitor sees every message's metadata and
commitment, never its content.

**Incident and violation reports** and their answers (:func:`sees_report`,
:func:`reports_where`, :func:`report_audience`) are public to every member of the agreement —
its parties, notifiers and monitors (their users of every role but the administrator's, who
reads no party's content): a ceasefire's reports are meant to be seen by all it binds, and
the record holds them in clear.

**TAK devices** connected to the center (:func:`sees_device`, :func:`sees_device_report`): an
administrator sees the connections of its own member's users (who, device, transport, since,
last event), never another member's; an officer or approver sees only its own user's; what a
device reported of itself (its last position) is its user's own, shown to that user only.

**Drafts** — the shapes a member's devices drew (:func:`sees_draft`, :func:`drafts_where`,
:func:`draft_audience`): its own member's officers and approvers alone, never another
member's users of any role, nor its own administrator (who reads no party's content).

**Conflicts** of an operation (:func:`conflict_viewer`, :func:`conflict_audiences`): each
party sees the findings about objects it may see in full, and of another party's ``center``
object only its kind, party and that it blocks (the cut is
:meth:`accord.deconfliction.Conflict.visible_to`); a monitor sees what every party sees of
everyone (:data:`NOBODY`'s view).

The audiences are the members a change's live event goes to; a member receives an event
when some role it holds may see what the event is about. The property tests in
``tests/center/test_visibility.py`` hold the SQL forms equal to the Python forms on random
worlds and readers, and each audience equal to the members whose readers may see.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import ColumnElement, SQLColumnExpression, false, or_, true

from accord.agreement import Agreement
from accord.center.roles import Role

__all__ = [
    "AIR_PICTURE_READERS",
    "COMPLIANCE_READERS",
    "DECLARATION_READERS",
    "DEVICE_READERS",
    "DRAFT_READERS",
    "MESSAGE_READERS",
    "NOBODY",
    "OPERATION_READERS",
    "PICTURE_READERS",
    "RECORD_READERS",
    "REPORT_READERS",
    "SHARED",
    "NamedReader",
    "PictureView",
    "Reader",
    "Viewer",
    "acknowledgement_audience",
    "acknowledgements_where",
    "air_picture_members",
    "alert_audience",
    "alert_reader",
    "conflict_audiences",
    "conflict_viewer",
    "draft_audience",
    "drafts_where",
    "events_member",
    "in_clear",
    "messages_where",
    "object_audience",
    "objects_where",
    "picture_view",
    "reads_air_picture",
    "reads_message_content",
    "reads_operations",
    "report_audience",
    "reports_where",
    "sees_acknowledgement",
    "sees_alert",
    "sees_device",
    "sees_device_report",
    "sees_draft",
    "sees_every_message",
    "sees_message",
    "sees_object",
    "sees_report",
    "sees_track",
    "track_audience",
    "tracks_where",
]

SHARED = "shared"
"""The disclosure of an object every party and monitor may see (``center``: its owner only)."""

NOBODY = ""
"""The viewer who owns nothing: what every reader may see (a monitor's view of conflicts,
and the record's)."""

# Who reads each part of the center at all (the routes' gates); within a part, the rules
# below cut what each reader sees.
DECLARATION_READERS = (Role.OFFICER, Role.APPROVER, Role.NOTIFIER, Role.MONITOR)
"""The roles that list and read declarations (each cut by :func:`sees_object`)."""
OPERATION_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR)
"""The roles that read operations (their conflicts cut by :func:`conflict_viewer`)."""
AIR_PICTURE_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR)
"""The roles that read the air picture: tracks, airspace alerts, flight-plan probes."""
MESSAGE_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR)
"""The roles that read direct-line messages (a monitor their metadata only)."""
PICTURE_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR, Role.NOTIFIER)
"""The roles that read the picture replayed from the record."""
COMPLIANCE_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR)
"""The roles that read the compliance report."""
RECORD_READERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR, Role.ADMIN)
"""The roles that read the record itself (entries hold commitments for hidden content)."""
REPORT_READERS = (Role.OFFICER, Role.APPROVER, Role.NOTIFIER, Role.MONITOR)
"""The roles that read incident and violation reports and their answers (all of them)."""
DEVICE_READERS = (Role.ADMIN, Role.OFFICER, Role.APPROVER)
"""The roles that list connected TAK devices (each cut by :func:`sees_device`)."""

DRAFT_READERS = (Role.OFFICER, Role.APPROVER)
"""The roles that read and write their member's drafts (each cut by :func:`sees_draft`)."""

_EXEMPT = "exempt"


class Reader(Protocol):
    """Whoever reads: a member and the role its user holds there (a
    :class:`accord.center.identity.Caller` is one)."""

    @property
    def member(self) -> str: ...

    @property
    def role(self) -> Role: ...


class NamedReader(Reader, Protocol):
    """A reader who is one user (a :class:`accord.center.identity.Caller`): what the rules
    about a user's own things need."""

    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Viewer:
    """A :class:`Reader` made of its two parts (where no caller is at hand: an event's
    audience, a background job)."""

    member: str
    role: Role


# --- objects --------------------------------------------------------------------------------


def sees_object(reader: Reader, *, owner: str, disclosure: str) -> bool:
    """Whether ``reader`` may see an object of ``owner`` with ``disclosure``.

    >>> officer = Viewer("red", Role.OFFICER)
    >>> sees_object(officer, owner="blue", disclosure="shared")
    True
    >>> sees_object(officer, owner="blue", disclosure="center")
    False
    >>> sees_object(Viewer("hnc", Role.NOTIFIER), owner="blue", disclosure="shared")
    False
    >>> sees_object(Viewer("blue", Role.ADMIN), owner="blue", disclosure="shared")
    False
    """
    if reader.role is Role.ADMIN:
        return False
    if owner == reader.member:
        return True
    if reader.role is Role.NOTIFIER:
        return False
    return disclosure == SHARED


def in_clear(disclosure: str) -> bool:
    """Whether an object's content may appear where every party and monitor reads — the
    record, a monitor's view, a compliance finding — rather than as a commitment only its
    owner opens: what a reader who owns nothing (:data:`NOBODY`, a monitor) may see of
    anyone's object.

    >>> in_clear("shared"), in_clear("center")
    (True, False)
    """
    return disclosure == SHARED


def objects_where(
    reader: Reader, *, owner: SQLColumnExpression[str], disclosure: SQLColumnExpression[str]
) -> ColumnElement[bool]:
    """:func:`sees_object` as a condition on a table's ``owner`` and ``disclosure`` columns."""
    if reader.role is Role.ADMIN:
        return false()
    own = owner == reader.member
    if reader.role is Role.NOTIFIER:
        return own
    return or_(own, disclosure == SHARED)


def object_audience(agreement: Agreement, *, owner: str, disclosure: str) -> frozenset[str]:
    """The members told of a change to an object of ``owner`` with ``disclosure``: its owner,
    and every party and monitor when it is ``shared``.

    >>> from accord.agreement import load_agreement
    >>> from accord.examples import example_path
    >>> jig = load_agreement(example_path("jig.yaml"))
    >>> sorted(object_audience(jig, owner="blue", disclosure="center"))
    ['blue']
    """
    if disclosure == SHARED:
        return agreement.party_ids | agreement.monitor_ids | {owner}
    return frozenset({owner})


# --- events -------------------------------------------------------------------------------


def events_member(reader: Reader) -> str:
    """Whose live events ``reader`` receives: every event names its audience by member (the
    publisher cuts each for it, with the rules here), so a reader receives its member's —
    except an administrator, who reads no party's content and receives none (:data:`NOBODY`,
    whom no audience names).

    >>> events_member(Viewer("blue", Role.APPROVER)), events_member(Viewer("blue", Role.ADMIN))
    ('blue', '')
    """
    return NOBODY if reader.role is Role.ADMIN else reader.member


# --- direct-line messages -------------------------------------------------------------------


def sees_every_message(reader: Reader) -> bool:
    """Whether ``reader`` sees every direct-line message's metadata, not only its party's
    (a monitor; it reads no content).

    >>> sees_every_message(Viewer("observers", Role.MONITOR))
    True
    >>> sees_every_message(Viewer("blue", Role.APPROVER))
    False
    """
    return reader.role is Role.MONITOR


def sees_message(reader: Reader, *, sender: str, recipients: Collection[str]) -> bool:
    """Whether ``reader`` may see that a direct-line message exists (its metadata: parties,
    times, acknowledgements): a monitor every message, a party's officer or approver the
    messages its party sent or received.

    >>> sees_message(Viewer("observers", Role.MONITOR), sender="red", recipients=["blue"])
    True
    >>> sees_message(Viewer("hnc", Role.NOTIFIER), sender="hnc", recipients=["blue"])
    False
    """
    if reader.role not in MESSAGE_READERS:
        return False
    return sees_every_message(reader) or reads_message_content(
        reader, sender=sender, recipients=recipients
    )


def reads_message_content(reader: Reader, *, sender: str, recipients: Collection[str]) -> bool:
    """Whether ``reader`` may read a message's content (and its opening): its sender's and
    recipients' officers and approvers; a monitor sees the commitment only.

    >>> reads_message_content(Viewer("blue", Role.APPROVER), sender="red", recipients=["blue"])
    True
    >>> reads_message_content(Viewer("observers", Role.MONITOR), sender="red", recipients=["blue"])
    False
    """
    if reader.role not in (Role.OFFICER, Role.APPROVER):
        return False
    return reader.member == sender or reader.member in recipients


def messages_where(
    reader: Reader, *, sender: SQLColumnExpression[str], received: ColumnElement[bool]
) -> ColumnElement[bool]:
    """:func:`sees_message` as a condition on ``messages`` (``received``: the condition that
    the reader's member is among a message's recipients)."""
    if reader.role not in MESSAGE_READERS:
        return false()
    if sees_every_message(reader):
        return true()
    return or_(sender == reader.member, received)


# --- acknowledgements ----------------------------------------------------------------------


def sees_acknowledgement(reader: Reader, *, owner: str, acknowledger: str) -> bool:
    """Whether ``reader`` may see a member's acknowledgement of a declaration it may see: the
    declaration's owner sees every one, the acknowledging member its own.

    >>> sees_acknowledgement(Viewer("hnc", Role.NOTIFIER), owner="hnc", acknowledger="red")
    True
    >>> sees_acknowledgement(Viewer("blue", Role.OFFICER), owner="hnc", acknowledger="red")
    False
    """
    return reader.member in (owner, acknowledger)


def acknowledgements_where(
    reader: Reader, *, owner: SQLColumnExpression[str], acknowledger: SQLColumnExpression[str]
) -> ColumnElement[bool]:
    """:func:`sees_acknowledgement` as a condition (the declaration's ``owner`` column joined)."""
    return or_(owner == reader.member, acknowledger == reader.member)


def acknowledgement_audience(*, owner: str, acknowledger: str) -> frozenset[str]:
    """The members told of an acknowledgement: the declaration's owner and the acknowledger."""
    return frozenset({owner, acknowledger})


# --- the air picture ------------------------------------------------------------------------


def reads_air_picture(role: Role) -> bool:
    """Whether a user of ``role`` reads tracks, airspace alerts and flight-plan probes."""
    return role in AIR_PICTURE_READERS


def sees_track(reader: Reader, *, owner: str, disclosure: str) -> bool:
    """Whether ``reader`` may see an aircraft of ``owner`` (its party, or its operator when
    it has none) with ``disclosure``.

    >>> sees_track(Viewer("red", Role.OFFICER), owner="blue", disclosure="center")
    False
    >>> sees_track(Viewer("observers", Role.MONITOR), owner="blue", disclosure="shared")
    True
    >>> sees_track(Viewer("hnc", Role.NOTIFIER), owner="hnc", disclosure="shared")
    False
    """
    return reads_air_picture(reader.role) and sees_object(
        reader, owner=owner, disclosure=disclosure
    )


def tracks_where(
    reader: Reader, *, owner: SQLColumnExpression[str], disclosure: SQLColumnExpression[str]
) -> ColumnElement[bool]:
    """:func:`sees_track` as a condition on the ``tracks`` table's columns."""
    if not reads_air_picture(reader.role):
        return false()
    return objects_where(reader, owner=owner, disclosure=disclosure)


def air_picture_members(agreement: Agreement) -> list[str]:
    """Every member some user of which reads the air picture: the parties and monitors."""
    return sorted(agreement.party_ids | agreement.monitor_ids)


def track_audience(agreement: Agreement, *, owner: str, disclosure: str) -> tuple[str, ...]:
    """The members told of an aircraft's new report: every party and monitor for a
    ``shared`` one, its owner alone for a ``center`` one (nobody, when its owner is an
    operator or a member no user of which reads the air picture)."""
    members = air_picture_members(agreement)
    if disclosure == SHARED:
        return tuple(members)
    return (owner,) if owner in members else ()


# --- airspace alerts ------------------------------------------------------------------------


def sees_alert(reader: Reader, *, kind: str, parties: Collection[str]) -> bool:
    """Whether ``reader`` may read an airspace alert of ``kind`` concerning ``parties``.

    >>> sees_alert(Viewer("red", Role.APPROVER), kind="conflict", parties=["red", "blue"])
    True
    >>> sees_alert(Viewer("green", Role.OFFICER), kind="conflict", parties=["red", "blue"])
    False
    >>> sees_alert(Viewer("observers", Role.MONITOR), kind="exempt", parties=["red"])
    False
    """
    if kind == _EXEMPT or not reads_air_picture(reader.role):
        return False
    return reader.role is Role.MONITOR or reader.member in parties


def alert_audience(agreement: Agreement, parties: Iterable[str]) -> list[str]:
    """The members told of an alert concerning ``parties``: those parties and every monitor
    (the alert's aircraft are cut for each by :func:`sees_track`)."""
    return sorted((set(parties) & agreement.party_ids) | agreement.monitor_ids)


def alert_reader(agreement: Agreement, member: str) -> Viewer:
    """The reader an alert event is cut for, for ``member`` of its audience."""
    role = Role.MONITOR if member in agreement.monitor_ids else Role.OFFICER
    return Viewer(member, role)


# --- incident and violation reports -------------------------------------------------------


def sees_report(reader: Reader) -> bool:
    """Whether ``reader`` may read incident and violation reports and their answers: every
    member's users but administrators (reports are public to the whole agreement).

    >>> sees_report(Viewer("hnc", Role.NOTIFIER)), sees_report(Viewer("red", Role.OFFICER))
    (True, True)
    >>> sees_report(Viewer("blue", Role.ADMIN))
    False
    """
    return reader.role in REPORT_READERS


def reports_where(reader: Reader) -> ColumnElement[bool]:
    """:func:`sees_report` as a condition on the ``reports`` table."""
    return true() if sees_report(reader) else false()


def report_audience(agreement: Agreement) -> frozenset[str]:
    """The members told of a report filed or answered: every party, notifier and monitor."""
    return agreement.party_ids | agreement.notifier_ids | agreement.monitor_ids


# --- conflicts ------------------------------------------------------------------------------


def conflict_viewer(reader: Reader) -> str:
    """Whose eyes an operation's conflicts are cut for (:meth:`Conflict.visible_to`): a
    party's own, a monitor's (and anyone else's) :data:`NOBODY`'s.

    >>> conflict_viewer(Viewer("blue", Role.APPROVER)), conflict_viewer(
    ...     Viewer("observers", Role.MONITOR))
    ('blue', '')
    """
    if reader.role in (Role.OFFICER, Role.APPROVER, Role.NOTIFIER):
        return reader.member
    return NOBODY


def conflict_audiences(agreement: Agreement) -> Iterator[tuple[list[str], str]]:
    """(audience, viewer) for an operation's live event: each party alone with its own
    view, then every monitor together with :data:`NOBODY`'s."""
    for party in sorted(agreement.party_ids):
        yield [party], party
    yield sorted(agreement.monitor_ids), NOBODY


# --- the picture replayed from the record ---------------------------------------------------


PictureView = Literal["party", "shared", "own"]
"""Which cut of the record's picture a reader gets."""


def picture_view(reader: Reader) -> PictureView | None:
    """The cut of the picture ``reader`` gets: its party's (an officer or approver: what
    its party may see, and its own unopened entries), what is shared (a monitor), its own
    declarations and no operations (a notifier); ``None`` for an administrator, who has no
    picture.

    >>> picture_view(Viewer("hnc", Role.NOTIFIER)), picture_view(Viewer("blue", Role.OFFICER))
    ('own', 'party')
    """
    if reader.role in (Role.OFFICER, Role.APPROVER):
        return "party"
    if reader.role is Role.MONITOR:
        return "shared"
    if reader.role is Role.NOTIFIER:
        return "own"
    return None


def reads_operations(reader: Reader) -> bool:
    """Whether ``reader`` reads operations (:data:`OPERATION_READERS`)."""
    return reader.role in OPERATION_READERS


# --- TAK devices ----------------------------------------------------------------------------


def sees_device(reader: NamedReader, *, user: str, member: str) -> bool:
    """Whether ``reader`` may see that ``user`` of ``member`` has a device connected: an
    administrator, its own member's; an officer or approver, its own user's; nobody else.

    >>> admin = Viewer("blue", Role.ADMIN)
    >>> class Named(Viewer):
    ...     name = "blue-officer"
    >>> officer = Named("blue", Role.OFFICER)
    >>> sees_device(officer, user="blue-officer", member="blue")
    True
    >>> sees_device(officer, user="blue-approver", member="blue")
    False
    """
    if reader.role is Role.ADMIN:
        return member == reader.member
    if reader.role in (Role.OFFICER, Role.APPROVER):
        return user == reader.name and member == reader.member
    return False


def sees_device_report(reader: NamedReader, *, user: str, member: str) -> bool:
    """Whether ``reader`` may see what a device of ``user`` of ``member`` reported of
    itself (its last position): that user alone — not its administrator, never another
    party."""
    return (
        reader.role in (Role.OFFICER, Role.APPROVER)
        and user == reader.name
        and member == reader.member
    )


# --- drafts ---------------------------------------------------------------------------------


def sees_draft(reader: Reader, *, member: str) -> bool:
    """Whether ``reader`` may see (and save or delete) a draft of ``member``: an officer or
    approver of that member; nobody else — not another member in any role, not the member's
    own administrator or anyone the member's role list does not name.

    >>> sees_draft(Viewer("blue", Role.OFFICER), member="blue")
    True
    >>> sees_draft(Viewer("red", Role.OFFICER), member="blue")
    False
    >>> sees_draft(Viewer("blue", Role.ADMIN), member="blue")
    False
    """
    return reader.role in DRAFT_READERS and member == reader.member


def drafts_where(reader: Reader, *, member: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """:func:`sees_draft` as a condition on a table's ``member`` column."""
    if reader.role not in DRAFT_READERS:
        return false()
    return member == reader.member


def draft_audience(*, member: str) -> frozenset[str]:
    """The members told of a draft saved or deleted: its own member alone (whose officers
    and approvers receive it; an administrator receives no events)."""
    return frozenset({member})
