"""The page's files and the vendor files: served from memory with the page's security
headers, gzipped only for a client that accepts it, answered 304 for an ETag the client
holds, read again when they change on disk, and 404 (a problem) for anything else."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord.center.http import problems, web
from accord.center.http.basemap import pack_countries

LEAFLET = "leaflet/dist/leaflet.js"


def client(vendor: Path) -> TestClient:
    app = FastAPI()
    problems.install(app)
    web.install(app, vendor_dir=vendor)
    return TestClient(app)


def test_files_are_gzipped_for_who_accepts_it_and_304_for_a_known_etag(tmp_path: Path) -> None:
    (tmp_path / LEAFLET).parent.mkdir(parents=True)
    body = b"export default {};\n" + b"// padding\n" * 500
    (tmp_path / LEAFLET).write_bytes(body)
    with client(tmp_path) as http:
        zipped = http.get("/vendor/leaflet.js", headers={"Accept-Encoding": "gzip"})
        assert zipped.status_code == 200
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == body  # httpx undoes the gzip
        assert zipped.headers["content-security-policy"] == web.CSP
        assert zipped.headers["cache-control"] == web.VENDOR_CACHE
        assert zipped.headers["vary"] == "Accept-Encoding"
        plain = http.get("/vendor/leaflet.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == body
        assert plain.headers["etag"] != zipped.headers["etag"]
        for answer in (zipped, plain):
            encoding = answer.request.headers["accept-encoding"]
            again = http.get(
                "/vendor/leaflet.js",
                headers={"Accept-Encoding": encoding, "If-None-Match": answer.headers["etag"]},
            )
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == answer.headers["etag"]
            assert again.headers["content-security-policy"] == web.CSP
        # Changed on disk (npm ci): the new bytes, a new ETag, the old one no longer 304.
        (tmp_path / LEAFLET).write_bytes(body + b"// new\n")
        os.utime(tmp_path / LEAFLET, ns=(1, 1))
        changed = http.get(
            "/vendor/leaflet.js",
            headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
        )
        assert changed.status_code == 200 and changed.content == body + b"// new\n"
        assert changed.headers["etag"] != zipped.headers["etag"]


def test_the_page_and_its_own_files(tmp_path: Path) -> None:
    with client(tmp_path) as http:
        page = http.get("/", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.content == (web.WEB_DIR / "index.html").read_bytes()
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["content-security-policy"] == web.CSP
        script = http.get("/static/app.js", headers={"Accept-Encoding": "gzip"})
        assert script.headers["content-type"].startswith("text/javascript")
        assert script.headers["content-encoding"] == "gzip"
        assert script.content == (web.WEB_DIR / "app.js").read_bytes()
        for path in ("/static/nothing.js", "/static/..%2Fweb.py", "/vendor/leaflet.js"):
            missing = http.get(path)
            assert missing.status_code == 404, path
            assert missing.headers["content-type"] == "application/problem+json"
            assert missing.headers["content-security-policy"] == web.CSP


def test_the_basemap_is_served_packed_and_missing_or_bad_is_404(tmp_path: Path) -> None:
    source = tmp_path / "world-atlas" / "countries-50m.json"
    source.parent.mkdir(parents=True)
    topology = {
        "type": "Topology",
        "arcs": [[[10.0, 20.0], [11.0, 20.0], [11.0, 21.0], [10.0, 20.0]]],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [{"type": "Polygon", "arcs": [[0]]}],
            }
        },
    }
    app = FastAPI()
    problems.install(app)
    prepare = web.install(app, vendor_dir=tmp_path)
    with TestClient(app) as http:
        missing = http.get("/vendor/countries-50m.bin")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        source.write_text("{not json")
        prepare()  # a bad file is said in the log, not raised
        assert http.get("/vendor/countries-50m.bin").status_code == 404
        source.write_text(json.dumps(topology))
        os.utime(source, ns=(2, 2))
        prepare()
        packed = http.get("/vendor/countries-50m.bin", headers={"Accept-Encoding": "identity"})
        assert packed.status_code == 200
        assert packed.content == pack_countries(topology)
        assert packed.headers["content-type"] == "application/octet-stream"
        assert packed.headers["cache-control"] == web.VENDOR_CACHE
        assert packed.headers["content-security-policy"] == web.CSP
        again = http.get(
            "/vendor/countries-50m.bin",
            headers={"Accept-Encoding": "identity", "If-None-Match": packed.headers["etag"]},
        )
        assert again.status_code == 304


def test_the_vendor_files_come_from_the_package_when_it_carries_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ACCORD_NODE_MODULES`` first; then the installed package's own copy (a wheel's, made
    by setup.py); then the checkout's ``node_modules``."""
    packaged = tmp_path / "vendor"
    monkeypatch.setattr(web, "PACKAGED_VENDOR", packaged)
    checkout = web.node_modules({})
    assert checkout.name == "node_modules"  # no package copy: the checkout's
    packaged.mkdir()
    assert web.node_modules({}) == packaged
    assert web.node_modules({web.NODE_MODULES_ENV: str(tmp_path / "x")}) == tmp_path / "x"
    listed = json.loads((web.WEB_DIR / "vendor.json").read_text(encoding="utf-8"))
    assert dict(web.VENDOR_FILES) == listed["files"]  # one list, read by setup.py too
    for _, (source, _make) in web.DERIVED_FILES.items():
        assert source in listed["files"].values()  # what a derived file is made from ships
