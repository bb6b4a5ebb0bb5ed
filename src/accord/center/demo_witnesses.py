"""The exercise's witnesses (``accord serve --demo``): one per party, on loopback, as a party
would run ``accord witness serve`` at its office.

Each has its own key, made at start in its party's demo office (``<office>/witness/witness.key``,
mode 0600), its own SQLite state beside it, and a loopback port chosen by the system; the
demo's agreement names them (:func:`with_witnesses`), and :func:`serving` runs them — each
an ``accord witness serve`` application under uvicorn in a thread of its own, trusting the
center's log key (type 0x01) and cosigning at the exercise's clock — until the server stops.
The center asks them like any witness (:mod:`accord.center.record.witnesses`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from accord.record.keys import (
    SIG_ED25519,
    SIG_ED25519_COSIGNATURE,
    PrivateKey,
    PublicKey,
    generate,
    write_private_key,
)

__all__ = ["DemoWitness", "make_witnesses", "serving", "with_witnesses"]


@dataclass(frozen=True)
class DemoWitness:
    """A party's witness of the exercise: its key, its folder, its listening socket."""

    party: str
    key: PrivateKey
    folder: Path
    sock: socket.socket

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}"


def make_witnesses(offices: Path, parties: Sequence[str]) -> list[DemoWitness]:
    """A witness for each of ``parties`` in its office folder under ``offices``: a new key
    (mode 0600) and a loopback socket already listening (its port the system's choice)."""
    made = []
    for party in parties:
        folder = offices / party / "witness"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = generate(f"witness.{party}.demo/w1")
        write_private_key(folder / "witness.key", key, overwrite=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        made.append(DemoWitness(party, key, folder, sock))
    return made


def with_witnesses(text: str, witnesses: Sequence[DemoWitness]) -> str:
    """The agreement YAML ``text`` with each party naming its witness (name, vkey, URL)."""
    data = yaml.safe_load(text)
    by_party = {w.party: w for w in witnesses}
    for party in data.get("parties") or ():
        witness = by_party.get(party["id"])
        if witness is not None:
            party["witness"] = {
                "name": witness.key.name,
                "vkey": witness.key.public.vkey(SIG_ED25519_COSIGNATURE),
                "url": witness.url,
            }
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@contextlib.contextmanager
def serving(
    witnesses: Sequence[DemoWitness], *, center: PublicKey, clock: Callable[[], float]
) -> Iterator[None]:
    """The witnesses served, each in a thread, while the block runs; stopped at its end.
    ``center`` is the center's key (its log key, type 0x01, is what they trust; its name
    is the log's origin), ``clock`` the seconds their cosignatures carry."""
    import uvicorn

    from accord.record.witness_protocol import parse_log_list
    from accord.witness.server import create_app

    logs = parse_log_list(
        f"logs/v0\nvkey {center.vkey(SIG_ED25519)}\nqpd 86400\ncontact the exercise\n"
    )
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    try:
        for witness in witnesses:
            app = create_app(key=witness.key, logs=logs, data=witness.folder / "state", clock=clock)
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run,
                kwargs={"sockets": [witness.sock]},
                name=f"witness-{witness.party}",
                daemon=True,
            )
            thread.start()
            servers.append((server, thread))
        yield
    finally:
        for server, _thread in servers:
            server.should_exit = True
        for _server, thread in servers:
            thread.join(timeout=5)
        for witness in witnesses:
            witness.sock.close()
