"""Record entry kinds are declared once and registered: writers build their events through
them, the picture's replay dispatches each entry to its kind's fold, and an entry of an
unknown kind, with the wrong fields or the wrong signer is an explicit anomaly with its
reason — never a silent skip, never an exception."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.center import entry_kinds
from accord.center.entry_kinds import EntryKind, Recorded, Replaying, Signer, kind_named, registered
from accord.center.picture.replay import Replay
from support.jig import AGREEMENT

ORIGIN = "jig-example.accord"
AT = datetime(2026, 9, 29, tzinfo=UTC)

PICTURED = {
    "condition": "phases", "declaration": "declarations", "message": "directline",
    "operation": "operations", "report": "reports",
}  # fmt: skip
"""The families of kinds the picture folds, and the feature whose fold module folds each."""
FOLDED = sorted(name for name, k in registered().items() if k.fold is not None)
UNFOLDED = sorted(name for name, k in registered().items() if k.fold is None)


def replay(*entries: tuple[str, dict[str, object]]) -> Replay:
    return Replay(AGREEMENT, ORIGIN).fold(
        [Recorded(i, author, AT, event) for i, (author, event) in enumerate(entries)]
    )


def whole(kind: EntryKind) -> tuple[str, dict[str, object]]:
    """An entry of ``kind`` with every required field, signed by the right signer."""
    author = ORIGIN if kind.signer is Signer.CENTER else "blue"
    return author, {"kind": kind.name, **{name: "x" for name in kind.required}}


def test_the_picture_folds_exactly_the_kinds_of_what_it_shows() -> None:
    kinds = registered()
    assert sorted(name for name in kinds if name.split(".")[0] in PICTURED) == FOLDED
    # each fold is written beside its kind, in its feature's fold module
    for name in FOLDED:
        fold = kinds[name].fold
        assert fold is not None
        assert fold.__module__ == f"accord.center.{PICTURED[name.split('.')[0]]}.fold", name
    # every feature that records declares its kinds; each names who signs it
    families = {name.split(".")[0] for name in kinds}
    assert families == {
        "agreement", "airspace", "condition", "cot", "declaration", "disclosure", "key", "message",
        "draft", "operation", "report", "user",
    }  # fmt: skip
    assert {k.signer for k in kinds.values()} == set(Signer)


def test_every_module_that_declares_kinds_is_listed_in_features() -> None:
    """A module that declares kinds but is missing from FEATURES would leave its kinds
    unknown to a process that never imported it: its entries read as anomalies."""
    center = Path(entry_kinds.__file__).parent
    declaring = {
        "accord." + ".".join(path.relative_to(center.parent.parent).with_suffix("").parts[1:])
        for path in center.rglob("*.py")
        if path.name != "entry_kinds.py" and "entry_kind(" in path.read_text(encoding="utf-8")
    }
    assert declaring == set(entry_kinds.FEATURES)


@pytest.mark.parametrize("name", FOLDED)
def test_every_folded_kind_is_dispatched_to_its_own_fold(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay hands an entry to the fold its kind carries — that fold, with the replay
    and the entry — and its answer decides: an entry that does not fit, or whose fields
    trip the fold, is an anomaly with its reason."""
    kind = kind_named(name)
    assert kind is not None
    calls: list[tuple[Replaying, Recorded]] = []

    def spying(answer: Callable[[], bool]) -> Callable[[Replaying, Recorded], bool]:
        def fold(replay: Replaying, record: Recorded) -> bool:
            calls.append((replay, record))
            return answer()

        return fold

    def trips() -> bool:
        raise KeyError("a field of the wrong shape")

    author, event = whole(kind)
    for answer, anomalies in [(lambda: True, []), (lambda: False, [0]), (trips, [0])]:
        calls.clear()
        monkeypatch.setitem(
            entry_kinds._KINDS, name, dataclasses.replace(kind, fold=spying(answer))
        )
        folded = replay((author, event))
        assert calls == [(folded, Recorded(0, author, AT, event))]
        assert folded.anomalies == anomalies
        if anomalies:
            assert "does not fit the entries before it" in folded.reasons[0]


@pytest.mark.parametrize("name", UNFOLDED)
def test_a_kind_without_a_fold_changes_nothing(name: str) -> None:
    kind = kind_named(name)
    assert kind is not None
    folded = replay(whole(kind))
    assert folded.entries == 1 and folded.anomalies == []
    assert not (folded.declarations or folded.operations or folded.messages)
    assert not (folded.confirmations or folded.unopened)


def test_a_builder_refuses_a_missing_or_unknown_field_naming_both() -> None:
    sent = kind_named("message.acknowledged")
    assert sent is not None
    assert sent.build(id="m-1", content_hash="ab") == {
        "kind": "message.acknowledged", "id": "m-1", "content_hash": "ab"
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"message\.acknowledged.*missing field 'content_hash'"):
        sent.build(id="m-1")
    with pytest.raises(ValueError, match="unknown field 'by'"):
        sent.build(id="m-1", content_hash="ab", by="someone")


def test_an_unknown_kind_is_an_anomaly_with_its_reason() -> None:
    folded = replay(("blue", {"kind": "declaration.teleported", "id": "d-1"}))
    assert folded.anomalies == [0]
    assert "unknown kind" in folded.reasons[0] and "declaration.teleported" in folded.reasons[0]


def test_wrong_fields_or_the_wrong_signer_is_an_anomaly_and_changes_nothing() -> None:
    confirmed = {"kind": "condition.confirmed", "condition": "aid-delivered-east-city"}
    folded = replay(
        ("hnc", confirmed),  # no "user"
        (ORIGIN, {**confirmed, "user": "x"}),  # a member's act, signed by the center
        ("hnc", {**confirmed, "user": "x", "extra": 1}),
    )
    assert folded.anomalies == [0, 1, 2]
    assert "missing field 'user'" in folded.reasons[0]
    assert f"signed by {ORIGIN}" in folded.reasons[1]
    assert "unknown field 'extra'" in folded.reasons[2]
    assert folded.confirmations == {}
    # the same entry, whole and signed by its member, folds
    assert replay(("hnc", {**confirmed, "user": "x"})).confirmations == {
        "aid-delivered-east-city": AT
    }


def test_a_recorded_kind_the_picture_does_not_fold_is_no_anomaly() -> None:
    cleared = {
        "kind": "airspace.cleared",
        "alerts": ["a-1.0"],
        "cleared_at": "2026-09-29T00:00:00Z",
    }
    assert replay((ORIGIN, cleared)).anomalies == []
    # but signed by a party, it is one: the center's own acts are the center's
    assert replay(("blue", cleared)).anomalies == [0]
