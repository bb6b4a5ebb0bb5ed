"""``GET /v1/keys``: the key ring, public keys only (the ``KEYS.json`` format)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.identity import Caller

router = APIRouter(prefix="/v1", tags=["record"], responses=ERRORS)


class PublicKeyOut(BaseModel):
    """A named Ed25519 public key (base64 of its 32 bytes)."""

    name: str
    public_key: str


class MemberKeyOut(PublicKeyOut):
    """A member's public key and its role in the key ring."""

    role: str


class KeyRingOut(BaseModel):
    """The center's key (named after the log's origin) and every member's key: save it as
    ``KEYS.json`` and ``accord verify`` checks the record with it."""

    center: PublicKeyOut
    members: list[MemberKeyOut]


@router.get("/keys", response_model=KeyRingOut, summary="The public keys of the record")
def keys(center: CenterDep, _caller: Annotated[Caller, Depends(allow(*ALL_ROLES))]) -> KeyRingOut:
    """Every public key a verifier of the record starts from."""
    return KeyRingOut.model_validate(center.ring.to_json())
