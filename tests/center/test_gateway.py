"""``accord cot gateway`` against a running center, over real sockets: blue's devices (TLS,
certificates from the center's own enrollment of requests made on the devices' side; the
plain loopback port with a token) report to blue's gateway, which signs blue's acts with
its own key. A blue device's report becomes a blue position that blue reads and red never
does — neither through the API nor on red's device at the center's TAK endpoint; a device
that moves amends the same declaration; a revoked certificate, another member's device, a
spoofed uid and a malformed, oversized or entity-laden event are refused, and the
connection survives what is only a bad event.

One center and one gateway for the module; no sleeps: every wait reads with a timeout or
waits for the gateway's posting to be idle."""

from __future__ import annotations

import asyncio
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from accord.center.certificates.service import revoke
from accord.center.cot.listener import CotOptions
from accord.center.identity import add_user
from accord.center.roles import Role
from accord.center.users.service import COMMAND_LINE
from accord.cot.deadband import Band
from accord.gateway.listener import ListenOptions
from accord.gateway.run import Config, Running, start
from accord.record.canonical import encode_base64
from support.cot import pytak
from support.cotclient import Device, DeviceFiles, enroll_device, tls_device
from support.inprocess import Bridge, RunningClock
from support.jig import NOW
from support.offices import root_of, user_key
from support.service import Service, center_of, rooted_service

T = TypeVar("T")

GATEWAY_KEY_PURPOSES = ["device-reports"]
"""The purposes blue's root registers the gateway's key with: ``device-reports``, a key
that signs device positions, tracks and drafts and nothing else (before the positions'
branch landed the tests ran with ``act``)."""

GATEWAY_USER = "blue-gateway"
AREA = "accord.da-north"
BLUE_1 = "ANDROID-blue-1"


@dataclass
class Gw:
    service: Service
    running: Running
    loop: asyncio.AbstractEventLoop
    files: dict[str, DeviceFiles]
    gateway_ca: Path
    clock: RunningClock

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def taken(self) -> int:
        """Reports the gateway has taken in (spoofed ones included)."""
        return int(self.counts.reports)

    def idle(self, taken: int | None = None, *, bad: int | None = None) -> None:
        """Wait until the gateway has taken ``taken`` reports in (and counted ``bad`` bad
        events), then has posted everything (a held report's timer included)."""
        deadline = time.monotonic() + 15
        while (taken is not None and self.taken() < taken) or (
            bad is not None and self.counts.bad < bad
        ):
            assert time.monotonic() < deadline, f"the gateway took {self.counts}"
            self.run(asyncio.sleep(0.02))
        while True:
            self.run(self.running.gateway.idle())
            held = any(d.timer is not None for d in self.running.gateway.devices.values())
            if not held:
                return
            assert time.monotonic() < deadline, "the gateway kept a report held"
            self.run(asyncio.sleep(0.05))

    def device(self, user: str) -> Device:
        files = self.files[user]
        return tls_device(self.tls_port, DeviceFiles(files.key, files.cert, self.gateway_ca))

    @property
    def tls_port(self) -> int:
        return self.running.listener.ports[0]

    @property
    def plain_port(self) -> int:
        return self.running.listener.ports[1]

    @property
    def counts(self) -> Any:
        return self.running.gateway.counts


