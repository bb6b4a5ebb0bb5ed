"""Airspace alerts: one row per group, its alerts packed (``airspace_alert_groups``), in place
of one row per alert (``airspace_alerts``): a cluster of N aircraft in one spot is N²/2
alerts, and a row each (with its payload as JSON) held the writer for seconds.

Every stored alert moves into its group's row, with its numbers, when it was last seen and
when (and by which entry) it was cleared; an alert stored before groups (0010) becomes a
group of one whose id is the alert's. Acknowledgements and recipients, which named a group's
first alert (``<group>.0``), name the group. The record is not touched: the entries, and the
``content_hash`` an acknowledgement names, stay what they were. The downgrade moves them back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

from accord.center.airspace.store import FINDING, NO_ENTRY, OPEN, STATE, instant, micros
from accord.center.db.models import UTCDateTime
from accord.chrono import format_instant, parse_instant

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STORED = ("key", "id", "owner", "operator", "party", "mission", "disclosure")
_NAN = math.nan

_alerts = sa.table(
    "airspace_alerts",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("id", sa.String),
            ("kind", sa.String),
            ("source", sa.String),
            ("key", sa.String),
            ("parties", sa.Text),
            ("raised_at", UTCDateTime()),
            ("last_seen", UTCDateTime()),
            ("cleared_at", UTCDateTime()),
            ("payload", sa.Text),
            ("sealed", sa.Text),
            ("content_hash", sa.String),
            ("entry", sa.BigInteger),
            ("cleared_entry", sa.BigInteger),
            ("group_id", sa.String),
        )
    ),
)
_groups = sa.table(
    "airspace_alert_groups",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("id", sa.String),
            ("kind", sa.String),
            ("source", sa.String),
            ("grouped", sa.Boolean),
            ("area", sa.Text),
            ("parties", sa.Text),
            ("party_sets", sa.Text),
            ("aircraft", sa.Text),
            ("findings", sa.LargeBinary),
            ("state", sa.LargeBinary),
            ("count", sa.Integer),
            ("open", sa.Integer),
            ("raised_at", UTCDateTime()),
            ("content_hash", sa.String),
            ("entry", sa.BigInteger),
            ("sealed", sa.Text),
        )
    ),
)
_LINKS = (
    ("airspace_acks", "fk_airspace_acks_alert", "fk_airspace_acks_group"),
    (
        "airspace_alert_recipients",
        "fk_airspace_alert_recipients_alert",
        "fk_airspace_alert_recipients_group",
    ),
)


def _key(one: Mapping[str, Any], source: str) -> str:
    """An aircraft's key: a track's owner and id, a flight plan's id."""
    if "key" in one:
        return str(one["key"])
    return f"{one['owner']}/{one['id']}" if source == "track" else str(one["id"])


def _seconds(text: str) -> int:
    return micros(parse_instant(text)) // 1_000_000


def _number(value: Any) -> float:
    return _NAN if value is None else float(value)


