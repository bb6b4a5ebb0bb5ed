"""The center cannot sign for a party (issue 17): each member's act is signed by its user's
own key, certified by the member's root; the center checks it, appends it, and can refuse it
— never make it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from accord.center.ledger import NoAct
from accord.center.phases.service import confirm
from accord.record.canonical import encode_base64
from accord.record.entries import open_envelope
from accord.record.keys import generate
from support.declarations import POSITION as HIDDEN_POSITION
from support.jig import NOW
from support.offices import Offices, root_of, user_key
from support.service import UNSIGNED, USERS, Service, rooted_service

CONFIRM = {"condition": "aid-delivered-east-city"}
# a shared position: a hidden one is declared through POST /v1/declarations/hidden alone
POSITION = {
    **HIDDEN_POSITION,
    "properties": {**HIDDEN_POSITION["properties"], "disclosure": "shared"},
}
RED_POSITION = {**POSITION, "properties": {**POSITION["properties"], "party": "red"}}


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    with rooted_service(tmp_path, database_url) as service:
        yield service


def _entry(service: Service, index: int) -> dict[str, object]:
    with service.center.reading() as session:
        leaf = service.center.log(session).entry(index)
    return json.loads(open_envelope(leaf)[2])  # type: ignore[no-any-return]


def _size(service: Service) -> int:
    with service.center.reading() as session:
        return service.center.log(session).size


def test_an_act_is_the_users_entry_signed_by_its_own_key(service: Service) -> None:
    changes = {"changes": [{"change": "declare", "feature": HIDDEN_POSITION}]}
    answer = service.post("/v1/declarations/hidden", "blue-officer", json=changes)
    assert answer.status_code == 200, answer.text
    entry = _entry(service, answer.json()["items"][0]["entry"])
    assert entry["v"] == 2 and entry["author"] == "blue"
    act = entry["act"]
    assert isinstance(act, dict)
    assert act["key"] == encode_base64(user_key("blue", "blue-officer").public.raw)
    assert act["signed"]["action"] == "POST /v1/declarations/hidden"
    assert act["signed"]["user"] == "blue-officer"
    # the body is sealed: the record holds no opening of a declaration (it may be hidden)
    assert "opening" not in act and "Blue 2nd battalion" not in json.dumps(entry)
    # the center signs the entry, with its own key: the act inside is what proves blue acted
    assert entry["key_id"] == service.center.ring.center.key_id


def test_the_record_begins_with_the_agreement_its_roots_signed(service: Service) -> None:
    first = _entry(service, 0)
    assert first["author"] == service.center.origin
    assert first["event"]["kind"] == "agreement.adopted"  # type: ignore[index]
    registry = service.get("/v1/keys/registry", "observer").json()
    assert set(registry["signed"]) == {"blue", "red"}
    assert registry["in_force_at"] == max(registry["signed"].values())
    users = {k["user"] for k in registry["keys"]}
    assert users == set(service.offices.users) - {"admin"}  # type: ignore[union-attr]
    # the key ring names each member's root; the server's keys folder holds the center's alone
    ring = service.get("/v1/keys", "observer").json()
    roots = {m["name"]: m["public_key"] for m in ring["members"]}
    assert roots["red"] == encode_base64(root_of("red").public.raw)
    keys_dir = service.settings.keys_dir
    assert sorted(p.name for p in keys_dir.iterdir()) == [f"{service.center.origin}.key"]


def test_an_unsigned_or_forged_act_is_refused(service: Service) -> None:
    bearer_only = service.post(
        "/v1/phases/confirm", "hnc-notifier", json=CONFIRM, headers={UNSIGNED: "1"}
    )
    assert bearer_only.status_code == 403
    assert bearer_only.json()["type"].endswith("act-refused")
    offices = service.offices
    assert offices is not None
    # signed by another user's key, by a key nobody registered, over another body
    for key in (user_key("hnc", "someone-else"), generate("hnc")):
        headers = offices.headers("hnc-notifier", "POST", "/v1/phases/confirm", CONFIRM, key=key)
        refused = service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["field"] == "Accord-Act-Key"
    other = offices.headers("hnc-notifier", "POST", "/v1/phases/confirm", {"condition": "x"})
    forged = service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM, headers=other)
    assert forged.status_code == 403
    assert forged.json()["errors"][0]["field"] == "Accord-Act-Signature"
    # red's officer's key, carried by blue's token: the act names blue's user, not red's
    red = offices.headers("red-officer", "POST", "/v1/declarations", POSITION)
    crossed = service.post("/v1/declarations", "blue-officer", json=POSITION, headers=red)
    assert crossed.status_code == 403
    assert _size(service) == len(service.get("/v1/keys/registry", "observer").json()["keys"]) + 3


def test_a_replayed_act_is_refused_and_a_retry_replays_its_answer(service: Service) -> None:
    offices = service.offices
    assert offices is not None
    headers = offices.headers("hnc-notifier", "POST", "/v1/phases/confirm", CONFIRM)
    first = service.post(
        "/v1/phases/confirm", "hnc-notifier", json=CONFIRM,
        headers={**headers, "Idempotency-Key": "once"},
    )  # fmt: skip
    assert first.status_code == 201, first.text
    retry = service.post(
        "/v1/phases/confirm", "hnc-notifier", json=CONFIRM,
        headers={**headers, "Idempotency-Key": "once"},
    )  # fmt: skip
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    size = _size(service)
    again = service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM, headers=headers)
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("act-replayed"), again.text
    assert _size(service) == size


def test_an_act_outside_the_clock_window_is_refused(service: Service) -> None:
    offices = service.offices
    assert offices is not None
    for skew in (timedelta(minutes=-6), timedelta(minutes=6)):
        headers = offices.headers(
            "hnc-notifier", "POST", "/v1/phases/confirm", CONFIRM, at=NOW + skew
        )
        late = service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM, headers=headers)
        assert late.status_code == 422
        assert late.json()["errors"][0]["field"] == "Accord-Act-At"


def test_a_revoked_key_signs_nothing_from_its_revocation_on(service: Service) -> None:
    offices = service.offices
    assert offices is not None
    assert service.post("/v1/declarations", "blue-officer", json=POSITION).status_code == 201
    body = {"key": user_key("blue", "blue-officer").key_id, "reason": "device lost"}
    path = "/v1/keys/revocations"
    # the officer's own key cannot revoke (only the root or a certifying key)
    own = service.post(path, "blue-officer", json=body)
    assert own.status_code == 403
    headers = offices.headers("blue-officer", "POST", path, body, key=root_of("blue"))
    revoked = service.post(path, "blue-officer", json=body, headers=headers)
    assert revoked.status_code == 201, revoked.text
    refused = service.post("/v1/declarations", "blue-officer", json=POSITION)
    assert refused.status_code == 403
    assert "revoked at entry" in refused.json()["detail"]
    # rotation: the root registers a new key for the officer, which acts from then on
    new = user_key("blue", "blue-officer", device="2")
    body2 = offices.registration("blue-officer", new)
    path2 = "/v1/keys/registrations"
    headers2 = offices.headers("blue-officer", "POST", path2, body2, key=root_of("blue"))
    assert service.post(path2, "blue-officer", json=body2, headers=headers2).status_code == 201
    offices.keys["blue-officer"] = new
    assert service.post("/v1/declarations", "blue-officer", json=POSITION).status_code == 201


def test_nothing_but_signing_before_the_agreement_is_in_force(tmp_path: Path) -> None:
    with rooted_service(tmp_path, sign=("blue",), register=False) as service:
        offices = service.offices
        assert offices is not None
        body = offices.registration("red-officer")
        path = "/v1/keys/registrations"
        headers = offices.headers("red-officer", "POST", path, body, key=root_of("red"))
        assert service.post(path, "red-officer", json=body, headers=headers).status_code == 201
        waiting = service.post("/v1/declarations", "red-officer", json=RED_POSITION)
        assert waiting.status_code == 409
        assert "red have not signed" in waiting.json()["detail"]
        # a user's key cannot sign the agreement; only the member's root
        first = _entry(service, 0)
        sign = {"digest": first["event"]["digest"]}  # type: ignore[index]
        mine = service.post("/v1/agreement/signatures", "red-officer", json=sign)
        assert mine.status_code == 403
        headers = offices.headers(
            "red-officer", "POST", "/v1/agreement/signatures", sign, key=root_of("red")
        )
        signed = service.post("/v1/agreement/signatures", "red-officer", json=sign, headers=headers)
        assert signed.status_code == 201 and signed.json()["in_force"] is True
        made = service.post("/v1/declarations", "red-officer", json=RED_POSITION)
        assert made.status_code == 201, made.text


def test_the_center_never_appends_a_members_entry_without_its_act(service: Service) -> None:
    # The service itself, asked for a member's change with no act taken in, refuses to sign.
    caller = service.center.authenticate(service.tokens["hnc-notifier"])
    assert caller is not None
    with pytest.raises(NoAct), service.center.writing() as unit:
        confirm(unit, caller, CONFIRM["condition"], NOW)


def test_me_says_whether_the_caller_signs_and_with_which_keys(service: Service) -> None:
    me = service.get("/v1/me", "blue-officer").json()
    assert me["signing"] is True and me["origin"] == service.center.origin
    assert me["keys"] == [user_key("blue", "blue-officer").key_id]


def test_an_act_made_for_another_log_is_refused(service: Service) -> None:
    offices = service.offices
    assert offices is not None
    elsewhere = Offices("another.example/jcc", USERS, offices.clock)
    headers = elsewhere.headers("hnc-notifier", "POST", "/v1/phases/confirm", CONFIRM)
    refused = service.post("/v1/phases/confirm", "hnc-notifier", json=CONFIRM, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "Accord-Act-Signature"


def test_an_administrator_writes_for_the_center_and_registers_no_members_key(
    service: Service,
) -> None:
    offices = service.offices
    assert offices is not None
    body = offices.registration("admin")
    path = "/v1/keys/registrations"
    headers = offices.headers("admin", "POST", path, body, key=root_of("blue"))
    refused = service.post(path, "admin", json=body, headers=headers)
    assert refused.status_code == 403 and refused.json()["type"].endswith("forbidden")
