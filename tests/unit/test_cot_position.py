"""A friendly report as a position declaration: the fields are the ones the center's own
declaration checker (``declarations.service._checked``, which runs ``parse_world``) accepts,
for pytak's reports as for ATAK-like ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.center.declarations.service import _checked
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.cot import CotError, Point, Track, parse_event, point_event, position_declaration
from accord.world import Position
from support.cot import T0, pytak
from support.jig import AGREEMENT

BLUE = Caller(user_id=1, name="blue-officer", member="blue", role=Role.OFFICER)


def _declared(fields: dict) -> Position:
    _, obj = _checked(AGREEMENT, BLUE, fields["feature"], "pos-dev", amending=False)
    assert isinstance(obj, Position)
    return obj


def test_a_pytak_report_is_a_position_the_checker_takes() -> None:
    raw = pytak.gen_cot(
        lat=33.5,
        lon=36.3,
        ce=25,
        uid="ANDROID-7",
        stale=120,
        cot_type="a-f-G-U-C",
        callsign="Blue 7",
    )
    event = parse_event(raw)
    fields = position_declaration(event, party="blue", disclosure="center")
    position = _declared(fields)
    assert (position.geometry.x, position.geometry.y) == (36.3, 33.5)
    assert position.uncertainty_m == 25.0 and position.name == "Blue 7"
    assert position.party == "blue" and position.disclosure.value == "center"
    assert position.valid_to - position.valid_from == event.stale - event.start
    assert fields["device"] == "ANDROID-7"
    assert position.device is not None and position.device.uid == "ANDROID-7"
    assert position.device.callsign == "Blue 7"
    assert position.course_deg is None and position.speed_mps is None
    assert position.reported_at == event.time


@given(
    st.floats(-89, 89),
    st.floats(-179, 179),
    st.none() | st.floats(0, 50_000),
    st.none() | st.builds(Track, course=st.floats(0, 360), speed=st.floats(0, 10_000)),
    st.integers(1, 86400),
    st.text(max_size=300),
)
def test_any_friendly_report_declares(lat, lon, ce, track, seconds, callsign) -> None:
    event = point_event(
        uid="dev",
        cot_type="a-f-G-E-V",
        point=Point(lat, lon, ce=ce),
        at=T0,
        stale=timedelta(seconds=seconds),
        mark=None,
        callsign=callsign,
        track=track,
    )
    fields = position_declaration(event, party="blue", disclosure="shared")
    position = _declared(fields)
    assert position.valid_to == T0 + timedelta(seconds=seconds)
    assert position.uncertainty_m == (ce or 0.0)
    assert position.device is not None and position.device.uid == "dev"
    if track is not None:
        assert position.course_deg == track.course % 360
        assert position.speed_mps == (track.speed if track.speed <= 1000 else None)
    else:
        assert position.course_deg is None and position.speed_mps is None


def test_other_reports_are_refused() -> None:
    hostile = point_event(
        uid="h", cot_type="a-h-G", point=Point(1, 1), at=T0, stale=timedelta(minutes=1), mark=None
    )
    with pytest.raises(CotError, match="friendly") as caught:
        position_declaration(hostile, party="blue", disclosure="center")
    assert caught.value.field == "event@type" and caught.value.uid == "h"
    instant = point_event(
        uid="i", cot_type="a-f-G", point=Point(1, 1), at=T0, stale=timedelta(0), mark=None
    )
    with pytest.raises(CotError, match="some time"):
        position_declaration(instant, party="blue", disclosure="center")
    odd = point_event(
        uid="a uid {with} spaces", cot_type="a-f-G", point=Point(1, 1), at=T0,
        stale=timedelta(minutes=1), mark=None,
    )  # fmt: skip
    with pytest.raises(CotError, match="uid") as caught:
        position_declaration(odd, party="blue", disclosure="center")
    assert caught.value.field == "event@uid"
