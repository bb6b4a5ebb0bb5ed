"""The airspace services' plain values and their answers agree: the JSON a live event carries
(:func:`~accord.center.airspace.alerts.alert_json`,
:func:`~accord.center.airspace.tracks.track_json`) is what the routes answer for the same
value (:mod:`accord.center.airspace.views`), key for key and in the same order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from accord.center.airspace.alerts import AlertView, OtherView, PartyView, alert_json
from accord.center.airspace.plans import PlanConflictView
from accord.center.airspace.tracks import track_json
from accord.center.airspace.trackstore import Track
from accord.center.airspace.views import alert_out, plan_conflict_out, track_out
from accord.center.escalation.store import StepView

AT = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def _alert(**changes: object) -> AlertView:
    step = StepView(
        level=1, kind="escalated", at=AT, due=AT + timedelta(minutes=2),
        deadline=AT + timedelta(minutes=3, microseconds=120), role="duty", contact="ann",
        skipped=["chief"], skipped_users=["bob"], entry=7,
    )  # fmt: skip
    party = PartyView(
        party="blue", acknowledged=False, ack_deadline=AT + timedelta(minutes=2),
        deadline=None, level=1, overdue_at=None, escalations=[step],
    )  # fmt: skip
    fields: dict[str, object] = dict(
        id="a-0123456789.3", kind="conflict", source="track", parties=["blue", "red"],
        tracks=["b1", None], others=[OtherView(party="red", operator="red")],
        label="conflict: b1 / an aircraft of red", at=AT,
        last_seen=AT + timedelta(seconds=1, microseconds=500),
        predicted_at=AT + timedelta(seconds=90), tcpa_s=None, lost=False, lat=20.5, lon=-3.25,
        horizontal_nm=None, vertical_ft=None, area=None, inside=None, detail="…",
        cleared=False, cleared_at=None, entry=12, content_hash="ab" * 32,
        acknowledged=["red"], group="a-0123456789", recipients=[party],
        opening={"salt": "x", "content": "{}"},
    )  # fmt: skip
    fields.update(changes)
    return AlertView(**fields)  # type: ignore[arg-type]


def test_an_alert_s_event_json_is_its_answer() -> None:
    offset = timezone(timedelta(hours=2))
    for view in (
        _alert(),
        _alert(tcpa_s=41.5, horizontal_nm=2.0, vertical_ft=300.0, lost=True, recipients=[]),
        _alert(
            kind="area",
            area="R1",
            inside=True,
            lost=None,
            cleared=True,
            cleared_at=AT.astimezone(offset),
            opening=None,
        ),
    ):
        answer = alert_out(view).model_dump(mode="json")
        assert alert_json(view) == answer
        assert json.dumps(alert_json(view)) == json.dumps(answer)


def test_a_track_s_event_json_is_its_answer() -> None:
    row = Track(
        owner="blue", id="b1", operator="blue", party="blue", mission="patrol",
        time=AT + timedelta(microseconds=250_000), lat=20, lon=-3.5, alt_ft=30000,
        gs_kt=420.0, track_deg=90, vs_fpm=0, disclosure="shared",
    )  # fmt: skip
    answer = track_out(row).model_dump(mode="json")
    assert json.dumps(track_json(row)) == json.dumps(answer)


def test_a_plan_conflict_answers_its_view() -> None:
    view = PlanConflictView(
        alert="a-0123456789.0", other=None, party="red", operator="red", los_at=AT,
        los_until=None, cpa_at=None, dcpa_m=None,
    )  # fmt: skip
    assert plan_conflict_out(view).model_dump() == {
        "alert": "a-0123456789.0", "other": None, "party": "red", "operator": "red",
        "los_at": AT, "los_until": None, "cpa_at": None, "dcpa_m": None,
    }  # fmt: skip
