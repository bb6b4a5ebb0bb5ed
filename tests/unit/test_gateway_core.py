"""The gateway's core against a scripted center (no sockets): a slow center never grows the
work waiting beyond one slot per device (the latest wins), 429 is retried with the latest
report, another party's uid is counted and never retried, a hostile flood of uids is
bounded; its folder refused when others may open it, its file written whole."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from accord.cot import Detail, Event, Point
from accord.cot.deadband import Band
from accord.errors import InputError
from accord.gateway.center import Answer, CenterApi
from accord.gateway.core import Gateway
from accord.gateway.listener import FRESH_S, Listener, ListenOptions
from accord.gateway.state import Declared, State

T0 = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)


@dataclass
class FakeCenter:
    """Answers each write with the next scripted status (then 201s), after ``gate`` opens."""

    statuses: list[int] = field(default_factory=list)
    sent: list[tuple[str, str, Any]] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def request(
        self, method: str, path: str, *, json_body: Any = None, headers: Any = None,
        params: Any = None,
    ) -> Answer:  # fmt: skip
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append((method, path, json_body))
        status = self.statuses.pop(0) if self.statuses else 201
        if status == 409:
            body = {"detail": "this device uid belongs to another party",
                    "errors": [{"field": "device.uid", "message": "…"}]}  # fmt: skip
            return Answer(409, body)
        if status == 429:
            return Answer(429, {"detail": "slow down"}, retry_after=0.0)
        made = {"id": f"d-{len(self.sent)}", "version": 1}
        if path == "/v1/declarations/hidden" and status == 201:
            return Answer(200, {"items": [made]})  # as the center answers its changes
        return Answer(status, made)

    async def own_positions(self, member: str) -> list[dict[str, Any]]:
        return []


def _change(body: Any) -> tuple[str, dict[str, Any]]:
    """What a write sent: the change (``declare``, ``amend``) and its feature."""
    (change,) = body["changes"]
    return change["change"], change["feature"]


def _report(uid: str, lat: float) -> Event:
    return Event(
        uid=uid, type="a-f-G-U-C", time=T0, start=T0, stale=T0 + timedelta(minutes=5),
        point=Point(lat=lat, lon=21.0, ce=5.0), detail=Detail(callsign="B"),
    )  # fmt: skip


def _gateway(tmp_path: Path, center: FakeCenter, **kwargs: Any) -> Gateway:
    return Gateway(
        cast(CenterApi, center), State(tmp_path / "state").open(), member="blue",
        band=Band(min_interval_s=0), clock=lambda: T0, **kwargs,
    )  # fmt: skip


def test_a_slow_center_keeps_one_slot_per_device_and_writes_the_latest(tmp_path: Path) -> None:
    async def run() -> FakeCenter:
        center = FakeCenter(gate=asyncio.Event())
        gateway = _gateway(tmp_path, center, in_flight=1)
        await gateway.start()
        for k in range(200):  # 200 reports, each 1 km on, while the center does not answer
            await gateway.event(_report("dev-1", 25.0 + k / 100), user="u", device_uid="dev-1",
                                callsign=None)  # fmt: skip
        assert len(gateway._waiting) + len(gateway._running) == 1
        center.gate.set()  # type: ignore[union-attr]
        await gateway.idle()
        await gateway.close()
        return center

    center = asyncio.run(run())
    # the first write, then the latest: never the 198 between
    lats = [_change(body)[1]["geometry"]["coordinates"][1] for _, _, body in center.sent]
    assert len(lats) <= 2 and lats[-1] == pytest.approx(25.0 + 199 / 100)


def test_429_is_retried_with_the_latest_and_another_partys_uid_is_not(tmp_path: Path) -> None:
    async def run() -> tuple[FakeCenter, Gateway]:
        center = FakeCenter(statuses=[429, 201, 409])
        gateway = _gateway(tmp_path, center)
        await gateway.start()
        await gateway.event(_report("dev-1", 25.0), user="u", device_uid="dev-1", callsign=None)
        await gateway.idle()
        await gateway.event(_report("dev-2", 25.0), user="u", device_uid="dev-2", callsign=None)
        await gateway.idle()
        await gateway.close()
        return center, gateway

    center, gateway = asyncio.run(run())
    # a hidden position's every change goes as POST /v1/declarations/hidden (its signed
    # request line names nothing)
    assert [path for _, path, _ in center.sent] == ["/v1/declarations/hidden"] * 3
    assert gateway.known["dev-1"] == Declared("u", "d-2", 1)
    assert gateway.counts.elsewhere == 1 and "dev-2" not in gateway.known
    assert State(tmp_path / "state").load() == gateway.known


def test_a_flood_of_uids_is_bounded_and_a_spoof_refused(tmp_path: Path) -> None:
    async def run() -> Gateway:
        center = FakeCenter(gate=asyncio.Event())
        gateway = _gateway(tmp_path, center, in_flight=1, max_waiting=50)
        await gateway.start()
        for k in range(500):
            await gateway.event(_report(f"dev-{k}", 25.0), user="u", device_uid="d",
                                callsign=None)  # fmt: skip
        assert len(gateway._waiting) + len(gateway._running) <= 50
        await gateway.event(_report("dev-0", 26.0), user="v", device_uid="d", callsign=None)
        await gateway.close()
        return gateway

    gateway = asyncio.run(run())
    assert gateway.counts.refused == 450 and gateway.counts.spoofs == 1


def test_the_folder_is_refused_when_others_may_open_it(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    with pytest.raises(InputError) as refused:
        State(folder).open()
    assert refused.value.issues[0].field == "--state"
    state = State(tmp_path / "ok").open()
    state.save({"a": Declared("u", "d-1", 3)})
    assert (tmp_path / "ok" / "devices.json").stat().st_mode & 0o777 == 0o600
    assert state.load() == {"a": Declared("u", "d-1", 3)}
    key, _cert = state.server(member="blue", hosts=["localhost"], now=T0)
    assert key.stat().st_mode & 0o777 == 0o600 and state.ca_pem.exists()


def test_the_state_is_saved_once_the_writes_are_done_not_once_per_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves: list[dict[str, Declared]] = []
    real = State.save
    monkeypatch.setattr(
        State, "save", lambda self, devices: (saves.append(devices), real(self, devices))
    )

    async def run() -> None:
        center = FakeCenter()
        gateway = _gateway(tmp_path, center, in_flight=2)
        await gateway.start()
        for k in range(50):  # 50 devices' first reports: 50 writes
            await gateway.event(_report(f"dev-{k}", 25.0), user="u", device_uid=f"dev-{k}",
                                callsign=None)  # fmt: skip
        await gateway.idle()
        await gateway.close()

    asyncio.run(run())
    assert 1 <= len(saves) < 50
    again = State(tmp_path / "state").open().load()
    assert sorted(again) == sorted(f"dev-{k}" for k in range(50))
    assert all(d.declaration is not None and d.user == "u" for d in again.values())


def test_a_report_that_comes_while_its_devices_write_runs_is_written_after_it(
    tmp_path: Path,
) -> None:
    """The write of a device in flight, a newer report arrives and nothing after it: the
    newer one is written once the first answers (it used to wait for ever)."""

    async def run() -> FakeCenter:
        center = FakeCenter(gate=asyncio.Event())
        gateway = _gateway(tmp_path, center, in_flight=4)
        await gateway.start()
        await gateway.event(_report("dev-1", 25.0), user="u", device_uid="dev-1", callsign=None)
        while "position:dev-1" not in gateway._running:  # the first write is in flight
            await asyncio.sleep(0)
        await gateway.event(_report("dev-1", 26.0), user="u", device_uid="dev-1", callsign=None)
        assert "position:dev-1" in gateway._waiting
        center.gate.set()  # type: ignore[union-attr]
        await asyncio.wait_for(gateway.idle(), timeout=10)
        await gateway.close()
        return center

    center = asyncio.run(run())
    lats = [_change(body)[1]["geometry"]["coordinates"][1] for _, _, body in center.sent]
    assert lats == [pytest.approx(25.0), pytest.approx(26.0)]
    assert [_change(body)[0] for _, _, body in center.sent] == ["declare", "amend"]


def test_one_users_devices_bring_at_most_so_many_uids(tmp_path: Path) -> None:
    async def run() -> tuple[FakeCenter, Gateway]:
        center = FakeCenter()
        gateway = _gateway(tmp_path, center, max_uids_per_user=5)
        await gateway.start()
        for k in range(200):  # a captured device inventing a uid a report
            await gateway.event(_report(f"x-{k}", 25.0), user="mallory", device_uid="d",
                                callsign=None)  # fmt: skip
        await gateway.event(_report("x-3", 25.5), user="mallory", device_uid="d", callsign=None)
        await gateway.event(_report("ok-1", 25.0), user="carol", device_uid="c", callsign=None)
        await gateway.idle()
        await gateway.close()
        return center, gateway

    center, gateway = asyncio.run(run())
    sent = [_change(body) for _, _, body in center.sent]
    declared = [f["properties"]["device"]["uid"] for change, f in sent if change == "declare"]
    assert sorted(declared) == ["ok-1", "x-0", "x-1", "x-2", "x-3", "x-4"]
    assert gateway.counts.too_many == 195 and "too many uids 195" in gateway.status(0)
    # x-3, a uid it holds, still moves (its waiting write took the latest report)
    (x3,) = [f for _, f in sent if f["properties"]["device"]["uid"] == "x-3"]
    assert x3["geometry"]["coordinates"][1] == pytest.approx(25.5)


class _Listing:
    """A center that counts how often the gateway asks for its member's certificates."""

    def __init__(self) -> None:
        self.asked = 0

    async def certificates(self) -> list[dict[str, Any]]:
        self.asked += 1
        await asyncio.sleep(0.01)
        return []


def test_connections_that_come_together_share_one_read_of_the_certificates() -> None:
    """A burst of 100 new connections (or a peer of another party reconnecting in a loop:
    any holder of a certificate of the center's CA reaches the check) asks the center at
    most twice, not a hundred times; the list is read again once it is older than
    ``FRESH_S``."""

    async def run() -> tuple[int, int]:
        listing = _Listing()
        gateway = cast(Gateway, type("G", (), {"api": listing})())
        listener = Listener(gateway, ListenOptions(recheck_s=10.0))
        await asyncio.gather(*(listener._certificates(fresh=True) for _ in range(100)))
        burst = listing.asked
        listener._lookup_at -= FRESH_S  # a second later: a new connection reads it again
        await listener._certificates(fresh=True)
        return burst, listing.asked

    burst, after = asyncio.run(run())
    assert burst == 1 and after == 2
