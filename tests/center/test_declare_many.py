"""``declare_many`` (the bulk path the load bench seeds with) leaves exactly what as many
``declare`` calls leave: the same declaration rows, openings, change index, record leaves
(same order, same sequence numbers, same signatures), author counters and live events —
given the same random draws. Both run in a unit that is then rolled back, over the same
database, so they start from the same state."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center.db.models import (
    Declaration,
    Event,
    Opening,
    RecordAuthor,
    RecordLeaf,
    RecordNode,
    User,
)
from accord.center.db.models_declarations import DeclarationChange
from accord.center.declarations import entries
from accord.center.declarations import service as declarations
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.errors import InputError
from support.jig import NOW
from support.service import Service, center_of


class _Rollback(Exception):
    pass


class _Draws:
    """Deterministic stand-ins for :mod:`secrets`: ids and salts from their own counters."""

    def __init__(self) -> None:
        self._hex = itertools.count(1)
        self._bytes = itertools.count(1)

    def token_hex(self, n: int) -> str:
        return f"{next(self._hex):0{2 * n}x}"

    def token_bytes(self, n: int) -> bytes:
        return next(self._bytes).to_bytes(n, "big")


def _point(i: int) -> list[float]:
    return [21.9 + i * 0.001, 24.9 + i * 0.001]


def _items(callers: dict[str, Caller]) -> list[tuple[Caller, dict[str, Any]]]:
    out: list[tuple[Caller, dict[str, Any]]] = []
    for i in range(12):
        if i % 3 == 0:
            out.append(
                (
                    callers["hnc-notifier"],
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": _point(i)},
                        "properties": {"kind": "protected_site", "category": "shelter"},
                    },
                )
            )
        else:
            who = "blue-officer" if i % 2 else "red-officer"
            out.append(
                (
                    callers[who],
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": _point(i)},
                        "properties": {
                            "kind": "position",
                            "party": callers[who].member,
                            "disclosure": "center" if i % 4 < 2 else "shared",
                            "valid_from": "2026-05-09T00:00:00Z",
                            "valid_to": "2026-05-12T00:00:00Z",
                        },
                    },
                )
            )
    return out


def _dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    def rows(model: Any, *columns: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in session.execute(select(*columns).order_by(*columns[:1]))]

    d, o, c, e = Declaration, Opening, DeclarationChange, Event
    return {
        "declarations": rows(
            d, d.rev, d.id, d.kind, d.owner, d.disclosure, d.status, d.version, d.feature, d.entry
        ),
        "openings": rows(o, o.entry, o.owner, o.commitment, o.salt, o.content),
        "changes": rows(c, c.entry, c.declaration_id, c.change, c.version, c.member, c.reason),
        # Event ids come from a sequence that a rollback does not rewind on PostgreSQL: the
        # order is compared, not the numbers.
        "events": rows(e, e.id, e.kind, e.audience, e.payload),
        "leaves": rows(RecordLeaf, RecordLeaf.idx, RecordLeaf.data, RecordLeaf.hash),
        "nodes": rows(RecordNode, RecordNode.level, RecordNode.idx, RecordNode.hash),
        "authors": rows(RecordAuthor, RecordAuthor.author, RecordAuthor.seq),
    }


def _run(service: Service, monkeypatch: pytest.MonkeyPatch, *, batch: bool) -> Any:
    center = center_of(service)
    draws = _Draws()  # ids are drawn by the service, salts by the entries
    monkeypatch.setattr(declarations, "secrets", draws)
    monkeypatch.setattr(entries, "secrets", draws)
    with center.reading() as session:
        callers = {
            u.name: Caller(u.id, u.name, u.member, Role(u.role))
            for u in session.scalars(select(User))
        }
    items = _items(callers)
    seen: dict[str, Any] = {}

    def write() -> None:
        with center.writing() as unit:
            if batch:
                views = declarations.declare_many(unit, items, NOW)
            else:
                views = [
                    declarations.declare(unit, caller, feature, NOW) for caller, feature in items
                ]
            seen["views"] = views
            seen["rows"] = _dump(unit.session)
            raise _Rollback

    with pytest.raises(_Rollback):
        write()
    events = seen["rows"]["events"]
    seen["rows"]["events"] = [row[1:] for row in events]
    return seen


def test_declare_many_leaves_what_declare_leaves(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one = _run(service, monkeypatch, batch=False)
    batched = _run(service, monkeypatch, batch=True)
    assert len(one_by_one["views"]) == 12
    assert batched["rows"] == one_by_one["rows"]
    assert batched["views"] == one_by_one["views"]
    # Both wrote something: twelve declarations, their entries, some openings and events.
    rows = batched["rows"]
    assert len(rows["declarations"]) >= 12 and len(rows["openings"]) >= 3
    assert {r[0] for r in rows["changes"]} >= {v.entry for v in batched["views"]}


def test_declare_many_refuses_a_bad_item_by_its_field(service: Service) -> None:
    center = center_of(service)
    with center.reading() as session:
        user = session.scalars(select(User).where(User.name == "blue-officer")).one()
        caller = Caller(user.id, user.name, user.member, Role(user.role))
        before = session.scalar(select(Declaration.rev).order_by(Declaration.rev.desc()))
    good = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _point(1)},
        "properties": {"kind": "protected_site", "category": "shelter"},
    }
    bad = {**good, "properties": {"kind": "protected_site", "category": "x", "id": "d-1"}}
    with pytest.raises(InputError) as caught, center.writing() as unit:
        declarations.declare_many(unit, [(caller, good), (caller, bad)], NOW)
    assert [i.field for i in caught.value.issues] == ["properties.id"]
    with center.reading() as session:  # all or nothing
        after = session.scalar(select(Declaration.rev).order_by(Declaration.rev.desc()))
    assert after == before
