"""Tracks in designated areas: inside now, or heading in within the look-ahead.

A track of an operator that a designated area is closed to is a finding when the aircraft is
inside the area now, or when its straight-line path over the look-ahead enters it: the path
from its position at ``now`` along its track angle (a WGS84 geodesic) for ground speed ×
look-ahead, checked by :class:`accord.rules.designated.DesignatedAreaIndex` like a flight plan
(the same densified legs, the entry time interpolated along the path). The verdict is
``exempt`` when the track's mission is one of the area's exempt missions (recorded, not a
violation), else ``violation``. Altitude is ignored, as for flight plans.

>>> from datetime import datetime, timedelta, UTC
>>> from accord.agreement import load_agreement
>>> from accord.airspace.tracks import TrackReport, TrackSet
>>> from accord.examples import example_path
>>> from accord.rules.designated import DesignatedAreaIndex
>>> now = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
>>> green = TrackReport(id="g1", operator="green-af", party=None, mission="strike", time=now,
...                     lat=25.2, lon=20.98, alt_ft=20000, gs_kt=400, track_deg=90, vs_fpm=0)
>>> index = DesignatedAreaIndex(load_agreement(example_path("jig.yaml")))
>>> (f,) = track_area_findings(TrackSet.from_reports([green]), index, now, timedelta(minutes=5))
>>> f.area_id, f.verdict, f.inside, f.entry_at.replace(microsecond=0).time().isoformat()
('da-north', 'violation', False, '10:00:34')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from accord.airspace.tracks import TrackSet
from accord.chrono import format_instant
from accord.geo import GEOD
from accord.rules.designated import DesignatedAreaIndex, FlightPlan
from accord.units import KT

__all__ = ["TrackAreaFinding", "track_area_findings"]


@dataclass(frozen=True, slots=True)
class TrackAreaFinding:
    """A track inside, or predicted to enter, a designated area closed to its operator.

    ``inside`` when it is in the area at ``now`` (then ``entry_at`` is ``now``); else
    ``entry_at`` and ``entry_point`` (lon, lat) are where its straight-line path enters.
    """

    area_id: str
    track_id: str
    operator: str
    party: str | None
    mission: str
    verdict: Literal["violation", "exempt"]
    inside: bool
    entry_at: datetime
    entry_point: tuple[float, float]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "track": self.track_id,
            "area": self.area_id,
            "operator": self.operator,
            "party": self.party,
            "mission": self.mission,
            "verdict": self.verdict,
            "inside": self.inside,
            "entry_at": format_instant(self.entry_at.replace(microsecond=0)),
            "entry_point": [round(self.entry_point[0], 6), round(self.entry_point[1], 6)],
        }


def track_area_findings(
    tracks: TrackSet, index: DesignatedAreaIndex, now: datetime, lookahead: timedelta
) -> tuple[TrackAreaFinding, ...]:
    """Every track of a restricted operator inside a designated area closed to it at ``now``
    or entering one within ``lookahead`` (tracks extrapolated to ``now`` first), in track
    order then the agreement's order of areas."""
    restricted = index.restricted_operators
    rows = [k for k, op in enumerate(tracks.operators) if op in restricted]
    if not rows:
        return ()
    states = tracks.states_at(now)
    seconds = lookahead.total_seconds()
    findings: list[TrackAreaFinding] = []
    for k in rows:
        lon, lat = float(states.lon[k]), float(states.lat[k])
        distance = float(tracks.gs_kt[k]) * KT * seconds
        if distance > 0.0:
            end_lon, end_lat, _ = GEOD.fwd(lon, lat, float(tracks.track_deg[k]), distance)
            coords: tuple[tuple[float, float, float], ...] = (
                (lon, lat, 0.0),
                (float(end_lon), float(end_lat), 0.0),
            )
            times: tuple[datetime, ...] = (now, now + lookahead)
        else:
            coords, times = ((lon, lat, 0.0),), (now,)
        path = FlightPlan(
            id=tracks.ids[k],
            operator=tracks.operators[k],
            party=tracks.parties[k],
            mission=tracks.missions[k],
            coords=coords,
            times=times,
        )
        for finding in index.check(path):
            entry_at = finding.entry_at if finding.entry_at is not None else now
            findings.append(
                TrackAreaFinding(
                    area_id=finding.area_id,
                    track_id=path.id,
                    operator=path.operator,
                    party=path.party,
                    mission=path.mission,
                    verdict=finding.verdict,
                    inside=entry_at <= now,
                    entry_at=entry_at,
                    entry_point=finding.entry_point or (lon, lat),
                )
            )
    return tuple(findings)
