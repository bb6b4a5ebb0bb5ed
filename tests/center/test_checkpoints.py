"""Verification checkpoints (:mod:`accord.center.picture.checkpoints`; issue 24): a restarted
service resumes from the center's signed checkpoint and verifies only the entries after it,
answering as a service that verified everything does; a checkpoint altered in the database, or
a prefix rewritten under it — its leaf hashes, or an entry's bytes — is refused, never served.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from accord.center.db.models import VerifiedCheckpoint
from accord.center.picture import checkpoints
from accord.center.picture.checkpoints import keep
from accord.center.picture.verified import VerifiedRecord, verified_log, verified_of
from accord.errors import RecordDamaged
from accord.record.merkle import leaf_hash, root_hash
from support.desk import AID, Desk, named, restarted, start
from support.disclosure import SITE
from support.failures import assert_problem
from support.record import count_verified


def _history(desk: Desk, count: int, first: int = 1) -> None:
    for minutes in range(first, first + count):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))


def _answers(desk: Desk, minutes: float) -> tuple[Any, Any]:
    """The picture at ``minutes`` and the compliance report as blue's officer sees them
    (blue's sites are ``center``: opened from the openings), their times and proofs left out."""
    desk.clock.set(minutes)
    picture = desk.picture("blue-officer", minutes)
    assert picture["unverified"] == []
    report = desk.ok(desk.get("/v1/compliance", "blue-officer"), 200)
    for body in (picture, report):
        body.pop("proof")
        body.pop("at")
    return picture, report


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    for desk in start(tmp_path, database_url):
        desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
        _history(desk, 4)
        yield desk


@pytest.mark.parametrize("group", [1024, 2])  # the tree taken up from one or several groups
def test_a_restart_resumes_from_the_checkpoint_and_checks_only_what_is_new(
    served: Desk, monkeypatch: pytest.MonkeyPatch, group: int
) -> None:
    monkeypatch.setattr(checkpoints, "GROUP", group)
    with restarted(served) as second:  # verifies everything, then keeps a checkpoint
        with second.center.reading() as session:
            size = second.center.log(session).size
        assert verified_of(second.center).verified == size
        expected = _answers(second, 30)
        _history(second, 2, first=31)
        grown = _answers(second, 33)
    checked = count_verified(monkeypatch)
    with restarted(served) as third:
        assert verified_of(third.center).verified == size + 2
        assert len(checked) == 2  # the two entries after the checkpoint, no other
        now = _answers(third, 33)
        assert now == grown != expected
        assert len(checked) == 2  # the entries before it read again, hashed, not re-checked
    with third.center.engine.connect() as connection:  # the newest checkpoint alone
        sizes = connection.execute(text("SELECT size FROM verified_checkpoints")).scalars()
        assert list(sizes) == [size + 2]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the row's checks alone
@pytest.mark.parametrize(
    "change",
    [
        {"sequences": '{"blue":1,"hnc":1}'},  # a sequence number set back
        {"root": b"\x00" * 32},
        {"prev": "0" * 64},
        {"signature": b"\x01" * 64},
    ],
)
def test_a_checkpoint_altered_in_the_database_is_refused(
    served: Desk, change: dict[str, Any]
) -> None:
    with restarted(served):
        pass
    with served.center.engine.begin() as connection:
        connection.execute(update(VerifiedCheckpoint).values(**change))
    with restarted(served) as again:
        for path, params in (
            ("/v1/picture", {"at": "2026-09-21T16:29:00Z"}),
            ("/v1/compliance", {}),
        ):
            body = assert_problem(again.get(path, "observer", params=params), 503)
            assert "checkpoint" in body["detail"] and "does not check" in body["detail"]
        assert again.client.get("/readyz").status_code == 503


@pytest.mark.parametrize(
    ("table", "why"),
    [
        # an interior node the resume folds to the signed root: refused at once
        ("record_nodes", "checkpoint of its first 5 entries does not check"),
        # a leaf hash, read when its entries are: its subtree no longer folds to its root
        ("record_leaves", "the leaf hashes of entries 0 to 3 are not those this center verified"),
    ],
)
def test_a_prefix_rewritten_under_the_checkpoint_is_refused(
    served: Desk, table: str, why: str
) -> None:
    """A stored hash of the first entries changed: the stored subtrees no longer fold to the
    signed root, or the leaf hashes no longer fold to the subtree the resume took up."""
    with restarted(served):
        pass
    with served.center.engine.begin() as connection:
        size = connection.execute(text("SELECT count(*) FROM record_leaves")).scalar_one()
        assert size == 5  # a subtree of leaves 0 to 3 (level 2), then leaf 4
        where = "level = 2 AND idx = 0" if table == "record_nodes" else "idx = 1"
        changed = connection.execute(
            text(f"UPDATE {table} SET hash = :h WHERE {where}"), {"h": b"\x07" * 32}
        )
        assert changed.rowcount == 1
    with restarted(served) as again:
        body = assert_problem(again.get("/v1/compliance", "observer"), 503)
        assert why in body["detail"]


def test_an_entry_rewritten_under_the_checkpoint_is_refused_when_read(served: Desk) -> None:
    """An entry's bytes replaced by another well-signed leaf's, its stored hash left alone:
    the checkpoint resumes (the hashes fold), but the entry is never served."""
    with restarted(served):
        pass
    with served.center.engine.begin() as connection:
        last = connection.execute(text("SELECT max(idx) FROM record_leaves")).scalar_one()
        other = connection.execute(
            text("SELECT data FROM record_leaves WHERE idx = :i"), {"i": last}
        ).scalar_one()
        connection.execute(text("UPDATE record_leaves SET data = :d WHERE idx = 1"), {"d": other})
    with restarted(served) as again:
        body = assert_problem(again.get("/v1/compliance", "observer"), 503)
        assert body["detail"] == (
            "the stored record changed: entry 1 is not the one this center verified"
        )


def test_a_serving_process_keeps_a_newer_checkpoint_as_the_record_grows(
    served: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keeper verifies what was appended and keeps a checkpoint every so many entries;
    fewer new entries than that keep none."""
    with restarted(served) as desk:
        with desk.center.reading() as session:
            size = desk.center.log(session).size
        _history(desk, 3, first=31)
        assert keep(desk.center, every=4) is None  # three new entries: not yet
        _history(desk, 1, first=34)
        assert keep(desk.center, every=4) == size + 4
        assert verified_of(desk.center).verified == size + 4
    checked = count_verified(monkeypatch)
    with restarted(served) as again:  # resumed at the kept size: nothing checked again
        assert verified_of(again.center).verified == size + 4
        assert checked == []


def test_a_log_shorter_than_the_checkpoint_is_refused(served: Desk) -> None:
    """Entries taken off the end after the center verified them: a rollback, never served."""
    with restarted(served):
        pass
    with served.center.engine.begin() as connection:
        last = connection.execute(text("SELECT max(idx) FROM record_leaves")).scalar_one()
        connection.execute(text("DELETE FROM record_leaves WHERE idx = :i"), {"i": last})
    with restarted(served) as again:
        body = assert_problem(again.get("/v1/compliance", "observer"), 503)
        assert body["detail"] == (
            f"the stored record changed: it holds {last} entries, fewer than the {last + 1} "
            "this center verified"
        )


def test_a_read_that_began_verifying_at_start_up_does_not_keep_the_checkpoint_from_resuming(
    served: Desk,
) -> None:
    """A readiness probe or a read may begin verifying from the first entry before the
    start-up's resume has read the checkpoint: the resume still takes over (else a million
    entries are verified again), once what was verified is the checkpoint's first entries."""
    center = served.center
    with center.reading() as session:
        verified_log(center, session)  # the serving center verified all: its checkpoint
    assert checkpoints.save(center, verified_of(center))
    with center.reading() as session:
        log = center.log(session)
        size = log.size
        early = VerifiedRecord(center.ring, center.origin)
        early.opened(lambda: log, most=2)  # a probe's first step
        assert early.verified == 2 < size
        assert checkpoints.resume(center, early, log) == size
        assert early.verified == size and early.refused is None
        row = session.scalars(select(VerifiedCheckpoint)).one()
        checked, resumed = checkpoints._checked(center, row, log, every=early.marks_every)
        other = VerifiedRecord(center.ring, center.origin)
        other.opened(lambda: log, most=2)
        other._hashes.data[0] ^= 1  # what the probe verified is not what the checkpoint holds
        with pytest.raises(RecordDamaged, match="not the first of the checkpoint's"):
            other.resume(checked, resumed, log=log)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 300),
    group=st.sampled_from([1, 2, 4, 8, 16, 64]),
    every=st.integers(1, 40),
    tamper=st.integers(0, 10_000),
)
def test_a_tree_taken_up_from_stored_subtrees_is_the_tree_of_its_leaves(
    size: int, group: int, every: int, tamper: int
) -> None:
    """Against every leaf folded: the root, the roots at every ``every`` entries and the
    subtrees left unread; and any one stored hash changed is refused or changes the root
    (so the signed root refuses it)."""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]

    def node(level: int, index: int) -> bytes:
        return root_hash(leaves[index << level : (index + 1) << level])

    level = group.bit_length() - 1
    roots = [node(level, g) for g in range(size // group)]
    keys = checkpoints.subtrees_needed(size, group=group, every=every)
    nodes = {key: node(*key) for key in keys}
    resumed = checkpoints.resumed_tree(size, group=group, every=every, roots=roots, nodes=nodes)
    assert resumed.tree.root() == root_hash(leaves) and resumed.tree.size == size
    assert resumed.marks == {m: root_hash(leaves[:m]) for m in range(every, size + 1, every)}
    assert [s.start for s in resumed.unread] == [0, *(s.start + s.size for s in resumed.unread)][
        :-1
    ]
    assert sum(s.size for s in resumed.unread) == size
    assert all(s.root == root_hash(leaves[s.start : s.start + s.size]) for s in resumed.unread)
    # one stored hash changed, of a group root or of a subtree named
    spots = len(roots) + len(keys)
    at = tamper % spots
    bad = hashlib.sha256(b"tampered").digest()
    if at < len(roots):
        roots = [bad if i == at else r for i, r in enumerate(roots)]
    else:
        nodes = {**nodes, keys[at - len(roots)]: bad}
    try:
        again = checkpoints.resumed_tree(size, group=group, every=every, roots=roots, nodes=nodes)
    except ValueError:
        return
    assert again.tree.root() != root_hash(leaves)
