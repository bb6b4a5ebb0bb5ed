"""``accord cot``: TAK clients' certificates — made on the device's side, signed at the
center, packaged for ATAK.

* ``accord cot csr NAME --out DIR`` (the party's office, or beside the device): the key
  ``NAME.key`` (ECDSA P-256, mode 0600) and its request ``NAME.csr``; no center needed;
* ``accord cot enroll NAME --member M --role R --csr FILE [--out DIR] [--expires P90D]``
  (at the center, where the database and the keys folder are): signs the request, records
  ``cot.certificate_issued``, writes ``NAME.pem`` and ``ca.pem``. For a lab only,
  ``--unsafe-generate-key --server HOST:PORT`` makes the key here instead (written 0600 to
  ``--out``, never kept by the center) and also writes ``NAME.p12`` and the data package
  ``NAME.zip``;
* ``accord cot package NAME --key NAME.key --cert NAME.pem --ca ca.pem --server HOST:PORT``
  (the party's side, no center): ``NAME.p12`` and ``NAME.zip``, the package ATAK imports;
* ``accord cot revoke NAME``, ``accord cot list`` (at the center).

A bundle's password is made here and printed once on standard output (alone, so
``PASS=$(accord cot package …)`` works), or read from ``--password-file``, or ATAK's
``atakatak`` with ``--atak-default-password``. Exit codes: 0 done, 2 refused (the message
names the field or file).
"""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from accord.center.config import DEFAULT_KEYS_DIR
from accord.center.roles import Role
from accord.cli_common import fail
from accord.errors import AccordError, InputError, Issue

__all__ = ["cot_app"]

cot_app = typer.Typer(
    help="TAK clients' certificates: requests, enrollment, data packages.", no_args_is_help=True
)

OutOption = Annotated[Path, typer.Option("--out", help="The folder the files are written to.")]
ServerOption = Annotated[
    str | None,
    typer.Option("--server", help="The center's TAK endpoint as devices dial it: HOST:PORT."),
]
PasswordFileOption = Annotated[
    Path | None,
    typer.Option("--password-file", help="The bundle's password, read from this file."),
]
AtakDefaultOption = Annotated[
    bool,
    typer.Option(
        "--atak-default-password",
        help="Protect the bundle with ATAK's well-known 'atakatak' (only if you mean it).",
    ),
]
DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="SQLAlchemy URL (as for accord serve).")
]
AgreementOption = Annotated[
    Path | None, typer.Option("--agreement", help="The agreement (as for accord serve).")
]
KeysOption = Annotated[
    Path,
    typer.Option(
        "--keys", help="The center's keys folder (its signing key and the CoT CA, cot-ca.key)."
    ),
]


def _info(message: str) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)


def _folder(out: Path) -> Path:
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    return out


def _password(password_file: Path | None, atak_default: bool) -> tuple[str, bool]:
    """The bundle's password and whether to print it (a made one only)."""
    from accord.cotpki.files import read_file
    from accord.cotpki.package import ATAK_DEFAULT_PASSWORD, check_password

    if password_file is not None and atak_default:
        message = "give --password-file or --atak-default-password, not both"
        raise InputError("p12", [Issue("--password-file", message)])
    if atak_default:
        return ATAK_DEFAULT_PASSWORD, False
    if password_file is not None:
        text = read_file(password_file, what="--password-file").decode("utf-8", "replace")
        return check_password(text.strip(), field="--password-file"), False
    return secrets.token_urlsafe(18), True


