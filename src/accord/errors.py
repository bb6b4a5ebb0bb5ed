"""Every error Accord raises on purpose, in one tree.

::

    AccordError                      anything Accord refuses, with a message fit for a person
    ├── InputError                   bad input; names the source, line, feature id and field
    │   ├── AgreementError           the agreement file
    │   ├── WorldError               the declared world (GeoJSON)
    │   ├── TrackError               live track reports (CSV, GeoJSON, a batch)
    │   └── CotError                 a Cursor on Target event: names the element or
    │                                attribute and the event's uid      [accord.cot]
    ├── SbsError                     a BaseStation line a feed cannot read: the reason
    │                                (counted; the stream goes on)       [accord.feeds.sbs]
    ├── DuplicateKey                 a JSON object names one key twice    [accord.jsontext]
    ├── NotJsonNumber                NaN or an infinity in JSON text      [accord.jsontext]
    ├── RuleError                    a request the agreement's rules refuse
    │   ├── NotAuthorized            the actor may not do this (non-party, non-executor, …)
    │   ├── IllegalTransition        the object's state does not allow this step
    │   ├── PhaseError               the agreement's current phase does not allow this
    │   ├── DeadlineError            too early or too late (notice period, window, objection)
    │   ├── BlockingConflict         blocking conflicts stand and no override reason was given
    │   ├── StaleRequest             names a version or content no longer current
    │   ├── HashMismatch             acknowledges another content than the one it was sent
    │   └── DeviceTaken              a position's device uid is another party's, or names
    │                                another of the member's positions in force
    ├── RecordError                  anything the verifiable record refuses  [accord.record]
    │   ├── ProofError               a Merkle proof does not hold    [accord.record.merkle]
    │   ├── VerificationError        a log that does not verify      [accord.record.verify]
    │   ├── LogError                 the log store refuses              [accord.record.log]
    │   │   └── TamperError          the stored log does not match its own hashes
    │   ├── FormatError              bytes or text not in the exact form the record writes
    │   │                            (canonical JSON, entry fields, envelopes, signed notes)
    │   ├── SignatureError           a signature that does not verify, or that verifies but
    │   │                            for the wrong author, key or log
    │   ├── KeyFileError             a key file that is missing, unsafe or unreadable
    │   ├── UnknownKeyError          a name that is not in the key ring
    │   ├── ConsistencyError         a tree head that does not extend the last one checked
    │   │   └── StaleSize            a witness was told another old size than the one it
    │   │                            last cosigned; ``size`` is that one
    │   │                                               [accord.record.witness_protocol]
    │   ├── CommitmentError          an opening that does not match its salted commitment
    │   ├── EquivocationError        the center signed two heads that cannot both be true
    │   ├── MonitorAlarm             a party's monitor found the center's log at fault: a
    │   │                            rewrite, a rollback, a split view, an invalid entry, a
    │   │                            stall, a commitment of its party's that does not open;
    │   │                            ``kind`` names it, with the sizes and entry
    │   │                                                          [accord.monitor.core]
    │   ├── NoSplitView              split-view evidence whose heads one history explains
    │   │                                                       [accord.record.evidence]
    │   └── ActError                 a party's signed act that is malformed; ``field`` names
    │       │                        the field at fault                 [accord.record.acts]
    │       ├── ActSignatureError    made for another log, naming another key, or its
    │       │                        signature does not verify (also a ``SignatureError``)
    │       ├── ActClockError        its client timestamp is too far from the center's clock
    │       ├── ActKeyError          signed with a key its party did not certify for this
    │       │                        user and use, or one revoked or replaced before it
    │       │                                                      [accord.record.registry]
    │       └── ActReplayError       its nonce was used by another act already
    ├── NotFound                     no object with this id that the caller may see
    │   └── DeclarationNotFound      no declaration with this id that the caller may see
    ├── RateLimited                  asked too often: refused for ``retry_after`` seconds
    │   └── ProbingSlowed            proposals touching another party's hidden objects, slowed
    ├── Unavailable                  the center cannot answer now: neither the caller's mistake
    │   │                            nor a bug; ``retry_after`` seconds, when it is known
    │   ├── WriterUnavailable        the writer process does not answer: a change may or may
    │   │                            not be stored
    │   ├── ReaderUnavailable        the reader process does not answer: ask again
    │   ├── RecordDamaged            the stored record does not verify
    │   └── WorldUnavailable         the world in force does not read: nothing can be checked
    ├── Unchecked                    a geometry the engine cannot check to its accuracy (too
    │                                wide, too many vertices): the message still goes, marked
    │                                unchecked, saying why        [accord.deconfliction.received]
    ├── UnsafePermissions            a data or keys folder that others may open
    │                                                                [accord.center.files]
    ├── BackupError                  a backup or restore that cannot be made as asked (a file
    │                                there, a database not empty, no center key, a tool
    │                                missing or failing): nothing written    [accord.center.backup]
    ├── BasemapError                 the operator's basemap file (``accord serve --basemap``)
    │                                is missing or not an archive the page can draw: names
    │                                the file and what is wrong   [accord.center.basemap]
    ├── CertificateRefused           a TAK client certificate the center does not accept
    │                                (unknown, revoked, expired, another CA's); ``reason``
    │                                names which                    [accord.cotpki.check]
    └── TlsError                     a TLS option of ``accord serve`` that cannot be used
                                                                       [accord.center.http.tls]

    RuntimeError
    ├── CommitFailed                 the service's transaction did not commit; nothing of the
    │                                unit is stored                 [accord.center.runtime]
    └── NoAct                        a member's entry asked for without the member's act: a
                                     bug (the center never signs for a member)
                                                                     [accord.center.ledger]

Every class is defined here, and only here; the module in brackets re-exports it, and its
callers may import it from either. Where a class is also a built-in error it says so in its
bases: ``DuplicateKey``, ``NotJsonNumber``, ``Unchecked`` and ``TlsError`` are ``ValueError``s (as
:class:`json.JSONDecodeError` is) and ``UnknownKeyError`` is a ``KeyError`` (a key ring is a
mapping), so a caller catching the built-in still catches them. One class has two parents in
the tree, for the same reason: ``ActSignatureError`` is an ``ActError`` and a
``SignatureError``, so a caller catching either catches it.

A caller at the edge (the command line, the service) catches ``AccordError`` and shows
``str(error)``; the service answers it with a problem: a 4xx for a refusal (403, 404, 409,
422 or 400), 429 for ``RateLimited`` and 503 for ``Unavailable`` (with ``Retry-After`` when
the error knows it). :mod:`accord.center.http.problems` is that one mapping, from these
classes to statuses and problem types: the center's services raise these errors and never
an HTTP status. Anything else escaping is a bug — or a fault, which is why ``CommitFailed``
stands outside the tree: a failed commit is the server's failure, answered 500, never the
caller's mistake.

Two kinds of exception are defined elsewhere, on purpose:

* ``accord.center.http.problems.ProblemError`` is an HTTP answer in flight — a status, an RFC 9457
  problem type and its fields, raised by the HTTP layer and the routes (a header or a query
  parameter they read themselves) and rendered by the service's handlers. It is HTTP and
  nothing else, so it lives in the service's HTTP layer, beside those handlers.
* private signals (a leading underscore: ``_Bad`` of :mod:`accord.world` and of
  ``accord.center.directline.messages``, ``_Twice`` of :mod:`accord.jsontext`) are raised and caught
  inside one module, to collect a reader's issues or to leave a parser's hook; none escapes
  its module, so none is an error of the package.

``tests/unit/test_public_api.py`` holds the package to this: every exception class of every
module is defined here, is ``ProblemError``, or is private.

>>> issubclass(EquivocationError, RecordError) and issubclass(RecordError, AccordError)
True
>>> str(UnknownKeyError("no key named 'green' in the key ring"))
"no key named 'green' in the key ring"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AccordError",
    "ActClockError",
    "ActError",
    "ActKeyError",
    "ActReplayError",
    "ActSignatureError",
    "AgreementError",
    "BackupError",
    "BasemapError",
    "BlockingConflict",
    "CertificateRefused",
    "CommitFailed",
    "CommitmentError",
    "ConsistencyError",
    "CotError",
    "DeadlineError",
    "DeclarationNotFound",
    "DuplicateKey",
    "EquivocationError",
    "FormatError",
    "HashMismatch",
    "IllegalTransition",
    "InputError",
    "Issue",
    "KeyFileError",
    "LogError",
    "MonitorAlarm",
    "NoAct",
    "NoSplitView",
    "NotAuthorized",
    "NotFound",
    "NotJsonNumber",
    "PhaseError",
    "ProbingSlowed",
    "ProofError",
    "RateLimited",
    "ReaderUnavailable",
    "RecordDamaged",
    "RecordError",
    "RuleError",
    "SbsError",
    "SignatureError",
    "StaleRequest",
    "StaleSize",
    "TamperError",
    "TlsError",
    "TrackError",
    "Unavailable",
    "Unchecked",
    "UnknownKeyError",
    "UnsafePermissions",
    "VerificationError",
    "WitnessFailed",
    "WorldError",
    "WorldUnavailable",
    "WriterUnavailable",
    "field_path",
    "shown",
]

_SHOWN = 64
"""Characters of a key shown in a message: the key is the sender's input, never echoed whole."""


