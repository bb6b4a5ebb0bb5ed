"""``accord serve --cot-port / --cot-plain-port``: refused before anything listens when a port
is taken or a key file is unsafe (the message names the option), refused with several HTTP
processes, and handed to the process that serves."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from accord.center.app import from_environment
from accord.center.bootstrap import COT_ENV
from accord.center.cot.listener import CotOptions
from accord.cli import app as cli
from accord.cotpki.files import SERVER_KEY_FILE


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The application ``accord serve`` hands uvicorn (which does not run)."""
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"] = app
        seen.update(kwargs)

    monkeypatch.setattr("uvicorn.run", fake_run)
    return seen


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(tmp_path: Path, *options: str) -> Any:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    keys = str(tmp_path / "keys")
    return CliRunner().invoke(cli, ["serve", "--database", url, "--keys", keys, *options])


@pytest.mark.parametrize("option", ["--cot-port", "--cot-plain-port"])
def test_a_port_in_use_is_refused_naming_the_option(
    captured: dict[str, Any], tmp_path: Path, taken: int, option: str
) -> None:
    result = _serve(tmp_path, option, str(taken))
    assert result.exit_code == 2, result.output
    assert f"{option}: cannot listen on 127.0.0.1:{taken}" in result.stderr
    assert "app" not in captured


def test_an_unsafe_endpoint_key_is_refused_naming_the_option(
    captured: dict[str, Any], tmp_path: Path
) -> None:
    port = _free_port()
    assert _serve(tmp_path, "--cot-port", str(port)).exit_code == 0  # made: CA, endpoint
    key = tmp_path / "keys" / SERVER_KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    os.chmod(key, 0o644)
    captured.clear()
    result = _serve(tmp_path, "--cot-port", str(port))
    assert result.exit_code == 2, result.output
    assert "--cot-port" in result.stderr and "unsafe permissions" in result.stderr
    assert "app" not in captured


def test_the_endpoint_runs_in_the_one_http_process(
    captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, plain = _free_port(), _free_port()
    result = _serve(tmp_path, "--cot-port", str(port), "--cot-plain-port", str(plain))
    assert result.exit_code == 0, result.output
    app = captured["app"]
    assert isinstance(app, FastAPI)
    assert app.state.parts.cot == CotOptions(host="127.0.0.1", port=port, plain_port=plain)
    several = _serve(tmp_path, "--workers", "2", "--cot-port", str(port))
    assert several.exit_code == 2 and "--workers" in several.stderr
    # beside a writer process, the HTTP process reads the options from its environment
    monkeypatch.setenv(COT_ENV, CotOptions(port=port).to_environment())
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert from_environment().state.parts.cot == CotOptions(port=port)
