"""``accord serve``, ``accord db upgrade`` and ``accord users``: the service's commands.

These are the composition root's edge (:mod:`accord.center.bootstrap` builds what they
run): the only place that reads ``ACCORD_DATABASE_URL``.
Heavy imports (SQLAlchemy, FastAPI, uvicorn) happen inside the commands, so every other
``accord`` command starts as fast as before. Exit codes: 0 done, 2 bad input (the message on
stderr names the field). ``accord users add`` prints the new token alone on standard output,
once (so ``TOKEN=$(accord users add …)`` works); the database keeps only its hash.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from accord.agreement import load_agreement
from accord.center.config import DATABASE_URL_ENV, DEFAULT_KEYS_DIR, Settings, database_url
from accord.center.roles import Role
from accord.cli_common import fail
from accord.errors import AccordError
from accord.examples import example_path

if TYPE_CHECKING:
    from datetime import datetime

    from accord.center.cot.listener import CotOptions
    from accord.center.demo_witnesses import DemoWitness
    from accord.center.exercise import DemoOffices
    from accord.center.runtime import Center, Clock

__all__ = ["admin_center", "db_app", "serve", "users_app"]

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
users_app = typer.Typer(help="People who may call the service.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL (default: $ACCORD_DATABASE_URL, else sqlite:///./var/accord.sqlite).",
    ),
]
AgreementOption = Annotated[
    Path | None,
    typer.Option(
        "--agreement",
        help="The agreement (YAML; it names the members' roots); default: $ACCORD_AGREEMENT.",
    ),
]


def _default_agreement() -> Path:
    """The agreement when ``--agreement`` is not given: ``$ACCORD_AGREEMENT``, else the
    embedded example (which names no roots: the center refuses to serve it)."""
    from accord.center.bootstrap import AGREEMENT_ENV

    named = os.environ.get(AGREEMENT_ENV)
    return Path(named) if named else example_path("jig.yaml")


def _info(message: str) -> None:
    from accord.center.logs import logging_json

    if logging_json():  # `accord serve --log-format json`: this process's lines too
        logging.getLogger("accord.center").info(message)
        return
    Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)


def _url(option: str | None) -> str:
    return database_url(option, os.environ)


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Bring the database's schema to the newest revision (does nothing if it is there)."""
    from accord.center.db import upgrade

    url = _url(database)
    try:
        revision = upgrade(url)
    except Exception as error:  # a bad URL or an unreachable server: say so, briefly
        raise fail(f"cannot upgrade the database: {type(error).__name__}: {error}") from None
    sys.stdout.write(f"database at revision {revision}\n")


KeysOption = Annotated[
    Path,
    typer.Option(
        "--keys",
        help="Folder of the server-side signing keys (the one `accord serve` uses): the "
        "center signs the record entry of each change.",
    ),
]


@db_app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Argument(help="The backup file to write (never overwritten).")],
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
) -> None:
    """A consistent copy of the database while the server runs (SQLite's online backup;
    PostgreSQL: pg_dump on one snapshot), mode 0600; prints the record's size and root in
    the copy, to write down beside it."""
    from accord.center.backup import backup

    try:
        head = backup(
            _url(database), out, agreement=load_agreement(agreement or _default_agreement())
        )
    except AccordError as error:
        raise fail(error) from None
    sys.stdout.write(f"backup {out}: {head.line()}\n")


