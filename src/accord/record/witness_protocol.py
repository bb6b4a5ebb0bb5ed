"""A witness's side of C2SP tlog-witness v1, without HTTP, files or a clock.

The HTTP edge (:mod:`accord.witness`) hands each ``POST /add-checkpoint`` body to
:func:`parse_add_checkpoint` and :func:`check_request`, then, inside the one SQLite
transaction that reads and writes the log's stored state, to :func:`decide`; the error
raised, if any, says the status (:func:`status_of`) and whether the refused checkpoint is
evidence of misbehaviour (:func:`is_evidence`).

c2sp.org/tlog-witness, "add-checkpoint" — the body is::

    old <size>\\n
    <base64 hash>\\n          zero to 63 consistency-proof lines
    \\n
    <the signed checkpoint>

and the answers are 404 (unknown origin: :class:`UnknownKeyError`), 403 (no trusted log
signature verifies, or a trusted key's line fails: :class:`SignatureError`), 400 (malformed,
or old size above the checkpoint's: :class:`FormatError`), 409 (old size is not the size
last cosigned: :class:`StaleSize`, whose ``size`` goes in the ``text/x.tlog.size`` body),
422 (a bad consistency proof, a proof from size zero that is not empty, a size-zero
checkpoint whose root is not the empty tree's, the same size with another root:
:class:`ProofError` or :class:`EquivocationError`), else 200 with the witness's
tlog-cosignature line.

The list of logs a witness trusts is the witness network's ``logs/v0`` list
(witness-network.org/log-list-format, :func:`parse_log_list`): per log a ``vkey`` of
signed-note type 0x01, an optional ``origin`` (default: the vkey's name), ``qpd`` and
``contact``.

>>> from accord.record.keys import PrivateKey
>>> log = PrivateKey.from_seed("example.com/log", bytes(32))
>>> logs = parse_log_list(f"logs/v0\\nvkey {log.public.vkey()}\\nqpd 86400\\ncontact ops\\n")
>>> logs["example.com/log"].keys == (log.public,)
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from accord.errors import ProofError, StaleSize
from accord.record.canonical import decode_base64, encode_base64
from accord.record.errors import (
    ConsistencyError,
    EquivocationError,
    FormatError,
    SignatureError,
    UnknownKeyError,
)
from accord.record.keys import SIG_ED25519, PublicKey
from accord.record.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from accord.record.note import Note, parse_note, verify_note

__all__ = [
    "LOG_LIST_HEADER",
    "MAX_BODY",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "Latest",
    "WitnessedLog",
    "check_request",
    "decide",
    "is_evidence",
    "parse_add_checkpoint",
    "parse_log_list",
    "status_of",
]

LOG_LIST_HEADER = "logs/v0"
MAX_PROOF_LINES = (
    63  # tlog-witness: "The client MUST NOT send more than 63 consistency proof lines"
)
MAX_BODY = 256 * 1024  # an old line, 63 proof lines and a checkpoint with its signatures
SIZE_CONTENT_TYPE = "text/x.tlog.size"  # tlog-witness: the 409 answer's Content-Type

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")  # no leading zeroes, ASCII digits only
_MAX_SIZE = 2**63 - 1
_MAX_QPD = 2**31


def _decimal(text: str, what: str, *, limit: int = _MAX_SIZE) -> int:
    if not _DECIMAL.match(text) or not text.isascii():
        raise FormatError(f"{what} {text!r} is not a decimal without leading zeroes")
    value = int(text)
    if value > limit:
        raise FormatError(f"{what} {value} is too large")
    return value


# --- the list of logs -----------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessedLog:
    """A log the witness cosigns for: its origin and the log keys (type 0x01) it trusts."""

    origin: str
    keys: tuple[PublicKey, ...]
    qpd: int
    contact: str


def parse_log_list(text: str) -> dict[str, WitnessedLog]:
    """Read a witness network ``logs/v0`` list; origin → log. ``FormatError`` names the line.

    witness-network.org/log-list-format: blank lines and lines starting with ``#`` are
    ignored, every other line is stripped of leading and trailing white space; the first
    is ``logs/v0``; then per log, in this order, ``vkey VKEY``, optionally ``origin
    ORIGIN`` (default: the vkey's key name), ``qpd QPD`` (1 to 2^31 - 1, no leading zeroes)
    and ``contact CONTACT``. "Currently, only ed25519 alg1 type keys are permitted": a vkey
    of another signature type is refused. Two entries of one origin are two trusted keys
    of that log (a rotation); the same key twice for one origin is refused.
    """
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines or lines[0][1] != LOG_LIST_HEADER:
        raise FormatError(f"a log list begins with the line {LOG_LIST_HEADER!r}")
    logs: dict[str, WitnessedLog] = {}
    position = 1

    def field(keyword: str, *, optional: bool = False) -> tuple[int, str] | None:
        nonlocal position
        if position >= len(lines):
            if optional:
                return None
            raise FormatError(f"the log list ends before a {keyword!r} line")
        number, line = lines[position]
        word, space, value = line.partition(" ")
        if word != keyword:
            if optional:
                return None
            raise FormatError(f"line {number} of the log list: expected {keyword!r}, not {word!r}")
        if not space or not value:
            raise FormatError(f"line {number} of the log list: {keyword!r} has no value")
        position += 1
        return number, value

    while position < len(lines):
        found = field("vkey")
        assert found is not None
        number, vkey = found
        try:
            key, sig_type = PublicKey.from_vkey(vkey)
        except FormatError as error:
            raise FormatError(f"line {number} of the log list: {error}") from None
        if sig_type != SIG_ED25519:
            raise FormatError(
                f"line {number} of the log list: a log's vkey is of type 0x01 (Ed25519), "
                f"not 0x{sig_type:02x}"
            )
        origin_line = field("origin", optional=True)
        origin = key.name if origin_line is None else origin_line[1]
        qpd_number, qpd_text = field("qpd") or (0, "")
        try:
            qpd = _decimal(qpd_text, "qpd", limit=_MAX_QPD - 1)
        except FormatError as error:
            raise FormatError(f"line {qpd_number} of the log list: {error}") from None
        if qpd < 1:
            raise FormatError(f"line {qpd_number} of the log list: qpd is at least 1")
        _, contact = field("contact") or (0, "")
        known = logs.get(origin)
        if known is not None and key in known.keys:
            raise FormatError(f"line {number} of the log list: the key of {origin!r} twice")
        keys = (*known.keys, key) if known is not None else (key,)
        logs[origin] = WitnessedLog(origin, keys, qpd, contact)
    return logs


# --- the request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint body: the old size, the proof, and the signed checkpoint."""

    old: int
    proof: tuple[bytes, ...]
    note: Note
    origin: str
    size: int
    root: bytes

    @property
    def body(self) -> str:
        """The checkpoint's note text (with its extension lines, if any)."""
        return self.note.body


def _read_checkpoint(body: str) -> tuple[str, int, bytes]:
    # c2sp.org/tlog-checkpoint "Note text": at least three non-empty lines — origin, decimal
    # size, base64 root — then optional non-empty extension lines, opaque to the witness
    # (they are in the message it signs). The origin is any non-empty line: "clients MUST
    # NOT assume that the origin is following this format".
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError("a checkpoint has an origin, a size and a root hash line")
    if any(not line for line in lines):
        raise FormatError("a checkpoint's lines are non-empty")
    origin, size_text, root_text = lines[:3]
    size = _decimal(size_text, "checkpoint size")
    root = decode_base64(root_text, what="the checkpoint root hash", size=HASH_SIZE)
    return origin, size, root


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an add-checkpoint request body strictly; ``FormatError`` (400) says why.

    tlog-witness: an ``old N`` line (no leading zeroes), at most 63 base64 hash lines, an
    empty line, and a checkpoint (a signed note, c2sp.org/signed-note); every line ends in
    a newline.
    """
    if len(body) > MAX_BODY:
        raise FormatError(f"the request body is over {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(f"the request body is not UTF-8 (byte {error.start})") from None
    header, blank, rest = text.partition("\n\n")
    if not blank:
        raise FormatError("no empty line between the old size and proof lines and the checkpoint")
    head_lines = header.split("\n")
    word, space, old_text = head_lines[0].partition(" ")
    if word != "old" or not space:
        raise FormatError("the body begins with an 'old <size>' line")
    old = _decimal(old_text, "old size")
    proof_lines = head_lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise FormatError(
            f"{len(proof_lines)} consistency proof lines; at most {MAX_PROOF_LINES} are allowed"
        )
    proof = tuple(
        decode_base64(line, what=f"consistency proof line {i + 1}", size=HASH_SIZE)
        for i, line in enumerate(proof_lines)
    )
    note = parse_note(rest)
    origin, size, root = _read_checkpoint(note.body)
    return AddCheckpoint(old, proof, note, origin, size, root)


def check_request(request: AddCheckpoint, logs: Mapping[str, WitnessedLog]) -> WitnessedLog:
    """The checks that need no stored state, in tlog-witness's order: the origin is known
    (else ``UnknownKeyError``, 404), a trusted log key's signature verifies and none fails
    (else ``SignatureError``, 403), the old size is not above the checkpoint's (else
    ``FormatError``, 400). Returns the log."""
    log = logs.get(request.origin)
    if log is None:
        raise UnknownKeyError(f"this witness does not witness the log {request.origin!r}")
    verify_note(request.note, keys=[(key, SIG_ED25519) for key in log.keys])
    if request.old > request.size:
        raise FormatError(
            f"the old size {request.old} is above the checkpoint's size {request.size}"
        )
    return log


# --- the decision against the stored state --------------------------------------------------


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint the witness cosigned for a log: its size and root."""

    size: int
    root: bytes


