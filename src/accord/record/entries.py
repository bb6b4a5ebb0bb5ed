"""Entries: one signed statement by one author, and the envelope the log stores it in.

An **entry** is the canonical JSON (:mod:`accord.record.canonical`) of::

    {"author": "blue",                 the author's name in the key ring
     "event": {...},                   what happened: any JSON object
     "key_id": "1f2e3d4c5b6a7980",     PublicKey.key_id of the author's key
     "log": "accord.example/jcc",      the origin of the log it was written for
     "seq": 3,                         the author's sequence number: 1, 2, 3, ...
     "sig": "<base64>",                Ed25519 signature (RFC 8032) by the author's key
     "ts": "2026-05-01T12:00:00Z",     when the author signed it (accord.chrono.format_instant)
     "v": 1}

and the signature is over ``canonical_json`` of the same object without ``"sig"``. The
signed bytes are a JSON object, so they can never be mistaken for a signed note or a
cosignature message (which start with text lines), even when one key signs both.

The log and the sequence number are inside the signature, so an entry copied into another
log, or replayed in the same log, is caught: :func:`verify_entry` checks the log, and
:class:`SequenceTracker` the sequence, as a verifier walks the log.

An entry of **version 2** is a party's act as the center took it in (issue 17): one more
member, ``"act"``, and ``"v": 2``; the author is the acting member, and the signature (and
``key_id``) are the **center's** — it attests that it took the act in and read it as
``event``, never that the party acted. What proves the party acted is inside::

    "act": {"key": "<base64 raw Ed25519 public key>",   the key that signed the act
            "signed": {...},                            the act's JSON form, signature included
                                                        (accord.record.acts)
            "opening": {"salt": "…", "body": {...}}}    only for an act whose content is
                                                        public: what its seal opens to
    "act": {"of": 17}                                   the same act as entry 17's (one act
                                                        that caused several entries)

Whether that key was the party's, certified by its root and valid at this entry, is the
walk's to decide (:mod:`accord.record.registry`): this module checks the act's shape only.

The **leaf** the log stores (and hashes, RFC 9162 ``SHA-256(0x00 || leaf)``) is an
envelope written by the center, again canonical JSON::

    {"entry":<the entry, byte for byte>,"i":<leaf index>,"prev":"<hex leaf hash of leaf i-1>"}

``prev`` is ``""`` at index 0. The envelope chains each leaf to the one before it, so that
one leaf alone shows its place in the log.

>>> from datetime import UTC, datetime
>>> from accord.record.keys import KeyRing, Member, PrivateKey
>>> center = PrivateKey.from_seed("center", bytes(32))
>>> blue = PrivateKey.from_seed("blue", bytes(range(32)))
>>> ring = KeyRing(center.public, [Member(blue.public, "party")])
>>> data = sign_entry({"kind": "position.declared"}, key=blue, log="accord.example/jcc",
...                   seq=1, ts=datetime(2026, 5, 1, 12, tzinfo=UTC))
>>> entry = verify_entry(data, keys=ring, log="accord.example/jcc")
>>> entry.author, entry.seq, entry.event
('blue', 1, {'kind': 'position.declared'})
>>> open_envelope(make_envelope(0, None, data)) == (0, "", data)
True
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from accord.chrono import format_instant, parse_instant
from accord.record.canonical import (
    canonical_json,
    decode_base64,
    dumps_parsed,
    encode_base64,
    loads_canonical,
    parse_if_canonical,
)
from accord.record.errors import FormatError, RecordError, SignatureError, UnknownKeyError
from accord.record.keys import CENTER_ROLE, KeyRing, PrivateKey, PublicKey
from accord.record.note import check_origin

__all__ = [
    "ACT_ENTRY_VERSION",
    "ENTRY_VERSION",
    "Entry",
    "LeafReader",
    "SequenceTracker",
    "make_envelope",
    "open_envelope",
    "sign_encoded_entry",
    "sign_entry",
    "verify_entry",
]

ENTRY_VERSION = 1
ACT_ENTRY_VERSION = 2
_FIELDS = frozenset({"v", "log", "author", "key_id", "seq", "ts", "event", "sig"})
_ACT_FIELDS = _FIELDS | {"act"}
_KEY_ID = re.compile(r"[0-9a-f]{16}\Z")
_MAX_SEQ = 2**53 - 1
_MAX_INDEX = 2**63 - 1

_ENVELOPE_HEAD = b'{"entry":'
_ENVELOPE_MARK = b',"i":'
_ENVELOPE_TAIL = re.compile(rb',"i":(0|[1-9][0-9]{0,18}),"prev":"((?:[0-9a-f]{64})?)"\}\Z')


@dataclass(frozen=True)
class Entry:
    """A verified entry: its fields, and ``raw``, the exact bytes that were verified."""

    log: str
    author: str
    key_id: str
    seq: int
    ts: datetime
    event: dict[str, Any] = field(hash=False)
    sig: bytes
    raw: bytes
    act: dict[str, Any] | None = field(default=None, hash=False)
    """Version 2: the entry's ``"act"`` member (see the module docstring); else None."""


