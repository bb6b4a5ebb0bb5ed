"""Lists too long for one entry, continued in the entries right after it (DECISIONS 12).

Every entry is at most 65,535 bytes (:data:`~accord.record.tiles.MAX_ENTRY_BYTES`, the C2SP
tlog-tiles bundles' uint16 length). An event whose list would make its entry larger (an
operation's conflicts with a thousand objects) carries the list's first run and
``"continued": P`` — the number of parts in all, P ≥ 2, this entry the first — and the
next P − 1 entries of the log, appended in the same transaction, are the center's
**continuations**: each carries ``"continues": i`` (the index of the entry it continues),
``"part": k`` (2 … P), ``"parts": P`` and the list's next run. The list is the runs joined
in part order, so a reader reassembles it exactly, and a part removed, moved, inserted or
replaced breaks the rule that verifiers check (:func:`check`):

- the entry at ``i + k - 1`` is part ``k`` of ``P`` continuing entry ``i``, for each k;
- a continuation stands only there, and is the center's own entry (signed by the log's
  origin: the center continues what it wrote down, never a party's act).

Where to cut (:func:`runs`) depends only on the bytes of the list as it is written in the
record — what every reader sees — so the number of parts tells nobody more than the list
itself does (DECISIONS 2).

Verifiers find the entries concerned by their bytes (:func:`marks`): the canonical JSON of
a key ``"continued":`` or ``"continues":`` cannot occur inside a JSON string (its quotes are
escaped there), and the event is parsed only where it occurs, its top-level members read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.errors import RecordError
from accord.jsontext import loads as strict_loads
from accord.record.entries import open_envelope

__all__ = ["CONTINUED", "CONTINUES", "Mark", "check", "marks", "runs"]

CONTINUED = "continued"
"""The first entry's member: the number of parts in all (≥ 2)."""
CONTINUES = "continues"
"""A continuation's member: the index of the entry it continues (with ``part``, ``parts``)."""

_MARKS = (b'"' + CONTINUED.encode() + b'":', b'"' + CONTINUES.encode() + b'":')


def runs(items: Sequence[bytes], *, first: int, rest: int) -> list[int]:
    """Where to cut ``items`` (each one's canonical JSON) into runs: the end of each run, the
    last being ``len(items)``. The first run's JSON array (``[`` items joined by ``,`` ``]``)
    takes at most ``first`` bytes — none at all when even one item does not fit: it may be
    empty — and every other run's at most ``rest``; each run but the first holds at least one
    item. A list that fits ``first`` is one run.

    >>> runs([b"1", b"22", b"333"], first=10, rest=8)
    [3]
    >>> runs([b"1", b"22", b"333"], first=6, rest=5)
    [2, 3]
    >>> runs([b"1", b"22"], first=1, rest=4)
    [0, 1, 2]

    Raises :class:`ValueError` for an item that fits no run (larger than ``rest - 2``).
    """
    out: list[int] = []
    budget, size, count = first, 2, 0  # "[]"
    for index, item in enumerate(items):
        cost = len(item) + (1 if count else 0)
        if size + cost > budget:
            if len(item) + 2 > rest:
                raise ValueError(f"item {index} takes {len(item)} bytes, over a run's {rest}")
            out.append(index)
            budget, size, count = rest, 2, 0
            cost = len(item)
        size += cost
        count += 1
    out.append(len(items))
    return out


@dataclass(frozen=True, slots=True)
class Mark:
    """An entry that takes part in a continued list: a first entry (``parts`` and nothing
    else) or a continuation (``continues``, ``part``, ``parts``); values as the event has
    them (checked by :func:`check`)."""

    index: int
    author: str
    kind: str
    parts: Any
    continues: Any = None
    part: Any = None

    @property
    def is_continuation(self) -> bool:
        return self.continues is not None or self.part is not None


def marks(start: int, leaves: Sequence[bytes], authors: Sequence[str]) -> list[Mark]:
    """The entries of ``leaves`` (the first is entry ``start``; ``authors``: each one's
    author, as verified) whose event says it is continued or continues another."""
    out: list[Mark] = []
    for offset, leaf in enumerate(leaves[: len(authors)]):
        if not any(mark in leaf for mark in _MARKS):
            continue
        try:
            event = strict_loads(open_envelope(leaf)[2])["event"]
        except (RecordError, ValueError, RecursionError, KeyError, TypeError):
            continue  # not an entry: named by the checks of entries
        if not isinstance(event, Mapping):
            continue
        kind = str(event.get("kind"))[:64]
        if CONTINUES in event:
            out.append(
                Mark(
                    start + offset,
                    authors[offset],
                    kind,
                    event.get("parts"),
                    event[CONTINUES],
                    event.get("part"),
                )
            )
        elif CONTINUED in event:
            out.append(Mark(start + offset, authors[offset], kind, event[CONTINUED]))
    return out


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(found: Sequence[Mark], *, size: int, origin: str) -> tuple[int, str] | None:
    """The first fault (entry index, reason) of the continued lists of a log of ``size``
    entries whose marked entries are ``found`` (in log order), or None."""
    first: Mark | None = None  # the entry whose parts are awaited
    part = 0  # the part awaited next

    def missing(at: int, what: str) -> tuple[int, str]:
        assert first is not None
        return (
            at,
            f"entry {first.index} ({first.kind}) says its list continues over {first.parts} "
            f"entries written together, so entry {at} must be its part {part} of "
            f"{first.parts}, but {what}: a part was removed, moved, replaced or inserted",
        )

    for mark in found:
        if first is not None and mark.index > first.index + part - 1:
            return missing(first.index + part - 1, "it is not a continuation")
        if mark.is_continuation:
            if first is None:
                return (
                    mark.index,
                    f"a continuation ({mark.kind}) of entry {mark.continues!r} as part "
                    f"{mark.part!r} of {mark.parts!r}, where no continued entry's part is due: "
                    "a part out of its place",
                )
            if (mark.continues, mark.part, mark.parts) != (first.index, part, first.parts):
                return missing(
                    mark.index,
                    f"it says it is part {mark.part!r} of {mark.parts!r} continuing entry "
                    f"{mark.continues!r}",
                )
            if mark.author != origin:
                return (
                    mark.index,
                    f"forged: a continuation signed by {mark.author!r}: only the center "
                    f"({origin}) continues an entry",
                )
            part += 1
            if part > first.parts:
                first = None
            continue
        if not _count(mark.parts) or mark.parts < 2:
            return (
                mark.index,
                f"a {mark.kind} entry continued over {mark.parts!r} parts: a continued entry "
                "has 2 parts or more",
            )
        first, part = mark, 2
    if first is not None:
        at = first.index + part - 1
        return missing(at, "it is not a continuation" if at < size else "the log ends before it")
    return None
