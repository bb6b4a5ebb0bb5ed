"""The users' side of the record."""

from __future__ import annotations

from accord.center.runtime import Center
from accord.record.entries import Entry, open_envelope, verify_entry


def user_entries_in(center: Center) -> list[Entry]:
    """The record's ``user.*`` entries, each verified against the key ring."""
    return entries_of_kind(center, "user.")


def entries_of_kind(center: Center, prefix: str) -> list[Entry]:
    """The record's entries whose kind begins with ``prefix``, each verified against the
    key ring."""
    with center.reading() as session:
        log = center.log(session)
        found = [
            verify_entry(open_envelope(log.entry(i))[2], keys=center.ring, log=center.origin)
            for i in range(log.size)
        ]
    return [e for e in found if str(e.event.get("kind", "")).startswith(prefix)]
