"""Snapshots of the picture's folded state: the picture from the nearest snapshot and the entries
after it is the picture of the whole prefix replayed, at every step of random histories and
for every reader; a snapshot that does not check is refused, at start-up and on read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

import accord.center.operations.fold as operations_fold
import accord.center.picture.replay as replay_module
import accord.center.picture.verified as verified_module
from accord.center.db.models import PictureAside, PictureSnapshot
from accord.center.declarations.fold import DECLARATIONS
from accord.center.picture import snapshots
from accord.center.picture.replay import Replay
from accord.center.picture.verified import verified_of
from accord.errors import RecordDamaged
from support.desk import AID, HIDDEN, Desk, named, restarted, start
from support.failures import assert_problem
from support.history import DECLARING, RED_HIDDEN, SITE, actions, history
from support.jig import NOW

AT = (NOW + timedelta(minutes=10)).isoformat()
READERS = ("blue-officer", "red-officer", "red-approver", "observer", "hnc-notifier")


def _replayed_whole(
    desk: Desk,
    user: str,
    minutes: float,
    monkeypatch: pytest.MonkeyPatch,
    chosen: dict[str, str] | None = None,
) -> Any:
    """The oracle: the same picture with no snapshot to start from (the whole prefix folded)
    and no object ever set aside (``chosen``: a selection, every page of it)."""
    with monkeypatch.context() as patch:
        patch.setattr(snapshots, "_nearest", lambda *args, **kwargs: None)
        patch.setattr(replay_module, "SWEEP_EVERY", 1 << 62)
        return (
            desk.picture(user, minutes) if chosen is None else _pages(desk, user, minutes, chosen)
        )


SELECTIONS = st.sampled_from(
    [
        {"bbox": "21.5,24.5,22.0,25.5"},  # blue's site and red's hidden position, no operation
        {"bbox": "21.25,25.8,21.36,26.0", "limit": "1"},  # the first operations, a page each
        {"kinds": "protected_site,coordinated,message", "limit": "2"},
        {"kinds": "position", "bbox": "21.0,24.0,22.0,26.0"},
    ]
)
"""Selections a picture answers a page at a time: by box, by kind, or both."""


def _pages(desk: Desk, user: str, minutes: float, chosen: dict[str, str]) -> list[Any]:
    """Every page of the picture ``chosen`` selects, in order."""
    at = (NOW + timedelta(minutes=minutes)).isoformat()
    params, pages = {"at": at, **chosen}, []
    while True:
        page = desk.ok(desk.get("/v1/picture", user, params=params), 200)
        pages.append(page)
        if page["next"] is None:
            return pages
        params = {**params, "after": page["next"]}


def _count(desk: Desk) -> dict[str, int]:
    with desk.center.reading() as session:
        rows = session.execute(
            select(PictureSnapshot.member, func.count()).group_by(PictureSnapshot.member)
        )
        return {member: n for member, n in rows}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    done=actions(max_size=14),
    every=st.sampled_from([1, 2, 3]),
    sweep=st.sampled_from([1, 2, 5]),
    shown=st.sampled_from([0.5, 2.0, 24 * 60.0]),
    data=st.data(),
)
def test_the_picture_from_a_snapshot_and_its_tail_is_the_whole_replay(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    done: list[str],
    every: int,
    sweep: int,
    shown: float,
    data: st.DataObject,
) -> None:
    """... with done objects set aside every ``sweep`` entries (an operation ended
    ``shown`` minutes before no longer shown), against a replay that sets none aside."""
    monkeypatch.setattr(verified_module, "MARK_EVERY", every)
    monkeypatch.setattr(snapshots, "DECODE_US", 0.0)  # always fold on from the nearest
    monkeypatch.setattr(snapshots, "PARKED_US", 0.0)
    monkeypatch.setattr(replay_module, "SWEEP_EVERY", sweep)
    monkeypatch.setattr(operations_fold, "ENDED_SHOWN", timedelta(minutes=shown))
    tmp = tmp_path_factory.mktemp("snapshots")
    for desk in start(tmp, f"sqlite:///{tmp / 'accord.sqlite'}"):
        for i in history(desk, done):
            if data.draw(st.booleans(), label="keep now"):
                snapshots.keep(desk.center)
            instants = data.draw(st.lists(st.floats(0, i + 1), min_size=1, max_size=2))
            chosen = data.draw(SELECTIONS, label="selection")
            for minutes in instants:
                for user in READERS:
                    seen = desk.picture(user, minutes)
                    assert seen == _replayed_whole(desk, user, minutes, monkeypatch), (
                        user,
                        minutes,
                    )
                    pages = _pages(desk, user, minutes, chosen)
                    whole = _replayed_whole(desk, user, minutes, monkeypatch, chosen)
                    assert pages == whole, (user, minutes, chosen)
        snapshots.keep(desk.center)
        size = verified_of(desk.center).verified
        counts = _count(desk)
        assert counts.get(snapshots.NO_ONE, 0) == size // every
        hidden_by = {DECLARING[a][0].split("-")[0] for a in done if a.endswith("_hidden")}
        assert set(counts) - {snapshots.NO_ONE} <= hidden_by
        desk.clock.set(len(done) + 2)
        for user in READERS:
            whole = _replayed_whole(desk, user, len(done) + 2, monkeypatch)
            assert desk.picture(user, len(done) + 2) == whole


@pytest.fixture
def kept(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """A desk whose record keeps a root every 2 entries, with snapshots written at each:
    blue's and red's hidden declarations among its entries."""
    monkeypatch.setattr(verified_module, "MARK_EVERY", 2)
    monkeypatch.setattr(snapshots, "DECODE_US", 0.0)  # always fold on from the nearest
    monkeypatch.setattr(snapshots, "PARKED_US", 0.0)
    for desk in start(tmp_path, database_url):
        desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        for i in range(5):
            desk.clock.set(1 + i)
            owner = ("blue-officer", "blue-officer", "red-officer")[i % 3]
            desk.ok(desk.post("/v1/declarations", owner, json=(SITE, HIDDEN, RED_HIDDEN)[i % 3]))
        assert snapshots.keep(desk.center) >= 2
        desk.clock.set(10)
        yield desk


def _newest(desk: Desk) -> int:
    with desk.center.reading() as session:
        return int(session.scalar(select(func.max(PictureSnapshot.size))) or 0)


def _change(desk: Desk, change: str) -> set[str]:
    """Change the newest snapshots in the database as someone with its file could; the
    readers whose picture must then be refused."""
    newest = _newest(desk)
    rows = PictureSnapshot.size == newest
    with desk.center.writing() as unit:
        s = unit.session
        if change in ("body", "root", "signature"):
            bad = {"body": b"\x00" * 40, "root": b"\x01" * 32, "signature": b"\x02" * 64}
            s.execute(update(PictureSnapshot).where(rows).values({change: bad[change]}))
            return set(READERS)
        if change == "blue's as red's":  # red's picture folded with blue's openings
            s.execute(delete(PictureSnapshot).where(rows, PictureSnapshot.member == "red"))
            s.execute(
                update(PictureSnapshot)
                .where(rows, PictureSnapshot.member == "blue")
                .values(member="red")
            )
            return {"red-officer", "red-approver"}
        assert change == "blue's removed"  # blue's picture folded on no one's
        s.execute(delete(PictureSnapshot).where(rows, PictureSnapshot.member == "blue"))
        return {"blue-officer"}


@pytest.mark.parametrize(
    "change", ["body", "root", "signature", "blue's as red's", "blue's removed"]
)
def test_a_tampered_snapshot_is_refused_on_read(kept: Desk, change: str) -> None:
    assert {snapshots.NO_ONE, "blue", "red"} <= set(_count(kept))
    refused = _change(kept, change)
    answer = kept.get("/v1/picture", sorted(refused)[0], params={"at": AT})
    assert assert_problem(answer, 503)["type"].endswith("record-damaged")
    # Someone changed the database under the center: it serves no record until looked at.
    for user in READERS:
        answer = kept.get("/v1/picture", user, params={"at": AT})
        assert assert_problem(answer, 503)["type"].endswith("record-damaged")


@pytest.mark.parametrize("change", ["body", "root", "signature", "blue's as red's"])
def test_a_tampered_snapshot_is_refused_at_start_up(kept: Desk, change: str) -> None:
    _change(kept, change)
    with restarted(kept) as again:
        record = verified_of(again.center)
        deadline = time.monotonic() + 30
        while record.refused is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert again.client.get("/readyz").status_code == 503
        body = assert_problem(again.get("/v1/compliance", "observer"), 503)
        assert "snapshot of the picture" in body["detail"]


def _withdrawn_aside(desk: Desk) -> tuple[Replay, str]:
    """The newest snapshot read back as a picture would, and the id of a declaration it set
    aside (withdrawn)."""
    with desk.center.reading() as session:
        row = session.scalars(
            select(PictureSnapshot).order_by(PictureSnapshot.size.desc()).limit(1)
        ).one()
        replay, _ = snapshots._decode(desk.center, bytes(row.body))
    replay.load = snapshots._loader(desk.center, {})
    (aside,) = [ids for key, ids in replay.aside().items() if key is DECLARATIONS]
    (object_id,) = aside
    return replay, object_id


@pytest.mark.parametrize("change", ["none", "body", "removed"])
def test_an_object_set_aside_is_read_back_only_as_it_was_stored(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    monkeypatch.setattr(verified_module, "MARK_EVERY", 2)
    monkeypatch.setattr(replay_module, "SWEEP_EVERY", 1)
    for desk in start(tmp_path, database_url):
        desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        desk.clock.set(1)
        gone = desk.ok(desk.post("/v1/declarations", "blue-officer", json=SITE))
        desk.clock.set(2)
        path = f"/v1/declarations/{gone['id']}/withdraw"
        desk.ok(desk.post(path, "blue-officer", json={"reason": "x"}), 200)
        desk.clock.set(3)
        desk.ok(desk.post("/v1/declarations", "red-officer", json=named(SITE, "Red's")))
        assert snapshots.keep(desk.center) >= 1
        with desk.center.writing() as unit:
            (stored,) = unit.session.scalars(select(PictureAside)).all()
            if change == "body":
                stored.body = bytes(stored.body[:-1]) + bytes([stored.body[-1] ^ 1])
            elif change == "removed":
                unit.session.delete(stored)
        replay, object_id = _withdrawn_aside(desk)
        assert object_id == gone["id"] and object_id not in replay.declarations
        if change == "none":
            found = replay.find(DECLARATIONS, object_id)
            assert found is not None and found.withdrawn_at is not None
            desk.clock.set(10)
            assert desk.ok(desk.get("/v1/picture", "observer", params={"at": AT}), 200)
            continue
        with pytest.raises(RecordDamaged, match="set aside"):
            replay.find(DECLARATIONS, object_id)
        desk.clock.set(10)
        answer = desk.get("/v1/picture", "observer", params={"at": AT})
        assert assert_problem(answer, 503)["type"].endswith("record-damaged")


def test_a_snapshot_is_folded_on_only_when_that_is_cheaper(
    kept: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a snapshot back costs per object, folding afresh per entry: a snapshot holding
    more than folding its entries would cost is left alone (and the picture is the same)."""
    used: list[int] = []
    decode = snapshots._decode

    def counted(center: Any, body: bytes, **options: Any) -> Any:
        used.append(len(body))
        return decode(center, body, **options)

    monkeypatch.setattr(snapshots, "_decode", counted)
    first = kept.picture("blue-officer", 10)
    assert used
    used.clear()
    monkeypatch.setattr(snapshots, "DECODE_US", 1e6)  # a snapshot dearer than any fold
    assert kept.picture("blue-officer", 10) == first
    assert not used
    # A page is priced as what it reads whole (the page and the objects its tail names), the
    # rest of the snapshot parked: a whole picture as every object read.
    asked: list[int | None] = []
    worth = snapshots.worth

    def spied(**options: Any) -> bool:
        asked.append(options.get("reads"))
        return worth(**options)

    monkeypatch.setattr(snapshots, "worth", spied)
    kept.picture("blue-officer", 10)
    first_page = kept.ok(
        kept.get("/v1/picture", "blue-officer", params={"at": AT, "limit": "1"}), 200
    )
    size = int(first_page["next"].split(".")[0])
    params = {"at": AT, "limit": "1", "after": first_page["next"]}
    kept.ok(kept.get("/v1/picture", "blue-officer", params=params), 200)
    assert asked == [None, 1 + size - _newest(kept), 2 + size - _newest(kept)]
