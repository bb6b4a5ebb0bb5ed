"""Signed tree heads: C2SP signed notes, checkpoints and cosignatures.

The center publishes each tree head as a **checkpoint** (c2sp.org/tlog-checkpoint), a
**signed note** (c2sp.org/signed-note) whose text is three lines — the log's origin, the
tree size in decimal, the base64 root hash — followed by a blank line and signature lines::

    accord.example/jcc
    4
    7JYxtqrF3XiS+Gnb3uYOQnl0yJKhp4iH1jdvBPx2pEA=

    — center mZ1X4pVd7rQ+…
    — center 8Bq3qwAAAABoE1qA5ZsO…
    — blue eQ0iJQAAAABoE1qC4Lw1…

The center signs each head twice, with one key and two signature types (c2sp.org/signed-note
"Signature types"; their key IDs differ, so each line names its type):

* its **log signature**, a plain signed-note Ed25519 signature (type 0x01) over the note
  text, with key ID ``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` — what C2SP
  tlog-witness witnesses, ``golang.org/x/mod/sumdb/note`` and every tool of that family
  verify (the center's verifier key of type 0x01, ``accord keys show``);
* its **timestamped line**, a tlog-cosignature (type 0x04) at the time it signed — what
  Accord's own verifiers read the head's time from (``accord verify``, the center's head
  checks, :class:`Witness`); tools that know only the 0x01 key ignore it (signed-note: a
  line whose name and key ID match no known key is ignored).

Heads written before the log signature carry the timestamped line alone, and still verify:
:func:`verify_checkpoint` accepts a head with either line of the center's, or both (each
present one must verify). One key for both types is allowed by signed-note when the key IDs
differ "and if domain separation can be ensured": the 0x01 message is a checkpoint's text,
whose second line is a decimal size, while every 0x04 message's second line is ``time
<t>``, and the center's entries are canonical JSON, a single line — no message of one kind
can be read as another's.

A party that has checked a head adds its own **timestamped Ed25519 cosignature**
(c2sp.org/tlog-cosignature, type 0x04), as a tlog-witness witness does. A line is::

    — <key name> base64(key ID (4) || timestamp (u64, big-endian) || Ed25519 signature (64))

with key ID = ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and the signature over::

    cosignature/v1
    time <timestamp>
    <the checkpoint text, including its final newline>

Verification follows signed-note: a line whose (name, key ID) is not a known key is
ignored; a known key's line that fails rejects the whole note; a note with no verifying
line from the key asked for is rejected.

A **witness** (:class:`Witness`) is a party's cosigner: it signs a head only after
checking the center's signature and a consistency proof from the last head it signed
(tlog-cosignature: "the consistent tree head with the largest size the cosigner has
observed"). Two heads signed by the center that no consistency proof can join are a
split view — the center showed two histories — and :func:`detect_split_view` says so.

>>> from accord.record.keys import PrivateKey
>>> from accord.record.merkle import EMPTY_ROOT
>>> center = PrivateKey.from_seed("center", bytes(32))
>>> note = sign_checkpoint(Checkpoint("accord.example/jcc", 0, EMPTY_ROOT), key=center,
...                        timestamp=1_777_000_000)
>>> print(note.split("\\n\\n")[0])
accord.example/jcc
0
47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
>>> head = verify_checkpoint(note, origin="accord.example/jcc", center=center.public)
>>> head.size, head.timestamp
(0, 1777000000)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from accord.record.canonical import decode_base64, encode_base64
from accord.record.errors import (
    ConsistencyError,
    EquivocationError,
    FormatError,
    SignatureError,
)
from accord.record.keys import (
    SIG_ED25519,
    SIG_ED25519_COSIGNATURE,
    PrivateKey,
    PublicKey,
    check_key_name,
)
from accord.record.merkle import EMPTY_ROOT, HASH_SIZE, ProofError, verify_consistency

__all__ = [
    "COSIGNATURE_HEADER",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "Checkpoint",
    "Note",
    "NoteSignature",
    "SignedHead",
    "Witness",
    "add_cosignature",
    "check_origin",
    "cosignature_line",
    "cosignature_message",
    "detect_split_view",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
    "verify_checkpoint",
    "verify_cosignatures",
    "verify_note",
]

COSIGNATURE_HEADER = "cosignature/v1\n"
"""tlog-cosignature: the header line of the Ed25519 signed message (domain separation)."""

MAX_SIGNATURES = 100
"""signed-note: verifiers SHOULD limit signatures per note and MUST accept at least 16."""

MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature: the timestamp "MUST NOT exceed 2^63 - 1"."""

