"""The center's TAK endpoint over real sockets: TLS with certificates from the center's own
enrollment, the plain loopback port with a token; what a device is sent (its user's picture,
never another party's ``center`` objects: the disclosure walk's CoT leg), its changes and
deletes, bad input survived, and credentials that stop holding close live connections.

One server for the module (the disclosure walk's world seeded once); no sleeps: every wait
is a read with a timeout."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from accord.center.certificates.service import revoke
from accord.center.cot.listener import CotOptions, Endpoint
from accord.center.cot.picture import STALE
from accord.center.roles import Role
from accord.center.users.service import COMMAND_LINE, rotate
from accord.cotpki.ca import issue as issue_certificate
from accord.cotpki.ca import make_csr, new_authority, new_device_key, read_csr
from accord.cotpki.files import write_key, write_public
from support.cot import pytak
from support.cotclient import Device, DeviceFiles, enroll_device, tls_device
from support.disclosure import SHARED_POSITION, World, seed_world
from support.jig import NOW
from support.postgres import BACKENDS, Postgres
from support.service import Service, center_of, rooted_service

pytestmark = pytest.mark.parametrize("cot_database", BACKENDS, indirect=True, scope="module")

AREA = "accord.da-north"
RED_SITE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.45, 25.15]},
    "properties": {
        "kind": "protected_site",
        "category": "hospital",
        "name": "Red field hospital",
        "disclosure": "shared",
        "standoff_m": 1500,
    },
}


@dataclass
class Cot:
    world: World
    endpoint: Endpoint
    files: dict[str, DeviceFiles]
    folder: Path

    @property
    def service(self) -> Service:
        return self.world.service

    @property
    def tls_port(self) -> int:
        return self.endpoint.ports[0]

    @property
    def plain_port(self) -> int:
        return self.endpoint.ports[1]

    def device(self, user: str) -> Device:
        return tls_device(self.tls_port, self.files[user])

    def plain(self, first: bytes) -> Device:
        device = Device(socket.create_connection(("127.0.0.1", self.plain_port), timeout=10))
        device.send(first)
        return device


def _auth(user: str, token: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<auth><cot username="{user}" password="{token}" '
        'uid="ANDROID-TEST"/></auth>'
    ).encode()


@pytest.fixture(scope="module")
def cot_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The module's database: SQLite (``None``: the service's own file), or a fresh one on
    the PostgreSQL test server (live events woken by LISTEN/NOTIFY there)."""
    if request.param == "sqlite":
        yield None
        return
    server: Postgres = request.getfixturevalue("postgres")
    with server.database() as url:
        yield url


@pytest.fixture(scope="module")
def cot(tmp_path_factory: pytest.TempPathFactory, cot_database: str | None) -> Iterator[Cot]:
    folder = tmp_path_factory.mktemp("cot")
    options = CotOptions(
        port=0, plain_port=0, recheck_s=0.2, refresh_s=1.0, rate=50, burst=50, max_per_user=3
    )
    with rooted_service(folder, cot_database, cot=options) as service:
        world = seed_world(service)
        center = center_of(service)
        endpoint = service.client.app.state.cot  # type: ignore[attr-defined]
        files = {
            user: enroll_device(center, folder / "devices", user, member, role)
            for user, member, role in (
                ("blue-officer", "blue", Role.OFFICER),
                ("blue-approver", "blue", Role.APPROVER),
                ("red-officer", "red", Role.OFFICER),
            )
        }
        yield Cot(world, endpoint, files, folder)


def _ids(cot: Cot, user: str) -> set[str]:
    """The ids of the declarations in force ``user`` reads through the API."""
    world = cot.service.get("/v1/world", user).json()
    return {f["properties"]["id"] for f in world["features"]}


