"""The entries that change who may sign, and the keys devices offer.

The record's first entry holds the agreement (``agreement.adopted``, by the center:
:func:`adopt`); a party's root signs its digest (``agreement.signed``, :func:`sign_agreement`)
and the agreement is in force from the last party's signature. A root (or a key it certified
to certify) registers (``key.registered``, :func:`register`) and revokes (``key.revoked``,
:func:`revoke`) its member's keys; a device offers its public key first
(:func:`offer`: not recorded, not trusted — the root holder compares fingerprints).
Each of these is a member's act like any other, taken in first by
:func:`accord.center.acts.accept` — with the root's key, or a certifying key.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.acts import REGISTERED, REGISTRY, REVOKED, SIGNED, registry
from accord.center.db.models_signing import KeyEntry, KeyOffer
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.ledger import Acting
from accord.center.runtime import Unit
from accord.errors import ActError, IllegalTransition, NotAuthorized, RecordDamaged
from accord.record.canonical import decode_base64
from accord.record.keys import PublicKey
from accord.record.registry import (
    Registered,
    agreement_digest,
    registration_from_body,
    revocation_from_body,
    signature_digest_from_body,
)

__all__ = [
    "ADOPTED",
    "REGISTERED",
    "REGISTRY",
    "REVOKED",
    "SIGNED",
    "adopt",
    "agreement_document",
    "forget_offer",
    "keep_key_entry",
    "offer",
    "offers",
    "register",
    "registry",
    "revoke",
    "sign_agreement",
]

ADOPTED = "agreement.adopted"

entry_kind(
    ADOPTED, signer=Signer.CENTER, required=("agreement", "digest"), fold=None,
    summary="the record's first entry: the agreement its members' roots sign",
)  # fmt: skip
entry_kind(
    SIGNED, signer=Signer.MEMBER, required=("member", "digest"), fold=None,
    summary="a member's root signs the agreement", acts=("POST /v1/agreement/signatures",),
)  # fmt: skip
entry_kind(
    REGISTERED, signer=Signer.MEMBER,
    required=("member", "user", "key", "public_key", "purposes"), optional=("replaces",),
    fold=None, summary="a member's root (or certifying key) registers a user's key",
    acts=("POST /v1/keys/registrations",),
)  # fmt: skip
entry_kind(
    REVOKED, signer=Signer.MEMBER, required=("member", "key", "reason"), fold=None,
    summary="a member's root (or certifying key) revokes a key",
    acts=("POST /v1/keys/revocations",),
)  # fmt: skip


_entries = cast(Table, KeyEntry.__table__)
_offers = cast(Table, KeyOffer.__table__)


def _rooted(unit: Unit) -> None:
    if not unit.center.agreement.rooted:
        raise IllegalTransition(
            "this center's agreement names no trust roots: its members' entries are signed "
            "with keys the center holds (legacy), and no member's key can be registered"
        )


def _acting(unit: Unit, caller: Caller) -> Acting:
    _rooted(unit)
    acting = unit.ledger.acting
    if acting is None or acting.member != caller.member:
        # an administrator's requests carry no member's act: they are the center's own
        raise NotAuthorized("an administrator acts for the center: only a member's root signs this")
    return acting


# --- the agreement -------------------------------------------------------------------------


def agreement_document(agreement: Agreement) -> dict[str, Any]:
    """The agreement as the record's first entry holds it (and its roots sign the digest
    of)."""
    document: dict[str, Any] = agreement.model_dump(mode="json")
    return document


def adopt(unit: Unit, agreement: Agreement, at: datetime) -> None:
    """Write the agreement as the record's first entry (an empty record), or check that the
    first entry is this agreement: ``RecordDamaged`` if it is not."""
    document = agreement_document(agreement)
    digest = agreement_digest(document)
    log = unit.ledger.log
    if log.size == 0:
        event = {"kind": ADOPTED, "agreement": document, "digest": digest}
        unit.ledger.append(event, author=unit.center.origin, at=at)
        return
    first = json.loads(log.entry(0))["entry"]["event"]
    if first.get("kind") != ADOPTED or first.get("digest") != digest:
        raise RecordDamaged(
            "the record does not begin with this agreement (it began under another, or "
            "before its members held their own keys): serve it with the agreement it began "
            "with, or start a new record"
        )


def sign_agreement(unit: Unit, caller: Caller, at: datetime) -> int:
    """The caller's member's root signs the agreement (the unit's act, taken in with
    :attr:`Signing.ROOT`: what it signed is what counts); the entry."""
    acting = _acting(unit, caller)
    digest = signature_digest_from_body(acting.body)
    ours = agreement_digest(agreement_document(unit.center.agreement))
    if digest != ours:
        raise ActError("body.digest", f"this center's agreement has the digest {ours}")
    check = copy.deepcopy(registry(unit))
    index = unit.ledger.log.size
    check.sign_agreement(member=caller.member, key_id=acting.signed.act.key, index=index)
    event = {"kind": SIGNED, "member": caller.member, "digest": digest}
    return _keep(unit, caller, acting, SIGNED, event, {"digest": digest}, at)


def register(unit: Unit, caller: Caller, at: datetime) -> Registered:
    """Register the key the unit's act names for a user of the caller's member (the act,
    taken in with :attr:`Signing.CERTIFY`); the key as registered."""
    acting = _acting(unit, caller)
    registration = registration_from_body(acting.body)
    check = copy.deepcopy(registry(unit))
    index = unit.ledger.log.size
    made = check.register(
        registration, member=caller.member, key_id=acting.signed.act.key, user=caller.name,
        index=index,
    )  # fmt: skip
    event = {"kind": REGISTERED, "member": caller.member, **registration.to_json()}
    event["key"] = made.key_id
    _keep(unit, caller, acting, REGISTERED, event, registration.to_json(), at)
    forget_offer(unit.session, made.key_id)
    return made


def revoke(unit: Unit, caller: Caller, at: datetime) -> int:
    """Revoke the key the unit's act names (the act, taken in with
    :attr:`Signing.CERTIFY`); the entry."""
    acting = _acting(unit, caller)
    revocation = revocation_from_body(acting.body)
    check = copy.deepcopy(registry(unit))
    index = unit.ledger.log.size
    check.revoke(
        revocation, member=caller.member, key_id=acting.signed.act.key, user=caller.name,
        index=index,
    )  # fmt: skip
    event = {"kind": REVOKED, "member": caller.member, **revocation.to_json()}
    return _keep(unit, caller, acting, REVOKED, event, revocation.to_json(), at)


def _keep(
    unit: Unit,
    caller: Caller,
    acting: Acting,
    kind: str,
    event: Mapping[str, Any],
    body: Mapping[str, Any],
    at: datetime,
) -> int:
    acting.public = True  # who may sign is everyone's to check: the opening is shown
    entry = unit.ledger.append(event, author=caller.member, at=at)
    agreement = unit.center.agreement
    audience = [m.id for m in agreement.acting_members]
    # every member reads the record: each hears at once who may sign (a device waiting for
    # its certification among them)
    publish(unit.session, kind=kind, at=at, audience=audience, payload={**event, "entry": entry})
    keep_key_entry(
        unit.session, entry=entry, kind=kind, member=caller.member, user=caller.name,
        signer=acting.signed.act.key, body=body,
    )  # fmt: skip
    return entry


def keep_key_entry(
    session: Session,
    *,
    entry: int,
    kind: str,
    member: str,
    user: str,
    signer: str,
    body: Mapping[str, Any],
) -> None:
    """The ``key_entries`` row of entry ``entry``: its kind, the acting member and user, the
    key id that signed the act, and what the act asked (``body``, as parsed)."""
    session.execute(
        _entries.insert().values(
            entry=entry, kind=kind, member=member, user=user, signer=signer,
            body=json.dumps(dict(body), sort_keys=True),
        )
    )  # fmt: skip


def forget_offer(session: Session, key_id: str) -> None:
    """The offer of key ``key_id`` is gone: the key is registered."""
    session.execute(_offers.delete().where(_offers.c.key_id == key_id))


# --- offers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    """A public key a device offers for its user."""

    member: str
    user: str
    key: PublicKey
    offered_at: datetime


def offer(unit: Unit, caller: Caller, public_key: str, at: datetime) -> Offer:
    """Keep the public key the caller's device offers (standard base64 of 32 bytes) for its
    member's root holder to certify; the offer (the same one again: the first)."""
    _rooted(unit)
    try:
        raw = decode_base64(public_key, what="public_key", size=32)
    except ValueError as error:
        raise ActError("public_key", str(error)) from None
    key = PublicKey(caller.member, raw)
    if registry(unit).get(key.key_id) is not None:
        raise ActError("public_key", f"key {key.key_id} is registered already")
    found = unit.session.execute(select(_offers).where(_offers.c.key_id == key.key_id)).first()
    if found is not None:
        if (found.member, found.user) != (caller.member, caller.name):
            raise ActError("public_key", f"key {key.key_id} was offered by another user")
        return Offer(found.member, found.user, key, found.offered_at)
    unit.session.execute(
        _offers.insert().values(
            user_id=caller.user_id,
            member=caller.member,
            user=caller.name,
            key_id=key.key_id,
            public_key=public_key,
            offered_at=at,
        )
    )
    return Offer(caller.member, caller.name, key, at)


def offers(session: Session, member: str) -> list[Offer]:
    """The keys offered for ``member``'s users and not registered yet, oldest first."""
    rows = session.execute(
        select(_offers).where(_offers.c.member == member).order_by(_offers.c.id)
    ).all()
    return [
        Offer(r.member, r.user, PublicKey(r.member, decode_base64(r.public_key, what="key")),
              r.offered_at)
        for r in rows
    ]  # fmt: skip
