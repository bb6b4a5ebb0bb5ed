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

**Devices.** A position may carry the TAK device that reports it (``properties.device``:
``uid``, ``callsign``; with ``course_deg``, ``speed_mps``, ``reported_at``), stored and
disclosed as every other property. A device uid is one member's: the first to declare a
position carrying it keeps it for ever (``device_uids``), and another member declaring or
amending to it is refused (409, ``device.uid``, "this device uid belongs to another party" —
the same answer whatever the holding position's disclosure). Within a member, one uid names
one position in force at a time.

The reads, and who sees what, are :mod:`accord.center.declarations.queries`'; the record
entries each change appends, :mod:`accord.center.declarations.entries`'.

**Acknowledgements.** A party's officer acknowledges one version of a notifier's site or
movement by naming :func:`~accord.record.canonical.content_hash` of exactly that version
(SHA-256 of the canonical JSON of its feature). It is a receipt — the party has the
notification — never an approval: nothing about the object changes, and nothing may be
inferred from it about what the party will or will not do.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center import visibility
from accord.center.db.models import Declaration, Opening
from accord.center.db.models_declarations import Acknowledgement, DeclarationChange, DeviceUid
from accord.center.declarations.entries import ACKNOWLEDGED_ENTRY, HIDDEN_CHANGES, change_event
from accord.center.declarations.queries import (
    ACTIVE,
    WITHDRAWN,
    Acknowledged,
    DeclarationView,
    Opened,
    stored_feature,
    view_of,
    visible_row,
)
from accord.center.disclosure.shadows import placed
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.errors import (
    DeviceTaken,
    IllegalTransition,
    InputError,
    Issue,
    NotAuthorized,
    StaleRequest,
    WorldError,
)
from accord.record.bindings import fits
from accord.record.canonical import canonical_json, content_hash
from accord.record.errors import FormatError
from accord.world import Declared, Disclosure, FlightPlan, Position, parse_world, resolve_mgrs

__all__ = [
    "CONTENT_MAX_BYTES",
    "KINDS",
    "MAX_NAME",
    "MAX_POSITIONS",
    "RECEIPT",
    "acknowledge",
    "amend",
    "declare",
    "declare_many",
    "next_rev",
    "withdraw",
]

KINDS = ("protected_site", "movement", "position", "flight_plan")
"""The kinds a declaration may be (an operation is proposed, not declared)."""

MAX_POSITIONS = 10_000
"""The most positions one declaration's geometry may hold (every ring of a polygon counted)."""

MAX_NAME = 200
"""The longest ``properties.name``."""

CONTENT_MAX_BYTES = 60_000
"""The most bytes of canonical JSON a shared declaration's feature takes. Its record entry
carries the feature in clear, and every entry is at most 65,535 bytes (DECISIONS 12; the
C2SP tlog-tiles bundles' uint16 length): the envelope, the act and the signatures around
the feature take under 2 KB. A ``center`` declaration's entry is a fixed-size commitment,
so only :data:`MAX_POSITIONS` bounds it."""

RECEIPT = (
    "a receipt: the acknowledging party has this version of the notification; it is not an approval"
)
"""What an acknowledgement means, stated in its record entry, event and answer."""

_ID_PREFIX = "d-"
_SOURCE = "declaration"
_PROBE = 500  # ids per uniqueness probe (SQLite allows 32766 parameters)


def _own_row(
    unit: Unit, caller: Caller, object_id: str, *, hidden_only: bool = False
) -> Declaration:
    """The row, for its owner's officer or notifier; not found for whoever may not see it.
    A ``center`` one is refused (:func:`_named_by_act`) unless the unit's act names none;
    with ``hidden_only`` (:data:`HIDDEN_CHANGES`), a ``shared`` one is refused."""
    row = visible_row(unit.session, caller, object_id)
    if row.owner != caller.member or caller.role not in (Role.OFFICER, Role.NOTIFIER):
        raise NotAuthorized(f"only {row.owner}'s officers may change its declarations")
    if row.disclosure == Disclosure.CENTER.value:
        _named_by_act(unit, "declaration_id", row.id)
    elif hidden_only:
        message = (
            f"{row.id} is a shared declaration: {HIDDEN_CHANGES} changes hidden ones only "
            f"(PUT /v1/declarations/{row.id} or POST /v1/declarations/{row.id}/withdraw)"
        )
        raise InputError(_SOURCE, [Issue("id", message)])
    return row


def _named_by_act(unit: Unit, field: str, what: str) -> None:
    """Refuse (:class:`~accord.errors.InputError` naming ``field``) a change of a hidden
    declaration (``what``) caused by an act whose request line names it or the change.

    Under an agreement whose members sign their acts, each entry carries its act, and every
    party reads the act's request line in the record: ``PUT /v1/declarations/d-…`` would
    link the hidden declaration's versions and tell an amendment from a withdrawal, which
    the ``declaration.hidden`` entry exists to hide. Such a change comes through
    :data:`HIDDEN_CHANGES` alone; without acts (nothing of the request is recorded), any
    request may."""
    acting = unit.ledger.acting
    if acting is None or fits(acting.signed.act.action, HIDDEN_CHANGES, {}):
        return
    message = (
        f"{what} is hidden: change it with {HIDDEN_CHANGES}, whose signed request names neither "
        "the declaration nor the change (every party reads this request's line in the record)"
    )
    raise InputError(_SOURCE, [Issue(field, message)])


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


def _too_large(encoded: bytes, geometry: object) -> Issue:
    """The issue of a shared feature too large for its record entry, naming the part that
    makes it so: the coordinates when the geometry is most of it, else the properties."""
    try:
        in_geometry = len(canonical_json(geometry)) if geometry is not None else 0
    except FormatError:  # pragma: no cover - the whole feature encoded
        in_geometry = 0
    field = "geometry.coordinates" if 2 * in_geometry > len(encoded) else "properties"
    return Issue(
        field,
        f"the declaration takes {len(encoded)} bytes in the record, where a shared "
        f"declaration takes at most {CONTENT_MAX_BYTES} (a record entry is at most 64 KiB): "
        "fewer positions or shorter properties",
    )


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
    try:  # a point typed as properties.mgrs is stored as its geometry (accord.world)
        feature = resolve_mgrs(feature, agreement, source=_SOURCE)
    except WorldError as error:
        raise InputError(_SOURCE, [Issue(i.field, i.message) for i in error.issues]) from None
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
        encoded = canonical_json(stored)
    except FormatError as error:
        raise InputError(_SOURCE, [_format_issue(error)]) from None
    if len(encoded) > CONTENT_MAX_BYTES and visibility.in_clear(stored["properties"]["disclosure"]):
        raise InputError(_SOURCE, [_too_large(encoded, geometry)])
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


# --- device uids -----------------------------------------------------------------------------


def _claim_device(session: Session, member: str, obj: Declared, object_id: str) -> None:
    """Hold a position's ``device.uid`` for ``member`` and declaration ``object_id``, or raise
    :class:`~accord.errors.DeviceTaken`: the uid is another member's (the first to declare it
    keeps it, withdrawn or not), or names another of the member's positions in force.

    The answer to another member's uid reads one row by its key and nothing of that member's
    declaration: it is the same, in content and in work done, whether that position is
    shared, hidden or withdrawn — all it tells is that the uid is taken."""
    if not isinstance(obj, Position) or obj.device is None:
        return
    uid = obj.device.uid
    held = session.get(DeviceUid, uid)
    if held is None:
        session.add(DeviceUid(uid=uid, member=member, declaration_id=object_id))
        session.flush()
        return
    if held.member != member:
        raise DeviceTaken()
    if held.declaration_id == object_id:
        return
    other = session.get(Declaration, held.declaration_id)
    if other is not None and other.status == ACTIVE and _device_uid(other) == uid:
        raise DeviceTaken(holder=other.id)
    held.declaration_id = object_id
    session.flush()


def _device_uid(row: Declaration) -> str | None:
    device = stored_feature(row)["properties"].get("device")
    return device.get("uid") if isinstance(device, dict) else None


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
    event, committed = change_event(row, change, feature=feature, reason=reason)
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
        "feature": stored_feature(row),
    }
    if reason is not None:
        payload["reason"] = reason
    publish(unit.session, kind=f"declaration.{change}", at=at, audience=audience, payload=payload)


