"""``/v1/cot/certificates``: an administrator lists, enrolls (from a request their office or
the device made) and revokes the TAK client certificates of their own member's users (see
:mod:`accord.center.certificates.service`: each change is an entry signed by the center).

No answer holds a secret (the center never sees a key), so a retry with the same
``Idempotency-Key`` replays the first answer as for any write.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from accord.center.certificates.service import (
    CertificateView,
    Enrolled,
    Revoked,
    enroll,
    lifetime,
    list_certificates,
    revoke,
)
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep, problem
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.cotpki.ca import MAX_CSR_BYTES

router = APIRouter(prefix="/v1/cot/certificates", tags=["cot"], responses=ERRORS)

_NOT_FOUND = problem(404, "No user of the caller's member has this name")
UserName = Annotated[str, Path(min_length=1, max_length=64)]
Admin = Annotated[Caller, Depends(allow(Role.ADMIN))]
Lister = Annotated[Caller, Depends(allow(Role.ADMIN, Role.OFFICER))]
"""Who lists: the administrator, and an officer — its own member's certificates' states,
what a party's gateway (``accord cot gateway``, an officer) checks its devices against
(no key, no secret: serials, fingerprints, users, ends, revocations)."""


class CertificateOut(BaseModel):
    """A certificate as the administrator sees it (never a key)."""

    name: str
    member: str
    role: str
    serial: str
    fingerprint: str
    issued_at: datetime
    not_after: datetime
    revoked_at: datetime | None
    state: str

    @classmethod
    def of(cls, view: CertificateView) -> CertificateOut:
        """The model of ``view``."""
        return cls(
            name=view.name,
            member=view.member,
            role=view.role,
            serial=view.serial,
            fingerprint=view.fingerprint,
            issued_at=view.issued_at,
            not_after=view.not_after,
            revoked_at=view.revoked_at,
            state=view.state,
        )


class CertificatesOut(BaseModel):
    """The certificates of the caller's member's users, by user and issue time."""

    items: list[CertificateOut]


class EnrollIn(BaseModel):
    """A request to enroll: the user (who must exist, of this member and role) and the PEM
    certificate signing request made where the key lives."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    member: str = Field(min_length=1, max_length=64)
    role: Role
    csr: str = Field(min_length=1, max_length=MAX_CSR_BYTES)
    expires: str | None = Field(
        default=None, max_length=64, description="ISO 8601 duration (default P90D)."
    )


class EnrolledOut(BaseModel):
    """The certificate issued, the center's record entry, and the PEM of the certificate
    and of the CA (what ``accord cot package`` needs beside the key)."""

    certificate: CertificateOut
    entry: int
    pem: str
    ca_pem: str

    @classmethod
    def of(cls, done: Enrolled) -> EnrolledOut:
        """The model of ``done``."""
        return cls(
            certificate=CertificateOut.of(done.certificate),
            entry=done.entry,
            pem=done.pem.decode("ascii"),
            ca_pem=done.ca_pem.decode("ascii"),
        )


class RevokedOut(BaseModel):
    """The certificates revoked and their record entries."""

    items: list[CertificateOut]
    entries: list[int]

    @classmethod
    def of(cls, done: Revoked) -> RevokedOut:
        """The model of ``done``."""
        return cls(
            items=[CertificateOut.of(c) for c in done.certificates], entries=list(done.entries)
        )


def _by(caller: Caller) -> dict[str, str]:
    return {"user": caller.name, "member": caller.member}


@router.get("", response_model=CertificatesOut, summary="List the member's TAK certificates")
def certificates(center: CenterDep, caller: Lister) -> CertificatesOut:
    """The certificates of the caller's own member's users (an administrator's, or an
    officer's: what its party's gateway checks devices against): name, member, role,
    serial, fingerprint, issued, ends, revoked, state (``active``, ``expired``,
    ``revoked``)."""
    now = center.now()
    with center.reading() as session:
        found = list_certificates(session, at=now, member=caller.member)
    return CertificatesOut(items=[CertificateOut.of(c) for c in found])


@router.post(
    "",
    response_model=EnrolledOut,
    status_code=201,
    summary="Issue a user of the caller's member a TAK certificate from a request",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def add(center: CenterDep, caller: Admin, body: Annotated[EnrollIn, Body()]) -> EnrolledOut:
    """Sign the request for a user of the administrator's own member (403 for another
    member; 404 for a user of another member or none); the request's common name must be
    the user's name and it may not ask to be a CA (422 naming the field)."""
    at = center.now()
    work = partial(
        _enroll,
        name=body.name,
        member=body.member,
        role=body.role,
        csr=body.csr.encode("utf-8"),
        at=at,
        length=lifetime(body.expires),
        caller=caller,
    )
    done: EnrolledOut = await center.write(work)
    return done


@router.delete(
    "/{name}",
    response_model=RevokedOut,
    summary="Revoke a user's TAK certificate; its connections end",
    responses={**CONFLICT, **_NOT_FOUND},
)
async def remove(center: CenterDep, caller: Admin, name: UserName) -> RevokedOut:
    """Revoke the certificate in force of a user of the administrator's member (409 if
    none is); every node's TAK endpoint refuses it from then on."""
    work = partial(_revoke, name=name, at=center.now(), caller=caller)
    done: RevokedOut = await center.write(work)
    return done


def _enroll(
    unit: Unit,
    *,
    name: str,
    member: str,
    role: Role,
    csr: bytes,
    at: datetime,
    length: timedelta,
    caller: Caller,
) -> EnrolledOut:
    """The writer's work (module functions: a writer process receives them pickled)."""
    done = enroll(
        unit,
        name=name,
        member=member,
        role=role,
        csr=csr,
        at=at,
        length=length,
        by=_by(caller),
        scope=caller.member,
    )
    return EnrolledOut.of(done)


def _revoke(unit: Unit, *, name: str, at: datetime, caller: Caller) -> RevokedOut:
    return RevokedOut.of(revoke(unit, name=name, at=at, by=_by(caller), scope=caller.member))
