"""Redo of the operations' and probing's entries (:mod:`accord.center.operations.redo`,
:mod:`accord.center.disclosure.redo`) against the oracle (:mod:`support.redo`): a backup
restored with the tail a monitor's copy holds has the center's tables, row for row — each
operation's state rebuilt by the rules run again, its conflicts found again, its probe
touches and alerts, the checks' commitments (their openings are in no entry: noted, and
the check route answers "not kept", never a 500) — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.agreement import ObjectKind, load_agreement
from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.operations.redo import _paired
from accord.center.reader_process import LoopbackReader
from accord.center.writer_process import Loopback
from accord.deconfliction import Conflict
from accord.geo import GEOD
from accord.record.canonical import loads_canonical
from accord.record.entries import open_envelope
from accord.world import Disclosure
from support.clock import Clock
from support.desk import AID, HIDDEN, Desk, operation
from support.desk import start as start_desk
from support.history import SITE
from support.redo import (
    LEGACY_USERS,
    assert_same_tables,
    check_redo,
    databases,
    monitor_copy,
    restore_with,
    take_backup,
)
from support.service import Service, TestClient, center_of, rooted_service

BACKENDS = ("sqlite", "postgresql")
OPS = "/v1/operations"
TARGET = {"type": "Point", "coordinates": [21.87438, 24.936]}
CHECK_NOTE = "what the check showed each party is in no entry"


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def _kinds(service: Service, start: int = 0) -> set[str]:
    """The kinds of the record's entries from ``start`` on."""
    center = center_of(service)
    with center.reading() as session:
        log = center.log(session)
        return {
            loads_canonical(open_envelope(log.entry(i))[2])["event"]["kind"]
            for i in range(start, log.size)
        }


def _size(service: Service) -> int:
    center = center_of(service)
    with center.reading() as session:
        return int(center.log(session).size)


