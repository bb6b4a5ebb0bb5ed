"""The same code on both backends: writers of two server processes (two
:class:`~accord.center.runtime.Center` objects over one database) are serialised by the
database's write lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so the
record stays one chain; readers see one snapshot for their whole transaction."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from accord.center.bootstrap import Parts
from accord.center.db.models import Event
from accord.center.event_store import publish
from accord.center.runtime import Center
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from support.service import clock, settings_for

WRITES_EACH = 15


def test_writers_of_two_processes_make_one_chain(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url=database_url)
    centers = [Parts(settings, clock=clock).open() for _ in range(2)]
    errors: list[BaseException] = []

    def write(center: Center, first: str) -> None:
        try:
            for i in range(WRITES_EACH):
                # Both processes write as both authors: each one's numbers stay one sequence.
                author = first if i % 2 else ("red" if first == "blue" else "blue")
                with center.writing() as unit:
                    unit.ledger.append({"kind": "test.note", "n": i}, author=author, at=clock())
                    publish(
                        unit.session, kind="test.note", at=clock(), audience=[author], payload={}
                    )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(center, author))
        for center, author in zip(centers, ("blue", "red"), strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        with centers[0].reading() as session:
            log = centers[0].log(session)
            assert log.size == 2 * WRITES_EACH
            log.check_integrity()
            assert session.scalar(select(func.count()).select_from(Event)) == 2 * WRITES_EACH
            seqs: dict[str, list[int]] = {}
            for _, data in log.entries():
                entry = loads_canonical(open_envelope(data)[2])
                seqs.setdefault(entry["author"], []).append(entry["seq"])
            assert seqs == {a: list(range(1, WRITES_EACH + 1)) for a in ("blue", "red")}
    finally:
        for center in centers:
            center.close()


def test_a_reader_sees_one_snapshot(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url=database_url)
    center = Parts(settings, clock=clock).open()
    try:
        count = select(func.count()).select_from(Event)
        with center.reading() as session:
            assert session.scalar(count) == 0
            with center.writing() as unit:
                publish(unit.session, kind="test.note", at=clock(), audience=["blue"], payload={})
            assert session.scalar(count) == 0
        with center.reading() as session:
            assert session.scalar(count) == 1
    finally:
        center.close()
