"""``accord verify`` and the ``device-reports`` key purpose (issue 21): a party gateway's key
signs its devices' reports — declarations, tracks, drafts — and the verifier names any entry
whose act such a key signed for another request (an approval, a message), wherever it stands
in the log; it counts the acts device-reports keys signed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import ActError, ActKeyError, VerificationError
from accord.record.registry import (
    DEVICE_REPORT_REQUESTS,
    DEVICE_REPORTS,
    KeyRegistry,
    Registration,
    device_report_request,
    registration_from_body,
)
from accord.record.verify import verify_log
from support.cli import run
from support.record import seeded
from support.rooted_log import RING, ROOTS, RootedLog, rooted, standard

GATE = seeded("blue-gateway")
REPORTS = (
    "POST /v1/declarations",
    "POST /v1/declarations/hidden",
    "PUT /v1/declarations/d-0123456789abcdef",
    "POST /v1/declarations/d-0123456789abcdef/withdraw",
    "POST /v1/tracks",
    "PUT /v1/drafts/u-d-f.ANDROID-1.17",
    "DELETE /v1/drafts/u-d-f.ANDROID-1.17",
)
OTHERS = (
    "POST /v1/operations/op-17/approve",
    "POST /v1/operations",
    "POST /v1/messages",
    "POST /v1/keys/registrations",
    "GET /v1/declarations",
    "DELETE /v1/declarations/d-0123456789abcdef",
    "PUT /v1/declarations/d-0/extra",
    "POST /v1/drafts/x",
    "PUT /v1/drafts",
)


def report_act(log: RootedLog, action: str, n: int) -> int:
    signed = log.signed("blue", "gw", GATE, action, {"n": n})
    return log.take({"kind": "device.report", "n": n}, signed)


def test_the_requests_a_device_reports_key_signs() -> None:
    assert {device_report_request(a) for a in REPORTS} == set(DEVICE_REPORT_REQUESTS.values())
    assert all(device_report_request(a) is None for a in OTHERS)
    assert device_report_request("POST /v1/tracks?at=now") == "track"  # a query, as sent


def test_device_reports_is_a_keys_only_purpose() -> None:
    body = {"user": "gw", "public_key": "A" * 43 + "=", "purposes": [DEVICE_REPORTS, "act"]}
    with pytest.raises(ActError, match="only purpose") as info:
        registration_from_body(body)
    assert info.value.field == "body.purposes"
    alone = registration_from_body({**body, "purposes": [DEVICE_REPORTS]})
    assert alone.purposes == {DEVICE_REPORTS}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(REPORTS + OTHERS), st.booleans())
def test_the_registry_lets_such_a_key_sign_device_reports_alone(action: str, act: bool) -> None:
    registry = KeyRegistry({m: k.public for m, k in ROOTS.items()}, parties=("blue", "red"))
    registry.sign_agreement(member="blue", key_id=ROOTS["blue"].key_id, index=1)
    registry.sign_agreement(member="red", key_id=ROOTS["red"].key_id, index=2)
    purposes = frozenset({"act" if act else DEVICE_REPORTS})
    registry.register(
        Registration("gw", GATE.public.raw, purposes),
        member="blue", key_id=ROOTS["blue"].key_id, user="office", index=3,
    )  # fmt: skip
    may = act or device_report_request(action) is not None
    signs = dict(member="blue", user="gw", key_id=GATE.key_id, index=4)
    if may:
        assert registry.actor(**signs, action=action).raw == GATE.public.raw  # type: ignore[arg-type]
    else:
        with pytest.raises(ActKeyError, match=DEVICE_REPORTS) as info:
            registry.actor(**signs, action=action)  # type: ignore[arg-type]
        assert info.value.field == "key"


def test_a_log_of_device_reports_verifies_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    with rooted(path) as log:
        standard(log, acts_each=1)
        log.register("blue", "gw", GATE, purposes=(DEVICE_REPORTS,))
        for n, action in enumerate(REPORTS):
            report_act(log, action, n)
    report = verify_log(path, keys=RING, workers=1)
    assert report.device_reports == (("blue", GATE.key_id, "gw", len(REPORTS)),)
    assert ("blue", GATE.key_id, "gw", len(REPORTS)) in report.acts
    text = "\n".join(report.lines())
    assert f"device reports: {len(REPORTS)} acts signed by device-reports keys" in text
    assert f"blue's key {GATE.key_id} (user gw) {len(REPORTS)}" in text


@pytest.mark.parametrize("where", [0, 3, 5])
def test_a_device_reports_key_that_signs_an_approval_is_named(tmp_path: Path, where: int) -> None:
    path = tmp_path / "log.sqlite"
    with rooted(path) as log:
        standard(log, acts_each=1)
        log.register("blue", "gw", GATE, purposes=(DEVICE_REPORTS,))
        forged = -1
        for n in range(6):
            if n == where:
                signed = log.signed("blue", "gw", GATE, "POST /v1/operations/op-17/approve", {})
                forged = log.take(
                    {"kind": "operation.approved", "operation": "op-17", "n": n}, signed
                )
            else:
                report_act(log, REPORTS[n % len(REPORTS)], n)
    with pytest.raises(VerificationError) as info:
        verify_log(path, keys=RING, workers=1)
    assert info.value.index == forged
    assert f"key {GATE.key_id} is certified for {DEVICE_REPORTS} only" in str(info.value)


def test_accord_verify_names_the_entry_a_device_reports_key_forged(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    with rooted(path) as log:
        standard(log, acts_each=1)
        log.register("blue", "gw", GATE, purposes=(DEVICE_REPORTS,))
        signed = log.signed("blue", "gw", GATE, "POST /v1/operations/op-17/approve", {})
        forged = log.take({"kind": "operation.approved", "operation": "op-17", "n": 9}, signed)
    keys = tmp_path / "KEYS.json"
    keys.write_text(json.dumps(RING.to_json()), encoding="utf-8")
    result = run("verify", path, "--keys", keys, "--workers", "1")
    assert result.exit_code == 1, result.output
    assert f"NOT VERIFIED: entry {forged}: " in result.output
    assert f"certified for {DEVICE_REPORTS} only" in result.output


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--purpose", "everything"], "--purpose"),
        (["--purpose", DEVICE_REPORTS, "--certify"], "--certify"),
    ],
)
def test_accord_office_certify_refuses_a_purpose_it_cannot_grant(
    tmp_path: Path, extra: list[str], said: str
) -> None:
    result = run(
        "office", "certify", "--office", tmp_path, "--member", "blue", "--user", "gw",
        "--server", "http://127.0.0.1:9", "--public-key", "A" * 43 + "=", *extra,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert said in result.stderr
