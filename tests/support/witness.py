"""What the witness's tests share: a log that grows, its signed checkpoints, request bodies,
and an independent reading of tlog-witness's formats.

The reading (``spec_*``) is written straight from c2sp.org/tlog-witness, tlog-cosignature
and signed-note with ``hashlib``, ``base64`` and ``cryptography`` alone, none of Accord's
record code, so that Accord's writer and this reader do not share a mistake.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.record.keys import PrivateKey
from accord.record.merkle import consistency_proof, leaf_hash, root_hash
from accord.record.note import Checkpoint, sign_checkpoint
from support.record import seeded

ORIGIN = "accord.example/witnessed"
LOG_KEY = PrivateKey.from_seed(ORIGIN, hashlib.sha256(b"log key").digest())
WITNESS_KEY = seeded("witness.blue.example/w1")
T0 = 1_790_000_000


def log_list(*keys: PrivateKey, origin: str | None = None) -> str:
    """A logs/v0 list trusting each of ``keys`` (type 0x01) for its own name or ``origin``."""
    out = ["# test list", "logs/v0", ""]
    for key in keys:
        out.append(f"vkey {key.public.vkey(0x01)}")
        if origin is not None:
            out.append(f"origin {origin}")
        out += ["qpd 86400", "contact tests", ""]
    return "\n".join(out)


@dataclass
class GrowingLog:
    """A log's leaf hashes; checkpoints of any prefix, signed by ``key``."""

    key: PrivateKey = LOG_KEY
    origin: str = ORIGIN
    fork: str = ""
    hashes: list[bytes] = field(default_factory=list)

    def grow(self, n: int) -> GrowingLog:
        start = len(self.hashes)
        self.hashes += [
            leaf_hash(f"{self.fork}entry {i}".encode()) for i in range(start, start + n)
        ]
        return self

    def root(self, size: int) -> bytes:
        return root_hash(self.hashes[:size])

    def checkpoint(self, size: int, *, timestamp: int = T0) -> str:
        return sign_checkpoint(
            Checkpoint(self.origin, size, self.root(size)), key=self.key, timestamp=timestamp
        )

    def proof(self, old: int, new: int) -> list[bytes]:
        if old in (0, new):
            return []
        return consistency_proof(self.hashes[:new], old)

    def body(self, old: int, new: int, *, proof: list[bytes] | None = None) -> bytes:
        """An add-checkpoint body from ``old`` to ``new`` with the right proof (or ``proof``)."""
        lines = proof if proof is not None else self.proof(old, new)
        return spec_request(old, lines, self.checkpoint(new))


def spec_request(old: int, proof: list[bytes], checkpoint: str) -> bytes:
    """tlog-witness add-checkpoint body: "old N", proof lines, an empty line, the checkpoint."""
    head = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return (head + "\n" + checkpoint).encode()


@dataclass(frozen=True)
class SpecCosignature:
    name: str
    key_id: bytes
    timestamp: int
    signature: bytes


def spec_read_response(body: bytes) -> list[SpecCosignature]:
    """tlog-witness 200 body: one or more note signature lines, each "— " (U+2014, space),
    key name, space, base64, newline; tlog-cosignature: 4-byte key ID, u64 big-endian
    timestamp, 64-byte Ed25519 signature."""
    text = body.decode("utf-8")
    assert text.endswith("\n")
    found = []
    for line in text[:-1].split("\n"):
        assert line.startswith("\u2014 "), line
        name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64, validate=True)
        assert len(raw) == 4 + 8 + 64
        found.append(SpecCosignature(name, raw[:4], int.from_bytes(raw[4:12], "big"), raw[12:]))
    return found


def spec_verify_cosignature(
    cosig: SpecCosignature, *, name: str, public: bytes, checkpoint_body: str
) -> None:
    """tlog-cosignature: key ID = SHA-256(name || "\\n" || 0x04 || key)[:4]; the message is
    "cosignature/v1\\n", "time <t>\\n", then the checkpoint's note text. Raises if not."""
    assert cosig.name == name
    assert cosig.key_id == hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    assert cosig.timestamp != 0  # tlog-witness: "the timestamp MUST NOT be zero"
    message = f"cosignature/v1\ntime {cosig.timestamp}\n{checkpoint_body}".encode()
    Ed25519PublicKey.from_public_bytes(public).verify(cosig.signature, message)


def checkpoint_body(note: str) -> str:
    """signed-note: the text is everything up to the last blank line, with its newline."""
    return note[: note.rindex("\n\n") + 1]


PARTY_WITNESS_KEYS = {
    "blue": seeded("witness.blue.example/w1"),
    "red": seeded("witness.red.example/w1"),
}
"""The jig parties' witnesses' keys (as tests/center/test_witnesses.py names them)."""


def agreement_with_witnesses(text: str, urls: dict[str, str]) -> str:
    """The agreement ``text`` (YAML) with a witness named for each party of ``urls``."""
    import yaml

    data = yaml.safe_load(text)
    for party in data["parties"]:
        if party["id"] not in urls:
            continue
        key = PARTY_WITNESS_KEYS[party["id"]]
        party["witness"] = {
            "name": key.name,
            "vkey": key.public.vkey(0x04),
            "url": urls[party["id"]],
        }
    return str(yaml.safe_dump(data, sort_keys=False))
