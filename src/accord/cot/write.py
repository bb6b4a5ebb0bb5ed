"""Writing CoT: an :class:`Event` to the bytes a TAK client reads, and the events the center
sends (points, polygons, routes, circles, alerts, deletes), each carrying its Accord id and
record index (the ``accord`` element, and in ``remarks`` for the person reading it).

Every text is escaped for where it goes (``&``, ``<``, ``>``, quotes, and tabs and line
breaks in attributes as character references, so a reader's attribute normalisation keeps
them); characters XML 1.0 cannot carry at all (other C0 controls, lone surrogates,
U+FFFE/U+FFFF) are written as U+FFFD — a hostile name cannot break the document or the
stream (``]]>`` and ``</event>`` in a name are plain escaped text). Each event is the XML
declaration, a newline and the event, as TAK's protocol asks of a streaming sender.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from accord.chrono import format_instant
from accord.cot.model import (
    DELETE,
    UNKNOWN,
    AccordMark,
    Detail,
    Ellipse,
    Event,
    Link,
    LinkPoint,
    Point,
    Track,
)

__all__ = [
    "DECLARATION",
    "alert_event",
    "circle_event",
    "delete_event",
    "escape_attribute",
    "escape_text",
    "point_event",
    "polygon_event",
    "remarks_for",
    "route_event",
    "write_event",
]

DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTRIBUTE = {**_TEXT, '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;"}
_TEXT_RE = re.compile("[&<>\r]")
_ATTRIBUTE_RE = re.compile("[&<>\r\"'\t\n]")


def escape_text(value: str) -> str:
    """``value`` as element text.

    >>> escape_text("a]]>b<c&\\x01")
    'a]]&gt;b&lt;c&amp;\\ufffd'
    """
    value = _ILLEGAL.sub("\ufffd", value)
    return _TEXT_RE.sub(lambda m: _TEXT[m.group(0)], value)


def escape_attribute(value: str) -> str:
    """``value`` as a double-quoted attribute's value.

    >>> escape_attribute('say "hi"\\n')
    'say &quot;hi&quot;&#10;'
    """
    value = _ILLEGAL.sub("\ufffd", value)
    return _ATTRIBUTE_RE.sub(lambda m: _ATTRIBUTE[m.group(0)], value)


def _number(value: float | None) -> str:
    return repr(float(UNKNOWN if value is None else value))


def _attrs(pairs: Sequence[tuple[str, str | None]]) -> str:
    return "".join(f' {k}="{escape_attribute(v)}"' for k, v in pairs if v is not None)


def _link(link: Link) -> str:
    point = None
    if link.point is not None:
        p = link.point
        point = f"{p.lat!r},{p.lon!r}" + ("" if p.hae is None else f",{p.hae!r}")
    pairs = [("uid", link.uid), ("type", link.type), ("relation", link.relation), ("point", point)]
    return f"<link{_attrs(pairs)}/>"


def _detail(d: Detail) -> str:
    parts: list[str] = []
    if d.callsign is not None:
        parts.append(f"<contact{_attrs([('callsign', d.callsign)])}/>")
    if d.group is not None:
        parts.append(f"<__group{_attrs([('name', d.group.name), ('role', d.group.role)])}/>")
    if d.takv is not None:
        t = d.takv
        pairs = [("device", t.device), ("platform", t.platform), ("os", t.os)]
        parts.append(f"<takv{_attrs([*pairs, ('version', t.version)])}/>")
    if d.track is not None:
        parts.append(f'<track course="{d.track.course!r}" speed="{d.track.speed!r}"/>')
    if d.ellipse is not None:
        e = d.ellipse
        parts.append(
            f'<shape><ellipse major="{e.major!r}" minor="{e.minor!r}" angle="{e.angle!r}"/></shape>'
        )
    parts.extend(_link(link) for link in d.links)
    if d.remarks is not None:
        parts.append(f"<remarks>{escape_text(d.remarks)}</remarks>")
    if d.accord is not None:
        index = None if d.accord.index is None else str(d.accord.index)
        parts.append(f"<accord{_attrs([('id', d.accord.id), ('index', index)])}/>")
    if d.takcontrol is not None:
        c = d.takcontrol
        inner = "".join(f'<TakProtocolSupport version="{v}"/>' for v in c.support)
        if c.request is not None:
            inner += f'<TakRequest version="{c.request}"/>'
        if c.response is not None:
            inner += f'<TakResponse status="{"true" if c.response else "false"}"/>'
        parts.append(f"<TakControl>{inner}</TakControl>")
    parts.extend(d.extra)  # whole elements as the parser serialised them
    return "<detail>" + "".join(parts) + "</detail>"


def write_event(event: Event, *, declaration: bool = True) -> bytes:
    """The event as UTF-8 XML, preceded by the XML declaration and a newline."""
    p = event.point
    head = _attrs(
        [
            ("version", "2.0"),
            ("uid", event.uid),
            ("type", event.type),
            ("how", event.how),
            ("time", format_instant(event.time)),
            ("start", format_instant(event.start)),
            ("stale", format_instant(event.stale)),
        ]
    )
    point = (
        f'<point lat="{p.lat!r}" lon="{p.lon!r}" hae="{_number(p.hae)}" '
        f'ce="{_number(p.ce)}" le="{_number(p.le)}"/>'
    )
    body = f"<event{head}>{point}{_detail(event.detail)}</event>".encode()
    return DECLARATION + body if declaration else body


# --- what the center sends -----------------------------------------------------------------


def remarks_for(mark: AccordMark, text: str = "") -> str:
    """The remarks line of an event the center sends: the text, then the Accord id and the
    record index it was last changed at.

    >>> remarks_for(AccordMark("pos-1", 42), "blue company")
    'blue company — Accord pos-1, record #42'
    """
    where = f"Accord {mark.id}" + ("" if mark.index is None else f", record #{mark.index}")
    return f"{text} — {where}" if text else where


def _event(
    *,
    uid: str,
    cot_type: str,
    at: datetime,
    stale: timedelta,
    point: Point,
    mark: AccordMark | None,
    callsign: str | None,
    remarks: str,
    links: tuple[Link, ...] = (),
    ellipse: Ellipse | None = None,
    track: Track | None = None,
    how: str = "h-g-i-g-o",
) -> Event:
    return Event(
        uid=uid,
        type=cot_type,
        how=how,
        time=at,
        start=at,
        stale=at + stale,
        point=point,
        detail=Detail(
            callsign=callsign,
            track=track,
            remarks=remarks_for(mark, remarks) if mark is not None else (remarks or None),
            links=links,
            ellipse=ellipse,
            accord=mark,
        ),
    )


def point_event(
    *,
    uid: str,
    cot_type: str,
    point: Point,
    at: datetime,
    stale: timedelta,
    mark: AccordMark | None,
    callsign: str | None = None,
    remarks: str = "",
    track: Track | None = None,
    how: str = "h-g-i-g-o",
) -> Event:
    """A marker: a site, a position, a live track (with its ``track``)."""
    return _event(
        uid=uid,
        cot_type=cot_type,
        at=at,
        stale=stale,
        point=point,
        mark=mark,
        callsign=callsign,
        remarks=remarks,
        track=track,
        how=how,
    )


def _centroid(vertices: Sequence[tuple[float, float]]) -> Point:
    lon = sum(v[0] for v in vertices) / len(vertices)
    lat = sum(v[1] for v in vertices) / len(vertices)
    return Point(lat=lat, lon=lon)


def polygon_event(
    *,
    uid: str,
    ring: Sequence[tuple[float, float]],
    at: datetime,
    stale: timedelta,
    mark: AccordMark | None,
    callsign: str | None = None,
    remarks: str = "",
) -> Event:
    """A closed shape (``u-d-f``) through ``ring``'s vertices (GeoJSON order: lon, lat; the
    closing vertex repeated, as GeoJSON has it): an area, a site's polygon, an operation's
    area."""
    if len(ring) < 4 or tuple(ring[0]) != tuple(ring[-1]):
        raise ValueError("a ring has at least 4 positions, the last one the first")
    links = tuple(Link(point=LinkPoint(lat=v[1], lon=v[0])) for v in ring)
    return _event(
        uid=uid,
        cot_type="u-d-f",
        at=at,
        stale=stale,
        point=_centroid(ring[:-1]),
        mark=mark,
        callsign=callsign,
        remarks=remarks,
        links=links,
    )


def route_event(
    *,
    uid: str,
    line: Sequence[tuple[float, float]],
    at: datetime,
    stale: timedelta,
    mark: AccordMark | None,
    callsign: str | None = None,
    remarks: str = "",
) -> Event:
    """An open line (``u-d-f``, not closed) through ``line`` (lon, lat): a movement's route."""
    if len(line) < 2:
        raise ValueError("a line has at least 2 positions")
    links = tuple(Link(point=LinkPoint(lat=v[1], lon=v[0])) for v in line)
    return _event(
        uid=uid,
        cot_type="u-d-f",
        at=at,
        stale=stale,
        point=_centroid(line),
        mark=mark,
        callsign=callsign,
        remarks=remarks,
        links=links,
    )


