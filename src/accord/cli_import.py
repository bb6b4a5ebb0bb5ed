"""``accord import``: a KML, KMZ or GeoJSON file declared through the center's API, by a
member, with that member's user's own key, on its side (DECISIONS 7).

The file becomes a plan (:mod:`accord.geoimport`): every placemark as the declaration it
makes, every problem named by placemark (``#k name``), line and field. ``--check`` prints the
plan and declares nothing. Without it, a plan with any problem declares nothing either;
a clean one is sent as ``POST /v1/declarations/batch`` — one signed act, one unit of work,
all or nothing at the center too (a refusal there, say a device uid another party holds,
declares nothing). Hidden declarations (``--disclosure center``) go as ``POST
/v1/declarations/hidden`` instead, whose signed request line, which every party reads in the
record, does not say that they are new declarations. A file of more than 1,000
placemarks (or more than about 900 KB of features) goes in several such batches, in
order: should a later one be refused, the earlier ones stand, and the command says which
were declared (their ids) and which not.

The bearer token comes from ``ACCORD_TOKEN`` or ``--token-file``, never the command line;
the signing key is ``<office>/users/<user>.key`` (``accord office user-key``), the user
being the token's own (``GET /v1/me``). Exit status: 0 declared (or, with ``--check``, the
file is clean), 1 refused by the center, 2 bad input (the problems on stderr).
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from accord.agreement import Agreement, load_agreement
from accord.cli_common import fail
from accord.cli_fetch import TOKEN_ENV, read_token
from accord.errors import AccordError
from accord.geoimport import KINDS, Candidate, Options, Plan, plan_file
from accord.kml.read import MAX_KMZ_BYTES
from accord.office import Office, SignedActs

if TYPE_CHECKING:
    import httpx

__all__ = ["BATCH_BYTES", "BATCH_FEATURES", "import_file", "send_plan"]

BATCH_FEATURES = 1000
"""The most features one batch request carries (the center's ``MAX_BATCH``)."""
BATCH_BYTES = 900_000
"""The most bytes of features one batch request carries (the center takes 1 MiB bodies)."""


def _client(center: str, token: str) -> httpx.Client:
    import httpx

    return httpx.Client(
        base_url=center, headers={"Authorization": f"Bearer {token}"}, timeout=120.0
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=160)


def _fields(candidate: Candidate) -> str:
    props = candidate.feature["properties"]
    shown = [
        f"{k}={props[k]}" for k in sorted(props) if k not in ("kind", "name", "party")
    ]  # fmt: skip
    return ", ".join(shown)


def _print_plan(plan: Plan, *, declared: dict[str, str] | None = None) -> None:
    table = Table(title=f"{plan.source}: {len(plan.candidates)} to declare", title_justify="left")
    for column in ("placemark", "line", "geometry", "declares", "not declared"):
        table.add_column(column, overflow="fold")
    if declared is not None:
        table.add_column("id")
    for candidate in plan.candidates:
        geometry = candidate.feature["geometry"]
        kind = geometry.get("type") if isinstance(geometry, dict) else "?"
        row = [
            candidate.label,
            "" if candidate.line is None else str(candidate.line),
            str(kind),
            _fields(candidate),
            ", ".join(candidate.ignored),
        ]
        if declared is not None:
            row.append(declared.get(candidate.label, ""))
        table.add_row(*row)
    _console().print(table)


def _print_problems(plan: Plan) -> None:
    err = _console(stderr=True)
    count = len(plan.issues)
    err.print(
        f"accord: {plan.source}: {count} problem{'s' if count != 1 else ''}; nothing declared",
        markup=False,
    )
    for issue in plan.issues:
        err.print(f"  {issue}", markup=False)


def _batches(candidates: tuple[Candidate, ...]) -> list[list[Candidate]]:
    """The candidates in order, cut to :data:`BATCH_FEATURES` and :data:`BATCH_BYTES`."""
    out: list[list[Candidate]] = [[]]
    size = 0
    for candidate in candidates:
        length = len(json.dumps(candidate.feature, separators=(",", ":"))) + 1
        full = len(out[-1]) >= BATCH_FEATURES or size + length > BATCH_BYTES
        if out[-1] and (full or _hidden(out[-1][0]) != _hidden(candidate)):
            out.append([])
            size = 0
        out[-1].append(candidate)
        size += length
    return out


def _hidden(candidate: Candidate) -> bool:
    """Whether ``candidate`` declares a ``center`` declaration."""
    return bool(candidate.feature.get("properties", {}).get("disclosure") == "center")


def send_plan(
    client: httpx.Client, plan: Plan, auth: httpx.Auth
) -> tuple[list[tuple[Candidate, dict[str, Any]]], str | None]:
    """Declare every candidate of ``plan`` (clean) through ``client``, each batch signed by
    ``auth``; the declarations made (candidate, the center's answer) and, when a batch is
    refused, why (the batches after it are not sent)."""
    import httpx

    made: list[tuple[Candidate, dict[str, Any]]] = []
    for batch in _batches(plan.candidates):
        if _hidden(batch[0]):  # a request line that names nothing (see the module docstring)
            path, done = "/v1/declarations/hidden", 200
            body: dict[str, Any] = {
                "changes": [{"change": "declare", "feature": c.feature} for c in batch]
            }
        else:
            path, done = "/v1/declarations/batch", 201
            body = {"features": [c.feature for c in batch]}
        headers = {"Idempotency-Key": f"import-{secrets.token_hex(16)}"}
        try:
            answer = client.post(path, json=body, headers=headers, auth=auth)
        except httpx.HTTPError as error:
            return made, f"the center could not be reached: {type(error).__name__}: {error}"[:500]
        if answer.status_code != done:
            return made, _refusal(answer, batch)
        items = answer.json().get("items", [])
        made += list(zip(batch, items, strict=True))
    return made, None


def _refusal(answer: httpx.Response, batch: list[Candidate]) -> str:
    """The center's problem, each ``features[k]`` named by its placemark."""
    try:
        body = answer.json()
    except ValueError:
        return f"the center answered {answer.status_code}: {answer.text[:300]}"
    lines = [
        f"the center refused ({answer.status_code}): {body.get('detail') or body.get('title')}"
    ]
    for error in body.get("errors") or []:
        where = str(error.get("field", ""))
        label = ""
        head = next((h for h in ("features[", "changes[") if where.startswith(h)), None)
        if head is not None and "]" in where:
            index, _, rest = where[len(head) :].partition("]")
            if index.isdigit() and int(index) < len(batch):
                label = batch[int(index)].label
                where = rest.lstrip(".").removeprefix("feature.")
        lines.append(f"  {label + ': ' if label else ''}{where}: {error.get('message')}")
    return "\n".join(lines)


def _agreement(path: Path | None, client: httpx.Client | None, center: str | None) -> Agreement:
    if path is not None:
        try:
            return load_agreement(path)
        except AccordError as error:
            raise fail(error) from None
    if client is None:
        raise fail("--agreement or --center: the plan is checked against the agreement")
    answer = client.get("/v1/agreement")
    if answer.status_code != 200:
        raise fail(f"{center} answered {answer.status_code} for /v1/agreement", code=1)
    try:
        return Agreement.model_validate(answer.json())
    except ValueError as error:
        raise fail(
            f"the agreement the center serves does not read: {error}"[:500], code=1
        ) from None


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_KMZ_BYTES + 1)
    except OSError as error:
        raise fail(f"{path}: cannot read: {error.strerror}") from None
    if len(data) > MAX_KMZ_BYTES:
        raise fail(f"{path}: over {MAX_KMZ_BYTES} bytes; split the file")
    return data


