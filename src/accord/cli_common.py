"""What every ``accord`` sub-command shares: how a refusal reaches the person, and what a
party may see of a world file (``accord check --as``, ``accord export --as``)."""

from __future__ import annotations

import typer
from rich.console import Console

from accord.world import Declared, Disclosure

__all__ = ["fail", "visible"]


def fail(message: object, code: int = 2) -> typer.Exit:
    """Print ``accord: <message>`` on stderr (never a traceback); the exit to raise."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"accord: {message}", markup=False)
    return typer.Exit(code)


def visible(obj: Declared, viewer: str | None) -> bool:
    """Whether ``viewer`` (None: the center) may see that ``obj`` of a world file exists:
    the center sees everything, a party every ``shared`` object and its own.

    >>> from accord.world import Disclosure
    >>> from types import SimpleNamespace as N
    >>> hidden = N(disclosure=Disclosure.CENTER, owner="red", declared_by="red")
    >>> visible(hidden, "red"), visible(hidden, "blue"), visible(hidden, None)
    (True, False, True)
    """
    return (
        viewer is None
        or obj.disclosure is Disclosure.SHARED
        or viewer
        in (
            obj.owner,
            obj.declared_by,
        )
    )
