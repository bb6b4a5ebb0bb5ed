"""The witness's own SQLite state: the latest checkpoint it cosigned per log, and the refused
checkpoints kept as evidence.

Checking the old size against the stored state and writing the new state are one step:
each batch of requests runs in one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock,
taken before the first read), so no other connection, thread or process can write between
a request's read and its write, and two racing requests can never roll the state back
(c2sp.org/tlog-witness, add-checkpoint: "checking the old size against the latest
checkpoint and persisting the new checkpoint must be performed atomically"). The requests of
a batch are decided one after the other inside it, each seeing the ones before.

Durability: WAL with ``synchronous=FULL``: every commit is synced before the witness
answers ("The witness MUST persist the new checkpoint before responding"). ``NORMAL`` in WAL
may lose the last commits on power loss, and a witness that forgets a size it cosigned can be
led to cosign a second history of that size: a split view its own signatures would hide.
The cost of the sync is shared by a batch (group commit, :mod:`accord.witness.server`).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from accord.errors import AccordError, UnsafePermissions
from accord.record.canonical import encode_base64
from accord.record.witness_protocol import (
    AddCheckpoint,
    Latest,
    decide,
    is_evidence,
    status_of,
)

__all__ = ["DATABASE", "Evidence", "Outcome", "WitnessStore"]

DATABASE = "witness.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,           -- the checkpoint, its verified log signatures, our cosignature
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    received INTEGER NOT NULL,
    origin TEXT NOT NULL,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    old INTEGER NOT NULL,
    proof TEXT NOT NULL,          -- the proof lines as sent, one base64 hash per line
    note TEXT NOT NULL,           -- the signed checkpoint as sent
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    cosigned_size INTEGER,        -- what the witness held then
    cosigned_root BLOB,
    cosigned_note TEXT
);
"""


@dataclass(frozen=True)
class Outcome:
    """What became of one request: None (cosigned and stored) or the refusal."""

    error: AccordError | None


@dataclass(frozen=True)
class Evidence:
    """A refused checkpoint whose log signature verified, and why it was refused."""

    id: int
    received: int
    origin: str
    size: int
    root: bytes
    old: int
    proof: str
    note: str
    status: int
    reason: str
    cosigned_size: int | None
    cosigned_root: bytes | None
    cosigned_note: str | None

    def text(self) -> str:
        """A readable record, with both signed checkpoints in full."""
        lines = [
            f"#{self.id} at {self.received}: {self.origin} refused {self.status}: {self.reason}",
            f"  submitted: size {self.size}, root {encode_base64(self.root)}, old {self.old}",
        ]
        if self.cosigned_size is not None and self.cosigned_root is not None:
            lines.append(
                f"  cosigned before: size {self.cosigned_size}, root "
                f"{encode_base64(self.cosigned_root)}"
            )
        lines.append("  the submitted checkpoint, as signed:")
        lines.extend(f"    {line}" for line in self.note.splitlines())
        if self.proof:
            lines.append("  its consistency proof:")
            lines.extend(f"    {line}" for line in self.proof.splitlines())
        if self.cosigned_note:
            lines.append("  the checkpoint cosigned before, as signed:")
            lines.extend(f"    {line}" for line in self.cosigned_note.splitlines())
        return "\n".join(lines)


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UnsafePermissions(
            f"the witness's data folder {path} is mode {mode:04o}; run `chmod 700 {path}`"
        )


class WitnessStore:
    """One connection to the witness's database (one per thread or process)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        _private_folder(self.folder)
        self._db = sqlite3.connect(
            self.folder / DATABASE, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def latest(self, origin: str) -> tuple[Latest, str] | None:
        """The latest cosigned checkpoint of ``origin`` and its stored note, if any."""
        row = self._db.execute(
            "SELECT size, root, note FROM checkpoints WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else (Latest(row[0], bytes(row[1])), row[2])

    def apply(
        self,
        batch: Sequence[tuple[AddCheckpoint, str]],
        *,
        now: Callable[[], int] = lambda: int(time.time()),
    ) -> list[Outcome]:
        """Decide each request of ``batch`` (a request and the note to store if it is
        cosigned) against the stored state and store the result, all in one transaction.

        Only requests whose log signature was verified reach this point; a refusal that
        :func:`is_evidence` names is kept as evidence in the same transaction.
        """
        outcomes: list[Outcome] = []
        received = now()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for request, note in batch:
                row = db.execute(
                    "SELECT size, root, note FROM checkpoints WHERE origin = ?", (request.origin,)
                ).fetchone()
                latest = None if row is None else Latest(row[0], bytes(row[1]))
                try:
                    decide(request, latest)
                except AccordError as error:
                    reason = is_evidence(request, latest, error)
                    if reason is not None:
                        self._keep(request, error, reason, row, received)
                    outcomes.append(Outcome(error))
                    continue
                db.execute(
                    "INSERT INTO checkpoints (origin, size, root, note, updated) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                    "size = excluded.size, root = excluded.root, note = excluded.note, "
                    "updated = excluded.updated",
                    (request.origin, request.size, request.root, note, received),
                )
                outcomes.append(Outcome(None))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return outcomes

    def _keep(
        self,
        request: AddCheckpoint,
        error: AccordError,
        reason: str,
        row: tuple[int, bytes, str] | None,
        received: int,
    ) -> None:
        self._db.execute(
            "INSERT INTO evidence (received, origin, size, root, old, proof, note, status, "
            "reason, cosigned_size, cosigned_root, cosigned_note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                received,
                request.origin,
                request.size,
                request.root,
                request.old,
                "".join(encode_base64(h) + "\n" for h in request.proof),
                request.note.text(),
                status_of(error),
                reason,
                None if row is None else row[0],
                None if row is None else row[1],
                None if row is None else row[2],
            ),
        )

    def evidence(self) -> Iterator[Evidence]:
        """Every refused checkpoint kept as evidence, oldest first."""
        for row in self._db.execute(
            "SELECT id, received, origin, size, root, old, proof, note, status, reason, "
            "cosigned_size, cosigned_root, cosigned_note FROM evidence ORDER BY id"
        ):
            yield Evidence(
                row[0],
                row[1],
                row[2],
                row[3],
                bytes(row[4]),
                row[5],
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                None if row[11] is None else bytes(row[11]),
                row[12],
            )
