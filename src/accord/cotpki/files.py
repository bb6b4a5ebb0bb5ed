"""The files of the CoT certificates: private keys (PKCS#8 PEM, mode 0600 from their first
instant, refused when the group or others may read them — the message names the file),
certificates and requests (PEM), and the center's CA in its keys folder.

The CA is key material of the center's (DECISIONS 15): ``cot-ca.key`` and ``cot-ca.pem`` in
the folder of the center's keys, which the operator copies to each node; it is made on
first use. Two processes making it at once agree: the key file is created exclusively (the
loser reads the winner's), and a certificate missing beside an existing key is signed
again from that key (same subject and key: it verifies the same client certificates).
"""

from __future__ import annotations

import contextlib
import os
import stat
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from accord.cotpki.ca import Authority, DeviceKey, issue_server, read_certificate, self_sign
from accord.errors import InputError, Issue, KeyFileError
from accord.record.keys import write_private_file

__all__ = [
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "MAX_FILE_BYTES",
    "SERVER_CERT_FILE",
    "SERVER_KEY_FILE",
    "load_or_create_authority",
    "load_or_create_server",
    "read_file",
    "read_key",
    "write_key",
    "write_public",
    "write_secret",
]

CA_KEY_FILE = "cot-ca.key"
CA_CERT_FILE = "cot-ca.pem"
SERVER_KEY_FILE = "cot-server.key"
SERVER_CERT_FILE = "cot-server.pem"
MAX_FILE_BYTES = 64 * 1024
"""The largest key, certificate or request file read."""


def read_file(path: Path, *, what: str) -> bytes:
    """The bytes of ``path`` (at most :data:`MAX_FILE_BYTES`), else
    :class:`~accord.errors.InputError` naming ``what`` and the file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise InputError(what, [Issue(what, f"cannot read {path}: {error.strerror}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(what, [Issue(what, f"{path} is larger than {MAX_FILE_BYTES} bytes")])
    return data


def read_key(path: Path) -> DeviceKey:
    """The unencrypted PEM private key (ECDSA or RSA) in ``path``. Refuses
    (:class:`~accord.errors.KeyFileError`, naming the file) one the group or others may
    read or write, anything but a regular file, an encrypted key, any other kind of key."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KeyFileError(f"no key file {path}") from None
    except OSError as error:
        raise KeyFileError(f"cannot open {path}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(f"unsafe permissions {mode:04o} on {path}; chmod 600 {path}")
        data = os.read(fd, MAX_FILE_BYTES + 1)
    except OSError as error:
        raise KeyFileError(f"cannot read {path}: {error.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise KeyFileError(f"{path} is too large to be a key file")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(f"{path} holds an encrypted key; an unencrypted PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path} is not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyFileError(f"{path} holds a key that is neither ECDSA nor RSA")
    return key


def write_key(path: Path, key: DeviceKey) -> None:
    """``key`` as unencrypted PKCS#8 PEM in the new file ``path``, mode 0600 (an existing
    file is refused)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private_file(path, pem)


def write_secret(path: Path, data: bytes) -> None:
    """``data`` (a PKCS#12 bundle, a data package) in the new file ``path``, mode 0600."""
    write_private_file(path, data)


def write_public(path: Path, data: bytes) -> None:
    """``data`` (a certificate, a request) in ``path``, replacing it whole or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise KeyFileError(f"cannot write {path}: {error.strerror}") from None


def load_or_create_authority(folder: Path, *, name: str, now: datetime) -> Authority:
    """The CA in ``folder`` (an existing, private folder), made at ``now`` for the log
    origin ``name`` on first use. Refuses a key file others may read, a key that is not
    ECDSA P-256, a certificate that is not the key's."""
    key_path, cert_path = folder / CA_KEY_FILE, folder / CA_CERT_FILE
    if not key_path.exists():
        with contextlib.suppress(KeyFileError):  # another process won: read its key
            write_key(key_path, ec.generate_private_key(ec.SECP256R1()))
    key = read_key(key_path)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyFileError(f"{key_path} is not an ECDSA P-256 key")
    if not cert_path.exists():
        write_public(
            cert_path, self_sign(key, name=name, now=now).public_bytes(serialization.Encoding.PEM)
        )
    try:
        certificate = read_certificate(read_file(cert_path, what="CA"), field=str(cert_path))
    except InputError as error:
        raise KeyFileError(str(error)) from None
    if certificate.public_key() != key.public_key():
        raise KeyFileError(f"{cert_path} is not the certificate of {key_path}")
    return Authority(key, certificate)


def load_or_create_server(
    folder: Path, *, authority: Authority, hosts: list[str], now: datetime
) -> tuple[Path, Path]:
    """The TAK endpoint's key and certificate files in ``folder`` (``cot-server.key``,
    mode 0600, and ``cot-server.pem``, issued by ``authority`` for ``hosts``), made on first
    use; a certificate that ``authority`` did not issue for that key is refused."""
    key_path, cert_path = folder / SERVER_KEY_FILE, folder / SERVER_CERT_FILE
    if not key_path.exists():
        with contextlib.suppress(KeyFileError):
            write_key(key_path, ec.generate_private_key(ec.SECP256R1()))
    key = read_key(key_path)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyFileError(f"{key_path} is not an ECDSA key")
    if not cert_path.exists():
        made = issue_server(authority, key.public_key(), hosts=hosts, now=now)
        write_public(cert_path, made.public_bytes(serialization.Encoding.PEM))
    try:
        certificate = read_certificate(read_file(cert_path, what="server"), field=str(cert_path))
    except InputError as error:
        raise KeyFileError(str(error)) from None
    if certificate.public_key() != key.public_key() or certificate.issuer != (
        authority.certificate.subject
    ):
        raise KeyFileError(f"{cert_path} is not the CA's certificate of {key_path}")
    return key_path, cert_path
