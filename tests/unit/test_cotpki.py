"""The CoT CA, requests, the client certificate check, the TAK data package and the plain
port's ``<auth>`` message — attacked as a hostile party would (requests naming another user
or asking to be a CA, huge ones, certificates of another CA, revoked, expired, unknown), and
a real mutual-TLS handshake with the certificates issued."""

from __future__ import annotations

import contextlib
import io
import os
import ssl
import stat
import zipfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.cotpki.ca import (
    CA_LIFETIME,
    MAX_CSR_BYTES,
    Authority,
    issue,
    make_csr,
    new_authority,
    new_device_key,
    read_csr,
)
from accord.cotpki.check import Holder, Known, check_client_certificate
from accord.cotpki.files import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    load_or_create_authority,
    read_key,
    write_key,
    write_public,
)
from accord.cotpki.package import (
    ATAK_DEFAULT_PASSWORD,
    PREF_ENTRY,
    TRUSTSTORE_ENTRY,
    data_package,
    parse_server,
)
from accord.cotpki.plain import MAX_AUTH_BYTES, PlainAuth, parse_auth, split_auth
from accord.errors import CertificateRefused, InputError, KeyFileError
from support.cotpki import NOW, handshake, key_pem

ORIGIN = "jig-example.accord"
CAROL = Holder("carol", "blue", "officer")


@pytest.fixture(scope="module")
def authority() -> Authority:
    return new_authority(name=ORIGIN, now=NOW)


def _field(error: pytest.ExceptionInfo[InputError]) -> str:
    return error.value.issues[0].field


def _pem(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(Encoding.PEM)


def _known(cert: x509.Certificate, **changes: object) -> Known:
    from accord.cotpki.ca import fingerprint, serial_of

    known = Known(
        serial=serial_of(cert),
        fingerprint=fingerprint(cert),
        holder=CAROL,
        not_after=cert.not_valid_after_utc,
        revoked_at=None,
        user_removed_at=None,
    )
    return replace(known, **changes)  # type: ignore[arg-type]


# --- the CA ---------------------------------------------------------------------------------


def test_the_ca_is_a_p256_ca_that_signs_certificates_only(authority: Authority) -> None:
    cert = authority.certificate
    assert isinstance(authority.key.curve, ec.SECP256R1)
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > CA_LIFETIME
    assert ORIGIN in cert.subject.rfc4514_string()


def test_the_ca_files_are_made_once_and_the_key_is_0600(tmp_path: Path) -> None:
    first = load_or_create_authority(tmp_path, name=ORIGIN, now=NOW)
    assert stat.S_IMODE((tmp_path / CA_KEY_FILE).stat().st_mode) == 0o600
    again = load_or_create_authority(tmp_path, name=ORIGIN, now=NOW + timedelta(days=1))
    assert again.certificate == first.certificate
    (tmp_path / CA_CERT_FILE).unlink()  # lost: signed again by the same key
    remade = load_or_create_authority(tmp_path, name=ORIGIN, now=NOW)
    assert remade.certificate.public_key() == first.key.public_key()


def test_a_ca_key_others_may_read_is_refused_naming_the_file(tmp_path: Path) -> None:
    load_or_create_authority(tmp_path, name=ORIGIN, now=NOW)
    os.chmod(tmp_path / CA_KEY_FILE, 0o644)
    with pytest.raises(KeyFileError, match=r"unsafe permissions 0644 on .*cot-ca\.key"):
        load_or_create_authority(tmp_path, name=ORIGIN, now=NOW)


def test_a_ca_certificate_of_another_key_is_refused(tmp_path: Path) -> None:
    load_or_create_authority(tmp_path, name=ORIGIN, now=NOW)
    other = new_authority(name=ORIGIN, now=NOW)
    write_public(tmp_path / CA_CERT_FILE, other.pem())
    with pytest.raises(KeyFileError, match="is not the certificate of"):
        load_or_create_authority(tmp_path, name=ORIGIN, now=NOW)


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    write_key(tmp_path / "a.key", new_device_key())
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_key(tmp_path / "a.key", new_device_key())


# --- requests -------------------------------------------------------------------------------


def test_a_request_is_issued_a_client_certificate_naming_the_user(authority: Authority) -> None:
    key = new_device_key()
    csr = read_csr(_pem(make_csr(key, name="carol")), name="carol")
    issued = issue(authority, csr, name="carol", member="blue", now=NOW)
    cert = issued.certificate
    assert cert.subject.rfc4514_string() == "O=blue,CN=carol"
    assert cert.public_key() == key.public_key()
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    assert issued.not_after == NOW + timedelta(days=90)
    cert.verify_directly_issued_by(authority.certificate)


def _csr_with(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    *,
    cn: str = "carol",
    extensions: list[x509.ExtensionType] = (),  # type: ignore[assignment]
) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=True)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(Encoding.PEM)


