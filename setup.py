"""The build's one hook (everything else is in pyproject.toml): the page's vendor files —
the map library and the Natural Earth basemap, which ``npm ci`` puts in ``node_modules`` —
go into the package, so that a wheel installed on a machine with no network and no checkout
serves a working map (``accord.center.http.web`` serves them from ``accord/web/vendor``).

Which files: ``src/accord/web/vendor.json`` (the same list the server reads). From where:
``node_modules`` in a checkout; in an sdist, its ``accord-vendor`` folder, which the sdist
hook filled from ``node_modules``. A build with neither fails and says so: a wheel without
its map is what this hook exists to prevent. An editable install copies nothing (a checkout
serves ``node_modules`` itself).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
MANIFEST = ROOT / "src" / "accord" / "web" / "vendor.json"
IN_SDIST = "accord-vendor"


def _wanted() -> list[str]:
    listed = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return sorted({*listed["files"].values(), *listed["licences"]})


def _source() -> Path:
    """Where the vendor files are read from: ``node_modules``, else an sdist's copy."""
    for folder in (ROOT / "node_modules", ROOT / IN_SDIST):
        if all((folder / name).is_file() for name in _wanted()):
            return folder
    missing = [n for n in _wanted() if not (ROOT / "node_modules" / n).is_file()]
    raise SystemExit(
        f"the page's vendor files are missing ({', '.join(missing)}): run `npm ci` first "
        "(a package without them would serve no map)"
    )


def _copy(into: Path) -> None:
    source = _source()
    for name in _wanted():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            _copy(Path(self.build_lib) / "accord" / "web" / "vendor")


class Sdist(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        _copy(Path(base_dir) / IN_SDIST)


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