def import_file(
    file: Annotated[Path, typer.Argument(help="A .kml, .kmz, .geojson or .json file.")],
    member: Annotated[str, typer.Option("--as", help="The member declaring (party or notifier).")],
    kind: Annotated[
        str, typer.Option("--kind", help=f"What each placemark is: {', '.join(KINDS)}.")
    ],
    disclosure: Annotated[
        str | None,
        typer.Option(
            "--disclosure",
            help="shared or center (default: center for a party, shared for a notifier).",
        ),
    ] = None,
    center: Annotated[
        str | None, typer.Option("--center", help="The center, e.g. https://jcc.example")
    ] = None,
    office: Annotated[
        Path | None,
        typer.Option("--office", help="The member's office folder (users/<user>.key)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Print what would be declared and every problem.")
    ] = False,
    agreement: Annotated[
        Path | None,
        typer.Option("--agreement", help="Check against this agreement (else the center's)."),
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="A site's category, where none is given.")
    ] = None,
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="Where no TimeSpan or data gives it.")
    ] = None,
    valid_to: Annotated[
        str | None, typer.Option("--valid-to", help="Where no TimeSpan or data gives it.")
    ] = None,
    uncertainty: Annotated[
        float | None, typer.Option("--uncertainty", help="uncertainty_m, where none is given.")
    ] = None,
    corridor: Annotated[
        float | None, typer.Option("--corridor", help="A movement's corridor_m, where none.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the center's answers here (ids, openings: keep them)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help=f"File holding a bearer token (else ${TOKEN_ENV})."),
    ] = None,
    exercise_clock: Annotated[
        bool,
        typer.Option("--exercise-clock", help="Sign on the center's exercise clock (`make run`)."),
    ] = False,
) -> None:
    """Declare every placemark of a KML/KMZ (or feature of a GeoJSON) file as MEMBER, all or
    nothing; ``--check`` declares nothing and prints the plan and every problem."""
    data = _read(file)
    if not check and (center is None or office is None):
        raise fail("--center and --office are needed to declare (or give --check)")
    client = None
    token = ""
    if center is not None and (not check or agreement is None):
        token = read_token(token_file)
        client = _client(center, token)
    try:
        terms = _agreement(agreement, client, center)
        options = Options(
            kind=kind,
            member=member,
            disclosure=disclosure,
            category=category,
            valid_from=valid_from,
            valid_to=valid_to,
            uncertainty_m=uncertainty,
            corridor_m=corridor,
        )
        try:
            plan = plan_file(file.name, data, terms, options)
        except AccordError as error:
            raise fail(error) from None
        if check or plan.issues or not plan.candidates:
            _print_plan(plan)
            if plan.issues:
                _print_problems(plan)
                raise typer.Exit(2)
            if not plan.candidates:
                raise fail(f"{file}: nothing to declare")
            typer.echo(f"{len(plan.candidates)} declarations would be made; none made (--check)")
            return
        assert client is not None and office is not None
        _declare(client, token, plan, Office(office, member), exercise_clock, out)
    finally:
        if client is not None:
            client.close()


