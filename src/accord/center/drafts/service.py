"""Saving and deleting a member's drafts: each a signed act of the member and one record
entry that tells every other reader nothing but that the member changed a draft.

**A draft** is ``{"name", "shape", "geometry", "device", "drawn_at"}``: a name (1 to
:data:`NAME_MAX` characters, no control characters), a ``shape`` (``freehand``,
``rectangle`` or ``circle``), a GeoJSON ``Polygon`` or ``LineString`` (a rectangle or a
circle is a polygon: a circle as the 64-vertex polygon a device draws), at most as many
positions as an operation's area may have (the agreement's ``limits.operation_vertices``:
a draft is meant to become one), the ``device`` that drew it (``uid``: 1 to 100 characters of
``[A-Za-z0-9._:@-]``, ``callsign``: up to :data:`CALLSIGN_MAX` characters or null) and when
it was drawn (an instant with its offset, not later than the center's clock plus
:data:`CLOCK_SKEW`). It is saved under a ``key`` — the drawing's CoT uid, of the same
characters as a device uid — unique within the member: saving a key again replaces the draft.
A member keeps at most :data:`MAX_DRAFTS` drafts; one more is refused (409) until one is
deleted. Bad input is an :class:`~accord.errors.InputError` naming every bad field
(``geometry.coordinates[0][3]``, ``device.uid``, ``key``); nothing is written.

**Who.** A member's officers and approvers — and the member's gateway, whose user is an
officer — save, list and delete the member's own drafts
(:func:`accord.center.visibility.sees_draft`); every draft is addressed by the caller's own
member and key, so another member's draft answers exactly as a missing one.

**The record.** Every write of a party is its signed act and an entry (DECISIONS 6–8), and a
draft is no exception: a device's drawing saved or deleted at the center is the member's act
as much as a declaration is. But a draft is the member's own — nobody else may learn its
shape, its name or which device drew it — so its entry is ``draft.changed`` holding a
salted commitment (:mod:`accord.record.commitments`) and nothing else, of one size whether
the draft was created, replaced or deleted and however large it is. The opening — the salt
and the canonical JSON of ``{"action": "saved" | "deleted", "created", "draft", "key"}`` —
is kept in ``openings`` for the member (DECISIONS 11), who proves with it (``accord record
open``) what its devices drew and when. What another party learns is what DECISIONS 1 allows
about any hidden change: that the member changed a draft at that time (and, from the act's
request line, which is in clear in every act, ``PUT`` or ``DELETE`` and the key: a
drawing's uid, which ATAK makes a random UUID).

Live: the member's own officers and approvers are told (``draft.saved``, ``draft.deleted``;
:func:`accord.center.visibility.draft_audience`), nobody else.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center import visibility
from accord.center.checks.geometry import check_geometry
from accord.center.db.models import Opening
from accord.center.db.models_drafts import Draft, DraftChange
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.runtime import Unit
from accord.chrono import format_instant, parse_instant
from accord.errors import IllegalTransition, InputError, Issue, NotAuthorized, NotFound, shown
from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import SALT_BYTES, commitment

__all__ = [
    "CALLSIGN_MAX",
    "CHANGED",
    "CHANGED_ENTRY",
    "CLOCK_SKEW",
    "DELETED_EVENT",
    "KEY_PATTERN",
    "MAX_DRAFTS",
    "NAME_MAX",
    "SAVED_EVENT",
    "SHAPES",
    "DraftIn",
    "DraftRecord",
    "Saved",
    "changed",
    "check_draft",
    "check_key",
    "delete_draft",
    "draft_of",
    "save_draft",
]

CHANGED: Final = "draft.changed"
SAVED_EVENT: Final = "draft.saved"
DELETED_EVENT: Final = "draft.deleted"

CHANGED_ENTRY = entry_kind(
    CHANGED, signer=Signer.MEMBER, required=("commitment",), fold=None,
    summary="a member saved or deleted one of its drafts (what, in the commitment's opening)",
    acts=("PUT /v1/drafts/{*}", "DELETE /v1/drafts/{*}"),
)  # fmt: skip

MAX_DRAFTS = 500
"""The most drafts a member keeps at once (each up to an operation area's vertices: 500 of
them at the default limits are 250,000 positions, read whole by ``GET /v1/drafts``)."""
NAME_MAX = 200
"""The most characters of a draft's name."""
CALLSIGN_MAX = 200
"""The most characters of a device's callsign."""
KEY_PATTERN: Final = r"^[A-Za-z0-9._:@-]{1,100}$"
"""A draft's key and a device's uid: a CoT uid's characters, 1 to 100 of them."""
SHAPES = ("freehand", "rectangle", "circle")
"""What a device drew: ATAK's ``u-d-f``, ``u-d-r`` and ``u-d-c-c``."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far past the center's clock a draft's ``drawn_at`` may lie (a device's clock drifts)."""

