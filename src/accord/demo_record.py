"""Write the demo's timeline into a verifiable record and verify it, as a party would.

Every step becomes one entry signed by the member who took it (the center signs its own
checks and the steps of actors that are no members, such as a non-party air force); the
center signs the tree head, both parties co-sign it after checking it, and the verifier
runs over the file with nothing but the published public keys.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from accord.agreement import Agreement
from accord.center.keystore import log_origin, member_kinds
from accord.demo import Step
from accord.record.keys import KeyRing, Member, generate, write_private_key
from accord.record.log import MerkleLog
from accord.record.note import Witness
from accord.record.recorder import Recorder
from accord.record.verify import VerificationReport, verify_log

__all__ = ["DemoRecord", "record_demo"]


@dataclass(frozen=True, slots=True)
class DemoRecord:
    """Where the demo's record went and what the verifier said of it."""

    log: Path
    keys: Path
    report: VerificationReport


def record_demo(
    agreement: Agreement, steps: Sequence[Step], directory: Path, *, signed_at: datetime
) -> DemoRecord:
    """Record ``steps`` under ``directory`` (replaced), sign, co-sign, verify.

    Fresh keys are made for the center and every member; private keys are written as files
    of mode 0600 under ``directory/keys``.
    """
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "keys").mkdir(parents=True, mode=0o700)
    origin = log_origin(agreement)
    center = generate(origin)
    roles = list(member_kinds(agreement).items())
    members = {name: generate(name) for name, _ in roles}
    for key in (center, *members.values()):
        write_private_key(directory / "keys" / f"{key.name}.key", key)
    ring = KeyRing(center.public, [Member(members[name].public, role) for name, role in roles])
    keys_path = directory / "KEYS.json"
    keys_path.write_text(json.dumps(ring.to_json(), indent=2) + "\n", encoding="utf-8")

    log_path = directory / "record.sqlite"
    with MerkleLog.open(log_path, origin) as log:
        recorder = Recorder(log)
        recorder.append_many(
            [(step.as_dict(), members.get(step.actor, center), step.at) for step in steps]
        )
        timestamp = int(signed_at.timestamp())
        head = recorder.sign_head(key=center, timestamp=timestamp)
        note = head.note
        for party in agreement.parties:
            witness = Witness(key=members[party.id], center=center.public, origin=origin)
            note, _ = witness.cosign(note, proof=[], timestamp=timestamp)
        recorder.add_cosignature(head, note)
    report = verify_log(log_path, keys=KeyRing.read(keys_path))
    return DemoRecord(log=log_path, keys=keys_path, report=report)
