"""The record over HTTP: the signed head, entries by range, proofs that verify against the
served head, co-signing, and a log that the project's own verifier accepts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from accord.center.runtime import Center
from accord.record import merkle
from accord.record.keys import read_private_key
from accord.record.note import SignedHead, Witness, verify_checkpoint
from accord.record.verify import verify_log
from support.failures import assert_problem
from support.jig import NOW
from support.record import b64, served_head
from support.service import Service, center_of, ring_of

ENTRIES = 23


def fill(center: Center, count: int = ENTRIES) -> None:
    """Write ``count`` entries by turns of the members, as the service would."""
    authors = ["blue", "red", "hnc", "observers"]
    for i in range(count):
        with center.writing() as unit:
            unit.ledger.append(
                {"kind": "test.event", "n": i}, author=authors[i % 4], at=NOW + timedelta(i)
            )


def head_of(service: Service, user: str = "observer") -> SignedHead:
    response = service.get("/v1/record/head", user)
    assert response.status_code == 200, response.text
    data = response.json()
    assert isinstance(data["cosigned_by"], list)
    return SignedHead.from_json(served_head(data), center=ring_of(service).center)


def test_the_keys_are_public_only_and_name_the_log(service: Service) -> None:
    ring = ring_of(service)
    assert ring.center.name == "jig-example.accord"
    assert {m.name: m.role for m in ring.members} == {
        "blue": "party",
        "red": "party",
        "hnc": "notifier",
        "observers": "monitor",
    }
    text = json.dumps(service.get("/v1/keys", "hnc-notifier").json())
    assert "PRIVATE" not in text
    keys_dir = service.settings.keys_dir
    for name in ("blue", "red", "hnc", "observers", "jig-example.accord"):
        assert (keys_dir / f"{name}.key").stat().st_mode & 0o777 == 0o600


def test_the_head_is_signed_by_the_center_and_follows_the_log(service: Service) -> None:
    empty = head_of(service)
    assert empty.size == 0 and empty.root == merkle.EMPTY_ROOT
    assert empty.timestamp == int(NOW.timestamp())
    fill(center_of(service))
    head = head_of(service)
    assert head.size == ENTRIES
    assert head_of(service).note == head.note  # no new signature while nothing changed


def test_entries_come_in_bounded_pages(service: Service) -> None:
    fill(center_of(service))
    page = service.get("/v1/record/entries?start=5&end=9", "observer").json()
    assert (page["start"], page["end"], page["size"]) == (5, 9, ENTRIES)
    assert [e["index"] for e in page["entries"]] == [5, 6, 7, 8]
    whole = service.get("/v1/record/entries", "observer").json()
    assert whole["end"] == ENTRIES and len(whole["entries"]) == ENTRIES
    beyond = service.get("/v1/record/entries?start=20&end=1000", "observer").json()
    assert beyond["end"] == ENTRIES
    assert_problem(service.get("/v1/record/entries?start=99", "observer"), 422)
    assert_problem(service.get("/v1/record/entries?start=5&end=4", "observer"), 422)


def test_proofs_verify_against_the_served_head(service: Service) -> None:
    center = center_of(service)
    fill(center, 7)
    old = head_of(service)
    fill(center, ENTRIES - 7)
    head = head_of(service)
    leaves = [
        b64(e["data"]) for e in service.get("/v1/record/entries", "observer").json()["entries"]
    ]
    hashes = [merkle.leaf_hash(d) for d in leaves]
    assert merkle.root_hash(hashes) == head.root
    for index in range(head.size):
        proof = service.get(
            f"/v1/record/proofs/inclusion?index={index}&size={head.size}", "blue-officer"
        ).json()
        assert b64(proof["leaf_hash"]) == hashes[index]
        assert b64(proof["root"]) == head.root
        merkle.verify_inclusion(
            leaf_hash=hashes[index],
            index=index,
            tree_size=head.size,
            proof=[b64(p) for p in proof["proof"]],
            root=head.root,
        )
    proof = service.get(
        f"/v1/record/proofs/consistency?from={old.size}&size={head.size}", "red-officer"
    ).json()
    assert b64(proof["old_root"]) == old.root
    merkle.verify_consistency(
        old_size=old.size,
        new_size=head.size,
        old_root=old.root,
        new_root=head.root,
        proof=[b64(p) for p in proof["proof"]],
    )
    assert_problem(service.get("/v1/record/proofs/consistency?from=99", "observer"), 422)
    assert_problem(service.get("/v1/record/proofs/consistency?from=1&size=99", "observer"), 422)


def cosigned_note(service: Service, member: str, head: SignedHead) -> str:
    """What a party does on its own machine: check the head and co-sign it."""
    key = read_private_key(service.settings.keys_dir / f"{member}.key", name=member)
    witness = Witness(key=key, center=ring_of(service).center, origin=head.origin)
    note, _ = witness.cosign(head.note, proof=[], timestamp=int(NOW.timestamp()) + 5)
    return note


def test_parties_cosign_the_head(service: Service) -> None:
    fill(center_of(service), 3)
    head = head_of(service)
    response = service.post(
        "/v1/record/cosign", "blue-officer", json={"note": cosigned_note(service, "blue", head)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["cosigned_by"] == ["blue"]
    red = cosigned_note(service, "red", head)
    assert service.post("/v1/record/cosign", "red-officer", json={"note": red}).status_code == 200
    served = service.get("/v1/record/head", "observer").json()
    assert served["cosigned_by"] == ["blue", "red"]
    assert verify_checkpoint(served["note"], origin=head.origin, center=ring_of(service).center)
    # Again: the first co-signature stays.
    again = service.post("/v1/record/cosign", "red-officer", json={"note": red})
    assert again.json()["note"] == served["note"]


def test_a_cosignature_must_be_the_callers_own(service: Service) -> None:
    head = head_of(service)
    red = cosigned_note(service, "red", head)
    body = assert_problem(
        service.post("/v1/record/cosign", "blue-officer", json={"note": red}), 422
    )
    assert body["errors"][0]["field"] == "note"
    body = assert_problem(
        service.post("/v1/record/cosign", "blue-officer", json={"note": "not a note"}), 422
    )
    assert body["errors"][0]["field"] == "note"


def test_a_cosignature_of_a_head_never_stored_is_refused(service: Service) -> None:
    center = center_of(service)
    with center.writing() as unit:  # written and signed, then rolled back: never stored
        unit.ledger.append({"kind": "test.event"}, author="blue", at=NOW)
        head = unit.ledger.sign_head(timestamp=1)
        unit.session.rollback()
    assert head.size == 1 and head_of(service).size == 0
    note = cosigned_note(service, "blue", head)
    assert_problem(service.post("/v1/record/cosign", "blue-officer", json={"note": note}), 409)


def test_the_served_log_verifies_with_the_projects_verifier(
    service: Service, tmp_path: Path
) -> None:
    fill(center_of(service))
    assert (
        service.post(
            "/v1/phases/confirm", "observer", json={"condition": "aid-delivered-east-city"}
        ).status_code
        == 201
    )
    head = head_of(service)
    service.post(
        "/v1/record/cosign", "blue-officer", json={"note": cosigned_note(service, "blue", head)}
    )
    head_json = service.get("/v1/record/head", "observer").json()
    head_json = served_head(head_json)
    entries = service.get("/v1/record/entries", "observer").json()["entries"]
    export = tmp_path / "export.jsonl"
    lines = [json.dumps({"i": e["index"], "data": e["data"]}) for e in entries]
    lines.append(json.dumps({"head": head_json}))
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = verify_log(export, keys=ring_of(service), workers=1)
    assert report.entries == ENTRIES + 1
    assert set(report.cosigners) == {"blue"}
    assert report.head_size == ENTRIES + 1


@pytest.mark.parametrize("user", ["blue-officer", "blue-approver", "observer", "admin"])
def test_every_reader_gets_the_same_head(service: Service, user: str) -> None:
    assert head_of(service, user).size == 0
