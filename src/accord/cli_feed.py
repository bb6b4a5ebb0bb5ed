"""``accord feed``: the center's air picture from a live source (see :mod:`accord.feed_process`).

The feed posts as the center's feed user (an administrator's token, from ``ACCORD_TOKEN`` or
``--token-file``, never the command line) and prints a one-line status every few seconds on
standard error.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from accord.cli_common import fail
from accord.cli_fetch import TOKEN_ENV, read_token
from accord.errors import InputError
from accord.feed_process import Feed, Poster, listen_asterix, read_sbs, replay_csv
from accord.feeds.registry import Registry, parse_registry

__all__ = ["feed_app"]

feed_app = typer.Typer(
    help="Feed the center's air picture from a live source (ADS-B, ASTERIX, a CSV replay).",
    no_args_is_help=True,
)

Center = Annotated[str, typer.Option("--center", help="The center, e.g. https://center:8443")]
TokenFile = Annotated[
    Path | None,
    typer.Option("--token-file", help=f"File holding the feed user's token (else ${TOKEN_ENV})."),
]
Aircraft = Annotated[
    Path | None,
    typer.Option("--aircraft", help="Aircraft registry: CSV icao24,operator,party,mission."),
]
CenterCa = Annotated[
    Path | None, typer.Option("--center-ca", help="CA certificate of the center's TLS.")
]
Interval = Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between posts.")]
StatusEvery = Annotated[
    float, typer.Option("--status-every", min=0.5, help="Seconds between status lines.")
]


def _host_port(text: str, option: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise fail(f"{option}: expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def _registry(path: Path | None) -> Registry:
    if path is None:
        return Registry()
    try:
        return parse_registry(path.read_text(encoding="utf-8"), source=str(path))
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    except InputError as exc:
        raise fail(str(exc)) from None


Source = Callable[[Feed, asyncio.Event], Coroutine[Any, Any, None]]


async def _run(source: Source, feed: Feed, poster: Poster, status_every: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    async def status() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), status_every)
            sys.stderr.write(feed.counts.line(len(feed.joiner.states)) + "\n")
            sys.stderr.flush()

    async def source_then_flush() -> None:
        await source(feed, stop)
        if not stop.is_set():  # a replay that ended: post what is left, then stop
            await poster.post_once()
            stop.set()

    await asyncio.gather(source_then_flush(), poster.run(stop), status())


def _start(
    source: Source,
    feed: Feed,
    center: str,
    token_file: Path | None,
    center_ca: Path | None,
    interval: float,
    status_every: float,
) -> None:
    token = read_token(token_file)
    verify: Any = str(center_ca) if center_ca is not None else True

    async def main() -> None:
        async with httpx.AsyncClient(base_url=center, timeout=30.0, verify=verify) as client:
            poster = Poster(feed, client, token, interval=interval)
            await _run(source, feed, poster, status_every)

    asyncio.run(main())


@feed_app.command("sbs")
def feed_sbs(
    connect: Annotated[
        str, typer.Option("--connect", help="The receiver's BaseStation port, HOST:PORT.")
    ],
    center: Center,
    token_file: TokenFile = None,
    aircraft: Aircraft = None,
    center_ca: CenterCa = None,
    interval: Interval = 1.0,
    status_every: StatusEvery = 5.0,
) -> None:
    """BaseStation text from an ADS-B receiver (dump1090, readsb: TCP port 30003). Message
    times carry no zone and are taken as UTC; a time more than 5 minutes off is replaced by
    the reception's (the status line counts them)."""
    host, port = _host_port(connect, "--connect")
    feed = Feed(registry=_registry(aircraft))

    async def source(feed: Feed, stop: asyncio.Event) -> None:
        await read_sbs(host, port, feed, stop)

    _start(source, feed, center, token_file, center_ca, interval, status_every)


def _udp(text: str) -> tuple[str, int]:
    if not text.startswith("udp://"):
        raise fail(f"--listen: expected udp://HOST:PORT, not {text!r}")
    return _host_port(text.removeprefix("udp://"), "--listen")


@feed_app.command("asterix")
def feed_asterix(
    listen: Annotated[
        str, typer.Option("--listen", help="Where the datagrams arrive, udp://HOST:PORT.")
    ],
    center: Center,
    token_file: TokenFile = None,
    aircraft: Aircraft = None,
    center_ca: CenterCa = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="A source address taken (repeat; default: any)."),
    ] = None,
    interval: Interval = 1.0,
    status_every: StatusEvery = 5.0,
) -> None:
    """EUROCONTROL ASTERIX over UDP: CAT062 (edition 1.21) system tracks and CAT021 (edition
    2.7) ADS-B reports. Name the radar data processors with --allow on a shared network."""
    host, port = _udp(listen)
    feed = Feed(registry=_registry(aircraft))
    allowed = frozenset(allow) if allow else None

    async def source(feed: Feed, stop: asyncio.Event) -> None:
        try:
            await listen_asterix(host, port, feed, stop, allowed=allowed)
        except OSError as exc:
            feed.counts.last_error = f"cannot listen on {listen}: {exc.strerror or exc}"
            sys.stderr.write(f"accord: {feed.counts.last_error}\n")
            stop.set()

    _start(source, feed, center, token_file, center_ca, interval, status_every)


@feed_app.command("csv")
def feed_csv(
    file: Annotated[
        Path, typer.Argument(help="Track reports (the CSV format of `accord airspace`).")
    ],
    center: Center,
    token_file: TokenFile = None,
    center_ca: CenterCa = None,
    replay_speed: Annotated[
        float, typer.Option("--replay-speed", min=0.01, help="Times real time (2: twice as fast).")
    ] = 1.0,
    interval: Interval = 1.0,
    status_every: StatusEvery = 5.0,
) -> None:
    """Replay a CSV of track reports in time, each report stamped with the moment it is
    posted (an exercise's recorded picture, shown live)."""
    from accord.airspace.tracks import parse_tracks_csv

    try:
        parse_tracks_csv(file.read_text(encoding="utf-8"), source=str(file))
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    except InputError as exc:
        raise fail(str(exc)) from None
    feed = Feed()

    async def source(feed: Feed, stop: asyncio.Event) -> None:
        await replay_csv(file, feed, stop, speed=replay_speed)

    _start(source, feed, center, token_file, center_ca, interval, status_every)
