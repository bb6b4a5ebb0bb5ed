"""Checks' answers: what a party is shown of a check of received geometry, and the
opening that proves it against the record."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from accord.center.db.models_checks import CheckOpening
from accord.record.canonical import encode_base64

__all__ = ["CheckOpeningOut", "CheckOut", "check_out", "opening_out"]


class CheckOut(BaseModel):
    """What the center found near a geometry, as the viewer's party was shown it (and as
    its commitment in record entry ``entry`` binds it)."""

    entry: int
    party: str
    at: datetime
    until: datetime
    geometry: bool
    checked: bool
    unchecked: str | None
    warnings: list[dict[str, Any]]
    blocking: int


class CheckOpeningOut(BaseModel):
    """What opens a party's commitment in a check entry: verify with
    ``accord.record.commitments.verify_opening(commitment=…, content=…, salt=…)`` against
    ``event["checks"][party]`` of record entry ``entry`` (or ``accord record open``)."""

    entry: int
    party: str
    commitment: str
    salt: str
    content: dict[str, Any]


def check_out(row: CheckOpening) -> CheckOut:
    """The view of a stored opening."""
    content = json.loads(row.content)
    warnings = list(content["warnings"])
    return CheckOut(
        entry=row.entry,
        party=row.party,
        at=content["at"],
        until=content["until"],
        geometry=content["geometry"],
        checked=content["checked"],
        unchecked=content["unchecked"],
        warnings=warnings,
        blocking=sum(1 for w in warnings if w["blocking"]),
    )


def opening_out(row: CheckOpening) -> CheckOpeningOut:
    """The opening of a stored check, for its party."""
    return CheckOpeningOut(
        entry=row.entry,
        party=row.party,
        commitment=encode_base64(row.commitment),
        salt=encode_base64(row.salt),
        content=json.loads(row.content),
    )
