"""Debian's Chromium driven by Playwright, for the tests that run the page in a real browser.

Chromium comes from the distribution (``apt-get install chromium``; ``.ci/run`` installs it;
``ACCORD_CHROMIUM`` names another binary). Without it, or without Playwright, those tests
skip, saying why — except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """Skip the test (fail it in CI): the browser cannot run."""
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit; skips (fails in CI) when there is none."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        unavailable("playwright is not installed (pip install -e '.[test]')")
        raise
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
"""Where the browser tests leave their screenshots."""


def shot(page: Any, name: str) -> None:
    """A screenshot of ``page`` as ``build/screenshots/<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