def _declare(
    client: httpx.Client,
    token: str,
    plan: Plan,
    office: Office,
    exercise_clock: bool,
    out: Path | None,
) -> None:
    me = client.get("/v1/me")
    if me.status_code != 200:
        raise fail(f"the center answered {me.status_code} for /v1/me", code=1)
    who = me.json()
    if who.get("member") != office.member:
        raise fail(f"--as: the token is {who.get('member')}'s, not {office.member}'s", code=2)
    clock: Callable[[], datetime] = _now
    if who.get("exercise") is True:
        if not exercise_clock:
            raise fail(
                f"--exercise-clock: the center runs an exercise clock (its time: {who.get('now')})"
                "; give --exercise-clock to sign on it"
            )
        start, then = datetime.fromisoformat(str(who["now"])), _now()
        clock = lambda: start + (_now() - then)  # noqa: E731
    try:
        key = office.user_key(str(who["name"]))
    except (AccordError, ValueError) as error:
        raise fail(error) from None
    auth = SignedActs(
        token=token, key=key, origin=str(who["origin"]), member=office.member,
        user=str(who["name"]), clock=clock,
    )  # fmt: skip
    made, refused = send_plan(client, plan, auth)
    declared = {candidate.label: str(item.get("id")) for candidate, item in made}
    _print_plan(plan, declared=declared)
    if out is not None and made:
        _write_answers(out, made)
    if refused is not None:
        err = _console(stderr=True)
        err.print(f"accord: {refused}", markup=False)
        if made:
            err.print(
                f"accord: {len(made)} declared in earlier batches stand (ids above); "
                f"{len(plan.candidates) - len(made)} not declared",
                markup=False,
            )
        else:
            err.print("accord: nothing declared", markup=False)
        raise typer.Exit(1)
    typer.echo(f"{len(made)} declared as {office.member}")


def _write_answers(path: Path, made: list[tuple[Candidate, dict[str, Any]]]) -> None:
    """The center's answers (ids, entries, each hidden one's opening), mode 0600."""
    import os

    text = json.dumps(
        {"items": [{"placemark": c.label, "declaration": item} for c, item in made]}, indent=1
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text + "\n")
    sys.stderr.write(f"the center's answers written to {path} (mode 0600)\n")
