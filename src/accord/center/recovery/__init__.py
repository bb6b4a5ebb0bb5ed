"""Recovery: a restored record's missing tail taken from the parties' monitors' copies
(:mod:`~accord.center.recovery.tail`), and the tables brought up to it by redoing each
entry's event (:mod:`~accord.center.recovery.redo`)."""

from __future__ import annotations

from accord.center.recovery.redo import Redo, Redoing, Redone, redo_entries, redo_of
from accord.center.recovery.tail import Recovered, recover

__all__ = [
    "Recovered",
    "Redo",
    "Redoing",
    "Redone",
    "recover",
    "redo_entries",
    "redo_of",
]
