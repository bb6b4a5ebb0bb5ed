"""The airspace routes' answers (pydantic), and the functions that make them from the
services' plain values: tracks, alerts as one reader may see them, a batch's outcome, a
flight plan's probe.

A reader's cut of an alert (what it may see of an aircraft hidden from it) is made by
:func:`accord.center.airspace.alerts.alert_of`; these models only carry it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from accord.center.airspace.alerts import AlertView
from accord.center.airspace.plans import PlanConflictView
from accord.center.airspace.tracks import Batch
from accord.center.airspace.trackstore import Track
from accord.center.escalation.views import EscalationOut

__all__ = [
    "AlertOut",
    "AlertPartyOut",
    "OtherOut",
    "PlanConflictOut",
    "TrackOut",
    "TracksAnswer",
    "alert_out",
    "plan_conflict_out",
    "track_out",
    "tracks_answer",
]


class TrackOut(BaseModel):
    """A track as a reader may see it (the last report of the aircraft)."""

    id: str
    operator: str
    party: str | None
    mission: str
    time: datetime
    lat: float
    lon: float
    alt_ft: float
    gs_kt: float
    track_deg: float
    vs_fpm: float
    disclosure: str
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None


class OtherOut(BaseModel):
    """An aircraft (or flight plan) hidden from the reader: whose it is, nothing else."""

    party: str | None
    operator: str


class AlertPartyOut(BaseModel):
    """Where one party concerned stands with an alert: acknowledged or not, the deadline
    (``ack_deadline``: raised + the window; ``deadline``: the one running now, null once
    acknowledged, cleared or overdue), the escalation ``level`` reached, when it was declared
    ``overdue``, and its escalation steps (contact names for the party itself only)."""

    party: str
    acknowledged: bool
    ack_deadline: datetime
    deadline: datetime | None
    level: int
    overdue_at: datetime | None
    escalations: list[EscalationOut]


class AlertOut(BaseModel):
    """An airspace alert as one reader may see it.

    ``tracks``: the two aircraft (or flight plans) of a conflict, one of an area finding —
    ``null`` where it is hidden from the reader (then ``others`` says whose it is).
    ``at``: when it was raised; ``predicted_at``: when separation is lost (a conflict) or the
    aircraft enters the area; ``lat`` / ``lon``: the place, when the reader may see it;
    ``horizontal_nm`` / ``vertical_ft``: the separation at the closest approach;
    ``content_hash``: what an acknowledgement names (the SHA-256 of the canonical JSON of
    the record entry of the alert's ``group``: the findings of one detection pass raised
    together, acknowledged and escalated together); ``opening``: for the owner of a hidden
    aircraft, what opens the commitment the entry holds for it; ``recipients``: each party
    concerned's acknowledgement deadline and escalation (:class:`AlertPartyOut`), which are
    its group's. Of a conflict with an aircraft hidden from the reader: no ``tcpa_s``,
    ``horizontal_nm`` or ``vertical_ft``, and the place is the reader's own aircraft's when
    separation is lost (DECISIONS 1). ``squawk``: of an emergency (kind ``squawk``), the
    code the aircraft squawks (7500 unlawful interference, 7600 radio failure, 7700
    emergency); the place only where the reader may see the aircraft."""

    id: str
    kind: str
    source: str
    parties: list[str]
    tracks: list[str | None]
    others: list[OtherOut]
    label: str
    at: datetime
    last_seen: datetime
    predicted_at: datetime | None
    tcpa_s: float | None
    lost: bool | None
    lat: float | None
    lon: float | None
    horizontal_nm: float | None
    vertical_ft: float | None
    area: str | None
    inside: bool | None
    detail: str
    cleared: bool
    cleared_at: datetime | None
    entry: int
    content_hash: str
    acknowledged: list[str]
    group: str | None = None
    recipients: list[AlertPartyOut] = []
    opening: dict[str, Any] | None = None
    squawk: str | None = None


class PlanConflictOut(BaseModel):
    """A conflict of a flight plan with another one, as the declaring caller may see it.
    When the other plan is hidden from it, ``other``, ``los_until``, ``cpa_at`` and
    ``dcpa_m`` are null: it learns whose plan it is and when separation is lost, nothing
    that measures the other (DECISIONS 1)."""

    alert: str
    other: str | None
    party: str | None
    operator: str
    los_at: datetime
    los_until: datetime | None
    cpa_at: datetime | None
    dcpa_m: float | None


class TracksAnswer(BaseModel):
    """What a batch did: reports ``accepted`` (stored) and ``dropped`` (not newer than the
    one kept), the alerts it ``raised`` and the ids of those it ``cleared``, as the caller may
    see them (the first :data:`~accord.center.airspace.tracks.ANSWER_ALERTS_MAX` of each;
    ``raised_count`` and ``cleared_count``: how many); ``fresh``: the aircraft checked."""

    accepted: int
    dropped: int
    fresh: int
    raised: list[AlertOut]
    cleared: list[str]
    raised_count: int = 0
    cleared_count: int = 0


def track_out(row: Track) -> TrackOut:
    """A stored track as a reader sees it."""
    return TrackOut(
        id=row.id,
        operator=row.operator,
        party=row.party,
        mission=row.mission,
        time=row.time,
        lat=row.lat,
        lon=row.lon,
        alt_ft=row.alt_ft,
        gs_kt=row.gs_kt,
        track_deg=row.track_deg,
        vs_fpm=row.vs_fpm,
        disclosure=row.disclosure,
        icao24=row.icao24,
        callsign=row.callsign,
        squawk=row.squawk,
    )


def alert_out(view: AlertView) -> AlertOut:
    """A reader's cut of an alert as the answer."""
    return AlertOut.model_validate(asdict(view))


def tracks_answer(batch: Batch) -> TracksAnswer:
    """What a batch of tracks did, as the answer."""
    return TracksAnswer(
        accepted=batch.accepted,
        dropped=batch.dropped,
        fresh=batch.fresh,
        raised=[alert_out(v) for v in batch.raised],
        cleared=batch.cleared,
        raised_count=batch.raised_count,
        cleared_count=batch.cleared_count,
    )


def plan_conflict_out(view: PlanConflictView) -> PlanConflictOut:
    """A flight plan's conflict as the declaring caller may see it."""
    return PlanConflictOut.model_validate(asdict(view))