def field_path(parts: Sequence[str | int]) -> str:
    """A field's path as errors name it: ``phases[1].starts.after``.

    >>> field_path(["designated_areas", 0, "polygon", 3])
    'designated_areas[0].polygon[3]'
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def shown(text: str) -> str:
    """``text`` cut to a length fit for a message (a key is whatever the sender chose).

    >>> shown("k" * 100) == "k" * 63 + "…"
    True
    """
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class AccordError(Exception):
    """Base of every error Accord raises on purpose."""


# --- bad input ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in an input: where it is and what is wrong.

    ``field`` is a dotted path (``categories.coordinated.max_executors``,
    ``properties.window_end``); ``feature`` the feature id where there is one; ``line`` the
    1-based line in the source file where it is known.
    """

    field: str
    message: str
    feature: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.feature is not None:
            where.append(f"feature {self.feature!r}")
        where.append(f"field {self.field!r}" if self.field else "document")
        return f"{', '.join(where)}: {self.message}"


class InputError(AccordError):
    """Bad input: one or more :class:`Issue`, each naming where it is."""

    def __init__(self, source: str, issues: list[Issue] | tuple[Issue, ...]) -> None:
        self.source = source
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.source}: {len(self.issues)} problem{'s' if len(self.issues) != 1 else ''}"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])


