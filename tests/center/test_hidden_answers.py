"""Another party's hidden object, as a hostile prober meets it (issue: no hidden position
found by probing).

* An adaptive prober (strips, boundary search, circle fitting: ``bench.prober``) with the
  probe limit off finds the hidden position's *shadow* to metres, and so gets no closer to
  the position than the agreement's ``hidden_precision_m``;
* a hidden position moved within the bound changes no answer; moved farther, its shadow is
  drawn anew;
* probing beyond ``probe_limit`` is reported to the owner (an entry signed by the center)
  and slowed (429 with ``Retry-After``), never for a report after the fact; the owner lifts it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.hidden import hidden_position, red_operation
from bench.prober import Probe, probe
from sqlalchemy import select

from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.db.models import Declaration
from accord.center.disclosure.probing import LIFTED, PROBING
from accord.center.event_store import events_for
from accord.center.writer_process import Loopback
from accord.deconfliction.hidden import Shadow
from accord.examples import example_path
from accord.geo import GEOD, geodesic_distance
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from support.clock import Clock
from support.jig import NOW
from support.operations import operation_rows
from support.service import Service, TestClient, add_users, center_of, settings_for

HIDDEN = (21.40, 25.20)
PRECISION = 1000.0
WINDOW = (NOW + timedelta(hours=8), NOW + timedelta(hours=10))


def _iso(t: Any) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def position(lon: float, lat: float) -> dict[str, Any]:
    return hidden_position(lon, lat, NOW)


def operation(geometry: dict[str, Any], radius: float) -> dict[str, Any]:
    return red_operation(geometry, radius, WINDOW)


def start(tmp_path: Path, clock: Clock, *, probe_limit: bool) -> Iterator[Service]:
    text = Path(example_path("jig.yaml")).read_text(encoding="utf-8")
    text += f"\ndisclosure:\n  hidden_precision_m: {PRECISION}\n"
    if not probe_limit:
        text += "  probe_limit: null\n"
    agreement = tmp_path / "agreement.yaml"
    agreement.write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path, agreement_path=agreement)
    tokens = add_users(settings.database_url)
    with TestClient(
        create_app(Parts(settings, clock=clock, writer=Loopback)), raise_server_exceptions=False
    ) as client:
        service = Service(client, tokens, settings)
        confirmed = service.post(
            "/v1/phases/confirm", "hnc-notifier", json={"condition": "aid-delivered-east-city"}
        )
        assert confirmed.status_code == 201, confirmed.text
        yield service


@pytest.fixture
def open_service(tmp_path: Path, clock: Clock) -> Iterator[Service]:
    """The probe limit switched off: the bound must hold by the answers alone."""
    yield from start(tmp_path, clock, probe_limit=False)


@pytest.fixture
def limited(tmp_path: Path, clock: Clock) -> Iterator[Service]:
    yield from start(tmp_path, clock, probe_limit=True)


def declare_hidden(service: Service, lon: float, lat: float) -> str:
    made = service.post("/v1/declarations", "blue-officer", json=position(lon, lat))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def shadow(service: Service, object_id: str) -> tuple[str, Shadow]:
    with center_of(service).reading() as session:
        stored = session.scalar(select(Declaration.shadow).where(Declaration.id == object_id))
    assert stored is not None
    return stored, Shadow.from_json(json.loads(stored), precision_m=PRECISION)


def touches(service: Service, user: str = "red-officer") -> Any:
    """The prober's oracle: does red's operation conflict with something hidden of blue's?"""

    def ask(geometry: dict[str, Any], radius: float) -> bool:
        answer = service.post("/v1/operations", user, json=operation(geometry, radius))
        assert answer.status_code == 201, answer.text
        conflicts = answer.json()["conflicts"]
        hidden = [c for c in conflicts if c["party"] == "blue"]
        # What red learns is exactly this: kind, party, blocking; no number, no id.
        assert all(
            c["with"] is None and c["distance_m"] is None and c.get("threshold_m") is None
            for c in hidden
        ), hidden
        return bool(hidden)

    return ask


