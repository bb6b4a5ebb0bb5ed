"""Reading CoT safely: pytak's events read; DTDs, entities and external references refused
outright; depth, width and size bounded; every bad field named with the event's uid."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.cot import CotError, Limits, Point, parse_event, point_event, write_event
from accord.cot.model import is_air, is_delete, is_drawn_shape, is_friendly_ground, is_takp
from accord.errors import InputError
from support.cot import T0, pytak

HEAD = (
    '<event version="2.0" uid="dev-1" type="a-f-G-U-C" how="m-g" time="2026-09-20T10:00:00Z" '
    'start="2026-09-20T10:00:00Z" stale="2026-09-20T10:02:00Z">'
)
POINT = '<point lat="33.5" lon="36.3" hae="500" ce="12.5" le="9999999.0"/>'


def _event(detail: str = "", point: str = POINT, head: str = HEAD) -> bytes:
    return f"{head}{point}<detail>{detail}</detail></event>".encode()


def _refused(data: bytes, field: str, uid: str | None = "dev-1") -> CotError:
    with pytest.raises(CotError) as caught:
        parse_event(data)
    assert caught.value.field == field, str(caught.value)
    assert caught.value.uid == uid
    assert isinstance(caught.value, InputError)
    if uid is not None:
        assert repr(uid) in str(caught.value)
    return caught.value


def test_pytak_events_parse() -> None:
    raw = pytak.gen_cot(
        lat=33.5,
        lon=36.3,
        ce=10,
        hae=500,
        le=5,
        uid="ANDROID-1",
        stale=120,
        cot_type="a-f-G-U-C",
        callsign="Blue 1",
    )
    event = parse_event(raw)
    assert (event.uid, event.type, event.how) == ("ANDROID-1", "a-f-G-U-C", "m-g")
    assert event.point == Point(lat=33.5, lon=36.3, hae=500.0, ce=10.0, le=5.0)
    assert event.detail.callsign == "Blue 1"
    assert event.stale > event.start and event.time.utcoffset() is not None
    assert any(x.startswith("<_flow-tags_") for x in event.detail.extra)
    unknown = parse_event(pytak.gen_cot(lat=1, lon=2, uid="u"))  # pytak's defaults: unknown
    assert unknown.point.hae is None and unknown.point.ce is None and unknown.point.le is None


def test_an_atak_report_with_the_detail_accord_uses() -> None:
    event = parse_event(
        _event(
            '<contact callsign="Blue 1" endpoint="*:-1:stcp"/><__group name="Cyan" role="HQ"/>'
            '<takv device="Pixel" platform="ATAK-CIV" os="34" version="5.2"/>'
            '<track course="271.5" speed="3.2"/><status battery="88"/>'
            "<remarks>on the <b>ridge</b></remarks><precisionlocation altsrc='GPS'/>"
        )
    )
    d = event.detail
    assert d.callsign == "Blue 1" and d.group is not None and d.group.role == "HQ"
    assert d.takv is not None and d.takv.platform == "ATAK-CIV"
    assert d.track is not None and (d.track.course, d.track.speed) == (271.5, 3.2)
    assert d.remarks == "on the ridge"
    assert d.extra == ('<status battery="88" />', '<precisionlocation altsrc="GPS" />')
    assert event.point.le is None


def test_drawn_shapes_read_their_vertices_and_radius() -> None:
    head = HEAD.replace("a-f-G-U-C", "u-d-c-c")
    circle = parse_event(
        _event(
            '<shape><ellipse major="250" minor="250" angle="360"/>'
            '<link uid="s" type="b-x-KmlStyle" relation="p-c"><Style/></link></shape>',
            head=head,
        )
    )
    assert circle.detail.ellipse is not None and circle.detail.ellipse.major == 250.0
    polygon = parse_event(
        _event(
            '<link point="33.5,36.3"/><link point="33.6,36.3,120"/><link point="33.6,36.4"/>',
            head=HEAD.replace("a-f-G-U-C", "u-d-f"),
        )
    )
    assert [(p.point.lat, p.point.hae) for p in polygon.detail.links if p.point] == [
        (33.5, None),
        (33.6, 120.0),
        (33.6, None),
    ]
    _refused(_event('<link point="33.5"/>'), "detail/link[0]@point")
    _refused(_event('<link point="33.5,200"/>'), "detail/link@point")


def test_type_helpers() -> None:
    assert is_friendly_ground("a-f-G") and not is_friendly_ground("a-fG")
    assert is_air("a-n-A-C-F") and not is_air("a-n-G")
    assert is_drawn_shape("u-d-r") and not is_drawn_shape("u-d-x")
    assert is_delete("t-x-d-d") and is_takp("t-x-takp-q") and not is_takp("t-x-c-t")


# --- attacks ---------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE event [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<event uid="dev-1"><detail><remarks>&lol9;</remarks></detail></event>"""
QUADRATIC = (
    b'<!DOCTYPE event [<!ENTITY a "' + b"x" * 20000 + b'">]><event uid="dev-1"><detail>'
    b"<remarks>" + b"&a;" * 2000 + b"</remarks></detail></event>"
)
XXE_FILE = (
    b'<!DOCTYPE event [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<event uid="dev-1"><detail><remarks>&x;</remarks></detail></event>'
)
XXE_HTTP = (
    b'<!DOCTYPE event [<!ENTITY x SYSTEM "http://127.0.0.1:9/evil">]>'
    b'<event uid="dev-1"><detail><remarks>&x;</remarks></detail></event>'
)
EXTERNAL_DTD = b'<!DOCTYPE event SYSTEM "http://127.0.0.1:9/evil.dtd"><event uid="dev-1"/>'
PARAMETER = b'<!DOCTYPE event [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><event uid="dev-1"/>'


