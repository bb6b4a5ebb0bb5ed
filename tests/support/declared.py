"""Declarations written straight into the ``declarations`` table, the way the declarations
API keeps them (a GeoJSON feature as parse_world reads it, ``rev`` raised by every change),
for tests of what reads that table."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from accord.center.db.models import Declaration
from accord.center.declarations.service import next_rev
from accord.center.disclosure.shadows import placed
from accord.center.operations.world_cache import parse_features
from accord.errors import WorldError
from support.jig import AGREEMENT


def _shadow(feature: dict[str, Any], previous: str | None) -> str | None:
    """The shadow the declarations API would keep for ``feature`` (a hidden one's; none for a
    feature that does not read, which the API would have refused)."""
    try:
        (obj,) = parse_features(AGREEMENT, [feature])
    except WorldError:
        return None
    return placed(AGREEMENT, obj, previous)


__all__ = ["amend", "declare", "withdraw"]


def declare(session: Session, feature: dict[str, Any], *, at: datetime) -> Declaration:
    """Insert ``feature`` (with ``properties.id`` and ``declared_by``) as an active row."""
    props = feature["properties"]
    row = Declaration(
        id=props["id"],
        kind=props["kind"],
        owner=props.get("party") or props["declared_by"],
        disclosure=props.get("disclosure", "shared"),
        status="active",
        version=1,
        rev=next_rev(session),
        feature=json.dumps(feature),
        declared_at=at,
        updated_at=at,
        withdrawn_at=None,
        entry=-1,
        shadow=_shadow(feature, None),
    )
    session.add(row)
    session.flush()
    return row


def amend(session: Session, object_id: str, feature: dict[str, Any], *, at: datetime) -> None:
    row = session.get(Declaration, object_id)
    assert row is not None and row.status == "active"
    row.feature = json.dumps(feature)
    row.shadow = _shadow(feature, row.shadow)
    row.version += 1
    row.rev = next_rev(session)
    row.updated_at = at
    session.flush()


def withdraw(session: Session, object_id: str, *, at: datetime) -> None:
    row = session.get(Declaration, object_id)
    assert row is not None
    row.status = "withdrawn"
    row.rev = next_rev(session)
    row.withdrawn_at = at
    session.flush()
