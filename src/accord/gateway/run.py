"""The gateway started: who its token is, its key, its folder, its listener; a status line
every ``status_every_s`` seconds until stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from accord.cot.deadband import Band
from accord.cotpki.ca import read_certificate
from accord.cotpki.files import read_file
from accord.errors import InputError, Issue
from accord.gateway.center import CenterApi, Me
from accord.gateway.core import Gateway
from accord.gateway.listener import Listener, ListenOptions, server_context
from accord.gateway.state import State
from accord.record.keys import PrivateKey

__all__ = ["Config", "Running", "start"]

ROLES = ("officer",)
"""The gateway user's role: an officer of the member (it declares positions, reports
tracks, keeps drafts, and reads its member's certificates)."""


@dataclass(frozen=True)
class Config:
    """``accord cot gateway``'s options, read."""

    center: str
    token: str
    key: PrivateKey
    state: Path
    listen: ListenOptions
    ca: Path | None = None
    band: Band = field(default_factory=Band)
    disclosure: str = "center"
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    user: str | None = None
    """The user the token must be (``--user``), when given."""
    tls: tuple[Path, Path] | None = None
    """The port's own certificate and key (``--tls-cert``, ``--tls-key``); else made in
    the state folder."""
    exercise_clock: bool = False
    """``--exercise-clock``: follow the center's exercise clock (required when it runs one)."""


@dataclass
class Running:
    """A started gateway: stop it with :meth:`close`."""

    gateway: Gateway
    listener: Listener
    me: Me
    client: httpx.AsyncClient

    async def close(self) -> None:
        await self.listener.close()
        await self.gateway.close()
        await self.client.aclose()

    def status(self) -> str:
        return self.gateway.status(self.listener.connections)


async def start(
    config: Config,
    *,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Running:
    """Check the token with the center (a user of ``officer`` role), open the folder, make
    or read the certificate, recover the devices, listen. Refusals are
    :class:`~accord.errors.InputError` naming the option.

    ``clock`` is the gateway's (default: the system's). **An exercise clock**: a center that
    plays an exercise on a clock of its own (``accord serve --clock-start``) takes acts
    timed within five minutes of *that* clock, and holds positions in force by it. The
    gateway follows it only when told to (``exercise_clock``): it then signs on the center's
    time (the offset read once, from ``/v1/me``) and carries each device's times (``time``,
    ``start``, ``stale``) onto it by the same offset. Without the option a center on an
    exercise clock is refused, naming it — a gateway never lets the center set its clock
    unasked."""
    client = client or httpx.AsyncClient(base_url=config.center, timeout=30)
    try:
        api = CenterApi(client, token=config.token)
        me = await api.me()
        if me is None:
            raise InputError("gateway", [Issue("--token-file", "the center takes no such token")])
        if config.user is not None and me.name != config.user:
            message = f"the token is {me.name}'s, not {config.user}'s"
            raise InputError("gateway", [Issue("--user", message)])
        if me.role not in ROLES:
            message = f"{me.name} is {me.role}: the gateway's user is an officer of its member"
            raise InputError("gateway", [Issue("--user", message)])
        shift = timedelta(0)
        if me.exercise and not config.exercise_clock:
            message = (
                f"the center runs an exercise clock (its time: {me.now}); give "
                "--exercise-clock to carry the devices' times onto it"
            )
            raise InputError("gateway", [Issue("--exercise-clock", message)])
        if clock is None:
            if me.exercise and me.now is not None:
                shift = me.now - datetime.now(UTC)
            clock = _shifted(shift)
        api.sign_as(me, config.key, clock=clock)
        state = State(config.state).open()
        context = authority = None
        if config.listen.port is not None:
            if config.ca is None:
                raise InputError("gateway", [Issue("--ca", "the center's CoT CA (ca.pem)")])
            authority = read_certificate(read_file(config.ca, what="--ca"), field="--ca")
            if config.tls is not None:
                cert, key = config.tls
            else:
                key, cert = state.server(member=me.member, hosts=list(config.hosts), now=clock())
            context = server_context(cert, key, config.ca)
        gateway = Gateway(
            api, state, member=me.member, band=config.band, disclosure=config.disclosure,
            clock=clock, shift=shift,
        )  # fmt: skip
        await gateway.start()
        listener = Listener(gateway, config.listen, ca=authority, context=context)
        await listener.start()
    except BaseException:
        await client.aclose()
        raise
    return Running(gateway, listener, me, client)


def _shifted(shift: timedelta) -> Callable[[], datetime]:
    """The system's clock moved by ``shift``."""
    return lambda: datetime.now(UTC) + shift


async def serve(
    config: Config, *, status: Callable[[str], None], status_every_s: float = 5.0
) -> None:
    """Run until cancelled, a status line every ``status_every_s``."""
    running = await start(config)
    try:
        status(
            f"gateway: {running.me.name} of {running.me.member} on ports {running.listener.ports}"
        )
        if running.gateway.shift:
            status(
                f"gateway: the center's exercise clock: device times carried on by "
                f"{running.gateway.shift}"
            )
        while True:
            await asyncio.sleep(status_every_s)
            status(running.status())
    finally:
        with contextlib.suppress(Exception):
            await running.close()