def _group_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``airspace_alert_groups`` row of the alerts ``rows`` (one group, in order)."""
    first = rows[0]
    source, kind = first["source"], first["kind"]
    aircraft: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    sets: list[list[str]] = []
    set_index: dict[tuple[str, ...], int] = {}
    findings = np.zeros(len(rows), dtype=FINDING)
    state = np.zeros(len(rows), dtype=STATE)
    parties: set[str] = set()
    for n, row in enumerate(rows):
        p = json.loads(row["payload"])
        listed = []
        for one in p["aircraft"]:
            key = _key(one, source)
            if key not in index:
                index[key] = len(aircraft)
                aircraft.append({name: (key if name == "key" else one[name]) for name in _STORED})
            listed.append(index[key])
        concerned = json.loads(row["parties"])
        parties |= set(concerned)
        p_index = set_index.setdefault(tuple(concerned), len(sets))
        if p_index == len(sets):
            sets.append(list(concerned))
        if kind == "conflict":
            one, other = p["aircraft"]
            places = [a.get("cpa") for a in (one, other)]
            mid = (_NAN, _NAN)
            if places[0] and places[1]:
                mid = ((places[0][0] + places[1][0]) / 2, (places[0][1] + places[1][1]) / 2)
            la, lb = (a.get("los") or [_NAN, _NAN] for a in (one, other))
            findings[n] = (
                listed[0], listed[1], p_index, bool(p["lost"]), _seconds(p["los_at"]),
                _seconds(p["los_until"]) if p.get("los_until") else 0,
                _seconds(p["cpa_at"]) if p.get("cpa_at") else 0,
                _number(p.get("tcpa_s")), _number(p.get("dcpa_nm")),
                _number(p.get("vertical_ft")),
                mid[0], mid[1], la[0], la[1], lb[0], lb[1],
            )  # fmt: skip
        else:
            point = p.get("entry_point") or [_NAN, _NAN]
            findings[n] = (
                listed[0], -1, p_index, bool(p["inside"]), _seconds(p["entry_at"]), 0, 0,
                _NAN, _NAN, _NAN, point[0], point[1], _NAN, _NAN, _NAN, _NAN,
            )  # fmt: skip
        cleared = row["cleared_at"]
        state[n] = (
            micros(row["last_seen"]),
            OPEN if cleared is None else micros(cleared),
            NO_ENTRY if row["cleared_entry"] is None else row["cleared_entry"],
        )
    area = None if kind == "conflict" else json.loads(first["payload"]).get("area")
    return {
        "id": first["group_id"] if first["group_id"] is not None else first["id"],
        "kind": kind,
        "source": source,
        "grouped": first["group_id"] is not None,
        "area": area,
        "parties": json.dumps(sorted(parties)),
        "party_sets": json.dumps(sets, separators=(",", ":")),
        "aircraft": json.dumps(aircraft, separators=(",", ":")),
        "findings": findings.tobytes(),
        "state": state.tobytes(),
        "count": len(rows),
        "open": int((state["cleared"] == OPEN).sum()),
        "raised_at": first["raised_at"],
        "content_hash": first["content_hash"],
        "entry": first["entry"],
        "sealed": first["sealed"],
    }


def _number_of(alert_id: str) -> int:
    _, dot, n = alert_id.rpartition(".")
    return int(n) if dot else 0


def _stored_groups(connection: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    """The stored alerts, a group at a time, each group's in order."""
    group = sa.func.coalesce(_alerts.c.group_id, _alerts.c.id)
    query = sa.select(_alerts, group.label("g")).order_by(group)
    rows: list[dict[str, Any]] = []
    for row in connection.execute(query):
        item = dict(row._mapping)
        if rows and item["g"] != rows[0]["g"]:
            yield sorted(rows, key=lambda r: _number_of(r["id"]))
            rows = []
        rows.append(item)
    if rows:
        yield sorted(rows, key=lambda r: _number_of(r["id"]))


