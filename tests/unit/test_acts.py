"""A party's signed act: RFC 8785 (JCS) held to shared vectors, signing and verification, and
a strict reader that names the field at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785

VECTORS_FILE = Path(__file__).resolve().parents[1] / "data" / "jcs" / "vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
MAX_SAFE = 2**53 - 1


def _as_double(text: str) -> float:
    return float(text)


def _ints(value: object) -> list[int]:
    if type(value) is int:
        return [value]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _ints(item)]
    if isinstance(value, list):
        return [n for item in value for n in _ints(item)]
    return []


# --- RFC 8785, against the vectors the page will share --------------------------------------


def test_the_vectors_file_is_well_formed() -> None:
    names = [vector["name"] for vector in VECTORS]
    assert len(names) == len(set(names)) >= 20
    for vector in VECTORS:
        assert set(vector) == {"name", "rule", "input", "canonical"}, vector["name"]
        assert "RFC 8785" in vector["rule"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_jcs_vector_with_every_number_a_double(vector: dict[str, str]) -> None:
    """Parsed as ECMAScript's JSON.parse parses (every number binary64), as the page will."""
    value = json.loads(vector["input"], parse_int=_as_double)
    assert rfc8785.dumps(value) == vector["canonical"].encode("utf-8")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_jcs_vector_as_python_parses_it(vector: dict[str, str]) -> None:
    """Python's own parse (integers as int) gives the same bytes, or refuses an integer beyond
    ±(2^53 − 1): it has no exact binary64 form."""
    value = json.loads(vector["input"])
    if any(abs(n) > MAX_SAFE for n in _ints(value)):
        with pytest.raises(rfc8785.IntegerDomainError):
            rfc8785.dumps(value)
    else:
        assert rfc8785.dumps(value) == vector["canonical"].encode("utf-8")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_a_canonical_form_is_its_own_canonical_form(vector: dict[str, str]) -> None:
    value = json.loads(vector["canonical"], parse_int=_as_double)
    assert rfc8785.dumps(value) == vector["canonical"].encode("utf-8")


def test_the_vectors_hold_the_cases_that_tell_jcs_apart() -> None:
    """What separates JCS from a plain sorted dump: the vectors keep testing it."""
    inputs = " ".join(vector["input"] for vector in VECTORS)
    canonicals = " ".join(vector["canonical"] for vector in VECTORS)
    for spelling in ("1.0", "1e21", "1e-7", "-0", "5e-324", "9007199254740992", "\\u001F"):
        assert spelling in inputs, spelling
    # a key above U+FFFF before one in U+E000–U+FFFF: UTF-16 order, not code point order
    assert "\U0001f600" in canonicals and "\ufb01" in canonicals
    assert canonicals.index('"\U0001f600"') < canonicals.index('"\ufb01"')
