"""Declarations as the service keeps them: protected sites, movements, positions and flight
plans, each with its disclosure, created, amended and withdrawn by their owner, and the
receipts parties give for a humanitarian notifier's sites and movements.

**What is stored.** A declaration is a row of ``declarations`` whose ``feature`` is the
canonical JSON of a GeoJSON Feature in exactly the form :func:`accord.world.parse_world`
reads, with ``properties.id`` the row's id (``d-`` and 16 random hex digits, drawn by the
server: a client never chooses an id, so a collision cannot tell it that another party's
hidden object exists), ``properties.declared_by`` the caller's member and
``properties.disclosure`` spelled out. Every create, amend and withdraw raises ``rev`` to
one more than the largest ``rev`` of any declaration, inside the unit of work (writers are
serialised), so a reader holding the world at ``rev`` R catches up with ``rev > R``.

**Who declares.** A party's officer declares any of the four kinds, ``shared`` or
``center``; a position's ``party`` (and a flight plan's, when it names one) is the caller's
own member, and a flight plan's ``operator`` is the caller's member or a non-party operator
(a party reports a third party's aircraft, never another party's). A humanitarian notifier
declares sites and movements, always ``shared`` (the brief: a notifier's sites are shared
with parties). Approvers, monitors and administrators declare nothing. Only the owner's
officers (or notifiers) amend or withdraw. An amendment keeps the kind and the disclosure
(to change either, withdraw and declare anew) and raises ``version``; a withdrawal keeps
the row, out of force, for the history.

**Who sees what** (:func:`may_see`). A party's officers and approvers see every declaration
of their own member and every other member's ``shared`` one; a notifier sees only its own
member's declarations (and their acknowledgements); a monitor sees the ``shared`` ones; an
administrator registers people and sees none (the routes answer 403 on every declaration
route, whatever the id). Another member's ``center`` declaration does not exist for the
caller: reading, amending, withdrawing, acknowledging it or asking for its openings raises
:class:`DeclarationNotFound`, exactly as for an id nobody holds, and lists neither return
nor count it.

**The record.** Each change is one signed entry by the owner (an acknowledgement: by the
acknowledging party). A ``shared`` declaration's entry is ``declaration.created`` /
``amended`` / ``withdrawn`` / ``acknowledged`` with ``id``, ``object_kind``,
``disclosure`` and ``version``, and the feature as ``content`` (a withdrawal: the
``reason``). A ``center`` declaration's entry is :func:`hidden_event` — ``declaration.hidden``
and a salted commitment (:mod:`accord.record.commitments`), nothing else, the same for a
create, an amendment and a withdrawal: every other reader learns only that the owner
changed a hidden declaration at that time; not which one (no id links its versions), of
what kind, at what version, nor how large (the commitment is a fixed-size digest). The
opening — the salt and the canonical JSON of the change, id, kind, version and content —
is kept in ``openings`` for the owner (and read by the center, which checks it against the
record before any use: :mod:`accord.center.picture.verified`); the owner proves with
:func:`~accord.record.commitments.open_commitment` (``accord record open``) and the record,
without the center, what it declared and when. Logs written before this form hold
``declaration.created`` / ``amended`` / ``withdrawn`` entries with ``disclosure`` ``center``
and a commitment to the feature alone; they still verify and still replay.
``declaration_changes`` indexes the entries of each declaration.

**Acknowledgements.** A party's officer acknowledges one version of a notifier's site or
movement by naming :func:`content_hash` of exactly that version (SHA-256 of the canonical
JSON of its feature). It is a receipt — the party has the notification — never an
approval: nothing about the object changes, and nothing may be inferred from it about what
the party will or will not do.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center import visibility
from accord.center.db.models import Declaration, Opening
from accord.center.db.models_declarations import Acknowledgement, DeclarationChange
from accord.center.disclosure.shadows import placed
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.events.store import publish
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.center.users.identity import Caller
from accord.errors import (
    DeclarationNotFound,
    IllegalTransition,
    InputError,
    Issue,
    NotAuthorized,
    StaleRequest,
    WorldError,
)
from accord.record.canonical import canonical_json, content_hash, encode_base64
from accord.record.commitments import SALT_BYTES, commitment
from accord.record.errors import FormatError
from accord.world import Declared, Disclosure, FlightPlan, Position, parse_world

__all__ = [
    "HIDDEN",
    "KINDS",
    "MAX_NAME",
    "MAX_POSITIONS",
    "RECEIPT",
    "Acknowledged",
    "DeclarationNotFound",
    "DeclarationView",
    "EntryOpening",
    "Listed",
    "Opened",
    "StaleRequest",
    "acknowledge",
    "amend",
    "content_hash",
    "declare",
    "declare_many",
    "find",
    "hidden_event",
    "in_force",
    "listing",
    "may_see",
    "next_rev",
    "openings",
    "page",
    "withdraw",
]

HIDDEN = "declaration.hidden"

_SHARED_FIELDS = ("id", "object_kind", "disclosure", "version")
# The entries of a ``shared`` declaration's changes carry it in clear; a ``center`` one's
# every change is one ``declaration.hidden`` commitment (entries written before that carried
# ``commitment`` in a ``created``/``amended``/``withdrawn`` entry, and still verify).
CREATED_ENTRY = entry_kind(
    "declaration.created", signer=Signer.MEMBER, required=_SHARED_FIELDS,
    optional=("content", "commitment"), folded=True,
    summary="a member declares a shared object (its feature in clear)",
)  # fmt: skip
AMENDED_ENTRY = entry_kind(
    "declaration.amended", signer=Signer.MEMBER, required=_SHARED_FIELDS,
    optional=("content", "commitment"), folded=True,
    summary="a member amends its shared object: the next version, in clear",
)  # fmt: skip
WITHDRAWN_ENTRY = entry_kind(
    "declaration.withdrawn", signer=Signer.MEMBER, required=_SHARED_FIELDS,
    optional=("reason", "commitment"), folded=True,
    summary="a member withdraws its shared object, with its reason",
)  # fmt: skip
_CHANGE_ENTRIES = {"created": CREATED_ENTRY, "amended": AMENDED_ENTRY, "withdrawn": WITHDRAWN_ENTRY}
HIDDEN_ENTRY = entry_kind(
    HIDDEN, signer=Signer.MEMBER, required=("commitment",), folded=True,
    summary="a member changed one of its hidden objects (what, in the commitment's opening)",
)  # fmt: skip
ACKNOWLEDGED_ENTRY = entry_kind(
    "declaration.acknowledged", signer=Signer.MEMBER,
    required=(*_SHARED_FIELDS, "content_hash", "meaning"), folded=True,
    summary="a party's receipt of one version of a notifier's declaration",
)  # fmt: skip
"""The kind of every record entry about a ``center`` declaration (:func:`hidden_event`)."""

KINDS = ("protected_site", "movement", "position", "flight_plan")
"""The kinds a declaration may be (an operation is proposed, not declared)."""

MAX_POSITIONS = 10_000
"""The most positions one declaration's geometry may hold (every ring of a polygon counted)."""

