"""The deconfliction cache answers exactly what a fresh index over everything in force
answers, whatever was declared, amended, withdrawn, proposed or ended since it was built."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from accord.center.db import make_engine, upgrade, writer
from accord.center.db.models import Declaration
from accord.center.db.models_operations import OperationRow
from accord.center.disclosure.shadows import shadow_of
from accord.center.operations import world_cache
from accord.center.operations.world_cache import LIVE, WorldCache, parse_features
from accord.deconfliction import DeconflictionIndex
from accord.deconfliction.hidden import answer, answer_order
from accord.world import Operation
from support.declared import amend, declare, withdraw
from support.jig import AGREEMENT, NOW

T = NOW + timedelta(days=1)
LON, LAT = 21.5, 24.9


def _iso(hours: float) -> str:
    return (T + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def position(i: int, dx: float, dy: float, *, center: bool, party: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON + dx, LAT + dy]},
        "properties": {
            "kind": "position",
            "id": f"pos-{i}",
            "declared_by": party,
            "party": party,
            "disclosure": "center" if center else "shared",
            "uncertainty_m": 100,
            "valid_from": _iso(-48),
            "valid_to": _iso(48),
        },
    }


def site(i: int, dx: float, dy: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON + dx, LAT + dy]},
        "properties": {
            "kind": "protected_site",
            "id": f"site-{i}",
            "declared_by": "hnc",
            "category": "school",
        },
    }


def operation(op_id: str, dx: float, dy: float, *, radius: float = 800.0) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON + dx, LAT + dy]},
        "properties": {
            "kind": "operation",
            "id": op_id,
            "declared_by": "blue",
            "proposed_by": "blue",
            "executor": ["blue"],
            "category": "coordinated",
            "radius_m": radius,
            "window_start": _iso(2),
            "window_end": _iso(4),
        },
    }


def put_operation(session: Session, feature: dict[str, Any], status: str) -> None:
    rev = int(session.scalar(select(func.max(OperationRow.rev))) or 0) + 1
    op_id = feature["properties"]["id"]
    row = session.get(OperationRow, op_id)
    if row is None:
        row = OperationRow(
            id=op_id,
            category="coordinated",
            proposed_by="blue",
            version=1,
            state="{}",
            conflicts="[]",
            blocking=0,
            proposed_at=NOW,
            updated_at=NOW,
            entry=-1,
            status=status,
            rev=rev,
            feature=json.dumps(feature),
        )
        session.add(row)
    else:
        row.status, row.rev, row.feature = status, rev, json.dumps(feature)
    session.flush()


def fresh(session: Session, probe: Operation) -> list[Any]:
    """What a new index over every row in force, and every hidden row's shadow, says."""
    declared = session.execute(
        select(Declaration.feature, Declaration.shadow).where(Declaration.status == "active")
    ).all()
    ops = session.scalars(select(OperationRow.feature).where(OperationRow.status.in_(LIVE))).all()
    objects = parse_features(AGREEMENT, [json.loads(f) for f, _s in declared])
    stored = {json.loads(f)["properties"]["id"]: s for f, s in declared}
    objects += [
        shadow
        for obj in list(objects)
        if (shadow := shadow_of(AGREEMENT, obj, stored[obj.id])) is not None
    ]
    objects += parse_features(AGREEMENT, [json.loads(f) for f in ops])
    found = DeconflictionIndex(AGREEMENT, objects).check(probe).conflicts
    answered = answer((c for c in found if c.with_id != probe.id), proposer=probe.proposed_by)
    return sorted(answered, key=answer_order(probe.proposed_by))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("cache") / "cache.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield writer(engine)
    engine.dispose()


