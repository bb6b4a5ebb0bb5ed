"""Redo (:mod:`accord.center.recovery`), against its oracle (:mod:`support.redo`): a
center's backup restored with the tail a monitor's copy of the record holds has the same
tables, row for row, as the center that went on writing (but for what no entry holds), on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.agreement import load_agreement
from accord.center.app import create_app
from accord.center.backup import restore
from accord.center.bootstrap import Parts
from accord.center.entry_kinds import registered
from accord.center.recovery.redo import MODULES, redo_of
from accord.center.writer_process import Loopback
from support.declarations import POSITION
from support.desk import Desk
from support.history import actions, history
from support.jig import NOW
from support.redo import check_redo, databases, rooted, take_backup
from support.service import Service, TestClient

BACKENDS = ("sqlite", "postgresql")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("done", "backup_at"),
    [(["declare", "declare_hidden", "amend", "withdraw", "amend"], 0)],
)
def test_a_known_history_is_rebuilt(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, done: list[str], backup_at: int
) -> None:
    def scenario(desk: Desk, backup: object) -> None:
        for i in history(desk, done):
            if i == backup_at:
                backup()  # type: ignore[operator]

    restored = check_redo(request, tmp_path, backend, scenario)
    assert restored.recovered > 0 and restored.notes == ()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rooted_centers_tail_is_rebuilt_with_its_acts(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """Under signed acts: each act's nonce is kept again, so a replay is refused after the
    restore as before it (the oracle compares ``act_nonces``)."""

    def scenario(service: Service, backup: Callable[[], None]) -> None:
        backup()
        changes = {"changes": [{"change": "declare", "feature": _hidden()}]}
        made = service.post("/v1/declarations/hidden", "blue-officer", json=changes)
        assert made.status_code == 200, made.text
        shared = service.post("/v1/declarations", "red-officer", json=POSITION_RED)
        assert shared.status_code == 201, shared.text

    restored = check_redo(request, tmp_path, backend, scenario, serve=rooted)
    assert restored.recovered == 2 and restored.notes == ()


def _hidden() -> dict[str, Any]:
    feature: dict[str, Any] = {**POSITION, "properties": dict(POSITION["properties"])}
    feature["properties"]["disclosure"] = "center"
    return feature


POSITION_RED: dict[str, Any] = {
    **POSITION,
    "geometry": {"type": "Point", "coordinates": [21.6, 25.3]},
    "properties": {**POSITION["properties"], "party": "red", "disclosure": "shared"},
}


def test_every_kind_the_center_records_has_a_redo_and_no_other() -> None:
    """A feature that records a new kind says how to redo it, or a restore with such an
    entry in its tail is refused (:func:`accord.center.recovery.redo.redo_entries`)."""
    kinds = set(registered())
    assert sorted(kind for kind in kinds if redo_of(kind) is None) == []
    redone = {kind for name in MODULES for kind in importlib.import_module(name).REDO}
    assert sorted(redone - kinds) == []


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(done=actions(max_size=9), data=st.data())
def test_random_histories_are_rebuilt_whatever_the_backup_holds(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    done: list[str],
    data: st.DataObject,
) -> None:
    """Desk histories (:mod:`support.history`: shared and hidden declarations of both
    parties, their amendments and withdrawals, operations proposed, approved and cancelled,
    messages sent and acknowledged), the backup taken after any of their actions."""
    backup_at = data.draw(st.integers(-1, len(done) - 1), label="backup_at")

    def scenario(desk: Desk, backup: Callable[[], None]) -> None:
        if backup_at < 0:
            backup()
        for i in history(desk, done):
            if i == backup_at:
                backup()

    check_redo(request, tmp_path_factory.mktemp("redo"), "sqlite", scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_act_signed_before_a_restore_is_refused_after_it(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """A contact chain's act writes no entry: the backup, taken before it, lost its nonce,
    so the act replayed at the restored center would be taken in again. It is refused as
    signed before the restore; the same change signed after it is taken in. And a page that
    resumes its live events after one the restored center lost is shown what follows."""
    chain = {"primary": "red-officer", "backup": "red-approver"}
    with (
        databases(request, tmp_path, backend) as (database_url, restored_url),
        rooted(tmp_path / "center", database_url) as service,
    ):
        settings, offices = service.settings, service.offices
        assert settings.agreement_path is not None and offices is not None
        agreement = load_agreement(settings.agreement_path)
        copy = take_backup(database_url, tmp_path / "backup", agreement=agreement)
        signed = offices.headers("red-officer", "PUT", "/v1/contacts", chain)
        first = service.put("/v1/contacts", "red-officer", json=chain, headers=signed)
        assert first.status_code == 200, first.text
        lost = service.post("/v1/declarations", "red-officer", json=POSITION_RED)
        assert lost.status_code == 201, lost.text  # its live event is lost with the center
        cursor = service.get("/v1/events", "red-officer", params={"after": 0, "limit": 500})
        seen = cursor.json()["last_id"]  # where red's page would resume
        done = restore(copy, restored_url, agreement=agreement, keys=settings.keys_dir, at=NOW)
        assert done.recovered == 0
        again = dataclasses.replace(settings, database_url=restored_url)
        app = create_app(Parts(again, clock=lambda: NOW + timedelta(minutes=1), writer=Loopback))
        with TestClient(app, raise_server_exceptions=False) as client:
            restored = Service(client, service.tokens, again, offices)
            replayed = restored.put("/v1/contacts", "red-officer", json=chain, headers=signed)
            assert replayed.status_code == 422, replayed.text
            assert replayed.json()["errors"][0]["field"] == "Accord-Act-At"
            assert "restored" in replayed.json()["errors"][0]["message"]
            fresh = offices.headers(
                "red-officer", "PUT", "/v1/contacts", chain, at=NOW + timedelta(minutes=1)
            )
            taken = restored.put("/v1/contacts", "red-officer", json=chain, headers=fresh)
            assert taken.status_code == 200, taken.text
            # red's page resumes after the last event it saw, one the restored center lost:
            # it is told of the restore, and shown what came after it
            later = offices.headers(
                "red-officer", "POST", "/v1/declarations", POSITION_RED,
                at=NOW + timedelta(minutes=1),
            )  # fmt: skip
            made = restored.post(
                "/v1/declarations", "red-officer", json=POSITION_RED, headers=later
            )
            assert made.status_code == 201, made.text
            resumed = restored.get("/v1/events", "red-officer", params={"after": seen})
            kinds = [event["kind"] for event in resumed.json()["events"]]
            assert kinds == ["center.restored", "declaration.created"], kinds