def test_a_request_naming_another_user_is_refused() -> None:
    with pytest.raises(InputError) as error:
        read_csr(_csr_with(new_device_key(), cn="amira"), name="carol")
    assert _field(error) == "csr.subject.CN"
    assert "'amira'" in str(error.value)


def test_a_request_asking_to_be_a_ca_is_refused() -> None:
    ca = x509.BasicConstraints(ca=True, path_length=None)
    with pytest.raises(InputError) as error:
        read_csr(_csr_with(new_device_key(), extensions=[ca]), name="carol")
    assert _field(error) == "csr.extensions.basicConstraints"
    signer = x509.KeyUsage(False, False, False, False, False, True, False, False, False)
    with pytest.raises(InputError) as error:
        read_csr(_csr_with(new_device_key(), extensions=[signer]), name="carol")
    assert _field(error) == "csr.extensions.keyUsage"


def test_a_huge_request_is_refused_before_it_is_parsed() -> None:
    huge = b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"A" * MAX_CSR_BYTES
    with pytest.raises(InputError, match="at most 16384 bytes"):
        read_csr(huge, name="carol")


def test_two_requests_in_one_are_refused() -> None:
    one = _csr_with(new_device_key())
    with pytest.raises(InputError, match="one PEM certificate request"):
        read_csr(one + one, name="carol")


