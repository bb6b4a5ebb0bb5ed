"""The record entries of declarations: their kinds, and the event each change appends.

Each change is one signed entry by the owner (an acknowledgement: by the acknowledging
party). A ``shared`` declaration's entry is ``declaration.created`` / ``amended`` /
``withdrawn`` / ``acknowledged`` with ``id``, ``object_kind``, ``disclosure`` and
``version``, and the feature as ``content`` (a withdrawal: the ``reason``). A ``center``
declaration's entry is :func:`hidden_event` — ``declaration.hidden`` and a salted commitment
(:mod:`accord.record.commitments`), nothing else, the same for a create, an amendment and a
withdrawal: every other reader learns only that the owner changed a hidden declaration at
that time; not which one (no id links its versions), of what kind, at what version, nor how
large (the commitment is a fixed-size digest). Under an agreement whose members sign their
acts, the entry also carries the act that caused it, whose request line every reader sees:
a hidden declaration is therefore changed only through :data:`HIDDEN_CHANGES`, one request
line for every change, and never through ``PUT /v1/declarations/d-…`` or ``…/withdraw``,
whose path would name it and the change. The opening — the salt and the canonical
JSON of the change, id, kind, version and content — is kept in ``openings`` for the owner
(and read by the center, which checks it against the record before any use:
:mod:`accord.center.picture.service`); the owner proves with
:func:`~accord.record.commitments.open_commitment` (``accord record open``) and the record,
without the center, what it declared and when. Logs written before this form hold
``declaration.created`` / ``amended`` / ``withdrawn`` entries with ``disclosure`` ``center``
and a commitment to the feature alone; they still verify and still replay.
``declaration_changes`` indexes the entries of each declaration
(:mod:`accord.center.declarations.service` writes them). How the picture folds each kind:
:mod:`accord.center.declarations.fold`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from accord.center import visibility
from accord.center.db.models import Declaration
from accord.center.declarations import fold
from accord.center.entry_kinds import Signer, entry_kind
from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import SALT_BYTES, commitment

__all__ = [
    "ACKNOWLEDGED_ENTRY",
    "AMENDED_ENTRY",
    "CREATED_ENTRY",
    "HIDDEN",
    "HIDDEN_CHANGES",
    "HIDDEN_ENTRY",
    "WITHDRAWN_ENTRY",
    "change_event",
    "hidden_event",
]

HIDDEN = "declaration.hidden"
"""The kind of every record entry about a ``center`` declaration (:func:`hidden_event`)."""

_SHARED_FIELDS = ("id", "object_kind", "disclosure", "version")
# The entries of a ``shared`` declaration's changes carry it in clear; a ``center`` one's
# every change is one ``declaration.hidden`` commitment (entries written before that carried
# ``commitment`` in a ``created``/``amended``/``withdrawn`` entry, and still verify).
CREATED_ENTRY = entry_kind(
    "declaration.created", signer=Signer.MEMBER, required=_SHARED_FIELDS,
    optional=("content", "commitment"), fold=fold.created,
    summary="a member declares a shared object (its feature in clear)",
    acts=("POST /v1/declarations", "POST /v1/declarations/batch"),
)  # fmt: skip
AMENDED_ENTRY = entry_kind(
    "declaration.amended", signer=Signer.MEMBER, required=_SHARED_FIELDS,
    optional=("content", "commitment"), fold=fold.amended,
    summary="a member amends its shared object: the next version, in clear",
    acts=("PUT /v1/declarations/{id}",),
)  # fmt: skip
WITHDRAWN_ENTRY = entry_kind(
    "declaration.withdrawn", signer=Signer.MEMBER, required=_SHARED_FIELDS,
    optional=("reason", "commitment"), fold=fold.withdrawn,
    summary="a member withdraws its shared object, with its reason",
    acts=("POST /v1/declarations/{id}/withdraw",),
)  # fmt: skip
_CHANGE_ENTRIES = {"created": CREATED_ENTRY, "amended": AMENDED_ENTRY, "withdrawn": WITHDRAWN_ENTRY}
HIDDEN_CHANGES = "POST /v1/declarations/hidden"
"""The request that changes a member's ``center`` declarations (any mix of declarations,
amendments and withdrawals, in one act): the same request line whatever it changes, so that
the act each hidden entry carries in the record names neither the declaration nor the
change. Under an agreement whose members sign their acts, the center takes a hidden
declaration's changes through this request only (:mod:`accord.center.declarations.service`);
the other requests below are those of records written before it."""
HIDDEN_ENTRY = entry_kind(
    HIDDEN, signer=Signer.MEMBER, required=("commitment",), fold=fold.hidden,
    summary="a member changed one of its hidden objects (what, in the commitment's opening)",
    acts=(
        HIDDEN_CHANGES, "POST /v1/declarations", "POST /v1/declarations/batch",
        "PUT /v1/declarations/{*}", "POST /v1/declarations/{*}/withdraw",
    ),
)  # fmt: skip
ACKNOWLEDGED_ENTRY = entry_kind(
    "declaration.acknowledged", signer=Signer.MEMBER,
    required=(*_SHARED_FIELDS, "content_hash", "meaning"), fold=fold.acknowledged,
    summary="a party's receipt of one version of a notifier's declaration",
    acts=("POST /v1/declarations/{id}/acknowledge",),
)  # fmt: skip


def change_event(
    row: Declaration,
    change: str,
    *,
    feature: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> tuple[dict[str, Any], tuple[bytes, bytes, str] | None]:
    """The record event of ``change`` and, for a ``center`` declaration, the
    ``(commitment, salt, content)`` it commits to (its salt drawn here).

    A ``center`` declaration's event is :func:`hidden_event`: the same two members for a
    create, an amendment and a withdrawal, whatever the kind or the geometry's size; the
    id, kind, version, change and content are inside the commitment alone."""
    content: dict[str, Any] = dict(feature) if feature is not None else {"reason": reason}
    if visibility.in_clear(row.disclosure):
        told = {"content": content} if feature is not None else {"reason": reason}
        event = _CHANGE_ENTRIES[change].build(
            told, id=row.id, object_kind=row.kind, disclosure=row.disclosure, version=row.version
        )
        return event, None
    opened = {
        "action": change,
        "content": content,
        "id": row.id,
        "object_kind": row.kind,
        "version": row.version,
    }
    salt = secrets.token_bytes(SALT_BYTES)
    committed = commitment(opened, salt=salt)
    return hidden_event(committed), (committed, salt, canonical_json(opened).decode("utf-8"))


def hidden_event(committed: bytes) -> dict[str, Any]:
    """The record event of a change of a ``center`` declaration: ``{"kind":
    "declaration.hidden", "commitment": <base64 of the 32-byte commitment>}``, nothing else.

    What every reader learns from it is that its author changed one of its hidden
    declarations at the entry's time. The opening (kept by the owner and the center)
    holds the canonical JSON of ``{"action", "content", "id", "object_kind",
    "version"}``: the change (``created``, ``amended`` or ``withdrawn``), the feature as
    stored (a withdrawal: ``{"reason": …}``), and which declaration, of which kind, at
    which version. The commitment is a fixed-size digest, so the entry's length does not
    depend on the content.

    >>> hidden_event(bytes(32))
    {'kind': 'declaration.hidden', 'commitment': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='}
    """
    return HIDDEN_ENTRY.build(commitment=encode_base64(committed))
