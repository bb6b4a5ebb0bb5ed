"""The center's CoT CA and the certificates it issues, from a request checked first.

**The key type is ECDSA P-256 with SHA-256**, for the CA and for the device keys Accord
makes. TAK clients are Java and Android programs: ATAK reads its certificates from PKCS#12
files through Android's key store and speaks TLS through Conscrypt (BoringSSL), which take
RSA and ECDSA (P-256, P-384) certificates; neither accepts Ed25519 in an X.509 chain, nor
does TAK Server's Java, nor do most TLS stacks in the field — so Accord's Ed25519 (the
record's) stays out of TLS. P-256 is the ECDSA curve every one of them supports, with
keys and signatures far smaller than RSA's. A request may carry an ECDSA P-256 or P-384
key, or RSA of 2048 to 4096 bits (what ATAK's own enrollment makes); nothing else.

**A request is checked, never trusted** (:func:`read_csr`): at most :data:`MAX_CSR_BYTES`
of PEM, one request, its signature valid (the requester holds the key), its subject's
common name exactly the user's name, and no extension asking for a CA's powers (basic
constraints ``CA:TRUE``, key usage ``keyCertSign`` or ``cRLSign``): those are refused
naming the field. Nothing of the request but its public key is used: the center writes the
subject (``CN=<user>, O=<member>``) and every extension itself — not a CA, a digital
signature key (and key encipherment for RSA) for TLS client authentication only.

No clock here: every instant is an argument (UTC, with its offset).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.errors import InputError, Issue

__all__ = [
    "CA_LIFETIME",
    "CLOCK_SKEW",
    "DEFAULT_LIFETIME",
    "MAX_CSR_BYTES",
    "MAX_LIFETIME",
    "NAME_PATTERN",
    "Authority",
    "DeviceKey",
    "Issued",
    "check_name",
    "fingerprint",
    "issue",
    "issue_server",
    "make_csr",
    "new_authority",
    "new_device_key",
    "read_certificate",
    "read_csr",
    "self_sign",
    "serial_of",
    "verify_issued_by",
]

CA_LIFETIME = timedelta(days=3653)
"""The CA's certificate lives ten years (a new CA means every device enrolled again)."""

DEFAULT_LIFETIME = timedelta(days=90)
"""A client certificate's life when ``--expires`` is not given."""

MAX_LIFETIME = timedelta(days=730)
"""The longest a client certificate may live (two years; never past the CA's own end)."""

CLOCK_SKEW = timedelta(minutes=5)
"""A certificate is valid from this long before it was issued: a device whose clock runs a
little behind is not refused (DECISIONS 10's ±5 minutes)."""

MAX_CSR_BYTES = 16 * 1024
"""The largest request read: an RSA-4096 request is under 2 KiB of PEM."""

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A name a certificate can carry and a file can be named after (``NAME.pem``)."""

DeviceKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""A key a TAK client can use: ECDSA (P-256, P-384) or RSA."""

_CURVES = ("secp256r1", "secp384r1")
_RSA_BITS = (2048, 4096)


@dataclass(frozen=True, slots=True)
class Authority:
    """The CA: its private key and its self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def pem(self) -> bytes:
        """The CA's certificate as PEM (``ca.pem``: what clients and the listener trust)."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True, slots=True)
class Issued:
    """A client certificate issued: the certificate, its serial (lowercase hex), its
    SHA-256 fingerprint (lowercase hex of the DER, as TAK Server computes it) and its end."""

    certificate: x509.Certificate
    serial: str
    fingerprint: str
    not_after: datetime

    def pem(self) -> bytes:
        """The certificate as PEM (``NAME.pem``)."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def check_name(name: str, *, field: str = "name") -> str:
    """``name`` if a certificate and a file may carry it, else
    :class:`~accord.errors.InputError` naming ``field``."""
    if not NAME_PATTERN.fullmatch(name):
        message = "1 to 64 of letters, digits, '.', '_' and '-', starting with a letter or digit"
        raise InputError("certificate", [Issue(field, message)])
    return name


def _utc(at: datetime, field: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError("certificate", [Issue(field, "an instant needs its UTC offset")])
    return at


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 of the certificate's DER, lowercase hex."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def serial_of(certificate: x509.Certificate) -> str:
    """The certificate's serial number, lowercase hex (no leading zeros)."""
    return format(certificate.serial_number, "x")


