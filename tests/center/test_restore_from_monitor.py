"""``accord db restore --from-monitor`` with real monitors (``accord monitor``'s core, reading
the center in process through its own HTTP edge): a backup taken before blue and red went
on declaring gets its missing tail from the parties' monitors' state folders, and the
restored center's tables are the original's (:mod:`support.redo`); the hidden declarations
of a party whose monitor was not given refuse the restore unless the operator names that
party; a copy that was tampered with, disagrees with the backup, or is another center's is
refused, and nothing is restored."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from accord.agreement import Agreement, load_agreement
from accord.center.backup import backup, restore
from accord.center.db import make_engine
from accord.center.keystore import KeyStore, log_origin
from accord.errors import BackupError
from accord.monitor.core import Monitor
from accord.monitor.http import HttpSources
from accord.monitor.state import State
from accord.record.log import MerkleLog
from accord.record.note import Checkpoint, sign_checkpoint
from support.declarations import POSITION
from support.postgres import never_migrated
from support.redo import LEGACY_USERS, assert_same_tables, monitor_copy, tables_in
from support.service import Service, ring_of

HIDDEN = "/v1/declarations/hidden"


def _hidden(party: str, name: str) -> dict[str, Any]:
    feature: dict[str, Any] = {**POSITION, "properties": dict(POSITION["properties"])}
    feature["properties"].update(disclosure="center", party=party, name=name)
    return feature


def _shared(party: str, name: str, lon: float) -> dict[str, Any]:
    feature: dict[str, Any] = {**POSITION, "properties": dict(POSITION["properties"])}
    feature["geometry"] = {"type": "Point", "coordinates": [lon, 25.0]}
    feature["properties"].update(disclosure="shared", party=party, name=name)
    return feature


def _ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _monitor(service: Service, party: str, state: Path) -> None:
    """One round of ``party``'s monitor (an officer's token) into the state folder."""
    inner = service.client._transport

    def handle(request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = "identity"  # the answer's bytes as they are
        answer = inner.handle_request(request)
        answer.read()
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    client = httpx.Client(
        transport=httpx.MockTransport(handle), base_url="http://testserver",
        headers=service.auth(f"{party}-officer"),
    )  # fmt: skip
    ring = ring_of(service)
    sources = HttpSources(client, origin=ring.center.name, witness_urls={}, party=party)
    with Monitor(
        keys=ring, sources=sources, state=State(state, ring.center.name),
        clock=lambda: 1_790_000_000.0, stall_after=60, party=party,
    ) as monitor:  # fmt: skip
        monitor.step()
        assert monitor.notes == [], monitor.notes


@contextlib.contextmanager
def _targets(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Any]:
    """Empty databases to restore into, one per call of the function yielded."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with contextlib.ExitStack() as stack:

        def empty() -> str:
            n = len(list(tmp_path.glob("restored-*")))
            folder = tmp_path / f"restored-{n}"
            folder.mkdir(mode=0o700)
            return stack.enter_context(never_migrated(request, backend, folder / "accord.sqlite"))

        yield empty


def _history(service: Service, copy: Path, agreement: Agreement) -> None:
    """Blue and red declare, shared and hidden; the backup; then each changes more."""
    assert service.settings.database_url
    blue_hidden = _ok(service.post(HIDDEN, "blue-officer", json={"changes": [
        {"change": "declare", "feature": _hidden("blue", "B-1")}]}))["items"][0]  # fmt: skip
    _ok(service.post("/v1/declarations", "red-officer", json=_shared("red", "R-1", 21.1)), 201)
    backup(service.settings.database_url, copy, agreement=agreement)
    # the tail: blue amends its hidden position and declares another, red hides one too
    _ok(service.post(HIDDEN, "blue-officer", json={"changes": [
        {"change": "amend", "id": blue_hidden["id"], "feature": _hidden("blue", "B-1b")},
        {"change": "declare", "feature": _hidden("blue", "B-2")},
    ]}))  # fmt: skip
    _ok(service.post(HIDDEN, "red-officer", json={"changes": [
        {"change": "declare", "feature": _hidden("red", "R-2")}]}))  # fmt: skip
    message = {"to": ["blue"], "subject": "crossing", "text": "at 0600 by the bridge"}
    _ok(service.post("/v1/messages", "red-officer", json=message), 201)  # sent, then checked
    _ok(service.post("/v1/declarations", "blue-officer", json=_shared("blue", "B-3", 21.2)), 201)


