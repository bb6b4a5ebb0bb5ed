"""Canonical JSON: one byte string for one value, so that a signature covers a value.

The form follows RFC 8785 (JSON Canonicalization Scheme) in everything an entry uses:
object members sorted by key, no insignificant whitespace, UTF-8 without escaping non-ASCII
characters, only the escapes JSON requires (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``,
``\\u00XX`` in lower-case hex for the other control characters).

It differs from RFC 8785 in two places, both deliberate and both invisible to entries
written by Accord:

- **Numbers.** A float is written as Python's shortest round-tripping ``repr`` (``1.0``,
  ``1e+16``, ``-0.0``) where RFC 8785 uses the ECMAScript form (``1``, ``10000000000000000``,
  ``0``). An integer is written in decimal. Integers are limited to ±(2^53 − 1), the range
  in which every JSON implementation agrees on their value, and non-finite floats are
  refused.
- **Key order.** Keys are sorted by Unicode code point, RFC 8785 sorts by UTF-16 code
  units. The two orders differ only between characters above U+FFFF and characters in
  U+E000–U+FFFF.

An entry only ever holds values that round-trip: ``loads_canonical(canonical_json(x)) == x``
for every dict, list, str, int, float, bool and None within the limits (a tuple comes back
as a list). :func:`loads_canonical` refuses bytes that are not exactly the canonical form of
what they parse to: whitespace, reordered or duplicate keys, needless escapes, a float
written ``1.50`` are all refused, so that a verifier never accepts two spellings of one
signed value.

The standard library's C-accelerated ``json`` does the work; the checks cost one walk over
the value when writing and one re-encoding when reading.

>>> canonical_json({"b": [1, 2.5, None], "a": "Zoë"})
b'{"a":"Zo\\xc3\\xab","b":[1,2.5,null]}'
>>> loads_canonical(b'{"a":"Zo\\xc3\\xab","b":[1,2.5,null]}')
{'a': 'Zoë', 'b': [1, 2.5, None]}
>>> loads_canonical(b'{"b":1,"a":2}')
Traceback (most recent call last):
...
accord.errors.FormatError: not canonical JSON: ...
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from accord.errors import field_path
from accord.record.errors import FormatError

__all__ = [
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "canonical_join",
    "canonical_json",
    "canonical_rows",
    "content_hash",
    "decode_base64",
    "dumps_parsed",
    "encode_base64",
    "loads_canonical",
    "loads_checked_unsafe",
    "parse_if_canonical",
]

MAX_SAFE_INTEGER = 2**53 - 1
"""RFC 8785 §3.2.2.3 / I-JSON (RFC 7493 §2.2): integers beyond ±(2^53 − 1) are not portable."""

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects :func:`canonical_json` writes."""

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def _refuse_constant(name: str) -> Any:
    raise FormatError(f"not canonical JSON: {name} is not a JSON number")


def _parse_int(text: str) -> int:
    if len(text) > 17:  # more digits than any integer within ±(2^53 − 1) has
        raise FormatError(f"not canonical JSON: integer {text[:20]}… is outside ±(2^53 − 1)")
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise FormatError(f"not canonical JSON: integer {text[:40]} is outside ±(2^53 − 1)")
    return value


_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_constant=_refuse_constant)

# For parse_if_canonical: the C parser and encoder, with no Python call per value but one
# per integer (to leave integers of 16 digits or more, whose range matters, to
# loads_canonical; every integer within ±(2^53 − 1) has at most 16 digits).


def _short_int(text: str) -> int:
    if len(text) - text.startswith("-") > 15:
        raise ValueError("a long integer")
    return int(text)


_PLAIN_DECODER = json.JSONDecoder(parse_int=_short_int)


