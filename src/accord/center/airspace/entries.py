"""The airspace feature's record entry kinds and live event names: the groups of alerts a
detection pass raises and the alerts it clears (signed by the center), acknowledgements
(signed by the party), escalation steps (signed by the center).

Alerts raised before groups (one entry each) read as groups of one: an acknowledgement or an
escalation step names its ``group``, or the ``alert`` of such an older entry.
"""

from __future__ import annotations

from accord.center.entry_kinds import EntryKind, Signer, entry_kind

__all__ = [
    "ACKNOWLEDGED_EVENT",
    "CLEARED_EVENT",
    "CONFLICT_EVENT",
    "EMERGENCY_EVENT",
    "ENTRIES",
    "ESCALATED_EVENT",
    "EXEMPT_EVENT",
    "OVERDUE_EVENT",
    "RAISE_EVENTS",
    "TRACKS_EVENT",
    "TRACK_EVENT",
    "VIOLATION_EVENT",
    "raise_event",
]

TRACK_EVENT = "track.updated"
TRACKS_EVENT = "tracks.updated"
CONFLICT_EVENT = "airspace.conflict"
VIOLATION_EVENT = "airspace.violation"
EXEMPT_EVENT = "airspace.exempt"
EMERGENCY_EVENT = "airspace.emergency"
CLEARED_EVENT = "airspace.cleared"
ACKNOWLEDGED_EVENT = "airspace.acknowledged"
ESCALATED_EVENT = "airspace.escalated"
OVERDUE_EVENT = "airspace.overdue"

ENTRIES: dict[str, EntryKind] = {}
_GROUP_FIELDS: tuple[str, ...] = ("group", "part", "parts", "source", "parties", "raised_at")
_GROUP_FIELDS += ("fields", "aircraft", "findings")
for _kind, _required, _optional, _summary in [
    (CONFLICT_EVENT, _GROUP_FIELDS, ("commitments",),
     "the center finds a cluster of aircraft losing separation (one group, split at 64 KiB)"),
    (VIOLATION_EVENT, (*_GROUP_FIELDS, "area"), ("commitments",),
     "the center finds aircraft in a designated area closed to them"),
    (EXEMPT_EVENT, (*_GROUP_FIELDS, "area"), ("commitments",),
     "the center records an exempt mission's passage (alerts no one)"),
    (EMERGENCY_EVENT, (*_GROUP_FIELDS, "squawk"), ("commitments",),
     "the center sees aircraft squawking an emergency code (7500, 7600, 7700)"),
    (CLEARED_EVENT, ("alerts", "cleared_at"), (), "the center clears alerts whose finding ended"),
    # a step names its group ("group"), or an alert raised before groups ("alert")
    (ESCALATED_EVENT, ("party", "level", "role", "due", "deadline", "skipped"),
     ("group", "alert"),
     "the center escalates an unacknowledged alert group along a party's chain"),
    (OVERDUE_EVENT, ("party", "level", "due", "ack_deadline", "skipped"), ("group", "alert"),
     "the center declares a party overdue on an alert group"),
]:  # fmt: skip
    ENTRIES[_kind] = entry_kind(
        _kind, signer=Signer.CENTER, required=_required, optional=_optional, fold=None,
        summary=_summary,
    )  # fmt: skip
ENTRIES[ACKNOWLEDGED_EVENT] = entry_kind(
    ACKNOWLEDGED_EVENT, signer=Signer.MEMBER, required=("content_hash",),
    optional=("group", "alert"), fold=None,
    summary="a party acknowledges an alert group (or an alert raised before groups), by hash",
    acts=("POST /v1/alerts/{*}/acknowledge",),
)  # fmt: skip


RAISE_EVENTS = {"conflict": CONFLICT_EVENT, "area": VIOLATION_EVENT, "exempt": EXEMPT_EVENT}
"""The entry kind (and live event) of a group raised, by its kind; an ``area`` group of an
emergency squawk is :data:`EMERGENCY_EVENT` instead (:func:`raise_event`)."""


def raise_event(kind: str, area: str | None) -> str:
    """The entry kind of a group of ``kind`` about ``area``."""
    if kind == "area" and area is not None and area.startswith("squawk-"):
        return EMERGENCY_EVENT
    return RAISE_EVENTS[kind]
