"""Track reports: reading CSV and GeoJSON, refusing impossible reports, keeping the latest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.agreement import load_agreement
from accord.airspace import (
    TrackReport,
    TrackSet,
    latest,
    load_tracks,
    parse_tracks_csv,
    parse_tracks_geojson,
    report_from_fields,
)
from accord.errors import TrackError
from accord.examples import example_path
from support.features import collection

JIG = load_agreement(example_path("jig.yaml"))
HEADER = "id,operator,party,mission,time,lat,lon,alt_ft,gs_kt,track_deg,vs_fpm"
GOOD = "b1,blue,blue,transport,2026-09-20T10:00:00Z,25.0,21.5,30000,420,90,0"
T0 = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def issues_of(text: str) -> list[str]:
    with pytest.raises(TrackError) as caught:
        parse_tracks_csv(text, agreement=JIG, source="t.csv")
    return [str(i) for i in caught.value.issues]


def test_a_good_csv() -> None:
    (report,) = parse_tracks_csv(csv_text(GOOD), agreement=JIG)
    assert report == TrackReport(
        id="b1",
        operator="blue",
        party="blue",
        mission="transport",
        time=T0,
        lat=25.0,
        lon=21.5,
        alt_ft=30000.0,
        gs_kt=420.0,
        track_deg=90.0,
        vs_fpm=0.0,
    )


def test_columns_in_any_order_and_an_empty_party() -> None:
    header = "time,id,operator,party,mission,lon,lat,alt_ft,gs_kt,track_deg,vs_fpm"
    row = "2026-09-20T12:00:00+02:00,g1,green-af,,strike,21.5,25.0,30000,420,360,0"
    (report,) = parse_tracks_csv(csv_text(row, header=header), agreement=JIG)
    assert report.party is None and report.time == T0 and report.lon == 21.5
    assert report.track_deg == 0.0  # 360 is north


def test_altitude_and_rate_are_whole() -> None:
    row = "b1,blue,blue,transport,2026-09-20T10:00:00Z,25.0,21.5,30000.5,420,90,-1499.5"
    (report,) = parse_tracks_csv(csv_text(row))
    assert (report.alt_ft, report.vs_fpm) == (30001.0, -1500.0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gs_kt", "2000", "over Mach 3"),
        ("gs_kt", "-1", "negative"),
        ("alt_ft", "-1501", "impossible"),
        ("alt_ft", "100001", "impossible"),
        ("lat", "90.5", "outside ±90"),
        ("lon", "-181", "outside ±180"),
        ("lat", "nan", "finite"),
        ("lon", "east", "must be a number"),
        ("track_deg", "361", "outside [0, 360]"),
        ("vs_fpm", "250000", "over Mach 3"),
        ("time", "2026-09-20T10:00:00", "no UTC offset"),
        ("operator", "purple-af", "unknown operator"),
        ("party", "purple", "unknown party"),
        ("mission", "", "required"),
    ],
)
def test_impossible_reports_name_line_field_and_id(field: str, value: str, message: str) -> None:
    values = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    values[field] = value
    bad_row = ",".join(values[c] for c in HEADER.split(","))
    (issue,) = issues_of(csv_text(GOOD, bad_row))
    assert issue.startswith("line 3, feature 'b1', field ")
    assert f"field {field!r}" in issue
    assert message in issue


def test_every_problem_is_reported_and_nothing_is_returned() -> None:
    found = issues_of(
        csv_text(
            "a,blue,blue,x,2026-09-20T10:00:00Z,95,21,30000,420,90,0",
            GOOD,
            "c,blue,blue,x,2026-09-20T10:00:00Z,25,21,30000,9999,90,0",
            "d,blue,blue,x,2026-09-20T10:00:00Z,25,21,30000",
        )
    )
    assert len(found) == 3
    assert found[0].startswith("line 2, feature 'a', field 'lat'")
    assert found[1].startswith("line 4, feature 'c', field 'gs_kt'")
    assert found[2] == "line 5, document: 8 fields where the header has 11"


def test_header_problems() -> None:
    assert any("'vs_fpm': is a required column" in i for i in issues_of("id,operator\n"))
    bad = issues_of(csv_text(GOOD + ",x", header=HEADER + ",colour"))
    assert any("'colour': is not a column" in i for i in bad)
    with pytest.raises(TrackError, match="empty file"):
        parse_tracks_csv("")


def test_the_message_names_the_source() -> None:
    with pytest.raises(TrackError, match=r"^t\.csv: 1 problem\n  line 2"):
        parse_tracks_csv(csv_text(GOOD.replace("420", "fast")), source="t.csv")


# --- GeoJSON ----------------------------------------------------------------------------


def feature(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "r1",
        "operator": "red",
        "party": "red",
        "mission": "patrol",
        "time": "2026-09-20T10:00:00Z",
        "alt_ft": 25000,
        "gs_kt": 400,
        "track_deg": 180,
        "vs_fpm": -1000,
    }
    coordinates = props.pop("coordinates", [21.5, 25.0])
    base.update(props)
    base = {k: v for k, v in base.items() if v is not None}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": base,
    }


def geo_issues(*features: dict[str, Any]) -> list[str]:
    with pytest.raises(TrackError) as caught:
        parse_tracks_geojson(collection(*features), agreement=JIG)
    return [str(i) for i in caught.value.issues]


def test_a_good_geojson() -> None:
    (report,) = parse_tracks_geojson(collection(feature()), agreement=JIG)
    assert (report.id, report.lat, report.lon, report.vs_fpm) == ("r1", 25.0, 21.5, -1000.0)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"coordinates": [21.5, 25.0, 7000]}, "'geometry.coordinates': a track position is"),
        ({"coordinates": [21.5, 95.0]}, "'geometry.coordinates': latitude 95 is outside"),
        ({"coordinates": [200.0, 25.0]}, "'geometry.coordinates': longitude 200 is outside"),
        ({"alt_ft": None}, "'properties.alt_ft': is required"),
        ({"gs_kt": 5000}, "'properties.gs_kt': ground speed 5000 kt is over Mach 3"),
        ({"alt_ft": "high"}, "'properties.alt_ft': must be a number"),
        ({"alt_ft": True}, "'properties.alt_ft': must be a number"),
        ({"lat": 25.0}, "'properties.lat': is not a field"),
        ({"colour": "red"}, "'properties.colour': is not a field"),
        ({"time": "yesterday"}, "'properties.time':"),
    ],
)
def test_bad_geojson_names_feature_and_field(change: dict[str, Any], expected: str) -> None:
    (issue,) = geo_issues(feature(id="ok"), feature(**change))
    assert issue.startswith("feature 'r1', field ")
    assert expected in issue


def test_geojson_shape_problems() -> None:
    with pytest.raises(TrackError, match="FeatureCollection"):
        parse_tracks_geojson({"type": "Feature"})
    empty = geo_issues({"type": "Feature", "geometry": None, "properties": {}})
    assert empty[0] == "feature '#0', field 'geometry': must be a GeoJSON Point [lon, lat]"
    assert "feature '#0', field 'properties.gs_kt': is required (a number)" in empty
    line = feature()
    line["geometry"] = {"type": "LineString", "coordinates": [[21, 25], [22, 25]]}
    assert any("must be a GeoJSON Point" in i for i in geo_issues(line))
    unnamed = feature(id=None)
    assert any("feature '#0', field 'properties.id'" in i for i in geo_issues(unnamed))


def test_load_tracks_by_extension(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(csv_text(GOOD), encoding="utf-8")
    (tmp_path / "t.geojson").write_text(json.dumps(collection(feature())), encoding="utf-8")
    assert [r.id for r in load_tracks(tmp_path / "t.csv")] == ["b1"]
    assert [r.id for r in load_tracks(tmp_path / "t.geojson")] == ["r1"]
    (tmp_path / "bad.geojson").write_text("{", encoding="utf-8")
    with pytest.raises(TrackError, match="not valid JSON"):
        load_tracks(tmp_path / "bad.geojson")
    with pytest.raises(TrackError, match="cannot read file"):
        load_tracks(tmp_path / "missing.csv")


# --- the latest state per aircraft ----------------------------------------------------


def report(track_id: str, minutes: float, **changes: Any) -> TrackReport:
    fields: dict[str, Any] = {
        "id": track_id,
        "operator": "blue",
        "party": "blue",
        "mission": "transport",
        "time": T0 + timedelta(minutes=minutes),
        "lat": 25.0,
        "lon": 21.0,
        "alt_ft": 30000.0,
        "gs_kt": 400.0,
        "track_deg": 90.0,
        "vs_fpm": 0.0,
    }
    fields.update(changes)
    return TrackReport(**fields)


def test_latest_keeps_the_newest_and_drops_older_and_equal() -> None:
    newer = report("a", 2, lat=25.5)
    older = report("a", 1)
    same_time = report("a", 2, lat=26.0)
    merged = latest([older, report("b", 0), newer, same_time, report("a", 0)])
    assert merged.tracks.ids == ("a", "b")
    assert merged.tracks.report(0) == newer
    assert merged.stale == (same_time, report("a", 0))
    assert merged.updated == ("a", "b")
    # a batch replayed changes nothing
    again = latest([older, newer], current=merged.tracks)
    assert again.updated == () and len(again.stale) == 2
    assert list(again.tracks) == list(merged.tracks)


def test_latest_merges_into_current_tracks() -> None:
    first = latest([report("a", 0), report("b", 0)]).tracks
    merged = latest([report("b", 1, alt_ft=31000.0), report("c", 1)], current=first)
    assert merged.tracks.ids == ("a", "b", "c")
    assert merged.tracks.report(merged.tracks.row("b")).alt_ft == 31000.0
    assert merged.tracks.latest_time == T0 + timedelta(minutes=1)


def test_track_set_is_columnar_and_read_only() -> None:
    tracks = TrackSet.from_reports([report("a", 0), report("b", 1)])
    assert tracks.alt_ft.tolist() == [30000.0, 30000.0]
    assert "a" in tracks and "z" not in tracks
    with pytest.raises(ValueError, match="read-only"):
        tracks.lat[0] = 0.0
    with pytest.raises(ValueError, match="unique"):
        TrackSet.from_reports([report("a", 0), report("a", 1)])
    assert len(TrackSet.empty()) == 0 and TrackSet.empty().latest_time is None


def test_states_at_extrapolates_along_the_track() -> None:
    tracks = TrackSet.from_reports([report("a", -1, vs_fpm=1200.0), report("b", 0, track_deg=0.0)])
    st = tracks.states_at(T0)
    # b reported at T0: taken bit for bit
    assert (st.lat[1], st.lon[1], st.alt_ft[1]) == (25.0, 21.0, 30000.0)
    # a flew a minute east at 400 kt and climbed 1200 ft
    assert st.lat[0] == 25.0
    assert st.lon[0] == pytest.approx(21.0 + 400 * 1852 / 60 / (111194.93 * 0.9063), rel=1e-4)
    assert st.alt_ft[0] == 31200.0


def test_report_from_fields_for_a_service_body() -> None:
    body = {
        "id": "x1",
        "operator": "blue",
        "party": None,
        "mission": "transport",
        "time": "2026-09-20T10:00:00Z",
        "lat": 25,
        "lon": 21,
        "alt_ft": 9000,
        "gs_kt": 250,
        "track_deg": 10,
        "vs_fpm": 0,
    }
    made = report_from_fields(body, agreement=JIG)
    assert isinstance(made, TrackReport) and made.party is None
    body["gs_kt"] = 3000
    problems = report_from_fields(body, agreement=JIG, feature="tracks[3]")
    assert isinstance(problems, list)
    assert [(p.field, p.feature) for p in problems] == [("gs_kt", "tracks[3]")]
