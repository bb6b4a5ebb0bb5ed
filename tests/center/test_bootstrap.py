"""The composition root (:mod:`accord.center.bootstrap`): each center it builds has caches of
its own, made with it and closed with it; a serving process starts its background jobs on
the started center and stops them before the center closes; the escalation loop and the
witnesses' run unless the settings turn them off; and the application's parts are the ones
it was given."""

from __future__ import annotations

import asyncio
import dataclasses
from functools import partial
from pathlib import Path

import pytest

from accord.center.app import create_app
from accord.center.bootstrap import CACHES, Parts
from accord.center.operations.desk import desk
from accord.center.picture import checkpoints, compliance, judge_checkpoints, snapshots
from accord.center.runtime import Center
from accord.center.writer_process import Loopback
from support.service import TestClient, clock, settings_for


def test_each_center_has_caches_of_its_own_closed_with_it(tmp_path: Path) -> None:
    parts = Parts(settings_for(tmp_path), clock=clock)
    first = parts.open()
    second = parts.open()
    try:
        for key in CACHES:
            assert first.cache(key) is not second.cache(key), key
        assert desk(first).agreement is first.agreement
    finally:
        second.close()
        first.close()
    with pytest.raises(RuntimeError, match="the deconfliction desk: this center has none"):
        desk(first)


def test_a_serving_process_stops_its_jobs_before_its_center(tmp_path: Path) -> None:
    seen: list[str] = []
    started = asyncio.Event()

    async def job(center: Center) -> None:
        seen.append(f"started with {type(desk(center)).__name__}")
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            desk(center)  # still there: the center closes after its jobs
            seen.append("stopped")

    parts = Parts(settings_for(tmp_path), clock=clock, jobs=(job,))

    async def serve() -> Center:
        async with parts.serving() as serving:
            await asyncio.wait_for(started.wait(), 30)
            assert not serving.hub.closed
            center = serving.center
        assert serving.hub.closed
        return center

    center = asyncio.run(serve())
    assert seen == ["started with Desk", "stopped"]
    with pytest.raises(RuntimeError):
        desk(center)  # closed


def test_the_escalation_loop_runs_unless_the_settings_turn_it_off(tmp_path: Path) -> None:
    async def job(center: Center) -> None:
        return None

    settings = settings_for(tmp_path)
    assert settings.escalation_interval_s > 0 and settings.witness_interval_s > 0
    # the escalation, the witnesses asked, the record's checkpoint, the picture's snapshots
    # and the compliance judge's checkpoints kept
    background = Parts(settings).background()
    assert len(background) == 5
    assert background[2:4] == (checkpoints.keeper, snapshots.keeper)
    judge = background[4]
    assert isinstance(judge, partial) and judge.func is judge_checkpoints.keeper
    assert judge.keywords == {"take": compliance.captured}
    assert Parts(settings, jobs=(job,)).background()[5:] == (job,)
    off = dataclasses.replace(settings, escalation_interval_s=0, witness_interval_s=0)
    kept = Parts(off, jobs=(job,)).background()
    assert kept[:2] == (checkpoints.keeper, snapshots.keeper) and kept[3:] == (job,)


def test_the_application_starts_the_parts_it_was_given(tmp_path: Path) -> None:
    parts = Parts(settings_for(tmp_path), clock=clock, writer=Loopback)
    app = create_app(parts)
    assert app.state.parts is parts
    with TestClient(app):
        center = app.state.center
        assert center.settings is parts.settings and center.clock is clock
        assert isinstance(center.remote, Loopback)
    with pytest.raises(RuntimeError):
        desk(center)  # closed with the application
