"""Airspace alerts in groups: a batch of N aircraft adds O(N) record entries however tightly
packed (one entry per cluster of aircraft in conflict, split at 64 KiB), and its escalation
O(N) too; two clusters are two groups; the alerts route still lists every pair to the
parties concerned, each pointing at its group; a group is acknowledged once; an outsider's
view of a pair with another party's hidden aircraft carries no number about it, in answers,
events, the record and a flight plan's probe answer."""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from accord.center.airspace.escalation import ALERT_ACK_WITHIN, escalate_alerts_due
from accord.center.db.models_airspace import AirspaceAlertGroup
from accord.center.event_store import events_for
from accord.chrono import format_instant
from accord.record.entries import open_envelope
from support.jig import NOW
from support.service import Service, center_of
from support.tracks import BLUE, RED, T, airspace_entries, plan, post, report, rows_of

ENTRY_MAX = 64 * 1024


def size(service: Service) -> int:
    return int(service.get("/v1/record/head", "observer").json()["size"])


def spot(n: int, lat: float, lon: float, seed: int, hidden: int = 0) -> list[dict[str, Any]]:
    """``n`` aircraft within about 1 km of (lat, lon), within 600 ft of FL300: every pair has
    lost separation. Half blue's (the first ``hidden`` of them ``center``), half red's."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        party = "blue" if k % 2 == 0 else "red"
        one = report(
            f"{party[0]}{seed}-{k}",
            party,
            lat + rng.uniform(-0.005, 0.005),
            lon + rng.uniform(-0.005, 0.005),
            alt_ft=30000 + rng.uniform(-300, 300),
            track_deg=rng.uniform(0, 360),
            gs_kt=rng.uniform(150, 450),
        )
        if party == "blue" and k // 2 < hidden:
            one["disclosure"] = "center"
        out.append(one)
    return out


def record_bytes(service: Service, start: int) -> list[tuple[int, dict[str, Any]]]:
    got = service.get("/v1/record/entries", "observer", params={"start": start, "end": 10**6})
    out = []
    for e in got.json()["entries"]:
        data = base64.b64decode(e["data"])
        _index, _prev, body = open_envelope(data)
        out.append((len(data), json.loads(body)["event"]))
    return out


def test_a_batch_of_500_aircraft_in_one_spot_adds_o_n_entries(service: Service) -> None:
    n = 500
    before = size(service)
    answer = post(service, "admin", *spot(n, 25.0, 21.0, seed=1, hidden=50))
    assert answer.status_code == 200, answer.text
    added = size(service) - before
    pairs = n * (n - 1) // 2
    center = center_of(service)
    with center.reading() as session:
        alerts = session.scalar(select(func.sum(AirspaceAlertGroup.count)))
        groups = session.scalar(select(func.count()).select_from(AirspaceAlertGroup))
    assert alerts == pairs  # every pair is a finding, each an alert a reader can list
    assert added <= 2 * n + 10, (added, pairs)
    assert added < pairs / 1000
    written = record_bytes(service, before)
    assert len(written) == added and all(length <= ENTRY_MAX for length, _ in written)
    conflicts = [e for _, e in written if e["kind"] == "airspace.conflict"]
    assert len(conflicts) == groups and sum(len(e["findings"]) for e in conflicts) == pairs
    # two clusters, each split: the shared one (with the pairs of a hidden aircraft and a
    # shared one), and the pairs of blue's hidden aircraft among themselves
    parts = Counter(e["parts"] for e in conflicts)
    assert len(parts) == 2 and all(parts[p] == p for p in parts), parts
    # the escalation that follows: one step per group and party, not per pair
    before = size(service)
    steps = 0
    for minutes in range(0, 30):
        at = NOW + ALERT_ACK_WITHIN + timedelta(minutes=minutes)
        while done := escalate_alerts_due(center, at):
            steps += done
    # nobody keeps a chain: each party of a group is overdue at once, in one step
    assert groups <= steps == size(service) - before <= 2 * groups
    assert steps <= n
    # a monitor's list still shows pairs, each pointing at its group and entry
    listed = service.get("/v1/alerts", "observer", params={"limit": 500}).json()["items"]
    assert len(listed) == 500 and all(len(a["tracks"]) == 2 for a in listed)
    entry_of = {e["group"]: k for k, (_, e) in enumerate(written)}
    assert all(a["entry"] == before - len(written) + entry_of[a["group"]] for a in listed)


def test_a_dispersing_cluster_is_cleared_in_batches(service: Service) -> None:
    n = 80  # 3,160 pairs: more than one clearing entry holds
    assert post(service, "admin", *spot(n, 25.0, 21.0, seed=5)).status_code == 200
    before = size(service)
    later = format_instant(NOW + timedelta(seconds=1))
    grid = [  # 0.2° apart (12 NM), all flying east at the same speed: no conflict left
        dict(one, lat=25.0 + (k % 10) * 0.2, lon=21.0 + (k // 10) * 0.2, track_deg=90,
             gs_kt=300, alt_ft=30000, time=later)
        for k, one in enumerate(spot(n, 25.0, 21.0, seed=5))
    ]  # fmt: skip
    answer = post(service, "admin", *grid)
    assert answer.status_code == 200, answer.text
    cleared = [e for _, e in record_bytes(service, before)]
    assert [e["kind"] for e in cleared] == ["airspace.cleared", "airspace.cleared"]
    assert sum(len(e["alerts"]) for e in cleared) == n * (n - 1) // 2
    assert service.get("/v1/alerts", "observer").json()["items"] == []
    with center_of(service).reading() as session:
        got = [
            e
            for e in events_for(session, "red", after=0, limit=10_000)
            if e.kind == "airspace.cleared"
        ]
    (one,) = got  # one event per reader cut for the whole pass
    assert one.payload["truncated"] is True and len(one.payload["alerts"]) == 100
    assert all(a["cleared"] for a in one.payload["alerts"])
    # nothing left to escalate
    assert escalate_alerts_due(center_of(service), NOW + timedelta(hours=1)) == 0


def test_two_clusters_are_two_groups(service: Service) -> None:
    here, there = spot(6, 25.0, 21.0, seed=2), spot(4, 30.0, 30.0, seed=3)
    before = size(service)
    assert post(service, "admin", *here, *there).status_code == 200
    groups = [e for _, e in record_bytes(service, before) if e["kind"] == "airspace.conflict"]
    assert sorted(len(e["findings"]) for e in groups) == [6, 15]
    for e in groups:
        ids = {a["id"] for a in e["aircraft"]}
        assert ids <= {a["id"] for a in here} or ids <= {a["id"] for a in there}
    assert size(service) - before == 2


def test_the_alerts_route_lists_every_pair_to_the_parties_concerned(service: Service) -> None:
    scene = spot(6, 25.0, 21.0, seed=4)  # b, r, b, r, b, r: 3 of each
    assert post(service, "admin", *scene).status_code == 200
    mine = {
        user: service.get("/v1/alerts", user).json()["items"]
        for user in ("blue-officer", "red-approver", "observer")
    }
    assert len(mine["observer"]) == 15
    # 3 blue-blue pairs and 9 mixed ones concern blue; the same for red
    for user, own in (("blue-officer", "b"), ("red-approver", "r")):
        pairs = {tuple(sorted(a["tracks"])) for a in mine[user]}
        assert len(pairs) == len(mine[user]) == 12
        assert all(any(t.startswith(own) for t in p) for p in pairs)
    everyone = {tuple(sorted(a["tracks"])) for a in mine["observer"]}
    expected = {(a["id"], b["id"]) for a in scene for b in scene if a["id"] < b["id"]}
    assert everyone == expected
    (group,) = {a["group"] for a in mine["observer"]}
    (content_hash,) = {a["content_hash"] for a in mine["observer"]}
    (_, event) = airspace_entries(service)[-1]
    assert event["group"] == group
    assert {f"{group}.{n}" for n in range(15)} == {a["id"] for a in mine["observer"]}
    # the page's events: one per group and reader cut, listing the pairs
    with center_of(service).reading() as session:
        got = [
            e
            for e in events_for(session, "blue", after=0, limit=10_000)
            if e.kind == "airspace.conflict"
        ]
    (one,) = got
    assert one.payload["groups"] == [group] and one.payload["count"] == 12
    assert {a["id"] for a in one.payload["alerts"]} == {a["id"] for a in mine["blue-officer"]}
    # one acknowledgement covers the group; a second naming another pair is refused
    first, other = mine["blue-officer"][0]["id"], mine["blue-officer"][1]["id"]
    body = {"content_hash": content_hash}
    ok = service.post(f"/v1/alerts/{first}/acknowledge", "blue-officer", json=body)
    assert ok.status_code == 201, ok.text
    again = service.post(f"/v1/alerts/{other}/acknowledge", "blue-officer", json=body)
    assert again.status_code == 409
    by_group = service.post(f"/v1/alerts/{group}/acknowledge", "red-officer", json=body)
    assert by_group.status_code == 201, by_group.text
    listed = service.get("/v1/alerts", "observer").json()["items"]
    assert all(a["acknowledged"] == ["blue", "red"] for a in listed)
    (_, ack) = airspace_entries(service)[-1]
    assert ack == {"kind": "airspace.acknowledged", "group": group, "content_hash": content_hash}


def numbers(value: Any) -> set[float]:
    """Every number in a JSON value, floats and ints alike."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return set()
    if isinstance(value, int | float):
        return {float(value)}
    items = value.values() if isinstance(value, dict) else value
    out: set[float] = set()
    for item in items:
        out |= numbers(item)
    return out


