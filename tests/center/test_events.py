"""``GET /v1/events``: each member gets exactly the events whose audience names it, resumes
after the last id it saw, and — on a real server — receives them as Server-Sent Events as
they happen; with PostgreSQL, across several server processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from accord.center import visibility
from accord.center.bootstrap import Parts
from accord.center.event_store import events_for
from accord.center.roles import Role
from accord.center.visibility import Viewer
from support.events import SSE, Subscriber, note, prepare, server, settings_served
from support.failures import assert_problem
from support.service import USERS, Service, center_of, clock

EVENTS = "/v1/events"
CONFIRM = "/v1/phases/confirm"
AID = {"condition": "aid-delivered-east-city"}


def kinds_and_n(page: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(e["kind"], e["payload"].get("n")) for e in page["events"]]


# --- the JSON page, through the test client (both backends) --------------------------------


def test_every_member_sees_exactly_its_audience(service: Service) -> None:
    assert service.post(CONFIRM, "hnc-notifier", json=AID).status_code == 201
    center = center_of(service)
    note(center, ["blue"], 1)
    note(center, ["red"], 2)
    note(center, ["hnc"], 3)
    note(center, ["blue", "observers"], 4)
    expected = {
        "blue": [1, 4],
        "red": [2],
        "hnc": [3],
        "observers": [4],
    }
    for user, (member, role) in USERS.items():
        response = service.get(EVENTS, user, params={"after": 0})
        assert response.status_code == 200, response.text
        page = response.json()
        if role is Role.ADMIN:  # acts for blue, reads none of its content: no events at all
            assert page == {"events": [], "last_id": 0}, user
            continue
        confirmed, *notes = page["events"]
        assert confirmed["kind"] == "condition.confirmed"
        assert confirmed["payload"] == {"condition": AID["condition"], "member": "hnc", "entry": 0}
        assert [e["payload"]["n"] for e in notes] == expected[member], user
        assert page["last_id"] == page["events"][-1]["id"]


def test_resume_after_an_id_by_query_or_last_event_id(service: Service) -> None:
    center = center_of(service)
    for n in range(1, 6):
        note(center, ["blue"], n)
    first = service.get(EVENTS, "blue-officer", params={"after": 0, "limit": 2}).json()
    assert kinds_and_n(first) == [("test.note", 1), ("test.note", 2)]
    rest = service.get(EVENTS, "blue-officer", params={"after": first["last_id"]}).json()
    assert [n for _, n in kinds_and_n(rest)] == [3, 4, 5]
    # Last-Event-ID (what a reconnecting EventSource sends) wins over ?after=.
    headers = {**service.auth("blue-officer"), "Last-Event-ID": str(rest["events"][1]["id"])}
    again = service.client.get(EVENTS, params={"after": 0}, headers=headers).json()
    assert [n for _, n in kinds_and_n(again)] == [5]
    # Nothing new: an empty page that keeps the position.
    empty = service.get(EVENTS, "blue-officer", params={"after": rest["last_id"]}).json()
    assert empty == {"events": [], "last_id": rest["last_id"]}


def test_a_bad_position_names_the_field(service: Service) -> None:
    for bad in ("x", "-1", "1.5", "99999999999999999999"):
        headers = {**service.auth("red-officer"), "Last-Event-ID": bad}
        body = assert_problem(service.client.get(EVENTS, headers=headers), 422)
        assert body["errors"][0]["field"] == "Last-Event-ID"
    body = assert_problem(service.get(EVENTS, "red-officer", params={"after": -1}), 422)
    assert body["errors"][0]["field"] == "after"


def test_no_token_no_events(service: Service) -> None:
    assert_problem(service.client.get(EVENTS, headers=SSE), 401)


def test_the_route_is_documented_as_an_event_stream(service: Service) -> None:
    operation = service.client.get("/openapi.json").json()["paths"][EVENTS]["get"]
    content = operation["responses"]["200"]["content"]
    assert "text/event-stream" in content and "application/json" in content
    assert {"401", "403", "422", "500"} <= set(operation["responses"])


# --- real servers ---------------------------------------------------------------------------


def test_a_stream_follows_changes_filters_and_resumes(tmp_path: Path, database_url: str) -> None:
    tokens = prepare(tmp_path, database_url)
    center = Parts(settings_served(tmp_path, database_url), clock=clock).open()
    try:
        with server(tmp_path, database_url, tokens) as running:
            blue = Subscriber(running, "blue-officer").start()
            red = Subscriber(running, "red-approver").start()
            hnc = Subscriber(running, "hnc-notifier").start()
            assert running.post(CONFIRM, "hnc-notifier", json=AID).status_code == 201
            note(center, ["blue"], 1)
            note(center, ["red"], 2)
            note(center, ["blue", "hnc"], 3)
            blue.wait_for(3)
            red.wait_for(2)
            hnc.wait_for(2)
            time.sleep(1)  # anything more would be a leak
            first = blue.messages[0]
            assert first["event"] == "condition.confirmed"
            data = json.loads(first["data"])
            assert data["condition"] == AID["condition"] and data["member"] == "hnc"
            assert "at" in data
            assert [json.loads(m["data"]).get("n") for m in blue.messages] == [None, 1, 3]
            assert [json.loads(m["data"]).get("n") for m in red.messages] == [None, 2]
            assert [json.loads(m["data"]).get("n") for m in hnc.messages] == [None, 3]
            # A reconnecting client resumes after the last id it got, missing nothing.
            resumed = Subscriber(
                running, "blue-officer", headers={"Last-Event-ID": str(blue.ids()[0])}
            ).start()
            resumed.wait_for(2)
            assert resumed.ids() == blue.ids()[1:]
            # Shutting down ends every open stream, promptly.
            assert running.stop() < 10
            for subscriber in (blue, red, hnc, resumed):
                assert subscriber.ended.wait(10), subscriber.user
    finally:
        center.close()


def events_of(user: str) -> str:
    """Whose events ``user`` of :data:`USERS` receives (the policy's rule)."""
    member, role = USERS[user]
    return visibility.events_member(Viewer(member, role))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # woken by NOTIFY
def test_two_worker_processes_give_every_subscriber_every_event(
    tmp_path: Path, database_url: str
) -> None:
    """Several subscribers, spread by the kernel over two uvicorn workers; changes made
    through the API (handled by either worker) and by a third process (this one): every
    subscriber gets every event its member may see, once, in order, and nothing else — within
    seconds, so by NOTIFY, not by the hub's 30-second fallback poll."""
    tokens = prepare(tmp_path, database_url)
    center = Parts(settings_served(tmp_path, database_url), clock=clock).open()
    audiences = [["blue"], ["red"], ["hnc"], ["observers"], ["blue", "red"], ["red", "hnc"]]
    try:
        with server(tmp_path, database_url, tokens, workers=2) as running:
            with center.reading() as session:  # the offices' certifications came before
                members = {events_of(user) for user in USERS}
                before = max(
                    (e.id for m in members for e in events_for(session, m, after=0, limit=1000)),
                    default=0,
                )
            users = [user for user in USERS for _ in range(2)]  # two streams per user
            subscribers = [Subscriber(running, user).start() for user in users]
            assert running.post(CONFIRM, "hnc-notifier", json=AID).status_code == 201
            for n, audience in enumerate(audiences * 3):
                note(center, audience, n)
            assert running.post(CONFIRM, "observer", json=AID).status_code == 201
            with center.reading() as session:
                expected = {  # the administrator's: none (it reads no party's content)
                    member: [e.id for e in events_for(session, member, after=before, limit=1000)]
                    for member in {events_of(user) for user in USERS}
                }
            for subscriber in subscribers:
                subscriber.wait_for(len(expected[events_of(subscriber.user)]), timeout=20)
            time.sleep(0.5)  # anything more would be a duplicate or a leak
            for subscriber in subscribers:
                assert subscriber.ids() == expected[events_of(subscriber.user)], subscriber.user
                assert subscriber.error is None
            assert len(expected["blue"]) == 2 + 2 * 3 and len(expected["observers"]) == 2 + 3
            assert running.stop() < 15
            for subscriber in subscribers:
                assert subscriber.ended.wait(10), subscriber.user
    finally:
        center.close()
