"""Reads of the whole record on a live server: ``GET /v1/compliance`` and ``GET
/v1/picture`` over a world of ``objects`` declared objects (one record entry each).

Accord: the service verifies each entry once (in the background from start-up, then as the
record grows) and answers from what it verified; a compliance report reads the service's
judge (:class:`accord.center.picture.compliance.Judge`), which folded each entry once. The
figure is the median of three requests once that is done (the bench measures only after a
first report has answered). Baselines, same run, same database: what each such request did
before — fold and judge every entry (``findings``), and before that, read and verify every
entry first (``read_record``) — timed in this process over the same file.

The picture is also asked for as a monitor's map would ask for it: the objects in a box a
fifth of the theatre's width and height, its first page of :data:`PAGE` (against the whole
picture).

Bounded: three requests of each, one baseline pass; loopback only.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from bench.live import LiveServer
from bench.load import served
from bench.offices import assert_center_keys_only
from bench.world import theatre_box

PAGE = 1000
"""The objects of one page of the boxed picture."""


def timed_get(client: httpx.Client, path: str, params: dict[str, str] | None = None) -> float:
    """Seconds to a 200 answer of ``GET path``. A 429 (the member's share of the center's
    time used: a judge folded at start-up is charged to whoever asked first) is waited out
    as its ``Retry-After`` says, as a client would, and the request asked again: the time
    counted is the answered request's."""
    for _ in range(20):
        t = time.perf_counter()
        response = client.get(path, params=params)
        spent = time.perf_counter() - t
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
    assert response.status_code == 200, response.text[:500]
    return spent


def fold_afresh(server: LiveServer, now: datetime) -> tuple[int, float, float]:
    """The baseline of a read of the whole record, in this process over the server's
    database at ``now``: the record's size, the seconds to read and check every entry
    (``read_record``, what ``accord verify`` does to each) and to fold and judge them all
    (``findings``)."""
    from accord.center.bootstrap import Parts
    from accord.center.config import Settings
    from accord.center.picture.compliance import findings
    from accord.center.picture.verified import read_record

    assert server.agreement_path is not None  # its members' roots: the center's key alone
    settings = Settings(
        database_url=server.database_url,
        keys_dir=server.keys_dir,
        agreement_path=server.agreement_path,
    )
    center = Parts(settings, clock=lambda: now).open()
    try:
        t = time.perf_counter()
        with center.reading() as session:
            records, size = read_record(center.log(session), center.ring, center.origin)
            verified = time.perf_counter() - t
            t = time.perf_counter()
            findings(session, center.agreement, records, center.origin, center.now())
            folded = time.perf_counter() - t
    finally:
        center.close()
    return size, verified, folded


def run(*, objects: int, cache: Path | None = None) -> list[tuple[str, ...]]:
    """Time the two reads against the service and against verifying per request."""
    from accord.chrono import format_instant, parse_instant
    from bench.seed import T0

    with (
        served(objects, cache=cache) as (server, users, _),
        httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {users.tokens['blue-officer']}"},
            timeout=600.0,
        ) as client,
    ):
        # the picture as the record stands now (the whole world: its entries are signed
        # from the server's clock, which started at T0)
        now = parse_instant(client.get("/v1/me").json()["now"])
        at = {"at": format_instant(now)}
        compliance = statistics.median(timed_get(client, "/v1/compliance") for _ in range(3))
        picture = statistics.median(timed_get(client, "/v1/picture", at) for _ in range(3))
        size_mb = len(client.get("/v1/picture", params=at).content) / 1e6
        # a theatre's box (a fifth of the bench's width and height), its first page
        boxed = {**at, "bbox": theatre_box(), "limit": str(PAGE)}
        page = statistics.median(timed_get(client, "/v1/picture", boxed) for _ in range(3))
        page_kb = len(client.get("/v1/picture", params=boxed).content) / 1e3
        size, verified, fold = fold_afresh(server, T0 + timedelta(minutes=1))
        assert_center_keys_only(server.keys_dir, users.origin, users.offices)
    print(f"reads: {size:,} entries; verifying them per request {verified:.1f} s", flush=True)
    baseline = verified + fold
    return [
        (
            f"GET /v1/compliance, {size:,}-entry record (the kept judge)",
            f"{compliance * 1000:.1f} ms",
            f"fold every entry per request {fold:.2f} s (verify them too: {baseline:.1f} s)",
            f"{fold / compliance:.0f}×",
        ),
        (
            f"GET /v1/picture, {size:,}-entry record ({objects:,} objects)",
            f"{picture:.2f} s ({size_mb:.0f} MB)",
            f"verify every entry per request {verified:.1f} s + fold",
            f"{(verified + picture) / picture:.0f}×",
        ),
        (
            f"GET /v1/picture?bbox=…&limit={PAGE:,}, a 1/25 of the theatre, first page",
            f"{page:.2f} s ({page_kb:.0f} kB)",
            f"the whole picture {picture:.2f} s",
            f"{picture / page:.1f}×",
        ),
    ]
