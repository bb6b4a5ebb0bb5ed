"""What ``accord serve``'s processes import at start: not what only another command needs.

Each process of a serving center (the command itself, the HTTP processes, the writer and the
reader) pays its imports before it answers, and a restart's time to ready is what an operator
waits. libasterix's generated editions alone take over a second to import; only ``accord
feed asterix`` needs them, so :mod:`accord.feed_process` imports them when it listens.
"""

from __future__ import annotations

import json
import subprocess
import sys

SERVING = (
    "accord.cli",
    "accord.center.app",
    "accord.center.writer_process",
    "accord.center.reader_process",
)


def _loaded(modules: tuple[str, ...], prefix: str) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == {prefix!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_serving_imports_no_asterix() -> None:
    assert _loaded(SERVING, "asterix") == []
    assert _loaded(("accord.feeds.asterix",), "asterix")  # the probe sees it when it is there
