"""The record a rooted center serves verifies with the project's verifier, act by act: the
roots pinned by the party's own copy of the agreement, every member entry's act checked
against the keys its root certified (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.center.signing.service import agreement_document
from accord.record.verify import VerificationError, verify_log
from support.declarations import POSITION
from support.offices import root_of, user_key
from support.service import Service, ring_of, rooted_service

CONFIRM = {"condition": "aid-delivered-east-city"}


def export(service: Service, path: Path) -> Path:
    """The record as a party takes it home: its entries and the latest signed head."""
    head = service.get("/v1/record/head", "observer").json()
    head.pop("cosigned_by")
    entries = service.get("/v1/record/entries", "observer").json()["entries"]
    lines = [json.dumps({"i": e["index"], "data": e["data"]}) for e in entries]
    lines.append(json.dumps({"head": head}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_served_record_verifies_act_by_act(tmp_path: Path) -> None:
    with rooted_service(tmp_path) as service:
        served_record_verifies(service, tmp_path)


def served_record_verifies(service: Service, tmp_path: Path) -> None:
    offices = service.offices
    assert offices is not None
    assert service.post("/v1/declarations", "blue-officer", json=POSITION).status_code == 201
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM).status_code == 201
    # blue's root revokes the officer's key and registers a new one, which acts from then on
    path = "/v1/keys/revocations"
    body = {"key": user_key("blue", "blue-officer").key_id, "reason": "device lost"}
    headers = offices.headers("blue-officer", "POST", path, body, key=root_of("blue"))
    assert service.post(path, "blue-officer", json=body, headers=headers).status_code == 201
    new = user_key("blue", "blue-officer", device="2")
    path = "/v1/keys/registrations"
    body = offices.registration("blue-officer", new)
    headers = offices.headers("blue-officer", "POST", path, body, key=root_of("blue"))
    assert service.post(path, "blue-officer", json=body, headers=headers).status_code == 201
    offices.keys["blue-officer"] = new
    assert service.post("/v1/declarations", "blue-officer", json=POSITION).status_code == 201

    mine = agreement_document(service.center.agreement)
    record = export(service, tmp_path / "record.jsonl")
    report = verify_log(record, keys=ring_of(service), workers=1, agreement=mine)
    assert report.rooted and report.roots_pinned
    assert report.in_force_at is not None
    acts = {(member, key_id, user): n for member, key_id, user, n in report.acts}
    assert acts[("blue", user_key("blue", "blue-officer").key_id, "blue-officer")] == 1
    assert acts[("blue", new.key_id, "blue-officer")] == 1
    assert acts[("hnc", user_key("hnc", "hnc-notifier").key_id, "hnc-notifier")] == 1
    assert (
        report.registry_entries >= 2 + len(offices.users) - 1 + 2
    )  # every user but the administrator
    assert not any(line.startswith("legacy log") for line in report.lines())


def test_a_served_record_under_another_agreement_is_refused(tmp_path: Path) -> None:
    with rooted_service(tmp_path) as service:
        assert service.post("/v1/declarations", "blue-officer", json=POSITION).status_code == 201
        other = {**agreement_document(service.center.agreement), "title": "Another agreement"}
        record = export(service, tmp_path / "record.jsonl")
        keys = ring_of(service)
    with pytest.raises(VerificationError) as info:
        verify_log(record, keys=keys, workers=1, agreement=other)
    assert info.value.index == 0
    assert "(they differ in title)" in info.value.reason
