"""``accord record fetch``: the export a party takes home verifies with the project's own
verifier, and the token never comes from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app as cli
from accord.cli_fetch import fetch_export
from accord.record.keys import KeyRing
from accord.record.verify import VerificationError, verify_log
from support.service import Service

AID = {"condition": "aid-delivered-east-city"}


def test_the_fetched_record_verifies(service: Service, tmp_path: Path) -> None:
    for user in ("hnc-notifier", "observer"):
        assert service.post("/v1/phases/confirm", user, json=AID).status_code == 201
    service.client.headers.update(service.auth("blue-officer"))
    out = tmp_path / "record.jsonl"
    count, head = fetch_export(service.client, out)
    assert count == 2 and head["size"] == 2
    ring = KeyRing.from_json(service.get("/v1/keys", "blue-officer").json())
    report = verify_log(out, keys=ring, workers=1)
    assert report.entries == 2
    # A tampered export names the entry at fault.
    lines = out.read_text().splitlines()
    lines[0], lines[1] = lines[1], lines[0]
    out.write_text("\n".join(lines) + "\n")
    with pytest.raises(VerificationError, match="entry 0"):
        verify_log(out, keys=ring, workers=1)


def test_fetch_needs_a_token_from_the_environment_or_a_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["record", "fetch", "http://127.0.0.1:9", "-o", str(tmp_path / "x")], env={}
    )
    assert result.exit_code == 2
    assert "ACCORD_TOKEN" in result.stderr
    result = CliRunner().invoke(
        cli,
        ["record", "fetch", "http://127.0.0.1:9", "-o", str(tmp_path / "x")],
        env={"ACCORD_TOKEN": "t"},
    )
    assert result.exit_code == 2
    assert "cannot fetch the record" in result.stderr