@cot_app.command("csr")
def csr(
    name: Annotated[str, typer.Argument(help="The user's name (the certificate's CN).")],
    out: OutOption = Path("."),
) -> None:
    """Make a device key (NAME.key, mode 0600) and its signing request (NAME.csr) here."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from accord.cotpki.ca import check_name, make_csr, new_device_key
    from accord.cotpki.files import write_key, write_public

    try:
        check_name(name)
        folder = _folder(out)
        key = new_device_key()
        write_key(folder / f"{name}.key", key)
        write_public(folder / f"{name}.csr", make_csr(key, name=name).public_bytes(Encoding.PEM))
    except AccordError as error:
        raise fail(error) from None
    _info(f"{folder / name}.key (keep it on this side) and {folder / name}.csr (send this)")


@cot_app.command("enroll")
def enroll(
    name: Annotated[str, typer.Argument(help="The user's name (an existing Accord user).")],
    member: Annotated[str, typer.Option("--member", help="The user's member.")],
    role: Annotated[Role, typer.Option("--role", help="The user's role.")],
    request: Annotated[
        Path | None, typer.Option("--csr", help="The request (made with `accord cot csr`).")
    ] = None,
    out: OutOption = Path("."),
    expires: Annotated[
        str | None, typer.Option("--expires", help="ISO 8601 duration (default P90D).")
    ] = None,
    unsafe_generate_key: Annotated[
        bool,
        typer.Option(
            "--unsafe-generate-key",
            help="For a lab: make the device's key here (written to --out, never kept).",
        ),
    ] = False,
    server: ServerOption = None,
    password_file: PasswordFileOption = None,
    atak_default_password: AtakDefaultOption = False,
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
) -> None:
    """Sign a user's request with the center's CoT CA; record it; write NAME.pem, ca.pem."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from accord.center.certificates.service import enroll as enroll_user
    from accord.center.certificates.service import lifetime
    from accord.center.cli import admin_center
    from accord.center.users.service import COMMAND_LINE
    from accord.cotpki.ca import check_name, make_csr, new_device_key
    from accord.cotpki.files import read_file, write_key, write_public

    at = datetime.now(UTC)
    made = None
    try:
        check_name(name)
        length = lifetime(expires, field="--expires")
        if request is not None and unsafe_generate_key:
            message = "give --csr or --unsafe-generate-key, not both"
            raise InputError("enroll", [Issue("--csr", message)])
        if request is None and not unsafe_generate_key:
            message = (
                "the request made where the key lives (`accord cot csr`); for a lab only, "
                "--unsafe-generate-key"
            )
            raise InputError("enroll", [Issue("--csr", message)])
        if unsafe_generate_key and server is None:
            message = "HOST:PORT of the TAK endpoint, for the data package"
            raise InputError("enroll", [Issue("--server", message)])
        folder = _folder(out)
        if unsafe_generate_key:
            for made_file in (f"{name}.key", f"{name}.p12", f"{name}.zip"):
                if (folder / made_file).exists():
                    message = f"{folder / made_file} exists: refusing to overwrite it"
                    raise InputError("enroll", [Issue("--out", message)])
        if request is not None:
            pem = read_file(request, what="--csr")
        else:
            made = new_device_key()
            pem = make_csr(made, name=name).public_bytes(Encoding.PEM)
        with admin_center(database, agreement, keys) as center, center.writing() as unit:
            done = enroll_user(
                unit,
                name=name,
                member=member,
                role=role,
                csr=pem,
                at=at,
                length=length,
                by=COMMAND_LINE,
            )
        write_public(folder / f"{name}.pem", done.pem)
        write_public(folder / "ca.pem", done.ca_pem)
        if made is not None:
            write_key(folder / f"{name}.key", made)
    except AccordError as error:
        raise fail(error) from None
    view = done.certificate
    _info(
        f"certificate {view.serial} for {name!r} ({role.value} of {member}), valid until "
        f"{view.not_after.isoformat()}: {folder / name}.pem and {folder}/ca.pem "
        f"(record entry {done.entry})"
    )
    if made is not None:
        assert server is not None
        _write_package(
            name,
            key=folder / f"{name}.key",
            cert=folder / f"{name}.pem",
            ca=folder / "ca.pem",
            out=folder,
            server=server,
            password_file=password_file,
            atak=atak_default_password,
        )


