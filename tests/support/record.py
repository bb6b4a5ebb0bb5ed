"""Record entries and keys as the record's tests make them: keys from seeds, an entry signed
as written, a log entry's bytes."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from accord.record.keys import PrivateKey


def seeded(name: str) -> PrivateKey:
    return PrivateKey.from_seed(name, hashlib.sha256(name.encode()).digest())


def signed_as_written(unsigned: bytes, key: PrivateKey) -> bytes:
    """An entry whose author signed exactly ``unsigned`` (canonical or not), with the sig
    member put in before "ts"."""
    sig = base64.b64encode(key.sign(unsigned)).decode()
    return unsigned.replace(b',"ts":', f',"sig":"{sig}","ts":'.encode(), 1)


def data(i: int) -> bytes:
    """A distinct entry of varying length for index ``i``."""
    return f"entry {i}:".encode() + bytes([i % 251]) * (i % 13)


def b64(text: str) -> bytes:
    """Strict base64 (``validate=True``): what the record's answers carry."""
    return base64.b64decode(text, validate=True)


SIGNED_HEAD_FIELDS = ("origin", "size", "root", "timestamp", "note")


def served_head(data: dict[str, object]) -> dict[str, object]:
    """The signed head's fields (a HEAD.json, :meth:`SignedHead.from_json`) of a ``GET
    /v1/record/head`` answer, without what the center adds beside them (who cosigned it,
    the parties' witnesses)."""
    return {k: data[k] for k in SIGNED_HEAD_FIELDS}


def count_verified(monkeypatch: Any) -> list[int]:
    """Counts, from now on, the entries whose signature the service's verified record checks
    (:func:`accord.record.entries.verify_entry` as :mod:`accord.center.picture.verified` calls
    it): one item per entry, for as long as the test's ``monkeypatch`` holds."""
    import accord.center.picture.verified as verified

    checked: list[int] = []
    real = verified.verify_entry

    def counting(raw: bytes, **kwargs: Any) -> Any:
        checked.append(1)
        return real(raw, **kwargs)

    monkeypatch.setattr(verified, "verify_entry", counting)
    return checked
