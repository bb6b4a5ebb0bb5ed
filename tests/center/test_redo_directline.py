"""Redo of the direct line (:mod:`accord.center.directline.redo`), against its oracle
(:mod:`support.redo`): messages sent to one and to several parties, acknowledged, escalated
and declared overdue, the backup taken before a message is sent or between the sending and
the acknowledgements, on a legacy desk and on a rooted service; and a restored center reads
what the record could not give back (a check's opening, a contact's name, a message whose
content was not handed back) without failing."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from accord.agreement import load_agreement
from accord.center.app import create_app
from accord.center.backup import Restored
from accord.center.bootstrap import Parts
from accord.center.db import make_engine, writer
from accord.center.directline.escalation import escalate_due
from accord.center.identity import add_user
from accord.center.reader_process import LoopbackReader
from accord.center.roles import Role
from accord.center.writer_process import Loopback
from accord.errors import BackupError
from support.clock import Clock
from support.desk import Desk
from support.failures import assert_problem
from support.jig import AGREEMENT_TEXT, NOW
from support.redo import (
    check_redo,
    databases,
    monitor_copy,
    restore_with,
    take_backup,
)
from support.service import (
    Service,
    TestClient,
    add_users,
    center_of,
    rooted_service,
    settings_for,
)

BACKENDS = ("sqlite", "postgresql")
MESSAGES = "/v1/messages"
POINT = {"type": "Point", "coordinates": [36.291234567, 33.512345678]}
CHAIN = {"primary": "red-officer", "backup": "red-approver"}
THREE_PARTIES = AGREEMENT_TEXT.replace(
    "  - {id: red, name: Red Republic}\n",
    "  - {id: red, name: Red Republic}\n  - {id: grey, name: Grey Coalition}\n",
)
assert THREE_PARTIES != AGREEMENT_TEXT

STEPS_NOT_RECORDED = {
    # an escalation entry names the roles alerted and skipped, never the users: contact
    # chains are a party's own rows, not recorded (redo writes NULL and empty names)
    "escalation_steps": {"contact", "skipped"},
}


@contextlib.contextmanager
def three_parties(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """A desk (legacy agreement, the clock the test moves) with a third party, grey, and
    its officer: a message goes to several parties."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "agreement.yaml"
    path.write_text(THREE_PARTIES, encoding="utf-8")
    config = settings_for(
        tmp_path, database_url=database_url, agreement_path=path, escalation_interval_s=0
    )
    tokens = add_users(config.database_url)
    engine = make_engine(config.database_url)
    try:
        with Session(writer(engine)) as session, session.begin():
            tokens["grey-officer"] = add_user(
                session, load_agreement(path), name="grey-officer", member="grey",
                role=Role.OFFICER, at=NOW,
            )  # fmt: skip
    finally:
        engine.dispose()
    clock = Clock()
    app = create_app(Parts(config, clock=clock, writer=Loopback, reader=LoopbackReader))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Desk(client, tokens, config, clock=clock)