MAX_NAME = 200
"""The longest ``properties.name``."""

RECEIPT = (
    "a receipt: the acknowledging party has this version of the notification; it is not an approval"
)
"""What an acknowledgement means, stated in its record entry, event and answer."""

_ID_PREFIX = "d-"
_ACTIVE, _WITHDRAWN = "active", "withdrawn"
_SOURCE = "declaration"
_PROBE = 500  # ids per uniqueness probe (SQLite allows 32766 parameters)


@dataclass(frozen=True, slots=True)
class Opened:
    """The opening of the commitment in record entry ``entry``: salt and exact content."""

    entry: int
    commitment: bytes
    salt: bytes
    content: str


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A party's receipt of one version of a notifier's declaration."""

    declaration: str
    member: str
    version: int
    content_hash: str
    acknowledged_at: datetime
    entry: int


@dataclass(frozen=True, slots=True)
class DeclarationView:
    """A declaration as one caller may see it."""

    id: str
    kind: str
    owner: str
    disclosure: str
    status: str
    version: int
    feature: dict[str, Any]
    content_hash: str
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    entry: int
    opening: Opened | None = None
    acknowledgements: tuple[Acknowledged, ...] | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """A declaration as one caller may see it, as a list gives it: a
    :class:`DeclarationView` whose feature is left as the stored canonical JSON text
    (``feature_json``), never parsed, and whose ``content_hash`` is that text's SHA-256."""

    id: str
    kind: str
    owner: str
    disclosure: str
    status: str
    version: int
    feature_json: str
    content_hash: str
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    entry: int
    acknowledgements: tuple[Acknowledged, ...]


@dataclass(frozen=True, slots=True)
class EntryOpening:
    """One record entry about a declaration, with its opening when it carries a
    commitment (``None`` when the entry carries the content in clear)."""

    entry: int
    change: str
    version: int
    member: str
    at: datetime
    opening: Opened | None


# --- visibility -----------------------------------------------------------------------------


def may_see(caller: Caller, owner: str, disclosure: str) -> bool:
    """Whether ``caller`` may see a declaration of ``owner`` with ``disclosure``: the
    policy's :func:`~accord.center.visibility.sees_object`.

    >>> officer = Caller(1, "r", "red", Role.OFFICER)
    >>> may_see(officer, "blue", "shared"), may_see(officer, "blue", "center")
    (True, False)
    """
    return visibility.sees_object(caller, owner=owner, disclosure=disclosure)