def _is_int(value: object) -> TypeGuard[int]:
    # JSON integers only: bool is an int subclass in Python, not in JSON.
    return type(value) is int


def sign_entry(
    event: Mapping[str, Any],
    *,
    key: PrivateKey,
    log: str,
    seq: int,
    ts: datetime,
    author: str | None = None,
    act: Mapping[str, Any] | None = None,
) -> bytes:
    """Write and sign an entry by ``key.name``; return its canonical bytes.

    ``seq`` is the author's next sequence number (1 for its first entry in this log);
    ``ts`` an aware instant. With ``act`` (the ``"act"`` member of a version 2 entry),
    ``author`` is the acting member and ``key`` the center's. Raises ``FormatError`` if the
    event has no canonical form.
    """
    _check_signing(log, seq, ts)
    if not isinstance(event, Mapping):
        raise FormatError("an event must be a JSON object")
    wrapped = canonical_json({"event": dict(event)})  # errors name the path from "event"
    return _signed(
        wrapped[len(b'{"event":') : -1], key=key, log=log, seq=seq, ts=ts, author=author, act=act
    )


def sign_encoded_entry(
    event_json: bytes,
    *,
    key: PrivateKey,
    log: str,
    seq: int,
    ts: datetime,
    author: str | None = None,
    act: Mapping[str, Any] | None = None,
) -> bytes:
    """:func:`sign_entry` of the event whose canonical JSON is ``event_json`` (exactly what
    :func:`~accord.record.canonical.canonical_json` wrote for it: a caller that encoded the
    event already, to hash it or weigh it, does not pay for it twice)."""
    _check_signing(log, seq, ts)
    if not isinstance(event_json, bytes) or event_json[:1] != b"{" or event_json[-1:] != b"}":
        raise FormatError("an event must be a JSON object")
    return _signed(event_json, key=key, log=log, seq=seq, ts=ts, author=author, act=act)


def _check_signing(log: str, seq: int, ts: datetime) -> None:
    check_origin(log)
    if not _is_int(seq) or not 1 <= seq <= _MAX_SEQ:
        raise FormatError(f"seq must be an integer from 1, not {seq!r}")
    if not isinstance(ts, datetime) or ts.utcoffset() is None:
        raise FormatError("ts must be an aware datetime (a time without an offset is refused)")


