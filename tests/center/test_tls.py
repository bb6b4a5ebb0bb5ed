"""``accord serve --tls-cert --tls-key [--tls-client-ca]``: HTTPS with HSTS on every answer
(never on plain HTTP), plain HTTP to the TLS port fails, a client without a certificate (or
with one of another CA) is refused and one with a certificate of the CA is served; bad TLS
options are refused with a message naming the option, before anything listens.

The certificates are made here, for the test (a throwaway CA, the server's for 127.0.0.1,
a client's, and a stranger's from another CA); nothing is kept in the repository.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.live import ACCORD, LiveServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from accord.center.app import create_app, from_environment
from accord.center.bootstrap import Parts
from accord.center.http.tls import HSTS_VALUE
from accord.center.writer_process import Loopback
from accord.cli import app as cli
from support.service import Service, TestClient, add_users, clock, settings_for

Key = ec.EllipticCurvePrivateKey


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(
    subject: str,
    key: Key,
    issuer: tuple[x509.Name, Key] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name, issuer_key = issuer if issuer is not None else (_name(subject), key)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, name: str, cert: x509.Certificate, key: Key | None = None) -> Path:
    path = folder / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_path = folder / f"{name}.key"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
    return path


@dataclass(frozen=True)
class Pki:
    folder: Path

    def path(self, name: str) -> Path:
        return self.folder / name

    def client(self, name: str | None) -> ssl.SSLContext:
        """A client that trusts the CA, presenting ``name``'s certificate (or none)."""
        context = ssl.create_default_context(cafile=self.path("ca.pem"))
        if name is not None:
            context.load_cert_chain(self.path(f"{name}.pem"), self.path(f"{name}.key"))
        return context