_KEY = re.compile(KEY_PATTERN)
_FIELDS = ("name", "shape", "geometry", "device", "drawn_at")


@dataclass(frozen=True, slots=True)
class DraftIn:
    """A draft as checked."""

    name: str
    shape: str
    geometry: dict[str, Any]
    uid: str
    callsign: str | None
    drawn_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The draft as stored and committed to."""
        return {
            "name": self.name,
            "shape": self.shape,
            "geometry": self.geometry,
            "device": {"uid": self.uid, "callsign": self.callsign},
            "drawn_at": format_instant(self.drawn_at),
        }


@dataclass(frozen=True, slots=True)
class DraftRecord:
    """A draft in force, as its member's readers see it."""

    key: str
    member: str
    content: Mapping[str, Any]
    created_at: datetime
    saved_at: datetime
    entry: int

    def as_json(self) -> dict[str, Any]:
        """The draft as answers and live events carry it (:class:`~.views.DraftOut`)."""
        return {
            "key": self.key,
            **self.content,
            "created_at": format_instant(self.created_at),
            "saved_at": format_instant(self.saved_at),
            "entry": self.entry,
        }


@dataclass(frozen=True, slots=True)
class Saved:
    """What a save did: the draft, and whether it was new (else it replaced one)."""

    draft: DraftRecord
    created: bool


