"""Ed25519 keys: who may write to the record and whose signature a line carries.

Every party, humanitarian notifier and monitor holds an Ed25519 key pair (RFC 8032); the
center holds one too. A private key lives in a PKCS#8 PEM file readable by its owner only
(mode 0600); a public key travels as a C2SP *verifier key* line (``<name>.pub``) and in the
key ring file ``KEYS.json`` that every verifier is given::

    {"center": {"name": "center", "public_key": "<base64 of 32 bytes>"},
     "members": [{"name": "blue", "role": "party", "public_key": "<base64>"}, ...]}

Three identifiers are derived from a public key, each from its specification:

- :attr:`PublicKey.key_id` — inside entries: the hex of ``SHA-256(raw)[:8]``;
- :meth:`PublicKey.note_key_id` — C2SP signed-note: ``SHA-256(name || 0x0A || type ||
  raw)[:4]``, type 0x01 for Ed25519 note signatures, 0x04 for timestamped cosignatures;
- :meth:`PublicKey.vkey` — C2SP signed-note verifier key ``name+hex(key ID)+base64(type ||
  raw)``.

>>> key = PrivateKey.from_seed("blue", bytes(32))
>>> key
PrivateKey(name='blue', key_id='139e3940e64b5491')
>>> key.public.vkey()
'blue+0ed4bac2+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop'
>>> key.public.verify(key.sign(b"hello"), b"hello")
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from accord.record.canonical import decode_base64, encode_base64
from accord.record.errors import (
    FormatError,
    KeyFileError,
    SignatureError,
    UnknownKeyError,
)

__all__ = [
    "CENTER_ROLE",
    "MEMBER_ROLES",
    "SIG_ED25519",
    "SIG_ED25519_COSIGNATURE",
    "KeyRing",
    "Member",
    "PrivateKey",
    "PublicKey",
    "check_key_name",
    "generate",
    "read_private_key",
    "write_key_pair",
    "write_private_file",
    "write_private_key",
]

SIG_ED25519 = 0x01
"""C2SP signed-note signature type 0x01: Ed25519 over the note text."""

SIG_ED25519_COSIGNATURE = 0x04
"""C2SP signed-note signature type 0x04: timestamped Ed25519 cosignature (tlog-cosignature)."""

MEMBER_ROLES = ("party", "notifier", "monitor")
"""The roles a member of the key ring may hold (the brief's parties, notifiers, monitors)."""

CENTER_ROLE = "center"

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_MAX_KEY_FILE = 64 * 1024


def check_key_name(name: object) -> str:
    """Return ``name`` if it is a valid key name, else raise ``FormatError``.

    C2SP signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces
    or plus (U+002B) characters"; a note may hold no ASCII control character either.

    >>> check_key_name("un-ocha")
    'un-ocha'
    """
    if not isinstance(name, str) or not name:
        raise FormatError("a key name must be a non-empty string")
    for char in name:
        if char.isspace() or char == "+" or ord(char) < 0x20 or char == "\x7f":
            raise FormatError(
                f"key name {name!r} contains {char!r}; spaces, '+' and control "
                "characters are not allowed"
            )
    return name


@dataclass(frozen=True)
class PublicKey:
    """A named Ed25519 public key (32 raw bytes, RFC 8032 encoding)."""

    name: str
    raw: bytes
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False, hash=False)
    _key_id: str = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.raw, bytes) or len(self.raw) != 32:
            raise FormatError(f"the public key of {self.name!r} must be 32 bytes")
        try:
            loaded = Ed25519PublicKey.from_public_bytes(self.raw)
        except ValueError:
            raise FormatError(f"the public key of {self.name!r} is not an Ed25519 key") from None
        # Loaded and hashed once: a verifier checks 100,000 signatures with the same keys.
        object.__setattr__(self, "_key", loaded)
        object.__setattr__(self, "_key_id", hashlib.sha256(self.raw).digest()[:8].hex())

    def __reduce__(self) -> tuple[type[PublicKey], tuple[str, bytes]]:
        # Picklable (for worker processes of a parallel verifier) without the loaded key.
        return (PublicKey, (self.name, self.raw))

    @property
    def key_id(self) -> str:
        """The key id inside entries: hex of ``SHA-256(raw)[:8]`` (16 characters)."""
        return self._key_id

    def note_key_id(self, sig_type: int = SIG_ED25519_COSIGNATURE) -> bytes:
        """C2SP signed-note key ID of this key for ``sig_type`` (4 bytes).

        C2SP signed-note: key ID = SHA-256(key name || 0x0A || signature type || key)[:4].
        """
        if not 0 <= sig_type <= 0xFF:
            raise ValueError(f"a signature type is one byte, not {sig_type}")
        return hashlib.sha256(
            self.name.encode("utf-8") + b"\n" + bytes([sig_type]) + self.raw
        ).digest()[:4]

    def vkey(self, sig_type: int = SIG_ED25519) -> str:
        """C2SP signed-note verifier key: ``name+hex(key ID)+base64(type || raw)``."""
        return (
            f"{self.name}+{self.note_key_id(sig_type).hex()}+"
            f"{encode_base64(bytes([sig_type]) + self.raw)}"
        )

    @classmethod
    def from_vkey(cls, text: str) -> tuple[PublicKey, int]:
        """Parse a verifier key line (type 0x01 or 0x04); return the key and its type.

        The key ID in the line must be the one the name, type and key give.
        """
        # The name and key ID hold no "+"; the base64 key may.
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise FormatError("a verifier key is name+keyid+base64 key")
        name, hex_id, b64 = parts
        material = decode_base64(b64, what="the verifier key", size=33)
        sig_type = material[0]
        if sig_type not in (SIG_ED25519, SIG_ED25519_COSIGNATURE):
            raise FormatError(f"verifier key type 0x{sig_type:02x} is not an Ed25519 type")
        key = cls(name, material[1:])
        if hex_id != key.note_key_id(sig_type).hex():
            raise FormatError(f"the key ID {hex_id!r} does not match the key of {name!r}")
        return key, sig_type

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check an Ed25519 signature (RFC 8032) over ``message``; raise ``SignatureError``."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            raise SignatureError(
                f"the signature does not verify with the key of {self.name!r}"
            ) from None

    def to_json(self) -> dict[str, str]:
        """``{"name": …, "public_key": base64(raw)}``."""
        return {"name": self.name, "public_key": encode_base64(self.raw)}

    @classmethod
    def from_json(cls, data: object, *, where: str = "key") -> PublicKey:
        """Inverse of :meth:`to_json`; ``where`` names the object in errors."""
        fields = _object(data, where, required=("name", "public_key"))
        name = fields["name"]
        if not isinstance(name, str):
            raise FormatError(f"{where}.name must be a string")
        try:
            check_key_name(name)
        except FormatError as error:
            raise FormatError(f"{where}.name: {error}") from None
        raw = decode_base64(fields["public_key"], what=f"{where}.public_key", size=32)
        return cls(name, raw)


