"""Fixtures of the browser tests: Chromium, launched once per module (support.browser), and
``accord serve --demo`` with its users signed in (support.webdemo), one server per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from support.browser import chromium
from support.webdemo import Demo, Session, demo_server, signed_in


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium under Playwright (skips without it, saying why; fails in CI)."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``accord serve --demo`` in a folder of its own; the tokens it prints."""
    with demo_server(tmp_path_factory.mktemp("web")) as server:
        yield server


@pytest.fixture
def sessions(browser: Any, demo: Demo) -> Iterator[Callable[[str], Session]]:
    """Signs users in, each in a browser context of its own; none may see a page error."""
    with signed_in(browser, demo) as open_:
        yield open_
