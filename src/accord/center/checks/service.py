"""Received geometry checked on arrival: the coordinates in a direct-line message (or an
objection's evidence, an operation's amendment) run through the deconfliction engine as if
they were an operation's area, and each party involved shown what it may see of the answer.

**Who is shown what.** The receiver sees every protected site, humanitarian movement and
notified operation within the agreement's buffers, and its *own* objects, hidden ones
included — "240 m from School No. 12" — with names and distances, before it acknowledges.
The sender is shown the same cut for itself: shared objects and its own. Nobody is shown
anything of another party's hidden objects (:func:`accord.deconfliction.received.open_to`):
the coordinates are the sender's choice, and an answer about the receiver's hidden forces
would be a probe no limit counts.

**The record.** The center writes one entry per check (its own act, DECISIONS 8) holding,
for each party involved, a salted commitment to exactly what that party was shown
(:func:`record`): 32 bytes per party whatever was found, so neither the record's contents
nor its size tell anyone the answer (DECISIONS 2). A check is made for every message,
geometry or not. Each party's opening (the salt and the canonical JSON it was shown) is
kept in ``check_openings`` and served to that party alone (:func:`opening_for`): in a later
dispute a party proves what it was warned of, with nothing but the record and its opening.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.orm import Session

from accord.center.db.fast import Prepared
from accord.center.db.models import Declaration
from accord.center.db.models_checks import CheckOpening
from accord.center.db.models_operations import OperationRow
from accord.center.entry_kinds import EntryKind
from accord.center.event_store import publish_all
from accord.center.runtime import Unit
from accord.chrono import format_instant
from accord.deconfliction import Conflict
from accord.deconfliction.received import (
    CHECK_WINDOW,
    Unchecked,
    areas_of,
    describe,
    merged,
    open_to,
)
from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import SALT_BYTES, commitment
from accord.world import Operation

__all__ = [
    "ExactWorld",
    "check",
    "kept",
    "opening_for",
    "openings_for",
    "record",
    "record_and_tell",
    "warning_json",
]

_openings = cast(Table, CheckOpening.__table__)
_PUT = Prepared(insert(_openings))


def kept(row: CheckOpening) -> bool:
    """Whether the center keeps a check's opening: a check redone from the record after a
    restore (:mod:`accord.center.recovery.redo`) has its commitment only, its salt and
    content empty (what the party was shown is in no entry; the party's own copy opens
    it). A reader answers such a check as not kept, never as a failure."""
    return bool(row.content)


class ExactWorld(Protocol):
    """The world in force as a check asks it: every true conflict of the areas, exact
    objects only (:meth:`accord.center.operations.world_cache.WorldCache.check_exact`)."""

    def check_exact(self, session: Session, areas: Iterable[Operation]) -> list[Conflict]:
        """Every true conflict of each of ``areas``."""
        ...


def warning_json(conflict: Conflict, name: str | None) -> dict[str, Any]:
    """One warning as a party is shown it (and as its commitment binds it)."""
    out: dict[str, Any] = {
        "kind": conflict.kind.value,
        "with": conflict.with_id,
        "name": name,
        "party": conflict.party,
        "disclosure": conflict.disclosure.value,
        "distance_m": None if conflict.distance_m is None else round(conflict.distance_m, 1),
        "threshold_m": None if conflict.threshold_m is None else round(conflict.threshold_m, 1),
        "blocking": conflict.blocking,
        "text": describe(conflict, name),
    }
    if conflict.stale:
        out["stale"] = True
    return out


_NAMES_OF = union_all(
    select(Declaration.id, Declaration.feature).where(
        Declaration.id.in_(bindparam("b_ids", expanding=True))
    ),
    select(OperationRow.id, OperationRow.feature).where(
        OperationRow.id.in_(bindparam("b_ids", expanding=True))
    ),
)
"""The stored features of the objects named (one statement, built once)."""


def _names(session: Session, conflicts: Sequence[Conflict]) -> dict[str, str]:
    """The declared names of the objects in ``conflicts`` (those that have one). Read even
    when there are none: whether a check found something (another party's hidden object
    among it) must not be the difference between one statement and none in the time the
    sender waits."""
    ids = sorted({c.with_id for c in conflicts if c.with_id is not None})
    names: dict[str, str] = {}
    for object_id, feature in session.connection().execute(_NAMES_OF, {"b_ids": ids}):
        name = json.loads(feature).get("properties", {}).get("name")
        if isinstance(name, str) and name:
            names[object_id] = name
    return names


def check(
    unit: Unit,
    world: ExactWorld,
    geometry: Mapping[str, Any] | None,
    *,
    subject: str,
    about: str,
    parties: Iterable[str],
    at: datetime,
    extra: Mapping[str, Any] | None = None,
    area: Operation | None = None,
) -> dict[str, dict[str, Any]]:
    """Check ``geometry`` (None: there is none; the check is still made, and says so) and
    return, by party, what each of ``parties`` is shown: ``{"check": about, "id": subject,
    "party", "at", "until", "geometry": bool, "checked": bool, "unchecked": reason|None,
    "warnings": [...], **extra}`` — the content each party's commitment binds.

    ``area``: an operation's own area to check instead (an amendment: its geometry, radius
    and window as the engine reads them; ``until`` is then its window's end)."""
    conflicts: list[Conflict] = []
    reason: str | None = None
    until = at + CHECK_WINDOW
    if area is not None:
        conflicts = merged(world.check_exact(unit.session, [area]))
        until = area.window_end
    elif geometry is not None:
        try:
            areas = areas_of(geometry, unit.center.agreement, area_id=subject, party="", at=at)
        except Unchecked as why:
            reason = str(why)
        else:
            conflicts = merged(world.check_exact(unit.session, areas))
    # A message with no geometry has nothing to name, and its sender knows it: no read.
    names = _names(unit.session, conflicts) if geometry is not None or area is not None else {}
    views = {}
    for party in sorted(set(parties)):
        seen = open_to(conflicts, party)
        views[party] = {
            "check": about,
            "id": subject,
            "party": party,
            **(extra or {}),
            "at": format_instant(at),
            "until": format_instant(until),
            "geometry": geometry is not None or area is not None,
            "checked": (geometry is not None or area is not None) and reason is None,
            "unchecked": reason,
            "warnings": [warning_json(c, names.get(c.with_id or "")) for c in seen],
        }
    return views


