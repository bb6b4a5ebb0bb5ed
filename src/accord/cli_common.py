"""What every ``accord`` sub-command shares: how a refusal reaches the person."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["fail"]


def fail(message: object, code: int = 2) -> typer.Exit:
    """Print ``accord: <message>`` on stderr (never a traceback); the exit to raise."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"accord: {message}", markup=False)
    return typer.Exit(code)
