"""Airspace alerts escalate like direct-line messages: a party concerned that does not
acknowledge within the window is escalated along its contact chain (absent contacts
skipped), then declared overdue; the steps are record entries by the center that verify;
both parties and the monitors see them (contact names to the party alone); an acknowledged
or cleared alert stops escalating; a hidden aircraft is not revealed by any of it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from accord.center.airspace.escalation import ALERT_ACK_WITHIN, escalate_alerts_due
from accord.center.event_store import events_for
from accord.chrono import format_instant
from accord.record.keys import KeyRing
from accord.record.verify import verify_log
from support.jig import NOW
from support.record import served_head
from support.service import Service, center_of
from support.tracks import BLUE, RED, airspace_entries, post

DUE = NOW + ALERT_ACK_WITHIN


def chain(service: Service, party: str) -> None:
    """``party``'s chain: its officer first (absent), its approver as backup (present)."""
    body = {"primary": f"{party}-officer", "backup": f"{party}-approver"}
    put = service.client.put("/v1/contacts", headers=service.auth(f"{party}-officer"), json=body)
    assert put.status_code == 200, put.text
    assert service.post("/v1/presence", f"{party}-approver").status_code == 201


def conflict(service: Service, blue: dict[str, Any] = BLUE) -> dict[str, Any]:
    assert post(service, "blue-officer", blue).status_code == 200
    (alert,) = post(service, "red-officer", RED).json()["raised"]
    return alert  # type: ignore[no-any-return]


def standing(service: Service, user: str, party: str) -> dict[str, Any]:
    (alert,) = service.get("/v1/alerts", user).json()["items"]
    (found,) = [r for r in alert["recipients"] if r["party"] == party]
    return found  # type: ignore[no-any-return]


def escalation_events(service: Service, member: str) -> list[tuple[str, dict[str, Any]]]:
    with center_of(service).reading() as session:
        return [
            (e.kind, e.payload)
            for e in events_for(session, member, after=0, limit=1000)
            if e.kind in ("airspace.escalated", "airspace.overdue")
        ]


def test_an_unacknowledged_alert_escalates_to_the_backup_then_is_overdue(
    service: Service, tmp_path: Path
) -> None:
    chain(service, "red")  # blue keeps no chain: overdue at once
    alert = conflict(service)
    assert {r["party"] for r in alert["recipients"]} == {"blue", "red"}
    assert all(r["deadline"] == format_instant(DUE) for r in alert["recipients"])
    center = center_of(service)
    assert escalate_alerts_due(center, DUE - timedelta(seconds=1)) == 0
    assert escalate_alerts_due(center, DUE) == 2
    assert escalate_alerts_due(center, DUE) == 0
    red = standing(service, "red-officer", "red")
    assert red["level"] == 1 and red["acknowledged"] is False
    assert red["deadline"] == format_instant(DUE + timedelta(minutes=1))
    (step,) = red["escalations"]
    assert (step["role"], step["contact"], step["skipped"]) == (
        "backup",
        "red-approver",
        ["primary"],
    )
    assert step["skipped_users"] == ["red-officer"]
    seen_by_blue = standing(service, "blue-officer", "red")["escalations"][0]
    assert seen_by_blue["role"] == "backup" and seen_by_blue["contact"] is None
    assert seen_by_blue["skipped_users"] is None
    blue = standing(service, "blue-officer", "blue")
    assert blue["overdue_at"] == format_instant(DUE) and blue["deadline"] is None
    # both parties and the monitors see red's step; names go to red alone
    (own,) = [p for k, p in escalation_events(service, "red") if p["party"] == "red"]
    assert own["contact"] == "red-approver" and own["group"] == alert["group"]
    for member in ("blue", "observers"):
        (other,) = [p for k, p in escalation_events(service, member) if p["party"] == "red"]
        assert other["role"] == "backup" and "contact" not in other
        assert "skipped_users" not in other
    # the backup does not answer either: nobody is left
    assert escalate_alerts_due(center, DUE + timedelta(seconds=59)) == 0
    assert escalate_alerts_due(center, DUE + timedelta(minutes=1)) == 1
    red = standing(service, "red-officer", "red")
    assert red["overdue_at"] is not None and red["deadline"] is None
    assert [s["kind"] for s in red["escalations"]] == ["escalated", "overdue"]
    steps = [(a, e) for a, e in airspace_entries(service) if e["kind"] != "airspace.conflict"]
    assert [(e["kind"], e["party"]) for _, e in steps] == [
        ("airspace.overdue", "blue"),
        ("airspace.escalated", "red"),
        ("airspace.overdue", "red"),
    ]
    assert {a for a, _ in steps} == {center.origin}
    escalated = steps[1][1]
    assert escalated["role"] == "backup" and escalated["skipped"] == ["primary"]
    assert escalated["deadline"] == format_instant(DUE + timedelta(minutes=1))
    # the record with the center's steps in it verifies with the project's verifier
    ring = KeyRing.from_json(service.get("/v1/keys", "observer").json())
    head = service.get("/v1/record/head", "observer").json()
    head = served_head(head)
    got = service.get("/v1/record/entries", "observer", params={"end": 10_000}).json()
    export = tmp_path / "export.jsonl"
    rows = [json.dumps({"i": e["index"], "data": e["data"]}) for e in got["entries"]]
    export.write_text("\n".join([*rows, json.dumps({"head": head})]) + "\n", encoding="utf-8")
    assert verify_log(export, keys=ring, workers=1).entries == len(got["entries"])
    # a late acknowledgement is still taken
    ack = {"content_hash": alert["content_hash"]}
    answer = service.post(f"/v1/alerts/{alert['id']}/acknowledge", "red-approver", json=ack)
    assert answer.status_code == 201, answer.text
    assert standing(service, "red-officer", "red")["acknowledged"] is True


