"""Airspace alerts at scale: one ``POST /v1/tracks`` batch of N aircraft in one spot (every
pair within the separation minima: N(N-1)/2 predicted losses of separation), through the
service's own code (:func:`accord.center.airspace.report_tracks` in the writer's unit of work,
a SQLite file), then the escalation that follows with nobody acknowledging.

Figures: the record entries the batch added and the time of its unit of work (detection,
grouping, signing, storing the alerts, events; commit included), the escalation's entries,
and the same aircraft reported again a second later (every alert persisting: none raised,
each kept current).
Baseline: what the same batch added before alerts were grouped — one signed entry per pair
(counted: N(N-1)/2 plus the area findings) and one escalation entry per pair and party.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


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


def run(n: int = 500) -> list[tuple[str, ...]]:
    """Time one batch of ``n`` aircraft in one spot; count what it and its escalation add."""
    from accord.agreement import load_agreement
    from accord.center.airspace import ALERT_ACK_WITHIN, escalate_alerts_due, report_tracks
    from accord.center.config import Settings
    from accord.center.db import make_engine, upgrade, writer
    from accord.center.db.models import User
    from accord.center.db.models_airspace import AirspaceAlertGroup
    from accord.center.exercise import DEMO_USERS
    from accord.center.identity import Caller, add_user
    from accord.center.roles import Role
    from accord.center.runtime import Center
    from accord.examples import example_path

    agreement = load_agreement(example_path("jig.yaml"))
    with tempfile.TemporaryDirectory(prefix="accord-alerts-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'accord.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            for name, (member, role) in DEMO_USERS.items():
                add_user(session, agreement, name=name, member=member, role=role, at=T0)
        engine.dispose()
        settings = Settings(
            database_url=url, agreement_path=example_path("jig.yaml"), keys_dir=Path(tmp) / "k"
        )
        clock = [T0]
        center = Center.start(settings, clock=lambda: clock[0])
        try:
            with center.reading() as session:
                admin = session.scalars(select(User).where(User.role == Role.ADMIN.value)).first()
                assert admin is not None
                caller = Caller(admin.id, admin.name, admin.member, Role.ADMIN)
                before = center.log(session).size
            batch = scene(n)
            t = time.perf_counter()
            with center.writing() as unit:
                report_tracks(unit, center, caller, batch, T0)
            spent = time.perf_counter() - t
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
            again = [dict(one, time=later.isoformat()) for one in batch]
            t = time.perf_counter()
            with center.writing() as unit:
                report_tracks(unit, center, caller, again, later)
            persisting = time.perf_counter() - t
            with center.reading() as session:
                kept = center.log(session).size - before - escalated
        finally:
            center.close()
    print(
        f"alerts: {n} aircraft in one spot, {pairs:,} pairs: {added} entries in {spent:.2f} s "
        f"(alerts stored in {stored / 2**20:.1f} MiB); "
        f"escalation {escalated} entries ({steps} steps) in {escalation:.2f} s; the same "
        f"aircraft a second later (every alert persisting): {kept} entries in {persisting:.2f} s",
        flush=True,
    )
    return [
        (
            f"tracks batch, {n} aircraft in one spot ({pairs:,} pairs): entries",
            f"{added} in {spent:.1f} s",
            f"one per pair: {pairs:,}",
            f"{pairs / max(added, 1):.0f}×",
        ),
        (
            f"the same {n} a second later (all persisting): entries",
            f"{kept} in {persisting:.1f} s",
            "none",
            "",
        ),
        (
            f"its escalation, nobody acknowledging: entries ({n} aircraft)",
            f"{escalated}",
            f"one per pair and party: {2 * pairs:,}",
            f"{2 * pairs / max(escalated, 1):.0f}×",
        ),
    ]
