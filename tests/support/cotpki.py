"""What the CoT certificate tests share: a fixed instant, a CA, and a real TLS handshake on
a loopback socket pair between a server trusting the CA and a client with a certificate."""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from accord.cotpki.ca import Authority, DeviceKey
from accord.cotpki.files import load_or_create_server, write_public

NOW = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def key_pem(key: DeviceKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def handshake(
    folder: Path,
    *,
    authority: Authority,
    client_key: Path,
    client_cert: Path,
    trusted: Path | None = None,
) -> bytes:
    """A mutual-TLS handshake over a socket pair: the server (a certificate of
    ``authority`` for ``localhost``, made in ``folder``) requires a client certificate
    signed by ``trusted`` (default: ``authority``'s); the client presents ``client_cert``
    and checks the server against ``authority``. Returns the client certificate's DER as
    the server saw it; raises :class:`ssl.SSLError` (or ``OSError``) if either side
    refuses."""
    ca_file = folder / "handshake-ca.pem"
    write_public(ca_file, authority.pem())
    server_key, server_cert = load_or_create_server(
        folder, authority=authority, hosts=["localhost", "127.0.0.1"], now=NOW
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server_cert, server_key)
    server_context.load_verify_locations(cafile=trusted or ca_file)
    server_context.verify_mode = ssl.CERT_REQUIRED
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.load_verify_locations(cafile=ca_file)
    client_context.load_cert_chain(client_cert, client_key)
    left, right = socket.socketpair()
    left.settimeout(10)
    right.settimeout(10)
    seen: list[bytes | None] = []
    failed: list[BaseException] = []

    def serve() -> None:
        try:
            with server_context.wrap_socket(left, server_side=True) as tls:
                seen.append(tls.getpeercert(binary_form=True))
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as error:
            failed.append(error)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(right, server_hostname="localhost") as tls:
            assert tls.recv(2) == b"ok"
    finally:
        thread.join()
        left.close()
        right.close()
    if failed:
        raise failed[0]
    assert seen and seen[0] is not None
    return seen[0]