NEVER = Latest(0, EMPTY_ROOT)
"""A log the witness never cosigned: size zero, the empty tree's root."""


def decide(request: AddCheckpoint, latest: Latest | None) -> None:
    """Whether the witness may cosign ``request`` given its stored ``latest`` (None: never
    cosigned this log). Returns None to cosign; raises otherwise (tlog-witness):

    * ``StaleSize`` (409) when the old size is not the latest cosigned size;
    * ``ProofError`` (422) for a size-zero checkpoint whose root is not the empty tree's,
      a non-empty proof from size zero, or a consistency proof that does not verify;
    * ``EquivocationError`` (422) for the latest size with another root.
    """
    stored = NEVER if latest is None else latest
    if request.old != stored.size:
        raise StaleSize(
            f"the old size {request.old} is not the size {stored.size} last cosigned for "
            f"{request.origin}",
            size=stored.size,
        )
    if request.size == 0 and request.root != EMPTY_ROOT:
        raise ProofError("a checkpoint of size 0 must have the root hash of the empty tree")
    if request.old == 0 and request.proof:
        raise ProofError("the consistency proof from size 0 must be empty")
    if request.size == stored.size and request.root != stored.root:
        raise EquivocationError(
            f"{request.origin} at size {request.size} has root {encode_base64(request.root)} "
            f"here and {encode_base64(stored.root)} in the checkpoint cosigned before",
            evidence=(request.note.text(),),
        )
    verify_consistency(
        old_size=stored.size,
        new_size=request.size,
        old_root=stored.root,
        new_root=request.root,
        proof=request.proof,
    )


