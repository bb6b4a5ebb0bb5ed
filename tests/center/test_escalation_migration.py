"""Migration 0013 moves the escalation steps stored two ways — the direct line's rows
(``message_escalations``) and the alert recipients' JSON (``airspace_alert_recipients.steps``)
— into one table (``escalation_steps``), each party's in the order written, and the direct
line's readers see the same steps as before (contact names for the escalated party only). The
downgrade moves them back exactly as they were, and a second upgrade moves the same again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from accord.center.bootstrap import Parts
from accord.center.db import make_engine, writer
from accord.center.db.models import UTCDateTime
from accord.center.directline.reading import NAMES, message_view
from accord.center.identity import Caller, add_user
from support.jig import AGREEMENT, NOW
from support.migrations import migrate
from support.service import USERS, settings_for

ONE, TWO = "m-" + "1" * 16, "m-" + "2" * 16
GROUP, OLD_ALERT = "a-0123456789", "a-" + "f" * 16
_STEP = ("level", "kind", "at", "due", "deadline", "role", "contact", "skipped", "entry")


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def iso(minutes: float) -> str:
    return at(minutes).isoformat().replace("+00:00", "Z")


# (id, message, recipient, level, kind, at, due, deadline, role, contact, skipped, entry):
# two messages' steps interleaved, as the loop wrote them
MESSAGE_STEPS = [
    (1, ONE, "red", 1, "escalated", at(15), at(15), at(22.5), "backup", "red-approver",
     json.dumps([["primary", "red-officer"]]), 3),
    (2, TWO, "red", 0, "overdue", at(16), at(16), None, None, None, "[]", 4),
    (3, ONE, "red", 1, "overdue", at(22.5), at(22.5), None, None, None,
     json.dumps([["duty", "red-officer"]]), 5),
]  # fmt: skip
# each alert party's steps, as the JSON 0012 kept them
BLUE_STEPS = [
    {"level": 1, "kind": "escalated", "at": iso(2), "due": iso(2), "deadline": iso(3),
     "role": "primary", "contact": "blue-officer", "skipped": [], "entry": 7},
    {"level": 2, "kind": "escalated", "at": iso(3.000001), "due": iso(3), "deadline": iso(4),
     "role": "duty", "contact": "blue-approver", "skipped": [["backup", "blue-x"]], "entry": 8},
]  # fmt: skip
RED_STEPS = [
    {"level": 0, "kind": "overdue", "at": iso(2), "due": iso(2), "deadline": None,
     "role": None, "contact": None, "skipped": [["primary", "red-officer"]], "entry": 9},
]  # fmt: skip
RECIPIENTS = {
    (GROUP, "blue"): json.dumps(BLUE_STEPS),
    (GROUP, "red"): json.dumps(RED_STEPS),
    (OLD_ALERT, "blue"): "[]",
}


def _table(name: str, *columns: tuple[str, Any]) -> sa.TableClause:
    return sa.table(name, *(sa.column(n, kind) for n, kind in columns))


_TIME = UTCDateTime()
_STEP_COLUMNS = (
    ("level", sa.Integer), ("kind", sa.String), ("at", _TIME), ("due", _TIME),
    ("deadline", _TIME), ("role", sa.String), ("contact", sa.String), ("skipped", sa.Text),
    ("entry", sa.BigInteger),
)  # fmt: skip
_message_escalations = _table(
    "message_escalations",
    ("id", sa.Integer), ("message_id", sa.String), ("recipient", sa.String), *_STEP_COLUMNS,
)  # fmt: skip
_escalation_steps = _table(
    "escalation_steps",
    ("id", sa.Integer), ("subject_kind", sa.String), ("subject_id", sa.String),
    ("party", sa.String), *_STEP_COLUMNS,
)  # fmt: skip
_recipients = _table(
    "airspace_alert_recipients",
    ("alert_id", sa.String), ("party", sa.String), ("ack_within_s", sa.Integer),
    ("level", sa.Integer), ("position", sa.Integer), ("due_at", _TIME), ("overdue_at", _TIME),
    ("steps", sa.Text),
)  # fmt: skip


def stored_at_0012(url: str) -> dict[str, int]:
    """Two messages and two alert groups with their escalation steps, stored as at 0012;
    the users' ids by name."""
    migrate(url, "0012")
    engine = make_engine(url)
    try:
        with Session(writer(engine)) as session, session.begin():
            for name, (member, role) in USERS.items():
                add_user(session, AGREEMENT, name=name, member=member, role=role, at=NOW)
        with writer(engine).begin() as connection:
            ids = {
                str(n): int(i) for n, i in connection.execute(sa.text("SELECT name, id FROM users"))
            }
            meta = sa.MetaData()
            tables = {
                name: sa.Table(name, meta, autoload_with=connection)
                for name in ("messages", "message_recipients", "airspace_alert_groups")
            }
            content = json.dumps({"to": ["red"], "subject": "Grid", "text": "As agreed"})
            connection.execute(
                tables["messages"].insert(),
                [
                    {"id": m, "sender": "blue", "sent_by": ids["blue-officer"], "sent_at": NOW,
                     "ack_deadline": at(15 + n), "ack_within_s": 900 + 60 * n,
                     "content": content, "content_hash": "ab" * 32, "entry": 1 + n}
                    for n, m in enumerate((ONE, TWO))
                ],
            )  # fmt: skip
            connection.execute(
                tables["message_recipients"].insert(),
                [
                    {"message_id": m, "recipient": "red", "level": level, "position": position,
                     "due_at": None, "acknowledged_at": None, "acknowledged_by": None,
                     "ack_hash": None, "ack_entry": None, "overdue_at": overdue}
                    for m, level, position, overdue in ((ONE, 1, 1, at(22.5)), (TWO, 0, -1, at(16)))
                ],
            )  # fmt: skip
            connection.execute(
                _message_escalations.insert(),
                [
                    dict(zip(("id", "message_id", "recipient", *_STEP), row, strict=True))
                    for row in MESSAGE_STEPS
                ],
            )
            connection.execute(
                tables["airspace_alert_groups"].insert(),
                [
                    {"id": g, "kind": "conflict", "source": "track", "grouped": grouped,
                     "area": None, "parties": '["blue", "red"]', "party_sets": "[]",
                     "aircraft": "[]", "findings": b"", "state": b"", "count": 0, "open": 0,
                     "raised_at": NOW, "content_hash": "cd" * 32, "entry": 6, "sealed": "{}"}
                    for g, grouped in ((GROUP, True), (OLD_ALERT, False))
                ],
            )  # fmt: skip
            connection.execute(
                _recipients.insert(),
                [
                    {"alert_id": g, "party": party, "ack_within_s": 120,
                     "level": len(steps) if party == "blue" else 0, "position": -1,
                     "due_at": None, "overdue_at": at(2) if party == "red" else None,
                     "steps": text}
                    for (g, party), text in RECIPIENTS.items()
                    for steps in [json.loads(text)]
                ],
            )  # fmt: skip
    finally:
        engine.dispose()
    return ids


