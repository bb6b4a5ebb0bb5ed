"""What a TAK client imports: PKCS#12 bundles, the server preference file and the data
package (``NAME.zip``) that ATAK imports in one tap.

The package is a zip (stored, dated 1980-01-01 so the same inputs give the same bytes)::

    MANIFEST/manifest.xml   MissionPackageManifest version 2: its uid and name, the contents
    certs/NAME.p12          the client's key, certificate and the CA (password-protected)
    certs/truststore.p12    the CA alone: what the client trusts the server by
    certs/accord.pref       the connection: cot_streams (connectString0 = host:port:ssl) and
                            the certificates' locations and passwords

The preference keys are ATAK's, as TAK servers' packages write them: ``cot_streams``'s
``count``, ``description0``, ``enabled0``, ``connectString0`` (``host:port:ssl``) and the
per-connection ``caLocation0``, ``caPassword0``, ``certificateLocation0``,
``clientPassword0``; and, in ``com.atakmap.app_preferences``, the same four without the
index (``caLocation``, ``caPassword``, ``certificateLocation``, ``clientPassword``), which
older clients and pytak's reader use. Sources: pytak 7.6 (snstac/pytak,
``onboarding_packages.build_connection_config_pref_xml`` and ``functions.load_preferences``)
and the packages of pvarki/python-tak-rmapi (``tak_missionpkg/default/atak/server.pref``).
A certificate's location is ``cert/<file>``: ATAK copies the package's certificates into its
``cert`` folder on import.

The bundles are encrypted as ATAK's Android key store reads them — PBES1 with SHA-1 and
3-key triple DES, a SHA-1 MAC, 2048 rounds (what pytak writes for ATAK, and what
``openssl pkcs12 -legacy`` does): current OpenSSL's default (PBES2, AES-256) fails to import
on the Android versions ATAK still supports. That cipher protects the bundle while it
travels apart from its password; the package holds both (its preference file names the
password), so **the package is as secret as the key**: written mode 0600, handed to the
device alone, deleted after import (``onReceiveDelete``).
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    KeySerializationEncryption,
    PrivateFormat,
    pkcs12,
)

from accord.cotpki.ca import DeviceKey, check_name, fingerprint
from accord.errors import InputError, Issue

__all__ = [
    "ATAK_DEFAULT_PASSWORD",
    "PREF_ENTRY",
    "TRUSTSTORE_ENTRY",
    "Server",
    "check_password",
    "client_p12",
    "data_package",
    "manifest_xml",
    "parse_server",
    "server_pref",
    "truststore_p12",
]

ATAK_DEFAULT_PASSWORD = "atakatak"
"""The password TAK's own tools give every bundle: used only when asked for by name."""

TRUSTSTORE_ENTRY = "certs/truststore.p12"
GATEWAY_TRUSTSTORE_ENTRY = "certs/gateway-truststore.p12"
"""The party's gateway's own CA (``accord cot gateway``'s ``cot-ca.pem``): the second
stream's trust store, so only the party's gateway can stand in for it."""
PREF_ENTRY = "certs/accord.pref"
_DATE = (1980, 1, 1, 0, 0, 0)
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*")
_PACKAGES = uuid.UUID("6c1a7f58-5f0e-4c4e-9d0c-6f0a2c1d9e21")
"""The namespace of the packages' uids (a uid per certificate: the same on a re-import)."""


@dataclass(frozen=True, slots=True)
class Server:
    """The center's TAK endpoint as a client dials it."""

    host: str
    port: int

    def connect_string(self) -> str:
        """ATAK's ``connectString0``: ``host:port:ssl``."""
        return f"{self.host}:{self.port}:ssl"


def parse_server(text: str, *, field: str = "--server") -> Server:
    """``HOST:PORT`` (a host name or IPv4 address; ATAK's connection string has no room for
    an IPv6 literal), else :class:`~accord.errors.InputError` naming ``field``."""
    host, colon, port = text.rpartition(":")
    if not colon or not _HOST.fullmatch(host) or len(host) > 253:
        raise InputError("server", [Issue(field, f"{text[:80]!r}: HOST:PORT, e.g. center:8089")])
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InputError("server", [Issue(field, f"port {port[:8]!r}: 1 to 65535")])
    return Server(host, int(port))


def check_password(password: str, *, field: str = "password") -> str:
    """``password`` if it can protect a bundle and stand in a preference file: 8 to 128
    printable ASCII characters; else :class:`~accord.errors.InputError` naming ``field``."""
    if not 8 <= len(password) <= 128 or not all(" " < c <= "~" for c in password):
        message = "8 to 128 printable ASCII characters, no spaces"
        raise InputError("p12", [Issue(field, message)])
    return password


def _encryption(password: str) -> KeySerializationEncryption:
    check_password(password)
    return (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password.encode("utf-8"))
    )


def _friendly(certificate: x509.Certificate) -> bytes:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    value = names[0].value if names else "certificate"
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def client_p12(
    *, name: str, key: DeviceKey, certificate: x509.Certificate, ca: x509.Certificate, password: str
) -> bytes:
    """``NAME.p12``: the client's key and certificate and the CA, under ``password``."""
    check_name(name)
    if certificate.public_key() != key.public_key():
        raise InputError("p12", [Issue("key", "is not the key of the certificate")])
    return pkcs12.serialize_key_and_certificates(
        name=name.encode("ascii"),
        key=key,
        cert=certificate,
        cas=[pkcs12.PKCS12Certificate(ca, _friendly(ca))],
        encryption_algorithm=_encryption(password),
    )


