"""Airspace deconfliction: live tracks, predicted losses of separation, designated areas.

:mod:`accord.airspace.tracks` reads and validates state reports and keeps the latest per
aircraft; :mod:`accord.airspace.detect` finds predicted losses of separation (state-based
detection, a grid prefilter and an exact vectorised test, identical to the all-pairs
computation) and :mod:`accord.airspace.conflicts` names them (aircraft, operators, time to
the closest approach); :mod:`accord.airspace.areas` finds tracks inside or heading into designated
areas closed to their operator; :mod:`accord.airspace.probe` probes a new flight plan against
the others, leg by leg. Nothing here reads a clock or does I/O (except ``load_tracks``, the
file edge): the instant ``now`` is always an argument.
"""

from __future__ import annotations

from accord.airspace.areas import TrackAreaFinding, track_area_findings
from accord.airspace.conflicts import TrackConflict, track_conflicts
from accord.airspace.detect import (
    Conflicts,
    Separation,
    States,
    detect_conflicts,
    detect_conflicts_all_pairs,
)
from accord.airspace.probe import PlanConflict, probe_flight_plan
from accord.airspace.tracks import (
    Latest,
    TrackReport,
    TrackSet,
    check_report,
    latest,
    load_tracks,
    parse_tracks_csv,
    parse_tracks_geojson,
    report_from_fields,
)

__all__ = [
    "Conflicts",
    "Latest",
    "PlanConflict",
    "Separation",
    "States",
    "TrackAreaFinding",
    "TrackConflict",
    "TrackReport",
    "TrackSet",
    "check_report",
    "detect_conflicts",
    "detect_conflicts_all_pairs",
    "latest",
    "load_tracks",
    "parse_tracks_csv",
    "parse_tracks_geojson",
    "probe_flight_plan",
    "report_from_fields",
    "track_area_findings",
    "track_conflicts",
]
