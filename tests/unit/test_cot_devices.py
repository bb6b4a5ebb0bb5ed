"""The endpoint's registry of connected devices (:mod:`accord.center.cot.devices`) and the
rule on who sees them (:func:`accord.center.visibility.sees_device`): bounded whatever a
hostile device sends (one row per connection, the last report of its own uid only), and
never another member's devices or another user's reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from accord.center.cot.devices import Devices
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.visibility import sees_device, sees_device_report
from accord.cot import Detail, Event, Point

AT = datetime(2026, 9, 21, 12, tzinfo=UTC)


def _event(
    uid: str, kind: str = "a-f-G", *, callsign: str | None = None, lat: float = 1.0
) -> Event:
    return Event(
        uid=uid,
        type=kind,
        time=AT,
        start=AT,
        stale=AT + timedelta(minutes=5),
        point=Point(lat=lat, lon=2.0),
        detail=Detail(callsign=callsign),
    )


def test_a_flood_of_uids_keeps_one_row_and_the_devices_own_last_report() -> None:
    devices = Devices()
    key = devices.connect(
        user="blue-officer", member="blue", role="officer", transport="tls", remote="x", at=AT
    )
    devices.event(key, _event("t-ping", "t-x-c-t"), at=AT)  # not a position: no uid from it
    devices.event(key, _event("SELF", callsign="ME", lat=1.0), at=AT)
    for n in range(5000):  # a hostile device: many uids, each a report
        devices.event(key, _event(f"other-{n}", callsign=f"C{n}", lat=3.0), at=AT)
    devices.event(key, _event("SELF", callsign="RENAMED", lat=4.0), at=AT + timedelta(seconds=1))
    (row,) = devices.all()
    assert (row.uid, row.callsign) == ("SELF", "ME")  # set once
    assert row.last_report is not None and row.last_report.lat == 4.0
    assert row.last_event_at == AT + timedelta(seconds=1)
    devices.event(key + 1, _event("SELF"), at=AT)  # an unknown connection: nothing
    devices.disconnect(key)
    devices.disconnect(key)  # twice: harmless
    assert devices.all() == []


def test_a_plain_connections_auth_names_the_device() -> None:
    devices = Devices()
    key = devices.connect(
        user="u",
        member="red",
        role="officer",
        transport="plain",
        remote="127.0.0.1:9",
        at=AT,
        uid="ANDROID-1",
        callsign="R1",
    )
    devices.event(key, _event("ANDROID-OTHER", callsign="SPOOF"), at=AT)
    (row,) = devices.all()
    assert (row.uid, row.callsign, row.last_report) == ("ANDROID-1", "R1", None)


NAMES = st.sampled_from(["blue-officer", "blue-approver", "red-officer", "admin"])
MEMBERS = st.sampled_from(["blue", "red", "hnc"])


@given(NAMES, MEMBERS, st.sampled_from(list(Role)), NAMES, MEMBERS)
def test_who_sees_a_device(name: str, member: str, role: Role, user: str, owner: str) -> None:
    reader = Caller(1, name, member, role)
    sees = sees_device(reader, user=user, member=owner)
    report = sees_device_report(reader, user=user, member=owner)
    if owner != member:
        assert not sees and not report  # never another member's
    if report:
        assert sees and user == name and role in (Role.OFFICER, Role.APPROVER)
    if role is Role.ADMIN:
        assert sees == (owner == member) and not report
    elif role in (Role.OFFICER, Role.APPROVER):
        assert sees == report == (user == name and owner == member)
    else:
        assert not sees
