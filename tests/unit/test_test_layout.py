"""The tests' own layout: a helper shared by several test modules lives once, in
``tests/support`` (or as a fixture of a conftest), and no module imports a test module or a
conftest — only ``tests/support``. Read with :mod:`ast` over every ``tests/**/*.py``; each
check is also shown to catch a planted violation."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def _roots(tests: Path) -> list[Path]:
    """Where imports are looked up, as pytest's ``pythonpath = ["tests", "."]`` has it."""
    return [tests, tests.parent]


def _imported(node: ast.Import | ast.ImportFrom, path: Path) -> Iterator[str]:
    """The dotted names an import statement may load (a ``from`` import's names may be
    modules too); a relative import is spelt from the folder of ``path`` (relative to the
    repository)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        folder = path.parent
        for _ in range(node.level - 1):
            folder = folder.parent
        base = ".".join(filter(None, [*folder.parts, base]))
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _resolve(name: str, roots: list[Path]) -> Path | None:
    """The file (or package folder) that ``name`` is found as under ``roots``, if any."""
    if not name:
        return None
    for root in roots:
        base = root.joinpath(*name.split("."))
        for found in (base.with_suffix(".py"), base / "__init__.py", base):
            if found.exists():
                return found
    return None


def foreign_imports(tests: Path) -> list[str]:
    """Every import, in any module under ``tests``, of a module of ``tests`` outside
    ``tests/support`` (a test module, a conftest, any other helper file)."""
    support = tests / "support"
    roots = _roots(tests)
    found = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            where = path.relative_to(tests.parent)
            for name in _imported(node, where):
                target = _resolve(name, roots)
                if target is None or not target.is_relative_to(tests):
                    continue
                if not target.is_relative_to(support):
                    found.append(f"{where}:{node.lineno} imports {name}")
    return found


def support_test_modules(tests: Path) -> list[str]:
    """Modules of ``tests/support`` that pytest would collect as test modules."""
    return sorted(str(p.relative_to(tests.parent)) for p in (tests / "support").rglob("test_*.py"))


def _shape(node: ast.stmt) -> str:
    """A definition as its code reads, whatever its docstring and annotations say."""
    node = ast.parse(ast.unparse(node)).body[0]  # a copy
    for inner in ast.walk(node):
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = inner.body
            if (
                len(body) > 1
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                inner.body = body[1:]
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
            inner.returns = None
        if isinstance(inner, ast.arg):
            inner.annotation = None
    return ast.dump(node)


def copied_definitions(tests: Path) -> list[str]:
    """Top-level functions and classes defined alike (same name, same code) in more than
    one module under ``tests``."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(tests.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                where = f"{path.relative_to(tests.parent)}:{node.lineno}"
                seen[(node.name, _shape(node))].append(where)
    return [
        f"{name} in {', '.join(places)}"
        for (name, _), places in sorted(seen.items())
        if len({p.split(":")[0] for p in places}) > 1
    ]


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    assert foreign_imports(TESTS) == []


def test_no_support_module_is_a_test_module() -> None:
    assert support_test_modules(TESTS) == []


def test_no_helper_is_defined_twice() -> None:
    assert copied_definitions(TESTS) == []


def test_the_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    for folder in ("center", "unit", "support"):
        (tests / folder).mkdir(parents=True)
    helper = 'def center_of(service):\n    """One."""\n    return service.center\n'
    (tests / "support" / "service.py").write_text(helper, encoding="utf-8")
    (tests / "center" / "conftest.py").write_text("NOW = 1\n", encoding="utf-8")
    (tests / "center" / "test_a.py").write_text(
        "from center.conftest import NOW\n"
        "from center import test_b\n"
        "from support.service import center_of\n"
        "def test_a():\n    from tests.unit.test_c import x\n",
        encoding="utf-8",
    )
    (tests / "center" / "test_b.py").write_text(
        "def center_of(service) -> object:\n    return service.center\n", encoding="utf-8"
    )
    (tests / "unit" / "test_c.py").write_text("from .test_d import y\nx = 1\n", encoding="utf-8")
    (tests / "unit" / "test_d.py").write_text("y = 2\n", encoding="utf-8")
    (tests / "support" / "test_helpers.py").write_text("", encoding="utf-8")
    assert foreign_imports(tests) == [
        "tests/center/test_a.py:1 imports center.conftest",
        "tests/center/test_a.py:2 imports center",
        "tests/center/test_a.py:2 imports center.test_b",
        "tests/center/test_a.py:5 imports tests.unit.test_c",
        "tests/unit/test_c.py:1 imports tests.unit.test_d",
    ]
    assert support_test_modules(tests) == ["tests/support/test_helpers.py"]
    assert copied_definitions(tests) == [
        "center_of in tests/center/test_b.py:1, tests/support/service.py:1"
    ]
