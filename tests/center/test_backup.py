"""``accord db backup`` and ``accord db restore`` (:mod:`accord.center.backup`), on SQLite and
PostgreSQL: a backup taken while a live server takes writes restores into an empty database
whose record verifies, with every change acknowledged before the backup began, and — its
missing tail taken from blue's monitor's copy — every change acknowledged after it too;
what cannot be done as asked is refused with nothing written."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import accord.center.backup as backup_module
from accord.agreement import load_agreement
from accord.center.backup import Head, backup, restore
from accord.center.db.engine import sqlite_file
from accord.cli import app as cli
from accord.errors import BackupError, RecordDamaged
from accord.monitor.core import Monitor
from accord.monitor.http import HttpSources
from accord.monitor.state import State
from accord.record.keys import KeyRing
from support.load import blue_officers_server, declaring, position
from support.load import made as made_by
from support.postgres import never_migrated
from support.redo import tables_in
from support.service import Service

LINE = re.compile(r"(\d[\d,]*) entries, root ([0-9a-f]{64})")


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[str]:
    """An empty database of the test's backend to restore into."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with never_migrated(request, backend, tmp_path / "restored" / "accord.sqlite") as url:
        yield url


def _head(output: str) -> Head:
    found = LINE.search(output)
    assert found, output
    return Head(int(found.group(1).replace(",", "")), found.group(2))