def _may_declare(caller: Caller) -> None:
    if caller.role not in (Role.OFFICER, Role.NOTIFIER):
        raise NotAuthorized(f"a {caller.role.value} declares nothing")


def declare(
    unit: Unit, caller: Caller, feature: Mapping[str, Any], at: datetime
) -> DeclarationView:
    """Declare ``feature`` (without ``id`` and ``declared_by``) for the caller's member at
    ``at``: the row, its record entry and its live event, in ``unit``.

    Raises :class:`~accord.errors.NotAuthorized` for a caller who may not declare and
    :class:`~accord.errors.InputError` naming every bad field.
    """
    agreement = unit.center.agreement
    _may_declare(caller)
    session = unit.session
    object_id = _new_id(session)
    stored, obj = _checked(agreement, caller, feature, object_id, amending=False)
    if obj.disclosure is Disclosure.CENTER:
        _named_by_act(unit, "properties.disclosure", "a center declaration")
    row = Declaration(
        id=object_id,
        kind=obj.kind.value,
        owner=caller.member,
        disclosure=obj.disclosure.value,
        status=ACTIVE,
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
    _claim_device(session, caller.member, obj, object_id)
    opened = _record(unit, row, "created", at=at, feature=stored)
    session.flush()
    _announce(unit, agreement, row, "created", at)
    return view_of(row, opening=opened)


def declare_many(
    unit: Unit,
    items: Sequence[tuple[Caller, Mapping[str, Any]]],
    at: datetime,
    *,
    name_items: bool = False,
    names: Sequence[str] | None = None,
) -> list[DeclarationView]:
    """Declare each ``(caller, feature)`` of ``items`` at ``at``, in order, in ``unit``:
    exactly the rows, record entries (same order, same sequence numbers) and live events
    that calling :func:`declare` once per item would leave, in a handful of statements
    (a bulk load: the bench's world, an import). All or nothing: raises as :func:`declare`
    does for the first bad item, and the caller's unit then rolls back — or, with
    ``name_items``, one :class:`~accord.errors.InputError` naming every bad item's fields
    as ``features[k].<field>`` (``POST /v1/declarations/batch``), or with ``names`` (one
    per item) as ``<names[k]>.<field>`` (``POST /v1/declarations/hidden``)."""
    agreement = unit.center.agreement
    for caller, _feature in items:
        _may_declare(caller)
    if not items:
        return []
    session = unit.session
    ids = _new_ids(session, len(items))
    checked = []
    issues: list[Issue] = []
    for k, ((caller, feature), object_id) in enumerate(zip(items, ids, strict=True)):
        try:
            pair = _checked(agreement, caller, feature, object_id, amending=False)
            if pair[1].disclosure is Disclosure.CENTER:
                _named_by_act(unit, "properties.disclosure", "a center declaration")
            checked.append(pair)
        except InputError as error:
            if names is not None:
                issues += [Issue(f"{names[k]}.{i.field}", i.message) for i in error.issues]
            elif name_items:
                issues += [Issue(f"features[{k}].{i.field}", i.message) for i in error.issues]
            else:
                raise
    if issues:
        raise InputError(_SOURCE, issues)
    rev = next_rev(session)
    rows = [
        Declaration(
            id=object_id,
            kind=obj.kind.value,
            owner=caller.member,
            disclosure=obj.disclosure.value,
            status=ACTIVE,
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
    for (caller, _f), row, (_stored, obj) in zip(items, rows, checked, strict=True):
        _claim_device(session, caller.member, obj, row.id)
    made = [
        change_event(row, "created", feature=stored)
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
    return [view_of(row, opening=o) for row, o in zip(rows, opened, strict=True)]


def amend(
    unit: Unit,
    caller: Caller,
    object_id: str,
    feature: Mapping[str, Any],
    at: datetime,
    *,
    expected: Mapping[str, tuple[str, int]] | None = None,
    hidden_only: bool = False,
) -> DeclarationView:
    """Replace the feature of the caller's member's declaration ``object_id`` (same kind,
    same disclosure) and raise its version. ``expected`` maps a request field to
    ``(location, version)``: a version the caller believes current; ``hidden_only``: a
    ``shared`` declaration is refused (:data:`HIDDEN_CHANGES`). A ``center`` one is refused
    whenever the unit's act would name it (:func:`_named_by_act`).

    Raises :class:`~accord.errors.DeclarationNotFound` when the caller may not see it,
    :class:`~accord.errors.NotAuthorized` when it is not the caller's member's,
    :class:`~accord.errors.IllegalTransition` when withdrawn,
    :class:`~accord.errors.StaleRequest` on a stale version and
    :class:`~accord.errors.InputError` naming every bad field.
    """
    agreement = unit.center.agreement
    session = unit.session
    row = _own_row(unit, caller, object_id, hidden_only=hidden_only)
    if row.status != ACTIVE:
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
    _claim_device(session, caller.member, obj, row.id)
    row.version += 1
    row.rev = next_rev(session)
    row.feature = canonical_json(stored).decode("utf-8")
    row.shadow = placed(agreement, obj, row.shadow)
    row.updated_at = at
    opened = _record(unit, row, "amended", at=at, feature=stored)
    session.flush()
    _announce(unit, agreement, row, "amended", at)
    return view_of(row, opening=opened)


def withdraw(
    unit: Unit,
    caller: Caller,
    object_id: str,
    reason: str,
    at: datetime,
    *,
    expected: Mapping[str, tuple[str, int]] | None = None,
    hidden_only: bool = False,
) -> DeclarationView:
    """Withdraw the caller's member's declaration ``object_id``: kept, out of force. Raises
    as :func:`amend` does (a second withdrawal is an :class:`IllegalTransition`)."""
    agreement = unit.center.agreement
    session = unit.session
    row = _own_row(unit, caller, object_id, hidden_only=hidden_only)
    if row.status != ACTIVE:
        raise IllegalTransition("the declaration is already withdrawn")
    _check_version(row, expected or {})
    row.status = WITHDRAWN
    row.withdrawn_at = at
    row.updated_at = at
    row.rev = next_rev(session)
    opened = _record(unit, row, "withdrawn", at=at, reason=reason)
    session.flush()
    _announce(unit, agreement, row, "withdrawn", at, reason=reason)
    return view_of(row, opening=opened, reason=reason)


def acknowledge(
    unit: Unit,
    caller: Caller,
    object_id: str,
    hash_: str,
    at: datetime,
    *,
    expected: Mapping[str, tuple[str, int]] | None = None,
) -> Acknowledged:
    """The caller's party acknowledges the current version of a notifier's declaration,
    naming its :func:`~accord.record.canonical.content_hash`: a receipt, never an
    approval. Recorded as an entry by the party; the notifier and the party are told.

    Raises :class:`~accord.errors.DeclarationNotFound` when the caller may not see it,
    :class:`~accord.errors.NotAuthorized` for a caller who is no party's officer,
    :class:`~accord.errors.IllegalTransition` for a declaration that is no humanitarian
    notification, withdrawn, or already acknowledged at this version by the caller's
    party, and :class:`~accord.errors.StaleRequest` (field ``content_hash`` or the
    version's) when the caller names another version than the current one.
    """
    agreement = unit.center.agreement
    session = unit.session
    row = visible_row(session, caller, object_id)
    if caller.role is not Role.OFFICER or caller.member not in agreement.party_ids:
        raise NotAuthorized("only a party's officer acknowledges a humanitarian notification")
    if row.owner not in agreement.notifier_ids:
        raise IllegalTransition(
            "only a humanitarian notifier's sites and movements are acknowledged"
        )
    if row.status != ACTIVE:
        raise IllegalTransition("a withdrawn declaration cannot be acknowledged")
    _check_version(row, expected or {})
    current = content_hash(stored_feature(row))
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