def _relink(table: str, old: str, new: str, target: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(old, type_="foreignkey")
    if target == "airspace_alert_groups":
        op.execute(
            sa.text(
                f"UPDATE {table} SET alert_id = substr(alert_id, 1, length(alert_id) - 2) "
                "WHERE alert_id LIKE '%.0'"
            )
        )
    else:
        op.execute(
            sa.text(f"UPDATE {table} SET alert_id = alert_id || '.0' WHERE length(alert_id) = 12")
        )
    with op.batch_alter_table(table) as batch:
        batch.create_foreign_key(new, target, ["alert_id"], ["id"])


def upgrade() -> None:
    """Create ``airspace_alert_groups``, move every alert into its group's row, point
    acknowledgements and recipients at the groups, drop ``airspace_alerts``."""
    op.create_table(
        "airspace_alert_groups",
        sa.Column("id", sa.String(18), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("grouped", sa.Boolean(), nullable=False),
        sa.Column("area", sa.Text(), nullable=True),
        sa.Column("parties", sa.Text(), nullable=False),
        sa.Column("party_sets", sa.Text(), nullable=False),
        sa.Column("aircraft", sa.Text(), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('conflict', 'area', 'exempt')", name="ck_airspace_alert_groups_kind"
        ),
        sa.CheckConstraint("source IN ('track', 'plan')", name="ck_airspace_alert_groups_source"),
    )
    op.create_index("ix_airspace_alert_groups_open", "airspace_alert_groups", ["open"])
    op.create_index("ix_airspace_alert_groups_raised_at", "airspace_alert_groups", ["raised_at"])
    connection = op.get_bind()
    batch: list[dict[str, Any]] = []
    for rows in _stored_groups(connection):
        batch.append(_group_of(rows))
        if len(batch) >= 200:
            connection.execute(_groups.insert(), batch)
            batch = []
    if batch:
        connection.execute(_groups.insert(), batch)
    for table, to_alert, to_group in _LINKS:
        _relink(table, to_alert, to_group, "airspace_alert_groups")
    op.drop_index("ix_airspace_alerts_group_id", table_name="airspace_alerts")
    op.drop_index("ix_airspace_alerts_key", table_name="airspace_alerts")
    op.drop_index("ix_airspace_alerts_raised_at", table_name="airspace_alerts")
    op.drop_index("ix_airspace_alerts_cleared_at", table_name="airspace_alerts")
    op.drop_table("airspace_alerts")


def _alert_rows(group: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``airspace_alerts`` rows of a stored group (as revision 0011 kept them)."""
    findings = np.frombuffer(group["findings"], dtype=FINDING)
    state = np.frombuffer(group["state"], dtype=STATE)
    aircraft = json.loads(group["aircraft"])
    sets = json.loads(group["party_sets"])
    kind, source = group["kind"], group["source"]

    def at(seconds: int) -> str:
        return format_instant(instant(int(seconds) * 1_000_000))

    def number(value: float) -> float | None:
        return None if math.isnan(value) else float(value)

    for n, f in enumerate(findings):
        if kind == "conflict":
            pair = [dict(aircraft[int(f["a"])]), dict(aircraft[int(f["b"])])]
            mid = None if math.isnan(f["x"]) else [float(f["x"]), float(f["y"])]
            for one, (x, y) in zip(pair, ((f["xa"], f["ya"]), (f["xb"], f["yb"])), strict=True):
                one["cpa"] = mid
                one["los"] = None if math.isnan(x) else [float(x), float(y)]
            key = f"conflict:{source}:{pair[0]['key']}|{pair[1]['key']}"
            vertical = number(f["vert"])
            payload: dict[str, Any] = {
                "aircraft": pair,
                "los_at": at(f["t_los"]),
                "lost": bool(f["flag"]),
                "tcpa_s": number(f["tcpa"]),
                "dcpa_nm": number(f["dcpa"]),
                "vertical_ft": None if vertical is None else int(vertical),
            }
            if source == "plan":
                payload |= {"los_until": at(f["t_until"]), "cpa_at": at(f["t_cpa"])}
        else:
            one = dict(aircraft[int(f["a"])])
            key = f"{kind}:{source}:{one['key']}@{group['area']}"
            payload = {
                "aircraft": [one],
                "area": group["area"],
                "inside": bool(f["flag"]),
                "entry_at": at(f["t_los"]),
                "entry_point": [float(f["x"]), float(f["y"])],
            }
        for one in payload["aircraft"]:
            del one["key"]
        cleared = int(state["cleared"][n])
        cleared_entry = int(state["cleared_entry"][n])
        yield {
            "id": f"{group['id']}.{n}" if group["grouped"] else group["id"],
            "kind": kind,
            "source": source,
            "key": key[:400],
            "parties": json.dumps(sets[int(f["p"])]),
            "raised_at": group["raised_at"],
            "last_seen": instant(int(state["seen"][n])),
            "cleared_at": None if cleared == OPEN else instant(cleared),
            "payload": json.dumps(payload, separators=(",", ":")),
            "sealed": group["sealed"] if n == 0 else "{}",
            "content_hash": group["content_hash"],
            "entry": group["entry"],
            "cleared_entry": None if cleared_entry == NO_ENTRY else cleared_entry,
            "group_id": group["id"] if group["grouped"] else None,
        }


def downgrade() -> None:
    """Move the alerts back to one row each in ``airspace_alerts``."""
    op.create_table(
        "airspace_alerts",
        sa.Column("id", sa.String(18), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("parties", sa.Text(), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("entry", sa.BigInteger(), nullable=False),
        sa.Column("cleared_entry", sa.BigInteger(), nullable=True),
        sa.Column("group_id", sa.String(length=18), nullable=True),
        sa.CheckConstraint(
            "kind IN ('conflict', 'area', 'exempt')", name="ck_airspace_alerts_kind"
        ),
        sa.CheckConstraint("source IN ('track', 'plan')", name="ck_airspace_alerts_source"),
    )
    op.create_index("ix_airspace_alerts_key", "airspace_alerts", ["key"])
    op.create_index("ix_airspace_alerts_raised_at", "airspace_alerts", ["raised_at"])
    op.create_index("ix_airspace_alerts_cleared_at", "airspace_alerts", ["cleared_at"])
    op.create_index("ix_airspace_alerts_group_id", "airspace_alerts", ["group_id"])
    connection = op.get_bind()
    for group in connection.execute(sa.select(_groups)):
        rows = list(_alert_rows(dict(group._mapping)))
        for start in range(0, len(rows), 1000):
            connection.execute(_alerts.insert(), rows[start : start + 1000])
    for table, to_alert, to_group in _LINKS:
        _relink(table, to_group, to_alert, "airspace_alerts")
    op.drop_index("ix_airspace_alert_groups_open", table_name="airspace_alert_groups")
    op.drop_index("ix_airspace_alert_groups_raised_at", table_name="airspace_alert_groups")
    op.drop_table("airspace_alert_groups")
