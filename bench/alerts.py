"""Airspace alerts at scale, through the service's own code
(:func:`accord.center.airspace.tracks.report_tracks` in the writer's unit of work), on a
SQLite file and, when a server is named, on PostgreSQL.

**Dense spots.** One batch of N aircraft in one spot (every pair within the separation minima:
N(N-1)/2 predicted losses of separation), reported by the center's feed: the record entries
it added and the time of its unit of work in the writer (detection, grouping, signing,
storing the alerts, events; commit included), then the escalation that follows with nobody
acknowledging, and the same aircraft reported again a second later (every alert persisting:
none raised, each kept current). Baselines: what the same batch added before alerts were
grouped (one signed entry per pair, one escalation entry per pair and party: counted), and
the writer's time before they were stored by group (a row and a JSON payload per pair,
commit 1f62bcd: measured on the 2-core machine of the figures, see :data:`BEFORE`).

**The worst batch a party may send within the default limits.** Blue's officer has packed its
own aircraft in one spot up to ``limits.own_track_conflicts`` (316 aircraft, 49,770 pairs);
red's officer sends 5,000 reports (``limits.features_per_request``): 316 of its own aircraft
on top of blue's (its own pairs at the limit too, and 99,856 with blue's, which count against
nobody) and 4,684 elsewhere, apart. Then it spreads its 316 apart, far away (every one of
those pairs cleared) and brings them back (raised again), a batch each; and it sends 5,000 of
its aircraft in one spot (12.5 million pairs), which is refused. Baseline: the same batch
before, as its pairs times the time per pair measured before (:data:`BEFORE_PER_PAIR`).
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.offices import rooted_example

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

BEFORE = {("SQLite", 500): 9.97, ("PostgreSQL", 500): 11.91, ("SQLite", 1000): 37.96,
          ("PostgreSQL", 1000): 50.62}  # fmt: skip
"""The writer's time of the dense-spot batch at commit 1f62bcd (a row and a JSON payload per
pair; clearing them: 7.3 s / 9.5 s for 500, 30 s / 63 s for 1,000), seconds."""

BEFORE_PER_PAIR = {"SQLite": 9.97 / 124_750, "PostgreSQL": 11.91 / 124_750}
"""Seconds per pair raised at commit 1f62bcd (the 500-aircraft batch's time over its pairs)."""

OWN = 316
"""Aircraft of one party in one spot at the default ``limits.own_track_conflicts``."""


def scene(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` aircraft within about 1 km and 600 ft of one point, half blue's, half red's
    (a tenth of blue's hidden: ``center``)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        party = "blue" if k % 2 == 0 else "red"
        out.append(
            {
                "id": f"{party[0]}-{k}",
                "operator": party,
                "party": party,
                "mission": "patrol",
                "time": T0.isoformat(),
                "lat": 25.0 + rng.uniform(-0.005, 0.005),
                "lon": 21.0 + rng.uniform(-0.005, 0.005),
                "alt_ft": 30000 + rng.uniform(-300, 300),
                "gs_kt": rng.uniform(150, 450),
                "track_deg": rng.uniform(0, 360),
                "vs_fpm": 0,
                "disclosure": "center" if party == "blue" and k % 20 == 0 else "shared",
            }
        )
    return out


def packed(
    party: str, n: int, at: datetime, *, lat: float = 25.0, seed: int = 1
) -> list[dict[str, Any]]:
    """``n`` of ``party``'s aircraft in one spot at ``lat``, 21.0: every pair in conflict."""
    rng = random.Random(seed)
    return [
        {
            "id": f"{party[0]}-{k}", "operator": party, "party": party, "mission": "patrol",
            "time": at.isoformat(), "lat": lat + rng.uniform(-0.005, 0.005),
            "lon": 21.0 + rng.uniform(-0.005, 0.005), "alt_ft": 30000 + rng.uniform(-300, 300),
            "gs_kt": rng.uniform(150, 450), "track_deg": rng.uniform(0, 360), "vs_fpm": 0,
        }
        for k in range(n)
    ]  # fmt: skip


def apart(party: str, n: int, at: datetime, *, first: int) -> list[dict[str, Any]]:
    """``n`` of ``party``'s aircraft 12 NM apart on a grid south of the spot, all flying east
    at one speed and level: no conflict among them or with the spot."""
    side = math.ceil(math.sqrt(n))
    return [
        {
            "id": f"{party[0]}-{first + k}", "operator": party, "party": party,
            "mission": "transport", "time": at.isoformat(), "lat": 15.0 + (k // side) * 0.2,
            "lon": 10.0 + (k % side) * 0.2, "alt_ft": 20000, "gs_kt": 300, "track_deg": 90,
            "vs_fpm": 0,
        }
        for k in range(n)
    ]  # fmt: skip


@contextmanager
def _database(label: str, pg_url: str | None) -> Iterator[str]:
    if label == "SQLite":
        with tempfile.TemporaryDirectory(prefix="accord-alerts-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'accord.sqlite'}"
        return
    from bench.load import _database as pg_database

    with pg_database(pg_url) as url:
        assert url is not None
        yield url


@contextmanager
def _center(label: str, pg_url: str | None) -> Iterator[tuple[Any, dict[str, Any], list[datetime]]]:
    """A started center on a fresh database, its users as callers, its clock (settable)."""
    from accord.agreement import load_agreement
    from accord.center.bootstrap import Parts
    from accord.center.config import Settings
    from accord.center.db import make_engine, upgrade, writer
    from accord.center.db.models import User
    from accord.center.exercise import DEMO_USERS
    from accord.center.identity import Caller, add_user
    from accord.center.roles import Role
    from accord.examples import example_path

    agreement = load_agreement(example_path("jig.yaml"))
    with _database(label, pg_url) as url, tempfile.TemporaryDirectory(prefix="accord-k-") as keys:
        engine = make_engine(url)
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            for name, (member, role) in DEMO_USERS.items():
                add_user(session, agreement, name=name, member=member, role=role, at=T0)
        engine.dispose()
        settings = Settings(
            database_url=url, agreement_path=rooted_example(Path(keys)), keys_dir=Path(keys)
        )
        clock = [T0]
        center = Parts(settings, clock=lambda: clock[0]).open()
        try:
            with center.reading() as session:
                callers = {
                    u.name: Caller(u.id, u.name, u.member, Role(u.role))
                    for u in session.scalars(select(User))
                }
            yield center, callers, clock
        finally:
            center.close()


def _closed(session: Session) -> int:
    """The alerts cleared so far."""
    from accord.center.db.models_airspace import AirspaceAlertGroup

    total = select(func.sum(AirspaceAlertGroup.count - AirspaceAlertGroup.open))
    return int(session.scalar(total) or 0)


def _record_bytes(session: Session) -> int:
    """The bytes of the record's leaves."""
    from accord.center.db.models import RecordLeaf

    return int(session.scalar(select(func.sum(func.length(RecordLeaf.data)))) or 0)


def _timed(center: Any, caller: Any, batch: list[dict[str, Any]], at: datetime) -> float:
    """The writer's time of one batch (its unit of work, commit included)."""
    from accord.center.airspace.tracks import report_tracks

    t = time.perf_counter()
    with center.writing() as unit:
        report_tracks(unit, center, caller, batch, at)
    return time.perf_counter() - t


def dense(n: int, label: str = "SQLite", pg_url: str | None = None) -> list[tuple[str, ...]]:
    """Time one batch of ``n`` aircraft in one spot; count what it and its escalation add."""
    from accord.center.airspace.escalation import ALERT_ACK_WITHIN, escalate_alerts_due
    from accord.center.db.models_airspace import AirspaceAlertGroup

    with _center(label, pg_url) as (center, callers, clock):
        admin = callers["admin"]
        with center.reading() as session:
            before = center.log(session).size
        batch = scene(n)
        spent = _timed(center, admin, batch, T0)
        with center.reading() as session:
            added = center.log(session).size - before
            blobs = select(AirspaceAlertGroup.findings, AirspaceAlertGroup.state)
            stored = sum(len(f) + len(s) for f, s in session.execute(blobs))
            pairs = session.scalar(select(func.sum(AirspaceAlertGroup.count))) or 0
            before = center.log(session).size
        t = time.perf_counter()
        steps = 0
        for minutes in range(30):
            at = T0 + ALERT_ACK_WITHIN + timedelta(minutes=minutes)
            while done := escalate_alerts_due(center, at):
                steps += done
        escalation = time.perf_counter() - t
        with center.reading() as session:
            escalated = center.log(session).size - before
        later = T0 + timedelta(seconds=1)
        clock[0] = later
        persisting = _timed(
            center, admin, [dict(one, time=later.isoformat()) for one in batch], later
        )
        with center.reading() as session:
            kept = center.log(session).size - before - escalated
        gone = T0 + timedelta(seconds=2)
        clock[0] = gone
        away = [dict(one, lat=one["lat"] + 3.0, time=gone.isoformat()) for one in batch[::2]]
        with center.reading() as session:
            before = center.log(session).size
        cleared = _timed(center, admin, away, gone)
        with center.reading() as session:
            ended = _closed(session)
            clearing = center.log(session).size - before
    print(
        f"alerts ({label}): {n} aircraft in one spot, {pairs:,} pairs: {added} entries in "
        f"{spent:.2f} s (alerts stored in {stored / 2**20:.1f} MiB); escalation {escalated} "
        f"entries ({steps} steps) in {escalation:.2f} s; the same aircraft a second later "
        f"(every alert persisting): {kept} entries in {persisting:.2f} s; half of them gone: "
        f"{ended:,} pairs cleared ({clearing} entries) in {cleared:.2f} s",
        flush=True,
    )
    before_s = BEFORE.get((label, n))
    rows = [
        (
            f"tracks batch, {n} aircraft in one spot ({pairs:,} pairs): writer time, {label}",
            f"{spent:.2f} s",
            f"row + JSON per pair (1f62bcd): {before_s} s" if before_s else "",
            f"{before_s / spent:.0f}×" if before_s else "",
        ),
        (
            f"the same {n} a second later (all persisting): writer time, {label}",
            f"{persisting:.2f} s",
            "",
            "",
        ),
    ]
    if label == "SQLite" and n == 500:
        rows = [
            (
                f"tracks batch, {n} aircraft in one spot ({pairs:,} pairs): entries",
                f"{added}",
                f"one per pair: {pairs:,}",
                f"{pairs / max(added, 1):.0f}×",
            ),
            *rows,
            (
                f"its escalation, nobody acknowledging: entries ({n} aircraft)",
                f"{escalated}",
                f"one per pair and party: {2 * pairs:,}",
                f"{2 * pairs / max(escalated, 1):.0f}×",
            ),
        ]
    return rows


def worst(label: str = "SQLite", pg_url: str | None = None) -> list[tuple[str, ...]]:
    """The worst track batches one party may send within the default limits (see the module
    docstring)."""
    from accord.errors import TrackError

    most = 5_000
    with _center(label, pg_url) as (center, callers, clock):
        blue, red = callers["blue-officer"], callers["red-officer"]
        _timed(center, blue, packed("blue", OWN, T0, seed=2), T0)
        batch = packed("red", OWN, T0, seed=3) + apart("red", most - OWN, T0, first=OWN)
        with center.reading() as session:
            start = _record_bytes(session)
        spent = _timed(center, red, batch, T0)
        pairs = OWN * (OWN - 1) // 2 + OWN * OWN
        later = T0 + timedelta(seconds=1)
        clock[0] = later
        spread = apart("red", OWN, later, first=0)  # the same aircraft, now apart: ...
        away = [dict(one, lat=one["lat"] + 20.0) for one in spread]  # ... every pair cleared
        cleared = _timed(center, red, away, later)
        back_at = T0 + timedelta(seconds=2)
        clock[0] = back_at
        back = [dict(one, time=back_at.isoformat()) for one in batch[:OWN]]
        again = _timed(center, red, back, back_at)
        with center.reading() as session:
            ended = _closed(session)
            recorded = _record_bytes(session) - start
        t = time.perf_counter()
        try:
            with center.writing() as unit:
                from accord.center.airspace.tracks import report_tracks

                report_tracks(unit, center, red, packed("red", most, back_at, lat=20.0), back_at)
        except TrackError:
            refused = time.perf_counter() - t
        else:  # pragma: no cover - the limit holds
            raise AssertionError("5,000 of one party's aircraft in one spot were accepted")
    per_pair = BEFORE_PER_PAIR[label]
    print(
        f"alerts ({label}), worst batches of one party within the default limits: 5,000 "
        f"reports raising {pairs:,} pairs in {spent:.2f} s; taking its {OWN} away (clearing "
        f"{ended:,}) {cleared:.2f} s; bringing them back {again:.2f} s (the three: "
        f"{recorded / 2**20:.1f} MiB of record); 5,000 in one spot refused in "
        f"{refused * 1000:.0f} ms",
        flush=True,
    )
    return [
        (
            f"worst track batch within the limits ({pairs:,} pairs raised): writer time, {label}",
            f"{spent:.2f} s",
            f"before, at its time per pair: {pairs * per_pair:.1f} s",
            f"{pairs * per_pair / spent:.0f}×",
        ),
        (
            f"  the same party clearing them, then raising them again, {label}",
            f"{cleared:.2f} s, {again:.2f} s",
            "",
            "",
        ),
        (
            f"  5,000 of one party in one spot (12.5 M pairs), {label}",
            f"refused in {refused * 1000:.0f} ms",
            f"before, at its time per pair: {12_497_500 * per_pair / 60:.0f} min",
            "",
        ),
    ]


def run(n: int = 500, pg_url: str | None = None) -> list[tuple[str, ...]]:
    """The dense spots (``n`` and twice as many aircraft) and the worst batches, on SQLite
    and, with ``pg_url``, on PostgreSQL."""
    rows: list[tuple[str, ...]] = []
    for label in ("SQLite", "PostgreSQL") if pg_url else ("SQLite",):
        rows += dense(n, label, pg_url)
        rows += dense(2 * n, label, pg_url)
        rows += worst(label, pg_url)
    return rows