def test_an_acknowledged_party_does_not_escalate(service: Service) -> None:
    chain(service, "red")
    chain(service, "blue")
    alert = conflict(service)
    ack = {"content_hash": alert["content_hash"]}
    answer = service.post(f"/v1/alerts/{alert['id']}/acknowledge", "red-officer", json=ack)
    assert answer.status_code == 201, answer.text
    (red,) = [r for r in answer.json()["recipients"] if r["party"] == "red"]
    assert red["acknowledged"] is True and red["deadline"] is None
    assert escalate_alerts_due(center_of(service), DUE + timedelta(hours=1)) == 1  # blue only
    assert [p["party"] for _, p in escalation_events(service, "observers")] == ["blue"]
    assert standing(service, "red-officer", "red")["escalations"] == []


def test_a_cleared_alert_does_not_escalate(service: Service) -> None:
    chain(service, "red")
    alert = conflict(service)
    later = format_instant(NOW + timedelta(seconds=2))
    away = dict(BLUE, time=later, track_deg=270, alt_ft=36000)
    assert post(service, "blue-officer", away).json()["cleared"] == [alert["id"]]
    assert escalate_alerts_due(center_of(service), DUE + timedelta(hours=1)) == 0
    (gone,) = service.get("/v1/alerts", "red-officer", params={"cleared": True}).json()["items"]
    assert all(r["deadline"] is None and r["level"] == 0 for r in gone["recipients"])
    assert escalation_events(service, "observers") == []


def test_escalation_does_not_reveal_a_hidden_aircraft(service: Service) -> None:
    chain(service, "red")
    chain(service, "blue")
    hidden = dict(BLUE, id="MARKER-HIDDEN-AC", mission="MARKER-MISSION", disclosure="center")
    alert = conflict(service, hidden)
    assert alert["tracks"][0] is None
    center = center_of(service)
    assert escalate_alerts_due(center, DUE) == 2
    assert escalate_alerts_due(center, DUE + timedelta(minutes=1)) == 2
    for member in ("red", "observers"):
        events = escalation_events(service, member)
        assert len(events) == 4
        assert "MARKER" not in json.dumps(events)
    for user in ("red-officer", "observer"):
        assert "MARKER" not in json.dumps(service.get("/v1/alerts", user).json())
    assert "MARKER" not in json.dumps(airspace_entries(service))
    # its owner still sees it
    assert "MARKER-HIDDEN-AC" in json.dumps(service.get("/v1/alerts", "blue-officer").json())