def test_a_device_is_told_the_protocol_then_sent_its_users_picture(cot: Cot) -> None:
    device = cot.device("blue-officer")
    try:
        own = _ids(cot, "blue-officer")
        assert {s.id for s in cot.world.secrets[:2]} <= own  # blue's hidden objects are its own
        device.wait(device.has(AREA, *(f"accord.{i}" for i in own)))
        first = device.events[0]
        assert first.type == "t-x-takp-v" and first.detail.takcontrol is not None
        assert first.detail.takcontrol.support == (0,)
        area = device.last(AREA)
        assert area.type == "u-d-f" and "green-af" in (area.detail.remarks or "")
        assert "medevac" in (area.detail.remarks or "")
        hidden = device.last(f"accord.{cot.world.secrets[0].id}")
        assert hidden.type.startswith("a-f-G")  # its own party's: friendly
        assert hidden.detail.accord is not None
        assert hidden.stale - hidden.time == timedelta(minutes=5)
        # sent again before it lapses (the refresh), whether or not it changed
        count = device.uids().count(hidden.uid)
        device.wait(lambda d: d.uids().count(hidden.uid) > count)
        near = f"accord.message.{cot.world.secrets[3].id}"  # red's message to blue, unacknowledged
        device.wait(device.has(near))
        assert device.last(near).type == "b-a-g"
        assert "direct line from red" in (device.last(near).detail.remarks or "")
        operation = device.last(f"accord.{cot.world.visible_ids[1]}")  # red's, beside blue's
        assert "operation" in (operation.detail.remarks or "")
        # red's shared site, declared now, arrives as the circle of its standoff
        made = cot.service.post("/v1/declarations", "red-officer", json=RED_SITE)
        assert made.status_code == 201, made.text
        site = f"accord.{made.json()['id']}"
        device.wait(device.has(site))
        circle = device.last(site)
        assert circle.type == "u-d-c-c" and circle.detail.ellipse is not None
        assert circle.detail.ellipse.major == 1500.0
        assert circle.detail.accord is not None
        assert circle.detail.accord.index == made.json()["entry"]
        assert f"record #{made.json()['entry']}" in (circle.detail.remarks or "")
    finally:
        device.close()


def test_a_red_device_receives_nothing_of_blues_center_objects(cot: Cot) -> None:
    """The disclosure walk's CoT leg: red's whole stream — its picture, then a change — holds
    no id, name or coordinate of blue's hidden objects."""
    device = cot.device("red-officer")
    try:
        seen = _ids(cot, "red-officer")
        device.wait(device.has(AREA, *(f"accord.{i}" for i in seen)))
        red_op = f"accord.{cot.world.visible_ids[1]}"
        device.wait(device.has(red_op))
        remarks = device.last(red_op).detail.remarks or ""
        assert "blocked by a hidden position of blue" in remarks, remarks
        made = cot.service.post(
            "/v1/declarations",
            "blue-officer",
            json={**SHARED_POSITION, "geometry": {"type": "Point", "coordinates": [21.4, 25.4]}},
        )
        assert made.status_code == 201, made.text
        device.wait(device.has(f"accord.{made.json()['id']}"))
        _holds_no_secret(cot, device, "red")
    finally:
        device.close()


def _holds_no_secret(cot: Cot, device: Device, member: str) -> None:
    data = bytes(device.raw).decode("utf-8")
    for secret in cot.world.secrets:
        if member in secret.audience:
            continue
        for marker in secret.markers:
            assert marker not in data, (member, secret.id, marker)
        if member not in secret.known_to:
            assert secret.id not in data, (member, secret.id)


@pytest.mark.parametrize("user", ["red-approver", "red-admin", "hnc-notifier", "observer"])
def test_no_other_user_receives_anything_of_blues_center_objects(cot: Cot, user: str) -> None:
    """The CoT leg for every other member's users, over the plain port: each stream, read
    until a whole refresh came after a change of blue's, holds nothing of blue's secrets."""
    member = {"red-approver": "red", "red-admin": "red", "hnc-notifier": "hnc"}.get(
        user, "observers"
    )
    device = cot.plain(_auth(user, cot.service.tokens[user]))
    try:
        if user == "red-admin":  # an administrator is sent nothing but the protocol
            device.send(PING)
            device.wait(lambda d: any(e.type == "t-x-c-t-r" for e in d.events))
            assert {e.type for e in device.events} == {"t-x-takp-v", "t-x-c-t-r"}
        else:
            device.wait(device.has(AREA))
            made = cot.service.post(
                "/v1/declarations",
                "blue-officer",
                json={
                    **SHARED_POSITION,
                    "geometry": {"type": "Point", "coordinates": [21.2, 25.2]},
                },
            )
            assert made.status_code == 201, made.text
            # the areas again: a whole refresh after the change
            device.wait(lambda d: d.uids().count(AREA) >= 2)
            if user != "hnc-notifier":  # a notifier sees its own declarations only
                device.wait(device.has(f"accord.{made.json()['id']}"))
        _holds_no_secret(cot, device, member)
    finally:
        device.close()


