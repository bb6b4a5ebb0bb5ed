"""What ``GET /v1/world.kml`` draws for a caller: exactly what the JSON routes answer it.

Nothing here decides who sees what. The declarations are the page of ``GET /v1/world``
(:func:`accord.center.declarations.queries.in_force`, the same caller, ``limit`` and
``after``), each with its record index; the operations those of ``GET /v1/operations``
(:func:`accord.center.operations.queries.listing`, their conflicts cut for
:func:`~accord.center.visibility.conflict_viewer`: a conflict with another party's hidden
object says its kind, its party and that it blocks — no distance, DECISIONS 1), for the
roles that read operations; the designated areas are the agreement's, which every member
reads. Each row is asked :func:`~accord.center.visibility.sees_object` once more before it
is drawn, so that a row read wrongly can never reach a file. All is read in one snapshot;
the drawing is :mod:`accord.kml.write`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.declarations import queries as declarations
from accord.center.event_store import newest_id
from accord.center.identity import Caller
from accord.center.operations import queries as operations
from accord.center.operations.desk import desk
from accord.center.runtime import Center
from accord.chrono import format_instant
from accord.kml.write import (
    Document,
    Placemark,
    area_placemark,
    feature_placemarks,
    vertices,
)

__all__ = [
    "MAX_DECLARED_VERTICES",
    "MAX_OPERATIONS",
    "MAX_OPERATION_VERTICES",
    "Drawn",
    "conflict_line",
    "world_document",
]

MAX_OPERATIONS = 2000
"""The most operations a document draws (the newest; the document says when there are
more)."""
MAX_DECLARED_VERTICES = 200_000
"""The most positions (vertices and circles' vertices) of declarations one document draws:
a page ends early, its ``Link`` naming the next, once the next declaration would pass it —
so that what one answer costs is bounded by its drawing, not by a count of features (at
least one declaration a page)."""
MAX_OPERATION_VERTICES = 100_000
"""The most positions of operations the first page draws (the newest first)."""


@dataclass(frozen=True, slots=True)
class Drawn:
    """A document, the ``after`` of the next page of declarations (None on the last) and
    the id of the newest event as of just before it was read."""

    document: Document
    following: str | None
    events_after: int


def conflict_line(conflict: Any) -> str:
    """A blocking conflict as an operation's balloon says it: with another party's hidden
    object, its kind and party only (whatever the conflict carries).

    >>> from types import SimpleNamespace as N
    >>> conflict_line(N(kind="position", with_id=None, party="blue", distance_m=12.0))
    'blocked by a hidden position of blue'
    """
    kind = str(getattr(conflict.kind, "value", conflict.kind)).replace("_", " ")
    if conflict.with_id is None:
        return f"blocked by a hidden {kind} of {conflict.party}"
    distance = "" if conflict.distance_m is None else f", {conflict.distance_m:.0f} m"
    return f"blocked by {kind} {conflict.with_id} of {conflict.party}{distance}"


def _declared(
    session: Session, caller: Caller, *, limit: int, after: str | None
) -> tuple[list[Placemark], str | None]:
    features, following = declarations.in_force(session, caller, limit=limit, after=after)
    parsed: list[dict[str, Any]] = []
    cost = 0
    for text in features:
        feature = json.loads(text)
        cost += vertices(feature)
        if parsed and cost > MAX_DECLARED_VERTICES:
            # the page ends here: the next one starts after the last feature drawn
            following = str((parsed[-1].get("properties") or {}).get("id"))
            break
        parsed.append(feature)
    ids = [str((f.get("properties") or {}).get("id")) for f in parsed]
    entries = declarations.record_indexes(session, ids)
    marks: list[Placemark] = []
    for feature in parsed:
        props = feature.get("properties") or {}
        if not visibility.sees_object(
            caller, owner=str(props.get("declared_by")), disclosure=str(props.get("disclosure"))
        ):
            continue
        index = entries.get(str(props.get("id")))
        index = index if index is not None and index >= 0 else None
        marks += feature_placemarks(feature, reader=caller.member, index=index)
    return marks, following


def _operations(
    session: Session, center: Center, caller: Caller, at: datetime
) -> tuple[list[Placemark], bool]:
    if not visibility.reads_operations(caller):
        return [], False
    views, more = operations.listing(
        session, desk(center), visibility.conflict_viewer(caller), at, limit=MAX_OPERATIONS
    )
    marks: list[Placemark] = []
    cost = 0
    for view in views:
        cost += vertices(view.feature)
        if marks and cost > MAX_OPERATION_VERTICES:
            return marks, True
        state = view.state
        props = view.feature.get("properties") or {}
        disclosure = str(props.get("disclosure", "shared"))
        if not visibility.sees_object(caller, owner=state.proposed_by, disclosure=disclosure):
            continue
        feature = {
            **view.feature,
            "properties": {
                **props,
                "id": state.id,
                "kind": "operation",
                "declared_by": state.proposed_by,
                "proposed_by": state.proposed_by,
                "category": state.category,
                "disclosure": disclosure,
                "window_start": state.window_start,
                "window_end": state.window_end,
            },
        }
        blocking = [conflict_line(c) for c in view.conflicts if c.blocking]
        lines = (f"executors: {', '.join(state.executors)}", *blocking)
        marks += feature_placemarks(
            feature, reader=caller.member, index=view.entry, lines=lines, status=state.status.value
        )
    return marks, more


def world_document(
    center: Center, caller: Caller, *, at: datetime, limit: int, after: str | None
) -> Drawn:
    """What ``caller`` may see at ``at``, drawn: the page of declarations in force after
    ``after`` (``limit`` at most, as ``GET /v1/world``), and on the first page (``after``
    None) the agreement's designated areas and the operations too."""
    with center.reading() as session:
        events_after = newest_id(session)
        marks, following = _declared(session, caller, limit=limit, after=after)
        more = False
        if after is None:
            areas = [
                area_placemark(a.id, a.name, a.polygon, a.restricted_operators, a.exempt_missions)
                for a in center.agreement.designated_areas
            ]
            operated, more = _operations(session, center, caller, at)
            marks = areas + marks + operated
    lines = [f"as {caller.member} ({caller.role.value}) may see it at {format_instant(at)}"]
    if after is not None:
        lines.append(f"declarations after {after}")
    if following is not None:
        lines.append(f"more declarations follow, after {following}")
    if more:
        lines.append(f"the newest {sum(m.kind == 'operation' for m in marks)} operations only")
    document = Document(f"Accord: {center.agreement.title}", marks, tuple(lines))
    return Drawn(document, following, events_after)
