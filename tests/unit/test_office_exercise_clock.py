"""``accord office`` against a center playing an exercise on a clock of its own: refused,
naming ``--exercise-clock``, unless told; told, the root's act is timed by the center's
clock (``make run``'s demo takes acts within five minutes of its exercise day only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord import cli_office
from accord.office import Office
from support.cli import run

EXERCISE_NOW = datetime(2026, 9, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def center(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/me":
            return httpx.Response(200, json={
                "name": "blue-admin", "member": "blue", "origin": "accord.test/jcc",
                "exercise": True, "now": EXERCISE_NOW.isoformat().replace("+00:00", "Z"),
            })  # fmt: skip
        return httpx.Response(201, json={"key": "k1", "registered_at": 7})

    def client(server: str, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=server, headers={"Authorization": f"Bearer {token}"},
            transport=httpx.MockTransport(answer),
        )  # fmt: skip

    monkeypatch.setattr(cli_office, "_client", client)
    return seen


def _certify(tmp_path: Path, *extra: str) -> Any:
    token = tmp_path / "token"
    token.write_text("t\n")
    token.chmod(0o600)
    return run(
        "office", "certify", "--office", tmp_path / "office", "--member", "blue",
        "--user", "gw", "--server", "http://center", "--public-key", "A" * 43 + "=",
        "--token-file", token, *extra,
    )  # fmt: skip


def test_a_center_on_an_exercise_clock_is_refused_unless_the_office_is_told(
    tmp_path: Path, center: list[httpx.Request]
) -> None:
    Office(tmp_path / "office", "blue").init()
    refused = _certify(tmp_path)
    assert refused.exit_code == 2 and "--exercise-clock" in refused.stderr
    assert [r.method for r in center] == ["GET"]  # nothing sent


def test_told_the_roots_act_is_timed_by_the_centers_clock(
    tmp_path: Path, center: list[httpx.Request]
) -> None:
    Office(tmp_path / "office", "blue").init()
    done = _certify(tmp_path, "--exercise-clock")
    assert done.exit_code == 0, done.output
    (posted,) = [r for r in center if r.method == "POST"]
    at = datetime.fromisoformat(posted.headers["Accord-Act-At"])
    assert abs(at - EXERCISE_NOW) < timedelta(seconds=1)
    assert json.loads(posted.content)["user"] == "gw"