_MAX_SIZE = 2**63 - 1
_MAX_NOTE = 1 << 20
_SIG_PREFIX = "— "  # signed-note: em dash (U+2014), space (U+0020)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # signed-note: no ASCII control but newline
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")  # tlog-checkpoint: no leading zeroes
_COSIG_SIZE = 8 + 64  # tlog-cosignature: u64 timestamp || Ed25519 signature


def check_origin(origin: object) -> str:
    """Return ``origin`` if it is a valid log origin, else raise ``FormatError``.

    tlog-checkpoint: the origin "MUST be non-empty, and it SHOULD be a schema-less URL
    containing neither Unicode spaces nor plus"; Accord makes the SHOULD a MUST, and
    refuses control characters (signed-note allows none in a note).

    >>> check_origin("accord.example/jcc")
    'accord.example/jcc'
    """
    if not isinstance(origin, str) or not origin:
        raise FormatError("a log origin must be a non-empty string")
    for char in origin:
        if char.isspace() or char == "+" or ord(char) < 0x20 or char == "\x7f":
            raise FormatError(
                f"log origin {origin!r} contains {char!r}; spaces, '+' and "
                "control characters are not allowed"
            )
    return origin


def _check_timestamp(timestamp: object) -> int:
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise FormatError(f"a timestamp is an integer from 0 to 2^63 - 1, not {timestamp!r}")
    return timestamp


