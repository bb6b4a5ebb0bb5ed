"""A center that plays an exercise on a clock of its own: the gateway follows it only when
told to (``--exercise-clock``), then signs on the center's time and carries its devices'
times onto it; the center's TAK endpoint stamps what it sends at the real time, which a
device's own clock keeps (an event built at the exercise's instant would be long stale)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from accord.center.cot.listener import on_device_clock
from accord.cot import Detail, Event, Point
from accord.cot.deadband import Band
from accord.errors import InputError
from accord.gateway.center import Answer, CenterApi
from accord.gateway.core import Gateway
from accord.gateway.listener import ListenOptions
from accord.gateway.run import Config, start
from accord.gateway.state import State
from accord.record.keys import PrivateKey

EXERCISE_NOW = datetime(2026, 9, 20, 3, 0, tzinfo=UTC)


def _center(sent: list[tuple[str, str, Any]]) -> httpx.AsyncClient:
    """A center on an exercise clock: who the token is, no positions yet, every write 201."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        sent.append((request.method, request.url.path, body))
        if request.url.path == "/v1/me":
            return httpx.Response(200, json={
                "name": "blue-gateway", "member": "blue", "role": "officer",
                "origin": "accord.test/jcc", "exercise": True,
                "now": EXERCISE_NOW.isoformat().replace("+00:00", "Z"),
            })  # fmt: skip
        if request.method == "GET":
            return httpx.Response(200, json={"items": [], "next": None})
        if request.url.path == "/v1/declarations/hidden":
            return httpx.Response(200, json={"items": [{"id": "pos-1", "version": 1}]})
        return httpx.Response(201, json={"id": "pos-1", "version": 1})

    return httpx.AsyncClient(base_url="http://center", transport=httpx.MockTransport(answer))


def _config(tmp_path: Path, *, exercise_clock: bool) -> Config:
    return Config(
        center="http://center", token="t", key=PrivateKey.from_seed("gw", bytes(32)),
        state=tmp_path / "state", listen=ListenOptions(plain_port=0), user="blue-gateway",
        exercise_clock=exercise_clock,
    )  # fmt: skip


def test_a_center_on_an_exercise_clock_is_refused_unless_the_gateway_is_told(
    tmp_path: Path,
) -> None:
    with pytest.raises(InputError) as refused:
        asyncio.run(start(_config(tmp_path, exercise_clock=False), client=_center([])))
    assert refused.value.issues[0].field == "--exercise-clock"
    assert "exercise clock" in str(refused.value)


def test_told_it_signs_on_the_centers_time_and_carries_the_devices_times_onto_it(
    tmp_path: Path,
) -> None:
    sent: list[tuple[str, str, Any]] = []

    async def run() -> timedelta:
        running = await start(_config(tmp_path, exercise_clock=True), client=_center(sent))
        try:
            shift = running.gateway.shift
            real = datetime.now(UTC)
            report = Event(
                uid="ANDROID-1", type="a-f-G-U-C", time=real, start=real,
                stale=real + timedelta(minutes=5), point=Point(lat=25.0, lon=21.0, ce=5.0),
                detail=Detail(callsign="Blue 1"),
            )  # fmt: skip
            await running.gateway.event(report, user="carol", device_uid="ANDROID-1",
                                        callsign=None)  # fmt: skip
            await running.gateway.idle()
            assert abs(running.gateway.clock() - EXERCISE_NOW) < timedelta(seconds=30)
            return shift
        finally:
            await running.close()

    shift = asyncio.run(run())
    assert abs(shift - (EXERCISE_NOW - datetime.now(UTC))) < timedelta(seconds=30)
    ((_, _, body),) = [s for s in sent if s[0] == "POST"]
    feature = _feature(body)
    valid_from = datetime.fromisoformat(feature["properties"]["valid_from"])
    valid_to = datetime.fromisoformat(feature["properties"]["valid_to"])
    assert abs(valid_from - EXERCISE_NOW) < timedelta(seconds=30)
    assert valid_to - valid_from == timedelta(minutes=5)


def test_the_gateway_moves_no_time_without_an_exercise(tmp_path: Path) -> None:
    sent: list[tuple[str, str, Any]] = []

    async def run() -> None:
        gateway = Gateway(
            cast(CenterApi, _Recording(sent)), State(tmp_path / "s").open(), member="blue",
            band=Band(min_interval_s=0), clock=lambda: EXERCISE_NOW,
        )  # fmt: skip
        await gateway.start()
        report = Event(
            uid="ANDROID-2", type="a-f-G-U-C", time=EXERCISE_NOW, start=EXERCISE_NOW,
            stale=EXERCISE_NOW + timedelta(minutes=2), point=Point(lat=25.0, lon=21.0),
            detail=Detail(),
        )  # fmt: skip
        await gateway.event(report, user="carol", device_uid="ANDROID-2", callsign=None)
        await gateway.idle()
        await gateway.close()

    asyncio.run(run())
    ((_, _, body),) = sent
    assert datetime.fromisoformat(_feature(body)["properties"]["valid_from"]) == EXERCISE_NOW


def _feature(body: Any) -> dict[str, Any]:
    """The feature a hidden position's declaration sent (POST /v1/declarations/hidden)."""
    (change,) = body["changes"]
    assert change["change"] == "declare"
    feature: dict[str, Any] = change["feature"]
    return feature


class _Recording:
    def __init__(self, sent: list[tuple[str, str, Any]]) -> None:
        self.sent = sent

    async def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        self.sent.append((method, path, kwargs.get("json_body")))
        if path == "/v1/declarations/hidden":
            return Answer(200, {"items": [{"id": "pos-2", "version": 1}]})
        return Answer(201, {"id": "pos-2", "version": 1})

    async def own_positions(self, member: str) -> list[dict[str, Any]]:
        return []


def test_the_endpoint_stamps_what_it_sends_at_the_real_time_keeping_its_stale() -> None:
    built = Event(
        uid="accord.site-1", type="a-n-G", time=EXERCISE_NOW, start=EXERCISE_NOW,
        stale=EXERCISE_NOW + timedelta(minutes=5), point=Point(lat=25.0, lon=21.0),
        detail=Detail(callsign="School No. 12"),
    )  # fmt: skip
    real = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    sent = on_device_clock(built, real)
    assert (sent.time, sent.start, sent.stale) == (real, real, real + timedelta(minutes=5))
    assert sent.point == built.point and sent.detail == built.detail and sent.uid == built.uid