@cot_app.command("package")
def package(
    name: Annotated[str, typer.Argument(help="The user's name (the certificate's CN).")],
    key: Annotated[Path, typer.Option("--key", help="NAME.key (mode 0600).")],
    cert: Annotated[Path, typer.Option("--cert", help="NAME.pem, from the enrollment.")],
    ca: Annotated[Path, typer.Option("--ca", help="ca.pem, from the enrollment.")],
    server: Annotated[str, typer.Option("--server", help="HOST:PORT of the TAK endpoint.")],
    out: OutOption = Path("."),
    password_file: PasswordFileOption = None,
    atak_default_password: AtakDefaultOption = False,
    gateway: Annotated[
        str | None,
        typer.Option("--gateway", help="HOST:PORT of the party's gateway (a second stream)."),
    ] = None,
    gateway_ca: Annotated[
        Path | None,
        typer.Option("--gateway-ca", help="The gateway's CA (cot-ca.pem in its --state)."),
    ] = None,
) -> None:
    """Write NAME.p12 and the data package NAME.zip that ATAK imports (no center needed)."""
    _write_package(
        name,
        key=key,
        cert=cert,
        ca=ca,
        out=out,
        server=server,
        password_file=password_file,
        atak=atak_default_password,
        gateway=gateway,
        gateway_ca=gateway_ca,
    )


def _write_package(
    name: str,
    *,
    key: Path,
    cert: Path,
    ca: Path,
    out: Path,
    server: str,
    password_file: Path | None,
    atak: bool,
    gateway: str | None = None,
    gateway_ca: Path | None = None,
) -> None:
    """Check the files (the certificate names ``name``, ``ca`` issued it, ``key`` is its
    key), write ``NAME.p12`` and ``NAME.zip`` (mode 0600) to ``out``; print a made
    password."""
    from cryptography.x509.oid import NameOID

    from accord.cotpki.ca import check_name, read_certificate, verify_issued_by
    from accord.cotpki.files import read_file, read_key, write_secret
    from accord.cotpki.package import data_package, parse_server

    try:
        check_name(name)
        target = parse_server(server)
        password, show = _password(password_file, atak)
        device = read_key(key)
        certificate = read_certificate(read_file(cert, what="--cert"), field="--cert")
        authority = read_certificate(read_file(ca, what="--ca"), field="--ca")
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [n.value for n in names] != [name]:
            raise InputError("package", [Issue("--cert", f"does not name {name!r}")])
        if not verify_issued_by(certificate, authority):
            raise InputError("package", [Issue("--ca", "did not issue the certificate")])
        if certificate.public_key() != device.public_key():
            raise InputError("package", [Issue("--key", "is not the key of the certificate")])
        if (gateway is None) != (gateway_ca is None):
            message = "give --gateway HOST:PORT with --gateway-ca FILE"
            raise InputError("package", [Issue("--gateway-ca", message)])
        second = None if gateway is None else parse_server(gateway, field="--gateway")
        second_ca = (
            None
            if gateway_ca is None
            else read_certificate(read_file(gateway_ca, what="--gateway-ca"), field="--gateway-ca")
        )
        folder = _folder(out)
        client, zipped = data_package(
            name=name,
            key=device,
            certificate=certificate,
            ca=authority,
            server=target,
            password=password,
            gateway=second,
            gateway_ca=second_ca,
        )
        write_secret(folder / f"{name}.p12", client)
        write_secret(folder / f"{name}.zip", zipped)
    except AccordError as error:
        raise fail(error) from None
    _info(
        f"{folder / name}.zip: import it on the device (it holds the key and its password: "
        f"hand it over alone, then delete it); {folder / name}.p12 alone"
        + ("; its password, shown only now:" if show else "")
    )
    if show:
        sys.stdout.write(password + "\n")


@cot_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The user whose certificate ends.")],
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
) -> None:
    """Revoke the user's certificate in force; the center records it."""
    from accord.center.certificates.service import revoke as revoke_user
    from accord.center.cli import admin_center
    from accord.center.users.service import COMMAND_LINE

    try:
        with admin_center(database, agreement, keys) as center, center.writing() as unit:
            done = revoke_user(unit, name=name, at=datetime.now(UTC), by=COMMAND_LINE)
    except AccordError as error:
        raise fail(error) from None
    for view, entry in zip(done.certificates, done.entries, strict=True):
        _info(f"certificate {view.serial} of {name!r} revoked (record entry {entry})")


