"""The server-side signing keys: the center's, and — for an agreement that names no trust
roots (legacy) — one per member.

Under an agreement that names its members' roots (:attr:`Agreement.rooted
<accord.agreement.Agreement.rooted>`), the center holds its own key alone: a member's acts
are signed on the member's side and taken in (:mod:`accord.center.signing`), and
:meth:`KeyStore.key` refuses a member's name — the center never creates, reads or holds a
party's private key of any kind (DECISIONS 7). The key ring served at ``GET /v1/keys`` then
names each member's root.

Under an agreement without roots, the server signs each member's record entries with that
member's key (issue 4's arrangement, which issue 17 ends; such logs verify in legacy mode,
DECISIONS 9). Each key lives in
``<keys dir>/<name>.key`` (PKCS#8 PEM, mode 0600), created on first use with
:func:`accord.record.keys.write_private_key`; the center's key is named after the log's
origin, ``<agreement id>.accord``, which is what a verifier expects
(:func:`accord.record.verify.verify_log` takes the center's key name as the origin).

:meth:`KeyStore.ring` is the :class:`~accord.record.keys.KeyRing` of every member's public
key, served at ``GET /v1/keys`` so that parties can verify the record.

The folder also holds the center's CoT CA (:meth:`KeyStore.cot_authority`; DECISIONS 15:
key material copied to each node with the rest).
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from accord.agreement import Agreement
from accord.center.files import private_folder
from accord.cotpki.ca import Authority
from accord.cotpki.files import load_or_create_authority
from accord.record.errors import KeyFileError
from accord.record.keys import (
    KeyRing,
    Member,
    PrivateKey,
    generate,
    read_private_key,
    write_private_key,
)

__all__ = ["KeyStore", "log_origin", "member_kinds"]


def log_origin(agreement: Agreement) -> str:
    """The record's origin (and the center's key name) for ``agreement``."""
    return f"{agreement.id}.accord"


def member_kinds(agreement: Agreement) -> dict[str, str]:
    """Member id → ``party``, ``notifier`` or ``monitor`` (the key ring's roles)."""
    kinds = {p.id: "party" for p in agreement.parties}
    kinds.update({n.id: "notifier" for n in agreement.notifiers})
    kinds.update({m.id: "monitor" for m in agreement.monitors})
    return kinds


class KeyStore:
    """The private keys of the agreement's members and of the center, in one folder.

    Thread-safe; each key is read (or created) once and kept in memory.
    """

    def __init__(self, directory: Path, agreement: Agreement) -> None:
        self.directory = Path(directory)
        self.origin = log_origin(agreement)
        self._kinds = member_kinds(agreement)
        self._roots = agreement.roots()
        self.rooted = agreement.rooted
        """Whether members sign their own acts (the agreement names their roots)."""
        self._keys: dict[str, PrivateKey] = {}
        self._authority: Authority | None = None
        self._lock = threading.Lock()

    @property
    def members(self) -> dict[str, str]:
        """Member id → its role in the key ring."""
        return dict(self._kinds)

    def center(self) -> PrivateKey:
        """The center's key (signs tree heads)."""
        return self.key(self.origin)

    def key(self, name: str) -> PrivateKey:
        """The private key of member ``name`` or of the center, created on first use."""
        if name != self.origin and name not in self._kinds:
            raise KeyFileError(f"{name!r} is no member of the agreement")
        if name != self.origin and self.rooted:
            raise KeyFileError(
                f"the center holds no key of {name!r}: under this agreement, {name} signs its "
                "own acts"
            )
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                key = self._load_or_create(name)
                self._keys[name] = key
            return key

    def cot_authority(self, at: datetime) -> Authority:
        """The center's CoT CA (``cot-ca.key``, mode 0600, and ``cot-ca.pem`` in this folder:
        :mod:`accord.cotpki.files`), made at ``at`` on first use; it signs the TAK clients'
        certificates and nothing else."""
        with self._lock:
            if self._authority is None:
                private_folder(self.directory, "keys folder")
                self._authority = load_or_create_authority(self.directory, name=self.origin, now=at)
            return self._authority

    def _load_or_create(self, name: str) -> PrivateKey:
        private_folder(self.directory, "keys folder")
        path = self.directory / f"{name}.key"
        if not path.exists():
            try:
                write_private_key(path, generate(name))
            except KeyFileError:
                if not path.exists():  # anything but another process winning the race
                    raise
        return read_private_key(path, name=name)

    def ring(self) -> KeyRing:
        """The public keys of the center and every member: each member's root, under an
        agreement that names them; else the member keys the center holds (creating missing
        keys)."""
        if self.rooted:
            members = [
                Member(self._roots[name], kind)
                for name, kind in self._kinds.items()
                if name in self._roots
            ]
            return KeyRing(self.center().public, members)
        members = [Member(self.key(name).public, kind) for name, kind in self._kinds.items()]
        return KeyRing(self.center().public, members)