def _iso(at: Any) -> str:
    return str(at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _body(feature: dict[str, Any], **props: Any) -> dict[str, Any]:
    body = {
        "type": "Feature",
        "geometry": feature["geometry"],
        "properties": dict(feature["properties"]),
    }
    body["properties"].update(props)
    return body


_OPERATION_KINDS = """proposed reported amended approved vetoed objected objection_withdrawn
executed completed cancelled conflicts_updated checked evidence_checked"""


def _shared_story(desk: Desk, backup: Any) -> dict[str, str]:
    """Every step of an operation's life, against shared declarations only; the ids made."""
    _ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID), 201)
    _ok(desk.post("/v1/declarations", "blue-officer", json=SITE), 201)
    backup()
    start = _size(desk)
    made: dict[str, str] = {}
    desk.clock.set(1)  # red proposes next to blue's depot: a blocking conflict
    near = _ok(desk.post(OPS, "red-officer", json=operation(21.905, 24.915, "red")), 201)
    assert near["blocking_conflicts"] == 1
    made["near"] = near["id"]
    desk.clock.set(2)  # and far from anything
    far = _ok(desk.post(OPS, "red-officer", json=operation(21.3, 25.9, "red", name="far")), 201)
    assert far["conflicts"] == []
    made["far"] = far["id"]
    desk.clock.set(3)  # amended next to the depot: checked anew, conflicts and all
    moved = operation(21.9, 24.92, "red", name="moved")
    amended = _ok(desk.put(f"{OPS}/{far['id']}", "red-officer", json=moved))
    assert amended["version"] == 2 and amended["blocking_conflicts"] == 1
    desk.clock.set(4)
    reason = {"override_reason": "depot emptied"}
    _ok(desk.post(f"{OPS}/{near['id']}/approve", "blue-approver", json=reason))
    desk.clock.set(5)
    _ok(desk.post(f"{OPS}/{far['id']}/veto", "blue-approver", json={"reason": "too close"}))
    desk.clock.set(6)  # a third, clear when proposed ...
    later = _ok(desk.post(OPS, "red-officer", json=operation(21.5, 25.5, "red")), 201)
    made["later"] = later["id"]
    desk.clock.set(7)  # ... then blue declares a site beside it: the re-check finds it
    site = _body(SITE, name="Depot B")
    site["geometry"] = {"type": "Point", "coordinates": [21.5, 25.505]}
    _ok(desk.post("/v1/declarations", "blue-officer", json=site), 201)
    desk.clock.set(8)
    refused = desk.post(f"{OPS}/{later['id']}/approve", "blue-approver", json={})
    assert refused.status_code == 409, refused.text
    desk.clock.set(9)
    cancel = {"reason": "new site"}
    _ok(desk.post(f"{OPS}/{later['id']}/cancel", "red-officer", json=cancel))
    desk.clock.set(10)  # blue notifies a synchronized one; red objects with coordinates
    sync = operation(21.2, 25.6, "blue", category="synchronized")
    notified = _ok(desk.post(OPS, "blue-officer", json=sync), 201)
    made["sync"] = notified["id"]
    path = f"{OPS}/{notified['id']}"
    evidence = {"evidence": "our battalion holds here", "geometry": TARGET}
    assert _ok(desk.post(f"{path}/object", "red-officer", json=evidence))["status"] == "on_hold"
    desk.clock.set(11)
    _ok(desk.post(f"{path}/withdraw-objection", "red-officer", json={}))
    desk.clock.set(12)  # red reports an imminent-threat operation, late
    report = operation(21.7, 25.1, "red", category="imminent_threat")
    report["properties"].update(
        executed_at=_iso(desk.clock.at - timedelta(hours=2)),
        window_start=_iso(desk.clock.at - timedelta(hours=3)),
        window_end=_iso(desk.clock.at - timedelta(hours=1)),
    )
    assert _ok(desk.post(f"{OPS}/report", "red-officer", json=report), 201)["status"] == (
        "notified_late"
    )
    desk.clock.set(minutes=481)  # the window open: executed and completed
    for op_id, user in ((near["id"], "red-officer"), (notified["id"], "blue-officer")):
        assert _ok(desk.post(f"{OPS}/{op_id}/execute", user, json={}))["status"] == "executed"
    desk.clock.set(minutes=490)
    _ok(desk.post(f"{OPS}/{near['id']}/complete", "red-officer", json={}))
    every = {f"operation.{k}" for k in _OPERATION_KINDS.split()}
    assert _kinds(desk, start) == every | {"declaration.created"}
    return made


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_operations_life_against_shared_objects_is_rebuilt(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    def scenario(desk: Desk, backup: Any) -> None:
        _shared_story(desk, backup)

    restored = check_redo(request, tmp_path, backend, scenario)
    assert restored.recovered > 0
    # the amendment's check and the objection's: their openings are in no entry
    assert len(restored.notes) == 2, restored.notes
    assert all(CHECK_NOTE in note for note in restored.notes), restored.notes


@contextmanager
def _restored(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, scenario: Any
) -> Iterator[tuple[Desk, dict[str, str]]]:
    """:func:`support.redo.check_redo`'s steps, the restored database then served (the
    same keys, agreement and users) while the test reads it."""
    with (
        databases(request, tmp_path, backend) as (url, restored_url),
        contextmanager(start_desk)(tmp_path / "center", url) as desk,
    ):
        assert desk.settings.agreement_path is not None
        agreement = load_agreement(desk.settings.agreement_path)
        copy = tmp_path / "backup"
        made = scenario(desk, lambda: take_backup(url, copy, agreement=agreement))
        assert desk.get("/v1/record/head", "observer").status_code == 200
        monitor = monitor_copy(url, tmp_path / "monitor", agreement=agreement)
        restore_with(
            copy, restored_url, agreement=agreement, keys=desk.settings.keys_dir,
            monitors=[monitor],
        )  # fmt: skip
        assert_same_tables(url, restored_url, agreement=agreement, ignore=LEGACY_USERS)
        settings = replace(desk.settings, database_url=restored_url)
        clock = Clock(desk.clock.at)
        parts = Parts(settings, clock=clock, writer=Loopback, reader=LoopbackReader)
        with TestClient(create_app(parts), raise_server_exceptions=False) as client:
            yield Desk(client, desk.tokens, settings, clock=clock), made


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_check_redone_from_the_record_is_answered_not_kept(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    def scenario(desk: Desk, backup: Any) -> dict[str, str]:
        _ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID), 201)
        backup()
        desk.clock.set(1)
        body = operation(21.3, 25.9, "red")
        proposed = _ok(desk.post(OPS, "red-officer", json=body), 201)
        desk.clock.set(2)
        moved = operation(21.31, 25.9, "red", name="moved")
        _ok(desk.put(f"{OPS}/{proposed['id']}", "red-officer", json=moved))
        desk.clock.set(3)
        sync = operation(21.2, 25.6, "blue", category="synchronized")
        notified = _ok(desk.post(OPS, "blue-officer", json=sync), 201)
        evidence = {"evidence": "our battalion holds here", "geometry": TARGET}
        _ok(desk.post(f"{OPS}/{notified['id']}/object", "red-officer", json=evidence))
        # before the restore, each party opens what it was shown
        for op_id in (proposed["id"], notified["id"]):
            assert desk.get(f"{OPS}/{op_id}/check", "blue-officer").status_code == 200
        return {"amended": proposed["id"], "objected": notified["id"]}

    with _restored(request, tmp_path, backend, scenario) as (again, made):
        for op_id in made.values():
            for user in ("blue-officer", "red-approver"):
                answer = again.get(f"{OPS}/{op_id}/check", user)
                assert answer.status_code == 404, answer.text
                assert "not kept" in answer.json()["detail"]
            assert again.get(f"{OPS}/{op_id}", "observer").status_code == 200
        # the picture, which opens each party's checks, reads them too
        assert again.picture("red-officer", 3)["operations"] is not None
        # and the restored center goes on: the objection withdrawn, recorded and kept
        path = f"{OPS}/{made['objected']}/withdraw-objection"
        assert _ok(again.post(path, "red-officer", json={}))["status"] == "notified"