def test_a_request_whose_signature_does_not_verify_is_refused() -> None:
    good = make_csr(new_device_key(), name="carol")
    der = bytearray(good.public_bytes(Encoding.DER))
    der[-3] ^= 0x01  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(Encoding.PEM)
    with pytest.raises(InputError) as error:
        read_csr(tampered, name="carol")
    assert _field(error) in {"csr.signature", "csr.public_key", "csr"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (ed25519.Ed25519PrivateKey.generate(), "ECDSA .* or RSA only"),
        (ec.generate_private_key(ec.SECP521R1()), "P-256 or P-384 only"),
        (rsa.generate_private_key(65537, 1024), "RSA of 1024 bits"),
    ],
    ids=["ed25519", "p521", "rsa1024"],
)
def test_a_key_tak_clients_cannot_use_is_refused(key: object, message: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        read_csr(_csr_with(key), name="carol")  # type: ignore[arg-type]
    assert _field(error) == "csr.public_key"


@given(st.binary(max_size=400))
@settings(max_examples=200, deadline=None)
def test_garbage_is_refused_as_input_never_a_crash(data: bytes) -> None:
    with pytest.raises(InputError):
        read_csr(b"-----BEGIN CERTIFICATE REQUEST-----\n" + data, name="carol")


def test_a_lifetime_outside_the_bounds_is_refused(authority: Authority) -> None:
    csr = make_csr(new_device_key(), name="carol")
    for lifetime in (timedelta(0), timedelta(days=731)):
        with pytest.raises(InputError) as error:
            issue(authority, csr, name="carol", member="blue", now=NOW, lifetime=lifetime)
        assert _field(error) == "expires"


# --- the check on each handshake ------------------------------------------------------------


def _carol(authority: Authority) -> x509.Certificate:
    csr = make_csr(new_device_key(), name="carol")
    return issue(authority, csr, name="carol", member="blue", now=NOW).certificate


def test_an_issued_certificate_opens_as_its_user(authority: Authority) -> None:
    cert = _carol(authority)
    known = _known(cert)
    found = check_client_certificate(
        cert.public_bytes(Encoding.DER),
        ca=authority.certificate,
        now=NOW + timedelta(days=1),
        lookup={known.serial: known}.get,
    )
    assert found == CAROL


@pytest.mark.parametrize(
    ("changes", "at", "reason"),
    [
        ({"revoked_at": NOW + timedelta(hours=1)}, timedelta(hours=2), "revoked"),
        ({}, timedelta(days=91), "expired"),
        ({"not_after": NOW + timedelta(days=1)}, timedelta(days=2), "expired"),
        ({}, -timedelta(hours=1), "not-yet-valid"),
        ({"fingerprint": "00" * 32}, timedelta(0), "unknown"),
        ({"user_removed_at": NOW}, timedelta(minutes=1), "user-removed"),
        ({"holder": Holder("amira", "blue", "officer")}, timedelta(0), "malformed"),
    ],
)
def test_a_certificate_no_longer_good_is_refused_with_its_reason(
    authority: Authority, changes: dict[str, object], at: timedelta, reason: str
) -> None:
    cert = _carol(authority)
    known = _known(cert, **changes)
    with pytest.raises(CertificateRefused) as error:
        check_client_certificate(
            cert, ca=authority.certificate, now=NOW + at, lookup={known.serial: known}.get
        )
    assert error.value.reason == reason


def test_an_unknown_serial_is_refused(authority: Authority) -> None:
    with pytest.raises(CertificateRefused) as error:
        check_client_certificate(
            _carol(authority), ca=authority.certificate, now=NOW, lookup=lambda _s: None
        )
    assert error.value.reason == "unknown"


def test_a_certificate_of_another_ca_with_the_same_subject_is_refused(
    authority: Authority,
) -> None:
    impostor = new_authority(name=ORIGIN, now=NOW)  # same subject as the center's CA
    forged = _carol(impostor)
    assert forged.issuer == authority.certificate.subject
    known = _known(forged)  # even a lookup that knew its serial does not let it in
    with pytest.raises(CertificateRefused) as error:
        check_client_certificate(
            forged, ca=authority.certificate, now=NOW, lookup={known.serial: known}.get
        )
    assert error.value.reason == "other-ca"


def test_bytes_that_are_no_certificate_are_refused(authority: Authority) -> None:
    with pytest.raises(CertificateRefused) as error:
        check_client_certificate(
            b"\x30\x03\x02\x01\x00", ca=authority.certificate, now=NOW, lookup=lambda _s: None
        )
    assert error.value.reason == "malformed"


# --- the package and a real handshake -------------------------------------------------------


def test_the_data_package_holds_what_atak_imports(authority: Authority) -> None:
    key = new_device_key()
    csr = read_csr(_pem(make_csr(key, name="carol")), name="carol")
    cert = issue(authority, csr, name="carol", member="blue", now=NOW).certificate
    server = parse_server("center.example:8089")
    client, package = data_package(
        name="carol",
        key=key,
        certificate=cert,
        ca=authority.certificate,
        server=server,
        password="s3cret-pass",
    )
    archive = zipfile.ZipFile(io.BytesIO(package))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == ["MANIFEST/manifest.xml", "certs/carol.p12", TRUSTSTORE_ENTRY, PREF_ENTRY]
    manifest = ET.fromstring(archive.read("MANIFEST/manifest.xml"))
    assert manifest.tag == "MissionPackageManifest" and manifest.get("version") == "2"
    parameters = {p.get("name"): p.get("value") for p in manifest.iter("Parameter")}
    assert parameters["uid"] and parameters["name"] == "Accord carol"
    entries = [c.get("zipEntry") for c in manifest.iter("Content")]
    assert entries == names[1:]
    pref = ET.fromstring(archive.read(PREF_ENTRY))
    values = {(p.get("name"), e.get("key")): e.text for p in pref.iter("preference") for e in p}
    assert values["cot_streams", "connectString0"] == "center.example:8089:ssl"
    assert values["cot_streams", "caLocation0"] == "cert/truststore.p12"
    assert values["cot_streams", "certificateLocation0"] == "cert/carol.p12"
    assert values["com.atakmap.app_preferences", "clientPassword"] == "s3cret-pass"
    loaded = pkcs12.load_pkcs12(archive.read("certs/carol.p12"), b"s3cret-pass")
    assert loaded.cert is not None and loaded.cert.certificate == cert
    assert loaded.key is not None and loaded.key.public_key() == key.public_key()
    assert [c.certificate for c in loaded.additional_certs] == [authority.certificate]
    assert archive.read("certs/carol.p12") == client
    trust = pkcs12.load_pkcs12(archive.read(TRUSTSTORE_ENTRY), b"s3cret-pass")
    assert trust.key is None and [c.certificate for c in trust.additional_certs] == [
        authority.certificate
    ]
    with pytest.raises(ValueError, match=r"[Ii]nvalid password|Could not deserialize"):
        pkcs12.load_pkcs12(client, ATAK_DEFAULT_PASSWORD.encode())


@pytest.mark.parametrize(
    "text", ["center", "center:0", "center:65536", "[::1]:8089", "a b:1", "center:80a", ":8089"]
)
def test_a_server_that_is_not_host_port_is_refused(text: str) -> None:
    with pytest.raises(InputError) as error:
        parse_server(text)
    assert _field(error) == "--server"


def test_the_certificates_issued_make_a_mutual_tls_handshake(
    tmp_path: Path, authority: Authority
) -> None:
    key = new_device_key()
    csr = read_csr(_pem(make_csr(key, name="carol")), name="carol")
    cert = issue(authority, csr, name="carol", member="blue", now=NOW).certificate
    _, package = data_package(
        name="carol",
        key=key,
        certificate=cert,
        ca=authority.certificate,
        server=parse_server("localhost:8089"),
        password="s3cret-pass",
    )
    # the device's side: what it imports from the package, as PEM files for ssl
    bundle = pkcs12.load_pkcs12(
        zipfile.ZipFile(io.BytesIO(package)).read("certs/carol.p12"), b"s3cret-pass"
    )
    assert bundle.key is not None and bundle.cert is not None
    write_key(tmp_path / "carol.key", bundle.key)  # type: ignore[arg-type]
    write_public(tmp_path / "carol.pem", bundle.cert.certificate.public_bytes(Encoding.PEM))
    seen = handshake(
        tmp_path,
        authority=authority,
        client_key=tmp_path / "carol.key",
        client_cert=tmp_path / "carol.pem",
    )
    known = _known(cert)
    holder = check_client_certificate(
        seen, ca=authority.certificate, now=NOW, lookup={known.serial: known}.get
    )
    assert holder == CAROL


def test_a_client_of_another_ca_fails_the_handshake(tmp_path: Path, authority: Authority) -> None:
    impostor = new_authority(name=ORIGIN, now=NOW)
    key = new_device_key()
    forged = issue(impostor, make_csr(key, name="carol"), name="carol", member="blue", now=NOW)
    (tmp_path / "x.key").write_bytes(key_pem(key))
    write_public(tmp_path / "x.pem", forged.pem())
    with pytest.raises((ssl.SSLError, OSError)):
        handshake(
            tmp_path,
            authority=authority,
            client_key=tmp_path / "x.key",
            client_cert=tmp_path / "x.pem",
        )


def test_a_device_key_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "carol.key"
    path.write_bytes(key_pem(new_device_key()))
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match=r"unsafe permissions 0640 on .*carol\.key"):
        read_key(path)


