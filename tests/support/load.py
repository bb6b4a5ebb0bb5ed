"""What the end-to-end tests' clients declare under load, and the server they declare to."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench.live import LiveServer

from accord.agreement import load_agreement
from accord.center.keystore import log_origin
from accord.cli_fetch import fetch_export
from accord.record.keys import KeyRing
from accord.record.verify import VerificationReport, verify_log
from support.jig import AGREEMENT_TEXT
from support.offices import Offices, rooted


def position(client: int, i: int) -> dict[str, Any]:
    """Client ``client``'s ``i``-th position: a point of its own grid, blue's, shared and
    centre-only in turn."""
    lon = 21.0 + client * 0.05 + (i % 50) * 0.001
    lat = 25.0 + (i // 50) * 0.001
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "position",
            "party": "blue",
            "disclosure": "shared" if i % 2 else "center",
            "valid_from": "2026-09-21T00:00:00Z",
            "valid_to": "2026-09-22T00:00:00Z",
        },
    }


def declaring(feature: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The path and body that declare ``feature``: ``POST /v1/declarations``, or for a
    centre-only one ``POST /v1/declarations/hidden`` (under signed acts the only way: its
    request line, which every party reads in the record, names nothing)."""
    if feature["properties"].get("disclosure") == "center":
        return "/v1/declarations/hidden", {"changes": [{"change": "declare", "feature": feature}]}
    return "/v1/declarations", feature


def made(answer: httpx.Response) -> dict[str, Any] | None:
    """The declaration a :func:`declaring` request made (201, or 200 and its one item);
    None when it was refused."""
    if answer.status_code == 201:
        body: dict[str, Any] = answer.json()
        return body
    if answer.status_code == 200:
        (item,) = answer.json()["items"]
        return dict(item)
    return None


USERS = {"blue-officer": ("blue", "officer"), "red-officer": ("red", "officer")}


def rooted_server(tmp_path: Path, database_url: str | None = None) -> LiveServer:
    """An ``accord serve`` (not started) under the agreement naming its members' roots
    (``tmp_path/agreement.yaml``), over a new database in ``tmp_path`` (or
    ``database_url``), its keys and log in ``tmp_path``."""
    agreement = tmp_path / "agreement.yaml"
    agreement.write_text(rooted(AGREEMENT_TEXT), encoding="utf-8")
    return LiveServer(
        database_url=database_url or f"sqlite:///{tmp_path / 'accord.sqlite'}",
        keys_dir=tmp_path / "keys",
        log_path=tmp_path / "server.log",
        agreement_path=agreement,
    )


def blue_officers_server(
    tmp_path: Path, database_url: str | None = None
) -> tuple[LiveServer, dict[str, str], Offices]:
    """:func:`rooted_server`, its officers added; the headers of blue's officer, and the
    offices that sign (once the server is started, :meth:`Offices.start` certifies the
    officers' keys)."""
    server = rooted_server(tmp_path, database_url)
    assert server.agreement_path is not None
    agreement = server.agreement_path
    tokens = {name: server.add_user(name, member, role) for name, (member, role) in USERS.items()}
    offices = Offices(log_origin(load_agreement(agreement)), USERS, lambda: datetime.now(UTC))
    offices.tokens = tokens
    return server, {"Authorization": f"Bearer {tokens['blue-officer']}"}, offices


def declared_ids(client: httpx.Client) -> set[str]:
    """Every declaration id ``client``'s user may list, read page by page."""
    ids: set[str] = set()
    page: dict[str, Any] = {"limit": 500}
    while True:
        listed = client.get("/v1/declarations", params=page).json()
        ids |= {item["id"] for item in listed["items"]}
        if not listed.get("next"):
            return ids
        page["after"] = listed["next"]


def verified_export(client: httpx.Client, path: Path) -> VerificationReport:
    """The record exported over ``client`` into ``path`` and verified by the project's own
    verifier against the keys the center lists."""
    fetch_export(client, path)
    ring = KeyRing.from_json(client.get("/v1/keys").json())
    return verify_log(path, keys=ring, workers=1)


def child_process(server: LiveServer, module: str) -> int:
    """The process the server started to run ``module``'s main (its writer or reader
    process)."""
    assert server.process is not None
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid), "-f", module],
        capture_output=True,
        text=True,
        check=True,
    )
    (pid,) = found.stdout.split()
    return int(pid)
