"""Writing CoT: every event reads back as itself, hostile names cannot break the document or
the stream, and what the center sends reads in pytak and in ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from hypothesis import given

from accord.cot import (
    AccordMark,
    CotError,
    Detail,
    EventSplitter,
    Point,
    Track,
    alert_event,
    circle_event,
    delete_event,
    parse_event,
    point_event,
    polygon_event,
    route_event,
    write_event,
)
from support.cot import T0, events, pytak_reads

MINUTES = timedelta(minutes=5)


@given(events())
def test_an_event_reads_back_as_itself(event) -> None:
    data = write_event(event)
    assert parse_event(data) == event
    assert parse_event(write_event(event, declaration=False)) == event
    assert data.count(b"</event>") == 1 and data.endswith(b"</event>")  # one event on a stream


HOSTILE = [
    'Bob "the" O\'Brien',
    "<script>alert(1)</script>",
    "]]><![CDATA[",
    "a</event><event uid='injected'>",
    "tab\there\nline\r\nbreak",
    "nul\x00bell\x07esc\x1b",
    "lone \ud800 surrogate \ufffe",
    "&amp; &lt; &#1;",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_text(name: str) -> None:
    mark = AccordMark(id=name, index=3)
    event = point_event(
        uid=name,
        cot_type="a-n-G",
        point=Point(33.5, 36.3),
        at=T0,
        stale=MINUTES,
        mark=mark,
        callsign=name,
        remarks=name,
    )
    data = write_event(event)
    data.decode("utf-8")  # always valid UTF-8 (a lone surrogate is replaced, not encoded)
    back = parse_event(data)
    legal = name.translate(
        {c: "\ufffd" for c in [*range(0x20), 0xD800, 0xFFFE] if c not in (9, 10, 13)}
    )
    assert back.uid == legal and back.detail.callsign == legal
    assert back.detail.accord == AccordMark(id=legal, index=3)
    assert back.detail.remarks is not None and back.detail.remarks.startswith(legal)
    # the stream is one event, for our splitter and for pytak's reader
    assert len(EventSplitter().feed(data + data)) == 2
    read = pytak_reads(data + data)
    assert len(read) == 2 and all(ET.fromstring(x).get("uid") == legal for x in read)


def test_the_centers_events_carry_the_accord_id_and_index() -> None:
    mark = AccordMark("site-7", 42)
    circle = circle_event(
        uid="accord.site-7",
        centre=Point(33.5, 36.3),
        radius_m=500.0,
        at=T0,
        stale=MINUTES,
        mark=mark,
        callsign="Hospital",
        remarks="Hospital",
    )
    ring = [(36.3, 33.5), (36.4, 33.5), (36.4, 33.6), (36.3, 33.5)]
    area = polygon_event(
        uid="accord.da-1", ring=ring, at=T0, stale=MINUTES, mark=AccordMark("da-1", 1)
    )
    route = route_event(
        uid="accord.mv-1", line=ring[:3], at=T0, stale=MINUTES, mark=AccordMark("mv-1", 2)
    )
    track = point_event(
        uid="accord.trk",
        cot_type="a-n-A-C-F",
        point=Point(33.5, 36.3, hae=3000.0),
        at=T0,
        stale=MINUTES,
        mark=AccordMark("trk", 9),
        track=Track(90.0, 220.0),
    )
    alert = alert_event(
        uid="accord.alert-1",
        point=Point(33.5, 36.3),
        text="loss of separation",
        at=T0,
        stale=MINUTES,
        mark=AccordMark("alert-1", 50),
    )
    for event in (circle, area, route, track, alert):
        assert parse_event(write_event(event)) == event
        assert event.stale == T0 + MINUTES
        assert event.detail.remarks is not None and "Accord " in event.detail.remarks
        root = ET.fromstring(write_event(event))
        assert root.find("detail/accord") is not None
    assert circle.detail.remarks == "Hospital — Accord site-7, record #42"
    assert circle.type == "u-d-c-c" and circle.detail.ellipse is not None
    assert area.type == "u-d-f" and len(area.detail.links) == 4
    assert (area.point.lat, area.point.lon) == pytest.approx((33.5 + 0.1 / 3, 36.3 + 0.2 / 3))
    with pytest.raises(ValueError, match="ring"):
        polygon_event(uid="x", ring=ring[:3], at=T0, stale=MINUTES, mark=None)
    with pytest.raises(ValueError, match="line"):
        route_event(uid="x", line=ring[:1], at=T0, stale=MINUTES, mark=None)


def test_an_extra_element_cannot_end_the_event() -> None:
    with pytest.raises(CotError, match="no </event>"):
        Detail(extra=("<x></event><event>",))
    with pytest.raises(CotError, match="one element"):
        Detail(extra=("text",))


def test_a_delete_names_the_deleted_event() -> None:
    gone = delete_event(uid="accord.site-7", deleted_type="u-d-c-c", at=T0, stale=MINUTES)
    data = write_event(gone)
    root = ET.fromstring(data)
    assert root.get("type") == "t-x-d-d"
    link = root.find("detail/link")
    assert link is not None and link.get("uid") == "accord.site-7"
    assert link.get("relation") == "none" and root.find("detail/__forcedelete") is not None
    assert parse_event(data) == gone
