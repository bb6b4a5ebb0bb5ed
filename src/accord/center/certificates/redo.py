"""Redo of the TAK client certificates' entries (:mod:`accord.center.recovery.redo`): the
``cot_certificates`` row :mod:`accord.center.certificates.service` wrote when it issued one
(``cot.certificate_issued``: serial, fingerprint, user, issued at the entry's time, end) and
revoked it (``cot.certificate_revoked``), from the center's entry. The certificate itself
was never kept (the device holds it, its key never left the device): nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping

from accord.center.certificates.service import ISSUED_EVENT, REVOKED_EVENT
from accord.center.db.models import User
from accord.center.db.models_certificates import CotCertificate
from accord.center.recovery.redo import Redo, Redoing, Redone
from accord.chrono import parse_instant

__all__ = ["REDO"]


def _holder(context: Redoing, entry: Redone) -> User:
    """The user the entry names, checked against the event's member and role."""
    if entry.author != context.origin:
        raise ValueError(f"{entry.author}, not the center, wrote a {entry.kind} entry")
    event = entry.event
    user_id = context.user_id(str(event["user"]))
    user = None if user_id is None else context.session.get(User, user_id)
    if user is None:
        raise KeyError(f"user {event['user']!r} is in no earlier entry")
    if (user.member, user.role) != (event["member"], event["role"]):
        raise ValueError(f"user {user.name!r} is a {user.role} of {user.member}")
    return user


def _issued(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.certificates.service.enroll` wrote it."""
    event, session = entry.event, context.session
    user = _holder(context, entry)
    serial = str(event["serial"])
    if session.get(CotCertificate, serial) is not None:
        raise ValueError(f"certificate {serial} was issued already")
    session.add(
        CotCertificate(
            serial=serial, fingerprint=str(event["fingerprint"]), user_id=user.id,
            issued_at=entry.at, not_after=parse_instant(str(event["not_after"])),
            revoked_at=None, entry=entry.index,
        )
    )  # fmt: skip


def _revoked(context: Redoing, entry: Redone) -> None:
    """As :func:`~accord.center.certificates.service.revoke` wrote it (one entry a row)."""
    event = entry.event
    user = _holder(context, entry)
    row = context.session.get(CotCertificate, str(event["serial"]))
    if row is None:
        raise KeyError(f"certificate {event['serial']} is in no earlier entry")
    if row.user_id != user.id or row.fingerprint != event["fingerprint"]:
        raise ValueError(f"certificate {row.serial} is not {user.name}'s of that fingerprint")
    if row.revoked_at is not None:
        raise ValueError(f"certificate {row.serial} was revoked already")
    row.revoked_at = entry.at
    row.revoked_entry = entry.index


REDO: Mapping[str, Redo] = {
    ISSUED_EVENT: _issued,
    REVOKED_EVENT: _revoked,
}
