"""HTTPS for ``accord serve``: the files it is given, checked before anything listens, and
``Strict-Transport-Security`` on every answer when TLS is on (never on plain HTTP).

``--tls-cert FILE --tls-key FILE`` serve HTTPS (uvicorn's ``ssl_certfile``/``ssl_keyfile``);
``--tls-client-ca FILE`` also requires a client certificate signed by that CA
(``CERT_REQUIRED``: a client without one is refused during the handshake, before any HTTP).
A key file that the group or others may read, a missing or unreadable file, a key without
its certificate (or the reverse), a client CA without a certificate, or files that do not
load are refused with a message naming the option, never a stack trace.
"""

from __future__ import annotations

import os
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.errors import TlsError

__all__ = ["HSTS", "HSTS_VALUE", "TLS_ENV", "TlsError", "TlsFiles", "tls_files"]

HSTS_VALUE = "max-age=31536000"
"""One year; no ``includeSubDomains``: the center may share its domain with other hosts."""

TLS_ENV = "ACCORD_TLS"
"""Set to ``1`` by ``accord serve`` for the processes it starts when TLS is on (they then
send HSTS)."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The checked files; :meth:`uvicorn` gives uvicorn's options for them."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def uvicorn(self) -> dict[str, Any]:
        """``uvicorn.run``'s keyword arguments for these files."""
        options: dict[str, Any] = {"ssl_certfile": str(self.cert), "ssl_keyfile": str(self.key)}
        if self.client_ca is not None:
            options["ssl_ca_certs"] = str(self.client_ca)
            options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        return options


def _readable(option: str, path: Path) -> os.stat_result:
    try:
        info = path.stat()
    except OSError as error:
        raise TlsError(f"{option}: cannot read {path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise TlsError(f"{option}: {path} is not a file")
    if not os.access(path, os.R_OK):
        raise TlsError(f"{option}: cannot read {path}: permission denied")
    return info


def tls_files(cert: Path | None, key: Path | None, client_ca: Path | None) -> TlsFiles | None:
    """The TLS files of ``accord serve``'s options, checked (``None``: plain HTTP).

    Raises :class:`TlsError` naming the option: a key without a certificate or the
    reverse, a client CA without them, a missing or unreadable file, a private key file
    that the group or others may read (it must be 0600 or 0400), files that do not load
    (a certificate and key that do not match, a CA that is no certificate).
    """
    if cert is None and key is None:
        if client_ca is not None:
            raise TlsError("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    if key is None:
        raise TlsError("--tls-cert needs --tls-key (the certificate's private key)")
    if cert is None:
        raise TlsError("--tls-key needs --tls-cert (the certificate of that key)")
    _readable("--tls-cert", cert)
    mode = stat.S_IMODE(_readable("--tls-key", key).st_mode)
    if mode & 0o077:
        raise TlsError(
            f"--tls-key: {key} may be read by the group or others (mode {mode:04o}); "
            f"a private key must be 0600: chmod 600 {key}"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # An encrypted key gets an empty password here (and fails), never a prompt.
        context.load_cert_chain(cert, key, password=lambda: b"")
    except (ssl.SSLError, ValueError) as error:
        raise TlsError(
            f"--tls-cert/--tls-key: the certificate and (unencrypted) key do not load: {error}"
        ) from None
    if client_ca is not None:
        _readable("--tls-client-ca", client_ca)
        try:
            context.load_verify_locations(cafile=client_ca)
        except (ssl.SSLError, ValueError) as error:
            raise TlsError(f"--tls-client-ca: {client_ca} does not load: {error}") from None
    return TlsFiles(cert, key, client_ca)


class HSTS:
    """ASGI middleware: ``Strict-Transport-Security`` on every HTTP answer (installed only
    when the service runs with TLS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"strict-transport-security", HSTS_VALUE.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