def _visible(caller: Caller) -> ColumnElement[bool]:
    """:func:`may_see` as a condition on ``declarations``."""
    return visibility.objects_where(
        caller, owner=Declaration.owner, disclosure=Declaration.disclosure
    )


def _visible_row(session: Session, caller: Caller, object_id: str) -> Declaration:
    row = session.get(Declaration, object_id)
    if row is None or not may_see(caller, row.owner, row.disclosure):
        raise DeclarationNotFound()
    return row


def _own_row(session: Session, caller: Caller, object_id: str) -> Declaration:
    """The row, for its owner's officer or notifier; not found for whoever may not see it."""
    row = _visible_row(session, caller, object_id)
    if row.owner != caller.member or caller.role not in (Role.OFFICER, Role.NOTIFIER):
        raise NotAuthorized(f"only {row.owner}'s officers may change its declarations")
    return row


# --- the feature ----------------------------------------------------------------------------


def _count_positions(value: Any, depth: int = 0) -> int:
    if not isinstance(value, list) or depth > 3:
        return 0
    if value and not isinstance(value[0], list):
        return 1
    return sum(_count_positions(item, depth + 1) for item in value)


def _format_issue(error: FormatError) -> Issue:
    # canonical_json names the path first ("properties.standoff_m: integer … is outside …").
    text = str(error)
    head, sep, rest = text.partition(": ")
    if sep and head and " " not in head:
        return Issue(head, rest)
    return Issue("body", text)


def _checked(
    agreement: Agreement,
    caller: Caller,
    feature: Mapping[str, Any],
    object_id: str,
    *,
    amending: bool,
) -> tuple[dict[str, Any], Declared]:
    """The feature to store for ``object_id`` and the object it declares; raises
    :class:`~accord.errors.InputError` naming every bad field."""
    issues: list[Issue] = []
    props = feature.get("properties")
    geometry = feature.get("geometry")
    if feature.get("type") != "Feature":
        issues.append(Issue("type", "must be 'Feature'"))
    if not isinstance(props, Mapping):
        raise InputError(_SOURCE, [*issues, Issue("properties", "must be an object")])
    for where, given in (("id", feature.get("id")), ("properties.id", props.get("id"))):
        if given is not None and not (amending and given == object_id):
            issues.append(Issue(where, "is assigned by the server; leave it out"))
    declared_by = props.get("declared_by")
    if declared_by is not None and declared_by != caller.member:
        issues.append(Issue("properties.declared_by", "is the caller's own member; leave it out"))
    if props.get("kind") == "operation":
        issues.append(Issue("properties.kind", "an operation is proposed, not declared"))
    name = props.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME:
        issues.append(Issue("properties.name", f"is at most {MAX_NAME} characters"))
    if isinstance(geometry, Mapping):
        count = _count_positions(geometry.get("coordinates"))
        if count > MAX_POSITIONS:
            issues.append(
                Issue("geometry.coordinates", f"holds {count} positions; at most {MAX_POSITIONS}")
            )
    if issues:
        raise InputError(_SOURCE, issues)
    stored: dict[str, Any] = {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            **props,
            "id": object_id,
            "declared_by": caller.member,
            "disclosure": props.get("disclosure", Disclosure.SHARED.value),
        },
    }
    try:
        canonical_json(stored)
    except FormatError as error:
        raise InputError(_SOURCE, [_format_issue(error)]) from None
    try:
        world = parse_world(
            {"type": "FeatureCollection", "features": [stored]}, agreement, source=_SOURCE
        )
    except WorldError as error:
        raise InputError(_SOURCE, [Issue(i.field, i.message) for i in error.issues]) from None
    (obj,) = tuple(world)
    party = obj.party if isinstance(obj, Position | FlightPlan) else None
    if party is not None and party != caller.member:
        issues.append(Issue("properties.party", f"is the caller's own party, {caller.member!r}"))
    if (
        isinstance(obj, FlightPlan)
        and obj.operator in agreement.party_ids
        and obj.operator != caller.member
    ):
        issues.append(
            Issue("properties.operator", "another party declares its own aircraft's flights")
        )
    if issues:
        raise InputError(_SOURCE, issues)
    return stored, obj


# --- writing --------------------------------------------------------------------------------


def next_rev(session: Session) -> int:
    """The ``rev`` the next create, amend or withdraw takes (one more than the largest)."""
    last = session.scalar(select(func.max(Declaration.rev)))
    return 1 if last is None else int(last) + 1


def _new_id(session: Session) -> str:
    while True:
        object_id = _ID_PREFIX + secrets.token_hex(8)
        if session.get(Declaration, object_id) is None:
            return object_id