@pytest.mark.parametrize(
    "attack",
    [BILLION_LAUGHS, QUADRATIC, XXE_FILE, XXE_HTTP, EXTERNAL_DTD, PARAMETER],
    ids=[
        "billion-laughs",
        "quadratic-blowup",
        "xxe-file",
        "xxe-http",
        "external-dtd",
        "parameter-entity",
    ],
)
def test_dtds_and_entities_are_refused_outright(attack: bytes) -> None:
    error = _refused(attack, "xml", uid=None)  # the DTD comes before the event's start tag
    assert "DTD" in str(error)


def test_an_undeclared_entity_is_not_well_formed() -> None:
    error = _refused(_event("<remarks>&lol;</remarks>"), "xml")
    assert "undefined entity" in str(error)


def test_depth_and_width_are_bounded_as_the_tree_is_built() -> None:
    deep = _event("<a>" * 20 + "</a>" * 20)
    error = _refused(deep, "a")
    assert "deeper than 16" in str(error)
    wide = _event("<a/>" * 5000)
    assert "more than 4096 elements" in str(_refused(wide, "a"))
    assert (
        parse_event(_event("<a/>" * 100), limits=Limits(max_extra=3)).detail.extra == ("<a />",) * 3
    )


def test_size_and_encoding() -> None:
    big = _event("<remarks>" + "x" * 70_000 + "</remarks>")
    assert "at most 65536" in str(_refused(big, "event", uid=None))
    latin = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + _event()
    _refused(latin, "xml", uid=None)
    assert parse_event(b'<?xml version="1.0" encoding="utf-8"?>\n' + _event()).uid == "dev-1"


def test_a_detail_that_would_end_the_stream_early_is_not_kept() -> None:
    event = parse_event(_event('<x><event uid="fake"><point/></event></x><ok/>'))
    assert event.detail.extra == ("<ok />",)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_event(point='<point lat="91" lon="0"/>'), "point@lat"),
        (_event(point='<point lat="nan" lon="0"/>'), "point@lat"),
        (_event(point='<point lat="1_0" lon="0"/>'), "point@lat"),
        (_event(point='<point lat="10" lon="-181"/>'), "point@lon"),
        (_event(point='<point lat="10"/>'), "point@lon"),
        (_event(point='<point lat="1" lon="1" ce="-1"/>'), "point@ce"),
        (_event(point='<point lat="1" lon="1" hae="200000"/>'), "point@hae"),
        (_event(point=""), "point"),
        (_event('<track course="400" speed="1"/>'), "detail/track@course"),
        (_event('<track course="40"/>'), "detail/track@speed"),
        (_event('<shape><ellipse major="-3" minor="1"/></shape>'), "detail/shape/ellipse@major"),
        (_event('<accord id="x" index="-1"/>'), "detail/accord@index"),
        (_event("<TakControl><TakRequest/></TakControl>"), "detail/TakControl/TakRequest@version"),
        (_event(head=HEAD.replace('type="a-f-G-U-C"', 'type="a f"')), "event@type"),
        (_event(head=HEAD.replace(' how="m-g"', "")), "event@how"),
        (_event(head=HEAD.replace("10:02:00Z", "09:02:00Z")), "event@stale"),
        (_event(head=HEAD.replace("10:02:00Z", "10:02:00")), "event@stale"),
        (_event(head=HEAD.replace('time="2026-09-20T10:00:00Z"', 'time="soon"')), "event@time"),
        (_event() + b"<event/>", "xml"),
        (b"<evnt uid='dev-1'/>", "evnt"),
        (_event("<remarks>\x01</remarks>"), "xml"),
    ],
)
def test_a_bad_event_names_the_element_or_attribute_and_the_uid(data: bytes, field: str) -> None:
    _refused(data, field)


def test_an_event_without_a_uid_is_named_as_such() -> None:
    error = _refused(_event(head=HEAD.replace(' uid="dev-1"', "")), "event@uid", uid=None)
    assert str(error).startswith("CoT event:")


@given(st.binary(max_size=300))
def test_any_bytes_are_an_event_or_a_cot_error(data: bytes) -> None:
    with contextlib.suppress(CotError):
        parse_event(data)


@given(st.integers(0, 200), st.sampled_from(["<detail>", '<remarks a="', "<x>", "&#", "<!--"]))
def test_any_truncation_of_an_event_is_a_cot_error(at: int, noise: str) -> None:
    data = _event("<remarks>fine</remarks>")
    with contextlib.suppress(CotError):
        parse_event(data[:at] + noise.encode() + data[at:])


def test_written_events_read_back() -> None:
    event = point_event(
        uid="x",
        cot_type="a-f-G",
        point=Point(1.0, 2.0),
        at=T0,
        stale=timedelta(minutes=1),
        mark=None,
    )
    assert parse_event(write_event(event)) == event


def test_times_as_tak_clients_write_them() -> None:
    """WinTAK writes seven digits of fraction (.NET's round-trip format), ATAK three; an offset
    other than Z is read as UTC; a number too long for a record index is refused."""
    head = HEAD.replace('time="2026-09-20T10:00:00Z"', 'time="2026-09-20T10:00:00.1234567Z"')
    head = head.replace("10:02:00Z", "12:02:00.5+02:00")
    event = parse_event(_event(head=head))
    assert event.time.microsecond == 123456 and event.stale.hour == 10
    assert event.stale.utcoffset() is not None and event.stale.utcoffset().total_seconds() == 0
    _refused(_event('<accord id="x" index="1234567890123456789"/>'), "detail/accord@index")
