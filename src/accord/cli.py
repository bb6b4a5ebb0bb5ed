"""The ``accord`` command: a thin edge around the pure core.

Exit codes: 0 success (nothing blocks), 1 the answer is "no" (a blocking conflict), 2 bad
input (the message on stderr, never a stack trace).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from accord.agreement import Agreement, load_agreement
from accord.center.cli import db_app, serve, users_app
from accord.chrono import format_instant, parse_instant
from accord.cli_common import fail, visible
from accord.cli_cot import cot_app
from accord.cli_export import export
from accord.cli_feed import feed_app
from accord.cli_fetch import record_fetch
from accord.cli_import import import_file
from accord.cli_monitor import monitor
from accord.cli_office import office_app
from accord.cli_record import keys_app, record_app, verify
from accord.cli_witness import witness_app
from accord.coordinates import parse_point
from accord.errors import AccordError
from accord.rules import AreaFinding, DesignatedAreaIndex
from accord.units import NM
from accord.world import FlightPlan, World, load_world

if TYPE_CHECKING:
    from accord.airspace import Separation, TrackAreaFinding, TrackConflict
    from accord.deconfliction import OperationCheck

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


app.add_typer(keys_app, name="keys")
app.add_typer(office_app, name="office")
record_app.command("fetch")(record_fetch)
app.add_typer(record_app, name="record")
app.command("verify")(verify)
app.add_typer(db_app, name="db")
app.add_typer(cot_app, name="cot")
app.add_typer(feed_app, name="feed")
app.add_typer(users_app, name="users")
app.add_typer(witness_app, name="witness")
app.command("monitor")(monitor)
app.command("serve")(serve)
app.command("export")(export)
app.command("import")(import_file)


class Format(StrEnum):
    text = "text"
    json = "json"


def _console() -> Console:
    """Standard output; wide enough for a table even when piped to a file."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    return console


def _load(agreement_path: Path, world_path: Path) -> tuple[Agreement, World]:
    agreement = load_agreement(agreement_path)
    world = load_world(world_path, agreement)
    return agreement, world