def circle_event(
    *,
    uid: str,
    centre: Point,
    radius_m: float,
    at: datetime,
    stale: timedelta,
    mark: AccordMark | None,
    callsign: str | None = None,
    remarks: str = "",
) -> Event:
    """A circle (``u-d-c-c``) of ``radius_m``: a site's standoff, an operation on a point."""
    return _event(
        uid=uid,
        cot_type="u-d-c-c",
        at=at,
        stale=stale,
        point=centre,
        mark=mark,
        callsign=callsign,
        remarks=remarks,
        ellipse=Ellipse(major=radius_m, minor=radius_m, angle=360.0),
    )


ALERT = "b-a-g"
"""The TAK alert type Accord sends by default: ``b-a-g``, a geofence breached (ATAK shows it
as an alert); ``b-a-o-can`` cancels one."""


def alert_event(
    *,
    uid: str,
    point: Point,
    text: str,
    at: datetime,
    stale: timedelta,
    mark: AccordMark | None,
    cot_type: str = ALERT,
) -> Event:
    """An alert where it happens: a loss of separation, an area violated, a message unread."""
    return _event(
        uid=uid,
        cot_type=cot_type,
        at=at,
        stale=stale,
        point=point,
        mark=mark,
        callsign=text,
        remarks=text,
    )


def delete_event(*, uid: str, deleted_type: str, at: datetime, stale: timedelta) -> Event:
    """The delete (``t-x-d-d``) of the event ``uid`` on every client: a withdrawn or ended
    object. The delete's own uid is fresh per object; the ``link`` names the deleted one,
    as ATAK reads it (``relation="none"``), and ``__forcedelete`` removes it even when the
    client marked it its own."""
    return Event(
        uid=f"{uid}.delete",
        type=DELETE,
        how="h-g-i-g-o",
        time=at,
        start=at,
        stale=at + stale,
        point=Point(lat=0.0, lon=0.0),
        detail=Detail(
            links=(Link(uid=uid, type=deleted_type, relation="none"),),
            extra=("<__forcedelete />",),
        ),
    )
