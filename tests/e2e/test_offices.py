"""The parties' offices against a real ``accord serve``: each office makes its root on its own
side (``accord office init``), the agreement names the roots, each root signs it
(``accord office sign-agreement``) and certifies a command-line user's key made in the
office (``accord office certify``); that user acts with its key file; the office revokes the
key and the center refuses its next act. The server's data folder never holds a party's
private key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import httpx
from bench.live import ACCORD, LiveServer

from accord.agreement import load_agreement
from accord.center.keystore import log_origin
from accord.office import Office, SignedActs, with_roots
from accord.record.keys import PublicKey
from support.jig import AGREEMENT_TEXT
from support.load import declaring, position
from support.load import made as made_by

MEMBERS = ("blue", "red", "hnc", "observers")


def _accord(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if token is not None:
        env["ACCORD_TOKEN"] = token
    return subprocess.run(
        [*ACCORD, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_offices_sign_certify_act_and_revoke(tmp_path: Path) -> None:
    offices = tmp_path / "offices"  # the parties' side: nothing here is the server's
    server_dir = tmp_path / "server"
    server_dir.mkdir(mode=0o700)
    roots: dict[str, PublicKey] = {}
    for member in MEMBERS:
        made = _accord("office", "init", "--office", str(offices / member), "--member", member)
        assert made.returncode == 0, made.stderr
        roots[member] = PublicKey.from_vkey(made.stdout.strip())[0]
    agreement = tmp_path / "agreement.yaml"
    agreement.write_text(with_roots(AGREEMENT_TEXT, roots), encoding="utf-8")
    server = LiveServer(
        database_url=f"sqlite:///{server_dir / 'accord.sqlite'}",
        keys_dir=server_dir / "keys",
        log_path=tmp_path / "server.log",
        agreement_path=agreement,
    )
    tokens = {
        "blue-feed": server.add_user("blue-feed", "blue", "officer"),
        "red-officer": server.add_user("red-officer", "red", "officer"),
        "blue-gateway": server.add_user("blue-gateway", "blue", "officer"),
    }
    server.start()
    try:
        keys = sorted(p.name for p in (server_dir / "keys").iterdir())
        origin = log_origin(load_agreement(agreement))
        assert keys == [f"{origin}.key"]  # the center's key alone
        everything = [p.read_bytes() for p in server_dir.rglob("*") if p.is_file()]
        for member in MEMBERS:  # no root's private key anywhere under the server's folder
            root = (offices / member / "root.key").read_bytes()
            assert not any(root in data for data in everything)

        def office(member: str, *args: str, token: str) -> subprocess.CompletedProcess[str]:
            where = ["--office", str(offices / member), "--member", member]
            return _accord("office", *args, *where, "--server", server.url, token=token)

        # An office that holds another agreement than the record's refuses to sign.
        other = tmp_path / "other.yaml"
        other.write_text(agreement.read_text().replace("title:", "title: Not"), encoding="utf-8")
        wrong = office(
            "blue", "sign-agreement", "--agreement", str(other), token=tokens["blue-feed"]
        )
        assert wrong.returncode == 1 and "does not begin with the agreement" in wrong.stderr
        for member, user in (("blue", "blue-feed"), ("red", "red-officer")):
            signed = office(
                member, "sign-agreement", "--agreement", str(agreement), token=tokens[user]
            )
            assert signed.returncode == 0, signed.stderr
        assert "in force: True" in signed.stdout

        made = _accord(
            "office", "user-key", "blue-feed", "--office", str(offices / "blue"), "--member", "blue"
        )
        assert made.returncode == 0, made.stderr
        public = made.stdout.strip()
        certified = office(
            "blue", "certify", "--user", "blue-feed", "--public-key", public,
            token=tokens["blue-feed"],
        )  # fmt: skip
        assert certified.returncode == 0, certified.stderr
        key = Office(offices / "blue", "blue").user_key("blue-feed")
        auth = SignedActs(
            token=tokens["blue-feed"], key=key, origin=origin, member="blue", user="blue-feed"
        )
        with httpx.Client(base_url=server.url, auth=auth, timeout=30.0) as client:
            path, body = declaring(position(0, 0))
            made_ = made_by(client.post(path, json=body))
            assert made_ is not None
            entry = client.get("/v1/record/entries", params={"start": made_["entry"]})
            data = entry.json()["entries"][0]["data"]
            act = json.loads(base64.b64decode(data))["entry"]["act"]
            assert act["key"] == public and act["signed"]["user"] == "blue-feed"

            revoked = office(
                "blue", "revoke", "--key", key.key_id, "--reason", "feed retired",
                token=tokens["blue-feed"],
            )  # fmt: skip
            assert revoked.returncode == 0, revoked.stderr
            path, body = declaring(position(0, 1))
            refused = client.post(path, json=body)
            assert refused.status_code == 403 and "revoked" in refused.json()["detail"]

        # A gateway's key, certified for device reports: a device's position, and nothing else.
        made = _accord(
            "office", "user-key", "blue-gateway", "--office", str(offices / "blue"),
            "--member", "blue",
        )  # fmt: skip
        certified = office(
            "blue", "certify", "--user", "blue-gateway", "--public-key", made.stdout.strip(),
            "--purpose", "device-reports", token=tokens["blue-gateway"],
        )  # fmt: skip
        assert certified.returncode == 0, certified.stderr
        gateway = SignedActs(
            token=tokens["blue-gateway"], key=Office(offices / "blue", "blue").user_key(
                "blue-gateway"), origin=origin, member="blue", user="blue-gateway",
        )  # fmt: skip
        with httpx.Client(base_url=server.url, auth=gateway, timeout=30.0) as client:
            device = position(0, 2)
            device["properties"]["device"] = {"uid": "ANDROID-e2e", "callsign": "E2E"}
            path, body = declaring(device)
            assert made_by(client.post(path, json=body)) is not None
            path, body = declaring(position(0, 3))
            plain = client.post(path, json=body)
            assert plain.status_code == 403 and "device-reports" in plain.json()["detail"]
    finally:
        server.stop()