def test_the_missing_tail_comes_from_the_parties_monitors(
    service: Service, tmp_path: Path, request: pytest.FixtureRequest, database_url: str
) -> None:
    assert service.settings.agreement_path is not None
    agreement = load_agreement(service.settings.agreement_path)
    keys = service.settings.keys_dir
    copy = tmp_path / "backup"
    _history(service, copy, agreement)
    blue, red = tmp_path / "blue-monitor", tmp_path / "red-monitor"
    _monitor(service, "blue", blue)
    _monitor(service, "red", red)
    assert (blue / "openings.jsonl").stat().st_mode & 0o777 == 0o600

    with _targets(request, tmp_path, database_url) as empty:
        # blue's monitor alone: red's hidden change in the tail cannot be rebuilt
        target = empty()
        refused = r"no opening of them was handed back: red's in 2 entries "
        with pytest.raises(BackupError, match=refused):
            restore(copy, target, agreement=agreement, keys=keys, monitors=[blue])
        assert tables_in(target) == 0  # nothing restored

        # red's monitor's openings altered (one salt changed): checked, so not used
        altered = tmp_path / "red-altered"
        shutil.copytree(red, altered)
        lines = (altered / "openings.jsonl").read_text().splitlines()
        first = json.loads(lines[0])
        first["salt"] = base64.b64encode(bytes(32)).decode()
        (altered / "openings.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
        target = empty()
        with pytest.raises(BackupError, match=r"red's in 1 entry "):
            restore(copy, target, agreement=agreement, keys=keys, monitors=[blue, altered])
        assert tables_in(target) == 0

        # both monitors: every table as the original's
        target = empty()
        done = restore(copy, target, agreement=agreement, keys=keys, monitors=[blue, red])
        head = _ok(service.get("/v1/record/head", "observer"))
        assert done.head.entries == head["size"] and done.notes == ()
        assert done.recovered == 6  # blue's two hidden changes, red's, red's message and its
        # check, blue's shared declaration
        assert_same_tables(database_url, target, agreement=agreement, ignore=LEGACY_USERS)
        engine = make_engine(target)
        try:
            with engine.connect() as connection:
                kept = connection.execute(
                    text("SELECT backup_size, size, recovered, notes FROM restores")
                ).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in kept] == [
            (done.head.entries - 6, done.head.entries, 6, "[]")
        ]  # the restore's own account, in the database it made

        # the operator restores knowingly without red's openings: said, not hidden
        target = empty()
        done = restore(
            copy, target, agreement=agreement, keys=keys, monitors=[blue],
            without_openings=["red"],
        )  # fmt: skip
        assert done.head.entries == head["size"]
        hidden_at = done.head.entries - 4  # red's hidden change, its message, the check
        notes = done.notes
        assert notes[0] == (
            f"entry {hidden_at} (declaration.hidden): red handed back no opening: its content "
            "stays unknown"
        )
        assert notes[1].startswith(f"entry {hidden_at + 1} (message.sent): red handed back no")
        assert notes[-1] == (
            "red's hidden declarations or messages changed in 2 entries not rebuilt (restored "
            "without their openings): red declares or sends them again"
        )


