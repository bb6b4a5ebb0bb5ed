"""Canonical JSON: one spelling per value, refused otherwise."""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.record.canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    canonical_json,
    decode_base64,
    encode_base64,
    loads_canonical,
    parse_if_canonical,
)
from accord.record.errors import FormatError, RecordError

# --- writing --------------------------------------------------------------------------------


def test_members_sorted_and_no_whitespace():
    value = {"z": [1, 2.5, None, True, False], "a": {"c": "x", "b": -3}}
    assert canonical_json(value) == b'{"a":{"b":-3,"c":"x"},"z":[1,2.5,null,true,false]}'


def test_keys_sorted_by_code_point_and_utf8_unescaped():
    # "Z" (U+005A) < "a" (U+0061) < "é" (U+00E9) < "中" (U+4E2D)
    value = {"中": 1, "é": 2, "a": 3, "Z": 4}
    expected = '{"Z":4,"a":3,"é":2,"中":1}'.encode()
    assert canonical_json(value) == expected


def test_only_required_escapes():
    value = 'q"b\\n\nt\tc\x01d\x7fé\u2028'
    # JSON requires escaping '"', '\\' and U+0000-U+001F; \n and \t in short form, the rest
    # as lower-case \u00XX; DEL, non-ASCII and U+2028 are written as themselves.
    expected = '"q\\"b\\\\n\\nt\\tc\\u0001d\x7fé\u2028"'.encode()
    assert canonical_json(value) == expected


def test_numbers():
    assert canonical_json([0, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        f"[0,-1,{MAX_SAFE_INTEGER},-{MAX_SAFE_INTEGER}]".encode()
    )
    # Python's shortest round-tripping repr (the documented difference from RFC 8785).
    assert canonical_json([1.0, 0.1, 1e16, -0.0]) == b"[1.0,0.1,1e+16,-0.0]"


def test_tuple_is_written_as_a_list():
    assert canonical_json({"a": (1, 2)}) == b'{"a":[1,2]}'


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (
            {"event": {"geometry": {"coordinates": [0, 1, 2, math.nan]}}},
            "event.geometry.coordinates[3]",
        ),
        ({"event": {"x": math.inf}}, "event.x"),
        ({"a": [{"b": -math.inf}]}, "a[0].b"),
        ({"n": MAX_SAFE_INTEGER + 1}, "n"),
        ({"n": [-MAX_SAFE_INTEGER - 1]}, "n[0]"),
        ({"s": {1, 2}}, "s"),
        ({"b": b"bytes"}, "b"),
        ({"d": {1: "x"}}, "d"),
        ({"o": object()}, "o"),
        (math.nan, "the value"),
    ],
)
def test_refuses_values_without_canonical_form_and_names_the_path(value, path):
    with pytest.raises(FormatError) as info:
        canonical_json(value)
    assert str(info.value).startswith(path + ":")


def test_refuses_lone_surrogate():
    with pytest.raises(FormatError, match="Unicode"):
        canonical_json({"s": "\ud800"})


def test_refuses_deep_nesting_and_cycles():
    deep: list[object] = []
    inner = deep
    for _ in range(MAX_DEPTH + 1):
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    with pytest.raises(FormatError, match="nested"):
        canonical_json(deep)
    cycle: dict[str, object] = {}
    cycle["self"] = cycle
    with pytest.raises(FormatError, match="nested"):
        canonical_json(cycle)


def test_format_error_is_a_record_error():
    assert issubclass(FormatError, RecordError)


# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',  # whitespace
        b' {"a":1}',
        b'{"a":1}\n',
        b'{"b":1,"a":2}',  # key order
        b'{"a":1,"a":1}',  # duplicate key
        b'"\\u00e9"',  # needless escape
        b'"\\/"',
        b'"\\u000A"',  # escape in upper case / long form of \n
        b'"\\u0008"',  # \b has a short form
        b"1.50",  # float spelling
        b"1E+16",
        b"1e16",
        b"10000000000000000.0",
        b"-0",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"1e400",  # overflows to infinity
        b"9007199254740992",  # 2^53
        b"-9007199254740992",
        b"1" * 5000,  # beyond Python's digit limit
        b'"\\ud800"',  # lone surrogate
        b"\xef\xbb\xbf{}",  # byte order mark
        b'"\xff"',  # not UTF-8
        b"",
        b"{",
        b"[1,]",
        b"[" * 100_000,
    ],
)
def test_loads_canonical_refuses(data):
    with pytest.raises(FormatError):
        loads_canonical(data)


def test_loads_canonical_refuses_non_bytes():
    with pytest.raises(FormatError):
        loads_canonical('{"a":1}')  # type: ignore[arg-type]


def test_loads_canonical_accepts_canonical():
    data = '{"a":[1,2.5,-0.0,1e+16,null,true],"b":"\\u001fé\\n"}'.encode()
    assert loads_canonical(data) == {"a": [1, 2.5, -0.0, 1e16, None, True], "b": "\x1fé\n"}
    assert loads_canonical(str(MAX_SAFE_INTEGER).encode()) == MAX_SAFE_INTEGER


# --- properties -----------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@given(_json)
def test_round_trip(value):
    data = canonical_json(value)
    back = loads_canonical(data)
    assert back == value
    assert canonical_json(back) == data


@given(_json)
def test_canonical_json_is_json_with_sorted_keys(value):
    # An independent writer: the standard library with the canonical options.
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    assert canonical_json(value) == expected