def _rows(url: str, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def _shape(url: str) -> tuple[set[str], set[str]]:
    """The tables, and the columns of ``airspace_alert_recipients``."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            columns = {c["name"] for c in inspector.get_columns("airspace_alert_recipients")}
            return set(inspector.get_table_names()), columns
    finally:
        engine.dispose()


def expected_steps() -> list[tuple[Any, ...]]:
    """What ``escalation_steps`` holds after the upgrade, in the order of its ids: the
    messages' steps in the order written, then each alert party's."""
    out: list[tuple[Any, ...]] = [
        ("message", m, party, *step) for _, m, party, *step in MESSAGE_STEPS
    ]
    for (g, party), text in RECIPIENTS.items():
        for s in json.loads(text):
            out.append(
                ("alert", g, party, s["level"], s["kind"],
                 datetime.fromisoformat(s["at"]), datetime.fromisoformat(s["due"]),
                 None if s["deadline"] is None else datetime.fromisoformat(s["deadline"]),
                 s["role"], s["contact"], json.dumps(s["skipped"]), s["entry"])
            )  # fmt: skip
    return out


def check_upgraded(url: str) -> None:
    tables, columns = _shape(url)
    assert "message_escalations" not in tables and "escalation_steps" in tables
    assert "steps" not in columns
    c = _escalation_steps.c
    query = sa.select(c.subject_kind, c.subject_id, c.party, *(c[name] for name in _STEP)).order_by(
        c.id
    )
    assert _rows(url, query) == expected_steps()


def check_downgraded(url: str) -> None:
    tables, columns = _shape(url)
    assert "message_escalations" in tables and "escalation_steps" not in tables
    assert "steps" in columns
    query = sa.select(_message_escalations).order_by(_message_escalations.c.id)
    assert _rows(url, query) == MESSAGE_STEPS
    r = _recipients.c
    stored = _rows(url, sa.select(r.alert_id, r.party, r.steps))
    assert {(g, party): steps for g, party, steps in stored} == RECIPIENTS


def message_steps(url: str, tmp_path: Path, ids: dict[str, int]) -> dict[str, Any]:
    """The steps of message ``ONE`` as its recipient's officer and its sender's see them."""
    center = Parts(settings_for(tmp_path, database_url=url), clock=lambda: NOW).open()
    try:
        out = {}
        with center.reading() as session:
            for user in ("red-officer", "blue-officer"):
                member, role = USERS[user]
                caller = Caller(ids[user], user, member, role)
                view = message_view(session, caller, ONE, NOW, names_of=center.cache(NAMES))
                (red,) = view.recipients
                out[user] = [s.model_dump(mode="json") for s in red.escalations]
        return out
    finally:
        center.close()


def test_the_steps_move_to_one_table_and_back(unmigrated_url: str, tmp_path: Path) -> None:
    url = unmigrated_url
    ids = stored_at_0012(url)
    check_downgraded(url)  # the old shape, as seeded
    migrate(url, "0013")
    check_upgraded(url)
    seen = message_steps(url, tmp_path, ids)
    first, second = (
        {"level": 1, "kind": "escalated", "at": iso(15), "due": iso(15), "deadline": iso(22.5),
         "role": "backup", "contact": "red-approver", "skipped": ["primary"],
         "skipped_users": ["red-officer"], "entry": 3},
        {"level": 1, "kind": "overdue", "at": iso(22.5), "due": iso(22.5), "deadline": None,
         "role": None, "contact": None, "skipped": ["duty"], "skipped_users": ["red-officer"],
         "entry": 5},
    )  # fmt: skip
    assert seen["red-officer"] == [first, second]
    # the sender sees the roles, never its recipient's people
    assert seen["blue-officer"] == [
        first | {"contact": None, "skipped_users": None},
        second | {"skipped_users": None},
    ]
    migrate(url, "0012", down=True)
    check_downgraded(url)
    migrate(url, "0013")
    check_upgraded(url)