def test_a_copy_that_does_not_check_restores_nothing(
    service: Service, tmp_path: Path, request: pytest.FixtureRequest, database_url: str
) -> None:
    assert service.settings.agreement_path is not None
    agreement = load_agreement(service.settings.agreement_path)
    keys = service.settings.keys_dir
    copy = tmp_path / "backup"
    _history(service, copy, agreement)
    _ok(service.get("/v1/record/head", "observer"))
    whole = monitor_copy(database_url, tmp_path / "whole", agreement=agreement)

    def refused(monitor: Path, match: str) -> None:
        with _targets(request, tmp_path, database_url) as empty:
            target = empty()
            with pytest.raises(BackupError, match=match):
                restore(copy, target, agreement=agreement, keys=keys, monitors=[monitor],
                        without_openings=["red", "blue"])  # fmt: skip
            assert tables_in(target) == 0

    # one leaf of the tail changed in the copy (its stored hashes left as they were)
    tampered = monitor_copy(database_url, tmp_path / "tampered", agreement=agreement)
    with contextlib.closing(sqlite3.connect(tampered / "log.sqlite")) as db, db:
        (last, data) = db.execute("SELECT idx, data FROM leaves ORDER BY idx DESC").fetchone()
        assert b"B-3" in data
        db.execute("UPDATE leaves SET data = ? WHERE idx = ?", (data.replace(b"B-3", b"B-4"), last))
    refused(tampered, "its leaves are not the ones its latest head signs")

    # a copy whose latest head is not signed by this center (a forged signature)
    forged = monitor_copy(database_url, tmp_path / "forged", agreement=agreement)
    with contextlib.closing(sqlite3.connect(forged / "log.sqlite")) as db, db:
        (size, note) = db.execute("SELECT size, note FROM heads ORDER BY size DESC").fetchone()
        body, signatures = note.split("\n\n", 1)
        line = signatures.splitlines()[0]
        name, sig = line.rsplit(" ", 1)
        changed = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        forged_note = f"{body}\n\n{name} {changed}\n" + "".join(
            f"{other}\n" for other in signatures.splitlines()[1:]
        )
        db.execute("UPDATE heads SET note = ? WHERE size = ?", (forged_note, size))
    refused(forged, "its latest head is not this center's")

    origin = log_origin(agreement)
    center_key = KeyStore(keys, agreement).center()
    with contextlib.closing(MerkleLog.open(whole / "log.sqlite", origin, read_only=True)) as log:
        recorded = [data for _, data in log.entries()]

    def signed_copy(name: str, leaves: list[bytes]) -> Path:
        """A copy of ``leaves`` whose head the center's own key signed."""
        folder = tmp_path / name
        folder.mkdir(mode=0o700)
        with contextlib.closing(MerkleLog.open(folder / "log.sqlite", origin)) as other:
            other.append_many(leaves)
            note = sign_checkpoint(
                Checkpoint(origin, other.size, other.root()), key=center_key,
                timestamp=1_790_000_000,
            )  # fmt: skip
            other.add_head(other.size, other.root(), 1_790_000_000, note)
        return folder

    # a copy the center signed over another history (a split view): its first entries are
    # not the backup's
    split = [*recorded]
    split[1] = split[1].replace(b"R-1", b"R-9")
    refused(signed_copy("split", split), "disagrees with the backup on its first .* split view")

    # the same split view in a copy shorter than the backup: it adds nothing, and is refused
    refused(
        signed_copy("short-split", split[:2]), "disagrees with the backup on its first 2 entries"
    )

    # a copy whose head the center's key signed over an entry its author never signed (the
    # tail altered, its tree and head made again): the entry's signature refuses it
    assert b"B-3" in recorded[-1]
    forged_entry = [*recorded[:-1], recorded[-1].replace(b"B-3", b"B-4")]
    refused(
        signed_copy("forged-entry", forged_entry), f"does not verify.*entry {len(recorded) - 1}"
    )

    # a copy that holds no head the center signed: nothing of it can be trusted
    short = monitor_copy(database_url, tmp_path / "short", agreement=agreement, size=3)
    refused(short, "holds no head the center signed")
