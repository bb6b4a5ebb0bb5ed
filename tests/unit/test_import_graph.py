"""The service's modules import one another without a cycle: each import is read from the
source (:mod:`ast`), wherever it stands — at the top, inside a function, or for the type
checker only — so a cycle hidden in a function (as ``app`` and ``writer_process`` once had,
each starting the other's half of the service) fails here rather than at some later
start-up. The composition root (:mod:`accord.center.bootstrap`) is what the entry points
import; nothing it builds imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import accord

SOURCE = Path(accord.__file__).resolve().parent.parent
PACKAGE = "accord.center"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SOURCE / PACKAGE.replace(".", "/")).rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports (a name imported from a package is
    the submodule it names, when it is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            subs = {f"{base}.{alias.name}" for alias in node.names}
            named = subs & modules.keys()
            wanted.update(named or {base})
    # Importing a submodule runs its package's __init__ first: that is no edge of its own.
    return {m for m in wanted if m in modules and m != name and not name.startswith(m + ".")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph``, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_service_modules_import_without_a_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert f"{PACKAGE}.bootstrap" in graph and f"{PACKAGE}.app" in graph
    assert f"{PACKAGE}.bootstrap" in graph[f"{PACKAGE}.app"]  # the graph is read
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or ())


def test_imports_are_read_wherever_they_stand(tmp_path: Path) -> None:
    path = tmp_path / "writer.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "from accord.center import runtime\n"
        "from . import problems\n"
        "if TYPE_CHECKING:\n"
        "    from accord.center.live import Hub\n"
        "def main() -> None:\n"
        "    from accord.center.app import create_app\n",
        encoding="utf-8",
    )
    names = ["app", "live", "problems", "runtime", "writer", "unused"]
    modules = {PACKAGE: path} | {f"{PACKAGE}.{n}": path for n in names}
    found = _imports(f"{PACKAGE}.writer", path, modules)
    assert found == {f"{PACKAGE}.{n}" for n in ("app", "live", "problems", "runtime")}


def test_a_cycle_is_named_along_its_modules() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