def _plain_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode`` without its set-up on every call and its search for cycles (a
    parsed value holds none): the C encoder itself, when this Python has it and it writes
    what ``_ENCODER`` writes."""
    encoder = json.JSONEncoder(
        ensure_ascii=False,
        allow_nan=False,
        sort_keys=True,
        separators=(",", ":"),
        check_circular=False,
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or escape is None:
        return encoder.encode
    try:
        chunks = make(None, None, escape, None, ":", ",", True, False, False)
        sample = {"é": [1, -2.5, None, True, "x\n\u2028"], "a": {"c": 1e16, "b": []}}
        if "".join(chunks(sample, 0)) != _ENCODER.encode(sample):
            return encoder.encode
    except (TypeError, ValueError):
        return encoder.encode

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_PLAIN_ENCODE = _plain_encoder()


def _where(parts: list[str | int]) -> str:
    return field_path(parts) or "the value"


def _check(value: object, parts: list[str | int]) -> None:
    """Refuse anything :func:`canonical_json` would not write back identically."""
    if len(parts) > MAX_DEPTH:
        raise FormatError(
            f"{field_path(parts) or 'the value'}: nested more than {MAX_DEPTH} levels deep"
        )
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise FormatError(
                f"{field_path(parts) or 'the value'}: integer {value} is outside ±(2^53 − 1)"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormatError(f"{field_path(parts) or 'the value'}: {value} is not a finite number")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FormatError(
                    f"{field_path(parts) or 'the value'}: key {key!r} is not a string"
                )
            parts.append(key)
            _check(item, parts)
            parts.pop()
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            parts.append(index)
            _check(item, parts)
            parts.pop()
        return
    raise FormatError(
        f"{field_path(parts) or 'the value'}: a {type(value).__name__} has no canonical JSON form"
    )


def _plainly_fine(value: object) -> bool:
    """:func:`_check`'s answer for the common case, quickly: ``True`` only when the value is
    built of exact ``dict``/``list``/``tuple``/``str``/``int``/``float``/``bool``/``None``
    within the limits. ``False`` says nothing: :func:`_check` then walks the value again,
    keeping the path it names in its error (and deciding about subclasses)."""
    todo: list[tuple[Any, int]] = [(value, 0)]
    pop, push = todo.pop, todo.append
    while todo:
        item, depth = pop()
        if depth > MAX_DEPTH:
            return False
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            return False
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    return False
                push((child, depth + 1))
        elif (kind is list or kind is tuple) and depth >= MAX_DEPTH:
            for child in item:
                push((child, depth + 1))
        elif kind is list or kind is tuple:
            # a list's scalars are looked at here, not pushed (long lists of numbers: a
            # geometry's coordinates, a group entry's rows)
            for child in item:
                kind = type(child)
                if kind is float:
                    if child - child != 0.0:  # inf or nan
                        return False
                elif kind is int:
                    if not -MAX_SAFE_INTEGER <= child <= MAX_SAFE_INTEGER:
                        return False
                elif kind is not str and kind is not bool and child is not None:
                    push((child, depth + 1))
        elif kind is float:
            if not math.isfinite(item):
                return False
        else:
            return False
    return True


def canonical_json(value: object) -> bytes:
    """The canonical JSON bytes of ``value`` (see the module docstring for the form).

    Raises :class:`~accord.record.errors.FormatError` naming the path of the first value
    that has no canonical form (``event.geometry.coordinates[3]``): a non-string key, a
    non-finite float, an integer outside ±(2^53 − 1), a string that is not valid Unicode,
    or a type other than dict, list, tuple, str, int, float, bool and None.

    >>> canonical_json({"z": 1, "a": [True, None, -0.5]})
    b'{"a":[true,null,-0.5],"z":1}'
    """
    if not _plainly_fine(value):
        _check(value, [])
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError as error:
        # A lone surrogate (U+D800–U+DFFF) has no UTF-8 form.
        raise FormatError(f"a string is not valid Unicode: {error.reason}") from None


_ROW_SCALARS = frozenset({int, float, bool, type(None)})


def canonical_rows(columns: Sequence[Sequence[object]]) -> bytes:
    """The canonical JSON of the table whose columns are ``columns``: ``[[c0[0], c1[0], …],
    [c0[1], c1[1], …], …]``, every cell an ``int``, ``float``, ``bool`` or ``None``.

    What :func:`canonical_json` writes for those rows, checked a column at a time at the
    speed of C (each column's types, its floats finite, its integers within ±(2^53 − 1))
    rather than value by value: a table of half a million rows is the bulk of a large alert
    group's entries. Raises :class:`FormatError` naming the column and what is wrong.

    >>> canonical_rows([[0, 1], [2.5, None], [True, False]])
    b'[[0,2.5,true],[1,null,false]]'
    """
    size = len(columns[0]) if columns else 0
    for k, column in enumerate(columns):
        if len(column) != size:
            raise FormatError(f"column {k}: {len(column)} cells, not {size}")
        kinds = set(map(type, column))
        if not kinds <= _ROW_SCALARS:
            other = sorted(t.__name__ for t in kinds - _ROW_SCALARS)
            raise FormatError(f"column {k}: a {other[0]} has no place in a row of numbers")
        if float in kinds:
            floats = column if kinds == {float} else [v for v in column if type(v) is float]
            if not all(map(math.isfinite, cast(Sequence[float], floats))):
                raise FormatError(f"column {k}: a number is not finite")
        if int in kinds:
            ints = cast(
                Sequence[int], column if kinds == {int} else [v for v in column if type(v) is int]
            )
            if min(ints) < -MAX_SAFE_INTEGER or max(ints) > MAX_SAFE_INTEGER:
                raise FormatError(f"column {k}: an integer is outside ±(2^53 − 1)")
    return _PLAIN_ENCODE(list(zip(*columns, strict=True))).encode("utf-8")  # tuples: arrays


def canonical_join(members: Mapping[str, bytes]) -> bytes:
    """The canonical JSON of an object whose members' values are given as their canonical
    JSON already (``members``: name → bytes, each from :func:`canonical_json` or
    :func:`canonical_rows`): the members sorted by name, joined. A caller that encoded one
    large member in its own way does not encode it again.

    >>> canonical_join({"b": b"[1]", "a": canonical_json("x")})
    b'{"a":"x","b":[1]}'
    """
    if not all(type(name) is str for name in members):
        raise FormatError("an object's member names are strings")
    return (
        b"{"
        + b",".join(canonical_json(name) + b":" + members[name] for name in sorted(members))
        + b"}"
    )


def dumps_parsed(value: Any) -> bytes:
    """The canonical bytes of a value built only from what :func:`loads_canonical` returned.

    Skips :func:`canonical_json`'s walk over the value: a verifier re-encodes an entry
    without its signature 100,000 times, and everything in it has already been checked.
    Anything else goes through :func:`canonical_json`.

    >>> dumps_parsed({k: v for k, v in loads_canonical(b'{"a":1,"sig":"x"}').items() if k != "sig"})
    b'{"a":1}'
    """
    return _ENCODER.encode(value).encode("utf-8")


def loads_checked_unsafe(data: bytes) -> Any:
    """Parse ``data`` *without* checking that it is canonical: only for bytes known to be
    the very bytes :func:`loads_canonical` accepted before (say, an entry whose leaf hashes
    to the one kept when it was verified). The same parser, so the same value; the check
    (encoding the value again and comparing) is half the cost of a read.

    >>> loads_checked_unsafe(b'{"a":[1,2]}')
    {'a': [1, 2]}
    """
    return _DECODER.decode(bytes(data).decode("utf-8"))


def loads_canonical(data: bytes) -> Any:
    """Parse ``data``, which must be exactly the canonical JSON of what it parses to.

    Raises :class:`~accord.record.errors.FormatError` when the bytes are not UTF-8, not
    JSON, or not canonical (whitespace, key order, duplicate keys, escapes, number
    spelling, NaN/Infinity, integers outside ±(2^53 − 1)).

    >>> loads_canonical(b'[1,"two",{"3":null}]')
    [1, 'two', {'3': None}]
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FormatError(f"expected bytes, not {type(data).__name__}")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(f"not UTF-8 at byte {error.start}") from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise FormatError(f"not JSON: {error.msg} at character {error.pos}") from None
    except (ValueError, RecursionError):
        raise FormatError("not canonical JSON: nested too deeply or unparsable") from None
    try:
        # Encoding is injective on what parses, so comparing the text compares the bytes.
        again = _ENCODER.encode(value)
    except (ValueError, RecursionError) as error:  # an overflowing float such as 1e400
        raise FormatError(f"not canonical JSON: {error}") from None
    if again != text:
        raise FormatError(f"not canonical JSON: {_first_difference(text, again)}")
    return value


def parse_if_canonical(text: str) -> tuple[Any] | None:
    """``(value,)`` when ``text`` plainly is the canonical form of the value it parses to;
    else None.

    The quick half of :func:`loads_canonical`, for a verifier that reads 100,000 entries:
    one pass of the C parser and one of the C encoder, with a Python call per integer only.
    None means "not shown canonical here", never "not canonical": :func:`loads_canonical`
    gives the verdict and the reason. A value returned is exactly what
    :func:`loads_canonical` returns for the same text encoded as UTF-8. Text holding an
    integer of 16 digits or more gets None (its range is for :func:`loads_canonical` to
    check), and so does anything that does not parse, or parses to a value that encodes
    differently (whitespace, key order, duplicate keys, escapes, number spelling, NaN).

    >>> parse_if_canonical('{"a":[1,2.5,null]}'), parse_if_canonical("null")
    (({'a': [1, 2.5, None]},), (None,))
    >>> parse_if_canonical('{"a": [1,2.5]}'), parse_if_canonical("[1234567890123456]")
    (None, None)
    """
    try:
        # Text after the value, or before it, makes the encoding differ from the text.
        value, _ = _PLAIN_DECODER.raw_decode(text)
        again = _PLAIN_ENCODE(value)
    except (ValueError, RecursionError):
        return None
    return (value,) if again == text else None


def _first_difference(text: str, canonical: str) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(text, canonical, strict=False)) if a != b),
        min(len(text), len(canonical)),
    )
    return (
        f"differs from the canonical form at character {at} "
        f"({text[at : at + 12]!r} where the canonical form has {canonical[at : at + 12]!r})"
    )