def send(service: Service, user: str, to: list[str], **fields: Any) -> dict[str, Any]:
    body = {"to": to, "subject": "Crossing", "text": "At the grid as agreed.", **fields}
    answer = service.post(MESSAGES, user, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def acknowledge(service: Service, user: str, message: dict[str, Any]) -> None:
    path = f"{MESSAGES}/{message['id']}/acknowledge"
    answer = service.post(path, user, json={"content_hash": message["content_hash"]})
    assert answer.status_code == 201, answer.text


def standing(service: Service, user: str, message: dict[str, Any], party: str) -> dict[str, Any]:
    answer = service.get(f"{MESSAGES}/{message['id']}", user)
    assert answer.status_code == 200, answer.text
    (found,) = [r for r in answer.json()["recipients"] if r["party"] == party]
    return found  # type: ignore[no-any-return]


def on_the_desk(backup_at: str) -> Callable[[Desk, Callable[[], None]], None]:
    """Blue sends red a message with a geometry and red and grey one without; red sends
    blue one. Red and blue acknowledge theirs; of the second, red is escalated past its
    absent primary to the present backup, grey (no chain) declared overdue at once, then red
    overdue, and red acknowledges late. Reads of the message escalate (the desk's clock)."""

    def scenario(desk: Desk, backup: Callable[[], None]) -> None:
        if backup_at == "first":
            backup()
        assert desk.put("/v1/contacts", "red-officer", json=CHAIN).status_code == 200
        one = send(desk, "blue-officer", ["red"], ack_within="PT10M", geometry=POINT)
        several = send(desk, "blue-officer", ["red", "grey"], ack_within="PT2M")
        back = send(desk, "red-officer", ["blue"])
        if backup_at == "between":
            backup()
        desk.clock.set(1)
        assert desk.post("/v1/presence", "red-approver").status_code == 201
        acknowledge(desk, "red-officer", one)
        acknowledge(desk, "blue-officer", back)
        desk.clock.set(2)
        red = standing(desk, "blue-officer", several, "red")
        assert [(s["kind"], s["role"], s["skipped"]) for s in red["escalations"]] == [
            ("escalated", "backup", ["primary"])
        ]
        assert standing(desk, "blue-officer", several, "grey")["overdue_declared_at"]
        desk.clock.set(3)
        red = standing(desk, "blue-officer", several, "red")
        assert [s["kind"] for s in red["escalations"]] == ["escalated", "overdue"]
        desk.clock.set(4)
        acknowledge(desk, "red-approver", several)

    return scenario


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("backup_at", ["first", "between"])
def test_messages_on_a_desk_are_rebuilt(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, backup_at: str
) -> None:
    restored = check_redo(
        request, tmp_path, backend, on_the_desk(backup_at), serve=three_parties,
        ignore={
            # a legacy entry holds no act: who sent and who acknowledged is not recorded
            "messages": {"sent_by"},
            "message_recipients": {"acknowledged_by"},
            **STEPS_NOT_RECORDED,
        },
    )  # fmt: skip
    assert restored.recovered > 0 and restored.notes == ()


@contextlib.contextmanager
def rooted(tmp_path: Path, database_url: str) -> Iterator[Service]:
    """:func:`support.service.rooted_service` (``support.redo.rooted`` iterates the context
    manager it returns, and fails; nor does it make the service's folder)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    with rooted_service(tmp_path, database_url) as service:
        yield service


def signed_by_users(backup_at: str) -> Callable[[Service, Callable[[], None]], None]:
    """As :func:`on_the_desk` with the members' acts signed (two parties), the escalation
    run by the background pass at later instants (the service's clock stands still)."""

    def scenario(service: Service, backup: Callable[[], None]) -> None:
        # signed acts that write no entry (a chain, a heartbeat): their nonces are in no
        # entry either, so they come before the backup
        assert service.put("/v1/contacts", "red-officer", json=CHAIN).status_code == 200
        assert service.post("/v1/presence", "red-approver").status_code == 201
        if backup_at == "first":
            backup()
        one = send(service, "blue-officer", ["red"], ack_within="PT10M", geometry=POINT)
        late = send(service, "blue-approver", ["red"], ack_within="PT2M")
        back = send(service, "red-officer", ["blue"])
        if backup_at == "between":
            backup()
        acknowledge(service, "red-approver", one)
        acknowledge(service, "blue-officer", back)
        center = center_of(service)
        assert escalate_due(center, NOW + timedelta(minutes=2)) == 1  # to red's backup
        assert escalate_due(center, NOW + timedelta(minutes=3)) == 1  # red overdue
        red = standing(service, "blue-approver", late, "red")
        assert [s["kind"] for s in red["escalations"]] == ["escalated", "overdue"]

    return scenario


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("backup_at", ["first", "between"])
def test_signed_messages_are_rebuilt_with_their_users(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, backup_at: str
) -> None:
    restored = check_redo(
        request, tmp_path, backend, signed_by_users(backup_at), serve=rooted,
        ignore=STEPS_NOT_RECORDED,
    )  # fmt: skip
    assert restored.recovered > 0 and restored.notes == ()


# --- reading a restored center --------------------------------------------------------------


@contextlib.contextmanager
def restored_desk(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    scenario: Callable[[Desk, Callable[[], None]], None],
    *,
    owners: tuple[str, ...] | None = None,
    without_openings: tuple[str, ...] = (),
) -> Iterator[tuple[Desk, Restored]]:
    """The center :func:`three_parties` serves after ``scenario`` (the backup taken where it
    calls ``backup()``), restored with a monitor's copy holding ``owners``' openings, served
    again at the original's clock with the same users (their tokens are in the backup)."""
    with databases(request, tmp_path, backend) as (database_url, restored_url):
        with three_parties(tmp_path / "center", database_url) as desk:
            settings = desk.settings
            assert settings.agreement_path is not None
            agreement = load_agreement(settings.agreement_path)
            copy = tmp_path / "backup"

            def backup() -> None:
                take_backup(database_url, copy, agreement=agreement)

            scenario(desk, backup)
            assert desk.get("/v1/record/head", "observer").status_code == 200
            monitor = monitor_copy(
                database_url, tmp_path / "monitor", agreement=agreement, owners=owners
            )
            if without_openings:  # refused unless the operator names the parties
                with pytest.raises(BackupError, match="no opening of them was handed back"):
                    restore_with(
                        copy, restored_url, agreement=agreement, keys=settings.keys_dir,
                        monitors=[monitor],
                    )  # fmt: skip
            restored = restore_with(
                copy, restored_url, agreement=agreement, keys=settings.keys_dir,
                monitors=[monitor], without_openings=without_openings,
            )  # fmt: skip
            tokens, at = desk.tokens, desk.clock()
        again = dataclasses.replace(settings, database_url=restored_url)
        clock = Clock(at)
        app = create_app(Parts(again, clock=clock, writer=Loopback, reader=LoopbackReader))
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Desk(client, tokens, again, clock=clock), restored


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restored_center_reads_what_the_record_does_not_hold(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    sent: dict[str, dict[str, Any]] = {}

    def scenario(desk: Desk, backup: Callable[[], None]) -> None:
        backup()
        assert desk.put("/v1/contacts", "red-officer", json=CHAIN).status_code == 200
        sent["one"] = send(desk, "blue-officer", ["red", "grey"], geometry=POINT)
        desk.clock.set(14)
        assert desk.post("/v1/presence", "red-approver").status_code == 201
        desk.clock.set(15)
        assert standing(desk, "red-officer", sent["one"], "red")["level"] == 1

    with restored_desk(request, tmp_path, backend, scenario) as (desk, restored):
        assert restored.notes == ()
        one = sent["one"]
        for user in ("blue-officer", "red-officer", "grey-officer"):
            answer = desk.get(f"{MESSAGES}/{one['id']}", user)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["content"] == one["content"] and body["check"] is None  # not kept
            assert_problem(desk.get(f"{MESSAGES}/{one['id']}/check", user), 404)
            assert desk.get(f"{MESSAGES}/{one['id']}/opening", user).status_code == 200
            assert desk.get(MESSAGES, user).status_code == 200
        # red's own view names its contacts' users: not recorded, so none (not a failure)
        (step,) = standing(desk, "red-officer", one, "red")["escalations"]
        assert step["role"] == "backup" and step["contact"] is None
        assert step["skipped"] == ["primary"] and step["skipped_users"] == [""]
        acknowledge(desk, "red-officer", one)  # the restored message is acknowledged as before


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_message_whose_content_is_not_handed_back_is_noted_not_written(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    sent: dict[str, dict[str, Any]] = {}

    def scenario(desk: Desk, backup: Callable[[], None]) -> None:
        sent["kept"] = send(desk, "red-officer", ["blue"])
        backup()
        sent["lost"] = send(desk, "blue-officer", ["red"], ack_within="PT2M")
        sent["again"] = send(desk, "red-officer", ["blue"])
        acknowledge(desk, "red-officer", sent["lost"])
        acknowledge(desk, "blue-officer", sent["again"])

    # blue's officers hand back no opening: its message's content is in no entry
    with restored_desk(
        request, tmp_path, backend, scenario, owners=("red",), without_openings=("blue",)
    ) as (desk, restored):
        lost, again = sent["lost"], sent["again"]
        assert len(restored.notes) == 5, restored.notes
        assert restored.notes[-1].startswith("blue's hidden declarations or messages changed")
        assert "blue handed back no opening" in restored.notes[0]
        assert f"message {lost['id']} is not written" in restored.notes[1]
        assert all(lost["id"] in note for note in restored.notes[1:-1])  # its check, its ack
        assert_problem(desk.get(f"{MESSAGES}/{lost['id']}", "red-officer"), 404)
        assert standing(desk, "red-officer", again, "blue")["acknowledged"] is True
        assert desk.get(MESSAGES, "blue-officer").status_code == 200