@given(
    _json, st.sampled_from([{"indent": 1}, {"separators": (", ", ": ")}, {"ensure_ascii": True}])
)
def test_any_other_spelling_is_refused(value, options):
    other = json.dumps(value, sort_keys=True, **options).encode("utf-8")
    if other == canonical_json(value):
        assert loads_canonical(other) == value
    else:
        with pytest.raises(FormatError):
            loads_canonical(other)


# --- base64 ---------------------------------------------------------------------------------


@given(st.binary(max_size=80))
def test_base64_round_trip(data):
    assert decode_base64(encode_base64(data), what="x") == data


@pytest.mark.parametrize("text", ["AP9=", "AP8", "AP8==", "AP8=\n", "A P8=", "AP-_", "ÄP8="])
def test_base64_is_strict(text):
    with pytest.raises(FormatError):
        decode_base64(text, what="x")


def test_base64_size():
    with pytest.raises(FormatError, match="must be 3 bytes"):
        decode_base64("AP8=", what="x", size=3)


# --- the quick half of loads_canonical ----------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',
        b'{"a":1}\n',
        b'{"b":1,"a":2}',
        b'{"a":1,"a":1}',
        b'"\\u00e9"',
        b'"\\/"',
        b'"\\u0008"',
        b"1.50",
        b"1e16",
        b"-0",
        b"NaN",
        b"1e400",
        b"9007199254740992",
        b"[9007199254740992]",
        b'{"a":-9007199254740992}',
        b"1" * 5000,
        b'"\\ud800"',
        b"",
        b"[1,]",
        b"[" * 100_000,
    ],
)
def test_parse_if_canonical_never_vouches_for_what_loads_canonical_refuses(data):
    with pytest.raises(FormatError):
        loads_canonical(data)
    assert parse_if_canonical(data.decode("utf-8", "surrogatepass")) is None


def test_parse_if_canonical_leaves_long_integers_to_loads_canonical():
    # 16 digits or more: maybe out of range, so no verdict; loads_canonical decides.
    for text in ("[1234567890123456]", str(MAX_SAFE_INTEGER), "[-1000000000000000]"):
        assert parse_if_canonical(text) is None
        assert loads_canonical(text.encode()) is not None
    assert parse_if_canonical("[123456789012345,-123456789012345]") == (
        [123456789012345, -123456789012345],
    )


@given(_json)
def test_parse_if_canonical_agrees_on_canonical_text(value):
    text = canonical_json(value).decode("utf-8")
    quick = parse_if_canonical(text)
    if quick is None:  # only for integers it cannot judge
        assert re.search(r"(?<![0-9.e+-])-?[0-9]{16,}(?![0-9.e])", text)
    else:
        assert quick == (loads_canonical(text.encode("utf-8")),)


@given(
    _json, st.sampled_from([{"indent": 1}, {"separators": (", ", ": ")}, {"ensure_ascii": True}])
)
def test_parse_if_canonical_never_vouches_for_another_spelling(value, options):
    other = json.dumps(value, sort_keys=True, **options)
    if other.encode("utf-8") != canonical_json(value):
        assert parse_if_canonical(other) is None


_anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats()
    | st.text(max_size=4)
    | st.sampled_from([b"x", frozenset({1}), object()]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 3), children, max_size=4)
    ),
    max_leaves=20,
)


def _deep(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@given(_anything | st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2).map(_deep))
def test_the_quick_check_never_passes_what_the_walk_refuses(value):
    """``_plainly_fine`` (the fast path) vouches only for values the walk accepts, and
    accepts every plain JSON value the walk accepts."""
    from accord.record.canonical import _check, _plainly_fine

    try:
        _check(value, [])
    except FormatError:
        assert not _plainly_fine(value)
        with pytest.raises(FormatError):
            canonical_json(value)
    else:
        assert _plainly_fine(value)


_cells = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
)


@given(
    st.integers(0, 5).flatmap(
        lambda n: st.lists(st.lists(_cells, min_size=n, max_size=n), max_size=4)
    )
)
def test_a_table_is_written_as_canonical_json_writes_its_rows(rows):
    """``canonical_rows`` of a table's columns is ``canonical_json`` of its rows."""
    from accord.record.canonical import canonical_rows

    width = len(rows[0]) if rows else 0
    columns = [[row[k] for row in rows] for k in range(width)]
    if columns:
        assert canonical_rows(columns) == canonical_json(rows)
        assert loads_canonical(canonical_rows(columns)) == rows


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ([[1, 2], [1.5, math.nan]], "column 1: a number is not finite"),
        ([[math.inf]], "column 0: a number is not finite"),
        ([[1, 2**53]], "column 0: an integer is outside"),
        ([[None, -(2**53)]], "column 0: an integer is outside"),
        ([[1, "2"]], "column 0: a str has no place"),
        ([[1, [2]]], "column 0: a list has no place"),
        ([[1, 2], [3]], "column 1: 1 cells, not 2"),
    ],
)
def test_a_table_refuses_what_has_no_canonical_form(columns, words):
    from accord.record.canonical import canonical_rows

    with pytest.raises(FormatError, match=words.replace("(", r"\(")):
        canonical_rows(columns)


@given(st.dictionaries(st.text(max_size=4), _anything, max_size=5))
def test_an_object_joined_from_its_members_is_its_canonical_json(value):
    from accord.record.canonical import _check, canonical_join

    try:
        _check(value, [])
    except FormatError:
        return
    members = {name: canonical_json(item) for name, item in value.items()}
    assert canonical_join(members) == canonical_json(value)
    with pytest.raises(FormatError, match="names are strings"):
        canonical_join({1: b"1"})  # type: ignore[dict-item]
