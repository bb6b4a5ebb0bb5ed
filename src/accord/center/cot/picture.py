"""What a TAK device is sent: the picture its user may see, as Cursor on Target events.

Every part is read through the same queries the page's routes use, each cut by
:mod:`accord.center.visibility` (this module decides nothing about who sees what):

* declarations in force — :func:`accord.center.declarations.queries.in_force` (the rows of
  ``GET /v1/world``): a protected site as a circle of its standoff (a marker without one), a
  polygon as a shape, a movement's line as a route, a position as a marker (the reader's
  own party friendly ``a-f-G``, another party's ``a-n-G``: the center names nobody hostile);
* the agreement's designated areas, as shapes whose remarks list the restricted operators
  and the exempt missions (read by every member's users, as the agreement is);
* operations (:func:`accord.center.operations.queries.listing`, cut for
  :func:`~accord.center.visibility.conflict_viewer`) not yet ended, with their state and
  blocking conflicts in their remarks — a conflict with a hidden object as the page shows
  it: "blocked by a hidden <kind> of <party>", no ring, no distance (DECISIONS 1);
* live tracks for the readers of the air picture
  (:func:`accord.center.airspace.tracks.list_tracks`);
* open airspace alerts (:func:`accord.center.airspace.alerts.list_alerts`: losses of
  separation, designated-area violations) and the direct-line messages to the reader's party
  not yet acknowledged (:func:`accord.center.directline.reading.list_messages`, those that
  carry a place) as ``b-a-g``.

Each event's uid is ``accord.<id>``, it carries the Accord id and record index (the
builders of :mod:`accord.cot.write` put them in its ``accord`` element and remarks) and a
``stale`` of :data:`STALE` after the instant it was built (the listener re-sends before).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from accord.center import visibility
from accord.center.airspace.alerts import AlertView, list_alerts
from accord.center.airspace.tracks import list_tracks
from accord.center.declarations import queries as declarations
from accord.center.directline.reading import NAMES, list_messages
from accord.center.identity import Caller
from accord.center.operations import queries as operations
from accord.center.operations.desk import desk
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.cot import (
    AccordMark,
    Event,
    Point,
    Track,
    alert_event,
    circle_event,
    point_event,
    polygon_event,
    remarks_for,
    route_event,
)
from accord.errors import AccordError
from accord.rules.operations import OperationStatus

__all__ = ["PARTS", "STALE", "UID_PREFIX", "parts_for", "picture"]

_log = logging.getLogger(__name__)

STALE = timedelta(minutes=5)
"""How long an event the center sends holds on a device unless re-sent."""

UID_PREFIX = "accord."
"""Every event the center sends has the uid ``accord.<Accord id>``."""

_PAGE = 1000
_MAX_OPERATIONS = 2000
_MAX_ALERTS = 500
_KNOTS = 1852.0 / 3600.0  # metres a second per knot
_ENDED = {
    OperationStatus.VETOED,
    OperationStatus.CANCELLED,
    OperationStatus.EXPIRED,
    OperationStatus.COMPLETED,
}


def _uid(object_id: str) -> str:
    return UID_PREFIX + object_id


def _ring(coordinates: Any) -> list[tuple[float, float]]:
    return [(float(v[0]), float(v[1])) for v in coordinates]


def _feature_events(
    feature: dict[str, Any], caller: Caller, *, at: datetime, index: int | None
) -> Iterator[Event]:
    """The event(s) of one declared feature (GeoJSON)."""
    props = feature.get("properties") or {}
    geometry = feature.get("geometry") or {}
    object_id = str(props["id"])
    kind = str(props.get("kind", ""))
    owner = str(props.get("declared_by", ""))
    name = str(props.get("name") or object_id)
    mark = AccordMark(object_id, index)
    remarks = f"{kind.replace('_', ' ')} of {owner} ({props.get('disclosure', '')})"
    common: dict[str, Any] = {
        "uid": _uid(object_id),
        "at": at,
        "stale": STALE,
        "mark": mark,
        "callsign": name,
    }
    shape = geometry.get("type")
    coordinates: Any = geometry.get("coordinates")
    if shape == "Point":
        point = Point(lat=float(coordinates[1]), lon=float(coordinates[0]))
        radius = props.get({"protected_site": "standoff_m", "operation": "radius_m"}.get(kind, ""))
        if radius:
            yield circle_event(centre=point, radius_m=float(radius), remarks=remarks, **common)
            return
        affiliation = "f" if owner == caller.member else "n"
        cot_type = f"a-{affiliation}-G-U" if kind == "position" else f"a-{affiliation}-G-I"
        track = _motion(props) if kind == "position" else None
        yield point_event(cot_type=cot_type, point=point, remarks=remarks, track=track, **common)
    elif shape == "Polygon":
        yield polygon_event(ring=_ring(coordinates[0]), remarks=remarks, **common)
    elif shape in ("LineString", "MultiPoint"):
        yield route_event(line=_ring(coordinates), remarks=remarks, **common)


def _motion(props: dict[str, Any]) -> Track | None:
    """A position's ``course_deg`` and ``speed_mps`` as a CoT ``<track>`` (either alone: the
    other 0), or None when it has neither."""
    course, speed = props.get("course_deg"), props.get("speed_mps")
    if course is None and speed is None:
        return None
    return Track(course=float(course or 0.0), speed=float(speed or 0.0))


def _declarations(center: Center, caller: Caller, at: datetime) -> Iterator[Event]:
    after: str | None = None
    while True:
        with center.reading() as session:
            features, after = declarations.in_force(session, caller, limit=_PAGE, after=after)
            parsed = [json.loads(text) for text in features]
            # the record index of each row just read (so: of rows the caller may see)
            ids = [str((f.get("properties") or {}).get("id")) for f in parsed]
            entries = declarations.record_indexes(session, ids)
        for feature in parsed:
            props = feature.get("properties") or {}
            # the same rule once more, so that a row read wrongly can never reach a device
            if not visibility.sees_object(
                caller, owner=str(props.get("declared_by")), disclosure=str(props.get("disclosure"))
            ):
                continue
            index = entries.get(str(props.get("id")))
            index = index if index is not None and index >= 0 else None
            try:
                yield from _feature_events(feature, caller, at=at, index=index)
            except (AccordError, ValueError, KeyError, TypeError, IndexError) as error:
                _log.warning("cot: declaration not sent (%s)", error)
        if after is None:
            return


def _areas(center: Center, at: datetime) -> Iterator[Event]:
    for area in center.agreement.designated_areas:
        ring = [(float(lon), float(lat)) for lon, lat in area.polygon]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        remarks = (
            f"designated area {area.name or area.id}: closed to "
            f"{', '.join(area.restricted_operators)}; exempt missions: "
            f"{', '.join(area.exempt_missions) or 'none'}"
        )
        yield polygon_event(
            uid=_uid(area.id),
            ring=ring,
            at=at,
            stale=STALE,
            mark=AccordMark(area.id),
            callsign=area.name or area.id,
            remarks=remarks,
        )


def _conflict_line(conflict: Any) -> str:
    kind = str(getattr(conflict.kind, "value", conflict.kind)).replace("_", " ")
    if conflict.with_id is None:
        return f"blocked by a hidden {kind} of {conflict.party}"
    distance = "" if conflict.distance_m is None else f", {conflict.distance_m:.0f} m"
    return f"blocked by {kind} {conflict.with_id} of {conflict.party}{distance}"


def _operations(center: Center, caller: Caller, at: datetime) -> Iterator[Event]:
    if not visibility.reads_operations(caller):
        return
    with center.reading() as session:
        views, _ = operations.listing(
            session,
            desk(center),
            visibility.conflict_viewer(caller),
            at,
            limit=_MAX_OPERATIONS,
        )
    for view in views:
        state = view.state
        if state.status in _ENDED:
            continue
        props = view.feature.get("properties") or {}
        if not visibility.sees_object(
            caller, owner=state.proposed_by, disclosure=str(props.get("disclosure", "shared"))
        ):
            continue
        blocking = [_conflict_line(c) for c in view.conflicts if c.blocking]
        remarks = f"operation ({state.category}) of {state.proposed_by}: {state.status.value}; " + (
            "; ".join(blocking) if blocking else "no blocking conflict"
        )
        feature = {
            **view.feature,
            "properties": {
                "id": state.id,
                "kind": "operation",
                "declared_by": state.proposed_by,
                "radius_m": props.get("radius_m"),
            },
        }
        try:
            for event in _feature_events(feature, caller, at=at, index=view.entry):
                yield event_with(event, remarks=remarks, index=view.entry)
        except (AccordError, ValueError, KeyError, TypeError, IndexError) as error:
            _log.warning("cot: operation not sent (%s)", error)


def event_with(event: Event, *, remarks: str, index: int | None) -> Event:
    """``event`` with ``remarks`` as its text (the Accord id and index after it)."""
    mark = AccordMark(event.detail.accord.id if event.detail.accord else event.uid, index)
    detail = replace(event.detail, remarks=remarks_for(mark, remarks), accord=mark)
    return replace(event, detail=detail)


def _tracks(center: Center, caller: Caller, at: datetime) -> Iterator[Event]:
    if not visibility.reads_air_picture(caller.role):
        return
    for t in list_tracks(center, caller, fresh_only=True):
        affiliation = "f" if t.owner == caller.member else "n"
        try:
            yield point_event(
                uid=_uid(f"track.{t.owner}.{t.id}"),
                cot_type=f"a-{affiliation}-A",
                point=Point(lat=t.lat, lon=t.lon, hae=t.alt_ft * 0.3048),
                at=at,
                stale=STALE,
                mark=AccordMark(t.id),
                callsign=t.id,
                remarks=f"aircraft of {t.owner} ({t.operator}, {t.mission})",
                track=Track(course=t.track_deg % 360.0, speed=t.gs_kt * _KNOTS),
                how="m-g",
            )
        except AccordError as error:
            _log.warning("cot: track not sent (%s)", error)


def _alert_point(alert: AlertView) -> Point | None:
    if alert.lat is None or alert.lon is None:
        return None
    return Point(lat=alert.lat, lon=alert.lon)


def _alerts(center: Center, caller: Caller, at: datetime) -> Iterator[Event]:
    if not visibility.reads_air_picture(caller.role):
        return
    for alert in list_alerts(center, caller, include_cleared=False, limit=_MAX_ALERTS):
        point = _alert_point(alert)
        if point is None:
            continue
        yield alert_event(
            uid=_uid(f"alert.{alert.id}"),
            point=point,
            text=f"{alert.label}: {alert.detail}" if alert.detail else alert.label,
            at=at,
            stale=STALE,
            mark=AccordMark(alert.id, alert.entry),
        )


def _geometry_point(geometry: Any) -> Point | None:
    """The first position of a GeoJSON geometry, if it has one."""
    coordinates: Any = geometry.get("coordinates") if isinstance(geometry, dict) else None
    while isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], list):
        coordinates = coordinates[0]
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    try:
        return Point(lat=float(coordinates[1]), lon=float(coordinates[0]))
    except (AccordError, TypeError, ValueError):
        return None


def _messages(center: Center, caller: Caller, at: datetime) -> Iterator[Event]:
    """Unacknowledged direct-line messages to the caller's party that carry a place (one
    without is on the page only: an alert needs a point)."""
    if caller.role not in (Role.OFFICER, Role.APPROVER):
        return
    with center.reading() as session:
        messages = list_messages(
            session,
            caller,
            box="in",
            open_only=True,
            limit=_MAX_ALERTS,
            now=at,
            names_of=center.cache(NAMES),
        )
    for message in messages:
        content = message.content or {}
        point = _geometry_point(content.get("geometry"))
        if point is None:
            continue
        subject = str(content.get("subject", ""))
        text = (
            f"direct line from {message.from_}, unacknowledged (due "
            f"{message.ack_deadline:%Y-%m-%d %H:%M}Z): {subject}"
        )
        yield alert_event(
            uid=_uid(f"message.{message.id}"),
            point=point,
            text=text,
            at=at,
            stale=STALE,
            mark=AccordMark(message.id, message.entry),
        )


PARTS = ("declarations", "areas", "operations", "tracks", "alerts", "messages")
"""The picture's parts, each read on its own (:func:`picture`'s ``parts``)."""

_PARTS_OF = {
    "declaration.": ("declarations", "operations"),
    "operation.": ("operations",),
    "track.": ("tracks",),
    "tracks.": ("tracks",),
    "airspace.": ("alerts",),
    "message.": ("messages",),
    "draft.": (),  # a member's drafts are no part of what a device is sent
}


def parts_for(kind: str) -> tuple[str, ...]:
    """The parts a live event of ``kind`` may change (every part for a kind not known here:
    reading too much is safe, too little is not).

    >>> parts_for("track.updated"), parts_for("condition.confirmed") == PARTS
    (('tracks',), True)
    >>> parts_for("draft.saved")
    ()
    """
    for prefix, parts in _PARTS_OF.items():
        if kind.startswith(prefix):
            return parts
    return PARTS


def picture(
    center: Center, caller: Caller, at: datetime, parts: Iterable[str] = PARTS
) -> dict[str, dict[str, Event]]:
    """Every event ``caller`` may be sent at ``at`` of each of ``parts``, by part and uid
    (blocking: call it in a thread). An administrator is sent nothing (it reads no party's
    content)."""
    readers: dict[str, Callable[[], Iterator[Event]]] = {
        "declarations": lambda: _declarations(center, caller, at),
        "areas": lambda: _areas(center, at),
        "operations": lambda: _operations(center, caller, at),
        "tracks": lambda: _tracks(center, caller, at),
        "alerts": lambda: _alerts(center, caller, at),
        "messages": lambda: _messages(center, caller, at),
    }
    out: dict[str, dict[str, Event]] = {}
    for part in parts:
        events = {} if caller.role is Role.ADMIN else {e.uid: e for e in readers[part]()}
        out[part] = events
    return out
