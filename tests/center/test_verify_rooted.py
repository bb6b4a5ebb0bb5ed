"""The record a rooted center serves verifies with the project's verifier, act by act: the
roots pinned by the party's own copy of the agreement, every member entry's act checked
against the keys its root certified (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.center.signing.service import agreement_document
from accord.cli_record import service_causes
from accord.record.verify import VerificationError, verify_log
from support.declarations import POSITION
from support.offices import root_of, user_key
from support.record import served_head
from support.service import Service, ring_of, rooted_service

CONFIRM = {"condition": "aid-delivered-east-city"}

HIDDEN = "/v1/declarations/hidden"
DECLARE = {"changes": [{"change": "declare", "feature": POSITION}]}


def export(service: Service, path: Path) -> Path:
    """The record as a party takes it home: its entries and the latest signed head."""
    head = service.get("/v1/record/head", "observer").json()
    head = served_head(head)
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
    assert service.post(HIDDEN, "blue-officer", json=DECLARE).status_code == 200
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
    assert service.post(HIDDEN, "blue-officer", json=DECLARE).status_code == 200

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
        assert service.post(HIDDEN, "blue-officer", json=DECLARE).status_code == 200
        other = {**agreement_document(service.center.agreement), "title": "Another agreement"}
        record = export(service, tmp_path / "record.jsonl")
        keys = ring_of(service)
    with pytest.raises(VerificationError) as info:
        verify_log(record, keys=keys, workers=1, agreement=other)
    assert info.value.index == 0
    assert "(they differ in title)" in info.value.reason


@pytest.mark.parametrize("how", ["v1-key-it-made", "v2-unregistered-key", "v2-approval-as-veto"])
def test_a_center_that_signs_an_approval_by_red_is_named_a_forger(tmp_path: Path, how: str) -> None:
    """The center, made to misbehave, appends an approval "by red" signed only with keys it
    holds: red's own verifier (its copy of the agreement pinned) fails naming that entry."""
    from typer.testing import CliRunner

    from accord.cli import app
    from accord.record.acts import Act, new_nonce, new_salt, seal_of, sign_act
    from accord.record.canonical import encode_base64
    from accord.record.keys import generate
    from support.desk import operation

    with rooted_service(tmp_path) as service:
        confirmed = service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM)
        assert confirmed.status_code == 201, confirmed.text
        proposed = service.post("/v1/operations", "blue-officer", json=operation(21.3, 25.6))
        assert proposed.status_code == 201, proposed.text
        op = proposed.json()["id"]
        center = service.center
        fake = generate("red")  # a key the center made: red never certified it
        event = {
            "kind": "operation.approved", "operation": op, "user": "red-approver",
            "status": "approved", "transitions": [],
        }  # fmt: skip
        with center.writing() as unit:
            recorder = unit.ledger.recorder
            forged = recorder.log.size
            if how == "v1-key-it-made":
                recorder.append(event, key=fake, at=center.now())
            elif how == "v2-approval-as-veto":
                # red's approver's real, certified key signs an approval; the center records
                # it as a veto
                key = user_key("red", "red-approver")
                act = Act(
                    origin=center.origin, member="red", user="red-approver", key=key.key_id,
                    at=center.now(), nonce=new_nonce(),
                    action=f"POST /v1/operations/{op}/approve",
                    seal=seal_of({}, salt=new_salt()),
                )  # fmt: skip
                signed = sign_act(act, key).to_json()
                member = {"key": encode_base64(key.public.raw), "signed": signed}
                veto = {**event, "kind": "operation.vetoed", "status": "vetoed", "reason": "x"}
                recorder.append_many([(veto, center.keys.center(), center.now(), "red", member)])
            else:
                act = Act(
                    origin=center.origin, member="red", user="red-approver", key=fake.key_id,
                    at=center.now(), nonce=new_nonce(),
                    action=f"POST /v1/operations/{op}/approve",
                    seal=seal_of({}, salt=new_salt()),
                )  # fmt: skip
                member = {
                    "key": encode_base64(fake.public.raw),
                    "signed": sign_act(act, fake).to_json(),
                }
                recorder.append_many([(event, center.keys.center(), center.now(), "red", member)])
        record = export(service, tmp_path / "record.jsonl")
        mine = agreement_document(center.agreement)
        with pytest.raises(VerificationError) as caught:
            verify_log(
                record, keys=ring_of(service), workers=1, agreement=mine, causes=service_causes()
            )
        assert caught.value.index == forged
        named = str(caught.value)
        assert "forged" in named or "never registered for red" in named, named
        # red's office runs the same verifier from the command line, with its own agreement
        keys = tmp_path / "KEYS.json"
        keys.write_text(json.dumps(service.get("/v1/keys", "red-officer").json()), encoding="utf-8")
        ran = CliRunner().invoke(
            app,
            [
                "verify",
                str(record),
                "--keys",
                str(keys),
                "--agreement",
                str(service.settings.agreement_path),
            ],
        )
        assert ran.exit_code == 1, ran.output
        assert f"entry {forged}" in ran.output
