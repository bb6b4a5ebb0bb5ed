"""What the record refuses: the record's branch of Accord's error tree, re-exported.

The classes are defined in :mod:`accord.errors`, whose docstring draws the whole tree;
this module keeps the import path of those the record's modules share. The record's other
errors are re-exported where they are raised: :class:`~accord.errors.ProofError` by
:mod:`accord.record.merkle`, :class:`~accord.errors.VerificationError` by
:mod:`accord.record.verify`, :class:`~accord.errors.LogError` and
:class:`~accord.errors.TamperError` by :mod:`accord.record.log`.

Messages never contain private key material; they name the entry (author and sequence
number), the note line or the file at fault.

>>> from accord.errors import AccordError
>>> issubclass(EquivocationError, AccordError)
True
>>> str(UnknownKeyError("no key named 'green' in the key ring"))
"no key named 'green' in the key ring"
"""

from __future__ import annotations

from accord.errors import (
    CommitmentError,
    ConsistencyError,
    EquivocationError,
    FormatError,
    KeyFileError,
    RecordError,
    SignatureError,
    UnknownKeyError,
)

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
