"""A position's TAK device and motion (issue 21): ``device`` (uid, callsign), ``course_deg``,
``speed_mps`` and ``reported_at`` read exactly as written, through the canonical form the
center stores; every bad value named by the feature id and the property path, a hostile
device object bounded in what it costs."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.agreement import Agreement
from accord.chrono import format_instant
from accord.errors import WorldError
from accord.record.canonical import canonical_json
from accord.world import Device, Position, parse_world
from support.features import collection, feature

UID_CHARS = string.ascii_letters + string.digits + "._:@-"
uids = st.text(UID_CHARS, min_size=1, max_size=100)
callsigns = st.none() | st.text(max_size=200).filter(str.isprintable)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))


def parsed(agreement: Agreement, **props: Any) -> Position:
    (position,) = parse_world(collection(feature("position", "p", **props)), agreement)
    assert isinstance(position, Position)
    return position


def issues(agreement: Agreement, **props: Any) -> list[tuple[str | None, str]]:
    try:
        parse_world(collection(feature("position", "p", **props)), agreement)
    except WorldError as error:
        return [(issue.feature, issue.field) for issue in error.issues]
    raise AssertionError("accepted")


@settings(max_examples=150, deadline=None)
@given(
    uid=uids,
    callsign=callsigns,
    course=st.none() | st.floats(0, 360, exclude_max=True),
    speed=st.none() | st.floats(0, 1000),
    reported=st.none() | instants,
)
def test_the_device_and_motion_round_trip_through_the_stored_form(
    agreement: Agreement,
    uid: str,
    callsign: str | None,
    course: float | None,
    speed: float | None,
    reported: datetime | None,
) -> None:
    props: dict[str, Any] = {"device": {"uid": uid, "callsign": callsign}}
    if course is not None:
        props["course_deg"] = course
    if speed is not None:
        props["speed_mps"] = speed
    if reported is not None:
        props["reported_at"] = format_instant(reported)
    stored = json.loads(canonical_json(feature("position", "p", **props)))
    position = parsed(agreement, **stored["properties"])
    assert position.device == Device(uid, callsign)
    assert position.device.to_json() == {"uid": uid, "callsign": callsign}
    assert (position.course_deg, position.speed_mps) == (course, speed)
    assert position.reported_at == reported


@settings(max_examples=100, deadline=None)
@given(
    uid=st.one_of(
        st.text(max_size=120).filter(
            lambda u: not (0 < len(u) <= 100 and all(c in UID_CHARS for c in u))
        ),
        st.integers(),
        st.none(),
        st.lists(st.text(UID_CHARS, min_size=1), max_size=3),
    )
)
def test_a_bad_uid_is_named(agreement: Agreement, uid: object) -> None:
    assert issues(agreement, device={"uid": uid}) == [("p", "properties.device.uid")]


def test_each_bad_property_is_named_at_once(agreement: Agreement) -> None:
    assert issues(
        agreement,
        device={"uid": "ok", "callsign": "x" * 201},
        course_deg=float("nan"),
        speed_mps=-0.5,
        reported_at="yesterday",
    ) == [
        ("p", "properties.course_deg"),
        ("p", "properties.device.callsign"),
        ("p", "properties.speed_mps"),
        ("p", "properties.reported_at"),
    ]
    assert issues(agreement, device=["ANDROID-1"]) == [("p", "properties.device")]
    assert issues(agreement, device={"uid": "ok", "callsign": "a\nb"}) == [
        ("p", "properties.device.callsign")
    ]
    assert issues(agreement, course_deg=True) == [("p", "properties.course_deg")]


def test_only_a_position_carries_a_device(agreement: Agreement) -> None:
    try:
        parse_world(
            collection(feature("protected_site", "s", device={"uid": "x"}, speed_mps=1)), agreement
        )
    except WorldError as error:
        found = sorted((i.feature, i.field) for i in error.issues)
    assert found == [("s", "properties.device"), ("s", "properties.speed_mps")]


def test_a_hostile_device_object_costs_a_bounded_answer(agreement: Agreement) -> None:
    # thousands of unknown keys, long ones: five named, each cut; nothing echoed whole
    junk = {f"k{'x' * 500}{n}": n for n in range(5000)}
    found = issues(agreement, device={"uid": "ok", **junk})
    assert len(found) == 5
    assert all(field is not None and len(field) <= 60 for _fid, field in found)
    deep: Any = "x"
    for _ in range(200):
        deep = {"uid": deep}
    assert issues(agreement, device=deep) == [("p", "properties.device.uid")]