@db_app.command("restore")
def db_restore(
    copy: Annotated[Path, typer.Argument(help="A file `accord db backup` wrote.")],
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
    without_witness: Annotated[
        list[str] | None,
        typer.Option(
            "--without-witness",
            help="Restore although this party's witness cannot be asked (repeatable): the "
            "operator then vouches that it cosigned no longer record.",
        ),
    ] = None,
    from_monitor: Annotated[
        list[Path] | None,
        typer.Option(
            "--from-monitor",
            help="A party's monitor's state folder (`accord monitor --state DIR`), copied "
            "here: the entries its copy of the record holds past the backup are checked, "
            "appended and redone on the tables, with the openings of that party's "
            "commitments it kept (repeatable: one per party).",
        ),
    ] = None,
    without_openings: Annotated[
        list[str] | None,
        typer.Option(
            "--without-openings",
            help="Restore although this party's hidden declarations or messages changed in "
            "the recovered entries and no opening of them was handed back (repeatable): "
            "those declarations stay as the backup holds them, those messages are not "
            "restored, and the party declares and sends them again.",
        ),
    ] = None,
) -> None:
    """Restore a backup into an empty database: migrated, its whole record verified with the
    center's keys (the keys folder copied to this machine), its missing tail recovered from
    the monitors' copies given, and every party's witness asked that it cosigned no longer
    record, before it is the database; nothing is applied when anything fails."""
    from accord.center.backup import restore

    try:
        restored = restore(
            copy, _url(database), agreement=load_agreement(agreement or _default_agreement()),
            keys=keys, without_witness=without_witness or (), monitors=from_monitor or (),
            without_openings=without_openings or (),
        )  # fmt: skip
    except AccordError as error:
        raise fail(error) from None
    recovered = (
        f", {restored.recovered:,} of them recovered from the monitors' copies"
        if restored.recovered
        else ""
    )
    sys.stdout.write(f"restored {copy}: {restored.head.line()}{recovered}, verified\n")
    for note in restored.notes:
        sys.stdout.write(f"  not redone: {note}\n")


ExpiresOption = Annotated[
    str | None,
    typer.Option(
        "--expires",
        help="The token stops working after this ISO 8601 duration (e.g. PT12H, P7D); "
        "default: never (until rotated or removed).",
    ),
]


@contextmanager
def admin_center(database: str | None, agreement: Path | None, keys: Path) -> Iterator[Center]:
    """The service's parts for one ``accord users`` change (its record entry is signed by
    the center's key in ``keys``). Refuses to make a new center key for a record that
    already has entries: its signature would not verify against the center's key."""
    from sqlalchemy import func, select

    from accord.center.bootstrap import Parts
    from accord.center.db import make_engine, upgrade
    from accord.center.db.models import RecordLeaf
    from accord.center.keystore import log_origin

    try:
        path = agreement or _default_agreement()
        loaded = load_agreement(path)
    except AccordError as error:
        raise fail(error) from None
    url = _url(database)
    if not (keys / f"{log_origin(loaded)}.key").exists():
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as connection:
                entries = connection.scalar(select(func.count()).select_from(RecordLeaf))
        finally:
            engine.dispose()
        if entries:
            raise fail(
                f"the center's key is not in {keys}/ and the record has entries: pass "
                "--keys with the folder `accord serve` uses"
            )
    from accord.center.bootstrap import clock_from_environment

    try:
        clock = clock_from_environment()
    except ValueError as error:
        raise fail(error) from None
    settings = Settings(database_url=url, agreement_path=path, keys_dir=keys)
    center = Parts(settings, clock=clock).open()
    try:
        yield center
    finally:
        center.close()


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's name (unique).")],
    member: Annotated[str, typer.Option("--member", help="The party, notifier or monitor.")],
    role: Annotated[Role, typer.Option("--role", help="What the user may do.")],
    expires: ExpiresOption = None,
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
) -> None:
    """Register a user and print their bearer token, once; only its hash is stored. The
    center records the change (``user.added``)."""

    from accord.center.users.service import COMMAND_LINE, expiry, issue

    try:
        with admin_center(database, agreement, keys) as center, center.writing() as unit:
            at = center.now()
            until = expiry(expires, at)
            done = issue(
                unit, name=name, member=member, role=role, at=at, expires_at=until, by=COMMAND_LINE
            )
    except AccordError as error:
        raise fail(error) from None
    assert done.token is not None
    _info(
        f"user {name!r} ({role.value} of {member}) added{_until(until)}; "
        "the token is shown only now:"
    )
    sys.stdout.write(done.token + "\n")


def _until(expires_at: datetime | None) -> str:
    return "" if expires_at is None else f", valid until {expires_at.isoformat()}"