def test_a_backup_under_load_restores_with_every_acknowledged_change(
    tmp_path: Path, database_url: str, empty_url: str
) -> None:
    server, auth, offices = blue_officers_server(tmp_path, database_url)
    assert server.agreement_path is not None
    where = ["--agreement", str(server.agreement_path)]
    server.start()
    acknowledged: dict[str, dict[str, Any]] = {}
    stop = threading.Event()

    def load(n: int) -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                path, body = declaring(position(n, i))
                signed = offices.headers("blue-officer", "POST", path, body)
                answer = client.post(path, json=body, headers=signed)
                declared = made_by(answer)
                assert declared is not None, answer.text
                acknowledged[f"{n}-{i}"] = declared

    copy = tmp_path / "backups" / "accord.backup"
    copy.parent.mkdir()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            offices.start(client, offices.tokens)
        threads = [threading.Thread(target=load, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        while len(acknowledged) < 30:
            time.sleep(0.05)
        before = dict(acknowledged)  # acknowledged before the backup began
        made = CliRunner().invoke(
            cli, ["db", "backup", str(copy), "--database", database_url, *where]
        )
        during = len(acknowledged)
        time.sleep(0.3)  # the load goes on after the backup
        stop.set()
        for t in threads:
            t.join(timeout=60)
        monitor = tmp_path / "blue-monitor"
        _monitor_round(server.url, auth, monitor, party="blue")  # blue's copy, its openings
    finally:
        server.stop()
    assert made.exit_code == 0, made.output
    assert copy.stat().st_mode & 0o777 == 0o600
    backed = _head(made.output)
    assert len(acknowledged) > during >= len(before)  # writes went on during and after it

    again = CliRunner().invoke(cli, ["db", "backup", str(copy), "--database", database_url, *where])
    assert again.exit_code != 0 and "exists" in again.output  # never overwritten

    # The restore takes what the center wrote after the backup from blue's monitor's copy:
    # every acknowledged declaration is back, hidden ones rebuilt from blue's openings.
    keys = ["--keys", str(server.keys_dir)]
    asked = [
        "db", "restore", str(copy), "--database", empty_url, *where, *keys,
        "--from-monitor", str(monitor),
    ]  # fmt: skip
    put = CliRunner().invoke(cli, asked)
    assert put.exit_code == 0, put.output
    restored = _head(put.output)
    recovered = re.search(
        r", ([\d,]+) of them recovered from the monitors' copies, verified", put.output
    )
    assert recovered, put.output
    assert restored.entries > backed.entries and "not redone" not in put.output
    assert int(recovered.group(1).replace(",", "")) == restored.entries - backed.entries
    refused = CliRunner().invoke(cli, asked)
    assert refused.exit_code != 0 and "empty" in refused.output

    server.database_url = empty_url
    server.log_path = tmp_path / "restored.log"
    server.start()
    try:
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, server.log_path.read_text()[-2000:]
            time.sleep(0.2)
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            for seen in before.values():
                got = client.get(f"/v1/declarations/{seen['id']}")
                assert got.status_code == 200, got.text
                assert got.json()["entry"] == seen["entry"]
            after = [seen for seen in acknowledged.values() if seen["entry"] >= backed.entries]
            assert after and any(seen["disclosure"] == "center" for seen in after)
            for seen in after:  # what came after the snapshot, from the monitor's copy
                got = client.get(f"/v1/declarations/{seen['id']}")
                assert got.status_code == 200, got.text
                assert {k: got.json()[k] for k in ("entry", "version", "feature")} == {
                    k: seen[k] for k in ("entry", "version", "feature")
                }
            assert client.get("/v1/record/head").json()["size"] == restored.entries
    finally:
        server.stop()


def _monitor_round(url: str, auth: dict[str, str], state: Path, *, party: str) -> None:
    """One round of ``party``'s monitor against the server at ``url`` (an officer's token):
    its copy of the record, and the openings of its own commitments, in ``state``."""
    with httpx.Client(base_url=url, headers=auth, timeout=30.0) as client:
        ring = KeyRing.from_json(client.get("/v1/keys").json())
        sources = HttpSources(client, origin=ring.center.name, witness_urls={}, party=party)
        with Monitor(
            keys=ring, sources=sources, state=State(state, ring.center.name),
            clock=time.time, stall_after=600, party=party,
        ) as monitor:  # fmt: skip
            monitor.step()
            assert monitor.notes == [], monitor.notes


def test_a_restore_refuses_what_it_cannot_do_and_leaves_nothing(
    signed_service: Service, tmp_path: Path, empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, body = declaring(position(0, 0))
    answer = signed_service.post(path, "blue-officer", json=body)
    assert made_by(answer) is not None, answer.text
    settings = signed_service.settings
    database_url, keys = settings.database_url, settings.keys_dir
    agreement = load_agreement(settings.agreement_path)
    copy = tmp_path / "copy.backup"
    head = backup(database_url, copy, agreement=agreement)  # the service is running
    assert head.entries > 5
    with pytest.raises(BackupError, match=r"holds no .*key: copy the center's key material"):
        restore(copy, empty_url, agreement=agreement, keys=tmp_path / "elsewhere")
    with pytest.raises(BackupError, match="no backup at"):
        restore(tmp_path / "none", empty_url, agreement=agreement, keys=keys)
    with pytest.raises(BackupError, match="exists: a backup never overwrites"):
        backup(database_url, copy, agreement=agreement)
    assert tables_in(empty_url) == 0
    if database_url.startswith("sqlite"):
        # A backup whose record was altered: verified before it is the database.
        target = sqlite_file(empty_url)
        assert target is not None
        for altered, refusal in (
            ("CAST(data || x'20' AS BLOB)", RecordDamaged),  # an entry's bytes changed
            ("'not bytes'", BackupError),  # not even a log's rows: said, never a traceback
        ):
            bad = tmp_path / "bad.backup"
            bad.write_bytes(copy.read_bytes())
            with sqlite3.connect(bad) as db:
                db.execute(f"UPDATE record_leaves SET data = {altered} WHERE idx = 3")
            with pytest.raises(refusal, match=r"entry 3|cannot be read"):
                restore(bad, empty_url, agreement=agreement, keys=keys)
            assert not target.exists()
            assert list(target.parent.iterdir()) == []  # no partial file left
            bad.unlink()
    else:
        # pg_restore commits before the record can be read: a record that does not verify
        # then is dropped whole, and the database is empty again.
        def damaged(*_: object, **__: object) -> None:
            raise RecordDamaged("the record does not verify at entry 3: altered")

        monkeypatch.setattr(backup_module.VerifiedRecord, "read", damaged)
        with pytest.raises(RecordDamaged, match="entry 3"):
            restore(copy, empty_url, agreement=agreement, keys=keys)
        monkeypatch.undo()
    assert tables_in(empty_url) == 0
    assert restore(copy, empty_url, agreement=agreement, keys=keys).head == head
    assert tables_in(empty_url) > 0
    with pytest.raises(BackupError, match="restore only into an empty"):
        restore(copy, empty_url, agreement=agreement, keys=keys)