def test_changes_arrive_and_a_withdrawn_object_is_deleted(cot: Cot) -> None:
    device = cot.device("blue-officer")
    try:
        device.wait(device.has(AREA))
        made = cot.service.post(
            "/v1/declarations",
            "blue-officer",
            json={**SHARED_POSITION, "geometry": {"type": "Point", "coordinates": [21.3, 25.3]}},
        )
        assert made.status_code == 201, made.text
        uid = f"accord.{made.json()['id']}"
        device.wait(device.has(uid))
        assert device.last(uid).point.lon == 21.3
        gone = cot.service.post(
            f"/v1/declarations/{made.json()['id']}/withdraw",
            "blue-officer",
            json={"reason": "moved on", "version": 1},
        )
        assert gone.status_code == 200, gone.text
        device.wait(device.has(f"{uid}.delete"))
        delete = device.last(f"{uid}.delete")
        assert delete.type == "t-x-d-d" and delete.detail.links[0].uid == uid
    finally:
        device.close()


BAD = [
    b"<event uid='x'>not closed<point/></event>",  # no type, no point attributes
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    b'<event version="2.0" uid="e" type="a-f-G" how="m-g" time="2026-09-21T12:00:00Z" '
    b'start="2026-09-21T12:00:00Z" stale="2026-09-21T12:05:00Z">'
    b'<point lat="1" lon="1" hae="0" ce="1" le="1"/><detail><remarks>&b;</remarks></detail>'
    b"</event>",
    b"<event uid='big'>" + b"x" * (70 * 1024) + b"</event>",
]
PING = (
    b'<event version="2.0" uid="ping-1" type="t-x-c-t" how="h-g-i-g-o" '
    b'time="2026-09-21T12:00:00Z" start="2026-09-21T12:00:00Z" stale="2026-09-21T12:01:00Z">'
    b'<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/><detail/></event>'
)
TAKP_Q = (
    b'<event version="2.0" uid="protouid" type="t-x-takp-q" how="m-g" '
    b'time="2026-09-21T12:00:00Z" start="2026-09-21T12:00:00Z" stale="2026-09-21T12:01:00Z">'
    b'<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/>'
    b'<detail><TakControl><TakRequest version="1"/></TakControl></detail></event>'
)


def test_the_plain_port_takes_a_token_and_survives_bad_events(cot: Cot) -> None:
    before = _ids(cot, "blue-officer")
    device = cot.plain(_auth("blue-officer", cot.service.tokens["blue-officer"]))
    try:
        device.wait(device.has(AREA))
        device.send(TAKP_Q)
        device.wait(lambda d: any(e.type == "t-x-takp-r" for e in d.events))
        answer = next(e for e in device.events if e.type == "t-x-takp-r")
        assert answer.uid == "protouid" and answer.detail.takcontrol is not None
        assert answer.detail.takcontrol.response is False  # stays on XML
        for bad in BAD:
            device.send(bad)
        device.send(PING)
        device.wait(lambda d: any(e.type == "t-x-c-t-r" for e in d.events))
        assert not device.closed
    finally:
        device.close()
    assert _ids(cot, "blue-officer") == before  # nothing changed


@pytest.mark.parametrize(
    "first",
    [
        PING,  # an event before <auth>
        _auth("blue-officer", "not-a-token"),
        _auth("red-officer", "TOKEN-OF-BLUE"),  # another user's token
        b"<auth><cot username='x' password='y'/>" + b" " * 1100,  # no end within the cap
    ],
)
def test_the_plain_port_refuses_without_a_good_auth(cot: Cot, first: bytes) -> None:
    first = first.replace(b"TOKEN-OF-BLUE", cot.service.tokens["blue-officer"].encode())
    device = cot.plain(first)
    try:
        device.wait_closed()
        assert device.events == []
    finally:
        device.close()


def _report(uid: str, callsign: str, lon: float, lat: float) -> bytes:
    """A device's report of itself (a friendly ground atom)."""
    return (
        f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" '
        'time="2026-09-21T12:00:00Z" start="2026-09-21T12:00:00Z" stale="2026-09-21T12:05:00Z">'
        f'<point lat="{lat}" lon="{lon}" hae="10" ce="12" le="9999999"/>'
        f'<detail><contact callsign="{callsign}"/></detail></event>'
    ).encode()


