"""Who a sensor's aircraft is (issue 22 item 2, DECISIONS 5): the center's feed posts what it
sees; a report matched to a flight plan in force (by ``icao24``, else callsign) becomes the
plan's aircraft with the plan's disclosure; an unmatched one is ``unknown``, shown to every
party and checked against everyone; an aircraft that changes hands is never two tracks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from accord.chrono import format_instant
from support.jig import NOW
from support.service import Service
from support.tracks import BLUE, post, report


def _feed(track_id: str, lat: float, lon: float, **over: Any) -> dict[str, Any]:
    """A report as `accord feed` posts an aircraft its registry does not know."""
    values = report(track_id, None, lat, lon, operator="unknown", mission="unknown")
    values.update(over)
    return values


def _plan(party: str, disclosure: str, shift: float = 0.0, **ident: str) -> dict[str, Any]:
    start = NOW - timedelta(minutes=10)
    return {
        "type": "Feature",
        # at NOW the plan puts its aircraft at lon 21.5 (a quarter of the way along)
        "geometry": {
            "type": "LineString",
            "coordinates": [[21.25, 25.0, 9144], [22.25, 25.0, 9144]],
        },
        "properties": {
            "kind": "flight_plan",
            "operator": party,
            "party": party,
            "mission": "transport",
            "disclosure": disclosure,
            "times": [format_instant(start), format_instant(start + timedelta(minutes=40))],
            **ident,
        },
    } | (
        {}
        if not shift
        else {
            "geometry": {
                "type": "LineString",
                "coordinates": [[21.25 + shift, 25.0, 9144], [22.25 + shift, 25.0, 9144]],
            }
        }
    )


def _ids(service: Service, user: str) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in service.get("/v1/tracks", user).json()["items"]}


def test_an_unknown_aircraft_is_shown_to_every_party_and_checked_against_everyone(
    service: Service,
) -> None:
    assert post(service, "blue-officer", BLUE).status_code == 200
    # head-on with blue's b1 at the same level: an unknown aircraft the feed sees
    answer = post(service, "admin", _feed("4ca7b1", 25.0, 21.5, track_deg=270, icao24="4CA7B1"))
    assert answer.status_code == 200, answer.text
    for user in ("blue-officer", "red-officer", "observer"):
        seen = _ids(service, user)["4ca7b1"]
        assert (seen["operator"], seen["party"], seen["icao24"]) == ("unknown", None, "4ca7b1")
    (alert,) = service.get("/v1/alerts", "blue-officer").json()["items"]
    assert alert["kind"] == "conflict" and alert["parties"] == ["blue", "unknown"]
    assert sorted(alert["tracks"]) == ["4ca7b1", "b1"]


@pytest.mark.parametrize("by", ["icao24", "callsign"])
def test_a_track_matched_to_a_hidden_plan_is_its_partys_alone(service: Service, by: str) -> None:
    ident = {"icao24": "4ca7b1"} if by == "icao24" else {"callsign": "blu123"}
    made = service.post("/v1/declarations", "blue-officer", json=_plan("blue", "center", **ident))
    assert made.status_code == 201, made.text
    seen = _feed("4ca7b1", 25.0, 21.5, icao24="4ca7b1", callsign="BLU123", squawk="2301")
    assert post(service, "admin", seen).status_code == 200
    mine = _ids(service, "blue-officer")["4ca7b1"]
    assert (mine["party"], mine["operator"], mine["mission"]) == ("blue", "blue", "transport")
    assert (mine["disclosure"], mine["callsign"], mine["squawk"]) == ("center", "BLU123", "2301")
    for user in ("red-officer", "observer"):
        text = json.dumps(service.get("/v1/tracks", user).json())
        assert "4ca7b1" not in text and "BLU123" not in text


def test_an_aircraft_that_changes_hands_is_never_two_tracks(service: Service) -> None:
    first = _feed("4ca7b1", 25.0, 21.5, icao24="4ca7b1")
    assert post(service, "admin", first).status_code == 200
    assert _ids(service, "red-officer")["4ca7b1"]["operator"] == "unknown"
    made = service.post(
        "/v1/declarations", "blue-officer", json=_plan("blue", "shared", icao24="4ca7b1")
    )
    assert made.status_code == 201, made.text
    later = dict(first, time=format_instant(NOW + timedelta(seconds=1)), lon=21.49)
    assert post(service, "admin", later).status_code == 200
    (track,) = service.get("/v1/tracks", "red-officer").json()["items"]
    assert (track["id"], track["party"], track["lon"]) == ("4ca7b1", "blue", 21.49)
    assert service.get("/v1/alerts", "blue-officer").json()["items"] == []


def test_a_plan_out_of_its_time_claims_nothing(service: Service) -> None:
    late = _plan("blue", "center", icao24="4ca7b1")
    start = NOW + timedelta(hours=3)
    late["properties"]["times"] = [
        format_instant(start),
        format_instant(start + timedelta(hours=1)),
    ]
    assert service.post("/v1/declarations", "blue-officer", json=late).status_code == 201
    assert post(service, "admin", _feed("4ca7b1", 25.0, 21.5, icao24="4ca7b1")).status_code == 200
    assert _ids(service, "red-officer")["4ca7b1"]["operator"] == "unknown"


def test_identity_fields_are_checked_naming_the_field(service: Service) -> None:
    bad = _feed("x1", 25.0, 21.5, icao24="4ca7bz", callsign="BLU-1", squawk="7800")
    worse = report("b9", "blue", 25.0, 21.0, operator="unknown")
    answer = post(service, "admin", bad, worse)
    assert answer.status_code == 422, answer.text
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {
        "tracks[0].icao24",
        "tracks[0].callsign",
        "tracks[0].squawk",
        "tracks[1].party",
    }
    plan = _plan("blue", "shared", icao24="00000g")
    refused = service.post("/v1/declarations", "blue-officer", json=plan)
    assert refused.status_code == 422
    assert "properties.icao24" in refused.text


def test_an_emergency_squawk_is_alerted_to_everyone_until_it_stops(service: Service) -> None:
    seen = _feed("4ca7b1", 25.0, 21.5, icao24="4ca7b1", squawk="7700")
    assert post(service, "admin", seen).status_code == 200
    ids = set()
    for user in ("blue-officer", "red-officer", "observer"):
        (alert,) = service.get("/v1/alerts", user).json()["items"]
        assert (alert["kind"], alert["squawk"], alert["tracks"]) == ("squawk", "7700", ["4ca7b1"])
        assert alert["lat"] == 25.0 and "emergency" in alert["label"]
        ids.add(alert["id"])
    assert len(ids) == 1
    later = dict(seen, time=format_instant(NOW + timedelta(seconds=1)), squawk="2000")
    assert post(service, "admin", later).status_code == 200
    assert service.get("/v1/alerts", "red-officer").json()["items"] == []


def test_a_hidden_aircrafts_emergency_tells_the_others_whose_and_the_code_not_where(
    service: Service,
) -> None:
    made = service.post(
        "/v1/declarations", "blue-officer", json=_plan("blue", "center", icao24="4ca7b1")
    )
    assert made.status_code == 201, made.text
    seen = _feed("4ca7b1", 25.0, 21.5, icao24="4ca7b1", callsign="BLU123", squawk="7600")
    assert post(service, "admin", seen).status_code == 200
    (mine,) = service.get("/v1/alerts", "blue-officer").json()["items"]
    assert mine["tracks"] == ["4ca7b1"] and mine["lat"] == 25.0
    for user in ("red-officer", "observer"):
        (theirs,) = service.get("/v1/alerts", user).json()["items"]
        assert theirs["id"] == mine["id"] and theirs["squawk"] == "7600"
        assert theirs["tracks"] == [None] and theirs["others"] == [
            {"party": "blue", "operator": "blue"}
        ]
        assert theirs["lat"] is None and theirs["lon"] is None
        text = json.dumps(theirs)
        assert "4ca7b1" not in text and "BLU123" not in text and "21.5" not in text


def test_a_plan_cannot_take_an_aircraft_off_the_others_picture(service: Service) -> None:
    """Red declares hidden plans naming aircraft that are not its own: one the registry
    names as blue's, one flying where red's plan does not put it. Neither is red's, and
    neither leaves blue's picture."""
    for plan in (
        _plan("red", "center", icao24="4ca7b1"),
        _plan("red", "center", shift=1.0, icao24="aa0001"),
    ):
        made = service.post("/v1/declarations", "red-officer", json=plan)
        assert made.status_code == 201, made.text
    registered = report("4ca7b1", "blue", 25.0, 21.5, icao24="4ca7b1")
    elsewhere = _feed("aa0001", 25.0, 21.5, icao24="aa0001")
    assert post(service, "admin", registered, elsewhere).status_code == 200
    seen = _ids(service, "blue-officer")
    assert (seen["4ca7b1"]["party"], seen["4ca7b1"]["disclosure"]) == ("blue", "shared")
    assert (seen["aa0001"]["operator"], seen["aa0001"]["disclosure"]) == ("unknown", "shared")


def test_the_feed_may_defer_the_detection_to_the_last_batch_of_a_round(service: Service) -> None:
    """A round in two batches: the first (two aircraft head-on) says more follow, and no
    alert is raised until the last; an officer may not defer the detection."""
    pair = [_feed("aa0001", 25.0, 21.0), _feed("aa0002", 25.0, 21.5, track_deg=270)]
    first = service.post("/v1/tracks", "admin", json={"tracks": pair, "more": True})
    assert first.status_code == 200, first.text
    assert first.json()["raised"] == []
    assert service.get("/v1/alerts", "observer").json()["items"] == []
    last = post(service, "admin", _feed("aa0003", 27.0, 23.0))
    assert last.status_code == 200, last.text
    (alert,) = service.get("/v1/alerts", "observer").json()["items"]
    assert sorted(alert["tracks"]) == ["aa0001", "aa0002"]
    refused = service.post("/v1/tracks", "blue-officer", json={"tracks": [BLUE], "more": True})
    assert refused.status_code == 422 and "more" in refused.text