def _printable_text(issues: list[Issue], field: str, value: Any, most: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        issues.append(Issue(field, "must be text, not empty"))
        return None
    if len(value) > most:
        issues.append(Issue(field, f"holds more than {most} characters"))
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        issues.append(Issue(field, "is not valid Unicode text"))
        return None
    if not value.isprintable():
        issues.append(Issue(field, "holds a control character"))
        return None
    return value


def check_key(key: Any) -> str:
    """``key`` if it is a draft's key (see :data:`KEY_PATTERN`), else
    :class:`~accord.errors.InputError` naming ``key``."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        message = "a draft's key is its drawing's CoT uid: 1 to 100 of A-Z a-z 0-9 . _ : @ -"
        raise InputError("draft", [Issue("key", message)])
    return key


def _positions(geometry: Mapping[str, Any]) -> int:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        return sum(len(ring) for ring in coordinates)
    return len(coordinates)


def _geometry(
    issues: list[Issue], value: Any, shape: str | None, most: int
) -> dict[str, Any] | None:
    if not isinstance(value, Mapping) or value.get("type") not in ("Polygon", "LineString"):
        issues.append(Issue("geometry.type", "a draft is a GeoJSON Polygon or LineString"))
        return None
    try:
        geometry = check_geometry(dict(value), source="draft")
    except InputError as bad:
        issues.extend(bad.issues)
        return None
    count = _positions(geometry)
    if count > most:
        issues.append(
            Issue(
                "geometry.coordinates",
                f"too many vertices: {count} positions, at most {most} (an operation's area: "
                "the agreement's limits.operation_vertices)",
            )
        )
        return None
    if shape in ("rectangle", "circle") and geometry["type"] != "Polygon":
        issues.append(Issue("geometry.type", f"a {shape} is drawn as a Polygon"))
        return None
    return geometry


def _device(issues: list[Issue], value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, Mapping):
        issues.append(Issue("device", "the device that drew it: {uid, callsign}"))
        return None, None
    for extra in sorted(k for k in value if k not in ("uid", "callsign")):
        name = shown(extra) if isinstance(extra, str) and extra and extra.isprintable() else "?"
        issues.append(Issue(f"device.{name}", "unknown field"))
    uid = value.get("uid")
    if not isinstance(uid, str) or not _KEY.fullmatch(uid):
        issues.append(Issue("device.uid", "1 to 100 of A-Z a-z 0-9 . _ : @ -"))
        uid = None
    callsign = value.get("callsign")
    if callsign is not None:
        callsign = _printable_text(issues, "device.callsign", callsign, CALLSIGN_MAX)
    return uid, callsign


def check_draft(agreement: Agreement, body: Any, *, now: datetime) -> DraftIn:
    """Check the draft ``body`` against the agreement's limits and the center's clock
    ``now``; raise :class:`~accord.errors.InputError` naming every bad field.

    >>> from accord.agreement import load_agreement
    >>> from accord.examples import example_path
    >>> from datetime import UTC
    >>> jig = load_agreement(example_path("jig.yaml"))
    >>> now = datetime(2026, 9, 21, 16, tzinfo=UTC)
    >>> line = {"type": "LineString", "coordinates": [[21.6, 25.3], [21.7, 25.3], [21.7, 25.4]]}
    >>> check_draft(jig, {"name": "Crossing", "shape": "freehand", "geometry": line,
    ...     "device": {"uid": "ANDROID-1", "callsign": "VIPER 1"},
    ...     "drawn_at": "2026-09-21T15:59:00Z"}, now=now).shape
    'freehand'
    >>> check_draft(jig, {"name": "", "shape": "circle", "geometry": line,
    ...     "device": {"uid": "a b"}, "drawn_at": "yesterday"}, now=now)
    Traceback (most recent call last):
    ...
    accord.errors.InputError: draft: 4 problems
      field 'name': must be text, not empty
      field 'geometry.type': a circle is drawn as a Polygon
      field 'device.uid': 1 to 100 of A-Z a-z 0-9 . _ : @ -
      field 'drawn_at': 'yesterday' is not an ISO 8601 time
    """
    if not isinstance(body, Mapping):
        raise InputError("draft", [Issue("body", "a draft is a JSON object")])
    issues: list[Issue] = []
    for extra in sorted(k for k in body if k not in _FIELDS):
        field = shown(extra) if isinstance(extra, str) and extra and extra.isprintable() else "?"
        issues.append(Issue(field, "unknown field"))
    name = _printable_text(issues, "name", body.get("name"), NAME_MAX)
    shape = body.get("shape")
    if shape not in SHAPES:
        issues.append(Issue("shape", f"one of {', '.join(SHAPES)}"))
        shape = None
    geometry = _geometry(issues, body.get("geometry"), shape, agreement.limits.operation_vertices)
    uid, callsign = _device(issues, body.get("device"))
    drawn_at: datetime | None = None
    raw = body.get("drawn_at")
    if not isinstance(raw, str):
        issues.append(Issue("drawn_at", "an ISO 8601 instant with its offset"))
    else:
        try:
            drawn_at = parse_instant(raw)
        except ValueError as error:
            issues.append(Issue("drawn_at", str(error)))
        else:
            if drawn_at > now + CLOCK_SKEW:
                later = format_instant(now)
                issues.append(Issue("drawn_at", f"is later than the center's clock ({later})"))
                drawn_at = None
    if issues:
        raise InputError("draft", issues)
    assert name is not None and isinstance(shape, str) and geometry is not None
    assert uid is not None and drawn_at is not None
    return DraftIn(name, shape, geometry, uid, callsign, drawn_at)


def draft_of(row: Draft) -> DraftRecord:
    """The draft a row holds."""
    return DraftRecord(row.key, row.member, json.loads(row.content), row.created_at,
                       row.saved_at, row.entry)  # fmt: skip


def _member_of(caller: Caller) -> str:
    if not visibility.sees_draft(caller, member=caller.member):
        raise NotAuthorized(f"a {caller.role.value} keeps no drafts")
    return caller.member


def _record(unit: Unit, member: str, opened: Mapping[str, Any], at: datetime) -> int:
    """Append the member's ``draft.changed`` entry committing to ``opened`` and keep its
    opening for the member (:func:`changed` then writes what it does); the entry's index."""
    salt = secrets.token_bytes(SALT_BYTES)
    committed = commitment(dict(opened), salt=salt)
    event = CHANGED_ENTRY.build(commitment=encode_base64(committed))
    entry = unit.ledger.append(event, author=member, at=at)
    unit.session.add(
        Opening(
            entry=entry,
            owner=member,
            commitment=committed,
            salt=salt,
            content=canonical_json(dict(opened)).decode("utf-8"),
        )
    )
    return entry


def changed(
    session: Session,
    member: str,
    opened: Mapping[str, Any],
    row: Draft | None,
    *,
    entry: int,
    at: datetime,
    saved_by: int | None,
) -> Draft | None:
    """What the ``draft.changed`` entry ``entry`` whose opening is ``opened`` does to the
    tables: its index row (``draft_changes``), and ``row`` (the member's draft of that key,
    None for none) saved, replaced or deleted; the draft after it (None: deleted)."""
    key, action = str(opened["key"]), str(opened["action"])
    if action not in ("saved", "deleted"):
        raise ValueError(f"a draft is saved or deleted, not {action!r}")
    session.add(DraftChange(entry=entry, member=member, key=key, action=action, at=at))
    if action == "deleted":
        if row is not None:
            session.delete(row)
        return None
    encoded = canonical_json(opened["draft"]).decode("utf-8")
    if row is None:
        row = Draft(member=member, key=key, content=encoded, saved_by=saved_by,
                    created_at=at, saved_at=at, entry=entry)  # fmt: skip
        session.add(row)
    else:
        row.content, row.saved_by, row.saved_at, row.entry = encoded, saved_by, at, entry
    return row


def save_draft(
    unit: Unit, caller: Caller, key: str, body: Mapping[str, Any], at: datetime
) -> Saved:
    """Save the draft ``body`` under ``key`` for the caller's member at ``at`` (see the module
    docstring): a new one, or the one of that key replaced.

    Raises :class:`~accord.errors.NotAuthorized` for a role that keeps no drafts,
    :class:`~accord.errors.InputError` naming every bad field and
    :class:`~accord.errors.IllegalTransition` for a new draft past :data:`MAX_DRAFTS`."""
    member = _member_of(caller)
    checked = check_key(key)
    draft = check_draft(unit.center.agreement, body, now=at)
    session = unit.session
    row = session.scalars(select(Draft).where(Draft.member == member, Draft.key == checked)).first()
    created = row is None
    if row is None:
        held = session.scalar(select(func.count()).select_from(Draft).where(Draft.member == member))
        if (held or 0) >= MAX_DRAFTS:
            raise IllegalTransition(
                f"{member} keeps {MAX_DRAFTS} drafts, the most a member may: delete one first"
            )
    content = draft.as_json()
    opened = {"action": "saved", "created": created, "draft": content, "key": checked}
    entry = _record(unit, member, opened, at)
    row = changed(session, member, opened, row, entry=entry, at=at, saved_by=caller.user_id)
    assert row is not None
    session.flush()
    record = draft_of(row)
    publish(
        session,
        kind=SAVED_EVENT,
        at=at,
        audience=visibility.draft_audience(member=member),
        payload={"draft": record.as_json(), "created": created},
    )
    return Saved(record, created)


def delete_draft(unit: Unit, caller: Caller, key: str, at: datetime) -> DraftRecord:
    """Delete the caller's member's draft ``key`` at ``at``; the draft as it was.

    Raises :class:`~accord.errors.NotAuthorized` for a role that keeps no drafts and
    :class:`~accord.errors.NotFound` when the member has no draft of that key (whoever else
    has one)."""
    member = _member_of(caller)
    key = check_key(key)
    session = unit.session
    row = session.scalars(select(Draft).where(Draft.member == member, Draft.key == key)).first()
    if row is None:
        raise NotFound("no such draft")
    record = draft_of(row)
    opened = {"action": "deleted", "created": False, "draft": None, "key": key}
    entry = _record(unit, member, opened, at)
    changed(session, member, opened, row, entry=entry, at=at, saved_by=caller.user_id)
    session.flush()
    publish(
        session,
        kind=DELETED_EVENT,
        at=at,
        audience=visibility.draft_audience(member=member),
        payload={"key": key, "entry": entry},
    )
    return record