def report(
    uid: str,
    lat: float,
    lon: float,
    *,
    at: datetime,
    callsign: str = "Blue 1",
    cot_type: str = "a-f-G-U-C",
    ce: float = 10.0,
    hae: float | None = None,
    track: tuple[float, float] | None = None,
) -> bytes:
    """A position report as pytak writes one, its times set to the test's clock."""
    element = pytak.gen_cot_xml(
        lat=lat, lon=lon, ce=ce, hae=hae, uid=uid, cot_type=cot_type, callsign=callsign
    )
    assert element is not None
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    element.set("time", stamp)
    element.set("start", stamp)
    element.set("stale", (at + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    if track is not None:
        detail = element.find("detail")
        assert detail is not None
        ET.SubElement(detail, "track", course=str(track[0]), speed=str(track[1]))
    return b'<?xml version="1.0"?>\n' + ET.tostring(element)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gw]:
    folder = tmp_path_factory.mktemp("gateway")
    clock = RunningClock()
    options = CotOptions(port=0, plain_port=0, recheck_s=0.2, refresh_s=1.0, rate=50, burst=50)
    with rooted_service(folder, None, now=clock, cot=options) as service:
        center = center_of(service)
        with center.writing() as unit:
            token = add_user(
                unit.session, center.agreement, name=GATEWAY_USER, member="blue",
                role=Role.OFFICER, at=center.now(),
            )  # fmt: skip
        assert service.offices is not None
        service.tokens[GATEWAY_USER] = token
        service.offices.users[GATEWAY_USER] = "blue"
        key = user_key("blue", GATEWAY_USER)
        body = {
            "user": GATEWAY_USER,
            "public_key": encode_base64(key.public.raw),
            "purposes": GATEWAY_KEY_PURPOSES,
        }
        path = "/v1/keys/registrations"
        headers = service.offices.headers(GATEWAY_USER, "POST", path, body, key=root_of("blue"))
        made = service.post(path, GATEWAY_USER, json=body, headers=headers)
        assert made.status_code == 201, made.text
        files = {
            user: enroll_device(center, folder / "devices", user, member, role)
            for user, member, role in (
                ("blue-officer", "blue", Role.OFFICER),
                ("blue-approver", "blue", Role.APPROVER),
                ("red-officer", "red", Role.OFFICER),
            )
        }
        config = Config(
            center="http://testserver",
            token=token,
            key=key,
            state=folder / "state",
            listen=ListenOptions(port=0, plain_port=0, recheck_s=0.2, rate=50, burst=50),
            ca=files["blue-officer"].ca,
            band=Band(deadband_m=50, min_interval_s=0.3),
            user=GATEWAY_USER,
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        client = httpx.AsyncClient(
            base_url="http://testserver", transport=Bridge(service.client), timeout=30
        )
        running = asyncio.run_coroutine_threadsafe(
            start(config, client=client, clock=clock), loop
        ).result(30)
        try:
            yield Gw(service, running, loop, files, folder / "state" / "cot-ca.pem", clock)
        finally:
            asyncio.run_coroutine_threadsafe(running.close(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


def _world(gw: Gw, user: str) -> dict[str, dict[str, Any]]:
    features = gw.service.get("/v1/world", user).json()["features"]
    return {f["properties"]["id"]: f for f in features}


def _declared(gw: Gw, uid: str) -> str:
    known = gw.running.gateway.known.get(uid)
    assert known is not None and known.declaration is not None, uid
    return known.declaration


def _announced(device: Device) -> Callable[[Device], bool]:
    return lambda d: any(e.type == "t-x-takp-v" for e in d.events)


def test_a_blue_devices_report_is_a_blue_position_red_never_sees(gw: Gw) -> None:
    red = tls_device(_center_port(gw), gw.files["red-officer"])
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        red.wait(red.has(AREA))
        n = gw.taken()
        device.send(report(BLUE_1, 25.30, 21.30, at=gw.clock(), track=(90.0, 3.0)))
        gw.idle(n + 1)
        declared = _declared(gw, BLUE_1)
        blue = _world(gw, "blue-officer")[declared]
        assert blue["properties"]["declared_by"] == "blue"
        assert blue["properties"]["disclosure"] == "center"
        assert blue["properties"]["name"] == "Blue 1"
        assert blue["properties"]["uncertainty_m"] == 60.0  # ce 10 + the band's 50
        assert blue["properties"]["device"] == {"uid": BLUE_1, "callsign": "Blue 1"}
        assert blue["properties"]["course_deg"] == 90.0
        assert blue["properties"]["speed_mps"] == 3.0
        assert blue["geometry"]["coordinates"] == [21.30, 25.30]
        assert declared not in _world(gw, "red-officer")
        assert gw.service.get(f"/v1/declarations/{declared}", "red-officer").status_code == 404
        # red's device at the center's endpoint: a whole refresh later, nothing of it
        count = red.uids().count(AREA)
        red.wait(lambda d: d.uids().count(AREA) > count + 1)
        stream = bytes(red.raw).decode()
        assert declared not in stream and "Blue 1" not in stream and BLUE_1 not in stream
        # the act in the record is blue's, signed by the gateway's key
        found = gw.service.get(f"/v1/declarations/{declared}", "blue-officer").json()
        assert found["version"] == 1 and found["owner"] == "blue"
    finally:
        device.close()
        red.close()


def _center_port(gw: Gw) -> int:
    endpoint = gw.service.client.app.state.cot  # type: ignore[attr-defined]
    return int(endpoint.ports[0])


def test_a_moving_device_amends_its_declaration_in_place_as_the_band_says(gw: Gw) -> None:
    uid = "ANDROID-blue-mover"
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        n = gw.taken()
        device.send(report(uid, 25.40, 21.40, at=gw.clock()))
        gw.idle(n + 1)
        declared = _declared(gw, uid)
        writes = gw.counts.writes
        # 20 m north: inside the band, not written
        device.send(report(uid, 25.40 + 20 / 111_000, 21.40, at=gw.clock()))
        device.send(report(uid, 25.40 + 10 / 111_000, 21.40, at=gw.clock()))
        # 300 m north: written, in place (the same id, the next version)
        device.send(report(uid, 25.40 + 300 / 111_000, 21.40, at=gw.clock()))
        gw.idle(n + 4)
        assert gw.counts.writes == writes + 1
        assert _declared(gw, uid) == declared
        found = gw.service.get(f"/v1/declarations/{declared}", "blue-officer").json()
        assert found["version"] == 2
        lat = found["feature"]["geometry"]["coordinates"][1]
        assert lat == pytest.approx(25.40 + 300 / 111_000)
    finally:
        device.close()


def test_a_bad_event_changes_nothing_and_the_connection_lives(gw: Gw) -> None:
    uid = "ANDROID-blue-bad"
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        before = gw.service.get("/v1/declarations", "blue-officer").json()
        bad, n = gw.counts.bad, gw.taken()
        laughs = (
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<event version="2.0" uid="x" type="a-f-G" how="m-g" time="&b;"/>'
        )
        device.send(laughs + b"</event>")
        device.send(b"<event uid='y' type='a-f-G'><point lat='abc'/></event>")
        device.send(b"<event uid='z'>" + b"x" * (70 * 1024) + b"</event>")
        device.send(report(uid, 25.0, 21.0, at=gw.clock()).replace(b'lat="25.0"', b'lat="95"'))
        gw.idle(n, bad=bad + 4)
        assert gw.taken() == n
        assert gw.service.get("/v1/declarations", "blue-officer").json() == before
        # the connection lives: the next good report is written
        device.send(report(uid, 25.5, 21.5, at=gw.clock()))
        gw.idle(n + 1)
        assert _declared(gw, uid) in _world(gw, "blue-officer")
    finally:
        device.close()


def test_a_uid_of_another_users_device_is_refused(gw: Gw) -> None:
    owner = gw.device("blue-officer")
    other = gw.device("blue-approver")
    uid = "ANDROID-blue-owned"
    try:
        owner.wait(_announced(owner))
        other.wait(_announced(other))
        n = gw.taken()
        owner.send(report(uid, 25.6, 21.6, at=gw.clock()))
        gw.idle(n + 1)
        declared = _declared(gw, uid)
        spoofs = gw.counts.spoofs
        other.send(report(uid, 26.6, 22.6, at=gw.clock()))
        other.send(report("ANDROID-blue-approver", 25.7, 21.7, at=gw.clock()))
        gw.idle(n + 3)
        assert gw.counts.spoofs == spoofs + 1
        point = _world(gw, "blue-officer")[declared]["geometry"]["coordinates"]
        assert point == [21.6, 25.6]
        assert "ANDROID-blue-approver" in gw.running.gateway.known  # its own uid: taken
    finally:
        owner.close()
        other.close()


def test_another_members_device_and_a_revoked_certificate_are_refused(gw: Gw) -> None:
    red = gw.device("red-officer")  # a certificate of the center's CA, but red's
    red.wait_closed()
    assert not any(e.type == "t-x-takp-v" for e in red.events)
    device = gw.device("blue-approver")
    device.wait(_announced(device))
    center = center_of(gw.service)
    with center.writing() as unit:
        revoke(unit, name="blue-approver", at=center.now(), by=COMMAND_LINE)
    device.wait_closed()  # the live connection closes at the next recheck
    again = gw.device("blue-approver")
    again.wait_closed()
    assert not again.events


def test_the_plain_port_takes_a_token_of_the_member_only(gw: Gw) -> None:
    import socket

    def plain(user: str) -> Device:
        device = Device(socket.create_connection(("127.0.0.1", gw.plain_port), timeout=10))
        token = gw.service.tokens[user]
        device.send(
            f'<auth><cot username="{user}" password="{token}" uid="PLAIN-{user}"/></auth>'.encode()
        )
        return device

    red = plain("red-officer")
    red.wait_closed()
    blue = plain("blue-officer")
    try:
        blue.wait(_announced(blue))
        n = gw.taken()
        blue.send(report("PLAIN-blue-officer", 25.8, 21.8, at=gw.clock()))
        gw.idle(n + 1)
        assert _declared(gw, "PLAIN-blue-officer") in _world(gw, "blue-officer")
    finally:
        blue.close()


def test_a_friendly_aircraft_becomes_a_live_track(gw: Gw) -> None:
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        aircraft = report(
            "blue-uav-7", 25.9, 21.9, at=gw.clock(), cot_type="a-f-A-M-F-Q", hae=1000.0,
            track=(45.0, 50.0),
        )  # fmt: skip
        device.send(aircraft)
        deadline = time.monotonic() + 10
        while True:
            tracks = gw.service.get("/v1/tracks", "blue-officer").json()["items"]
            if any(t["id"] == "blue-uav-7" for t in tracks):
                break
            assert time.monotonic() < deadline, tracks
            gw.run(asyncio.sleep(0.1))
        track = next(t for t in tracks if t["id"] == "blue-uav-7")
        assert track["party"] == "blue" and track["alt_ft"] == pytest.approx(3281, abs=1)
    finally:
        device.close()


def test_another_members_uid_is_refused_by_the_center_and_not_retried(gw: Gw) -> None:
    red_position = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.0, 26.0]},
        "properties": {
            "kind": "position",
            "party": "red",
            "disclosure": "center",
            "valid_from": NOW.isoformat(),
            "valid_to": (NOW + timedelta(days=1)).isoformat(),
            "device": {"uid": "ANDROID-red-1", "callsign": "Red 1"},
        },
    }
    hidden = {"changes": [{"change": "declare", "feature": red_position}]}
    made = gw.service.post("/v1/declarations/hidden", "red-officer", json=hidden)
    assert made.status_code == 200, made.text
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        elsewhere, n = gw.counts.elsewhere, gw.taken()
        device.send(report("ANDROID-red-1", 25.1, 21.1, at=gw.clock()))
        gw.idle(n + 1)
        assert gw.counts.elsewhere == elsewhere + 1
        assert "another party" in gw.counts.last_error
        found = gw.running.gateway.known.get("ANDROID-red-1")
        assert found is None or found.declaration is None
    finally:
        device.close()


def test_the_gateways_key_signs_device_reports_only(gw: Gw) -> None:
    site = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.0, 26.0]},
        "properties": {"kind": "protected_site", "category": "hospital", "name": "H"},
    }
    api = gw.running.gateway.api
    refused = gw.run(api.request("POST", "/v1/declarations", json_body=site))
    assert refused.status == 403 and "device-reports" in str(refused.body), refused