def record(
    unit: Unit,
    kind: EntryKind,
    subject: str,
    views: Mapping[str, Mapping[str, Any]],
    *,
    at: datetime,
    **fields: Any,
) -> int:
    """Write the center's entry of ``kind`` for a check of ``subject``: ``{"id": subject,
    "checks": {party: commitment}, **fields}`` (each commitment 32 bytes, whatever was
    found), and each party's opening; the entry's index."""
    salts = {party: secrets.token_bytes(SALT_BYTES) for party in views}
    commitments = {party: commitment(dict(v), salt=salts[party]) for party, v in views.items()}
    event = kind.build(
        id=subject,
        checks={party: encode_base64(c) for party, c in sorted(commitments.items())},
        **fields,
    )
    entry = unit.ledger.append(event, author=unit.center.origin, at=at)
    _PUT.execute(
        unit.session.connection(),
        [
            {
                "entry": entry,
                "party": party,
                "subject": subject,
                "commitment": commitments[party],
                "salt": salts[party],
                "content": canonical_json(dict(view)).decode("utf-8"),
            }
            for party, view in sorted(views.items())
        ],
    )
    return entry


def record_and_tell(
    unit: Unit,
    kind: EntryKind,
    subject: str,
    views: Mapping[str, Mapping[str, Any]],
    *,
    at: datetime,
    **fields: Any,
) -> int:
    """:func:`record`, then tell each party what it was shown: a live event of the entry's
    kind, ``{"id": subject, "entry": …, **its view}``, to that party alone. For a check
    that has no live event of its own to ride on (a direct-line message's rides on
    ``message.sent``)."""
    entry = record(unit, kind, subject, views, at=at, **fields)
    publish_all(
        unit.session,
        kind=kind.name,
        at=at,
        each=[([party], {"id": subject, "entry": entry, **view}) for party, view in views.items()],
    )
    return entry


def openings_for(
    session: Session, subjects: Sequence[str], party: str
) -> dict[str, list[CheckOpening]]:
    """``party``'s openings of the checks of ``subjects``, oldest first, by subject."""
    out: dict[str, list[CheckOpening]] = {s: [] for s in subjects}
    if not subjects:
        return out
    rows = session.scalars(
        select(CheckOpening)
        .where(CheckOpening.subject.in_(list(subjects)), CheckOpening.party == party)
        .order_by(CheckOpening.entry)
    ).all()
    for row in rows:
        out[row.subject].append(row)
    return out


def opening_for(session: Session, subject: str, party: str) -> CheckOpening | None:
    """``party``'s opening of the latest check of ``subject`` (None: none was made for it)."""
    found = openings_for(session, [subject], party)[subject]
    return found[-1] if found else None
