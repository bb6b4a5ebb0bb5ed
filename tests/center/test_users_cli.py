"""``accord users``: the token is printed once and only its hash is stored; a role must
fit the member's kind; ``list`` shows no token; ``rotate`` and ``remove`` end the old token;
every change is an entry signed by the center that holds no token or hash."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.keystore import log_origin
from accord.center.writer_process import Loopback
from accord.chrono import format_instant
from accord.cli import app as cli
from accord.record.entries import Entry
from support.jig import AGREEMENT
from support.service import Service, TestClient, clock, settings_for
from support.users import user_entries_in


def raw_bytes(tmp_path: Path) -> bytes:
    """Everything SQLite wrote: the file, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in tmp_path.glob("accord.sqlite*"))


def users(tmp_path: Path, command: str, *args: str, keys: bool = True):
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    where = ["--keys", str(tmp_path / "keys")] if keys else []
    return CliRunner().invoke(cli, ["users", command, *args, "--database", url, *where])


def add(tmp_path: Path, *args: str):
    return users(tmp_path, "add", *args)


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
    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
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


def user_entries(tmp_path: Path) -> list[Entry]:
    """The record's ``user.*`` entries, each verified against the key ring."""
    center = Parts(settings_for(tmp_path)).open()
    try:
        return user_entries_in(center)
    finally:
        center.close()


def me_status(client: TestClient, token: str) -> int:
    return client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def listed(tmp_path: Path) -> dict[str, list[str]]:
    result = users(tmp_path, "list", keys=False)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["NAME", "MEMBER", "ROLE", "CREATED", "EXPIRES", "STATE"]
    return {row.split()[0]: row.split()[1:] for row in rows}


def test_list_rotate_remove_and_the_center_records_each_without_a_secret(tmp_path: Path) -> None:
    first = add(tmp_path, "alice", "--member", "blue", "--role", "officer").stdout.strip()
    add(tmp_path, "bob", "--member", "red", "--role", "approver", "--expires", "P7D")
    rows = listed(tmp_path)
    assert rows["alice"][:2] == ["blue", "officer"] and rows["alice"][3:] == ["-", "active"]
    assert rows["bob"][:2] == ["red", "approver"] and rows["bob"][4] == "active"
    assert rows["bob"][3] != "-"

    rotated = users(tmp_path, "rotate", "alice")
    assert rotated.exit_code == 0, rotated.output
    second = rotated.stdout.strip()
    assert len(second) == 43 and second != first
    assert "old one no longer works" in rotated.stderr
    settings = settings_for(tmp_path)
    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
        assert me_status(client, first) == 401
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {second}"})
        assert me.status_code == 200 and me.json()["name"] == "alice"

    removed = users(tmp_path, "remove", "alice")
    assert removed.exit_code == 0, removed.output
    assert listed(tmp_path)["alice"][-1] == "removed"
    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
        assert me_status(client, second) == 401
    # The name is not given again: no new user, and the old tokens stay dead.
    again = add(tmp_path, "alice", "--member", "blue", "--role", "officer")
    assert again.exit_code == 2 and "was removed" in again.stderr and again.stdout == ""
    for command in ("rotate", "remove"):
        refused = users(tmp_path, command, "alice")
        assert refused.exit_code == 2 and "removed" in refused.stderr
    unknown = users(tmp_path, "remove", "nobody")
    assert unknown.exit_code == 2 and "no such user" in unknown.stderr

    entries = user_entries(tmp_path)
    assert [(e.event["kind"], e.event["user"]) for e in entries] == [
        ("user.added", "alice"),
        ("user.added", "bob"),
        ("user.rotated", "alice"),
        ("user.removed", "alice"),
    ]
    center_name = log_origin(AGREEMENT)
    secrets_ = [first, second, *(hashlib.sha256(t.encode()).hexdigest() for t in (first, second))]
    for entry in entries:
        assert entry.author == center_name
        assert entry.event["by"] == {"operator": "command line"}
        for secret in secrets_:
            assert secret not in entry.raw.decode()
    assert "expires_at" in entries[1].event and "expires_at" not in entries[0].event
    out = listed(tmp_path)
    assert first not in str(out) and second not in str(out)


def test_expires_takes_an_iso_duration_and_names_the_field(tmp_path: Path) -> None:
    for bad in ("12h", "P1M", "PT0S", "P99999D"):
        result = add(tmp_path, "x", "--member", "blue", "--role", "officer", "--expires", bad)
        assert result.exit_code == 2, (bad, result.output)
        assert "field 'expires'" in result.stderr and "Traceback" not in result.output
    assert add(tmp_path, "x", "--member", "blue", "--role", "officer").exit_code == 0
    rotated = users(tmp_path, "rotate", "x", "--expires", "-PT1H")
    assert rotated.exit_code == 2 and "field 'expires'" in rotated.stderr


def test_a_missing_center_key_is_refused_once_the_record_has_entries(tmp_path: Path) -> None:
    assert add(tmp_path, "x", "--member", "blue", "--role", "officer").exit_code == 0
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    elsewhere = ["--database", url, "--keys", str(tmp_path / "other-keys")]
    result = CliRunner().invoke(cli, ["users", "rotate", "x", *elsewhere])
    assert result.exit_code == 2 and "--keys" in result.stderr
    assert not (tmp_path / "other-keys").exists()


def test_the_commands_stamp_their_entries_on_the_exercise_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``ACCORD_CLOCK`` (an exercise clock, as ``accord serve --clock-start`` hands its
    processes), the center's entries — its adoption of the agreement, each user change — are
    stamped on the exercise's time, not the machine's: so the record's prefix at an instant of
    the exercise holds them."""
    start = datetime(2026, 9, 21, 6, 0, tzinfo=UTC)
    monkeypatch.setenv("ACCORD_CLOCK", f"{format_instant(start)}@{time.monotonic()}")
    add(tmp_path, "alice", "--member", "blue", "--role", "officer")
    assert users(tmp_path, "rotate", "alice").exit_code == 0
    assert users(tmp_path, "remove", "alice").exit_code == 0
    stamps = [e.ts for e in user_entries(tmp_path)]
    assert len(stamps) == 3
    assert all(start <= ts < start + timedelta(minutes=5) for ts in stamps), stamps
    monkeypatch.setenv("ACCORD_CLOCK", "yesterday")
    bad = add(tmp_path, "bob", "--member", "blue", "--role", "officer")
    assert bad.exit_code == 2 and "ACCORD_CLOCK: expected START@ORIGIN" in bad.stderr