offset = st.floats(min_value=-0.08, max_value=0.08, allow_nan=False)
change = st.one_of(
    st.tuples(st.just("declare"), st.integers(0, 7), offset, offset, st.booleans()),
    st.tuples(st.just("site"), st.integers(0, 3), offset, offset, st.booleans()),
    st.tuples(st.just("amend"), st.integers(0, 7), offset, offset, st.booleans()),
    st.tuples(st.just("withdraw"), st.integers(0, 7), offset, offset, st.booleans()),
    st.tuples(st.just("propose"), st.integers(0, 4), offset, offset, st.booleans()),
    st.tuples(st.just("end"), st.integers(0, 4), offset, offset, st.booleans()),
    # A step that changes only the status (an approval; back to proposed; or out of the
    # world and in again): the object is the one stored.
    st.tuples(st.just("step"), st.integers(0, 4), offset, offset, st.booleans()),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(st.lists(change, max_size=5), min_size=1, max_size=5),
    probe=st.tuples(offset, offset, st.floats(min_value=200, max_value=6000)),
    fold_after=st.integers(1, 4),
    merge_after=st.sampled_from([1, 2, 3, 6, 1000]),  # 1000: runs pile up and compact
    fold_vertices=st.sampled_from([1, 2, 3, 4096]),
    merge_vertices=st.sampled_from([2, 5, 262_144]),
)
def test_the_cache_answers_as_a_fresh_index(
    engine: Engine,
    batches: list[list[tuple[str, int, float, float, bool]]],
    probe: tuple[float, float, float],
    fold_after: int,
    merge_after: int,
    fold_vertices: int,
    merge_vertices: int,
) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(Declaration))
        session.execute(delete(OperationRow))
    cache = WorldCache(
        AGREEMENT,
        fold_after=fold_after,
        merge_after=merge_after,
        fold_vertices=fold_vertices,
        merge_vertices=merge_vertices,
        background=False,
    )
    (probe_op,) = parse_features(AGREEMENT, [operation("op-probe", *probe[:2], radius=probe[2])])
    assert isinstance(probe_op, Operation)
    for batch in [[], *batches]:
        with Session(engine) as session, session.begin():
            for what, i, dx, dy, flag in batch:
                live = session.get(Declaration, f"pos-{i}")
                active = live is not None and live.status == "active"
                if what == "declare" and live is None:
                    party = "red" if i % 2 else "blue"
                    declare(session, position(i, dx, dy, center=flag, party=party), at=NOW)
                elif what == "site" and session.get(Declaration, f"site-{i}") is None:
                    declare(session, site(i, dx, dy), at=NOW)
                elif what == "amend" and active:
                    party = "red" if i % 2 else "blue"
                    feature = position(i, dx, dy, center=flag, party=party)
                    amend(session, f"pos-{i}", feature, at=NOW)
                elif what == "withdraw" and active:
                    withdraw(session, f"pos-{i}", at=NOW)
                elif what == "propose":
                    feature = operation(f"op-{i}", dx, dy)
                    # The proposal's own object, expected as stored (flag); or an expectation
                    # the stored row does not meet (another text): the row is read as usual.
                    expected = feature if flag else operation(f"op-{i}", dy, dx, radius=99.0)
                    (obj,) = parse_features(AGREEMENT, [expected])
                    assert isinstance(obj, Operation)
                    cache.expect(obj, json.dumps(expected))
                    put_operation(session, feature, "proposed")
                elif what == "end" and session.get(OperationRow, f"op-{i}") is not None:
                    put_operation(session, operation(f"op-{i}", dx, dy), "vetoed")
                elif what == "step" and (row := session.get(OperationRow, f"op-{i}")):
                    status = "approved" if flag else "proposed"
                    put_operation(session, json.loads(row.feature), status)
        with Session(engine) as session, session.begin():
            cached = list(cache.check(session, probe_op))
            assert cached == fresh(session, probe_op)
            # An operation in the world is not its own conflict.
            if session.get(OperationRow, "op-0") is not None:
                row = session.get(OperationRow, "op-0")
                assert row is not None
                (own,) = parse_features(AGREEMENT, [json.loads(row.feature)])
                assert isinstance(own, Operation)
                assert all(c.with_id != "op-0" for c in cache.check(session, own))
                assert list(cache.check(session, own)) == fresh(session, own)
    assert cache.stats.full_loads == 1


