"""The import contracts of ``[tool.importlinter]`` (pyproject.toml) hold, and can fail.

* ``core-no-edges``: the core (agreement, world, geo, deconfliction, airspace, rules, record
  and the leaf modules they share) imports neither the edges (the service, the command line,
  the demo) nor their libraries (fastapi, sqlalchemy, uvicorn, …), directly or through
  another module.
* ``cot-pure``: Cursor on Target's core (``accord.cot``), shared by the center's TAK endpoint
  and a party's gateway, imports nothing of the center nor of the edges, and no sockets.
* ``no-cycles``: no import cycle between accord's modules (the center counts as one; its
  insides are ``center-acyclic``'s) nor, recursively, between the modules of each core
  package.
* ``center-http-only``, ``center-services-plain``: in the center, FastAPI only in the HTTP
  layer and the routes, pydantic not in the services.
* ``center-folds-plain``: a feature's fold imports neither the picture nor the database.
* ``center-services-no-http``: the center's services raise the domain's errors and never
  import the HTTP layer (whose problem mapping answers those errors).
* ``center-acyclic``: no import cycle between the center's folders and modules (features,
  HTTP layer, runtime, application), nor inside them.
* ``center-kernel``: the kernel every feature uses (who the caller is, the keys, the
  ledger, the event store) reaches no feature folder, no HTTP, no runtime; every folder of
  the center is on its list, so that a new feature cannot drop out of it silently.

``lint-imports`` runs in its own process, on the ``accord`` this test imports.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import accord

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = Path(accord.__file__).resolve().parent


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` of this venv on the ``accord`` package found in ``src``."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "lint-imports is missing: pip install -e '.[test]' installs it"
    return subprocess.run(
        [exe, str(PYPROJECT), "--no-cache", "--no-logo"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(_contracts())} kept, 0 broken" in result.stdout, result.stdout


def test_every_top_level_module_is_core_or_edge() -> None:
    """A new module of accord is placed on purpose: in the core, whose imports are checked,
    or among the edges the core may not import."""
    contract = _contracts()["core-no-edges"]
    core, forbidden = set(contract["source_modules"]), set(contract["forbidden_modules"])
    modules = {m.name for m in pkgutil.iter_modules(accord.__path__, "accord.")}
    edges = {m for m in modules if m in forbidden}
    assert modules - core - edges == {"accord.examples"}  # the bundled example files' paths
    assert {m for m in modules if m.startswith(("accord.cli", "accord.demo"))} <= edges
    assert "accord.center" in edges


def test_the_kernel_is_held_apart_from_every_folder_of_the_center() -> None:
    """Every package under ``accord.center`` (a feature, the HTTP layer, the database) is
    forbidden to the kernel: a new feature folder must be added to ``center-kernel``."""
    import accord.center

    contract = _contracts()["center-kernel"]
    kernel, forbidden = set(contract["source_modules"]), set(contract["forbidden_modules"])
    folders = {
        m.name for m in pkgutil.iter_modules(accord.center.__path__, "accord.center.") if m.ispkg
    }
    assert folders - {"accord.center.db", "accord.center.migrations"} <= forbidden
    assert kernel.isdisjoint(forbidden)


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("rules/designated.py", "import fastapi", {"core-no-edges"}),
        ("record/merkle.py", "import sqlalchemy", {"core-no-edges"}),
        # the center imports the world: one import breaks both contracts
        ("world.py", "from accord.center import files", {"core-no-edges", "no-cycles"}),
        ("record/merkle.py", "from accord.record import log", {"no-cycles"}),
        ("geo.py", "from accord import world", {"no-cycles"}),
        # CoT's core: pure, shared by the center and a party's gateway
        ("cot/rate.py", "import socket", {"cot-pure"}),
        # a party's gateway: a client of the center, never a part of it
        ("gateway/core.py", "from accord.center import visibility", {"gateway-edge"}),
        # the center: FastAPI in the HTTP layer and the routes only; services use no pydantic
        ("center/visibility.py", "import fastapi", {"center-http-only"}),
        ("center/operations/service.py", "from starlette import status", {"center-http-only"}),
        ("center/declarations/service.py", "import pydantic", {"center-services-plain"}),
        # a service answering with HTTP; the HTTP layer, a feature or the kernel closing a cycle
        (
            "center/operations/world_cache.py",
            "from accord.center.http import problems",
            {"center-services-no-http"},
        ),
        (
            "center/http/deps.py",
            "from accord.center.declarations import routes",
            {"center-acyclic"},
        ),
        (
            "center/operations/service.py",
            "from accord.center.picture import service",
            {"center-acyclic"},
        ),
        (
            "center/identity.py",
            "from accord.center import runtime",
            {"center-kernel", "center-acyclic"},
        ),
        # a feature's fold: no picture (it imports the folds: a cycle too), no database
        (
            "center/phases/fold.py",
            "import accord.center.picture.replay",
            {"center-folds-plain", "center-acyclic"},
        ),
    ],
)
def test_a_planted_import_breaks_its_contract(
    tmp_path: Path, module: str, planted: str, broken: set[str]
) -> None:
    """The contracts are not vacuous: one forbidden import or one cycle, planted in a copy
    of the package, breaks the contracts that forbid it, and only those."""
    copy = tmp_path / "accord"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{planted}\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    contracts = _contracts()
    kept = len(contracts) - len(broken)
    assert f"{kept} kept, {len(broken)} broken" in result.stdout, result.stdout
    text = " ".join(result.stdout.split())
    for contract_id in broken:
        assert f"{contracts[contract_id]['name']} BROKEN" in text, result.stdout