def _settled(device: Device) -> None:
    """Wait until the server has taken everything ``device`` sent so far: a ping answered
    (a connection's events are taken in order)."""
    count = device.uids().count("ping-1")
    device.send(PING)
    device.wait(lambda d: d.uids().count("ping-1") > count)


def _devices(cot: Cot, user: str) -> list[dict[str, Any]]:
    answer = cot.service.get("/v1/cot/devices", user)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_devices_are_listed_to_their_admin_and_their_own_user_only(cot: Cot) -> None:
    """``GET /v1/cot/devices``: blue's administrator sees blue's connected device (not its
    report, not red's); blue's officer its own with its last report; red's officer and
    administrator nothing of blue's — not even when red's device reports under blue's uid."""
    blue = cot.device("blue-officer")
    red = cot.plain(
        _auth("red-officer", cot.service.tokens["red-officer"]).replace(
            b'uid="ANDROID-TEST"', b'uid="ANDROID-RED-1" callsign="RED-1"'
        )
    )
    try:
        blue.send(_report("ANDROID-BLUE-1", "BLUE-1", 21.11, 25.22))
        blue.send(_report("blue-drawn-marker", "NOT-ME", 21.99, 25.99))  # not of itself
        red.send(_report("ANDROID-BLUE-1", "SPOOF", 21.88, 25.88))  # red's under blue's uid
        _settled(blue)
        _settled(red)

        mine = [d for d in _devices(cot, "blue-officer") if d["uid"] == "ANDROID-BLUE-1"]
        assert len(mine) == 1
        device = mine[0]
        assert device["user"] == "blue-officer" and device["callsign"] == "BLUE-1"
        assert device["transport"] == "tls" and device["remote"].startswith("127.0.0.1:")
        assert device["last_event_at"] is not None
        report = device["last_report"]
        assert (report["lon"], report["lat"], report["ce"]) == (21.11, 25.22, 12.0)
        assert report["type"] == "a-f-G-U-C" and report["stale"].startswith("2026-09-21T12:05")
        assert all(d["user"] == "blue-officer" for d in _devices(cot, "blue-officer"))

        admin = _devices(cot, "admin")  # blue's administrator
        assert any(d["uid"] == "ANDROID-BLUE-1" and d["callsign"] == "BLUE-1" for d in admin)
        assert all(d["member"] == "blue" and d["last_report"] is None for d in admin)

        for user in ("red-officer", "red-admin"):
            seen = _devices(cot, user)
            text = json.dumps(seen)
            assert all(d["member"] == "red" for d in seen), user
            assert "BLUE-1" not in text and "21.11" not in text and "SPOOF" not in text, user
        (own,) = _devices(cot, "red-officer")
        assert (own["uid"], own["callsign"]) == ("ANDROID-RED-1", "RED-1")
        assert own["transport"] == "plain"
        assert own["last_report"] is None  # what it sent under another uid is not its report
        assert "blue-officer" not in json.dumps(_devices(cot, "blue-approver"))
        for user in ("observer", "hnc-notifier"):
            assert cot.service.get("/v1/cot/devices", user).status_code == 403, user
    finally:
        blue.close()
        red.close()
    # a closed connection leaves the list (its end is noticed by the server, not the test)
    until = time.monotonic() + 10
    while any(d["uid"] == "ANDROID-BLUE-1" for d in _devices(cot, "admin")):
        assert time.monotonic() < until, "the closed connection stayed listed"


def test_a_certificate_of_another_ca_is_refused(cot: Cot) -> None:
    other = new_authority(name="elsewhere", now=NOW)
    key = new_device_key()
    request = read_csr(
        make_csr(key, name="blue-officer").public_bytes(Encoding.PEM), name="blue-officer"
    )
    made = issue_certificate(other, request, name="blue-officer", member="blue", now=NOW)
    folder = cot.folder / "other"
    folder.mkdir()
    files = DeviceFiles(folder / "k.key", folder / "c.pem", cot.files["blue-officer"].ca)
    write_key(files.key, key)
    write_public(files.cert, made.pem())
    try:
        device = tls_device(cot.tls_port, files)
    except OSError:
        return  # refused during the handshake
    try:
        device.wait_closed()
        assert device.events == []
    finally:
        device.close()