def test_an_outsider_learns_no_number_about_a_hidden_aircraft(service: Service) -> None:
    # blue's hidden aircraft passes 0.05° north of red's, 700 ft above: a miss distance,
    # a vertical separation and a time of closest approach that red must not learn (700 ft:
    # no number of red's own aircraft)
    hidden = dict(BLUE, lat=25.05, alt_ft=30700, disclosure="center")
    assert post(service, "blue-officer", hidden).status_code == 200
    (red_view,) = post(service, "red-officer", RED).json()["raised"]
    (blue_view,) = service.get("/v1/alerts", "blue-officer").json()["items"]
    assert blue_view["horizontal_nm"] > 2 and blue_view["vertical_ft"] == 700
    secret = {blue_view["horizontal_nm"], blue_view["vertical_ft"], blue_view["tcpa_s"]}
    assert red_view["horizontal_nm"] is None and red_view["vertical_ft"] is None
    assert red_view["tcpa_s"] is None and red_view["predicted_at"] == blue_view["predicted_at"]
    assert red_view["tracks"] == [None, "r1"] and red_view["others"] == [
        {"party": "blue", "operator": "blue"}
    ]
    # its place is red's own aircraft when separation is lost: on red's track (lat 25)
    assert red_view["lat"] == 25.0 and red_view["lon"] < 21.5
    (monitor_view,) = service.get("/v1/alerts", "observer").json()["items"]
    assert monitor_view["lat"] is None and monitor_view["horizontal_nm"] is None
    with center_of(service).reading() as session:
        seen = {
            member: [e.payload for e in events_for(session, member, after=0, limit=10_000)]
            for member in ("red", "observers")
        }
    record = [e for _, e in airspace_entries(service)]
    (row,) = rows_of(record[0])
    assert (row["tcpa_s"], row["dcpa_nm"], row["vertical_ft"]) == (None, None, None)
    for where, value in (
        ("answer", red_view),
        ("list", service.get("/v1/alerts", "red-officer").json()),
        ("events", seen),
        ("record", record),
    ):
        assert not numbers(value) & secret, where
        assert "25.05" not in json.dumps(value) and "30700" not in json.dumps(value), where