def test_an_adaptive_prober_gets_no_closer_than_the_bound(open_service: Service) -> None:
    object_id = declare_hidden(open_service, *HIDDEN)
    _stored, drawn = shadow(open_service, object_id)
    # The prober starts from a guess 7 km off, as a party that knows the area would.
    result = probe(
        Probe(lon=HIDDEN[0] + 0.05, lat=HIDDEN[1] - 0.04, budget=70), touches(open_service)
    )
    assert result.spent == 70 and len(result.edge) >= 3
    error = geodesic_distance(result.lon, result.lat, *HIDDEN)
    centre = drawn.geometry()
    found = geodesic_distance(result.lon, result.lat, centre.x, centre.y)
    # The attack works: it finds what answers it, the shadow, to metres ...
    assert found < 25.0, found
    # ... and the shadow is no closer to the position than the bound.
    assert error >= PRECISION, error


def test_moving_within_the_bound_changes_no_answer(open_service: Service) -> None:
    object_id = declare_hidden(open_service, *HIDDEN)
    before, _ = shadow(open_service, object_id)
    ask = touches(open_service)
    rings = [(d, a) for d in (2000, 4000, 5500, 6500, 7500, 9000) for a in range(0, 360, 45)]
    probes = []
    for distance, azimuth in rings:
        lon, lat, _ = GEOD.fwd(HIDDEN[0], HIDDEN[1], azimuth, distance)
        probes.append({"type": "Point", "coordinates": [float(lon), float(lat)]})
    answers = [ask(p, 300.0) for p in probes]
    assert any(answers) and not all(answers)  # the probes straddle the shadow's edge
    # The unit moves 700 m (within the 1,000 m bound): the same shadow, the same answers.
    lon, lat, _ = GEOD.fwd(HIDDEN[0], HIDDEN[1], 130.0, 700.0)
    version = open_service.get(f"/v1/declarations/{object_id}", "blue-officer").json()["version"]
    moved = open_service.client.put(
        f"/v1/declarations/{object_id}",
        headers={**open_service.auth("blue-officer"), "If-Match": f'"{version}"'},
        json=position(float(lon), float(lat)),
    )
    assert moved.status_code == 200, moved.text
    assert shadow(open_service, object_id)[0] == before
    assert [ask(p, 300.0) for p in probes] == answers
    # Moved 3 km, farther than the bound: a new shadow, in a new secret direction.
    lon, lat, _ = GEOD.fwd(HIDDEN[0], HIDDEN[1], 300.0, 3000.0)
    version += 1
    far = open_service.client.put(
        f"/v1/declarations/{object_id}",
        headers={**open_service.auth("blue-officer"), "If-Match": f'"{version}"'},
        json=position(float(lon), float(lat)),
    )
    assert far.status_code == 200, far.text
    after, redrawn = shadow(open_service, object_id)
    assert after != before
    assert geodesic_distance(redrawn.anchor.x, redrawn.anchor.y, float(lon), float(lat)) < 0.01


def _entries(service: Service, kind: str) -> list[dict[str, Any]]:
    center = center_of(service)
    found = []
    with center.reading() as session:
        log = center.log(session)
        for i in range(log.size):
            entry = loads_canonical(open_envelope(log.entry(i))[2])
            if entry["event"]["kind"] == kind:
                found.append(entry)
    return found