def test_a_revoked_certificate_closes_its_connection_and_is_refused(cot: Cot) -> None:
    center = center_of(cot.service)
    device = cot.device("blue-approver")
    try:
        device.wait(device.has(AREA))
        with center.writing() as unit:
            revoke(unit, name="blue-approver", at=center.now(), by=COMMAND_LINE)
        device.wait_closed()
    finally:
        device.close()
    try:
        again = cot.device("blue-approver")
    except OSError:
        return
    try:
        again.wait_closed()
        assert again.events == []
    finally:
        again.close()


def test_a_rotated_token_closes_the_plain_connection(cot: Cot) -> None:
    center = center_of(cot.service)
    device = cot.plain(_auth("red-approver", cot.service.tokens["red-approver"]))
    try:
        device.wait(device.has(AREA))
        with center.writing() as unit:
            done = rotate(
                unit, name="red-approver", at=center.now(), expires_at=None, by=COMMAND_LINE
            )
        assert done.token is not None
        cot.service.tokens["red-approver"] = done.token
        device.wait_closed(timeout=15)
    finally:
        device.close()


def test_one_user_holds_a_bounded_number_of_connections(cot: Cot) -> None:
    token = cot.service.tokens["observer"]
    held = [cot.plain(_auth("observer", token)) for _ in range(3)]
    try:
        for device in held:
            device.wait(device.has(AREA))  # a monitor: the areas, what is shared
        extra = cot.plain(_auth("observer", token))
        try:
            extra.wait_closed()
            assert extra.events == []
        finally:
            extra.close()
    finally:
        for device in held:
            device.close()


@pytest.mark.filterwarnings("ignore:ssl.OP_NO:DeprecationWarning")  # pytak's own TLS options
def test_pytak_connects_with_the_packaged_bundle_and_reads_the_picture(cot: Cot) -> None:
    """pytak, an independent TAK client, with the PKCS#12 bundle the data package carries
    (made on the device's side from its key and the enrolled certificate)."""
    import asyncio
    from configparser import ConfigParser

    from cryptography import x509

    from accord.cotpki.files import read_key
    from accord.cotpki.package import client_p12

    files = cot.files["red-officer"]
    bundle = cot.folder / "red-officer.p12"
    bundle.write_bytes(
        client_p12(
            name="red-officer",
            key=read_key(files.key),
            certificate=x509.load_pem_x509_certificate(files.cert.read_bytes()),
            ca=x509.load_pem_x509_certificate(files.ca.read_bytes()),
            password="device-password",
        )
    )
    config = ConfigParser()
    config["device"] = {
        "COT_URL": f"tls://127.0.0.1:{cot.tls_port}",
        "PYTAK_TLS_CLIENT_CERT": str(bundle),
        "PYTAK_TLS_CLIENT_PASSWORD": "device-password",
        "PYTAK_TLS_CLIENT_CAFILE": str(files.ca),
        "PYTAK_TLS_SERVER_EXPECTED_HOSTNAME": "localhost",
    }

    async def read() -> list[bytes]:
        reader, writer = await pytak.protocol_factory(config["device"])
        events: list[bytes] = []
        try:
            while not any(AREA.encode() in e for e in events):
                events.append(await asyncio.wait_for(reader.readuntil(b"</event>"), 10))
        finally:
            writer.close()
        return events

    events = asyncio.run(read())
    assert b"t-x-takp-v" in events[0]
    assert all(b"MARKER-QZX" not in e for e in events)


class _ExerciseClock:
    """The center's own clock, saying it is an exercise's (as ``--clock-start`` makes)."""

    exercise = True

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def __call__(self) -> Any:
        return self.clock()


def test_on_an_exercise_clock_a_device_is_sent_events_stamped_at_the_real_time(
    cot: Cot, monkeypatch: pytest.MonkeyPatch
) -> None:
    center = center_of(cot.service)
    monkeypatch.setattr(center, "clock", _ExerciseClock(center.clock))
    assert center.exercise_clock and abs(center.now() - NOW) < timedelta(days=1)
    device = cot.plain(_auth("blue-officer", cot.service.tokens["blue-officer"]))
    try:
        device.wait(device.has(AREA))
        real = datetime.now(UTC)
        area = next(e for e in device.events if e.uid == AREA)
        assert abs(area.time - real) < timedelta(minutes=1)  # not the exercise's instant
        assert area.stale - area.time == STALE and area.stale > real
    finally:
        device.close()
