"""The package as an operator on an isolated network gets it (issue 23): the sdist and the
wheel built from this checkout (``python -m build``: the wheel from the sdist, where no
``node_modules`` is), installed into a fresh virtual environment with no index, no network
and no checkout in sight, serve ``accord serve --demo`` with a working map in Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.webdemo import ROOT, demo_server, drawn, signed_in

pytestmark = pytest.mark.slow

VENDORED = [
    "accord/web/vendor/leaflet/dist/leaflet.js",
    "accord/web/vendor/leaflet/LICENSE",
    "accord/web/vendor/world-atlas/countries-50m.json",
    "accord/web/vendor/topojson-client/dist/topojson-client.min.js",
    "accord/web/vendor/protomaps-leaflet/dist/protomaps-leaflet.js",
    "accord/web/vendor/protomaps-leaflet/LICENSE",
    "accord/web/vendor/pmtiles/dist/pmtiles.js",
]


def _checkout_copy(into: Path) -> None:
    """The files git knows (committed or not yet, ignored ones left out), as a clean
    clone has them, and ``node_modules`` (``make``'s ``npm ci``) beside them."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith(("tests/", "bench/", "docs/")):
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    (into / "node_modules").symlink_to(ROOT / "node_modules")


def _fresh_venv(folder: Path) -> Path:
    """A new virtual environment whose dependencies are this one's installed packages (what
    a wheelhouse would have installed), read from a plain path: its ``.pth`` files are not
    run, so this checkout's editable ``accord`` is not seen."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    ask = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    python = str(folder / "bin" / "python")
    found = subprocess.run([python, "-c", ask], capture_output=True, text=True, check=True)
    site = Path(found.stdout.strip())
    (site / "zz-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder


def test_the_wheel_built_from_the_sdist_serves_a_working_map(tmp_path: Path, browser: Any) -> None:
    source, dist = tmp_path / "checkout", tmp_path / "dist"
    _checkout_copy(source)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (sdist,) = dist.glob("accord-*.tar.gz")
    (wheel,) = dist.glob("accord-*.whl")
    with tarfile.open(sdist) as archive:
        inside = archive.getnames()
    assert any(n.endswith("accord-vendor/leaflet/dist/leaflet.js") for n in inside)
    assert not any("/node_modules/" in n for n in inside)
    with zipfile.ZipFile(wheel) as archive:
        assert set(VENDORED) <= set(archive.namelist())

    venv = _fresh_venv(tmp_path / "venv")
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps", str(wheel)],
        check=True, capture_output=True, env={**os.environ, **offline},
    )  # fmt: skip
    served = tmp_path / "served"
    served.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ACCORD_"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import accord; print(accord.__file__)"],
        capture_output=True, text=True, check=True, cwd=served, env=env,
    ).stdout  # fmt: skip
    assert where.startswith(str(venv)), where  # the installed package, not this checkout's
    with demo_server(served, accord=[str(venv / "bin" / "accord")], env=env) as demo:
        for name in ("leaflet.js", "countries-50m.bin", "pmtiles.js", "protomaps-leaflet.js"):
            assert httpx.get(f"{demo.url}/vendor/{name}").status_code == 200, name
        with signed_in(browser, demo) as open_:
            page = open_("blue-officer").page
            page.wait_for_function("() => window.accord.stats.basemapAt > 0", timeout=30_000)
            drawn(page)
            assert page.locator("#map-missing").is_hidden()
            assert page.evaluate("() => !!window.L && !!window.accordMap")
