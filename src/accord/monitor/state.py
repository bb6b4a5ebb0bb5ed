"""The monitor's state folder: the party's own copy of the log it verified, and the evidence.

``DIR`` (mode 0700, refused if others may open it) holds:

* ``log.sqlite`` — every leaf the monitor verified, in order, and the center's signed heads
  it verified them against, as an Accord log file (:class:`~accord.record.log.MerkleLog`):
  ``accord verify DIR/log.sqlite --keys KEYS.json`` checks it with nothing else, and it is
  the party's own copy of the record (DECISIONS 14: the entries a restored center must get
  back up to the largest witnessed head may be "fetched, if needed, from a party's
  monitor"). A restarted monitor re-verifies it locally (every signature, on every core)
  before it asks the center for anything new, so it resumes without fetching again what it
  holds, and trusts nothing it did not check in this process.
* ``openings.jsonl`` — the openings of the party's own commitments (its hidden
  declarations, its drafts) the monitor checked against its copy, one JSON object a line
  (``entry``, ``commitment``, ``salt``, ``content``), mode 0600: the party's own copy of
  what only it and the center hold, which a restored center needs back to rebuild those
  objects (``accord db restore --from-monitor DIR``);
* ``monitor.json`` — when the center was last read and since when each witness has shown
  a larger head than the center serves (what ``--stall-after`` measures, across runs of
  ``accord monitor --once``);
* ``evidence/<UTC time>-<kind>.json`` — what proves a split view or a rewrite to a third
  party (:func:`accord.monitor.core.split_view_evidence`).

Leaves are appended only once verified, each batch in one durable transaction; the head is
stored after its last leaf. A crash between the two leaves verified leaves past the last
stored head: they hashed to a checkpoint the center signed, and the next round checks the
next checkpoint's consistency from them.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from accord.errors import UnsafePermissions
from accord.record.log import MerkleLog

__all__ = ["LOG_FILE", "OPENINGS_FILE", "Opening", "State", "read_openings"]

LOG_FILE = "log.sqlite"
OPENINGS_FILE = "openings.jsonl"
META_FILE = "monitor.json"


@dataclass(frozen=True, slots=True)
class Opening:
    """What the center says opens the commitment in record entry ``entry``: the salt
    (base64) and the exact canonical JSON committed to (DECISIONS 11: the center keeps a copy
    of its owner's openings; the monitor uses it only after checking it against the
    commitment in its own verified copy of the entry)."""

    entry: int
    commitment: str
    salt: str
    content: str

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Opening:
        """The opening a JSON object holds (``entry``, ``commitment``, ``salt``, ``content``:
        the center's answers and ``openings.jsonl`` alike); ``KeyError``, ``TypeError`` or
        ``ValueError`` for one that does not."""
        return cls(
            int(item["entry"]), str(item["commitment"]), str(item["salt"]), str(item["content"])
        )


def read_openings(path: Path) -> tuple[Opening, ...]:
    """The openings :meth:`State.keep_openings` kept in ``path`` (none when there is no
    file); ``ValueError`` naming the line that is not one."""
    if not path.is_file():
        return ()
    out = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(Opening.of(json.loads(line)))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}, line {number}: not an opening ({error})") from error
    return tuple(out)


EVIDENCE = "evidence"


class State:
    """The state folder ``path`` of a monitor of log ``origin`` (created mode 0700)."""

    def __init__(self, path: Path, origin: str) -> None:
        self.path = Path(path)
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise UnsafePermissions(
                f"{self.path} is mode {mode:04o}: the monitor's state is the party's own "
                "copy of the record and its evidence; chmod 700 it"
            )
        self.log = MerkleLog.open(self.path / LOG_FILE, origin)

    def close(self) -> None:
        self.log.close()

    @property
    def size(self) -> int:
        return self.log.size

    def leaves(self, start: int, end: int) -> list[bytes]:
        return [data for _, data in self.log.entries(start, end)]

    def append(self, leaves: Sequence[bytes], hashes: Sequence[bytes]) -> None:
        self.log.append_many(leaves, leaf_hashes=hashes)

    def keep_openings(self, openings: Sequence[Opening]) -> None:
        """Append checked openings to ``openings.jsonl`` (created mode 0600), on disk when
        this returns. A reader takes the last line of an entry (a crash between this and
        ``monitor.json`` may write one twice)."""
        if not openings:
            return
        fd = os.open(
            self.path / OPENINGS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600
        )
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            for opening in openings:
                line = json.dumps(asdict(opening), sort_keys=True, separators=(",", ":"))
                f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def meta(self) -> dict[str, Any]:
        """What ``monitor.json`` holds ({} when there is none, or it does not read)."""
        try:
            data = json.loads((self.path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_meta(self, data: dict[str, Any]) -> None:
        """Replace ``monitor.json`` (written aside, then renamed over it)."""
        tmp = self.path / (META_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, sort_keys=True) + "\n")
        os.replace(tmp, self.path / META_FILE)

    def write_evidence(self, name: str, evidence: dict[str, Any]) -> Path:
        folder = self.path / EVIDENCE
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(evidence, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return path