@pytest.mark.parametrize("background", [False, True])
def test_runs_stay_few_and_each_fold_indexes_only_the_tail(
    engine: Engine, background: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folding two changes at a time, 32 times, with no merge: each fold indexes the tail it
    folds, compactions keep the runs about log₂ of the folds, and the answers stay a fresh
    index's."""
    with Session(engine) as session, session.begin():
        session.execute(delete(Declaration))
        session.execute(delete(OperationRow))
    cache = WorldCache(AGREEMENT, fold_after=1, merge_after=1 << 20, background=background)
    (probe,) = parse_features(AGREEMENT, [operation("op-probe", 0, 0, radius=5000)])
    assert isinstance(probe, Operation)
    built: list[int] = []
    real_index = world_cache._index

    def counting(agreement: Any, changes: Any) -> Any:
        changes = list(changes)
        built.append(len(changes))
        return real_index(agreement, changes)

    monkeypatch.setattr(world_cache, "_index", counting)
    for i in range(64):
        with Session(engine) as session, session.begin():
            declare(session, position(i, 0.001 * i, 0, center=False, party="red"), at=NOW)
            assert list(cache.check(session, probe)) == fresh(session, probe)
        cache.close()
    with Session(engine) as session, session.begin():
        assert list(cache.check(session, probe)) == fresh(session, probe)
    assert cache.stats.merges == 0 and cache.stats.folds >= 30
    assert cache.stats.compactions >= 25
    assert len(cache._runs) <= 7  # 32 folds: about log₂ 32 runs
    # Each change is indexed again only about log₂ 32 times, not once per later fold: a
    # single middle layer rebuilt at every fold would index 2 + 4 + … + 64 = 1,056.
    assert sum(built) <= 64 * 8


def test_background_folds_and_merges_swap_in_and_keep_later_changes(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(Declaration))
        session.execute(delete(OperationRow))
    cache = WorldCache(AGREEMENT, fold_after=2, merge_after=3, background=True)
    (probe,) = parse_features(AGREEMENT, [operation("op-probe", 0, 0, radius=5000)])
    assert isinstance(probe, Operation)
    for i in range(12):
        with Session(engine) as session, session.begin():
            declare(session, position(i, 0.001 * i, 0, center=False, party="red"), at=NOW)
            if i % 3 == 2:
                withdraw(session, f"pos-{i - 1}", at=NOW)
            found = cache.check(session, probe)
            assert list(found) == fresh(session, probe)
        cache.close()  # let the background work land before the next change
    with Session(engine) as session, session.begin():
        withdraw(session, "pos-0", at=NOW)
        found = cache.check(session, probe)
        assert list(found) == fresh(session, probe)
        assert "pos-0" not in {c.with_id for c in found} and len(found) == 7
    cache.close()
    assert cache.stats.folds >= 1 and cache.stats.merges >= 1 and cache.stats.full_loads == 1


def test_a_fold_built_on_a_replaced_base_is_dropped(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(Declaration))
        session.execute(delete(OperationRow))
    cache = WorldCache(AGREEMENT, fold_after=1, merge_after=2, background=False)
    (probe,) = parse_features(AGREEMENT, [operation("op-probe", 0, 0, radius=5000)])
    assert isinstance(probe, Operation)
    with Session(engine) as session, session.begin():
        cache.prepare(session)
        declare(session, position(1, 0, 0, center=False, party="red"), at=NOW)
        declare(session, position(2, 0.01, 0, center=False, party="red"), at=NOW)
        cache.check(session, probe)  # folds the two into the middle
        assert cache.stats.folds == 1
        generation, revs, changes = cache._fold_snapshot()
        for i in range(3, 9):
            declare(session, position(i, 0.001 * i, 0, center=False, party="red"), at=NOW)
            cache.check(session, probe)
            if cache.stats.merges:
                break
        assert cache.stats.merges == 1
        folds = cache.stats.folds
        cache._install_fold(generation, revs, changes, None)  # a late fold on the old base
        assert cache.stats.dropped == 1 and cache.stats.folds == folds
        amend(session, "pos-1", position(1, 0.5, 0.5, center=False, party="red"), at=NOW)
        assert list(cache.check(session, probe)) == fresh(session, probe)


def test_concurrent_checks_while_the_world_changes(tmp_path: Path) -> None:
    base = make_engine(f"sqlite:///{tmp_path / 'concurrent.sqlite'}")
    upgrade(base)
    write = writer(base)
    cache = WorldCache(AGREEMENT, fold_after=2, merge_after=4, background=True)
    (probe,) = parse_features(AGREEMENT, [operation("op-probe", 0, 0, radius=8000)])
    assert isinstance(probe, Operation)
    failures: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                with Session(base) as session, session.begin():
                    cache.check(session, probe)
            except BaseException as error:  # reported below
                failures.append(error)
                return

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for i in range(24):
            with Session(write) as session, session.begin():
                declare(
                    session, position(i, 0.002 * i, 0.001, center=i % 2 == 0, party="red"), at=NOW
                )
                if i % 4 == 3:
                    withdraw(session, f"pos-{i - 2}", at=NOW)
                if i % 5 == 4:
                    put_operation(session, operation(f"op-{i}", 0.01, 0.01), "proposed")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    cache.close()
    assert failures == []
    with Session(base) as session, session.begin():
        assert list(cache.check(session, probe)) == fresh(session, probe)
        assert len(fresh(session, probe)) > 10
    base.dispose()
    write.dispose()


def test_a_burst_of_changes_is_merged_at_once(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(Declaration))
        session.execute(delete(OperationRow))
    cache = WorldCache(AGREEMENT, fold_after=2, merge_after=5, background=True)
    (probe,) = parse_features(AGREEMENT, [operation("op-probe", 0, 0, radius=5000)])
    assert isinstance(probe, Operation)
    with Session(engine) as session, session.begin():
        cache.prepare(session)
        for i in range(8):
            declare(session, position(i, 0.001 * i, 0, center=False, party="red"), at=NOW)
        assert list(cache.check(session, probe)) == fresh(session, probe)
    assert cache.stats.merges == 1 and cache.stats.tail_builds == 0
    cache.close()


def route(i: int, legs: int) -> dict[str, Any]:
    """A movement zigzagging ``legs`` times 0.5° east and back: about 28 engine vertices
    per leg."""
    coords = [[LON + (0.5 if k % 2 else 0.0), LAT + 0.001 * k] for k in range(legs + 1)]
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "kind": "movement",
            "id": f"route-{i}",
            "declared_by": "hnc",
            "valid_from": _iso(-48),
            "valid_to": _iso(48),
        },
    }


