"""The picture at any time: what a caller could see at an instant, rebuilt from the record
alone, so that a dispute about "what did we know then" is settled by replay, not memory.

:func:`picture` reads the record's prefix up to the instant, checked entry by entry
(:mod:`accord.center.picture.verified`: a record that does not verify is
:class:`~accord.errors.RecordDamaged` naming the entry, never a picture), folds it
(:mod:`accord.center.picture.replay`) and answers the caller's view of it
(:mod:`accord.center.picture.views`). Only the caller's member's hidden declarations are
opened; their entries whose opening does not check are listed in ``unverified``, and an older
log's hidden declaration whose opening does not check is listed with ``feature`` null and
``verified`` false, never as verified.

**What each caller sees** (the same lines as the live resources):

* a party's officers and approvers: every ``shared`` declaration in force, their own
  member's ``center`` ones opened from the stored openings (other members' ``center``
  declarations do not appear at all, not even counted), every operation with its status at
  the instant and its conflicts as the record holds them (already cut for every reader),
  and the direct-line messages their party sent or received that were still open (not
  acknowledged by every recipient) with their content opened and checked;
* monitors: the ``shared`` declarations, every operation, and every open message's
  metadata (sender, recipients, times, acknowledgement and escalation state — what the
  record says), never content;
* notifiers: their own member's declarations and their acknowledgements only;
* administrators: nothing (403).

**Proof.** The answer names ``entries`` (the size of the prefix), the Merkle ``root`` of
that prefix, and a tree head signed by the center: the one stored at exactly that size when
there is one, else the newest stored when it covers the prefix (signed now when none does).
A party checks the root against the head with a consistency proof
(``GET /v1/record/proofs/consistency``) and can replay the same prefix itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from accord.agreement import phase_at
from accord.center import visibility
from accord.center.declarations.fold import DECLARATIONS
from accord.center.directline.fold import MessageRecord
from accord.center.entry_kinds import Part
from accord.center.identity import Caller
from accord.center.operations import fold as operations_fold
from accord.center.operations.fold import OPERATIONS, OperationRecord, shown_at
from accord.center.phases.views import PhaseOut
from accord.center.picture.replay import Replay
from accord.center.picture.snapshots import replayed
from accord.center.picture.verified import verified_log
from accord.center.picture.views import (
    AnomalyAt,
    Bounds,
    PictureOut,
    Seen,
    declaration_at,
    messages_read,
    messages_seen,
    operation_at,
    proof,
    seen_by,
)
from accord.center.runtime import Center, CenterCache
from accord.chrono import micros
from accord.errors import NotAuthorized, StaleRequest
from accord.geo import geometry_bounds

__all__ = ["EXTENTS", "MESSAGE", "Selection", "picture"]

MESSAGE = "message"
"""The name that selects the open direct-line messages among :attr:`Selection.kinds`."""

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which objects of the picture one request answers, and how many.

    ``box`` (west, south, east, north, degrees): only the declarations and operations whose
    feature, as the caller reads it, has a position in the box (a declaration whose
    opening does not check has none, so it is left out); direct-line messages are not
    placed by it (their place is in their content, which monitors may not read).
    ``kinds``: only the declarations of these kinds, the operations of these categories,
    and the open messages when :data:`MESSAGE` is among them. ``offset`` and ``limit``: a
    page of the objects so selected, in the answer's order (declarations by id, then
    operations, then messages, each oldest first), issued for a prefix of ``entries``
    entries (a page asked for another prefix is :class:`~accord.errors.StaleRequest`)."""

    box: Box | None = None
    kinds: frozenset[str] | None = None
    limit: int | None = None
    offset: int = 0
    entries: int | None = None


_ALL = Selection()


_BOUNDS_KEPT = 100_000
"""How many extents a center keeps between pictures (all dropped when full)."""

Extents = dict[tuple[str, str, int], tuple[float, float, float, float] | None]

EXTENTS: CenterCache[Extents] = CenterCache("the picture's extents", lambda _: {})
"""The key of each center's extents of the features its pictures selected by box, by the
object's family, id and the entry that gave it its feature (see :func:`_inside`)."""


