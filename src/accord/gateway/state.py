"""The gateway's folder (``--state DIR``, mode 0700, refused when others may open it):

* ``devices.json`` — each device uid the gateway declared: the user it was first seen from
  (the only one who may move it), the declaration's id and version. Written whole and
  atomically (a temporary file renamed over it), mode 0600. Lost, it is rebuilt from the
  center (the member's own positions carrying the uid), so it is a cache, never the truth;
* ``cot-ca.key`` / ``cot-ca.pem`` — the gateway's own tiny CA (ECDSA P-256, made on first
  start), and ``cot-server.key`` / ``cot-server.pem`` — the listener's certificate, issued
  by it. The devices trust ``cot-ca.pem`` (``accord cot package --gateway-ca``), so no
  one else — the center included — can stand in for the party's gateway.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from accord.cotpki.ca import Authority
from accord.cotpki.files import (
    CA_CERT_FILE,
    load_or_create_authority,
    load_or_create_server,
)
from accord.errors import InputError, Issue, KeyFileError

__all__ = ["DEVICES_FILE", "Declared", "State"]

DEVICES_FILE = "devices.json"
_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Declared:
    """A device uid as the gateway knows it: its user, its declaration and version."""

    user: str
    declaration: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class State:
    """The gateway's folder."""

    path: Path

    def open(self) -> State:
        """Make the folder (0700) or check it: refused (naming ``--state``) when the group
        or others may open it, or it is not a folder."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.path.stat()
        if not stat.S_ISDIR(info.st_mode):
            raise InputError("gateway", [Issue("--state", f"{self.path} is not a folder")])
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            message = f"unsafe permissions {mode:04o} on {self.path}; chmod 700 {self.path}"
            raise InputError("gateway", [Issue("--state", message)])
        return self

    @property
    def ca_pem(self) -> Path:
        """The gateway CA's certificate: what devices trust (``--gateway-ca``)."""
        return self.path / CA_CERT_FILE

    def server(self, *, member: str, hosts: list[str], now: datetime) -> tuple[Path, Path]:
        """The listener's key and certificate files, made on first use (a key file that the
        group or others may read is refused: :class:`~accord.errors.KeyFileError`)."""
        authority: Authority = load_or_create_authority(
            self.path, name=f"gateway of {member}", now=now
        )
        return load_or_create_server(self.path, authority=authority, hosts=hosts, now=now)

    def load(self) -> dict[str, Declared]:
        """The devices known (empty when the file is missing); a file that does not read is
        refused naming it."""
        path = self.path / DEVICES_FILE
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_BYTES + 1)
        except FileNotFoundError:
            return {}
        if len(data) > _MAX_BYTES:
            raise KeyFileError(f"{path} is larger than {_MAX_BYTES} bytes")
        try:
            raw = json.loads(data)
            return {
                str(uid): Declared(
                    user=str(v["user"]),
                    declaration=None if v.get("declaration") is None else str(v["declaration"]),
                    version=None if v.get("version") is None else int(v["version"]),
                )
                for uid, v in raw["devices"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise KeyFileError(f"{path} does not read: {error}") from None

    def save(self, devices: dict[str, Declared]) -> None:
        """Write the devices whole, atomically, mode 0600."""
        path = self.path / DEVICES_FILE
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        body = json.dumps(
            {"devices": {uid: asdict(d) for uid, d in sorted(devices.items())}},
            separators=(",", ":"),
        ).encode()
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise KeyFileError(f"cannot write {path}: {error.strerror}") from None
