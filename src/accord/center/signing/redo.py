"""Redo of the entries that change who may sign (:mod:`accord.center.recovery.redo`): the
``key_entries`` row :mod:`accord.center.signing.service` wrote for each member's act
(``agreement.signed``, ``key.registered``, ``key.revoked``), and the offer a registration
ends. Everything is in the entry: the act's user and signing key are in the act, and what
it asked is its opening, which these acts show (the record holds it, unsealed).

``agreement.adopted`` (the record's first entry, the center's) writes no row: nothing to
redo. Offers not yet registered (``key_offers``) are in no entry: devices offer again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.center.signing.service import (
    ADOPTED,
    REGISTERED,
    REVOKED,
    SIGNED,
    forget_offer,
    keep_key_entry,
)
from accord.errors import ActError
from accord.record.registry import (
    registration_from_body,
    revocation_from_body,
    signature_digest_from_body,
)

__all__ = ["REDO"]


def _signed(body: object) -> dict[str, Any]:
    return {"digest": signature_digest_from_body(body)}


def _registered(body: object) -> dict[str, Any]:
    return registration_from_body(body).to_json()


def _revoked(body: object) -> dict[str, Any]:
    return revocation_from_body(body).to_json()


_BODIES: Mapping[str, Callable[[object], dict[str, Any]]] = {
    SIGNED: _signed,
    REGISTERED: _registered,
    REVOKED: _revoked,
}
"""What each kind's act asked, as the service parsed it from the act's body (and keeps)."""


def _kept(context: Redoing, entry: Redone) -> None:
    """The ``key_entries`` row, as :func:`~accord.center.signing.service._keep` wrote it."""
    act, event, kind = entry.act, entry.event, entry.kind
    if act is None:
        raise ValueError(f"a {kind} entry holds no member's act (an agreement without roots?)")
    if event["member"] != entry.author:
        raise ValueError(f"{entry.author} wrote a {kind} entry for {event['member']}")
    opening = act.get("opening")
    if not isinstance(opening, Mapping):
        raise ValueError(f"the act of a {kind} entry is sealed: its opening is not in the record")
    try:
        body = _BODIES[kind](opening["body"])
    except ActError as error:
        raise ValueError(f"the act's body is not what a {kind} asks: {error}") from error
    asked = {k: v for k, v in event.items() if k not in ("kind", "member")}
    if kind == REGISTERED:
        key = asked.pop("key")
        if key != registration_from_body(body).key_id:
            raise ValueError(f"the entry registers {key}, the act another key")
    if asked != body:
        raise ValueError(f"the {kind} entry is not what its act asked")
    user = entry.user
    if user is None:
        raise ValueError(f"the act of a {kind} entry names no user")
    keep_key_entry(
        context.session, entry=entry.index, kind=kind, member=entry.author, user=user,
        signer=str(act["signed"]["key"]), body=body,
    )  # fmt: skip
    if kind == REGISTERED:
        forget_offer(context.session, str(event["key"]))


def _adopted(context: Redoing, entry: Redone) -> None:
    """The agreement adopted: the entry is all there is (no row)."""
    if entry.author != context.origin:
        raise ValueError(f"{entry.author}, not the center, adopted an agreement")


REDO: Mapping[str, Redo] = {
    ADOPTED: _adopted,
    SIGNED: _kept,
    REGISTERED: _kept,
    REVOKED: _kept,
}
