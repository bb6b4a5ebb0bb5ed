"""``accord cot``: the key made at the office (0600), its request signed at the center, the
data package made at the office again — and a real mutual-TLS handshake with what was made;
a lab's ``--unsafe-generate-key``; revoke and list; the CA key refused when others may read
it; the center's files never hold the device's key."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from accord.cli import app as cli
from accord.cotpki.files import CA_KEY_FILE, load_or_create_authority
from support.cotpki import NOW, handshake


def run(tmp_path: Path, *args: str, center: bool = True):
    where = []
    if center:
        url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
        where = ["--database", url, "--keys", str(tmp_path / "keys")]
    return CliRunner().invoke(cli, [*args, *where])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_office_enrolls_a_device_by_request_and_packages_it(tmp_path: Path) -> None:
    office = tmp_path / "office"
    added = run(tmp_path, "users", "add", "carol", "--member", "blue", "--role", "officer")
    assert added.exit_code == 0, added.output
    made = run(tmp_path, "cot", "csr", "carol", "--out", str(office), center=False)
    assert made.exit_code == 0, made.output
    assert _mode(office / "carol.key") == 0o600 and (office / "carol.csr").exists()

    enrolled = run(
        tmp_path, "cot", "enroll", "carol", "--member", "blue", "--role", "officer",
        "--csr", str(office / "carol.csr"), "--out", str(office), "--expires", "P30D",
    )  # fmt: skip
    assert enrolled.exit_code == 0, enrolled.output
    assert (office / "carol.pem").exists() and (office / "ca.pem").exists()
    assert _mode(tmp_path / "keys" / CA_KEY_FILE) == 0o600
    key = (office / "carol.key").read_bytes()
    center_files = b"".join(p.read_bytes() for p in tmp_path.glob("accord.sqlite*"))
    center_files += b"".join(p.read_bytes() for p in (tmp_path / "keys").iterdir())
    assert key not in center_files and b"carol.key" not in center_files

    packaged = run(
        tmp_path, "cot", "package", "carol", "--key", str(office / "carol.key"),
        "--cert", str(office / "carol.pem"), "--ca", str(office / "ca.pem"),
        "--server", "localhost:8089", "--out", str(office), center=False,
    )  # fmt: skip
    assert packaged.exit_code == 0, packaged.output
    password = packaged.stdout.strip()
    assert len(password) >= 16 and "shown only now" in packaged.stderr
    assert _mode(office / "carol.zip") == 0o600 and _mode(office / "carol.p12") == 0o600
    archive = zipfile.ZipFile(io.BytesIO((office / "carol.zip").read_bytes()))
    assert "MANIFEST/manifest.xml" in archive.namelist()
    bundle = pkcs12.load_pkcs12((office / "carol.p12").read_bytes(), password.encode())
    assert bundle.key is not None

    authority = load_or_create_authority(tmp_path / "keys", name="unused", now=NOW)
    seen = handshake(
        tmp_path, authority=authority, client_key=office / "carol.key",
        client_cert=office / "carol.pem",
    )  # fmt: skip
    assert x509.load_der_x509_certificate(seen).subject.rfc4514_string() == "O=blue,CN=carol"

    listed = run(tmp_path, "cot", "list")
    assert listed.exit_code == 0 and "carol" in listed.stdout and "active" in listed.stdout
    revoked = run(tmp_path, "cot", "revoke", "carol")
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in run(tmp_path, "cot", "list").stdout
    assert run(tmp_path, "cot", "revoke", "carol").exit_code == 2


def test_a_lab_may_make_the_key_at_the_center_only_when_it_says_so(tmp_path: Path) -> None:
    run(tmp_path, "users", "add", "dave", "--member", "blue", "--role", "officer")
    out = tmp_path / "lab"
    base = ["cot", "enroll", "dave", "--member", "blue", "--role", "officer", "--out", str(out)]
    neither = run(tmp_path, *base)
    assert neither.exit_code == 2 and "--csr" in neither.stderr
    no_server = run(tmp_path, *base, "--unsafe-generate-key")
    assert no_server.exit_code == 2 and "--server" in no_server.stderr
    made = run(
        tmp_path, *base, "--unsafe-generate-key", "--server", "center.lab:8089",
        "--atak-default-password",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.stdout == ""  # the password is ATAK's default, asked for: nothing printed
    assert _mode(out / "dave.key") == 0o600 and _mode(out / "dave.zip") == 0o600
    assert pkcs12.load_pkcs12((out / "dave.p12").read_bytes(), b"atakatak").key is not None
    assert not any(p.name.startswith("dave") for p in (tmp_path / "keys").iterdir())


def test_enrollment_refuses_a_stranger_a_mismatch_and_an_open_ca_key(tmp_path: Path) -> None:
    run(tmp_path, "users", "add", "erin", "--member", "blue", "--role", "officer")
    run(tmp_path, "cot", "csr", "erin", "--out", str(tmp_path / "o"), center=False)
    csr = ["--csr", str(tmp_path / "o" / "erin.csr"), "--out", str(tmp_path / "o")]
    nobody = run(tmp_path, "cot", "enroll", "zed", "--member", "blue", "--role", "officer", *csr)
    assert nobody.exit_code == 2 and "no such user" in nobody.stderr
    wrong = run(tmp_path, "cot", "enroll", "erin", "--member", "red", "--role", "officer", *csr)
    assert wrong.exit_code == 2 and "'member'" in wrong.stderr
    good = run(tmp_path, "cot", "enroll", "erin", "--member", "blue", "--role", "officer", *csr)
    assert good.exit_code == 0, good.output
    run(tmp_path, "cot", "revoke", "erin")
    os.chmod(tmp_path / "keys" / CA_KEY_FILE, 0o644)
    opened = run(tmp_path, "cot", "enroll", "erin", "--member", "blue", "--role", "officer", *csr)
    assert opened.exit_code == 2 and "cot-ca.key" in opened.stderr


def test_a_package_may_add_the_partys_gateway_as_a_second_stream(tmp_path: Path) -> None:
    office = tmp_path / "office"
    assert (
        run(tmp_path, "users", "add", "dan", "--member", "blue", "--role", "officer").exit_code == 0
    )
    assert run(tmp_path, "cot", "csr", "dan", "--out", str(office), center=False).exit_code == 0
    enrolled = run(
        tmp_path, "cot", "enroll", "dan", "--member", "blue", "--role", "officer",
        "--csr", str(office / "dan.csr"), "--out", str(office),
    )  # fmt: skip
    assert enrolled.exit_code == 0, enrolled.output
    gateway_state = tmp_path / "gateway"
    gateway_state.mkdir(mode=0o700)
    gateway_ca = load_or_create_authority(gateway_state, name="gateway of blue", now=NOW)
    base = [
        "cot", "package", "dan", "--key", str(office / "dan.key"),
        "--cert", str(office / "dan.pem"), "--ca", str(office / "ca.pem"),
        "--server", "center.example:8089", "--out", str(office),
    ]  # fmt: skip
    alone = run(tmp_path, *base, "--gateway", "gw.blue.example:8090", center=False)
    assert alone.exit_code == 2 and "--gateway-ca" in alone.stderr
    packaged = run(
        tmp_path, *base, "--gateway", "gw.blue.example:8090",
        "--gateway-ca", str(gateway_state / "cot-ca.pem"), center=False,
    )  # fmt: skip
    assert packaged.exit_code == 0, packaged.output
    password = packaged.stdout.strip()
    archive = zipfile.ZipFile(io.BytesIO((office / "dan.zip").read_bytes()))
    pref = archive.read("certs/accord.pref").decode()
    assert '<entry key="count" class="class java.lang.Integer">2</entry>' in pref
    assert "gw.blue.example:8090:ssl" in pref and "connectString1" in pref
    assert "cert/gateway-truststore.p12" in pref
    manifest = archive.read("MANIFEST/manifest.xml").decode()
    assert "certs/gateway-truststore.p12" in manifest
    trust = pkcs12.load_pkcs12(archive.read("certs/gateway-truststore.p12"), password.encode())
    assert [c.certificate for c in trust.additional_certs] == [gateway_ca.certificate]