def make_pki(folder: Path) -> Pki:
    folder.mkdir(mode=0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Accord test CA", ca_key, None, ca=True)
    _write(folder, "ca", ca)
    issuer = (ca.subject, ca_key)
    for name, server in (("server", True), ("client", False)):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(folder, name, _certificate(name, key, issuer, server=server), key)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _certificate("Another CA", other_key, None, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    _write(folder, "stranger", _certificate("stranger", key, (other.subject, other_key)), key)
    return Pki(folder)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Pki]]:
    """``accord serve --workers 2`` with a certificate, its key and a client CA (one for
    the module)."""
    tmp = tmp_path_factory.mktemp("tls")
    pki = make_pki(tmp / "pki")
    server = LiveServer(
        database_url=f"sqlite:///{tmp / 'accord.sqlite'}",
        keys_dir=tmp / "keys",
        log_path=tmp / "server.log",
    )
    token = add_users(server.database_url)["blue-officer"]
    options = ["--tls-cert", pki.path("server.pem"), "--tls-key", pki.path("server.key")]
    options += ["--tls-client-ca", pki.path("ca.pem"), "--workers", "2"]
    log = server.log_path.open("ab")
    server.process = subprocess.Popen(
        [*ACCORD, "serve", "--port", str(server.port), "--keys", str(server.keys_dir)]
        + [str(o) for o in options],
        env=server.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"https://127.0.0.1:{server.port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.process.poll() is None, server.log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, server.log_path.read_text()[-2000:]
            try:
                httpx.get(f"{url}/openapi.json", verify=pki.client("client"), timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        pki.path("token").write_text(token)
        yield server, pki
    finally:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=30)
        log.close()


def test_https_with_a_client_certificate_of_the_ca_is_served_with_hsts(
    tls_server: tuple[LiveServer, Pki],
) -> None:
    server, pki = tls_server
    token = pki.path("token").read_text()
    url = f"https://127.0.0.1:{server.port}"
    with httpx.Client(base_url=url, verify=pki.client("client"), timeout=10) as client:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["name"] == "blue-officer"
        assert me.headers["strict-transport-security"] == HSTS_VALUE
        refused = client.get("/v1/me")  # a refusal carries it too
        assert refused.status_code == 401
        assert refused.headers["strict-transport-security"] == HSTS_VALUE
        assert client.get("/").headers["strict-transport-security"] == HSTS_VALUE
    assert "HTTPS, a client certificate required" in server.log_path.read_text()


@pytest.mark.parametrize("who", [None, "stranger"], ids=["no-certificate", "another-ca"])
def test_a_client_without_a_certificate_of_the_ca_is_refused(
    tls_server: tuple[LiveServer, Pki], who: str | None
) -> None:
    server, pki = tls_server
    token = pki.path("token").read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(
            f"https://127.0.0.1:{server.port}/v1/me",
            headers={"Authorization": f"Bearer {token}"},
            verify=pki.client(who),
            timeout=10,
        )


def test_plain_http_to_the_tls_port_fails(tls_server: tuple[LiveServer, Pki]) -> None:
    server, pki = tls_server
    token = pki.path("token").read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(
            f"http://127.0.0.1:{server.port}/v1/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )


def test_no_hsts_on_plain_http(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tokens = add_users(settings.database_url)
    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
        service = Service(client, tokens, settings)
        answer = service.get("/v1/me", "blue-officer")
        assert answer.status_code == 200
        assert "strict-transport-security" not in answer.headers
        assert "strict-transport-security" not in client.get("/v1/me").headers


def _serve(tmp_path: Path, *options: object):
    url = f"sqlite:///{tmp_path / 'accord.sqlite'}"
    args = ["serve", "--database", url, "--keys", str(tmp_path / "keys")]
    return CliRunner().invoke(cli, [*args, *(str(o) for o in options)])


def test_bad_tls_options_are_refused_naming_the_option(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    cert, key, ca = pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem")
    cases: list[tuple[tuple[object, ...], str]] = [
        (("--tls-key", key), "--tls-key needs --tls-cert"),
        (("--tls-cert", cert), "--tls-cert needs --tls-key"),
        (("--tls-client-ca", ca), "--tls-client-ca needs"),
        (("--tls-cert", tmp_path / "none.pem", "--tls-key", key), "--tls-cert: cannot read"),
        (("--tls-cert", cert, "--tls-key", tmp_path / "none.key"), "--tls-key: cannot read"),
        (("--tls-cert", cert, "--tls-key", pki.path("client.key")), "do not load"),
        (("--tls-cert", cert, "--tls-key", key, "--tls-client-ca", key), "--tls-client-ca"),
        (("--tls-cert", cert, "--tls-key", tmp_path), "--tls-key"),
    ]
    for mode in (0o640, 0o604, 0o644):
        loose = tmp_path / f"loose-{mode:o}.key"
        loose.write_bytes(key.read_bytes())
        loose.chmod(mode)
        cases.append((("--tls-cert", cert, "--tls-key", loose), "chmod 600"))
    for options, message in cases:
        result = _serve(tmp_path, *options)
        assert result.exit_code == 2, (options, result.output)
        assert message in result.stderr, (options, result.stderr)
        assert "Traceback" not in result.output
    assert not (tmp_path / "accord.sqlite").exists()  # refused before anything started


def _sends_hsts(app: Any) -> bool:
    """Whether ``app`` answers with ``Strict-Transport-Security`` (asked without starting
    it: the schema needs none of its parts)."""
    return "strict-transport-security" in TestClient(app).get("/openapi.json").headers


def test_serve_says_plain_http_and_hands_uvicorn_the_tls_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-process path (the --workers path is the server above): uvicorn gets the
    files and CERT_REQUIRED, the application HSTS; without TLS, neither, and it says so."""
    seen: dict[str, Any] = {}

    def run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, hsts=_sends_hsts(app))

    monkeypatch.setattr("uvicorn.run", run)
    plain = _serve(tmp_path)
    assert plain.exit_code == 0, plain.output
    assert "http://127.0.0.1:8000 — plain HTTP, no TLS" in plain.stderr
    assert seen["hsts"] is False and not any(k.startswith("ssl_") for k in seen)
    assert "WARNING" not in plain.stderr
    for host in ("0.0.0.0", "192.0.2.7", "center.example"):
        exposed = _serve(tmp_path, "--host", host)
        assert exposed.exit_code == 0 and "WARNING" in exposed.stderr, exposed.stderr
        assert "crosses the network in clear" in exposed.stderr
    pki = make_pki(tmp_path / "pki")
    cert, key, ca = pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem")
    served = _serve(tmp_path, "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca)
    assert served.exit_code == 0, served.output
    assert "https://127.0.0.1:8000 — HTTPS, a client certificate required" in served.stderr
    assert seen["hsts"] is True
    assert (seen["ssl_certfile"], seen["ssl_keyfile"]) == (str(cert), str(key))
    assert (seen["ssl_ca_certs"], seen["ssl_cert_reqs"]) == (str(ca), ssl.CERT_REQUIRED)
    for value, hsts in (("1", True), ("0", False)):
        monkeypatch.setenv("ACCORD_TLS", value)
        assert _sends_hsts(from_environment()) is hsts