class AgreementError(InputError):
    """The agreement file is not a valid agreement."""


class WorldError(InputError):
    """The declared world is not valid against its agreement."""


class TrackError(InputError):
    """Live track reports are not valid (a bad field, an impossible state)."""


class CotError(InputError):
    """A Cursor on Target event that is refused (:mod:`accord.cot`): not well-formed, a DTD
    or an entity, too deep, too many elements, a bad attribute.

    ``field`` names the element or attribute at fault (``point@lat``,
    ``detail/track@course``, ``event`` for the event as a whole) and ``uid`` the event's uid
    when its start tag was read (``None`` before that); ``str()`` names both.
    """

    def __init__(self, field: str, message: str, *, uid: str | None = None) -> None:
        self.field = field
        self.uid = uid
        source = "CoT event" if uid is None else f"CoT event uid={shown(uid)!r}"
        super().__init__(source, [Issue(field, message)])


class SbsError(AccordError, ValueError):
    """A line that is not BaseStation text, with the reason (:mod:`accord.feeds.sbs`; the
    feed counts and logs it, and the stream goes on)."""


class DuplicateKey(AccordError, ValueError):
    """A JSON object names one key twice; ``path`` is where (``properties.disclosure``,
    ``features[2].id``), ``key`` the key itself."""

    def __init__(self, path: str, key: str) -> None:
        self.path = path
        self.key = key
        super().__init__(f"the key {shown(key)!r} appears twice in one object (at {shown(path)})")