def check_report(
    results: list[OperationCheck],
    findings: Sequence[tuple[FlightPlan, AreaFinding]] = (),
    *,
    viewer: str | None = None,
) -> dict[str, Any]:
    """The JSON document ``accord check --format json`` prints, as ``viewer`` may see it.

    Another party's ``center`` operations and flight plans are left out; conflicts with its
    ``center`` objects show only kind, owning party, distance and whether they block.
    """
    operations = []
    by_kind: dict[str, int] = {}
    blocking_ops = blocking_conflicts = 0
    for result in results:
        if not visible(result.operation, viewer):
            continue
        conflicts = [c.visible_to(viewer) for c in result.conflicts]
        for c in conflicts:
            by_kind[c.kind.value] = by_kind.get(c.kind.value, 0) + 1
            blocking_conflicts += c.blocking
        blocking_ops += result.blocking
        operations.append(
            {
                "id": result.operation.id,
                "category": result.operation.category,
                "blocking": result.blocking,
                "conflicts": [c.as_dict() for c in conflicts],
            }
        )
    areas = [
        {
            "flight": finding.flight_id,
            "area": finding.area_id,
            "operator": finding.operator,
            "mission": finding.mission,
            "verdict": finding.verdict,
            "entry_at": None
            if finding.entry_at is None
            else format_instant(finding.entry_at.replace(microsecond=0)),
        }
        for plan, finding in findings
        if visible(plan, viewer)
    ]
    return {
        "operations": operations,
        "designated_areas": areas,
        "summary": {
            "operations": len(operations),
            "operations_blocked": blocking_ops,
            "conflicts": sum(by_kind.values()),
            "conflicts_blocking": blocking_conflicts,
            "conflicts_by_kind": dict(sorted(by_kind.items())),
            "designated_area_violations": sum(a["verdict"] == "violation" for a in areas),
            "designated_area_exempt": sum(a["verdict"] == "exempt" for a in areas),
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
                f"{c['distance_m']:,.0f}" if c["distance_m"] is not None else "[dim]—[/]",
                f"{c['threshold_m']:,.0f}" if "threshold_m" in c else "",
                verdict,
            )
    console.print(table)
    if report["designated_areas"]:
        areas = Table(title="Designated areas", show_lines=False)
        for column in ("flight", "area", "operator", "mission", "enters at", ""):
            areas.add_column(column)
        for a in report["designated_areas"]:
            verdict = "[bold red]VIOLATION[/]" if a["verdict"] == "violation" else "exempt"
            areas.add_row(
                a["flight"], a["area"], a["operator"], a["mission"], a["entry_at"] or "", verdict
            )
        console.print(areas)
    s = report["summary"]
    console.print(
        f"{s['operations']} operations, {s['operations_blocked']} blocked, "
        f"{s['conflicts']} conflicts ({s['conflicts_blocking']} blocking), "
        f"{s['designated_area_violations']} designated-area violations"
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
    """Check every operation in WORLD against everything declared, and every flight plan
    against the designated areas.

    Exit 0 when nothing blocks, 1 when a conflict blocks or a flight violates a designated
    area, 2 on invalid input.
    """
    try:
        loaded_agreement, loaded_world = _load(agreement, world)
        if as_party is not None and as_party not in loaded_agreement.party_ids:
            raise fail(f"--as: unknown party {as_party!r}")
        # Imported here: the compiled engine is the heaviest import, and `accord verify`,
        # `accord keys` and `accord record` do not need it.
        from accord.deconfliction import DeconflictionIndex

        index = DeconflictionIndex(loaded_agreement, loaded_world)
        results = index.check_all()
        areas = DesignatedAreaIndex(loaded_agreement)
        findings = [(plan, f) for plan in loaded_world.flight_plans for f in areas.check(plan)]
    except AccordError as error:
        raise fail(error) from None
    report = check_report(results, findings, viewer=as_party)
    if format is Format.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_check_table(report)
    summary = report["summary"]
    refused = summary["conflicts_blocking"] or summary["designated_area_violations"]
    raise typer.Exit(1 if refused else 0)


def airspace_report(
    conflicts: Sequence[TrackConflict],
    findings: Sequence[TrackAreaFinding],
    *,
    now: datetime,
    separation: Separation,
    tracks: int,
    stale: int,
) -> dict[str, Any]:
    """The JSON document ``accord airspace --format json`` prints."""
    areas = [f.as_dict() for f in findings]
    return {
        "now": format_instant(now.replace(microsecond=0)),
        "separation": {
            "horizontal_nm": round(separation.horizontal_m / NM, 3),
            "vertical_ft": separation.vertical_ft,
            "lookahead_s": separation.lookahead_s,
        },
        "conflicts": [c.as_dict() for c in conflicts],
        "designated_areas": areas,
        "summary": {
            "tracks": tracks,
            "stale_reports_dropped": stale,
            "conflicts": len(conflicts),
            "lost_now": sum(c.lost for c in conflicts),
            "designated_area_violations": sum(a["verdict"] == "violation" for a in areas),
            "designated_area_exempt": sum(a["verdict"] == "exempt" for a in areas),
        },
    }


def _print_airspace(report: dict[str, Any]) -> None:
    console = _console()
    sep = report["separation"]
    table = Table(
        title=f"Predicted losses of separation at {report['now']} "
        f"({sep['horizontal_nm']:g} NM, {sep['vertical_ft']:g} ft, "
        f"look-ahead {sep['lookahead_s']:g} s)",
        show_lines=False,
    )
    for column in ("aircraft", "parties", "to CPA s", "CPA NM", "loss at", ""):
        table.add_column(column)
    for c in report["conflicts"]:
        a_owner = c["a_party"] or c["a_operator"]
        b_owner = c["b_party"] or c["b_operator"]
        verdict = "[bold red]LOST[/]" if c["lost"] else f"[yellow]in {c['tlos_s']:.0f} s[/]"
        table.add_row(
            f"{c['a']} – {c['b']}",
            f"{a_owner} – {b_owner}",
            f"{c['tcpa_s']:.0f}",
            f"{c['dcpa_nm']:.2f}",
            c["los_at"],
            verdict,
        )
    if report["conflicts"]:
        console.print(table)
    if report["designated_areas"]:
        areas = Table(title="Designated areas", show_lines=False)
        for column in ("track", "area", "operator", "mission", "enters at", ""):
            areas.add_column(column)
        for a in report["designated_areas"]:
            verdict = "[bold red]VIOLATION[/]" if a["verdict"] == "violation" else "exempt"
            areas.add_row(
                a["track"],
                a["area"],
                a["operator"],
                a["mission"],
                "inside now" if a["inside"] else a["entry_at"],
                verdict,
            )
        console.print(areas)
    s = report["summary"]
    console.print(
        f"{s['tracks']} aircraft ({s['stale_reports_dropped']} stale reports dropped), "
        f"{s['conflicts']} predicted losses of separation ({s['lost_now']} already lost), "
        f"{s['designated_area_violations']} designated-area violations, "
        f"{s['designated_area_exempt']} exempt"
    )


@app.command()
def airspace(
    tracks: Annotated[Path, typer.Argument(help="Track reports: CSV, or GeoJSON (.geojson).")],
    agreement: Annotated[Path, typer.Option("--agreement", "-a", help="Agreement file (YAML).")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The instant to detect at (default: the latest report)."),
    ] = None,
) -> None:
    """Predicted losses of separation between the latest tracks, and tracks inside or heading
    into designated areas closed to their operator.

    Exit 0 when there are none, 1 with any loss of separation or designated-area violation,
    2 on invalid input.
    """
    from accord.airspace import (
        Separation,
        latest,
        load_tracks,
        track_area_findings,
        track_conflicts,
    )

    try:
        loaded = load_agreement(agreement)
        merged = latest(load_tracks(tracks, agreement=loaded))
        if at is not None:
            try:
                now = parse_instant(at)
            except ValueError as exc:
                raise fail(f"--at: {exc}") from None
        else:
            now = merged.tracks.latest_time or datetime(1970, 1, 1, tzinfo=UTC)
        separation = Separation.from_rules(loaded.airspace)
        conflicts = track_conflicts(merged.tracks, separation, now)
        findings = track_area_findings(
            merged.tracks, DesignatedAreaIndex(loaded), now, loaded.airspace.lookahead
        )
    except AccordError as error:
        raise fail(error) from None
    report = airspace_report(
        conflicts,
        findings,
        now=now,
        separation=separation,
        tracks=len(merged.tracks),
        stale=len(merged.stale),
    )
    if format is Format.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        _print_airspace(report)
    summary = report["summary"]
    raise typer.Exit(1 if summary["conflicts"] or summary["designated_area_violations"] else 0)


@app.command()
def demo(
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    record_dir: Annotated[
        Path, typer.Option("--record-dir", help="Where the demo writes its signed record.")
    ] = Path("var/demo"),
) -> None:
    """Play the scripted scenario of the brief's source story through the core, write it
    into a signed record, and verify that record as a party would."""
    from accord.demo import run_demo
    from accord.demo_record import record_demo
    from accord.examples import example_path

    try:
        agreement, world = _load(example_path("jig.yaml"), example_path("world.geojson"))
        steps = run_demo(agreement, world)
        # The record's head is signed when the demo runs: the only reading of the clock.
        record = record_demo(agreement, steps, record_dir, signed_at=datetime.now(UTC))
    except AccordError as error:
        raise fail(error) from None
    if format is Format.json:
        doc = {
            "agreement": agreement.id,
            "timeline": [s.as_dict() for s in steps],
            "record": {
                "log": str(record.log),
                "keys": str(record.keys),
                "verified": True,
                "report": record.report.lines(),
            },
        }
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
    console.print(f"Record written to {record.log}; public keys in {record.keys}.")
    console.print(f"accord verify {record.log} --keys {record.keys}:", markup=False)
    for line in record.report.lines():
        console.print(f"  {line}", markup=False)
    console.print("[bold green]VERIFIED[/]")


_KIND_NAMES = {"mgrs": "MGRS", "decimal": "decimal degrees", "dms": "DMS"}


@app.command("coordinates")
def coordinates_command(
    text: Annotated[
        str,
        typer.Argument(
            help="MGRS (34R EN 50455 65040), decimal degrees latitude first (25.3456, "
            "21.7654), or DMS (25°20'44.4\"N 21°45'55.4\"E); quote it; after -- if it "
            "starts with a minus sign."
        ),
    ],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
) -> None:
    """Read a point as an officer types it and print it in all three forms (MGRS to the
    metre, decimal degrees, DMS) with how it was read: for MGRS the centre of the square
    named and how far the true point may lie from it. Exit 2 when TEXT is no point, saying
    why. The same reader as the center's (properties.mgrs, GET /v1/coordinates)."""
    try:
        point = parse_point(text, field="TEXT")
    except AccordError as error:
        raise fail(error) from None
    forms = point.forms()
    if format is Format.json:
        answer = {
            "lon": point.lon,
            "lat": point.lat,
            "kind": point.kind,
            "text": point.text,
            "precision_m": point.precision_m,
            "uncertainty_m": point.uncertainty_m,
            "forms": forms,
        }
        sys.stdout.write(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        return
    read = f"{_KIND_NAMES[point.kind]} {point.text}"
    if point.precision_m is not None:
        read += (
            f" (a {point.precision_m:,} m square: its centre, the true point within "
            f"{point.uncertainty_m:,.2f} m)"
        )
    console = _console()
    for label, value in (
        ("read as", read),
        ("MGRS", forms["mgrs"]),
        ("decimal", forms["decimal"]),
        ("DMS", forms["dms"]),
        ("lon, lat", f"{point.lon!r}, {point.lat!r}  (GeoJSON order)"),
    ):
        console.print(f"{label:<10}{value}", markup=False)


def main() -> None:
    """Entry point of the ``accord`` command."""
    app()
