"""Fixtures of the browser tests: Chromium, launched once per module (support.browser)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.browser import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium under Playwright (skips without it, saying why; fails in CI)."""
    with chromium() as launched:
        yield launched