def test_a_flight_plan_probe_tells_nothing_finer_than_when(service: Service) -> None:
    hidden = service.post(
        "/v1/declarations", "blue-officer", json=plan(21.0, 22.0, "blue", "center")
    )
    assert hidden.status_code == 201, hidden.text
    mine = service.post("/v1/declarations", "red-officer", json=plan(22.0, 21.0, "red"))
    (conflict,) = mine.json()["airspace"]
    assert conflict["party"] == "blue" and conflict["other"] is None
    assert conflict["los_at"] is not None
    assert (conflict["dcpa_m"], conflict["cpa_at"], conflict["los_until"]) == (None, None, None)
    (blue_view,) = service.get("/v1/alerts", "blue-officer").json()["items"]
    (red_view,) = service.get("/v1/alerts", "red-officer").json()["items"]
    assert blue_view["horizontal_nm"] is not None and red_view["horizontal_nm"] is None
    (_, event) = airspace_entries(service)[-1]
    (row,) = rows_of(event)
    assert row["dcpa_nm"] is None and row["cpa_s"] is None and row["los_until_s"] is None


def test_compliance_reads_grouped_and_single_violation_entries() -> None:
    from accord.center.entry_kinds import Recorded
    from accord.center.picture.compliance import _tracks
    from support.jig import AGREEMENT

    group = {
        "kind": "airspace.violation",
        "group": "a-0123456789",
        "raised_at": format_instant(NOW),
        "area": "da-north",
        "aircraft": [
            {"party": "red", "operator": "red", "disclosure": "center"},
            {"party": None, "operator": "green-af", "disclosure": "shared", "id": "g1"},
            {"party": "blue", "operator": "blue", "disclosure": "shared", "id": "b7"},
        ],
        "fields": ["aircraft", "inside", "entry_s", "entry_point"],
        "findings": [[0, True, 0.0, None], [1, True, 0.0, [21.0, 25.2]], [2, False, 90.0, None]],
    }
    single = {
        "kind": "airspace.violation",
        "alert": "a-0000000000000001",
        "aircraft": [{"party": "red", "operator": "red", "disclosure": "center"}],
        "area": "da-north",
        "inside": True,
        "entry_at": format_instant(NOW),
    }
    records = [Recorded(0, "origin", NOW, group), Recorded(1, "origin", NOW, single)]
    found = [f for record in records for f in _tracks(AGREEMENT, record, "origin")]
    assert [(f.party, f.subject, f.entries) for f in found] == [
        ("red", "a-0123456789.0", [0]),
        ("blue", "a-0123456789.2", [0]),
        ("red", "a-0000000000000001", [1]),
    ]
    assert found[1].at == NOW + timedelta(seconds=90) and "heading into" in found[1].detail
    assert "an aircraft of red" in found[0].detail


