"""`accord demo` plays the brief's source story through the real core."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from accord.cli import app


@pytest.fixture(scope="module")
def timeline() -> list[dict[str, str]]:
    result = CliRunner().invoke(app, ["demo", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["timeline"]


def _find(timeline, action, outcome=None):
    rows = [r for r in timeline if r["action"].startswith(action)]
    if outcome is not None:
        rows = [r for r in rows if r["outcome"] == outcome]
    assert rows, f"no {action!r} step with outcome {outcome!r}"
    return rows


def test_timeline_is_in_time_order(timeline) -> None:
    times = [r["at"] for r in timeline]
    assert times == sorted(times)


def test_truce_then_joint_center_after_aid_confirmed(timeline) -> None:
    phases = [r["detail"] for r in _find(timeline, "phase")]
    assert phases[0].startswith("phase in force: truce")
    assert phases[-1].startswith("phase in force: joint-center")
    refused = _find(timeline, "propose op-c1", "refused")[0]
    assert "truce" in refused["detail"]
    assert refused["at"] < _find(timeline, "confirm aid-delivered-east-city")[0]["at"]


def test_coordinated_approved_by_both_and_executed_by_one(timeline) -> None:
    _find(timeline, "approve op-c1", "ok")
    assert _find(timeline, "execute op-c1", "refused")[0]["actor"] == "red"
    assert _find(timeline, "execute op-c1", "ok")[0]["actor"] == "blue"
    _find(timeline, "complete op-c1", "ok")


def test_vetoed_operation_cannot_execute(timeline) -> None:
    _find(timeline, "deconflict op-c2", "flagged")
    assert _find(timeline, "veto op-c2", "ok")[0]["actor"] == "red"
    assert "vetoed" in _find(timeline, "execute op-c2", "refused")[0]["detail"]


def test_synchronized_over_hidden_forces_flagged_objected_held(timeline) -> None:
    flagged = _find(timeline, "deconflict op-s1", "flagged")[0]["detail"]
    assert "position" in flagged
    assert "red" in flagged
    assert "undisclosed" in flagged
    # Blue never learns which of red's positions it is.
    assert "pos-red" not in json.dumps(timeline)
    _find(timeline, "object to op-s1", "ok")
    assert "hold" in _find(timeline, "execute op-s1", "refused")[0]["detail"]
    assert _find(timeline, "status op-s1")[0]["detail"] == "status: on_hold"


def test_imminent_threat_late_notice_is_a_breach(timeline) -> None:
    breach = _find(timeline, "compliance", "breach")[0]
    assert "late_notification" in breach["detail"]
    assert "op-i1" in breach["detail"]


def test_designated_area_refuses_third_party_and_passes_medevac(timeline) -> None:
    assert "violation" in _find(timeline, "file fp-green-17", "refused")[0]["detail"]
    assert "exempt" in _find(timeline, "file fp-green-medevac-2", "ok")[0]["detail"]


def test_text_format_prints_a_table() -> None:
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0
    assert "REFUSED" in result.stdout
    assert "BREACH" in result.stdout
