"""Whether a client certificate presented to the TAK endpoint opens it, and as whom.

The listener calls :func:`check_client_certificate` after each TLS handshake (the handshake
already checked the chain against the CA: this does again, so a listener misconfigured to
trust another CA still refuses) and again on each live connection from time to time, so a
revocation or an expiry ends connections already open. The center's database is the truth
(DECISIONS 15: every node sees the same revocations): ``lookup`` finds the issued
certificate by serial, and the fingerprint must match the one issued, so a certificate of
another CA — or one forged with a known serial — is unknown.

Pure: the instant and the lookup are arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from accord.cotpki.ca import fingerprint, serial_of, verify_issued_by
from accord.errors import CertificateRefused

__all__ = ["CertificateRefused", "Holder", "Known", "Lookup", "check_client_certificate"]


@dataclass(frozen=True, slots=True)
class Holder:
    """Whom a connection acts as: the user the certificate names (their member and role)."""

    name: str
    member: str
    role: str


@dataclass(frozen=True, slots=True)
class Known:
    """A certificate as the center issued it, and its user as they stand."""

    serial: str
    fingerprint: str
    holder: Holder
    not_after: datetime
    revoked_at: datetime | None
    user_removed_at: datetime | None


Lookup = Callable[[str], Known | None]
"""The issued certificate of a serial (lowercase hex), if any."""


def check_client_certificate(
    certificate: x509.Certificate | bytes,
    *,
    ca: x509.Certificate,
    now: datetime,
    lookup: Lookup,
) -> Holder:
    """The user ``certificate`` (an object, or its DER as the TLS layer gives it) lets a
    connection act as, at ``now``; else :class:`~accord.errors.CertificateRefused` whose
    ``reason`` is ``malformed``, ``other-ca``, ``unknown``, ``revoked``, ``expired``,
    ``not-yet-valid`` or ``user-removed``."""
    if isinstance(certificate, bytes):
        try:
            certificate = x509.load_der_x509_certificate(certificate)
        except ValueError:
            raise CertificateRefused("malformed", "the client certificate does not read") from None
    serial = serial_of(certificate)
    label = f"certificate {serial[:40]}"
    if not verify_issued_by(certificate, ca):
        raise CertificateRefused("other-ca", f"{label} was not issued by the center's CA")
    known = lookup(serial)
    if known is None or known.fingerprint != fingerprint(certificate):
        raise CertificateRefused("unknown", f"{label} was never issued by this center")
    if known.revoked_at is not None and known.revoked_at <= now:
        raise CertificateRefused("revoked", f"{label} was revoked")
    if now >= min(known.not_after, certificate.not_valid_after_utc):
        raise CertificateRefused("expired", f"{label} has expired")
    if now < certificate.not_valid_before_utc:
        raise CertificateRefused("not-yet-valid", f"{label} is not valid yet")
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [n.value for n in names] != [known.holder.name]:
        raise CertificateRefused("malformed", f"{label} does not name its user")
    if known.user_removed_at is not None and known.user_removed_at <= now:
        raise CertificateRefused("user-removed", f"{label}: its user was removed")
    return known.holder
