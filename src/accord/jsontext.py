"""JSON text read strictly: one meaning per document, or a refusal that says where.

Python's :func:`json.loads` keeps the last of two values for one key, so
``{"disclosure": "center", "disclosure": "shared"}`` reads as ``shared``: a client bug or a
proxy that rewrites one of them would turn a hidden declaration into a public one without a
word, and two readers that keep different duplicates (first wins, last wins) would disagree
on what was sent. :func:`loads` refuses such a document, naming the key and where it is
(:class:`DuplicateKey`); it also refuses ``NaN``, ``Infinity`` and ``-Infinity``, which are
not JSON (RFC 8259) and which no coordinate, distance or time may be.

The check costs one dictionary per object beside the parse; only a refused document is read a
second time, to find the path of its first duplicated key in document order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from accord.errors import DuplicateKey, NotJsonNumber, field_path, shown

__all__ = [
    "TWICE",
    "DuplicateKey",
    "NotJsonNumber",
    "duplicate_key_path",
    "loads",
    "shown",
]

TWICE = "this key appears twice in one object: send it once"
"""What is wrong with a duplicated key, said where its path is the field."""


class _Twice(Exception):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Twice
    return result


def _refuse_constant(constant: str) -> float:
    raise NotJsonNumber(constant)


class _Pairs(list[tuple[str, Any]]):
    """An object as read, its pairs in document order (duplicates kept)."""


def _walk(value: Any) -> Iterator[tuple[list[str | int], str]]:
    """(path of the object, key) for every key that repeats an earlier key of its object,
    in document order; iterative, so that any depth the parser accepted is walked, and only
    objects and arrays are visited (the leaves, most of a document, are skipped)."""
    stack: list[tuple[list[str | int], Iterator[tuple[str | int, Any]], set[str] | None]] = []
    if type(value) is _Pairs:
        stack.append(([], iter(value), set()))
    elif type(value) is list:
        stack.append(([], iter(enumerate(value)), None))
    while stack:
        path, items, seen = stack[-1]
        for key, child in items:
            if seen is not None:
                assert isinstance(key, str)
                if key in seen:
                    yield path, key
                seen.add(key)
            kind = type(child)
            if kind is _Pairs:
                stack.append(([*path, key], iter(child), set()))
                break
            if kind is list:
                stack.append(([*path, key], iter(enumerate(child)), None))
                break
        else:
            stack.pop()


def duplicate_key_path(text: str | bytes) -> tuple[str, str] | None:
    """(path, key) of the first key that an object of the JSON document ``text`` names
    twice, in document order, or ``None`` when there is none (``text`` must parse)."""
    tree = json.loads(text, object_pairs_hook=_Pairs)
    for path, key in _walk(tree):
        return field_path([*path, key]), key
    return None


def loads(text: str | bytes, *, allow_nan: bool = False) -> Any:
    """``text`` read as JSON, refusing what has no single meaning.

    Raises :class:`DuplicateKey` for an object naming a key twice, :class:`NotJsonNumber`
    for ``NaN`` or an infinity (unless ``allow_nan``: for a reader whose validation names the
    field of every number that is not finite), and :class:`json.JSONDecodeError` (a
    ``ValueError``) for text that is not JSON.

    >>> loads('{"a": {"b": 1, "c": [1, {"d": 2}]}}')
    {'a': {'b': 1, 'c': [1, {'d': 2}]}}
    >>> loads('{"p": {"disclosure": "center", "disclosure": "shared"}}')
    Traceback (most recent call last):
    ...
    accord.errors.DuplicateKey: the key 'disclosure' appears twice in one object (at p.disclosure)
    """
    try:
        if allow_nan:
            return json.loads(text, object_pairs_hook=_unique)
        return json.loads(text, object_pairs_hook=_unique, parse_constant=_refuse_constant)
    except _Twice:
        found = duplicate_key_path(text)
        assert found is not None
        raise DuplicateKey(*found) from None
