"""``/v1/agreement/signatures`` and ``/v1/keys/…``: a member's root signs the agreement and
certifies its users' keys; devices offer theirs.

Every ``POST`` here but an offer is an act of the member's **root** (or a key it certified to
certify), signed at the member's office (``accord keys certify``, ``accord agreement sign``)
and carried by any of the member's users' tokens: the token moves it, the signature makes it.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center.acts import REGISTRY, Signing
from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.runtime import Unit
from accord.center.signing import service
from accord.record.canonical import encode_base64
from accord.record.registry import Registered, fingerprint

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["signing"], responses=ERRORS)

_KEY_ID = r"^[0-9a-f]{16}$"
_PUBLIC_KEY = Field(min_length=44, max_length=44, description="standard base64 of 32 bytes")


class SignatureIn(BaseModel):
    """The agreement's digest, as the member's root signed it."""

    model_config = ConfigDict(extra="forbid")
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")


class SignedOut(BaseModel):
    """The root's signature as recorded, and whether the agreement is in force now."""

    member: str
    digest: str
    entry: int
    in_force: bool


class RegistrationIn(BaseModel):
    """A user's new key, for what, and the key it replaces."""

    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=64)
    public_key: str = _PUBLIC_KEY
    purposes: list[str] = Field(default_factory=lambda: ["act"], min_length=1, max_length=2)
    replaces: str | None = Field(default=None, pattern=_KEY_ID)


class RevocationIn(BaseModel):
    """The key to revoke, and why."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=_KEY_ID)
    reason: str = Field(default="", max_length=500)


class KeyOut(BaseModel):
    """A key the record holds: whose, for what, its fingerprint, and the entries that began
    and ended it."""

    member: str
    user: str
    key: str
    fingerprint: str
    public_key: str
    purposes: list[str]
    registered_at: int
    registered_by: str
    ended_at: int | None
    ended_how: str | None

    @classmethod
    def of(cls, k: Registered) -> KeyOut:
        return cls(
            member=k.member,
            user=k.user,
            key=k.key_id,
            fingerprint=fingerprint(k.key.raw),
            public_key=encode_base64(k.key.raw),
            purposes=sorted(k.purposes),
            registered_at=k.registered_at,
            registered_by=k.registered_by,
            ended_at=k.ended_at,
            ended_how=k.ended_how,
        )


class RegistryOut(BaseModel):
    """Who may sign: the roots that signed the agreement (member → entry), the entry from
    which it is in force, and every key registered."""

    signed: dict[str, int]
    in_force_at: int | None
    keys: list[KeyOut]


class RevokedOut(BaseModel):
    key: str
    entry: int


class OfferIn(BaseModel):
    """The public key this device made, to be certified."""

    model_config = ConfigDict(extra="forbid")
    public_key: str = _PUBLIC_KEY


class OfferOut(BaseModel):
    """A key offered: whose, its fingerprint (to compare, read aloud, before certifying)."""

    member: str
    user: str
    key: str
    fingerprint: str
    public_key: str
    offered_at: datetime


class OffersOut(BaseModel):
    items: list[OfferOut]


def _offer_out(o: service.Offer) -> OfferOut:
    return OfferOut(
        member=o.member,
        user=o.user,
        key=o.key.key_id,
        fingerprint=fingerprint(o.key.raw),
        public_key=encode_base64(o.key.raw),
        offered_at=o.offered_at,
    )


Anyone = Annotated[Caller, Depends(allow(*ALL_ROLES))]


@router.post(
    "/agreement/signatures",
    response_model=SignedOut,
    status_code=201,
    summary="A member's root signs the agreement",
    responses=CONFLICT,
)
async def sign_agreement(
    center: CenterDep, request: Request, caller: Anyone, body: Annotated[SignatureIn, Body()]
) -> JSONResponse:
    """Record the caller's member's root signature of the agreement's digest (the request's
    act, signed by the root). The agreement is in force once every party's root signed it."""
    act = partial(_sign, caller=caller, at=center.now())
    return await write(center, request, caller, act, body=body, signing=Signing.ROOT)


def _sign(unit: Unit, *, caller: Caller, at: datetime) -> SignedOut:
    entry = service.sign_agreement(unit, caller, at)
    digest = unit.ledger.acting.body["digest"] if unit.ledger.acting else ""
    in_force = service.registry(unit).in_force_at is not None  # folded again: it changed
    return SignedOut(member=caller.member, digest=digest, entry=entry, in_force=in_force)


@router.post(
    "/keys/registrations",
    response_model=KeyOut,
    status_code=201,
    summary="Register a user's key (signed by the member's root or a certifying key)",
    responses=CONFLICT,
)
async def register_key(
    center: CenterDep, request: Request, caller: Anyone, body: Annotated[RegistrationIn, Body()]
) -> JSONResponse:
    """Register a key for a user of the caller's member, from this entry on (``replaces``:
    the user's old key ends here)."""
    act = partial(_register, caller=caller, at=center.now())
    return await write(center, request, caller, act, body=body, signing=Signing.CERTIFY)


def _register(unit: Unit, *, caller: Caller, at: datetime) -> KeyOut:
    return KeyOut.of(service.register(unit, caller, at))


@router.post(
    "/keys/revocations",
    response_model=RevokedOut,
    status_code=201,
    summary="Revoke a key (signed by the member's root or a certifying key)",
    responses=CONFLICT,
)
async def revoke_key(
    center: CenterDep, request: Request, caller: Anyone, body: Annotated[RevocationIn, Body()]
) -> JSONResponse:
    """End a key of the caller's member from this entry on: its later acts are refused."""
    act = partial(_revoke, caller=caller, at=center.now())
    return await write(center, request, caller, act, body=body, signing=Signing.CERTIFY)


def _revoke(unit: Unit, *, caller: Caller, at: datetime) -> RevokedOut:
    entry = service.revoke(unit, caller, at)
    key = unit.ledger.acting.body["key"] if unit.ledger.acting else ""
    return RevokedOut(key=key, entry=entry)


@router.get("/keys/registry", response_model=RegistryOut, summary="Who may sign, and since when")
def key_registry(center: CenterDep, _caller: Anyone) -> RegistryOut:
    """The roots' signatures of the agreement and every key registered (all of it is in the
    record, which every member reads)."""
    with center.reading() as session:
        registry = center.cache(REGISTRY).get(session)
        return RegistryOut(
            signed=dict(registry.signed),
            in_force_at=registry.in_force_at,
            keys=[KeyOut.of(k) for k in registry.registered()],
        )


@router.post(
    "/keys/offers",
    response_model=OfferOut,
    status_code=201,
    summary="Offer this device's public key for certification",
    responses=CONFLICT,
)
async def offer_key(
    center: CenterDep, request: Request, caller: Anyone, body: Annotated[OfferIn, Body()]
) -> JSONResponse:
    """Keep the key for the member's root holder to certify (nothing is recorded, nothing
    trusted: only a registration signed by the root makes it count)."""
    act = partial(_offer, caller=caller, public_key=body.public_key, at=center.now())
    return await write(center, request, caller, act, body=body, signing=None)


def _offer(unit: Unit, *, caller: Caller, public_key: str, at: datetime) -> OfferOut:
    return _offer_out(service.offer(unit, caller, public_key, at))


@router.get("/keys/offers", response_model=OffersOut, summary="Keys offered for my member")
def key_offers(center: CenterDep, caller: Anyone) -> OffersOut:
    """The keys the caller's member's devices offered and its root has not registered yet."""
    with center.reading() as session:
        return OffersOut(items=[_offer_out(o) for o in service.offers(session, caller.member)])