def _signed(
    event_json: bytes,
    *,
    key: PrivateKey,
    log: str,
    seq: int,
    ts: datetime,
    author: str | None = None,
    act: Mapping[str, Any] | None = None,
) -> bytes:
    """The entry of the event ``event_json`` (canonical), signed.

    The event's bytes stand between the other members' canonical JSON: members are sorted by
    name and ``"act"`` < ``"author"`` < ``"event"`` < every other, so the canonical form of
    the whole object is ``{["act":…,]"author":…,"event":<event_json>,…}`` — byte for byte
    what :func:`canonical_json` writes for it, without encoding the event again."""
    if act is None:
        opening = b"{"
        version = ENTRY_VERSION
        if author is not None and author != key.name:
            raise FormatError(f"an entry by {author!r} without an act is signed by its author")
    else:
        _check_act_member(act, "act")
        if author is None:
            raise FormatError("an entry with an act names its author, the acting member")
        opening = b'{"act":' + canonical_json(dict(act)) + b","
        version = ACT_ENTRY_VERSION
    name = key.name if author is None else author
    head = opening + b'"author":' + canonical_json(name) + b',"event":' + event_json + b","
    rest: dict[str, Any] = {
        "key_id": key.key_id,
        "log": log,
        "seq": seq,
        "ts": format_instant(ts),
        "v": version,
    }
    message = head + canonical_json(rest)[1:]
    rest["sig"] = encode_base64(key.sign(message))
    return head + dumps_parsed(rest)[1:]


def _fail(kind: type[Exception], who: str, reason: str) -> Exception:
    return kind(f"{who}: {reason}")