def _new_ids(session: Session, count: int) -> list[str]:
    """``count`` fresh ids, drawn as :func:`_new_id` draws them, probed in one query per
    :data:`_PROBE` ids."""
    ids: list[str] = []
    while len(ids) < count:
        drawn = [_ID_PREFIX + secrets.token_hex(8) for _ in range(count - len(ids))]
        taken: set[str] = set(ids)
        for at in range(0, len(drawn), _PROBE):
            part = drawn[at : at + _PROBE]
            taken.update(session.scalars(select(Declaration.id).where(Declaration.id.in_(part))))
        for object_id in drawn:
            if object_id not in taken:
                taken.add(object_id)
                ids.append(object_id)
    return ids


def _check_version(row: Declaration, expected: Mapping[str, tuple[str, int]]) -> None:
    for field, (location, version) in expected.items():
        if version != row.version:
            raise StaleRequest(
                field, location, f"names version {version}; the declaration is at {row.version}"
            )


def _feature(row: Declaration) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row.feature)
    return value


def _entry(
    row: Declaration,
    change: str,
    *,
    feature: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> tuple[dict[str, Any], tuple[bytes, bytes, str] | None]:
    """The record event of ``change`` and, for a ``center`` declaration, the
    ``(commitment, salt, content)`` it commits to (its salt drawn here).

    A ``center`` declaration's event is :func:`hidden_event`: the same two members for a
    create, an amendment and a withdrawal, whatever the kind or the geometry's size; the
    id, kind, version, change and content are inside the commitment alone."""
    content: dict[str, Any] = dict(feature) if feature is not None else {"reason": reason}
    if visibility.in_clear(row.disclosure):
        told = {"content": content} if feature is not None else {"reason": reason}
        event = _CHANGE_ENTRIES[change].build(
            told, id=row.id, object_kind=row.kind, disclosure=row.disclosure, version=row.version
        )
        return event, None
    opened = {
        "action": change,
        "content": content,
        "id": row.id,
        "object_kind": row.kind,
        "version": row.version,
    }
    salt = secrets.token_bytes(SALT_BYTES)
    committed = commitment(opened, salt=salt)
    return hidden_event(committed), (committed, salt, canonical_json(opened).decode("utf-8"))


def hidden_event(committed: bytes) -> dict[str, Any]:
    """The record event of a change of a ``center`` declaration: ``{"kind":
    "declaration.hidden", "commitment": <base64 of the 32-byte commitment>}``, nothing else.

    What every reader learns from it is that its author changed one of its hidden
    declarations at the entry's time. The opening (kept by the owner and the center)
    holds the canonical JSON of ``{"action", "content", "id", "object_kind",
    "version"}``: the change (``created``, ``amended`` or ``withdrawn``), the feature as
    stored (a withdrawal: ``{"reason": …}``), and which declaration, of which kind, at
    which version. The commitment is a fixed-size digest, so the entry's length does not
    depend on the content.

    >>> hidden_event(bytes(32))
    {'kind': 'declaration.hidden', 'commitment': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='}
    """
    return HIDDEN_ENTRY.build(commitment=encode_base64(committed))


def _recorded(
    unit: Unit,
    row: Declaration,
    change: str,
    entry: int,
    committed: tuple[bytes, bytes, str] | None,
    *,
    at: datetime,
    reason: str | None = None,
) -> Opened | None:
    """Keep the opening of ``entry`` (if it commits) and index it; sets ``row.entry``."""
    opened: Opened | None = None
    if committed is not None:
        opened = Opened(entry, *committed)
        unit.session.add(
            Opening(
                entry=entry,
                owner=row.owner,
                commitment=opened.commitment,
                salt=opened.salt,
                content=opened.content,
            )
        )
    unit.session.add(
        DeclarationChange(
            entry=entry,
            declaration_id=row.id,
            change=change,
            version=row.version,
            member=row.owner,
            at=at,
            reason=reason,
        )
    )
    row.entry = entry
    return opened


def _record(
    unit: Unit,
    row: Declaration,
    change: str,
    *,
    at: datetime,
    feature: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> Opened | None:
    """Append the entry of ``change`` by the owner, index it and keep its opening; sets
    ``row.entry``. The entry of a ``center`` declaration holds only a commitment."""
    event, committed = _entry(row, change, feature=feature, reason=reason)
    entry = unit.ledger.append(event, author=row.owner, at=at)
    return _recorded(unit, row, change, entry, committed, at=at, reason=reason)


def _announce(
    unit: Unit,
    agreement: Agreement,
    row: Declaration,
    change: str,
    at: datetime,
    reason: str | None = None,
) -> None:
    """The live event of a change: a ``shared`` one to every party, the owner and the
    monitors; a ``center`` one to the owner's member alone."""
    audience = visibility.object_audience(agreement, owner=row.owner, disclosure=row.disclosure)
    payload: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "owner": row.owner,
        "disclosure": row.disclosure,
        "status": row.status,
        "version": row.version,
        "entry": row.entry,
        "feature": _feature(row),
    }
    if reason is not None:
        payload["reason"] = reason
    publish(unit.session, kind=f"declaration.{change}", at=at, audience=audience, payload=payload)


def _view(
    row: Declaration,
    *,
    opening: Opened | None = None,
    reason: str | None = None,
    acknowledgements: tuple[Acknowledged, ...] | None = None,
) -> DeclarationView:
    feature = _feature(row)
    return DeclarationView(
        id=row.id,
        kind=row.kind,
        owner=row.owner,
        disclosure=row.disclosure,
        status=row.status,
        version=row.version,
        feature=feature,
        content_hash=content_hash(feature),
        declared_at=row.declared_at,
        updated_at=row.updated_at,
        withdrawn_at=row.withdrawn_at,
        withdrawn_reason=reason,
        entry=row.entry,
        opening=opening,
        acknowledgements=acknowledgements,
    )


def _may_declare(caller: Caller) -> None:
    if caller.role not in (Role.OFFICER, Role.NOTIFIER):
        raise NotAuthorized(f"a {caller.role.value} declares nothing")


def declare(
    unit: Unit, agreement: Agreement, caller: Caller, feature: Mapping[str, Any], at: datetime
) -> DeclarationView:
    """Declare ``feature`` (without ``id`` and ``declared_by``) for the caller's member at
    ``at``: the row, its record entry and its live event, in ``unit``.

    Raises :class:`~accord.errors.NotAuthorized` for a caller who may not declare and
    :class:`~accord.errors.InputError` naming every bad field.
    """
    _may_declare(caller)
    session = unit.session
    object_id = _new_id(session)
    stored, obj = _checked(agreement, caller, feature, object_id, amending=False)
    row = Declaration(
        id=object_id,
        kind=obj.kind.value,
        owner=caller.member,
        disclosure=obj.disclosure.value,
        status=_ACTIVE,
        version=1,
        rev=next_rev(session),
        feature=canonical_json(stored).decode("utf-8"),
        declared_at=at,
        updated_at=at,
        withdrawn_at=None,
        entry=-1,
        shadow=placed(agreement, obj, None),
    )
    session.add(row)
    session.flush()
    opened = _record(unit, row, "created", at=at, feature=stored)
    session.flush()
    _announce(unit, agreement, row, "created", at)
    return _view(row, opening=opened)


def declare_many(
    unit: Unit,
    agreement: Agreement,
    items: Sequence[tuple[Caller, Mapping[str, Any]]],
    at: datetime,
) -> list[DeclarationView]:
    """Declare each ``(caller, feature)`` of ``items`` at ``at``, in order, in ``unit``:
    exactly the rows, record entries (same order, same sequence numbers) and live events
    that calling :func:`declare` once per item would leave, in a handful of statements
    (a bulk load: the bench's world, an import). All or nothing: raises as :func:`declare`
    does for the first bad item, and the caller's unit then rolls back."""
    for caller, _feature in items:
        _may_declare(caller)
    if not items:
        return []
    session = unit.session
    ids = _new_ids(session, len(items))
    checked = [
        _checked(agreement, caller, feature, object_id, amending=False)
        for (caller, feature), object_id in zip(items, ids, strict=True)
    ]
    rev = next_rev(session)
    rows = [
        Declaration(
            id=object_id,
            kind=obj.kind.value,
            owner=caller.member,
            disclosure=obj.disclosure.value,
            status=_ACTIVE,
            version=1,
            rev=rev + i,
            feature=canonical_json(stored).decode("utf-8"),
            declared_at=at,
            updated_at=at,
            withdrawn_at=None,
            entry=-1,
            shadow=placed(agreement, obj, None),
        )
        for i, ((caller, _f), object_id, (stored, obj)) in enumerate(
            zip(items, ids, checked, strict=True)
        )
    ]
    session.add_all(rows)
    session.flush()
    made = [
        _entry(row, "created", feature=stored)
        for row, (stored, _obj) in zip(rows, checked, strict=True)
    ]
    entries = unit.ledger.append_many(
        [(event, row.owner) for row, (event, _c) in zip(rows, made, strict=True)], at=at
    )
    opened = [
        _recorded(unit, row, "created", entry, committed, at=at)
        for row, entry, (_event, committed) in zip(rows, entries, made, strict=True)
    ]
    session.flush()
    for row in rows:
        _announce(unit, agreement, row, "created", at)
    return [_view(row, opening=o) for row, o in zip(rows, opened, strict=True)]


def amend(
    unit: Unit,
    agreement: Agreement,
    caller: Caller,
    object_id: str,
    feature: Mapping[str, Any],
    at: datetime,
    *,
    expected: Mapping[str, tuple[str, int]] | None = None,
) -> DeclarationView:
    """Replace the feature of the caller's member's declaration ``object_id`` (same kind,
    same disclosure) and raise its version. ``expected`` maps a request field to
    ``(location, version)``: a version the caller believes current.

    Raises :class:`DeclarationNotFound` when the caller may not see it,
    :class:`~accord.errors.NotAuthorized` when it is not the caller's member's,
    :class:`~accord.errors.IllegalTransition` when withdrawn, :class:`StaleRequest` on a
    stale version and :class:`~accord.errors.InputError` naming every bad field.
    """
    session = unit.session
    row = _own_row(session, caller, object_id)
    if row.status != _ACTIVE:
        raise IllegalTransition("a withdrawn declaration cannot be amended")
    _check_version(row, expected or {})
    stored, obj = _checked(agreement, caller, feature, row.id, amending=True)
    issues = []
    if obj.kind.value != row.kind:
        issues.append(
            Issue("properties.kind", f"an amendment keeps the kind ({row.kind}); declare anew")
        )
    if obj.disclosure.value != row.disclosure:
        issues.append(
            Issue(
                "properties.disclosure",
                f"an amendment keeps the disclosure ({row.disclosure}); withdraw and declare anew",
            )
        )
    if issues:
        raise InputError(_SOURCE, issues)
    row.version += 1
    row.rev = next_rev(session)
    row.feature = canonical_json(stored).decode("utf-8")
    row.shadow = placed(agreement, obj, row.shadow)
    row.updated_at = at
    opened = _record(unit, row, "amended", at=at, feature=stored)
    session.flush()
    _announce(unit, agreement, row, "amended", at)
    return _view(row, opening=opened)


def withdraw(
    unit: Unit,
    agreement: Agreement,
    caller: Caller,
    object_id: str,
    reason: str,
    at: datetime,
    *,
    expected: Mapping[str, tuple[str, int]] | None = None,
) -> DeclarationView:
    """Withdraw the caller's member's declaration ``object_id``: kept, out of force. Raises
    as :func:`amend` does (a second withdrawal is an :class:`IllegalTransition`)."""
    session = unit.session
    row = _own_row(session, caller, object_id)
    if row.status != _ACTIVE:
        raise IllegalTransition("the declaration is already withdrawn")
    _check_version(row, expected or {})
    row.status = _WITHDRAWN
    row.withdrawn_at = at
    row.updated_at = at
    row.rev = next_rev(session)
    opened = _record(unit, row, "withdrawn", at=at, reason=reason)
    session.flush()
    _announce(unit, agreement, row, "withdrawn", at, reason=reason)
    return _view(row, opening=opened, reason=reason)


def acknowledge(
    unit: Unit,
    agreement: Agreement,
    caller: Caller,
    object_id: str,
    hash_: str,
    at: datetime,
    *,
    expected: Mapping[str, tuple[str, int]] | None = None,
) -> Acknowledged:
    """The caller's party acknowledges the current version of a notifier's declaration,
    naming its :func:`content_hash`: a receipt, never an approval. Recorded as an entry by
    the party; the notifier and the party are told.

    Raises :class:`DeclarationNotFound` when the caller may not see it,
    :class:`~accord.errors.NotAuthorized` for a caller who is no party's officer,
    :class:`~accord.errors.IllegalTransition` for a declaration that is no humanitarian
    notification, withdrawn, or already acknowledged at this version by the caller's
    party, and :class:`StaleRequest` (field ``content_hash`` or the version's) when the
    caller names another version than the current one.
    """
    session = unit.session
    row = _visible_row(session, caller, object_id)
    if caller.role is not Role.OFFICER or caller.member not in agreement.party_ids:
        raise NotAuthorized("only a party's officer acknowledges a humanitarian notification")
    if row.owner not in agreement.notifier_ids:
        raise IllegalTransition(
            "only a humanitarian notifier's sites and movements are acknowledged"
        )
    if row.status != _ACTIVE:
        raise IllegalTransition("a withdrawn declaration cannot be acknowledged")
    _check_version(row, expected or {})
    current = content_hash(_feature(row))
    if hash_.lower() != current:
        raise StaleRequest(
            "content_hash",
            "body",
            f"does not match version {row.version}, the declaration's current content",
        )
    done = session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.declaration_id == row.id,
            Acknowledgement.version == row.version,
            Acknowledgement.member == caller.member,
        )
    )
    if done is not None:
        raise IllegalTransition(f"{caller.member} has already acknowledged version {row.version}")
    entry = unit.ledger.append(
        ACKNOWLEDGED_ENTRY.build(
            id=row.id,
            object_kind=row.kind,
            disclosure=row.disclosure,
            version=row.version,
            content_hash=current,
            meaning="receipt",
        ),
        author=caller.member,
        at=at,
    )
    session.add(
        Acknowledgement(
            declaration_id=row.id,
            version=row.version,
            member=caller.member,
            user_id=caller.user_id,
            content_hash=current,
            acknowledged_at=at,
            entry=entry,
        )
    )
    session.add(
        DeclarationChange(
            entry=entry,
            declaration_id=row.id,
            change="acknowledged",
            version=row.version,
            member=caller.member,
            at=at,
            reason=None,
        )
    )
    session.flush()
    publish(
        session,
        kind="declaration.acknowledged",
        at=at,
        audience=visibility.acknowledgement_audience(owner=row.owner, acknowledger=caller.member),
        payload={
            "id": row.id,
            "version": row.version,
            "content_hash": current,
            "member": caller.member,
            "acknowledged_at": at.isoformat(),
            "entry": entry,
            "meaning": "receipt",
        },
    )
    return Acknowledged(row.id, caller.member, row.version, current, at, entry)