def truststore_p12(*, ca: x509.Certificate, password: str) -> bytes:
    """The trust store: the CA's certificate alone, under ``password`` (ATAK asks for one)."""
    return pkcs12.serialize_key_and_certificates(
        name=None,
        key=None,
        cert=None,
        cas=[pkcs12.PKCS12Certificate(ca, _friendly(ca))],
        encryption_algorithm=_encryption(password),
    )


def _entry(key: str, kind: str, value: str) -> str:
    return f"    <entry key={quoteattr(key)} class={quoteattr(kind)}>{escape(value)}</entry>\n"


def server_pref(
    *,
    name: str,
    server: Server,
    password: str,
    client: str,
    truststore: str,
    gateway: Server | None = None,
    gateway_truststore: str | None = None,
) -> str:
    """The preference file (the module says which keys); ``client`` and ``truststore`` are
    the bundles' file names. With ``gateway``, a second stream (``connectString1``): the
    party's gateway, trusted through ``gateway_truststore``, the same client certificate."""
    string, boolean = "class java.lang.String", "class java.lang.Boolean"
    locations = [
        ("caLocation", f"cert/{truststore}"),
        ("caPassword", password),
        ("certificateLocation", f"cert/{client}"),
        ("clientPassword", password),
    ]
    streams = [
        _entry("count", "class java.lang.Integer", "1" if gateway is None else "2"),
        _entry("description0", string, f"Accord ({name})"),
        _entry("enabled0", boolean, "true"),
        _entry("connectString0", string, server.connect_string()),
        *(_entry(f"{key}0", string, value) for key, value in locations),
    ]
    if gateway is not None:
        trusted = [("caLocation", f"cert/{gateway_truststore}"), *locations[1:]]
        streams += [
            _entry("description1", string, f"Accord gateway ({name})"),
            _entry("enabled1", boolean, "true"),
            _entry("connectString1", string, gateway.connect_string()),
            *(_entry(f"{key}1", string, value) for key, value in trusted),
        ]
    app = [
        _entry("displayServerConnectionWidget", boolean, "true"),
        _entry("locationCallsign", string, name),
        *(_entry(key, string, value) for key, value in locations),
    ]
    return (
        "<?xml version='1.0' encoding='ASCII' standalone='yes'?>\n"
        "<preferences>\n"
        '  <preference version="1" name="cot_streams">\n' + "".join(streams) + "  </preference>\n"
        '  <preference version="1" name="com.atakmap.app_preferences">\n'
        + "".join(app)
        + "  </preference>\n"
        "</preferences>\n"
    )


def manifest_xml(*, uid: str, name: str, entries: list[str]) -> str:
    """``MANIFEST/manifest.xml``: a MissionPackageManifest version 2 naming ``entries``,
    deleted from the device once imported."""
    contents = "".join(
        f'    <Content ignore="false" zipEntry={quoteattr(entry)}/>\n' for entry in entries
    )
    return (
        '<MissionPackageManifest version="2">\n'
        "  <Configuration>\n"
        f'    <Parameter name="uid" value={quoteattr(uid)}/>\n'
        f'    <Parameter name="name" value={quoteattr(name)}/>\n'
        '    <Parameter name="onReceiveImport" value="true"/>\n'
        '    <Parameter name="onReceiveDelete" value="true"/>\n'
        "  </Configuration>\n"
        "  <Contents>\n"
        f"{contents}"
        "  </Contents>\n"
        "</MissionPackageManifest>\n"
    )


def data_package(
    *,
    name: str,
    key: DeviceKey,
    certificate: x509.Certificate,
    ca: x509.Certificate,
    server: Server,
    password: str,
    gateway: Server | None = None,
    gateway_ca: x509.Certificate | None = None,
) -> tuple[bytes, bytes]:
    """``NAME.p12`` and the data package ``NAME.zip`` (the module says what it holds); with
    ``gateway`` and ``gateway_ca``, the party's gateway as a second stream, its CA in a trust
    store of its own."""
    if (gateway is None) != (gateway_ca is None):
        raise InputError("package", [Issue("--gateway-ca", "give --gateway with --gateway-ca")])
    check_name(name)
    client = client_p12(name=name, key=key, certificate=certificate, ca=ca, password=password)
    trust = truststore_p12(ca=ca, password=password)
    client_entry = f"certs/{name}.p12"
    pref = server_pref(
        name=name,
        server=server,
        password=password,
        client=f"{name}.p12",
        truststore=TRUSTSTORE_ENTRY.rpartition("/")[2],
        gateway=gateway,
        gateway_truststore=GATEWAY_TRUSTSTORE_ENTRY.rpartition("/")[2],
    )
    uid = str(uuid.uuid5(_PACKAGES, fingerprint(certificate)))
    extra: dict[str, bytes] = {}
    if gateway_ca is not None:
        extra[GATEWAY_TRUSTSTORE_ENTRY] = truststore_p12(ca=gateway_ca, password=password)
    entries = [client_entry, TRUSTSTORE_ENTRY, *extra, PREF_ENTRY]
    files = {
        "MANIFEST/manifest.xml": manifest_xml(
            uid=uid, name=f"Accord {name}", entries=entries
        ).encode("utf-8"),
        client_entry: client,
        TRUSTSTORE_ENTRY: trust,
        **extra,
        PREF_ENTRY: pref.encode("ascii"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for entry, data in files.items():
            info = zipfile.ZipInfo(entry, date_time=_DATE)
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return client, buffer.getvalue()