def status_of(error: Exception) -> int:
    """The tlog-witness HTTP status of an error from the functions above."""
    if isinstance(error, UnknownKeyError):
        return 404
    if isinstance(error, SignatureError):
        return 403
    if isinstance(error, StaleSize):
        return 409
    if isinstance(error, ProofError | EquivocationError | ConsistencyError):
        return 422
    if isinstance(error, FormatError):
        return 400
    raise TypeError(f"{type(error).__name__} is not a witness's answer") from error


def is_evidence(request: AddCheckpoint, latest: Latest | None, error: Exception) -> str | None:
    """Why a refused request whose log signature verified is evidence of the log's
    misbehaviour (tlog-witness: the witness "MAY log the request … as it might be proof of
    log misbehavior"), or None when it proves nothing (a routine 409 from a client that did
    not know the size).

    Kept: every 422 (a proof that does not hold, a second root for a size); and a 409 whose
    checkpoint has the latest cosigned size with another root — a split view whatever old
    size the client sent.
    """
    if isinstance(error, ProofError | EquivocationError):
        return str(error)
    if (
        isinstance(error, StaleSize)
        and latest is not None
        and request.size == latest.size
        and request.root != latest.root
    ):
        return (
            f"{request.origin} at size {request.size} has root {encode_base64(request.root)} "
            f"here and {encode_base64(latest.root)} in the checkpoint cosigned before "
            "(answered 409: the old size did not match)"
        )
    return None