def test_persisting_alerts_are_kept_current_least_recent_first(
    service: Service, monkeypatch: Any
) -> None:
    from accord.center.airspace import detection

    monkeypatch.setattr(detection, "KEPT_CURRENT_MAX", 6)
    scene = spot(6, 25.0, 21.0, seed=6)  # 15 pairs
    assert post(service, "admin", *scene).status_code == 200

    def seen() -> list[str]:
        items = service.get("/v1/alerts", "observer").json()["items"]
        return sorted(a["last_seen"] for a in items)

    assert seen() == [T] * 15
    center = center_of(service)
    for k in (1, 2, 3):
        at = format_instant(NOW + timedelta(seconds=k))
        monkeypatch.setattr(center, "clock", lambda k=k: NOW + timedelta(seconds=k))
        answer = post(service, "admin", *(dict(one, time=at) for one in scene)).json()
        assert answer["raised"] == [] and answer["cleared"] == []
        assert seen().count(at) == 6
    # 6 + 6 + 3 of the first round's, then 3 of the second's: every alert kept within 3 passes
    counts = sorted(seen())
    assert counts.count(format_instant(NOW + timedelta(seconds=1))) == 3
    assert counts.count(format_instant(NOW + timedelta(seconds=2))) == 6
    assert T not in counts


def test_a_hidden_aircraft_links_no_two_alerts(service: Service) -> None:
    # red's two aircraft 7.6 NM apart (no conflict), blue's between them, 3.8 NM from each:
    # shared, it joins them in one group; hidden, nothing tells red that one aircraft
    # conflicts with both (the groups, the record's aircraft lists)
    def scene(disclosure: str, suffix: str, lat: float) -> list[dict[str, Any]]:
        common = {"track_deg": 180, "gs_kt": 400, "alt_ft": 30000}
        return [
            report(f"h{suffix}", "blue", lat, 21.0, disclosure=disclosure, **common),
            report(f"w{suffix}", "red", lat, 20.93, **common),
            report(f"e{suffix}", "red", lat, 21.07, **common),
        ]

    for disclosure, suffix, groups in (("shared", "1", 1), ("center", "2", 2)):
        before = size(service)
        blue, *red = scene(disclosure, suffix, 20.0 if suffix == "1" else 15.0)
        assert post(service, "blue-officer", blue).status_code == 200
        answer = post(service, "red-officer", *red).json()
        assert answer["raised_count"] == 2, [(a["kind"], a["tracks"]) for a in answer["raised"]]
        assert len({a["group"] for a in answer["raised"]}) == groups, disclosure
        written = [e for _, e in record_bytes(service, before) if e["kind"] == "airspace.conflict"]
        listed = [a for e in written for a in e["aircraft"]]
        assert len(written) == groups
        assert len(listed) == (3 if disclosure == "shared" else 4)


def test_a_pass_makes_the_dicts_of_the_aircraft_it_names_only() -> None:
    """:class:`TrackAircraft` answers what the list of every aircraft's dict answered (by
    index, negative and sliced; its columns), making each dict when first asked."""
    from accord.center.airspace.findings import TrackAircraft, _aircraft, column
    from accord.center.airspace.trackstore import Track, key_of

    rng = random.Random(7)
    owners, disclosures = ["blue", "red", "unknown"], ["shared", "center"]
    state = (22.0, 20.0, 30_000.0, 400.0, 90.0, 0.0)
    rows = [
        Track(rng.choice(owners), f"a{k}", "blue", None, "m", NOW, *state, rng.choice(disclosures))
        for k in range(12)
    ]
    keys = [key_of(r) for r in rows]
    lazy = TrackAircraft(rows, keys)
    made = [_aircraft(r, k) for r, k in zip(rows, keys, strict=True)]
    assert lazy._made == {}
    for name in ("key", "owner", "disclosure"):
        assert list(column(lazy, name)) == [one[name] for one in made] == column(made, name)
    assert lazy._made == {}  # the columns made no dict
    assert lazy[3] == made[3] and lazy[-1] == made[-1] and lazy[2:9:3] == made[2:9:3]
    assert lazy[3] is lazy[3] and len(lazy) == len(made)
    assert sorted(lazy._made) == [2, 3, 5, 8, 11]