@users_app.command("list")
def users_list(database: DatabaseOption = None) -> None:
    """List the users: name, member, role, created, expires, state (never a token)."""
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from accord.center.db import make_engine, upgrade
    from accord.center.users.service import list_users

    try:
        engine = make_engine(_url(database))
    except AccordError as error:  # a data folder others may open
        raise fail(error) from None
    try:
        upgrade(engine)
        with Session(engine) as session:
            users = list_users(session, at=datetime.now(UTC))
    except Exception as error:  # a bad URL or an unreachable server: say so, briefly
        raise fail(f"cannot read the users: {type(error).__name__}: {error}") from None
    finally:
        engine.dispose()
    rows = [("NAME", "MEMBER", "ROLE", "CREATED", "EXPIRES", "STATE")]
    for user in users:
        expires = "-" if user.expires_at is None else user.expires_at.isoformat(timespec="seconds")
        created = user.created_at.isoformat(timespec="seconds")
        rows.append((user.name, user.member, user.role, created, expires, user.state))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        sys.stdout.write(line.rstrip() + "\n")


@users_app.command("rotate")
def users_rotate(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    expires: ExpiresOption = None,
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
) -> None:
    """Give a user a new token and print it, once; the old one stops working (in every
    server process within a second). The center records the change (``user.rotated``)."""

    from accord.center.users.service import COMMAND_LINE, expiry, rotate

    try:
        with admin_center(database, agreement, keys) as center, center.writing() as unit:
            at = center.now()
            until = expiry(expires, at)
            done = rotate(unit, name=name, at=at, expires_at=until, by=COMMAND_LINE)
    except AccordError as error:
        raise fail(error) from None
    assert done.token is not None
    _info(f"user {name!r} has a new token{_until(until)}; the old one no longer works:")
    sys.stdout.write(done.token + "\n")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
) -> None:
    """Remove a user: their token stops working (in every server process within a
    second); the name is never given again. The center records it (``user.removed``)."""

    from accord.center.users.service import COMMAND_LINE, remove

    try:
        with admin_center(database, agreement, keys) as center, center.writing() as unit:
            remove(unit, name=name, at=center.now(), by=COMMAND_LINE)
    except AccordError as error:
        raise fail(error) from None
    _info(f"user {name!r} removed")


DEMO_DIR = Path("var/demo-service")
"""Where ``accord serve --demo`` keeps its database and keys (made anew on every start)."""

DEMO_OFFICES = Path("var/demo-offices")
"""Where ``accord serve --demo`` keeps the parties' offices it plays — their root keys and
their demo users' keys (made anew on every start): beside the server's folder, never in it."""


