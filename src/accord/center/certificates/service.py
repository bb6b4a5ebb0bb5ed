"""TAK client certificates: enrolled from a request, listed, revoked; each change recorded
by the center (issue 21 item 2).

A certificate is a transport credential of the center's (DECISIONS 6), like a token: the
administrator issues and revokes it, and each change is an entry signed by the **center**
(``cot.certificate_issued``: the user's name, member and role, the serial, the end, the
fingerprint and who asked; ``cot.certificate_revoked``: the same but the end) — never a key.
The key is made where it is used (DECISIONS 7): the center signs a request
(:func:`accord.cotpki.ca.read_csr` checks it first) with its CoT CA
(:meth:`accord.center.keystore.KeyStore.cot_authority`) and keeps the certificate's row.

**The user must exist** (``accord users add``, ``POST /v1/users``), as a user of that member
with that role — enrollment never makes one: adding a user is its own recorded act, with its
token shown once, and a certificate is a second credential of a person already admitted,
which the two flags confirm (a mismatch is refused naming the flag, so a typo never issues a
certificate acting for someone else). The certificate's subject is ``CN=<user>``: the
connection acts as that user, with that user's rights, as they stand (a removed user's
certificate is refused). One certificate in force per user: another is refused until the
first is revoked or has expired (a second device is a second user).

Who may manage whom, as for users: the command line manages everyone; an administrator
through the API enrolls and revokes for their own member only (another member is a 403 on
enrollment, and another member's users and certificates answer 404 like no one's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.center.db.models import User
from accord.center.db.models_certificates import CotCertificate
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import format_instant, parse_duration
from accord.cotpki.ca import DEFAULT_LIFETIME, MAX_LIFETIME, check_name, issue, read_csr
from accord.cotpki.check import Holder, Known, Lookup
from accord.errors import IllegalTransition, InputError, Issue, NotAuthorized, NotFound

__all__ = [
    "ISSUED_EVENT",
    "REVOKED_EVENT",
    "CertificateView",
    "Enrolled",
    "Revoked",
    "enroll",
    "lifetime",
    "list_certificates",
    "lookup",
    "revoke",
]

ISSUED_EVENT = "cot.certificate_issued"
REVOKED_EVENT = "cot.certificate_revoked"

_ENTRIES = {
    ISSUED_EVENT: entry_kind(
        ISSUED_EVENT,
        signer=Signer.CENTER,
        required=("user", "member", "role", "serial", "not_after", "fingerprint", "by"),
        fold=None,
        summary="the administrator issues a TAK client certificate to a user (never a key)",
    ),
    REVOKED_EVENT: entry_kind(
        REVOKED_EVENT,
        signer=Signer.CENTER,
        required=("user", "member", "role", "serial", "fingerprint", "by"),
        fold=None,
        summary="the administrator revokes a TAK client certificate; its connections end",
    ),
}

State = Literal["active", "expired", "revoked"]


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as listed."""

    name: str
    member: str
    role: str
    serial: str
    fingerprint: str
    issued_at: datetime
    not_after: datetime
    revoked_at: datetime | None
    state: State


@dataclass(frozen=True, slots=True)
class Enrolled:
    """A certificate issued: its view, its record entry, the certificate and the CA's
    (PEM: what the office packages for the device)."""

    certificate: CertificateView
    entry: int
    pem: bytes
    ca_pem: bytes


@dataclass(frozen=True, slots=True)
class Revoked:
    """The certificates revoked and their entries."""

    certificates: tuple[CertificateView, ...]
    entries: tuple[int, ...]


def lifetime(duration: str | None, *, field: str = "expires") -> timedelta:
    """A certificate's life from an ISO 8601 duration (``P90D``; ``None``: the default),
    else :class:`~accord.errors.InputError` naming ``field``."""
    if duration is None:
        return DEFAULT_LIFETIME
    try:
        length = parse_duration(duration)
    except ValueError as error:
        raise InputError("certificate", [Issue(field, str(error))]) from None
    if not timedelta(0) < length <= MAX_LIFETIME:
        message = f"a certificate lives more than 0 seconds and at most {MAX_LIFETIME.days} days"
        raise InputError("certificate", [Issue(field, message)])
    return length


def _state(row: CotCertificate, at: datetime) -> State:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.not_after <= at else "active"


def _view(row: CotCertificate, user: User, at: datetime) -> CertificateView:
    return CertificateView(
        name=user.name,
        member=user.member,
        role=user.role,
        serial=row.serial,
        fingerprint=row.fingerprint,
        issued_at=row.issued_at,
        not_after=row.not_after,
        revoked_at=row.revoked_at,
        state=_state(row, at),
    )


def list_certificates(
    session: Session, *, at: datetime, member: str | None = None
) -> list[CertificateView]:
    """Every certificate issued (to ``member``'s users only, when given), by user and
    issue time, as they stand at ``at``."""
    query = (
        select(CotCertificate, User)
        .join(User, User.id == CotCertificate.user_id)
        .order_by(User.name, CotCertificate.issued_at, CotCertificate.serial)
    )
    if member is not None:
        query = query.where(User.member == member)
    return [_view(row, user, at) for row, user in session.execute(query)]