def verify_entry(data: bytes, *, keys: KeyRing, log: str) -> Entry:
    """Check one entry and return it; raise ``FormatError`` or ``SignatureError``.

    Checks that the bytes are canonical JSON with exactly the entry's fields and types, that
    the entry was written for ``log``, that its author is in ``keys``, that its key id is
    the author's own key, and that the signature verifies. Errors name the author and seq.
    Sequence continuity across entries is :class:`SequenceTracker`'s job.
    """
    try:
        obj = loads_canonical(data)
    except FormatError as error:
        raise FormatError(f"entry: {error}") from None
    if not isinstance(obj, dict):
        raise FormatError("entry: not a JSON object")
    author, seq = obj.get("author"), obj.get("seq")
    # Errors name the entry by author and seq as soon as those two can be read.
    who = f"entry by {author!r} seq {seq}" if isinstance(author, str) and _is_int(seq) else "entry"
    version = obj.get("v")
    fields = _ACT_FIELDS if _is_int(version) and version == ACT_ENTRY_VERSION else _FIELDS
    if obj.keys() != fields:
        missing = sorted(fields - obj.keys())
        extra = sorted(obj.keys() - fields)
        reason = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown field(s) {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise _fail(FormatError, who, reason)
    if not (_is_int(version) and version in (ENTRY_VERSION, ACT_ENTRY_VERSION)):
        raise _fail(FormatError, who, f"unsupported entry version {version!r}")
    act: dict[str, Any] | None = None
    if version == ACT_ENTRY_VERSION:
        try:
            act = _check_act_member(obj["act"], "act")
        except FormatError as error:
            raise _fail(FormatError, who, str(error)) from None
    if not isinstance(author, str):
        raise _fail(FormatError, who, "author must be a string")
    if not _is_int(seq) or not 1 <= seq <= _MAX_SEQ:
        raise _fail(FormatError, who, "seq must be a positive integer")
    entry_log, key_id, ts_text, event, sig_text = (
        obj["log"],
        obj["key_id"],
        obj["ts"],
        obj["event"],
        obj["sig"],
    )
    if not isinstance(entry_log, str):
        raise _fail(FormatError, who, "log must be a string")
    if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
        raise _fail(FormatError, who, "key_id must be 16 lower-case hex digits")
    if not isinstance(event, dict):
        raise _fail(FormatError, who, "event must be a JSON object")
    if not isinstance(ts_text, str):
        raise _fail(FormatError, who, "ts must be a string")
    try:
        ts = parse_instant(ts_text)
    except ValueError as error:
        raise _fail(FormatError, who, f"ts: {error}") from None
    if format_instant(ts) != ts_text:
        raise _fail(FormatError, who, f"ts {ts_text!r} is not written as UTC with Z")
    try:
        sig = decode_base64(sig_text, what="sig", size=64)
    except FormatError as error:
        raise _fail(FormatError, who, str(error)) from None

    # The signature binds the log: an entry replayed from another log is refused.
    if entry_log != log:
        raise _fail(SignatureError, who, f"written for log {entry_log!r}, not {log!r}")
    try:
        author_key = keys.member(author)
    except UnknownKeyError:
        raise _fail(SignatureError, who, f"{author!r} is not in the key ring") from None
    if act is not None:
        # Version 2: a member's act, taken in and signed by the center (its act checked by
        # the walk, against the keys the member's root certified).
        if keys.role(author) == CENTER_ROLE:
            raise _fail(FormatError, who, "the center makes no act: its entries have none")
        author, author_key = keys.center.name, keys.center
    if key_id != author_key.key_id:
        other = keys.name_of_key_id(key_id)
        if other is not None:
            raise _fail(SignatureError, who, f"signed with the key of {other!r}, not {author!r}")
        raise _fail(SignatureError, who, f"key id {key_id} is not the key of {author!r}")
    message = _unsigned(bytes(data), sig_text)
    try:
        author_key.verify(sig, message)
    except SignatureError:
        # Only on failure: say whose key did make the signature, if any known one did.
        for name in keys:
            if name != author:
                try:
                    keys.member(name).verify(sig, message)
                except SignatureError:
                    continue
                raise _fail(
                    SignatureError, who, f"signed with the key of {name!r}, not {author!r}"
                ) from None
        raise _fail(
            SignatureError, who, f"the signature does not verify with the key of {author!r}"
        ) from None
    return Entry(entry_log, obj["author"], key_id, seq, ts, event, sig, bytes(data), act)


def _check_act_member(act: object, where: str) -> dict[str, Any]:
    """The ``"act"`` member of a version 2 entry, if it has its shape (see the module
    docstring); ``FormatError`` naming what is wrong."""
    if not isinstance(act, Mapping):
        raise FormatError(f"{where} must be a JSON object")
    if set(act) == {"of"}:
        of = act["of"]
        if not _is_int(of) or not 0 <= of <= _MAX_INDEX:
            raise FormatError(f"{where}.of must be the index of an earlier entry")
        return dict(act)
    if set(act) not in ({"key", "signed"}, {"key", "signed", "opening"}):
        raise FormatError(f'{where} must hold "key" and "signed" (and "opening"), or "of"')
    decode_base64(act["key"], what=f"{where}.key", size=32)
    if not isinstance(act["signed"], Mapping):
        raise FormatError(f"{where}.signed must be the act's JSON object")
    opening = act.get("opening")
    if opening is not None and (
        not isinstance(opening, Mapping)
        or set(opening) != {"salt", "body"}
        or not isinstance(opening["salt"], str)
        or not isinstance(opening["body"], Mapping)
    ):
        raise FormatError(f"{where}.opening must hold the salt and the body the seal opens to")
    return dict(act)


def _unsigned(data: bytes, sig_text: str) -> bytes:
    """``canonical_json`` of the entry without ``"sig"``, cut out of its canonical bytes.

    With the keys sorted, a canonical entry reads ``{"author":…,"event":…,"key_id":…,
    "log":…,"seq":…,"sig":"…","ts":"…","v":1}``: removing the ``"sig"`` member leaves the
    canonical form of the rest. The last ``,"sig":"<sig>","ts":"`` is that member, since
    no unescaped quote can follow it inside the ``ts`` string. Cutting saves re-encoding
    every entry a verifier reads.
    """
    marker = b',"sig":"' + sig_text.encode("ascii") + b'","ts":"'
    at = data.rfind(marker)
    if at < 0:  # impossible for canonical bytes with exactly the entry's fields
        raise FormatError("entry: the sig member is not where the canonical form puts it")
    return data[:at] + data[at + len(marker) - len(b',"ts":"') :]


class SequenceTracker:
    """Each author's entries must carry seq 1, 2, 3, … in log order, none twice.

    A verifier feeds every verified entry, in log order, to :meth:`check`; a replayed
    entry (a valid signature seen again) or a gap raises ``FormatError``.

    >>> tracker = SequenceTracker()
    >>> tracker.expected("blue")
    1
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def expected(self, author: str) -> int:
        """The seq the next entry by ``author`` must carry."""
        return self._last.get(author, 0) + 1

    def last(self) -> dict[str, int]:
        """Each author's last seq so far (a copy): what :meth:`resumed` starts from."""
        return dict(self._last)

    @classmethod
    def resumed(cls, last: Mapping[str, int]) -> SequenceTracker:
        """A tracker that has seen each author's entries up to ``last[author]``.

        >>> SequenceTracker.resumed({"blue": 4}).expected("blue")
        5
        """
        tracker = cls()
        tracker._last = dict(last)
        return tracker

    def check(self, entry: Entry) -> None:
        """Accept ``entry`` as the author's next one, or raise ``FormatError``."""
        expected = self._last.get(entry.author, 0) + 1
        if entry.seq != expected:
            raise FormatError(
                f"entry by {entry.author!r} seq {entry.seq}: replayed or out of order "
                f"(expected seq {expected})"
            )
        self._last[entry.author] = entry.seq


# --- the envelope ---------------------------------------------------------------------------


def make_envelope(index: int, prev_leaf_hash: bytes | None, entry_bytes: bytes) -> bytes:
    """The leaf for ``entry_bytes`` at ``index``, chained to the previous leaf's hash.

    ``prev_leaf_hash`` is None exactly at index 0. ``entry_bytes`` must be a canonical entry
    (the caller has verified it); only its outline is checked here, so that appending stays
    cheap. The result is the canonical JSON of ``{"entry", "i", "prev"}``.
    """
    if not _is_int(index) or not 0 <= index <= _MAX_INDEX:
        raise FormatError(f"a leaf index is a non-negative integer, not {index!r}")
    if (index == 0) != (prev_leaf_hash is None):
        raise FormatError("the previous leaf hash is given for every leaf but the first")
    if prev_leaf_hash is not None and len(prev_leaf_hash) != 32:
        raise FormatError("the previous leaf hash must be 32 bytes")
    if not entry_bytes.startswith(b"{") or not entry_bytes.endswith(b"}"):
        raise FormatError("an entry must be a canonical JSON object")
    prev = prev_leaf_hash.hex().encode("ascii") if prev_leaf_hash is not None else b""
    return b"".join(
        (
            _ENVELOPE_HEAD,
            entry_bytes,
            _ENVELOPE_MARK,
            str(index).encode("ascii"),
            b',"prev":"',
            prev,
            b'"}',
        )
    )


def open_envelope(data: bytes) -> tuple[int, str, bytes]:
    """Split a leaf into (index, hex of the previous leaf hash or "", entry bytes).

    Raises ``FormatError`` unless ``data`` is exactly the form :func:`make_envelope`
    writes around a JSON object; the entry bytes themselves are checked by
    :func:`verify_entry`, which parses them.
    """
    if not isinstance(data, bytes | bytearray):
        raise FormatError("a leaf must be bytes")
    if not data.startswith(_ENVELOPE_HEAD):
        raise FormatError('a leaf must begin with {"entry":')
    # The entry is a JSON object: any ',"i":' inside it comes before the envelope's own.
    at = data.rfind(_ENVELOPE_MARK)
    match = _ENVELOPE_TAIL.match(data, at) if at > len(_ENVELOPE_HEAD) else None
    if match is None:
        raise FormatError('a leaf must end with ,"i":<index>,"prev":"<hex>"}')
    entry = bytes(data[len(_ENVELOPE_HEAD) : at])
    if not entry.startswith(b"{") or not entry.endswith(b"}"):
        raise FormatError("the entry in a leaf must be a JSON object")
    index = int(match[1])
    prev = match[2].decode("ascii")
    if index > _MAX_INDEX:
        raise FormatError(f"leaf index {index} is too large")
    if (index == 0) != (prev == ""):
        raise FormatError(f"leaf {index}: prev must be empty exactly for the first leaf")
    return index, prev, entry


# --- reading leaves, as a verifier does -------------------------------------------------------

# A leaf as make_envelope and sign_entry write it, from the end of the event on: every
# member in the one spelling canonical JSON allows (LOG stands for the log's origin).
_AFTER_EVENT = b'},"key_id":"'
_TAIL = (
    rb'\},"key_id":"([0-9a-f]{16})","log":LOG,"seq":([1-9][0-9]{0,15}),'
    rb'"sig":"([A-Za-z0-9+/]{85}[AQgw]==)",'
    # format_instant: seconds, and microseconds when there are any, every field in range
    rb'"ts":"([0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])'
    rb'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.(?!000000)[0-9]{6})?Z)",'
    rb'"v":1\},"i":(0|[1-9][0-9]{0,18}),"prev":"((?:[0-9a-f]{64})?)"\}\Z'
)


class LeafReader:
    """Reads the leaves of one log as a verifier does, every check included.

    ``reader.read(leaf)`` returns ``(index, prev, author, seq)``, with the verdict and the
    errors of :func:`open_envelope` followed by :func:`verify_entry`; only faster, for a
    verifier that reads every leaf of a log.

    Everything in a leaf but the event has one spelling once its values are known. After
    the event, one pattern checks the members in their order, the version, the log's origin,
    the envelope, and the exact form of the index, prev, seq, signature and time (none of
    which can hold the text that ends an event, so the last occurrence of that text is
    where the event ends). The key id names the author's key; before the event stand the
    envelope's opening and the name of that key's owner, as the ring spells it. Only the
    event is parsed and re-encoded. A leaf that passes is thus the canonical JSON of its values, as
    :func:`verify_entry` requires. Anything that does not pass this way (so every failure,
    and any leaf this reading cannot vouch for) goes through the two functions themselves.

    >>> from datetime import UTC, datetime
    >>> from accord.record.keys import KeyRing, Member, PrivateKey
    >>> blue = PrivateKey.from_seed("blue", bytes(range(32)))
    >>> ring = KeyRing(PrivateKey.from_seed("center", bytes(32)).public,
    ...                [Member(blue.public, "party")])
    >>> data = sign_entry({"kind": "note"}, key=blue, log="accord.example/jcc", seq=1,
    ...                   ts=datetime(2026, 5, 1, 12, tzinfo=UTC))
    >>> LeafReader(ring, "accord.example/jcc").read(make_envelope(0, None, data))
    (0, '', 'blue', 1)
    """

    __slots__ = ("_keys", "_log", "_signers", "_tail")

    def __init__(self, keys: KeyRing, log: str) -> None:
        self._keys = keys
        self._log = log
        # key id -> (the entry's opening up to the event, the key)
        self._signers: dict[bytes, tuple[bytes, PublicKey]] = {}
        try:
            self._tail: re.Pattern[bytes] | None = re.compile(
                _TAIL.replace(b"LOG", re.escape(canonical_json(log)))
            )
            for name in keys:
                key = keys.member(name)
                opening = b'{"author":' + canonical_json(name) + b',"event":'
                self._signers[key.key_id.encode("ascii")] = (opening, key)
        except FormatError:  # no canonical form: no entry can match; the full checks say so
            self._tail = None

    def read(self, data: bytes) -> tuple[int, str, str, int]:
        """``(index, prev, author, seq)`` of a leaf; ``FormatError`` or ``SignatureError``."""
        read, failure = self.read_all([data])
        if failure is not None:
            raise failure
        return read[0]

    def read_all(
        self, leaves: Sequence[bytes], *, acts: list[tuple[int, Entry]] | None = None
    ) -> tuple[list[tuple[int, str, str, int]], RecordError | None]:
        """:meth:`read` of each leaf in turn up to the first that fails: what the leaves
        before it hold, and its error (None if every leaf passes).

        The signatures of a run of well-formed leaves are checked together, after the rest
        of their checks (each kind of work runs faster in a run of its own than taking
        turns leaf by leaf); a leaf that is not well-formed is read by :meth:`_full` where
        it stands, so the first failure is still the first in order.

        With ``acts``, each version 2 entry that passes is appended to it with its offset in
        ``leaves``, for a caller that goes on to check the member's act inside (whose
        entries all take the long way: only the center's signature over them is checked
        here).
        """
        out: list[tuple[int, str, str, int]] = []
        at = 0
        while at < len(leaves):
            run: list[tuple[int, str, str, int]] = []
            checks: list[tuple[PublicKey, bytes, bytes]] = []
            for k in range(at, len(leaves)):
                prepared = self._prepare(leaves[k])
                if prepared is None:
                    break
                run.append(prepared[0])
                checks.append(prepared[1])
            for offset, (key, signature, message) in enumerate(checks):
                try:
                    key.verify(signature, message)
                except SignatureError:
                    out.extend(run[:offset])
                    return out, self._failure(leaves[at + offset])
            out.extend(run)
            at += len(run)
            if at < len(leaves):  # a leaf to read the long way
                try:
                    row, entry = self._entry(leaves[at])
                except RecordError as error:
                    return out, error
                out.append(row)
                if acts is not None and entry.act is not None:
                    acts.append((at, entry))
                at += 1
        return out, None

    def _full(self, data: bytes) -> tuple[int, str, str, int]:
        return self._entry(data)[0]

    def _entry(self, data: bytes) -> tuple[tuple[int, str, str, int], Entry]:
        index, prev, entry_bytes = open_envelope(data)
        entry = verify_entry(entry_bytes, keys=self._keys, log=self._log)
        return (index, prev, entry.author, entry.seq), entry

    def _failure(self, data: bytes) -> RecordError:
        """The error :meth:`_full` raises for a leaf known to fail."""
        try:
            self._full(data)
        except RecordError as error:
            return error
        raise AssertionError("a signature that failed once verified the next time")

    def _prepare(
        self, data: bytes
    ) -> tuple[tuple[int, str, str, int], tuple[PublicKey, bytes, bytes]] | None:
        """For a leaf that passes every check but its signature this way: what it holds,
        and the signature check left to make. None: no verdict."""
        if self._tail is None or type(data) is not bytes:
            return None
        event_end = data.rfind(_AFTER_EVENT) + 1  # just after the event's closing brace
        match = self._tail.match(data, event_end - 1) if event_end > 0 else None
        if match is None:
            return None
        key_id, seq_text, sig, ts, index_text, prev = match.groups()
        signer = self._signers.get(key_id)
        if signer is None:
            return None
        opening, key = signer
        index, seq = int(index_text), int(seq_text)
        if (
            not data.startswith(_ENVELOPE_HEAD)
            or not data.startswith(opening, _HEAD)  # the author is the key's owner
            or index > _MAX_INDEX
            or seq > _MAX_SEQ
            or (index == 0) != (prev == b"")
        ):
            return None
        try:
            datetime.fromisoformat(ts.decode("ascii"))  # the day exists in its month
            event = parse_if_canonical(data[_HEAD + len(opening) : event_end].decode("utf-8"))
        except ValueError:
            return None
        if event is None or type(event[0]) is not dict:
            return None
        # The signed message is the entry without its "sig" member.
        sig_at, ts_at = match.start(3) - _SIG_NAME, match.start(4) - _TS_NAME
        message = data[_HEAD:sig_at] + data[ts_at : match.start(5) - _I_NAME]
        return (
            (index, prev.decode("ascii"), key.name, seq),
            (key, binascii.a2b_base64(sig), message),
        )


_HEAD = len(_ENVELOPE_HEAD)
_SIG_NAME = len(b',"sig":"')  # before the signature's value
_TS_NAME = len(b',"ts":"')
_I_NAME = len(_ENVELOPE_MARK)
