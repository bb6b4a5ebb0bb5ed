"""``python -m bench --only hidden``: how close an adaptive prober places a hidden position.

Each round, blue declares a hidden position (``disclosure: center``) at a random place
through the service, with the probe limit switched off (the bound must hold by the answers
alone), and red's officer runs :mod:`bench.prober` with a budget of N proposals through
``POST /v1/operations``, seeing one bit per proposal: a conflict with something of blue's.
Accord's figure is the prober's error (geodesic metres from its estimate to the position)
beside the agreement's ``hidden_precision_m``; the baseline is the same prober against the
answers the center gave before shadows (the engine's true check of the same object), where
it locates the position to metres.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from accord.agreement import load_agreement_text
from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.config import Settings
from accord.center.db import make_engine, upgrade, writer
from accord.center.identity import add_user
from accord.center.keystore import log_origin
from accord.center.roles import Role
from accord.deconfliction import DeconflictionIndex
from accord.examples import example_path
from accord.geo import geodesic_distance
from accord.world import Disclosure, Operation, Position
from bench.offices import BenchOffices, assert_center_keys_only, members_of, parties_of
from bench.prober import Probe, probe

__all__ = ["hidden_position", "red_operation", "run"]

PRECISION_M = 1000.0


def _agreement_text() -> str:
    text = Path(example_path("jig.yaml")).read_text(encoding="utf-8")
    return text + f"\ndisclosure:\n  hidden_precision_m: {PRECISION_M}\n  probe_limit: null\n"


def _iso(t: Any) -> str:
    return str(t.strftime("%Y-%m-%dT%H:%M:%SZ"))


def hidden_position(lon: float, lat: float, now: datetime) -> dict[str, Any]:
    """Blue's hidden position at (``lon``, ``lat``), in force from a day before ``now`` to
    three days after, declared 150 m uncertain: what the prober looks for."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "position",
            "party": "blue",
            "disclosure": "center",
            "uncertainty_m": 150,
            "valid_from": _iso(now - timedelta(days=1)),
            "valid_to": _iso(now + timedelta(days=3)),
        },
    }


def red_operation(
    geometry: dict[str, Any], radius: float, window: tuple[datetime, datetime]
) -> dict[str, Any]:
    """One of the prober's proposals: red's coordinated operation over ``geometry`` (a
    circle of ``radius`` metres, or a polygon when 0) in ``window``."""
    props: dict[str, Any] = {
        "kind": "operation",
        "category": "coordinated",
        "executors": ["red"],
        "window_start": _iso(window[0]),
        "window_end": _iso(window[1]),
    }
    if radius:
        props["radius_m"] = radius
    return {"type": "Feature", "geometry": geometry, "properties": props}


