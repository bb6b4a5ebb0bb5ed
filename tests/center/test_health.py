"""``/healthz`` and ``/readyz`` (:mod:`accord.center.health`): no token needed, a word
answered and nothing else, readiness following the record's verification and the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import accord.center.health.service as service
from accord.center.health.service import READY_FOR_S, READY_STEP, Readiness, Status, readiness
from accord.center.picture.verified import verified_of
from accord.center.runtime import Center
from support.desk import Desk, named
from support.disclosure import SITE

BAD = [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"}]


class Ticks:
    """A clock for the readiness answer's keeping, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ready(desk: Desk, ticks: Ticks) -> tuple[int, dict[str, str]]:
    ticks.now += READY_FOR_S
    answer = desk.client.get("/readyz")
    assert answer.headers["cache-control"] == "no-store"
    return answer.status_code, answer.json()


def test_alive_and_ready_without_a_token_saying_one_word(desk: Desk) -> None:
    ticks = Ticks()
    desk.client.app.state.readiness = Readiness(ticks)  # type: ignore[attr-defined]
    for headers in BAD:
        alive = desk.client.get("/healthz", headers=headers)
        assert alive.headers["cache-control"] == "no-store"
        assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
        ticks.now += READY_FOR_S
        answer = desk.client.get("/readyz", headers=headers)
        assert (answer.status_code, answer.json()) == (200, {"status": "ready"})
    schema = desk.client.get("/openapi.json").json()
    assert not {"/healthz", "/readyz"} & set(schema["paths"])


def test_readiness_follows_the_records_verification(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = Ticks()
    desk.client.app.state.readiness = Readiness(ticks)  # type: ignore[attr-defined]
    for minutes in (1, 2, 3):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    record = verified_of(desk.center)
    with desk.center.reading() as session:
        size = desk.center.log(session).size
    assert record.verified < size  # written since the start-up's verification
    assert ready(desk, ticks) == (200, {"status": "ready"})  # the check verified the rest
    assert record.verified == size
    # Kept a second: a flood of probes reads the database once.
    asked: list[int] = []

    def counting(center: Center) -> Status:
        asked.append(1)
        return readiness(center)

    monkeypatch.setattr(service, "readiness", counting)
    kept = Readiness(ticks)
    assert {kept.status(desk.center) for _ in range(50)} == {"ready"} and len(asked) == 1
    ticks.now += READY_FOR_S
    assert kept.status(desk.center) == "ready" and len(asked) == 2
    # The last entry taken away after it was verified: a rewritten record.
    with desk.center.engine.begin() as connection:
        connection.execute(text("DELETE FROM record_leaves WHERE idx = :i"), {"i": size - 1})
    assert ready(desk, ticks) == (503, {"status": "unavailable"})
    assert readiness(desk.center) == "unavailable"


def test_a_node_far_behind_says_starting_until_it_has_verified_everything(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for minutes in (1, 2, 3, 4):
        desk.clock.set(minutes)
        desk.ok(desk.post("/v1/declarations", "blue-officer", json=named(SITE, f"s{minutes}")))
    with desk.center.reading() as session:
        size = desk.center.log(session).size
    record = verified_of(desk.center)
    monkeypatch.setattr(service, "READY_STEP", 1)
    states = []
    while record.verified < size:
        states.append(readiness(desk.center))
    assert states and set(states[:-1]) <= {"starting"} and states[-1] == "ready"
    assert READY_STEP >= 1000


def test_a_database_that_does_not_answer_is_unavailable(desk: Desk) -> None:
    ticks = Ticks()
    desk.client.app.state.readiness = Readiness(ticks)  # type: ignore[attr-defined]
    assert ready(desk, ticks) == (200, {"status": "ready"})
    with desk.center.engine.begin() as connection:
        connection.execute(text("DROP TABLE record_leaves"))
    assert ready(desk, ticks) == (503, {"status": "unavailable"})
