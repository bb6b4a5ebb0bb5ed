"""``/v1/cot/devices``: the TAK devices connected to this node's endpoint
(:mod:`accord.center.cot.devices`, kept in the serving process), cut by
:func:`accord.center.visibility.sees_device`: an administrator sees its own member's users'
connections; an officer or approver its own user's, with each device's last report
(:func:`~accord.center.visibility.sees_device_report`); other roles 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from accord.center import visibility
from accord.center.cot.devices import ConnectedDevice, DeviceReport
from accord.center.http.auth import allow
from accord.center.http.deps import ERRORS
from accord.center.identity import Caller

router = APIRouter(prefix="/v1/cot/devices", tags=["cot"], responses=ERRORS)

DeviceReader = Annotated[Caller, Depends(allow(*visibility.DEVICE_READERS))]


class DeviceReportOut(BaseModel):
    """What a device last sent of itself: its CoT type, point (degrees, metres) and times."""

    type: str
    lat: float
    lon: float
    hae: float | None
    ce: float | None
    time: datetime
    stale: datetime

    @classmethod
    def of(cls, report: DeviceReport) -> DeviceReportOut:
        """The model of ``report``."""
        return cls(
            type=report.type,
            lat=report.lat,
            lon=report.lon,
            hae=report.hae,
            ce=report.ce,
            time=report.time,
            stale=report.stale,
        )


class DeviceOut(BaseModel):
    """One live connection of a TAK device: its user, the device (uid, callsign as it gave
    them), transport (``tls`` or ``plain``), remote address, since when, its last event and
    (for its own user only) its last report."""

    user: str
    member: str
    role: str
    uid: str | None
    callsign: str | None
    transport: str
    remote: str
    connected_at: datetime
    last_event_at: datetime | None
    last_report: DeviceReportOut | None


class DevicesOut(BaseModel):
    """The connected devices the caller may see, oldest connection first (this node's)."""

    items: list[DeviceOut]


def _device(caller: Caller, device: ConnectedDevice) -> DeviceOut:
    own = visibility.sees_device_report(caller, user=device.user, member=device.member)
    report = device.last_report if own else None
    return DeviceOut(
        user=device.user,
        member=device.member,
        role=device.role,
        uid=device.uid,
        callsign=device.callsign,
        transport=device.transport,
        remote=device.remote,
        connected_at=device.connected_at,
        last_event_at=device.last_event_at,
        last_report=DeviceReportOut.of(report) if report is not None else None,
    )


@router.get("", response_model=DevicesOut, summary="List the connected TAK devices")
async def devices(request: Request, caller: DeviceReader) -> DevicesOut:
    """The TAK devices connected to this node's endpoint that the caller may see: an
    administrator, its own member's users' (no reports); an officer or approver, its own
    user's, each with its last report; other roles 403. Empty when no endpoint runs."""
    endpoint = getattr(request.app.state, "cot", None)
    if endpoint is None:
        return DevicesOut(items=[])
    return DevicesOut(
        items=[
            _device(caller, d)
            for d in endpoint.devices.all()
            if visibility.sees_device(caller, user=d.user, member=d.member)
        ]
    )
