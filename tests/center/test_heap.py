"""The garbage collector's upkeep in a service process (:mod:`accord.center.heap`): what has
lived a while is frozen out of full collections, a frozen object that dies inside a cycle
is freed at the next thaw, and only the processes ``accord serve`` starts turn it on."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.center import heap
from accord.center.bootstrap import Parts, settings_from_environment
from accord.center.config import Settings
from support.service import settings_for


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """Each test leaves the test process's collector as it found it: nothing frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # freed only by the cyclic collector
    return weakref.ref(a)


def test_settling_freezes_what_lives_and_a_thaw_frees_frozen_garbage() -> None:
    alive = _cycle()
    assert alive() is not None  # the cycle is unreachable but not yet collected
    gc.collect()
    assert alive() is None  # the collector frees an unfrozen cycle

    frozen = _Node()
    frozen.other = _Node()
    frozen.other.other = frozen
    ref = weakref.ref(frozen)
    heap.settle()
    assert gc.get_freeze_count() > 0
    del frozen  # dies inside a cycle after it was frozen
    gc.collect()
    assert ref() is not None  # frozen: no collection walks it
    heap.settle(thaw=True)
    assert ref() is None  # the thaw's full collection frees it


def test_the_upkeep_settles_on_its_schedule_and_thaws_on_its_own() -> None:
    upkeep = heap.Upkeep(every=0.02, thaw_every=0.1)
    try:
        assert upkeep.settled >= 1 and gc.get_freeze_count() > 0  # at once, at start-up
        deadline = time.monotonic() + 10
        while (upkeep.settled < 4 or upkeep.thawed < 1) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert upkeep.settled >= 4 and upkeep.thawed >= 1
        assert upkeep.thawed < upkeep.settled  # thawing is the rarer step
    finally:
        upkeep.stop()
    settled = upkeep.settled
    time.sleep(0.1)
    assert upkeep.settled == settled  # stopped


@pytest.mark.parametrize(("every", "thaw_every"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_schedule_that_makes_no_sense_is_refused(every: float, thaw_every: float) -> None:
    with pytest.raises(ValueError, match="settle every"):
        heap.Upkeep(every=every, thaw_every=thaw_every)


def test_only_the_processes_accord_serve_starts_keep_the_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().heap_upkeep is False  # tests and one-off commands
    monkeypatch.delenv("ACCORD_CLOCK", raising=False)
    settings, _ = settings_from_environment()
    assert settings.heap_upkeep is True

    url = f"sqlite:///{tmp_path / 'heap.sqlite'}"
    keep = settings_for(tmp_path, database_url=url, heap_upkeep=True)
    with Parts(keep).running():
        assert gc.get_freeze_count() > 0
        assert any(t.name == "accord-heap" for t in _threads())
    assert not any(t.name == "accord-heap" for t in _threads())  # stopped with the center
    gc.unfreeze()
    leave = settings_for(tmp_path, database_url=url)
    with Parts(leave).running():
        assert gc.get_freeze_count() == 0


def _threads() -> list[threading.Thread]:
    return threading.enumerate()


def test_the_collector_is_paused_while_any_paused_block_runs_and_restored_after() -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        entered, release = threading.Event(), threading.Event()

        def other() -> None:
            with heap.paused():
                entered.set()
                release.wait(10)

        thread = threading.Thread(target=other)
        with heap.paused():
            assert not gc.isenabled()
            thread.start()
            assert entered.wait(10)
        assert not gc.isenabled()  # the other thread's block still runs
        release.set()
        thread.join(10)
        assert gc.isenabled()
        with pytest.raises(ValueError, match="a failing block"), heap.paused():
            raise ValueError("a failing block")
        assert gc.isenabled()
        gc.disable()  # a collector off before stays off after
        with heap.paused():
            pass
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
