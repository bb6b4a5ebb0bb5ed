"""Live tracks and airspace alerts through the service: batches validated whole, stale
reports dropped, who may report what, conflicts alerted to both parties once and cleared,
designated areas (violation and exempt), the disclosure of a ``center`` track, idempotency,
and the flight-plan probe on declaration."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest

from accord.center.event_store import events_for
from accord.chrono import format_instant
from accord.record.canonical import canonical_json
from accord.record.commitments import commitment
from support.jig import NOW
from support.service import Service, center_of
from support.tracks import BLUE, RED, T, airspace_entries, entries, plan, post, report, rows_of


def test_a_bad_report_refuses_the_whole_batch_naming_the_field(service: Service) -> None:
    bad = report("b2", "blue", 95.0, 21.0)
    worse = report("b3", "blue", 25, 21, extra=1, gs_kt="fast")
    answer = post(service, "blue-officer", BLUE, bad, worse)
    assert answer.status_code == 422, answer.text
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"tracks[1].lat", "tracks[2].gs_kt", "tracks[2].extra"}
    assert service.get("/v1/tracks", "blue-officer").json() == {"items": []}
    future = report("b4", "blue", 25, 21, time=format_instant(NOW + timedelta(minutes=5)))
    refused = post(service, "blue-officer", future)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["tracks[0].time"]


def test_who_may_report_what(service: Service) -> None:
    other = post(service, "blue-officer", RED)
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["tracks[0].party"]
    assert post(service, "red-approver", RED).status_code == 403
    assert post(service, "observer", RED).status_code == 403
    assert post(service, "hnc-notifier", RED).status_code == 403
    feed = post(service, "admin", RED, report("g1", None, 20.0, 10.0))
    assert feed.status_code == 200, feed.text
    assert feed.json()["accepted"] == 2


def test_stale_reports_are_dropped_and_counted(service: Service) -> None:
    older = dict(BLUE, time=format_instant(NOW - timedelta(seconds=30)), lat=24.0)
    first = post(service, "blue-officer", BLUE)
    assert first.json()["accepted"] == 1
    again = post(service, "blue-officer", BLUE, older).json()
    assert (again["accepted"], again["dropped"]) == (0, 2)
    (track,) = service.get("/v1/tracks", "blue-officer").json()["items"]
    assert track["lat"] == 25.0 and track["id"] == "b1"


def test_a_conflict_is_alerted_to_both_parties_once_and_cleared(service: Service) -> None:
    post(service, "blue-officer", BLUE)
    answer = post(service, "red-officer", RED).json()
    (alert,) = answer["raised"]
    assert alert["kind"] == "conflict" and alert["parties"] == ["blue", "red"]
    assert alert["tracks"] == ["b1", "r1"] and alert["cleared"] is False
    assert alert["horizontal_nm"] < 5 and alert["vertical_ft"] == 0
    assert alert["lat"] is not None and alert["predicted_at"] > T
    for user in ("blue-officer", "red-approver", "observer"):
        (seen,) = service.get("/v1/alerts", user).json()["items"]
        assert seen["id"] == alert["id"]
    center = center_of(service)
    with center.reading() as session:
        for member in ("blue", "red", "observers"):
            kinds = [e.kind for e in events_for(session, member, after=0, limit=1000)]
            assert kinds.count("airspace.conflict") == 1, (member, kinds)
        assert not [
            e for e in events_for(session, "hnc", after=0, limit=1000) if "airspace" in e.kind
        ]
    # persisting: not raised again
    later = dict(BLUE, time=format_instant(NOW + timedelta(seconds=1)))
    assert post(service, "blue-officer", later).json()["raised"] == []
    (raised,) = [e for a, e in airspace_entries(service) if e["kind"] == "airspace.conflict"]
    (author,) = {a for a, e in airspace_entries(service)}
    assert author == center.origin
    assert alert["id"] == f"{raised['group']}.0" and alert["group"] == raised["group"]
    (row,) = rows_of(raised)
    assert row["dcpa_nm"] == alert["horizontal_nm"] and row["vertical_ft"] == 0
    assert [a["id"] for a in raised["aircraft"]] == ["b1", "r1"] and (row["a"], row["b"]) == (0, 1)
    # the record verifies with the center's entries in it
    head = service.get("/v1/record/head", "observer")
    assert head.status_code == 200
    # blue turns away and climbs: cleared
    away = dict(BLUE, time=format_instant(NOW + timedelta(seconds=2)), track_deg=270, alt_ft=36000)
    cleared = post(service, "blue-officer", away).json()
    assert cleared["cleared"] == [alert["id"]]
    assert service.get("/v1/alerts", "red-officer").json()["items"] == []
    (gone,) = service.get("/v1/alerts", "red-officer", params={"cleared": True}).json()["items"]
    assert gone["cleared"] is True
    assert [e["kind"] for _, e in airspace_entries(service)] == [
        "airspace.conflict",
        "airspace.cleared",
    ]
    with center.reading() as session:
        events = events_for(session, "red", after=0, limit=1000)
    (clear_event,) = [e for e in events if e.kind == "airspace.cleared"]
    (view,) = clear_event.payload["alerts"]
    assert view["cleared"] is True and view["id"] == alert["id"]
    (_, cleared_entry) = airspace_entries(service)[-1]
    assert cleared_entry["alerts"] == [alert["id"]]


def test_acknowledging_an_alert_names_its_hash(service: Service) -> None:
    post(service, "blue-officer", BLUE)
    (alert,) = post(service, "red-officer", RED).json()["raised"]
    (_, event) = next(x for x in airspace_entries(service) if x[1]["kind"] == "airspace.conflict")
    assert alert["content_hash"] == hashlib.sha256(canonical_json(event)).hexdigest()
    path = f"/v1/alerts/{alert['id']}/acknowledge"
    wrong = service.post(path, "red-officer", json={"content_hash": "0" * 64})
    assert wrong.status_code == 409
    ok = service.post(path, "red-officer", json={"content_hash": alert["content_hash"]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["acknowledged"] == ["red"]
    assert (
        service.post(path, "red-officer", json={"content_hash": alert["content_hash"]}).status_code
        == 409
    )
    assert (
        service.post(path, "observer", json={"content_hash": alert["content_hash"]}).status_code
        == 403
    )
    (author, ack) = entries(service)[-1]
    assert (author, ack["kind"]) == ("red", "airspace.acknowledged")


def test_a_center_track_is_cut_everywhere(service: Service) -> None:
    hidden = dict(BLUE, id="MARKER-HIDDEN-AC", mission="MARKER-MISSION", disclosure="center")
    made = post(service, "blue-officer", hidden)
    assert made.status_code == 200, made.text
    (alert,) = post(service, "red-officer", RED).json()["raised"]
    assert alert["tracks"] == [None, "r1"] and alert["others"] == [
        {"party": "blue", "operator": "blue"}
    ]
    # DECISIONS 1: red learns that separation is lost with blue's aircraft and when, no more
    assert alert["horizontal_nm"] is None and alert["vertical_ft"] is None
    assert alert["tcpa_s"] is None and alert["predicted_at"] > T
    assert alert["lat"] is not None  # red's own aircraft when separation is lost
    text = json.dumps(alert)
    assert "MARKER" not in text
    assert [t["id"] for t in service.get("/v1/tracks", "red-officer").json()["items"]] == ["r1"]
    assert [t["id"] for t in service.get("/v1/tracks", "observer").json()["items"]] == ["r1"]
    own = {t["id"] for t in service.get("/v1/tracks", "blue-approver").json()["items"]}
    assert own == {"MARKER-HIDDEN-AC", "r1"}
    for user in ("red-officer", "observer"):
        listed = json.dumps(service.get("/v1/alerts", user).json())
        assert "MARKER" not in listed
    monitor_view = service.get("/v1/alerts", "observer").json()["items"][0]
    assert monitor_view["lat"] is None
    blue_view = service.get("/v1/alerts", "blue-officer").json()["items"][0]
    assert blue_view["tracks"] == ["MARKER-HIDDEN-AC", "r1"]
    center = center_of(service)
    with center.reading() as session:
        for member in ("red", "observers"):
            blob = repr([(e.kind, e.payload) for e in events_for(session, member, after=0)])
            assert "MARKER" not in blob
    raw = json.dumps([e for _, e in entries(service)])
    assert "MARKER" not in raw
    (_, event) = next(x for x in airspace_entries(service) if x[1]["kind"] == "airspace.conflict")
    opening = blue_view["opening"]
    assert opening is not None and event["commitments"]["blue"] == opening["commitment"]
    content = json.loads(opening["content"])
    assert [a["id"] for a in content["aircraft"]] == ["MARKER-HIDDEN-AC"]
    salt = base64.b64decode(opening["salt"])
    assert base64.b64encode(commitment(content, salt=salt)).decode() == opening["commitment"]


def test_designated_area_violation_and_exempt(service: Service) -> None:
    strike = report("g-f16", None, 25.2, 20.98, mission="strike", alt_ft=20000)
    medevac = report("g-uh1", None, 25.15, 21.30, mission="medevac", gs_kt=110, alt_ft=2500)
    answer = post(service, "admin", strike, medevac)
    assert answer.status_code == 200, answer.text
    alerts = service.get("/v1/alerts", "red-officer").json()["items"]
    (violation,) = alerts
    assert violation["kind"] == "area" and violation["area"] == "da-north"
    assert violation["tracks"] == ["g-f16"] and set(violation["parties"]) >= {"blue", "red"}
    kinds = [e["kind"] for _, e in airspace_entries(service)]
    assert sorted(kinds) == ["airspace.exempt", "airspace.violation"]
    again = dict(medevac, time=format_instant(NOW + timedelta(seconds=1)))
    post(service, "admin", again)
    assert sorted(e["kind"] for _, e in airspace_entries(service)) == sorted(kinds)


def test_a_party_aircraft_in_an_area_counts_in_compliance(service: Service) -> None:
    # the example's area is closed to green-af only: a red aircraft counts nowhere
    post(service, "red-officer", report("r9", "red", 25.2, 21.2))
    report_ = service.get("/v1/compliance", "observer").json()
    assert all(p["counts"]["designated_area"] == 0 for p in report_["parties"])


def test_a_batch_is_idempotent(service: Service) -> None:
    key = {"Idempotency-Key": "tracks-1"}
    first = post(service, "blue-officer", BLUE, headers=key)
    second = post(service, "blue-officer", BLUE, headers=key)
    assert first.json() == second.json() and first.json()["accepted"] == 1
    assert second.headers.get("Idempotent-Replayed") == "true"


@pytest.mark.parametrize("disclosure", ["shared", "center"])
def test_a_flight_plan_is_probed_when_declared(service: Service, disclosure: str) -> None:
    first = service.post(
        "/v1/declarations", "blue-officer", json=plan(21.0, 22.0, "blue", disclosure)
    )
    assert first.status_code == 201, first.text
    assert first.json()["airspace"] == []
    second = service.post("/v1/declarations", "red-officer", json=plan(22.0, 21.0, "red"))
    assert second.status_code == 201, second.text
    (conflict,) = second.json()["airspace"]
    assert conflict["party"] == "blue"
    assert conflict["other"] == (first.json()["id"] if disclosure == "shared" else None)
    (alert,) = service.get("/v1/alerts", "blue-officer").json()["items"]
    assert alert["source"] == "plan" and alert["id"] == conflict["alert"]
    if disclosure == "center":
        red_view = json.dumps(service.get("/v1/alerts", "red-officer").json())
        assert first.json()["id"] not in red_view
    # red moves its plan two hours later: the conflict is cleared
    later = plan(22.0, 21.0, "red")
    later["properties"]["times"] = [
        format_instant(NOW + timedelta(hours=3)),
        format_instant(NOW + timedelta(hours=3, minutes=20)),
    ]
    rid = second.json()["id"]
    amended = service.client.put(
        f"/v1/declarations/{rid}", headers=service.auth("red-officer"), json=later
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["airspace"] == []
    assert service.get("/v1/alerts", "blue-officer").json()["items"] == []


def test_readers_only(service: Service) -> None:
    for user in ("hnc-notifier", "admin"):
        assert service.get("/v1/tracks", user).status_code == 403
        assert service.get("/v1/alerts", user).status_code == 403
    missing = service.get("/v1/alerts/a-0123456789abcdef", "red-officer")
    assert missing.status_code == 404


def test_track_violations_count_against_the_aircraft_party() -> None:
    from accord.center.entry_kinds import Recorded
    from accord.center.picture.compliance import _tracks
    from support.jig import AGREEMENT

    def violation(party: str | None, operator: str, **extra: Any) -> dict[str, Any]:
        aircraft = {"party": party, "operator": operator, "disclosure": "center", **extra}
        return {
            "kind": "airspace.violation",
            "alert": "a-0000000000000001",
            "aircraft": [aircraft],
            "area": "da-north",
            "inside": True,
            "entry_at": T,
        }

    records = [
        Recorded(0, "origin", NOW, violation("red", "red")),
        Recorded(1, "origin", NOW, violation(None, "green-af", id="g1")),
        Recorded(2, "red", NOW, violation("blue", "blue")),  # not the center's: ignored
    ]
    (found,) = [f for record in records for f in _tracks(AGREEMENT, record, "origin")]
    assert (found.party, found.entries, found.kind) == ("red", [0], "designated_area")
    assert "an aircraft of red" in found.detail
