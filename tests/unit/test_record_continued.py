"""Lists continued across entries (:mod:`accord.record.continued`, DECISIONS 12): where a list
is cut, and the verifier's rule that each part stands right after the entry it continues, in
order, each the center's — a part removed, moved, inserted or forged is named."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.record import verify as verify_module
from accord.record.continued import Mark, check, runs
from accord.record.keys import PrivateKey
from accord.record.log import MerkleLog
from accord.record.recorder import Recorder
from accord.record.verify import EntryStream, VerificationError, verify_log
from support.sample_log import BLUE, CENTER, ORIGIN, RED, RING, T0

# --- where a list is cut ----------------------------------------------------------------------


def _array(items: list[bytes]) -> int:
    """The bytes of ``items`` as a JSON array."""
    return 2 + sum(len(i) for i in items) + max(0, len(items) - 1)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=40), max_size=60),
    st.integers(0, 200),
    st.integers(42, 200),
)
def test_runs_cut_a_list_that_joins_back_whole_within_the_budgets(
    items: list[bytes], first: int, rest: int
) -> None:
    ends = runs(items, first=first, rest=rest)
    starts = [0, *ends[:-1]]
    parts = [items[s:e] for s, e in zip(starts, ends, strict=True)]
    assert [i for part in parts for i in part] == items  # joined in order: the list, exactly
    assert ends[-1] == len(items)
    assert not parts[0] or _array(parts[0]) <= first
    for k, part in enumerate(parts[1:], 1):
        assert part and _array(part) <= rest
        # greedy: a run ends only where the next item would not fit it (O(N) parts)
        before = parts[k - 1]
        if k > 1 or before:
            assert _array([*before, part[0]]) > (first if k == 1 else rest)
    if _array(items) <= first:
        assert ends == [len(items)]


def test_an_item_that_fits_no_run_is_refused() -> None:
    with pytest.raises(ValueError, match="item 1 takes 9 bytes"):
        runs([b"1", b"123456789"], first=3, rest=10)


# --- the verifier's rule ------------------------------------------------------------------------


def first(index: int, parts: Any) -> Mark:
    return Mark(index, ORIGIN, "x.listed", parts)


def cont(index: int, of: Any, part: Any, parts: Any, author: str = ORIGIN) -> Mark:
    return Mark(index, author, "x.continued", parts, of, part)


def test_the_rule_on_marks() -> None:
    whole = [first(3, 3), cont(4, 3, 2, 3), cont(5, 3, 3, 3), first(9, 2), cont(10, 9, 2, 2)]
    assert check(whole, size=11, origin=ORIGIN) is None
    assert check([], size=0, origin=ORIGIN) is None
    cases: list[tuple[list[Mark], int, str]] = [
        ([first(3, 3), cont(4, 3, 2, 3)], 5, "the log ends before it"),
        ([first(3, 3), cont(4, 3, 2, 3)], 9, "entry 5 must be its part 3 of 3, but it is not"),
        ([first(3, 3), cont(4, 3, 3, 3), cont(5, 3, 2, 3)], 6, "part 3 of 3 continuing entry 3"),
        ([first(3, 2), cont(5, 3, 2, 2)], 6, "entry 4 must be its part 2"),
        ([cont(4, 3, 2, 2)], 6, "where no continued entry's part is due"),
        ([first(3, 2), cont(4, 3, 2, 2), cont(5, 3, 2, 2)], 6, "no continued entry's part"),
        ([first(3, 2), cont(4, 3, 2, 2, author="blue")], 6, "forged: a continuation signed by"),
        ([first(3, 1)], 6, "continued over 1 parts"),
        ([first(3, "2")], 6, "continued over '2' parts"),
        ([first(3, True)], 6, "continued over True parts"),
        ([first(3, 2), cont(4, 2, 2, 2)], 6, "continuing entry 2"),
    ]
    for found, size, words in cases:
        fault = check(found, size=size, origin=ORIGIN)
        assert fault is not None and words in fault[1], (found, fault)
    assert check(cases[0][0], size=5, origin=ORIGIN) == (5, mock.ANY)


# --- on a log ------------------------------------------------------------------------------------

Event = dict[str, Any]


def listed(n: int, parts: int) -> list[Event]:
    """A list's entries as a writer splits it: the first with ``continued``, then the parts."""
    head: Event = {"kind": "x.listed", "items": [0], "continued": parts}
    return [head] + [
        {"kind": "x.continued", "continues": n, "part": k, "parts": parts, "items": [k]}
        for k in range(2, parts + 1)
    ]


def write(path: Path, events: list[tuple[Event, PrivateKey]]) -> None:
    recorder = Recorder(MerkleLog.open(path, ORIGIN))
    for i, (event, key) in enumerate(events):
        recorder.append(event, key=key, at=T0 + timedelta(seconds=i))
    recorder.sign_head(key=CENTER, timestamp=1_790_000_000)
    recorder.log.close()