def test_a_lost_state_is_recovered_from_the_center(gw: Gw, tmp_path: Path) -> None:
    from accord.gateway.core import Gateway
    from accord.gateway.state import State

    n = gw.taken()
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        device.send(report("ANDROID-blue-kept", 25.2, 21.2, at=gw.clock()))
        gw.idle(n + 1)
    finally:
        device.close()
    declared = _declared(gw, "ANDROID-blue-kept")
    fresh = Gateway(
        gw.running.gateway.api, State(tmp_path / "state").open(), member="blue", band=Band(),
        clock=gw.clock,
    )  # fmt: skip
    gw.run(fresh.recover())
    kept = fresh.known["ANDROID-blue-kept"]
    assert kept.declaration == declared and kept.user == ""  # the first user to report takes it
    assert State(tmp_path / "state").load() == fresh.known


def _rectangle(uid: str, at: datetime, corners: list[tuple[float, float]]) -> bytes:
    """A rectangle as ATAK draws one (``u-d-r``: its four corners as links)."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = (at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    links = "".join(f'<link point="{lat},{lon}"/>' for lon, lat in corners)
    return (
        f'<?xml version="1.0"?>\n<event version="2.0" uid="{uid}" type="u-d-r" how="h-e" '
        f'time="{stamp}" start="{stamp}" stale="{stale}"><point lat="{corners[0][1]}" '
        f'lon="{corners[0][0]}" hae="0" ce="9999999" le="9999999"/><detail>{links}'
        f'<contact callsign="Crossing 1"/></detail></event>'
    ).encode()


def _delete(uid: str, at: datetime) -> bytes:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'<?xml version="1.0"?>\n<event version="2.0" uid="delete-{uid}" type="t-x-d-d" '
        f'how="h-g-i-g-o" time="{stamp}" start="{stamp}" stale="{stamp}"><point lat="0" '
        f'lon="0" hae="0" ce="9999999" le="9999999"/><detail><link uid="{uid}" '
        f'relation="none" type="none"/><__forcedelete/></detail></event>'
    ).encode()


def test_a_drawn_rectangle_is_blues_draft_red_never_reads_and_its_delete_removes_it(
    gw: Gw,
) -> None:
    corners = [(21.90, 25.90), (21.92, 25.90), (21.92, 25.91), (21.90, 25.91)]
    key = "7d1c2b9e-5f3a-4c1e-9b2a-0e6f1d3c4b5a"
    device = gw.device("blue-officer")
    try:
        device.wait(_announced(device))
        device.send(_rectangle(key, gw.clock(), corners))

        def drafts(user: str) -> list[dict[str, Any]]:
            answer = gw.service.get("/v1/drafts", user)
            assert answer.status_code == 200, answer.text
            return list(answer.json()["items"])

        deadline = time.monotonic() + 10
        while not any(d["key"] == key for d in drafts("blue-officer")):
            assert time.monotonic() < deadline, drafts("blue-officer")
            gw.run(asyncio.sleep(0.05))
        draft = next(d for d in drafts("blue-approver") if d["key"] == key)
        assert draft["shape"] == "rectangle" and draft["name"] == "Crossing 1"
        ring = draft["geometry"]["coordinates"][0]
        assert sorted(map(tuple, ring[:-1])) == sorted(corners)
        assert draft["device"]["uid"] != key  # the connection's device, not the drawing
        assert drafts("red-officer") == []
        assert gw.service.get("/v1/drafts", "red-officer").status_code == 200
        device.send(_delete(key, gw.clock()))
        deadline = time.monotonic() + 10
        while any(d["key"] == key for d in drafts("blue-officer")):
            assert time.monotonic() < deadline, "the drawing's delete did not reach the center"
            gw.run(asyncio.sleep(0.05))
    finally:
        device.close()
