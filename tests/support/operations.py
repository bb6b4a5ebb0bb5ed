"""Operations of the example world as request bodies, their window moved after the tests' NOW;
how many operations the service holds."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from accord.center.db.models_operations import OperationRow
from accord.examples import example_path
from support.jig import NOW
from support.service import Service, center_of

WORLD = json.loads(Path(example_path("world.geojson")).read_text(encoding="utf-8"))
BY_ID = {f["properties"]["id"]: f for f in WORLD["features"]}


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


WS, WE = NOW + timedelta(hours=8), NOW + timedelta(hours=10)


def operation(example: str, **changes: Any) -> dict[str, Any]:
    """An operation of the example world as a request body: no id, no proposer, the window
    moved after the test's now."""
    feature = copy.deepcopy(BY_ID[example])
    props = feature["properties"]
    for name in ("id", "declared_by", "proposed_by"):
        props.pop(name)
    props.update(window_start=iso(WS), window_end=iso(WE))
    props.update(changes)
    return {k: v for k, v in feature.items() if k in ("type", "geometry", "properties")}


def operation_rows(service: Service) -> int:
    """How many operations the service holds (rows, whatever their state)."""
    with center_of(service).reading() as session:
        return int(session.scalar(select(func.count()).select_from(OperationRow)) or 0)