def serve(
    agreement: AgreementOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
    keys: Annotated[
        Path, typer.Option("--keys", help="Folder of the server-side signing keys.")
    ] = DEFAULT_KEYS_DIR,
    clock_start: Annotated[
        str | None,
        typer.Option(
            "--clock-start",
            help="Run an exercise clock from this instant (ISO 8601 with offset) at real speed.",
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help=f"A fresh exercise: the example agreement and world in {DEMO_DIR}/, one user "
            "per role (tokens printed), the clock on the scenario's day.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (SQLite: on one machine; live events reach them all).",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option("--access-log/--no-access-log", help="Log a line per request."),
    ] = True,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text (uvicorn's lines) or json (one JSON object a line on standard error, "
            "from every process: for journald or a log shipper).",
        ),
    ] = "text",
    writer_process: Annotated[
        bool,
        typer.Option(
            "--writer-process",
            help="Run the requests' units of work in a process of their own, beside the HTTP "
            "process(es): a second core for the HTTP side.",
        ),
    ] = False,
    reader_process: Annotated[
        bool,
        typer.Option(
            "--reader-process",
            help="Run the heavy reads (the picture at an instant) in a process of their own, "
            "at a lower CPU priority: a monitor's pictures never take the interpreter from "
            "the other parties' writes.",
        ),
    ] = False,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="Serve HTTPS with this certificate (PEM, chain)."),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", help="The certificate's private key (PEM, mode 0600)."),
    ] = None,
    tls_client_ca: Annotated[
        Path | None,
        typer.Option(
            "--tls-client-ca",
            help="Require a client certificate signed by this CA (PEM) on every connection.",
        ),
    ] = None,
    cot_port: Annotated[
        int | None,
        typer.Option(
            "--cot-port",
            min=1,
            max=65535,
            help="Serve TAK clients (Cursor on Target over TLS, a client certificate of the "
            "center's CoT CA required: `accord cot enroll`) on this port of --host; TAK uses 8089.",
        ),
    ] = None,
    basemap: Annotated[
        Path | None,
        typer.Option(
            "--basemap",
            help="A detailed offline basemap for the page: a PMTiles archive of the Protomaps "
            "basemap (e.g. `pmtiles extract` of a published OpenStreetMap build for the "
            "theater), drawn over Natural Earth; see the README's 'Your own basemap'.",
        ),
    ] = None,
    cot_plain_port: Annotated[
        int | None,
        typer.Option(
            "--cot-plain-port",
            min=1,
            max=65535,
            help="Also serve TAK clients without TLS on 127.0.0.1 only (tests, labs): the first "
            "message is <auth> with the user's token.",
        ),
    ] = None,
) -> None:
    """Run the service (HTTP API under /v1, OpenAPI at /openapi.json) with uvicorn; the
    database is migrated on start."""
    import uvicorn

    from accord.center.logs import (
        FORMATS,
        LOG_FORMAT_ENV,
        configure,
        log_format_of,
        uvicorn_log_config,
    )

    if log_format not in FORMATS:
        raise fail(f"--log-format: {log_format!r} is not one of {', '.join(FORMATS)}")
    fmt = log_format_of(log_format)
    os.environ[LOG_FORMAT_ENV] = fmt  # the writer process logs the same way
    if fmt == "json":
        configure("json", text="")

    from accord.center.app import create_app
    from accord.center.bootstrap import AGREEMENT_ENV, CLOCK_ENV, KEYS_DIR_ENV, Job, Parts
    from accord.center.http.drain import DRAIN_SECONDS
    from accord.center.http.tls import TLS_ENV, TlsError, tls_files
    from accord.center.runtime import system_clock
    from accord.chrono import format_instant, parse_instant

    try:
        tls = tls_files(tls_cert, tls_key, tls_client_ca)
    except TlsError as error:
        raise fail(error) from None
    scheme = "http" if tls is None else "https"
    ssl_options = {} if tls is None else tls.uvicorn()
    from accord.center.cot.listener import CotOptions

    cot = CotOptions(host=host, port=cot_port, plain_port=cot_plain_port)
    if cot.on and workers > 1:
        raise fail(
            "--cot-port/--cot-plain-port: the TAK endpoint runs in the one HTTP process; "
            "drop --workers (--writer-process is fine)"
        )

    if (workers > 1 or writer_process or reader_process) and demo:
        raise fail(
            "the demo's example aircraft fly in one process: drop --workers, --writer-process "
            "and --reader-process"
        )
    witnesses: list[DemoWitness] = []
    if demo:
        if agreement is not None or database is not None:
            raise fail("--demo runs the example agreement in its own database")
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        offices, witnesses = _demo_offices()
        settings = Settings(
            database_url=f"sqlite:///{DEMO_DIR / 'accord.sqlite'}",
            agreement_path=DEMO_DIR / "agreement.yaml",
            keys_dir=DEMO_DIR / "keys",
            basemap=basemap,
        )
    else:
        settings = Settings(
            database_url=_url(database),
            agreement_path=agreement or _default_agreement(),
            keys_dir=keys,
            basemap=basemap,
        )
    try:
        load_agreement(settings.agreement_path)  # a bad file fails here, with its message
        if basemap is not None:  # and so does a basemap the page could not draw
            from accord.center.basemap.archive import open_archive

            open_archive(basemap)
        # so does a data or keys folder that other users may open (accord.center.files)
        from accord.center.db.engine import sqlite_file
        from accord.center.files import check_folder

        if (database_file := sqlite_file(settings.database_url)) is not None:
            check_folder(database_file.parent, "data folder")
        check_folder(settings.keys_dir, "keys folder")
        if cot.on:
            _check_cot(cot, settings)
        clock: Clock = system_clock
        if clock_start is not None or demo:
            from accord.center.exercise import DEMO_START, exercise_clock

            start = DEMO_START if clock_start is None else parse_instant(clock_start)
            if demo and start < DEMO_START:
                raise fail(
                    f"--clock-start: the exercise's record begins the night before "
                    f"{format_instant(DEMO_START)} (its story ends at 03:31): start the clock "
                    "there or later"
                )
            origin = time.monotonic()
            clock = exercise_clock(start, origin=origin)
    except AccordError as error:
        raise fail(error) from None
    if demo:
        from accord.center.exercise import NIGHT_START, ExerciseClock

        assert isinstance(clock, ExerciseClock)
        night = exercise_clock(clock.start, origin=clock.origin, held=NIGHT_START)
        _seed_demo(settings, night, f"{scheme}://{host}:{port}", offices)
    if tls is None:
        how = (
            "plain HTTP, no TLS: tokens cross in clear, so loopback only (or --tls-cert/--tls-key)"
        )
    elif tls.client_ca is None:
        how = "HTTPS"
    else:
        how = "HTTPS, a client certificate required"
    _info(f"accord: serving on {scheme}://{host}:{port} — {how} (OpenAPI at /openapi.json)")
    if tls is None and not _loopback(host):
        _info(
            f"accord: WARNING: {host} is not a loopback address and there is no TLS: every "
            "bearer token and answer crosses the network in clear"
        )
    if workers == 1 and not writer_process and not reader_process:
        jobs: tuple[Job, ...] = ()
        if demo:
            from accord.center.exercise import demo_feed, office_clerk

            jobs = (partial(demo_feed, offices=offices), partial(office_clerk, offices=offices))
        app = create_app(Parts(settings, clock=clock, jobs=jobs, cot=cot), hsts=tls is not None)
        with _demo_witnesses(settings, clock, witnesses):
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level="info",
                log_config=uvicorn_log_config(fmt),
                access_log=access_log,
                server_header=False,  # a prober learns no more of the stack than it must
                timeout_graceful_shutdown=DRAIN_SECONDS,
                **ssl_options,
            )
        return
    # The keys are made here, once, so that the workers starting together only read them.
    from accord.center.keystore import KeyStore

    KeyStore(settings.keys_dir, load_agreement(settings.agreement_path)).ring()
    # Each worker process builds its own application from the environment it inherits.
    os.environ[DATABASE_URL_ENV] = settings.database_url
    os.environ[AGREEMENT_ENV] = str(settings.agreement_path)
    os.environ[KEYS_DIR_ENV] = str(settings.keys_dir)
    if basemap is not None:
        from accord.center.bootstrap import BASEMAP_ENV

        os.environ[BASEMAP_ENV] = str(basemap.resolve())
    os.environ[TLS_ENV] = "0" if tls is None else "1"
    if cot.on:
        from accord.center.bootstrap import COT_ENV

        os.environ[COT_ENV] = cot.to_environment()
    if clock_start is not None:
        # One exercise clock for every worker: the instant it started from, and when, on the
        # machine's monotonic clock (one for all processes).
        os.environ[CLOCK_ENV] = f"{clock_start}@{origin!r}"
    with _writer_process(writer_process), _reader_process(reader_process):
        uvicorn.run(
            "accord.center.app:from_environment",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            log_config=uvicorn_log_config(fmt),
            access_log=access_log,
            server_header=False,
            timeout_graceful_shutdown=DRAIN_SECONDS,
            **ssl_options,
        )


