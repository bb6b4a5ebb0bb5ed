"""``Idempotency-Key``: a retried POST gets the first answer and records nothing twice; the
same key for another request is refused; a refused request stores nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from accord.center.db.models import Confirmation, IdempotentAnswer, RecordLeaf
from support.failures import assert_problem
from support.service import Service, center_of

CONFIRM = "/v1/phases/confirm"
AID = {"condition": "aid-delivered-east-city"}


def rows(service: Service) -> tuple[int, int, int]:
    with center_of(service).reading() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Confirmation, RecordLeaf, IdempotentAnswer)
        )


def test_a_retry_gets_the_first_answer_and_changes_nothing(service: Service) -> None:
    key = {"Idempotency-Key": "confirm-aid-1"}
    first = service.post(CONFIRM, "hnc-notifier", json=AID, headers=key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert rows(service) == (1, 1, 1)
    again = service.post(CONFIRM, "hnc-notifier", json=AID, headers=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert rows(service) == (1, 1, 1)
    # Without the key the same request is a new one, and the rules refuse it.
    assert_problem(service.post(CONFIRM, "hnc-notifier", json=AID), 409)


def test_a_key_is_per_user(service: Service) -> None:
    key = {"Idempotency-Key": "same-key"}
    assert service.post(CONFIRM, "hnc-notifier", json=AID, headers=key).status_code == 201
    other = service.post(CONFIRM, "observer", json=AID, headers=key)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.json()["member"] == "observers"
    assert rows(service) == (2, 2, 2)


def test_the_same_key_for_another_request_is_refused(service: Service) -> None:
    key = {"Idempotency-Key": "k"}
    assert service.post(CONFIRM, "hnc-notifier", json=AID, headers=key).status_code == 201
    body = assert_problem(
        service.post(CONFIRM, "hnc-notifier", json={"condition": "other"}, headers=key), 422
    )
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert rows(service) == (1, 1, 1)


def test_a_refused_request_stores_no_answer(service: Service) -> None:
    key = {"Idempotency-Key": "refused"}
    assert_problem(service.post(CONFIRM, "blue-officer", json=AID, headers=key), 403)
    assert rows(service) == (0, 0, 0)


def test_a_malformed_key_names_the_header(service: Service) -> None:
    for bad in ("", "x" * 256, "tab\there"):
        headers = {**service.auth("hnc-notifier"), "Idempotency-Key": bad}
        response = service.client.post(CONFIRM, json=AID, headers=headers)
        body = assert_problem(response, 422)
        assert body["errors"][0]["field"] == "Idempotency-Key"
    assert rows(service) == (0, 0, 0)
