"""Strict JSON: a document naming a key twice in one object is refused, naming the first such
key and its path in document order, checked against a brute-force reading of documents built
with a duplicate somewhere in them; every other document reads as Python reads it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import field_path
from accord.jsontext import DuplicateKey, NotJsonNumber, duplicate_key_path, loads, shown

# A document as a tree that can hold duplicates: ("obj", [(key, node), ...]),
# ("arr", [node, ...]) or ("leaf", value).
Node = tuple[str, Any]

KEYS = st.sampled_from(["a", "b", "disclosure", "properties", "k.dot", "é", "", "x" * 80])
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)


def _trees() -> st.SearchStrategy[Node]:
    return st.recursive(
        LEAVES.map(lambda v: ("leaf", v)),
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(lambda xs: ("arr", xs)),
            st.lists(st.tuples(KEYS, children), max_size=4).map(lambda ps: ("obj", ps)),
        ),
        max_leaves=25,
    )


def _text(node: Node) -> str:
    kind, value = node
    if kind == "leaf":
        return json.dumps(value)
    if kind == "arr":
        return "[" + ",".join(_text(v) for v in value) + "]"
    return "{" + ",".join(f"{json.dumps(k)}:{_text(v)}" for k, v in value) + "}"


def _first_duplicate(node: Node, path: list[str | int]) -> tuple[str, str] | None:
    """Brute force: the first repeated key in document order (a key comes before its value)."""
    kind, value = node
    if kind == "arr":
        for i, child in enumerate(value):
            found = _first_duplicate(child, [*path, i])
            if found:
                return found
    if kind == "obj":
        for i, (key, child) in enumerate(value):
            if any(k == key for k, _ in value[:i]):
                return field_path([*path, key]), key
            found = _first_duplicate(child, [*path, key])
            if found:
                return found
    return None


@st.composite
def _with_a_duplicate(draw: st.DrawFn) -> Node:
    """A tree with at least one object naming a key twice, somewhere at any depth."""
    tree = draw(_trees())
    objects: list[list[tuple[str, Node]]] = []

    def collect(node: Node) -> None:
        kind, value = node
        if kind == "obj":
            objects.append(value)
            for _, child in value:
                collect(child)
        elif kind == "arr":
            for child in value:
                collect(child)

    collect(tree)
    if not objects:
        tree = ("obj", [("a", tree)])
        objects = [tree[1]]
    target = draw(st.sampled_from(objects))
    key = draw(KEYS) if not target else draw(st.sampled_from([k for k, _ in target]))
    if not target:
        target.append((key, ("leaf", 1)))
    target.insert(draw(st.integers(0, len(target))), (key, draw(_trees())))
    return tree


@settings(max_examples=150, deadline=None)
@given(_with_a_duplicate())
def test_a_duplicate_anywhere_is_refused_naming_the_first(tree: Node) -> None:
    text = _text(tree)
    expected = _first_duplicate(tree, [])
    assert expected is not None
    with pytest.raises(DuplicateKey) as refused:
        loads(text)
    assert (refused.value.path, refused.value.key) == expected
    assert duplicate_key_path(text) == expected
    assert shown(expected[0]) in str(refused.value)


@settings(max_examples=150, deadline=None)
@given(_trees())
def test_a_document_without_duplicates_reads_as_python_reads_it(tree: Node) -> None:
    text = _text(tree)
    if _first_duplicate(tree, []) is not None:
        with pytest.raises(DuplicateKey):
            loads(text)
        return
    assert loads(text) == json.loads(text)
    assert duplicate_key_path(text) is None


def test_the_hidden_declaration_made_public_is_refused() -> None:
    body = '{"properties": {"disclosure": "center", "disclosure": "shared"}}'
    with pytest.raises(DuplicateKey) as refused:
        loads(body)
    assert refused.value.path == "properties.disclosure"
    # a key spelt with escapes is the same key once read
    with pytest.raises(DuplicateKey) as refused:
        loads('{"disclosure": "center", "disclos\\u0075re": "shared"}')
    assert refused.value.path == "disclosure"
    # the same key in two different objects is no duplicate
    assert loads('{"a": {"k": 1}, "b": {"k": 2}}') == {"a": {"k": 1}, "b": {"k": 2}}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_not_json_numbers_are_refused(constant: str) -> None:
    with pytest.raises(NotJsonNumber) as refused:
        loads(f'{{"uncertainty_m": {constant}}}')
    assert constant in str(refused.value)
    # a reader whose validation names the field of a number that is not finite takes it
    (number,) = loads(f'{{"uncertainty_m": {constant}}}', allow_nan=True).values()
    assert not math.isfinite(number)


def test_a_long_key_is_not_echoed_whole() -> None:
    key = "k" * 10_000
    with pytest.raises(DuplicateKey) as refused:
        loads(json.dumps({"a": 1})[:-1] + f', "{key}": 1, "{key}": 2}}')
    assert refused.value.key == key
    assert len(str(refused.value)) < 300


def test_any_depth_the_parser_takes_is_walked() -> None:
    depth = 900
    text = '{"a":' * depth + '{"z": 1, "z": 2}' + "}" * depth
    with pytest.raises(DuplicateKey) as refused:
        loads(text)
    assert refused.value.path == ".".join(["a"] * depth + ["z"])
