"""The reader process gives the C heap's free memory back after each read, failed or not:
a picture's passing objects are freed when it ends, but glibc would keep their pages in the
process's resident memory (:func:`accord.center.heap.trim`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from accord.center import heap, reader_process


def test_each_read_is_followed_by_a_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[str] = []
    monkeypatch.setattr(heap, "trim", lambda: trims.append("trim"))
    center: Any = object()

    def fails(_center: Any) -> None:
        trims.append("read")
        raise ValueError("refused")

    with ThreadPoolExecutor(1) as pool:
        done = reader_process._run(center, pool, lambda c: (trims.append("read"), c)[1])
        assert done.result() is center
        with pytest.raises(ValueError, match="refused"):
            reader_process._run(center, pool, fails).result()
    assert trims == ["read", "trim", "read", "trim"]