# --- the plain port's <auth> ----------------------------------------------------------------

AUTH = (
    b'<?xml version="1.0"?>\n'
    b'<auth><cot username="carol" password="tok-123" uid="ANDROID-1"/></auth>'
)


def test_the_auth_message_tak_clients_send_is_read() -> None:
    found = parse_auth(AUTH)
    assert found == PlainAuth("carol", "tok-123", "ANDROID-1")
    assert "tok-123" not in repr(found)


def test_the_bytes_after_auth_are_kept_and_a_partial_message_waits() -> None:
    event = b"<event version='2.0'/>"
    assert split_auth(AUTH[:40]) is None
    done = split_auth(AUTH + event)
    assert done is not None and done[1] == event


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (b'<auth><cot password="t"/></auth>', "auth.cot.username"),
        (b'<auth><cot username="c"/></auth>', "auth.cot.password"),
        (b'<auth><cot username="c" password="t" role="admin"/></auth>', "auth.cot.role"),
        (b'<auth><cot username="" password="t"/></auth>', "auth.cot.username"),
        (b'<auth><cot username="c" password="t"/><cot/></auth>', "auth"),
        (b'<auth x="1"><cot username="c" password="t"/></auth>', "auth"),
        (b'<event><cot username="c" password="t"/></event>', "auth"),
        (b'<auth><cot username="c&#10;" password="t"/></auth>', "auth.cot.username"),
        (b'<auth><cot username="&bogus;" password="t"/></auth>', "auth"),
        (
            b'<!DOCTYPE auth [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<auth><cot username="&b;" password="t"/></auth>',
            "auth",
        ),
        (
            b'<!DOCTYPE auth [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<auth><cot username="&x;" password="t"/></auth>',
            "auth",
        ),
        (b'<auth><!-- hi --><cot username="c" password="t"/></auth>', "auth"),
        (b'<auth><cot username="c" password="' + b"t" * 300 + b'"/></auth>', "auth.cot.password"),
    ],
    ids=[
        "no-user",
        "no-token",
        "unknown-attribute",
        "empty-user",
        "two-cot",
        "auth-attribute",
        "not-auth",
        "control-char",
        "undefined-entity",
        "entity-expansion",
        "external-entity",
        "comment",
        "long-token",
    ],
)
def test_a_bad_auth_message_is_refused_naming_the_field(message: bytes, field: str) -> None:
    with pytest.raises(InputError) as error:
        parse_auth(message)
    assert _field(error) == field


