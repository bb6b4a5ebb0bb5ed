"""Confirming a condition: one row and exactly one signed record entry, committed together or
not at all; the phase in force follows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accord.center.db.models import Confirmation, RecordAuthor, RecordLeaf
from accord.center.ledger import Ledger
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from support.failures import assert_problem
from support.jig import NOW
from support.service import Service, center_of

CONFIRM = "/v1/phases/confirm"
AID = {"condition": "aid-delivered-east-city"}


def counts(service: Service) -> tuple[int, int, int]:
    with center_of(service).reading() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Confirmation, RecordLeaf, RecordAuthor)
        )


def test_a_confirmation_writes_one_row_and_one_signed_entry(service: Service) -> None:
    assert service.get("/v1/me", "observer").json()["phase"]["id"] == "truce"
    response = service.post(CONFIRM, "hnc-notifier", json=AID)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["entry"] == 0 and body["member"] == "hnc" and body["user"] == "hnc-notifier"
    assert body["phase"]["id"] == "joint-center"
    assert counts(service) == (1, 1, 1)
    with center_of(service).reading() as session:
        log = center_of(service).log(session)
        _, _, raw = open_envelope(log.entry(0))
    entry = loads_canonical(raw)
    assert entry["author"] == "hnc" and entry["seq"] == 1
    assert entry["event"] == {
        "kind": "condition.confirmed",
        "condition": "aid-delivered-east-city",
        "user": "hnc-notifier",
    }
    me = service.get("/v1/me", "blue-officer").json()
    assert me["phase"]["id"] == "joint-center"
    assert me["confirmations"] == {"aid-delivered-east-city": "2026-09-21T16:00:00Z"}


def test_a_member_confirms_once(service: Service) -> None:
    assert service.post(CONFIRM, "hnc-notifier", json=AID).status_code == 201
    body = assert_problem(service.post(CONFIRM, "hnc-notifier", json=AID), 409)
    assert "already confirmed" in body["detail"]
    # Another listed member may add its own confirmation: a second entry, seq 1 of its own.
    again = service.post(CONFIRM, "observer", json=AID)
    assert again.status_code == 201 and again.json()["entry"] == 1
    assert counts(service) == (2, 2, 2)


def test_a_failure_after_the_writes_leaves_neither_row_nor_entry(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Ledger.append
    calls: list[int] = []

    def append_then_fail(self: Ledger, *args: object, **kwargs: object) -> int:
        calls.append(original(self, *args, **kwargs))  # type: ignore[arg-type]
        raise RuntimeError("the handler fails after writing the row and the entry")

    monkeypatch.setattr(Ledger, "append", append_then_fail)
    response = service.post(CONFIRM, "hnc-notifier", json=AID)
    assert_problem(response, 500)
    assert calls == [0]
    assert counts(service) == (0, 0, 0)
    monkeypatch.undo()
    # Nothing stale survives the rollback: the next confirmation is entry 0, seq 1.
    response = service.post(CONFIRM, "hnc-notifier", json=AID)
    assert response.status_code == 201 and response.json()["entry"] == 0
    assert counts(service) == (1, 1, 1)
    assert service.get("/v1/record/head", "observer").json()["size"] == 1


def test_confirmations_are_dated_by_the_service_clock(service: Service) -> None:
    body = service.post(CONFIRM, "observer", json=AID).json()
    assert body["confirmed_at"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_confirmation_is_a_live_event_for_every_member(service: Service) -> None:
    from accord.center.event_store import events_for

    assert service.post(CONFIRM, "hnc-notifier", json=AID).status_code == 201
    with center_of(service).reading() as session:
        for member in ("blue", "red", "hnc", "observers"):
            (event,) = events_for(session, member, after=0)
            assert event.kind == "condition.confirmed"
            assert event.payload == {"condition": AID["condition"], "member": "hnc", "entry": 0}
        assert events_for(session, "green-af", after=0) == []
