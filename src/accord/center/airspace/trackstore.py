"""The stored tracks — each aircraft's latest report, read with Core statements (a batch
touches thousands: no ORM objects) — and who may read them.

An aircraft is keyed by its *owner* (its party, or its operator when it has none) and its
id, so that an id another party uses — even for an aircraft hidden from the caller — never
collides with the caller's and so never tells it anything. A ``center`` track is seen by its
owner's party alone; others' ``shared`` tracks by every party and the monitors; notifiers
and administrators see no tracks and no alerts (403).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from accord.airspace import States, TrackReport, TrackSet
from accord.center import visibility
from accord.center.db.fast import PreparedQuery
from accord.center.db.models_airspace import TrackRow
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.errors import NotAuthorized

__all__ = [
    "FUTURE_SKEW",
    "STALE_AFTER",
    "TRACKS",
    "Track",
    "check_reader",
    "fresh_tracks",
    "held_rows",
    "key_of",
    "may_see_track",
    "owner_of",
    "read_tracks",
    "reports_of",
    "states_of",
]

STALE_AFTER = timedelta(seconds=60)
"""A track whose last report is older than this at the center's clock is not checked."""
FUTURE_SKEW = timedelta(seconds=5)
"""How far ahead of the center's clock a report may be (clocks drift; further is refused)."""

# --- who sees what --------------------------------------------------------------------------


def owner_of(party: str | None, operator: str) -> str:
    return party if party is not None else operator


def may_see_track(member: str, role: Role, owner: str, disclosure: str) -> bool:
    """Whether a reader (``member``, ``role``) may see an aircraft of ``owner``.

    >>> may_see_track("red", Role.OFFICER, "blue", "center"), may_see_track(
    ...     "observers", Role.MONITOR, "blue", "shared")
    (False, True)
    """
    reader = visibility.Viewer(member, role)
    return visibility.sees_track(reader, owner=owner, disclosure=disclosure)


def check_reader(caller: Caller) -> None:
    if not visibility.reads_air_picture(caller.role):
        raise NotAuthorized(f"a {caller.role.value} does not read the air picture")


@dataclass(frozen=True, slots=True)
class Track:
    """An aircraft's stored latest report, read with one Core statement (no ORM objects: a
    batch touches thousands)."""

    owner: str
    id: str
    operator: str
    party: str | None
    mission: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    track_deg: float
    vs_fpm: float
    disclosure: str
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None


TRACKS = cast(Table, TrackRow.__table__)
TRACK_COLUMNS = tuple(TRACKS.c[name] for name in Track.__slots__)


def read_tracks(session: Session, *where: Any) -> list[Track]:
    """The stored tracks matching ``where``, ordered by owner and id."""
    query = select(*TRACK_COLUMNS).where(*where).order_by(TRACKS.c.owner, TRACKS.c.id)
    return [Track(*row) for row in session.execute(query)]


_FRESH = PreparedQuery(
    select(*TRACK_COLUMNS)
    .where(TRACKS.c.time >= bindparam("low"), TRACKS.c.time <= bindparam("high"))
    .order_by(TRACKS.c.owner, TRACKS.c.id)
)


def fresh_tracks(session: Session, now: datetime) -> list[Track]:
    """The tracks fresh at ``now`` (reported within :data:`STALE_AFTER`, not more than
    :data:`FUTURE_SKEW` ahead), ordered by owner and id: what every detection pass reads,
    on the driver's cursor (:mod:`accord.center.db.fast`)."""
    low, high = now - STALE_AFTER, now + FUTURE_SKEW
    return [Track(*row) for row in _FRESH.rows(session.connection(), {"low": low, "high": high})]


def held_rows(session: Session, ids: Iterable[str]) -> dict[tuple[str, str], tuple[datetime, int]]:
    """Every stored row of the aircraft ``ids``, under whichever owner: its (owner, id), its
    report time and the user who reported it (indexed by ``id``: a batch's rows in one read,
    which both the newer-than-held rule and the feed's re-keying ask)."""
    found: dict[tuple[str, str], tuple[datetime, int]] = {}
    c = TRACKS.c
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(c.owner, c.id, c.time, c.reported_by).where(c.id.in_(chunk))
        for owner, track_id, at, reporter in session.execute(query):
            found[(owner, track_id)] = (at, reporter)
    return found


def reports_of(rows: Sequence[Track], keys: Sequence[str]) -> list[TrackReport]:
    return [
        TrackReport(
            id=key, operator=r.operator, party=r.party, mission=r.mission, time=r.time,
            lat=r.lat, lon=r.lon, alt_ft=r.alt_ft, gs_kt=r.gs_kt, track_deg=r.track_deg,
            vs_fpm=r.vs_fpm,
        )
        for key, r in zip(keys, rows, strict=True)
    ]  # fmt: skip


def states_of(rows: Sequence[Track], now: datetime) -> States:
    """The detector's states of ``rows`` at ``now``."""
    return TrackSet.from_reports(reports_of(rows, [key_of(r) for r in rows])).states_at(now)


def key_of(row: Track) -> str:
    return f"{row.owner}/{row.id}"