class NotJsonNumber(AccordError, ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` where JSON allows only finite numbers."""

    def __init__(self, constant: str) -> None:
        self.constant = constant
        super().__init__(f"{constant} is not a JSON number: every number must be finite")


# --- the agreement's rules ------------------------------------------------------------------


class RuleError(AccordError):
    """The agreement's rules refuse this request."""


class NotAuthorized(RuleError):
    """The actor has no right to take this step."""


class IllegalTransition(RuleError):
    """The object's current state does not allow this step."""


class PhaseError(RuleError):
    """The agreement's phase in force does not allow this step."""


class DeadlineError(RuleError):
    """The step comes too early or too late for a time limit of the agreement."""


class BlockingConflict(RuleError):
    """Blocking conflicts stand and no approver gave a written override reason."""


class StaleRequest(RuleError):
    """The request names a version or a content that is no longer the current one."""

    def __init__(self, field: str, location: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.location = location
        self.message = message


class DeviceTaken(RuleError):
    """A position's ``device.uid`` that another member's position carries or ever carried
    (it stays the first member's), or that names another of the caller's member's positions
    in force (``holder``: its id, which that member may see). The message is the whole
    detail, and for another member's uid always the same: it names neither the member nor
    the declaration."""

    field = "device.uid"
    location = "body"
    ANOTHER_PARTY = "this device uid belongs to another party"

    def __init__(self, holder: str | None = None) -> None:
        self.holder = holder
        self.message = (
            self.ANOTHER_PARTY
            if holder is None
            else f"this device uid names declaration {holder}, in force: one device, one "
            "position at a time (amend it, or withdraw it first)"
        )
        super().__init__(self.message)


class HashMismatch(RuleError):
    """An acknowledgement names another ``content_hash`` than that of ``what`` it was sent:
    the acknowledger acknowledges exactly what it received (its own copy's hash), or
    nothing. ``field``, ``location`` and ``message`` name the field, as a
    :class:`StaleRequest`'s do."""

    field = "content_hash"
    location = "body"

    def __init__(self, what: str) -> None:
        self.what = what
        self.message = f"is not the hash of {what}: acknowledge exactly what you received"
        super().__init__(f"{self.field}: {self.message}")


# --- the verifiable record ------------------------------------------------------------------
# Messages never contain private key material; they name the entry (author and sequence
# number), the note line or the file at fault.


class RecordError(AccordError):
    """Base of everything the record refuses."""


class ProofError(RecordError):
    """A Merkle proof does not hold, or its inputs are not those of any valid proof."""


class VerificationError(RecordError):
    """The log does not verify; ``index`` is the first bad entry (None: the log as a whole)."""

    def __init__(self, index: int | None, reason: str) -> None:
        self.index = index
        self.reason = reason
        where = f"entry {index}" if index is not None else "log"
        super().__init__(f"{where}: {reason}")


class LogError(RecordError):
    """The log refuses an operation: bad arguments, a file that is no Accord log, a lost race."""


class TamperError(LogError):
    """The stored log is not what was appended: names the first bad leaf or node.

    ``leaf`` is the index of the first bad leaf when the damage is at a leaf; ``node`` the
    ``(level, index)`` of the first bad stored subtree hash when it is there (its leaves are
    ``[index * 2**level, (index + 1) * 2**level)``); ``head`` the size of a bad stored head.
    """

    def __init__(
        self,
        message: str,
        *,
        leaf: int | None = None,
        node: tuple[int, int] | None = None,
        head: int | None = None,
    ) -> None:
        super().__init__(message)
        self.leaf = leaf
        self.node = node
        self.head = head


class FormatError(RecordError):
    """Bytes or text that are not in the exact form the record writes."""


class SignatureError(RecordError):
    """A signature that fails, or is valid but for another author, key or log."""


class KeyFileError(RecordError):
    """A key file that is missing, has unsafe permissions or does not parse."""


class UnknownKeyError(RecordError, KeyError):
    """A name that is not in the key ring.

    Also a ``KeyError`` so that a key ring behaves as a mapping; unlike ``KeyError`` its
    ``str()`` is the plain message.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConsistencyError(RecordError):
    """A tree head that is not shown to extend the last head a party checked."""


class StaleSize(ConsistencyError):
    """A tlog-witness request whose old size is not the size the witness last cosigned for
    the log (``size``: that size, 0 if it never cosigned one); the log retries from it."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


class CommitmentError(RecordError):
    """An opening (salt and content) that does not match its commitment, or a bad salt."""


class EquivocationError(RecordError):
    """The center signed two tree heads that cannot both describe one append-only log.

    ``evidence`` holds the signed notes that prove it, so that a party can show them to
    everyone else.
    """

    def __init__(self, message: str, *, evidence: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.evidence = evidence


class MonitorAlarm(RecordError):
    """A party's monitor found the log it follows at fault (``accord monitor``).

    ``kind`` is one of ``accord.monitor.core.KINDS`` (``rewritten``, ``rollback``,
    ``split_view``, ``invalid_entry``, ``invalid_head``, ``stalled``, ``commitment``);
    ``sizes`` the tree sizes at stake (the one verified before, the one shown), ``index``
    the entry at fault when there is one, ``evidence`` the path of the evidence file written
    (a split view or a rewrite: two heads signed by the center and the proof that they are
    two histories).
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        sizes: tuple[int, ...] = (),
        index: int | None = None,
        evidence: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.sizes = sizes
        self.index = index
        self.evidence = evidence


class NoSplitView(RecordError):
    """Split-view evidence whose two heads the center signed and a consistency proof joins:
    one history, not two — nothing against the center (:mod:`accord.record.evidence`)."""


class ActError(RecordError):
    """A party's signed act (:mod:`accord.record.acts`) that is refused: as raised itself, a
    malformed act — a field missing, unknown, of the wrong type or out of its form.

    ``field`` names the act's field at fault (``origin``, ``at``, ``body.area[2]``,
    ``signature``; ``act`` for the act as a whole) and ``message`` says what is wrong with it;
    ``str()`` is ``"<field>: <message>"``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ActSignatureError(ActError, SignatureError):
    """A well-formed act that is not the named key's act for this log: made for another log
    (``field`` ``origin``), naming another key than the one it is checked with (``key``), or
    whose signature does not verify over its canonical bytes (``signature``)."""


class ActClockError(ActError):
    """An act whose client timestamp (``field`` ``at``) lies outside the allowed window
    around the center's clock (DECISIONS 10: ±5 minutes)."""


class ActKeyError(ActError):
    """An act signed with a key that its party's root did not certify for the acting user and
    this use, or that was revoked or replaced before the act (``field`` ``key``); or a key
    registration, revocation or agreement signature its signer may not make."""


class ActReplayError(ActError):
    """An act whose nonce (``field`` ``nonce``) another act used already: a replay
    (DECISIONS 10)."""


# --- the service ----------------------------------------------------------------------------


class NotFound(AccordError):
    """No object with this id that the caller may see: the same whether none exists or the
    caller may not see it, so that the answer tells nothing of another party's objects."""


class DeclarationNotFound(NotFound):
    """No declaration with this id that the caller may see: the same whether none exists
    or it is another member's ``center`` declaration."""

    def __init__(self) -> None:
        super().__init__("no such declaration")


class RateLimited(AccordError):
    """Asked too often: the request is refused, and the same request succeeds at the
    earliest in ``retry_after`` seconds (a whole number, at least 1)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProbingSlowed(RateLimited):
    """A party's proposals have touched another party's hidden objects in more areas than
    the agreement's ``disclosure.probe_limit`` allows: its further proposals touching them
    are slowed (see :mod:`accord.center.disclosure.probing`)."""


class Unavailable(AccordError):
    """The center cannot answer now — a part it needs is down, or what it reads does not
    verify. Not a refusal of the request and not a bug: the same request may succeed later;
    ``retry_after`` is the seconds to wait, when known."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WriterUnavailable(Unavailable):
    """The writer process (``accord serve --writer-process``) does not answer: a change sent
    to it may or may not be stored, so its caller retries with the same idempotency key."""


class ReaderUnavailable(Unavailable):
    """The reader process (``accord serve --reader-process``) does not answer: a read sent to
    it changed nothing, so its caller asks again."""


class RecordDamaged(Unavailable):
    """The stored record does not verify (a leaf not chained, signed or sequenced as it must
    be, or a prefix no longer the one verified): nothing is built from it."""


class WitnessFailed(Unavailable):
    """A party's witness gave no cosignature the center could add (``accord.center.record.
    witnesses``): unreachable, too slow, an answer that is not C2SP tlog-witness's, or a
    cosignature line that does not verify; the center asks it again later."""


class WorldUnavailable(Unavailable):
    """The world in force (the stored declarations and operations) does not read: no
    operation can be checked against everything in force, so none is checked."""


class Unchecked(AccordError, ValueError):
    """A received geometry the engine cannot check to its accuracy under the agreement's
    limits for an operation's area (too wide, too many vertices, across the antimeridian):
    what carries it still goes, marked unchecked with this reason."""


class UnsafePermissions(AccordError):
    """A folder of the center's data or keys that other users may open."""


class BackupError(AccordError):
    """A backup or restore that cannot be made as asked (the message says why); nothing was
    written or changed."""


class BasemapError(AccordError):
    """The operator's basemap (``accord serve --basemap FILE``) cannot be served: the file is
    missing, unreadable, or not a PMTiles archive of vector tiles the page can draw; the
    message names the file and what is wrong."""


class CertificateRefused(AccordError):
    """A client certificate presented to the center's TAK endpoint that it does not accept:
    ``reason`` is one word (``unknown``, ``revoked``, ``expired``, ``not-yet-valid``,
    ``other-ca``, ``user-removed``, ``user-expired``, ``malformed``) and the message says
    which certificate, by serial, never more."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class TlsError(AccordError, ValueError):
    """A TLS option that cannot be used; the message names the option."""


class CommitFailed(RuntimeError):
    """The transaction holding this unit (and its group) did not commit: nothing of it is
    stored. A fault of the server, not a refusal: outside the ``AccordError`` tree."""


class NoAct(RuntimeError):
    """An entry for a member was asked for without that member's act: a bug, never a
    request's fault — the center must not sign for a member. Outside the ``AccordError``
    tree."""