def _around(lon: float, lat: float, azimuth: float, distance: float) -> dict[str, Any]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, distance)
    return {"type": "Point", "coordinates": [float(x), float(y)]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_probing_a_hidden_object_is_counted_alerted_and_lifted_again(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """Red's proposals 1,500 m around blue's hidden position each truly conflict with it
    (found again whatever its shadow): five areas, then the sixth alerts blue; an amendment
    within the bound counts once; blue lifts it, and red's next proposal counts anew."""
    lon, lat = HIDDEN["geometry"]["coordinates"]

    def propose(desk: Desk, geometry: dict[str, Any]) -> dict[str, Any]:
        body = operation(0.0, 0.0, "red")
        body["geometry"] = geometry
        made = _ok(desk.post(OPS, "red-officer", json=body), 201)
        assert [c["with"] for c in made["conflicts"] if c["party"] == "blue"] == [None]
        return made

    def scenario(desk: Desk, backup: Any) -> None:
        _ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID), 201)
        _ok(desk.post("/v1/declarations", "blue-officer", json=HIDDEN), 201)
        desk.clock.set(1)
        first = propose(desk, _around(lon, lat, 0.0, 1500.0))
        backup()
        start = _size(desk)
        for i in range(1, 6):
            desk.clock.set(1 + i)
            propose(desk, _around(lon, lat, 45.0 * i, 1500.0))
        desk.clock.set(7)  # within the bound of its touch: counted once
        body = operation(0.0, 0.0, "red", name="crept")
        body["geometry"] = _around(lon, lat, 5.0, 1450.0)
        _ok(desk.put(f"{OPS}/{first['id']}", "red-officer", json=body))
        slowed = desk.post(
            OPS, "red-officer", json={**body, "geometry": _around(lon, lat, 300, 1500)}
        )
        assert slowed.status_code == 429, slowed.text
        desk.clock.set(8)
        _ok(desk.post("/v1/probing/red/lift", "blue-approver"), 201)
        desk.clock.set(9)
        propose(desk, _around(lon, lat, 300.0, 1500.0))
        (standing,) = _ok(desk.get("/v1/probing", "blue-officer"))["items"]
        assert standing["areas"] == 1 and standing["alerted_at"] is not None
        assert _kinds(desk, start) == {
            "operation.proposed", "operation.amended", "operation.checked",
            "disclosure.probing", "disclosure.probing_lifted",
        }  # fmt: skip

    restored = check_redo(request, tmp_path, backend, scenario)
    assert all(CHECK_NOTE in note for note in restored.notes), restored.notes