def story(*, cut: int = 2, parts: int = 4) -> list[tuple[Event, PrivateKey]]:
    """Two party entries, a list in ``parts`` parts from entry ``cut``, more party entries;
    a party's free text that holds the marks' bytes (inside a string, escaped) and a nested
    member named like one (not the event's own: neither counts)."""
    out: list[tuple[Event, PrivateKey]] = [
        ({"kind": "note", "text": 'say "continued": 3'}, BLUE),
        ({"kind": "note", "properties": {"continues": 1, "part": 2}}, RED),
    ][:cut]
    out += [(event, CENTER) for event in listed(len(out), parts)]
    out += [({"kind": "note", "n": 1}, BLUE), ({"kind": "note", "n": 2}, RED)]
    return out


def failure(path: Path, chunk: int | None = None) -> VerificationError:
    with (
        mock.patch.object(verify_module, "_CHUNK", chunk or verify_module._CHUNK),
        pytest.raises(VerificationError) as info,
    ):
        verify_log(path, keys=RING, workers=1)
    return info.value


@pytest.mark.parametrize("chunk", [None, 4])  # 4: parts across chunks (a power of two)
def test_a_log_with_continued_lists_verifies_across_chunks(
    tmp_path: Path, chunk: int | None
) -> None:
    events = story() + [(e, CENTER) for e in listed(len(story()), 2)]
    write(tmp_path / "log.sqlite", events)
    with mock.patch.object(verify_module, "_CHUNK", chunk or verify_module._CHUNK):
        report = verify_log(tmp_path / "log.sqlite", keys=RING, workers=1)
    assert report.entries == len(events) == 10


@pytest.mark.parametrize(
    ("tamper", "index", "words"),
    [
        ("removed", 4, "must be its part 3 of 4, but it says it is part 4 of 4"),
        ("last removed", 5, "the log ends before it"),
        ("swapped", 3, "it says it is part 3 of 4 continuing entry 2"),
        ("inserted", 4, "must be its part 3 of 4, but it is not a continuation"),
        ("by a party", 3, "forged: a continuation signed by 'blue'"),
        ("misplaced", 7, "where no continued entry's part is due"),
        ("of another entry", 3, "continuing entry 1"),
    ],
)
@pytest.mark.parametrize("chunk", [None, 4])  # 4: parts across chunks (a power of two)
def test_a_part_removed_moved_or_forged_is_named(
    tmp_path: Path, tamper: str, index: int, words: str, chunk: int | None
) -> None:
    """Each log is written whole by a center that re-signs what it changed, so the chain,
    the sequences and the signatures all hold: only the rule names the entry."""
    events = story()  # entries 2-5 hold the list, 6-7 are the parties'
    if tamper == "removed":
        del events[4]
    elif tamper == "last removed":
        del events[5:]
    elif tamper == "swapped":
        events[3], events[4] = events[4], events[3]
    elif tamper == "inserted":
        events.insert(4, ({"kind": "note", "n": 0}, BLUE))
    elif tamper == "by a party":
        events[3] = (events[3][0], BLUE)
    elif tamper == "misplaced":
        events.insert(7, events[4])
    elif tamper == "of another entry":
        events[3] = ({**events[3][0], "continues": 1}, CENTER)
    path = tmp_path / "log.sqlite"
    write(path, events)
    fault = failure(path, chunk)
    assert fault.index == index and words in fault.reason, fault
    # The monitor's stream says the same, the leaves taken one batch of one at a time.
    with sqlite3.connect(path) as db:
        leaves = [data for (data,) in db.execute("SELECT data FROM leaves ORDER BY idx")]
    with (
        mock.patch.object(verify_module, "_CHUNK", chunk or verify_module._CHUNK),
        EntryStream(keys=RING) as stream,
        pytest.raises(VerificationError) as info,
    ):
        stream.extend([leaf] for leaf in leaves)
    assert (info.value.index, info.value.reason) == (fault.index, fault.reason)


def test_the_stream_holds_a_list_whole_where_each_call_ends(tmp_path: Path) -> None:
    """A call of the monitor's stream ends on a head's size: a list whose parts the call
    does not bring is one the log ends before; brought whole over two calls' batches, it
    holds."""
    path = tmp_path / "log.sqlite"
    write(path, story())  # entries 2-5 hold the list
    with sqlite3.connect(path) as db:
        leaves = [data for (data,) in db.execute("SELECT data FROM leaves ORDER BY idx")]
    with EntryStream(keys=RING) as stream:
        stream.extend([leaves[:2], leaves[2:4], leaves[4:6]])
        stream.extend([leaves[6:]])
        assert stream.size == len(leaves)
    with EntryStream(keys=RING) as stream, pytest.raises(VerificationError) as info:
        stream.extend([leaves[:4]])
    assert info.value.index == 4 and "the log ends before it" in info.value.reason
