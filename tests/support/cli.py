"""Running the ``accord`` command in-process, as a user would from a shell."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from accord.cli import app


def run(*args: str | Path) -> Result:
    """``accord ARGS…``, its output and exit code captured."""
    return CliRunner().invoke(app, [str(a) for a in args])
