"""What a clean refusal looks like: an HTTP problem, or a command line's exit 2."""

from __future__ import annotations

from typer.testing import Result


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status"} <= body.keys()
    assert "Traceback" not in response.text
    return body


def fields(problem: dict) -> set[str]:
    """The fields a problem's ``errors`` name."""
    return {e["field"] for e in problem.get("errors", [])}


def assert_clean_failure(result: Result) -> None:
    """Exit 2, a message on stderr, nothing on stdout, no Python traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.startswith("accord: ")
    assert "Traceback" not in result.output
