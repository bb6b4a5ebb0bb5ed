"""What the record refuses, as one branch of Accord's error tree.

::

    AccordError                     (accord.errors)
    └── RecordError                 anything the record refuses
        ├── ProofError              a Merkle proof does not hold (accord.record.merkle)
        ├── VerificationError       a log that does not verify (accord.record.verify)
        ├── LogError                the log store refuses (accord.record.log)
        │   └── TamperError         the stored log does not match its own hashes
        ├── FormatError             bytes or text not in the exact form the record writes
        │                           (canonical JSON, entry fields, envelopes, signed notes)
        ├── SignatureError          a signature that does not verify, or that verifies but
        │                           for the wrong author, key or log
        ├── KeyFileError            a key file that is missing, unsafe or unreadable
        ├── UnknownKeyError         a name that is not in the key ring (also a ``KeyError``)
        ├── ConsistencyError        a tree head that does not extend the last one checked
        ├── CommitmentError         an opening that does not match its salted commitment
        └── EquivocationError       the center signed two heads that cannot both be true

Messages never contain private key material; they name the entry (author and sequence
number), the note line or the file at fault.

>>> issubclass(EquivocationError, AccordError)
True
>>> str(UnknownKeyError("no key named 'green' in the key ring"))
"no key named 'green' in the key ring"
"""

from __future__ import annotations

from accord.errors import AccordError

__all__ = [
    "CommitmentError",
    "ConsistencyError",
    "EquivocationError",
    "FormatError",
    "KeyFileError",
    "RecordError",
    "SignatureError",
    "UnknownKeyError",
]


class RecordError(AccordError):
    """Base of everything the record refuses."""


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


class EquivocationError(RecordError):
    """The center signed two tree heads that cannot both describe one append-only log.

    ``evidence`` holds the signed notes that prove it, so that a party can show them to
    everyone else.
    """

    def __init__(self, message: str, *, evidence: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.evidence = evidence


class CommitmentError(RecordError):
    """An opening (salt and content) that does not match its commitment, or a bad salt."""