@contextmanager
def _rooted(folder: Path, database_url: str) -> Iterator[Service]:
    """:func:`support.service.rooted_service` in a folder of its own, made first."""
    folder.mkdir(parents=True, exist_ok=True)
    with rooted_service(folder, database_url) as service:
        yield service


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rooted_centers_operations_are_rebuilt(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """Members sign their acts; the objector hands back no opening of its evidence, so the
    objection's ``openings`` row is not redone, and that is said."""

    def scenario(service: Service, backup: Any) -> None:
        _ok(service.post("/v1/phases/confirm", "hnc-notifier", json=AID), 201)
        _ok(service.post("/v1/declarations", "blue-officer", json=SITE), 201)
        backup()
        near = _ok(service.post(OPS, "red-officer", json=operation(21.905, 24.915, "red")), 201)
        far = _ok(service.post(OPS, "blue-officer", json=operation(21.3, 25.9)), 201)
        moved = operation(21.31, 25.9, name="moved")
        _ok(service.put(f"{OPS}/{far['id']}", "blue-officer", json=moved))
        reason = {"override_reason": "depot emptied"}
        _ok(service.post(f"{OPS}/{near['id']}/approve", "blue-approver", json=reason))
        _ok(service.post(f"{OPS}/{far['id']}/veto", "red-approver", json={"reason": "no"}))
        sync = operation(21.2, 25.6, "blue", category="synchronized")
        notified = _ok(service.post(OPS, "blue-officer", json=sync), 201)
        path = f"{OPS}/{notified['id']}"
        evidence = {"evidence": "our battalion holds here", "geometry": TARGET}
        _ok(service.post(f"{path}/object", "red-officer", json=evidence))
        _ok(service.post(f"{path}/withdraw-objection", "red-officer", json={}))
        _ok(service.post(f"{OPS}/{near['id']}/cancel", "red-officer", json={"reason": "x"}))

    restored = check_redo(
        request, tmp_path, backend, scenario, serve=_rooted, owners=(),
        # the objection's evidence opening: red handed it back to no one (owners=())
        skip=("openings",),
    )  # fmt: skip
    (evidence,) = [n for n in restored.notes if CHECK_NOTE not in n]
    assert "operation.objected" in evidence and "red handed back no opening" in evidence


def _conflict(with_id: str | None, party: str, *, margin: bool = False) -> Conflict:
    hidden = party == "blue"
    return Conflict(
        "op-1", ObjectKind.POSITION if hidden else ObjectKind.PROTECTED_SITE, with_id, party,
        None if margin else 100.0, None if margin else 3000.0, True,
        Disclosure.CENTER if hidden else Disclosure.SHARED, False, margin,
    )  # fmt: skip


def test_conflicts_found_again_are_paired_with_the_records_and_only_hidden_ones_may_differ() -> (
    None
):
    site, true, margin = (
        _conflict("d-site", "red"),
        _conflict("d-pos", "blue"),
        _conflict("d-far", "blue", margin=True),
    )
    public = [c.visible_to("").as_dict() for c in (site, true, margin)]
    # found again exactly: the whole conflicts kept
    assert _paired("op-1", public, [site, true, margin]) == ([site, true, margin], 0)
    # a shadow drawn anew misses the margin: kept as recorded; one found only now: dropped
    kept, unpaired = _paired("op-1", public, [site, true])
    assert kept[:2] == [site, true] and kept[2].with_id is None and unpaired == 1
    assert kept[2].visible_to("").as_dict() == public[2]
    assert _paired("op-1", public[:2], [site, true, margin])[1] == 1
    # a shared object's conflict must be found again, and nothing shared found only now
    with pytest.raises(ValueError, match="not found again"):
        _paired("op-1", public, [true, margin])
    with pytest.raises(ValueError, match="found again, not recorded"):
        _paired("op-1", public[1:], [site, true, margin])
