"""Migration 0012 moves the alerts stored one row each (``airspace_alerts``) into their groups'
rows, and every reader sees exactly what it saw before: the lists of ``data/alerts_0011.json``
were answered by the code before the migration, over the rows stored there (a cluster with a
hidden aircraft, some of its pairs cleared; a head-on pair acknowledged and escalated; an
area violation and an exempt passage; two flight plans, one hidden; an alert stored before
groups, acknowledged). The downgrade moves them back, and a second upgrade reads the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from accord.center.airspace.alerts import get_alert, list_alerts
from accord.center.airspace.views import alert_out
from accord.center.bootstrap import Parts
from accord.center.db import make_engine, writer
from accord.center.http.problems import status_of
from accord.center.identity import Caller, add_user
from accord.center.runtime import Center
from accord.errors import AccordError
from support.jig import AGREEMENT, NOW
from support.migrations import migrate
from support.service import USERS, settings_for

GOLDEN = json.loads((Path(__file__).parent / "data" / "alerts_0011.json").read_text("utf-8"))
_TIMES = {"raised_at", "last_seen", "cleared_at", "due_at", "overdue_at", "acknowledged_at"}


def instant(text: str) -> datetime:
    """A time as the rows were dumped (SQLite's text, in UTC without an offset)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stored_at_0011(url: str) -> dict[str, int]:
    """The golden rows in a database at revision 0011; the users' ids by name."""
    migrate(url, "0011")
    engine = make_engine(url)
    try:
        with Session(writer(engine)) as session, session.begin():
            for name, (member, role) in USERS.items():
                add_user(session, AGREEMENT, name=name, member=member, role=role, at=NOW)
        with writer(engine).begin() as connection:
            ids = dict(connection.execute(sa.text("SELECT name, id FROM users")).all())
            old_names = {int(i): n for n, i in GOLDEN["users"].items()}
            for table in ("airspace_alerts", "airspace_alert_recipients", "airspace_acks"):
                meta = sa.MetaData()
                t = sa.Table(table, meta, autoload_with=connection)
                rows = []
                for row in GOLDEN["tables"][table]:
                    row = {k: instant(v) if k in _TIMES and v else v for k, v in row.items()}
                    if "user_id" in row:
                        row["user_id"] = ids[old_names[row["user_id"]]]
                    rows.append(row)
                connection.execute(t.insert(), rows)
    finally:
        engine.dispose()
    return {str(k): int(v) for k, v in ids.items()}


def views(center: Center, ids: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for user in ("blue-officer", "red-officer", "observer"):
        member, role = USERS[user]
        caller = Caller(ids[user], user, member, role)
        for cleared in (True, False):
            if f"{user}:{cleared}" in GOLDEN["views"]:
                got = list_alerts(center, caller, include_cleared=cleared, limit=500)
                out[f"{user}:{cleared}"] = [alert_out(a).model_dump(mode="json") for a in got]
    return out


def lookups(center: Center, ids: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in GOLDEN["lookups"]:
        user, alert_id = key.split(":", 1)
        member, role = USERS[user]
        try:
            out[key] = get_alert(center, Caller(ids[user], user, member, role), alert_id).id
        except AccordError as error:  # answered as the HTTP layer answers it
            out[key] = status_of(error)
    return out


def read(url: str, tmp_path: Path, ids: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    center = Parts(settings_for(tmp_path, database_url=url), clock=lambda: NOW).open()
    try:
        return views(center, ids), lookups(center, ids)
    finally:
        center.close()


def test_every_reader_sees_what_it_saw_before_the_migration(
    unmigrated_url: str, tmp_path: Path
) -> None:
    ids = stored_at_0011(unmigrated_url)
    seen, found = read(unmigrated_url, tmp_path, ids)  # opening the parts migrates to the head
    assert seen == GOLDEN["views"]
    assert found == GOLDEN["lookups"]
    engine = make_engine(unmigrated_url)
    try:
        with engine.connect() as connection:
            groups = connection.execute(
                sa.text("SELECT id, count, open FROM airspace_alert_groups ORDER BY id")
            ).all()
            linked = connection.execute(
                sa.text("SELECT alert_id FROM airspace_alert_recipients ORDER BY 1")
            ).scalars()
            names = {g.id for g in groups}
            assert set(linked) <= names  # recipients name the groups
            assert "a-0123456789abcdef" in names  # the alert stored before groups: its own
            stored = len(GOLDEN["tables"]["airspace_alerts"])
            assert sum(g.count for g in groups) == stored
            assert not sa.inspect(connection).has_table("airspace_alerts")
    finally:
        engine.dispose()
    # down and up again: the readers still see the same
    migrate(unmigrated_url, "0011", down=True)
    engine = make_engine(unmigrated_url)
    try:
        with engine.connect() as connection:
            back = connection.execute(sa.text("SELECT id FROM airspace_alerts")).scalars()
            assert sorted(back) == sorted(r["id"] for r in GOLDEN["tables"]["airspace_alerts"])
    finally:
        engine.dispose()
    again, found = read(unmigrated_url, tmp_path, ids)
    assert again == GOLDEN["views"] and found == GOLDEN["lookups"]