def new_device_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key for a device (made on the device's side, never the center's)."""
    return ec.generate_private_key(ec.SECP256R1())


def new_authority(*, name: str, now: datetime) -> Authority:
    """A new CA for the center whose log origin is ``name``: a P-256 key and its
    certificate, valid from ``now`` for :data:`CA_LIFETIME`."""
    key = ec.generate_private_key(ec.SECP256R1())
    return Authority(key, self_sign(key, name=name, now=now))


def self_sign(key: ec.EllipticCurvePrivateKey, *, name: str, now: datetime) -> x509.Certificate:
    """The CA certificate of ``key``: ``CN=Accord CoT CA, O=<name>``, a CA that issues end
    certificates only (path length 0), signing certificates and CRLs only."""
    now = _utc(now, "now")
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Accord CoT CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def make_csr(key: DeviceKey, *, name: str) -> x509.CertificateSigningRequest:
    """The request for ``key`` (``CN=<name>``), as ``accord cot csr`` writes it."""
    check_name(name)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    return builder.sign(key, hashes.SHA256())


def _bad(field: str, message: str) -> InputError:
    return InputError("csr", [Issue(field, message)])


def read_csr(data: bytes, *, name: str) -> x509.CertificateSigningRequest:
    """The PEM request ``data`` for the user ``name``, checked (the module says what);
    :class:`~accord.errors.InputError` (source ``csr``) naming the field at fault."""
    if len(data) > MAX_CSR_BYTES:
        raise _bad("csr", f"{len(data)} bytes: a request is at most {MAX_CSR_BYTES} bytes")
    if data.count(b"-----BEGIN") != 1:
        raise _bad("csr", "one PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)")
    try:
        csr = x509.load_pem_x509_csr(data)
    except (ValueError, UnsupportedAlgorithm):
        raise _bad("csr", "not a PEM certificate request") from None
    try:
        valid = csr.is_signature_valid
        public = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise _bad("csr.public_key", "a key of a kind the request cannot carry") from None
    if not valid:
        raise _bad("csr.signature", "does not verify: the request is not signed by its key")
    _check_key(public)
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1:
        raise _bad("csr.subject.CN", f"one common name, the user's ({name!r})")
    common = names[0].value
    if common != name:
        shown = common if isinstance(common, str) else repr(common)
        raise _bad("csr.subject.CN", f"names {shown[:64]!r}, not the user {name!r}")
    _check_extensions(csr)
    return csr


def _check_key(public: object) -> None:
    if isinstance(public, ec.EllipticCurvePublicKey):
        if public.curve.name not in _CURVES:
            raise _bad("csr.public_key", f"ECDSA on {public.curve.name}: P-256 or P-384 only")
        return
    if isinstance(public, rsa.RSAPublicKey):
        low, high = _RSA_BITS
        if not low <= public.key_size <= high:
            raise _bad("csr.public_key", f"RSA of {public.key_size} bits: {low} to {high} only")
        return
    raise _bad("csr.public_key", f"{type(public).__name__}: ECDSA (P-256, P-384) or RSA only")


def _check_extensions(csr: x509.CertificateSigningRequest) -> None:
    try:
        extensions = csr.extensions
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        raise _bad("csr.extensions", "do not read (a duplicate or malformed extension)") from None
    for extension in extensions:
        value = extension.value
        if isinstance(value, x509.BasicConstraints) and value.ca:
            raise _bad("csr.extensions.basicConstraints", "asks to be a CA: refused")
        if isinstance(value, x509.KeyUsage) and (value.key_cert_sign or value.crl_sign):
            raise _bad("csr.extensions.keyUsage", "asks to sign certificates or CRLs: refused")


def issue(
    authority: Authority,
    csr: x509.CertificateSigningRequest,
    *,
    name: str,
    member: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> Issued:
    """The client certificate of ``csr``'s key for the user ``name`` of ``member``
    (``csr`` already read by :func:`read_csr`), valid from ``now`` (less
    :data:`CLOCK_SKEW`) for ``lifetime``, never past the CA's own end."""
    now = _utc(now, "now")
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        message = f"more than 0 seconds and at most {MAX_LIFETIME.days} days"
        raise InputError("certificate", [Issue("expires", message)])
    ca = authority.certificate
    not_after = min(now + lifetime, ca.not_valid_after_utc)
    if not_after <= now:
        raise InputError("certificate", [Issue("ca", "the CA's certificate has expired")])
    public = csr.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)  # read_csr's
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, member),
        ]
    )
    ca_key_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(public, rsa.RSAPublicKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )
    return Issued(
        certificate=certificate,
        serial=serial_of(certificate),
        fingerprint=fingerprint(certificate),
        not_after=certificate.not_valid_after_utc,
    )


def issue_server(
    authority: Authority,
    public: ec.EllipticCurvePublicKey,
    *,
    hosts: list[str],
    now: datetime,
    lifetime: timedelta = MAX_LIFETIME,
) -> x509.Certificate:
    """The TAK endpoint's own certificate (for ``public``, the listener's key), naming
    ``hosts`` (DNS names or IP addresses) as TLS server: the clients trust it through the
    trust store of their package, which holds this CA."""
    now = _utc(now, "now")
    if not hosts:
        raise InputError("certificate", [Issue("hosts", "at least one host name or address")])
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    ca = authority.certificate
    ca_key_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(min(now + lifetime, ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )


def read_certificate(data: bytes, *, field: str = "certificate") -> x509.Certificate:
    """One PEM (or DER) certificate, else :class:`~accord.errors.InputError` naming
    ``field``."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("certificate", [Issue(field, "not an X.509 certificate")]) from None


def verify_issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether ``ca`` signed ``certificate`` (its issuer name and its signature)."""
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True
