"""``accord users add``: the token is printed once and only its hash is stored; a role must
fit the member's kind."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from accord.center.app import create_app
from accord.cli import app as cli
from center.conftest import Service, TestClient, clock, settings_for


def raw_bytes(tmp_path: Path) -> bytes:
    """Everything SQLite wrote: the file, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in tmp_path.glob("accord.sqlite*"))


def add(tmp_path: Path, *args: str):
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    return CliRunner().invoke(cli, ["users", "add", *args, "--database", url])


def test_the_token_is_printed_once_and_stored_hashed(tmp_path: Path) -> None:
    result = add(tmp_path, "alice", "--member", "blue", "--role", "officer")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token) == 43 and "\n" not in token
    assert result.output.count(token) == 1
    assert "shown only now" in result.stderr
    stored = raw_bytes(tmp_path)
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    # The token opens the service.
    settings = settings_for(tmp_path)
    with TestClient(create_app(settings, clock=clock)) as client:
        service = Service(client, {"alice": token}, settings)
        assert service.get("/v1/me", "alice").json()["member"] == "blue"
        assert token.encode() not in raw_bytes(tmp_path)


def test_two_users_get_two_tokens(tmp_path: Path) -> None:
    first = add(tmp_path, "a", "--member", "blue", "--role", "officer").stdout
    second = add(tmp_path, "b", "--member", "blue", "--role", "officer").stdout
    assert first != second


def test_a_role_must_fit_the_member(tmp_path: Path) -> None:
    cases = [
        (["m", "--member", "blue", "--role", "monitor"], "field 'role'"),
        (["n", "--member", "observers", "--role", "notifier"], "field 'role'"),
        (["o", "--member", "hnc", "--role", "officer"], "field 'role'"),
        (["p", "--member", "green-af", "--role", "officer"], "field 'member'"),
        (["q", "--member", "nobody", "--role", "admin"], "field 'member'"),
    ]
    for args, message in cases:
        result = add(tmp_path, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr
        assert "Traceback" not in result.output
    for args in (
        ["approver", "--member", "red", "--role", "approver"],
        ["notifier", "--member", "hnc", "--role", "notifier"],
        ["monitor", "--member", "observers", "--role", "monitor"],
        ["admin", "--member", "hnc", "--role", "admin"],
    ):
        assert add(tmp_path, *args).exit_code == 0


def test_a_name_is_taken_once(tmp_path: Path) -> None:
    assert add(tmp_path, "alice", "--member", "blue", "--role", "officer").exit_code == 0
    again = add(tmp_path, "alice", "--member", "red", "--role", "officer")
    assert again.exit_code == 2
    assert "exists" in again.stderr
    assert again.stdout == ""


def test_an_unknown_role_is_refused_by_the_command_line(tmp_path: Path) -> None:
    assert add(tmp_path, "x", "--member", "blue", "--role", "king").exit_code == 2
