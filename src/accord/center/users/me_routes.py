"""``GET /v1/me``: who the caller is and the agreement's phase now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from accord.agreement import phase_at
from accord.center.acts import REGISTRY
from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import ERRORS, CenterDep
from accord.center.identity import Caller
from accord.center.phases.service import confirmations
from accord.center.phases.views import PhaseOut

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERRORS)


class MeOut(BaseModel):
    """The caller, the member they act for, and the agreement's phase in force."""

    name: str
    member: str
    member_kind: str
    role: str
    agreement: str
    now: datetime
    phase: PhaseOut | None
    confirmations: dict[str, datetime]
    token_expires_at: datetime | None = None
    """When the caller's token stops working (``None``: until rotated or removed)."""
    origin: str
    """The record's origin: every act the caller signs names it."""
    signing: bool
    """Whether the caller's writes must carry their act, signed by the user's own key
    certified by the member's root (the agreement names the members' roots)."""
    keys: list[str]
    """The caller's keys that sign its acts now (key ids): none, and the caller reads but
    cannot act until its member's root certifies one."""


@router.get("/me", response_model=MeOut, summary="Who am I, and which phase is in force")
def me(center: CenterDep, caller: Annotated[Caller, Depends(allow(*ALL_ROLES))]) -> MeOut:
    """The caller's identity and the phase in force now, given the conditions confirmed so
    far (condition → earliest confirmation), and when the caller's token expires."""
    now = center.now()
    with center.reading() as session:
        confirmed = confirmations(session)
        registry = center.cache(REGISTRY).get(session)
        size = center.log(session).size
    keys = [
        k.key_id
        for k in registry.registered()
        if k.member == caller.member and k.user == caller.name and k.valid_at(size) and
        "act" in k.purposes
    ]  # fmt: skip
    return MeOut(
        name=caller.name,
        member=caller.member,
        member_kind=center.keys.members.get(caller.member, "unknown"),
        role=caller.role.value,
        agreement=center.agreement.id,
        now=now,
        phase=PhaseOut.of(phase_at(center.agreement, now, confirmed)),
        confirmations=confirmed,
        token_expires_at=caller.expires_at,
        origin=center.origin,
        signing=center.agreement.rooted,
        keys=keys,
    )