def encode_base64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4), as every byte string in the record.

    >>> encode_base64(b"\\x00\\xff")
    'AP8='
    """
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str, *, what: str, size: int | None = None) -> bytes:
    """Decode strict RFC 4648 §4 base64: padding required, no other characters, and the
    unused bits zero, so that one byte string has exactly one spelling.

    ``what`` names the value in the error; ``size``, when given, is the required length.

    >>> decode_base64("AP8=", what="the key")
    b'\\x00\\xff'
    >>> decode_base64("AP9=", what="the key")
    Traceback (most recent call last):
    ...
    accord.errors.FormatError: the key is not canonical base64
    """
    if not isinstance(text, str):
        raise FormatError(f"{what} must be a base64 string")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not valid base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise FormatError(f"{what} is not canonical base64")
    if size is not None and len(data) != size:
        raise FormatError(f"{what} must be {size} bytes, not {len(data)}")
    return data


def content_hash(value: Mapping[str, Any]) -> str:
    """``SHA-256(canonical_json(value))``, lower-case hex: what an acknowledgement names (a
    declaration's version, a message, an alert group), computed by each side from its own copy.

    >>> content_hash({"b": 1, "a": [2.5]}) == hashlib.sha256(b'{"a":[2.5],"b":1}').hexdigest()
    True
    """
    return hashlib.sha256(canonical_json(dict(value))).hexdigest()
