"""``accord monitor``: a party's monitor of the center's log (see :mod:`accord.monitor`).

    accord monitor --center URL --keys KEYS.json --state DIR [--agreement FILE --party P]
                   [--witness URL] [--interval S] [--stall-after S] [--once]
                   [--webhook http://127.0.0.1:PORT/…]
                   [--report-as USER --office DIR [--accuse center|PARTY]] [--workers N]

The token (a record reader's) comes from ``$ACCORD_TOKEN`` or ``--token-file``, never the
command line. Exit status: 0 for a round (``--once``) that found nothing wrong; 1 when the
state's own copy does not verify; 2 for bad input; 3 when ``--once`` could not read the
center (not yet stalled); and one per alarm (:data:`accord.monitor.core.EXIT_CODES`):
10 rewritten, 11 split_view, 12 rollback, 13 invalid_entry, 14 invalid_head, 15 stalled,
16 commitment.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.cli_common import fail
from accord.cli_fetch import TOKEN_ENV, read_token

if TYPE_CHECKING:
    import httpx

    from accord.errors import MonitorAlarm
    from accord.monitor.core import Monitor

__all__ = ["monitor"]


def _say(line: str) -> None:
    sys.stderr.write(f"accord monitor: {line}\n")
    sys.stderr.flush()


def monitor(
    center: Annotated[str, typer.Option("--center", help="The center, e.g. https://jcc.example")],
    keys: Annotated[Path, typer.Option("--keys", help="KEYS.json: the center's key, members'.")],
    state: Annotated[
        Path, typer.Option("--state", help="The monitor's folder (mode 0700): your copy.")
    ],
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help=f"File holding the bearer token (else ${TOKEN_ENV})."),
    ] = None,
    agreement: Annotated[
        Path | None,
        typer.Option(
            "--agreement",
            help="Your own copy of the agreement (YAML): entry 0 must adopt it; its parties' "
            "witnesses are compared.",
        ),
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="Your party (its witness is yours).")
    ] = None,
    witness: Annotated[
        str | None,
        typer.Option("--witness", help="Your witness's URL (default: the agreement's)."),
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between rounds.")] = 10.0,
    stall_after: Annotated[
        float,
        typer.Option("--stall-after", help="Seconds unread, or withheld, before 'stalled'."),
    ] = 300.0,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="POST each alarm here (loopback only).")
    ] = None,
    report_as: Annotated[
        str | None,
        typer.Option("--report-as", help="File a violation report signed by this user."),
    ] = None,
    office: Annotated[
        Path | None, typer.Option("--office", help="Your office folder (the user's key).")
    ] = None,
    accuse: Annotated[
        str,
        typer.Option(
            "--accuse",
            help="Whom the report accuses: the center itself (default; every alarm is its "
            "doing), or another party.",
        ),
    ] = "center",
    workers: Annotated[
        int | None, typer.Option(help="Processes checking signatures (default: every core).")
    ] = None,
) -> None:
    """Follow the center's log from its tiles, verify every new entry, compare with the
    witnesses, and raise the alarm (stderr, webhook, report, exit status) the moment the
    center rewrites, rolls back, splits its view, serves an invalid entry or stalls."""
    import httpx

    from accord.agreement import CENTER, load_agreement
    from accord.cli_record import service_causes
    from accord.errors import (
        AccordError,
        MonitorAlarm,
        Unavailable,
        VerificationError,
    )
    from accord.monitor.core import Monitor, WitnessSource
    from accord.monitor.http import HttpSources, check_loopback
    from accord.monitor.state import State
    from accord.record.keys import KeyRing, PublicKey

    if webhook is not None:
        try:
            check_loopback(webhook)
        except ValueError as error:
            raise fail(error) from None
    if report_as is not None and (office is None or party is None):
        raise fail("--report-as needs --office and --party")
    if accuse == party:
        raise fail(f"--accuse {accuse}: a party does not accuse itself")
    if witness is not None and (agreement is None or party is None):
        raise fail("--witness needs --agreement and --party (its key is the agreement's)")
    token = read_token(token_file)
    try:
        ring = KeyRing.read(keys)
        document = None
        sources_w: list[WitnessSource] | None = None  # None: entry 0's agreement names them
        urls: dict[str, str] = {}
        if agreement is not None:
            loaded = load_agreement(agreement)
            document = loaded.model_dump(mode="json")
            if party is not None and party not in loaded.party_ids:
                raise fail(f"--party {party!r} is no party of the agreement")
            if accuse != CENTER and accuse not in loaded.party_ids:
                raise fail(f"--accuse {accuse!r}: the center, or a party of the agreement")
            sources_w = []
            for member, ref in sorted(loaded.witnesses.items(), key=lambda w: w[0] != party):
                key, _ = PublicKey.from_vkey(ref.vkey)
                sources_w.append(WitnessSource(member, key, own=member == party))
                urls[member] = ref.url
            if witness is not None:
                assert party is not None
                if party not in urls:
                    raise fail(f"the agreement names no witness for {party}")
                urls[party] = witness
        folder = State(state, ring.center.name)
    except (OSError, ValueError) as error:
        raise fail(error) from None
    except AccordError as error:
        raise fail(error) from None

    client = httpx.Client(
        base_url=center.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    sources = HttpSources(client, origin=ring.center.name, witness_urls=urls, party=party)
    try:
        watcher = Monitor(
            keys=ring,
            sources=sources,
            state=folder,
            clock=time.time,
            stall_after=stall_after,
            witnesses=sources_w,
            agreement=document,
            causes=service_causes(),
            workers=workers if workers is not None else (os.cpu_count() or 1),
            party=party,
        )
    except VerificationError as error:
        folder.close()
        raise fail(f"the copy in {state} does not verify: {error}", 1) from None
    try:
        with watcher:
            _run(watcher, interval=interval, once=once, stall_after=stall_after)
    except MonitorAlarm as alarm:
        code = _alarm(
            alarm,
            watcher,
            center=center,
            token=token,
            webhook=webhook,
            report=(report_as, office, party, accuse),
        )
        raise typer.Exit(code) from None
    except Unavailable as error:
        raise fail(f"the center could not be read (not yet stalled): {error}", 3) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        sources.close()
        client.close()
        folder.close()


def _run(watcher: Monitor, *, interval: float, once: bool, stall_after: float) -> None:
    from accord.errors import Unavailable

    delay = interval
    last = -1
    while True:
        try:
            watcher.step()
        except Unavailable as error:
            if once:
                raise
            _say(f"{error}; trying again in {delay:g} s")
            time.sleep(delay)
            delay = min(delay * 2, max(interval, stall_after / 4))
            continue
        delay = interval
        for note in watcher.notes:
            _say(f"note: {note}")
        if watcher.size != last or once:
            last = watcher.size
            sys.stdout.write(
                f"verified {watcher.size} entries of {watcher.origin}, up to the center's "
                f"head of size {watcher.head.size if watcher.head else 0}\n"
            )
            sys.stdout.flush()
        if once:
            return
        time.sleep(interval)


def _alarm(
    alarm: MonitorAlarm,
    watcher: Monitor,
    *,
    center: str,
    token: str,
    webhook: str | None,
    report: tuple[str | None, Path | None, str | None, str | None],
) -> int:
    """Say the alarm (one line on stderr), post it to the webhook, file the report; the
    exit status of its kind."""
    from accord.monitor.core import EXIT_CODES, alarm_json
    from accord.monitor.http import post_webhook

    sizes = ",".join(str(s) for s in alarm.sizes) or "-"
    entry = "-" if alarm.index is None else str(alarm.index)
    one_line = " ".join(str(alarm).split())
    _say(f"ALARM {alarm.kind} sizes={sizes} entry={entry}: {one_line}")
    now = time.time()
    if webhook is not None:
        failed = post_webhook(webhook, alarm_json(alarm, origin=watcher.origin, at=now))
        if failed is not None:
            _say(f"note: {failed}")
    user, office, party, accused = report
    if user is not None and office is not None and party is not None and accused is not None:
        failed = _file_report(
            alarm, watcher, center=center, token=token, user=user, office=office,
            party=party, accused=accused, at=now,
        )  # fmt: skip
        _say(failed or "the violation report was filed with the center")
    return EXIT_CODES.get(alarm.kind, 1)


def _file_report(
    alarm: MonitorAlarm,
    watcher: Monitor,
    *,
    center: str,
    token: str,
    user: str,
    office: Path,
    party: str,
    accused: str,
    at: float,
) -> str | None:
    """File the violation report signed by ``user``'s key from ``office``; None, or why
    it was not filed."""
    import httpx

    from accord.errors import AccordError
    from accord.monitor.http import report_body
    from accord.office import Office, SignedActs

    try:
        key = Office(office, party).user_key(user)
        body: dict[str, Any] = report_body(
            alarm, accused=accused, at=datetime.fromtimestamp(at, UTC), size=watcher.size
        )
        auth = SignedActs(token=token, key=key, origin=watcher.origin, member=party, user=user)
        with httpx.Client(base_url=center.rstrip("/") + "/", auth=auth, timeout=30.0) as client:
            response: httpx.Response = client.post(
                "v1/reports", json=body, headers={"Idempotency-Key": secrets.token_hex(16)}
            )
    except (AccordError, OSError, httpx.HTTPError, ValueError) as error:
        return f"the violation report was not filed: {error}"
    if response.status_code != 201:
        return f"the violation report was not filed: the center answered {response.status_code}"
    return None
