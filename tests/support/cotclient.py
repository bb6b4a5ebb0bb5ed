"""A TAK device as the endpoint's tests drive it: real sockets (TLS with a client
certificate, or the plain loopback port), reads that wait with a timeout, never a sleep."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from accord.center.certificates.service import enroll
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.center.users.service import COMMAND_LINE
from accord.cot import Dropped, Event, EventSplitter, parse_event
from accord.cotpki.ca import make_csr, new_device_key
from accord.cotpki.files import write_key, write_public

__all__ = ["Device", "DeviceFiles", "enroll_device", "tls_device"]


@dataclass(frozen=True)
class DeviceFiles:
    """A device's key, its certificate and the CA it trusts (files, as a TAK client has)."""

    key: Path
    cert: Path
    ca: Path


def enroll_device(center: Center, folder: Path, name: str, member: str, role: Role) -> DeviceFiles:
    """A device of the user ``name``: its key made on its side, its request enrolled through
    the center's enrollment (what ``accord cot enroll`` and the API call), its files."""
    folder.mkdir(parents=True, exist_ok=True)
    key = new_device_key()
    csr = make_csr(key, name=name).public_bytes(Encoding.PEM)
    with center.writing() as unit:
        made = enroll(
            unit,
            name=name,
            member=member,
            role=role,
            csr=csr,
            at=center.now(),
            length=timedelta(days=730),
            by=COMMAND_LINE,
        )
    files = DeviceFiles(folder / f"{name}.key", folder / f"{name}.pem", folder / "ca.pem")
    write_key(files.key, key)
    write_public(files.cert, made.pem)
    write_public(files.ca, made.ca_pem)
    return files


@dataclass
class Device:
    """One connection and everything it received."""

    sock: socket.socket
    raw: bytearray = field(default_factory=bytearray)
    events: list[Event] = field(default_factory=list)
    closed: bool = False
    _splitter: EventSplitter = field(default_factory=EventSplitter)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, until: float) -> None:
        self.sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return
        except (ssl.SSLError, ConnectionError):
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.raw += chunk
        for frame in self._splitter.feed(chunk):
            assert not isinstance(frame, Dropped), frame
            self.events.append(parse_event(frame))

    def wait(self, done: Callable[[Device], bool], timeout: float = 10.0) -> None:
        """Read until ``done(self)`` holds; fail after ``timeout`` seconds or on close."""
        until = time.monotonic() + timeout
        while not done(self):
            assert not self.closed, "the connection closed"
            assert time.monotonic() < until, f"timed out; received {self.uids()}"
            self._read(until)

    def wait_closed(self, timeout: float = 10.0) -> None:
        """Read until the server closes the connection."""
        until = time.monotonic() + timeout
        while not self.closed:
            assert time.monotonic() < until, "the connection stayed open"
            self._read(until)

    def uids(self) -> list[str]:
        return [e.uid for e in self.events]

    def has(self, *uids: str) -> Callable[[Device], bool]:
        return lambda d: set(uids) <= set(d.uids())

    def last(self, uid: str) -> Event:
        return [e for e in self.events if e.uid == uid][-1]

    def close(self) -> None:
        self.sock.close()


def tls_device(port: int, files: DeviceFiles) -> Device:
    """A TLS connection presenting ``files``' certificate, trusting ``files``' CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=files.ca)
    context.load_cert_chain(files.cert, files.key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return Device(context.wrap_socket(raw, server_hostname="localhost"))
