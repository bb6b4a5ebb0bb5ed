"""Predicted losses of separation between tracked aircraft, named: the form alerts take.

:func:`track_conflicts` extrapolates every track to ``now``
(:meth:`~accord.airspace.tracks.TrackSet.states_at`), runs the detector
(:func:`~accord.airspace.detect.detect_conflicts`) and names each pair: the two aircraft,
their operators and parties, the time to the closest point of approach, the horizontal
distance there, when separation is lost and whether it is lost already.

>>> from datetime import datetime, UTC
>>> from accord.airspace.tracks import parse_tracks_csv, latest
>>> text = '''id,operator,party,mission,time,lat,lon,alt_ft,gs_kt,track_deg,vs_fpm
... b1,blue,blue,transport,2026-09-20T10:00:00Z,25.0,21.0,30000,400,90,0
... r1,red,red,patrol,2026-09-20T10:00:00Z,25.0,21.5,30000,400,270,0
... '''
>>> tracks = latest(parse_tracks_csv(text)).tracks
>>> now = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
>>> sep = Separation(horizontal_m=9260.0, vertical_ft=1000.0, lookahead_s=300.0)
>>> (c,) = track_conflicts(tracks, sep, now)
>>> c.a, c.b, round(c.tcpa_s), c.lost, c.los_at.replace(microsecond=0).isoformat()
('b1', 'r1', 122, False, '2026-09-20T10:01:39+00:00')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accord.airspace.detect import Conflicts, Separation, States, detect_conflicts
from accord.airspace.tracks import TrackSet
from accord.chrono import format_instant
from accord.units import NM

__all__ = ["TrackConflict", "track_conflicts"]


@dataclass(frozen=True, slots=True)
class TrackConflict:
    """A predicted loss of separation between aircraft ``a`` and ``b`` (ids, ``a < b`` in
    the track set's order).

    ``tcpa_s`` seconds from ``now`` to the closest point of approach (negative: behind, the
    pair diverging); ``dcpa_m`` the horizontal distance there; ``los_at`` when separation is
    lost (``now`` when ``lost``, already lost); ``tlos_s`` the same in seconds from ``now``.
    """

    a: str
    b: str
    a_operator: str
    b_operator: str
    a_party: str | None
    b_party: str | None
    now: datetime
    tcpa_s: float
    dcpa_m: float
    tlos_s: float
    los_at: datetime
    lost: bool

    @property
    def concerned(self) -> tuple[str, ...]:
        """Whom the alert is for: each aircraft's party, or its operator when it has none."""
        owners = (self.a_party or self.a_operator, self.b_party or self.b_operator)
        return tuple(dict.fromkeys(owners))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (times ISO 8601, distances in metres and nautical miles)."""
        return {
            "a": self.a,
            "b": self.b,
            "a_operator": self.a_operator,
            "b_operator": self.b_operator,
            "a_party": self.a_party,
            "b_party": self.b_party,
            "tcpa_s": round(self.tcpa_s, 1),
            "dcpa_m": round(self.dcpa_m, 1),
            "dcpa_nm": round(self.dcpa_m / NM, 2),
            "tlos_s": round(self.tlos_s, 1),
            "los_at": format_instant(self.los_at.replace(microsecond=0)),
            "lost": self.lost,
        }


def track_conflicts(
    tracks: TrackSet,
    separation: Separation,
    now: datetime,
    *,
    detector: Callable[[States, Separation], Conflicts] = detect_conflicts,
) -> tuple[TrackConflict, ...]:
    """Every predicted loss of separation among ``tracks`` at ``now``, soonest loss first
    (then by pair). ``detector`` may be the all-pairs oracle; the answer is the same."""
    found = detector(tracks.states_at(now), separation)
    out: list[TrackConflict] = []
    for k in range(len(found)):
        i, j = int(found.i[k]), int(found.j[k])
        tlos = float(found.tlos_s[k])
        out.append(
            TrackConflict(
                a=tracks.ids[i],
                b=tracks.ids[j],
                a_operator=tracks.operators[i],
                b_operator=tracks.operators[j],
                a_party=tracks.parties[i],
                b_party=tracks.parties[j],
                now=now,
                tcpa_s=float(found.tcpa_s[k]),
                dcpa_m=float(found.dcpa_m[k]),
                tlos_s=tlos,
                los_at=now + timedelta(seconds=tlos),
                lost=bool(found.lost[k]),
            )
        )
    out.sort(key=lambda c: (c.tlos_s, c.a, c.b))
    return tuple(out)