def _check_cot(cot: CotOptions, settings: Settings) -> None:
    """The TAK endpoint's ports free and its key files (the CoT CA's, the endpoint's) safe,
    before anything listens; raises naming the option."""
    from datetime import UTC, datetime

    from accord.center.cot.listener import check_options
    from accord.center.keystore import KeyStore

    now = datetime.now(UTC)
    store = KeyStore(settings.keys_dir, load_agreement(settings.agreement_path))
    check_options(cot, settings.keys_dir, authority=lambda: store.cot_authority(now), now=now)


@contextmanager
def _demo_witnesses(
    settings: Settings, clock: Clock, witnesses: list[DemoWitness]
) -> Iterator[None]:
    """The exercise's witnesses served while the block runs (none: nothing), trusting the
    center's key (made by the seeding) and cosigning at the exercise's clock."""
    if not witnesses:
        yield
        return
    from accord.center.demo_witnesses import serving
    from accord.center.keystore import KeyStore

    center = KeyStore(settings.keys_dir, load_agreement(settings.agreement_path)).ring().center
    for witness in witnesses:
        _info(f"accord: {witness.party}'s witness {witness.key.name} on {witness.url}")
    with serving(witnesses, center=center, clock=lambda: clock().timestamp()):
        yield


def _loopback(host: str) -> bool:
    """Whether ``host`` names only this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


WRITER_START_SECONDS = 600.0
"""How long ``accord serve`` waits for its writer process to load the world and listen (and
its reader process to listen)."""


@contextmanager
def _writer_process(wanted: bool) -> Iterator[None]:
    """With ``wanted``: the writer process (:mod:`accord.center.writer_process`) started
    from this environment and listening, its socket in a private folder named to the HTTP
    processes by ``ACCORD_WRITER_SOCKET``; stopped (its queued works finished, given
    :data:`~accord.center.http.drain.WRITER_STOP_SECONDS`) when the block ends. Should it end
    first, this process is asked to stop (SIGTERM): a service without its writer can only
    refuse every change.

    A SIGTERM ends this process only once the writer is stopped: uvicorn, having shut down
    on it, raises it again for the process to end as it asked, which would skip this
    block's end and leave the writer running; it ends the block instead, then the process
    (still by SIGTERM)."""
    from accord.center.writer_process import SOCKET_ENV

    with _side_process(wanted, "writer", SOCKET_ENV):
        yield


@contextmanager
def _reader_process(wanted: bool) -> Iterator[None]:
    """With ``wanted``: the reader process (:mod:`accord.center.reader_process`) started
    from this environment and listening, named to the HTTP processes by
    ``ACCORD_READER_SOCKET``, as :func:`_writer_process` starts and stops the writer (a
    service whose reader is gone is stopped too: its operator's supervisor restarts it
    whole)."""
    from accord.center.reader_process import READER_SOCKET_ENV

    with _side_process(wanted, "reader", READER_SOCKET_ENV):
        yield


@contextmanager
def _side_process(wanted: bool, name: str, environment: str) -> Iterator[None]:
    """The process :func:`_writer_process` or :func:`_reader_process` describes: ``name``,
    the module ``accord.center.{name}_process``, whose socket is named by
    ``environment``."""
    if not wanted:
        yield
        return
    import signal
    import socket
    import subprocess
    import tempfile
    import threading

    def terminated(_signum: int, _frame: object) -> None:
        raise _Terminated

    folder = Path(tempfile.mkdtemp(prefix=f"accord-{name}-"))  # mode 0700
    path = folder / f"{name}.sock"
    os.environ[environment] = str(path)
    previous = signal.signal(signal.SIGTERM, terminated)
    process = subprocess.Popen(
        [sys.executable, "-c", f"from accord.center.{name}_process import main; main()"]
    )
    ending = threading.Event()
    stopped = False
    try:
        deadline = time.monotonic() + WRITER_START_SECONDS
        while True:
            if process.poll() is not None:
                raise fail(f"the {name} process exited (status {process.returncode})")
            if time.monotonic() > deadline:
                raise fail(f"the {name} process did not start listening in time")
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.connect(str(path))
                break
            except OSError:
                time.sleep(0.1)

        def watch() -> None:
            process.wait()
            if not ending.is_set():
                _info(f"accord: the {name} process exited (status {process.returncode})")
                os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name=f"accord-{name}-watch", daemon=True).start()
        yield
    except _Terminated:
        stopped = True
    finally:
        late: list[int] = []  # a SIGTERM now waits until the process is stopped
        signal.signal(signal.SIGTERM, lambda signum, _frame: late.append(signum))
        ending.set()
        if process.poll() is None:
            from accord.center.http.drain import WRITER_STOP_SECONDS

            process.terminate()
            try:
                process.wait(timeout=WRITER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    if stopped or late:
        signal.raise_signal(signal.SIGTERM)  # as uvicorn would have: the process ends by it


class _Terminated(BaseException):
    """SIGTERM, while ``accord serve`` runs with its writer or reader process (see
    :func:`_side_process`)."""


def _demo_offices() -> tuple[DemoOffices, list[DemoWitness]]:
    """The parties' offices of the exercise, made anew (a root each, and a witness each
    listening on loopback: :mod:`accord.center.demo_witnesses`), and the agreement naming
    their roots and witnesses — the offices' copy, and the server's own."""
    from accord.center.demo_witnesses import make_witnesses, with_witnesses
    from accord.center.exercise import DemoOffices
    from accord.office import with_roots

    text = example_path("jig.yaml").read_text(encoding="utf-8")
    base = load_agreement(example_path("jig.yaml"))
    members = [m.id for m in base.acting_members]
    offices = DemoOffices.create(DEMO_OFFICES, members)
    witnesses = make_witnesses(DEMO_OFFICES, [p.id for p in base.parties])
    text = with_witnesses(text, witnesses)
    rooted = with_roots(text, offices.roots(members))
    (DEMO_OFFICES / "agreement.yaml").write_text(rooted, encoding="utf-8")
    DEMO_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    (DEMO_DIR / "agreement.yaml").write_text(rooted, encoding="utf-8")
    return offices, witnesses


def _seed_demo(settings: Settings, clock: Clock, url: str, offices: DemoOffices) -> None:
    from accord.center.bootstrap import Parts
    from accord.center.exercise import seed_demo

    with Parts(settings, clock=clock).running() as center:
        seeded = seed_demo(center, example_path("world.geojson"), offices)
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"Accord exercise at {url} — clock {clock().isoformat(timespec='seconds')}")
    out.print(
        f"{len(seeded.declared)} declarations and {len(seeded.proposed)} operations seeded, "
        f"the example aircraft reported (airspace alerts raised: {len(seeded.alerts)}; "
        "GET /v1/alerts); one token per user (shown once):"
    )
    for name, token in seeded.tokens.items():
        out.print(f"  {name:<18} {token}", markup=False)
    out.print(f'  e.g. curl -H "Authorization: Bearer <token>" {url}/v1/me', markup=False)
    night = seeded.night
    if night is not None:
        steps = ", ".join(f"{t:%H:%M} to the {role}" for t, role in night.escalated)
        out.print(
            f"The night before, in the record: red reported counter-battery fire late "
            f"({night.imminent}), the observers reported it ({night.report}) and red "
            f"answered (GET /v1/compliance); at {night.sent_at:%H:%M} blue passed red "
            f"target coordinates over the direct line ({night.message}); the center's check "
            f"showed both sides: {night.warned[0] if night.warned else 'nothing near'}; "
            f"red's usual contact was absent, escalated {steps}; acknowledged at "
            f"{night.acknowledged_at:%H:%M} naming hash {night.content_hash[:16]}…; red "
            f"answered ({night.answer}). If blue disputes it: `accord record fetch` as red, "
            "then `accord record open` with red's openings "
            f"(GET /v1/messages/{night.message}/opening and …/check).",
            markup=False,
        )
    out.print(
        f"The parties' offices (their roots and the demo users' keys) are in {DEMO_OFFICES}/, "
        f"outside the server's {DEMO_DIR}/: a key a browser offers is certified by its "
        "member's root within a second (in life, after comparing its fingerprint).",
        markup=False,
    )