def test_a_connection_that_does_not_begin_with_auth_is_refused_at_once() -> None:
    with pytest.raises(InputError, match="sends <auth>"):
        split_auth(b"<event version='2.0' uid='x'")


def test_an_auth_message_that_never_ends_is_refused_at_its_bound() -> None:
    with pytest.raises(InputError, match="within 1024 bytes"):
        split_auth(b'<auth><cot username="' + b"c" * MAX_AUTH_BYTES)
    late = b'<auth><cot username="c" password="' + b"t" * MAX_AUTH_BYTES + b'"/></auth>'
    with pytest.raises(InputError, match="within 1024 bytes"):
        split_auth(late)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_an_auth_or_an_input_error(data: bytes) -> None:
    with contextlib.suppress(InputError):
        split_auth(b"<auth>" + data)


_PRINTABLE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Cn", "Co", "Cf")),
    min_size=1,
    max_size=40,
).filter(str.isprintable)


@given(username=_PRINTABLE, token=_PRINTABLE, uid=st.none() | _PRINTABLE)
@settings(max_examples=200, deadline=None)
def test_any_auth_a_client_escapes_properly_reads_back_as_sent(
    username: str, token: str, uid: str | None
) -> None:
    from xml.sax.saxutils import quoteattr

    attributes = f"username={quoteattr(username)} password={quoteattr(token)}"
    if uid is not None:
        attributes += f" uid={quoteattr(uid)}"
    message = f"<auth><cot {attributes}/></auth>".encode()
    if len(message) > MAX_AUTH_BYTES:
        return
    found = split_auth(message + b"<event/>")
    assert found == (PlainAuth(username, token, uid), b"<event/>")
