"""Split view, end to end (issue 20 item 6): a center made to misbehave — in this test only —
shows blue one history and red another, both signed with its one key; neither history can
gather both parties' witnesses' cosignatures, so neither is ever served *witnessed*; the
witnesses refuse and keep the refused heads; and a third party holding only KEYS.json and an
evidence file proves the split view with ``accord verify --evidence`` run as a process.

How the center misbehaves: one real center (the application, in process) writes a common
prefix that both witnesses cosign; its database is copied (SQLite's backup API) and a second
center opened on the copy with the same key material (DECISIONS 15: the folder an operator
copies to each node); the two copies then take different writes. A small proxy on loopback
(a Starlette application under uvicorn) answers blue's readers from history A and red's from
history B — ``/v1/record/head``, ``/tlog`` tiles and every other path. The witnesses are
real ``accord witness serve`` applications on loopback sockets (as ``make run`` starts
them, :mod:`accord.center.demo_witnesses`); the center's own witness client
(:func:`~accord.center.record.witnesses.ask_witness`) asks them, for each history.

The parties' monitors (``accord monitor``) run against the proxy in
:func:`test_each_party_s_monitor_raises_the_alarm_and_its_evidence_proves_it`, marked
``xfail`` (not strict) while ``accord.monitor`` is not importable.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import accord
from accord.center.app import create_app
from accord.center.bootstrap import Parts
from accord.center.db.models import RecordHead
from accord.center.demo_witnesses import DemoWitness, make_witnesses, serving, with_witnesses
from accord.center.record.heads import latest_head
from accord.center.runtime import Center
from accord.center.writer_process import Loopback
from accord.record.evidence import (
    SplitViewEvidence,
    prove_split_view,
    split_view_consistency,
    split_view_evidence,
)
from accord.record.keys import PublicKey
from accord.record.note import verify_checkpoint, verify_cosignatures
from accord.record.tiles import TiledLog
from accord.witness.store import WitnessStore
from support.cli import run
from support.jig import AGREEMENT_TEXT
from support.service import TestClient, add_users, clock, settings_for
from support.witnessing import ask, fill

MONITOR = importlib.util.find_spec("accord.monitor") is not None
T_WITNESS = 1_790_000_000
READERS = {"blue": "blue-officer", "red": "red-officer"}
_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


# --- the misbehaving center: two copies, one key, a proxy -----------------------------------


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the live SQLite database (WAL included): SQLite's backup API."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def split_proxy(views: dict[str, TestClient], red_tokens: set[str]) -> Starlette:
    """Answers a request carrying a red token from history B, any other from history A."""

    async def forward(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        client = views["B" if token in red_tokens else "A"]
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")

        def call() -> httpx.Response:
            return client.request(request.method, url, headers=headers, content=body)

        answer = await anyio.to_thread.run_sync(call)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


@contextlib.contextmanager
def served(app: Starlette) -> Iterator[str]:
    """``app`` under uvicorn in a thread, on a loopback socket already listening (a request
    sent before the server runs waits in the socket's queue); its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# --- the scene ------------------------------------------------------------------------------


@dataclass
class Scene:
    """Everything the tests look at once the center has shown two histories."""

    root: Path
    proxy: str
    tokens: dict[str, str]
    keys: Path
    agreement: Path
    center_key: PublicKey
    centers: dict[str, Center]
    witnesses: dict[str, DemoWitness]
    asked: dict[str, str] = field(default_factory=dict)
    tiles_evidence: Path | None = None
    monitors_at_start: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def get(self, party: str, path: str) -> httpx.Response:
        token = self.tokens[READERS[party]]
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(self.proxy + path, headers=headers, timeout=30, trust_env=False)

    def state(self, party: str) -> Path:
        return self.witnesses[party].folder / "state"


def accord_process(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``accord ARGS…`` as its own process (a third party's machine, as far as it knows)."""
    source = str(Path(accord.__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-c", "from accord.cli import main; main()", *map(str, args)],
        env={**os.environ, "PYTHONPATH": source, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_monitor(scene: Scene, party: str) -> subprocess.CompletedProcess[str]:
    """``party``'s monitor, once, against the proxy (which shows it its party's history),
    with its party's reader token, its own state folder and its own copy of the agreement
    (which names both parties' witnesses: the monitor compares its history with what each
    cosigned — the other party's witness holds the other history)."""
    (scene.root / "monitors").mkdir(mode=0o700, exist_ok=True)
    return accord_process(
        "monitor", "--center", scene.proxy, "--keys", scene.keys,
        "--state", scene.root / "monitors" / party, "--once",
        "--agreement", scene.agreement, "--party", party,
        env={"ACCORD_TOKEN": scene.tokens[READERS[party]]},
    )  # fmt: skip


def tiles_evidence(scene: Scene) -> SplitViewEvidence:
    """What any reader of both views can write: the two /tlog checkpoints, and the proof
    from the smaller's size built from the larger view's tiles (its tiles checked against its
    checkpoint), with the larger tree's root at that size when it is a power of two."""
    notes = {}
    for party in ("blue", "red"):
        answer = scene.get(party, "/tlog/checkpoint")
        assert answer.status_code == 200, answer.text
        notes[party] = answer.text
    heads = {
        p: verify_checkpoint(n, origin=scene.center_key.name, center=scene.center_key)
        for p, n in notes.items()
    }
    small, large = sorted(heads, key=lambda p: heads[p].size)

    def fetch(path: str) -> bytes:
        answer = scene.get(large, f"/tlog/{path}")
        assert answer.status_code == 200, (path, answer.text)
        return answer.content

    tiled = TiledLog.open(fetch, size=heads[large].size, root=heads[large].root)
    m = heads[small].size
    proof = split_view_consistency(m, tiled.consistency_proof(m), root_at_old=tiled.root_at(m))
    return split_view_evidence(notes[small], notes[large], proof)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("split-view")
    witnesses = {w.party: w for w in make_witnesses(root / "offices", ["blue", "red"])}
    agreement = root / "agreement.yaml"
    agreement.write_text(with_witnesses(AGREEMENT_TEXT, list(witnesses.values())), "utf-8")

    def settings(name: str):  # no background asking: the test asks, in the order it means
        folder = root / name
        folder.mkdir(mode=0o700)
        return settings_for(
            folder, agreement_path=agreement, escalation_interval_s=0, witness_interval_s=0
        )

    settings_a, settings_b = settings("a"), settings("b")
    tokens = add_users(settings_a.database_url)
    with contextlib.ExitStack() as stack:
        client_a = stack.enter_context(
            TestClient(create_app(Parts(settings_a, clock=clock, writer=Loopback)))
        )
        center_a: Center = client_a.app.state.center  # type: ignore[attr-defined]
        center_key = center_a.ring.center
        stack.enter_context(
            serving(list(witnesses.values()), center=center_key, clock=lambda: T_WITNESS)
        )
        asked: dict[str, str] = {}

        # 1. one history: five entries, cosigned by both witnesses
        common = fill(center_a, 5, 0, "common")
        asked["A5 blue"] = ask(center_a, "blue", common)
        asked["A5 red"] = ask(center_a, "red", common)

        # 2. the center copies itself: a second center on a copy of the database, with the
        #    same key material, each copy then taking its own writes
        copy_database(
            Path(settings_a.database_url.removeprefix("sqlite:///")), root / "b" / "accord.sqlite"
        )
        shutil.copytree(settings_a.keys_dir, settings_b.keys_dir)
        client_b = stack.enter_context(
            TestClient(create_app(Parts(settings_b, clock=clock, writer=Loopback)))
        )
        center_b: Center = client_b.app.state.center  # type: ignore[attr-defined]
        red_tokens = {t for user, t in tokens.items() if user.startswith("red-")}
        proxy = stack.enter_context(served(split_proxy({"A": client_a, "B": client_b}, red_tokens)))
        keys = root / "KEYS.json"
        keys.write_text(json.dumps(center_a.ring.to_json(), indent=2), "utf-8")
        scene = Scene(root, proxy, tokens, keys, agreement, center_key,
                      {"A": center_a, "B": center_b}, witnesses, asked)  # fmt: skip
        if MONITOR:  # the monitors' first look: one history so far
            scene.monitors_at_start = {p: run_monitor(scene, p) for p in ("blue", "red")}

        a8 = fill(center_a, 3, 5, "A")  # blue's view: size 8 (a power of two)
        b11 = fill(center_b, 6, 5, "B")  # red's view: size 11
        asked["A8 blue"] = ask(center_a, "blue", a8)
        asked["B11 red"] = ask(center_b, "red", b11)
        asked["B11 blue"] = ask(center_b, "blue", b11)  # blue holds A8: a 422
        asked["A8 red"] = ask(center_a, "red", a8)  # red holds B11, beyond A8
        scene.tiles_evidence = root / "tiles-evidence.json"
        scene.tiles_evidence.write_text(json.dumps(tiles_evidence(scene).to_json()), "utf-8")

        a13 = fill(center_a, 5, 8, "A")
        asked["A13 red"] = ask(center_a, "red", a13)  # red holds B11: a 422
        asked["A13 blue"] = ask(center_a, "blue", a13)
        b13 = fill(center_b, 2, 11, "B")
        asked["B13 red"] = ask(center_b, "red", b13)
        asked["B13 blue"] = ask(center_b, "blue", b13)  # blue holds A13: the same size, a 422
        yield scene


# --- the witnesses: no head of either history is witnessed ----------------------------------


def test_each_witness_cosigns_one_history_and_refuses_the_other(scene: Scene) -> None:
    asked = scene.asked
    assert asked["A5 blue"] == asked["A5 red"] == "cosigned"
    assert asked["A8 blue"] == asked["B11 red"] == asked["A13 blue"] == "cosigned"
    assert asked["B13 red"] == "cosigned"
    assert "answered 422" in asked["B11 blue"]
    assert "beyond the head of size 8" in asked["A8 red"]  # 409 with 11: never followed back
    assert "answered 422" in asked["A13 red"]
    assert "answered 422" in asked["B13 blue"]

    # each witness's state is one history: blue's is A's head of 13, red's B's
    for party, view in (("blue", "A"), ("red", "B")):
        store = WitnessStore(scene.state(party))
        try:
            latest = store.latest(scene.center_key.name)
        finally:
            store.close()
        assert latest is not None
        assert latest[0].root == latest_head(scene.centers[view]).root
    assert latest_head(scene.centers["A"]).root != latest_head(scene.centers["B"]).root


def test_no_head_of_either_history_is_ever_witnessed(scene: Scene) -> None:
    keys = [w.key.public for w in scene.witnesses.values()]
    for party, view in (("blue", "A"), ("red", "B")):
        head = scene.get(party, "/v1/record/head")
        assert head.status_code == 200, head.text
        served = head.json()
        assert served["size"] == 13
        assert served["root"] == latest_head(scene.centers[view]).to_json()["root"]
        assert served["witnessed"] is False
        assert served["last_witnessed"]["size"] == 5  # the common prefix, before the copy
        cosigned = [w["party"] for w in served["witnesses"] if w["cosigned"]]
        assert cosigned == [party]  # its own party's witness, never the other's
        # and every head the center signed in this history after the copy: one witness at most
        with scene.centers[view].reading() as session:
            notes = session.scalars(select(RecordHead.note).where(RecordHead.size > 5)).all()
        assert notes
        for note in notes:
            assert len(verify_cosignatures(note, witnesses=keys)) <= 1


# --- the evidence, proven by a third party --------------------------------------------------


def test_the_witnesses_evidence_proves_the_split_view_to_a_third_party(scene: Scene) -> None:
    sizes = {}
    for party in ("blue", "red"):
        out = scene.root / "evidence" / party
        written = run("witness", "evidence", "--data", scene.state(party), "--out", out)
        assert written.exit_code == 0, written.output
        for path in sorted(out.glob("witness-*.json")):
            evidence = SplitViewEvidence.from_json(json.loads(path.read_text()))
            a, b = evidence.a, evidence.b
            sizes.setdefault(party, []).append((a.size, b.size))
            result = accord_process(
                "verify", "--evidence", path, "--keys", scene.keys, "--agreement", scene.agreement
            )
            if (a.size, b.size) == (8, 11):
                # the proof the center sent blue from 8 (a power of two) leaves out the root of
                # B's tree at 8: the refusal alone cannot show it (the tiles' evidence does)
                assert result.returncode == 1, result.stdout + result.stderr
                assert "must begin with the root of B's tree" in result.stderr
                continue
            assert result.returncode == 0, result.stdout + result.stderr
            assert "SPLIT VIEW PROVEN" in result.stdout
            assert f"two histories of the log {scene.center_key.name}" in result.stdout
            # A is what this witness cosigned: its own line is on it, named by the agreement
            witness = scene.witnesses[party].key.name
            assert f"cosigned by {witness} ({party}'s witness)" in result.stdout
    # blue: A8 against B11, A13 against B13 (the same two heads refused with 409 then 422:
    # written once); red: B11 against A13
    assert sizes == {"blue": [(8, 11), (13, 13)], "red": [(11, 13)]}
    # --json prints the same documents
    printed = run("witness", "evidence", "--data", scene.state("red"), "--json")
    assert printed.exit_code == 0, printed.output
    written = (scene.root / "evidence" / "red" / "witness-1.json").read_text()
    assert json.loads(printed.stdout) == [json.loads(written)]


def test_the_two_views_tiles_prove_it_too(scene: Scene) -> None:
    assert scene.tiles_evidence is not None
    evidence = SplitViewEvidence.from_json(json.loads(scene.tiles_evidence.read_text()))
    assert (evidence.a.size, evidence.b.size) == (8, 11)
    assert len(evidence.consistency) == 2  # B's root at 8, then RFC 9162's one hash
    prove_split_view(evidence, center=scene.center_key)
    result = accord_process("verify", "--evidence", scene.tiles_evidence, "--keys", scene.keys)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "head A: size 8" in result.stdout and "head B: size 11" in result.stdout
    assert "whose tree at size 8 has root" in result.stdout


# --- the monitors ---------------------------------------------------------------------------


@pytest.mark.xfail(not MONITOR, reason="accord monitor is not built yet", strict=False)
def test_each_party_s_monitor_raises_the_alarm_and_its_evidence_proves_it(scene: Scene) -> None:
    for party in ("blue", "red"):
        first = scene.monitors_at_start[party]  # KeyError while there is no monitor
        assert first.returncode == 0, first.stdout + first.stderr
    for party in ("blue", "red"):
        result = run_monitor(scene, party)
        assert result.returncode != 0, result.stdout + result.stderr
        assert "split" in (result.stdout + result.stderr).lower()
        files = sorted((scene.root / "monitors" / party / "evidence").glob("*.json"))
        assert files, f"{party}'s monitor wrote no evidence"
        for path in files:
            proven = accord_process("verify", "--evidence", path, "--keys", scene.keys)
            assert proven.returncode == 0, proven.stdout + proven.stderr
