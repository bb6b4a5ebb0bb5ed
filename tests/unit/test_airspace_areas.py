"""Tracks in designated areas: inside now, predicted entry, exemptions, other operators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accord.agreement import load_agreement
from accord.airspace import TrackReport, TrackSet, track_area_findings
from accord.examples import example_path
from accord.rules.designated import DesignatedAreaIndex

# da-north: lon 21.05–21.60, lat 25.05–25.45, closed to green-af except medevac, personnel
# recovery and humanitarian missions
INDEX = DesignatedAreaIndex(load_agreement(example_path("jig.yaml")))
NOW = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)
LOOK = timedelta(minutes=5)


def track(track_id: str = "g1", **changes: Any) -> TrackReport:
    fields: dict[str, Any] = {
        "id": track_id,
        "operator": "green-af",
        "party": None,
        "mission": "strike",
        "time": NOW,
        "lat": 25.2,
        "lon": 20.95,
        "alt_ft": 20000.0,
        "gs_kt": 400.0,
        "track_deg": 90.0,
        "vs_fpm": 0.0,
    }
    fields.update(changes)
    return TrackReport(**fields)


def findings(*reports: TrackReport, now: datetime = NOW) -> list[Any]:
    return list(track_area_findings(TrackSet.from_reports(reports), INDEX, now, LOOK))


def test_heading_in_within_the_lookahead_is_a_violation_with_entry_time() -> None:
    (f,) = findings(track())
    assert (f.area_id, f.track_id, f.verdict, f.inside) == ("da-north", "g1", "violation", False)
    # 0.10° of longitude at 25.2° N is ~10.07 km; at 400 kt (205.8 m/s) ~49 s
    assert (f.entry_at - NOW).total_seconds() == pytest.approx(49.0, abs=1.0)
    assert f.entry_point[0] == pytest.approx(21.05, abs=1e-6)


def test_inside_now() -> None:
    (f,) = findings(track(lon=21.3, track_deg=270.0))
    assert f.inside and f.entry_at == NOW and f.verdict == "violation"


def test_stationary_inside_and_outside() -> None:
    assert [f.inside for f in findings(track(lon=21.3, gs_kt=0.0))] == [True]
    assert findings(track(gs_kt=0.0)) == []


def test_exempt_missions_pass_and_are_recorded() -> None:
    for mission in ("medevac", "personnel_recovery", "humanitarian"):
        (f,) = findings(track(mission=mission))
        assert f.verdict == "exempt"


def test_heading_away_or_entering_after_the_lookahead_is_clear() -> None:
    assert findings(track(track_deg=270.0)) == []
    # 1.0° west of the area: ~100 km, 8 minutes at 400 kt
    assert findings(track(lon=20.05)) == []


def test_other_operators_are_not_restricted() -> None:
    assert findings(track(operator="blue", party="blue"), track("r1", operator="red")) == []


def test_tracks_are_extrapolated_to_now() -> None:
    # reported two minutes ago 0.15° further west: now ~0.03° from the edge
    (f,) = findings(track(time=NOW - timedelta(minutes=2), lon=20.95 - 0.22))
    assert not f.inside
    assert (f.entry_at - NOW).total_seconds() < 49.0


def test_as_dict() -> None:
    (f,) = findings(track())
    doc = f.as_dict()
    assert doc["track"] == "g1" and doc["verdict"] == "violation"
    assert doc["entry_at"].startswith("2026-09-20T10:00:")


def test_an_area_may_restrict_aircraft_no_declaration_identifies() -> None:
    agreement = load_agreement(example_path("jig.yaml"))
    areas = [
        a.model_copy(update={"restricted_operators": ["unknown"]})
        for a in agreement.designated_areas
    ]
    index = DesignatedAreaIndex(agreement.model_copy(update={"designated_areas": areas}))
    unknown = track("4ca7b1", operator="unknown", mission="unknown")
    found = list(track_area_findings(TrackSet.from_reports([unknown, track()]), index, NOW, LOOK))
    assert [(f.track_id, f.verdict) for f in found] == [("4ca7b1", "violation")]
