"""``/v1/cot/certificates``: an administrator enrolls their own member's users from a request
(never another member's, never a request naming someone else), lists and revokes; each change
is an entry signed by the center holding no key; the listener's check reads the same rows."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.orm import Session

from accord.center.certificates.service import lookup
from accord.center.db import make_engine, writer
from accord.center.db.models import User
from accord.cotpki.ca import make_csr, new_device_key
from accord.cotpki.check import Holder, check_client_certificate
from accord.cotpki.files import CA_KEY_FILE
from accord.errors import CertificateRefused
from support.jig import NOW
from support.service import Service
from support.users import entries_of_kind


def _csr(name: str) -> str:
    return make_csr(new_device_key(), name=name).public_bytes(Encoding.PEM).decode()


def _enroll(
    service: Service, name: str, *, member: str = "blue", role: str = "officer", **extra: str
):
    body = {"name": name, "member": member, "role": role, "csr": _csr(name), **extra}
    return service.post("/v1/cot/certificates", "admin", json=body)


def _check(service: Service, cert: x509.Certificate, *, at=NOW):
    center = service.center
    ca = center.keys.cot_authority(at).certificate
    with center.reading() as session:
        return check_client_certificate(cert, ca=ca, now=at, lookup=lookup(session))


def test_an_administrator_enrolls_lists_and_revokes_their_own_users(service: Service) -> None:
    made = _enroll(service, "blue-officer", expires="P30D")
    assert made.status_code == 201, made.text
    answer = made.json()
    cert = x509.load_pem_x509_certificate(answer["pem"].encode())
    ca = x509.load_pem_x509_certificate(answer["ca_pem"].encode())
    cert.verify_directly_issued_by(ca)
    assert cert.subject.rfc4514_string() == "O=blue,CN=blue-officer"
    assert answer["certificate"]["state"] == "active"
    assert answer["certificate"]["not_after"].startswith(
        (NOW + timedelta(days=30)).date().isoformat()
    )
    key_file = service.settings.keys_dir / CA_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _check(service, cert) == Holder("blue-officer", "blue", "officer")

    listed = service.get("/v1/cot/certificates", "admin").json()["items"]
    assert [c["name"] for c in listed] == ["blue-officer"]
    assert "KEY" not in service.get("/v1/cot/certificates", "admin").text

    again = _enroll(service, "blue-officer")
    assert again.status_code == 409  # one in force: revoke first

    revoked = service.client.delete(
        "/v1/cot/certificates/blue-officer", headers=service.auth("admin")
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["items"][0]["state"] == "revoked"
    with pytest.raises(CertificateRefused) as refused:
        _check(service, cert)
    assert refused.value.reason == "revoked"
    twice = service.client.delete(
        "/v1/cot/certificates/blue-officer", headers=service.auth("admin")
    )
    assert twice.status_code == 409
    assert _enroll(service, "blue-officer").status_code == 201  # a new one after revocation

    entries = entries_of_kind(service.center, "cot.")
    kinds = [e.event["kind"] for e in entries]
    assert kinds == ["cot.certificate_issued", "cot.certificate_revoked", "cot.certificate_issued"]
    issued = entries[0].event
    assert issued["user"] == "blue-officer" and issued["member"] == "blue"
    assert issued["serial"] == answer["certificate"]["serial"]
    assert issued["fingerprint"] == answer["certificate"]["fingerprint"]
    assert issued["by"] == {"user": "admin", "member": "blue"}
    assert all(e.author == service.center.origin for e in entries)
    assert "KEY" not in repr([e.event for e in entries])


def test_another_members_users_are_neither_enrolled_nor_seen(service: Service) -> None:
    forbidden = _enroll(service, "red-officer", member="red")
    assert forbidden.status_code == 403
    hidden = _enroll(service, "red-officer", member="blue")
    nobody = _enroll(service, "nobody", member="blue")
    assert hidden.status_code == nobody.status_code == 404
    assert hidden.json() == nobody.json()
    gone = service.client.delete("/v1/cot/certificates/red-officer", headers=service.auth("admin"))
    none = service.client.delete("/v1/cot/certificates/nobody", headers=service.auth("admin"))
    assert gone.status_code == none.status_code == 404 and gone.json() == none.json()
    for user in ("blue-approver", "observer"):
        assert service.get("/v1/cot/certificates", user).status_code == 403


def test_an_officer_lists_its_own_members_certificates_only(service: Service) -> None:
    """What a party's gateway (an officer) checks its devices' certificates against."""
    assert _enroll(service, "blue-officer").status_code == 201
    assert _enroll(service, "red-officer", member="red").status_code == 403  # blue's admin
    blue = service.get("/v1/cot/certificates", "blue-officer").json()["items"]
    assert [c["name"] for c in blue] == ["blue-officer"]
    assert service.get("/v1/cot/certificates", "red-officer").json()["items"] == []


def test_a_request_naming_another_user_or_asking_to_be_a_ca_is_refused(service: Service) -> None:
    body = {"name": "blue-officer", "member": "blue", "role": "officer", "csr": _csr("red-officer")}
    named = service.post("/v1/cot/certificates", "admin", json=body)
    assert named.status_code == 422
    assert "csr.subject.CN" in named.text and "red-officer" in named.text
    key = new_device_key()
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "blue-officer")])
    )
    ca_ask = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    body["csr"] = ca_ask.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM).decode()
    asked = service.post("/v1/cot/certificates", "admin", json=body)
    assert asked.status_code == 422 and "basicConstraints" in asked.text
    body["csr"] = "-----BEGIN CERTIFICATE REQUEST-----\n" + "A" * 17000
    huge = service.post("/v1/cot/certificates", "admin", json=body)
    assert huge.status_code == 422
    role = _enroll(service, "blue-officer", role="approver")
    assert role.status_code == 422 and "role" in role.text
    assert service.get("/v1/cot/certificates", "admin").json()["items"] == []
    assert entries_of_kind(service.center, "cot.") == []


def test_a_removed_users_certificate_is_refused(service: Service) -> None:
    made = _enroll(service, "blue-approver", role="approver")
    cert = x509.load_pem_x509_certificate(made.json()["pem"].encode())
    engine = make_engine(service.settings.database_url)
    try:
        with Session(writer(engine)) as session, session.begin():
            user = session.query(User).filter_by(name="blue-approver").one()
            user.removed_at = NOW
    finally:
        engine.dispose()
    with pytest.raises(CertificateRefused) as refused:
        _check(service, cert, at=NOW + timedelta(seconds=1))
    assert refused.value.reason == "user-removed"