# --- signed notes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, and the signature bytes after it."""

    name: str
    key_id: bytes
    sig: bytes

    def line(self) -> str:
        """signed-note: ``— <key name> base64(key ID || signature)`` and a newline."""
        return f"{_SIG_PREFIX}{self.name} {encode_base64(self.key_id + self.sig)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed signed note: its text (with the final newline) and its signature lines."""

    body: str
    signatures: tuple[NoteSignature, ...]

    def text(self) -> str:
        """The note as written: text, blank line, signature lines."""
        return self.body + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(text: str | bytes) -> Note:
    """Parse a signed note strictly; raise ``FormatError`` with the reason.

    signed-note: valid UTF-8 with no ASCII control character but newline; the text ends in
    a newline and is separated from the signatures by the *last* blank line; one or more
    lines ``— <name> <base64>``, the name non-empty without spaces or '+', the base64
    (standard, padded, canonical) holding a 4-byte key ID and a signature.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise FormatError(f"a signed note must be UTF-8 (byte {error.start})") from None
    if not isinstance(text, str):
        raise FormatError("a signed note is text")
    if len(text) > _MAX_NOTE:
        raise FormatError("the signed note is too large")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("a signed note must be valid Unicode") from None
    control = _CONTROL.search(text)
    if control is not None:
        line_number = text.count("\n", 0, control.start()) + 1
        raise FormatError(
            f"control character {control.group()!r} on line {line_number} of the signed note"
        )
    split = text.rfind("\n\n")
    if split < 0:
        raise FormatError("no blank line between the note text and its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block or not block.endswith("\n"):
        raise FormatError("the signed note must end with signature lines, each ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"more than {MAX_SIGNATURES} signatures on one note")
    signatures = []
    for number, line in enumerate(lines, start=1):
        where = f"signature line {number}"
        if not line.startswith(_SIG_PREFIX):
            raise FormatError(f"{where} does not begin with an em dash and a space")
        name, space, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not space or not b64:
            raise FormatError(f"{where} must be '— <key name> <base64 signature>'")
        try:
            check_key_name(name)
        except FormatError as error:
            raise FormatError(f"{where}: {error}") from None
        raw = decode_base64(b64, what=f"the signature on {where}")
        if len(raw) < 5:
            raise FormatError(f"{where} holds no signature after its key ID")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(body, tuple(signatures))


# --- checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and the RFC 9162 root hash at that size."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        check_origin(self.origin)
        if type(self.size) is not int or not 0 <= self.size <= _MAX_SIZE:
            raise FormatError(f"a tree size is a non-negative integer, not {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise FormatError(f"a root hash is {HASH_SIZE} bytes")

    def body(self) -> str:
        """tlog-checkpoint note text: origin, decimal size, base64 root, each with "\\n"."""
        return f"{self.origin}\n{self.size}\n{encode_base64(self.root)}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Read a checkpoint's note text strictly (Accord writes no extension lines)."""
        if not body.endswith("\n"):
            raise FormatError("a checkpoint's text ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise FormatError("a checkpoint has an origin, a size and a root hash line")
        if len(lines) > 3:
            raise FormatError("this checkpoint has extension lines; Accord's have none")
        origin, size_text, root_text = lines
        try:
            check_origin(origin)
        except FormatError as error:
            raise FormatError(f"checkpoint origin line: {error}") from None
        if not _DECIMAL.match(size_text):
            raise FormatError(
                f"checkpoint size line {size_text!r} is not a decimal without leading zeroes"
            )
        size = int(size_text)
        if size > _MAX_SIZE:
            raise FormatError(f"checkpoint size {size} is too large")
        root = decode_base64(root_text, what="the checkpoint root hash", size=HASH_SIZE)
        return cls(origin, size, root)


def cosignature_message(body: str, timestamp: int) -> bytes:
    """tlog-cosignature Ed25519 signed message: ``cosignature/v1\\n``, ``time <t>\\n``, then
    the whole note text of the checkpoint including its final newline."""
    return f"{COSIGNATURE_HEADER}time {_check_timestamp(timestamp)}\n{body}".encode()


def _cosign(body: str, key: PrivateKey, timestamp: int) -> NoteSignature:
    message = cosignature_message(body, timestamp)
    return NoteSignature(
        key.name,
        key.public.note_key_id(SIG_ED25519_COSIGNATURE),
        # tlog-cosignature: timestamped_signature = u64 timestamp (big-endian) || signature
        timestamp.to_bytes(8, "big") + key.sign(message),
    )


def _plain(body: str, key: PrivateKey) -> NoteSignature:
    # c2sp.org/signed-note "Ed25519 signatures": RFC 8032 over the note text, key ID
    # SHA-256(name || 0x0A || 0x01 || key)[:4]
    return NoteSignature(key.name, key.public.note_key_id(SIG_ED25519), key.sign(body.encode()))


def sign_note(text: str, *, key: PrivateKey) -> str:
    """``text`` as a signed note with one plain Ed25519 signature (signed-note type 0x01).

    ``text`` must end in a newline and hold no control character but newlines.
    """
    if not text.endswith("\n"):
        raise FormatError("a note's text ends with a newline")
    note = Note(text, (_plain(text, key),)).text()
    parse_note(note)  # the rules of the format, checked on what is written
    return note


def _lines_by(
    note: Note, key: PublicKey, sig_type: int = SIG_ED25519_COSIGNATURE
) -> list[NoteSignature]:
    # signed-note: a line belongs to a known key only if both its name and key ID match.
    key_id = key.note_key_id(sig_type)
    return [s for s in note.signatures if s.name == key.name and s.key_id == key_id]


def _verify_line(note: Note, key: PublicKey, line: NoteSignature, who: str) -> int:
    if len(line.sig) != _COSIG_SIZE:
        raise SignatureError(
            f"the signature of {who} {key.name!r} is not a timestamped Ed25519 cosignature"
        )
    timestamp = int.from_bytes(line.sig[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise SignatureError(f"the signature of {who} {key.name!r} has a timestamp above 2^63 - 1")
    try:
        key.verify(line.sig[8:], cosignature_message(note.body, timestamp))
    except SignatureError:
        raise SignatureError(
            f"the signature of {who} {key.name!r} on this tree head does not verify"
        ) from None
    return timestamp


def _verify_plain(note: Note, key: PublicKey, line: NoteSignature, who: str) -> None:
    # signed-note: an Ed25519 (0x01) signature is 64 bytes over the note text
    if len(line.sig) != 64:
        raise SignatureError(f"the signature of {who} {key.name!r} is not an Ed25519 signature")
    try:
        key.verify(line.sig, note.body.encode())
    except SignatureError:
        raise SignatureError(
            f"the signature of {who} {key.name!r} on this note does not verify"
        ) from None


def verify_note(note: Note, *, keys: Sequence[tuple[PublicKey, int]]) -> dict[str, int | None]:
    """Verify a parsed note against trusted ``keys`` (each a key and its signature type,
    0x01 or 0x04), as c2sp.org/signed-note says: lines whose (name, key ID) match no
    trusted key are ignored; a trusted key's line that fails rejects the note; a note with
    no verifying line of a trusted key is rejected (``SignatureError``).

    Returns key name → None for a plain signature, or the timestamp of a cosignature (the
    last line's, when a key signed twice).
    """
    verified: dict[str, int | None] = {}
    for key, sig_type in keys:
        if sig_type not in (SIG_ED25519, SIG_ED25519_COSIGNATURE):
            raise FormatError(f"signature type 0x{sig_type:02x} is not an Ed25519 type")
        # A trusted key's line repeated is verified each time (golang.org/x/mod/sumdb/note
        # drops repeats; neither accepts a failing one).
        for line in _lines_by(note, key, sig_type):
            if sig_type == SIG_ED25519:
                _verify_plain(note, key, line, "the key")
                verified.setdefault(key.name, None)
            else:
                verified[key.name] = _verify_line(note, key, line, "the key")
    if not verified:
        names = ", ".join(sorted({key.name for key, _ in keys}))
        raise SignatureError(f"the note carries no signature by a trusted key ({names})")
    return verified


def cosignature_line(body: str, *, key: PrivateKey, timestamp: int) -> str:
    """The tlog-cosignature line (type 0x04) of ``key`` at ``timestamp`` over a checkpoint
    text ``body`` (with its final newline): what a tlog-witness witness answers."""
    return _cosign(body, key, _check_timestamp(timestamp)).line()


def _one_line_by(
    note: Note, key: PublicKey, who: str, sig_type: int = SIG_ED25519_COSIGNATURE
) -> NoteSignature | None:
    lines = _lines_by(note, key, sig_type)
    if len(lines) > 1:
        raise FormatError(f"the note carries {len(lines)} signatures by {who} {key.name!r}")
    return lines[0] if lines else None


def sign_checkpoint(checkpoint: Checkpoint, *, key: PrivateKey, timestamp: int) -> str:
    """The center's signed note for ``checkpoint``: its log signature (a plain Ed25519
    signature, signed-note type 0x01) and its line at ``timestamp`` (seconds since the
    epoch; a tlog-cosignature, type 0x04), in that order."""
    body = checkpoint.body()
    return Note(body, (_plain(body, key), _cosign(body, key, timestamp))).text()


def add_cosignature(note_text: str, *, key: PrivateKey, timestamp: int) -> str:
    """``note_text`` with one more signature line, by ``key`` at ``timestamp``.

    Checks only that the note is a checkpoint not yet signed by ``key``; it verifies
    nothing — a party cosigns through :meth:`Witness.cosign`, which does.
    """
    note = parse_note(note_text)
    Checkpoint.parse(note.body)
    if _lines_by(note, key.public):
        raise FormatError(f"the note already carries a signature by {key.name!r}")
    return replace(note, signatures=(*note.signatures, _cosign(note.body, key, timestamp))).text()


@dataclass(frozen=True)
class SignedHead:
    """A tree head whose note carries a verified signature of the center.

    Made by :func:`verify_checkpoint` and :meth:`from_json`; ``timestamp`` is the time in the
    center's timestamped line (None for a head that carries its log signature alone, as other
    tools write them), ``note`` the whole signed note (with any cosignatures).
    """

    checkpoint: Checkpoint
    timestamp: int | None
    note: str = field(repr=False)

    @property
    def origin(self) -> str:
        return self.checkpoint.origin

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root

    def to_json(self) -> dict[str, Any]:
        """``{"origin", "size", "root" (base64), "timestamp", "note"}`` for a HEAD.json."""
        return {
            "origin": self.origin,
            "size": self.size,
            "root": encode_base64(self.root),
            "timestamp": self.timestamp,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: object, *, center: PublicKey, origin: str | None = None) -> SignedHead:
        """Read a HEAD.json object, re-verifying its note against ``center``.

        The JSON fields are never trusted alone: they must equal what the verified note
        says. ``origin``, when given, is the log the head must belong to.
        """
        if not isinstance(data, Mapping):
            raise FormatError("a signed head must be a JSON object")
        expected = {"origin", "size", "root", "timestamp", "note"}
        if set(data) != expected:
            raise FormatError(f"a signed head has exactly the fields {', '.join(sorted(expected))}")
        if not isinstance(data["note"], str) or not isinstance(data["origin"], str):
            raise FormatError("a signed head's note and origin are strings")
        if origin is not None and data["origin"] != origin:
            raise SignatureError(f"the head is of log {data['origin']!r}, not {origin!r}")
        head = verify_checkpoint(data["note"], origin=data["origin"], center=center)
        if data["size"] != head.size or type(data["size"]) is not int:
            raise FormatError(f"the head says size {data['size']!r}; its signed note {head.size}")
        if data["root"] != encode_base64(head.root):
            raise FormatError("the head's root differs from the root in its signed note")
        if data["timestamp"] != head.timestamp or type(data["timestamp"]) is not type(
            head.timestamp
        ):
            raise FormatError(
                f"the head says timestamp {data['timestamp']!r}; its signed note {head.timestamp}"
            )
        return head


def verify_checkpoint(note_text: str, *, origin: str, center: PublicKey) -> SignedHead:
    """Check a checkpoint note of log ``origin`` signed by ``center``; return the head.

    The center's signature is its log signature (signed-note type 0x01), its timestamped
    line (type 0x04), or both, as heads before and after the log signature carry them;
    each present one must verify, and the head's time is the timestamped line's (None
    without one). Raises ``FormatError`` for a malformed note or checkpoint,
    ``SignatureError`` for a head of another log, no center signature or one that does not
    verify. Lines of unknown keys (such as cosignatures) are ignored (signed-note).
    """
    note = parse_note(note_text)
    checkpoint = Checkpoint.parse(note.body)
    if checkpoint.origin != origin:
        raise SignatureError(f"the tree head is of log {checkpoint.origin!r}, not {origin!r}")
    plain = _one_line_by(note, center, "the center", SIG_ED25519)
    stamped = _one_line_by(note, center, "the center", SIG_ED25519_COSIGNATURE)
    if plain is None and stamped is None:
        raise SignatureError(f"the tree head carries no signature by the center {center.name!r}")
    if plain is not None:
        _verify_plain(note, center, plain, "the center")
    timestamp = None if stamped is None else _verify_line(note, center, stamped, "the center")
    return SignedHead(checkpoint, timestamp, note.text())


def verify_cosignatures(note_text: str, *, witnesses: Sequence[PublicKey]) -> dict[str, int]:
    """Name → timestamp of every witness in ``witnesses`` whose cosignature verifies.

    A witness without a line is left out; a witness whose line does not verify raises
    ``SignatureError`` (signed-note: a known key's failing signature rejects the note).
    The center's own signature is checked by :func:`verify_checkpoint`, not here.
    """
    names = [w.name for w in witnesses]
    if len(set(names)) != len(names):
        raise FormatError("two witnesses share a name")
    note = parse_note(note_text)
    Checkpoint.parse(note.body)
    verified: dict[str, int] = {}
    for witness in witnesses:
        line = _one_line_by(note, witness, "witness")
        if line is not None:
            verified[witness.name] = _verify_line(note, witness, line, "witness")
    return verified


def detect_split_view(a: SignedHead, b: SignedHead, *, proof: Sequence[bytes]) -> None:
    """Raise ``EquivocationError`` if two heads signed by the center cannot both be true.

    Same size and different roots is a split view outright. Different sizes need the
    consistency proof from the smaller into the larger (RFC 9162 §2.1.4); a center that
    signed both heads owes such a proof, so one that fails to verify is treated as a
    split view too. Returns None when the heads are consistent.
    """
    if a.origin != b.origin:
        raise FormatError(f"heads of two logs ({a.origin!r}, {b.origin!r}) cannot be compared")
    evidence = (a.note, b.note)
    if a.size == b.size:
        if a.root != b.root:
            raise EquivocationError(
                f"the center showed two histories: {a.origin} at size {a.size} has root "
                f"{encode_base64(a.root)} in one signed head and {encode_base64(b.root)} "
                "in the other",
                evidence=evidence,
            )
        return
    small, large = (a, b) if a.size < b.size else (b, a)
    try:
        verify_consistency(
            old_size=small.size,
            new_size=large.size,
            old_root=small.root,
            new_root=large.root,
            proof=proof,
        )
    except ProofError as error:
        raise EquivocationError(
            f"the center showed two histories: its signed head of size {small.size} is not "
            f"shown to be a prefix of its signed head of size {large.size} ({error})",
            evidence=evidence,
        ) from None


# --- witnesses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Witness:
    """A party's cosigner: its key, the center's key, the log, and the last head it signed.

    Immutable: :meth:`cosign` returns the new state beside the cosigned note; the caller
    stores ``last.to_json()`` to carry it across runs.
    """

    key: PrivateKey
    center: PublicKey
    origin: str
    last: SignedHead | None = None

    def __post_init__(self) -> None:
        check_origin(self.origin)
        if self.key.public.raw == self.center.raw or self.key.name == self.center.name:
            raise FormatError("a witness cosigns with its own key and name, not the center's")
        if self.last is not None:
            # The state is only worth what its signature is: check it like any other head.
            again = verify_checkpoint(self.last.note, origin=self.origin, center=self.center)
            if again.checkpoint != self.last.checkpoint:
                raise FormatError("the witness's last head does not match its signed note")

    def _last_own_timestamp(self) -> int | None:
        if self.last is None:
            return None
        note = parse_note(self.last.note)
        line = _one_line_by(note, self.key.public, "witness")
        return None if line is None else _verify_line(note, self.key.public, line, "witness")

    def cosign(
        self, note_text: str, *, proof: Sequence[bytes], timestamp: int
    ) -> tuple[str, Witness]:
        """Verify the center's head, check it extends the last one, and cosign it.

        tlog-cosignature: a cosigner signs only "the consistent tree head with the largest
        size" it has observed, so this refuses a head smaller than the last one signed
        (``ConsistencyError``), a different root at the same size (``EquivocationError``),
        a larger head without a valid consistency proof from the last one
        (``ConsistencyError``), and a timestamp before its own previous cosignature. The
        first head is accepted as a proof from the empty tree (``proof`` empty).
        Returns the note with the cosignature added and the new state.
        """
        _check_timestamp(timestamp)
        head = verify_checkpoint(note_text, origin=self.origin, center=self.center)
        new = head.checkpoint
        if self.last is None:
            old_size, old_root = 0, EMPTY_ROOT
        else:
            old_size, old_root = self.last.size, self.last.root
        if new.size < old_size:
            raise ConsistencyError(
                f"refusing to cosign size {new.size} of {self.origin}: "
                f"size {old_size} was already cosigned"
            )
        if self.last is not None and new.size == old_size and new.root != old_root:
            raise EquivocationError(
                f"the center showed two histories: {self.origin} at size {new.size} has root "
                f"{encode_base64(new.root)} now and {encode_base64(old_root)} in the head "
                "cosigned before",
                evidence=(self.last.note, head.note),
            )
        try:
            verify_consistency(
                old_size=old_size,
                new_size=new.size,
                old_root=old_root,
                new_root=new.root,
                proof=proof,
            )
        except ProofError as error:
            raise ConsistencyError(
                f"refusing to cosign size {new.size} of {self.origin}: not shown to extend "
                f"size {old_size} ({error})"
            ) from None
        previous = self._last_own_timestamp()
        if previous is not None and timestamp < previous:
            raise ConsistencyError(
                f"refusing to cosign at time {timestamp}: the last cosignature is of time "
                f"{previous}"
            )
        cosigned = add_cosignature(head.note, key=self.key, timestamp=timestamp)
        return cosigned, replace(self, last=replace(head, note=cosigned))
