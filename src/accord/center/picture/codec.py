"""The folded state written as JSON and read back: the codec of the picture's snapshots
(:mod:`accord.center.picture.snapshots`).

Each part of a replay's state declares its type (:attr:`accord.center.entry_kinds.Part.shape`);
:func:`codec` turns such a type into a pair of functions, made once per type: ``encode`` to
values :func:`json.dumps` writes, ``decode`` back to the same value — equal to the one
encoded, field for field. What a type may hold: ``str``, ``int``, ``float``, ``bool``,
``None``, ``Any`` (a JSON value kept as it is: the record's own event content),
``datetime`` (an aware instant, as integer microseconds since 1970 UTC, read back in UTC),
dataclasses (a list of their fields' values, in the order they are declared),
``X | None``, ``list[X]``, ``tuple[X, ...]`` and ``dict[K, X]`` with ``K`` a ``str`` or an
``int`` (JSON keys are text: an ``int`` key is read back as one).
Reading trusts what it reads to have the form it was written in (a snapshot is read only
once the center's signature over it verifies); a type outside that list is
:class:`TypeError` when its codec is made. :func:`fingerprint` names the form
of every field of a type: a snapshot written under another form is not read.

>>> from dataclasses import dataclass
>>> @dataclass
... class Seen:
...     id: str
...     at: datetime
...     tags: list[str]
>>> encode, decode = codec(dict[str, Seen])
>>> value = {"a": Seen("a", datetime(2026, 9, 21, tzinfo=UTC), ["x"])}
>>> encode(value)
{'a': ['a', 1789948800000000, ['x']]}
>>> decode(encode(value)) == value
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

__all__ = ["codec", "fingerprint"]

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]

_PLAIN = (str, int, bool, float, type(None))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _same(value: Any) -> Any:
    return value


@cache
def codec(shape: Any) -> tuple[Encode, Decode]:
    """The ``(encode, decode)`` pair for values of ``shape`` (made once per type)."""
    if shape is Any or shape in _PLAIN:
        return _same, _same
    if shape is datetime:
        return _encode_instant, _decode_instant
    if dataclasses.is_dataclass(shape) and isinstance(shape, type):
        return _dataclass(shape)
    origin, args = typing.get_origin(shape), typing.get_args(shape)
    if origin in (types.UnionType, typing.Union):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1 or len(args) != 2:
            raise TypeError(f"only X | None is kept in a snapshot, not {shape}")
        inner_encode, inner_decode = codec(present[0])
        return (
            lambda v: None if v is None else inner_encode(v),
            lambda v: None if v is None else inner_decode(v),
        )
    if origin is list and len(args) == 1:
        item_encode, item_decode = codec(args[0])
        return (
            lambda v: [item_encode(x) for x in v],
            (lambda v: list(v))
            if item_decode is _same
            else (lambda v: [item_decode(x) for x in v]),
        )
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item_encode, item_decode = codec(args[0])
        return (
            lambda v: [item_encode(x) for x in v],
            lambda v: tuple(item_decode(x) for x in v),
        )
    if origin is dict and len(args) == 2 and args[0] in (str, int):
        value_encode, value_decode = codec(args[1])
        if args[0] is str:
            return (
                lambda v: {k: value_encode(x) for k, x in v.items()},
                lambda v: {k: value_decode(x) for k, x in v.items()},
            )
        return (
            lambda v: {str(k): value_encode(x) for k, x in v.items()},
            lambda v: {int(k): value_decode(x) for k, x in v.items()},
        )
    raise TypeError(f"a snapshot does not keep values of type {shape!r}")


def _encode_instant(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("an instant without its offset")
    return (value - _EPOCH) // _MICRO


def _decode_instant(value: int) -> datetime:
    return _EPOCH + value * _MICRO


def _hints(cls: type) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]


def _dataclass(cls: type) -> tuple[Encode, Decode]:
    fields = _hints(cls)
    names = [name for name, _ in fields]
    pairs = [codec(shape) for _, shape in fields]
    encoders = [e for e, _ in pairs]
    converted = [(i, d) for i, (_, d) in enumerate(pairs) if d is not _same]
    count = len(fields)

    def encode(value: Any) -> list[Any]:
        return [e(getattr(value, n)) for n, e in zip(names, encoders, strict=True)]

    def decode(value: Any) -> Any:
        if len(value) != count:
            raise ValueError(f"not a {cls.__name__} of {count} fields")
        values = list(value)
        for i, d in converted:
            values[i] = d(values[i])
        return cls(*values)

    return encode, decode


def fingerprint(shape: Any) -> str:
    """The SHA-256 (hex) of the form of ``shape``: every dataclass it holds, with its fields'
    names and types, in order. Another form (a field added, renamed or retyped) is another
    fingerprint."""
    seen: dict[str, str] = {}
    _describe(shape, seen)
    text = "\n".join(f"{name}: {form}" for name, form in sorted(seen.items()))
    return hashlib.sha256(f"{shape!r}\n{text}".encode()).hexdigest()


def _describe(shape: Any, seen: dict[str, str]) -> None:
    if dataclasses.is_dataclass(shape) and isinstance(shape, type):
        name = f"{shape.__module__}.{shape.__qualname__}"
        if name in seen:
            return
        fields = _hints(shape)
        seen[name] = ", ".join(f"{n}={t!r}" for n, t in fields)
        for _, t in fields:
            _describe(t, seen)
        return
    for arg in typing.get_args(shape):
        _describe(arg, seen)