def run(
    *, budgets: tuple[int, ...] = (10, 50, 200), rounds: int = 3, seed: int = 7
) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    agreement_text = _agreement_text()
    agreement = load_agreement_text(agreement_text)
    now = agreement.starts_at + timedelta(days=9)
    window = (now + timedelta(hours=8), now + timedelta(hours=10))
    errors: dict[int, list[float]] = {n: [] for n in budgets}
    baseline: dict[int, list[float]] = {n: [] for n in budgets}
    spent_s = 0.0
    proposals = 0
    users = {
        "blue-officer": ("blue", Role.OFFICER),
        "red-officer": ("red", Role.OFFICER),
        "hnc-notifier": ("hnc", Role.NOTIFIER),
    }
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-hidden-") as tmp,
        tempfile.TemporaryDirectory(prefix="accord-offices-") as office_tmp,
    ):
        # Under the agreement naming its members' roots: the offices (root keys, the users'
        # keys) in a folder of their own, never the center's.
        offices = BenchOffices(Path(office_tmp), members_of(agreement_text), users)
        path = Path(tmp) / "agreement.yaml"
        path.write_text(offices.rooted(agreement_text), encoding="utf-8")
        agreement = load_agreement_text(path.read_text(encoding="utf-8"))
        origin = log_origin(agreement)
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'accord.sqlite'}",
            agreement_path=path,
            keys_dir=Path(tmp) / "keys",
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        with Session(writer(engine)) as session, session.begin():
            tokens = {
                name: add_user(session, agreement, name=name, member=member, role=role, at=now)
                for name, (member, role) in users.items()
            }
        engine.dispose()
        app = create_app(Parts(settings, clock=lambda: now))
        with TestClient(app) as client:
            # Every party's root signs the agreement, every user's key is registered; then
            # each write is signed with its user's own key.
            offices.start(
                client, tokens, origin=origin, clock=lambda: now, parties=parties_of(agreement_text)
            )
            assert_center_keys_only(settings.keys_dir, origin, offices)
            auths = {user: offices.auth(user, tokens[user], origin, lambda: now) for user in users}

            def post(user: str, route: str, body: Any) -> Any:
                answer = client.post(route, auth=auths[user], json=body)
                assert answer.status_code == 201, answer.text
                return answer.json()

            post("hnc-notifier", "/v1/phases/confirm", {"condition": "aid-delivered-east-city"})

            def service_oracle(geometry: dict[str, Any], radius: float) -> bool:
                nonlocal proposals
                proposals += 1
                conflicts = post(
                    "red-officer", "/v1/operations", red_operation(geometry, radius, window)
                )["conflicts"]
                return any(c["party"] == "blue" for c in conflicts)

            for _ in range(rounds):
                lon, lat = rng.uniform(21.0, 22.5), rng.uniform(24.5, 25.8)
                hidden = hidden_position(lon, lat, now)
                declared = client.post(
                    "/v1/declarations/hidden",  # the request line that names nothing
                    auth=auths["blue-officer"],
                    json={"changes": [{"change": "declare", "feature": hidden}]},
                )
                assert declared.status_code == 200, declared.text
                truth = Position(
                    id="pos-true",
                    declared_by="blue",
                    party="blue",
                    disclosure=Disclosure.CENTER,
                    uncertainty_m=150.0,
                    geometry=Point(lon, lat),
                    valid_from=now - timedelta(days=1),
                    valid_to=now + timedelta(days=3),
                )
                index = DeconflictionIndex(agreement, [truth])

                def true_oracle(
                    geometry: dict[str, Any], radius: float, index: DeconflictionIndex = index
                ) -> bool:
                    op = Operation(
                        id="op-probe",
                        declared_by="red",
                        geometry=shape(geometry),
                        radius_m=radius,
                        category="coordinated",
                        proposed_by="red",
                        executors=("red",),
                        window_start=window[0],
                        window_end=window[1],
                    )
                    return bool(index.check(op).conflicts)

                # The prober's prior: within 10 km of the position.
                start_lon = lon + rng.uniform(-0.08, 0.08)
                start_lat = lat + rng.uniform(-0.08, 0.08)
                for n in budgets:
                    t = time.perf_counter()
                    found = probe(Probe(start_lon, start_lat, n), service_oracle)
                    spent_s += time.perf_counter() - t
                    errors[n].append(geodesic_distance(found.lon, found.lat, lon, lat))
                    before = probe(Probe(start_lon, start_lat, n), true_oracle)
                    baseline[n].append(geodesic_distance(before.lon, before.lat, lon, lat))
    rows: list[tuple[str, ...]] = []
    for n in budgets:
        ours, theirs = min(errors[n]), statistics.median(baseline[n])
        rows.append(
            (
                f"hidden position: prober's error, {n} proposals "
                f"(best of {rounds}; bound {PRECISION_M:,.0f} m)",
                f"{ours:,.0f} m (median {statistics.median(errors[n]):,.0f})",
                f"true answers: {theirs:,.2f} m (median)",
                f"{ours / max(theirs, 0.01):,.0f}×",
            )
        )
    rows.append(
        (
            "hidden position: a proposal through the service",
            f"{1000 * spent_s / max(proposals, 1):.1f} ms",
            "",
            "",
        )
    )
    return rows
