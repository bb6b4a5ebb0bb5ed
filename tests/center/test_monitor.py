"""``accord monitor`` against a real center (the application in process, read through the
monitor's own HTTP edge): it follows a growing log from the tiles, resumes from its state
without fetching again what it holds, and raises the alarm — naming the entry, with the
evidence written where two signed heads prove two histories — for a rewritten entry, a
rolled-back checkpoint, a same-size head over another tree, a split view a witness cosigned,
and a stalled log."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from accord.center.db.models import Opening as OpeningRow
from accord.errors import MonitorAlarm, Unavailable
from accord.monitor import http as monitor_http
from accord.monitor.core import Monitor, WitnessSource, adopted_witnesses
from accord.monitor.http import HttpSources, check_loopback, report_body
from accord.monitor.state import State
from accord.record import merkle
from accord.record.canonical import canonical_json
from accord.record.entries import make_envelope
from accord.record.evidence import SplitViewEvidence, prove_split_view, split_view_evidence
from accord.record.keys import KeyRing, Member
from accord.record.log import MerkleLog
from accord.record.note import (
    Checkpoint,
    add_cosignature,
    sign_checkpoint,
    verify_checkpoint,
)
from accord.record.tiles import ENTRIES_LEVEL, Tile, new_tiles
from accord.record.verify import verify_log
from support.declarations import POSITION
from support.growing import grow
from support.jig import NOW
from support.record import seeded
from support.service import Service, center_of, ring_of

HIDDEN = "/v1/declarations/hidden"  # how a hidden declaration is declared under signed acts
DECLARE = {"changes": [{"change": "declare", "feature": POSITION}]}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite alone: the monitor reads the center over HTTP, whatever its database."""
    return f"sqlite:///{tmp_path / 'accord.sqlite'}"


