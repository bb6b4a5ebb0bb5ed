"""The center's files are its user's alone, whatever the umask: folders it makes are 0700, the
database and its -wal/-shm 0600 (an existing one open to others is tightened), and an
existing data or keys folder that others may open is refused, saying how to fix it."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord.center.bootstrap import Parts
from accord.center.db import make_engine, upgrade
from accord.center.files import UnsafePermissions
from accord.center.keystore import KeyStore
from accord.cli import app as cli
from support.jig import AGREEMENT
from support.service import add_users, clock, settings_for


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most careless umask: every file and folder created as its creator asks."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_whole_center_leaves_nothing_others_may_open(open_umask: None, tmp_path: Path) -> None:
    data = tmp_path / "var" / "deep"
    settings = settings_for(
        tmp_path, database_url=f"sqlite:///{data / 'accord.sqlite'}", keys_dir=data / "keys"
    )
    add_users(settings.database_url)  # migrates, adds the users: the WAL is written
    Parts(settings, clock=clock).open().close()  # every member's key made
    made = [p for p in (tmp_path / "var").rglob("*")] + [tmp_path / "var"]
    assert {p.name for p in made} >= {"var", "deep", "keys", "accord.sqlite"}
    assert any(p.suffix == ".key" for p in made)
    for path in made:
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
        assert mode(path) == (0o700 if path.is_dir() else 0o600), (path, oct(mode(path)))


def test_wal_and_shm_are_0600(open_umask: None, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    try:
        upgrade(engine)
        with engine.connect() as connection:  # the WAL's files exist while a connection is open
            names = {p.name: mode(p) for p in tmp_path.iterdir()}
            assert {"a.sqlite-wal", "a.sqlite-shm"} <= names.keys(), names
            connection.rollback()
    finally:
        engine.dispose()
    assert set(names.values()) == {0o600}, names


def test_an_open_database_file_is_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "accord.sqlite"
    make_engine(f"sqlite:///{path}").dispose()
    for suffix in ("", "-wal"):
        (tmp_path / f"accord.sqlite{suffix}").touch()
        os.chmod(tmp_path / f"accord.sqlite{suffix}", 0o644)
    with caplog.at_level(logging.WARNING, logger="accord.center"):
        upgrade(make_engine(f"sqlite:///{path}"))
    assert mode(path) == 0o600
    assert mode(tmp_path / "accord.sqlite-wal") == 0o600
    assert "0644" in caplog.text and str(path) in caplog.text


def test_a_linked_database_file_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite"
    elsewhere.touch(mode=0o644)
    (tmp_path / "data").mkdir(mode=0o700)
    (tmp_path / "data" / "accord.sqlite").symlink_to(elsewhere)
    with pytest.raises(UnsafePermissions, match="not a regular file"):
        make_engine(f"sqlite:///{tmp_path / 'data' / 'accord.sqlite'}")
    assert mode(elsewhere) == 0o644  # not followed


@pytest.mark.parametrize("folder_mode", [0o755, 0o750, 0o701, 0o770])
def test_an_open_data_folder_is_refused(tmp_path: Path, folder_mode: int) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, folder_mode)
    with pytest.raises(UnsafePermissions) as refused:
        make_engine(f"sqlite:///{data / 'accord.sqlite'}")
    assert f"{folder_mode:04o}" in str(refused.value)
    assert f"chmod 700 {data}" in str(refused.value)
    assert not (data / "accord.sqlite").exists()  # nothing made in it
    assert mode(data) == folder_mode  # nor changed


def test_an_open_keys_folder_is_refused(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    os.chmod(keys, 0o755)
    with pytest.raises(UnsafePermissions, match="keys folder"):
        KeyStore(keys, AGREEMENT).ring()
    assert list(keys.iterdir()) == []


def _refused(result: Any, folder: Path) -> None:
    assert result.exit_code == 2, result.output
    assert f"chmod 700 {folder}" in result.stderr
    assert "Traceback" not in result.output


def test_the_command_line_refuses_an_open_folder_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    url = f"sqlite:///{data / 'accord.sqlite'}"
    runner = CliRunner()
    added = runner.invoke(
        cli, ["users", "add", "u", "--member", "blue", "--role", "officer", "--database", url]
    )
    _refused(added, data)
    served = runner.invoke(cli, ["serve", "--database", url, "--keys", str(tmp_path / "k")])
    _refused(served, data)
    keys = tmp_path / "keys"
    keys.mkdir()
    os.chmod(keys, 0o705)
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    _refused(runner.invoke(cli, ["serve", "--database", url, "--keys", str(keys)]), keys)
    assert started == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_sends_no_server_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """What uvicorn is told: no ``Server: uvicorn`` header on any answer."""
    started: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(k))
    for name in ("ACCORD_DATABASE_URL", "ACCORD_KEYS_DIR", "ACCORD_AGREEMENT"):
        monkeypatch.setenv(name, "")  # restored after the test: serve sets them
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    keys = str(tmp_path / "keys")
    args = ["serve", "--database", url, "--keys", keys, "--workers", workers]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [k.get("server_header") for k in started] == [False]
