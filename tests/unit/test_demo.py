"""`accord demo` plays the brief's source story through the real core."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from accord.cli import app


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    directory = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        app, ["demo", "--format", "json", "--record-dir", str(directory / "record")]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def timeline(demo_run: dict) -> list[dict[str, str]]:
    return demo_run["timeline"]


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


def test_text_format_prints_a_table(tmp_path) -> None:
    result = CliRunner().invoke(app, ["demo", "--record-dir", str(tmp_path / "r")])
    assert result.exit_code == 0
    assert "REFUSED" in result.stdout
    assert "BREACH" in result.stdout
    assert "VERIFIED" in result.stdout


def test_the_timeline_is_a_signed_record_both_parties_cosigned(demo_run: dict) -> None:
    record = demo_run["record"]
    assert record["verified"] is True
    report = "\n".join(record["report"])
    assert f"{len(demo_run['timeline'])} entries" in report
    assert "blue (at" in report
    assert "red (at" in report
    # Each party's steps are signed with its own key.
    for party in ("blue", "red", "hnc"):
        assert f"{party} (" in report


def test_the_demo_record_verifies_alone_and_a_tampered_copy_does_not(demo_run: dict) -> None:
    import shutil
    import sqlite3
    from pathlib import Path

    log, keys = Path(demo_run["record"]["log"]), demo_run["record"]["keys"]
    ok = CliRunner().invoke(app, ["verify", str(log), "--keys", keys])
    assert ok.exit_code == 0, ok.output
    assert "VERIFIED" in ok.stdout
    copy = log.with_name("tampered.sqlite")
    shutil.copy(log, copy)
    db = sqlite3.connect(copy)
    (data,) = db.execute("SELECT data FROM leaves WHERE idx = 3").fetchone()
    db.execute("UPDATE leaves SET data = ? WHERE idx = 3", (bytes(data).replace(b"ok", b"no", 1),))
    db.commit()
    db.close()
    bad = CliRunner().invoke(app, ["verify", str(copy), "--keys", keys])
    assert bad.exit_code == 1
    assert "entry 3" in bad.stderr
    assert "Traceback" not in bad.output


def test_the_direct_line_escalates_and_the_record_settles_the_dispute(timeline) -> None:
    sent = _find(timeline, "send m-demo-1 to red", "ok")[0]
    assert sent["actor"] == "blue" and sent["at"] == "2026-09-20T03:10:00Z"
    for party in ("red", "blue"):
        (check,) = _find(timeline, f"check m-demo-1 for {party}", "flagged")
        assert check["detail"].startswith("240 m from School No. 12")
    steps = _find(timeline, "escalate m-demo-1")
    assert [(s["at"][11:16], "backup" in s["detail"], "duty" in s["detail"]) for s in steps] == [
        ("03:20", True, False),
        ("03:25", False, True),
    ]
    assert "primary absent" in steps[0]["detail"]
    (ack,) = _find(timeline, "acknowledge m-demo-1", "ok")
    digest = sent["detail"].split("content hash ")[1][:16]
    assert ack["actor"] == "red" and digest in ack["detail"]
    (dispute,) = _find(timeline, "dispute m-demo-1", "info")
    assert "settled: blue sent them at 03:10" in dispute["detail"]


def test_the_text_output_tells_the_direct_line(tmp_path) -> None:
    result = CliRunner().invoke(app, ["demo", "--record-dir", str(tmp_path / "record")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for words in ("send m-demo-1 to red", "escalate m-demo-1", "dispute m-demo-1", "VERIFIED"):
        assert words in text