def _key(family: str, seen: Seen) -> tuple[str, str, int] | None:
    """A declaration's key among the kept extents: none when its opening did not check
    (it may be repaired)."""
    return (family, seen.state.id, seen.state.entry) if seen.verified else None


def _inside(box: Box | None, feature: Any, key: tuple[str, str, int] | None, kept: Extents) -> bool:
    """Whether ``feature`` (a GeoJSON feature, or None) has a position in ``box``. ``key``:
    the object's family, id and the entry that gave it this feature, for good (a hidden
    one's opening is checked against that entry), so its extent is computed once and kept
    in ``kept`` for the next pictures (None: not kept)."""
    if box is None:
        return True
    if key is not None and key in kept:
        bounds = kept[key]
    else:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        bounds = geometry_bounds(geometry)
        if key is not None:
            if len(kept) >= _BOUNDS_KEPT:
                kept.clear()
            kept[key] = bounds
    return bounds is not None and _within(box, bounds)


@dataclass(frozen=True, slots=True)
class _Parked:
    """An object of a snapshot chosen by its index, not read yet (:meth:`Replay.park`)."""

    key: Part[dict[str, Any]]
    id: str


def _within(box: Box | None, bounds: Bounds) -> bool:
    """Whether ``bounds`` (``()``: no position) meet ``box`` (None: anywhere)."""
    if box is None:
        return True
    if not bounds:
        return False
    west, south, east, north = box
    return bounds[0] <= east and bounds[2] >= west and bounds[1] <= north and bounds[3] >= south


def _declarations(
    session: Session, replay: Replay, caller: Caller, selection: Selection, kept: Extents
) -> list[Seen | _Parked]:
    """The declarations ``caller`` sees that ``selection`` picks, by id: those read as
    :func:`~accord.center.picture.views.declarations_seen` finds them, the parked ones by
    their index (read only when their feature is read at the picture)."""
    box, kinds = selection.box, selection.kinds
    chosen: list[tuple[str, Seen | _Parked]] = []
    held, index = replay.parked(DECLARATIONS)
    for d in held.values():
        seen = seen_by(session, d, caller)
        if (
            seen is not None
            and (kinds is None or d.kind in kinds)
            and _inside(box, seen.feature, _key("d", seen), kept)
        ):
            chosen.append((d.id, seen))
    for object_id, (in_force, owner, disclosure, kind, bounds) in list(index.items()):
        if (
            not in_force
            or not visibility.sees_object(caller, owner=owner, disclosure=disclosure)
            or (kinds is not None and kind not in kinds)
        ):
            continue
        if bounds is None:  # its feature is read at the picture: read it now
            seen = seen_by(session, replay.unpark(DECLARATIONS, object_id), caller)
            if seen is not None and _inside(box, seen.feature, _key("d", seen), kept):
                chosen.append((object_id, seen))
        elif _within(box, bounds):
            chosen.append((object_id, _Parked(DECLARATIONS, object_id)))
    chosen.sort(key=lambda pair: pair[0])
    return [o for _, o in chosen]


def _operations(
    replay: Replay, at: datetime, selection: Selection, kept: Extents
) -> list[OperationRecord | _Parked]:
    """The operations a picture at ``at`` shows that ``selection`` picks, oldest first, as
    :func:`~accord.center.picture.views.operations_seen` orders them; a parked one by its
    index, read only when it was last told of more than a day before (then whether it is
    still shown needs its state)."""
    box, kinds = selection.box, selection.kinds
    agreement = replay.agreement
    recent = micros(at) - operations_fold.ENDED_SHOWN // timedelta(microseconds=1)
    chosen: list[tuple[tuple[int, str], OperationRecord | _Parked]] = []
    held, index = replay.parked(OPERATIONS)
    for op in held.values():
        if (
            (kinds is None or op.category in kinds)
            and shown_at(op, agreement, at)
            and _inside(box, op.feature, ("o", op.id, op.entry), kept)
        ):
            chosen.append(((micros(op.proposed_at), op.id), op))
    for object_id, (proposed, category, updated, bounds) in list(index.items()):
        if (kinds is not None and category not in kinds) or not _within(box, bounds):
            continue
        if updated < recent:
            op = replay.unpark(OPERATIONS, object_id)
            if shown_at(op, agreement, at):
                chosen.append(((proposed, object_id), op))
        else:
            chosen.append(((proposed, object_id), _Parked(OPERATIONS, object_id)))
    chosen.sort(key=lambda pair: pair[0])
    return [o for _, o in chosen]


