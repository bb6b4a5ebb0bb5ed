"""The center asks the parties' witnesses (:mod:`accord.center.record.witnesses`): against the
real ``accord witness serve`` application in process — a 200 adds the line and the head is
witnessed once every party's witness cosigned it; a 409 from a witness that lost its state
or was moved ahead is answered from the size it returns; garbage and a bad cosignature add
nothing; a witness that never answers holds up no write and no other witness, and the head
is served not witnessed, with since when; two centers on one database race one witness
harmlessly and the witness's size only moves forward."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from accord.center.bootstrap import Parts
from accord.center.db.models import RecordWitness
from accord.center.record.heads import latest_head
from accord.center.record.witnesses import (
    WitnessFailed,
    _accept,
    ask_witness,
    head_witnesses,
    witness_loop,
)
from accord.center.runtime import Center
from accord.center.writer_process import Loopback
from accord.record.keys import SIG_ED25519, SIG_ED25519_COSIGNATURE, PrivateKey
from accord.record.note import SignedHead, cosignature_line, verify_cosignatures
from accord.record.witness_protocol import parse_log_list
from accord.witness.server import create_app as witness_app
from support.jig import AGREEMENT_TEXT, NOW
from support.record import seeded, served_head
from support.service import TestClient, add_users, clock, settings_for

WITNESS_KEYS = {
    "blue": seeded("witness.blue.example/w1"),
    "red": seeded("witness.red.example/w1"),
}
URLS = {"blue": "http://blue.witness.test", "red": "http://red.witness.test"}
T_WITNESS = 1_790_000_000


def agreement_text(urls: dict[str, str]) -> str:
    """The jig agreement with a witness named for each party (its vkey, its URL)."""
    data = yaml.safe_load(AGREEMENT_TEXT)
    for party in data["parties"]:
        key = WITNESS_KEYS[party["id"]]
        party["witness"] = {
            "name": key.name,
            "vkey": key.public.vkey(SIG_ED25519_COSIGNATURE),
            "url": urls[party["id"]],
        }
    return str(yaml.safe_dump(data, sort_keys=False))


def fill(center: Center, count: int, start: int = 0) -> SignedHead:
    """``count`` entries more; the head signed over them."""
    for i in range(start, start + count):
        with center.writing() as unit:
            unit.ledger.append({"kind": "test.event", "n": i}, author="blue", at=NOW)
    return latest_head(center)


@dataclass
class Witnesses:
    """The parties' witnesses: ``accord witness serve``'s application each, in process."""

    center: Center
    root: Path
    apps: dict[str, Any] = field(default_factory=dict)

    def start(self, party: str, folder: str | None = None) -> None:
        ring = self.center.ring
        logs = f"logs/v0\nvkey {ring.center.vkey(SIG_ED25519)}\nqpd 86400\ncontact tests\n"
        self.apps[party] = witness_app(
            key=WITNESS_KEYS[party],
            logs=parse_log_list(logs),
            data=self.root / (folder or party),
            clock=lambda: T_WITNESS,
        )

    def mounts(self, **replaced: httpx.AsyncBaseTransport) -> dict[str, httpx.AsyncBaseTransport]:
        out: dict[str, httpx.AsyncBaseTransport] = {}
        for party, app in self.apps.items():
            out[URLS[party]] = replaced.get(party) or httpx.ASGITransport(app=app)
        return out

    def client(self, **replaced: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(mounts=self.mounts(**replaced))


@pytest.fixture
def center(tmp_path: Path) -> Iterator[Center]:
    path = tmp_path / "agreement.yaml"
    path.write_text(agreement_text(URLS), encoding="utf-8")
    settings = settings_for(tmp_path, agreement_path=path, escalation_interval_s=0)
    opened = Parts(settings, clock=clock).open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def witnesses(center: Center, tmp_path: Path) -> Witnesses:
    out = Witnesses(center, tmp_path / "witnesses")
    out.start("blue")
    out.start("red")
    return out


def stored(center: Center, party: str) -> RecordWitness:
    with center.reading() as session:
        row = session.get(RecordWitness, WITNESS_KEYS[party].name)
        assert row is not None
        session.expunge(row)
        return row


def ask(witnesses: Witnesses, party: str, head: SignedHead, **replaced: Any) -> int | None:
    async def run() -> int | None:
        async with witnesses.client(**replaced) as client:
            ref = witnesses.center.agreement.witnesses[party]
            return await ask_witness(client, witnesses.center, party, ref, head)

    return asyncio.run(run())


def test_each_witness_cosigns_and_the_head_is_witnessed_when_all_did(
    center: Center, witnesses: Witnesses
) -> None:
    head = fill(center, 5)
    assert ask(witnesses, "blue", head) == T_WITNESS
    half = head_witnesses(center, latest_head(center))
    assert not half.witnessed and half.witnessed_at is None and half.last_witnessed is None
    blue, red = half.witnesses
    assert (blue.party, blue.cosigned, blue.size, blue.cosigned_at) == ("blue", True, 5, T_WITNESS)
    assert (red.cosigned, red.size, red.behind_since) == (False, 0, head.timestamp)

    assert ask(witnesses, "red", head) == T_WITNESS
    served = latest_head(center)
    assert served.size == 5
    lines = verify_cosignatures(served.note, witnesses=[k.public for k in WITNESS_KEYS.values()])
    assert lines == {k.name: T_WITNESS for k in WITNESS_KEYS.values()}
    whole = head_witnesses(center, served)
    assert whole.witnessed and whole.witnessed_at == T_WITNESS
    assert whole.last_witnessed == (5, T_WITNESS)
    assert all(w.behind_since is None and w.error is None for w in whole.witnesses)
    assert ask(witnesses, "red", head) is None  # cosigned already: nothing sent

    # the log grows: the next head extends the one each witness cosigned (a proof from 5)
    grown = fill(center, 4, start=5)
    assert ask(witnesses, "blue", grown) == T_WITNESS
    assert stored(center, "blue").size == 9
    partly = head_witnesses(center, latest_head(center))
    assert not partly.witnessed and partly.last_witnessed == (5, T_WITNESS)
    assert partly.witnesses[1].behind_since == grown.timestamp


def test_a_witness_that_lost_its_state_is_answered_from_the_size_it_returns(
    center: Center, witnesses: Witnesses
) -> None:
    ask(witnesses, "blue", fill(center, 3))
    witnesses.start("blue", folder="blue-again")  # a new, empty state: it says 409, size 0
    head = fill(center, 2, start=3)
    assert ask(witnesses, "blue", head) == T_WITNESS
    assert stored(center, "blue").size == 5


def test_a_witness_moved_ahead_by_another_client_is_followed_from_its_size(
    center: Center, witnesses: Witnesses
) -> None:
    small = fill(center, 3)
    ask(witnesses, "blue", small)
    middle = fill(center, 3, start=3)
    ahead = fill(center, 3, start=6)
    # another node's request: the witness cosigned 6 while this center still says 3
    assert ask(witnesses, "blue", middle) == T_WITNESS
    with center.writing() as unit:
        row = unit.session.get(RecordWitness, WITNESS_KEYS["blue"].name)
        assert row is not None
        row.size = 3
    assert ask(witnesses, "blue", ahead) == T_WITNESS  # 409 says 6: the proof from 6
    assert stored(center, "blue").size == 9
    # a witness ahead of the head offered (a restore) is reported, never followed back
    with center.writing() as unit:
        row = unit.session.get(RecordWitness, WITNESS_KEYS["blue"].name)
        assert row is not None
        row.size = 3
    with pytest.raises(WitnessFailed, match="beyond the head of size 6"):
        ask(witnesses, "blue", middle)


def _answering(status: int, body: bytes, **headers: str) -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda _request: httpx.Response(status, content=body, headers=headers)
    )


@pytest.mark.parametrize(
    ("transport", "reason"),
    [
        (_answering(200, b"hello\n"), "refused"),
        (_answering(200, b"\xff\xfe"), "not UTF-8"),
        (_answering(200, b""), "no cosignature"),
        (_answering(500, b"oops"), "answered 500"),
        (_answering(200, b"x" * 70_000), "more than 65536 bytes"),
        (_answering(409, b"7\n"), "409 without a text/x.tlog.size"),
        (_answering(409, b"x\n", **{"content-type": "text/x.tlog.size"}), "409 without"),
    ],
    ids=["garbage", "binary", "empty", "500", "huge", "409-untyped", "409-not-a-size"],
)
def test_a_witness_answering_garbage_adds_nothing(
    center: Center, witnesses: Witnesses, transport: httpx.MockTransport, reason: str
) -> None:
    head = fill(center, 2)
    with pytest.raises(WitnessFailed, match=reason):
        ask(witnesses, "blue", head, blue=transport)
    assert latest_head(center).note == head.note


def test_a_bad_cosignature_is_not_added(center: Center, witnesses: Witnesses) -> None:
    head = fill(center, 2)
    body = head.note[: head.note.rindex("\n\n") + 1]
    key = WITNESS_KEYS["blue"]
    wrong_body = body.replace(f"\n{head.size}\n", f"\n{head.size + 1}\n")
    forged = cosignature_line(wrong_body, key=key, timestamp=T_WITNESS)  # over another head
    other = cosignature_line(body, key=PrivateKey.from_seed(key.name, bytes(32)), timestamp=5)
    for line, reason in [(forged, "does not verify"), (other, "no cosignature by its key")]:
        with pytest.raises(WitnessFailed, match=reason):
            ask(witnesses, "blue", head, blue=_answering(200, line.encode()))
        assert latest_head(center).note == head.note
    with center.reading() as session:
        assert session.get(RecordWitness, key.name) is None  # nothing moved


def test_the_size_only_moves_forward_and_two_centers_race_one_witness_harmlessly(
    center: Center, witnesses: Witnesses
) -> None:
    other = Parts(center.settings, clock=clock).open()  # a second node on the database
    try:
        smaller = fill(center, 2)
        head = fill(center, 2, start=2)
        ref = center.agreement.witnesses["blue"]

        async def both() -> list[Any]:
            async with witnesses.client() as client:
                return await asyncio.gather(
                    ask_witness(client, center, "blue", ref, head),
                    ask_witness(client, other, "blue", ref, head),
                )

        assert asyncio.run(both()) == [T_WITNESS, T_WITNESS]  # the loser: 409, then retried
        served = latest_head(center)
        assert served.note.count(f"— {ref.name} ") == 1  # one line: the first one kept
        assert stored(center, "blue").size == 4
        # a late answer about a smaller head: its line is added, the size stays
        body = smaller.note[: smaller.note.rindex("\n\n") + 1]
        line = cosignature_line(body, key=WITNESS_KEYS["blue"], timestamp=T_WITNESS)
        _accept(other, "blue", ref, smaller, line)
        assert stored(center, "blue").size == 4
        with center.reading() as session:
            kept = {h.size: h.note for h in center.log(session).heads()}
        assert ref.name in verify_cosignatures(kept[2], witnesses=[ref.key])
    finally:
        other.close()


class _Silent:
    """A loopback socket that takes a request and never answers (a witness that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._take, daemon=True).start()

    def _take(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.held.append(conn)
        conn.recv(65536)
        self.received.set()

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_a_witness_that_never_answers_delays_no_write_and_no_other_witness(
    tmp_path: Path,
) -> None:
    silent = _Silent()
    path = tmp_path / "agreement.yaml"
    path.write_text(agreement_text({**URLS, "blue": silent.url}), encoding="utf-8")
    settings = settings_for(tmp_path, agreement_path=path, escalation_interval_s=0)
    center = Parts(settings, clock=clock).open()
    witnesses = Witnesses(center, tmp_path / "witnesses")
    witnesses.start("red")
    fill(center, 2)

    async def run() -> SignedHead:
        red: asyncio.Queue[int] = asyncio.Queue()
        loop = asyncio.create_task(
            witness_loop(
                center,
                interval=0.01,
                mounts=witnesses.mounts(),
                cosigned=lambda party, size: red.put_nowait(size) if party == "red" else None,
            )
        )
        try:
            await asyncio.wait_for(asyncio.to_thread(silent.received.wait), 30)
            assert await asyncio.wait_for(red.get(), 30) == 2
            # blue's witness hangs (then times out, backs off, hangs again): the writes go on
            # at once, and red cosigns the next head
            grown = await asyncio.to_thread(fill, center, 3, 2)
            # the loop may catch a head part-way through the fill (3 or 4) before the last
            # one; red cosigns heads in order and reaches the grown one
            sizes = [await asyncio.wait_for(red.get(), 30)]
            while sizes[-1] < grown.size:
                sizes.append(await asyncio.wait_for(red.get(), 30))
            assert sizes == sorted(set(sizes)) and sizes[-1] == grown.size
            assert not loop.done()
            return grown
        finally:
            loop.cancel()
            with pytest.raises(asyncio.CancelledError):
                await loop

    try:
        grown = asyncio.run(run())
        served = latest_head(center)
        assert served.size == grown.size == 5
        seen = head_witnesses(center, served)
        blue, red = seen.witnesses
        assert red.cosigned and not blue.cosigned and not seen.witnessed
        assert blue.size == 0 and blue.behind_since is not None
    finally:
        silent.close()
        center.close()


def test_the_head_route_serves_the_witnesses(tmp_path: Path) -> None:
    from accord.center.app import create_app

    path = tmp_path / "agreement.yaml"
    path.write_text(agreement_text(URLS), encoding="utf-8")
    settings = settings_for(
        tmp_path, agreement_path=path, escalation_interval_s=0, witness_interval_s=0
    )
    tokens = add_users(settings.database_url)
    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
        center = client.app.state.center  # type: ignore[attr-defined]
        witnesses = Witnesses(center, tmp_path / "witnesses")
        witnesses.start("blue")
        witnesses.start("red")
        head = fill(center, 3)
        auth = {"Authorization": f"Bearer {tokens['observer']}"}

        def served() -> dict[str, Any]:
            answer = client.get("/v1/record/head", headers=auth)
            assert answer.status_code == 200, answer.text
            data: dict[str, Any] = answer.json()
            SignedHead.from_json(served_head(data), center=center.ring.center)
            return data

        before = served()
        assert before["witnessed"] is False and before["last_witnessed"] is None
        assert [(w["party"], w["cosigned"], w["behind_since"]) for w in before["witnesses"]] == [
            ("blue", False, head.timestamp),
            ("red", False, head.timestamp),
        ]
        ask(witnesses, "blue", head)
        ask(witnesses, "red", head)
        after = served()
        assert after["witnessed"] is True and after["witnessed_at"] == T_WITNESS
        assert after["last_witnessed"] == {"size": 3, "at": T_WITNESS}
        assert after["cosigned_by"] == sorted(k.name for k in WITNESS_KEYS.values())
        assert after["witnesses"][0] == {
            "party": "blue",
            "name": WITNESS_KEYS["blue"].name,
            "cosigned": True,
            "size": 3,
            "cosigned_at": T_WITNESS,
            "behind_since": None,
            "error": None,
        }