@pytest.mark.parametrize("by_vertices", [True, False])
def test_one_heavy_object_does_not_stay_in_the_tail(engine: Engine, by_vertices: bool) -> None:
    """The tail is rebuilt and scanned at every change: an object of thousands of vertices
    folds it at once, so later small changes rebuild a tail of a few vertices. (Folding by
    object count alone, the heavy object stays in the tail for the next 64 changes.)"""
    with Session(engine) as session, session.begin():
        session.execute(delete(Declaration))
        session.execute(delete(OperationRow))
    cache = WorldCache(AGREEMENT, fold_vertices=4096 if by_vertices else 1 << 40, background=False)
    (probe,) = parse_features(AGREEMENT, [operation("op-probe", 0.2, 0.0, radius=3000)])
    assert isinstance(probe, Operation)
    with Session(engine) as session, session.begin():
        cache.prepare(session)
        declare(session, route(0, 300), at=NOW)
        assert list(cache.check(session, probe)) == fresh(session, probe)
    with Session(engine) as session, session.begin():
        for i in range(3):
            declare(session, position(i, 0.01 * i, 0, center=False, party="blue"), at=NOW)
            cached = list(cache.check(session, probe))
            assert cached == fresh(session, probe)
            assert any(c.with_id == "route-0" for c in cached)
            tail = cache._tail_index
            assert tail is not None
            if by_vertices:
                assert cache.stats.folds >= 1
                assert tail._v_obj.size == i + 1  # the small positions only
            else:
                assert tail._v_obj.size > 4096  # the route, rebuilt at every change
    cache.close()