# --- reading --------------------------------------------------------------------------------


def _acknowledgements(
    session: Session, caller: Caller, rows: Sequence[Declaration]
) -> dict[str, tuple[Acknowledged, ...]]:
    """Per declaration of a notifier: every acknowledgement for the owner, the caller's own
    member's for anyone else."""
    found: dict[str, list[Acknowledged]] = {row.id: [] for row in rows}
    query = (
        select(Acknowledgement)
        .join(Declaration, Declaration.id == Acknowledgement.declaration_id)
        .where(
            Acknowledgement.declaration_id.in_(list(found)),
            visibility.acknowledgements_where(
                caller, owner=Declaration.owner, acknowledger=Acknowledgement.member
            ),
        )
        .order_by(Acknowledgement.entry)
    )
    if found:
        for ack in session.scalars(query):
            found[ack.declaration_id].append(
                Acknowledged(
                    ack.declaration_id,
                    ack.member,
                    ack.version,
                    ack.content_hash,
                    ack.acknowledged_at,
                    ack.entry,
                )
            )
    return {key: tuple(value) for key, value in found.items()}


def _reasons(session: Session, rows: Sequence[Declaration]) -> dict[str, str | None]:
    withdrawn = [row.id for row in rows if row.status == _WITHDRAWN]
    if not withdrawn:
        return {}
    query = select(DeclarationChange.declaration_id, DeclarationChange.reason).where(
        DeclarationChange.declaration_id.in_(withdrawn), DeclarationChange.change == "withdrawn"
    )
    return {object_id: reason for object_id, reason in session.execute(query)}