def _read(
    session: Session,
    replay: Replay,
    caller: Caller,
    chosen: Seen | OperationRecord | MessageRecord | _Parked,
) -> Seen | OperationRecord | MessageRecord:
    """An object of a page, read if it was parked."""
    if not isinstance(chosen, _Parked):
        return chosen
    found = replay.unpark(chosen.key, chosen.id)
    if chosen.key is DECLARATIONS:
        seen = seen_by(session, found, caller)
        if seen is None:  # pragma: no cover - its index said it was
            raise RuntimeError(f"a parked declaration {chosen.id} not seen as indexed")
        return seen
    return cast(OperationRecord, found)


def picture(
    center: Center, caller: Caller, at: datetime, selection: Selection = _ALL
) -> PictureOut:
    """What ``caller`` could see at ``at``, from the record's prefix up to ``at``: the
    objects ``selection`` picks, and ``next``, the cursor of the page after this one
    (``"ENTRIES.OFFSET"``; None at the last). ``unverified`` and ``anomalies`` are answered
    on the first page only.

    Raises :class:`~accord.errors.NotAuthorized` for an administrator,
    :class:`~accord.errors.RecordDamaged` when the record does not verify and
    :class:`~accord.errors.StaleRequest` for a page of another prefix.
    """
    view = visibility.picture_view(caller)
    if view is None:
        raise NotAuthorized("an administrator registers people; it has no picture")
    kinds = selection.kinds
    kept = center.cache(EXTENTS)
    with center.reading() as session:
        # Only the caller's member's hidden declarations are shown: only theirs are opened.
        log = verified_log(center, session)  # first: the transaction's view taken there
        most = None if selection.limit is None else selection.offset + selection.limit
        done = replayed(center, session, log, member=caller.member, until=at, page=most)
        replay, size = done.replay, done.size
        if selection.entries is not None and selection.entries != size:
            raise StaleRequest(
                "after",
                "query",
                f"the page was for the record's first {selection.entries} entries, but the "
                f"picture at this instant holds {size}: ask for the first page again",
            )
        # Select first (cheap: a parked object by its index), build the answer's models for
        # the page only (reading the parked ones it holds).
        chosen: list[Seen | OperationRecord | MessageRecord | _Parked] = []
        chosen += _declarations(session, replay, caller, selection, kept)
        if visibility.reads_operations(caller):
            chosen += _operations(replay, at, selection, kept)
        if kinds is None or MESSAGE in kinds:
            chosen += messages_seen(replay, caller)
        end = len(chosen) if selection.limit is None else selection.offset + selection.limit
        page = [_read(session, replay, caller, o) for o in chosen[selection.offset : end]]
        declarations = [declaration_at(o, caller) for o in page if isinstance(o, Seen)]
        messages = messages_read(session, [o for o in page if isinstance(o, MessageRecord)], caller)
    operations = [
        operation_at(o, replay.agreement, at) for o in page if isinstance(o, OperationRecord)
    ]
    first = selection.offset == 0
    return PictureOut(
        at=at,
        member=caller.member,
        view=view,
        proof=proof(center, size),
        phase=PhaseOut.of(phase_at(center.agreement, at, replay.confirmations)),
        confirmations=dict(replay.confirmations),
        declarations=declarations,
        unverified=[i for i in replay.unopened if done.author(i) == caller.member]
        if first and view == "party"
        else [],
        operations=operations,
        messages=messages,
        anomalies=[AnomalyAt(entry=i, reason=replay.reasons[i]) for i in replay.anomalies]
        if first
        else [],
        next=f"{size}.{end}" if end < len(chosen) else None,
    )