def test_probing_is_reported_to_the_owner_and_slowed(limited: Service, clock: Clock) -> None:
    object_id = declare_hidden(limited, *HIDDEN)
    ask = touches(limited)
    near = []
    for i in range(8):
        lon, lat, _ = GEOD.fwd(HIDDEN[0], HIDDEN[1], 45.0 * i, 1500.0)
        near.append({"type": "Point", "coordinates": [float(lon), float(lat)]})
    for geometry in near[:6]:  # five areas are allowed, the sixth is reported
        assert ask(geometry, 300.0)
    (alert,) = _entries(limited, PROBING)
    assert alert["author"] == center_of(limited).origin
    assert alert["event"] | {"at": None} == {
        "kind": PROBING,
        "prober": "red",
        "owner": "blue",
        "areas": 6,
        "limit": 5,
        "window": "P1D",
        "at": None,
    }
    assert object_id not in json.dumps(alert)
    with center_of(limited).reading() as session:
        told = [e.kind for e in events_for(session, "blue", after=0, limit=1000)]
        red_events = [e.kind for e in events_for(session, "red", after=0, limit=1000)]
    assert PROBING in told and PROBING not in red_events
    # The seventh proposal touching blue's hidden objects is slowed and changes nothing.
    stored = operation_rows(limited)
    slowed = limited.post("/v1/operations", "red-officer", json=operation(near[6], 300.0))
    assert slowed.status_code == 429, slowed.text
    assert slowed.json()["type"].endswith("probing-slowed")
    wait = int(slowed.headers["Retry-After"])
    assert 0 < wait <= 86400
    assert object_id not in slowed.text and "distance" not in slowed.text
    assert operation_rows(limited) == stored
    # A proposal far from anything hidden is not slowed; a report after the fact never is.
    far = {"type": "Point", "coordinates": [22.6, 24.4]}
    assert (
        limited.post("/v1/operations", "red-officer", json=operation(far, 300.0)).status_code == 201
    )
    report = operation(near[7], 300.0)
    report["properties"] |= {
        "category": "imminent_threat",
        "executed_at": _iso(NOW - timedelta(minutes=10)),
        "window_start": _iso(NOW - timedelta(minutes=20)),
        "window_end": _iso(NOW),
    }
    reported = limited.post("/v1/operations/report", "red-officer", json=report)
    assert reported.status_code == 201, reported.text
    # Blue sees who probes it; red sees nobody probing red.
    (standing,) = limited.get("/v1/probing", "blue-approver").json()["items"]
    assert standing["prober"] == "red" and standing["areas"] == 7 and standing["slowed_until"]
    assert limited.get("/v1/probing", "red-officer").json()["items"] == []
    # Blue lifts it: red's next proposal touching blue goes through.
    lifted = limited.post("/v1/probing/red/lift", "blue-approver")
    assert lifted.status_code == 201, lifted.text
    (entry,) = _entries(limited, LIFTED)
    assert entry["author"] == "blue"
    assert ask(near[6], 300.0)
    # The window passing frees it too: a day later, the count starts again.
    clock.at = NOW + timedelta(days=1, minutes=1)
    assert limited.get("/v1/probing", "blue-approver").json()["items"] == []


def test_amending_one_operation_within_the_bound_counts_once(limited: Service) -> None:
    declare_hidden(limited, *HIDDEN)
    lon, lat, _ = GEOD.fwd(HIDDEN[0], HIDDEN[1], 90.0, 1500.0)
    made = limited.post(
        "/v1/operations",
        "red-officer",
        json=operation({"type": "Point", "coordinates": [float(lon), float(lat)]}, 300.0),
    )
    assert made.status_code == 201, made.text
    op_id = made.json()["id"]
    for i in range(12):  # creeping within 1,000 m of the first touch, radius changing
        lon2, lat2, _ = GEOD.fwd(float(lon), float(lat), 30.0 * i, 60.0 * i)
        amended = limited.client.put(
            f"/v1/operations/{op_id}",
            headers=limited.auth("red-officer"),
            json=operation({"type": "Point", "coordinates": [float(lon2), float(lat2)]}, 200.0 + i),
        )
        assert amended.status_code == 200, amended.text
    (standing,) = limited.get("/v1/probing", "blue-officer").json()["items"]
    assert standing["areas"] == 1 and standing["slowed_until"] is None
    assert _entries(limited, PROBING) == []


def test_a_shadow_drawn_for_the_bound_in_force_reads_when_the_agreement_sets_none() -> None:
    """Migration 0011 draws the shadows of rows stored before it for "the bound in force"
    (null precision): an agreement without a bound then answers from the true geometry,
    rather than refusing every check."""
    from accord.agreement import load_agreement_text
    from accord.center.disclosure.shadows import shadow_of
    from accord.center.operations.world_cache import parse_features

    text = Path(example_path("jig.yaml")).read_text(encoding="utf-8")
    unbounded = load_agreement_text(text + "\ndisclosure:\n  hidden_precision_m: 0\n")
    bounded = load_agreement_text(text)
    feature = position(*HIDDEN)
    feature["properties"] |= {"id": "pos-before", "declared_by": "blue"}
    (obj,) = parse_features(bounded, [feature])
    anchor = {"type": "Point", "coordinates": list(HIDDEN)}
    stored = json.dumps({"anchor": anchor, "azimuth_deg": 12.5, "precision_m": None})
    assert shadow_of(unbounded, obj, stored) is None
    drawn = shadow_of(bounded, obj, stored)
    assert drawn is not None and drawn.uncertainty_m >= 3000.0