Handler = Callable[[httpx.Request, httpx.BaseTransport], httpx.Response]


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def passthrough(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
    response = inner.handle_request(request)
    response.read()
    return response


def reader(service: Service, handler: Handler = passthrough) -> httpx.Client:
    """A client of the center with a record reader's token, every answer through
    ``handler`` (bundles asked uncompressed, so that a handler can change their bytes)."""
    inner = service.client._transport  # the application in process

    def handle(request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = "identity"
        answer = handler(request, inner)
        answer.read()
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.Client(
        transport=httpx.MockTransport(handle),
        base_url="http://testserver",
        headers=service.auth("blue-officer"),
    )


class Setup:
    def __init__(self, service: Service, tmp_path: Path) -> None:
        self.service = service
        self.ring: KeyRing = ring_of(service)
        self.state_dir = tmp_path / "state"
        self.clock = Clock()
        self.handler: Handler = passthrough
        self.witness_notes: dict[str, str] = {}
        self.sources = self._sources()

    def _sources(self) -> HttpSources:
        def witness(request: httpx.Request) -> httpx.Response:
            note = self.witness_notes.get(request.url.host)
            return httpx.Response(200, text=note) if note else httpx.Response(404)

        return HttpSources(
            reader(self.service, lambda r, t: self.handler(r, t)),
            origin=self.ring.center.name,
            witness_urls={p: f"http://{p}.witness.test" for p in ("blue", "red")},
            witness_client=httpx.Client(transport=httpx.MockTransport(witness)),
        )

    def monitor(self, **kwargs: object) -> Monitor:
        return Monitor(
            keys=self.ring,
            sources=self.sources,
            state=State(self.state_dir, self.ring.center.name),
            clock=self.clock,
            stall_after=60,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def setup(service: Service, tmp_path: Path) -> Setup:
    return Setup(service, tmp_path)


AID = {"condition": "aid-delivered-east-city"}


def alarm_of(monitor: Monitor) -> MonitorAlarm:
    with pytest.raises(MonitorAlarm) as caught:
        monitor.step()
    return caught.value


def test_it_follows_a_growing_log_and_its_copy_verifies(setup: Setup) -> None:
    center = center_of(setup.service)
    with setup.monitor() as monitor:
        for size in (0, 3, 255, 256, 600, 601):
            grow(center, size)
            setup.sources.fetched.clear()
            monitor.step()
            assert monitor.size == size and monitor.head is not None
            assert monitor.head.size == size
        # The last round fetched the checkpoint, the new edge and one bundle: nothing twice.
        assert "tile/entries/002.p/89" in setup.sources.fetched
        assert not [
            p
            for p in setup.sources.fetched
            if p.startswith("tile/entries/00") and not p.startswith("tile/entries/002")
        ]
    report = verify_log(setup.state_dir / "log.sqlite", keys=setup.ring, workers=1)
    assert report.entries == 601 and report.head_size == 601


def test_a_restart_resumes_from_the_state_without_fetching_it_again(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 700)
    with setup.monitor() as monitor:
        monitor.step()
    first = list(setup.sources.fetched)
    assert sum(p.startswith("tile/entries/") for p in first) == 3
    setup.sources.fetched.clear()
    with setup.monitor() as again:  # the copy re-verified locally, nothing fetched
        assert again.size == 700 and setup.sources.fetched == []
        again.step()
        assert setup.sources.fetched == ["checkpoint"]
        grow(center, 710)
        setup.sources.fetched.clear()
        again.step()
        assert again.size == 710
        bundles = [p for p in setup.sources.fetched if p.startswith("tile/entries/")]
        assert bundles == ["tile/entries/002.p/198"]  # only the bundle holding 700..709


def test_a_rewritten_entry_is_named(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 300)
    with setup.monitor() as monitor:
        monitor.step()
        grow(center, 520)

        def tampered(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
            answer = passthrough(request, inner)
            if request.url.path == "/tlog/tile/entries/001":  # entries 256 .. 511
                body = bytearray(answer.content)
                body[-3] ^= 1  # a byte of entry 511
                return httpx.Response(200, content=bytes(body))
            return answer

        setup.handler = tampered
        alarm = alarm_of(monitor)
    assert alarm.kind == "rewritten" and alarm.index == 511
    assert "entry 511" in str(alarm)


def test_a_tile_served_wrong_is_a_rewrite_not_a_crash(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 40)

    def wrong(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
        answer = passthrough(request, inner)
        if request.url.path.startswith("/tlog/tile/0/"):
            return httpx.Response(200, content=bytes(len(answer.content)))
        return answer

    setup.handler = wrong
    with setup.monitor() as monitor:
        alarm = alarm_of(monitor)
    assert alarm.kind == "rewritten" and "do not hash" in str(alarm)


def test_a_rolled_back_checkpoint_is_an_alarm(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 5)
    old = setup.service.get("/tlog/checkpoint", "observer").text
    grow(center, 9)
    with setup.monitor() as monitor:
        monitor.step()

        def older(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
            if request.url.path == "/tlog/checkpoint":
                return httpx.Response(200, text=old)
            return passthrough(request, inner)

        setup.handler = older
        alarm = alarm_of(monitor)
    assert alarm.kind == "rollback" and alarm.sizes == (9, 5)
    assert alarm.evidence is None  # an older head of the same history proves no split


def other_tree(setup: Setup, size: int, *, timestamp: int = 1_790_000_100) -> str:
    """A head of ``size`` signed with the center's key over a tree of other entries."""
    key = center_of(setup.service).keys.center()
    leaves = [merkle.leaf_hash(b"another history %d" % i) for i in range(size)]
    checkpoint = Checkpoint(setup.ring.center.name, size, merkle.root_hash(leaves))
    return sign_checkpoint(checkpoint, key=key, timestamp=timestamp)


def check_evidence(path: str, setup: Setup) -> dict[str, Any]:
    """The evidence file proves the split view to a third party with the center's key alone
    (:func:`accord.record.evidence.prove_split_view`, what ``accord verify --evidence``
    runs), heads[0] the smaller."""
    evidence: dict[str, Any] = json.loads(Path(path).read_text())
    read = SplitViewEvidence.from_json(evidence)
    prove_split_view(read, center=setup.ring.center)
    a, b = (verify_checkpoint(n, origin=read.origin, center=setup.ring.center) for n in read.heads)
    assert read.origin == setup.ring.center.name and a.size <= b.size
    return evidence


def test_a_same_size_head_over_another_tree_is_a_split_view(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 12)
    forged = other_tree(setup, 12)
    with setup.monitor() as monitor:
        monitor.step()
        setup.handler = lambda r, t: (
            httpx.Response(200, text=forged)
            if r.url.path == "/tlog/checkpoint"
            else passthrough(r, t)
        )
        alarm = alarm_of(monitor)
    assert alarm.kind == "split_view" and alarm.sizes == (12, 12)
    assert alarm.evidence is not None and Path(alarm.evidence).name.endswith("-split_view.json")
    check_evidence(alarm.evidence, setup)


@pytest.mark.parametrize("ours", [20, 32])
def test_a_larger_head_that_does_not_extend_ours_is_a_rewrite_with_evidence(
    setup: Setup, tmp_path: Path, ours: int
) -> None:
    center = center_of(setup.service)
    grow(center, ours)
    with setup.monitor() as monitor:
        monitor.step()
        # The center now serves another history of 300 entries, with its tiles.
        other = MerkleLog.open(tmp_path / "other.sqlite", setup.ring.center.name)
        other.append_many([b"another history %d" % i for i in range(300)])
        key = center.keys.center()
        note = sign_checkpoint(Checkpoint(other.origin, 300, other.root()), key=key, timestamp=5)

        def lying(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
            path = request.url.path.removeprefix("/tlog/")
            if path == "checkpoint":
                return httpx.Response(200, text=note)
            from accord.record.tiles import ENTRIES_LEVEL, parse_tile_path

            tile = parse_tile_path(path)
            if tile.level == ENTRIES_LEVEL:
                return httpx.Response(200, content=other.entry_bundle(tile.index, tile.width))
            return httpx.Response(200, content=other.tile(tile.level, tile.index, tile.width))

        setup.handler = lying
        alarm = alarm_of(monitor)
        other.close()
    assert alarm.kind == "rewritten" and alarm.sizes == (ours, 300)
    assert alarm.evidence is not None
    check_evidence(alarm.evidence, setup)


@pytest.mark.parametrize("shown", [25, 16])  # 16: a power of two (evidence.py says why)
def test_a_split_view_the_other_partys_witness_cosigned(setup: Setup, shown: int) -> None:
    center = center_of(setup.service)
    grow(center, 30)
    red = seeded("witness.red.example/w1")
    witnesses = [WitnessSource("red", red.public)]
    with setup.monitor(witnesses=witnesses) as monitor:
        monitor.step()
        assert monitor.notes == [
            "red's witness witness.red.example/w1: has cosigned no checkpoint yet"
        ]
        # What red's witness cosigned of the true history: no alarm.
        true = setup.service.get("/tlog/checkpoint", "observer").text
        setup.witness_notes["red.witness.test"] = add_cosignature(true, key=red, timestamp=7)
        monitor.step()
        assert monitor.notes == []
        # A head shown to red alone, over another history, cosigned by red's witness.
        shown_red = add_cosignature(other_tree(setup, shown), key=red, timestamp=8)
        setup.witness_notes["red.witness.test"] = shown_red
        alarm = alarm_of(monitor)
    assert alarm.kind == "split_view" and alarm.sizes == (shown, 30)
    assert alarm.evidence is not None
    evidence = check_evidence(alarm.evidence, setup)
    assert evidence["heads"][0] == shown_red  # type: ignore[index]


def test_a_witness_line_that_does_not_verify_is_no_alarm(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 4)
    red = seeded("witness.red.example/w1")
    with setup.monitor(witnesses=[WitnessSource("red", red.public)]) as monitor:
        monitor.step()
        note = add_cosignature(other_tree(setup, 4), key=seeded("someone-else"), timestamp=1)
        setup.witness_notes["red.witness.test"] = note
        monitor.step()  # not cosigned by red's witness: nothing it showed red
        assert "did not cosign" in monitor.notes[0]


def test_a_stalled_log(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 3)
    with setup.monitor() as monitor:
        monitor.step()

        def down(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
            raise httpx.ConnectTimeout("timed out", request=request)

        setup.handler = down
        setup.clock.now += 30
        with pytest.raises(Unavailable):
            monitor.step()  # retried: not yet stalled
        setup.clock.now += 31
        alarm = alarm_of(monitor)
        assert alarm.kind == "stalled" and "61 s" in str(alarm)
        # A 503 is the same: the center cannot be read.
        setup.handler = lambda r, t: httpx.Response(503)
        assert alarm_of(monitor).kind == "stalled"


def test_a_center_that_withholds_what_a_witness_cosigned_is_stalled(setup: Setup) -> None:
    center = center_of(setup.service)
    grow(center, 6)
    small = setup.service.get("/tlog/checkpoint", "observer").text
    grow(center, 9)
    big = setup.service.get("/tlog/checkpoint", "observer").text
    blue = seeded("witness.blue.example/w1")
    with setup.monitor(witnesses=[WitnessSource("blue", blue.public, own=True)]) as monitor:
        setup.handler = lambda r, t: (
            httpx.Response(200, text=small)
            if r.url.path == "/tlog/checkpoint"
            else passthrough(r, t)
        )
        monitor.step()
        setup.witness_notes["blue.witness.test"] = add_cosignature(big, key=blue, timestamp=9)
        monitor.step()
        assert "ahead of ours" in monitor.notes[0]
        setup.clock.now += 61
        alarm = alarm_of(monitor)
    assert alarm.kind == "stalled" and alarm.sizes == (6, 9)


def test_an_invalid_entry_is_named(setup: Setup) -> None:
    """Read with a key ring holding another key for red: the tiles hash (the center signed
    the head over them), red's first entry does not verify, and is named."""
    center = center_of(setup.service)
    grow(center, 5)
    ring = setup.ring
    setup.ring = KeyRing(
        ring.center,
        [m if m.name != "red" else Member(seeded("red").public, m.role) for m in ring.members],
    )
    with setup.monitor() as monitor:
        alarm = alarm_of(monitor)
    assert alarm.kind == "invalid_entry" and alarm.index == 1  # red's first entry


def test_the_partys_own_commitments_open_as_the_center_says(setup: Setup) -> None:
    """Blue's monitor (an officer's token) checks the openings the center keeps of blue's
    hidden declarations against the commitments in its own verified copy: a good one is
    checked once; one the center changed after recording (its salt) is ``commitment``."""
    center = center_of(setup.service)
    first = setup.service.post(HIDDEN, "blue-officer", json=DECLARE)
    assert first.status_code == 200, first.text
    setup.sources._party = "blue"
    with setup.monitor(party="blue") as monitor:
        monitor.step()
        assert monitor.notes == [] and monitor._unopened == set()
        second = setup.service.post(HIDDEN, "blue-officer", json=DECLARE)
        assert second.status_code == 200, second.text
        index = setup.service.get("/v1/record/head", "observer").json()["size"] - 1
        with center.writing() as unit:
            kept = unit.session.get(OpeningRow, index)
            assert kept is not None and kept.owner == "blue"
            kept.salt = bytes(len(kept.salt))
        alarm = alarm_of(monitor)
    assert alarm.kind == "commitment" and alarm.index == index


def test_the_partys_drafts_commitments_are_checked_too(setup: Setup) -> None:
    """A draft saved and deleted: two ``draft.changed`` commitments of blue's, whose openings
    the center serves at ``/v1/drafts/openings``; the monitor checks both (none left
    unopened), and one the center changed after recording is ``commitment``."""
    center = center_of(setup.service)
    draft = {
        "name": "line", "shape": "freehand", "drawn_at": "2026-09-21T15:00:00Z",
        "geometry": {"type": "LineString", "coordinates": [[21.0, 25.0], [21.1, 25.1]]},
        "device": {"uid": "ANDROID-1", "callsign": None},
    }  # fmt: skip
    assert setup.service.put("/v1/drafts/k1", "blue-officer", json=draft).status_code == 201
    gone = setup.service.client.request(
        "DELETE", "/v1/drafts/k1", headers=setup.service.auth("blue-officer")
    )
    assert gone.status_code == 204, gone.text
    setup.sources._party = "blue"
    with setup.monitor(party="blue") as monitor:
        monitor.step()
        assert monitor.notes == [] and monitor._unopened == set()
        assert setup.service.put("/v1/drafts/k2", "blue-officer", json=draft).status_code == 201
        index = setup.service.get("/v1/record/head", "observer").json()["size"] - 1
        with center.writing() as unit:
            kept = unit.session.get(OpeningRow, index)
            assert kept is not None and kept.owner == "blue"
            kept.salt = bytes(len(kept.salt))
        alarm = alarm_of(monitor)
    assert alarm.kind == "commitment" and alarm.index == index


def test_a_rooted_log_is_checked_as_accord_verify_checks_it(
    signed_service: Service, tmp_path: Path
) -> None:
    """Under an agreement naming the parties' roots, every party entry's act is checked
    against the keys its root certified, with the service's table of what each request may
    cause (as ``accord verify`` takes it); the monitor's copy verifies with ``accord verify``."""
    from accord.cli_record import service_causes

    service = signed_service
    setup = Setup(service, tmp_path)
    causes = service_causes()
    with setup.monitor(causes=causes) as monitor:
        monitor.step()
        for user in ("hnc-notifier", "observer"):
            answer = service.post("/v1/phases/confirm", user, json=AID)
            assert answer.status_code == 201, answer.text
        assert service.post(HIDDEN, "blue-officer", json=DECLARE).status_code == 200
        monitor.step()
        size = monitor.size
    report = verify_log(setup.state_dir / "log.sqlite", keys=setup.ring, causes=causes)
    assert report.rooted and report.entries == size and report.acts


def test_evidence_and_report_shapes(setup: Setup, tmp_path: Path) -> None:
    key = seeded("log.example")
    heads = [
        verify_checkpoint(
            sign_checkpoint(Checkpoint("log.example", n, bytes([n]) * 32), key=key, timestamp=1),
            origin="log.example",
            center=key.public,
        )
        for n in (2, 3)
    ]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(split_view_evidence(heads[0].note, heads[1].note, []).to_json()))
    alarm = MonitorAlarm("split_view", "split", sizes=(2, 3), index=1, evidence=str(path))
    from datetime import UTC, datetime

    body = report_body(alarm, at=datetime(2026, 9, 1, tzinfo=UTC), size=3)
    assert body["accused"] == "center"  # the alarm is the center's doing
    assert body["cites"] == [1] and body["evidence"][0]["name"] == "e.json"
    assert body["when"] == {"start": "2026-09-01T00:00:00Z", "end": None}
    assert report_body(alarm, at=NOW, size=3, accused="red")["accused"] == "red"
    # The center takes it as a violation report against itself, its cites and evidence as
    # given, filed by a party's user or a monitor's; and nobody may answer it.
    grow(center_of(setup.service), 3)
    filed = report_body(alarm, at=NOW, size=3)
    for user, member in (("blue-officer", "blue"), ("observer", "observers")):
        answer = setup.service.post("/v1/reports", user, json=filed)
        assert answer.status_code == 201, answer.text
        report = answer.json()
        assert report["accused"] == "center" and report["filer"] == member
        assert report["cites"] == [1] and report["evidence"] == filed["evidence"]
        path = f"/v1/reports/{report['id']}/answer"
        refused = setup.service.post(path, "red-officer", json={"text": "No."})
        assert refused.status_code == 403 and "accuses the center" in refused.text
    for bad in ("http://example.com/x", "https://127.0.0.1/", "http://10.0.0.1/"):
        with pytest.raises(ValueError, match="loopback"):
            check_loopback(bad)
    assert check_loopback("http://127.0.0.1:9/a") and check_loopback("http://[::1]:9/")


# --- the command, as a process ------------------------------------------------------------


class _Static(http.server.BaseHTTPRequestHandler):
    """Tiles from a dictionary, as a static mirror serves them; POSTs kept (the webhook)."""

    served: ClassVar[dict[str, bytes]] = {}
    posted: ClassVar[list[bytes]] = []

    def do_GET(self) -> None:
        body = self.served.get(self.path)
        if body is None or self.headers.get("Authorization") != "Bearer reader-token":
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.posted.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_command_exits_with_the_alarms_status_and_says_it_on_one_line(
    tmp_path: Path,
) -> None:
    from support.sample_log import CENTER, RING, build

    recorder = build(tmp_path / "center.sqlite", n=300)
    log = recorder.log
    served = {"/tlog/checkpoint": log.latest_head().note.encode()}  # type: ignore[union-attr]
    for tile in new_tiles(0, log.size):
        served[f"/tlog/{tile.path}"] = log.tile(tile.level, tile.index, tile.width)
        if tile.level == 0:
            bundle = Tile(ENTRIES_LEVEL, tile.index, tile.width)
            served[f"/tlog/{bundle.path}"] = log.entry_bundle(tile.index, tile.width)
    _Static.served = served
    keys = tmp_path / "KEYS.json"
    keys.write_text(json.dumps(RING.to_json()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Static)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    command = [
        sys.executable, "-c", "from accord.cli import main; main()", "monitor",
        "--center", url, "--keys", str(keys), "--state", str(tmp_path / "state"),
        "--once", "--workers", "1", "--webhook", f"{url}/alarm",
    ]  # fmt: skip
    env = {**os.environ, "ACCORD_TOKEN": "reader-token"}
    try:
        ok = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stderr
        assert "verified 300 entries" in ok.stdout
        forged = Checkpoint(log.origin, 300, merkle.root_hash([bytes(32)] * 300))
        served["/tlog/checkpoint"] = sign_checkpoint(forged, key=CENTER, timestamp=9).encode()
        bad = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        recorder.log.close()
    assert bad.returncode == 11, bad.stderr
    lines = bad.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "accord monitor: ALARM split_view sizes=300,300 entry=-: split_view: the center signed"
    )
    posted = json.loads(_Static.posted[-1])
    assert posted["kind"] == "split_view" and posted["sizes"] == [300, 300]
    assert Path(posted["evidence"]).is_file()
    assert (
        posted["evidence_sha256"]
        == hashlib.sha256(Path(posted["evidence"]).read_bytes()).hexdigest()
    )


def test_the_report_accuses_the_center_unless_told_otherwise(tmp_path: Path) -> None:
    """``--accuse`` defaults to the center; a party named must be another party of the
    agreement (refused before anything is read)."""
    from typer.testing import CliRunner

    from accord.cli import app
    from accord.examples import example_path
    from support.sample_log import RING

    keys = tmp_path / "KEYS.json"
    keys.write_text(json.dumps(RING.to_json()))
    base = ["monitor", "--center", "http://127.0.0.1:9", "--keys", str(keys),
            "--state", str(tmp_path / "s"), "--once"]  # fmt: skip
    runner = CliRunner()
    cases = [
        (["--report-as", "blue-officer"], "--report-as needs --office and --party"),
        (["--party", "blue", "--accuse", "blue"], "a party does not accuse itself"),
        (["--agreement", str(example_path("jig.yaml")), "--party", "blue", "--accuse", "hnc"],
         "the center, or a party of the agreement"),
    ]  # fmt: skip
    for extra, said in cases:
        done = runner.invoke(app, [*base, *extra], env={"ACCORD_TOKEN": "t"})
        assert done.exit_code == 2 and said in done.output, done.output


def test_without_an_agreement_the_witnesses_are_those_entry_0_adopts() -> None:
    """A rooted log's entry 0 adopts the agreement, which names each party's witness: a
    monitor given no --agreement compares with those (and says they are unpinned)."""
    blue, red = seeded("witness.blue.example/w1"), seeded("witness.red.example/w1")
    parties = [
        {"id": "blue", "witness": {"name": blue.name, "vkey": blue.public.vkey(0x04),
                                   "url": "http://127.0.0.1:7380"}},
        {"id": "red", "witness": {"name": red.name, "vkey": red.public.vkey(0x01),
                                  "url": "http://127.0.0.1:7381"}},  # not a cosigning key
        {"id": "green"},
    ]  # fmt: skip
    event = {"kind": "agreement.adopted", "agreement": {"parties": parties}, "digest": "x"}
    leaf = make_envelope(0, None, canonical_json({"author": "c", "event": event, "v": 1}))
    found = adopted_witnesses(leaf, party="blue")
    assert found == (WitnessSource("blue", blue.public, own=True, url="http://127.0.0.1:7380"),)
    other = make_envelope(0, None, canonical_json({"author": "c", "event": {"kind": "x"}}))
    assert adopted_witnesses(other) == ()


def test_an_endless_answer_is_read_no_further_than_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hostile center that sends a tile without end fills none of the monitor's memory:
    the reading stops past the cap, and the round is one the center gave nothing readable
    (retried, then stalled), never a crash."""
    monkeypatch.setattr(monitor_http, "MAX_BODY", 64 * 1024)
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        while True:
            sent += 4096
            yield b"\x00" * 4096

    sources = HttpSources(
        httpx.Client(
            transport=httpx.MockTransport(lambda _: httpx.Response(200, content=endless())),
            base_url="http://center.test",
        ),
        origin="center.test",
        witness_urls={},
    )
    with pytest.raises(Unavailable, match="an answer over 65536 bytes"):
        sources.tile("tile/0/000")
    assert sent <= 64 * 1024 + 4096