class PrivateKey:
    """A named Ed25519 private key. Its ``repr`` shows the name and public key id only;
    it cannot be pickled or copied by accident into a log, a cache or a crash report."""

    __slots__ = ("__key", "_name", "_public")

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("an Accord private key is an Ed25519 key")
        self._name = name
        self.__key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public = PublicKey(name, raw)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> PrivateKey:
        """The key whose RFC 8032 32-byte private key (seed) is ``seed``."""
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise ValueError("an Ed25519 private key is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def name(self) -> str:
        return self._name

    @property
    def public(self) -> PublicKey:
        return self._public

    @property
    def key_id(self) -> str:
        return self._public.key_id

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature (RFC 8032) of ``message``."""
        return self.__key.sign(message)

    def _pem(self) -> bytes:
        return self.__key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:
        return f"PrivateKey(name={self._name!r}, key_id={self.key_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a private key is not pickled or copied; write it with write_private_key")


def generate(name: str) -> PrivateKey:
    """A new random Ed25519 key named ``name``."""
    return PrivateKey(name, Ed25519PrivateKey.generate())


# --- key files ------------------------------------------------------------------------------


def write_private_key(
    path: str | os.PathLike[str], key: PrivateKey, *, overwrite: bool = False
) -> None:
    """Write ``key`` as an unencrypted PKCS#8 PEM file of mode 0600.

    The file is created with mode 0600 from the first instant (``O_CREAT | O_EXCL``), never
    follows a symbolic link, and is refused if it exists unless ``overwrite`` is set; an
    overwrite writes a new file beside it and renames it over the old one.
    """
    target = Path(path)
    if not overwrite:
        write_private_file(target, key._pem())
        return
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    write_private_file(temporary, key._pem())
    try:
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise KeyFileError(f"cannot write {target}: {error.strerror}") from None


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path``, mode 0600 from its first instant
    (``O_CREAT | O_EXCL``: an existing file or link is refused), synced; any secret file
    (a key of another kind, a PKCS#12 bundle) is written so."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} exists; refusing to overwrite a key file") from None
    except OSError as error:
        raise KeyFileError(f"cannot create {path}: {error.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask did, owner read/write only
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise KeyFileError(f"cannot write {path}: {error.strerror}") from None
    os.close(fd)


def read_private_key(path: str | os.PathLike[str], *, name: str) -> PrivateKey:
    """Read a PKCS#8 PEM Ed25519 private key written by :func:`write_private_key`.

    Refuses (``KeyFileError``) a file that group or others may read or write, anything but
    a regular file, and anything that is not an unencrypted Ed25519 key. No message ever
    contains key material.
    """
    source = Path(path)
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KeyFileError(f"no key file {source}") from None
    except OSError as error:
        raise KeyFileError(f"cannot open {source}: {error.strerror}") from None
    try:
        info = os.fstat(fd)  # the file opened, not whatever the path names a moment later
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{source} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(f"unsafe permissions {mode:04o} on {source}; chmod 600 {source}")
        if info.st_size > _MAX_KEY_FILE:
            raise KeyFileError(f"{source} is too large to be a key file")
        data = os.read(fd, _MAX_KEY_FILE + 1)
    except OSError as error:
        raise KeyFileError(f"cannot read {source}: {error.strerror}") from None
    finally:
        os.close(fd)
    try:
        loaded = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            f"{source} holds an encrypted key; Accord reads unencrypted PKCS#8 keys of mode 0600"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        # The library's message could quote the file; say only what is wrong.
        raise KeyFileError(f"{source} is not a PEM private key") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyFileError(f"{source} holds a key that is not Ed25519")
    return PrivateKey(name, loaded)


def write_key_pair(directory: str | os.PathLike[str], name: str) -> tuple[Path, PublicKey]:
    """Create a key pair for ``name`` in ``directory``: ``<name>.key`` (PKCS#8 PEM, mode
    0600) and ``<name>.pub`` (its verifier key line, type 0x04 — the type of every note
    signature Accord makes). Return the private key's path and the public key.

    Refuses to overwrite either file, and names that are not plain file names.
    """
    check_key_name(name)
    if not _FILE_NAME.match(name):
        raise FormatError(
            f"key name {name!r} cannot name a key file; use letters, digits, '.', '_' and '-'"
        )
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
    for existing in (private_path, public_path):
        if existing.exists() or existing.is_symlink():
            raise KeyFileError(f"{existing} exists; refusing to overwrite a key file")
    key = generate(name)
    write_private_key(private_path, key)
    try:
        public_path.write_text(key.public.vkey(SIG_ED25519_COSIGNATURE) + "\n", encoding="utf-8")
    except OSError as error:
        raise KeyFileError(f"cannot write {public_path}: {error.strerror}") from None
    return private_path, key.public


# --- the key ring ---------------------------------------------------------------------------


def _object(
    data: object, where: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise FormatError(f"{where} must be an object")
    missing = [k for k in required if k not in data]
    if missing:
        raise FormatError(f"{where} lacks {', '.join(missing)}")
    extra = sorted(str(k) for k in data if k not in required and k not in optional)
    if extra:
        raise FormatError(f"{where} has unknown field(s) {', '.join(extra)}")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A trust root with two values for one field has no single meaning: refuse it.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the field {key!r} appears twice in one object")
        result[key] = value
    return result


@dataclass(frozen=True)
class Member:
    """A key ring member: a party, notifier or monitor and its public key."""

    key: PublicKey
    role: str

    @property
    def name(self) -> str:
        return self.key.name


class KeyRing(Mapping[str, PublicKey]):
    """Every key a verifier trusts: the center's and the members', by name.

    A mapping from name to :class:`PublicKey` that includes the center (role
    ``"center"``). Names and keys are unique across the ring: one key belongs to exactly
    one name, so that "signed with the key of another party" always has one answer.

    >>> center, blue = PrivateKey.from_seed("center", bytes(32)), generate("blue")
    >>> ring = KeyRing(center.public, [Member(blue.public, "party")])
    >>> sorted(ring), ring.role("blue"), ring.name_of_key_id(blue.key_id)
    (['blue', 'center'], 'party', 'blue')
    >>> KeyRing.from_json(ring.to_json()) == ring
    True
    """

    __slots__ = ("_by_id", "_center", "_keys", "_members", "_roles")

    def __init__(self, center: PublicKey, members: list[Member] | tuple[Member, ...]) -> None:
        self._center = center
        self._members = tuple(members)
        self._keys: dict[str, PublicKey] = {center.name: center}
        self._roles: dict[str, str] = {center.name: CENTER_ROLE}
        self._by_id: dict[str, str] = {center.key_id: center.name}
        for member in self._members:
            if member.role not in MEMBER_ROLES:
                raise FormatError(
                    f"member {member.name!r} has role {member.role!r}; "
                    f"a role is one of {', '.join(MEMBER_ROLES)}"
                )
            if member.name in self._keys:
                raise FormatError(f"the name {member.name!r} appears twice in the key ring")
            if member.key.key_id in self._by_id:
                raise FormatError(
                    f"{member.name!r} has the same key as {self._by_id[member.key.key_id]!r}"
                )
            self._keys[member.name] = member.key
            self._roles[member.name] = member.role
            self._by_id[member.key.key_id] = member.name

    @property
    def center(self) -> PublicKey:
        return self._center

    @property
    def members(self) -> tuple[Member, ...]:
        return self._members

    def __getitem__(self, name: str) -> PublicKey:
        return self.member(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyRing):
            return NotImplemented
        return self._center == other._center and self._members == other._members

    def __hash__(self) -> int:
        return hash((self._center, self._members))

    def __reduce__(self) -> tuple[type[KeyRing], tuple[PublicKey, tuple[Member, ...]]]:
        return (KeyRing, (self._center, self._members))

    def __repr__(self) -> str:
        names = ", ".join(f"{n}:{r}" for n, r in self._roles.items())
        return f"KeyRing({names})"

    def member(self, name: str) -> PublicKey:
        """The key of ``name`` (the center or a member); ``UnknownKeyError`` if none."""
        try:
            return self._keys[name]
        except (KeyError, TypeError):
            raise UnknownKeyError(f"no key named {name!r} in the key ring") from None

    def role(self, name: str) -> str:
        """``"center"``, ``"party"``, ``"notifier"`` or ``"monitor"``."""
        self.member(name)
        return self._roles[name]

    def name_of_key_id(self, key_id: str) -> str | None:
        """The name whose :attr:`PublicKey.key_id` is ``key_id``, if any."""
        return self._by_id.get(key_id)

    def to_json(self) -> dict[str, Any]:
        """The ``KEYS.json`` object."""
        return {
            "center": self._center.to_json(),
            "members": [
                {"name": m.name, "role": m.role, "public_key": encode_base64(m.key.raw)}
                for m in self._members
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> KeyRing:
        """Read the ``KEYS.json`` object; ``FormatError`` names the field at fault."""
        top = _object(data, "the key ring", required=("center", "members"))
        center = PublicKey.from_json(top["center"], where="center")
        entries = top["members"]
        if not isinstance(entries, list):
            raise FormatError("members must be a list")
        members = []
        for index, entry in enumerate(entries):
            where = f"members[{index}]"
            fields = _object(entry, where, required=("name", "role", "public_key"))
            role = fields["role"]
            if role not in MEMBER_ROLES:
                raise FormatError(f"{where}.role must be one of {', '.join(MEMBER_ROLES)}")
            key = PublicKey.from_json(
                {"name": fields["name"], "public_key": fields["public_key"]}, where=where
            )
            members.append(Member(key, role))
        try:
            return cls(center, members)
        except FormatError as error:
            raise FormatError(f"the key ring: {error}") from None

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> KeyRing:
        """Read a ``KEYS.json`` file; ``KeyFileError`` names the file and the fault."""
        source = Path(path)
        try:
            data = json.loads(source.read_bytes(), object_pairs_hook=_no_duplicates)
        except OSError as error:
            raise KeyFileError(f"cannot read {source}: {error.strerror}") from None
        except ValueError as error:
            raise KeyFileError(f"{source} is not JSON: {error}") from None
        try:
            return cls.from_json(data)
        except FormatError as error:
            raise KeyFileError(f"{source}: {error}") from None