def _views(session: Session, caller: Caller, rows: Sequence[Declaration]) -> list[DeclarationView]:
    acks = _acknowledgements(session, caller, rows)
    reasons = _reasons(session, rows)
    return [
        _view(row, reason=reasons.get(row.id), acknowledgements=acks.get(row.id, ()))
        for row in rows
    ]


def find(session: Session, caller: Caller, object_id: str) -> DeclarationView:
    """The declaration ``object_id`` as the caller may see it; raises
    :class:`DeclarationNotFound` when there is none the caller may see."""
    row = _visible_row(session, caller, object_id)
    return _views(session, caller, [row])[0]


def _page_query(
    caller: Caller,
    *,
    kind: str | None,
    owner: str | None,
    status: str | None,
    after: str | None,
) -> ColumnElement[bool]:
    """The condition of a page: what the caller may see, narrowed by the filters."""
    conditions = [_visible(caller)]
    if kind is not None:
        conditions.append(Declaration.kind == kind)
    if owner is not None:
        conditions.append(Declaration.owner == owner)
    if status is not None:
        conditions.append(Declaration.status == status)
    if after is not None:
        conditions.append(Declaration.id > after)
    return and_(*conditions)


def page(
    session: Session,
    caller: Caller,
    *,
    kind: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> tuple[list[DeclarationView], str | None]:
    """Up to ``limit`` declarations the caller may see, by id, after the id ``after``;
    and the id to pass as ``after`` for the next page (``None`` on the last page). Only
    what the caller may see is ever read, so nothing else is counted or hinted at."""
    where = _page_query(caller, kind=kind, owner=owner, status=status, after=after)
    query = select(Declaration).where(where).order_by(Declaration.id).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return _views(session, caller, rows), (rows[-1].id if more else None)


_LISTED_COLUMNS = (
    Declaration.id,
    Declaration.kind,
    Declaration.owner,
    Declaration.disclosure,
    Declaration.status,
    Declaration.version,
    Declaration.feature,
    Declaration.declared_at,
    Declaration.updated_at,
    Declaration.withdrawn_at,
    Declaration.entry,
)


def listing(
    session: Session,
    caller: Caller,
    *,
    kind: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> tuple[list[Listed], str | None]:
    """:func:`page` for a list answer, thousands at a time: the same declarations, in the
    same order, under the same visibility rule, with the same next ``after``; but read as
    plain columns (no ORM objects), the feature left as its stored canonical JSON, and its
    content hash taken from that text (the canonical JSON of the parsed feature is the same
    text, so the hash is :func:`content_hash`'s)."""
    where = _page_query(caller, kind=kind, owner=owner, status=status, after=after)
    query = select(*_LISTED_COLUMNS).where(where).order_by(Declaration.id).limit(limit + 1)
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return [], None
    first, last = rows[0].id, rows[-1].id
    acks = _acknowledgements_between(session, caller, first, last)
    withdrawn = {row.id for row in rows if row.status == _WITHDRAWN}
    reasons = _reasons_between(session, first, last, withdrawn) if withdrawn else {}
    sha256 = hashlib.sha256
    listed = [
        Listed(
            id=object_id,
            kind=kind,
            owner=owner,
            disclosure=disclosure,
            status=status,
            version=version,
            feature_json=feature,
            content_hash=sha256(feature.encode("utf-8")).hexdigest(),
            declared_at=declared_at,
            updated_at=updated_at,
            withdrawn_at=withdrawn_at,
            withdrawn_reason=reasons.get(object_id),
            entry=entry,
            acknowledgements=acks.get(object_id, ()),
        )
        for (
            object_id,
            kind,
            owner,
            disclosure,
            status,
            version,
            feature,
            declared_at,
            updated_at,
            withdrawn_at,
            entry,
        ) in rows
    ]
    return listed, (last if more else None)


def in_force(
    session: Session, caller: Caller, *, limit: int, after: str | None = None
) -> tuple[list[str], str | None]:
    """The stored features (canonical JSON text, never parsed) of up to ``limit``
    declarations in force that the caller may see, by id, after the id ``after``; and the
    ``after`` of the next page (``None`` on the last). The same rule as :func:`page` with
    ``status="active"``: only what the caller may see is ever read. Each feature names its
    id, kind, owner (``declared_by``) and disclosure in its properties."""
    where = _page_query(caller, kind=None, owner=None, status=_ACTIVE, after=after)
    query = select(Declaration.id, Declaration.feature).where(where)
    rows = session.execute(query.order_by(Declaration.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [feature for _, feature in rows], (rows[-1][0] if more else None)


def _acknowledgements_between(
    session: Session, caller: Caller, first: str, last: str
) -> dict[str, tuple[Acknowledged, ...]]:
    """:func:`_acknowledgements` for every declaration with an id from ``first`` to
    ``last``: all of them for the caller's member's declarations, the caller's member's own
    for anyone else's. The caller keeps only those of the declarations it lists."""
    query = (
        select(Acknowledgement)
        .join(Declaration, Declaration.id == Acknowledgement.declaration_id)
        .where(
            Acknowledgement.declaration_id >= first,
            Acknowledgement.declaration_id <= last,
            visibility.acknowledgements_where(
                caller, owner=Declaration.owner, acknowledger=Acknowledgement.member
            ),
        )
        .order_by(Acknowledgement.entry)
    )
    found: dict[str, list[Acknowledged]] = {}
    for ack in session.scalars(query):
        found.setdefault(ack.declaration_id, []).append(
            Acknowledged(
                ack.declaration_id,
                ack.member,
                ack.version,
                ack.content_hash,
                ack.acknowledged_at,
                ack.entry,
            )
        )
    return {key: tuple(value) for key, value in found.items()}


def _reasons_between(
    session: Session, first: str, last: str, withdrawn: set[str]
) -> dict[str, str | None]:
    """Why each of ``withdrawn`` (ids from ``first`` to ``last``) was withdrawn."""
    query = select(DeclarationChange.declaration_id, DeclarationChange.reason).where(
        DeclarationChange.declaration_id >= first,
        DeclarationChange.declaration_id <= last,
        DeclarationChange.change == "withdrawn",
    )
    return {
        object_id: reason for object_id, reason in session.execute(query) if object_id in withdrawn
    }


def openings(session: Session, caller: Caller, object_id: str) -> list[EntryOpening]:
    """Every record entry about the caller's member's declaration ``object_id``, oldest
    first, each with its opening when it carries a commitment. Raises
    :class:`DeclarationNotFound` when the caller may not see it and
    :class:`~accord.errors.NotAuthorized` when it is another member's."""
    row = _visible_row(session, caller, object_id)
    if row.owner != caller.member:
        raise NotAuthorized("only the owner's users see the openings of its declarations")
    changes = list(
        session.scalars(
            select(DeclarationChange)
            .where(DeclarationChange.declaration_id == row.id)
            .order_by(DeclarationChange.entry)
        )
    )
    entries = [change.entry for change in changes]
    opened = {
        o.entry: Opened(o.entry, o.commitment, o.salt, o.content)
        for o in session.scalars(
            select(Opening).where(Opening.entry.in_(entries), Opening.owner == caller.member)
        )
    }
    return [
        EntryOpening(c.entry, c.change, c.version, c.member, c.at, opened.get(c.entry))
        for c in changes
    ]