@cot_app.command("list")
def list_(
    database: DatabaseOption = None,
    agreement: AgreementOption = None,
    keys: KeysOption = DEFAULT_KEYS_DIR,
) -> None:
    """List the certificates: user, member, role, serial, ends, state (never a key)."""
    from accord.center.certificates.service import list_certificates
    from accord.center.cli import admin_center

    try:
        with admin_center(database, agreement, keys) as center, center.reading() as session:
            found = list_certificates(session, at=datetime.now(UTC))
    except AccordError as error:
        raise fail(error) from None
    rows = [("NAME", "MEMBER", "ROLE", "SERIAL", "ENDS", "STATE")]
    for view in found:
        ends = view.not_after.isoformat(timespec="seconds")
        rows.append((view.name, view.member, view.role, view.serial, ends, view.state))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        sys.stdout.write("\n")


def _host_port(text: str, *, option: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError("gateway", [Issue(option, f"HOST:PORT, not {text!r}")])
    return host.strip("[]"), int(port)


@cot_app.command("gateway")
def gateway(
    center: Annotated[str, typer.Option("--center", help="The center's URL.")],
    user: Annotated[str, typer.Option("--user", help="The gateway's user (an officer).")],
    key: Annotated[Path, typer.Option("--key", help="The user's signing key (mode 0600).")],
    state: Annotated[Path, typer.Option("--state", help="The gateway's folder (mode 0700).")],
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="The bearer token (else $ACCORD_TOKEN)."),
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT of the TLS port for devices.")
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="The port's certificate (else made)."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="Its key, mode 0600 (else made in --state).")
    ] = None,
    ca: Annotated[
        Path | None, typer.Option("--ca", help="The center's CoT CA (ca.pem): devices' chain.")
    ] = None,
    plain_port: Annotated[
        int | None, typer.Option("--plain-port", help="A plain port on 127.0.0.1 (labs).")
    ] = None,
    deadband_m: Annotated[float, typer.Option("--deadband-m", help="Metres.")] = 50.0,
    min_interval: Annotated[float, typer.Option("--min-interval", help="Seconds.")] = 1.0,
    refresh_before: Annotated[float, typer.Option("--refresh-before", help="Seconds.")] = 60.0,
    disclosure: Annotated[
        str, typer.Option("--disclosure", help="Positions declared as 'center' or 'shared'.")
    ] = "center",
    exercise_clock: Annotated[
        bool,
        typer.Option(
            "--exercise-clock",
            help="Follow the center's exercise clock (required when it runs one): sign on "
            "its time and carry the devices' times onto it.",
        ),
    ] = False,
) -> None:
    """Run the party's TAK gateway: its devices' reports become its signed positions,
    tracks and drafts (README, "Reports in: the gateway")."""
    import asyncio
    import logging

    from accord.cli_fetch import read_token
    from accord.cot.deadband import Band
    from accord.gateway.listener import ListenOptions
    from accord.gateway.run import Config, serve
    from accord.record.keys import read_private_key

    token = read_token(token_file)
    try:
        if disclosure not in ("center", "shared"):
            raise InputError("gateway", [Issue("--disclosure", "'center' or 'shared'")])
        if listen is None and plain_port is None:
            raise InputError("gateway", [Issue("--listen", "give --listen or --plain-port")])
        if (tls_cert is None) != (tls_key is None):
            raise InputError("gateway", [Issue("--tls-cert", "give --tls-cert with --tls-key")])
        try:
            band = Band(
                deadband_m=deadband_m, min_interval_s=min_interval, refresh_before_s=refresh_before
            )
        except ValueError as error:
            raise InputError("gateway", [Issue("--deadband-m", str(error))]) from None
        host, port = _host_port(listen, option="--listen") if listen else ("127.0.0.1", None)
        config = Config(
            center=center,
            token=token,
            key=read_private_key(key, name=user),
            state=state,
            listen=ListenOptions(host=host, port=port, plain_port=plain_port),
            ca=ca,
            band=band,
            disclosure=disclosure,
            hosts=tuple(sorted({host, "localhost", "127.0.0.1"} - {"0.0.0.0", "::", ""})),
            user=user,
            tls=None if tls_cert is None or tls_key is None else (tls_cert, tls_key),
            exercise_clock=exercise_clock,
        )
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        asyncio.run(serve(config, status=_info))
    except KeyboardInterrupt:
        return
    except AccordError as error:
        raise fail(error) from None
