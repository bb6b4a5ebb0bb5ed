"""The ``accord`` command: a thin edge around the pure core.

Exit codes: 0 success (nothing blocks), 1 the answer is "no" (a blocking conflict), 2 bad
input (the message on stderr, never a stack trace).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from accord.agreement import Agreement, load_agreement
from accord.deconfliction import DeconflictionIndex, OperationCheck
from accord.errors import AccordError
from accord.world import World, load_world

__all__ = ["app", "main"]

app = typer.Typer(
    name="accord",
    help="Joint coordination and deconfliction center.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Joint coordination and deconfliction center."""


class Format(StrEnum):
    text = "text"
    json = "json"


def _console() -> Console:
    """Standard output; wide enough for a table even when piped to a file."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    return console


def _fail(error: AccordError | str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"accord: {error}", markup=False)
    return typer.Exit(2)


def _load(agreement_path: Path, world_path: Path) -> tuple[Agreement, World]:
    agreement = load_agreement(agreement_path)
    world = load_world(world_path, agreement)
    return agreement, world


def check_report(results: list[OperationCheck], *, viewer: str | None = None) -> dict[str, Any]:
    """The JSON document ``accord check --format json`` prints."""
    operations = []
    by_kind: dict[str, int] = {}
    blocking_ops = 0
    for result in results:
        conflicts = [c.visible_to(viewer) for c in result.conflicts]
        for c in conflicts:
            by_kind[c.kind.value] = by_kind.get(c.kind.value, 0) + 1
        if result.blocking:
            blocking_ops += 1
        operations.append(
            {
                "id": result.operation.id,
                "category": result.operation.category,
                "blocking": result.blocking,
                "conflicts": [c.as_dict() for c in conflicts],
            }
        )
    return {
        "operations": operations,
        "summary": {
            "operations": len(results),
            "operations_blocked": blocking_ops,
            "conflicts": sum(by_kind.values()),
            "conflicts_blocking": sum(1 for r in results for c in r.conflicts if c.blocking),
            "conflicts_by_kind": dict(sorted(by_kind.items())),
            "viewer": viewer or "center",
        },
    }


def _print_check_table(report: dict[str, Any]) -> None:
    console = _console()
    table = Table(title="Deconfliction check", show_lines=False)
    for column in ("operation", "category", "kind", "with", "party", "distance m", "limit m", ""):
        table.add_column(column)
    for op in report["operations"]:
        if not op["conflicts"]:
            table.add_row(op["id"], op["category"], "—", "", "", "", "", "[green]clear[/]")
            continue
        for i, c in enumerate(op["conflicts"]):
            verdict = "[bold red]BLOCKS[/]" if c["blocking"] else "[yellow]warns[/]"
            if c.get("stale"):
                verdict += " [dim](stale site)[/]"
            table.add_row(
                op["id"] if i == 0 else "",
                op["category"] if i == 0 else "",
                c["kind"],
                c["with"] if c["with"] is not None else "[dim](undisclosed)[/]",
                c["party"],
                f"{c['distance_m']:,.0f}",
                f"{c['threshold_m']:,.0f}" if "threshold_m" in c else "",
                verdict,
            )
    console.print(table)
    s = report["summary"]
    console.print(
        f"{s['operations']} operations, {s['operations_blocked']} blocked, "
        f"{s['conflicts']} conflicts ({s['conflicts_blocking']} blocking)"
    )


@app.command()
def check(
    world: Annotated[Path, typer.Argument(help="The declared world (GeoJSON).")],
    agreement: Annotated[Path, typer.Option("--agreement", "-a", help="Agreement file (YAML).")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    as_party: Annotated[
        str | None,
        typer.Option("--as", help="Show the result as this party may see it (default: center)."),
    ] = None,
) -> None:
    """Check every operation in WORLD against everything declared.

    Exit 0 when nothing blocks, 1 when any conflict blocks, 2 on invalid input.
    """
    try:
        loaded_agreement, loaded_world = _load(agreement, world)
        if as_party is not None and as_party not in loaded_agreement.party_ids:
            raise _fail(f"--as: unknown party {as_party!r}")
        index = DeconflictionIndex(loaded_agreement, loaded_world)
        results = index.check_all()
    except AccordError as error:
        raise _fail(error) from None
    report = check_report(results, viewer=as_party)
    if format is Format.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_check_table(report)
    raise typer.Exit(1 if report["summary"]["conflicts_blocking"] else 0)


@app.command()
def demo(
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
) -> None:
    """Play the scripted scenario of the brief's source story through the core."""
    from accord.demo import run_demo
    from accord.examples import example_path

    try:
        agreement, world = _load(example_path("jig.yaml"), example_path("world.geojson"))
    except AccordError as error:
        raise _fail(error) from None
    steps = run_demo(agreement, world)
    if format is Format.json:
        doc = {"agreement": agreement.id, "timeline": [s.as_dict() for s in steps]}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    console = _console()
    table = Table(title=f"{agreement.title}", show_lines=False)
    for column in ("time (UTC)", "who", "what", "", "detail"):
        table.add_column(column, overflow="fold")
    styles = {
        "ok": "[green]ok[/]",
        "refused": "[bold red]REFUSED[/]",
        "flagged": "[yellow]FLAGGED[/]",
        "breach": "[bold magenta]BREACH[/]",
        "info": "[cyan]·[/]",
    }
    for step in steps:
        table.add_row(
            step.at.strftime("%m-%d %H:%M"),
            step.actor,
            step.action,
            styles[step.outcome],
            step.detail,
        )
    console.print(table)


def main() -> None:
    """Entry point of the ``accord`` command."""
    app()
