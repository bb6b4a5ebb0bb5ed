"""``python -m bench --only restore``: a backup brought up to the whole record from a party's
monitor (issue 23, DECISIONS 14).

A center under the agreement whose members sign their acts: blue and red declare shared and
hidden positions in batches, and amend and withdraw some; ``accord db backup`` is taken
halfway; the writing goes on; blue's and red's monitors (``accord monitor``'s core, reading
the center in process) keep their copies of the record and the openings of their own
commitments. Accord's figure: ``restore`` of the half-way backup with both monitors' state
folders (``--from-monitor``): the tail checked, appended and redone on the tables
(:mod:`accord.center.recovery`). Baseline, same run, same record: ``restore`` of a backup
taken at the end, which holds everything already (verified, nothing to redo). The ratio is
what recovering the tail costs beside having had a fresh backup.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.agreement import load_agreement_text
from accord.center.app import create_app
from accord.center.backup import backup, restore
from accord.center.bootstrap import Parts
from accord.center.config import Settings
from accord.center.db import make_engine, upgrade, writer
from accord.center.identity import add_user
from accord.center.keystore import log_origin
from accord.center.roles import Role
from accord.examples import example_path
from accord.monitor.core import Monitor
from accord.monitor.http import HttpSources
from accord.monitor.state import State
from accord.record.keys import KeyRing
from bench.offices import BenchOffices, members_of, parties_of

__all__ = ["run"]

USERS = {"blue-officer": ("blue", Role.OFFICER), "red-officer": ("red", Role.OFFICER)}
BATCH = 500


def _position(party: str, i: int, hidden: bool, name: str = "P") -> dict[str, Any]:
    lon = (21.0 if party == "blue" else 21.6) + (i % 200) * 0.002
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 25.0 + (i // 200) * 0.002]},
        "properties": {
            "kind": "position", "party": party, "name": f"{name}-{i}",
            "disclosure": "center" if hidden else "shared",
            "valid_from": "2026-09-21T00:00:00Z", "valid_to": "2026-09-30T00:00:00Z",
        },
    }  # fmt: skip


def _write(client: TestClient, auths: dict[str, Any], entries: int, start: int) -> None:
    """About ``entries`` entries: each party in turn declares a batch of shared positions,
    a batch of hidden ones, then amends a tenth of each and withdraws a twentieth."""
    made = 0
    n = start
    while made < entries:
        for party in ("blue", "red"):
            auth = auths[f"{party}-officer"]
            size = min(BATCH, max(1, (entries - made) // 4))
            shared = [_position(party, n + k, False) for k in range(size)]
            answer = client.post("/v1/declarations/batch", auth=auth, json={"features": shared})
            assert answer.status_code == 201, answer.text
            declared = answer.json()["items"]
            hidden = [{"change": "declare", "feature": _position(party, n + k, True)}
                      for k in range(size)]  # fmt: skip
            answer = client.post("/v1/declarations/hidden", auth=auth, json={"changes": hidden})
            assert answer.status_code == 200, answer.text
            secret = answer.json()["items"]
            changes = [
                {"change": "amend", "id": d["id"], "feature": _position(party, n, True, "A")}
                for d in secret[:: 10]
            ] + [
                {"change": "withdraw", "id": d["id"], "reason": "moved"} for d in secret[5::20]
            ]  # fmt: skip
            answer = client.post("/v1/declarations/hidden", auth=auth, json={"changes": changes})
            assert answer.status_code == 200, answer.text
            for d in declared[::10]:
                answer = client.put(
                    f"/v1/declarations/{d['id']}", auth=auth,
                    json=_position(party, n, False, "A"),
                )  # fmt: skip
                assert answer.status_code == 200, answer.text
            made += 2 * size + len(changes) + len(declared[::10])
            n += size


def _monitor(client: TestClient, token: str, party: str, state: Path) -> None:
    client.headers["Authorization"] = f"Bearer {token}"
    try:
        ring = KeyRing.from_json(client.get("/v1/keys").json())
        sources = HttpSources(client, origin=ring.center.name, witness_urls={}, party=party)
        with Monitor(
            keys=ring, sources=sources, state=State(state, ring.center.name),
            clock=time.time, stall_after=3600, party=party,
        ) as monitor:  # fmt: skip
            monitor.step()
            assert monitor.notes == [], monitor.notes
    finally:
        del client.headers["Authorization"]


def run(*, entries: int = 20_000) -> list[tuple[str, ...]]:
    """Half of about ``entries`` entries before the backup, half after it."""
    agreement_text = Path(example_path("jig.yaml")).read_text(encoding="utf-8")
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-restore-") as tmp_text,
        tempfile.TemporaryDirectory(prefix="accord-offices-") as office_tmp,
    ):
        tmp = Path(tmp_text)
        offices = BenchOffices(Path(office_tmp), members_of(agreement_text), USERS)
        path = tmp / "agreement.yaml"
        path.write_text(offices.rooted(agreement_text), encoding="utf-8")
        agreement = load_agreement_text(path.read_text(encoding="utf-8"))
        now = agreement.starts_at + timedelta(days=1)
        origin = log_origin(agreement)
        (tmp / "center").mkdir(mode=0o700)
        settings = Settings(
            database_url=f"sqlite:///{tmp / 'center' / 'accord.sqlite'}",
            agreement_path=path, keys_dir=tmp / "keys",
        )  # fmt: skip
        engine = make_engine(settings.database_url)
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            tokens = {
                name: add_user(session, agreement, name=name, member=member, role=role, at=now)
                for name, (member, role) in USERS.items()
            }
        engine.dispose()
        old, new = tmp / "half.backup", tmp / "end.backup"
        t = time.perf_counter()
        with TestClient(create_app(Parts(settings, clock=lambda: now))) as client:
            offices.start(
                client, tokens, origin=origin, clock=lambda: now, parties=parties_of(agreement_text)
            )
            auths = {u: offices.auth(u, tokens[u], origin, lambda: now) for u in USERS}
            _write(client, auths, entries // 2, 0)
            half = backup(settings.database_url, old, agreement=agreement)
            _write(client, auths, entries - entries // 2, 1_000_000)
            for party in ("blue", "red"):
                _monitor(client, tokens[f"{party}-officer"], party, tmp / f"{party}-monitor")
            end = backup(settings.database_url, new, agreement=agreement)
        written_s = time.perf_counter() - t
        print(
            f"restore: {end.entries:,} entries written in {written_s:.1f} s, the backup at "
            f"{half.entries:,}",
            flush=True,
        )
        monitors = (tmp / "blue-monitor", tmp / "red-monitor")
        t = time.perf_counter()
        ours = restore(
            old, f"sqlite:///{tmp / 'a' / 'accord.sqlite'}", agreement=agreement,
            keys=settings.keys_dir, monitors=monitors,
        )  # fmt: skip
        ours_s = time.perf_counter() - t
        assert ours.head.entries == end.entries and ours.notes == (), ours
        t = time.perf_counter()
        theirs = restore(
            new, f"sqlite:///{tmp / 'b' / 'accord.sqlite'}", agreement=agreement,
            keys=settings.keys_dir,
        )  # fmt: skip
        theirs_s = time.perf_counter() - t
        assert theirs.head == ours.head
    redone = ours.recovered
    return [
        (
            f"restore: backup + {redone:,}-entry tail from monitors",
            f"{ours_s:.1f} s ({redone / ours_s:,.0f} entries/s)",
            f"the whole backup: {theirs_s:.1f} s",
            f"{ours_s / theirs_s:.1f}x",
        )
    ]