def lookup(session: Session) -> Lookup:
    """The lookup :func:`accord.cotpki.check.check_client_certificate` asks: a serial's
    certificate and its user, read from ``session`` on each call."""

    def find(serial: str) -> Known | None:
        found = session.execute(
            select(CotCertificate, User)
            .join(User, User.id == CotCertificate.user_id)
            .where(CotCertificate.serial == serial)
        ).first()
        if found is None:
            return None
        row, user = found
        return Known(
            serial=row.serial,
            fingerprint=row.fingerprint,
            holder=Holder(user.name, user.member, user.role),
            not_after=row.not_after,
            revoked_at=row.revoked_at,
            user_removed_at=user.removed_at,
        )

    return find


def _user(session: Session, name: str, scope: str | None) -> User:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None or (scope is not None and user.member != scope):
        raise NotFound("no such user")
    return user


def _in_force(session: Session, user: User, at: datetime) -> list[CotCertificate]:
    rows = session.scalars(
        select(CotCertificate)
        .where(CotCertificate.user_id == user.id, CotCertificate.revoked_at.is_(None))
        .order_by(CotCertificate.issued_at)
    )
    return [row for row in rows if row.not_after > at]


def _event(kind: str, row: CotCertificate, user: User, by: Mapping[str, str]) -> dict[str, object]:
    fields: dict[str, object] = {
        "user": user.name,
        "member": user.member,
        "role": user.role,
        "serial": row.serial,
        "fingerprint": row.fingerprint,
        "by": dict(by),
    }
    if kind == ISSUED_EVENT:
        fields["not_after"] = format_instant(row.not_after)
    return _ENTRIES[kind].build(fields)


def enroll(
    unit: Unit,
    *,
    name: str,
    member: str,
    role: Role,
    csr: bytes,
    at: datetime,
    length: timedelta = DEFAULT_LIFETIME,
    by: Mapping[str, str],
    scope: str | None = None,
) -> Enrolled:
    """Issue the user ``name`` (of ``member``, with ``role``) a certificate for the key of
    the PEM request ``csr``, valid from ``at`` for ``length``, and record it
    (``cot.certificate_issued``). ``scope``: the only member the asker manages (``None``:
    all).

    Raises :class:`~accord.errors.NotAuthorized` for a member outside ``scope``,
    :class:`~accord.errors.NotFound` for no such user (or another member's),
    :class:`~accord.errors.InputError` naming ``member``, ``role``, ``name`` or the request's
    field, :class:`~accord.errors.IllegalTransition` for a removed user or one whose
    certificate is still in force.
    """
    if scope is not None and member != scope:
        raise NotAuthorized(f"an administrator of {scope} enrolls {scope}'s users only")
    check_name(name)
    session = unit.session
    user = _user(session, name, scope)
    if user.member != member:
        raise InputError("certificate", [Issue("member", f"{name!r} is no user of {member}")])
    if user.role != role.value:
        message = f"{name!r} is a {user.role}, not a {role.value}"
        raise InputError("certificate", [Issue("role", message)])
    if user.removed_at is not None:
        raise IllegalTransition(f"the user {name!r} was removed")
    standing = _in_force(session, user, at)
    if standing:
        raise IllegalTransition(
            f"{name!r} holds certificate {standing[0].serial}, in force: revoke it first"
        )
    request = read_csr(csr, name=name)
    authority = unit.center.keys.cot_authority(at)
    issued = issue(authority, request, name=name, member=member, now=at, lifetime=length)
    row = CotCertificate(
        serial=issued.serial,
        fingerprint=issued.fingerprint,
        user_id=user.id,
        issued_at=at,
        not_after=issued.not_after,
        revoked_at=None,
        entry=0,
    )
    row.entry = unit.ledger.append(
        _event(ISSUED_EVENT, row, user, by), author=unit.center.origin, at=at
    )
    session.add(row)
    session.flush()
    return Enrolled(_view(row, user, at), row.entry, issued.pem(), authority.pem())


def revoke(
    unit: Unit, *, name: str, at: datetime, by: Mapping[str, str], scope: str | None = None
) -> Revoked:
    """Revoke the certificates of the user ``name`` in force at ``at`` and record each
    (``cot.certificate_revoked``): every node's listener refuses them from now on, and
    closes their connections at its next check. None in force is a 409; another member's
    user (for an administrator) a 404."""
    session = unit.session
    user = _user(session, name, scope)
    rows = _in_force(session, user, at)
    if not rows:
        raise IllegalTransition(f"no certificate of {name!r} is in force")
    entries = []
    for row in rows:
        row.revoked_at = at
        row.revoked_entry = unit.ledger.append(
            _event(REVOKED_EVENT, row, user, by), author=unit.center.origin, at=at
        )
        entries.append(row.revoked_entry)
    session.flush()
    return Revoked(tuple(_view(row, user, at) for row in rows), tuple(entries))
